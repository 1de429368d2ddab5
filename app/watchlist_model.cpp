#include "watchlist_model.h"

#include "api_json.h"

#include <algorithm>

namespace bourse::app {

namespace {

QString text(Decimal value, int fractionDigits)
{
    return QString::fromStdString(value.toString(fractionDigits));
}

// (last - open) / open × 100, truncated to hundredths as the API's change_24h_pct is; in hundredths.
std::optional<std::int64_t> changeHundredths(const std::optional<Decimal> &open, const std::optional<Decimal> &last)
{
    if (!open || !last || open->raw() <= 0)
        return std::nullopt;
    __extension__ using Wide = __int128;
    const Wide change = (Wide(last->raw()) - open->raw()) * 100 * 100 / open->raw();
    return std::int64_t(change);
}

QString changeText(std::int64_t hundredths)
{
    const std::int64_t magnitude = hundredths < 0 ? -hundredths : hundredths;
    const QString sign = hundredths > 0 ? QStringLiteral("+") : hundredths < 0 ? QStringLiteral("-") : QString();
    return QStringLiteral("%1%2.%3%").arg(sign).arg(magnitude / 100).arg(magnitude % 100, 2, 10, QLatin1Char('0'));
}

} // namespace

WatchlistModel::WatchlistModel(QObject *parent)
    : QAbstractListModel(parent)
    , m_desk(Desk::instance())
{
    m_tickerTimer.setInterval(kTickerIntervalMilliseconds);
    connect(&m_tickerTimer, &QTimer::timeout, this, [this] {
        const bool all = ++m_ticks >= kFullRefreshTicks;
        if (all)
            m_ticks = 0;
        requestTickers(all);
    });
    if (!m_desk)
        return;
    connect(m_desk, &Desk::instrumentsChanged, this, &WatchlistModel::reloadInstruments);
    connect(m_desk, &Desk::pulse, this, &WatchlistModel::applyPulse);
    connect(m_desk, &Desk::selectedSymbolChanged, this, [this] {
        const int row = selectedRow();
        if (row != m_lastSelectedRow) {
            m_lastSelectedRow = row;
            emit selectedRowChanged();
        }
    });
    reloadInstruments();
    m_tickerTimer.start();
}

int WatchlistModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_visible.size());
}

QVariant WatchlistModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Entry &entry = m_entries[m_visible[std::size_t(index.row())]];
    const InstrumentView &instrument = entry.instrument;
    const int priceDigits = server::fractionDigits(instrument.tickSize);
    switch (role) {
    case Qt::DisplayRole:
    case SymbolRole: return QString::fromUtf8(instrument.symbol.view());
    case BaseRole: return QString::fromUtf8(instrument.base.view());
    case QuoteRole: return QString::fromUtf8(instrument.quote.view());
    case StatusRole:
        return instrument.status == InstrumentStatus::Halted ? QStringLiteral("halted") : QStringLiteral("trading");
    case LastPriceRole: return entry.last ? text(*entry.last, priceDigits) : QString();
    case Change24hRole: {
        const std::optional<std::int64_t> change = changeHundredths(entry.open, entry.last);
        return change ? changeText(*change) : QString();
    }
    case ChangeDirectionRole: {
        const std::int64_t change = changeHundredths(entry.open, entry.last).value_or(0);
        return change > 0 ? 1 : change < 0 ? -1 : 0;
    }
    case Volume24hRole: return text(entry.volume, server::fractionDigits(instrument.lotSize));
    case TickSizeRole: return text(instrument.tickSize, 0);
    case LotSizeRole: return text(instrument.lotSize, 0);
    default: return {};
    }
}

QHash<int, QByteArray> WatchlistModel::roleNames() const
{
    return {
        {SymbolRole, "symbol"},
        {BaseRole, "base"},
        {QuoteRole, "quote"},
        {StatusRole, "status"},
        {LastPriceRole, "lastPrice"},
        {Change24hRole, "change24h"},
        {ChangeDirectionRole, "changeDirection"},
        {Volume24hRole, "volume24h"},
        {TickSizeRole, "tickSize"},
        {LotSizeRole, "lotSize"},
    };
}

void WatchlistModel::setFilter(const QString &filter)
{
    if (filter == m_filter)
        return;
    m_filter = filter;
    // Another view of the same rows: small (one row per instrument), so a reset is the honest signal.
    beginResetModel();
    rebuildVisible();
    endResetModel();
    emit filterChanged();
    emit countChanged();
    m_lastSelectedRow = selectedRow();
    emit selectedRowChanged();
}

int WatchlistModel::selectedRow() const
{
    return m_desk ? rowOf(m_desk->selectedSymbol()) : -1;
}

void WatchlistModel::select(int row)
{
    if (!m_desk || row < 0 || row >= int(m_visible.size()))
        return;
    m_desk->setSelectedSymbol(QString::fromUtf8(m_entries[m_visible[std::size_t(row)]].instrument.symbol.view()));
}

int WatchlistModel::rowOf(const QString &symbol) const
{
    const QByteArray wanted = symbol.toUtf8();
    const std::string_view key(wanted.constData(), std::size_t(wanted.size()));
    for (std::size_t row = 0; row < m_visible.size(); ++row) {
        if (m_entries[m_visible[row]].instrument.symbol.view() == key)
            return int(row);
    }
    return -1;
}

bool WatchlistModel::matches(const Entry &entry) const
{
    const QString wanted = m_filter.trimmed();
    if (wanted.isEmpty())
        return true;
    const InstrumentView &instrument = entry.instrument;
    for (std::string_view field : {instrument.symbol.view(), instrument.base.view(), instrument.quote.view()}) {
        if (QString::fromUtf8(field.data(), qsizetype(field.size())).contains(wanted, Qt::CaseInsensitive))
            return true;
    }
    return false;
}

void WatchlistModel::rebuildVisible()
{
    m_visible.clear();
    for (std::size_t i = 0; i < m_entries.size(); ++i) {
        if (matches(m_entries[i]))
            m_visible.push_back(i);
    }
}

std::optional<std::size_t> WatchlistModel::entryOf(InstrumentId id) const
{
    if (id < m_entries.size() && m_entries[id].instrument.id == id)
        return std::size_t(id);
    for (std::size_t i = 0; i < m_entries.size(); ++i) {
        if (m_entries[i].instrument.id == id)
            return i;
    }
    return std::nullopt;
}

void WatchlistModel::entriesChanged(const std::set<std::size_t> &entries)
{
    int first = -1;
    int last = -1;
    for (std::size_t row = 0; row < m_visible.size(); ++row) {
        if (entries.count(m_visible[row]) == 0)
            continue;
        if (first < 0)
            first = int(row);
        last = int(row);
    }
    if (first >= 0)
        emit dataChanged(index(first), index(last));
}

void WatchlistModel::reloadInstruments()
{
    if (!m_desk)
        return;
    const std::vector<InstrumentView> &instruments = m_desk->instruments();
    const bool sameList = instruments.size() == m_entries.size()
                          && std::equal(instruments.begin(), instruments.end(), m_entries.begin(),
                                        [](const InstrumentView &a, const Entry &b) { return a.id == b.instrument.id; });
    if (sameList) {
        // A halt or a resume: the rows stay, their status changes.
        std::set<std::size_t> changed;
        for (std::size_t i = 0; i < instruments.size(); ++i) {
            if (!(instruments[i] == m_entries[i].instrument)) {
                m_entries[i].instrument = instruments[i];
                changed.insert(i);
            }
        }
        // The filter matches symbols and assets, which do not change: the shown rows stay the same.
        entriesChanged(changed);
        return;
    }
    // A new instrument list: keep what is known of the instruments that stay.
    std::vector<Entry> next;
    next.reserve(instruments.size());
    for (const InstrumentView &instrument : instruments) {
        Entry entry{instrument, std::nullopt, std::nullopt, Decimal()};
        if (const std::optional<std::size_t> known = entryOf(instrument.id)) {
            entry.last = m_entries[*known].last;
            entry.open = m_entries[*known].open;
            entry.volume = m_entries[*known].volume;
        }
        next.push_back(entry);
    }
    const int countBefore = count();
    beginResetModel();
    m_entries = std::move(next);
    rebuildVisible();
    ++m_generation;
    m_tickersPending = 0;
    m_tickerAnswers.clear();
    endResetModel();
    if (count() != countBefore)
        emit countChanged();
    m_lastSelectedRow = selectedRow();
    emit selectedRowChanged();
    requestTickers(true);
}

void WatchlistModel::applyPulse(const MarketPulse &pulse)
{
    if (pulse.trades.empty())
        return;
    std::set<std::size_t> changed;
    for (const TapeTrade &trade : pulse.trades) { // oldest first: the last one wins
        const std::optional<std::size_t> entry = entryOf(trade.instrument);
        if (!entry)
            continue;
        m_entries[*entry].last = trade.price;
        changed.insert(*entry);
        m_traded.insert(trade.instrument);
    }
    entriesChanged(changed);
}

void WatchlistModel::requestTickers(bool all)
{
    if (!m_desk || !m_desk->ready() || m_tickersPending > 0)
        return;
    std::vector<InstrumentId> wanted;
    if (all) {
        for (const Entry &entry : m_entries)
            wanted.push_back(entry.instrument.id);
    } else {
        wanted.assign(m_traded.begin(), m_traded.end());
    }
    m_traded.clear();
    if (wanted.empty())
        return;
    m_tickersPending = int(wanted.size());
    const std::uint64_t generation = m_generation;
    for (const InstrumentId id : wanted) {
        m_desk->call<sql::TickerFigures>(
            this,
            [id](server::VenueService &service, const server::Caller &, server::Reply<sql::TickerFigures> reply) {
                service.ticker(id, std::move(reply));
            },
            [this, id, generation](server::ServiceResult<sql::TickerFigures> result) {
                if (generation != m_generation)
                    return;
                if (result)
                    m_tickerAnswers[id] = *result;
                if (--m_tickersPending == 0)
                    applyTickers();
            },
            true);
    }
}

void WatchlistModel::applyTickers()
{
    // One round, one signal: every instrument read in this round changes at once.
    std::set<std::size_t> changed;
    for (const auto &[id, figures] : m_tickerAnswers) {
        const std::optional<std::size_t> entry = entryOf(id);
        if (!entry)
            continue;
        Entry &row = m_entries[*entry];
        // A live trade newer than the read keeps its price; the read never moves the price back.
        if (figures.lastPrice && !m_traded.count(id))
            row.last = figures.lastPrice;
        row.open = figures.open;
        row.volume = figures.volume;
        changed.insert(*entry);
    }
    m_tickerAnswers.clear();
    entriesChanged(changed);
}

} // namespace bourse::app
