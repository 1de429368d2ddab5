// Replay determinism of the real Sequencer: one generated command stream applied to two fresh instances gives
// identical results, events and state hashes (what journal recovery relies on), and the state hash moves
// with the state and only with it.
//   BOURSE_REPLAY_SEED      the seed (printed at start; random when unset)
//   BOURSE_REPLAY_COMMANDS  how many commands (default 200,000)
#include "command_generator.h"
#include "sequencer.h"

#include <QTest>

#include <random>
#include <vector>

using namespace bourse;
using bourse::test::CommandGenerator;
using bourse::test::environmentNumber;

Q_DECLARE_METATYPE(std::vector<bourse::Command>)

namespace {

// Replayed in chunks: the first instance runs a whole chunk before the second starts it, so that state
// leaking between instances (a static, a shared cache) shows as well as plain nondeterminism.
constexpr std::size_t kChunk = 5'000;

bool sameResult(const CommandResult &a, const CommandResult &b)
{
    return a.outcome == b.outcome && a.reason == b.reason && a.order == b.order && a.firstSeq == b.firstSeq
           && a.lastSeq == b.lastSeq && a.affected == b.affected && a.asset == b.asset && a.required == b.required
           && a.available == b.available;
}

Decimal decimal(const char *text)
{
    const auto parsed = Decimal::parse(text);
    if (!parsed)
        qFatal("bad decimal: %s", text);
    return *parsed;
}

Command at(TimeNs time, CommandBody body)
{
    return Command{time, std::move(body)};
}

Command addBtcUsd()
{
    return at(0, AddInstrument{Symbol("BTC-USD"), AssetCode("BTC"), AssetCode("USD"), decimal("1"), decimal("0.1"),
                               decimal("0.1")});
}

Command deposit(AccountId account, const char *asset, const char *amount, TimeNs time = 0)
{
    return at(time, Deposit{account, AssetCode(asset), decimal(amount)});
}

Command withdraw(AccountId account, const char *asset, const char *amount)
{
    return at(0, Withdraw{account, AssetCode(asset), decimal(amount)});
}

Command limit(AccountId account, Side side, const char *price, const char *quantity, const char *clientOrderId = "",
              TimeNs time = 0)
{
    PlaceOrder place;
    place.account = account;
    place.symbol = Symbol("BTC-USD");
    place.side = side;
    place.price = decimal(price);
    place.quantity = decimal(quantity);
    place.clientOrderId = ClientOrderId(clientOrderId);
    return at(time, place);
}

std::vector<Command> funded(std::vector<Command> more)
{
    std::vector<Command> commands{addBtcUsd(), deposit(1, "USD", "10000"), deposit(2, "BTC", "10")};
    commands.insert(commands.end(), more.begin(), more.end());
    return commands;
}

std::uint64_t hashAfter(const std::vector<Command> &commands)
{
    Sequencer sequencer;
    std::vector<Event> events;
    for (const Command &command : commands)
        sequencer.apply(command, events);
    return sequencer.stateHash();
}

} // namespace

class TestReplay : public QObject
{
    Q_OBJECT

private slots:
    void sameStreamSameEventsAndHash();
    void hashFollowsState_data();
    void hashFollowsState();
    void hashMovesWithEveryCommand();
};

void TestReplay::sameStreamSameEventsAndHash()
{
    const std::uint64_t seed = environmentNumber("BOURSE_REPLAY_SEED",
                                                 std::random_device{}() ^ (std::uint64_t(std::random_device{}()) << 32));
    const std::size_t total = environmentNumber("BOURSE_REPLAY_COMMANDS", 200'000);
    qInfo().noquote() << QStringLiteral("seed %1, %2 commands (rerun with BOURSE_REPLAY_SEED=%1)").arg(seed).arg(total);

    CommandGenerator generator(seed);
    Sequencer first;
    Sequencer second;
    std::vector<Command> chunk;
    std::vector<std::vector<Event>> firstEvents;
    std::vector<CommandResult> firstResults;
    std::vector<Event> secondEvents;
    std::size_t index = 0;
    Seq expectedSeq = 1;
    TimeNs lastTime = 0;

    while (index < total) {
        chunk.clear();
        firstEvents.clear();
        firstResults.clear();
        for (std::size_t i = 0; i < kChunk && index + i < total; ++i) {
            chunk.push_back(generator.next());
            firstEvents.emplace_back();
            firstResults.push_back(first.apply(chunk.back(), firstEvents.back()));
            generator.observe(firstEvents.back());

            // The numbering and clock rules hold on their own, too.
            const TimeNs commandTime = std::max(lastTime, chunk.back().time);
            for (const Event &event : firstEvents.back()) {
                if (event.seq != expectedSeq || event.time != commandTime)
                    QFAIL(qPrintable(QStringLiteral("command %1: event seq %2 time %3, expected seq %4 time %5")
                                         .arg(index + i)
                                         .arg(event.seq)
                                         .arg(event.time)
                                         .arg(expectedSeq)
                                         .arg(commandTime)));
                ++expectedSeq;
            }
            lastTime = commandTime;
        }
        for (std::size_t i = 0; i < chunk.size(); ++i, ++index) {
            secondEvents.clear();
            const CommandResult result = second.apply(chunk[i], secondEvents);
            if (!sameResult(result, firstResults[i]) || secondEvents != firstEvents[i])
                QFAIL(qPrintable(QStringLiteral("seed %1: command %2 gave different results or events on replay")
                                     .arg(seed)
                                     .arg(index)));
        }
        if (first.stateHash() != second.stateHash())
            QFAIL(qPrintable(QStringLiteral("seed %1: state hashes differ after %2 commands").arg(seed).arg(index)));
    }
    QCOMPARE(second.lastSeq(), first.lastSeq());
    QCOMPARE(second.lastTime(), first.lastTime());
    QCOMPARE(second.openOrderCount(), first.openOrderCount());
    QCOMPARE(second.stateHash(), first.stateHash());
}

void TestReplay::hashFollowsState_data()
{
    QTest::addColumn<std::vector<Command>>("left");
    QTest::addColumn<std::vector<Command>>("right");
    QTest::addColumn<bool>("same");

    const std::vector<Command> resting = funded({limit(1, Side::Buy, "99", "1", "a")});
    QTest::newRow("the same commands") << resting << resting << true;
    QTest::newRow("another price") << resting << funded({limit(1, Side::Buy, "98", "1", "a")}) << false;
    QTest::newRow("another quantity") << resting << funded({limit(1, Side::Buy, "99", "2", "a")}) << false;
    QTest::newRow("another client order id") << resting << funded({limit(1, Side::Buy, "99", "1", "b")}) << false;
    QTest::newRow("another time") << resting << funded({limit(1, Side::Buy, "99", "1", "a", 5)}) << false;
    QTest::newRow("a rejected command") << resting
                                        << funded({limit(1, Side::Buy, "99", "1", "a"), withdraw(9, "USD", "1")})
                                        << false;
    QTest::newRow("the other order first in the level")
        << funded({limit(1, Side::Buy, "99", "1"), limit(1, Side::Buy, "99", "2")})
        << funded({limit(1, Side::Buy, "99", "2"), limit(1, Side::Buy, "99", "1")}) << false;
    QTest::newRow("halted") << resting
                            << funded({limit(1, Side::Buy, "99", "1", "a"),
                                       at(0, SetInstrumentStatus{Symbol("BTC-USD"), InstrumentStatus::Halted, false})})
                            << false;
    // Equal states, different histories: zero balances are not part of the state.
    QTest::newRow("funds in and out again") << funded({deposit(3, "USD", "10"), withdraw(3, "USD", "10")})
                                            << funded({deposit(4, "BTC", "5"), withdraw(4, "BTC", "5")}) << true;
    // A replay at the same instant emits nothing and changes nothing.
    QTest::newRow("a replay at the same instant")
        << resting << funded({limit(1, Side::Buy, "99", "1", "a"), limit(1, Side::Buy, "99", "1", "a")}) << true;
    QTest::newRow("a replay later moves the clock")
        << resting << funded({limit(1, Side::Buy, "99", "1", "a"), limit(1, Side::Buy, "99", "1", "a", 7)}) << false;
}

void TestReplay::hashFollowsState()
{
    QFETCH(std::vector<Command>, left);
    QFETCH(std::vector<Command>, right);
    QFETCH(bool, same);
    QCOMPARE(hashAfter(left) == hashAfter(right), same);
}

// Every applied or rejected command moves the sequence, so the hash moves too; a query does not.
void TestReplay::hashMovesWithEveryCommand()
{
    CommandGenerator generator(20240601);
    Sequencer sequencer;
    std::vector<Event> events;
    std::uint64_t previous = sequencer.stateHash();
    for (int i = 0; i < 2'000; ++i) {
        events.clear();
        const Command command = generator.next();
        const TimeNs timeBefore = sequencer.lastTime();
        const CommandResult result = sequencer.apply(command, events);
        generator.observe(events);
        const std::uint64_t now = sequencer.stateHash();
        QCOMPARE(sequencer.stateHash(), now);
        if (result.outcome == CommandResult::Outcome::Replayed && sequencer.lastTime() == timeBefore)
            continue; // nothing at all happened
        if (now == previous)
            QFAIL(qPrintable(QStringLiteral("command %1 left the hash unchanged").arg(i)));
        previous = now;
    }
}

QTEST_GUILESS_MAIN(TestReplay)
#include "tst_replay.moc"
