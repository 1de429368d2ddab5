// Fault tests: the database fails while the venue runs under load. PostgreSQL is stopped as in a crash
// (pg_ctl stop -m immediate) and started again; SQLite's writes fail because a file-size limit turns them
// into write errors, and because the tmpfs it lives on is full. In each case: while the journal cannot
// write, no command is acknowledged and new ones are refused (Status::Unavailable, SERVICE_UNAVAILABLE at
// the API); once it can, the writer resumes by itself; afterwards every acknowledged order is in the
// database exactly once, no refused one is, the commands table holds exactly the commands the engine
// applied, and recovery rebuilds exactly the engine that ran. Also: a damaged last journal record makes
// the real `bourse` refuse to start, exit 1 with one line naming the row, and change nothing.
#include "connection.h"
#include "engine_host.h"
#include "journal.h"
#include "journal_writer.h"
#include "test_databases.h"
#include "venue_process.h"

#include <QDir>
#include <QFile>
#include <QHash>
#include <QLoggingCategory>
#include <QProcess>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QTemporaryDir>
#include <QTest>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

using namespace bourse;
using namespace bourse::app;
using namespace bourse::server;

namespace {

constexpr int kAccounts = 8;

TimeNs now()
{
    using namespace std::chrono;
    return duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count();
}

Decimal decimal(std::string_view text)
{
    return Decimal::parse(text).valueOr(Decimal());
}

// The venue's storage and engine, wired as VenueProcess wires them, with short retry pauses.
class Venue final
{
public:
    explicit Venue(const sql::DatabaseUrl &url)
        : m_journal(sql::ConnectionFactory(url),
                    sql::JournalWriter::Options{std::chrono::milliseconds(20), std::chrono::milliseconds(200), 100'000})
    {
        QObject::connect(
            &m_journal, &sql::JournalWriter::unavailable, &m_journal,
            [this](const QString &reason) {
                const std::lock_guard lock(m_mutex);
                ++m_failures;
                m_lastFailure = reason;
            },
            Qt::DirectConnection);
        QObject::connect(
            &m_journal, &sql::JournalWriter::available, &m_journal, [this] { ++m_recoveries; }, Qt::DirectConnection);
    }

    // Recovers the journal (as main() does) and starts the writer and the engine.
    QString start(const sql::DatabaseUrl &url)
    {
        auto connection = sql::ConnectionFactory(url).open(u"recover");
        if (!connection)
            return connection.error();
        auto recovered = sql::recoverJournal(connection->database());
        if (!recovered)
            return recovered.error();
        m_host = std::make_unique<EngineHost>(
            EngineHost::Setup{std::move(recovered->engine), recovered->position.commandSeq, &m_journal, 5'000});
        m_journal.start();
        m_host->start();
        return {};
    }

    // The engine first, then the journal (VenueProcess's order); returns the engine that ran.
    std::unique_ptr<Sequencer> stop()
    {
        m_host->stop();
        m_journal.stop();
        return m_host->takeEngine();
    }

    EngineHost &host() { return *m_host; }
    sql::JournalWriter &journal() { return m_journal; }
    int failures() const
    {
        const std::lock_guard lock(m_mutex);
        return m_failures;
    }
    QString lastFailure() const
    {
        const std::lock_guard lock(m_mutex);
        return m_lastFailure;
    }
    int recoveries() const { return m_recoveries.load(); }

private:
    sql::JournalWriter m_journal;
    std::unique_ptr<EngineHost> m_host;
    mutable std::mutex m_mutex;
    int m_failures = 0; // guarded by m_mutex
    QString m_lastFailure; // guarded by m_mutex
    std::atomic<int> m_recoveries{0};
};

// Orders from kAccounts funded accounts, odd ones buying and even ones selling around one price so that
// many trade, each with its own client order id, up to 64 waiting for an answer; what became of each is
// recorded.
class Load final
{
public:
    enum class Outcome : std::uint8_t { Accepted, Rejected, Refused, Other };
    struct Record
    {
        AccountId account = 0;
        QString clientOrderId;
        Outcome outcome = Outcome::Other;
    };

    explicit Load(EngineHost &host)
        : m_host(host)
    {}
    ~Load() { stop(); }

    // An instrument and the accounts' money; true when all of it was applied.
    bool seed()
    {
        std::vector<Command> commands{Command{now(), defaultInstruments().front()}};
        for (AccountId account = 1; account <= kAccounts; ++account) {
            commands.push_back(Command{now(), Deposit{account, AssetCode("USD"), decimal("1000000000")}});
            commands.push_back(Command{now(), Deposit{account, AssetCode("BTC"), decimal("1000000")}});
        }
        for (const Command &command : commands) {
            QFuture<EngineReply> future = m_host.submit(command);
            future.waitForFinished();
            if (future.result().status != EngineReply::Status::Applied || !future.result().result.ok())
                return false;
        }
        m_seedCommands = commands.size();
        return true;
    }

    void start()
    {
        m_thread = std::thread([this] { run(); });
    }
    // Waits for every answer; after a minute (a failed test, with the database still gone) it leaves the
    // rest unanswered rather than hang.
    void stop()
    {
        m_giveUpAt = std::chrono::steady_clock::now() + std::chrono::minutes(1);
        m_stopping = true;
        if (m_thread.joinable())
            m_thread.join();
    }

    std::uint64_t accepted() const { return m_accepted.load(); }
    std::uint64_t refused() const { return m_refused.load(); }
    std::uint64_t unexpected() const { return m_rejected.load() + m_other.load(); }
    std::size_t seedCommands() const { return m_seedCommands; }
    const std::vector<Record> &records() const { return m_records; } // after stop()

private:
    void run()
    {
        // Submitted and not yet answered, in no particular order: an answered one leaves at once, so that
        // refusals are counted while older commands still wait for the journal.
        std::vector<std::pair<std::size_t, QFuture<EngineReply>>> inFlight;
        std::uint64_t n = 0;
        auto lastSubmit = std::chrono::steady_clock::now();
        while (!m_stopping || !inFlight.empty()) {
            std::erase_if(inFlight, [this](std::pair<std::size_t, QFuture<EngineReply>> &entry) {
                if (!entry.second.isFinished())
                    return false;
                record(m_records[entry.first].outcome, entry.second.result());
                return true;
            });
            // Clients do not all wait for one another: besides the 64 that wait for their answers, a new
            // one comes every millisecond whatever happens to the others.
            const auto clock = std::chrono::steady_clock::now();
            if (m_stopping || (inFlight.size() >= 64 && clock - lastSubmit < std::chrono::milliseconds(1))) {
                if (m_stopping && clock > m_giveUpAt)
                    return; // the answers are not coming: the test has failed already
                std::this_thread::sleep_for(std::chrono::microseconds(200));
                continue;
            }
            lastSubmit = clock;
            const auto account = static_cast<AccountId>(n % kAccounts + 1);
            PlaceOrder order;
            order.account = account;
            order.symbol = Symbol("BTC-USD");
            order.side = account % 2 ? Side::Buy : Side::Sell;
            // 99.95 to 100.05 in steps of one tick (0.01).
            order.price = Decimal::fromRaw(Decimal::kOne * 100 + (static_cast<std::int64_t>(n % 11) - 5) * 1'000'000);
            order.quantity = decimal("0.01");
            const QString id = QStringLiteral("L%1").arg(n);
            order.clientOrderId = ClientOrderId(id.toStdString());
            m_records.push_back(Record{account, id, Outcome::Other});
            inFlight.emplace_back(m_records.size() - 1, m_host.submit(Command{now(), order}));
            ++n;
        }
    }

    void record(Outcome &outcome, const EngineReply &reply)
    {
        if (reply.status == EngineReply::Status::Applied) {
            outcome = reply.result.ok() ? Outcome::Accepted : Outcome::Rejected;
            ++(reply.result.ok() ? m_accepted : m_rejected);
        } else if (reply.status == EngineReply::Status::Unavailable) {
            outcome = Outcome::Refused;
            ++m_refused;
        } else {
            ++m_other;
        }
    }

    EngineHost &m_host;
    std::thread m_thread;
    std::atomic<bool> m_stopping{false};
    std::chrono::steady_clock::time_point m_giveUpAt; // written before m_stopping is set
    std::vector<Record> m_records; // the load thread's until stop()
    std::size_t m_seedCommands = 0;
    std::atomic<std::uint64_t> m_accepted{0};
    std::atomic<std::uint64_t> m_rejected{0};
    std::atomic<std::uint64_t> m_refused{0};
    std::atomic<std::uint64_t> m_other{0};
};

// A file-size limit for this process, taken back when it goes out of scope.
class FileSizeLimit final
{
public:
    FileSizeLimit() { ::getrlimit(RLIMIT_FSIZE, &m_saved); }
    ~FileSizeLimit() { lift(); }
    bool set(rlim_t bytes)
    {
        rlimit limit = m_saved;
        limit.rlim_cur = bytes;
        return ::setrlimit(RLIMIT_FSIZE, &limit) == 0;
    }
    void lift() { ::setrlimit(RLIMIT_FSIZE, &m_saved); }

private:
    rlimit m_saved{};
};

} // namespace

class tst_Faults final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        // Each retry logs a warning; the summary is what matters here.
        QLoggingCategory::setFilterRules(QStringLiteral("bourse.sql.debug=false\nbourse.sql.warning=false"));
        // Writes beyond a file-size limit must fail with EFBIG, as they do in bourse (main.cpp).
        std::signal(SIGXFSZ, SIG_IGN);
        auto databases = test::TestDatabases::create();
        QVERIFY2(databases.hasValue(), databases.hasValue() ? "" : qPrintable(databases.error()));
        m_databases = std::move(databases.value());
    }

    void postgresqlStoppedUnderLoad()
    {
        const auto url = m_databases->freshMigrated(sql::DatabaseUrl::Driver::PostgreSql);
        QVERIFY2(url.hasValue(), url.hasValue() ? "" : qPrintable(url.error()));
        test::PostgresCluster &cluster = m_databases->cluster();
        // On a failure, the server comes back before the venue and the load wind down.
        const auto restart = qScopeGuard([&cluster] {
            if (!cluster.isRunning())
                cluster.start();
        });
        failUnderLoad(
            *url, [&cluster] { QCOMPARE(cluster.stopImmediate(), std::nullopt); },
            [&cluster] { QCOMPARE(cluster.start(), std::nullopt); });
    }

    // Injected write errors: with RLIMIT_FSIZE below the WAL's size every write beyond it fails (EFBIG),
    // as it would on a device that stops taking data.
    void sqliteWritesFail()
    {
        const auto url = m_databases->freshMigrated(sql::DatabaseUrl::Driver::Sqlite);
        QVERIFY2(url.hasValue(), url.hasValue() ? "" : qPrintable(url.error()));
        FileSizeLimit limit;
        failUnderLoad(
            *url, [&limit] { QVERIFY(limit.set(64 * 1024)); }, [&limit] { limit.lift(); });
    }

    // A real full disk: the database on a small tmpfs that a filler file fills up, then frees.
    void sqliteDiskFull()
    {
        if (::geteuid() != 0) {
            if (qEnvironmentVariableIsSet("CI"))
                QFAIL("CI runs as root so that this test can mount a tmpfs; it is not root here");
            QSKIP("mounting a tmpfs needs root (CI runs as root, and runs this test)");
        }
        QTemporaryDir mountPoint;
        QVERIFY(mountPoint.isValid());
        const QByteArray where = QFile::encodeName(mountPoint.path());
        QVERIFY2(::mount("bourse-test", where.constData(), "tmpfs", MS_NOSUID | MS_NODEV, "size=24m,mode=0700") == 0,
                 qPrintable(QStringLiteral("mount tmpfs: ") + QString::fromLocal8Bit(std::strerror(errno))));
        const auto unmount = qScopeGuard([&where] { ::umount2(where.constData(), MNT_DETACH); });

        const auto migrated = m_databases->freshMigrated(sql::DatabaseUrl::Driver::Sqlite);
        QVERIFY2(migrated.hasValue(), migrated.hasValue() ? "" : qPrintable(migrated.error()));
        const sql::DatabaseUrl url = sql::DatabaseUrl::sqlite(mountPoint.filePath(QStringLiteral("bourse.db")));
        QVERIFY(QFile::copy(migrated->path, url.path));

        const QString fillerPath = mountPoint.filePath(QStringLiteral("filler"));
        const auto fill = [&fillerPath] {
            // Write until the device says no.
            QFile filler(fillerPath);
            QVERIFY(filler.open(QIODevice::WriteOnly));
            const QByteArray block(64 * 1024, 'x');
            while (filler.write(block) == block.size() && filler.flush()) {
            }
        };
        failUnderLoad(url, fill, [&fillerPath] { QVERIFY(QFile::remove(fillerPath)); });
    }

    void damagedLastRecordStopsStart_data()
    {
        QTest::addColumn<sql::DatabaseUrl::Driver>("driver");
        QTest::addColumn<QString>("damage");
        QTest::addColumn<QString>("expected"); // in the one stderr line
        for (const auto driver : {sql::DatabaseUrl::Driver::Sqlite, sql::DatabaseUrl::Driver::PostgreSql}) {
            const QString name = test::TestDatabases::driverName(driver);
            const QString blob = driver == sql::DatabaseUrl::Driver::Sqlite ? QStringLiteral("zeroblob(3)")
                                                                             : QStringLiteral("'\\x000000'::bytea");
            const QString cut = driver == sql::DatabaseUrl::Driver::Sqlite
                                    ? QStringLiteral("substr(payload, 1, length(payload) - 1)")
                                    : QStringLiteral("substring(payload from 1 for length(payload) - 1)");
            QTest::newRow(qPrintable(name + " payload torn"))
                << driver << QStringLiteral("UPDATE commands SET payload = %1 WHERE seq = (SELECT MAX(seq) FROM commands)").arg(cut)
                << QStringLiteral("command $LAST is truncated");
            QTest::newRow(qPrintable(name + " payload zeroed"))
                << driver << QStringLiteral("UPDATE commands SET payload = %1 WHERE seq = (SELECT MAX(seq) FROM commands)").arg(blob)
                << QStringLiteral("command $LAST is written by an unknown format version");
            QTest::newRow(qPrintable(name + " checksum changed"))
                << driver
                << QStringLiteral("UPDATE commands SET checksum = checksum + 1 WHERE seq = (SELECT MAX(seq) FROM commands)")
                << QStringLiteral("command $LAST fails its checksum");
            QTest::newRow(qPrintable(name + " last event torn"))
                << driver << QStringLiteral("UPDATE events SET payload = %1 WHERE seq = (SELECT MAX(seq) FROM events)").arg(cut)
                << QStringLiteral("is not the event its command produces");
            QTest::newRow(qPrintable(name + " last event's time changed"))
                << driver << QStringLiteral("UPDATE events SET time_ns = time_ns + 1 WHERE seq = (SELECT MAX(seq) FROM events)")
                << QStringLiteral("is not the event its command produces");
            QTest::newRow(qPrintable(name + " last event lost"))
                << driver << QStringLiteral("DELETE FROM events WHERE seq = (SELECT MAX(seq) FROM events)")
                << QStringLiteral("but its commands produce events up to");
            QTest::newRow(qPrintable(name + " last command lost"))
                << driver << QStringLiteral("DELETE FROM commands WHERE seq = (SELECT MAX(seq) FROM commands)")
                << QStringLiteral("but its commands produce events up to");
        }
    }
    void damagedLastRecordStopsStart()
    {
        QFETCH(sql::DatabaseUrl::Driver, driver);
        QFETCH(QString, damage);
        QFETCH(QString, expected);
        const auto url = m_databases->freshMigrated(driver);
        QVERIFY2(url.hasValue(), url.hasValue() ? "" : qPrintable(url.error()));

        // A journal with some history, closed cleanly.
        Seq lastCommand = 0;
        {
            Venue venue(*url);
            const QString started = venue.start(*url);
            QVERIFY2(started.isEmpty(), qPrintable(started));
            Load load(venue.host());
            QVERIFY(load.seed());
            load.start();
            QTRY_VERIFY_WITH_TIMEOUT(load.accepted() >= 500, 60'000);
            load.stop();
            QVERIFY(venue.stop());
            lastCommand = load.seedCommands() + load.records().size();
        }
        const QStringList before = dump(*url);
        QVERIFY(!before.isEmpty());
        {
            auto connection = sql::ConnectionFactory(*url).open(u"damage");
            QVERIFY2(connection.hasValue(), connection.hasValue() ? "" : qPrintable(connection.error()));
            QCOMPARE(connection->execute(damage), std::nullopt);
        }
        const QStringList damaged = dump(*url);
        QVERIFY(damaged != before);

        QTemporaryDir dataDir;
        QProcess bourse;
        bourse.setProgram(QStringLiteral(BOURSE_BINARY));
        bourse.setArguments({QStringLiteral("--headless"), QStringLiteral("--data-dir"), dataDir.path(),
                             QStringLiteral("--database-url"), test::TestDatabases::urlWithPassword(*url)});
        bourse.start();
        QVERIFY(bourse.waitForFinished(60'000));
        QCOMPARE(bourse.exitStatus(), QProcess::NormalExit);
        const QString err = QString::fromUtf8(bourse.readAllStandardError());
        QCOMPARE(bourse.exitCode(), 1);
        QCOMPARE(err.count(QLatin1Char('\n')), 1);
        QVERIFY2(err.startsWith(QStringLiteral("bourse: journal: ")), qPrintable(err));
        QVERIFY2(err.contains(QString(expected).replace(QStringLiteral("$LAST"), QString::number(lastCommand))),
                 qPrintable(err));
        QVERIFY2(err.contains(QStringLiteral("restore")), qPrintable(err));
        QVERIFY2(!err.contains(url->password) || url->password.isEmpty(), "the password leaked");
        // Nothing repaired, nothing dropped, nothing added.
        QCOMPARE(dump(*url), damaged);
    }

    // A batch handed to a journal whose thread has ended is answered at once, with an error: its caller
    // must never wait for an answer that cannot come.
    void appendAfterStopFailsAtOnce()
    {
        const auto url = m_databases->freshMigrated(sql::DatabaseUrl::Driver::Sqlite);
        QVERIFY2(url.hasValue(), url.hasValue() ? "" : qPrintable(url.error()));
        sql::JournalWriter journal{sql::ConnectionFactory(*url)};
        journal.start();
        journal.stop();
        sql::JournalBatch batch;
        batch.commands.push_back(sql::JournalCommand{1, Command{now(), Deposit{1, AssetCode("USD"), decimal("1")}}, 0, 0});
        bool answered = false;
        QString error;
        journal.append(std::move(batch), [&](const Expected<sql::JournalPosition, QString> &written, sql::JournalBatch &&back) {
            answered = true;
            error = written ? QString() : written.error();
            QCOMPARE(back.commands.size(), std::size_t(1));
        });
        QVERIFY(answered);
        QCOMPARE(error, QStringLiteral("the journal has stopped"));
        QCOMPARE(journal.pendingEvents(), std::size_t(0));
    }

    void cleanupTestCase() { m_databases.reset(); }

private:
    // The fault tests' course: a venue under load; `fault()` while it runs; no acks and refusals while the
    // journal cannot write; `repair()`; the writer resumes by itself; then everything checked.
    template<typename Fault, typename Repair>
    void failUnderLoad(const sql::DatabaseUrl &url, Fault fault, Repair repair)
    {
        Venue venue(url);
        const QString started = venue.start(url);
        QVERIFY2(started.isEmpty(), qPrintable(started));
        Load load(venue.host());
        QVERIFY(load.seed());
        load.start();
        QTRY_VERIFY_WITH_TIMEOUT(load.accepted() >= 3'000, 60'000);

        fault();
        if (QTest::currentTestFailed())
            return;
        expectRefusalsAndNoAcks(venue, load);
        if (QTest::currentTestFailed())
            return;

        repair();
        if (QTest::currentTestFailed())
            return;
        const std::uint64_t before = load.accepted();
        QTRY_VERIFY_WITH_TIMEOUT(load.accepted() >= before + 3'000, 60'000);
        QVERIFY(venue.recoveries() >= 1);
        QVERIFY(venue.journal().isAvailable());
        load.stop();
        verifyExactlyOnce(url, venue, load);
    }

    // While the journal cannot write: refusals come, and no command is acknowledged.
    void expectRefusalsAndNoAcks(Venue &venue, const Load &load)
    {
        QTRY_VERIFY_WITH_TIMEOUT(!venue.journal().isAvailable(), 60'000);
        QTRY_VERIFY_WITH_TIMEOUT(load.refused() > 0, 60'000);
        QVERIFY(venue.failures() >= 1);
        QVERIFY(!venue.lastFailure().isEmpty());
        // Acks completed just before the failure may still be on their way to the load thread.
        QTest::qWait(200);
        const std::uint64_t acked = load.accepted();
        const std::uint64_t refused = load.refused();
        QTest::qWait(1'000);
        QCOMPARE(load.accepted(), acked);
        QVERIFY(load.refused() > refused); // still refusing, and answering at once
        qInfo("journal failing: %d failed writes so far, last: %s", venue.failures(), qPrintable(venue.lastFailure()));
    }

    void verifyExactlyOnce(const sql::DatabaseUrl &url, Venue &venue, const Load &load)
    {
        const std::unique_ptr<Sequencer> engine = venue.stop();
        QVERIFY(engine);
        QCOMPARE(load.unexpected(), std::uint64_t(0));
        auto connection = sql::ConnectionFactory(url).open(u"verify");
        QVERIFY2(connection.hasValue(), connection.hasValue() ? "" : qPrintable(connection.error()));

        // Recovery rebuilds exactly the engine that ran.
        auto recovered = sql::recoverJournal(connection->database());
        QVERIFY2(recovered.hasValue(), recovered.hasValue() ? "" : qPrintable(recovered.error()));
        QCOMPARE(recovered->engine->stateHash(), engine->stateHash());
        QCOMPARE(recovered->engine->lastSeq(), engine->lastSeq());

        // Every applied command once, and nothing else: refused commands never reached the engine.
        std::size_t accepted = 0;
        std::size_t refused = 0;
        for (const Load::Record &record : load.records()) {
            accepted += record.outcome == Load::Outcome::Accepted;
            refused += record.outcome == Load::Outcome::Refused;
        }
        QVERIFY(refused > 0);
        QCOMPARE(accepted + refused, load.records().size());
        QSqlQuery commands(connection->database());
        QVERIFY(commands.exec(QStringLiteral("SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM commands")) && commands.next());
        QCOMPARE(commands.value(0).toULongLong(), std::uint64_t(load.seedCommands() + accepted));
        QCOMPARE(commands.value(1).toULongLong(), std::uint64_t(load.seedCommands() + accepted));

        QHash<QString, int> orders; // "<user>/<client order id>" → rows
        QSqlQuery rows(connection->database());
        rows.setForwardOnly(true);
        QVERIFY2(rows.exec(QStringLiteral("SELECT user_id, client_order_id FROM orders")),
                 qPrintable(rows.lastError().text()));
        while (rows.next())
            ++orders[rows.value(0).toString() + u'/' + rows.value(1).toString()];
        QCOMPARE(std::size_t(orders.size()), accepted);
        for (const Load::Record &record : load.records()) {
            const int count = orders.value(QString::number(record.account) + u'/' + record.clientOrderId);
            if (count != (record.outcome == Load::Outcome::Accepted ? 1 : 0))
                QFAIL(qPrintable(QStringLiteral("order %1 of account %2: %3 rows, outcome %4")
                                     .arg(record.clientOrderId)
                                     .arg(record.account)
                                     .arg(count)
                                     .arg(int(record.outcome))));
        }
        qInfo("%zu orders acknowledged, %zu refused while the journal failed; %d failed writes, all present once",
              accepted, refused, venue.failures());
    }

    // Every journal row, as text, in order: to show that a failed start changed nothing.
    static QStringList dump(const sql::DatabaseUrl &url)
    {
        QStringList lines;
        auto connection = sql::ConnectionFactory(url).open(u"dump");
        if (!connection)
            return {};
        for (const QString &table : {QStringLiteral("commands"), QStringLiteral("events"), QStringLiteral("snapshots")}) {
            QSqlQuery query(connection->database());
            query.setForwardOnly(true);
            if (!query.exec(QStringLiteral("SELECT * FROM %1 ORDER BY 1").arg(table)))
                return {};
            while (query.next()) {
                QString line = table;
                for (int i = 0; i < query.record().count(); ++i)
                    line += u'|' + query.value(i).toByteArray().toHex();
                lines << line;
            }
        }
        return lines;
    }

    std::unique_ptr<test::TestDatabases> m_databases;
};

QTEST_GUILESS_MAIN(tst_Faults)
#include "tst_faults.moc"
