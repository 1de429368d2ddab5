// The crash test: a venue child process takes a random stream of orders through the real engine thread
// and journal writer, acknowledging each after its COMMIT, and is killed with SIGKILL at random moments,
// sometimes before it is even ready. After every kill: recovery succeeds, every acknowledged command is in
// the journal exactly once, and the recovered books and balances (the state hash) are exactly what the
// same commands give when replayed from scratch. Then the next child goes on from there. On SQLite and
// PostgreSQL, BOURSE_CRASH_CYCLES times each (50 by default; the documented long run is 1,000).
#include "command_generator.h"
#include "connection.h"
#include "journal.h"
#include "test_databases.h"

#include <QLoggingCategory>
#include <QProcess>
#include <QTest>

#include <csignal>
#include <random>

using namespace bourse;

class TestCrash final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        // A connection per cycle, each logged at debug level, would bury the summary (and a long run hits
        // Qt Test's message cap).
        QLoggingCategory::setFilterRules(QStringLiteral("bourse.sql.debug=false"));
        auto databases = test::TestDatabases::create();
        QVERIFY2(databases.hasValue(), databases.hasValue() ? "" : qPrintable(databases.error()));
        m_databases = std::move(databases.value());
    }

    void killedVenueLosesNothingAcknowledged_data()
    {
        test::TestDatabases::addDriverRows();
    }
    void killedVenueLosesNothingAcknowledged()
    {
        QFETCH(sql::DatabaseUrl::Driver, driver);
        const std::uint64_t cycles = test::environmentNumber("BOURSE_CRASH_CYCLES", 50);
        const std::uint64_t seed = test::environmentNumber("BOURSE_CRASH_SEED", std::random_device{}());
        qInfo("seed %llu, %llu kill cycles (rerun with BOURSE_CRASH_SEED=%llu)", static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(cycles), static_cast<unsigned long long>(seed));
        const auto url = m_databases->freshMigrated(driver);
        QVERIFY2(url.hasValue(), url.hasValue() ? "" : qPrintable(url.error()));
        const sql::ConnectionFactory factory(*url);
        std::mt19937_64 random(seed);

        // The same stream, replayed here as far as each recovery reaches.
        test::CommandGenerator generator(seed);
        Sequencer mirror;
        std::vector<Event> events;
        Seq mirrored = 0;

        Seq durableBefore = 0;
        std::uint64_t acknowledgedTotal = 0;
        std::uint64_t killedBeforeReady = 0;
        for (std::uint64_t cycle = 0; cycle < cycles; ++cycle) {
            // Small snapshot intervals, so that kills also land around snapshots.
            const auto snapshotEvery = 200 + random() % 2'000;
            QProcess child;
            child.setProcessChannelMode(QProcess::SeparateChannels);
            child.start(QStringLiteral(BOURSE_CRASH_CHILD),
                        {test::TestDatabases::urlWithPassword(*url), QString::number(seed), QString::number(snapshotEvery)});
            QVERIFY2(child.waitForStarted(), qPrintable(child.errorString()));

            QByteArray output;
            Seq ready = 0;
            bool isReady = false;
            Seq acknowledged = 0;
            const auto pump = [&] {
                output += child.readAllStandardOutput();
                qsizetype end = 0;
                while ((end = output.indexOf('\n')) >= 0) {
                    const QByteArray line = output.left(end);
                    output.remove(0, end + 1);
                    if (line.startsWith("ACK "))
                        acknowledged = std::max<Seq>(acknowledged, line.mid(4).toULongLong());
                    else if (line.startsWith("READY ")) {
                        ready = line.mid(6).toULongLong();
                        isReady = true;
                    }
                }
                return child.state() == QProcess::NotRunning;
            };

            // One kill in ten comes at once: during migration, recovery or start-up.
            if (random() % 10 != 0) {
                const Seq target = 1 + random() % 3'000;
                QTRY_VERIFY_WITH_TIMEOUT(pump() || (isReady && acknowledged >= ready + target), 60'000);
                QVERIFY2(child.state() == QProcess::Running,
                         qPrintable(QStringLiteral("the child ended by itself: ") + child.readAllStandardError()));
            }
            ::kill(static_cast<pid_t>(child.processId()), SIGKILL);
            QVERIFY(child.waitForFinished(10'000));
            pump();
            QCOMPARE(child.exitStatus(), QProcess::CrashExit);
            if (!isReady)
                ++killedBeforeReady;
            else
                QVERIFY2(ready >= durableBefore, "a restart went back in time");

            auto connection = factory.open(u"check");
            QVERIFY2(connection.hasValue(), connection.hasValue() ? "" : qPrintable(connection.error()));
            // As bourse does: after the backend of a killed child has finished whatever it was committing.
            const auto locked = sql::lockJournal(connection->database(), std::chrono::seconds(30));
            QVERIFY2(!locked, qPrintable(locked.value_or(QString())));
            const auto recovered = sql::recoverJournal(connection->database());
            QVERIFY2(recovered.hasValue(),
                     qPrintable(QStringLiteral("cycle %1: %2").arg(cycle).arg(recovered.hasValue() ? QString() : recovered.error())));
            const Seq durable = recovered->position.commandSeq;
            // Every acknowledged command survived; nothing durable was lost.
            QVERIFY2(durable >= acknowledged,
                     qPrintable(QStringLiteral("cycle %1: acknowledged %2 but only %3 recovered").arg(cycle).arg(acknowledged).arg(durable)));
            QVERIFY(durable >= durableBefore);
            // Exactly the state the same commands give: books, orders, balances, client ids.
            for (; mirrored < durable; ++mirrored) {
                events.clear();
                mirror.apply(generator.next(), events);
                generator.observe(events);
            }
            QCOMPARE(recovered->engine->stateHash(), mirror.stateHash());
            QCOMPARE(recovered->position.eventSeq, mirror.lastSeq());
            acknowledgedTotal += isReady ? acknowledged - ready : 0;
            durableBefore = durable;
        }
        qInfo("%llu kills (%llu before ready), %llu commands acknowledged, %llu durable, all recovered exactly",
              static_cast<unsigned long long>(cycles), static_cast<unsigned long long>(killedBeforeReady),
              static_cast<unsigned long long>(acknowledgedTotal), static_cast<unsigned long long>(durableBefore));
        QVERIFY(durableBefore > 1'000);
    }

private:
    std::unique_ptr<test::TestDatabases> m_databases;
};

QTEST_GUILESS_MAIN(TestCrash)
#include "tst_crash.moc"
