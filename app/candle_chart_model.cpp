#include "candle_chart_model.h"

#include "desk.h"

#include <QPen>
#include <QtCharts/QCandlestickSet>

#include <array>
#include <cmath>

namespace bourse::app {

namespace {

struct IntervalName
{
    const char *name;
    std::int64_t seconds;
};
// The API's names for sql::kCandleIntervals (GET /api/v1/candles).
constexpr std::array<IntervalName, 5> kIntervals = {
    {{"1m", 60}, {"5m", 300}, {"15m", 900}, {"1h", 3600}, {"1d", 86400}}};
static_assert(kIntervals.size() == sql::kCandleIntervals.size());

const QString kBadInterval = QStringLiteral("interval must be one of 1m, 5m, 15m, 1h, 1d"); // the API's words

double toDouble(Decimal value)
{
    return double(value.raw()) / double(Decimal::kOne);
}

double toMilliseconds(TimeNs time)
{
    return double(time / 1'000'000);
}

QString text(Decimal value, int digits)
{
    return QString::fromStdString(value.toString(digits));
}

} // namespace

CandleChartModel::CandleChartModel(QObject *parent)
    : QObject(parent)
    , m_desk(Desk::instance())
{
    m_series.clear(60);
    computeRanges();
    m_drawTimer.setSingleShot(true);
    m_drawTimer.setInterval(kDrawMilliseconds);
    connect(&m_drawTimer, &QTimer::timeout, this, &CandleChartModel::drawLive);
    if (!m_desk)
        return;
    connect(m_desk, &Desk::selectedSymbolChanged, this, &CandleChartModel::followSelection);
    connect(m_desk, &Desk::instrumentsChanged, this, [this] {
        if (!m_instrument)
            followSelection();
    });
    connect(m_desk, &Desk::readyChanged, this, [this] {
        if (m_desk->ready())
            reload();
    });
    connect(m_desk, &Desk::pulse, this, &CandleChartModel::onPulse);
    followSelection();
}

CandleChartModel::~CandleChartModel() = default;

QStringList CandleChartModel::intervals()
{
    QStringList names;
    for (const IntervalName &interval : kIntervals)
        names.append(QString::fromLatin1(interval.name));
    return names;
}

std::optional<std::int64_t> CandleChartModel::intervalSeconds(const QString &interval)
{
    for (const IntervalName &known : kIntervals) {
        if (interval == QLatin1String(known.name))
            return known.seconds;
    }
    return std::nullopt;
}

void CandleChartModel::setInterval(const QString &interval)
{
    const std::optional<std::int64_t> seconds = intervalSeconds(interval);
    if (!seconds) {
        setError(kBadInterval);
        return;
    }
    if (interval == m_interval)
        return;
    m_interval = interval;
    m_series.clear(*seconds);
    emit intervalChanged();
    emit candlesChanged();
    windowMoved(Refill::All);
    reload();
}

QString CandleChartModel::lastPrice() const
{
    return m_series.empty() ? QString() : text(m_series.candles().back().close, m_precision.price);
}

void CandleChartModel::followSelection()
{
    if (!m_desk)
        return;
    const QString symbol = m_desk->selectedSymbol();
    const std::optional<InstrumentView> instrument = m_desk->instrument(symbol);
    const bool same = symbol == m_symbol && instrument.has_value() == m_instrument.has_value();
    m_instrument = instrument;
    if (same)
        return;
    if (instrument)
        m_precision = server::precisionOf(instrument);
    if (symbol != m_symbol) {
        m_symbol = symbol;
        emit symbolChanged();
    }
    m_series.clear(m_series.intervalSeconds());
    emit candlesChanged();
    windowMoved(Refill::All);
    reload();
}

void CandleChartModel::reload()
{
    readHistory(0);
}

void CandleChartModel::readHistory(int attempt)
{
    ++m_generation;
    if (attempt == 0)
        m_arrived.clear();
    if (!m_desk || !m_desk->ready() || !m_instrument) {
        setLoading(false);
        return;
    }
    setLoading(true);
    const InstrumentId id = m_instrument->id;
    const std::int64_t seconds = m_series.intervalSeconds();
    const std::uint64_t generation = m_generation;
    // Which trades the read holds, told by the instrument's last trade as the API's thread knows it (the
    // pulses' source announces there) before the read starts and when its answer is back there: a trade
    // announced before is committed, so in the read; one announced after the answer was not in it (a
    // batch is announced on that thread before any read that could see it answers). Only trades announced
    // in between are in doubt.
    m_desk->call<History>(
        this,
        [id, seconds](server::VenueService &service, const server::Caller &, server::Reply<History> reply) {
            const auto lastTrade = [&service, id] {
                const std::optional<server::LastTrade> last = service.market().lastTrade(id);
                return last ? last->trade : TradeId(0);
            };
            const TradeId before = lastTrade();
            // Candles are public market data: no sign-in needed, as on the API.
            service.candles(id, seconds, sql::kMaxCandleLimit,
                            [reply, before, lastTrade](server::ServiceResult<std::vector<sql::CandleRecord>> read) {
                                if (!read) {
                                    reply(bourse::unexpected(read.error()));
                                    return;
                                }
                                reply(History{std::move(*read), before, lastTrade()});
                            });
        },
        [this, generation, attempt](server::ServiceResult<History> result) {
            if (generation != m_generation)
                return;
            if (!result) {
                m_arrived.clear();
                setLoading(false);
                setError(result.error().message);
                return;
            }
            // Trades in doubt: read again, a few times; then take the read as it is (the next read mends it).
            if (result->lastTradeAfter != result->lastTradeBefore && attempt < kReadAttempts) {
                readHistory(attempt + 1);
                return;
            }
            setError(QString());
            m_lastTradeRead = result->lastTradeAfter;
            loadCandles(std::move(result->candles));
            std::vector<TapeTrade> arrived = std::exchange(m_arrived, {});
            setLoading(false);
            applyTrades(arrived);
        },
        true);
}

void CandleChartModel::loadCandles(std::vector<sql::CandleRecord> candles)
{
    m_series.assign(std::move(candles), m_series.intervalSeconds());
    m_drawTimer.stop(); // the whole window is drawn anew below
    m_redrawFrom.reset();
    m_redrawAppended = false;
    emit candlesChanged();
    windowMoved(Refill::All);
}

void CandleChartModel::onPulse(const MarketPulse &pulse)
{
    if (!m_instrument)
        return;
    if (pulse.droppedTrades > 0) {
        // Older trades of this burst were left out of the pulse: the venue's candles hold them.
        reload();
        return;
    }
    std::vector<TapeTrade> trades;
    for (const TapeTrade &trade : pulse.trades) {
        if (trade.instrument == m_instrument->id)
            trades.push_back(trade);
    }
    if (m_loading) {
        // Kept until the history is back: those it does not hold are applied then.
        m_arrived.insert(m_arrived.end(), trades.begin(), trades.end());
        return;
    }
    applyTrades(trades);
}

void CandleChartModel::applyTrades(const std::vector<TapeTrade> &trades)
{
    const int lastBefore = m_series.size() - 1;
    bool appended = false;
    bool updated = false;
    for (const TapeTrade &trade : trades) {
        if (trade.id <= m_lastTradeRead)
            continue; // in the history already
        switch (m_series.applyTrade(trade.time, trade.price, trade.quantity)) {
        case CandleSeries::TradeEffect::Appended:
            appended = true;
            break;
        case CandleSeries::TradeEffect::Updated:
            updated = true;
            break;
        case CandleSeries::TradeEffect::Ignored:
            break;
        }
    }
    if (!appended && !updated)
        return;
    emit candlesChanged();
    m_redrawFrom = m_redrawFrom ? std::min(*m_redrawFrom, lastBefore) : lastBefore;
    m_redrawAppended = m_redrawAppended || appended;
    if (!m_drawTimer.isActive())
        m_drawTimer.start();
}

void CandleChartModel::drawLive()
{
    if (!m_redrawFrom)
        return;
    const int lastBefore = *std::exchange(m_redrawFrom, std::nullopt);
    const bool appended = std::exchange(m_redrawAppended, false);
    // The candle that was last may have changed before the new one opened; it keeps its sets.
    refreshSets(lastBefore);
    if (appended) {
        windowMoved(Refill::Moved);
        return;
    }
    // Only the last candle changed: when it is drawn, its sets changed in place above.
    if (m_series.followsLatest()) {
        computeRanges();
        emit windowChanged();
    }
}

void CandleChartModel::setLoading(bool loading)
{
    if (loading == m_loading)
        return;
    m_loading = loading;
    emit loadingChanged();
}

void CandleChartModel::setError(const QString &error)
{
    if (error == m_error)
        return;
    m_error = error;
    emit errorChanged();
}

void CandleChartModel::setWindow(int first, int count)
{
    if (m_series.setWindow(first, count))
        windowMoved(Refill::Moved);
}

void CandleChartModel::scroll(int candles)
{
    if (m_series.scroll(candles))
        windowMoved(Refill::Moved);
}

void CandleChartModel::zoom(double factor, double anchor)
{
    if (m_series.zoom(factor, anchor))
        windowMoved(Refill::Moved);
}

void CandleChartModel::showLatest()
{
    setWindow(m_series.size(), m_series.windowCount() > 0 ? m_series.windowCount() : CandleSeries::kDefaultWindow);
}

void CandleChartModel::windowMoved(Refill refill)
{
    computeRanges();
    fillSeries(refill);
    emit windowChanged();
}

void CandleChartModel::computeRanges()
{
    const std::int64_t intervalMs = m_series.intervalSeconds() * 1000;
    const int first = m_series.windowFirst();
    const int shown = m_series.windowCount();
    if (shown == 0) {
        // Nothing yet: the last hour's worth of intervals up to now, an arbitrary price scale.
        const qint64 now = QDateTime::currentMSecsSinceEpoch() / intervalMs * intervalMs;
        m_axisMin = QDateTime::fromMSecsSinceEpoch(now - intervalMs * CandleSeries::kDefaultWindow);
        m_axisMax = QDateTime::fromMSecsSinceEpoch(now + intervalMs);
        m_priceMin = 0;
        m_priceMax = 1;
        m_volumeMax = 1;
        return;
    }
    const std::vector<sql::CandleRecord> &candles = m_series.candles();
    const auto begin = candles.cbegin() + first;
    const auto end = begin + shown;
    Decimal low = begin->low;
    Decimal high = begin->high;
    Decimal volume = begin->volume;
    for (auto candle = begin; candle != end; ++candle) {
        low = std::min(low, candle->low);
        high = std::max(high, candle->high);
        volume = std::max(volume, candle->volume);
    }
    m_axisMin = QDateTime::fromMSecsSinceEpoch(qint64(toMilliseconds(begin->start)));
    m_axisMax = QDateTime::fromMSecsSinceEpoch(qint64(toMilliseconds(std::prev(end)->start)) + intervalMs);
    // Drawing only: the candles take the upper part of the plot, the volume bars the lowest fifth.
    const double top = toDouble(high);
    const double bottom = toDouble(low);
    double span = top - bottom;
    if (span <= 0)
        span = std::max(std::abs(top) * 0.01, 1e-8);
    m_priceMin = bottom - span * 0.3;
    m_priceMax = top + span * 0.05;
    m_volumeMax = std::max(toDouble(volume), 1e-8) * 5;
}

void CandleChartModel::attach(QObject *prices, QObject *volumes)
{
    for (QCandlestickSeries *series : {m_prices.data(), m_volumes.data()}) {
        if (series)
            disconnect(series, nullptr, this, nullptr);
    }
    m_prices = qobject_cast<QCandlestickSeries *>(prices);
    m_volumes = qobject_cast<QCandlestickSeries *>(volumes);
    for (QCandlestickSeries *series : {m_prices.data(), m_volumes.data()}) {
        if (!series)
            continue;
        connect(series, &QCandlestickSeries::increasingColorChanged, this, [this] { fillSeries(Refill::All); });
        connect(series, &QCandlestickSeries::decreasingColorChanged, this, [this] { fillSeries(Refill::All); });
    }
    fillSeries(Refill::All);
}

namespace {

// The drawn values of one candle: its prices, or its volume as a bar from zero in the candle's colour (open
// below close when it rose).
struct Drawn
{
    double open, high, low, close;
    bool up;
};

Drawn pricesOf(const sql::CandleRecord &candle)
{
    return {toDouble(candle.open), toDouble(candle.high), toDouble(candle.low), toDouble(candle.close),
            candle.close >= candle.open};
}

Drawn volumeOf(const sql::CandleRecord &candle)
{
    const double volume = toDouble(candle.volume);
    const bool up = candle.close >= candle.open;
    return {up ? 0.0 : volume, volume, 0.0, up ? volume : 0.0, up};
}

using DrawnOf = Drawn (*)(const sql::CandleRecord &);

// One series and its sets in the window's order (the series' own order is whatever the appends made).
// Joining a series costs a set far more than its values (QtCharts connects each one to its item by name), and
// changing a set's values relayouts the whole series each time: so sets stay with their candle while it is in
// the window, a move makes only the sets of the candles that came in, and those join in one append.
// bench_gui_chart measures this against a full refill and a QHCandlestickModelMapper.
void feed(QCandlestickSeries *series, QList<QCandlestickSet *> &sets, DrawnOf drawnOf, bool all, int shownFirst,
          const std::vector<sql::CandleRecord> &candles, int first, int count, double halfInterval)
{
    if (!series) {
        sets.clear();
        return;
    }
    const QPen rising(series->increasingColor());
    const QPen falling(series->decreasingColor());
    const auto make = [&](int from, int to) {
        QList<QCandlestickSet *> made;
        made.reserve(to - from);
        for (int i = from; i < to; ++i) {
            const sql::CandleRecord &candle = candles[std::size_t(i)];
            const Drawn drawn = drawnOf(candle);
            auto *set = new QCandlestickSet(drawn.open, drawn.high, drawn.low, drawn.close,
                                            toMilliseconds(candle.start) + halfInterval);
            set->setPen(drawn.up ? rising : falling); // before it joins: no signals
            made.append(set);
        }
        return made;
    };
    const int keepFrom = std::max(first, shownFirst);
    const int keepTo = std::min(first + count, shownFirst + int(sets.size()));
    if (all || keepFrom >= keepTo || series->count() != sets.size()) {
        sets = make(first, first + count);
        series->clear();
        series->append(sets);
        return;
    }
    const QList<QCandlestickSet *> gone = sets.mid(0, keepFrom - shownFirst) + sets.mid(keepTo - shownFirst);
    const QList<QCandlestickSet *> left = make(first, keepFrom);
    const QList<QCandlestickSet *> right = make(keepTo, first + count);
    if (!gone.isEmpty())
        series->remove(gone);
    if (!left.isEmpty() || !right.isEmpty())
        series->append(left + right);
    sets = left + sets.mid(keepFrom - shownFirst, keepTo - keepFrom) + right;
}

void refresh(QCandlestickSeries *series, QCandlestickSet *set, DrawnOf drawnOf, const sql::CandleRecord &candle)
{
    const Drawn drawn = drawnOf(candle);
    set->setOpen(drawn.open);
    set->setHigh(drawn.high);
    set->setLow(drawn.low);
    set->setClose(drawn.close);
    set->setPen(QPen(drawn.up ? series->increasingColor() : series->decreasingColor()));
}

} // namespace

void CandleChartModel::fillSeries(Refill refill)
{
    const int first = m_series.windowFirst();
    const int count = m_series.windowCount();
    const double halfInterval = double(m_series.intervalSeconds()) * 500.0;
    const bool all = refill == Refill::All;
    feed(m_prices, m_priceSets, pricesOf, all, m_shownFirst, m_series.candles(), first, count, halfInterval);
    feed(m_volumes, m_volumeSets, volumeOf, all, m_shownFirst, m_series.candles(), first, count, halfInterval);
    m_shownFirst = first;
}

void CandleChartModel::refreshSets(int index)
{
    const int position = index - m_shownFirst;
    if (index < 0 || index >= m_series.size() || position < 0)
        return;
    const sql::CandleRecord &candle = m_series.candles()[std::size_t(index)];
    if (m_prices && position < m_priceSets.size())
        refresh(m_prices, m_priceSets[position], pricesOf, candle);
    if (m_volumes && position < m_volumeSets.size())
        refresh(m_volumes, m_volumeSets[position], volumeOf, candle);
}

QVariantMap CandleChartModel::describe(const sql::CandleRecord &candle) const
{
    const QDateTime start = QDateTime::fromMSecsSinceEpoch(qint64(toMilliseconds(candle.start)));
    const bool daily = m_series.intervalSeconds() >= 86400;
    return {
        {QStringLiteral("time"),
         start.toLocalTime().toString(daily ? QStringLiteral("yyyy-MM-dd") : QStringLiteral("yyyy-MM-dd HH:mm"))},
        {QStringLiteral("start"), QString::fromLatin1(server::rfc3339(candle.start))},
        {QStringLiteral("open"), text(candle.open, m_precision.price)},
        {QStringLiteral("high"), text(candle.high, m_precision.price)},
        {QStringLiteral("low"), text(candle.low, m_precision.price)},
        {QStringLiteral("close"), text(candle.close, m_precision.price)},
        {QStringLiteral("volume"), text(candle.volume, m_precision.quantity)},
        {QStringLiteral("trades"), QString::number(candle.trades)},
    };
}

QVariantMap CandleChartModel::readout(double timeMs) const
{
    // Beyond ±100,000 years is no candle's time (and would overflow the nanoseconds).
    if (!std::isfinite(timeMs) || std::abs(timeMs) > 3e15)
        return {};
    return readoutAt(m_series.indexAt(TimeNs(timeMs) * 1'000'000));
}

QVariantMap CandleChartModel::readoutAt(int index) const
{
    if (index < 0 || index >= m_series.size())
        return {};
    return describe(m_series.candles()[std::size_t(index)]);
}

} // namespace bourse::app
