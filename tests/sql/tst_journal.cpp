// The journal on a real database: batches written by group commit come back through recovery as the same
// engine (state hash, positions), snapshots shorten replay, a retried write after a lost COMMIT writes
// nothing twice, the writer thread acknowledges only after COMMIT, and every kind of damage to the
// journal stops recovery with a message naming the row. The row sinks under the journal: values at the
// edges of their types survive, merges do what their roles say, an error in the middle of a write leaves
// nothing behind and the connection usable, and a connection that died or closed is never written through.
#include "connection.h"
#include "journal.h"
#include "journal_history.h"
#include "journal_writer.h"
#include "migrations.h"
#include "native_rows.h"
#include "test_databases.h"

#include <QFileInfo>
#include <QRegularExpression>
#include <QSqlError>
#include <QSqlQuery>
#include <QTest>

#include <limits>
#include <random>

using namespace bourse;
using namespace bourse::sql;

namespace {

using History = test::SnapshottedHistory;

History makeHistory(std::uint64_t seed, int commandCount, int snapshotEvery)
{
    return test::snapshottedHistory(seed, static_cast<Seq>(commandCount), static_cast<Seq>(snapshotEvery));
}

// Writes the history in group commits of 1-8 batches.
void writeAll(Connection &connection, const History &history)
{
    const auto error = test::writeInGroups(connection.database(), history.batches);
    QVERIFY2(!error, error ? qPrintable(*error) : "");
}

// The first half of the history's batches (the rest: from index first.size()).
std::vector<JournalBatch> firstHalf(const History &history)
{
    const std::size_t half = history.batches.size() / 2;
    return {history.batches.begin(), history.batches.begin() + qsizetype(half)};
}

// Recovery from what `connection` reads succeeds and gives the engine whose state hash is `hash`.
void recoversTo(Connection &connection, std::uint64_t hash)
{
    const auto recovered = recoverJournal(connection.database());
    QVERIFY2(recovered.hasValue(), recovered.hasValue() ? "" : qPrintable(recovered.error()));
    QCOMPARE(recovered->engine->stateHash(), hash);
}

// The whole history, written with `scratch` through `connection` (the rows already there are skipped), and
// recovered.
void writesAllAndRecovers(Connection &connection, const History &history, JournalScratch &scratch)
{
    const auto written = writeBatches(connection.database(), history.batches, scratch);
    QVERIFY2(written.hasValue(), written.hasValue() ? "" : qPrintable(written.error()));
    recoversTo(connection, history.finalHash);
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
        auto connection = open(driver);
        QVERIFY(connection);
        const auto recovered = recoverJournal(connection->database());
        QVERIFY2(recovered.hasValue(), recovered.hasValue() ? "" : qPrintable(recovered.error()));
        QCOMPARE(recovered->engine->stateHash(), Sequencer().stateHash());
        QCOMPARE(recovered->position.commandSeq, Seq(0));
    }

    void snapshotShortensReplay_data() { test::TestDatabases::addDriverRows(); }
    void snapshotShortensReplay()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        auto connection = open(driver);
        QVERIFY(connection);
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
        auto connection = open(driver);
        QVERIFY(connection);
        const History history = makeHistory(13, 3'000, 1'000);
        writeAll(*connection, history);
        // The writer did not hear back from COMMIT and writes the same batches again, plus one more part
        // of them: only rows past the durable end are new.
        writeAll(*connection, history);
        QCOMPARE(countRows(*connection, "commands"), qint64(history.end.commandSeq));
        QCOMPARE(countRows(*connection, "events"), qint64(history.end.eventSeq));
        recoversTo(*connection, history.finalHash);
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
            {"UPDATE events SET payload = BLOB(00) WHERE seq = (SELECT MAX(seq) FROM events)",
             "is not the event its command produces"},
            {"UPDATE events SET command_seq = command_seq + 1 WHERE seq = (SELECT MAX(seq) - 5 FROM events)",
             "is not the event its command produces"},
            {"UPDATE events SET checksum = checksum + 1 WHERE seq = (SELECT MAX(seq) - 3 FROM events)",
             "is not the event its command produces"},
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
        auto connection = open(driver);
        QVERIFY(connection);
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
        QVERIFY2(recovered.error().contains(QLatin1String("restore the database from a backup")),
                 qPrintable(recovered.error()));
    }

    // One writer at a time: while a session holds the journal's lock, others are refused (at once, or
    // after waiting), and get it once that session ends. SQLite needs no lock and always gets it.
    void journalLockIsExclusive_data() { test::TestDatabases::addDriverRows(); }
    void journalLockIsExclusive()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        const ConnectionFactory factory = migrated(driver);
        auto second = factory.open(u"second");
        QVERIFY(second.hasValue());
        {
            auto first = factory.open(u"first");
            QVERIFY(first.hasValue());
            QCOMPARE(lockJournal(first->database(), std::chrono::milliseconds(0)), std::nullopt);
            const auto tried = lockJournal(second->database(), std::chrono::milliseconds(0));
            const auto waited = lockJournal(second->database(), std::chrono::milliseconds(300));
            if (driver == DatabaseUrl::Driver::Sqlite) {
                QCOMPARE(tried, std::nullopt);
                QCOMPARE(waited, std::nullopt);
                return;
            }
            QVERIFY(tried);
            QVERIFY2(tried->startsWith(QLatin1String("another bourse process is writing")), qPrintable(*tried));
            QVERIFY(waited);
            QVERIFY2(waited->endsWith(QLatin1String("after waiting 300 ms")), qPrintable(*waited));
            // The session that waited is usable afterwards (its lock_timeout is back to the default).
            QCOMPARE(second->execute(QStringLiteral("SELECT 1")), std::nullopt);
        }
        // The first session has ended: its lock with it.
        QCOMPARE(lockJournal(second->database(), std::chrono::seconds(10)), std::nullopt);
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
        recoversTo(*connection, history.finalHash);
    }

    // Every kind of value at the edges of its type, written through the driver's sink and read back.
    void rowSinkKeepsEveryValue_data() { test::TestDatabases::addDriverRows(); }
    void rowSinkKeepsEveryValue()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        auto connection = open(driver);
        QVERIFY(connection);
        const bool sqlite = driver == DatabaseUrl::Driver::Sqlite;
        QVERIFY(!connection->execute(
            sqlite ? QStringLiteral("CREATE TABLE edges (id INTEGER PRIMARY KEY, small INTEGER, number INTEGER, "
                                    "flag INTEGER, label TEXT, payload BLOB NOT NULL) STRICT")
                   : QStringLiteral("CREATE TABLE edges (id BIGINT PRIMARY KEY, small SMALLINT, number INTEGER, "
                                    "flag BOOLEAN, label TEXT, payload BYTEA NOT NULL)")));
        const RowTable edges{"edges",
                             RowTable::Mode::Append,
                             {{"id", ColumnType::BigInt},
                              {"small", ColumnType::SmallInt},
                              {"number", ColumnType::Integer},
                              {"flag", ColumnType::Boolean},
                              {"label", ColumnType::Text},
                              {"payload", ColumnType::Bytes}}};
        const std::vector<std::uint8_t> bytes = {0, 1, 0xff, 0, 0x80};
        const std::vector<std::uint8_t> none;
        RowSinks sinks;
        auto sink = sinks.forConnection(connection->database());
        QVERIFY2(sink.hasValue(), sink.hasValue() ? "" : qPrintable(sink.error()));
        RowSink &rows = **sink;
        // A row of `edges` with every column given (endRow() is the caller's).
        const auto put = [&rows](std::int64_t id, std::int64_t small, std::int64_t number, bool flag,
                                 std::string_view label, std::span<const std::uint8_t> payload) {
            rows.integer(id);
            rows.integer(small);
            rows.integer(number);
            rows.boolean(flag);
            rows.text(label);
            rows.bytes(payload);
        };
        QVERIFY(connection->database().transaction());
        QCOMPARE(rows.begin(edges), std::nullopt);
        put(std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int16_t>::min(),
            std::numeric_limits<std::int32_t>::min(), false, "", none);
        QCOMPARE(rows.endRow(), std::nullopt);
        put(std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::int16_t>::max(),
            std::numeric_limits<std::int32_t>::max(), true, "a\tb", bytes);
        QCOMPARE(rows.endRow(), std::nullopt);
        rows.integer(0);
        rows.null();
        rows.null();
        rows.null();
        rows.null();
        rows.bytes(bytes);
        QCOMPARE(rows.endRow(), std::nullopt);
        QCOMPARE(rows.finish(), std::nullopt);
        QVERIFY(connection->database().commit());

        QSqlQuery query(connection->database());
        QVERIFY(query.exec(QStringLiteral("SELECT id, small, number, flag, label, payload FROM edges ORDER BY id")));
        QVERIFY(query.next());
        QCOMPARE(query.value(0).toLongLong(), std::numeric_limits<qint64>::min());
        QCOMPARE(query.value(1).toInt(), -32768);
        QCOMPARE(query.value(2).toLongLong(), qint64(std::numeric_limits<std::int32_t>::min()));
        QCOMPARE(query.value(3).toBool(), false);
        QVERIFY(!query.value(4).isNull());
        QCOMPARE(query.value(4).toString(), QString());
        QVERIFY(!query.value(5).isNull());
        QCOMPARE(query.value(5).toByteArray().size(), 0);
        QVERIFY(query.next());
        QCOMPARE(query.value(0).toLongLong(), qint64(0));
        for (int column = 1; column < 5; ++column)
            QVERIFY(query.value(column).isNull());
        QVERIFY(query.next());
        QCOMPARE(query.value(0).toLongLong(), std::numeric_limits<qint64>::max());
        QCOMPARE(query.value(1).toInt(), 32767);
        QCOMPARE(query.value(2).toLongLong(), qint64(std::numeric_limits<std::int32_t>::max()));
        QCOMPARE(query.value(3).toBool(), true);
        QCOMPARE(query.value(4).toString(), QStringLiteral("a\tb"));
        QCOMPARE(query.value(5).toByteArray(), QByteArray("\0\1\xff\0\x80", 5));
        QVERIFY(!query.next());

        // A value too wide for its column is an error, not a truncation (SQLite's integers are all 64-bit).
        if (!sqlite) {
            QVERIFY(connection->database().transaction());
            QCOMPARE(rows.begin(edges), std::nullopt);
            put(1, std::numeric_limits<std::int16_t>::max() + 1, 0, false, "x", bytes);
            const auto error = rows.endRow();
            QVERIFY(error.has_value());
            QVERIFY2(error->contains(QLatin1String("SMALLINT")), qPrintable(*error));
            QVERIFY(connection->database().rollback());
        }
    }

    // What each role does to a stored row, and an Update whose row is not there.
    void rowSinkMergesByRole_data() { test::TestDatabases::addDriverRows(); }
    void rowSinkMergesByRole()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        auto connection = open(driver);
        QVERIFY(connection);
        QVERIFY(!connection->execute(QStringLiteral("CREATE TABLE merged (id BIGINT PRIMARY KEY, first BIGINT NOT "
                                                    "NULL, given BIGINT, total BIGINT NOT NULL, high BIGINT NOT NULL, "
                                                    "low BIGINT NOT NULL, latest BIGINT NOT NULL)")));
        const std::vector<Column> columns = {{"id", ColumnType::BigInt, ColumnRole::Key},
                                             {"first", ColumnType::BigInt, ColumnRole::Initial},
                                             {"given", ColumnType::BigInt, ColumnRole::SetIfGiven},
                                             {"total", ColumnType::BigInt, ColumnRole::Add},
                                             {"high", ColumnType::BigInt, ColumnRole::Max},
                                             {"low", ColumnType::BigInt, ColumnRole::Min},
                                             {"latest", ColumnType::BigInt, ColumnRole::Set}};
        const RowTable upsert{"merged", RowTable::Mode::Upsert, columns};
        std::vector<Column> updateColumns = columns;
        updateColumns.erase(updateColumns.begin() + 1); // an Update has no Initial column
        const RowTable update{"merged", RowTable::Mode::Update, updateColumns};
        RowSinks sinks;
        QSqlDatabase &db = connection->database();
        const auto write = [&](const RowTable &table, const std::vector<std::vector<std::optional<qint64>>> &values) {
            auto sink = sinks.forConnection(db);
            if (!sink || !db.transaction())
                return std::optional<QString>(QStringLiteral("no transaction"));
            RowSink &rows = **sink;
            std::optional<QString> error = rows.begin(table);
            for (const auto &row : values) {
                for (const auto &value : row)
                    rows.optionalInteger(value);
                if (!error)
                    error = rows.endRow();
            }
            if (!error)
                error = rows.finish();
            if (error) {
                db.rollback();
                sinks.forget();
            } else if (!db.commit()) {
                error = QStringLiteral("COMMIT failed");
            }
            return error;
        };
        QCOMPARE(write(upsert, {{1, 10, 5, 1, 7, 7, 1}, {2, 20, std::nullopt, 2, 3, 3, 2}}), std::nullopt);
        QCOMPARE(write(upsert, {{1, 99, std::nullopt, 4, 9, 8, 3}, {2, 99, 6, 3, 1, 1, 4}}), std::nullopt);
        const auto updated = write(update, {{1, 11, 0, 2, 9, 5}, {2, std::nullopt, 5, 4, 2, 6}});
        QVERIFY2(!updated, updated ? qPrintable(*updated) : "");
        const auto error = write(update, {{1, std::nullopt, 0, 0, 99, 7}, {3, 1, 1, 1, 1, 1}});
        QVERIFY(error.has_value());
        QVERIFY2(error->contains(QLatin1String("merged")), qPrintable(*error));
        QCOMPARE(write(update, {{2, std::nullopt, 0, 0, 99, 8}}), std::nullopt); // still usable after the error

        QSqlQuery query(db);
        QVERIFY(
            query.exec(QStringLiteral("SELECT id, first, given, total, high, low, latest FROM merged ORDER BY id")));
        const auto next = [&query] {
            QList<qint64> values;
            if (query.next()) {
                for (int column = 0; column < 7; ++column)
                    values.append(query.value(column).isNull() ? -1 : query.value(column).toLongLong());
            }
            return values;
        };
        QCOMPARE(next(), (QList<qint64>{1, 10, 11, 5, 9, 7, 5}));
        QCOMPARE(next(), (QList<qint64>{2, 20, 6, 10, 4, 1, 8}));
        QCOMPARE(next(), QList<qint64>());
    }

    // A row that collides in the middle of a group commit (here a trade the projection then inserts):
    // nothing of the transaction stays, the same connection writes the rest once the obstacle is gone.
    void errorMidWriteLeavesNothing_data() { test::TestDatabases::addDriverRows(); }
    void errorMidWriteLeavesNothing()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        auto connection = open(driver);
        QVERIFY(connection);
        const History history = makeHistory(16, 4'000, 1'000);
        JournalScratch scratch;
        const std::vector<JournalBatch> first = firstHalf(history);
        const std::vector<JournalBatch> rest(history.batches.begin() + qsizetype(first.size()), history.batches.end());
        QVERIFY(writeBatches(connection->database(), first, scratch).hasValue());
        const qint64 commands = countRows(*connection, "commands");
        const qint64 events = countRows(*connection, "events");
        const qint64 trades = countRows(*connection, "trades");
        QVERIFY(commands > 0 && trades > 0);

        QSqlQuery query(connection->database());
        QVERIFY(query.exec(QStringLiteral("INSERT INTO trades (id, instrument_id, price, quantity, taker_side, "
                                          "maker_order_id, taker_order_id, maker_user_id, taker_user_id, seq, time_ns) "
                                          "SELECT MAX(id) + 1, 0, 1, 1, 'buy', 1, 2, 1, 1, 1, 0 FROM trades")));
        const auto failed = writeBatches(connection->database(), rest, scratch);
        QVERIFY(!failed.hasValue());
        QVERIFY2(failed.error().contains(QLatin1String("trades")), qPrintable(failed.error()));
        QVERIFY2(!failed.error().contains(u'\n'), qPrintable(failed.error()));
        QCOMPARE(countRows(*connection, "commands"), commands);
        QCOMPARE(countRows(*connection, "events"), events);
        QCOMPARE(countRows(*connection, "trades"), trades + 1);

        QVERIFY(query.exec(QStringLiteral("DELETE FROM trades WHERE maker_order_id = 1 AND taker_order_id = 2 AND "
                                          "seq = 1")));
        const auto written = writeBatches(connection->database(), rest, scratch);
        QVERIFY2(written.hasValue(), written.hasValue() ? "" : qPrintable(written.error()));
        QCOMPARE(written->commandSeq, history.end.commandSeq);
        recoversTo(*connection, history.finalHash);
    }

    // The server ends the journal's session between two group commits: the next write fails with one line,
    // and a new connection with the same scratch writes everything (nothing made on the dead one is used).
    void killedPostgreSqlConnectionIsReported()
    {
        const ConnectionFactory factory = migrated(DatabaseUrl::Driver::PostgreSql);
        auto connection = factory.open(u"journal");
        auto admin = factory.open(u"admin");
        QVERIFY(connection.hasValue() && admin.hasValue());
        const History history = makeHistory(17, 3'000, 0);
        const std::vector<JournalBatch> first = firstHalf(history);
        JournalScratch scratch;
        QVERIFY(writeBatches(connection->database(), first, scratch).hasValue());

        QSqlQuery pid(connection->database());
        QVERIFY(pid.exec(QStringLiteral("SELECT pg_backend_pid()")) && pid.next());
        QSqlQuery kill(admin->database());
        QVERIFY(kill.exec(QStringLiteral("SELECT pg_terminate_backend(%1)").arg(pid.value(0).toLongLong())));
        pid.finish();
        const auto failed = writeBatches(connection->database(), history.batches, scratch);
        QVERIFY(!failed.hasValue());
        QVERIFY2(!failed.error().contains(u'\n'), qPrintable(failed.error()));

        connection = factory.open(u"journal");
        QVERIFY(connection.hasValue());
        writesAllAndRecovers(*connection, history, scratch);
    }

    // The statements a scratch keeps do not hold the connection open: Qt closes it (SQLite then removes
    // its WAL file, which it cannot while a statement is alive), and the scratch then serves a new one.
    void scratchOutlivesItsConnection_data() { test::TestDatabases::addDriverRows(); }
    void scratchOutlivesItsConnection()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        const ConnectionFactory factory = migrated(driver);
        const History history = makeHistory(18, 2'000, 0);
        const std::vector<JournalBatch> first = firstHalf(history);
        JournalScratch scratch;
        {
            auto connection = factory.open(u"journal");
            QVERIFY(connection.hasValue());
            QVERIFY(writeBatches(connection->database(), first, scratch).hasValue());
        }
        if (driver == DatabaseUrl::Driver::Sqlite)
            QVERIFY(!QFileInfo::exists(factory.url().path + QStringLiteral("-wal")));
        auto connection = factory.open(u"journal");
        QVERIFY(connection.hasValue());
        writesAllAndRecovers(*connection, history, scratch);
    }

    // Recovery's reader, stopped after a few rows: the connection is ready for the next statement.
    void rowSourceStoppedEarlyFreesTheConnection_data() { test::TestDatabases::addDriverRows(); }
    void rowSourceStoppedEarlyFreesTheConnection()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        auto connection = open(driver);
        QVERIFY(connection);
        const History history = makeHistory(19, 2'000, 0);
        writeAll(*connection, history);
        {
            auto source = readRows(connection->database(), "SELECT seq, payload FROM commands ORDER BY seq");
            QVERIFY2(source.hasValue(), source.hasValue() ? "" : qPrintable(source.error()));
            for (Seq seq = 1; seq <= 10; ++seq) {
                QVERIFY((*source)->next());
                QCOMPARE(static_cast<Seq>((*source)->integer(0)), seq);
                QVERIFY(!(*source)->bytes(1).empty());
            }
        }
        QCOMPARE(countRows(*connection, "commands"), qint64(history.end.commandSeq));
        auto broken = readRows(connection->database(), "SELECT no_such_column FROM commands");
        QVERIFY(!broken.hasValue());
        QCOMPARE(countRows(*connection, "events"), qint64(history.end.eventSeq));
    }

private:
    // A connection to a fresh database with the schema, for one test case.
    std::optional<Connection> open(DatabaseUrl::Driver driver) { return m_databases->openFreshMigrated(driver); }

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
