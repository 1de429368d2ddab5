#include "order_book_model.h"

#include "api_json.h"

#include <algorithm>
#include <limits>

namespace bourse::app {

namespace {

bool isOpen(const sql::OrderRecord &order)
{
    return order.status == sql::OrderStatus::New || order.status == sql::OrderStatus::PartiallyFilled;
}

Decimal sum(Decimal a, Decimal b)
{
    // Totals of a real book cannot overflow 92 billion units; saturate rather than wrap if one ever did.
    return Decimal::checkedAdd(a, b).value_or(Decimal::fromRaw(std::numeric_limits<std::int64_t>::max()));
}

// What one inspect() reads on the API's thread.
struct Snapshot
{
    BookTop book;
    std::vector<sql::OrderRecord> orders;
    Seq accountsSeq = 0;
};

} // namespace

OrderBookModel::OrderBookModel(QObject *parent)
    : QAbstractListModel(parent)
    , m_desk(Desk::instance())
{
    if (!m_desk)
        return;
    connect(m_desk, &Desk::selectedSymbolChanged, this, &OrderBookModel::reload);
    connect(m_desk, &Desk::instrumentsChanged, this, [this] {
        const std::optional<InstrumentView> selected = m_desk->selectedInstrument();
        if (!selected || !m_instrument || selected->id != m_instrument->id)
            reload();
        else
            m_instrument = selected; // a halt or resume: the ladder stays
    });
    connect(m_desk, &Desk::sessionChanged, this, [this] {
        m_ownOrders.clear();
        m_ordersSeq = 0;
        showRows(buildRows());
        reload();
    });
    connect(m_desk, &Desk::readyChanged, this, &OrderBookModel::reload);
    connect(m_desk, &Desk::pulse, this, &OrderBookModel::applyPulse);
    reload();
}

int OrderBookModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QVariant OrderBookModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &row = m_rows[std::size_t(index.row())];
    const bool ask = row.side == Side::Sell;
    switch (role) {
    case Qt::DisplayRole:
    case PriceRole: return row.blank ? QString() : text(row.price, true);
    case SizeRole: return row.blank ? QString() : text(row.size, false);
    case CumulativeRole: return row.blank ? QString() : text(row.cumulative, false);
    case DepthRatioRole: return row.depthRatio;
    case SideRole: return ask ? QStringLiteral("sell") : QStringLiteral("buy");
    case OwnSizeRole: return row.ownSize.isZero() ? QString() : text(row.ownSize, false);
    case IsOwnRole: return !row.ownSize.isZero();
    case BlankRole: return row.blank;
    case TicketSideRole: return ask ? QStringLiteral("buy") : QStringLiteral("sell");
    default: return {};
    }
}

QHash<int, QByteArray> OrderBookModel::roleNames() const
{
    return {
        {PriceRole, "price"},
        {SizeRole, "size"},
        {CumulativeRole, "cumulative"},
        {DepthRatioRole, "depthRatio"},
        {SideRole, "side"},
        {OwnSizeRole, "ownSize"},
        {IsOwnRole, "isOwn"},
        {BlankRole, "blank"},
        {TicketSideRole, "ticketSide"},
    };
}

void OrderBookModel::setDepth(int depth)
{
    const int clamped = std::clamp(depth, 1, int(MarketTap::kBookDepth));
    if (clamped == m_depth)
        return;
    m_depth = clamped;
    // Another row count: the book held has kBookDepth levels, so no new read is needed.
    beginResetModel();
    m_rows = buildRows();
    endResetModel();
    emit depthChanged();
    emit topChanged();
}

QString OrderBookModel::text(Decimal value, bool price) const
{
    const int digits = !m_instrument ? 0
                       : price       ? server::fractionDigits(m_instrument->tickSize)
                                     : server::fractionDigits(m_instrument->lotSize);
    return QString::fromStdString(value.toString(digits));
}

QString OrderBookModel::symbol() const
{
    return m_instrument ? QString::fromUtf8(m_instrument->symbol.view()) : QString();
}

QString OrderBookModel::bestBid() const
{
    return m_book.bids.empty() ? QString() : text(m_book.bids.front().price, true);
}

QString OrderBookModel::bestAsk() const
{
    return m_book.asks.empty() ? QString() : text(m_book.asks.front().price, true);
}

QString OrderBookModel::spread() const
{
    if (m_book.bids.empty() || m_book.asks.empty())
        return {};
    const std::optional<Decimal> difference = Decimal::checkedSub(m_book.asks.front().price, m_book.bids.front().price);
    return difference ? text(*difference, true) : QString();
}

QString OrderBookModel::mid() const
{
    if (m_book.bids.empty() || m_book.asks.empty())
        return {};
    // Half the sum, exact to the 10^-8 unit (a half unit is cut): prices are far below the overflow bound.
    const std::int64_t halfSum = m_book.asks.front().price.raw() / 2 + m_book.bids.front().price.raw() / 2
                                 + (m_book.asks.front().price.raw() % 2 + m_book.bids.front().price.raw() % 2) / 2;
    return text(Decimal::fromRaw(halfSum), true);
}

QString OrderBookModel::maxCumulative() const
{
    return m_rows.empty() ? QString() : text(m_maxCumulative, false);
}

Decimal OrderBookModel::ownAt(Side side, Decimal price) const
{
    Decimal total;
    for (const auto &[id, order] : m_ownOrders) {
        if (order.side == side && order.price && *order.price == price)
            total = sum(total, order.remainingQuantity());
    }
    return total;
}

std::vector<OrderBookModel::Row> OrderBookModel::buildRows() const
{
    if (!m_instrument)
        return {};
    const std::size_t depth = std::size_t(m_depth);
    std::vector<Row> rows(2 * depth);
    // Running totals from the spread outwards, each side on its own.
    Decimal askTotal;
    for (std::size_t level = 0; level < depth && level < m_book.asks.size(); ++level) {
        const LevelView &view = m_book.asks[level];
        askTotal = sum(askTotal, view.quantity);
        rows[depth - 1 - level] = Row{false, Side::Sell, view.price, view.quantity, askTotal, 0.0, Decimal()};
    }
    Decimal bidTotal;
    for (std::size_t level = 0; level < depth && level < m_book.bids.size(); ++level) {
        const LevelView &view = m_book.bids[level];
        bidTotal = sum(bidTotal, view.quantity);
        rows[depth + level] = Row{false, Side::Buy, view.price, view.quantity, bidTotal, 0.0, Decimal()};
    }
    for (std::size_t level = m_book.bids.size(); level < depth; ++level)
        rows[depth + level].side = Side::Buy;
    const Decimal most = std::max(askTotal, bidTotal);
    // Own quantities: only the user's few open orders on this instrument, looked up per shown level.
    for (Row &row : rows) {
        if (row.blank)
            continue;
        row.depthRatio = most.isPositive() ? double(row.cumulative.raw()) / double(most.raw()) : 0.0;
        row.ownSize = ownAt(row.side, row.price);
    }
    return rows;
}

void OrderBookModel::showRows(std::vector<Row> rows)
{
    const Decimal most = [&rows] {
        Decimal top;
        for (const Row &row : rows)
            top = std::max(top, row.cumulative);
        return top;
    }();
    if (rows.size() != m_rows.size()) {
        beginResetModel();
        m_rows = std::move(rows);
        m_maxCumulative = most;
        endResetModel();
        emit topChanged();
        return;
    }
    // One dataChanged per run of changed rows: a changed level changes its own row and the totals beyond it,
    // so a new top is usually one or two runs, and all rows at once when the deepest total moves.
    std::size_t row = 0;
    std::vector<std::pair<int, int>> runs;
    while (row < rows.size()) {
        if (rows[row] == m_rows[row]) {
            ++row;
            continue;
        }
        const std::size_t first = row;
        while (row < rows.size() && !(rows[row] == m_rows[row]))
            ++row;
        runs.emplace_back(int(first), int(row - 1));
    }
    m_rows = std::move(rows);
    m_maxCumulative = most;
    for (const auto &[first, last] : runs)
        emit dataChanged(index(first), index(last));
    emit topChanged();
}

void OrderBookModel::reload()
{
    ++m_generation;
    const std::optional<InstrumentView> selected = m_desk ? m_desk->selectedInstrument() : std::nullopt;
    const bool changed = selected.has_value() != m_instrument.has_value()
                         || (selected && m_instrument && selected->id != m_instrument->id);
    if (changed) {
        // Another instrument: a new snapshot, blank until its book arrives.
        beginResetModel();
        m_instrument = selected;
        m_book = BookTop{};
        m_ownOrders.clear();
        m_ordersSeq = 0;
        m_rows = buildRows();
        m_maxCumulative = Decimal();
        endResetModel();
        emit symbolChanged();
        emit topChanged();
    }
    if (!m_instrument || !m_desk || !m_desk->ready())
        return;
    const InstrumentId instrument = m_instrument->id;
    const AccountId user = m_desk->userId().value_or(0);
    const std::uint64_t generation = m_generation;
    m_desk->inspect<Snapshot>(
        this,
        [instrument, user](server::VenueServer &venue) {
            const server::VenueService &service = venue.service();
            Snapshot snapshot;
            snapshot.book = MarketTap::bookTop(service.market(), instrument, MarketTap::kBookDepth);
            if (user != 0)
                snapshot.orders = service.accounts().openOrders(user, instrument);
            snapshot.accountsSeq = service.accounts().lastSeq();
            return snapshot;
        },
        [this, generation, instrument](Snapshot snapshot) {
            if (generation != m_generation || !m_instrument || m_instrument->id != instrument)
                return;
            if (snapshot.book.bookSeq >= m_book.bookSeq)
                m_book = std::move(snapshot.book);
            m_ownOrders.clear();
            for (sql::OrderRecord &order : snapshot.orders)
                m_ownOrders.emplace(order.id, std::move(order));
            m_ordersSeq = snapshot.accountsSeq;
            showRows(buildRows());
        });
}

void OrderBookModel::applyPulse(const MarketPulse &pulse)
{
    if (!m_instrument)
        return;
    bool changed = false;
    // A pulse taken after a snapshot may still carry what the snapshot already holds: older seqs are skipped.
    if (pulse.watchedBook && pulse.watchedBook->instrument == m_instrument->id
        && pulse.watchedBook->bookSeq >= m_book.bookSeq) {
        m_book = *pulse.watchedBook;
        changed = true;
    }
    for (const sql::OrderRecord &order : pulse.orders) {
        if (order.instrument != m_instrument->id || order.seq <= m_ordersSeq)
            continue;
        if (isOpen(order))
            m_ownOrders[order.id] = order;
        else
            m_ownOrders.erase(order.id);
        changed = true;
    }
    if (changed)
        showRows(buildRows());
}

} // namespace bourse::app
