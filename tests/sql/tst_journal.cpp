// The journal on a real database: batches written by group commit come back through recovery as the same
// engine (state hash, positions), snapshots shorten replay, a retried write after a lost COMMIT writes
// nothing twice, the writer thread acknowledges only after COMMIT, and every kind of damage to the
// journal stops recovery with a message naming the row.
#include "command_generator.h"
#include "connection.h"
#include "journal.h"
#include "journal_writer.h"
#include "migrations.h"
#include "test_databases.h"

#include <QRegularExpression>
#include <QSqlError>
#include <QSqlQuery>
#include <QTest>

#include <random>

using namespace bourse;
using namespace bourse::sql;

namespace {

// A seeded venue history cut into batches the way the engine host cuts it.
struct History
{
    std::vector<JournalBatch> batches;
    std::uint64_t finalHash = 0;
    JournalPosition end;
    Seq lastSnapshotCommand = 0;
};

History makeHistory(std::uint64_t seed, int commandCount, int snapshotEvery)
{
    History history;
    test::CommandGenerator generator(seed);
    Sequencer engine;
    std::mt19937_64 random(seed);
    std::vector<Event> events;
    Seq commandSeq = 0;
    int sinceSnapshot = 0;
    while (commandSeq < static_cast<Seq>(commandCount)) {
        JournalBatch batch;
        const auto size = 1 + static_cast<int>(random() % 200);
        for (int i = 0; i < size && commandSeq < static_cast<Seq>(commandCount); ++i) {
            const Command command = generator.next();
            events.clear();
            const CommandResult result = engine.apply(command, events);
            generator.observe(events);
            batch.commands.push_back(JournalCommand{++commandSeq, command, result.firstSeq, result.lastSeq});
            batch.events.insert(batch.events.end(), events.begin(), events.end());
            ++sinceSnapshot;
        }
        if (snapshotEvery > 0 && sinceSnapshot >= snapshotEvery) {
            JournalSnapshot snapshot{commandSeq, engine.lastSeq(), engine.lastTime(), engine.stateHash(), {}};
            engine.saveSnapshot(snapshot.bytes);
            batch.snapshot = std::move(snapshot);
            history.lastSnapshotCommand = commandSeq;
            sinceSnapshot = 0;
        }
        history.batches.push_back(std::move(batch));
    }
    history.finalHash = engine.stateHash();
    history.end = {commandSeq, engine.lastSeq()};
    return history;
}

// Writes the history in group commits of 1-8 batches.
void writeAll(Connection &connection, const History &history)
{
    JournalScratch scratch;
    std::vector<JournalBatch> group;
    for (std::size_t i = 0; i < history.batches.size(); ++i) {
        group.push_back(history.batches[i]);
        if (group.size() == 1 + i % 8 || i + 1 == history.batches.size()) {
            const auto written = writeBatches(connection.database(), group, scratch);
            QVERIFY2(written.hasValue(), written.hasValue() ? "" : qPrintable(written.error()));
            group.clear();
        }
    }
}

qint64 countRows(Connection &connection, const char *table)
{
    QSqlQuery query(connection.database());
    if (!query.exec(QStringLiteral("SELECT COUNT(*) FROM %1").arg(QLatin1String(table))) || !query.next())
        return -1;
    return query.value(0).toLongLong();
}


} // namespace

class TestJournal final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        auto databases = test::TestDatabases::create();
        QVERIFY2(databases.hasValue(), databases.hasValue() ? "" : qPrintable(databases.error()));
        m_databases = std::move(databases.value());
    }

    void recoversWhatWasWritten_data() { test::TestDatabases::addDriverRows(); }
    void recoversWhatWasWritten()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        const ConnectionFactory factory = migrated(driver);
        auto connection = factory.open(u"test");
        QVERIFY(connection.hasValue());

        const History history = makeHistory(11, 20'000, 0);
        writeAll(*connection, history);
        QCOMPARE(countRows(*connection, "commands"), qint64(history.end.commandSeq));
        QCOMPARE(countRows(*connection, "events"), qint64(history.end.eventSeq));

        auto other = factory.open(u"recovery");
        const auto recovered = recoverJournal(other->database());
        QVERIFY2(recovered.hasValue(), recovered.hasValue() ? "" : qPrintable(recovered.error()));
        QCOMPARE(recovered->engine->stateHash(), history.finalHash);
        QCOMPARE(recovered->position.commandSeq, history.end.commandSeq);
        QCOMPARE(recovered->position.eventSeq, history.end.eventSeq);
        QCOMPARE(recovered->replayedCommands, std::size_t(history.end.commandSeq));
        QCOMPARE(recovered->snapshotCommandSeq, Seq(0));
    }

    void emptyJournalRecoversAnEmptyEngine_data() { test::TestDatabases::addDriverRows(); }
    void emptyJournalRecoversAnEmptyEngine()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        const ConnectionFactory factory = migrated(driver);
        auto connection = factory.open(u"test");
        QVERIFY(connection.hasValue());
        const auto recovered = recoverJournal(connection->database());
        QVERIFY2(recovered.hasValue(), recovered.hasValue() ? "" : qPrintable(recovered.error()));
        QCOMPARE(recovered->engine->stateHash(), Sequencer().stateHash());
        QCOMPARE(recovered->position.commandSeq, Seq(0));
    }

    void snapshotShortensReplay_data() { test::TestDatabases::addDriverRows(); }
    void snapshotShortensReplay()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        const ConnectionFactory factory = migrated(driver);
        auto connection = factory.open(u"test");
        QVERIFY(connection.hasValue());
        const History history = makeHistory(12, 20'000, 3'000);
        QVERIFY(history.lastSnapshotCommand > 0);
        writeAll(*connection, history);
        QVERIFY(countRows(*connection, "snapshots") >= 6);
        const auto recovered = recoverJournal(connection->database());
        QVERIFY2(recovered.hasValue(), recovered.hasValue() ? "" : qPrintable(recovered.error()));
        QCOMPARE(recovered->snapshotCommandSeq, history.lastSnapshotCommand);
        QCOMPARE(recovered->replayedCommands, std::size_t(history.end.commandSeq - history.lastSnapshotCommand));
        QCOMPARE(recovered->engine->stateHash(), history.finalHash);
    }

    void lostCommitIsNotWrittenTwice_data() { test::TestDatabases::addDriverRows(); }
    void lostCommitIsNotWrittenTwice()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        const ConnectionFactory factory = migrated(driver);
        auto connection = factory.open(u"test");
        QVERIFY(connection.hasValue());
        const History history = makeHistory(13, 3'000, 1'000);
        writeAll(*connection, history);
        // The writer did not hear back from COMMIT and writes the same batches again, plus one more part
        // of them: only rows past the durable end are new.
        writeAll(*connection, history);
        QCOMPARE(countRows(*connection, "commands"), qint64(history.end.commandSeq));
        QCOMPARE(countRows(*connection, "events"), qint64(history.end.eventSeq));
        const auto recovered = recoverJournal(connection->database());
        QVERIFY2(recovered.hasValue(), recovered.hasValue() ? "" : qPrintable(recovered.error()));
        QCOMPARE(recovered->engine->stateHash(), history.finalHash);
    }

    void damageStopsRecovery_data()
    {
        QTest::addColumn<DatabaseUrl::Driver>("driver");
        QTest::addColumn<QString>("damage");
        QTest::addColumn<QString>("message");
        const QList<std::pair<const char *, const char *>> rows = {
            {"UPDATE commands SET payload = BLOB(01ff) WHERE seq = 500", "command 500 is"},
            {"UPDATE commands SET checksum = checksum + 1 WHERE seq = 700", "command 700 fails its checksum"},
            {"UPDATE commands SET time_ns = time_ns + 1 WHERE seq = 800", "command 800 fails its checksum"},
            {"UPDATE commands SET last_event_seq = last_event_seq + 1 WHERE seq = 900", "command 900 fails its checksum"},
            {"DELETE FROM commands WHERE seq = 1200", "skips from command 1199 to 1201"},
            {"DELETE FROM events WHERE seq = (SELECT MAX(seq) FROM events)", "but its commands produce"},
            {"INSERT INTO events(seq, command_seq, time_ns, type, payload, checksum) SELECT MAX(seq) + 1, 1, 0, 0, "
             "BLOB(01), 0 FROM events",
             "but its commands produce"},
            {"UPDATE snapshots SET payload = BLOB(00) WHERE command_seq = (SELECT MAX(command_seq) FROM snapshots)",
             "fails its checksum"},
            {"UPDATE snapshots SET state_hash = state_hash + 1 WHERE command_seq = (SELECT MAX(command_seq) FROM "
             "snapshots)",
             "does not restore the state it recorded"},
        };
        for (const auto driver : {DatabaseUrl::Driver::Sqlite, DatabaseUrl::Driver::PostgreSql}) {
            for (const auto &[damage, message] : rows)
                QTest::addRow("%s: %s", qPrintable(test::TestDatabases::driverName(driver)), damage)
                    << driver << QString::fromLatin1(damage) << QString::fromLatin1(message);
        }
    }
    void damageStopsRecovery()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        QFETCH(QString, damage);
        QFETCH(QString, message);
        const ConnectionFactory factory = migrated(driver);
        auto connection = factory.open(u"test");
        QVERIFY(connection.hasValue());
        // A snapshot about every 400 commands; the journal is intact until the damage below.
        const History history = makeHistory(14, 2'200, 400);
        writeAll(*connection, history);
        QVERIFY(recoverJournal(connection->database()).hasValue());

        // Commands 500-1200 lie before the latest snapshot, where replay would not read them: start replay
        // from the first snapshot instead, so the damaged rows are in the replayed range.
        QSqlQuery query(connection->database());
        if (damage.contains(QLatin1String("commands")))
            QVERIFY(query.exec(QStringLiteral("DELETE FROM snapshots WHERE command_seq > 450")));
        // BLOB(hex) is a byte string literal in the driver's own spelling.
        static const QRegularExpression blob(QStringLiteral("BLOB\\(([0-9a-f]*)\\)"));
        damage.replace(blob, driver == DatabaseUrl::Driver::Sqlite ? QStringLiteral("X'\\1'")
                                                                   : QStringLiteral("'\\\\x\\1'::bytea"));
        QVERIFY2(query.exec(damage), qPrintable(query.lastError().text()));
        const auto recovered = recoverJournal(connection->database());
        QVERIFY(!recovered.hasValue());
        QVERIFY2(recovered.error().contains(message), qPrintable(recovered.error()));
        QVERIFY2(recovered.error().contains(QLatin1String("bourse restore")), qPrintable(recovered.error()));
    }

    void writerAcknowledgesAfterCommit_data() { test::TestDatabases::addDriverRows(); }
    void writerAcknowledgesAfterCommit()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        const ConnectionFactory factory = migrated(driver);
        const History history = makeHistory(15, 10'000, 2'500);
        JournalWriter writer(factory);
        writer.start();
        std::mutex mutex;
        std::vector<JournalPosition> acknowledged; // guarded by mutex
        int failures = 0;                          // guarded by mutex
        for (const JournalBatch &batch : history.batches) {
            writer.append(batch, [&](const Expected<JournalPosition, QString> &written, JournalBatch &&) {
                std::lock_guard lock(mutex);
                if (written)
                    acknowledged.push_back(*written);
                else
                    ++failures;
            });
        }
        writer.stop();
        QCOMPARE(failures, 0);
        QCOMPARE(acknowledged.size(), history.batches.size());
        // In order, and each acknowledgement covers at least its own batch.
        for (std::size_t i = 0; i < acknowledged.size(); ++i) {
            QVERIFY(acknowledged[i].commandSeq >= history.batches[i].commands.back().commandSeq);
            if (i > 0)
                QVERIFY(acknowledged[i].commandSeq >= acknowledged[i - 1].commandSeq);
        }
        QCOMPARE(acknowledged.back().commandSeq, history.end.commandSeq);
        auto connection = factory.open(u"check");
        const auto recovered = recoverJournal(connection->database());
        QVERIFY2(recovered.hasValue(), recovered.hasValue() ? "" : qPrintable(recovered.error()));
        QCOMPARE(recovered->engine->stateHash(), history.finalHash);
    }

private:
    // A fresh database with the schema, for one test case.
    ConnectionFactory migrated(DatabaseUrl::Driver driver)
    {
        auto url = m_databases->freshMigrated(driver);
        if (!url)
            qFatal("no test database: %s", qPrintable(url.error()));
        return ConnectionFactory(*url);
    }

    std::unique_ptr<test::TestDatabases> m_databases;
};

QTEST_GUILESS_MAIN(TestJournal)
#include "tst_journal.moc"
