// Tests of Options: each setting's precedence (command line > environment > config file > default), the
// config file's lookup, relative paths, headless detection, --help/--version, and every bad input with its
// exact one-line error. parseOptions() only reads, so the error rows also check that nothing was created.
// "$TMP" in a row stands for the test's temporary directory.
#include "options.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

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
    void listenAddress_data();
    void listenAddress();
    void errors_data();
    void errors();
    void usageNamesEveryOption();
    void shippedConfigShowsTheDefaults();

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
    QTest::newRow("positional argument") << QStringList{
        "serve"} << none << none << "unexpected argument \"serve\" (bourse takes only options; see bourse --help)";
    QTest::newRow("lone --") << QStringList{"--"} << none << none
                             << "unexpected argument \"--\" (bourse takes only options; see bourse --help)";
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
    config("words for snapshot_every", "snapshot_every = \"often\"",
           "1: snapshot_every: expected a whole number of commands from 1 to 1000000000, got \"often\"");
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
    QVERIFY(usage.startsWith(QStringLiteral("Usage: bourse [options]\n")));
    for (const char *name :
         {"--listen", "--data-dir", "--database-url", "--config", "--headless", "--log-format", "--log-level", "--help",
          "--version", "BOURSE_LISTEN", "BOURSE_DATA_DIR", "BOURSE_DATABASE_URL", "BOURSE_CONFIG", "BOURSE_LOG_FORMAT",
          "BOURSE_LOG_LEVEL", "--tls-cert", "--tls-key", "BOURSE_TLS_CERT", "BOURSE_TLS_KEY",
          "/home/me/.local/share/bourse"}) {
        QVERIFY2(usage.contains(QLatin1StringView(name)), name);
    }
}

void tst_Options::shippedConfigShowsTheDefaults()
{
    QFile shipped(QStringLiteral(BOURSE_SOURCE_DIR "/resources/bourse.toml"));
    QVERIFY(shipped.open(QIODevice::ReadOnly));
    // Uncommenting every "# key = value" line must give exactly the built-in defaults.
    static const QRegularExpression kSetting(QStringLiteral("^# ([a-z_]+) = "));
    QStringList keys;
    QByteArray uncommented;
    for (const QByteArray &line : shipped.readAll().split('\n')) {
        const QRegularExpressionMatch match = kSetting.match(QString::fromUtf8(line));
        if (match.hasMatch())
            keys.append(match.captured(1));
        uncommented += (match.hasMatch() ? line.mid(2) : line) + '\n';
    }
    QCOMPARE(keys, (QStringList{"listen", "data_dir", "database_url", "log_format", "log_level", "snapshot_every",
                                "tls_cert", "tls_key"}));
    QFile copy(m_dir->filePath(QStringLiteral("all.toml")));
    QVERIFY(copy.open(QIODevice::WriteOnly));
    copy.write(uncommented);
    copy.close();

    for (const QString &config : {shipped.fileName(), copy.fileName()}) {
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
    }
}

QTEST_GUILESS_MAIN(tst_Options)
#include "tst_options.moc"
