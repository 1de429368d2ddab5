// The repositories and the query pool on real databases, each case on SQLite and on PostgreSQL. The data
// comes the way the venue makes it: commands through the engine's Sequencer, their events written by
// writeBatches() (or a JournalWriter) into the projections; users and the audit log by plain INSERTs. The
// listings are compared with a model computed from the same events; hand-made histories pin down ties,
// client order ids, fills, candles and the ticker's window; every statement the repositories run is checked
// to ride an index (EXPLAIN QUERY PLAN on SQLite; on PostgreSQL, that EXPLAIN accepts it); the pool is run
// from several threads while the journal writes, full, stopped with jobs queued, and with its database gone.
#include "connection.h"
#include "journal.h"
#include "journal_history.h"
#include "journal_writer.h"
#include "query_pool.h"
#include "repositories.h"
#include "test_databases.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QSemaphore>
#include <QSqlError>
#include <QSqlQuery>
#include <QTest>
#include <QThread>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>

using namespace bourse;
using namespace bourse::sql;

namespace {

constexpr TimeNs kSecond = 1'000'000'000;
constexpr TimeNs kMinute = 60 * kSecond;
constexpr TimeNs kHour = 3600 * kSecond;
constexpr TimeNs kDay = 24 * kHour;
constexpr TimeNs kT0 = 19'675 * kDay; // 2023-11-14 00:00 UTC: a multiple of every candle interval

constexpr InstrumentId kBtc = 0; // BTC-USD in every Venue
constexpr InstrumentId kEth = 1; // ETH-USD

Decimal dec(const char *text)
{
    return Decimal::parse(text).value();
}

PageRequest pageOf(std::int64_t page, std::int64_t size)
{
    return PageRequest::make(page, size).value();
}

const char *kindName(QueryError::Kind kind)
{
    switch (kind) {
    case QueryError::Kind::Busy: return "busy";
    case QueryError::Kind::Stopped: return "stopped";
    case QueryError::Kind::Unavailable: return "unavailable";
    case QueryError::Kind::Failed: return "failed";
    }
    return "?";
}

// The engine with its commands journalled as the host does: one batch per command, written when commit()
// says so. Every event is kept for the models. It starts with BTC-USD (instrument 0) and ETH-USD (1), assets
// BTC 0, USD 1, ETH 2, and accounts 1-3 funded.
class Venue final
{
public:
    Venue()
    {
        for (const char *base : {"BTC", "ETH"}) {
            const std::string symbol = std::string(base) + "-USD";
            if (!apply(kT0, AddInstrument{Symbol(symbol), AssetCode(base), AssetCode("USD"), dec("0.01"), dec("0.001"),
                                          dec("0.001")})
                     .ok())
                qFatal("instrument refused");
        }
        for (const AccountId account : {AccountId(1), AccountId(2), AccountId(3)}) {
            for (const auto &[asset, amount] : {std::pair{"BTC", "1000"}, {"USD", "10000000"}, {"ETH", "10000"}}) {
                if (!apply(kT0, Deposit{account, AssetCode(asset), dec(amount)}).ok())
                    qFatal("deposit refused");
            }
        }
    }

    CommandResult apply(TimeNs time, CommandBody body)
    {
        std::vector<Event> events;
        const CommandResult result = test::journalCommand(m_engine, m_commandSeq, Command{time, std::move(body)},
                                                          m_pending.emplace_back(), events);
        m_events.insert(m_events.end(), events.begin(), events.end());
        return result;
    }

    // price none: a market order.
    OrderId place(TimeNs time, AccountId account, const char *symbol, Side side, std::optional<Decimal> price,
                  Decimal quantity, const char *clientOrderId = "",
                  SelfTradePrevention stp = SelfTradePrevention::ExpireTaker)
    {
        PlaceOrder order;
        order.account = account;
        order.symbol = Symbol(symbol);
        order.side = side;
        order.type = price ? OrderType::Limit : OrderType::Market;
        order.price = price;
        order.quantity = quantity;
        order.clientOrderId = ClientOrderId(clientOrderId);
        order.stp = stp;
        const CommandResult result = apply(time, order);
        if (!result.ok())
            qFatal("order refused: %s", rejectName(result.reason).data());
        return result.order;
    }

    void cancel(TimeNs time, AccountId account, OrderId order)
    {
        if (!apply(time, CancelOrder{account, order}).ok())
            qFatal("cancel refused");
    }

    // One trade of `quantity` at `price` between a resting sell of account 1 and a buy of account 3.
    void trade(TimeNs time, const char *symbol, const char *price, const char *quantity)
    {
        place(time, 1, symbol, Side::Sell, dec(price), dec(quantity));
        place(time, 3, symbol, Side::Buy, dec(price), dec(quantity));
    }

    bool commit(Connection &connection)
    {
        JournalScratch scratch;
        const auto written = writeBatches(connection.database(), m_pending, scratch);
        if (!written)
            qWarning("%s", qPrintable(written.error()));
        m_pending.clear();
        return written.hasValue();
    }

    const std::vector<Event> &events() const { return m_events; }

private:
    Sequencer m_engine;
    Seq m_commandSeq = 0;
    std::vector<JournalBatch> m_pending;
    std::vector<Event> m_events;
};

// What the listings must show, computed the plain way from the events.
struct Model
{
    struct Order
    {
        OrderId id = 0;
        AccountId user = 0;
        InstrumentId instrument = 0;
        TimeNs createdAt = 0;
        OrderStatus status = OrderStatus::New;
        bool open() const { return status == OrderStatus::New || status == OrderStatus::PartiallyFilled; }
    };
    struct Fill
    {
        TradeId trade = 0;
        OrderId order = 0;
        AccountId user = 0;
        InstrumentId instrument = 0;
        Side side = Side::Buy;
        Liquidity liquidity = Liquidity::Taker;
    };

    std::map<OrderId, Order> orders;
    std::vector<TradeExecuted> trades;
    std::vector<Fill> fills;

    static Model of(const std::vector<Event> &events)
    {
        Model model;
        for (const Event &event : events) {
            if (const auto *accepted = std::get_if<OrderAccepted>(&event.body)) {
                model.orders[accepted->order] = Order{accepted->order, accepted->account, accepted->instrument,
                                                      event.time, OrderStatus::New};
            } else if (const auto *trade = std::get_if<TradeExecuted>(&event.body)) {
                model.trades.push_back(*trade);
                model.orders.at(trade->makerOrder).status = trade->makerRemaining.isZero()
                                                                ? OrderStatus::Filled
                                                                : OrderStatus::PartiallyFilled;
                model.orders.at(trade->takerOrder).status = trade->takerRemaining.isZero()
                                                                ? OrderStatus::Filled
                                                                : OrderStatus::PartiallyFilled;
                model.fills.push_back(Fill{trade->trade, trade->makerOrder, trade->makerAccount, trade->instrument,
                                           opposite(trade->takerSide), Liquidity::Maker});
                model.fills.push_back(Fill{trade->trade, trade->takerOrder, trade->takerAccount, trade->instrument,
                                           trade->takerSide, Liquidity::Taker});
            } else if (const auto *cancelled = std::get_if<OrderCancelled>(&event.body)) {
                model.orders.at(cancelled->order).status = OrderStatus::Cancelled;
            } else if (const auto *expired = std::get_if<OrderExpired>(&event.body)) {
                model.orders.at(expired->order).status = OrderStatus::Expired;
            }
        }
        return model;
    }

    // Newest first as the API means it: created_at desc, id desc. The repositories order by id alone, which
    // is the same order since the engine never accepts an order at an earlier time than the one before:
    // comparing with this model checks that on the engine's own histories.
    std::vector<OrderId> orderIds(const OrderFilter &filter) const
    {
        std::vector<const Order *> matching;
        for (const auto &[id, order] : orders) {
            if ((filter.user && order.user != *filter.user)
                || (filter.instrument && order.instrument != *filter.instrument)
                || (filter.status == OrderStatusFilter::Open && !order.open())
                || (filter.status == OrderStatusFilter::Closed && order.open()))
                continue;
            matching.push_back(&order);
        }
        std::sort(matching.begin(), matching.end(), [](const Order *a, const Order *b) {
            return std::pair{a->createdAt, a->id} > std::pair{b->createdAt, b->id};
        });
        std::vector<OrderId> ids;
        for (const Order *order : matching)
            ids.push_back(order->id);
        return ids;
    }

    // Newest first, the taker's fill before the maker's within a trade: (trade, order) pairs.
    std::vector<std::pair<TradeId, OrderId>> fillsOf(AccountId user, std::optional<InstrumentId> instrument) const
    {
        std::vector<Fill> matching;
        for (const Fill &fill : fills) {
            if (fill.user == user && (!instrument || fill.instrument == *instrument))
                matching.push_back(fill);
        }
        std::stable_sort(matching.begin(), matching.end(), [](const Fill &a, const Fill &b) {
            return std::pair{a.trade, a.liquidity == Liquidity::Taker}
                   > std::pair{b.trade, b.liquidity == Liquidity::Taker};
        });
        std::vector<std::pair<TradeId, OrderId>> result;
        for (const Fill &fill : matching)
            result.emplace_back(fill.trade, fill.order);
        return result;
    }
};

template<typename Row>
QString describe(const Expected<Row, QString> &result)
{
    return result.hasValue() ? QString() : result.error();
}

template<typename Row>
QString describe(const QueryResult<Row> &result)
{
    return result.hasValue()
               ? QString()
               : QString::fromLatin1(kindName(result.error().kind)) + QStringLiteral(": ") + result.error().message;
}

// Every page of a listing, page by page, until `total` rows are in.
template<typename Row, typename List>
std::optional<std::vector<Row>> allPages(List list, int pageSize, std::int64_t &total)
{
    std::vector<Row> rows;
    for (std::int64_t page = 1;; ++page) {
        auto result = list(pageOf(page, pageSize));
        if (!result) {
            qWarning("%s", qPrintable(result.error()));
            return std::nullopt;
        }
        total = result->total;
        rows.insert(rows.end(), result->rows.begin(), result->rows.end());
        if (result->rows.empty() || static_cast<std::int64_t>(rows.size()) >= total)
            return rows;
    }
}

std::vector<OrderId> idsOf(const std::vector<OrderRecord> &orders)
{
    std::vector<OrderId> ids;
    for (const OrderRecord &order : orders)
        ids.push_back(order.id);
    return ids;
}

std::vector<std::pair<TradeId, OrderId>> fillIdsOf(const std::vector<FillRecord> &fills)
{
    std::vector<std::pair<TradeId, OrderId>> ids;
    for (const FillRecord &fill : fills)
        ids.emplace_back(fill.trade, fill.order);
    return ids;
}

// Field for field.
bool sameOrder(const OrderRecord &a, const OrderRecord &b)
{
    return a.id == b.id && a.user == b.user && a.instrument == b.instrument && a.clientOrderId == b.clientOrderId
           && a.side == b.side && a.type == b.type && a.timeInForce == b.timeInForce && a.postOnly == b.postOnly
           && a.stp == b.stp && a.price == b.price && a.quantity == b.quantity && a.filledQuantity == b.filledQuantity
           && a.filledNotional == b.filledNotional && a.status == b.status && a.createdAt == b.createdAt
           && a.updatedAt == b.updatedAt && a.seq == b.seq;
}

bool sameBalance(const BalanceRecord &a, const BalanceRecord &b)
{
    return a.asset == b.asset && a.assetCode == b.assetCode && a.available == b.available && a.reserved == b.reserved;
}

// A future of the pool, waited for on the test thread (events keep flowing meanwhile).
template<typename T>
std::optional<QueryResult<T>> await(QFuture<QueryResult<T>> future, int timeoutMs = 30'000)
{
    QDeadlineTimer deadline(timeoutMs);
    while (!future.isFinished() && !deadline.hasExpired())
        QTest::qWait(5);
    if (!future.isFinished())
        return std::nullopt;
    return future.result();
}

} // namespace

class TestRepositories final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        auto databases = test::TestDatabases::create();
        QVERIFY2(databases.hasValue(), databases.hasValue() ? "" : qPrintable(databases.error()));
        m_databases = std::move(databases.value());
    }

    void cleanupTestCase()
    {
        setStatementObserver({});
        m_databases.reset();
    }

    void pageRequests_data()
    {
        QTest::addColumn<qint64>("page");
        QTest::addColumn<qint64>("pageSize");
        QTest::addColumn<QString>("field"); // "" when valid
        QTest::addColumn<int>("size");
        QTest::addColumn<qint64>("offset");

        QTest::newRow("defaults") << qint64(1) << qint64(50) << "" << 50 << qint64(0);
        QTest::newRow("third page") << qint64(3) << qint64(20) << "" << 20 << qint64(40);
        QTest::newRow("one row") << qint64(7) << qint64(1) << "" << 1 << qint64(6);
        QTest::newRow("largest size") << qint64(2) << qint64(1000) << "" << 1000 << qint64(1000);
        QTest::newRow("larger size clamped") << qint64(2) << qint64(5000) << "" << 1000 << qint64(1000);
        QTest::newRow("huge size clamped")
            << qint64(1) << std::numeric_limits<qint64>::max() << "" << 1000 << qint64(0);
        QTest::newRow("page far beyond saturates")
            << std::numeric_limits<qint64>::max() << qint64(1000) << "" << 1000 << std::numeric_limits<qint64>::max();
        QTest::newRow("page 0") << qint64(0) << qint64(50) << "page" << 0 << qint64(0);
        QTest::newRow("negative page") << qint64(-3) << qint64(50) << "page" << 0 << qint64(0);
        QTest::newRow("size 0") << qint64(1) << qint64(0) << "page_size" << 0 << qint64(0);
        QTest::newRow("negative size") << qint64(1) << qint64(-10) << "page_size" << 0 << qint64(0);
    }
    void pageRequests()
    {
        QFETCH(qint64, page);
        QFETCH(qint64, pageSize);
        QFETCH(QString, field);
        QFETCH(int, size);
        QFETCH(qint64, offset);
        const auto request = PageRequest::make(page, pageSize);
        QCOMPARE(request.hasValue(), field.isEmpty());
        if (!request) {
            QCOMPARE(request.error().field, field);
            QVERIFY(request.error().message.startsWith(field + u' '));
            return;
        }
        QCOMPARE(request->page(), page);
        QCOMPARE(request->size(), size);
        QCOMPARE(request->offset(), offset);
        QCOMPARE(PageRequest().page(), qint64(1));
        QCOMPARE(PageRequest().size(), 50);
    }

    // A seeded random history: every filter of the order listing, the export, trades and fills give exactly
    // what a model of the events gives, page after page.
    void listingsMatchTheModel_data() { test::TestDatabases::addDriverRows(); }
    void listingsMatchTheModel()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        auto connection = open(driver);
        QVERIFY(connection);
        const std::uint64_t seed = test::environmentNumber("BOURSE_SEED", 20261122);
        qInfo("seed %llu (BOURSE_SEED)", static_cast<unsigned long long>(seed));
        const std::vector<Event> events = generate(*connection, seed, 4'000);
        QVERIFY(!events.empty());
        const Model model = Model::of(events);
        QVERIFY(model.orders.size() > 1000);
        QVERIFY(model.trades.size() > 200);
        QSqlDatabase &db = connection->database();

        std::set<AccountId> users;
        std::set<InstrumentId> instrumentIds;
        for (const auto &[id, order] : model.orders) {
            users.insert(order.user);
            instrumentIds.insert(order.instrument);
        }
        std::vector<std::optional<AccountId>> userFilters{std::nullopt};
        userFilters.insert(userFilters.end(), users.begin(), users.end());
        std::vector<std::optional<InstrumentId>> instrumentFilters{std::nullopt};
        instrumentFilters.insert(instrumentFilters.end(), instrumentIds.begin(), instrumentIds.end());

        int checked = 0;
        for (const auto &user : userFilters) {
            for (const auto status : {OrderStatusFilter::All, OrderStatusFilter::Open, OrderStatusFilter::Closed}) {
                for (const auto &instrument : instrumentFilters) {
                    const OrderFilter filter{user, status, instrument};
                    const QString where = QStringLiteral("user %1, status %2, instrument %3")
                                              .arg(user ? QString::number(*user) : QStringLiteral("any"))
                                              .arg(int(status))
                                              .arg(instrument ? QString::number(*instrument) : QStringLiteral("any"));
                    const std::vector<OrderId> expected = model.orderIds(filter);
                    std::int64_t total = -1;
                    const auto listed
                        = allPages<OrderRecord>([&](PageRequest page) { return listOrders(db, filter, page); }, 1000,
                                                total);
                    QVERIFY2(listed, qPrintable(where));
                    QCOMPARE(total, std::int64_t(expected.size()));
                    QVERIFY2(idsOf(*listed) == expected, qPrintable(where));
                    for (const OrderRecord &order : *listed) {
                        const Model::Order &known = model.orders.at(order.id);
                        QCOMPARE(order.user, known.user);
                        QCOMPARE(order.instrument, known.instrument);
                        QCOMPARE(order.createdAt, known.createdAt);
                        QCOMPARE(order.status, known.status);
                        QVERIFY(order.createdAt <= order.updatedAt);
                    }

                    // The export: the same rows in chunks of at most 37.
                    std::vector<OrderId> exported;
                    std::vector<std::size_t> chunks;
                    const auto rows = exportOrders(db, filter, 37, [&](const std::vector<OrderRecord> &chunk) {
                        chunks.push_back(chunk.size());
                        const std::vector<OrderId> ids = idsOf(chunk);
                        exported.insert(exported.end(), ids.begin(), ids.end());
                        return true;
                    });
                    QVERIFY2(rows, qPrintable(describe(rows)));
                    QCOMPARE(*rows, std::int64_t(expected.size()));
                    QVERIFY2(exported == expected, qPrintable(where));
                    for (std::size_t i = 0; i < chunks.size(); ++i)
                        QVERIFY(chunks[i] == 37 || (i + 1 == chunks.size() && chunks[i] < 37 && chunks[i] > 0));
                    ++checked;
                }
            }
        }
        QCOMPARE(checked, int(userFilters.size() * 3 * instrumentFilters.size()));

        // Page boundaries on the largest listing.
        const std::vector<OrderId> everything = model.orderIds({});
        const auto size = static_cast<std::int64_t>(everything.size());
        const std::int64_t lastPage = (size + 6) / 7;
        for (const std::int64_t page : {std::int64_t(1), std::int64_t(2), lastPage - 1, lastPage}) {
            const auto listed = listOrders(db, {}, pageOf(page, 7));
            QVERIFY2(listed, qPrintable(describe(listed)));
            QCOMPARE(listed->page, page);
            QCOMPARE(listed->pageSize, 7);
            QCOMPARE(listed->total, size);
            const auto first = everything.begin() + (page - 1) * 7;
            const std::vector<OrderId> expected(first, everything.begin() + std::min(page * 7, size));
            QVERIFY(idsOf(listed->rows) == expected);
        }
        QCOMPARE(std::int64_t(listOrders(db, {}, pageOf(lastPage, 7))->rows.size()), size - (lastPage - 1) * 7);
        for (const std::int64_t beyond : {lastPage + 1, std::int64_t(1) << 40}) {
            const auto listed = listOrders(db, {}, pageOf(beyond, 7));
            QVERIFY2(listed, qPrintable(describe(listed)));
            QVERIFY(listed->rows.empty());
            QCOMPARE(listed->total, size);
        }
        const auto clamped = listOrders(db, {}, pageOf(1, 100'000));
        QVERIFY2(clamped, qPrintable(describe(clamped)));
        QCOMPARE(clamped->pageSize, 1000);
        QCOMPARE(std::int64_t(clamped->rows.size()), std::min<std::int64_t>(size, 1000));

        // Public trades per instrument, newest first.
        for (const InstrumentId instrument : instrumentIds) {
            std::vector<TradeId> expected;
            for (auto trade = model.trades.rbegin(); trade != model.trades.rend(); ++trade)
                if (trade->instrument == instrument)
                    expected.push_back(trade->trade);
            std::int64_t total = -1;
            const auto list = [&](PageRequest page) { return listTrades(db, instrument, page); };
            const auto listed = allPages<TradeRecord>(list, 100, total);
            QVERIFY(listed);
            QCOMPARE(total, std::int64_t(expected.size()));
            std::vector<TradeId> ids;
            for (const TradeRecord &trade : *listed) {
                ids.push_back(trade.id);
                QCOMPARE(trade.instrument, instrument);
            }
            QVERIFY(ids == expected);
        }

        // Each user's fills, every instrument and each one.
        for (const AccountId user : users) {
            for (const auto &instrument : instrumentFilters) {
                const auto expected = model.fillsOf(user, instrument);
                std::int64_t total = -1;
                const auto listed
                    = allPages<FillRecord>([&](PageRequest page) { return listFills(db, user, instrument, page); }, 50,
                                           total);
                QVERIFY(listed);
                QCOMPARE(total, std::int64_t(expected.size()));
                QVERIFY(fillIdsOf(*listed) == expected);
            }
        }

        // What the server loads at start-up: every user's open orders, by id, each as findOrder() reads it, and
        // every user's balance rows, as balances() lists them user by user.
        const auto open = openOrders(db);
        QVERIFY2(open, qPrintable(describe(open)));
        std::vector<OrderId> expectedOpen = model.orderIds({std::nullopt, OrderStatusFilter::Open, std::nullopt});
        std::reverse(expectedOpen.begin(), expectedOpen.end());
        QVERIFY(!expectedOpen.empty());
        QVERIFY(idsOf(*open) == expectedOpen);
        for (const OrderRecord &order : *open)
            QVERIFY(sameOrder(order, findOrder(db, order.id)->value()));
        const auto everyBalance = allBalances(db);
        QVERIFY2(everyBalance, qPrintable(describe(everyBalance)));
        QVERIFY(!everyBalance->empty());
        for (std::size_t i = 0; i < everyBalance->size();) {
            const AccountId user = everyBalance->at(i).first;
            QVERIFY(i == 0 || everyBalance->at(i - 1).first < user);
            const auto held = balances(db, user);
            QVERIFY2(held, qPrintable(describe(held)));
            QVERIFY(!held->empty());
            for (const BalanceRecord &balance : *held) {
                QVERIFY(i < everyBalance->size());
                QCOMPARE(everyBalance->at(i).first, user);
                QVERIFY(sameBalance(everyBalance->at(i).second, balance));
                ++i;
            }
        }
    }

    void orderLookups_data() { test::TestDatabases::addDriverRows(); }
    void orderLookups()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        auto connection = open(driver);
        QVERIFY(connection);
        QSqlDatabase &db = connection->database();
        Venue venue;
        const OrderId mine = venue.place(kT0 + kSecond, 1, "BTC-USD", Side::Buy, dec("100"), dec("1"), "a-1");
        const OrderId theirs = venue.place(kT0 + 2 * kSecond, 2, "BTC-USD", Side::Sell, dec("200"), dec("1"), "a-1");
        const OrderId taker = venue.place(kT0 + 3 * kSecond, 3, "BTC-USD", Side::Buy, dec("200"), dec("0.4"));
        QVERIFY(venue.commit(*connection));

        const auto found = findOrder(db, mine);
        QVERIFY2(found, qPrintable(describe(found)));
        QVERIFY(found->has_value());
        const OrderRecord &order = **found;
        QCOMPARE(order.id, mine);
        QCOMPARE(order.user, AccountId(1));
        QCOMPARE(order.instrument, kBtc);
        QCOMPARE(order.clientOrderId, QStringLiteral("a-1"));
        QCOMPARE(order.side, Side::Buy);
        QCOMPARE(order.type, OrderType::Limit);
        QCOMPARE(order.timeInForce, TimeInForce::Gtc);
        QCOMPARE(order.postOnly, false);
        QCOMPARE(order.stp, SelfTradePrevention::ExpireTaker);
        QCOMPARE(order.price, std::optional<Decimal>(dec("100")));
        QCOMPARE(order.quantity, dec("1"));
        QCOMPARE(order.remainingQuantity(), dec("1"));
        QCOMPARE(order.status, OrderStatus::New);
        QVERIFY(order.isOpen());
        QCOMPARE(order.averagePrice(), std::nullopt);
        QCOMPARE(order.createdAt, kT0 + kSecond);

        // Another user's order is found with its owner, so that the caller can answer 404.
        const auto other = findOrder(db, theirs);
        QVERIFY(other && other->has_value());
        QCOMPARE((*other)->user, AccountId(2));
        QCOMPARE((*other)->status, OrderStatus::PartiallyFilled);
        QCOMPARE((*other)->filledQuantity, dec("0.4"));
        QCOMPARE((*other)->remainingQuantity(), dec("0.6"));
        QCOMPARE((*other)->averagePrice(), std::optional<Decimal>(dec("200")));
        const auto filled = findOrder(db, taker);
        QVERIFY(filled && filled->has_value());
        QCOMPARE((*filled)->status, OrderStatus::Filled);
        QVERIFY((*filled)->clientOrderId.isEmpty());
        const auto missing = findOrder(db, 999);
        QVERIFY(missing);
        QVERIFY(!missing->has_value());

        const auto byClientId = [&](AccountId user, const char *id) -> std::optional<OrderId> {
            const auto result = findOrderByClientId(db, user, QString::fromLatin1(id));
            if (!result) {
                qWarning("%s", qPrintable(result.error()));
                return OrderId(0);
            }
            return *result ? std::optional<OrderId>((*result)->id) : std::nullopt;
        };
        QCOMPARE(byClientId(1, "a-1"), std::optional<OrderId>(mine));
        QCOMPARE(byClientId(2, "a-1"), std::optional<OrderId>(theirs));
        QCOMPARE(byClientId(3, "a-1"), std::nullopt);
        QCOMPARE(byClientId(1, "a-2"), std::nullopt);
        QCOMPARE(byClientId(1, ""), std::nullopt);

        // Once the engine has forgotten the id (its order closed, 24 h later), it names a new order: the
        // lookup finds the newer.
        venue.cancel(kT0 + 4 * kSecond, 1, mine);
        const OrderId again = venue.place(kT0 + 4 * kSecond + kDay, 1, "ETH-USD", Side::Sell, dec("50"), dec("2"),
                                          "a-1");
        QVERIFY(venue.commit(*connection));
        QCOMPARE(byClientId(1, "a-1"), std::optional<OrderId>(again));
        QCOMPARE((*findOrder(db, mine))->status, OrderStatus::Cancelled);
    }

    // Orders created at the same instant come newest id first, on every page and across export chunks
    // whose boundaries fall inside such a group.
    void tiesPagesAndExportChunks_data() { test::TestDatabases::addDriverRows(); }
    void tiesPagesAndExportChunks()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        auto connection = open(driver);
        QVERIFY(connection);
        QSqlDatabase &db = connection->database();
        Venue venue;
        std::vector<OrderId> mine;
        std::vector<OrderId> mineOpen;
        std::vector<OrderId> all;
        for (int i = 0; i < 250; ++i) {
            const TimeNs time = kT0 + (i / 7) * kSecond; // groups of 7 at one instant
            const OrderId id = venue.place(time, 1, "BTC-USD", Side::Buy, Decimal::fromInteger(100 + i % 5), dec("1"));
            mine.push_back(id);
            all.push_back(id);
            if (i % 4 == 0)
                venue.cancel(time, 1, id);
            else
                mineOpen.push_back(id);
            if (i % 3 == 0)
                all.push_back(venue.place(time, 2, "ETH-USD", Side::Sell, dec("500"), dec("1")));
        }
        QVERIFY(venue.commit(*connection));
        // Newest first.
        std::reverse(mine.begin(), mine.end());
        std::reverse(mineOpen.begin(), mineOpen.end());
        std::reverse(all.begin(), all.end());

        const OrderFilter user1{AccountId(1), OrderStatusFilter::All, std::nullopt};
        for (int page = 1; page <= 4; ++page) {
            const auto listed = listOrders(db, user1, pageOf(page, 100));
            QVERIFY2(listed, qPrintable(describe(listed)));
            QCOMPARE(listed->total, std::int64_t(250));
            const std::size_t from = std::min<std::size_t>(250, std::size_t(page - 1) * 100);
            const std::size_t to = std::min<std::size_t>(250, std::size_t(page) * 100);
            QVERIFY(idsOf(listed->rows)
                    == std::vector<OrderId>(mine.begin() + std::ptrdiff_t(from), mine.begin() + std::ptrdiff_t(to)));
            for (std::size_t i = 1; i < listed->rows.size(); ++i) {
                const OrderRecord &newer = listed->rows[i - 1];
                const OrderRecord &older = listed->rows[i];
                QVERIFY(newer.createdAt > older.createdAt
                        || (newer.createdAt == older.createdAt && newer.id > older.id));
            }
        }

        const auto chunked = [&](const OrderFilter &filter, int chunkSize, std::vector<std::size_t> &sizes) {
            OrderExport cursor(filter, chunkSize);
            std::vector<OrderId> ids;
            while (!cursor.atEnd()) {
                const auto chunk = cursor.next(db);
                if (!chunk) {
                    qWarning("%s", qPrintable(chunk.error()));
                    return std::vector<OrderId>{};
                }
                sizes.push_back(chunk->size());
                const auto chunkIds = idsOf(*chunk);
                ids.insert(ids.end(), chunkIds.begin(), chunkIds.end());
            }
            return ids;
        };
        std::vector<std::size_t> sizes;
        QVERIFY(chunked(user1, 100, sizes) == mine); // 100 = 14 × 7 + 2: a boundary inside a group
        QCOMPARE(sizes, (std::vector<std::size_t>{100, 100, 50}));
        sizes.clear();
        QVERIFY(chunked(user1, 50, sizes) == mine); // an exact multiple: one last, empty chunk says so
        QCOMPARE(sizes, (std::vector<std::size_t>{50, 50, 50, 50, 50, 0}));
        sizes.clear();
        QVERIFY(chunked({AccountId(1), OrderStatusFilter::Open, std::nullopt}, 64, sizes) == mineOpen);
        QCOMPARE(sizes.front(), std::size_t(64));
        sizes.clear();
        QVERIFY(chunked({}, 33, sizes) == all);
        QVERIFY(*std::max_element(sizes.begin(), sizes.end()) <= 33);
        sizes.clear();
        QVERIFY(chunked({AccountId(2), OrderStatusFilter::Closed, std::nullopt}, 10, sizes).empty());
        QCOMPARE(sizes, std::vector<std::size_t>{0});

        // The consumer stops early (a client that went away): no further chunk is read.
        int calls = 0;
        const auto stopped = exportOrders(db, user1, 100, [&](const std::vector<OrderRecord> &) {
            ++calls;
            return false;
        });
        QVERIFY(stopped);
        QCOMPARE(*stopped, std::int64_t(100));
        QCOMPARE(calls, 1);
    }

    void fillsAndTrades_data() { test::TestDatabases::addDriverRows(); }
    void fillsAndTrades()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        auto connection = open(driver);
        QVERIFY(connection);
        QSqlDatabase &db = connection->database();
        Venue venue;
        // Trade 1: account 2 takes account 1's BTC offer. Trade 2: account 3 meets its own resting ETH bid
        // (stp none). Trade 3: account 1 sells into the rest of that bid.
        const OrderId a = venue.place(kT0 + 1 * kSecond, 1, "BTC-USD", Side::Sell, dec("100"), dec("1"));
        const OrderId b = venue.place(kT0 + 2 * kSecond, 2, "BTC-USD", Side::Buy, dec("100"), dec("0.4"));
        const OrderId c = venue.place(kT0 + 3 * kSecond, 3, "ETH-USD", Side::Buy, dec("50"), dec("1"));
        const OrderId d = venue.place(kT0 + 4 * kSecond, 3, "ETH-USD", Side::Sell, dec("50"), dec("0.5"), "",
                                      SelfTradePrevention::None);
        const OrderId e = venue.place(kT0 + 5 * kSecond, 1, "ETH-USD", Side::Sell, dec("50"), dec("0.5"));
        QVERIFY(venue.commit(*connection));

        const auto fills = [&](AccountId user, std::optional<InstrumentId> instrument, PageRequest page = {}) {
            auto result = listFills(db, user, instrument, page);
            if (!result)
                qFatal("%s", qPrintable(result.error()));
            return *result;
        };
        const Page<FillRecord> first = fills(1, std::nullopt);
        QCOMPARE(first.total, std::int64_t(2));
        QCOMPARE(fillIdsOf(first.rows), (std::vector<std::pair<TradeId, OrderId>>{{3, e}, {1, a}}));
        QCOMPARE(first.rows[0].liquidity, Liquidity::Taker);
        QCOMPARE(first.rows[0].side, Side::Sell);
        QCOMPARE(first.rows[0].instrument, kEth);
        QCOMPARE(first.rows[0].price, dec("50"));
        QCOMPARE(first.rows[0].quantity, dec("0.5"));
        QCOMPARE(first.rows[0].time, kT0 + 5 * kSecond);
        QCOMPARE(first.rows[1].liquidity, Liquidity::Maker);
        QCOMPARE(first.rows[1].side, Side::Sell);
        QCOMPARE(first.rows[1].quantity, dec("0.4"));
        QCOMPARE(liquidityName(first.rows[1].liquidity), QLatin1StringView("maker"));

        const Page<FillRecord> btcOnly = fills(1, kBtc);
        QCOMPARE(btcOnly.total, std::int64_t(1));
        QCOMPARE(fillIdsOf(btcOnly.rows), (std::vector<std::pair<TradeId, OrderId>>{{1, a}}));

        const Page<FillRecord> second = fills(2, std::nullopt);
        QCOMPARE(fillIdsOf(second.rows), (std::vector<std::pair<TradeId, OrderId>>{{1, b}}));
        QCOMPARE(second.rows[0].side, Side::Buy);
        QCOMPARE(second.rows[0].liquidity, Liquidity::Taker);

        // Both sides of the self-trade are fills of account 3, the taker's first.
        const Page<FillRecord> third = fills(3, std::nullopt);
        QCOMPARE(third.total, std::int64_t(3));
        QCOMPARE(fillIdsOf(third.rows), (std::vector<std::pair<TradeId, OrderId>>{{3, c}, {2, d}, {2, c}}));
        QCOMPARE(third.rows[1].side, Side::Sell);
        QCOMPARE(third.rows[1].liquidity, Liquidity::Taker);
        QCOMPARE(third.rows[2].side, Side::Buy);
        QCOMPARE(third.rows[2].liquidity, Liquidity::Maker);
        for (const std::int64_t page : {1, 2, 3}) {
            const Page<FillRecord> one = fills(3, std::nullopt, pageOf(page, 1));
            QCOMPARE(one.total, std::int64_t(3));
            const auto expected = fillIdsOf(third.rows)[static_cast<std::size_t>(page - 1)];
            QCOMPARE(fillIdsOf(one.rows), (std::vector<std::pair<TradeId, OrderId>>{expected}));
        }
        const Page<FillRecord> beyond = fills(3, std::nullopt, pageOf(4, 1));
        QVERIFY(beyond.rows.empty());
        QCOMPARE(beyond.total, std::int64_t(3));
        QVERIFY(fills(3, kBtc).rows.empty());
        QCOMPARE(fills(9, std::nullopt).total, std::int64_t(0));

        const auto eth = listTrades(db, kEth, {});
        QVERIFY2(eth, qPrintable(describe(eth)));
        QCOMPARE(eth->total, std::int64_t(2));
        QCOMPARE(eth->rows.size(), std::size_t(2));
        QCOMPARE(eth->rows[0].id, TradeId(3));
        QCOMPARE(eth->rows[0].takerSide, Side::Sell);
        QCOMPARE(eth->rows[1].id, TradeId(2));
        QCOMPARE(eth->rows[1].price, dec("50"));
        QVERIFY(eth->rows[0].seq > eth->rows[1].seq);
        const auto btc = listTrades(db, kBtc, pageOf(2, 1));
        QVERIFY(btc);
        QVERIFY(btc->rows.empty());
        QCOMPARE(btc->total, std::int64_t(1));
        QCOMPARE(listTrades(db, 7, {})->total, std::int64_t(0));
        // Every instrument's trades, newest first.
        const auto all = listTrades(db, std::nullopt, {});
        QVERIFY2(all, qPrintable(describe(all)));
        QCOMPARE(all->total, std::int64_t(3));
        QCOMPARE(all->rows.size(), std::size_t(3));
        QCOMPARE(all->rows[0].id, TradeId(3));
        QCOMPARE(all->rows[2].id, TradeId(1));
        QCOMPARE(all->rows[2].instrument, kBtc);
    }

    void candles_data() { test::TestDatabases::addDriverRows(); }
    void candles()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        auto connection = open(driver);
        QVERIFY(connection);
        QSqlDatabase &db = connection->database();
        Venue venue;
        // One trade in each of the first five minutes, a second (lower) one in minute 2.
        const char *prices[] = {"100", "101", "102", "103", "104"};
        for (int minute = 0; minute < 5; ++minute) {
            venue.trade(kT0 + minute * kMinute + 5 * kSecond, "BTC-USD", prices[minute], "1");
            if (minute == 2)
                venue.trade(kT0 + minute * kMinute + 50 * kSecond, "BTC-USD", "99", "0.5");
        }
        QVERIFY(venue.commit(*connection));

        const auto latest = latestCandles(db, kBtc, 60, 3);
        QVERIFY2(latest, qPrintable(describe(latest)));
        QCOMPARE(latest->size(), std::size_t(3));
        QCOMPARE(latest->at(0).start, kT0 + 2 * kMinute); // oldest first
        QCOMPARE(latest->at(1).start, kT0 + 3 * kMinute);
        QCOMPARE(latest->at(2).start, kT0 + 4 * kMinute);
        const CandleRecord &two = latest->at(0);
        QCOMPARE(two.open, dec("102"));
        QCOMPARE(two.high, dec("102"));
        QCOMPARE(two.low, dec("99"));
        QCOMPARE(two.close, dec("99"));
        QCOMPARE(two.volume, dec("1.5"));
        QCOMPARE(two.trades, std::int64_t(2));
        QCOMPARE(latest->at(2).close, dec("104"));

        QCOMPARE(latestCandles(db, kBtc, 60, 5000)->size(), std::size_t(5)); // limit clamped, all there are
        const auto one = latestCandles(db, kBtc, 60, 0);                     // clamped to 1
        QVERIFY(one);
        QCOMPARE(one->size(), std::size_t(1));
        QCOMPARE(one->front().start, kT0 + 4 * kMinute);
        const auto fiveMinutes = latestCandles(db, kBtc, 300, kDefaultCandleLimit);
        QVERIFY(fiveMinutes);
        QCOMPARE(fiveMinutes->size(), std::size_t(1));
        QCOMPARE(fiveMinutes->front().start, kT0);
        QCOMPARE(fiveMinutes->front().open, dec("100"));
        QCOMPARE(fiveMinutes->front().high, dec("104"));
        QCOMPARE(fiveMinutes->front().low, dec("99"));
        QCOMPARE(fiveMinutes->front().close, dec("104"));
        QCOMPARE(fiveMinutes->front().volume, dec("5.5"));
        QCOMPARE(fiveMinutes->front().trades, std::int64_t(6));
        QCOMPARE(latestCandles(db, kBtc, 86400, 10)->size(), std::size_t(1));
        QVERIFY(latestCandles(db, kEth, 60, 10)->empty());
        const auto odd = latestCandles(db, kBtc, 120, 10);
        QVERIFY(!odd);
        QVERIFY2(odd.error().contains(u"120"), qPrintable(odd.error()));
    }

    // The 24 h window starts at now - 24 h exactly, here in the middle of a minute: a trade 1 ns before
    // it is out although its minute's candle holds it, a trade at that instant is in (and opens).
    void ticker_data() { test::TestDatabases::addDriverRows(); }
    void ticker()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        auto connection = open(driver);
        QVERIFY(connection);
        QSqlDatabase &db = connection->database();
        Venue venue;
        const TimeNs now = kT0 + kDay + 30 * kSecond + 123;
        const TimeNs since = now - kDay;
        venue.trade(since - 1, "BTC-USD", "90", "1");           // out
        venue.trade(since, "BTC-USD", "95", "1");               // the open
        venue.trade(kT0 + 45 * kSecond, "BTC-USD", "120", "2"); // the high, in the window's first minute
        venue.trade(kT0 + 2 * kHour, "BTC-USD", "80", "0.5");   // the low, in whole minutes
        venue.trade(now, "BTC-USD", "100", "0.25");             // the last
        QVERIFY(venue.commit(*connection));

        const auto figures = ticker24h(db, kBtc, now);
        QVERIFY2(figures, qPrintable(describe(figures)));
        QCOMPARE(figures->lastPrice, std::optional<Decimal>(dec("100")));
        QCOMPARE(figures->lastTime, now);
        QCOMPARE(figures->open, std::optional<Decimal>(dec("95")));
        QCOMPARE(figures->high, std::optional<Decimal>(dec("120")));
        QCOMPARE(figures->low, std::optional<Decimal>(dec("80")));
        QCOMPARE(figures->volume, dec("3.75"));
        QCOMPARE(figures->trades, std::int64_t(4));

        // One nanosecond later the open drops out; a window starting on a whole minute needs no trades.
        const auto later = ticker24h(db, kBtc, now + 1);
        QVERIFY(later);
        QCOMPARE(later->open, std::optional<Decimal>(dec("120")));
        QCOMPARE(later->volume, dec("2.75"));
        QCOMPARE(later->trades, std::int64_t(3));
        const auto aligned = ticker24h(db, kBtc, kT0 + 2 * kHour + kDay);
        QVERIFY(aligned);
        QCOMPARE(aligned->open, std::optional<Decimal>(dec("80")));
        QCOMPARE(aligned->high, std::optional<Decimal>(dec("100")));
        QCOMPARE(aligned->low, std::optional<Decimal>(dec("80")));
        QCOMPARE(aligned->volume, dec("0.75"));
        QCOMPARE(aligned->trades, std::int64_t(2));

        // A trade stamped after the caller's now still counts: the engine's clock may be ahead.
        const auto behind = ticker24h(db, kBtc, now - kSecond);
        QVERIFY(behind);
        QCOMPARE(behind->lastPrice, std::optional<Decimal>(dec("100")));
        QCOMPARE(behind->trades, std::int64_t(5));

        // A quiet day: the last price stays, the window is empty.
        const auto quiet = ticker24h(db, kBtc, now + kDay + kHour);
        QVERIFY(quiet);
        QCOMPARE(quiet->lastPrice, std::optional<Decimal>(dec("100")));
        QCOMPARE(quiet->open, std::nullopt);
        QCOMPARE(quiet->high, std::nullopt);
        QCOMPARE(quiet->low, std::nullopt);
        QCOMPARE(quiet->volume, Decimal());
        QCOMPARE(quiet->trades, std::int64_t(0));

        const auto never = ticker24h(db, kEth, now);
        QVERIFY(never);
        QCOMPARE(never->lastPrice, std::nullopt);
        QCOMPARE(never->open, std::nullopt);
        QCOMPARE(never->trades, std::int64_t(0));
    }

    void balancesAndInstruments_data() { test::TestDatabases::addDriverRows(); }
    void balancesAndInstruments()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        auto connection = open(driver);
        QVERIFY(connection);
        QSqlDatabase &db = connection->database();
        Venue venue;
        venue.place(kT0 + kSecond, 1, "BTC-USD", Side::Buy, dec("100"), dec("2"));
        QVERIFY(venue.apply(kT0 + 2 * kSecond, SetInstrumentStatus{Symbol("ETH-USD"), InstrumentStatus::Halted, false})
                    .ok());
        QVERIFY(venue.commit(*connection));

        const auto held = balances(db, 1);
        QVERIFY2(held, qPrintable(describe(held)));
        QCOMPARE(held->size(), std::size_t(3));
        QCOMPARE(held->at(0).asset, AssetId(0));
        QCOMPARE(held->at(0).assetCode, QStringLiteral("BTC"));
        QCOMPARE(held->at(0).available, dec("1000"));
        QCOMPARE(held->at(0).reserved, Decimal());
        QCOMPARE(held->at(1).assetCode, QStringLiteral("USD"));
        QCOMPARE(held->at(1).available, dec("9999800"));
        QCOMPARE(held->at(1).reserved, dec("200"));
        QCOMPARE(held->at(1).total(), dec("10000000"));
        QCOMPARE(held->at(2).assetCode, QStringLiteral("ETH"));
        QVERIFY(balances(db, 42)->empty());

        const auto listed = instruments(db);
        QVERIFY2(listed, qPrintable(describe(listed)));
        QCOMPARE(listed->size(), std::size_t(2));
        const InstrumentRecord &btc = listed->at(0);
        QCOMPARE(btc.id, kBtc);
        QCOMPARE(btc.symbol, QStringLiteral("BTC-USD"));
        QCOMPARE(btc.base, QStringLiteral("BTC"));
        QCOMPARE(btc.quote, QStringLiteral("USD"));
        QCOMPARE(btc.baseAsset, AssetId(0));
        QCOMPARE(btc.quoteAsset, AssetId(1));
        QCOMPARE(btc.tickSize, dec("0.01"));
        QCOMPARE(btc.lotSize, dec("0.001"));
        QCOMPARE(btc.minQuantity, dec("0.001"));
        QCOMPARE(btc.status, InstrumentStatus::Trading);
        QCOMPARE(btc.createdAt, kT0);
        const InstrumentRecord &eth = listed->at(1);
        QCOMPARE(eth.base, QStringLiteral("ETH"));
        QCOMPARE(eth.baseAsset, AssetId(2));
        QCOMPARE(eth.status, InstrumentStatus::Halted);
        QCOMPARE(eth.updatedAt, kT0 + 2 * kSecond);
    }

    // The start-up reads: every user's open orders (new and partly filled, never closed ones), by id, in full; every
    // user's balance rows, by user and asset, with their codes.
    void openOrdersAndAllBalances_data() { test::TestDatabases::addDriverRows(); }
    void openOrdersAndAllBalances()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        auto connection = open(driver);
        QVERIFY(connection);
        QSqlDatabase &db = connection->database();
        const auto none = openOrders(db);
        QVERIFY2(none, qPrintable(describe(none)));
        QVERIFY(none->empty());
        QVERIFY(allBalances(db)->empty());

        Venue venue;
        const OrderId resting = venue.place(kT0 + kSecond, 2, "ETH-USD", Side::Sell, dec("60"), dec("3"), "keep-1");
        const OrderId partly = venue.place(kT0 + 2 * kSecond, 1, "BTC-USD", Side::Sell, dec("100"), dec("2"));
        const OrderId filled = venue.place(kT0 + 3 * kSecond, 3, "BTC-USD", Side::Buy, dec("100"), dec("0.5"));
        const OrderId cancelled = venue.place(kT0 + 4 * kSecond, 3, "BTC-USD", Side::Buy, dec("90"), dec("1"));
        venue.cancel(kT0 + 5 * kSecond, 3, cancelled);
        const OrderId market = venue.place(kT0 + 6 * kSecond, 1, "ETH-USD", Side::Sell, std::nullopt, dec("1"));
        const OrderId amended = venue.place(kT0 + 7 * kSecond, 1, "BTC-USD", Side::Buy, dec("50"), dec("1"));
        QVERIFY(venue.apply(kT0 + 8 * kSecond, AmendOrder{1, amended, dec("51"), dec("2")}).ok());
        QVERIFY(venue.commit(*connection));

        const auto open = openOrders(db);
        QVERIFY2(open, qPrintable(describe(open)));
        QCOMPARE(idsOf(*open), (std::vector<OrderId>{resting, partly, amended}));
        const OrderRecord &first = open->at(0);
        QCOMPARE(first.user, AccountId(2));
        QCOMPARE(first.instrument, kEth);
        QCOMPARE(first.clientOrderId, QStringLiteral("keep-1"));
        QCOMPARE(first.side, Side::Sell);
        QCOMPARE(first.status, OrderStatus::New);
        QCOMPARE(first.quantity, dec("3"));
        QCOMPARE(first.createdAt, kT0 + kSecond);
        const OrderRecord &second = open->at(1);
        QCOMPARE(second.status, OrderStatus::PartiallyFilled);
        QCOMPARE(second.filledQuantity, dec("0.5"));
        QCOMPARE(second.filledNotional, dec("50"));
        QCOMPARE(second.updatedAt, kT0 + 3 * kSecond);
        const OrderRecord &third = open->at(2);
        QCOMPARE(third.price, std::optional<Decimal>(dec("51")));
        QCOMPARE(third.quantity, dec("2"));
        QCOMPARE(third.updatedAt, kT0 + 8 * kSecond);
        for (const OrderRecord &order : *open)
            QVERIFY(sameOrder(order, findOrder(db, order.id)->value()));
        for (const OrderId closed : {filled, cancelled, market})
            QVERIFY(!findOrder(db, closed)->value().isOpen());

        const auto everyBalance = allBalances(db);
        QVERIFY2(everyBalance, qPrintable(describe(everyBalance)));
        QStringList rows;
        for (const auto &[user, balance] : *everyBalance) {
            rows << QStringLiteral("%1 %2 %3 %4/%5")
                        .arg(user)
                        .arg(balance.asset)
                        .arg(balance.assetCode, QString::fromStdString(balance.available.toString()),
                             QString::fromStdString(balance.reserved.toString()));
        }
        // Account 1 sold 0.5 BTC for 50 USD and reserves 1.5 BTC for the rest of its offer and 102 USD for its
        // bid (its market sell met no bid); account 2 reserves 3 ETH; account 3 bought 0.5 BTC for 50 USD.
        QCOMPARE(rows, (QStringList{"1 0 BTC 998/1.5", "1 1 USD 9999948/102", "1 2 ETH 10000/0", "2 0 BTC 1000/0",
                                    "2 1 USD 10000000/0", "2 2 ETH 9997/3", "3 0 BTC 1000.5/0", "3 1 USD 9999950/0",
                                    "3 2 ETH 10000/0"}));
    }

    void usersAndAudit_data() { test::TestDatabases::addDriverRows(); }
    void usersAndAudit()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        auto connection = open(driver);
        QVERIFY(connection);
        QSqlDatabase &db = connection->database();
        insertUsersAndAudit(*connection);

        const auto firstPage = listUsers(db, pageOf(1, 2));
        QVERIFY2(firstPage, qPrintable(describe(firstPage)));
        QCOMPARE(firstPage->total, std::int64_t(5));
        QCOMPARE(firstPage->rows.size(), std::size_t(2));
        QCOMPARE(firstPage->rows[0].id, AccountId(5)); // newest first
        QCOMPARE(firstPage->rows[0].username, QStringLiteral("user5"));
        QCOMPARE(firstPage->rows[0].role, QStringLiteral("viewer"));
        QCOMPARE(firstPage->rows[0].active, false);
        QCOMPARE(firstPage->rows[0].rateLimitTier, QStringLiteral("pro"));
        QCOMPARE(firstPage->rows[0].createdAt, kT0 + 5 * kSecond);
        QCOMPARE(firstPage->rows[1].id, AccountId(4));
        QCOMPARE(firstPage->rows[1].active, true);
        const auto lastPage = listUsers(db, pageOf(3, 2));
        QVERIFY(lastPage);
        QCOMPARE(lastPage->rows.size(), std::size_t(1));
        QCOMPARE(lastPage->rows[0].id, AccountId(1));
        QCOMPARE(lastPage->rows[0].role, QStringLiteral("admin"));
        QVERIFY(listUsers(db, pageOf(4, 2))->rows.empty());
        QCOMPARE(listUsers(db, pageOf(4, 2))->total, std::int64_t(5));

        // at desc, then id desc: the rows were inserted out of time order, with ties.
        std::int64_t total = -1;
        const auto audit = allPages<AuditRecord>([&](PageRequest page) { return listAudit(db, page); }, 5, total);
        QVERIFY(audit);
        QCOMPARE(total, std::int64_t(12));
        std::vector<std::pair<TimeNs, std::int64_t>> expected;
        for (int i = 1; i <= 12; ++i)
            expected.emplace_back(auditTime(i), i);
        std::sort(expected.rbegin(), expected.rend());
        std::vector<std::pair<TimeNs, std::int64_t>> seen;
        for (const AuditRecord &record : *audit)
            seen.emplace_back(record.at, record.id);
        QCOMPARE(seen, expected);
        const AuditRecord &newest = audit->front();
        QCOMPARE(newest.actor, QStringLiteral("alice"));
        QCOMPARE(newest.action, QStringLiteral("action%1").arg(newest.id));
        QCOMPARE(newest.details, QStringLiteral("{\"n\":%1}").arg(newest.id));
        const auto withoutTarget = std::find_if(audit->begin(), audit->end(),
                                                [](const AuditRecord &r) { return r.id == 3; });
        QVERIFY(withoutTarget != audit->end());
        QVERIFY(withoutTarget->target.isEmpty());
        QVERIFY(withoutTarget->requestId.isEmpty());
        const auto withTarget = std::find_if(audit->begin(), audit->end(),
                                             [](const AuditRecord &r) { return r.id == 4; });
        QCOMPARE(withTarget->target, QStringLiteral("user:4"));
        QCOMPARE(withTarget->requestId, QStringLiteral("req-4"));
    }

    // A page and its total come from one snapshot: a row committed by another connection between the
    // page's statement and the count's is in neither (the observer commits it right before the count).
    void totalIsFromThePagesSnapshot_data() { test::TestDatabases::addDriverRows(); }
    void totalIsFromThePagesSnapshot()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        const auto url = m_databases->freshMigrated(driver);
        QVERIFY2(url.hasValue(), url.hasValue() ? "" : qPrintable(url.error()));
        auto reader = ConnectionFactory(*url).open(u"reader");
        auto writer = ConnectionFactory(*url).open(u"writer");
        QVERIFY(reader.hasValue() && writer.hasValue());
        insertUsersAndAudit(*reader);

        int inserted = 0;
        setStatementObserver([&](const QString &statement, const QVariantList &) {
            if (!statement.startsWith(QLatin1String("SELECT COUNT(*) FROM audit_log")))
                return;
            const auto error = writer->execute(QStringLiteral(
                "INSERT INTO audit_log (at_ns, actor, action) VALUES (9000000000000000000, 'bob', 'between')"));
            if (error)
                qWarning("%s", qPrintable(*error));
            else
                ++inserted;
        });
        const auto page = listAudit(reader->database(), pageOf(1, 50));
        setStatementObserver({});
        QVERIFY2(page, qPrintable(describe(page)));
        QCOMPARE(inserted, 1);
        QCOMPARE(page->rows.size(), std::size_t(12));
        QCOMPARE(page->total, std::int64_t(12));
        // The next listing sees the new row, in both.
        const auto after = listAudit(reader->database(), pageOf(1, 50));
        QVERIFY(after);
        QCOMPARE(after->rows.size(), std::size_t(13));
        QCOMPARE(after->total, std::int64_t(13));
        QCOMPARE(after->rows.front().action, QStringLiteral("between"));
    }

    // Every statement of every repository call rides an index: on SQLite, EXPLAIN QUERY PLAN shows no
    // scan of a whole table (but where the call lists a whole small table, or every user's orders, in key
    // order, stopping at the page) and no sort of a whole result (but where noted); on PostgreSQL, whose plans depend on its statistics, each statement
    // is explained with its values, which at least proves the dialect.
    void queriesUseIndexes_data() { test::TestDatabases::addDriverRows(); }
    void queriesUseIndexes()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        auto connection = open(driver);
        QVERIFY(connection);
        QSqlDatabase &db = connection->database();
        Venue venue;
        const OrderId order = venue.place(kT0 + kSecond, 1, "BTC-USD", Side::Buy, dec("100"), dec("1"), "x-1");
        venue.trade(kT0 + 2 * kSecond, "BTC-USD", "101", "1");
        QVERIFY(venue.commit(*connection));
        insertUsersAndAudit(*connection);

        struct Call
        {
            const char *name;
            std::function<bool()> run;
            QStringList indexes;      // each must appear in the call's plans
            QStringList wholeTables;  // tables (or subqueries) it may scan whole
            bool sorts = false;       // may sort its whole result
            QStringList avoided = {}; // indexes that would read far more rows than the call needs
        };
        const auto ok = [](const auto &result) {
            if (!result)
                qWarning("%s", qPrintable(result.error()));
            return result.hasValue();
        };
        const auto orders = [&](std::optional<AccountId> user, OrderStatusFilter status,
                                std::optional<InstrumentId> instrument) {
            return [&, user, status, instrument] { return ok(listOrders(db, {user, status, instrument}, {})); };
        };
        // The second chunk of an export: the statement with the keyset condition.
        const auto secondChunk = [&](std::optional<AccountId> user, OrderStatusFilter status,
                                     std::optional<InstrumentId> instrument = std::nullopt) {
            return [&, user, status, instrument] {
                OrderExport cursor({user, status, instrument}, 1);
                return ok(cursor.next(db)) && ok(cursor.next(db));
            };
        };
        // The open orders alone, never the user's history, for the rows and for the count.
        const auto openOnly = [](const char *name, std::function<bool()> run) {
            Call call{name, std::move(run), {"orders_user_open_id"}, {}};
            call.avoided = {"orders_user_id", "orders_user_instrument_id"};
            return call;
        };
        const std::optional<AccountId> one = AccountId(1);
        const std::optional<AccountId> anyone;
        const std::vector<Call> calls = {
            {"orders of a user", orders(one, OrderStatusFilter::All, {}), {"orders_user_id"}, {}},
            openOnly("open orders of a user", orders(one, OrderStatusFilter::Open, {})),
            // Counted as all of them less the open ones, from the indexes alone.
            {"closed orders of a user",
             orders(one, OrderStatusFilter::Closed, {}),
             {"orders_user_id", "orders_user_open_id"},
             {}},
            {"orders of a user on one instrument",
             orders(one, OrderStatusFilter::All, kBtc),
             {"orders_user_instrument_id"},
             {}},
            openOnly("open orders of a user on one instrument", orders(one, OrderStatusFilter::Open, kBtc)),
            {"closed orders of a user on one instrument",
             orders(one, OrderStatusFilter::Closed, kBtc),
             {"orders_user_instrument_id", "orders_user_open_id"},
             {}},
            // Admins only: the primary key backwards, until the page is full.
            {"every user's orders", orders(anyone, OrderStatusFilter::All, {}), {}, {"o"}},
            {"every user's open orders", orders(anyone, OrderStatusFilter::Open, {}), {}, {"o"}},
            {"every user's orders on one instrument", orders(anyone, OrderStatusFilter::All, kBtc), {}, {"o"}},
            {"export of a user's orders", secondChunk(one, OrderStatusFilter::All), {"orders_user_id"}, {}},
            openOnly("export of a user's open orders", secondChunk(one, OrderStatusFilter::Open)),
            {"export of a user's orders on one instrument",
             secondChunk(one, OrderStatusFilter::All, kBtc),
             {"orders_user_instrument_id"},
             {}},
            openOnly("export of a user's open orders on one instrument",
                     secondChunk(one, OrderStatusFilter::Open, kBtc)),
            // Its first chunk reads the primary key backwards; the next ones from below the last id.
            {"export of every user's orders", secondChunk(anyone, OrderStatusFilter::All), {}, {"o"}},
            {"an order", [&] { return ok(findOrder(db, order)); }, {}, {}},
            {"an order by client order id",
             [&] { return ok(findOrderByClientId(db, 1, u"x-1")); },
             {"orders_user_client_order_id"},
             {}},
            {"trades", [&] { return ok(listTrades(db, kBtc, {})); }, {"trades_instrument_time_id"}, {}},
            {"every instrument's trades", [&] { return ok(listTrades(db, std::nullopt, {})); }, {}, {"trades"}},
            {"fills",
             [&] { return ok(listFills(db, 1, std::nullopt, {})); },
             {"trades_maker_user_id", "trades_taker_user_id"},
             {}},
            {"fills on one instrument",
             [&] { return ok(listFills(db, 1, kBtc, {})); },
             {"trades_maker_user_id", "trades_taker_user_id"},
             {},
             false,
             {"trades_instrument_time_id"}},
            {"candles", [&] { return ok(latestCandles(db, kBtc, 60, 100)); }, {}, {}},
            {"ticker", [&] { return ok(ticker24h(db, kBtc, kT0 + kDay)); }, {"trades_instrument_time_id"}, {"e", "m"}},
            {"balances", [&] { return ok(balances(db, 1)); }, {}, {}},
            // Start-up: the open orders alone through their partial index, then sorted by id; the balances whole,
            // in key order.
            {"every user's open orders at start-up",
             [&] { return ok(openOrders(db)); },
             {"orders_user_open_id"},
             {},
             true,
             {"orders_user_id", "orders_user_instrument_id"}},
            {"every balance at start-up", [&] { return ok(allBalances(db)); }, {}, {"b"}},
            {"instruments", [&] { return ok(instruments(db)); }, {}, {"i"}},
            {"users", [&] { return ok(listUsers(db, {})); }, {}, {"users"}},
            {"audit log", [&] { return ok(listAudit(db, {})); }, {"audit_log_at"}, {}},
        };

        for (const Call &call : calls) {
            std::vector<std::pair<QString, QVariantList>> statements;
            setStatementObserver([&](const QString &statement, const QVariantList &values) {
                statements.emplace_back(statement, values);
            });
            const bool ran = call.run();
            setStatementObserver({});
            QVERIFY2(ran, call.name);
            QVERIFY2(!statements.empty(), call.name);
            QStringList plans;
            for (const auto &[statement, values] : statements) {
                QSqlQuery explain(db);
                bool explained = false;
                if (driver == DatabaseUrl::Driver::Sqlite) {
                    explained = explain.prepare(QStringLiteral("EXPLAIN QUERY PLAN ") + statement);
                    for (const QVariant &value : values)
                        explain.addBindValue(value);
                    explained = explained && explain.exec();
                } else {
                    // PostgreSQL cannot PREPARE an EXPLAIN: the values go in as literals (the repositories
                    // bind only integers and plain text).
                    QString inlined = statement;
                    for (const QVariant &value : values) {
                        const qsizetype at = inlined.indexOf(u'?');
                        QVERIFY(at >= 0);
                        const QString literal = value.typeId() == QMetaType::QString
                                                    ? u'\'' + value.toString() + u'\''
                                                    : QString::number(value.toLongLong());
                        inlined.replace(at, 1, literal);
                    }
                    QVERIFY(!inlined.contains(u'?'));
                    explained = explain.exec(QStringLiteral("EXPLAIN ") + inlined);
                }
                QVERIFY2(explained, qPrintable(QStringLiteral("%1: %2").arg(QLatin1String(call.name),
                                                                            explain.lastError().text())));
                // SQLite: id, parent, notused, detail; PostgreSQL: one line of text per row.
                const int detail = driver == DatabaseUrl::Driver::Sqlite ? 3 : 0;
                while (explain.next())
                    plans.append(explain.value(detail).toString());
            }
            if (driver != DatabaseUrl::Driver::Sqlite)
                continue;
            const QString where = QStringLiteral("%1: %2").arg(QLatin1String(call.name),
                                                               plans.join(QStringLiteral(" | ")));
            for (const QString &line : plans) {
                if (line.startsWith(u"SCAN ") && !line.contains(u" USING ") && line != u"SCAN CONSTANT ROW")
                    QVERIFY2(call.wholeTables.contains(line.section(u' ', 1, 1)), qPrintable(where));
                if (line.contains(u"USE TEMP B-TREE FOR ORDER BY"))
                    QVERIFY2(call.sorts, qPrintable(where));
            }
            for (const QString &index : call.indexes) {
                const QRegularExpression named(QStringLiteral("\\b%1\\b").arg(index));
                QVERIFY2(plans.join(u'\n').contains(named), qPrintable(where));
            }
            for (const QString &index : call.avoided) {
                const QRegularExpression named(QStringLiteral("\\b%1\\b").arg(index));
                QVERIFY2(!plans.join(u'\n').contains(named), qPrintable(where));
            }
        }
    }

    // Several threads query through the pool while a JournalWriter commits a random history: every query
    // succeeds on a pool thread, the counts only grow, each worker keeps one connection, and the final
    // counts are the history's.
    void poolUnderConcurrency_data() { test::TestDatabases::addDriverRows(); }
    void poolUnderConcurrency()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        auto url = m_databases->freshMigrated(driver);
        QVERIFY2(url, qPrintable(describe(url)));
        const ConnectionFactory factory(*url);

        // The history, cut into the batches the engine thread would hand over.
        test::JournalHistory source(77);
        std::mt19937_64 random(77);
        const std::vector<JournalBatch> batches = source.batches(6'000, random, 50,
                                                                 test::JournalHistory::LastBatch::Whole);
        const Model model = Model::of(test::eventsOf(batches));

        QueryPool::Options options;
        options.threads = 3;
        options.maxQueued = 10'000;
        QueryPool pool(factory, options);
        pool.start();
        JournalWriter writer(factory);
        writer.start();

        std::mutex mutex;
        QStringList failures;              // guarded by mutex
        std::set<QThread *> workerThreads; // guarded by mutex
        std::set<QString> connectionNames; // guarded by mutex
        std::set<QThread *> callerThreads; // guarded by mutex
        std::atomic<int> queries{0};
        constexpr int kCallers = 4;
        constexpr int kQueriesPerCaller = 120;
        std::vector<std::unique_ptr<QThread>> callers;
        for (int c = 0; c < kCallers; ++c) {
            callers.emplace_back(QThread::create([&, c] {
                QThread *const me = QThread::currentThread();
                {
                    std::lock_guard lock(mutex);
                    callerThreads.insert(me);
                }
                std::int64_t seenTrades = 0;
                std::int64_t seenOrders = 0;
                const auto fail = [&](const QString &why) {
                    std::lock_guard lock(mutex);
                    failures.append(why);
                };
                // Runs `query` on the pool, noting where it ran and on which connection; its result.
                const auto run = [&](auto query) {
                    return pool
                        .submit([&, query](QSqlDatabase &db) {
                            {
                                std::lock_guard lock(mutex);
                                workerThreads.insert(QThread::currentThread());
                                connectionNames.insert(db.connectionName());
                            }
                            return query(db);
                        })
                        .result();
                };
                const auto succeeds = [&](const auto &result) {
                    if (!result)
                        fail(result.error().message);
                };
                // A listing whose total only grows while the journal commits.
                const auto grows = [&](const auto &result, std::int64_t &seen, const char *what) {
                    if (!result) {
                        fail(result.error().message);
                        return;
                    }
                    if (result->total < seen)
                        fail(QStringLiteral("the %1 count went down").arg(QLatin1String(what)));
                    seen = result->total;
                };
                for (int q = 0; q < kQueriesPerCaller; ++q) {
                    switch ((q + c) % 4) {
                    case 0:
                        grows(run([](QSqlDatabase &db) { return listTrades(db, 0, pageOf(1, 20)); }), seenTrades,
                              "trade");
                        break;
                    case 1: {
                        const AccountId user = 1 + static_cast<AccountId>(q % 8);
                        succeeds(run([user](QSqlDatabase &db) {
                            return listOrders(db, {user, OrderStatusFilter::Open, {}}, {});
                        }));
                        break;
                    }
                    case 2:
                        grows(run([](QSqlDatabase &db) { return listOrders(db, {}, pageOf(1, 5)); }), seenOrders,
                              "order");
                        break;
                    default:
                        succeeds(run([](QSqlDatabase &db) { return ticker24h(db, 0, 1'700'000'000 * kSecond + kDay); }));
                        break;
                    }
                    ++queries;
                }
            }));
            callers.back()->start();
        }

        // The engine thread's part, meanwhile: hand every batch to the writer.
        std::atomic<int> written{0};
        std::atomic<int> writeFailures{0};
        for (const JournalBatch &batch : batches) {
            writer.append(batch, [&](const Expected<JournalPosition, QString> &result, JournalBatch &&) {
                ++(result ? written : writeFailures);
            });
        }
        for (const auto &caller : callers)
            QVERIFY(caller->wait(120'000));
        writer.stop();
        QCOMPARE(writeFailures.load(), 0);
        QCOMPARE(written.load(), int(batches.size()));
        QCOMPARE(queries.load(), kCallers * kQueriesPerCaller);
        QVERIFY2(failures.isEmpty(), qPrintable(failures.join(QStringLiteral("; "))));

        // Only the pool's threads ran jobs, each on its own connection kept for every job.
        QVERIFY(workerThreads.size() <= 3);
        QVERIFY(!workerThreads.empty());
        QVERIFY(!workerThreads.count(QThread::currentThread()));
        for (QThread *caller : callerThreads)
            QVERIFY(!workerThreads.count(caller));
        QCOMPARE(connectionNames.size(), workerThreads.size());
        for (const QString &name : connectionNames)
            QVERIFY2(name.startsWith(QLatin1String("bourse.query.")), qPrintable(name));
        const QueryPool::Stats stats = pool.stats();
        QCOMPARE(stats.threads, 3);
        QCOMPARE(stats.completed, std::uint64_t(kCallers * kQueriesPerCaller));
        QCOMPARE(stats.failed, std::uint64_t(0));
        QCOMPARE(stats.refused, std::uint64_t(0));
        QCOMPARE(stats.queued, std::size_t(0));
        QCOMPARE(stats.connections, int(workerThreads.size()));

        // Everything committed is visible.
        const auto trades = await(pool.submit([](QSqlDatabase &db) { return listTrades(db, 0, {}); }));
        QVERIFY(trades && trades->hasValue());
        const auto expectedTrades = std::count_if(model.trades.begin(), model.trades.end(),
                                                  [](const TradeExecuted &trade) { return trade.instrument == 0; });
        QVERIFY(expectedTrades > 0);
        QCOMPARE((*trades)->total, std::int64_t(expectedTrades));
        const auto orders = await(pool.submit([](QSqlDatabase &db) { return listOrders(db, {}, {}); }));
        QVERIFY(orders && orders->hasValue());
        QCOMPARE((*orders)->total, std::int64_t(model.orders.size()));
        pool.stop();
        QCOMPARE(pool.stats().connections, 0);
    }

    // A full queue refuses at once; stop() fails what is still queued when its time is up, lets the
    // running job finish, and refuses everything after; or, given time, finishes what is queued.
    void poolBusyAndStop_data() { test::TestDatabases::addDriverRows(); }
    void poolBusyAndStop()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        auto url = m_databases->freshMigrated(driver);
        QVERIFY2(url, qPrintable(describe(url)));
        const ConnectionFactory factory(*url);
        const auto count = [](QSqlDatabase &db) { return listUsers(db, {}); };
        {
            QueryPool::Options options;
            options.threads = 1;
            options.maxQueued = 3;
            QueryPool pool(factory, options);
            pool.start();
            QSemaphore started;
            QSemaphore release;
            auto blocker = pool.submit([&](QSqlDatabase &db) {
                started.release();
                release.acquire();
                return listUsers(db, {});
            });
            QVERIFY(started.tryAcquire(1, 30'000)); // the only worker is busy now
            std::vector<QFuture<QueryResult<Page<UserRecord>>>> queued;
            for (int i = 0; i < 3; ++i)
                queued.push_back(pool.submit(count));
            auto refused = pool.submit(count);
            QVERIFY(refused.isFinished());
            QVERIFY(!refused.result().hasValue());
            QCOMPARE(refused.result().error().kind, QueryError::Kind::Busy);
            QVERIFY2(refused.result().error().message.contains(u"busy"), qPrintable(refused.result().error().message));
            QCOMPARE(pool.stats().queued, std::size_t(3));
            QCOMPARE(pool.stats().running, 1);
            for (const auto &future : queued)
                QVERIFY(!future.isFinished());

            // stop() with no time to spare: the queued jobs fail at once; it then waits for the running one,
            // which a helper lets go once they have failed.
            std::unique_ptr<QThread> helper(QThread::create([&] {
                for (auto &future : queued)
                    future.waitForFinished();
                release.release();
            }));
            helper->start();
            pool.stop(std::chrono::milliseconds(0));
            QVERIFY(helper->wait(30'000));
            for (const auto &future : queued) {
                QVERIFY(!future.result().hasValue());
                QCOMPARE(future.result().error().kind, QueryError::Kind::Stopped);
            }
            QVERIFY(blocker.isFinished());
            QVERIFY2(blocker.result().hasValue(), qPrintable(describe(blocker.result())));
            auto late = pool.submit(count);
            QVERIFY(late.isFinished());
            QCOMPARE(late.result().error().kind, QueryError::Kind::Stopped);
            QCOMPARE(pool.stats().refused, std::uint64_t(5));
        }
        {
            // Jobs queued before start(), then a stop() with time to finish them.
            QueryPool::Options options;
            options.threads = 2;
            options.maxQueued = 100;
            QueryPool pool(factory, options);
            std::vector<QFuture<QueryResult<Page<UserRecord>>>> queued;
            for (int i = 0; i < 40; ++i)
                queued.push_back(pool.submit(count));
            QVERIFY(!queued.front().isFinished());
            pool.start();
            pool.stop(std::chrono::seconds(30));
            for (const auto &future : queued) {
                QVERIFY(future.isFinished());
                QVERIFY2(future.result().hasValue(), qPrintable(describe(future.result())));
            }
            QCOMPARE(pool.stats().completed, std::uint64_t(40));
        }
        {
            // Never started: stop() fails what was queued rather than leave it waiting.
            QueryPool pool(factory);
            auto orphan = pool.submit(count);
            pool.stop();
            QVERIFY(orphan.isFinished());
            QCOMPARE(orphan.result().error().kind, QueryError::Kind::Stopped);
        }
        {
            // A job's own error is Failed, and the connection stays.
            QueryPool::Options options;
            options.threads = 1;
            QueryPool pool(factory, options);
            pool.start();
            const auto failed = await(pool.submit([](QSqlDatabase &db) { return latestCandles(db, 0, 7, 10); }));
            QVERIFY(failed && !failed->hasValue());
            QCOMPARE(failed->error().kind, QueryError::Kind::Failed);
            const auto fine = await(pool.submit(count));
            QVERIFY(fine && fine->hasValue());
            QCOMPARE(pool.stats().connections, 1);
        }
    }

    // The database goes away under a pool with open connections (PostgreSQL: the server is killed; SQLite:
    // its directory is not there): queries fail with Unavailable, promptly; once it is back, they work
    // again without restarting anything.
    void poolSurvivesTheDatabaseGoingAway_data() { test::TestDatabases::addDriverRows(); }
    void poolSurvivesTheDatabaseGoingAway()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        QueryPool::Options options;
        options.threads = 2;
        options.reconnectPause = std::chrono::milliseconds(50);
        const auto count = [](QSqlDatabase &db) { return listOrders(db, {}, {}); };

        if (driver == DatabaseUrl::Driver::PostgreSql) {
            auto url = m_databases->freshMigrated(driver);
            QVERIFY2(url, qPrintable(describe(url)));
            test::PostgresCluster &cluster = m_databases->cluster();
            const auto restart = qScopeGuard([&] {
                if (!cluster.isRunning())
                    cluster.start();
            });
            QueryPool pool(ConnectionFactory(*url), options);
            pool.start();
            // Both workers connected.
            std::vector<QFuture<QueryResult<Page<OrderRecord>>>> warm;
            for (int i = 0; i < 20; ++i)
                warm.push_back(pool.submit(count));
            for (auto &future : warm) {
                const auto result = await(future);
                QVERIFY(result && result->hasValue());
            }

            QCOMPARE(cluster.stopImmediate(), std::nullopt);
            for (int i = 0; i < 6; ++i) {
                const auto result = await(pool.submit(count));
                QVERIFY2(result, "a query hung while the database was gone");
                QVERIFY(!result->hasValue());
                QVERIFY2(result->error().kind == QueryError::Kind::Unavailable,
                         qPrintable(QStringLiteral("%1: %2").arg(QLatin1String(kindName(result->error().kind)),
                                                                 result->error().message)));
                QVERIFY(!result->error().message.contains(cluster.password()));
            }
            QVERIFY(pool.stats().connections < 2);

            QCOMPARE(cluster.start(), std::nullopt);
            QVERIFY(workAgain(pool));
            return;
        }

        // SQLite: the pool's first connection finds no directory; then the database appears there.
        const QString directory = m_databases->directory() + QStringLiteral("/appears-later");
        const DatabaseUrl url = DatabaseUrl::sqlite(directory + QStringLiteral("/bourse.db"));
        QueryPool pool(ConnectionFactory(url), options);
        pool.start();
        for (int i = 0; i < 4; ++i) {
            const auto result = await(pool.submit(count));
            QVERIFY(result && !result->hasValue());
            QCOMPARE(result->error().kind, QueryError::Kind::Unavailable);
            QVERIFY2(result->error().message.contains(u"does not exist"), qPrintable(result->error().message));
        }
        const auto migrated = m_databases->freshMigrated(driver);
        QVERIFY2(migrated, qPrintable(describe(migrated)));
        QVERIFY(QDir().mkpath(directory));
        QVERIFY(QFile::copy(migrated->path, url.path));
        QVERIFY(workAgain(pool));
    }

private:
    // Queries work again within a few attempts (each worker may first meet its dead connection), then keep
    // working.
    static bool workAgain(QueryPool &pool)
    {
        int successes = 0;
        for (int attempt = 0; attempt < 400 && successes < 10; ++attempt) {
            const auto result = await(pool.submit([](QSqlDatabase &db) { return listOrders(db, {}, {}); }));
            if (!result) {
                qWarning("a query hung");
                return false;
            }
            if (result->hasValue()) {
                ++successes;
            } else {
                if (successes > 0 && result->error().kind != QueryError::Kind::Unavailable)
                    qWarning("%s", qPrintable(result->error().message));
                successes = 0;
                QTest::qWait(20);
            }
        }
        return successes == 10;
    }

    std::optional<Connection> open(DatabaseUrl::Driver driver) { return m_databases->openFreshMigrated(driver); }

    // A seeded random history written in group commits of 1-8 batches of 1-100 commands; its events.
    static std::vector<Event> generate(Connection &connection, std::uint64_t seed, int commandCount)
    {
        test::JournalHistory source(seed);
        std::mt19937_64 random(seed ^ 0x9e37);
        std::vector<JournalBatch> group;
        JournalScratch scratch;
        bool failed = false;
        const auto writeInGroups = [&](const JournalBatch &batch) {
            if (failed)
                return;
            group.push_back(batch);
            if (group.size() >= 1 + random() % 8 || source.commandSeq() >= static_cast<Seq>(commandCount)) {
                const auto written = writeBatches(connection.database(), group, scratch);
                if (!written) {
                    qWarning("%s", qPrintable(written.error()));
                    failed = true;
                }
                group.clear();
            }
        };
        const auto batches = source.batches(static_cast<Seq>(commandCount), random, 100,
                                            test::JournalHistory::LastBatch::Whole, writeInGroups);
        return failed ? std::vector<Event>{} : test::eventsOf(batches);
    }

    static TimeNs auditTime(int id) { return kT0 + ((id * 5) % 12 / 2) * kSecond; } // ties, out of id order

    static void insertUsersAndAudit(Connection &connection)
    {
        QSqlQuery query(connection.database());
        const char *roles[] = {"admin", "trader", "trader", "trader", "viewer"};
        for (int i = 1; i <= 5; ++i) {
            query.prepare(QStringLiteral("INSERT INTO users (username, password_hash, role, active, rate_limit_tier, "
                                         "created_at_ns, updated_at_ns) VALUES (?, ?, ?, %1, ?, ?, ?)")
                              .arg(i == 5 ? QStringLiteral("FALSE") : QStringLiteral("TRUE")));
            query.addBindValue(QStringLiteral("user%1").arg(i));
            query.addBindValue(QStringLiteral("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"));
            query.addBindValue(QLatin1String(roles[i - 1]));
            query.addBindValue(i == 5 ? QStringLiteral("pro") : QStringLiteral("default"));
            query.addBindValue(qint64(kT0 + i * kSecond));
            query.addBindValue(qint64(kT0 + i * kSecond));
            if (!query.exec())
                qFatal("users: %s", qPrintable(query.lastError().text()));
        }
        for (int i = 1; i <= 12; ++i) {
            query.prepare(QStringLiteral("INSERT INTO audit_log (at_ns, actor, action, target, details, request_id) "
                                         "VALUES (?, ?, ?, ?, ?, ?)"));
            query.addBindValue(qint64(auditTime(i)));
            query.addBindValue(QStringLiteral("alice"));
            query.addBindValue(QStringLiteral("action%1").arg(i));
            query.addBindValue(i % 3 == 0 ? QVariant(QMetaType::fromType<QString>())
                                          : QVariant(QStringLiteral("user:%1").arg(i)));
            query.addBindValue(QStringLiteral("{\"n\":%1}").arg(i));
            query.addBindValue(i % 3 == 0 ? QVariant(QMetaType::fromType<QString>())
                                          : QVariant(QStringLiteral("req-%1").arg(i)));
            if (!query.exec())
                qFatal("audit_log: %s", qPrintable(query.lastError().text()));
        }
    }

    std::unique_ptr<test::TestDatabases> m_databases;
};

QTEST_GUILESS_MAIN(TestRepositories)
#include "tst_repositories.moc"
