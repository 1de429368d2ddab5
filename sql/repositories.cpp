#include "repositories.h"

#include "connection.h"

#include <QByteArray>
#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

#include <algorithm>
#include <limits>
#include <string_view>

namespace bourse::sql {

namespace {

constexpr std::int64_t kNanosPerSecond = 1'000'000'000;
constexpr TimeNs kTickerWindow = 24 * 3600 * kNanosPerSecond;
constexpr TimeNs kMinute = 60 * kNanosPerSecond;

// The status predicates; the open one exactly as index orders_user_open_id (0002) states its own: SQLite uses a
// partial index only for a query whose WHERE repeats the index's predicate word for word.
const QString kOpenPredicate = QStringLiteral("o.status IN ('new', 'partially_filled')");
const QString kClosedPredicate = QStringLiteral("o.status IN ('filled', 'cancelled', 'expired')");

const QString kOrderColumns = QStringLiteral(
    "o.id, o.user_id, o.instrument_id, o.client_order_id, o.side, o.type, o.time_in_force, o.post_only, o.stp, "
    "o.price, o.quantity, o.filled_quantity, o.filled_notional, o.status, o.created_at_ns, o.updated_at_ns, o.seq");

thread_local StatementObserver t_observer;

// A listing's page and its total read from one snapshot of the database, so that the total counts exactly
// the rows the pages are cut from even while the journal commits: a read transaction (SQLite in WAL mode
// keeps its snapshot from the first read to the end; PostgreSQL needs REPEATABLE READ for that), rolled
// back at the end since it wrote nothing.
class ReadSnapshot final
{
public:
    explicit ReadSnapshot(QSqlDatabase &db)
        : m_db(db)
    {
        if (!m_db.transaction()) {
            m_error = QStringLiteral("starting a read transaction: ") + errorLine(m_db.lastError());
            return;
        }
        m_open = true;
        if (m_db.driverName() == QLatin1String("QPSQL")) {
            QSqlQuery isolation(m_db);
            if (!isolation.exec(QStringLiteral("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")))
                m_error = QStringLiteral("starting a read transaction: ") + errorLine(isolation.lastError());
        }
    }
    ~ReadSnapshot()
    {
        if (m_open)
            m_db.rollback();
    }
    ReadSnapshot(const ReadSnapshot &) = delete;
    ReadSnapshot &operator=(const ReadSnapshot &) = delete;

    const std::optional<QString> &error() const { return m_error; }

private:
    QSqlDatabase &m_db;
    bool m_open = false;
    std::optional<QString> m_error;
};

// One read statement: prepared, bound in order, run forward-only. Errors are one line that names what was
// being read, never the statement or its values.
class Read final
{
public:
    Read(QSqlDatabase &db, QString what)
        : m_query(db)
        , m_what(std::move(what))
    {
        m_query.setForwardOnly(true);
    }

    std::optional<QString> run(const QString &statement, const QVariantList &values)
    {
        if (t_observer)
            t_observer(statement, values);
        if (!m_query.prepare(statement))
            return failure();
        for (const QVariant &value : values)
            m_query.addBindValue(value);
        if (!m_query.exec())
            return failure();
        return std::nullopt;
    }

    bool next() { return m_query.next(); }
    const QSqlQuery &query() const { return m_query; }
    std::int64_t integer(int column) const { return m_query.value(column).toLongLong(); }
    Decimal decimal(int column) const { return Decimal::fromRaw(integer(column)); }
    bool isNull(int column) const { return m_query.value(column).isNull(); }
    QString text(int column) const { return isNull(column) ? QString() : m_query.value(column).toString(); }
    QByteArray latin1(int column) const { return m_query.value(column).toString().toLatin1(); }

    // After the loop over next(): what stopped it, if it was an error rather than the end.
    std::optional<QString> endError() const
    {
        if (m_query.lastError().isValid())
            return failure();
        return std::nullopt;
    }

    QString failure() const { return QStringLiteral("reading %1: %2").arg(m_what, errorLine(m_query.lastError())); }
    QString badValue(int column, const QString &text) const
    {
        return QStringLiteral("reading %1: unexpected value \"%2\" in column %3").arg(m_what, text).arg(column + 1);
    }

private:
    QSqlQuery m_query;
    QString m_what;
};

std::string_view view(const QByteArray &bytes)
{
    return {bytes.constData(), static_cast<std::size_t>(bytes.size())};
}

std::optional<OrderStatus> parseStatus(std::string_view text)
{
    for (const OrderStatus status : {OrderStatus::New, OrderStatus::PartiallyFilled, OrderStatus::Filled,
                                     OrderStatus::Cancelled, OrderStatus::Expired}) {
        if (text == ProjectionUpdate::statusName(status))
            return status;
    }
    return std::nullopt;
}

// A TEXT column holding one of an enum's names; `parse` is the engine's parser for it.
template<typename Enum, typename Parse>
bool readEnum(const Read &read, int column, Parse parse, Enum &out, QString &error)
{
    const QByteArray name = read.latin1(column);
    const std::optional<Enum> value = parse(view(name));
    if (!value) {
        error = read.badValue(column, QString::fromLatin1(name));
        return false;
    }
    out = *value;
    return true;
}

// One row of kOrderColumns.
Expected<OrderRecord, QString> orderFrom(const Read &read)
{
    OrderRecord order;
    order.id = static_cast<OrderId>(read.integer(0));
    order.user = static_cast<AccountId>(read.integer(1));
    order.instrument = static_cast<InstrumentId>(read.integer(2));
    order.clientOrderId = read.text(3);
    QString error;
    if (!readEnum(read, 4, parseSide, order.side, error) || !readEnum(read, 5, parseOrderType, order.type, error)
        || !readEnum(read, 6, parseTimeInForce, order.timeInForce, error)
        || !readEnum(read, 8, parseStp, order.stp, error) || !readEnum(read, 13, parseStatus, order.status, error))
        return unexpected(error);
    order.postOnly = read.query().value(7).toBool(); // BOOLEAN in PostgreSQL, 0/1 in SQLite
    if (!read.isNull(9))
        order.price = read.decimal(9);
    order.quantity = read.decimal(10);
    order.filledQuantity = read.decimal(11);
    order.filledNotional = read.decimal(12);
    order.createdAt = read.integer(14);
    order.updatedAt = read.integer(15);
    order.seq = static_cast<Seq>(read.integer(16));
    return order;
}

QVariant integer(std::uint64_t value)
{
    return QVariant(static_cast<qint64>(value));
}

// The WHERE clause of an order listing (empty when it has no condition) and its values, in order.
QString orderConditions(const OrderFilter &filter, QVariantList &values)
{
    QStringList conditions;
    if (filter.user) {
        conditions.append(QStringLiteral("o.user_id = ?"));
        values.append(integer(*filter.user));
    }
    if (filter.status == OrderStatusFilter::Open)
        conditions.append(kOpenPredicate);
    else if (filter.status == OrderStatusFilter::Closed)
        conditions.append(kClosedPredicate);
    if (filter.instrument) {
        // A user's open orders on one instrument are read through orders_user_open_id, the open orders alone,
        // not orders_user_instrument_id, the whole history there: the unary + keeps SQLite from seeking on
        // the instrument (PostgreSQL reads +x as x).
        const bool throughOpenOrders = filter.user && filter.status == OrderStatusFilter::Open;
        conditions.append(throughOpenOrders ? QStringLiteral("+o.instrument_id = ?")
                                            : QStringLiteral("o.instrument_id = ?"));
        values.append(integer(*filter.instrument));
    }
    return conditions.join(QStringLiteral(" AND "));
}

QString where(const QString &conditions)
{
    return conditions.isEmpty() ? QString() : QStringLiteral(" WHERE ") + conditions;
}

Expected<std::int64_t, QString> count(QSqlDatabase &db, const QString &what, const QString &statement,
                                      const QVariantList &values)
{
    Read read(db, what);
    if (std::optional<QString> error = read.run(statement, values))
        return unexpected(*error);
    if (!read.next())
        return unexpected(read.endError().value_or(QStringLiteral("reading %1: no count").arg(what)));
    return read.integer(0);
}

// Reads every row of a statement with `decode`.
template<typename Row, typename Decode>
Expected<std::vector<Row>, QString> readRows(QSqlDatabase &db, const QString &what, const QString &statement,
                                             const QVariantList &values, Decode decode)
{
    Read read(db, what);
    if (std::optional<QString> error = read.run(statement, values))
        return unexpected(*error);
    std::vector<Row> rows;
    while (read.next()) {
        Expected<Row, QString> row = decode(read);
        if (!row)
            return unexpected(row.error());
        rows.push_back(std::move(row.value()));
    }
    if (std::optional<QString> error = read.endError())
        return unexpected(*error);
    return rows;
}

template<typename Row>
Expected<Page<Row>, QString> pageOf(Expected<std::vector<Row>, QString> rows, Expected<std::int64_t, QString> total,
                                    PageRequest page)
{
    if (!rows)
        return unexpected(rows.error());
    if (!total)
        return unexpected(total.error());
    return Page<Row>{std::move(rows.value()), page.page(), page.size(), *total};
}

QVariantList limitValues(QVariantList values, PageRequest page)
{
    values.append(QVariant(qint64(page.size())));
    values.append(QVariant(qint64(page.offset())));
    return values;
}

} // namespace

void setStatementObserver(StatementObserver observer)
{
    t_observer = std::move(observer);
}

// ---- PageRequest

Expected<PageRequest, PageRequest::Invalid> PageRequest::make(std::int64_t page, std::int64_t pageSize)
{
    if (page < 1)
        return unexpected(Invalid{QStringLiteral("page"), QStringLiteral("page must be 1 or more")});
    if (pageSize < 1) {
        return unexpected(
            Invalid{QStringLiteral("page_size"), QStringLiteral("page_size must be between 1 and %1").arg(kMaxSize)});
    }
    PageRequest request;
    request.m_page = page;
    request.m_size = static_cast<int>(std::min<std::int64_t>(pageSize, kMaxSize));
    return request;
}

std::int64_t PageRequest::offset() const
{
    // A page far beyond any listing is simply empty; it must not wrap round to a real one.
    if (m_page - 1 > std::numeric_limits<std::int64_t>::max() / m_size)
        return std::numeric_limits<std::int64_t>::max();
    return (m_page - 1) * m_size;
}

// ---- orders

std::optional<Decimal> OrderRecord::averagePrice() const
{
    if (filledQuantity.raw() <= 0)
        return std::nullopt;
    __extension__ using Wide = __int128;
    return Decimal::fromRaw(
        static_cast<std::int64_t>(static_cast<Wide>(filledNotional.raw()) * Decimal::kOne / filledQuantity.raw()));
}

Expected<Page<OrderRecord>, QString> listOrders(QSqlDatabase &db, const OrderFilter &filter, PageRequest page)
{
    const ReadSnapshot snapshot(db);
    if (snapshot.error())
        return unexpected(*snapshot.error());
    QVariantList values;
    const QString conditions = where(orderConditions(filter, values));
    auto rows = readRows<OrderRecord>(db, QStringLiteral("orders"),
                                      QStringLiteral("SELECT %1 FROM orders o%2 ORDER BY o.id DESC LIMIT ? OFFSET ?")
                                          .arg(kOrderColumns, conditions),
                                      limitValues(values, page), orderFrom);
    if (!rows)
        return unexpected(rows.error());
    if (filter.status != OrderStatusFilter::Closed) {
        return pageOf(std::move(rows),
                      count(db, QStringLiteral("orders"), QStringLiteral("SELECT COUNT(*) FROM orders o") + conditions,
                            values),
                      page);
    }
    // No index holds the status of a closed order: the closed ones are counted as all of them less the open
    // ones, two counts that read indexes alone (orders_user_open_id holds the status) rather than every row
    // of the user's history.
    OrderFilter all = filter;
    all.status = OrderStatusFilter::All;
    OrderFilter open = filter;
    open.status = OrderStatusFilter::Open;
    QVariantList countValues;
    const QString allConditions = where(orderConditions(all, countValues));
    const QString openConditions = where(orderConditions(open, countValues));
    return pageOf(std::move(rows),
                  count(db, QStringLiteral("orders"),
                        QStringLiteral("SELECT (SELECT COUNT(*) FROM orders o%1) - (SELECT COUNT(*) FROM orders o%2)")
                            .arg(allConditions, openConditions),
                        countValues),
                  page);
}

Expected<std::optional<OrderRecord>, QString> findOrder(QSqlDatabase &db, OrderId id)
{
    auto rows = readRows<OrderRecord>(db, QStringLiteral("an order"),
                                      QStringLiteral("SELECT %1 FROM orders o WHERE o.id = ?").arg(kOrderColumns),
                                      {integer(id)}, orderFrom);
    if (!rows)
        return unexpected(rows.error());
    if (rows->empty())
        return std::optional<OrderRecord>();
    return std::optional<OrderRecord>(std::move(rows->front()));
}

Expected<std::optional<OrderRecord>, QString> findOrderByClientId(QSqlDatabase &db, AccountId user,
                                                                  QStringView clientOrderId)
{
    if (clientOrderId.isEmpty())
        return std::optional<OrderRecord>(); // stored as NULL: no order has an empty one
    auto rows = readRows<OrderRecord>(db, QStringLiteral("an order"),
                                      QStringLiteral("SELECT %1 FROM orders o WHERE o.user_id = ? AND "
                                                     "o.client_order_id = ? ORDER BY o.id DESC LIMIT 1")
                                          .arg(kOrderColumns),
                                      {integer(user), clientOrderId.toString()}, orderFrom);
    if (!rows)
        return unexpected(rows.error());
    if (rows->empty())
        return std::optional<OrderRecord>();
    return std::optional<OrderRecord>(std::move(rows->front()));
}

Expected<std::vector<OrderRecord>, QString> openOrders(QSqlDatabase &db)
{
    // Only the open orders are read, however long the history: "user_id > 0", true of every order, lets SQLite
    // seek into the partial index orders_user_open_id, whose WHERE the statement repeats word for word, and the
    // unary + keeps it from reading every order ever placed through the primary key just to save the sort of
    // the open ones (PostgreSQL reads +x as x).
    return readRows<OrderRecord>(db, QStringLiteral("open orders"),
                                 QStringLiteral("SELECT %1 FROM orders o WHERE o.user_id > 0 AND %2 ORDER BY +o.id")
                                     .arg(kOrderColumns, kOpenPredicate),
                                 {}, orderFrom);
}

OrderExport::OrderExport(OrderFilter filter, int chunkSize)
    : m_filter(filter)
    , m_chunkSize(std::clamp(chunkSize, 1, kMaxChunkSize))
{}

Expected<std::vector<OrderRecord>, QString> OrderExport::next(QSqlDatabase &db)
{
    if (m_atEnd)
        return std::vector<OrderRecord>();
    QVariantList values;
    QString conditions = orderConditions(m_filter, values);
    if (m_after) {
        // The same index range as the listing's, from just below the last id.
        if (!conditions.isEmpty())
            conditions += QStringLiteral(" AND ");
        conditions += QStringLiteral("o.id < ?");
        values.append(integer(*m_after));
    }
    values.append(QVariant(qint64(m_chunkSize)));
    auto rows = readRows<OrderRecord>(db, QStringLiteral("orders for the export"),
                                      QStringLiteral("SELECT %1 FROM orders o%2 ORDER BY o.id DESC LIMIT ?")
                                          .arg(kOrderColumns, where(conditions)),
                                      values, orderFrom);
    if (!rows)
        return rows;
    if (static_cast<int>(rows->size()) < m_chunkSize)
        m_atEnd = true;
    if (!rows->empty())
        m_after = rows->back().id;
    return rows;
}

Expected<std::int64_t, QString> exportOrders(QSqlDatabase &db, const OrderFilter &filter, int chunkSize,
                                             const std::function<bool(const std::vector<OrderRecord> &)> &consume)
{
    OrderExport cursor(filter, chunkSize);
    std::int64_t rows = 0;
    while (!cursor.atEnd()) {
        const auto chunk = cursor.next(db);
        if (!chunk)
            return unexpected(chunk.error());
        if (chunk->empty())
            break;
        rows += static_cast<std::int64_t>(chunk->size());
        if (!consume(*chunk))
            break;
    }
    return rows;
}

// ---- trades and fills

QLatin1StringView liquidityName(Liquidity liquidity)
{
    return liquidity == Liquidity::Maker ? QLatin1StringView("maker") : QLatin1StringView("taker");
}

Expected<Page<TradeRecord>, QString> listTrades(QSqlDatabase &db, std::optional<InstrumentId> instrument,
                                                PageRequest page)
{
    const ReadSnapshot snapshot(db);
    if (snapshot.error())
        return unexpected(*snapshot.error());
    // Trade ids increase with time_ns, so this order is id DESC: one instrument's through
    // trades_instrument_time_id, every instrument's through the primary key backwards.
    const QVariantList values = instrument ? QVariantList{integer(*instrument)} : QVariantList{};
    auto rows = readRows<TradeRecord>(
        db, QStringLiteral("trades"),
        instrument
            ? QStringLiteral("SELECT id, instrument_id, price, quantity, taker_side, seq, time_ns FROM trades WHERE "
                             "instrument_id = ? ORDER BY time_ns DESC, id DESC LIMIT ? OFFSET ?")
            : QStringLiteral("SELECT id, instrument_id, price, quantity, taker_side, seq, time_ns FROM trades "
                             "ORDER BY id DESC LIMIT ? OFFSET ?"),
        limitValues(values, page), [](const Read &read) -> Expected<TradeRecord, QString> {
            TradeRecord trade;
            trade.id = static_cast<TradeId>(read.integer(0));
            trade.instrument = static_cast<InstrumentId>(read.integer(1));
            trade.price = read.decimal(2);
            trade.quantity = read.decimal(3);
            QString error;
            if (!readEnum(read, 4, parseSide, trade.takerSide, error))
                return unexpected(error);
            trade.seq = static_cast<Seq>(read.integer(5));
            trade.time = read.integer(6);
            return trade;
        });
    if (!rows)
        return unexpected(rows.error());
    return pageOf(std::move(rows),
                  count(db, QStringLiteral("trades"),
                        instrument ? QStringLiteral("SELECT COUNT(*) FROM trades WHERE instrument_id = ?")
                                   : QStringLiteral("SELECT COUNT(*) FROM trades"),
                        values),
                  page);
}

Expected<Page<FillRecord>, QString> listFills(QSqlDatabase &db, AccountId user, std::optional<InstrumentId> instrument,
                                              PageRequest page)
{
    const ReadSnapshot snapshot(db);
    if (snapshot.error())
        return unexpected(*snapshot.error());
    // The maker's fills and the taker's, each read newest first through its own index and merged: no
    // OR over two columns, which no single index serves.
    const QString instrumentCondition = instrument ? QStringLiteral(" AND instrument_id = ?") : QString();
    QVariantList side{integer(user)};
    if (instrument)
        side.append(integer(*instrument));
    const QVariantList values = side + side;
    auto rows = readRows<FillRecord>(
        db, QStringLiteral("fills"),
        QStringLiteral("SELECT id, maker_order_id, instrument_id, price, quantity, taker_side, seq, time_ns, 0 AS "
                       "taker FROM trades WHERE maker_user_id = ?%1 UNION ALL SELECT id, taker_order_id, "
                       "instrument_id, price, quantity, taker_side, seq, time_ns, 1 AS taker FROM trades WHERE "
                       "taker_user_id = ?%1 ORDER BY 1 DESC, 9 DESC LIMIT ? OFFSET ?")
            .arg(instrumentCondition),
        limitValues(values, page), [](const Read &read) -> Expected<FillRecord, QString> {
            FillRecord fill;
            fill.trade = static_cast<TradeId>(read.integer(0));
            fill.order = static_cast<OrderId>(read.integer(1));
            fill.instrument = static_cast<InstrumentId>(read.integer(2));
            fill.price = read.decimal(3);
            fill.quantity = read.decimal(4);
            Side takerSide = Side::Buy;
            QString error;
            if (!readEnum(read, 5, parseSide, takerSide, error))
                return unexpected(error);
            fill.seq = static_cast<Seq>(read.integer(6));
            fill.time = read.integer(7);
            fill.liquidity = read.integer(8) == 1 ? Liquidity::Taker : Liquidity::Maker;
            fill.side = fill.liquidity == Liquidity::Taker ? takerSide : opposite(takerSide);
            return fill;
        });
    if (!rows)
        return unexpected(rows.error());
    // The unary + keeps SQLite from counting through trades_instrument_time_id, every trade of the instrument,
    // instead of the user's own (PostgreSQL reads +x as x).
    return pageOf(std::move(rows),
                  count(db, QStringLiteral("fills"),
                        QStringLiteral("SELECT (SELECT COUNT(*) FROM trades WHERE maker_user_id = ?%1) + (SELECT "
                                       "COUNT(*) FROM trades WHERE taker_user_id = ?%1)")
                            .arg(instrument ? QStringLiteral(" AND +instrument_id = ?") : QString()),
                        values),
                  page);
}

// ---- market data

Expected<std::vector<CandleRecord>, QString> latestCandles(QSqlDatabase &db, InstrumentId instrument,
                                                           std::int64_t intervalSeconds, int limit)
{
    if (std::find(kCandleIntervals.begin(), kCandleIntervals.end(), intervalSeconds) == kCandleIntervals.end()) {
        const QString known = QStringLiteral("60, 300, 900, 3600 and 86400 s");
        return unexpected(QStringLiteral("no candles of %1 s; there are %2 candles").arg(intervalSeconds).arg(known));
    }
    auto rows = readRows<CandleRecord>(
        db, QStringLiteral("candles"),
        QStringLiteral("SELECT start_ns, open, high, low, close, volume, trades FROM candles WHERE instrument_id = ? "
                       "AND interval_s = ? ORDER BY start_ns DESC LIMIT ?"),
        {integer(instrument), QVariant(qint64(intervalSeconds)),
         QVariant(qint64(std::clamp(limit, 1, kMaxCandleLimit)))},
        [](const Read &read) -> Expected<CandleRecord, QString> {
            return CandleRecord{read.integer(0), read.decimal(1), read.decimal(2), read.decimal(3),
                                read.decimal(4), read.decimal(5), read.integer(6)};
        });
    if (rows)
        std::reverse(rows->begin(), rows->end()); // read newest first through the key, shown oldest first
    return rows;
}

Expected<TickerFigures, QString> ticker24h(QSqlDatabase &db, InstrumentId instrument, TimeNs now)
{
    const TimeNs since = now - kTickerWindow;
    // The first whole minute of the window: trades from there on are summed up in the 1 m candles.
    TimeNs wholeMinutes = since / kMinute * kMinute;
    if (wholeMinutes < since)
        wholeMinutes += kMinute;
    // SUM() is NUMERIC in PostgreSQL (a double through the driver): cast back to exact integers. The latest
    // trade is the one of the highest id, which is also the latest (time_ns, id): trades_instrument_time_id.
    const QString statement = QStringLiteral(
        "SELECT "
        "(SELECT price FROM trades WHERE instrument_id = ? ORDER BY time_ns DESC, id DESC LIMIT 1), "
        "(SELECT time_ns FROM trades WHERE instrument_id = ? ORDER BY time_ns DESC, id DESC LIMIT 1), "
        "(SELECT price FROM trades WHERE instrument_id = ? AND time_ns >= ? ORDER BY time_ns, id LIMIT 1), "
        "e.high, e.low, e.volume, e.trades, m.high, m.low, m.volume, m.trades "
        "FROM (SELECT MAX(price) AS high, MIN(price) AS low, CAST(SUM(quantity) AS BIGINT) AS volume, COUNT(*) AS "
        "trades FROM trades WHERE instrument_id = ? AND time_ns >= ? AND time_ns < ?) e, "
        "(SELECT MAX(high) AS high, MIN(low) AS low, CAST(SUM(volume) AS BIGINT) AS volume, CAST(SUM(trades) AS "
        "BIGINT) AS trades FROM candles WHERE instrument_id = ? AND interval_s = 60 AND start_ns >= ?) m");
    const QVariant id = integer(instrument);
    Read read(db, QStringLiteral("the ticker"));
    if (std::optional<QString> error = read.run(statement,
                                                {id, id, id, QVariant(qint64(since)), id, QVariant(qint64(since)),
                                                 QVariant(qint64(wholeMinutes)), id, QVariant(qint64(wholeMinutes))}))
        return unexpected(*error);
    if (!read.next())
        return unexpected(read.endError().value_or(QStringLiteral("reading the ticker: no row")));

    TickerFigures figures;
    if (!read.isNull(0)) {
        figures.lastPrice = read.decimal(0);
        figures.lastTime = read.integer(1);
    }
    if (!read.isNull(2))
        figures.open = read.decimal(2);
    // The partial first minute (columns 3-6), then the whole minutes (7-10); either may be empty.
    for (const int first : {3, 7}) {
        if (read.integer(first + 3) == 0)
            continue;
        const Decimal high = read.decimal(first);
        const Decimal low = read.decimal(first + 1);
        figures.high = figures.high ? std::max(*figures.high, high) : high;
        figures.low = figures.low ? std::min(*figures.low, low) : low;
        figures.volume = Decimal::fromRaw(figures.volume.raw() + read.integer(first + 2));
        figures.trades += read.integer(first + 3);
    }
    return figures;
}

// ---- accounts and reference data

Expected<std::vector<BalanceRecord>, QString> balances(QSqlDatabase &db, AccountId user)
{
    return readRows<BalanceRecord>(
        db, QStringLiteral("balances"),
        QStringLiteral("SELECT b.asset_id, a.code, b.available, b.reserved FROM balances b JOIN assets a ON a.id = "
                       "b.asset_id WHERE b.user_id = ? ORDER BY b.asset_id"),
        {integer(user)}, [](const Read &read) -> Expected<BalanceRecord, QString> {
            return BalanceRecord{static_cast<AssetId>(read.integer(0)), read.text(1), read.decimal(2), read.decimal(3)};
        });
}

Expected<std::vector<std::pair<AccountId, BalanceRecord>>, QString> allBalances(QSqlDatabase &db)
{
    // The balances' primary key (user_id, asset_id) gives the order; each asset's code through its own key.
    return readRows<std::pair<AccountId, BalanceRecord>>(
        db, QStringLiteral("balances"),
        QStringLiteral("SELECT b.user_id, b.asset_id, a.code, b.available, b.reserved FROM balances b JOIN assets a "
                       "ON a.id = b.asset_id ORDER BY b.user_id, b.asset_id"),
        {}, [](const Read &read) -> Expected<std::pair<AccountId, BalanceRecord>, QString> {
            return std::pair{static_cast<AccountId>(read.integer(0)),
                             BalanceRecord{static_cast<AssetId>(read.integer(1)), read.text(2), read.decimal(3),
                                           read.decimal(4)}};
        });
}

Expected<std::vector<InstrumentRecord>, QString> instruments(QSqlDatabase &db)
{
    return readRows<InstrumentRecord>(
        db, QStringLiteral("instruments"),
        QStringLiteral("SELECT i.id, i.symbol, i.base_asset, i.quote_asset, b.code, q.code, i.tick_size, i.lot_size, "
                       "i.min_quantity, i.status, i.created_at_ns, i.updated_at_ns FROM instruments i JOIN assets b "
                       "ON b.id = i.base_asset JOIN assets q ON q.id = i.quote_asset ORDER BY i.id"),
        {}, [](const Read &read) -> Expected<InstrumentRecord, QString> {
            InstrumentRecord instrument;
            instrument.id = static_cast<InstrumentId>(read.integer(0));
            instrument.symbol = read.text(1);
            instrument.baseAsset = static_cast<AssetId>(read.integer(2));
            instrument.quoteAsset = static_cast<AssetId>(read.integer(3));
            instrument.base = read.text(4);
            instrument.quote = read.text(5);
            instrument.tickSize = read.decimal(6);
            instrument.lotSize = read.decimal(7);
            instrument.minQuantity = read.decimal(8);
            QString error;
            if (!readEnum(read, 9, parseInstrumentStatus, instrument.status, error))
                return unexpected(error);
            instrument.createdAt = read.integer(10);
            instrument.updatedAt = read.integer(11);
            return instrument;
        });
}

Expected<Page<UserRecord>, QString> listUsers(QSqlDatabase &db, PageRequest page)
{
    const ReadSnapshot snapshot(db);
    if (snapshot.error())
        return unexpected(*snapshot.error());
    auto rows = readRows<UserRecord>(
        db, QStringLiteral("users"),
        QStringLiteral("SELECT id, username, role, active, rate_limit_tier, created_at_ns, updated_at_ns FROM users "
                       "ORDER BY id DESC LIMIT ? OFFSET ?"),
        limitValues({}, page), [](const Read &read) -> Expected<UserRecord, QString> {
            return UserRecord{static_cast<AccountId>(read.integer(0)),
                              read.text(1),
                              read.text(2),
                              read.query().value(3).toBool(),
                              read.text(4),
                              read.integer(5),
                              read.integer(6)};
        });
    if (!rows)
        return unexpected(rows.error());
    return pageOf(std::move(rows), count(db, QStringLiteral("users"), QStringLiteral("SELECT COUNT(*) FROM users"), {}),
                  page);
}

Expected<Page<AuditRecord>, QString> listAudit(QSqlDatabase &db, PageRequest page)
{
    const ReadSnapshot snapshot(db);
    if (snapshot.error())
        return unexpected(*snapshot.error());
    auto rows = readRows<AuditRecord>(
        db, QStringLiteral("the audit log"),
        QStringLiteral("SELECT id, at_ns, actor, action, target, details, request_id FROM audit_log ORDER BY at_ns "
                       "DESC, id DESC LIMIT ? OFFSET ?"),
        limitValues({}, page), [](const Read &read) -> Expected<AuditRecord, QString> {
            return AuditRecord{read.integer(0), read.integer(1), read.text(2), read.text(3),
                               read.text(4),    read.text(5),    read.text(6)};
        });
    if (!rows)
        return unexpected(rows.error());
    return pageOf(std::move(rows),
                  count(db, QStringLiteral("the audit log"), QStringLiteral("SELECT COUNT(*) FROM audit_log"), {}),
                  page);
}

} // namespace bourse::sql
