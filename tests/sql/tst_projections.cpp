// The projections on a real database: hand-made histories give exactly the rows they should (an order's
// life, a taker across two makers, an expired market order, balances, candles); a seeded random history
// written in random group commits gives the rows a plain in-memory model computes from the same events;
// and writing the same batches again (a lost COMMIT) changes no row.
#include "connection.h"
#include "journal.h"
#include "journal_history.h"
#include "migrations.h"
#include "projections.h"
#include "test_databases.h"

#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QTest>

#include <map>
#include <random>
#include <set>

using namespace bourse;
using namespace bourse::sql;

namespace {

constexpr TimeNs kSecond = 1'000'000'000;
constexpr TimeNs kDay = 86'400 * kSecond;
constexpr TimeNs kT0 = 19'675 * kDay; // 2023-11-14 00:00 UTC: a multiple of every candle interval

Decimal dec(const char *text)
{
    return Decimal::parse(text).value();
}

qint64 raw(const char *text)
{
    return dec(text).raw();
}

// An engine whose commands are journalled as the host would: one batch per command, written by group
// commit when commit() says so.
class Venue final
{
public:
    explicit Venue(Connection &connection)
        : m_connection(connection)
    {}

    CommandResult apply(TimeNs time, CommandBody body)
    {
        std::vector<Event> events;
        return test::journalCommand(m_engine, m_commandSeq, Command{time, std::move(body)}, m_pending.emplace_back(),
                                    events);
    }
    OrderId place(TimeNs time, AccountId account, const char *symbol, Side side, OrderType type,
                  std::optional<Decimal> price, Decimal quantity, const char *clientOrderId = "")
    {
        PlaceOrder order;
        order.account = account;
        order.symbol = Symbol(symbol);
        order.side = side;
        order.type = type;
        order.price = price;
        order.quantity = quantity;
        order.clientOrderId = ClientOrderId(clientOrderId);
        const CommandResult result = apply(time, order);
        if (!result.ok())
            qFatal("order refused: %s", rejectName(result.reason).data());
        return result.order;
    }
    void deposit(TimeNs time, AccountId account, const char *asset, const char *amount)
    {
        if (!apply(time, Deposit{account, AssetCode(asset), dec(amount)}).ok())
            qFatal("deposit refused");
    }
    bool commit()
    {
        JournalScratch scratch;
        const auto written = writeBatches(m_connection.database(), m_pending, scratch);
        if (!written)
            qWarning("%s", qPrintable(written.error()));
        m_pending.clear();
        return written.hasValue();
    }
    Sequencer &engine() { return m_engine; }

private:
    Connection &m_connection;
    Sequencer m_engine;
    Seq m_commandSeq = 0;
    std::vector<JournalBatch> m_pending;
};

// A seeded venue history cut into batches of 1-200 commands.
struct History
{
    std::vector<JournalBatch> batches;
    std::vector<Event> events;
    std::unique_ptr<Sequencer> engine;
};

History makeHistory(std::uint64_t seed, int commandCount)
{
    test::JournalHistory source(seed);
    std::mt19937_64 random(seed ^ 0x5eed);
    History history;
    history.batches = source.batches(static_cast<Seq>(commandCount), random, 200, test::JournalHistory::LastBatch::Cut);
    history.events = test::eventsOf(history.batches);
    history.engine = source.takeEngine();
    return history;
}

// Group commits of 1-`maxGroup` batches; with `overlap`, every group is written again together with the
// next one, as a writer does after a COMMIT whose reply it never got.
bool writeAll(Connection &connection, const History &history, std::uint64_t seed, std::size_t maxGroup,
              bool overlap = false)
{
    JournalScratch scratch;
    std::mt19937_64 random(seed);
    std::vector<JournalBatch> previous;
    std::size_t next = 0;
    while (next < history.batches.size()) {
        const std::size_t size = std::min<std::size_t>(1 + random() % maxGroup, history.batches.size() - next);
        std::vector<JournalBatch> group(overlap ? previous : std::vector<JournalBatch>{});
        const std::vector<JournalBatch> fresh(history.batches.begin() + static_cast<std::ptrdiff_t>(next),
                                              history.batches.begin() + static_cast<std::ptrdiff_t>(next + size));
        group.insert(group.end(), fresh.begin(), fresh.end());
        const auto written = writeBatches(connection.database(), group, scratch);
        if (!written) {
            qWarning("%s", qPrintable(written.error()));
            return false;
        }
        previous = fresh;
        next += size;
    }
    return true;
}

QVariantList row(Connection &connection, const QString &sql, const QVariantList &bindings = {})
{
    QSqlQuery query(connection.database());
    query.prepare(sql);
    for (const QVariant &value : bindings)
        query.addBindValue(value);
    if (!query.exec() || !query.next()) {
        qWarning("%s: %s", qPrintable(sql), qPrintable(query.lastError().text()));
        return {};
    }
    // A NULL of any type reads as QVariant(), whatever type the driver gave it.
    QVariantList values;
    for (int i = 0; i < query.record().count(); ++i)
        values.push_back(query.value(i).isNull() ? QVariant() : query.value(i));
    return values;
}

qint64 scalar(Connection &connection, const QString &sql)
{
    const QVariantList values = row(connection, sql);
    return values.isEmpty() ? -1 : values.front().toLongLong();
}

// Every projection row as text, table by table in key order: what must not change.
QStringList dump(Connection &connection)
{
    const QList<std::pair<const char *, const char *>> tables = {
        {"assets", "id"},
        {"instruments", "id"},
        {"orders", "id"},
        {"trades", "id"},
        {"balances", "user_id, asset_id"},
        {"candles", "instrument_id, interval_s, start_ns"},
    };
    QStringList lines;
    for (const auto &[table, key] : tables) {
        QSqlQuery query(connection.database());
        if (!query.exec(QStringLiteral("SELECT * FROM %1 ORDER BY %2").arg(QLatin1String(table), QLatin1String(key))))
            return {QStringLiteral("error: ") + query.lastError().text()};
        while (query.next()) {
            QStringList values{QLatin1String(table)};
            for (int i = 0; i < query.record().count(); ++i)
                values.push_back(query.value(i).isNull() ? QStringLiteral("NULL") : query.value(i).toString());
            lines.push_back(values.join(QLatin1Char('|')));
        }
    }
    return lines;
}

// An order row as the model expects it.
struct ModelOrder
{
    QString status;
    qint64 filled = 0;
    qint64 notional = 0;
    std::optional<qint64> price;
    qint64 quantity = 0;
    Seq seq = 0;
};


const QString kOrderColumns = QStringLiteral(
    "SELECT status, filled_quantity, filled_notional, price, quantity, client_order_id, type, time_in_force, "
    "user_id, side FROM orders WHERE id = ?");

} // namespace

class TestProjections final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        auto databases = test::TestDatabases::create();
        QVERIFY2(databases.hasValue(), databases.hasValue() ? "" : qPrintable(databases.error()));
        m_databases = std::move(databases.value());
    }

    void notionalIsExact()
    {
        QCOMPARE(notionalRaw(dec("201.5"), dec("0.3")), raw("60.45"));
        QCOMPARE(notionalRaw(dec("92233720.36854775"), dec("100")), raw("9223372036.854775"));
        QCOMPARE(notionalRaw(dec("0.00000001"), dec("1")), qint64(1));
    }

    void orderLifecycle_data() { test::TestDatabases::addDriverRows(); }
    void orderLifecycle()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        auto connection = open(driver);
        QVERIFY(connection);
        Venue venue(*connection);
        setUp(venue);
        QVERIFY(venue.commit());
        QCOMPARE(row(*connection, QStringLiteral("SELECT symbol, base_asset, quote_asset, tick_size, lot_size, "
                                                 "min_quantity, status FROM instruments WHERE id = 0")),
                 (QVariantList{"BTC-USD", 0, 1, raw("0.01"), raw("0.001"), raw("0.001"), "trading"}));
        QCOMPARE(scalar(*connection, QStringLiteral("SELECT COUNT(*) FROM assets")), qint64(2));

        // Rests.
        const OrderId resting = venue.place(kT0 + 1 * kSecond, 1, "BTC-USD", Side::Buy, OrderType::Limit, dec("100"),
                                            dec("1"), "a-1");
        QVERIFY(venue.commit());
        QCOMPARE(row(*connection, kOrderColumns, {qint64(resting)}),
                 (QVariantList{"new", 0, 0, raw("100"), raw("1"), "a-1", "limit", "gtc", 1, "buy"}));

        // Partially filled by a sell that is accepted and filled in the same transaction.
        const OrderId seller = venue.place(kT0 + 2 * kSecond, 2, "BTC-USD", Side::Sell, OrderType::Limit, dec("100"),
                                           dec("0.4"));
        QVERIFY(venue.commit());
        QCOMPARE(row(*connection, kOrderColumns, {qint64(resting)}),
                 (QVariantList{"partially_filled", raw("0.4"), raw("40"), raw("100"), raw("1"), "a-1", "limit", "gtc",
                               1, "buy"}));
        QCOMPARE(row(*connection, kOrderColumns, {qint64(seller)}),
                 (QVariantList{"filled", raw("0.4"), raw("40"), raw("100"), raw("0.4"), QVariant(), "limit", "gtc", 2,
                               "sell"}));
        QCOMPARE(row(*connection,
                     QStringLiteral("SELECT id, instrument_id, price, quantity, taker_side, maker_order_id, "
                                    "taker_order_id, maker_user_id, taker_user_id, time_ns FROM trades")),
                 (QVariantList{1, 0, raw("100"), raw("0.4"), "sell", qint64(resting), qint64(seller), 1, 2,
                               qint64(kT0 + 2 * kSecond)}));

        // Amended: new price and quantity, still partially filled.
        QVERIFY(venue.apply(kT0 + 3 * kSecond, AmendOrder{1, resting, dec("101"), dec("0.8")}).ok());
        QVERIFY(venue.commit());
        QCOMPARE(row(*connection, kOrderColumns, {qint64(resting)}),
                 (QVariantList{"partially_filled", raw("0.4"), raw("40"), raw("101"), raw("0.8"), "a-1", "limit", "gtc",
                               1, "buy"}));

        // Cancelled.
        const CommandResult cancel = venue.apply(kT0 + 4 * kSecond, CancelOrder{1, resting});
        QVERIFY(cancel.ok());
        QVERIFY(venue.commit());
        QCOMPARE(row(*connection, kOrderColumns, {qint64(resting)}),
                 (QVariantList{"cancelled", raw("0.4"), raw("40"), raw("101"), raw("0.8"), "a-1", "limit", "gtc", 1,
                               "buy"}));
        QCOMPARE(row(*connection, QStringLiteral("SELECT updated_at_ns, created_at_ns, seq FROM orders WHERE id = ?"),
                     {qint64(resting)}),
                 (QVariantList{qint64(kT0 + 4 * kSecond), qint64(kT0 + 1 * kSecond), qint64(cancel.firstSeq)}));

        // The kill switch: status and updated_at_ns.
        SetInstrumentStatus halt{Symbol("BTC-USD"), InstrumentStatus::Halted, true};
        QVERIFY(venue.apply(kT0 + 5 * kSecond, halt).ok());
        QVERIFY(venue.commit());
        QCOMPARE(row(*connection, QStringLiteral("SELECT status, created_at_ns, updated_at_ns FROM instruments")),
                 (QVariantList{"halted", qint64(kT0), qint64(kT0 + 5 * kSecond)}));
    }

    void takerAcrossTwoMakers_data() { test::TestDatabases::addDriverRows(); }
    void takerAcrossTwoMakers()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        auto connection = open(driver);
        QVERIFY(connection);
        Venue venue(*connection);
        setUp(venue);
        const OrderId first = venue.place(kT0 + kSecond, 1, "BTC-USD", Side::Sell, OrderType::Limit, dec("200"),
                                          dec("0.5"));
        const OrderId second = venue.place(kT0 + kSecond, 2, "BTC-USD", Side::Sell, OrderType::Limit, dec("201.5"),
                                           dec("0.3"));
        QVERIFY(venue.commit());
        const OrderId taker = venue.place(kT0 + 2 * kSecond, 3, "BTC-USD", Side::Buy, OrderType::Limit, dec("202"),
                                          dec("0.8"));
        QVERIFY(venue.commit());
        const QVariantList row5 = row(*connection, kOrderColumns, {qint64(taker)});
        QCOMPARE(row5, (QVariantList{"filled", raw("0.8"), raw("160.45"), raw("202"), raw("0.8"), QVariant(), "limit",
                                     "gtc", 3, "buy"}));
        // The average price, notional / filled, is exact.
        QCOMPARE(row5[2].toLongLong() * Decimal::kOne / row5[1].toLongLong(), raw("200.5625"));
        QCOMPARE(row(*connection, kOrderColumns, {qint64(first)}).mid(0, 3),
                 (QVariantList{"filled", raw("0.5"), raw("100")}));
        QCOMPARE(row(*connection, kOrderColumns, {qint64(second)}).mid(0, 3),
                 (QVariantList{"filled", raw("0.3"), raw("60.45")}));
        QCOMPARE(scalar(*connection, QStringLiteral("SELECT COUNT(*) FROM trades WHERE taker_order_id = %1").arg(taker)),
                 qint64(2));

        // Balances: the taker paid 160.45 USD from 100000 and released the rest of its reservation.
        QCOMPARE(row(*connection, QStringLiteral("SELECT available, reserved FROM balances WHERE user_id = 3 AND "
                                                 "asset_id = 1")),
                 (QVariantList{raw("99839.55"), 0}));
        QCOMPARE(row(*connection, QStringLiteral("SELECT available, reserved FROM balances WHERE user_id = 3 AND "
                                                 "asset_id = 0")),
                 (QVariantList{raw("10.8"), 0}));
        compareBalances(*connection, venue.engine());
    }

    void marketOrdersExpire_data() { test::TestDatabases::addDriverRows(); }
    void marketOrdersExpire()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        auto connection = open(driver);
        QVERIFY(connection);
        Venue venue(*connection);
        setUp(venue);
        QVERIFY(venue.commit());
        // Nothing to buy: expired unfilled.
        const OrderId unfilled = venue.place(kT0 + kSecond, 3, "BTC-USD", Side::Buy, OrderType::Market, std::nullopt,
                                             dec("1"));
        QVERIFY(venue.commit());
        QCOMPARE(row(*connection, kOrderColumns, {qint64(unfilled)}),
                 (QVariantList{"expired", 0, 0, QVariant(), raw("1"), QVariant(), "market", "ioc", 3, "buy"}));
        QVERIFY(row(*connection, kOrderColumns, {qint64(unfilled)})[3].isNull());
        // Partly filled by a resting bid, the rest expired.
        const OrderId bid = venue.place(kT0 + 2 * kSecond, 1, "BTC-USD", Side::Buy, OrderType::Limit, dec("150"),
                                        dec("0.2"));
        QVERIFY(venue.commit());
        const OrderId sell = venue.place(kT0 + 3 * kSecond, 2, "BTC-USD", Side::Sell, OrderType::Market, std::nullopt,
                                         dec("0.5"));
        QVERIFY(venue.commit());
        QCOMPARE(row(*connection, kOrderColumns, {qint64(sell)}),
                 (QVariantList{"expired", raw("0.2"), raw("30"), QVariant(), raw("0.5"), QVariant(), "market", "ioc", 2,
                               "sell"}));
        QCOMPARE(row(*connection, kOrderColumns, {qint64(bid)}).mid(0, 3),
                 (QVariantList{"filled", raw("0.2"), raw("30")}));
        compareBalances(*connection, venue.engine());
    }

    void candles_data() { test::TestDatabases::addDriverRows(); }
    void candles()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        auto connection = open(driver);
        QVERIFY(connection);
        Venue venue(*connection);
        setUp(venue);
        QVERIFY(venue.commit());
        const auto trade = [&](TimeNs time, const char *price, const char *quantity) {
            venue.place(time, 1, "BTC-USD", Side::Sell, OrderType::Limit, dec(price), dec(quantity));
            venue.place(time, 3, "BTC-USD", Side::Buy, OrderType::Limit, dec(price), dec(quantity));
        };
        // Two trades in the minute from kT0 + 120 s (the second in another transaction), one in the next.
        trade(kT0 + 130 * kSecond, "2000", "1");
        QVERIFY(venue.commit());
        trade(kT0 + 150 * kSecond, "1990", "2");
        trade(kT0 + 185 * kSecond, "2010", "0.5");
        QVERIFY(venue.commit());

        const QString candle = QStringLiteral("SELECT open, high, low, close, volume, trades FROM candles WHERE "
                                              "instrument_id = 0 AND interval_s = ? AND start_ns = ?");
        QCOMPARE(row(*connection, candle, {60, qint64(kT0 + 120 * kSecond)}),
                 (QVariantList{raw("2000"), raw("2000"), raw("1990"), raw("1990"), raw("3"), 2}));
        QCOMPARE(row(*connection, candle, {60, qint64(kT0 + 180 * kSecond)}),
                 (QVariantList{raw("2010"), raw("2010"), raw("2010"), raw("2010"), raw("0.5"), 1}));
        for (const int interval : {300, 900, 3600, 86400})
            QCOMPARE(row(*connection, candle, {interval, qint64(kT0)}),
                     (QVariantList{raw("2000"), raw("2010"), raw("1990"), raw("2010"), raw("3.5"), 3}));
        QCOMPARE(scalar(*connection, QStringLiteral("SELECT COUNT(*) FROM candles")), qint64(6));
        compareBalances(*connection, venue.engine());
    }

    void matchesAModelOfTheEvents_data() { test::TestDatabases::addDriverRows(); }
    void matchesAModelOfTheEvents()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        const std::uint64_t seed = test::environmentNumber("BOURSE_SEED", 20261121);
        const auto commands = static_cast<int>(test::environmentNumber("BOURSE_COMMANDS", 20'000));
        qInfo("seed %llu, %d commands (BOURSE_SEED, BOURSE_COMMANDS)", static_cast<unsigned long long>(seed), commands);
        auto connection = open(driver);
        QVERIFY(connection);
        const History history = makeHistory(seed, commands);
        QVERIFY(writeAll(*connection, history, seed, 8));

        // The model: every event applied one at a time, the obvious way.
        std::map<OrderId, ModelOrder> orders;
        std::map<std::pair<AccountId, AssetId>, Seq> balanceSeqs;
        std::map<InstrumentId, qint64> tradeVolume;
        qint64 tradeCount = 0;
        for (const Event &event : history.events) {
            if (const auto *accepted = std::get_if<OrderAccepted>(&event.body)) {
                ModelOrder &order = orders[accepted->order];
                order.status = QStringLiteral("new");
                if (accepted->type == OrderType::Limit)
                    order.price = accepted->price.raw();
                order.quantity = accepted->quantity.raw();
                order.seq = event.seq;
            } else if (const auto *trade = std::get_if<TradeExecuted>(&event.body)) {
                const qint64 notional = Decimal::checkedMul(trade->price, trade->quantity).value().raw();
                for (const auto &[id, remaining] : {std::pair{trade->makerOrder, trade->makerRemaining},
                                                    std::pair{trade->takerOrder, trade->takerRemaining}}) {
                    ModelOrder &order = orders.at(id);
                    order.filled += trade->quantity.raw();
                    order.notional += notional;
                    order.status = remaining.isZero() ? QStringLiteral("filled") : QStringLiteral("partially_filled");
                    order.seq = event.seq;
                }
                tradeVolume[trade->instrument] += trade->quantity.raw();
                ++tradeCount;
            } else if (const auto *amended = std::get_if<OrderAmended>(&event.body)) {
                ModelOrder &order = orders.at(amended->order);
                order.price = amended->price.raw();
                order.quantity = amended->quantity.raw();
                order.seq = event.seq;
            } else if (const auto *cancelled = std::get_if<OrderCancelled>(&event.body)) {
                orders.at(cancelled->order).status = QStringLiteral("cancelled");
                orders.at(cancelled->order).seq = event.seq;
            } else if (const auto *expired = std::get_if<OrderExpired>(&event.body)) {
                orders.at(expired->order).status = QStringLiteral("expired");
                orders.at(expired->order).seq = event.seq;
            } else if (const auto *balance = std::get_if<BalanceChanged>(&event.body)) {
                balanceSeqs[{balance->account, balance->asset}] = event.seq;
            }
        }
        QVERIFY(tradeCount > 1000);

        QSqlQuery query(connection->database());
        QVERIFY(query.exec(QStringLiteral("SELECT id, status, filled_quantity, filled_notional, price, quantity, seq "
                                          "FROM orders ORDER BY id")));
        std::size_t rows = 0;
        std::map<QString, int> statuses;
        while (query.next()) {
            ++rows;
            const auto id = static_cast<OrderId>(query.value(0).toLongLong());
            const auto found = orders.find(id);
            QVERIFY2(found != orders.end(), qPrintable(QStringLiteral("order %1 is not in the model").arg(id)));
            const ModelOrder &order = found->second;
            const QString where = QStringLiteral("order %1").arg(id);
            QCOMPARE(query.value(1).toString(), order.status);
            QCOMPARE(query.value(2).toLongLong(), order.filled);
            QCOMPARE(query.value(3).toLongLong(), order.notional);
            QVERIFY2(query.value(4).isNull() == !order.price, qPrintable(where));
            QCOMPARE(query.value(4).toLongLong(), order.price.value_or(0));
            QCOMPARE(query.value(5).toLongLong(), order.quantity);
            QCOMPARE(static_cast<Seq>(query.value(6).toLongLong()), order.seq);
            ++statuses[order.status];
        }
        QCOMPARE(rows, orders.size());
        for (const char *status : {"new", "partially_filled", "filled", "cancelled", "expired"})
            QVERIFY2(statuses[QLatin1String(status)] > 0, status); // the stream reaches every status

        QCOMPARE(scalar(*connection, QStringLiteral("SELECT COUNT(*) FROM trades")), tradeCount);
        QCOMPARE(scalar(*connection, QStringLiteral("SELECT COUNT(*) FROM balances")), qint64(balanceSeqs.size()));
        compareBalances(*connection, *history.engine);
        QVERIFY(query.exec(QStringLiteral("SELECT user_id, asset_id, updated_seq FROM balances")));
        while (query.next())
            QCOMPARE(static_cast<Seq>(query.value(2).toLongLong()),
                     balanceSeqs.at({static_cast<AccountId>(query.value(0).toLongLong()),
                                     static_cast<AssetId>(query.value(1).toLongLong())}));

        QCOMPARE(scalar(*connection, QStringLiteral("SELECT COUNT(*) FROM instruments")),
                 qint64(history.engine->instrumentCount()));
        QCOMPARE(scalar(*connection, QStringLiteral("SELECT COUNT(*) FROM assets")),
                 qint64(history.engine->assetCount()));
        QVERIFY(query.exec(QStringLiteral("SELECT id, status FROM instruments")));
        while (query.next())
            QCOMPARE(query.value(1).toString(),
                     QString::fromLatin1(instrumentStatusName(
                         history.engine->instrument(static_cast<InstrumentId>(query.value(0).toLongLong()))->status)));

        // Every interval's candles add up to the instrument's trades.
        QVERIFY(query.exec(QStringLiteral("SELECT instrument_id, interval_s, SUM(volume), SUM(trades) FROM candles "
                                          "GROUP BY instrument_id, interval_s")));
        std::map<InstrumentId, int> intervals;
        while (query.next()) {
            const auto instrument = static_cast<InstrumentId>(query.value(0).toLongLong());
            QCOMPARE(query.value(2).toLongLong(), tradeVolume.at(instrument));
            ++intervals[instrument];
        }
        QCOMPARE(intervals.size(), tradeVolume.size());
        for (const auto &[instrument, count] : intervals)
            QCOMPARE(count, int(kCandleIntervals.size()));
        QCOMPARE(scalar(*connection, QStringLiteral("SELECT SUM(trades) FROM candles WHERE interval_s = 60")),
                 tradeCount);
    }

    void lostCommitChangesNoRow_data() { test::TestDatabases::addDriverRows(); }
    void lostCommitChangesNoRow()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        const History history = makeHistory(31, 4'000);

        auto once = open(driver);
        QVERIFY(once);
        QVERIFY(writeAll(*once, history, 5, 4));
        const QStringList expected = dump(*once);
        QVERIFY(expected.size() > 1000);
        // The same batches again, in other groups: nothing is new, nothing changes.
        QVERIFY(writeAll(*once, history, 6, 8));
        QCOMPARE(dump(*once), expected);

        // Every group written again together with the next: only the next one's events apply.
        auto overlapping = open(driver);
        QVERIFY(overlapping);
        QVERIFY(writeAll(*overlapping, history, 7, 4, true));
        QCOMPARE(dump(*overlapping), expected);
    }

private:
    std::optional<Connection> open(DatabaseUrl::Driver driver) { return m_databases->openFreshMigrated(driver); }

    // BTC-USD (instrument 0, assets BTC 0 and USD 1) and three funded accounts.
    static void setUp(Venue &venue)
    {
        QVERIFY(venue
                    .apply(kT0, AddInstrument{Symbol("BTC-USD"), AssetCode("BTC"), AssetCode("USD"), dec("0.01"),
                                              dec("0.001"), dec("0.001")})
                    .ok());
        for (const AccountId account : {AccountId(1), AccountId(2), AccountId(3)}) {
            venue.deposit(kT0, account, "BTC", "10");
            venue.deposit(kT0, account, "USD", "100000");
        }
    }

    static void compareBalances(Connection &connection, const Sequencer &engine)
    {
        QSqlQuery query(connection.database());
        QVERIFY(query.exec(QStringLiteral("SELECT user_id, asset_id, available, reserved FROM balances")));
        int rows = 0;
        while (query.next()) {
            const BalanceView balance = engine.balance(static_cast<AccountId>(query.value(0).toLongLong()),
                                                       static_cast<AssetId>(query.value(1).toLongLong()));
            QCOMPARE(query.value(2).toLongLong(), balance.available.raw());
            QCOMPARE(query.value(3).toLongLong(), balance.reserved.raw());
            ++rows;
        }
        QVERIFY(rows > 0);
    }

    std::unique_ptr<test::TestDatabases> m_databases;
};

QTEST_GUILESS_MAIN(TestProjections)
#include "tst_projections.moc"
