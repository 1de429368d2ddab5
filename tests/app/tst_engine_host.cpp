// Tests of EngineHost, the engine's thread: commands come back as futures in submission order, from any
// number of threads; batches are announced; stop() applies what was queued and refuses what comes after;
// continuations run on the caller's thread; with a journal, a reply means the command is committed, and
// the journal recovers the very same engine. Also the default instruments of spec/API.md §1.
#include "engine_host.h"
#include "venue_process.h"

#include <QSignalSpy>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <thread>
#include <vector>

using namespace bourse;
using namespace bourse::app;
using namespace bourse::server;

namespace {

Decimal decimal(std::string_view text)
{
    return Decimal::parse(text).valueOr(Decimal());
}

Command deposit(AccountId account, std::string_view asset, std::string_view amount)
{
    return Command{0, Deposit{account, AssetCode(asset), decimal(amount)}};
}

EngineReply waitFor(QFuture<EngineReply> future)
{
    future.waitForFinished();
    return future.result();
}

} // namespace

class tst_EngineHost final : public QObject
{
    Q_OBJECT

private slots:
    void repliesComeOnlyAfterCommit()
    {
        QTemporaryDir dir;
        const sql::ConnectionFactory factory(sql::DatabaseUrl::sqlite(dir.filePath(QStringLiteral("bourse.db"))));
        {
            auto connection = factory.open(u"migrate");
            QVERIFY(connection.hasValue());
            QVERIFY(migrateDatabase(*connection).hasValue());
        }
        sql::JournalWriter journal(factory);
        EngineHost host(EngineHost::Setup{nullptr, 0, &journal, 40});
        journal.start();
        host.start();

        // An instrument, two funded accounts, then orders that cross and rest.
        std::vector<Command> commands;
        commands.push_back(Command{1, AddInstrument{Symbol("BTC-USD"), AssetCode("BTC"), AssetCode("USD"),
                                                    decimal("0.01"), decimal("0.0001"), decimal("0.0001")}});
        for (const AccountId account : {AccountId(1), AccountId(2)}) {
            commands.push_back(Command{2, Deposit{account, AssetCode("USD"), decimal("1000000")}});
            commands.push_back(Command{3, Deposit{account, AssetCode("BTC"), decimal("100")}});
        }
        for (int i = 0; i < 300; ++i) {
            PlaceOrder order;
            order.account = 1 + AccountId(i % 2);
            order.symbol = Symbol("BTC-USD");
            order.side = i % 2 ? Side::Sell : Side::Buy;
            order.price = Decimal::fromRaw((60000 + (i % 7) - 3) * 100'000'000LL);
            order.quantity = decimal("0.01");
            commands.push_back(Command{10 + i, order});
        }
        std::vector<QFuture<EngineReply>> futures;
        for (const Command &command : commands)
            futures.push_back(host.submit(command));

        auto check = factory.open(u"check");
        QVERIFY(check.hasValue());
        for (std::size_t i = 0; i < futures.size(); ++i) {
            const EngineReply reply = waitFor(futures[i]);
            QCOMPARE(reply.status, EngineReply::Status::Applied);
            // The reply is out: the command must already be in the committed journal.
            QSqlQuery query(check->database());
            QVERIFY(query.exec(QStringLiteral("SELECT COALESCE(MAX(seq), 0) FROM commands")) && query.next());
            QVERIFY2(query.value(0).toULongLong() >= i + 1, qPrintable(QStringLiteral("reply %1 before commit").arg(i)));
        }
        host.stop();
        journal.stop();

        Sequencer expected;
        std::vector<Event> events;
        for (const Command &command : commands)
            expected.apply(command, events);
        auto recovered = sql::recoverJournal(check->database());
        QVERIFY2(recovered.hasValue(), recovered.hasValue() ? "" : qPrintable(recovered.error()));
        QCOMPARE(recovered->engine->stateHash(), expected.stateHash());
        QCOMPARE(recovered->position.commandSeq, Seq(commands.size()));
        QVERIFY(recovered->snapshotCommandSeq >= 40); // snapshots were written along the way
        QVERIFY(expected.openOrderCount() > 0);
    }

    void defaultInstrumentsAreTheSpec_data();
    void defaultInstrumentsAreTheSpec();
    void appliesCommandsInOrder();
    void rejectionIsAResult();
    void announcesBatches();
    void submitFromManyThreads();
    void continuationRunsOnTheCallersThread();
    void stopAppliesWhatWasQueued();
    void submitAfterStop();
    void submitBeforeStart();
    void stopWithoutStart();
};

void tst_EngineHost::defaultInstrumentsAreTheSpec_data()
{
    QTest::addColumn<int>("index");
    QTest::addColumn<QString>("symbol");
    QTest::addColumn<QString>("tick");
    QTest::addColumn<QString>("lot");
    QTest::addColumn<QString>("minimum");

    QTest::newRow("BTC-USD") << 0 << "BTC-USD"
                             << "0.01"
                             << "0.0001"
                             << "0.0001";
    QTest::newRow("ETH-USD") << 1 << "ETH-USD"
                             << "0.01"
                             << "0.001"
                             << "0.001";
    QTest::newRow("XAU-USD") << 2 << "XAU-USD"
                             << "0.01"
                             << "0.01"
                             << "0.01";
}

void tst_EngineHost::defaultInstrumentsAreTheSpec()
{
    QFETCH(int, index);
    QFETCH(QString, symbol);
    QFETCH(QString, tick);
    QFETCH(QString, lot);
    QFETCH(QString, minimum);

    const std::vector<AddInstrument> instruments = bourse::app::defaultInstruments();
    QCOMPARE(instruments.size(), 3u);
    const AddInstrument &add = instruments.at(static_cast<std::size_t>(index));
    QCOMPARE(QString::fromUtf8(add.symbol.view().data(), static_cast<qsizetype>(add.symbol.size())), symbol);
    QCOMPARE(QString::fromStdString(add.tickSize.toString()), tick);
    QCOMPARE(QString::fromStdString(add.lotSize.toString()), lot);
    QCOMPARE(QString::fromStdString(add.minQuantity.toString()), minimum);
    QCOMPARE(QString::fromUtf8(add.quote.view().data(), static_cast<qsizetype>(add.quote.size())),
             QStringLiteral("USD"));
}

void tst_EngineHost::appliesCommandsInOrder()
{
    EngineHost host;
    host.start();
    QVERIFY(host.isRunning());
    QList<QFuture<EngineReply>> futures;
    for (const AddInstrument &add : defaultInstruments())
        futures.append(host.submit(Command{1, add}));
    Seq previous = 0;
    InstrumentId expectedId = 0;
    for (const QFuture<EngineReply> &future : futures) {
        const EngineReply reply = waitFor(future);
        QCOMPARE(reply.status, EngineReply::Status::Applied);
        QVERIFY(reply.result.ok());
        QCOMPARE(reply.events.size(), 1u);
        const auto *added = std::get_if<InstrumentAdded>(&reply.events.front().body);
        QVERIFY(added);
        QCOMPARE(added->instrument.id, expectedId++);
        QVERIFY(reply.events.front().seq > previous);
        previous = reply.events.front().seq;
        QCOMPARE(reply.result.firstSeq, previous);
    }
    host.stop();
    QVERIFY(!host.isRunning());
}

void tst_EngineHost::rejectionIsAResult()
{
    EngineHost host;
    host.start();
    const AddInstrument btc = defaultInstruments().front();
    QVERIFY(waitFor(host.submit(Command{1, btc})).result.ok());
    const EngineReply again = waitFor(host.submit(Command{2, btc}));
    QCOMPARE(again.status, EngineReply::Status::Applied);
    QVERIFY(!again.result.ok());
    QCOMPARE(again.result.reason, RejectReason::InstrumentExists);
    QCOMPARE(again.events.size(), 1u);
    QVERIFY(std::holds_alternative<CommandRejected>(again.events.front().body));
}

void tst_EngineHost::announcesBatches()
{
    EngineHost host;
    std::size_t events = 0;
    Seq lastSeq = 0;
    // Queued to this (main) thread, as the journal and the GUI will receive it.
    connect(&host, &EngineHost::batchApplied, this, [&](const EngineBatch &batch) {
        QCOMPARE(QThread::currentThread(), thread());
        QVERIFY(batch.events);
        events += batch.events->size();
        QVERIFY(!batch.events->empty());
        QCOMPARE(batch.events->back().seq, batch.lastSeq);
        lastSeq = batch.lastSeq;
    });
    host.start();
    QList<QFuture<EngineReply>> futures;
    for (const AddInstrument &add : defaultInstruments())
        futures.append(host.submit(Command{1, add}));
    futures.append(host.submit(deposit(7, "USD", "100")));
    std::size_t expectedEvents = 0;
    for (const QFuture<EngineReply> &future : futures)
        expectedEvents += waitFor(future).events.size();
    QCOMPARE(expectedEvents, 5u); // three instruments; FundsDeposited and BalanceChanged
    QTRY_COMPARE(events, expectedEvents);
    QCOMPARE(lastSeq, Seq(expectedEvents));
}

void tst_EngineHost::submitFromManyThreads()
{
    EngineHost host;
    host.start();
    QVERIFY(waitFor(host.submit(Command{1, defaultInstruments().front()})).result.ok());

    constexpr int kThreads = 4;
    constexpr int kPerThread = 100;
    std::vector<std::vector<QFuture<EngineReply>>> futures(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&host, &futures, t] {
            for (int i = 0; i < kPerThread; ++i)
                futures[static_cast<std::size_t>(t)].push_back(host.submit(deposit(AccountId(t + 1), "USD", "1")));
        });
    }
    for (std::thread &thread : threads)
        thread.join();

    std::vector<Seq> allSeqs;
    for (const auto &perThread : futures) {
        Seq previous = 0;
        for (const QFuture<EngineReply> &future : perThread) {
            const EngineReply reply = waitFor(future);
            QCOMPARE(reply.status, EngineReply::Status::Applied);
            QVERIFY(reply.result.ok());
            // One thread's commands apply in the order that thread submitted them.
            QVERIFY(reply.result.firstSeq > previous);
            previous = reply.result.firstSeq;
            for (const Event &event : reply.events)
                allSeqs.push_back(event.seq);
        }
    }
    std::sort(allSeqs.begin(), allSeqs.end());
    QCOMPARE(allSeqs.size(), std::size_t(kThreads * kPerThread * 2));
    QVERIFY(std::adjacent_find(allSeqs.begin(), allSeqs.end()) == allSeqs.end());
    QCOMPARE(allSeqs.front(), Seq(2));
    QCOMPARE(allSeqs.back(), Seq(kThreads * kPerThread * 2 + 1));
}

void tst_EngineHost::continuationRunsOnTheCallersThread()
{
    EngineHost host;
    host.start();
    QThread *ranOn = nullptr;
    bool ok = false;
    host.submit(Command{1, defaultInstruments().front()}).then(this, [&](const EngineReply &reply) {
        ranOn = QThread::currentThread();
        ok = reply.result.ok();
    });
    QTRY_VERIFY(ranOn != nullptr);
    QCOMPARE(ranOn, thread());
    QVERIFY(ok);
}

void tst_EngineHost::stopAppliesWhatWasQueued()
{
    EngineHost host;
    host.start();
    QList<QFuture<EngineReply>> futures;
    futures.append(host.submit(Command{1, defaultInstruments().front()}));
    for (int i = 0; i < 500; ++i)
        futures.append(host.submit(deposit(1, "USD", "1")));
    host.stop();
    for (const QFuture<EngineReply> &future : futures) {
        QVERIFY(future.isFinished());
        QCOMPARE(future.result().status, EngineReply::Status::Applied);
        QVERIFY(future.result().result.ok());
    }
}

void tst_EngineHost::submitAfterStop()
{
    EngineHost host;
    host.start();
    host.stop();
    host.stop(); // idempotent
    const QFuture<EngineReply> future = host.submit(Command{1, defaultInstruments().front()});
    QVERIFY(future.isFinished());
    QCOMPARE(future.result().status, EngineReply::Status::EngineStopped);
    QVERIFY(future.result().events.empty());
}

void tst_EngineHost::submitBeforeStart()
{
    EngineHost host;
    const QFuture<EngineReply> future = host.submit(Command{1, defaultInstruments().front()});
    QVERIFY(!future.isFinished());
    host.start();
    QCOMPARE(waitFor(future).status, EngineReply::Status::Applied);
}

void tst_EngineHost::stopWithoutStart()
{
    EngineHost host;
    const QFuture<EngineReply> future = host.submit(Command{1, defaultInstruments().front()});
    host.stop();
    QVERIFY(future.isFinished());
    QCOMPARE(future.result().status, EngineReply::Status::EngineStopped);
}

QTEST_GUILESS_MAIN(tst_EngineHost)
#include "tst_engine_host.moc"
