// The candle chart's model (CandleChartModel, a QObject: its properties watched with QSignalSpy) against a
// real venue — the history read through VenueService::candles with the API's exact strings, the live last
// candle from the Desk's pulses (the same interval, the next one, an older trade, another instrument), the
// interval switch and a bad interval — and on synthetic histories: the window's clamping under scroll and zoom
// (bad input is clamped, never an error), the readout under a time, and 100,000 candles with the chart's
// series still fed only the window.
#include "candle_chart_model.h"
#include "desk_fixture.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTest>
#include <QtCharts/QCandlestickSet>

#include <algorithm>
#include <cmath>
#include <limits>

using bourse::Decimal;
using bourse::TimeNs;
using bourse::app::CandleChartModel;
using bourse::app::CandleSeries;
using bourse::app::Desk;
using bourse::app::MarketPulse;
using bourse::app::TapeTrade;
using bourse::test::ApiClient;
using bourse::test::DeskFixture;

namespace {

constexpr TimeNs kSecond = 1'000'000'000LL;
constexpr TimeNs kMinute = 60 * kSecond;
// A synthetic history's last candle: 2026-01-01T00:00:00Z.
constexpr TimeNs kLastStart = 1'767'225'600LL * kSecond;

QByteArray order(const char *side, const QString &price, const QString &quantity)
{
    return QStringLiteral(R"({"symbol":"BTC-USD","side":"%1","type":"limit","price":"%2","quantity":"%3"})")
        .arg(QLatin1StringView(side), price, quantity)
        .toUtf8();
}

Decimal dec(const char *text)
{
    return Decimal::parse(text).valueOr(Decimal());
}

std::vector<bourse::sql::CandleRecord> synthetic(std::size_t count)
{
    return bourse::app::syntheticCandles(count, 60, kLastStart);
}

// A series' sets by time (the model appends the sets of candles coming into the window wherever).
QList<QCandlestickSet *> byTime(const QCandlestickSeries &series)
{
    QList<QCandlestickSet *> sets = series.sets();
    std::sort(sets.begin(), sets.end(),
              [](const QCandlestickSet *a, const QCandlestickSet *b) { return a->timestamp() < b->timestamp(); });
    return sets;
}

double drawn(Decimal value)
{
    return double(value.raw()) / 1e8;
}

// The series hold exactly the window's candles, each set at the middle of its candle's minute.
bool seriesShowWindow(const CandleChartModel &model, const QCandlestickSeries &prices,
                      const QCandlestickSeries &volumes)
{
    const QList<QCandlestickSet *> priceSets = byTime(prices);
    const QList<QCandlestickSet *> volumeSets = byTime(volumes);
    if (priceSets.size() != model.windowCount() || volumeSets.size() != model.windowCount())
        return false;
    for (int i = 0; i < model.windowCount(); ++i) {
        const bourse::sql::CandleRecord &candle = model.series().candles()[std::size_t(model.windowFirst() + i)];
        const double middle = double(candle.start / 1'000'000 + 30'000);
        const QCandlestickSet *price = priceSets[i];
        const QCandlestickSet *volume = volumeSets[i];
        if (price->timestamp() != middle || volume->timestamp() != middle || price->open() != drawn(candle.open)
            || price->high() != drawn(candle.high) || price->low() != drawn(candle.low)
            || price->close() != drawn(candle.close) || volume->high() != drawn(candle.volume)) {
            qWarning("set %d differs from candle %d", i, model.windowFirst() + i);
            return false;
        }
    }
    return true;
}

} // namespace

class tst_CandleChart final : public QObject
{
    Q_OBJECT

private slots:
    void historyMatchesTheApi_data();
    void historyMatchesTheApi();
    void liveLastCandle();
    void intervalSwitch_data();
    void intervalSwitch();
    void windowClamping_data();
    void windowClamping();
    void fewCandles();
    void readout();
    void hundredThousandCandles();

private:
    // A venue with two funded traders and trades at `prices` (quantity `quantities`), BTC-USD.
    std::unique_ptr<DeskFixture> venueWithTrades(const QStringList &prices, const QStringList &quantities);
    bool trade(const QString &price, const QString &quantity);
    // The model's candle `index` against the API's JSON candle.
    static void compareWithApi(const CandleChartModel &model, int index, const QJsonObject &candle);

    std::unique_ptr<ApiClient> m_maker;
    std::unique_ptr<ApiClient> m_taker;
};

std::unique_ptr<DeskFixture> tst_CandleChart::venueWithTrades(const QStringList &prices, const QStringList &quantities)
{
    auto fixture = DeskFixture::start();
    if (!fixture)
        return nullptr;
    for (const char *name : {"maker", "taker"}) {
        if (!fixture->addUser(QLatin1StringView(name), {{"USD", "1000000"}, {"BTC", "100"}}))
            return nullptr;
    }
    m_maker = fixture->client(QStringLiteral("maker"));
    m_taker = fixture->client(QStringLiteral("taker"));
    if (!m_maker || !m_taker)
        return nullptr;
    for (qsizetype i = 0; i < prices.size(); ++i) {
        if (!trade(prices.at(i), quantities.at(i)))
            return nullptr;
    }
    return fixture;
}

bool tst_CandleChart::trade(const QString &price, const QString &quantity)
{
    return m_maker->post("/api/v1/orders", order("sell", price, quantity)).status == 201
           && m_taker->post("/api/v1/orders", order("buy", price, quantity)).status == 201;
}

void tst_CandleChart::compareWithApi(const CandleChartModel &model, int index, const QJsonObject &candle)
{
    const QVariantMap readout = model.readoutAt(index);
    QCOMPARE(readout.value("start").toString(), candle.value("time").toString());
    for (const char *field : {"open", "high", "low", "close", "volume"})
        QCOMPARE(readout.value(QLatin1StringView(field)).toString(), candle.value(QLatin1StringView(field)).toString());
    QCOMPARE(readout.value("trades").toString(), QString::number(candle.value("trades").toInteger()));
}

void tst_CandleChart::historyMatchesTheApi_data()
{
    QTest::addColumn<QString>("interval");
    for (const char *interval : {"1m", "5m", "15m", "1h", "1d"})
        QTest::newRow(interval) << QString::fromLatin1(interval);
}

void tst_CandleChart::historyMatchesTheApi()
{
    QFETCH(QString, interval);
    auto fixture = venueWithTrades({"100.00", "105.00", "95.00", "102.00"}, {"1", "0.5", "2", "0.25"});
    QVERIFY(fixture);
    CandleChartModel model;
    QCOMPARE(model.symbol(), QStringLiteral("BTC-USD")); // follows the Desk's selection
    model.setInterval(interval);
    QCOMPARE(model.interval(), interval);
    QTRY_VERIFY_WITH_TIMEOUT(!model.loading() && model.count() > 0, 15'000);
    QCOMPARE(model.error(), QString());

    const auto answer = fixture->admin().get("/api/v1/candles/BTC-USD?interval=" + interval.toLatin1() + "&limit=1500");
    QCOMPARE(answer.status, 200);
    const QJsonArray candles = answer.json.array();
    QCOMPARE(model.count(), int(candles.size()));
    for (int i = 0; i < model.count(); ++i)
        compareWithApi(model, i, candles.at(i).toObject());

    // The four trades in one candle (unless they straddled the interval's end): the exact figures.
    if (model.count() == 1) {
        const QVariantMap candle = model.readoutAt(0);
        QCOMPARE(candle.value("open").toString(), QStringLiteral("100.00"));
        QCOMPARE(candle.value("high").toString(), QStringLiteral("105.00"));
        QCOMPARE(candle.value("low").toString(), QStringLiteral("95.00"));
        QCOMPARE(candle.value("close").toString(), QStringLiteral("102.00"));
        QCOMPARE(candle.value("volume").toString(), QStringLiteral("3.7500"));
        QCOMPARE(candle.value("trades").toString(), QStringLiteral("4"));
    }
    QCOMPARE(model.lastPrice(), QStringLiteral("102.00"));
}

void tst_CandleChart::liveLastCandle()
{
    qRegisterMetaType<MarketPulse>();
    auto fixture = venueWithTrades({"100.00", "104.00"}, {"1", "0.5"});
    QVERIFY(fixture);
    CandleChartModel model;
    QCandlestickSeries prices;
    QCandlestickSeries volumes;
    model.attach(&prices, &volumes);
    QTRY_VERIFY_WITH_TIMEOUT(!model.loading() && model.count() > 0, 15'000);
    QCOMPARE(model.interval(), QStringLiteral("1m"));
    QVERIFY(model.followsLatest());

    // A real trade reaches the last candle through the Desk's pulse; the model then agrees with the API. The
    // candles change at once; the chart's sets follow within CandleChartModel's draw interval (QTRY).
    QVERIFY(trade(QStringLiteral("101.50"), QStringLiteral("0.1")));
    QTRY_COMPARE_WITH_TIMEOUT(model.lastPrice(), QStringLiteral("101.50"), 15'000);
    const auto answer = fixture->admin().get("/api/v1/candles/BTC-USD?interval=1m");
    QCOMPARE(answer.status, 200);
    const QJsonArray candles = answer.json.array();
    QCOMPARE(model.count(), int(candles.size()));
    compareWithApi(model, model.count() - 1, candles.last().toObject());
    QTRY_VERIFY(seriesShowWindow(model, prices, volumes));

    // Pulses with made-up times: the same interval updates the last candle, the next one opens a candle, a
    // trade older than the last candle (already counted in the history) and another instrument's change
    // nothing. One pulse, however many trades, is one candlesChanged.
    Desk &desk = fixture->desk();
    const int before = model.count();
    const bourse::sql::CandleRecord last = model.series().candles().back();
    const bourse::InstrumentId btc = desk.instrument(QStringLiteral("BTC-USD"))->id;
    const bourse::InstrumentId eth = desk.instrument(QStringLiteral("ETH-USD"))->id;
    QSignalSpy changed(&model, &CandleChartModel::candlesChanged);
    QSignalSpy window(&model, &CandleChartModel::windowChanged);

    MarketPulse same;
    same.trades.push_back(TapeTrade{900'001, btc, dec("110.25"), dec("0.3"), bourse::Side::Buy,
                                    last.start + 59 * kSecond});
    same.trades.push_back(TapeTrade{900'002, btc, dec("90.5"), dec("0.2"), bourse::Side::Sell,
                                    last.start + 59 * kSecond});
    same.trades.push_back(TapeTrade{900'003, eth, dec("1"), dec("1"), bourse::Side::Sell,
                                    last.start + 59 * kSecond});
    emit desk.pulse(same);
    QCOMPARE(changed.size(), 1);
    QTRY_COMPARE(window.size(), 1); // drawn within the draw interval
    QCOMPARE(model.count(), before);
    QVariantMap candle = model.readoutAt(before - 1);
    QCOMPARE(candle.value("open").toString(), QString::fromStdString(last.open.toString(2)));
    QCOMPARE(candle.value("high").toString(), QStringLiteral("110.25"));
    QCOMPARE(candle.value("low").toString(), QStringLiteral("90.50"));
    QCOMPARE(candle.value("close").toString(), QStringLiteral("90.50"));
    QCOMPARE(candle.value("volume").toString(),
             QString::fromStdString(Decimal::checkedAdd(last.volume, dec("0.5"))->toString(4)));
    QCOMPARE(candle.value("trades").toString(), QString::number(last.trades + 2));
    QTRY_VERIFY(seriesShowWindow(model, prices, volumes)); // the drawn last candle too

    MarketPulse next;
    next.trades.push_back(TapeTrade{900'004, btc, dec("99.99"), dec("0.0001"),
                                    bourse::Side::Buy, last.start + kMinute});
    next.trades.push_back(TapeTrade{900'005, btc, dec("100.01"), dec("0.0002"),
                                    bourse::Side::Buy, last.start + kMinute + kSecond});
    emit desk.pulse(next);
    QCOMPARE(changed.size(), 2);
    QCOMPARE(model.count(), before + 1);
    QVERIFY(model.followsLatest()); // the window kept showing the newest candle
    candle = model.readoutAt(before);
    QCOMPARE(candle.value("start").toString(), QString::fromLatin1(bourse::server::rfc3339(last.start + kMinute)));
    QCOMPARE(candle.value("open").toString(), QStringLiteral("99.99"));
    QCOMPARE(candle.value("high").toString(), QStringLiteral("100.01"));
    QCOMPARE(candle.value("low").toString(), QStringLiteral("99.99"));
    QCOMPARE(candle.value("close").toString(), QStringLiteral("100.01"));
    QCOMPARE(candle.value("volume").toString(), QStringLiteral("0.0003"));
    QCOMPARE(candle.value("trades").toString(), QStringLiteral("2"));
    QTRY_VERIFY(seriesShowWindow(model, prices, volumes));

    MarketPulse old;
    old.trades.push_back(TapeTrade{900'006, btc, dec("1.00"), dec("1"), bourse::Side::Buy,
                                   last.start - kSecond});
    emit desk.pulse(old);
    QCOMPARE(changed.size(), 2); // ignored: nothing changed
    QCOMPARE(model.count(), before + 1);
    QCOMPARE(model.lastPrice(), QStringLiteral("100.01"));
}

void tst_CandleChart::intervalSwitch_data()
{
    QTest::addColumn<QString>("interval");
    QTest::addColumn<bool>("known");
    QTest::newRow("5m") << QStringLiteral("5m") << true;
    QTest::newRow("1d") << QStringLiteral("1d") << true;
    // Bad names: the API's message in `error`; the interval, the candles and the window stay.
    QTest::newRow("unknown 2m") << QStringLiteral("2m") << false;
    QTest::newRow("upper-case 1M") << QStringLiteral("1M") << false;
    QTest::newRow("seconds 60") << QStringLiteral("60") << false;
    QTest::newRow("empty") << QString() << false;
}

void tst_CandleChart::intervalSwitch()
{
    QFETCH(QString, interval);
    QFETCH(bool, known);
    auto fixture = venueWithTrades({"100.00"}, {"1"});
    QVERIFY(fixture);
    CandleChartModel model;
    QTRY_VERIFY_WITH_TIMEOUT(!model.loading() && model.count() == 1, 15'000);
    QSignalSpy intervalChanged(&model, &CandleChartModel::intervalChanged);
    QSignalSpy errorChanged(&model, &CandleChartModel::errorChanged);

    model.setInterval(interval);
    if (!known) {
        QCOMPARE(model.error(), QStringLiteral("interval must be one of 1m, 5m, 15m, 1h, 1d"));
        QCOMPARE(errorChanged.size(), 1);
        QCOMPARE(intervalChanged.size(), 0);
        QCOMPARE(model.interval(), QStringLiteral("1m"));
        QCOMPARE(model.count(), 1);
        QVERIFY(!model.loading());
        // The error goes with the next good read.
        model.setInterval(QStringLiteral("15m"));
        QTRY_VERIFY_WITH_TIMEOUT(!model.loading() && model.count() == 1, 15'000);
        QCOMPARE(model.error(), QString());
        return;
    }
    QCOMPARE(intervalChanged.size(), 1);
    QCOMPARE(model.interval(), interval);
    QCOMPARE(model.series().intervalSeconds(), *CandleChartModel::intervalSeconds(interval));
    QTRY_VERIFY_WITH_TIMEOUT(!model.loading() && model.count() == 1, 15'000);
    QCOMPARE(model.readoutAt(0).value("close").toString(), QStringLiteral("100.00"));
    QCOMPARE(model.error(), QString());
    // The same interval again reads nothing.
    model.setInterval(interval);
    QCOMPARE(intervalChanged.size(), 1);
    QVERIFY(!model.loading());
}

void tst_CandleChart::windowClamping_data()
{
    QTest::addColumn<QString>("action");
    QTest::addColumn<double>("a");
    QTest::addColumn<double>("b");
    QTest::addColumn<int>("first");
    QTest::addColumn<int>("count");
    // 1000 candles; the window starts on the newest 120 (first 880).
    QTest::newRow("scroll back 100") << "scroll" << -100.0 << 0.0 << 780 << 120;
    QTest::newRow("scroll past the start: clamped to 0") << "scroll" << -5000.0 << 0.0 << 0 << 120;
    QTest::newRow("scroll past the end: clamped to the newest") << "scroll" << 5000.0 << 0.0 << 880 << 120;
    QTest::newRow("window of 0 candles: kMinWindow") << "window" << 500.0 << 0.0 << 500 << CandleSeries::kMinWindow;
    QTest::newRow("window of -3 candles: kMinWindow") << "window" << 500.0 << -3.0 << 500 << CandleSeries::kMinWindow;
    QTest::newRow("window of a million: kMaxWindow") << "window" << 0.0 << 1e6 << 0 << CandleSeries::kMaxWindow;
    QTest::newRow("window before the start") << "window" << -50.0 << 50.0 << 0 << 50;
    QTest::newRow("window past the end") << "window" << 990.0 << 50.0 << 950 << 50;
    QTest::newRow("zoom in at the right edge") << "zoom" << 0.5 << 1.0 << 940 << 60;
    QTest::newRow("zoom in at the left edge") << "zoom" << 0.5 << 0.0 << 880 << 60;
    QTest::newRow("zoom in around the middle") << "zoom" << 0.5 << 0.5 << 910 << 60;
    QTest::newRow("zoom to nothing: kMinWindow") << "zoom" << 1e-9 << 1.0 << 990 << CandleSeries::kMinWindow;
    // Around the middle (940 - 200 = 740) would run past the end: clamped to the newest.
    QTest::newRow("zoom out past kMaxWindow") << "zoom" << 100.0 << 0.5 << 600 << CandleSeries::kMaxWindow;
    QTest::newRow("zoom by 0: unchanged") << "zoom" << 0.0 << 0.5 << 880 << 120;
    QTest::newRow("zoom by -2: unchanged") << "zoom" << -2.0 << 0.5 << 880 << 120;
    QTest::newRow("zoom by NaN: unchanged") << "zoom" << std::nan("") << 0.5 << 880 << 120;
    QTest::newRow("zoom by infinity: unchanged")
        << "zoom" << std::numeric_limits<double>::infinity() << 0.5 << 880 << 120;
    QTest::newRow("zoom anchored outside: clamped to the edge") << "zoom" << 0.5 << 7.0 << 940 << 60;
    QTest::newRow("zoom anchored at NaN: the middle") << "zoom" << 0.5 << std::nan("") << 910 << 60;
}

void tst_CandleChart::windowClamping()
{
    QFETCH(QString, action);
    QFETCH(double, a);
    QFETCH(double, b);
    QFETCH(int, first);
    QFETCH(int, count);
    CandleChartModel model; // no Desk: only what is loaded into it
    QCandlestickSeries prices;
    QCandlestickSeries volumes;
    model.attach(&prices, &volumes);
    model.loadCandles(synthetic(1000));
    QCOMPARE(model.count(), 1000);
    QCOMPARE(model.windowFirst(), 880);
    QCOMPARE(model.windowCount(), CandleSeries::kDefaultWindow);
    QSignalSpy window(&model, &CandleChartModel::windowChanged);

    if (action == "scroll")
        model.scroll(int(a));
    else if (action == "window")
        model.setWindow(int(a), int(std::clamp(b, -1e9, 1e9)));
    else
        model.zoom(a, b);
    QCOMPARE(model.windowFirst(), first);
    QCOMPARE(model.windowCount(), count);
    QCOMPARE(window.size(), first == 880 && count == 120 ? 0 : 1);
    QCOMPARE(model.followsLatest(), first + count == 1000);

    QVERIFY(seriesShowWindow(model, prices, volumes));
    const auto &candles = model.series().candles();
    const auto &firstCandle = candles[std::size_t(first)];
    // The axes show the window: from its first candle's start to its last candle's end.
    QCOMPARE(model.axisMin().toMSecsSinceEpoch(), firstCandle.start / 1'000'000);
    QCOMPARE(model.axisMax().toMSecsSinceEpoch(),
             candles[std::size_t(first + count - 1)].start / 1'000'000 + 60'000);
    QVERIFY(model.priceMin() < model.priceMax());
}

void tst_CandleChart::fewCandles()
{
    CandleChartModel model;
    QCandlestickSeries prices;
    model.attach(&prices, nullptr);
    QCOMPARE(model.windowCount(), 0);
    QCOMPARE(model.lastPrice(), QString());
    QVERIFY(model.readoutAt(0).isEmpty());

    // Fewer candles than kMinWindow: all of them, whatever the zoom or scroll.
    model.loadCandles(synthetic(5));
    QCOMPARE(model.windowFirst(), 0);
    QCOMPARE(model.windowCount(), 5);
    model.zoom(0.1, 0.5);
    model.scroll(-3);
    model.scroll(3);
    QCOMPARE(model.windowFirst(), 0);
    QCOMPARE(model.windowCount(), 5);
    QCOMPARE(int(prices.count()), 5);
    QVERIFY(model.followsLatest());

    // A single candle with high == low still gets a price range to draw in.
    auto one = synthetic(1);
    one.front().high = one.front().low = one.front().open = one.front().close = dec("100");
    model.loadCandles(one);
    QCOMPARE(model.windowCount(), 1);
    QVERIFY(model.priceMin() < 100 && model.priceMax() > 100);
}

void tst_CandleChart::readout()
{
    CandleChartModel model;
    auto candles = synthetic(100);
    // A gap: no trade in the minute after candle 49, so no candle there (as the venue records it).
    candles.erase(candles.begin() + 50);
    model.loadCandles(candles);
    const auto msOf = [](TimeNs time) { return double(time / 1'000'000); };

    QCOMPARE(model.readout(msOf(candles[10].start) + 30'000), model.readoutAt(10));
    QCOMPARE(model.readout(msOf(candles[10].start)), model.readoutAt(10));      // its first millisecond
    QCOMPARE(model.readout(msOf(candles[10].start) + 59'999), model.readoutAt(10)); // its last
    const QVariantMap candle = model.readoutAt(10);
    QCOMPARE(candle.value("open").toString(), QString::fromStdString(candles[10].open.toString(2)));
    QCOMPARE(candle.value("volume").toString(), QString::fromStdString(candles[10].volume.toString(4)));
    QCOMPARE(candle.value("start").toString(), QString::fromLatin1(bourse::server::rfc3339(candles[10].start)));
    QVERIFY(!candle.value("time").toString().isEmpty());

    // No candle there: an empty readout.
    QVERIFY(model.readout(msOf(candles[49].start) + 90'000).isEmpty()); // the gap
    QVERIFY(model.readout(msOf(candles.front().start) - 1).isEmpty()); // before the first
    QVERIFY(model.readout(msOf(candles.back().start) + 60'000).isEmpty()); // after the last
    QVERIFY(model.readout(std::nan("")).isEmpty());
    QVERIFY(model.readout(1e300).isEmpty());
    QVERIFY(model.readoutAt(-1).isEmpty());
    QVERIFY(model.readoutAt(99).isEmpty());
}

void tst_CandleChart::hundredThousandCandles()
{
    CandleChartModel model;
    QCandlestickSeries prices;
    QCandlestickSeries volumes;
    model.attach(&prices, &volumes);
    model.loadCandles(synthetic(100'000)); // what bench_gui_chart loads
    QCOMPARE(model.count(), 100'000);
    QCOMPARE(model.windowCount(), CandleSeries::kDefaultWindow);
    QCOMPARE(model.windowFirst(), 100'000 - CandleSeries::kDefaultWindow);
    QCOMPARE(int(prices.count()), CandleSeries::kDefaultWindow);
    model.zoom(1e6, 1.0);
    QCOMPARE(model.windowCount(), CandleSeries::kMaxWindow); // never more than a few hundred drawn
    QCOMPARE(int(prices.count()), CandleSeries::kMaxWindow);
    QCOMPARE(int(volumes.count()), CandleSeries::kMaxWindow);
    QVERIFY(seriesShowWindow(model, prices, volumes));
    model.scroll(-1'000'000);
    QCOMPARE(model.windowFirst(), 0);
    QVERIFY(seriesShowWindow(model, prices, volumes));
    model.showLatest();
    QVERIFY(model.followsLatest());
    QCOMPARE(model.windowFirst(), 100'000 - CandleSeries::kMaxWindow);
    QVERIFY(seriesShowWindow(model, prices, volumes));
    // Small moves keep the sets of the candles still in the window.
    for (const int step : {-1, -7, 3, -150, 200, -399, 1}) {
        model.scroll(step);
        QVERIFY2(seriesShowWindow(model, prices, volumes), qPrintable(QString::number(step)));
    }
    model.zoom(0.5, 0.3);
    QVERIFY(seriesShowWindow(model, prices, volumes));
    model.zoom(1.7, 0.9);
    QVERIFY(seriesShowWindow(model, prices, volumes));
}

QTEST_MAIN(tst_CandleChart)
#include "tst_candle_chart.moc"
