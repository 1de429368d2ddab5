#include "projections.h"

#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

#include <algorithm>
#include <string_view>
#include <type_traits>
#include <variant>

namespace bourse::sql {

namespace {

constexpr int kRowsPerStatement = 128;
constexpr std::int64_t kNanosPerSecond = 1'000'000'000;
constexpr std::int64_t kRawPerUnit = 100'000'000; // Decimal's 10^8

QString text(std::string_view value)
{
    return QString::fromLatin1(value.data(), static_cast<qsizetype>(value.size()));
}

QVariant nullInteger()
{
    return QVariant(QMetaType::fromType<qint64>());
}

QVariant nullText()
{
    return QVariant(QMetaType::fromType<QString>());
}

// The enums' names as ready-made values: a row then copies a shared string instead of building one.
template<typename Enum, std::size_t Count>
class EnumNames final
{
public:
    template<typename NameOf>
    explicit EnumNames(NameOf nameOf)
    {
        for (std::size_t i = 0; i < Count; ++i)
            m_names[i] = QVariant(text(nameOf(static_cast<Enum>(i))));
    }
    const QVariant &operator()(Enum value) const { return m_names[static_cast<std::size_t>(value)]; }

private:
    std::array<QVariant, Count> m_names;
};

const QVariant &nameOf(Side side)
{
    static const EnumNames<Side, 2> names(sideName);
    return names(side);
}

const QVariant &nameOf(OrderType type)
{
    static const EnumNames<OrderType, 2> names(orderTypeName);
    return names(type);
}

const QVariant &nameOf(TimeInForce timeInForce)
{
    static const EnumNames<TimeInForce, 3> names(timeInForceName);
    return names(timeInForce);
}

const QVariant &nameOf(SelfTradePrevention stp)
{
    static const EnumNames<SelfTradePrevention, 4> names(stpName);
    return names(stp);
}

const QVariant &nameOf(ProjectionUpdate::OrderStatus status)
{
    static const EnumNames<ProjectionUpdate::OrderStatus, 5> names(
        [](ProjectionUpdate::OrderStatus value) { return std::string_view(ProjectionUpdate::statusName(value)); });
    return names(status);
}

QVariant integer(std::uint64_t value)
{
    return QVariant(static_cast<qint64>(value)); // ids and seqs fit: the engine numbers them from 0 or 1
}

// One statement kind written as multi-row statements: `head`, then up to kRowsPerStatement copies of `row`
// (one `?` per column) joined by commas, then `tail`. The full-size statement is prepared when first
// needed; the remainder goes in one statement of its exact size, so that a transaction costs at most two
// statements per kind however many rows it has.
class MultiRowStatement final
{
public:
    MultiRowStatement(QSqlDatabase &db, QString what, QString head, QString row, QString tail, int columnCount,
                      bool everyRowMatches)
        : m_db(db)
        , m_what(std::move(what))
        , m_head(std::move(head))
        , m_row(std::move(row))
        , m_tail(std::move(tail))
        , m_columnCount(columnCount)
        , m_everyRowMatches(everyRowMatches)
    {
        m_pending.reserve(static_cast<std::size_t>(kRowsPerStatement * columnCount));
    }

    const QString &error() const { return m_error; }
    std::size_t rows() const { return m_rows; }

    bool add(std::initializer_list<QVariant> values)
    {
        for (const QVariant &value : values)
            m_pending.push_back(value);
        ++m_rows;
        if (m_pending.size() < static_cast<std::size_t>(kRowsPerStatement * m_columnCount))
            return true;
        if (!m_full) {
            m_full.emplace(m_db);
            if (!m_full->prepare(sql(kRowsPerStatement)))
                return fail(QStringLiteral("preparing"), *m_full);
        }
        return execute(*m_full, kRowsPerStatement);
    }

    bool finish()
    {
        if (m_pending.empty())
            return true;
        const int rowCount = static_cast<int>(m_pending.size()) / m_columnCount;
        QSqlQuery last(m_db);
        if (!last.prepare(sql(rowCount)))
            return fail(QStringLiteral("preparing"), last);
        return execute(last, rowCount);
    }

private:
    QString sql(int rowCount) const
    {
        QString all = m_head;
        all.reserve(m_head.size() + rowCount * (m_row.size() + 1) + m_tail.size());
        for (int r = 0; r < rowCount; ++r) {
            if (r)
                all += QLatin1Char(',');
            all += m_row;
        }
        all += m_tail;
        return all;
    }

    bool execute(QSqlQuery &query, int rowCount)
    {
        for (std::size_t i = 0; i < m_pending.size(); ++i)
            query.bindValue(static_cast<int>(i), m_pending[i]);
        m_pending.clear();
        if (!query.exec())
            return fail(QStringLiteral("writing"), query);
        // An update that finds no row means the projection has drifted from the journal: say so rather
        // than commit a projection that silently lacks a change.
        if (m_everyRowMatches && query.numRowsAffected() != rowCount) {
            m_error = QStringLiteral("writing %1: %2 of %3 rows were there to update")
                          .arg(m_what)
                          .arg(query.numRowsAffected())
                          .arg(rowCount);
            return false;
        }
        return true;
    }

    bool fail(const QString &doing, const QSqlQuery &query)
    {
        m_error = QStringLiteral("%1 %2: %3").arg(doing, m_what, query.lastError().text().simplified());
        return false;
    }

    QSqlDatabase &m_db;
    QString m_what;
    QString m_head;
    QString m_row;
    QString m_tail;
    int m_columnCount;
    bool m_everyRowMatches;
    std::optional<QSqlQuery> m_full;
    std::vector<QVariant> m_pending;
    std::size_t m_rows = 0;
    QString m_error;
};

QString plainRow(int columns)
{
    QString row = QStringLiteral("(");
    for (int c = 0; c < columns; ++c)
        row += c ? QStringLiteral(",?") : QStringLiteral("?");
    return row + QLatin1Char(')');
}

} // namespace

std::int64_t notionalRaw(Decimal price, Decimal quantity)
{
    __extension__ using Wide = __int128;
    return static_cast<std::int64_t>(static_cast<Wide>(price.raw()) * quantity.raw() / kRawPerUnit);
}

const char *ProjectionUpdate::statusName(OrderStatus status)
{
    switch (status) {
    case OrderStatus::New: return "new";
    case OrderStatus::PartiallyFilled: return "partially_filled";
    case OrderStatus::Filled: return "filled";
    case OrderStatus::Cancelled: return "cancelled";
    case OrderStatus::Expired: return "expired";
    }
    return "new";
}

std::size_t ProjectionUpdate::CandleKeyHash::operator()(const CandleKey &key) const
{
    std::uint64_t h = static_cast<std::uint64_t>(key.start) * 0x9e3779b97f4a7c15ULL;
    h ^= (static_cast<std::uint64_t>(key.instrument) << 20) ^ static_cast<std::uint64_t>(key.interval);
    return static_cast<std::size_t>(h ^ (h >> 29));
}

std::size_t ProjectionUpdate::PairHash::operator()(const std::pair<std::uint64_t, std::uint64_t> &key) const
{
    const std::uint64_t h = key.first * 0x9e3779b97f4a7c15ULL ^ (key.second + 0x632be59bd9b4e019ULL);
    return static_cast<std::size_t>(h ^ (h >> 31));
}

void ProjectionUpdate::clear()
{
    m_instruments.clear();
    m_assets.clear();
    m_orders.clear();
    m_orderIndex.clear();
    m_trades.clear();
    m_balances.clear();
    m_balanceIndex.clear();
    m_candles.clear();
    m_candleIndex.clear();
}

ProjectionUpdate::OrderRow &ProjectionUpdate::order(OrderId id, const Event &event)
{
    const auto [slot, inserted] = m_orderIndex.try_emplace(id, m_orders.size());
    if (inserted) {
        m_orders.emplace_back();
        m_orders.back().id = id;
    }
    OrderRow &row = m_orders[slot->second];
    row.updatedAt = event.time;
    row.seq = event.seq;
    return row;
}

void ProjectionUpdate::addCandle(const CandleKey &key, std::int64_t price, std::int64_t quantity)
{
    const auto [slot, inserted] = m_candleIndex.try_emplace(key, m_candles.size());
    if (inserted) {
        m_candles.push_back(CandleRow{key.instrument, key.interval, key.start, price, price, price, price, quantity, 1});
        return;
    }
    CandleRow &candle = m_candles[slot->second];
    candle.high = std::max(candle.high, price);
    candle.low = std::min(candle.low, price);
    candle.close = price;
    candle.volume += quantity;
    ++candle.trades;
}

void ProjectionUpdate::addTrade(const Event &event, const TradeExecuted &trade)
{
    m_trades.push_back(TradeRow{trade, event.seq, event.time});
    const std::int64_t notional = notionalRaw(trade.price, trade.quantity);
    const auto fill = [&](OrderId id, Decimal remaining) {
        OrderRow &row = order(id, event);
        row.filled += trade.quantity.raw();
        row.notional += notional;
        row.status = remaining.raw() == 0 ? OrderStatus::Filled : OrderStatus::PartiallyFilled;
    };
    fill(trade.makerOrder, trade.makerRemaining);
    fill(trade.takerOrder, trade.takerRemaining);
    for (const std::int64_t interval : kCandleIntervals) {
        const std::int64_t width = interval * kNanosPerSecond;
        TimeNs start = event.time / width * width;
        if (start > event.time)
            start -= width; // floor, not truncation, should a time ever be negative
        addCandle(CandleKey{trade.instrument, interval, start}, trade.price.raw(), trade.quantity.raw());
    }
}

void ProjectionUpdate::add(const Event &event)
{
    std::visit(
        [&](const auto &body) {
            using Body = std::decay_t<decltype(body)>;
            if constexpr (std::is_same_v<Body, InstrumentAdded>) {
                const InstrumentView &view = body.instrument;
                for (const auto &[id, code] :
                     {std::pair{view.baseAsset, view.base}, std::pair{view.quoteAsset, view.quote}}) {
                    bool known = false;
                    for (const auto &asset : m_assets)
                        known = known || asset.first == id;
                    if (!known)
                        m_assets.emplace_back(id, code);
                }
                m_instruments.push_back(InstrumentRow{view, true, event.time, event.time});
            } else if constexpr (std::is_same_v<Body, InstrumentStatusChanged>) {
                for (InstrumentRow &row : m_instruments) {
                    if (row.instrument.id == body.instrument) {
                        row.instrument.status = body.status;
                        row.updatedAt = event.time;
                        return;
                    }
                }
                InstrumentRow row;
                row.instrument.id = body.instrument;
                row.instrument.status = body.status;
                row.updatedAt = event.time;
                m_instruments.push_back(row);
            } else if constexpr (std::is_same_v<Body, OrderAccepted>) {
                OrderRow &row = order(body.order, event);
                row.accepted = true;
                row.account = body.account;
                row.instrument = body.instrument;
                row.side = body.side;
                row.type = body.type;
                row.timeInForce = body.timeInForce;
                row.postOnly = body.postOnly;
                row.stp = body.stp;
                row.clientOrderId = body.clientOrderId;
                row.createdAt = event.time;
                if (body.type == OrderType::Limit)
                    row.price = body.price.raw();
                row.quantity = body.quantity.raw();
                row.status = OrderStatus::New;
            } else if constexpr (std::is_same_v<Body, OrderAmended>) {
                // The status stays: an amend leaves the quantity above what is filled.
                OrderRow &row = order(body.order, event);
                row.price = body.price.raw();
                row.quantity = body.quantity.raw();
            } else if constexpr (std::is_same_v<Body, OrderCancelled>) {
                order(body.order, event).status = OrderStatus::Cancelled;
            } else if constexpr (std::is_same_v<Body, OrderExpired>) {
                order(body.order, event).status = OrderStatus::Expired;
            } else if constexpr (std::is_same_v<Body, TradeExecuted>) {
                addTrade(event, body);
            } else if constexpr (std::is_same_v<Body, BalanceChanged>) {
                const BalanceRow row{body.account, body.asset, body.available.raw(), body.reserved.raw(), event.seq};
                const auto [slot, inserted]
                    = m_balanceIndex.try_emplace(std::pair<std::uint64_t, std::uint64_t>{body.account, body.asset},
                                                 m_balances.size());
                if (inserted)
                    m_balances.push_back(row);
                else
                    m_balances[slot->second] = row;
            }
            // FundsDeposited, FundsWithdrawn and CommandRejected change no projection: the balance change
            // a deposit or withdrawal makes arrives as BalanceChanged.
        },
        event.body);
}

Expected<std::size_t, QString> ProjectionUpdate::write(QSqlDatabase &db)
{
    auto written = writeRows(db);
    clear();
    return written;
}

Expected<std::size_t, QString> ProjectionUpdate::writeRows(QSqlDatabase &db)
{
    // post_only is a BOOLEAN in PostgreSQL and a 0/1 INTEGER in SQLite, whose STRICT tables take no bool.
    const bool postgres = db.driverName() == QLatin1String("QPSQL");
    std::size_t rows = 0;
    const auto flag = [postgres](bool value) { return postgres ? QVariant(value) : QVariant(value ? 1 : 0); };

    if (!m_assets.empty()) {
        MultiRowStatement assets(db, QStringLiteral("assets"), QStringLiteral("INSERT INTO assets(id, code) VALUES "),
                                 plainRow(2), QStringLiteral(" ON CONFLICT DO NOTHING"), 2, false);
        for (const auto &[id, code] : m_assets)
            if (!assets.add({integer(id), text(code.view())}))
                return unexpected(assets.error());
        if (!assets.finish())
            return unexpected(assets.error());
        rows += assets.rows();
    }

    if (!m_instruments.empty()) {
        MultiRowStatement added(db, QStringLiteral("instruments"),
                                QStringLiteral(
                                    "INSERT INTO instruments(id, symbol, base_asset, quote_asset, tick_size, "
                                    "lot_size, min_quantity, status, created_at_ns, updated_at_ns) VALUES "),
                                plainRow(10), QString(), 10, false);
        for (const InstrumentRow &row : m_instruments) {
            if (!row.added)
                continue;
            const InstrumentView &view = row.instrument;
            if (!added.add({integer(view.id), text(view.symbol.view()), integer(view.baseAsset),
                            integer(view.quoteAsset), qint64(view.tickSize.raw()), qint64(view.lotSize.raw()),
                            qint64(view.minQuantity.raw()), text(instrumentStatusName(view.status)),
                            qint64(row.createdAt), qint64(row.updatedAt)}))
                return unexpected(added.error());
        }
        if (!added.finish())
            return unexpected(added.error());
        rows += added.rows();
        for (const InstrumentRow &row : m_instruments) {
            if (row.added)
                continue;
            QSqlQuery update(db);
            update.prepare(QStringLiteral("UPDATE instruments SET status = ?, updated_at_ns = ? WHERE id = ?"));
            update.addBindValue(text(instrumentStatusName(row.instrument.status)));
            update.addBindValue(qint64(row.updatedAt));
            update.addBindValue(integer(row.instrument.id));
            if (!update.exec())
                return unexpected(QStringLiteral("writing instruments: ") + update.lastError().text().simplified());
            if (update.numRowsAffected() != 1)
                return unexpected(
                    QStringLiteral("writing instruments: instrument %1 is not there to update").arg(row.instrument.id));
            ++rows;
        }
    }

    if (!m_orders.empty()) {
        MultiRowStatement inserted(db, QStringLiteral("orders"),
                                   QStringLiteral(
                                       "INSERT INTO orders(id, user_id, instrument_id, client_order_id, side, "
                                       "type, time_in_force, post_only, stp, price, quantity, "
                                       "filled_quantity, filled_notional, status, created_at_ns, "
                                       "updated_at_ns, seq) VALUES "),
                                   plainRow(17), QString(), 17, false);
        // Column n of the VALUES list is named columnN in both SQLite and PostgreSQL; the casts give
        // PostgreSQL the parameters' types, which a VALUES list in FROM does not imply.
        MultiRowStatement
            updated(db, QStringLiteral("orders"),
                    QStringLiteral(
                        "UPDATE orders SET price = COALESCE(v.column2, orders.price), "
                        "quantity = COALESCE(v.column3, orders.quantity), "
                        "filled_quantity = orders.filled_quantity + v.column4, "
                        "filled_notional = orders.filled_notional + v.column5, "
                        "status = COALESCE(v.column6, orders.status), updated_at_ns = v.column7, seq = v.column8 "
                        "FROM (VALUES "),
                    QStringLiteral("(CAST(? AS BIGINT),CAST(? AS BIGINT),CAST(? AS BIGINT),CAST(? AS BIGINT),"
                                   "CAST(? AS BIGINT),CAST(? AS TEXT),CAST(? AS BIGINT),CAST(? AS BIGINT))"),
                    QStringLiteral(") AS v WHERE orders.id = v.column1"), 8, true);
        for (const OrderRow &row : m_orders) {
            const QVariant price = row.price ? QVariant(qint64(*row.price)) : nullInteger();
            const QVariant status = row.status ? nameOf(*row.status) : nullText();
            if (row.accepted) {
                const std::string_view clientOrderId = row.clientOrderId.view();
                if (!inserted.add({integer(row.id), integer(row.account), integer(row.instrument),
                                   clientOrderId.empty() ? nullText() : QVariant(text(clientOrderId)), nameOf(row.side),
                                   nameOf(row.type), nameOf(row.timeInForce), flag(row.postOnly), nameOf(row.stp),
                                   price, qint64(row.quantity.value_or(0)), qint64(row.filled), qint64(row.notional),
                                   status, qint64(row.createdAt), qint64(row.updatedAt), integer(row.seq)}))
                    return unexpected(inserted.error());
            } else {
                const QVariant quantity = row.quantity ? QVariant(qint64(*row.quantity)) : nullInteger();
                if (!updated.add({integer(row.id), price, quantity, qint64(row.filled), qint64(row.notional), status,
                                  qint64(row.updatedAt), integer(row.seq)}))
                    return unexpected(updated.error());
            }
        }
        if (!inserted.finish())
            return unexpected(inserted.error());
        if (!updated.finish())
            return unexpected(updated.error());
        rows += inserted.rows() + updated.rows();
    }

    if (!m_trades.empty()) {
        MultiRowStatement trades(db, QStringLiteral("trades"),
                                 QStringLiteral("INSERT INTO trades(id, instrument_id, price, quantity, taker_side, "
                                                "maker_order_id, taker_order_id, maker_user_id, taker_user_id, seq, "
                                                "time_ns) VALUES "),
                                 plainRow(11), QString(), 11, false);
        for (const TradeRow &row : m_trades) {
            const TradeExecuted &trade = row.trade;
            if (!trades.add({integer(trade.trade), integer(trade.instrument), qint64(trade.price.raw()),
                             qint64(trade.quantity.raw()), nameOf(trade.takerSide), integer(trade.makerOrder),
                             integer(trade.takerOrder), integer(trade.makerAccount), integer(trade.takerAccount),
                             integer(row.seq), qint64(row.time)}))
                return unexpected(trades.error());
        }
        if (!trades.finish())
            return unexpected(trades.error());
        rows += trades.rows();
    }

    if (!m_balances.empty()) {
        MultiRowStatement balances(db, QStringLiteral("balances"),
                                   QStringLiteral("INSERT INTO balances(user_id, asset_id, available, reserved, "
                                                  "updated_seq) VALUES "),
                                   plainRow(5),
                                   QStringLiteral(" ON CONFLICT (user_id, asset_id) DO UPDATE SET available = "
                                                  "excluded.available, reserved = excluded.reserved, updated_seq = "
                                                  "excluded.updated_seq"),
                                   5, false);
        for (const BalanceRow &row : m_balances)
            if (!balances.add({integer(row.account), integer(row.asset), qint64(row.available), qint64(row.reserved),
                               integer(row.seq)}))
                return unexpected(balances.error());
        if (!balances.finish())
            return unexpected(balances.error());
        rows += balances.rows();
    }

    if (!m_candles.empty()) {
        // CASE rather than max()/GREATEST(), which the two dialects spell differently.
        MultiRowStatement candles(
            db, QStringLiteral("candles"),
            QStringLiteral("INSERT INTO candles(instrument_id, interval_s, start_ns, open, high, low, close, volume, "
                           "trades) VALUES "),
            plainRow(9),
            QStringLiteral(" ON CONFLICT (instrument_id, interval_s, start_ns) DO UPDATE SET "
                           "high = CASE WHEN excluded.high > candles.high THEN excluded.high ELSE candles.high END, "
                           "low = CASE WHEN excluded.low < candles.low THEN excluded.low ELSE candles.low END, "
                           "close = excluded.close, volume = candles.volume + excluded.volume, "
                           "trades = candles.trades + excluded.trades"),
            9, false);
        for (const CandleRow &row : m_candles)
            if (!candles.add({integer(row.instrument), qint64(row.interval), qint64(row.start), qint64(row.open),
                              qint64(row.high), qint64(row.low), qint64(row.close), qint64(row.volume),
                              qint64(row.trades)}))
                return unexpected(candles.error());
        if (!candles.finish())
            return unexpected(candles.error());
        rows += candles.rows();
    }
    return rows;
}

} // namespace bourse::sql
