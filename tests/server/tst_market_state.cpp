// MarketState, the server's replica of the books built from committed events: hand-made cases for every way
// an order enters, changes and leaves a book (with the exact deltas they give), and a seeded random stream
// run through the real Sequencer in random batches, the replica compared with the engine's books after
// every batch, the deltas replayed onto a copy of the previous books, book sequence numbers, re-delivered
// batches and fromEngine() in mid-run.
//   BOURSE_MARKET_SEED      the seed (printed at start; random when unset)
//   BOURSE_MARKET_COMMANDS  commands per row of the randomized test (default 40,000)
#include "command_generator.h"
#include "market_state.h"
#include "sequencer.h"

#include <QTest>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

using namespace bourse;
using bourse::server::BookDelta;
using bourse::server::LastTrade;
using bourse::server::LevelChange;
using bourse::server::MarketState;
using bourse::test::CommandGenerator;
using bourse::test::CommandMix;
using bourse::test::environmentNumber;

Q_DECLARE_METATYPE(std::vector<bourse::Command>)

namespace {

constexpr TimeNs kStart = 1'800'000'000'000'000'000;
constexpr std::size_t kAll = std::numeric_limits<std::size_t>::max();
constexpr std::size_t kMaxBatch = 64;
constexpr std::size_t kRecoverEvery = 7'919; // commands between two fromEngine() copies of the running engine

Decimal d(const char *text)
{
    const auto parsed = Decimal::parse(text);
    if (!parsed)
        qFatal("bad decimal: %s", text);
    return *parsed;
}

Command at(CommandBody body)
{
    return Command{kStart, std::move(body)};
}

Command limit(AccountId account, Side side, const char *price, const char *quantity, TimeInForce tif = TimeInForce::Gtc,
              SelfTradePrevention stp = SelfTradePrevention::ExpireTaker)
{
    PlaceOrder order;
    order.account = account;
    order.symbol = Symbol("BTC-USD");
    order.side = side;
    order.timeInForce = tif;
    order.stp = stp;
    order.price = d(price);
    order.quantity = d(quantity);
    return at(order);
}

Command market(AccountId account, Side side, const char *quantity)
{
    PlaceOrder order;
    order.account = account;
    order.symbol = Symbol("BTC-USD");
    order.side = side;
    order.type = OrderType::Market;
    order.quantity = d(quantity);
    return at(order);
}

Command amend(OrderId order, const char *price, const char *quantity)
{
    AmendOrder body;
    body.account = kAnyAccount;
    body.order = order;
    if (price)
        body.price = d(price);
    if (quantity)
        body.quantity = d(quantity);
    return at(body);
}

Command cancel(OrderId order)
{
    return at(CancelOrder{kAnyAccount, order});
}

// BTC-USD (id 0, tick 0.01, lot 0.001) and accounts 1-3 with 1,000,000 USD and 100 BTC each.
std::vector<Command> venue(std::vector<Command> more)
{
    std::vector<Command> commands{
        at(AddInstrument{Symbol("BTC-USD"), AssetCode("BTC"), AssetCode("USD"), d("0.01"), d("0.001"), d("0.001")})};
    for (AccountId account = 1; account <= 3; ++account) {
        commands.push_back(at(Deposit{account, AssetCode("USD"), d("1000000")}));
        commands.push_back(at(Deposit{account, AssetCode("BTC"), d("100")}));
    }
    commands.insert(commands.end(), more.begin(), more.end());
    return commands;
}

// Applies the commands to the engine as one batch and returns its events.
std::vector<Event> runBatch(Sequencer &engine, const std::vector<Command> &commands)
{
    std::vector<Event> events;
    for (const Command &command : commands)
        engine.apply(command, events);
    return events;
}

// --- text forms, so that a failure shows the whole book -------------------------------------------------

template<typename Level>
std::string levelsText(const std::vector<Level> &levels)
{
    std::string out;
    for (const Level &level : levels)
        out += ' ' + level.price.toString() + ':' + level.quantity.toString() + '/' + std::to_string(level.orders);
    return out;
}

QString bookText(const std::vector<LevelView> &bids, const std::vector<LevelView> &asks)
{
    return QString::fromStdString("bids" + levelsText(bids) + " | asks" + levelsText(asks));
}

QString bookText(const MarketState &state, InstrumentId id)
{
    return bookText(state.levels(id, Side::Buy, kAll), state.levels(id, Side::Sell, kAll));
}

QString bookText(const Sequencer &engine, InstrumentId id)
{
    return bookText(engine.levels(id, Side::Buy, kAll), engine.levels(id, Side::Sell, kAll));
}

QString deltaText(const std::vector<BookDelta> &deltas)
{
    QStringList out;
    for (const BookDelta &delta : deltas)
        out << QString::fromStdString('#' + std::to_string(delta.instrument) + '@' + std::to_string(delta.bookSeq)
                                      + " bids" + levelsText(delta.bids) + " | asks" + levelsText(delta.asks));
    return out.join(QStringLiteral("; "));
}

bool sameLevel(const LevelView &a, const LevelView &b)
{
    return a.price == b.price && a.quantity == b.quantity && a.orders == b.orders;
}

std::size_t sideIndex(Side side)
{
    return side == Side::Buy ? 0 : 1;
}

// A client's copy of one book side, kept only from snapshots and deltas.
using ClientSide = std::map<std::int64_t, LevelView>;

void applyChanges(ClientSide &side, const std::vector<LevelChange> &changes)
{
    for (const LevelChange &change : changes) {
        if (change.quantity.isZero())
            side.erase(change.price.raw());
        else
            side[change.price.raw()] = LevelView{change.price, change.quantity, change.orders};
    }
}

std::vector<LevelView> bestFirst(const ClientSide &side, Side which)
{
    std::vector<LevelView> out;
    for (const auto &entry : side)
        out.push_back(entry.second);
    if (which == Side::Buy)
        std::reverse(out.begin(), out.end());
    return out;
}

// Every level and instrument of the replica against the engine; empty when they agree.
QString differences(const MarketState &state, const Sequencer &engine)
{
    if (state.instrumentCount() != engine.instrumentCount())
        return QStringLiteral("%1 instruments, the engine has %2")
            .arg(state.instrumentCount())
            .arg(engine.instrumentCount());
    if (state.openOrderCount() != engine.openOrderCount())
        return QStringLiteral("%1 open orders, the engine has %2")
            .arg(state.openOrderCount())
            .arg(engine.openOrderCount());
    for (InstrumentId id = 0; id < engine.instrumentCount(); ++id) {
        const std::optional<InstrumentView> view = engine.instrument(id);
        if (state.instrument(id) != view || state.instrument(view->symbol.view()) != view)
            return QStringLiteral("instrument %1 differs").arg(id);
        const QString mine = bookText(state, id);
        const QString theirs = bookText(engine, id);
        if (mine != theirs)
            return QStringLiteral("instrument %1:\n  replica %2\n  engine  %3").arg(id).arg(mine, theirs);
        for (const Side side : {Side::Buy, Side::Sell}) {
            const std::vector<LevelView> top = engine.levels(id, side, 1);
            const std::optional<LevelView> best = side == Side::Buy ? state.bestBid(id) : state.bestAsk(id);
            if (best.has_value() != !top.empty() || (best && !sameLevel(*best, top.front())))
                return QStringLiteral("instrument %1: best %2 differs")
                    .arg(id)
                    .arg(QLatin1String(side == Side::Buy ? "bid" : "ask"));
            const std::vector<LevelView> two = state.levels(id, side, 2);
            const std::vector<LevelView> engineTwo = engine.levels(id, side, 2);
            if (bookText(two, {}) != bookText(engineTwo, {}))
                return QStringLiteral("instrument %1: the top two levels differ").arg(id);
        }
    }
    return {};
}

} // namespace

class TestMarketState : public QObject
{
    Q_OBJECT

private slots:
    void books_data();
    void books();
    void instrumentsAndTrades();
    void redeliveryChangesNothing();
    void fromEngine();
    void randomizedAgainstEngine_data();
    void randomizedAgainstEngine();
};

void TestMarketState::books_data()
{
    QTest::addColumn<std::vector<Command>>("setup");  // one batch: the venue and the resting orders
    QTest::addColumn<std::vector<Command>>("action"); // the next batch
    QTest::addColumn<QString>("book");                // after the action
    QTest::addColumn<QString>("delta");               // what the action's batch reports

    const auto buy = Side::Buy;
    const auto sell = Side::Sell;
    using Stp = SelfTradePrevention;

    QTest::newRow("limit rests") << venue({}) << std::vector<Command>{limit(1, buy, "100", "1")}
                                 << "bids 100:1/1 | asks"
                                 << "#0@1 bids 100:1/1 | asks";
    QTest::newRow("two orders share a level")
        << venue({limit(1, buy, "100", "1")}) << std::vector<Command>{limit(2, buy, "100", "0.5")}
        << "bids 100:1.5/2 | asks"
        << "#0@2 bids 100:1.5/2 | asks";
    // Accepted at 101 for 3, traded 1, expired 2: the bid side ends as it was and is not reported.
    QTest::newRow("ioc partial fill then expires")
        << venue({limit(2, sell, "100", "1")}) << std::vector<Command>{limit(1, buy, "101", "3", TimeInForce::Ioc)}
        << "bids | asks"
        << "#0@2 bids | asks 100:0/0";
    QTest::newRow("fok expires: no change, no delta")
        << venue({limit(2, sell, "100", "1")}) << std::vector<Command>{limit(1, buy, "100", "2", TimeInForce::Fok)}
        << "bids | asks 100:1/1"
        << "";
    QTest::newRow("fok fills") << venue({limit(2, sell, "100", "1"), limit(3, sell, "100.5", "2")})
                               << std::vector<Command>{limit(1, buy, "101", "2", TimeInForce::Fok)}
                               << "bids | asks 100.5:1/1"
                               << "#0@2 bids | asks 100:0/0 100.5:1/1";
    QTest::newRow("market buy sweeps two levels")
        << venue({limit(2, sell, "100", "1"), limit(2, sell, "101", "1"), limit(3, sell, "102", "1")})
        << std::vector<Command>{market(1, buy, "2")} << "bids | asks 102:1/1"
        << "#0@2 bids | asks 100:0/0 101:0/0";
    QTest::newRow("market sell into bids, a maker partly filled")
        << venue({limit(1, buy, "100", "1"), limit(1, buy, "99", "2")}) << std::vector<Command>{market(2, sell, "2")}
        << "bids 99:1/1 | asks"
        << "#0@2 bids 100:0/0 99:1/1 | asks";
    QTest::newRow("market order on an empty book")
        << venue({}) << std::vector<Command>{market(1, buy, "1")} << "bids | asks"
        << "";
    QTest::newRow("the first maker of a level fills, the second is partly filled")
        << venue({limit(2, sell, "100", "1"), limit(3, sell, "100", "2")})
        << std::vector<Command>{limit(1, buy, "100", "2")} << "bids | asks 100:1/1"
        << "#0@2 bids | asks 100:1/1";
    QTest::newRow("crossing taker, the remainder rests")
        << venue({limit(2, sell, "100", "1")}) << std::vector<Command>{limit(1, buy, "101", "3")}
        << "bids 101:2/1 | asks"
        << "#0@2 bids 101:2/1 | asks 100:0/0";
    // Orders 1 and 2 at 100 (3 + 1); order 1 amended down to 2 keeps its place.
    QTest::newRow("amend down keeps the level") << venue({limit(1, buy, "100", "3"), limit(1, buy, "100", "1")})
                                                << std::vector<Command>{amend(1, nullptr, "2")} << "bids 100:3/2 | asks"
                                                << "#0@2 bids 100:3/2 | asks";
    QTest::newRow("amend up at the same price") << venue({limit(1, buy, "100", "1"), limit(1, buy, "100", "1")})
                                                << std::vector<Command>{amend(1, nullptr, "3")} << "bids 100:4/2 | asks"
                                                << "#0@2 bids 100:4/2 | asks";
    QTest::newRow("amend the price moves the level")
        << venue({limit(1, buy, "100", "3")}) << std::vector<Command>{amend(1, "99", nullptr)} << "bids 99:3/1 | asks"
        << "#0@2 bids 100:0/0 99:3/1 | asks";
    QTest::newRow("amend a partly filled order") << venue({limit(1, buy, "100", "3"), limit(2, sell, "100", "1")})
                                                 << std::vector<Command>{amend(1, "98", "5")} << "bids 98:4/1 | asks"
                                                 << "#0@2 bids 100:0/0 98:4/1 | asks";
    // Sell 2 at 101 re-priced to 99 trades 1 with the bid and rests 1 at 99.
    QTest::newRow("amend crosses, the remainder rests")
        << venue({limit(1, buy, "99", "1"), limit(2, sell, "101", "2")})
        << std::vector<Command>{amend(2, "99", nullptr)} << "bids | asks 99:1/1"
        << "#0@2 bids 99:0/0 | asks 99:1/1 101:0/0";
    QTest::newRow("cancel") << venue({limit(1, buy, "100", "1"), limit(1, buy, "100", "2")})
                            << std::vector<Command>{cancel(1)} << "bids 100:2/1 | asks"
                            << "#0@2 bids 100:2/1 | asks";
    QTest::newRow("cancel the last order of a level") << venue({limit(1, buy, "100", "1"), limit(1, buy, "99", "2")})
                                                      << std::vector<Command>{cancel(1)} << "bids 99:2/1 | asks"
                                                      << "#0@2 bids 100:0/0 | asks";
    QTest::newRow("kill switch") << venue({limit(1, buy, "99", "1"), limit(2, sell, "101", "1")})
                                 << std::vector<Command>{at(
                                        SetInstrumentStatus{Symbol("BTC-USD"), InstrumentStatus::Halted, true})}
                                 << "bids | asks"
                                 << "#0@2 bids 99:0/0 | asks 101:0/0";
    QTest::newRow("halt without cancelling")
        << venue({limit(1, buy, "99", "1")})
        << std::vector<Command>{at(SetInstrumentStatus{Symbol("BTC-USD"), InstrumentStatus::Halted, false})}
        << "bids 99:1/1 | asks"
        << "";
    QTest::newRow("mass cancel of one account")
        << venue({limit(1, buy, "99", "1"), limit(2, buy, "99", "2"), limit(1, sell, "101", "1")})
        << std::vector<Command>{at(MassCancel{1, std::nullopt})} << "bids 99:2/1 | asks"
        << "#0@2 bids 99:2/1 | asks 101:0/0";
    // Account 1's own ask at 100 expires, the taker trades with account 2 at 101 and rests 1 at 101.
    QTest::newRow("stp expire_maker") << venue({limit(1, sell, "100", "1"), limit(2, sell, "101", "1")})
                                      << std::vector<Command>{limit(1, buy, "101", "2", TimeInForce::Gtc,
                                                                    Stp::ExpireMaker)}
                                      << "bids 101:1/1 | asks"
                                      << "#0@2 bids 101:1/1 | asks 100:0/0 101:0/0";
    QTest::newRow("stp expire_taker after a trade")
        << venue({limit(2, sell, "100", "1"), limit(1, sell, "100", "1")})
        << std::vector<Command>{limit(1, buy, "100", "3")} << "bids | asks 100:1/1"
        << "#0@2 bids | asks 100:1/1";
    QTest::newRow("stp expire_both") << venue({limit(1, sell, "100", "1")})
                                     << std::vector<Command>{limit(1, buy, "100", "1", TimeInForce::Gtc,
                                                                   Stp::ExpireBoth)}
                                     << "bids | asks"
                                     << "#0@2 bids | asks 100:0/0";
    QTest::newRow("rejected orders change nothing")
        << venue({limit(1, buy, "99", "1")})
        << std::vector<Command>{limit(1, buy, "99.001", "1"), limit(9, buy, "99", "1"), cancel(77)}
        << "bids 99:1/1 | asks"
        << "";
    QTest::newRow("rest and cancel in one batch")
        << venue({}) << std::vector<Command>{limit(1, buy, "99", "1"), cancel(1)} << "bids | asks"
        << "";
    QTest::newRow("several commands in one batch")
        << venue({limit(2, sell, "101", "1")})
        << std::vector<Command>{limit(1, buy, "99", "1"), limit(1, buy, "100", "2"), limit(3, sell, "100", "1"),
                                amend(2, "98", nullptr), limit(2, sell, "101", "4")}
        << "bids 100:1/1 98:1/1 | asks 101:5/2"
        << "#0@2 bids 100:1/1 98:1/1 | asks 101:5/2";
}

void TestMarketState::books()
{
    QFETCH(std::vector<Command>, setup);
    QFETCH(std::vector<Command>, action);
    QFETCH(QString, book);
    QFETCH(QString, delta);

    Sequencer engine;
    MarketState state;
    const std::vector<BookDelta> first = state.apply(runBatch(engine, setup));
    QCOMPARE(bookText(state, 0), bookText(engine, 0));
    const std::uint64_t before = state.bookSeq(0);
    QCOMPARE(before, std::uint64_t(first.empty() ? 0 : 1));

    const std::vector<BookDelta> deltas = state.apply(runBatch(engine, action));
    QCOMPARE(bookText(state, 0), book);
    QCOMPARE(bookText(engine, 0), book);
    QCOMPARE(deltaText(deltas), delta);
    QCOMPARE(state.bookSeq(0), before + std::uint64_t(deltas.empty() ? 0 : 1));
    QCOMPARE(state.lastSeq(), engine.lastSeq());
    const QString mismatch = differences(state, engine);
    QVERIFY2(mismatch.isEmpty(), qPrintable(mismatch));
}

void TestMarketState::instrumentsAndTrades()
{
    Sequencer engine;
    MarketState state;
    std::vector<Command> commands = venue({limit(2, Side::Sell, "100", "1"), limit(2, Side::Sell, "101", "1")});
    commands.push_back(
        at(AddInstrument{Symbol("ETH-USD"), AssetCode("ETH"), AssetCode("USD"), d("0.1"), d("0.01"), d("0.01")}));
    state.apply(runBatch(engine, commands));

    QCOMPARE(state.instrumentCount(), std::size_t(2));
    QCOMPARE(state.instruments().size(), std::size_t(2));
    QVERIFY(state.instruments()[0].symbol.view() == "BTC-USD");
    QVERIFY(state.instruments()[1].symbol.view() == "ETH-USD");
    QCOMPARE(state.instrument("ETH-USD")->id, InstrumentId(1));
    QCOMPARE(state.instrument(1)->tickSize, d("0.1"));
    QVERIFY(!state.instrument("XRP-USD"));
    QVERIFY(!state.instrument(std::string_view("A-SYMBOL-FAR-LONGER-THAN-THIRTY-TWO-CHARACTERS")));
    QVERIFY(!state.instrument(2));
    QVERIFY(state.levels(2, Side::Buy, kAll).empty());
    QCOMPARE(state.bookSeq(2), std::uint64_t(0));
    QVERIFY(!state.lastTrade(0));
    QVERIFY(!state.bestBid(0));
    QCOMPARE(state.bestAsk(0)->price, d("100"));
    QCOMPARE(state.levels(0, Side::Sell, 1).size(), std::size_t(1));
    QCOMPARE(state.levels(0, Side::Sell, 0).size(), std::size_t(0));

    std::vector<Command> later{market(1, Side::Buy, "1.5")};
    later.back().time = kStart + 5;
    const std::vector<Event> events = runBatch(engine, later);
    state.apply(events);
    const std::optional<LastTrade> trade = state.lastTrade(0);
    QVERIFY(trade);
    QCOMPARE(trade->trade, TradeId(2));
    QCOMPARE(trade->price, d("101"));
    QCOMPARE(trade->quantity, d("0.5"));
    QCOMPARE(trade->takerSide, Side::Buy);
    QCOMPARE(trade->time, kStart + 5);
    QVERIFY(!state.lastTrade(1));

    state.apply(runBatch(engine, {at(SetInstrumentStatus{Symbol("ETH-USD"), InstrumentStatus::Halted, false})}));
    QCOMPARE(state.instrument("ETH-USD")->status, InstrumentStatus::Halted);
    QCOMPARE(state.instrument(0)->status, InstrumentStatus::Trading);
}

void TestMarketState::redeliveryChangesNothing()
{
    Sequencer engine;
    MarketState state;
    const std::vector<Event> first = runBatch(engine, venue({limit(1, Side::Buy, "99", "1")}));
    QCOMPARE(state.apply(first).size(), std::size_t(1));
    const std::vector<Event> second = runBatch(engine,
                                               {limit(2, Side::Sell, "99", "0.25"), limit(1, Side::Buy, "98", "1")});
    const std::vector<BookDelta> secondDeltas = state.apply(second);
    QCOMPARE(deltaText(secondDeltas), QStringLiteral("#0@2 bids 99:0.75/1 98:1/1 | asks"));
    const QString book = bookText(state, 0);

    // Whole batches again, old and newest: nothing changes, no delta, no new book sequence number.
    QVERIFY(state.apply(first).empty());
    QVERIFY(state.apply(second).empty());
    QVERIFY(state.apply({}).empty());
    QCOMPARE(bookText(state, 0), book);
    QCOMPARE(state.bookSeq(0), std::uint64_t(2));
    QCOMPARE(state.lastSeq(), engine.lastSeq());

    // A batch that overlaps what was applied: only its new events count.
    std::vector<Event> overlapping = second;
    const std::vector<Event> third = runBatch(engine, {cancel(1)});
    overlapping.insert(overlapping.end(), third.begin(), third.end());
    QCOMPARE(deltaText(state.apply(overlapping)), QStringLiteral("#0@3 bids 99:0/0 | asks"));
    QCOMPARE(bookText(state, 0), bookText(engine, 0));
    QCOMPARE(state.lastSeq(), engine.lastSeq());
}

void TestMarketState::fromEngine()
{
    Sequencer engine;
    MarketState live;
    live.apply(runBatch(engine, venue({limit(1, Side::Buy, "99", "1"), limit(2, Side::Buy, "99", "2"),
                                       limit(1, Side::Buy, "98.5", "1"), limit(3, Side::Sell, "101", "1"),
                                       limit(1, Side::Buy, "101", "0.5")})));
    live.apply(runBatch(engine, {at(AddInstrument{Symbol("ETH-USD"), AssetCode("ETH"), AssetCode("USD"), d("0.1"),
                                                  d("0.01"), d("0.01")}),
                                 at(SetInstrumentStatus{Symbol("ETH-USD"), InstrumentStatus::Halted, false})}));

    MarketState recovered = MarketState::fromEngine(engine);
    QCOMPARE(recovered.lastSeq(), engine.lastSeq());
    QCOMPARE(recovered.bookSeq(0), std::uint64_t(0));
    QCOMPARE(bookText(recovered, 0), QStringLiteral("bids 99:3/2 98.5:1/1 | asks 101:0.5/1"));
    QVERIFY(recovered.instruments() == live.instruments());
    QCOMPARE(recovered.instrument("ETH-USD")->status, InstrumentStatus::Halted);
    QString mismatch = differences(recovered, engine);
    QVERIFY2(mismatch.isEmpty(), qPrintable(mismatch));

    // It goes on from there like the live one; what the engine said before its lastSeq() is skipped.
    const std::vector<Event> next = runBatch(engine, {limit(3, Side::Sell, "99", "1.5"), cancel(3)});
    QCOMPARE(deltaText(recovered.apply(next)), QStringLiteral("#0@1 bids 99:1.5/1 98.5:0/0 | asks"));
    live.apply(next);
    QCOMPARE(bookText(recovered, 0), bookText(live, 0));
    QVERIFY(recovered.apply(runBatch(engine, {})).empty());
    mismatch = differences(recovered, engine);
    QVERIFY2(mismatch.isEmpty(), qPrintable(mismatch));

    // With a base, every book's seq starts there, instruments added later included, and rises by 1 a batch.
    MarketState based = MarketState::fromEngine(engine);
    based.setBookSeqBase(5'000'000);
    QCOMPARE(based.bookSeq(0), std::uint64_t(5'000'000));
    QCOMPARE(based.bookSeq(1), std::uint64_t(5'000'000));
    const std::vector<BookDelta> deltas = based.apply(runBatch(
        engine, {limit(1, Side::Buy, "97", "1"),
                 at(AddInstrument{Symbol("SOL-USD"), AssetCode("SOL"), AssetCode("USD"), d("0.1"), d("0.01"), d("0.01")})}));
    QCOMPARE(deltas.size(), std::size_t(1));
    QCOMPARE(deltas.front().bookSeq, std::uint64_t(5'000'001));
    QCOMPARE(based.bookSeq(2), std::uint64_t(5'000'000));

    const MarketState empty = MarketState::fromEngine(Sequencer());
    QCOMPARE(empty.instrumentCount(), std::size_t(0));
    QCOMPARE(empty.lastSeq(), Seq(0));
}

void TestMarketState::randomizedAgainstEngine_data()
{
    QTest::addColumn<QString>("mix");
    QTest::newRow("the default mix") << QString();
    QTest::newRow("amends and cancels") << QStringLiteral("amend=600,cancel=300,market=5");
    QTest::newRow("takers: market, ioc, fok, stp") << QStringLiteral("market=30,ioc=30,fok=25,stpMaker=40,stpBoth=30");
}

void TestMarketState::randomizedAgainstEngine()
{
    QFETCH(QString, mix);
    std::string error;
    const std::optional<CommandMix> parsedMix = CommandMix::parse(mix.toStdString(), &error);
    QVERIFY2(parsedMix, error.c_str());

    const std::uint64_t seed = environmentNumber("BOURSE_MARKET_SEED",
                                                 std::random_device{}() ^ (std::uint64_t(std::random_device{}()) << 32));
    const std::size_t total = environmentNumber("BOURSE_MARKET_COMMANDS", 40'000);
    qInfo().noquote() << QStringLiteral("seed %1, %2 commands (rerun with BOURSE_MARKET_SEED=%1)").arg(seed).arg(total);

    CommandGenerator generator(seed, *parsedMix);
    std::mt19937_64 random(seed ^ 0x6d61726b6574ULL);
    Sequencer engine;
    MarketState state;
    std::optional<MarketState> recovered; // a fromEngine() copy, fed from then on by overlapping batches
    std::size_t nextRecovery = kRecoverEvery;

    // A client's books, kept from the deltas alone, and the book sequence numbers it saw.
    std::vector<std::array<ClientSide, 2>> client;
    std::vector<std::uint64_t> clientSeq;
    std::vector<std::optional<LastTrade>> lastTrades;

    std::vector<Event> batch;
    std::vector<Event> previousBatch;
    std::vector<Event> commandEvents;
    std::size_t applied = 0;
    std::size_t batches = 0;
    std::size_t deltasSeen = 0;
    std::size_t levelsSeen = 0;
    while (applied < total) {
        batch.clear();
        const std::size_t size = std::uniform_int_distribution<std::size_t>(1, kMaxBatch)(random);
        for (std::size_t i = 0; i < size && applied < total; ++i, ++applied) {
            commandEvents.clear();
            engine.apply(generator.next(), commandEvents);
            generator.observe(commandEvents);
            batch.insert(batch.end(), commandEvents.begin(), commandEvents.end());
        }
        ++batches;
        for (const Event &event : batch) {
            if (const auto *trade = std::get_if<TradeExecuted>(&event.body)) {
                lastTrades.resize(std::max<std::size_t>(lastTrades.size(), trade->instrument + 1U));
                lastTrades[trade->instrument] = LastTrade{trade->trade, trade->price, trade->quantity, trade->takerSide,
                                                          event.time};
            }
        }

        const std::vector<BookDelta> deltas = state.apply(batch);
        QCOMPARE(state.lastSeq(), engine.lastSeq());
        const QString mismatch = differences(state, engine);
        if (!mismatch.isEmpty())
            QFAIL(qPrintable(QStringLiteral("seed %1, batch %2 (after %3 commands): %4")
                                 .arg(seed)
                                 .arg(batches)
                                 .arg(applied)
                                 .arg(mismatch)));

        // The deltas, replayed onto the client's copy, give the new books; listed levels really changed.
        client.resize(engine.instrumentCount());
        clientSeq.resize(engine.instrumentCount());
        std::size_t next = 0;
        for (InstrumentId id = 0; id < engine.instrumentCount(); ++id) {
            const BookDelta *delta = next < deltas.size() && deltas[next].instrument == id ? &deltas[next++] : nullptr;
            if (delta) {
                ++deltasSeen;
                QVERIFY(!delta->bids.empty() || !delta->asks.empty());
                QCOMPARE(delta->bookSeq, clientSeq[id] + 1);
                clientSeq[id] = delta->bookSeq;
                for (const Side side : {Side::Buy, Side::Sell}) {
                    const std::vector<LevelChange> &changes = side == Side::Buy ? delta->bids : delta->asks;
                    ClientSide &copy = client[id][sideIndex(side)];
                    for (std::size_t i = 0; i < changes.size(); ++i) {
                        const LevelChange &change = changes[i];
                        if (i > 0) // best first, each price once
                            QVERIFY(side == Side::Buy ? changes[i - 1].price > change.price
                                                      : changes[i - 1].price < change.price);
                        const auto old = copy.find(change.price.raw());
                        const bool wasThere = old != copy.end();
                        const bool changed = wasThere ? change.quantity.isZero()
                                                            || !sameLevel(old->second,
                                                                          LevelView{change.price, change.quantity,
                                                                                    change.orders})
                                                      : !change.quantity.isZero();
                        if (!changed)
                            QFAIL(qPrintable(QStringLiteral("seed %1, batch %2, instrument %3: the delta %4 lists %5, "
                                                            "which did not change")
                                                 .arg(seed)
                                                 .arg(batches)
                                                 .arg(id)
                                                 .arg(deltaText({*delta}), QString::fromStdString(levelsText(
                                                                               std::vector<LevelChange>{change})))));
                        QCOMPARE(change.quantity.isZero(), change.orders == 0);
                    }
                    levelsSeen += changes.size();
                    applyChanges(copy, changes);
                }
            }
            QCOMPARE(state.bookSeq(id), clientSeq[id]);
            for (const Side side : {Side::Buy, Side::Sell}) {
                const QString fromDeltas = bookText(bestFirst(client[id][sideIndex(side)], side), {});
                const QString engineSide = bookText(engine.levels(id, side, kAll), {});
                if (fromDeltas != engineSide)
                    QFAIL(qPrintable(
                        QStringLiteral("seed %1, batch %2, instrument %3 %4: from the deltas %5, "
                                       "the engine %6")
                            .arg(seed)
                            .arg(batches)
                            .arg(id)
                            .arg(QLatin1String(side == Side::Buy ? "bids" : "asks"), fromDeltas, engineSide)));
            }
            const std::optional<LastTrade> trade = state.lastTrade(id);
            if (id < lastTrades.size() && lastTrades[id].has_value())
                QVERIFY(trade.has_value() && *trade == *lastTrades[id]);
            else
                QVERIFY(!trade.has_value());
        }
        QCOMPARE(next, deltas.size()); // in instrument order, one per instrument, none for unknown ones

        // Re-delivery of the last two batches changes nothing.
        QVERIFY(state.apply(previousBatch).empty());
        QVERIFY(state.apply(batch).empty());
        QCOMPARE(state.lastSeq(), engine.lastSeq());

        // The recovered copy gets the batch in two overlapping parts.
        if (recovered) {
            const std::size_t cut = batch.empty() ? 0
                                                  : std::uniform_int_distribution<std::size_t>(0, batch.size())(random);
            recovered->apply(std::vector<Event>(batch.begin(), batch.begin() + static_cast<std::ptrdiff_t>(cut)));
            recovered->apply(batch);
            QCOMPARE(recovered->lastSeq(), engine.lastSeq());
        }
        if (applied >= nextRecovery || applied >= total) {
            nextRecovery += kRecoverEvery;
            if (recovered) {
                const QString drift = differences(*recovered, engine);
                if (!drift.isEmpty())
                    QFAIL(qPrintable(QStringLiteral("seed %1: the fromEngine() copy, after %2 commands: %3")
                                         .arg(seed)
                                         .arg(applied)
                                         .arg(drift)));
            }
            recovered = MarketState::fromEngine(engine);
            const QString fresh = differences(*recovered, engine);
            if (!fresh.isEmpty())
                QFAIL(qPrintable(
                    QStringLiteral("seed %1: fromEngine() after %2 commands: %3").arg(seed).arg(applied).arg(fresh)));
            QCOMPARE(recovered->lastSeq(), engine.lastSeq());
        }
        previousBatch.swap(batch);
    }

    qInfo().noquote() << QStringLiteral("%1 batches, %2 instruments, %3 book deltas, %4 level changes, %5 open orders")
                             .arg(batches)
                             .arg(engine.instrumentCount())
                             .arg(deltasSeen)
                             .arg(levelsSeen)
                             .arg(engine.openOrderCount());
    // The stream must have exercised the books, not just rejections.
    QVERIFY(deltasSeen > batches / 2);
}

QTEST_GUILESS_MAIN(TestMarketState)
#include "tst_market_state.moc"
