// Tests of Options: each setting's precedence (command line > environment > config file > default), the
// config file's lookup, relative paths, headless detection, --help/--version, and every bad input with its
// exact one-line error. parseOptions() only reads, so the error rows also check that nothing was created.
// The config file: every key the shipped bourse.toml documents is one the parser knows and reaches Options,
// [limits] included; a bad value for every key; checkConfigFile() (`bourse config check`) lists every
// problem in file order, with parseOptions' own messages, whoever runs it (a data dir or TLS file the runner
// may not use is a start's problem, not the file's). "$TMP" in a row stands for the test's temporary directory.
#include "options.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace bourse::app;

class tst_Options final : public QObject
{
    Q_OBJECT

private slots:
    void init();

    void defaults();
    void precedence_data();
    void precedence();
    void configLookup_data();
    void configLookup();
    void paths_data();
    void paths();
    void headless_data();
    void headless();
    void helpAndVersion_data();
    void helpAndVersion();
    void commands_data();
    void commands();
    void listenAddress_data();
    void listenAddress();
    void errors_data();
    void errors();
    void usageNamesEveryOption();
    void shippedConfigShowsTheDefaults();
    void everyDocumentedKeyArrives_data();
    void everyDocumentedKeyArrives();
    void everyKeyIsTested();
    void limits_data();
    void limits();
    void badConfigValues_data();
    void badConfigValues();
    void configCheck_data();
    void configCheck();
    void configCheckIsAboutTheFile_data();
    void configCheckIsAboutTheFile();

private:
    QString expand(const QString &text) const { return QString(text).replace(QStringLiteral("$TMP"), m_dir->path()); }
    QStringList expand(const QStringList &list) const;
    // "path=content" entries, path relative to $TMP.
    void writeFiles(const QStringList &files) const;
    OptionsInput input(const QStringList &arguments, const QStringList &environment) const;
    QStringList tree() const; // every path under $TMP

    std::unique_ptr<QTemporaryDir> m_dir;
};

QStringList tst_Options::expand(const QStringList &list) const
{
    QStringList expanded;
    for (const QString &item : list)
        expanded.append(expand(item));
    return expanded;
}

void tst_Options::writeFiles(const QStringList &files) const
{
    for (const QString &file : files) {
        const qsizetype equals = file.indexOf(u'=');
        const QString path = m_dir->filePath(file.left(equals));
        QVERIFY(QDir().mkpath(QFileInfo(path).absolutePath()));
        QFile out(path);
        QVERIFY(out.open(QIODevice::WriteOnly));
        out.write(expand(file.mid(equals + 1)).toUtf8());
    }
}

OptionsInput tst_Options::input(const QStringList &arguments, const QStringList &environment) const
{
    OptionsInput in;
    in.arguments = expand(arguments);
    for (const QString &entry : environment) {
        const qsizetype equals = entry.indexOf(u'=');
        in.environment.insert(entry.left(equals), expand(entry.mid(equals + 1)));
    }
    in.defaultDataDir = m_dir->filePath(QStringLiteral("default"));
    in.workingDirectory = m_dir->filePath(QStringLiteral("work"));
    return in;
}

QStringList tst_Options::tree() const
{
    QStringList paths;
    QDirIterator it(m_dir->path(), QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
    while (it.hasNext())
        paths.append(it.next());
    paths.sort();
    return paths;
}

void tst_Options::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    QVERIFY(QDir().mkpath(m_dir->filePath(QStringLiteral("work"))));
    QVERIFY(QDir().mkpath(m_dir->filePath(QStringLiteral("home"))));
    // "~" in paths is the home directory; point it somewhere the test owns.
    qputenv("HOME", QFile::encodeName(m_dir->filePath(QStringLiteral("home"))));
}

void tst_Options::defaults()
{
    const auto invocation = parseOptions(input({}, {}));
    QVERIFY2(invocation.hasValue(), qPrintable(invocation.hasValue() ? QString() : invocation.error()));
    QCOMPARE(invocation->action, Invocation::Action::Run);
    const Options &options = invocation->options;
    QCOMPARE(options.listen.toString(), QStringLiteral("127.0.0.1:8080"));
    QCOMPARE(options.dataDir, expand(QStringLiteral("$TMP/default")));
    QCOMPARE(options.database.toString(), expand(QStringLiteral("sqlite:$TMP/default/bourse.db")));
    QCOMPARE(options.configFile, QString());
    QCOMPARE(options.logFormat, LogFormat::Text);
    QCOMPARE(options.logLevel, LogLevel::Info);
    QVERIFY(options.headless); // the test's environment has no display
    QVERIFY(!options.headlessRequested);
    QVERIFY(!QFileInfo::exists(options.dataDir)); // resolved, not created
}

void tst_Options::precedence_data()
{
    QTest::addColumn<QString>("setting");
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QStringList>("environment");
    QTest::addColumn<QString>("config"); // the content of $TMP/conf.toml, named by BOURSE_CONFIG
    QTest::addColumn<QString>("expected");

    const QString listen = QStringLiteral("listen");
    const QString listenConfig = QStringLiteral("listen = \"10.0.0.1:9000\"\n");
    QTest::newRow("listen: default") << listen << QStringList() << QStringList() << QString() << "127.0.0.1:8080";
    QTest::newRow("listen: config") << listen << QStringList() << QStringList() << listenConfig << "10.0.0.1:9000";
    QTest::newRow("listen: env over config")
        << listen << QStringList() << QStringList{"BOURSE_LISTEN=10.0.0.2:9001"} << listenConfig << "10.0.0.2:9001";
    QTest::newRow("listen: command line over env")
        << listen << QStringList{"--listen", "10.0.0.3:9002"} << QStringList{"BOURSE_LISTEN=10.0.0.2:9001"}
        << listenConfig << "10.0.0.3:9002";
    QTest::newRow("listen: --listen=VALUE, IPv6")
        << listen << QStringList{"--listen=[::1]:9003"} << QStringList{"BOURSE_LISTEN=10.0.0.2:9001"} << listenConfig
        << "[::1]:9003";
    QTest::newRow("listen: command line over config")
        << listen << QStringList{"--listen", "localhost:9004"} << QStringList() << listenConfig << "localhost:9004";
    QTest::newRow("listen: an empty env var is unset")
        << listen << QStringList() << QStringList{"BOURSE_LISTEN="} << listenConfig << "10.0.0.1:9000";

    const QString dataDir = QStringLiteral("data_dir");
    const QString dataDirConfig = QStringLiteral("data_dir = \"$TMP/config-dir\"\n");
    QTest::newRow("data_dir: default") << dataDir << QStringList() << QStringList() << QString() << "$TMP/default";
    QTest::newRow("data_dir: config") << dataDir << QStringList() << QStringList() << dataDirConfig
                                      << "$TMP/config-dir";
    QTest::newRow("data_dir: env over config")
        << dataDir << QStringList() << QStringList{"BOURSE_DATA_DIR=$TMP/env-dir"} << dataDirConfig << "$TMP/env-dir";
    QTest::newRow("data_dir: command line over env")
        << dataDir << QStringList{"--data-dir", "$TMP/cli-dir"} << QStringList{"BOURSE_DATA_DIR=$TMP/env-dir"}
        << dataDirConfig << "$TMP/cli-dir";
    QTest::newRow("data_dir: an empty env var is unset")
        << dataDir << QStringList() << QStringList{"BOURSE_DATA_DIR="} << QString() << "$TMP/default";

    const QString database = QStringLiteral("database_url");
    const QString databaseConfig = QStringLiteral("database_url = \"postgresql://u:secret@db/bourse\"\n");
    QTest::newRow("database_url: default")
        << database << QStringList() << QStringList() << QString() << "sqlite:$TMP/default/bourse.db";
    QTest::newRow("database_url: default follows the data dir")
        << database << QStringList{"--data-dir=$TMP/cli-dir"} << QStringList() << QString()
        << "sqlite:$TMP/cli-dir/bourse.db";
    QTest::newRow("database_url: default follows the config's data dir")
        << database << QStringList() << QStringList() << dataDirConfig << "sqlite:$TMP/config-dir/bourse.db";
    QTest::newRow("database_url: config")
        << database << QStringList() << QStringList() << databaseConfig << "postgresql://u:***@db:5432/bourse";
    QTest::newRow("database_url: env over config")
        << database << QStringList() << QStringList{"BOURSE_DATABASE_URL=sqlite:/srv/env.db"} << databaseConfig
        << "sqlite:/srv/env.db";
    QTest::newRow("database_url: command line over env")
        << database << QStringList{"--database-url", "postgres://a@h:6000/x?sslmode=require"}
        << QStringList{"BOURSE_DATABASE_URL=sqlite:/srv/env.db"} << databaseConfig
        << "postgresql://a@h:6000/x?sslmode=require";

    const QString format = QStringLiteral("log_format");
    const QString formatConfig = QStringLiteral("log_format = \"json\"\n");
    QTest::newRow("log_format: default") << format << QStringList() << QStringList() << QString() << "text";
    QTest::newRow("log_format: config") << format << QStringList() << QStringList() << formatConfig << "json";
    QTest::newRow("log_format: env over config")
        << format << QStringList() << QStringList{"BOURSE_LOG_FORMAT=text"} << formatConfig << "text";
    QTest::newRow("log_format: command line over env")
        << format << QStringList{"--log-format", "json"} << QStringList{"BOURSE_LOG_FORMAT=text"} << formatConfig
        << "json";

    const QString level = QStringLiteral("log_level");
    const QString levelConfig = QStringLiteral("log_level = \"warning\"\n");
    QTest::newRow("log_level: default") << level << QStringList() << QStringList() << QString() << "info";
    QTest::newRow("log_level: config") << level << QStringList() << QStringList() << levelConfig << "warning";
    QTest::newRow("log_level: env over config")
        << level << QStringList() << QStringList{"BOURSE_LOG_LEVEL=error"} << levelConfig << "error";
    QTest::newRow("log_level: command line over env")
        << level << QStringList{"--log-level=debug"} << QStringList{"BOURSE_LOG_LEVEL=error"} << levelConfig << "debug";

    const QString snapshot = QStringLiteral("snapshot_every");
    const QString snapshotConfig = QStringLiteral("snapshot_every = 5000\n");
    QTest::newRow("snapshot_every: default") << snapshot << QStringList() << QStringList() << QString() << "100000";
    QTest::newRow("snapshot_every: config") << snapshot << QStringList() << QStringList() << snapshotConfig << "5000";
    QTest::newRow("snapshot_every: env over config")
        << snapshot << QStringList() << QStringList{"BOURSE_SNAPSHOT_EVERY=7"} << snapshotConfig << "7";
    QTest::newRow("snapshot_every: command line over env")
        << snapshot << QStringList{"--snapshot-every", "1000000000"} << QStringList{"BOURSE_SNAPSHOT_EVERY=7"}
        << snapshotConfig << "1000000000";
}

void tst_Options::precedence()
{
    QFETCH(QString, setting);
    QFETCH(QStringList, arguments);
    QFETCH(QStringList, environment);
    QFETCH(QString, config);
    QFETCH(QString, expected);

    if (!config.isEmpty()) {
        writeFiles({QStringLiteral("conf.toml=") + config});
        environment.append(QStringLiteral("BOURSE_CONFIG=$TMP/conf.toml"));
    }
    const auto invocation = parseOptions(input(arguments, environment));
    QVERIFY2(invocation.hasValue(), qPrintable(invocation.hasValue() ? QString() : invocation.error()));
    const Options &options = invocation->options;
    QString actual;
    if (setting == u"listen")
        actual = options.listen.toString();
    else if (setting == u"data_dir")
        actual = options.dataDir;
    else if (setting == u"database_url")
        actual = options.database.toString();
    else if (setting == u"log_format")
        actual = logFormatName(options.logFormat);
    else if (setting == u"log_level")
        actual = logLevelName(options.logLevel);
    else if (setting == u"snapshot_every")
        actual = QString::number(options.snapshotEvery);
    QCOMPARE(actual, expand(expected));
}

void tst_Options::configLookup_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QStringList>("environment");
    QTest::addColumn<QStringList>("files");
    QTest::addColumn<QString>("expectedConfig");
    QTest::addColumn<QString>("expectedLevel");

    const QString debugToml = QStringLiteral("default/bourse.toml=log_level = \"debug\"");
    const QString warningIni = QStringLiteral("default/bourse.ini=log_level = warning");
    QTest::newRow("none") << QStringList() << QStringList() << QStringList() << ""
                          << "info";
    QTest::newRow("bourse.toml in the data dir")
        << QStringList() << QStringList() << QStringList{debugToml} << "$TMP/default/bourse.toml"
        << "debug";
    QTest::newRow("bourse.ini in the data dir")
        << QStringList() << QStringList() << QStringList{warningIni} << "$TMP/default/bourse.ini"
        << "warning";
    QTest::newRow("bourse.toml wins over bourse.ini")
        << QStringList() << QStringList() << QStringList{debugToml, warningIni} << "$TMP/default/bourse.toml"
        << "debug";
    QTest::newRow("a quoted INI value") << QStringList() << QStringList()
                                        << QStringList{"default/bourse.ini=; comment\nlog_level = \"error\""}
                                        << "$TMP/default/bourse.ini"
                                        << "error";
    QTest::newRow("the lookup follows --data-dir")
        << QStringList{"--data-dir", "$TMP/other"} << QStringList()
        << QStringList{debugToml, "other/bourse.toml=log_level = \"error\""} << "$TMP/other/bourse.toml"
        << "error";
    QTest::newRow("the lookup follows BOURSE_DATA_DIR")
        << QStringList() << QStringList{"BOURSE_DATA_DIR=$TMP/other"}
        << QStringList{debugToml, "other/bourse.ini=log_level=error"} << "$TMP/other/bourse.ini"
        << "error";
    QTest::newRow("--config instead of the lookup")
        << QStringList{"--config", "$TMP/x.toml"} << QStringList()
        << QStringList{debugToml, "x.toml=log_level = \"error\""} << "$TMP/x.toml"
        << "error";
    QTest::newRow("BOURSE_CONFIG instead of the lookup")
        << QStringList() << QStringList{"BOURSE_CONFIG=$TMP/x.toml"}
        << QStringList{debugToml, "x.toml=log_level = \"error\""} << "$TMP/x.toml"
        << "error";
    QTest::newRow("--config over BOURSE_CONFIG")
        << QStringList{"--config=$TMP/y.ini"} << QStringList{"BOURSE_CONFIG=$TMP/x.toml"}
        << QStringList{"x.toml=log_level = \"error\"", "y.ini=log_level = warning"} << "$TMP/y.ini"
        << "warning";
    QTest::newRow("a relative --config is relative to the working directory")
        << QStringList{"--config", "conf/x.toml"} << QStringList()
        << QStringList{"work/conf/x.toml=log_level = \"error\""} << "$TMP/work/conf/x.toml"
        << "error";
    QTest::newRow("an empty config file")
        << QStringList() << QStringList() << QStringList{"default/bourse.toml="} << "$TMP/default/bourse.toml"
        << "info";
}

void tst_Options::configLookup()
{
    QFETCH(QStringList, arguments);
    QFETCH(QStringList, environment);
    QFETCH(QStringList, files);
    QFETCH(QString, expectedConfig);
    QFETCH(QString, expectedLevel);

    writeFiles(files);
    const auto invocation = parseOptions(input(arguments, environment));
    QVERIFY2(invocation.hasValue(), qPrintable(invocation.hasValue() ? QString() : invocation.error()));
    QCOMPARE(invocation->options.configFile, expand(expectedConfig));
    QCOMPARE(QString(logLevelName(invocation->options.logLevel)), expectedLevel);
}

void tst_Options::paths_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QStringList>("environment");
    QTest::addColumn<QString>("config"); // the content of $TMP/conf/bourse.toml, named by --config
    QTest::addColumn<QString>("expectedDataDir");
    QTest::addColumn<QString>("expectedDatabase");

    QTest::newRow("relative --data-dir: from the working directory")
        << QStringList{"--data-dir", "rel"} << QStringList() << QString() << "$TMP/work/rel"
        << "sqlite:$TMP/work/rel/bourse.db";
    QTest::newRow("relative BOURSE_DATA_DIR: from the working directory")
        << QStringList() << QStringList{"BOURSE_DATA_DIR=a/../b/./c/"} << QString() << "$TMP/work/b/c"
        << "sqlite:$TMP/work/b/c/bourse.db";
    QTest::newRow("~/ is the home directory")
        << QStringList{"--data-dir=~/bourse"} << QStringList() << QString() << "$TMP/home/bourse"
        << "sqlite:$TMP/home/bourse/bourse.db";
    QTest::newRow("~ alone is the home directory")
        << QStringList{"--data-dir=~"} << QStringList() << QString() << "$TMP/home"
        << "sqlite:$TMP/home/bourse.db";
    QTest::newRow("~user is not expanded")
        << QStringList{"--data-dir=~user"} << QStringList() << QString() << "$TMP/work/~user"
        << "sqlite:$TMP/work/~user/bourse.db";
    QTest::newRow("relative data_dir in the config: from the config's directory")
        << QStringList() << QStringList() << "data_dir = \"rel\""
        << "$TMP/conf/rel"
        << "sqlite:$TMP/conf/rel/bourse.db";
    QTest::newRow("~ in the config") << QStringList() << QStringList() << "data_dir = \"~/d\""
                                     << "$TMP/home/d"
                                     << "sqlite:$TMP/home/d/bourse.db";
    QTest::newRow("relative sqlite path on the command line")
        << QStringList{"--database-url", "sqlite:db/x.db"} << QStringList() << QString() << "$TMP/default"
        << "sqlite:$TMP/work/db/x.db";
    QTest::newRow("relative sqlite path in the config")
        << QStringList() << QStringList() << "database_url = \"sqlite:x.db\""
        << "$TMP/default"
        << "sqlite:$TMP/conf/x.db";
    QTest::newRow("sqlite:/// URL") << QStringList{"--database-url=sqlite:///srv/my%20venue.db"} << QStringList()
                                    << QString() << "$TMP/default"
                                    << "sqlite:/srv/my venue.db";
    QTest::newRow("absolute sqlite path kept")
        << QStringList{"--database-url=sqlite:/srv/b.db"} << QStringList() << QString() << "$TMP/default"
        << "sqlite:/srv/b.db";
}

void tst_Options::paths()
{
    QFETCH(QStringList, arguments);
    QFETCH(QStringList, environment);
    QFETCH(QString, config);
    QFETCH(QString, expectedDataDir);
    QFETCH(QString, expectedDatabase);

    if (!config.isEmpty()) {
        writeFiles({QStringLiteral("conf/bourse.toml=") + config});
        arguments.append(QStringLiteral("--config=$TMP/conf/bourse.toml"));
    }
    const auto invocation = parseOptions(input(arguments, environment));
    QVERIFY2(invocation.hasValue(), qPrintable(invocation.hasValue() ? QString() : invocation.error()));
    QCOMPARE(invocation->options.dataDir, expand(expectedDataDir));
    QCOMPARE(invocation->options.database.toString(), expand(expectedDatabase));
}

void tst_Options::headless_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QStringList>("environment");
    QTest::addColumn<bool>("headless");
    QTest::addColumn<bool>("requested");

    QTest::newRow("no display") << QStringList() << QStringList() << true << false;
    QTest::newRow("X11 display") << QStringList() << QStringList{"DISPLAY=:0"} << false << false;
    QTest::newRow("Wayland display") << QStringList() << QStringList{"WAYLAND_DISPLAY=wayland-0"} << false << false;
    QTest::newRow("empty DISPLAY is no display") << QStringList() << QStringList{"DISPLAY="} << true << false;
    QTest::newRow("--headless with a display")
        << QStringList{"--headless"} << QStringList{"DISPLAY=:0"} << true << true;
    QTest::newRow("--headless without a display") << QStringList{"--headless"} << QStringList() << true << true;
}

void tst_Options::headless()
{
    QFETCH(QStringList, arguments);
    QFETCH(QStringList, environment);
    QFETCH(bool, headless);
    QFETCH(bool, requested);

    const auto invocation = parseOptions(input(arguments, environment));
    QVERIFY(invocation.hasValue());
    QCOMPARE(invocation->options.headless, headless);
    QCOMPARE(invocation->options.headlessRequested, requested);
}

void tst_Options::helpAndVersion_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QStringList>("environment");
    QTest::addColumn<Invocation::Action>("action");

    QTest::newRow("--help") << QStringList{"--help"} << QStringList() << Invocation::Action::Help;
    QTest::newRow("-h") << QStringList{"-h"} << QStringList() << Invocation::Action::Help;
    QTest::newRow("--version") << QStringList{"--version"} << QStringList() << Invocation::Action::Version;
    QTest::newRow("--help wins over --version")
        << QStringList{"--version", "--help"} << QStringList() << Invocation::Action::Help;
    QTest::newRow("--help ignores bad values")
        << QStringList{"--listen", "nowhere", "--help"} << QStringList() << Invocation::Action::Help;
    QTest::newRow("--version ignores a bad environment")
        << QStringList{"--version"} << QStringList{"BOURSE_LOG_LEVEL=loud", "BOURSE_CONFIG=$TMP/missing"}
        << Invocation::Action::Version;
}

void tst_Options::helpAndVersion()
{
    QFETCH(QStringList, arguments);
    QFETCH(QStringList, environment);
    QFETCH(Invocation::Action, action);

    const auto invocation = parseOptions(input(arguments, environment));
    QVERIFY(invocation.hasValue());
    QCOMPARE(invocation->action, action);
    QCOMPARE(versionText(), QStringLiteral("bourse ") + QStringLiteral(BOURSE_TEST_VERSION));
}

void tst_Options::commands_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<Invocation::Action>("action");
    QTest::addColumn<QString>("operand");
    QTest::addColumn<QString>("dataDir"); // for the commands that act on a venue

    QTest::newRow("no command: run") << QStringList{"--headless"} << Invocation::Action::Run << "" << "$TMP/default";
    QTest::newRow("config check, relative file")
        << QStringList{"config", "check", "conf/b.toml"} << Invocation::Action::ConfigCheck << "$TMP/work/conf/b.toml"
        << "";
    QTest::newRow("config check ignores the venue's settings")
        << QStringList{"config", "check", "/etc/b.ini", "--listen", "nowhere"} << Invocation::Action::ConfigCheck
        << "/etc/b.ini" << "";
    QTest::newRow("backup, options after")
        << QStringList{"backup", "/srv/b/1", "--data-dir", "$TMP/venue"} << Invocation::Action::Backup << "/srv/b/1"
        << "$TMP/venue";
    QTest::newRow("restore, options before")
        << QStringList{"--data-dir=$TMP/venue", "restore", "../b"} << Invocation::Action::Restore << "$TMP/b"
        << "$TMP/venue";
    QTest::newRow("verify") << QStringList{"verify"} << Invocation::Action::Verify << "" << "$TMP/default";
    QTest::newRow("reset-password keeps the name as given")
        << QStringList{"admin", "reset-password", "Alice"} << Invocation::Action::ResetPassword << "Alice"
        << "$TMP/default";
}

void tst_Options::commands()
{
    QFETCH(QStringList, arguments);
    QFETCH(Invocation::Action, action);
    QFETCH(QString, operand);
    QFETCH(QString, dataDir);

    for (QString &argument : arguments)
        argument = expand(argument);
    OptionsInput in = input(arguments, {});
    in.workingDirectory = m_dir->filePath(QStringLiteral("work"));
    const auto invocation = parseOptions(in);
    QVERIFY2(invocation.hasValue(), invocation ? "" : qPrintable(invocation.error()));
    QCOMPARE(invocation->action, action);
    QCOMPARE(invocation->operand, expand(operand));
    if (!dataDir.isEmpty())
        QCOMPARE(invocation->options.dataDir, expand(dataDir));
    QCOMPARE(commandName(action).isEmpty(), action == Invocation::Action::Run);
}

void tst_Options::listenAddress_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");

    QTest::newRow("IPv4") << "127.0.0.1:8080"
                          << "127.0.0.1" << 8080;
    QTest::newRow("any IPv4, lowest port") << "0.0.0.0:1"
                                           << "0.0.0.0" << 1;
    QTest::newRow("localhost, highest port") << "localhost:65535"
                                             << "localhost" << 65535;
    QTest::newRow("IPv6 loopback") << "[::1]:8080"
                                   << "::1" << 8080;
    QTest::newRow("any IPv6") << "[::]:80"
                              << "::" << 80;
    QTest::newRow("IPv6 full") << "[2001:db8::8a2e:370:7334]:443"
                               << "2001:db8::8a2e:370:7334" << 443;
}

void tst_Options::listenAddress()
{
    QFETCH(QString, text);
    QFETCH(QString, host);
    QFETCH(int, port);

    const auto address = ListenAddress::parse(text);
    QVERIFY2(address.hasValue(), qPrintable(address.hasValue() ? QString() : address.error()));
    QCOMPARE(address->host, host);
    QCOMPARE(int(address->port), port);
    QCOMPARE(address->toString(), text);
}

void tst_Options::errors_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QStringList>("environment");
    QTest::addColumn<QStringList>("files");
    QTest::addColumn<QString>("error");

    const QStringList none;
    // The command line itself.
    QTest::newRow("unknown option") << QStringList{"--bogus"} << none << none
                                    << "--bogus: unknown option (see bourse --help)";
    QTest::newRow("unknown option with a value")
        << QStringList{"--bogus=1"} << none << none << "--bogus: unknown option (see bourse --help)";
    QTest::newRow("single-dash long option")
        << QStringList{"-listen", "127.0.0.1:1"} << none << none << "-listen: unknown option (see bourse --help)";
    QTest::newRow("unknown short option")
        << QStringList{"-x"} << none << none << "-x: unknown option (see bourse --help)";
    const QString commands = QStringLiteral("(commands: config check, backup, restore, verify, admin reset-password; "
                                            "see bourse --help)");
    QTest::newRow("unknown command") << QStringList{"serve"} << none << none
                                     << "unknown command \"serve\" " + commands;
    QTest::newRow("command half given") << QStringList{"config", "--headless"} << none << none
                                        << "unknown command \"config\" " + commands;
    QTest::newRow("misspelt admin command") << QStringList{"admin", "reset-pasword", "al"} << none << none
                                            << "unknown command \"admin reset-pasword al\" " + commands;
    QTest::newRow("command without its operand")
        << QStringList{"backup", "--data-dir", "/tmp"} << none << none
        << "backup: needs DEST (usage: bourse backup DEST [options])";
    QTest::newRow("command with an empty operand") << QStringList{"restore", ""} << none << none
                                                   << "restore: SRC must not be empty";
    QTest::newRow("command with two operands") << QStringList{"admin", "reset-password", "al", "bo"} << none << none
                                               << "admin reset-password: unexpected argument \"bo\" (usage: bourse "
                                                  "admin reset-password USER [options])";
    QTest::newRow("operand to a command that takes none")
        << QStringList{"verify", "now"} << none << none
        << "verify: unexpected argument \"now\" (usage: bourse verify [options])";
    QTest::newRow("lone --") << QStringList{"--"} << none << none << "unexpected argument \"--\" (see bourse --help)";
    QTest::newRow("missing value at the end") << QStringList{"--listen"} << none << none << "--listen: needs a value";
    QTest::newRow("missing value before another option")
        << QStringList{"--data-dir", "--headless"} << none << none << "--data-dir: needs a value";
    QTest::newRow("option given twice") << QStringList{"--log-level", "info", "--log-level=debug"} << none << none
                                        << "--log-level: given more than once";
    QTest::newRow("flag given twice") << QStringList{"--headless", "--headless"} << none << none
                                      << "--headless: given more than once";
    QTest::newRow("flag with a value") << QStringList{"--headless=yes"} << none << none << "--headless: takes no value";
    QTest::newRow("--help with an unknown option")
        << QStringList{"--help", "--bogus"} << none << none << "--bogus: unknown option (see bourse --help)";

    // --listen.
    const auto listen = [&](const char *name, const QString &value, const QString &error) {
        QTest::newRow(name) << QStringList{"--listen", value} << none << none << "--listen: " + error;
    };
    listen("port too large", "127.0.0.1:99999", "port must be 1-65535, got \"99999\"");
    listen("port 65536", "127.0.0.1:65536", "port must be 1-65535, got \"65536\"");
    listen("port 0", "127.0.0.1:0", "port must be 1-65535, got \"0\"");
    listen("port not a number", "127.0.0.1:http", "port must be 1-65535, got \"http\"");
    listen("port with a sign", "127.0.0.1:+80", "port must be 1-65535, got \"+80\"");
    listen("port empty", "127.0.0.1:", "port must be 1-65535, got \"\"");
    listen("port only", "8080", "expected HOST:PORT, got \"8080\"");
    listen("empty", "", "expected HOST:PORT, got \"\"");
    listen("host missing", ":8080", "the host is missing, got \":8080\"");
    listen("host name", "example.com:80",
           "host must be an IPv4 address, [IPv6 address] or localhost, got \"example.com\"");
    listen("IPv4 octet too large", "256.0.0.1:80",
           "host must be an IPv4 address, [IPv6 address] or localhost, got \"256.0.0.1\"");
    listen("IPv4 leading zero", "127.0.0.01:80",
           "host must be an IPv4 address, [IPv6 address] or localhost, got \"127.0.0.01\"");
    listen("IPv4 short form", "127.1:80", "host must be an IPv4 address, [IPv6 address] or localhost, got \"127.1\"");
    listen("IPv6 without brackets", "::1:8080", "IPv6 addresses go in brackets, e.g. [::1]:8080, got \"::1:8080\"");
    listen("IPv6 without a port", "[::1]", "expected [IPV6]:PORT, got \"[::1]\"");
    listen("IPv6 unclosed", "[::1:8080", "IPv6 address has no closing \"]\", got \"[::1:8080\"");
    listen("IPv4 in brackets", "[127.0.0.1]:80", "\"[127.0.0.1]\" is not an IPv6 address");
    listen("IPv6 garbage", "[zz::1]:80", "\"[zz::1]\" is not an IPv6 address");
    QTest::newRow("--listen= empty") << QStringList{"--listen="} << none << none
                                     << "--listen: expected HOST:PORT, got \"\"";

    // The other options and their environment variables.
    QTest::newRow("log format") << QStringList{"--log-format", "xml"} << none << none
                                << "--log-format: expected text or json, got \"xml\"";
    QTest::newRow("log format is case-sensitive")
        << QStringList{"--log-format=JSON"} << none << none << "--log-format: expected text or json, got \"JSON\"";
    QTest::newRow("log level") << QStringList{"--log-level", "trace"} << none << none
                               << "--log-level: expected debug, info, warning or error, got \"trace\"";
    QTest::newRow("BOURSE_LISTEN") << none << QStringList{"BOURSE_LISTEN=localhost"} << none
                                   << "BOURSE_LISTEN: expected HOST:PORT, got \"localhost\"";
    QTest::newRow("BOURSE_LOG_FORMAT") << none << QStringList{"BOURSE_LOG_FORMAT=xml"} << none
                                       << "BOURSE_LOG_FORMAT: expected text or json, got \"xml\"";
    QTest::newRow("BOURSE_LOG_LEVEL") << none << QStringList{"BOURSE_LOG_LEVEL=loud"} << none
                                      << "BOURSE_LOG_LEVEL: expected debug, info, warning or error, got \"loud\"";
    QTest::newRow("a bad env value is an error even when the command line overrides it")
        << QStringList{"--log-level=debug"} << QStringList{"BOURSE_LOG_LEVEL=loud"} << none
        << "BOURSE_LOG_LEVEL: expected debug, info, warning or error, got \"loud\"";
    QTest::newRow("database URL port") << QStringList{"--database-url", "postgresql://u:p@h:99999/db"} << none << none
                                       << "--database-url: port must be 1-65535, got \"99999\"";
    QTest::newRow("database URL scheme") << none << QStringList{"BOURSE_DATABASE_URL=mysql://h/db"} << none
                                         << "BOURSE_DATABASE_URL: unsupported database \"mysql\"; use sqlite:<path> or "
                                            "postgresql://user:pass@host:port/db";
    QTest::newRow("database URL empty") << QStringList{"--database-url="} << none << none
                                        << "--database-url: is empty; use sqlite:<path> or "
                                           "postgresql://user:pass@host:port/db";
    QTest::newRow("data dir empty") << QStringList{"--data-dir="} << none << none << "--data-dir: must not be empty";
    QTest::newRow("data dir is a file") << QStringList{"--data-dir", "$TMP/file"} << none << QStringList{"file=x"}
                                        << "--data-dir: \"$TMP/file\" exists and is not a directory";
    QTest::newRow("BOURSE_DATA_DIR is a file")
        << none << QStringList{"BOURSE_DATA_DIR=$TMP/file"} << QStringList{"file=x"}
        << "BOURSE_DATA_DIR: \"$TMP/file\" exists and is not a directory";

    // The config file.
    QTest::newRow("--config missing") << QStringList{"--config", "$TMP/missing.toml"} << none << none
                                      << "--config: cannot read \"$TMP/missing.toml\": No such file or directory";
    QTest::newRow("BOURSE_CONFIG missing")
        << none << QStringList{"BOURSE_CONFIG=$TMP/missing.toml"} << none
        << "BOURSE_CONFIG: cannot read \"$TMP/missing.toml\": No such file or directory";
    QTest::newRow("--config is a directory") << QStringList{"--config", "$TMP/work"} << none << none
                                             << "--config: cannot read \"$TMP/work\": it is a directory";
    QTest::newRow("--config empty") << QStringList{"--config="} << none << none << "--config: needs a file name";

    const auto config = [&](const char *name, const QString &content, const QString &error) {
        QTest::newRow(name) << QStringList{"--config", "$TMP/c.toml"} << none
                            << QStringList{QStringLiteral("c.toml=") + content} << "$TMP/c.toml:" + error;
    };
    config("unknown key", "listen = \"127.0.0.1:1\"\nlisen = \"x\"\n", "2: lisen: unknown key");
    config("duplicate key", "log_level = \"info\"\n# again\nlog_level = \"debug\"\n",
           "3: log_level: duplicate key (first set on line 1)");
    config("integer for a string", "log_level = 3", "1: log_level: expected a string, got an integer");
    config("boolean for a string", "listen = true", "1: listen: expected a string, got a boolean");
    config("bad listen value", "\n\nlisten = \"127.0.0.1:0\"", "3: listen: port must be 1-65535, got \"0\"");
    config("unquoted string", "listen = 127.0.0.1:8080",
           "1: listen: expected a \"string\", an integer, true or false, got 127.0.0.1:8080 (strings need quotes)");
    config("bad log level", "log_level = \"loud\"",
           "1: log_level: expected debug, info, warning or error, got \"loud\"");
    config("bad database URL", "database_url = \"sqlite:\"",
           "1: database_url: sqlite: needs a file path, e.g. sqlite:/var/lib/bourse/bourse.db");
    config("data dir is a file", "data_dir = \"c.toml\"", "1: data_dir: \"$TMP/c.toml\" exists and is not a directory");
    config("a table", "[server]\nlisten = \"127.0.0.1:1\"", "1: [server]: unknown table");
    config("syntax", "listen \"x\"", "1: listen: expected \"=\" after the key");
    config("the config key", "config = \"other.toml\"", "1: config: unknown key");
    config("zero commands between snapshots", "snapshot_every = 0",
           "1: snapshot_every: expected a whole number of commands from 1 to 1000000000, got \"0\"");
    config("negative commands between snapshots", "snapshot_every = -3",
           "1: snapshot_every: expected a whole number of commands from 1 to 1000000000, got \"-3\"");
    config("a boolean for snapshot_every", "snapshot_every = true",
           "1: snapshot_every: expected an integer, got a boolean");
    config("a string for snapshot_every", "snapshot_every = \"250\"",
           "1: snapshot_every: expected an integer, got a string");
    QTest::newRow("--snapshot-every past the maximum")
        << QStringList{"--snapshot-every", "1000000001"} << none << none
        << "--snapshot-every: expected a whole number of commands from 1 to 1000000000, got \"1000000001\"";
    QTest::newRow("BOURSE_SNAPSHOT_EVERY not a number")
        << none << QStringList{"BOURSE_SNAPSHOT_EVERY=1e3"} << none
        << "BOURSE_SNAPSHOT_EVERY: expected a whole number of commands from 1 to 1000000000, got \"1e3\"";
    QTest::newRow("a bad config value is an error even when the command line overrides it")
        << QStringList{"--config", "$TMP/c.toml", "--log-level", "debug"} << none
        << QStringList{"c.toml=log_level = \"loud\""}
        << "$TMP/c.toml:1: log_level: expected debug, info, warning or error, got \"loud\"";
    QTest::newRow("an error in the config found in the data dir")
        << none << none << QStringList{"default/bourse.toml=\nlog_format = \"xml\""}
        << "$TMP/default/bourse.toml:2: log_format: expected text or json, got \"xml\"";
    QTest::newRow("an error in an INI config")
        << none << none << QStringList{"default/bourse.ini=[General]\nlisten = 127.0.0.1:1"}
        << "$TMP/default/bourse.ini:1: [General]: unknown table";
    // TLS: both files or neither, each readable and holding what it should.
    QTest::newRow("TLS certificate without its key")
        << QStringList{"--tls-cert", "$TMP/c.pem"} << none << QStringList{"c.pem=x"}
        << "--tls-cert and --tls-key go together: give both or neither";
    QTest::newRow("TLS key without its certificate")
        << none << QStringList{"BOURSE_TLS_KEY=$TMP/k.pem"} << QStringList{"k.pem=x"}
        << "--tls-cert and --tls-key go together: give both or neither";
    QTest::newRow("TLS certificate that cannot be read")
        << QStringList{"--tls-cert", "$TMP/missing.pem", "--tls-key", "$TMP/k.pem"} << none << QStringList{"k.pem=x"}
        << "--tls-cert: cannot read \"$TMP/missing.pem\"";
    QTest::newRow("TLS certificate that is not PEM")
        << QStringList{"--tls-cert", "$TMP/c.pem", "--tls-key", "$TMP/k.pem"} << none
        << QStringList{"c.pem=not a certificate", "k.pem=not a key"} << "--tls-cert: \"$TMP/c.pem\" holds no PEM certificate";
    QTest::newRow("an unknown key in an INI config")
        << none << none << QStringList{"default/bourse.ini=listen = 127.0.0.1:1\nport = 8080"}
        << "$TMP/default/bourse.ini:2: port: unknown key";
}

void tst_Options::errors()
{
    QFETCH(QStringList, arguments);
    QFETCH(QStringList, environment);
    QFETCH(QStringList, files);
    QFETCH(QString, error);

    writeFiles(files);
    const QStringList before = tree();
    const auto invocation = parseOptions(input(arguments, environment));
    QVERIFY(!invocation.hasValue());
    QCOMPARE(invocation.error(), expand(error));
    QVERIFY(!invocation.error().contains(u'\n'));
    QCOMPARE(tree(), before); // nothing written, no directory made
}

void tst_Options::usageNamesEveryOption()
{
    const QString usage = usageText(QStringLiteral("/home/me/.local/share/bourse"));
    QVERIFY(usage.startsWith(QStringLiteral("Usage: bourse [options]                     run the venue\n")));
    for (const char *name :
         {"config check FILE", "backup DEST", "restore SRC", "verify", "admin reset-password USER", "--listen", "--data-dir", "--database-url", "--config", "--headless", "--log-format", "--log-level", "--help",
          "--version", "BOURSE_LISTEN", "BOURSE_DATA_DIR", "BOURSE_DATABASE_URL", "BOURSE_CONFIG", "BOURSE_LOG_FORMAT",
          "BOURSE_LOG_LEVEL", "--tls-cert", "--tls-key", "BOURSE_TLS_CERT", "BOURSE_TLS_KEY",
          "/home/me/.local/share/bourse"}) {
        QVERIFY2(usage.contains(QLatin1StringView(name)), name);
    }
}

namespace {

// The value a config key gave, read back from Options, as text; keys as configFileKeys() names them.
QString optionValue(const Options &options, const QString &key)
{
    const bourse::server::VenueSettings &limits = options.settingsDefaults;
    const std::pair<const char *, QString> values[] = {
        {"listen", options.listen.toString()},
        {"data_dir", options.dataDir},
        {"database_url", options.database.toString()},
        {"log_format", QString(logFormatName(options.logFormat))},
        {"log_level", QString(logLevelName(options.logLevel))},
        {"snapshot_every", QString::number(options.snapshotEvery)},
        {"tls_cert", options.tlsCertificate},
        {"tls_key", options.tlsKey},
        {"limits.max_body_bytes", QString::number(limits.maxBodyBytes)},
        {"limits.keep_alive_idle_seconds", QString::number(limits.keepAliveIdleSeconds)},
        {"limits.header_timeout_seconds", QString::number(limits.headerTimeoutSeconds)},
        {"limits.login_max_failures", QString::number(limits.loginMaxFailures)},
        {"limits.login_window_seconds", QString::number(limits.loginWindowSeconds)},
        {"limits.rate_anonymous_capacity", QString::number(limits.anonymous.capacity)},
        {"limits.rate_anonymous_per_second", QString::number(limits.anonymous.refillPerSecond)},
        {"limits.rate_default_capacity", QString::number(limits.standard.capacity)},
        {"limits.rate_default_per_second", QString::number(limits.standard.refillPerSecond)},
        {"limits.rate_pro_capacity", QString::number(limits.pro.capacity)},
        {"limits.rate_pro_per_second", QString::number(limits.pro.refillPerSecond)},
    };
    for (const auto &[name, value] : values) {
        if (key == QLatin1StringView(name))
            return value;
    }
    return QStringLiteral("<the test reads no value for %1>").arg(key);
}

// One documented key set to a value other than its default, and what Options then holds. `also`: other lines
// the value needs (a TLS certificate needs its key).
struct KeyChange
{
    const char *key;
    const char *value;
    const char *expected; // "$TMP" is the config file's directory
    QStringList also;
};

QList<KeyChange> keyChanges()
{
    return {
        {"listen", "\"10.1.2.3:9100\"", "10.1.2.3:9100", {}},
        {"data_dir", "\"var/venue\"", "$TMP/var/venue", {}},
        {"database_url", "\"postgresql://u:pw@db:6543/venue\"", "postgresql://u:***@db:6543/venue", {}},
        {"log_format", "\"json\"", "json", {}},
        {"log_level", "\"error\"", "error", {}},
        {"snapshot_every", "250", "250", {}},
        {"tls_cert", "\"tls/cert.pem\"", "$TMP/tls/cert.pem", {"tls_key = \"tls/key.pem\""}},
        {"tls_key", "\"tls/key.pem\"", "$TMP/tls/key.pem", {"tls_cert = \"tls/cert.pem\""}},
        {"limits.max_body_bytes", "2048", "2048", {}},
        {"limits.keep_alive_idle_seconds", "31", "31", {}},
        {"limits.header_timeout_seconds", "23", "23", {}},
        {"limits.login_max_failures", "4", "4", {}},
        {"limits.login_window_seconds", "120", "120", {}},
        {"limits.rate_anonymous_capacity", "11", "11", {}},
        {"limits.rate_anonymous_per_second", "3", "3", {}},
        {"limits.rate_default_capacity", "22", "22", {}},
        {"limits.rate_default_per_second", "4", "4", {}},
        {"limits.rate_pro_capacity", "33", "33", {}},
        {"limits.rate_pro_per_second", "5", "5", {}},
    };
}

// A config file with one bad value (or key), and the one line both parseOptions and checkConfigFile say about
// it, after "$TMP/<file>:". `key`: the key whose value is bad, for the rows that test each key once.
struct BadConfig
{
    const char *name;
    const char *key;
    const char *file;
    const char *content;
    const char *error;
};

QList<BadConfig> badConfigs()
{
    return {
        // A bad value for every key.
        {"listen without a port", "listen", "c.toml", "listen = \"10.0.0.1\"",
         "1: listen: expected HOST:PORT, got \"10.0.0.1\""},
        {"empty data_dir", "data_dir", "c.toml", "data_dir = \"\"", "1: data_dir: must not be empty"},
        {"database_url of another database", "database_url", "c.toml", "database_url = \"mysql://h/db\"",
         "1: database_url: unsupported database \"mysql\"; use sqlite:<path> or postgresql://user:pass@host:port/db"},
        {"log_format", "log_format", "c.toml", "log_format = \"xml\"",
         "1: log_format: expected text or json, got \"xml\""},
        {"log_level", "log_level", "c.toml", "log_level = \"trace\"",
         "1: log_level: expected debug, info, warning or error, got \"trace\""},
        {"snapshot_every", "snapshot_every", "c.toml", "snapshot_every = 0",
         "1: snapshot_every: expected a whole number of commands from 1 to 1000000000, got \"0\""},
        {"tls_cert that is no certificate", "tls_cert", "c.toml", "tls_cert = \"c.toml\"\ntls_key = \"tls/key.pem\"",
         "1: tls_cert: \"$TMP/c.toml\" holds no PEM certificate"},
        {"tls_key that is no key", "tls_key", "c.toml", "tls_cert = \"tls/cert.pem\"\ntls_key = \"tls/cert.pem\"",
         "2: tls_key: \"$TMP/tls/cert.pem\" holds no unencrypted PEM RSA or EC private key"},
        {"max_body_bytes below its range", "limits.max_body_bytes", "c.toml", "[limits]\nmax_body_bytes = 1023",
         "2: limits.max_body_bytes: expected an integer from 1024 to 16777216, got \"1023\""},
        {"keep_alive_idle_seconds above its range", "limits.keep_alive_idle_seconds", "c.toml",
         "[limits]\nkeep_alive_idle_seconds = 3601",
         "2: limits.keep_alive_idle_seconds: expected an integer from 1 to 3600, got \"3601\""},
        {"header_timeout_seconds zero", "limits.header_timeout_seconds", "c.toml",
         "[limits]\nheader_timeout_seconds = 0",
         "2: limits.header_timeout_seconds: expected an integer from 1 to 300, got \"0\""},
        {"login_max_failures above its range", "limits.login_max_failures", "c.toml",
         "[limits]\nlogin_max_failures = 1001",
         "2: limits.login_max_failures: expected an integer from 1 to 1000, got \"1001\""},
        {"login_window_seconds negative", "limits.login_window_seconds", "c.toml", "[limits]\nlogin_window_seconds = -1",
         "2: limits.login_window_seconds: expected an integer from 1 to 86400, got \"-1\""},
        {"rate_anonymous_capacity zero", "limits.rate_anonymous_capacity", "c.toml",
         "[limits]\nrate_anonymous_capacity = 0",
         "2: limits.rate_anonymous_capacity: expected an integer from 1 to 1000000, got \"0\""},
        {"rate_anonymous_per_second above its range", "limits.rate_anonymous_per_second", "c.toml",
         "[limits]\nrate_anonymous_per_second = 1000001",
         "2: limits.rate_anonymous_per_second: expected an integer from 1 to 1000000, got \"1000001\""},
        {"INI: rate_default_capacity in words", "limits.rate_default_capacity", "c.ini",
         "[limits]\nrate_default_capacity = many",
         "2: limits.rate_default_capacity: expected an integer from 1 to 1000000, got \"many\""},
        {"rate_default_per_second a boolean", "limits.rate_default_per_second", "c.toml",
         "[limits]\nrate_default_per_second = true",
         "2: limits.rate_default_per_second: expected an integer, got a boolean"},
        {"rate_pro_capacity a quoted number", "limits.rate_pro_capacity", "c.toml",
         "[limits]\nrate_pro_capacity = \"1500\"", "2: limits.rate_pro_capacity: expected an integer, got a string"},
        {"rate_pro_per_second the largest integer", "limits.rate_pro_per_second", "c.toml",
         "[limits]\nrate_pro_per_second = 9223372036854775807",
         "2: limits.rate_pro_per_second: expected an integer from 1 to 1000000, got \"9223372036854775807\""},
        // TOML: an integer key takes a TOML integer, never a string of digits.
        {"TOML: max_body_bytes as a string", nullptr, "c.toml", "[limits]\nmax_body_bytes = \"2048\"",
         "2: limits.max_body_bytes: expected an integer, got a string"},
        {"TOML: a limit as a literal string", nullptr, "c.toml", "[limits]\nlogin_max_failures = '5'",
         "2: limits.login_max_failures: expected an integer, got a string"},
        {"TOML: snapshot_every as a string", nullptr, "c.toml", "snapshot_every = \"100000\"",
         "1: snapshot_every: expected an integer, got a string"},
        {"INI: a decimal limit", nullptr, "c.ini", "[limits]\nrate_pro_capacity = 1.5",
         "2: limits.rate_pro_capacity: expected an integer from 1 to 1000000, got \"1.5\""},
        // Keys and tables.
        {"a float in [limits]", nullptr, "c.toml", "[limits]\nmax_body_bytes = 1.5",
         "2: limits.max_body_bytes: floats are not supported"},
        {"unknown key in [limits]", nullptr, "c.toml", "[limits]\nmax_body = 2048", "2: limits.max_body: unknown key"},
        {"a limit outside [limits]", nullptr, "c.toml", "max_body_bytes = 2048",
         "1: max_body_bytes: unknown key (it goes under [limits])"},
        {"a top-level key under [limits]", nullptr, "c.toml", "[limits]\nlisten = \"127.0.0.1:1\"",
         "2: limits.listen: unknown key (listen goes before [limits])"},
        {"limits as a key", nullptr, "c.toml", "limits = 5", "1: limits: unknown key"},
        {"a misspelt table, its keys not named again", nullptr, "c.toml", "[limit]\nmax_body_bytes = 1\nfoo = 2",
         "1: [limit]: unknown table"},
        {"[limits] twice", nullptr, "c.toml", "[limits]\n[limits]", "2: table [limits] appears twice (first on line 1)"},
        {"INI: a bad limit", nullptr, "c.ini", "[limits]\nrate_pro_capacity = lots",
         "2: limits.rate_pro_capacity: expected an integer from 1 to 1000000, got \"lots\""},
        {"INI: an unknown section", nullptr, "c.ini", "log_level = info\n[Limits]\nmax_body_bytes = 2048",
         "2: [Limits]: unknown table"},
    };
}

// The shipped bourse.toml with every "# key = value" line uncommented, and the keys it documents, in order
// ("table.key" after a [table] header).
struct Uncommented
{
    QByteArray text;
    QStringList keys;
};

Uncommented uncommentShippedConfig()
{
    QFile shipped(QStringLiteral(BOURSE_SOURCE_DIR "/resources/bourse.toml"));
    if (!shipped.open(QIODevice::ReadOnly))
        return {};
    static const QRegularExpression kSetting(QStringLiteral("^# ([a-z_]+) = "));
    static const QRegularExpression kTable(QStringLiteral("^\\[([a-z_]+)\\]"));
    Uncommented result;
    QString table;
    for (const QByteArray &line : shipped.readAll().split('\n')) {
        const QString text = QString::fromUtf8(line);
        if (const QRegularExpressionMatch header = kTable.match(text); header.hasMatch())
            table = header.captured(1);
        const QRegularExpressionMatch match = kSetting.match(text);
        if (match.hasMatch())
            result.keys.append(table.isEmpty() ? match.captured(1) : table + u'.' + match.captured(1));
        result.text += (match.hasMatch() ? line.mid(2) : line) + '\n';
    }
    return result;
}

// A self-signed certificate and its key, tls/cert.pem and tls/key.pem under `dir`, made by the openssl command.
bool makeTlsFiles(const QString &dir)
{
    if (!QDir().mkpath(QDir(dir).filePath(QStringLiteral("tls"))))
        return false;
    QProcess openssl;
    openssl.start(QStringLiteral("openssl"),
                  {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"),
                   QStringLiteral("rsa:2048"), QStringLiteral("-nodes"), QStringLiteral("-days"), QStringLiteral("1"),
                   QStringLiteral("-subj"), QStringLiteral("/CN=localhost"), QStringLiteral("-keyout"),
                   QDir(dir).filePath(QStringLiteral("tls/key.pem")), QStringLiteral("-out"),
                   QDir(dir).filePath(QStringLiteral("tls/cert.pem"))});
    return openssl.waitForFinished(60'000) && openssl.exitStatus() == QProcess::NormalExit && openssl.exitCode() == 0;
}

} // namespace

void tst_Options::shippedConfigShowsTheDefaults()
{
    // Uncommenting every "# key = value" line must give exactly the built-in defaults.
    const Uncommented uncommented = uncommentShippedConfig();
    QCOMPARE(uncommented.keys, configFileKeys()); // every key the parser knows is documented, and no other
    QFile copy(m_dir->filePath(QStringLiteral("all.toml")));
    QVERIFY(copy.open(QIODevice::WriteOnly));
    copy.write(uncommented.text);
    copy.close();

    for (const QString &config : {QStringLiteral(BOURSE_SOURCE_DIR "/resources/bourse.toml"), copy.fileName()}) {
        OptionsInput in = input({QStringLiteral("--config"), config}, {});
        in.defaultDataDir = expand(QStringLiteral("$TMP/home/.local/share/bourse"));
        const auto invocation = parseOptions(in);
        QVERIFY2(invocation.hasValue(), qPrintable(invocation.hasValue() ? QString() : invocation.error()));
        const Options &options = invocation->options;
        QCOMPARE(options.configFile, config);
        QCOMPARE(options.listen.toString(), QStringLiteral("127.0.0.1:8080"));
        QCOMPARE(options.dataDir, in.defaultDataDir);
        QCOMPARE(options.database.toString(),
                 QStringLiteral("sqlite:") + in.defaultDataDir + QStringLiteral("/bourse.db"));
        QCOMPARE(options.logFormat, LogFormat::Text);
        QCOMPARE(options.logLevel, LogLevel::Info);
        QCOMPARE(options.snapshotEvery, std::uint64_t(100'000));
        QCOMPARE(options.tlsCertificate, QString());
        QCOMPARE(options.tlsKey, QString());
        QCOMPARE(options.settingsDefaults.toJson(), bourse::server::VenueSettings().toJson());
        // `bourse config check` passes it too.
        QCOMPARE(checkConfigFile(config, m_dir->path()), QStringList());
    }
}

void tst_Options::everyDocumentedKeyArrives_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("expected");
    QTest::addColumn<QStringList>("also");

    for (const KeyChange &change : keyChanges()) {
        QTest::newRow(change.key) << QString::fromLatin1(change.key) << QString::fromLatin1(change.value)
                                  << QString::fromLatin1(change.expected) << change.also;
    }
}

void tst_Options::everyDocumentedKeyArrives()
{
    QFETCH(QString, key);
    QFETCH(QString, value);
    QFETCH(QString, expected);
    QFETCH(QStringList, also);

    // The shipped file, every setting uncommented, then this key (and what it needs) changed in place.
    QString text = QString::fromUtf8(uncommentShippedConfig().text);
    QVERIFY(!text.isEmpty());
    const auto parse = [&](const QString &content) {
        QFile file(m_dir->filePath(QStringLiteral("bourse.toml")));
        if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
            return bourse::Expected<Invocation, QString>(bourse::unexpected(QStringLiteral("cannot write the file")));
        file.write(content.toUtf8());
        file.close();
        return parseOptions(input({QStringLiteral("--config"), file.fileName()}, {}));
    };
    const auto defaults = parse(text);
    QVERIFY2(defaults.hasValue(), qPrintable(defaults.hasValue() ? QString() : defaults.error()));

    QStringList changed{key};
    for (const QString &line : QStringList{key.section(u'.', -1) + QStringLiteral(" = ") + value} + also) {
        const QString name = line.section(u' ', 0, 0);
        const QRegularExpression documented(QStringLiteral("^%1 = .*$").arg(name), QRegularExpression::MultilineOption);
        QCOMPARE(text.count(documented), 1);
        text.replace(documented, line);
        changed.append(configFileKeys().filter(QRegularExpression(QStringLiteral("(^|\\.)%1$").arg(name))));
    }
    if (key.startsWith(u"tls_"))
        QVERIFY(makeTlsFiles(m_dir->path()));
    const auto invocation = parse(text);
    QVERIFY2(invocation.hasValue(), qPrintable(invocation.hasValue() ? QString() : invocation.error()));
    QCOMPARE(optionValue(invocation->options, key), expand(expected));
    // Every other setting keeps its default: the value went to its own setting and nowhere else.
    for (const QString &other : configFileKeys()) {
        if (!changed.contains(other))
            QCOMPARE(optionValue(invocation->options, other), optionValue(defaults->options, other));
    }
    QCOMPARE(checkConfigFile(QStringLiteral("bourse.toml"), m_dir->path()), QStringList());
}

void tst_Options::everyKeyIsTested()
{
    QStringList changed;
    for (const KeyChange &change : keyChanges())
        changed.append(QString::fromLatin1(change.key));
    QCOMPARE(changed, configFileKeys());
    QStringList refused;
    for (const BadConfig &bad : badConfigs()) {
        if (bad.key)
            refused.append(QString::fromLatin1(bad.key));
    }
    QCOMPARE(refused, configFileKeys());
    for (const QString &key : configFileKeys())
        QVERIFY2(!optionValue(Options(), key).startsWith(u'<'), qPrintable(key));
}

void tst_Options::limits_data()
{
    QTest::addColumn<QString>("file"); // under $TMP, named by --config; empty: none
    QTest::addColumn<QString>("content");
    QTest::addColumn<QStringList>("expected"); // "key=value", keys as configFileKeys() names them

    QTest::newRow("no config: the built-in defaults")
        << QString() << QString()
        << QStringList{"limits.max_body_bytes=1048576",       "limits.keep_alive_idle_seconds=15",
                       "limits.header_timeout_seconds=10",    "limits.login_max_failures=10",
                       "limits.login_window_seconds=900",     "limits.rate_anonymous_capacity=60",
                       "limits.rate_anonymous_per_second=20", "limits.rate_default_capacity=120",
                       "limits.rate_default_per_second=50",   "limits.rate_pro_capacity=1200",
                       "limits.rate_pro_per_second=500"};
    QTest::newRow("an empty [limits]") << "c.toml"
                                       << "[limits]"
                                       << QStringList{"limits.max_body_bytes=1048576", "limits.rate_pro_capacity=1200"};
    QTest::newRow("TOML: some keys, the others keep their defaults")
        << "c.toml"
        << "log_level = \"debug\"\n[limits]\nmax_body_bytes = 2048\nrate_pro_capacity = 9 # nine\n"
        << QStringList{"log_level=debug", "limits.max_body_bytes=2048", "limits.rate_pro_capacity=9",
                       "limits.rate_pro_per_second=500", "limits.keep_alive_idle_seconds=15"};
    // TOML integers: a plus sign and underscores between digits are TOML's own spellings.
    QTest::newRow("TOML: underscores, plus signs")
        << "c.toml"
        << "snapshot_every = +2_500\n[limits]\nmax_body_bytes = 4_096\nrate_default_capacity = +1_000\n"
           "login_max_failures = +5"
        << QStringList{"snapshot_every=2500", "limits.max_body_bytes=4096", "limits.rate_default_capacity=1000",
                       "limits.login_max_failures=5"};
    // INI values are text, quoted or not: an integer comes as its digits.
    QTest::newRow("INI: integers as text")
        << "c.ini"
        << "snapshot_every = 250\n[limits]\nmax_body_bytes = \"2048\"\nlogin_max_failures = +5"
        << QStringList{"snapshot_every=250", "limits.max_body_bytes=2048", "limits.login_max_failures=5"};
    QTest::newRow("INI: the [limits] section")
        << "c.ini"
        << "listen = 127.0.0.1:1\n[limits]\nmax_body_bytes = 2048\n; a comment\nrate_pro_per_second = 7"
        << QStringList{"listen=127.0.0.1:1", "limits.max_body_bytes=2048", "limits.rate_pro_per_second=7"};
    QTest::newRow("the lowest values")
        << "c.toml"
        << "[limits]\nmax_body_bytes = 1024\nkeep_alive_idle_seconds = 1\nheader_timeout_seconds = 1\n"
           "login_max_failures = 1\nlogin_window_seconds = 1\nrate_anonymous_capacity = 1\n"
           "rate_anonymous_per_second = 1\nrate_default_capacity = 1\nrate_default_per_second = 1\n"
           "rate_pro_capacity = 1\nrate_pro_per_second = 1"
        << QStringList{"limits.max_body_bytes=1024",         "limits.keep_alive_idle_seconds=1",
                       "limits.header_timeout_seconds=1",    "limits.login_max_failures=1",
                       "limits.login_window_seconds=1",      "limits.rate_anonymous_capacity=1",
                       "limits.rate_anonymous_per_second=1", "limits.rate_default_capacity=1",
                       "limits.rate_default_per_second=1",   "limits.rate_pro_capacity=1",
                       "limits.rate_pro_per_second=1"};
    QTest::newRow("the highest values")
        << "c.ini"
        << "[limits]\nmax_body_bytes = 16777216\nkeep_alive_idle_seconds = 3600\nheader_timeout_seconds = 300\n"
           "login_max_failures = 1000\nlogin_window_seconds = 86400\nrate_anonymous_capacity = 1000000\n"
           "rate_anonymous_per_second = 1000000\nrate_default_capacity = 1000000\nrate_default_per_second = 1000000\n"
           "rate_pro_capacity = 1000000\nrate_pro_per_second = 1000000"
        << QStringList{"limits.max_body_bytes=16777216",           "limits.keep_alive_idle_seconds=3600",
                       "limits.header_timeout_seconds=300",        "limits.login_max_failures=1000",
                       "limits.login_window_seconds=86400",        "limits.rate_anonymous_capacity=1000000",
                       "limits.rate_anonymous_per_second=1000000", "limits.rate_default_capacity=1000000",
                       "limits.rate_default_per_second=1000000",   "limits.rate_pro_capacity=1000000",
                       "limits.rate_pro_per_second=1000000"};
}

void tst_Options::limits()
{
    QFETCH(QString, file);
    QFETCH(QString, content);
    QFETCH(QStringList, expected);

    QStringList arguments;
    if (!file.isEmpty()) {
        writeFiles({file + u'=' + content});
        arguments = QStringList{QStringLiteral("--config"), m_dir->filePath(file)};
        QCOMPARE(checkConfigFile(file, m_dir->path()), QStringList());
    }
    const auto invocation = parseOptions(input(arguments, {}));
    QVERIFY2(invocation.hasValue(), qPrintable(invocation.hasValue() ? QString() : invocation.error()));
    for (const QString &pair : expected)
        QCOMPARE(pair.section(u'=', 0, 0) + u'=' + optionValue(invocation->options, pair.section(u'=', 0, 0)), pair);
}

void tst_Options::badConfigValues_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("content");
    QTest::addColumn<QString>("error");

    for (const BadConfig &bad : badConfigs()) {
        QTest::newRow(bad.name) << QString::fromLatin1(bad.file) << QString::fromLatin1(bad.content)
                                << QStringLiteral("$TMP/%1:%2")
                                       .arg(QLatin1StringView(bad.file), QLatin1StringView(bad.error));
    }
}

void tst_Options::badConfigValues()
{
    QFETCH(QString, file);
    QFETCH(QString, content);
    QFETCH(QString, error);

    if (content.contains(QStringLiteral("tls/")))
        QVERIFY(makeTlsFiles(m_dir->path()));
    writeFiles({file + u'=' + content});
    const QStringList before = tree();
    const auto invocation = parseOptions(input({QStringLiteral("--config"), m_dir->filePath(file)}, {}));
    QVERIFY(!invocation.hasValue());
    QCOMPARE(invocation.error(), expand(error));
    // `bourse config check` says the same, and nothing more.
    QCOMPARE(checkConfigFile(m_dir->filePath(file), QStringLiteral("/")), QStringList{expand(error)});
    QCOMPARE(tree(), before);
}

void tst_Options::configCheck_data()
{
    QTest::addColumn<QStringList>("files"); // "path=content", under $TMP
    QTest::addColumn<QString>("path");      // as given, relative to $TMP/work
    QTest::addColumn<QStringList>("problems");

    QTest::newRow("valid") << QStringList{"c.toml=listen = \"[::1]:9000\"\n[limits]\nrate_pro_capacity = 5"}
                           << "../c.toml" << QStringList();
    QTest::newRow("an empty file") << QStringList{"c.toml="} << "../c.toml" << QStringList();
    QTest::newRow("every problem, in file order")
        << QStringList{"c.toml=listen = \"nowhere\"\n"
                       "lisen = \"127.0.0.1:1\"\n"
                       "log_level = 3\n"
                       "[server]\n"
                       "port = 1\n"
                       "[limits]\n"
                       "max_body_bytes = 10\n"
                       "rate_pro_capacity = 5\n"
                       "listen = \"127.0.0.1:1\"\n"
                       "header_timeout_seconds = 301\n"}
        << "../c.toml"
        << QStringList{"$TMP/c.toml:1: listen: expected HOST:PORT, got \"nowhere\"",
                       "$TMP/c.toml:2: lisen: unknown key",
                       "$TMP/c.toml:3: log_level: expected a string, got an integer",
                       "$TMP/c.toml:4: [server]: unknown table",
                       "$TMP/c.toml:7: limits.max_body_bytes: expected an integer from 1024 to 16777216, got \"10\"",
                       "$TMP/c.toml:9: limits.listen: unknown key (listen goes before [limits])",
                       "$TMP/c.toml:10: limits.header_timeout_seconds: expected an integer from 1 to 300, got \"301\""};
    QTest::newRow("INI: several problems")
        << QStringList{"c.ini=log_level = loud\nsnapshot_every = often\n[limits]\nmax_body_bytes = 1k\n"
                       "rate_default_capacity = 0\nrate_default_per_second = 50"}
        << "../c.ini"
        << QStringList{"$TMP/c.ini:1: log_level: expected debug, info, warning or error, got \"loud\"",
                       "$TMP/c.ini:2: snapshot_every: expected a whole number of commands from 1 to 1000000000, got "
                       "\"often\"",
                       "$TMP/c.ini:4: limits.max_body_bytes: expected an integer from 1024 to 16777216, got \"1k\"",
                       "$TMP/c.ini:5: limits.rate_default_capacity: expected an integer from 1 to 1000000, got \"0\""};
    QTest::newRow("a syntax error stops the reading")
        << QStringList{"c.toml=listen = \"nowhere\"\nlog_level = \"x\"\nport 8080\nlog_format = \"xml\""} << "../c.toml"
        << QStringList{"$TMP/c.toml:3: port: expected \"=\" after the key"};
    QTest::newRow("a missing file") << QStringList() << "missing.toml"
                                    << QStringList{"cannot read \"$TMP/work/missing.toml\": No such file or directory"};
    QTest::newRow("a directory") << QStringList() << "." << QStringList{"cannot read \"$TMP/work\": it is a directory"};
    QTest::newRow("relative paths are relative to the file's directory")
        << QStringList{"conf/d=x", "conf/c.toml=data_dir = \"d\"\ndatabase_url = \"sqlite:\"\n"
                                   "tls_cert = \"none.pem\"\ntls_key = \"~/none.key\""}
        << "../conf/c.toml"
        << QStringList{
               "$TMP/conf/c.toml:1: data_dir: \"$TMP/conf/d\" exists and is not a directory",
               "$TMP/conf/c.toml:2: database_url: sqlite: needs a file path, e.g. sqlite:/var/lib/bourse/bourse.db",
               "$TMP/conf/c.toml:3: tls_cert: cannot read \"$TMP/conf/none.pem\"",
               "$TMP/conf/c.toml:4: tls_key: cannot read \"$TMP/home/none.key\""};
    QTest::newRow("tls_cert without tls_key")
        << QStringList{"c.toml=tls_cert = \"tls/cert.pem\"\ntls_key = \"\""} << "../c.toml"
        << QStringList{"$TMP/c.toml:1: tls_cert: given without tls_key; give both or neither"};
    QTest::newRow("tls_key without tls_cert")
        << QStringList{"c.toml=\ntls_key = \"tls/key.pem\""} << "../c.toml"
        << QStringList{"$TMP/c.toml:2: tls_key: given without tls_cert; give both "
                       "or neither"};
    QTest::newRow("both TLS files") << QStringList{"c.toml=tls_key = \"tls/key.pem\"\ntls_cert = \"tls/cert.pem\""}
                                    << "../c.toml" << QStringList();
}

void tst_Options::configCheck()
{
    QFETCH(QStringList, files);
    QFETCH(QString, path);
    QFETCH(QStringList, problems);

    if (files.join(u' ').contains(QStringLiteral("tls/")))
        QVERIFY(makeTlsFiles(m_dir->path()));
    writeFiles(files);
    const QStringList before = tree();
    QCOMPARE(checkConfigFile(path, m_dir->filePath(QStringLiteral("work"))), expand(problems));
    QCOMPARE(tree(), before);
}

namespace {

// The test's files as seen by a user who does not own them, the way an operator checks the service's config:
// not root, the test's own user, whom the files' mode bits bind; as root, whom they do not bind, "nobody", with
// the real and effective ids switched (access(2) checks the real ones) and the saved ones left root's, so that
// the destructor can switch back.
class OtherUser final
{
public:
    OtherUser()
    {
        if (::geteuid() != 0)
            return;
        const passwd *account = ::getpwnam("nobody");
        if (!account) {
            m_error = QStringLiteral("running as root, and there is no \"nobody\" user to check as");
            return;
        }
        if (::setresgid(account->pw_gid, account->pw_gid, 0) != 0
            || ::setresuid(account->pw_uid, account->pw_uid, 0) != 0) {
            m_error = QStringLiteral("cannot switch to the \"nobody\" user");
            return;
        }
        m_switched = true;
    }
    ~OtherUser()
    {
        if (m_switched && (::setresuid(0, 0, 0) != 0 || ::setresgid(0, 0, 0) != 0))
            qFatal("cannot switch back to root");
    }
    OtherUser(const OtherUser &) = delete;
    OtherUser &operator=(const OtherUser &) = delete;

    QString error() const { return m_error; }

private:
    bool m_switched = false;
    QString m_error;
};

} // namespace

// What `bourse config check` says about a file whose paths the runner may not use, and what a start with it
// says: the check is about the file, the start about this process.
void tst_Options::configCheckIsAboutTheFile_data()
{
    QTest::addColumn<QStringList>("files"); // "path=content", under $TMP
    QTest::addColumn<QStringList>("modes"); // "path=octal mode", under $TMP, set after the files are written
    QTest::addColumn<QStringList>("problems");
    QTest::addColumn<QString>("startError");

    const QString tls = QStringLiteral("c.toml=tls_cert = \"tls/cert.pem\"\ntls_key = \"tls/key.pem\"");
    QTest::newRow("a data dir the runner cannot write")
        << QStringList{"locked/keep=x", "c.toml=data_dir = \"locked\""} << QStringList{"locked=500"} << QStringList()
        << "$TMP/c.toml:1: data_dir: \"$TMP/locked\" is not writable";
    QTest::newRow("a TLS key the runner cannot read")
        << QStringList{tls} << QStringList{"tls/key.pem=0"} << QStringList()
        << "$TMP/c.toml:2: tls_key: cannot read \"$TMP/tls/key.pem\"";
    QTest::newRow("a TLS certificate the runner cannot read")
        << QStringList{tls} << QStringList{"tls/cert.pem=0"} << QStringList()
        << "$TMP/c.toml:1: tls_cert: cannot read \"$TMP/tls/cert.pem\"";
    QTest::newRow("TLS files in a directory the runner cannot search")
        << QStringList{tls} << QStringList{"tls=0"} << QStringList()
        << "$TMP/c.toml:1: tls_cert: cannot read \"$TMP/tls/cert.pem\"";
    // Still the file's problems, whoever checks it.
    QTest::newRow("a data dir that is a file")
        << QStringList{"file=x", "c.toml=data_dir = \"file\""} << QStringList{"file=400"}
        << QStringList{"$TMP/c.toml:1: data_dir: \"$TMP/file\" exists and is not a directory"}
        << "$TMP/c.toml:1: data_dir: \"$TMP/file\" exists and is not a directory";
    QTest::newRow("a TLS key that does not exist")
        << QStringList{"c.toml=tls_cert = \"tls/cert.pem\"\ntls_key = \"tls/none.pem\""}
        << QStringList{"tls/key.pem=0"}
        << QStringList{"$TMP/c.toml:2: tls_key: cannot read \"$TMP/tls/none.pem\""}
        << "$TMP/c.toml:2: tls_key: cannot read \"$TMP/tls/none.pem\"";
    QTest::newRow("a TLS certificate that is a directory")
        << QStringList{"c.toml=tls_cert = \"tls\"\ntls_key = \"tls/key.pem\""} << QStringList{"tls/key.pem=0"}
        << QStringList{"$TMP/c.toml:1: tls_cert: cannot read \"$TMP/tls\""}
        << "$TMP/c.toml:1: tls_cert: cannot read \"$TMP/tls\"";
    QTest::newRow("a readable certificate is still parsed")
        << QStringList{"c.toml=tls_cert = \"c.toml\"\ntls_key = \"tls/key.pem\""} << QStringList{"tls/key.pem=0"}
        << QStringList{"$TMP/c.toml:1: tls_cert: \"$TMP/c.toml\" holds no PEM certificate"}
        << "$TMP/c.toml:1: tls_cert: \"$TMP/c.toml\" holds no PEM certificate";
}

void tst_Options::configCheckIsAboutTheFile()
{
    QFETCH(QStringList, files);
    QFETCH(QStringList, modes);
    QFETCH(QStringList, problems);
    QFETCH(QString, startError);

    QVERIFY(makeTlsFiles(m_dir->path()));
    writeFiles(files);
    // Another user must reach the files to be refused by their modes; the temporary directory is 0700.
    QVERIFY(QFile::setPermissions(m_dir->path(), QFileDevice::ReadOwner | QFileDevice::WriteOwner
                                                     | QFileDevice::ExeOwner | QFileDevice::ExeGroup
                                                     | QFileDevice::ExeOther));
    QVERIFY(QFile::setPermissions(m_dir->filePath(QStringLiteral("tls/cert.pem")),
                                  QFileDevice::ReadOwner | QFileDevice::ReadGroup | QFileDevice::ReadOther));
    for (const QString &entry : std::as_const(modes)) {
        const QByteArray path = QFile::encodeName(m_dir->filePath(entry.section(u'=', 0, 0)));
        QCOMPARE(::chmod(path.constData(), mode_t(entry.section(u'=', 1).toUInt(nullptr, 8))), 0);
    }
    // The temporary directory can be removed afterwards.
    const auto restore = qScopeGuard([&] {
        for (const QString &entry : std::as_const(modes))
            ::chmod(QFile::encodeName(m_dir->filePath(entry.section(u'=', 0, 0))).constData(), 0700);
    });

    QStringList checked;
    QString started;
    {
        const OtherUser other;
        QVERIFY2(other.error().isEmpty(), qPrintable(other.error()));
        checked = checkConfigFile(QStringLiteral("c.toml"), m_dir->path());
        const QString config = m_dir->filePath(QStringLiteral("c.toml"));
        const auto invocation = parseOptions(input({QStringLiteral("--config"), config}, {}));
        started = invocation.hasValue() ? QStringLiteral("<started>") : invocation.error();
    }
    QCOMPARE(checked, expand(problems));
    QCOMPARE(started, expand(startError));
}

QTEST_GUILESS_MAIN(tst_Options)
#include "tst_options.moc"
