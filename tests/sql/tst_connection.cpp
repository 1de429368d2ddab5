// Tests of the connection factory against a real SQLite file and a real PostgreSQL 15 (a private cluster
// per run): both open and answer; SQLite really runs with WAL, synchronous=FULL, foreign keys and the busy
// timeout; PostgreSQL's session commits synchronously and takes the URL's options, however they are quoted;
// every bad or unreachable URL gives one line without the password; and a connection belongs to the thread
// that opened it, so two threads writing at once each use their own.
#include "connection.h"
#include "test_databases.h"

#include <QElapsedTimer>
#include <QFile>
#include <QSemaphore>
#include <QSqlError>
#include <QSqlQuery>
#include <QTcpServer>
#include <QTest>
#include <QThread>

#include <memory>

using bourse::sql::Connection;
using bourse::sql::ConnectionFactory;
using bourse::sql::ConnectionSettings;
using bourse::sql::DatabaseUrl;
using bourse::test::TestDatabases;

namespace {

QVariant scalar(Connection &connection, const QString &statement)
{
    QSqlQuery query(connection.database());
    if (!query.exec(statement) || !query.next()) {
        qWarning("%s: %s", qPrintable(statement), qPrintable(query.lastError().text()));
        return {};
    }
    return query.value(0);
}

// A port that was free a moment ago and that nothing listens on now.
quint16 closedPort()
{
    QTcpServer server;
    if (!server.listen(QHostAddress::LocalHost, 0))
        return 0;
    return server.serverPort();
}

} // namespace

class tst_Connection final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();

    void opens_data();
    void opens();
    void sqliteSettings();
    void postgresqlSession();
    void postgresqlOptionsAreQuoted_data();
    void postgresqlOptionsAreQuoted();
    void refused_data();
    void refused();
    void namesAreUnique_data() { opens_data(); }
    void namesAreUnique();
    void connectionPerThread_data() { opens_data(); }
    void connectionPerThread();

private:
    DatabaseUrl fresh(DatabaseUrl::Driver driver);

    std::unique_ptr<TestDatabases> m_databases;
};

void tst_Connection::initTestCase()
{
    QElapsedTimer timer;
    timer.start();
    auto databases = TestDatabases::create();
    QVERIFY2(databases.hasValue(), qPrintable(databases.hasValue() ? QString() : databases.error()));
    m_databases = std::move(databases.value());
    qInfo("PostgreSQL 15 cluster on 127.0.0.1:%d, started in %lld ms", m_databases->cluster().port(), timer.elapsed());
}

void tst_Connection::cleanupTestCase()
{
    m_databases.reset();
}

DatabaseUrl tst_Connection::fresh(DatabaseUrl::Driver driver)
{
    auto url = m_databases->fresh(driver);
    if (!url) {
        qWarning("%s", qPrintable(url.error()));
        return {};
    }
    return *url;
}

void tst_Connection::opens_data()
{
    TestDatabases::addDriverRows();
}

void tst_Connection::opens()
{
    QFETCH(DatabaseUrl::Driver, driver);
    const DatabaseUrl url = fresh(driver);
    QString name;
    {
        auto connection = ConnectionFactory(url).open(u"test");
        QVERIFY2(connection.hasValue(), qPrintable(connection.hasValue() ? QString() : connection.error()));
        Connection &open = connection.value();
        name = open.name();
        QVERIFY(name.startsWith(u"bourse.test."));
        QCOMPARE(open.driver(), driver);
        QCOMPARE(open.description(), url.toString());
        QCOMPARE(open.thread(), QThread::currentThread());
        QVERIFY(open.database().isOpen());
        QVERIFY(QSqlDatabase::contains(name));
        QCOMPARE(scalar(open, QStringLiteral("SELECT 6 * 7")).toInt(), 42);
        QCOMPARE(open.execute(QStringLiteral("CREATE TABLE t (x INTEGER)")), std::nullopt);
        const std::optional<QString> error = open.execute(QStringLiteral("SELEKT 1"));
        QVERIFY(error.has_value());
        QVERIFY2(!error->contains(u'\n') && error->contains(u"syntax error"), qPrintable(*error));
    }
    QVERIFY2(!QSqlDatabase::contains(name), "closing a connection removes its name");
}

void tst_Connection::sqliteSettings()
{
    const DatabaseUrl url = fresh(DatabaseUrl::Driver::Sqlite);
    ConnectionSettings settings;
    settings.sqliteBusyTimeout = std::chrono::milliseconds(1234);
    const ConnectionFactory factory(url, settings);
    auto first = factory.open(u"test");
    QVERIFY2(first.hasValue(), qPrintable(first.hasValue() ? QString() : first.error()));
    // The pragmas are per connection (journal_mode aside): a second connection must set them too.
    auto second = factory.open(u"test");
    QVERIFY(second.hasValue());
    for (Connection *connection : {&first.value(), &second.value()}) {
        QCOMPARE(scalar(*connection, QStringLiteral("PRAGMA journal_mode")).toString(), QStringLiteral("wal"));
        QCOMPARE(scalar(*connection, QStringLiteral("PRAGMA synchronous")).toInt(), 2); // FULL
        QCOMPARE(scalar(*connection, QStringLiteral("PRAGMA foreign_keys")).toInt(), 1);
        QCOMPARE(scalar(*connection, QStringLiteral("PRAGMA busy_timeout")).toInt(), 1234);
    }
    QCOMPARE(first.value().execute(QStringLiteral("CREATE TABLE t (x INTEGER)")), std::nullopt);
    QVERIFY2(QFile::exists(url.path + QStringLiteral("-wal")), "a write goes to the write-ahead log");
}

void tst_Connection::postgresqlSession()
{
    auto connection = ConnectionFactory(fresh(DatabaseUrl::Driver::PostgreSql)).open(u"journal");
    QVERIFY2(connection.hasValue(), qPrintable(connection.hasValue() ? QString() : connection.error()));
    Connection &open = connection.value();
    QCOMPARE(scalar(open, QStringLiteral("SHOW synchronous_commit")).toString(), QStringLiteral("on"));
    QCOMPARE(scalar(open, QStringLiteral("SHOW fsync")).toString(), QStringLiteral("on"));
    QCOMPARE(scalar(open, QStringLiteral("SHOW client_min_messages")).toString(), QStringLiteral("warning"));
    QCOMPARE(scalar(open, QStringLiteral("SHOW application_name")).toString(), QStringLiteral("bourse-journal"));
    QVERIFY(scalar(open, QStringLiteral("SELECT current_setting('server_version_num')::integer")).toInt() >= 150000);
}

void tst_Connection::postgresqlOptionsAreQuoted_data()
{
    QTest::addColumn<QString>("options"); // the URL's query, percent-encoded
    QTest::addColumn<QString>("setting");
    QTest::addColumn<QString>("value");

    QTest::newRow("application_name with a space") << "application_name=desk%201"
                                                   << "application_name"
                                                   << "desk 1";
    QTest::newRow("application_name with quote and backslash") << "application_name=it%27s%5Cx"
                                                               << "application_name"
                                                               << "it's\\x";
    QTest::newRow("options with spaces") << "options=-c%20statement_timeout%3D1234"
                                         << "statement_timeout"
                                         << "1234ms";
    QTest::newRow("connect_timeout given") << "connect_timeout=3"
                                           << "application_name"
                                           << "bourse-test";
}

void tst_Connection::postgresqlOptionsAreQuoted()
{
    QFETCH(QString, options);
    QFETCH(QString, setting);
    QFETCH(QString, value);

    const DatabaseUrl base = fresh(DatabaseUrl::Driver::PostgreSql);
    const QString text = QStringLiteral("postgresql://%1:%2@127.0.0.1:%3/%4?%5")
                             .arg(base.user, base.password)
                             .arg(base.port)
                             .arg(base.databaseName, options);
    const auto url = DatabaseUrl::parse(text);
    QVERIFY2(url.hasValue(), qPrintable(url.hasValue() ? QString() : url.error()));
    auto connection = ConnectionFactory(*url).open(u"test");
    QVERIFY2(connection.hasValue(), qPrintable(connection.hasValue() ? QString() : connection.error()));
    QCOMPARE(scalar(connection.value(), QStringLiteral("SHOW ") + setting).toString(), value);
}

void tst_Connection::refused_data()
{
    QTest::addColumn<QString>("url");      // $DIR: a temporary directory; $PORT: the cluster; $CLOSED: no one
    QTest::addColumn<QString>("contains"); // in the error, after the URL
    QTest::addColumn<QString>("password"); // which must not appear

    QTest::newRow("sqlite: missing directory") << "sqlite:$DIR/missing/x.db"
                                               << "the directory \"$DIR/missing\" does not exist"
                                               << "";
    QTest::newRow("sqlite: a directory") << "sqlite:$DIR"
                                         << "is a directory, not a database file"
                                         << "";
    QTest::newRow("sqlite: not a database") << "sqlite:$DIR/garbage.db"
                                            << "file is not a database"
                                            << "";
    QTest::newRow("sqlite: in memory, so no WAL") << "sqlite::memory:"
                                                  << "journal_mode is \"memory\", not wal"
                                                  << "";
    QTest::newRow("postgresql: closed port") << "postgresql://bourse:s3cret-pw@127.0.0.1:$CLOSED/x"
                                             << "Connection refused"
                                             << "s3cret-pw";
    QTest::newRow("postgresql: wrong password") << "postgresql://bourse:wr0ng-s3cret@127.0.0.1:$PORT/postgres"
                                                << "password authentication failed for user \"bourse\""
                                                << "wr0ng-s3cret";
    QTest::newRow("postgresql: unknown user") << "postgresql://ghost:gh0st-pw@127.0.0.1:$PORT/postgres"
                                              << "password authentication failed for user \"ghost\""
                                              << "gh0st-pw";
    QTest::newRow("postgresql: unknown database") << "postgresql://bourse:$PASSWORD@127.0.0.1:$PORT/nope"
                                                  << "database \"nope\" does not exist"
                                                  << "$PASSWORD";
    // TEST-NET-1 never answers: libpq gives up after connect_timeout (or at once without a route).
    QTest::newRow("postgresql: unreachable host") << "postgresql://bourse:s3cret-pw@192.0.2.1:5432/x?connect_timeout=2"
                                                  << "192.0.2.1"
                                                  << "s3cret-pw";
}

void tst_Connection::refused()
{
    QFETCH(QString, url);
    QFETCH(QString, contains);
    QFETCH(QString, password);

    QFile garbage(m_databases->directory() + QStringLiteral("/garbage.db"));
    QVERIFY(garbage.open(QIODevice::WriteOnly));
    garbage.write(QByteArray(4096, 'x'));
    garbage.close();
    const quint16 closed = closedPort();
    QVERIFY(closed != 0);
    const auto expand = [&](QString text) {
        return text.replace(QStringLiteral("$DIR"), m_databases->directory())
            .replace(QStringLiteral("$PORT"), QString::number(m_databases->cluster().port()))
            .replace(QStringLiteral("$CLOSED"), QString::number(closed))
            .replace(QStringLiteral("$PASSWORD"), m_databases->cluster().password());
    };
    url = expand(url);
    contains = expand(contains);
    password = expand(password);

    const auto parsed = DatabaseUrl::parse(url);
    QVERIFY2(parsed.hasValue(), qPrintable(parsed.hasValue() ? QString() : parsed.error()));
    QElapsedTimer timer;
    timer.start();
    const auto connection = ConnectionFactory(*parsed).open(u"test");
    QVERIFY(timer.elapsed() < 15'000);
    QVERIFY(!connection.hasValue());
    const QString &error = connection.error();
    qInfo("%s", qPrintable(error));
    QVERIFY2(error.startsWith(parsed->toString() + QStringLiteral(": ")), qPrintable(error));
    QVERIFY2(error.contains(contains), qPrintable(error));
    QVERIFY2(!error.contains(u'\n') && !error.contains(u'\r'), qPrintable(error));
    if (!password.isEmpty())
        QVERIFY2(!error.contains(password), qPrintable(error));
}

void tst_Connection::namesAreUnique()
{
    QFETCH(DatabaseUrl::Driver, driver);
    const ConnectionFactory factory(fresh(driver));
    auto first = factory.open(u"query");
    auto second = factory.open(u"query");
    QVERIFY(first.hasValue() && second.hasValue());
    QVERIFY(first->name() != second->name());

    // Moving hands the name over; the moved-from connection is empty and closes nothing.
    const QString name = first->name();
    Connection moved = std::move(first.value());
    QCOMPARE(moved.name(), name);
    QVERIFY(first->name().isEmpty());
    QCOMPARE(scalar(moved, QStringLiteral("SELECT 1")).toInt(), 1);
    moved = std::move(second.value());
    QVERIFY2(!QSqlDatabase::contains(name), "assigning over a connection closes it");
    QCOMPARE(scalar(moved, QStringLiteral("SELECT 2")).toInt(), 2);
}

void tst_Connection::connectionPerThread()
{
    QFETCH(DatabaseUrl::Driver, driver);
    const ConnectionFactory factory(fresh(driver));
    auto mine = factory.open(u"test");
    QVERIFY2(mine.hasValue(), qPrintable(mine.hasValue() ? QString() : mine.error()));
    QCOMPARE(mine.value().execute(QStringLiteral("CREATE TABLE t (worker INTEGER NOT NULL, n INTEGER NOT NULL)")),
             std::nullopt);

    // Two threads open their own connections and write at once (SQLite: one writer at a time, the others
    // wait out the busy timeout), then hold their connections until the test has looked at them.
    constexpr int kRows = 200;
    struct Worker
    {
        std::unique_ptr<QThread> thread;
        QString name;
        QThread *owner = nullptr;
        QString error;
        int written = 0;
    };
    Worker workers[2];
    QSemaphore ready;
    QSemaphore done;
    for (int w = 0; w < 2; ++w) {
        Worker &worker = workers[w];
        worker.thread.reset(QThread::create([&factory, &worker, &ready, &done, w] {
            auto connection = factory.open(u"worker");
            if (!connection) {
                worker.error = connection.error();
                ready.release();
                return;
            }
            worker.name = connection->name();
            worker.owner = connection->thread();
            QSqlQuery insert(connection.value().database());
            insert.prepare(QStringLiteral("INSERT INTO t (worker, n) VALUES (?, ?)"));
            for (int n = 0; n < kRows; ++n) {
                insert.addBindValue(w);
                insert.addBindValue(n);
                if (!insert.exec()) {
                    worker.error = insert.lastError().text();
                    break;
                }
                ++worker.written;
            }
            insert.finish();
            ready.release();
            done.acquire();
        }));
        worker.thread->start();
    }
    ready.acquire(2);

    for (const Worker &worker : workers) {
        QVERIFY2(worker.error.isEmpty(), qPrintable(worker.error));
        QCOMPARE(worker.written, kRows);
        QCOMPARE(worker.owner, worker.thread.get());
        QVERIFY(worker.name != mine->name());
        QVERIFY(QSqlDatabase::contains(worker.name));
        // Qt itself refuses to hand another thread's connection to this one.
        QTest::ignoreMessage(
            QtWarningMsg, "QSqlDatabasePrivate::database: requested database does not belong to the calling thread.");
        QVERIFY(!QSqlDatabase::database(worker.name, false).isValid());
    }
    QVERIFY(workers[0].name != workers[1].name);
    done.release(2);
    for (const Worker &worker : workers) {
        QVERIFY(worker.thread->wait(30'000));
        QVERIFY2(!QSqlDatabase::contains(worker.name), "the worker closed its connection on its own thread");
    }
    QCOMPARE(scalar(mine.value(), QStringLiteral("SELECT count(*) FROM t")).toInt(), 2 * kRows);
    QCOMPARE(scalar(mine.value(), QStringLiteral("SELECT count(DISTINCT worker) FROM t")).toInt(), 2);
}

QTEST_GUILESS_MAIN(tst_Connection)
#include "tst_connection.moc"
