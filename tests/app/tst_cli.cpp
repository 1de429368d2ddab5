// Tests of the built `bourse` binary, run as a process: --help and --version; every kind of bad input exits
// 2 with exactly one line on stderr and writes nothing; so does a database that cannot be reached or
// opened, or whose schema is newer than this bourse; a valid run creates bourse.db with the schema in a
// fresh data dir (and finds nothing to migrate the next time), starts the engine and the API, answers
// GET /health on its port, and exits 0 well within 10 s of SIGTERM or SIGINT. HOME and XDG_DATA_HOME point into a
// temporary directory, so the user's own data dir is never touched.
#include "bourse_process.h"
#include "connection.h"
#include "migrations.h"

#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QSqlQuery>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <memory>
#include <sys/stat.h>

namespace {

using bourse::test::freePort;
using bourse::test::modeOf;

constexpr int kTimeoutMs = 10'000;

// A bourse of this build, as a process.
class Bourse final
{
public:
    Bourse(const QProcessEnvironment &environment, const QStringList &arguments)
        : m_bourse(QStringLiteral(BOURSE_BINARY), environment, arguments)
    {}
    QProcess &process() { return m_bourse.process(); }
    QByteArray standardError() { return m_bourse.standardError(); }
    QByteArray standardOutput() { return m_bourse.standardOutput(); }
    QByteArrayList errorLines() { return m_bourse.errorLines(); }
    void signal(int signalNumber) { m_bourse.signal(signalNumber); }

private:
    bourse::test::Bourse m_bourse;
};

} // namespace

class tst_Cli final : public QObject
{
    Q_OBJECT

private slots:
    void init();

    void help();
    void version();
    void badInput_data();
    void badInput();
    void runsUntilSignalled_data();
    void runsUntilSignalled();
    void defaultDataDir();
    void configFileInTheDataDir();
    void displayWithoutHeadless();
    void logLevelFilters();
    void badDatabase_data();
    void badDatabase();
    void freshDataDirGetsTheSchema();
    void secondBourseOnOneDatabaseIsRefused();
    void newerSchemaIsRefused();
    void configCheck();

private:
    QString expand(QString text) const { return text.replace(QStringLiteral("$TMP"), m_dir->path()); }
    QProcessEnvironment environment(const QStringList &extra = {}) const;
    QStringList tree() const;
    void waitForLine(Bourse &bourse, const QByteArray &text);
    void stop(Bourse &bourse, int signalNumber);

    std::unique_ptr<QTemporaryDir> m_dir;
};

QProcessEnvironment tst_Cli::environment(const QStringList &extra) const
{
    QProcessEnvironment env = bourse::test::isolatedEnvironment(m_dir->path());
    for (const QString &entry : extra) {
        const qsizetype equals = entry.indexOf(u'=');
        env.insert(entry.left(equals), expand(entry.mid(equals + 1)));
    }
    return env;
}

QStringList tst_Cli::tree() const
{
    QStringList paths;
    QDirIterator it(m_dir->path(), QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
    while (it.hasNext())
        paths.append(it.next());
    paths.sort();
    return paths;
}

void tst_Cli::waitForLine(Bourse &bourse, const QByteArray &text)
{
    QTRY_VERIFY2_WITH_TIMEOUT(bourse.standardError().contains(text), bourse.standardError().constData(), kTimeoutMs);
}

void tst_Cli::stop(Bourse &bourse, int signalNumber)
{
    QElapsedTimer timer;
    timer.start();
    bourse.signal(signalNumber);
    QTRY_COMPARE_WITH_TIMEOUT(bourse.process().state(), QProcess::NotRunning, kTimeoutMs);
    QVERIFY(timer.elapsed() < kTimeoutMs);
    QCOMPARE(bourse.process().exitStatus(), QProcess::NormalExit);
    QCOMPARE(bourse.process().exitCode(), 0);
    QVERIFY(bourse.standardError().contains("shutting down"));
    QVERIFY(bourse.standardOutput().isEmpty());
}

void tst_Cli::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    QVERIFY(QDir(m_dir->path()).mkdir(QStringLiteral("home")));
}

void tst_Cli::help()
{
    const QStringList before = tree();
    Bourse bourse(environment(), {QStringLiteral("--help")});
    QVERIFY(bourse.process().waitForFinished(kTimeoutMs));
    QCOMPARE(bourse.process().exitStatus(), QProcess::NormalExit);
    QCOMPARE(bourse.process().exitCode(), 0);
    const QByteArray out = bourse.standardOutput();
    QVERIFY2(out.startsWith("Usage: bourse [options]                     run the venue\n"), out.constData());
    // The default data dir shown is the real one, from XDG_DATA_HOME.
    QVERIFY(out.contains(expand(QStringLiteral("$TMP/xdg/bourse")).toUtf8()));
    QCOMPARE(bourse.standardError(), QByteArray());
    QCOMPARE(tree(), before);
}

void tst_Cli::version()
{
    const QStringList before = tree();
    Bourse bourse(environment(), {QStringLiteral("--version")});
    QVERIFY(bourse.process().waitForFinished(kTimeoutMs));
    QCOMPARE(bourse.process().exitCode(), 0);
    QCOMPARE(bourse.standardOutput(), QByteArray("bourse " BOURSE_TEST_VERSION "\n"));
    QCOMPARE(bourse.standardError(), QByteArray());
    QCOMPARE(tree(), before);
}

void tst_Cli::badInput_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QStringList>("environment");
    QTest::addColumn<QString>("configFile"); // content of $TMP/c.toml when not empty
    QTest::addColumn<QString>("error");

    const QStringList none;
    QTest::newRow("unknown option") << QStringList{"--bogus"} << none << ""
                                    << "bourse: --bogus: unknown option (see bourse --help)";
    QTest::newRow("port out of range") << QStringList{"--listen", "127.0.0.1:99999"} << none << ""
                                       << "bourse: --listen: port must be 1-65535, got \"99999\"";
    QTest::newRow("IPv6 without brackets") << QStringList{"--listen=::1:8080"} << none << ""
                                           << "bourse: --listen: IPv6 addresses go in brackets, e.g. [::1]:8080, "
                                              "got \"::1:8080\"";
    QTest::newRow("missing value") << QStringList{"--data-dir"} << none << ""
                                   << "bourse: --data-dir: needs a value";
    QTest::newRow("positional argument")
        << QStringList{"serve"} << none << ""
        << "bourse: unknown command \"serve\" (commands: config check, backup, restore, verify, admin "
           "reset-password; see bourse --help)";
    QTest::newRow("flag with a value") << QStringList{"--headless=1"} << none << ""
                                       << "bourse: --headless: takes no value";
    QTest::newRow("bad log format") << QStringList{"--log-format", "xml"} << none << ""
                                    << "bourse: --log-format: expected text or json, got \"xml\"";
    QTest::newRow("bad env value") << none << QStringList{"BOURSE_LOG_LEVEL=loud"} << ""
                                   << "bourse: BOURSE_LOG_LEVEL: expected debug, info, warning or error, got \"loud\"";
    QTest::newRow("bad database URL") << QStringList{"--database-url", "postgresql://u:secret@db:0/x"} << none << ""
                                      << "bourse: --database-url: port must be 1-65535, got \"0\"";
    QTest::newRow("missing --config")
        << QStringList{"--config", "$TMP/missing.toml"} << none << ""
        << "bourse: --config: cannot read \"$TMP/missing.toml\": No such file or directory";
    QTest::newRow("unknown key in the config")
        << QStringList{"--config", "$TMP/c.toml"} << none << "log_level = \"info\"\nlisen = \"x\"\n"
        << "bourse: $TMP/c.toml:2: lisen: unknown key";
    QTest::newRow("data dir cannot be created") << QStringList{"--data-dir", "$TMP/c.toml/data"} << none << "x = 1"
                                                << "bourse: data dir: cannot create \"$TMP/c.toml\"";
    QTest::newRow("data dir is a file") << QStringList{"--data-dir", "$TMP/c.toml"} << none << "x = 1"
                                        << "bourse: --data-dir: \"$TMP/c.toml\" exists and is not a directory";
}

void tst_Cli::badInput()
{
    QFETCH(QStringList, arguments);
    QFETCH(QStringList, environment);
    QFETCH(QString, configFile);
    QFETCH(QString, error);

    if (!configFile.isEmpty()) {
        QFile file(m_dir->filePath(QStringLiteral("c.toml")));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(configFile.toUtf8());
    }
    // Every row names a data dir of its own unless it is about --data-dir, so that "nothing written"
    // covers the default and the named one alike.
    QStringList args;
    for (const QString &argument : arguments)
        args.append(expand(argument));
    if (!arguments.contains(QStringLiteral("--data-dir")))
        args << QStringLiteral("--data-dir") << m_dir->filePath(QStringLiteral("data"));
    const QStringList before = tree();

    Bourse bourse(this->environment(environment), args);
    QVERIFY(bourse.process().waitForFinished(kTimeoutMs));
    QCOMPARE(bourse.process().exitStatus(), QProcess::NormalExit);
    QCOMPARE(bourse.process().exitCode(), 2);
    QCOMPARE(QString::fromUtf8(bourse.standardError()), expand(error) + u'\n');
    QCOMPARE(bourse.standardOutput(), QByteArray());
    QCOMPARE(tree(), before);
    QVERIFY(!bourse.standardError().contains("secret"));
}

void tst_Cli::runsUntilSignalled_data()
{
    QTest::addColumn<int>("signalNumber");
    QTest::addColumn<QString>("format");

    QTest::newRow("SIGTERM, text log") << int(SIGTERM) << "text";
    QTest::newRow("SIGINT, text log") << int(SIGINT) << "text";
    QTest::newRow("SIGTERM, JSON log") << int(SIGTERM) << "json";
}

void tst_Cli::runsUntilSignalled()
{
    QFETCH(int, signalNumber);
    QFETCH(QString, format);

    const quint16 port = freePort();
    QVERIFY(port != 0);
    const QString dataDir = m_dir->filePath(QStringLiteral("data"));
    Bourse bourse(environment(),
                  {QStringLiteral("--headless"), QStringLiteral("--data-dir"), dataDir, QStringLiteral("--listen"),
                   QStringLiteral("127.0.0.1:%1").arg(port), QStringLiteral("--log-format"), format});
    waitForLine(bourse, "serving the API");

    QCOMPARE(modeOf(dataDir), 0700);
    const QByteArray log = bourse.standardError();
    for (const char *symbol : {"BTC-USD", "ETH-USD", "XAU-USD"})
        QVERIFY2(log.contains(symbol), symbol);
    QVERIFY(log.contains("serving the API"));
    QVERIFY(log.contains(QStringLiteral("127.0.0.1:%1").arg(port).toUtf8()));

    // It serves: the health route answers on the port it was given.
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    QVERIFY(socket.waitForConnected(kTimeoutMs));
    socket.write("GET /health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    QByteArray response;
    while (socket.waitForReadyRead(kTimeoutMs))
        response += socket.readAll();
    response += socket.readAll();
    QVERIFY2(response.startsWith("HTTP/1.1 200 OK\r\n"), response.constData());
    QVERIFY2(response.contains("\"status\":\"ok\""), response.constData());

    stop(bourse, signalNumber);
    const QByteArrayList lines = bourse.errorLines();
    QVERIFY(lines.size() >= 7);
    static const QRegularExpression kTextLine(
        QStringLiteral("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z (debug|info |warning|error|fatal) "
                       "[a-z.]+  \\S"));
    for (const QByteArray &line : lines) {
        if (format == u"json") {
            QJsonParseError error;
            const QJsonDocument document = QJsonDocument::fromJson(line, &error);
            QVERIFY2(error.error == QJsonParseError::NoError && document.isObject(), line.constData());
            for (const char *key : {"ts", "level", "category", "msg"})
                QVERIFY2(document.object().contains(QLatin1StringView(key)), line.constData());
        } else {
            QVERIFY2(kTextLine.match(QString::fromUtf8(line)).hasMatch(), line.constData());
        }
    }
    const QByteArray signalName = signalNumber == SIGINT ? "SIGINT" : "SIGTERM";
    QVERIFY(bourse.standardError().contains(signalName));
}

void tst_Cli::defaultDataDir()
{
    Bourse bourse(environment(), {QStringLiteral("--headless"), QStringLiteral("--listen"),
                                  QStringLiteral("127.0.0.1:%1").arg(freePort())});
    waitForLine(bourse, "serving the API");
    const QString dataDir = m_dir->filePath(QStringLiteral("xdg/bourse"));
    QCOMPARE(modeOf(dataDir), 0700);
    QVERIFY(bourse.standardError().contains(("data_dir=" + dataDir).toUtf8()));
    stop(bourse, SIGTERM);
}

void tst_Cli::configFileInTheDataDir()
{
    const quint16 port = freePort();
    const QString dataDir = m_dir->filePath(QStringLiteral("data"));
    QVERIFY(QDir().mkpath(dataDir));
    QFile config(dataDir + QStringLiteral("/bourse.toml"));
    QVERIFY(config.open(QIODevice::WriteOnly));
    config.write(QStringLiteral("# test\nlog_format = \"json\"\nlisten = \"127.0.0.1:%1\"\n").arg(port).toUtf8());
    config.close();

    Bourse bourse(environment(), {QStringLiteral("--headless"), QStringLiteral("--data-dir"), dataDir});
    waitForLine(bourse, "serving the API");
    const QJsonObject first = QJsonDocument::fromJson(bourse.errorLines().constFirst()).object();
    QCOMPARE(first.value(QStringLiteral("msg")).toString(), QStringLiteral("bourse starting"));
    QCOMPARE(first.value(QStringLiteral("config")).toString(), config.fileName());
    QCOMPARE(first.value(QStringLiteral("listen")).toString(), QStringLiteral("127.0.0.1:%1").arg(port));
    stop(bourse, SIGTERM);
}

void tst_Cli::displayWithoutHeadless()
{
    Bourse bourse(environment({QStringLiteral("DISPLAY=:99")}),
                  {QStringLiteral("--data-dir"), m_dir->filePath(QStringLiteral("data")), QStringLiteral("--listen"),
                   QStringLiteral("127.0.0.1:%1").arg(freePort())});
    waitForLine(bourse, "serving the API");
    // No X server answers at :99: bourse says so and serves headless rather than let Qt abort.
    QVERIFY(bourse.standardError().contains("cannot open the display; running headless"));
    QVERIFY(bourse.standardError().contains("no X server answers at DISPLAY=:99"));
    stop(bourse, SIGTERM);
}

void tst_Cli::logLevelFilters()
{
    // With a DISPLAY that no X server answers and without --headless, bourse warns that it runs headless:
    // a warning line to wait for, among the info lines that must not show.
    Bourse bourse(environment({QStringLiteral("BOURSE_LOG_LEVEL=warning"), QStringLiteral("DISPLAY=:99")}),
                  {QStringLiteral("--data-dir"), m_dir->filePath(QStringLiteral("data")), QStringLiteral("--listen"),
                   QStringLiteral("127.0.0.1:%1").arg(freePort())});
    waitForLine(bourse, "cannot open the display");
    bourse.signal(SIGTERM);
    QTRY_COMPARE_WITH_TIMEOUT(bourse.process().state(), QProcess::NotRunning, kTimeoutMs);
    QCOMPARE(bourse.process().exitCode(), 0);
    for (const QByteArray &line : bourse.errorLines())
        QVERIFY2(line.contains(" warning ") || line.contains(" error "), line.constData());
}

void tst_Cli::badDatabase_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QStringList>("environment");
    QTest::addColumn<QByteArray>("existingDatabase"); // content of $TMP/data/bourse.db when not empty
    QTest::addColumn<QString>("error");               // the start of the line; $CLOSED: a closed port

    const QStringList none;
    QTest::newRow("postgresql, closed port")
        << QStringList{"--database-url", "postgresql://bourse:s3cret@127.0.0.1:$CLOSED/x"} << none << QByteArray()
        << "bourse: database: postgresql://bourse:***@127.0.0.1:$CLOSED/x: connection to server at \"127.0.0.1\", "
           "port $CLOSED failed: Connection refused";
    QTest::newRow("postgresql from the environment, closed port")
        << none << QStringList{"BOURSE_DATABASE_URL=postgresql://u:s3cret@127.0.0.1:$CLOSED/venue"} << QByteArray()
        << "bourse: database: postgresql://u:***@127.0.0.1:$CLOSED/venue: connection to server at \"127.0.0.1\", "
           "port $CLOSED failed: Connection refused";
    QTest::newRow("sqlite, not a database")
        << none << none << QByteArray(4096, 'x')
        << "bourse: database: sqlite:$TMP/data/bourse.db: PRAGMA journal_mode=WAL: file is not a database";
}

void tst_Cli::badDatabase()
{
    QFETCH(QStringList, arguments);
    QFETCH(QStringList, environment);
    QFETCH(QByteArray, existingDatabase);
    QFETCH(QString, error);

    const QString dataDir = m_dir->filePath(QStringLiteral("data"));
    if (!existingDatabase.isEmpty()) {
        QVERIFY(QDir().mkpath(dataDir));
        QFile database(dataDir + QStringLiteral("/bourse.db"));
        QVERIFY(database.open(QIODevice::WriteOnly));
        database.write(existingDatabase);
    }
    const QString closed = QString::number(freePort());
    const auto expandAll = [&](QString text) { return expand(text.replace(QStringLiteral("$CLOSED"), closed)); };
    QStringList args{QStringLiteral("--headless"), QStringLiteral("--data-dir"), dataDir};
    for (const QString &argument : arguments)
        args.append(expandAll(argument));
    QStringList env;
    for (const QString &entry : environment)
        env.append(expandAll(entry));
    const QStringList before = tree();

    Bourse bourse(this->environment(env), args);
    QVERIFY(bourse.process().waitForFinished(kTimeoutMs));
    QCOMPARE(bourse.process().exitStatus(), QProcess::NormalExit);
    QCOMPARE(bourse.process().exitCode(), 2);
    const QByteArrayList lines = bourse.errorLines();
    QCOMPARE(lines.size(), 1);
    QVERIFY2(QString::fromUtf8(lines.constFirst()).startsWith(expandAll(error)), lines.constFirst().constData());
    QVERIFY(!bourse.standardError().contains("s3cret"));
    QCOMPARE(bourse.standardOutput(), QByteArray());
    QCOMPARE(tree(), before); // an unreachable database leaves not even the data dir behind
}

void tst_Cli::freshDataDirGetsTheSchema()
{
    const QString dataDir = m_dir->filePath(QStringLiteral("data"));
    const QString databasePath = dataDir + QStringLiteral("/bourse.db");
    const auto migrations = bourse::sql::MigrationSet::builtIn(bourse::sql::DatabaseUrl::Driver::Sqlite);
    QVERIFY(migrations.hasValue());
    const QString latest = QString::number(migrations->latestVersion());
    QStringList ids;
    for (const bourse::sql::Migration &migration : migrations->migrations())
        ids << migration.id();
    const QStringList arguments{QStringLiteral("--headless"), QStringLiteral("--data-dir"), dataDir,
                                QStringLiteral("--listen"), QStringLiteral("127.0.0.1:%1").arg(freePort())};
    {
        Bourse bourse(environment(), arguments);
        waitForLine(bourse, "serving the API");
        const QByteArray log = bourse.standardError();
        QVERIFY2(log.contains("database ready database=sqlite:" + databasePath.toUtf8()
                              + " schema_version=" + latest.toUtf8() + " migrated_from=0 applied=" + ids.join(u',').toUtf8()),
                 log.constData());
        QVERIFY2(log.contains("journal recovered commands=0 replayed=0"), log.constData());
        QCOMPARE(log.count("instrument added"), 3);
        stop(bourse, SIGTERM);
    }
    QVERIFY(QFileInfo::exists(databasePath));
    {
        auto connection = bourse::sql::ConnectionFactory(bourse::sql::DatabaseUrl::sqlite(databasePath)).open(u"test");
        QVERIFY2(connection.hasValue(), qPrintable(connection.hasValue() ? QString() : connection.error()));
        QSqlQuery query(connection.value().database());
        QVERIFY(query.exec(QStringLiteral("SELECT max(version), count(*) FROM schema_migrations")) && query.next());
        QCOMPARE(query.value(0).toString(), latest);
        QCOMPARE(query.value(1).toString(), latest);
        QVERIFY(query.exec(QStringLiteral("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                                          "('commands', 'events', 'orders', 'trades', 'balances', 'users')"))
                && query.next());
        QCOMPARE(query.value(0).toInt(), 6);
        // The default instruments went through the journal: three commands, each with its event.
        QVERIFY(query.exec(QStringLiteral("SELECT count(*), max(seq) FROM commands")) && query.next());
        QCOMPARE(query.value(0).toInt(), 3);
        QCOMPARE(query.value(1).toInt(), 3);
    }

    // The next start finds the schema up to date and the venue in its journal: recovered, not seeded again.
    Bourse again(environment(), arguments);
    waitForLine(again, "serving the API");
    const QByteArray log = again.standardError();
    QVERIFY2(log.contains("schema_version=" + latest.toUtf8() + " migrated_from=" + latest.toUtf8() + " applied=none"),
             log.constData());
    QVERIFY2(log.contains("journal recovered commands=3 replayed=3 snapshot_command=0"), log.constData());
    QCOMPARE(log.count("instrument added"), 0);
    stop(again, SIGTERM);
}

void tst_Cli::secondBourseOnOneDatabaseIsRefused()
{
    const QString dataDir = m_dir->filePath(QStringLiteral("data"));
    Bourse first(environment(), {QStringLiteral("--headless"), QStringLiteral("--data-dir"), dataDir,
                                 QStringLiteral("--listen"), QStringLiteral("127.0.0.1:%1").arg(freePort())});
    waitForLine(first, "serving the API");
    Bourse second(environment(), {QStringLiteral("--headless"), QStringLiteral("--data-dir"), dataDir,
                                  QStringLiteral("--listen"), QStringLiteral("127.0.0.1:%1").arg(freePort())});
    QVERIFY(second.process().waitForFinished(kTimeoutMs));
    QCOMPARE(second.process().exitCode(), 2);
    QCOMPARE(QString::fromUtf8(second.standardError()),
             QStringLiteral("bourse: database: sqlite:%1/bourse.db: another bourse process is using this database\n")
                 .arg(dataDir));
    stop(first, SIGTERM);
    // Once the first has gone, the database is free again.
    Bourse third(environment(), {QStringLiteral("--headless"), QStringLiteral("--data-dir"), dataDir,
                                 QStringLiteral("--listen"), QStringLiteral("127.0.0.1:%1").arg(freePort())});
    waitForLine(third, "serving the API");
    stop(third, SIGTERM);
}

void tst_Cli::newerSchemaIsRefused()
{
    const QString dataDir = m_dir->filePath(QStringLiteral("data"));
    const QString databasePath = dataDir + QStringLiteral("/bourse.db");
    QVERIFY(QDir().mkpath(dataDir));
    {
        // What a later bourse would leave: a migration this one has never heard of.
        const auto url = bourse::sql::DatabaseUrl::sqlite(databasePath);
        auto connection = bourse::sql::ConnectionFactory(url).open(u"test");
        QVERIFY(connection.hasValue());
        const auto migrations = bourse::sql::MigrationSet::builtIn(url.driver);
        QVERIFY(migrations.hasValue());
        QVERIFY(bourse::sql::applyMigrations(connection.value(), *migrations).hasValue());
        QCOMPARE(connection.value().execute(QStringLiteral("INSERT INTO schema_migrations VALUES (99, 'future', '%1', "
                                                           "'2030-01-01T00:00:00.000Z')")
                                                .arg(QString(64, u'f'))),
                 std::nullopt);
    }
    const auto migrations = bourse::sql::MigrationSet::builtIn(bourse::sql::DatabaseUrl::Driver::Sqlite);
    QVERIFY(migrations.hasValue());
    const QStringList before = tree();
    Bourse bourse(environment(), {QStringLiteral("--headless"), QStringLiteral("--data-dir"), dataDir});
    QVERIFY(bourse.process().waitForFinished(kTimeoutMs));
    QCOMPARE(bourse.process().exitCode(), 2);
    QCOMPARE(QString::fromUtf8(bourse.standardError()),
             QStringLiteral("bourse: database: sqlite:%1: the database's schema is at version 99 (0099_future), newer "
                            "than this bourse knows (latest %2); run the bourse that migrated it, or a newer one\n")
                 .arg(databasePath, migrations->migrations().constLast().id()));
    QCOMPARE(tree(), before);
}

// `bourse config check FILE`: 0 and "valid" for a good file (the shipped default among them), 1 and every
// problem in file order, then a count, for a bad one; 2 without FILE. It writes nothing, and the venue's
// environment does not come into it.
void tst_Cli::configCheck()
{
    QFile bad(m_dir->filePath(QStringLiteral("bad.toml")));
    QVERIFY(bad.open(QIODevice::WriteOnly));
    bad.write("listen = \"127.0.0.1:0\"\nlog_level = \"loud\"\nlisen = \"x\"\n[limits]\nlogin_max_failures = 0\n");
    bad.close();
    const QStringList before = tree();
    {
        Bourse bourse(environment({QStringLiteral("BOURSE_LISTEN=nowhere")}),
                      {QStringLiteral("config"), QStringLiteral("check"), QStringLiteral(BOURSE_SOURCE_DIR "/resources/bourse.toml")});
        QVERIFY(bourse.process().waitForFinished(kTimeoutMs));
        QCOMPARE(bourse.process().exitCode(), 0);
        QCOMPARE(bourse.standardOutput(), QByteArray(BOURSE_SOURCE_DIR "/resources/bourse.toml: valid\n"));
        QCOMPARE(bourse.standardError(), QByteArray());
    }
    {
        Bourse bourse(environment(), {QStringLiteral("config"), QStringLiteral("check"), bad.fileName()});
        QVERIFY(bourse.process().waitForFinished(kTimeoutMs));
        QCOMPARE(bourse.process().exitCode(), 1);
        QCOMPARE(bourse.standardOutput(), QByteArray());
        const QByteArray file = bad.fileName().toUtf8();
        QCOMPARE(bourse.errorLines(),
                 QByteArrayList({file + ":1: listen: port must be 1-65535, got \"0\"",
                                 file + ":2: log_level: expected debug, info, warning or error, got \"loud\"",
                                 file + ":3: lisen: unknown key",
                                 file + ":5: limits.login_max_failures: expected an integer from 1 to 1000, got \"0\"",
                                 "bourse config check: " + file + ": 4 problems"}));
    }
    {
        Bourse bourse(environment(), {QStringLiteral("config"), QStringLiteral("check")});
        QVERIFY(bourse.process().waitForFinished(kTimeoutMs));
        QCOMPARE(bourse.process().exitCode(), 2);
        QCOMPARE(bourse.errorLines(),
                 QByteArrayList({"bourse: config check: needs FILE (usage: bourse config check FILE [options])"}));
    }
    QCOMPARE(tree(), before);
}

QTEST_GUILESS_MAIN(tst_Cli)
#include "tst_cli.moc"
