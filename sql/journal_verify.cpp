#include "journal.h"

#include "codec.h"
#include "journal_replay.h"

#include <QElapsedTimer>
#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

#include <algorithm>
#include <limits>
#include <tuple>

namespace bourse::sql {

namespace {

// Commands replayed per stretch: their events are held until the stored event rows are compared with them,
// which is what bounds verification's memory beside the engine's.
constexpr Seq kStretchCommands = 16'384;

QString amount(std::int64_t raw)
{
    return QString::fromStdString(Decimal::fromRaw(raw).toString());
}

QString text(std::span<const std::uint8_t> bytes)
{
    return QString::fromUtf8(reinterpret_cast<const char *>(bytes.data()), static_cast<qsizetype>(bytes.size()));
}

// The read-only transaction verification reads in: one consistent state of the database while a venue may
// go on writing, and no way to change it. Ended (rolled back: it wrote nothing) when destroyed.
class ReadTransaction final
{
public:
    explicit ReadTransaction(QSqlDatabase &db)
        : m_db(db)
    {}
    ~ReadTransaction()
    {
        if (m_open)
            m_db.rollback();
        if (m_queryOnlySet) {
            QSqlQuery reset(m_db);
            reset.exec(QStringLiteral("PRAGMA query_only = 0"));
        }
    }
    ReadTransaction(const ReadTransaction &) = delete;
    ReadTransaction &operator=(const ReadTransaction &) = delete;

    std::optional<QString> begin()
    {
        const QString what = QStringLiteral("starting verification's read-only transaction");
        const bool sqlite = m_db.driverName() == QLatin1String("QSQLITE");
        QSqlQuery query(m_db);
        if (sqlite) {
            // SQLite itself then refuses any write on this connection until it is reset.
            if (!query.exec(QStringLiteral("PRAGMA query_only")) || !query.next())
                return sqlError(what, query.lastError());
            if (!query.value(0).toBool()) {
                if (!query.exec(QStringLiteral("PRAGMA query_only = 1")))
                    return sqlError(what, query.lastError());
                m_queryOnlySet = true;
            }
        }
        // SQLite's BEGIN is deferred: the read transaction, and the state it sees, starts with the first read.
        if (!m_db.transaction())
            return sqlError(what, m_db.lastError());
        m_open = true;
        if (!sqlite && !query.exec(QStringLiteral("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")))
            return sqlError(what, query.lastError());
        return std::nullopt;
    }

private:
    QSqlDatabase &m_db;
    bool m_open = false;
    bool m_queryOnlySet = false;
};

// The events replay produced for one stretch of commands, in seq order, with their payloads.
class ProducedEvents final
{
public:
    struct Produced
    {
        Seq seq = 0;
        Seq commandSeq = 0;
        TimeNs time = 0;
        std::uint8_t type = 0;
        std::size_t payloadEnd = 0;
    };

    // A TradeExecuted event, as the trades row it makes must hold it.
    struct Trade
    {
        Seq seq = 0;
        TimeNs time = 0;
        TradeExecuted trade;
    };

    void clear()
    {
        m_events.clear();
        m_payloads.clear();
        m_trades.clear();
    }
    void add(const CommandReplay &replay)
    {
        for (std::size_t i = 0; i < replay.events().size(); ++i) {
            const Event &event = replay.events()[i];
            const std::span<const std::uint8_t> payload = replay.payload(i);
            m_payloads.insert(m_payloads.end(), payload.begin(), payload.end());
            m_events.push_back({event.seq, replay.commandSeq(), event.time, typeOf(event.body), m_payloads.size()});
            if (const auto *trade = std::get_if<TradeExecuted>(&event.body))
                m_trades.push_back({event.seq, event.time, *trade});
        }
    }
    std::size_t size() const { return m_events.size(); }
    const Produced &operator[](std::size_t i) const { return m_events[i]; }
    // The stretch's trades in seq order, which is also their ids' order: the engine numbers trades onwards.
    const std::vector<Trade> &trades() const { return m_trades; }
    std::span<const std::uint8_t> payload(std::size_t i) const
    {
        const std::size_t start = i == 0 ? 0 : m_events[i - 1].payloadEnd;
        return std::span<const std::uint8_t>(m_payloads).subspan(start, m_events[i].payloadEnd - start);
    }

private:
    std::vector<Produced> m_events;
    std::vector<std::uint8_t> m_payloads;
    std::vector<Trade> m_trades;
};

QString missingEvent(const ProducedEvents::Produced &event)
{
    return QStringLiteral("event %1 is missing: the journal has no row for it, though command %2 produces it")
        .arg(event.seq)
        .arg(event.commandSeq);
}

// The stored event rows of the stretch are exactly the events replay produced in it.
std::optional<QString> compareEvents(QSqlDatabase &db, const ProducedEvents &produced)
{
    if (produced.size() == 0)
        return std::nullopt;
    auto stored = readRows(db, QByteArray("SELECT ") + kEventColumns + " FROM events WHERE seq >= "
                                   + QByteArray::number(asSigned(produced[0].seq)) + " AND seq <= "
                                   + QByteArray::number(asSigned(produced[produced.size() - 1].seq)) + " ORDER BY seq");
    if (!stored)
        return QStringLiteral("reading the journal's events: ") + stored.error();
    RowSource &rows = **stored;
    std::size_t i = 0;
    for (; rows.next(); ++i) {
        // Seqs are unique and within the stretch's: a row ahead of replay's event means that event has none.
        const auto seq = static_cast<Seq>(rows.integer(0));
        if (i >= produced.size() || seq != produced[i].seq)
            return missingEvent(produced[std::min(i, produced.size() - 1)]);
        const ProducedEvents::Produced &event = produced[i];
        if (const char *differs = eventRowDifference(rows, event.seq, event.commandSeq, event.time, event.type,
                                                     produced.payload(i)))
            return damagedEventRow(seq, differs);
    }
    if (rows.error())
        return QStringLiteral("reading the journal's events: ") + *rows.error();
    if (i < produced.size())
        return missingEvent(produced[i]);
    return std::nullopt;
}

// The trades rows whose ids lie after `checked` and up to the stretch's last trade are exactly the rows
// ProjectionUpdate::addTrade() writes for the stretch's trades, every column alike; `checked` moves on to that
// last trade. The ranges of the stretches meet, so every row up to the journal's last trade is read once, by
// the primary key (the table has no index on seq).
std::optional<QString> compareTrades(QSqlDatabase &db, const ProducedEvents &produced, TradeId &checked)
{
    const std::vector<ProducedEvents::Trade> &trades = produced.trades();
    if (trades.empty())
        return std::nullopt;
    auto stored = readRows(db, "SELECT id, instrument_id, price, quantity, taker_side, maker_order_id, taker_order_id, "
                               "maker_user_id, taker_user_id, seq, time_ns FROM trades WHERE id > "
                                   + QByteArray::number(asSigned(checked)) + " AND id <= "
                                   + QByteArray::number(asSigned(trades.back().trade.trade)) + " ORDER BY id");
    if (!stored)
        return QStringLiteral("reading the trades: ") + stored.error();
    RowSource &rows = **stored;
    const auto missing = [](const ProducedEvents::Trade &trade) {
        return QStringLiteral("trade %1 of event %2 has no trades row").arg(trade.trade.trade).arg(trade.seq);
    };
    std::size_t i = 0;
    while (rows.next()) {
        const auto id = static_cast<TradeId>(rows.integer(0));
        if (i < trades.size() && trades[i].trade.trade < id)
            return missing(trades[i]);
        if (i >= trades.size() || id < trades[i].trade.trade)
            return QStringLiteral("trades row %1 has no trade event in the journal").arg(id);
        const ProducedEvents::Trade &event = trades[i++];
        const TradeExecuted &trade = event.trade;
        const QString side = text(rows.bytes(4));
        const QString journalSide = trade.takerSide == Side::Buy ? QStringLiteral("buy") : QStringLiteral("sell");
        // What differs first: the column, its value in the table and in the journal.
        std::optional<std::tuple<const char *, QString, QString>> differs;
        const auto number = [&rows, &differs](int column, const char *name, std::int64_t journal) {
            if (!differs && rows.integer(column) != journal)
                differs = {name, QString::number(rows.integer(column)), QString::number(journal)};
        };
        const auto decimal = [&rows, &differs](int column, const char *name, std::int64_t journal) {
            if (!differs && rows.integer(column) != journal)
                differs = {name, amount(rows.integer(column)), amount(journal)};
        };
        number(1, "instrument", trade.instrument);
        decimal(2, "price", trade.price.raw());
        decimal(3, "quantity", trade.quantity.raw());
        if (!differs && side != journalSide)
            differs = {"taker side", side, journalSide};
        number(5, "maker order", asSigned(trade.makerOrder));
        number(6, "taker order", asSigned(trade.takerOrder));
        number(7, "maker user", asSigned(trade.makerAccount));
        number(8, "taker user", asSigned(trade.takerAccount));
        number(9, "seq", asSigned(event.seq));
        number(10, "time", event.time);
        if (differs)
            return QStringLiteral("trades row %1 is not the trade event %2 produced: its %3 is %4 in the table, %5 in "
                                  "the journal")
                .arg(id)
                .arg(event.seq)
                .arg(QLatin1String(std::get<0>(*differs)), std::get<1>(*differs), std::get<2>(*differs));
    }
    if (rows.error())
        return QStringLiteral("reading the trades: ") + *rows.error();
    if (i < trades.size())
        return missing(trades[i]);
    checked = trades.back().trade.trade;
    return std::nullopt;
}

// The snapshot row `id` restores the state it records, and that is the state replay reached: `engine`'s.
std::optional<QString> checkSnapshot(QSqlDatabase &db, qint64 id, const Sequencer &engine)
{
    QSqlQuery query(db);
    query.setForwardOnly(true);
    query.prepare(QStringLiteral("SELECT %1 FROM snapshots WHERE id = ?").arg(QLatin1String(SnapshotRow::kColumns)));
    query.addBindValue(id);
    if (!query.exec() || !query.next())
        return sqlError(QStringLiteral("reading a snapshot"), query.lastError());
    const SnapshotRow row = SnapshotRow::read(query);
    if (const auto restored = restoreSnapshot(row); !restored)
        return restored.error();
    if (row.stateHash != engine.stateHash() || row.eventSeq != engine.lastSeq())
        return QStringLiteral("snapshot after command %1 is not the state replay reaches there: it records state %2 "
                              "at event %3, replaying the journal to command %1 gives state %4 at event %5")
            .arg(row.commandSeq)
            .arg(formatStateHash(row.stateHash))
            .arg(row.eventSeq)
            .arg(formatStateHash(engine.stateHash()))
            .arg(engine.lastSeq());
    return std::nullopt;
}

// Every balances row is the engine's balance of that account and asset, and each asset's rows add up to
// the engine's total of it (which a missing row would not).
std::optional<QString> checkBalances(QSqlDatabase &db, const Sequencer &engine, VerifyReport &report)
{
    auto stored = readRows(db,
                           "SELECT user_id, asset_id, available, reserved FROM balances ORDER BY user_id, asset_id");
    if (!stored)
        return QStringLiteral("reading the balances: ") + stored.error();
    RowSource &rows = **stored;
    // Each row equals the engine's balance, and no asset's total over the engine's accounts passes INT64_MAX.
    std::vector<std::int64_t> totals(engine.assetCount(), 0);
    bool accountCounted = false;
    AccountId lastAccount = 0;
    while (rows.next()) {
        const auto account = static_cast<AccountId>(rows.integer(0));
        const std::int64_t asset = rows.integer(1);
        const std::int64_t available = rows.integer(2);
        const std::int64_t reserved = rows.integer(3);
        const BalanceView balance = asset < 0 || asset > std::numeric_limits<AssetId>::max()
                                        ? BalanceView{}
                                        : engine.balance(account, static_cast<AssetId>(asset));
        if (available != balance.available.raw() || reserved != balance.reserved.raw())
            return QStringLiteral("balances row of user %1, asset %2 is not the engine's balance: available %3 and "
                                  "reserved %4 in the table, available %5 and reserved %6 in the engine")
                .arg(account)
                .arg(asset)
                .arg(amount(available), amount(reserved), amount(balance.available.raw()),
                     amount(balance.reserved.raw()));
        if (static_cast<std::uint64_t>(asset) < totals.size())
            totals[static_cast<std::size_t>(asset)] += available + reserved;
        if (account != lastAccount)
            accountCounted = false;
        lastAccount = account;
        if (!accountCounted && (available != 0 || reserved != 0)) {
            ++report.accounts;
            accountCounted = true;
        }
        ++report.balanceRows;
    }
    if (rows.error())
        return QStringLiteral("reading the balances: ") + *rows.error();
    for (std::size_t asset = 0; asset < totals.size(); ++asset) {
        const std::int64_t supply = engine.assetSupply(static_cast<AssetId>(asset)).raw();
        if (totals[asset] != supply)
            return QStringLiteral("the balances rows of asset %1 add up to %2, but the engine's accounts hold %3 of "
                                  "it: a row is missing")
                .arg(asset)
                .arg(amount(totals[asset]), amount(supply));
    }
    return std::nullopt;
}

// The open orders of the orders table (status new or partially_filled) are exactly the engine's, each with
// the same owner, instrument, side, price, quantity and remaining quantity.
std::optional<QString> checkOpenOrders(QSqlDatabase &db, const Sequencer &engine, VerifyReport &report)
{
    std::vector<OrderId> open; // the table's open orders, ascending; each is one of the engine's
    {
        auto stored = readRows(db, "SELECT id, user_id, instrument_id, side, price, quantity, "
                                   "quantity - filled_quantity, status FROM orders "
                                   "WHERE status IN ('new', 'partially_filled') ORDER BY id");
        if (!stored)
            return QStringLiteral("reading the orders: ") + stored.error();
        RowSource &rows = **stored;
        while (rows.next()) {
            const auto id = static_cast<OrderId>(rows.integer(0));
            const std::optional<OrderView> order = engine.order(id);
            if (!order)
                return QStringLiteral("orders row %1 is open (%2) in the table, but the engine holds no open order %1")
                    .arg(id)
                    .arg(text(rows.bytes(7)));
            const QString side = text(rows.bytes(3));
            const QString engineSide = order->side == Side::Buy ? QStringLiteral("buy") : QStringLiteral("sell");
            // What differs first: the field, its value in the table and in the engine.
            std::optional<std::tuple<const char *, QString, QString>> differs;
            if (static_cast<AccountId>(rows.integer(1)) != order->account)
                differs = {"user", QString::number(rows.integer(1)), QString::number(order->account)};
            else if (rows.integer(2) != order->instrument)
                differs = {"instrument", QString::number(rows.integer(2)), QString::number(order->instrument)};
            else if (side != engineSide)
                differs = {"side", side, engineSide};
            else if (rows.integer(4) != order->price.raw())
                differs = {"price", amount(rows.integer(4)), amount(order->price.raw())};
            else if (rows.integer(5) != order->quantity.raw())
                differs = {"quantity", amount(rows.integer(5)), amount(order->quantity.raw())};
            else if (rows.integer(6) != order->remaining.raw())
                differs = {"remaining quantity", amount(rows.integer(6)), amount(order->remaining.raw())};
            if (differs)
                return QStringLiteral("orders row %1 is not the engine's open order %1: its %2 is %3 in the table, %4 "
                                      "in the engine")
                    .arg(id)
                    .arg(QLatin1String(std::get<0>(*differs)), std::get<1>(*differs), std::get<2>(*differs));
            open.push_back(id);
        }
        if (rows.error())
            return QStringLiteral("reading the orders: ") + *rows.error();
    }
    report.openOrders = open.size();
    if (open.size() == engine.openOrderCount())
        return std::nullopt;

    // Fewer open rows than open orders: name the first open order the table does not hold open.
    std::vector<OrderView> held;
    held.reserve(engine.openOrderCount());
    for (InstrumentId instrument = 0; instrument < engine.instrumentCount(); ++instrument) {
        for (const Side side : {Side::Buy, Side::Sell})
            engine.forEachOrder(instrument, side, [&held](const OrderView &order) { held.push_back(order); });
    }
    std::sort(held.begin(), held.end(), [](const OrderView &a, const OrderView &b) { return a.id < b.id; });
    const auto missing = std::find_if(held.begin(), held.end(), [&open](const OrderView &order) {
        return !std::binary_search(open.begin(), open.end(), order.id);
    });
    if (missing == held.end()) // the engine's own count disagrees with its books: not the table's fault
        return QStringLiteral("the engine counts %1 open orders but its books hold %2")
            .arg(engine.openOrderCount())
            .arg(held.size());
    QSqlQuery query(db);
    query.setForwardOnly(true);
    query.prepare(QStringLiteral("SELECT status FROM orders WHERE id = ?"));
    query.addBindValue(asSigned(missing->id));
    if (!query.exec())
        return sqlError(QStringLiteral("reading the orders"), query.lastError());
    const QString row = query.next() ? QStringLiteral("its orders row is %1").arg(query.value(0).toString())
                                     : QStringLiteral("the orders table has no row for it");
    return QStringLiteral("the engine holds order %1 open with %2 remaining, but %3")
        .arg(missing->id)
        .arg(amount(missing->remaining.raw()), row);
}

} // namespace

QString formatStateHash(std::uint64_t hash)
{
    return QStringLiteral("%1").arg(hash, 16, 16, QLatin1Char('0'));
}

Expected<VerifyReport, QString> verifyJournal(QSqlDatabase &db,
                                              const std::function<void(const VerifyProgress &)> &progress,
                                              ReadView view)
{
    QElapsedTimer timer;
    timer.start();
    ReadTransaction transaction(db);
    if (view == ReadView::Own) {
        if (const auto error = transaction.begin())
            return unexpected(*error);
    }
    const auto end = journalEnd(db);
    if (!end)
        return unexpected(end.error());

    // The snapshots in command order; each is read when replay reaches its command.
    struct SnapshotAt
    {
        qint64 id = 0;
        Seq commandSeq = 0;
    };
    std::vector<SnapshotAt> snapshots;
    {
        QSqlQuery query(db);
        query.setForwardOnly(true);
        if (!query.exec(QStringLiteral("SELECT id, command_seq FROM snapshots ORDER BY command_seq, id")))
            return unexpected(sqlError(QStringLiteral("reading the snapshots"), query.lastError()));
        while (query.next())
            snapshots.push_back({query.value(0).toLongLong(), static_cast<Seq>(query.value(1).toLongLong())});
    }

    VerifyReport report;
    Sequencer engine;
    CommandReplay replay(engine, {});
    ProducedEvents produced;
    TradeId checkedTrades = 0; // the trades rows up to this id are checked
    auto snapshot = snapshots.begin();
    for (;;) {
        for (; snapshot != snapshots.end() && snapshot->commandSeq == replay.position().commandSeq; ++snapshot) {
            if (const auto damage = checkSnapshot(db, snapshot->id, engine))
                return unexpected(*damage);
            ++report.snapshots;
        }
        // A stretch ends where the next snapshot was taken, so that the engine is there to compare it with.
        const Seq from = replay.position().commandSeq;
        const Seq limit = snapshot == snapshots.end() ? kStretchCommands
                                                      : std::min(kStretchCommands, snapshot->commandSeq - from);
        auto commands = readRows(db, QByteArray("SELECT ") + CommandReplay::kColumns + " FROM commands WHERE seq > "
                                         + QByteArray::number(asSigned(from)) + " ORDER BY seq LIMIT "
                                         + QByteArray::number(asSigned(limit)));
        if (!commands)
            return unexpected(QStringLiteral("reading the journal: ") + commands.error());
        RowSource &rows = **commands;
        produced.clear();
        while (rows.next()) {
            if (const auto damage = replay.apply(rows))
                return unexpected(*damage);
            produced.add(replay);
        }
        if (rows.error())
            return unexpected(QStringLiteral("reading the journal: ") + *rows.error());
        commands.value().reset(); // the connection is free for the next statement
        if (replay.position().commandSeq == from)
            break; // no command after `from`
        if (const auto damage = compareEvents(db, produced))
            return unexpected(*damage);
        if (const auto damage = compareTrades(db, produced, checkedTrades))
            return unexpected(*damage);
        report.events += produced.size();
        report.trades += produced.trades().size();
        if (progress)
            progress({replay.position().commandSeq, end->commandSeq, replay.position().eventSeq, report.snapshots});
    }
    if (snapshot != snapshots.end())
        return unexpected(QStringLiteral("snapshot after command %1 lies past the journal's last command, %2")
                              .arg(snapshot->commandSeq)
                              .arg(replay.position().commandSeq));

    // No event row after the last one replay produced.
    QSqlQuery extra(db);
    extra.prepare(QStringLiteral("SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM events WHERE seq > ?"));
    extra.addBindValue(asSigned(replay.position().eventSeq));
    if (!extra.exec() || !extra.next())
        return unexpected(sqlError(QStringLiteral("reading the journal's events"), extra.lastError()));
    if (const qint64 count = extra.value(0).toLongLong(); count > 0)
        return unexpected(QStringLiteral("the journal holds event rows after event %1, the last its commands "
                                         "produce: %2 of them, up to event %3")
                              .arg(replay.position().eventSeq)
                              .arg(count)
                              .arg(extra.value(1).toLongLong()));
    extra.finish();

    // No trades row after the last trade replay produced (those before it are each one of its trades).
    extra.prepare(QStringLiteral("SELECT COUNT(*), COALESCE(MAX(id), 0) FROM trades WHERE id > ?"));
    extra.addBindValue(asSigned(checkedTrades));
    if (!extra.exec() || !extra.next())
        return unexpected(sqlError(QStringLiteral("reading the trades"), extra.lastError()));
    if (const qint64 count = extra.value(0).toLongLong(); count > 0)
        return unexpected(QStringLiteral("the trades table holds rows after trade %1, the last the journal produces: "
                                         "%2 of them, up to trades row %3")
                              .arg(checkedTrades)
                              .arg(count)
                              .arg(extra.value(1).toLongLong()));
    extra.finish();

    if (const auto damage = checkBalances(db, engine, report))
        return unexpected(*damage);
    if (const auto damage = checkOpenOrders(db, engine, report))
        return unexpected(*damage);

    report.commands = replay.replayedCommands();
    report.position = replay.position();
    report.stateHash = engine.stateHash();
    report.elapsed = std::chrono::milliseconds(timer.elapsed());
    return report;
}

} // namespace bourse::sql
