#include "trade_tape_model.h"

#include "api_json.h"

#include <QDateTime>

namespace bourse::app {

TradeTapeModel::TradeTapeModel(QObject *parent)
    : QAbstractListModel(parent)
    , m_desk(Desk::instance())
{
    if (!m_desk)
        return;
    connect(m_desk, &Desk::selectedSymbolChanged, this, &TradeTapeModel::reload);
    connect(m_desk, &Desk::instrumentsChanged, this, [this] {
        const std::optional<InstrumentView> selected = m_desk->selectedInstrument();
        if (!selected || !m_instrument || selected->id != m_instrument->id)
            reload();
        else
            m_instrument = selected;
    });
    connect(m_desk, &Desk::readyChanged, this, &TradeTapeModel::reload);
    connect(m_desk, &Desk::pulse, this, &TradeTapeModel::applyPulse);
    reload();
}

int TradeTapeModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QVariant TradeTapeModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid) || !m_instrument)
        return {};
    const Row &row = m_rows[std::size_t(index.row())];
    switch (role) {
    case TimeRole:
        return QDateTime::fromMSecsSinceEpoch(row.time / 1'000'000).toLocalTime().toString(QStringLiteral("HH:mm:ss.zzz"));
    case Qt::DisplayRole:
    case PriceRole:
        return QString::fromStdString(row.price.toString(server::fractionDigits(m_instrument->tickSize)));
    case SizeRole:
        return QString::fromStdString(row.quantity.toString(server::fractionDigits(m_instrument->lotSize)));
    case SideRole: return row.takerSide == Side::Buy ? QStringLiteral("buy") : QStringLiteral("sell");
    case TradeIdRole: return qint64(row.id);
    default: return {};
    }
}

QHash<int, QByteArray> TradeTapeModel::roleNames() const
{
    return {
        {TimeRole, "time"}, {PriceRole, "price"}, {SizeRole, "size"}, {SideRole, "side"}, {TradeIdRole, "tradeId"},
    };
}

void TradeTapeModel::setLoading(bool loading)
{
    if (loading == m_loading)
        return;
    m_loading = loading;
    emit loadingChanged();
}

void TradeTapeModel::reload()
{
    ++m_generation;
    const int countBefore = count();
    beginResetModel();
    m_instrument = m_desk ? m_desk->selectedInstrument() : std::nullopt;
    m_rows.clear();
    m_newest = 0;
    m_held.clear();
    endResetModel();
    if (count() != countBefore)
        emit countChanged();
    if (!m_instrument || !m_desk || !m_desk->ready()) {
        setLoading(false);
        return;
    }
    setLoading(true);
    const InstrumentId instrument = m_instrument->id;
    const std::uint64_t generation = m_generation;
    m_desk->call<sql::Page<sql::TradeRecord>>(
        this,
        [instrument](server::VenueService &service, const server::Caller &,
                     server::Reply<sql::Page<sql::TradeRecord>> reply) {
            const auto page = sql::PageRequest::make(1, kInitialRows);
            service.trades(instrument, page ? *page : sql::PageRequest(), std::move(reply));
        },
        [this, generation](server::ServiceResult<sql::Page<sql::TradeRecord>> result) {
            if (generation != m_generation)
                return;
            std::vector<TapeTrade> held = std::exchange(m_held, {});
            setLoading(false);
            if (result && !result->rows.empty()) {
                // A new snapshot: the page is newest first, as the rows are.
                beginResetModel();
                for (const sql::TradeRecord &trade : result->rows)
                    m_rows.push_back(Row{trade.id, trade.price, trade.quantity, trade.takerSide, trade.time});
                m_newest = m_rows.front().id;
                endResetModel();
                emit countChanged();
            }
            // What the pulses brought meanwhile and the page did not hold yet.
            prepend(held);
        },
        true);
}

void TradeTapeModel::applyPulse(const MarketPulse &pulse)
{
    if (!m_instrument || pulse.trades.empty())
        return;
    if (m_loading) {
        for (const TapeTrade &trade : pulse.trades) {
            if (trade.instrument == m_instrument->id)
                m_held.push_back(trade);
        }
        return;
    }
    prepend(pulse.trades);
}

void TradeTapeModel::prepend(const std::vector<TapeTrade> &trades)
{
    if (!m_instrument)
        return;
    std::vector<Row> fresh; // newest first
    for (auto trade = trades.rbegin(); trade != trades.rend() && fresh.size() < kMaxRows; ++trade) {
        if (trade->instrument == m_instrument->id && trade->id > m_newest)
            fresh.push_back(Row{trade->id, trade->price, trade->quantity, trade->takerSide, trade->time});
    }
    if (fresh.empty())
        return;
    beginInsertRows(QModelIndex(), 0, int(fresh.size()) - 1);
    m_rows.insert(m_rows.begin(), fresh.begin(), fresh.end());
    m_newest = fresh.front().id;
    endInsertRows();
    if (m_rows.size() > kMaxRows) {
        beginRemoveRows(QModelIndex(), int(kMaxRows), int(m_rows.size()) - 1);
        m_rows.erase(m_rows.begin() + std::ptrdiff_t(kMaxRows), m_rows.end());
        endRemoveRows();
    }
    emit countChanged();
}

} // namespace bourse::app
