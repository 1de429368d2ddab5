#include "options.h"

#include "config_file.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QHostAddress>
#include <QSet>
#include <QSslCertificate>
#include <QSslKey>

#include <array>
#include <optional>

#ifndef BOURSE_VERSION
#error "BOURSE_VERSION must be defined by the build (the CMake project version)"
#endif

namespace bourse::app {

namespace {

QString quoted(QStringView text)
{
    return QLatin1Char('"') + text.toString() + QLatin1Char('"');
}

// One setting: its command-line option, environment variable and config key.
struct Setting
{
    QLatin1StringView option;
    QLatin1StringView env;
    QLatin1StringView key;
    bool integer = false; // the config file gives it as a TOML integer, not a string
};

constexpr Setting kListen{QLatin1StringView("--listen"), QLatin1StringView("BOURSE_LISTEN"),
                          QLatin1StringView("listen")};
constexpr Setting kDataDir{QLatin1StringView("--data-dir"), QLatin1StringView("BOURSE_DATA_DIR"),
                           QLatin1StringView("data_dir")};
constexpr Setting kDatabaseUrl{QLatin1StringView("--database-url"), QLatin1StringView("BOURSE_DATABASE_URL"),
                               QLatin1StringView("database_url")};
constexpr Setting kConfig{QLatin1StringView("--config"), QLatin1StringView("BOURSE_CONFIG"), QLatin1StringView()};
constexpr Setting kLogFormat{QLatin1StringView("--log-format"), QLatin1StringView("BOURSE_LOG_FORMAT"),
                             QLatin1StringView("log_format")};
constexpr Setting kLogLevel{QLatin1StringView("--log-level"), QLatin1StringView("BOURSE_LOG_LEVEL"),
                            QLatin1StringView("log_level")};
constexpr Setting kSnapshotEvery{QLatin1StringView("--snapshot-every"), QLatin1StringView("BOURSE_SNAPSHOT_EVERY"),
                                 QLatin1StringView("snapshot_every"), true};
constexpr Setting kTlsCertificate{QLatin1StringView("--tls-cert"), QLatin1StringView("BOURSE_TLS_CERT"),
                                  QLatin1StringView("tls_cert")};
constexpr Setting kTlsKey{QLatin1StringView("--tls-key"), QLatin1StringView("BOURSE_TLS_KEY"),
                          QLatin1StringView("tls_key")};
constexpr std::array kValueSettings{kListen,   kDataDir,       kDatabaseUrl,    kConfig, kLogFormat,
                                    kLogLevel, kSnapshotEvery, kTlsCertificate, kTlsKey};
constexpr std::uint64_t kMaxSnapshotEvery = 1'000'000'000;

const QLatin1StringView kHeadless("--headless");
const QLatin1StringView kHelp("--help");
const QLatin1StringView kVersion("--version");

// A value and where it came from, for messages ("--listen", "BOURSE_LISTEN", "/etc/bourse.toml:3: listen")
// and for relative paths, which are relative to the working directory, or to a config file's directory.
struct Sourced
{
    QString value;
    QString source;
    QString baseDir;
};

struct CommandLine
{
    QHash<QString, QString> values; // by option name
    bool help = false;
    bool version = false;
    bool headless = false;
};

Expected<CommandLine, QString> parseCommandLine(const QStringList &arguments)
{
    CommandLine commandLine;
    QSet<QString> seen;
    for (qsizetype i = 0; i < arguments.size(); ++i) {
        const QString &argument = arguments[i];
        if (argument == u"-h") {
            commandLine.help = true;
            continue;
        }
        if (!argument.startsWith(u'-') || argument == u"-" || argument == u"--") {
            return unexpected(QStringLiteral("unexpected argument %1 (bourse takes only options; see bourse --help)")
                                  .arg(quoted(argument)));
        }
        const qsizetype equals = argument.indexOf(u'=');
        const QString name = equals < 0 ? argument : argument.left(equals);
        if (seen.contains(name))
            return unexpected(QStringLiteral("%1: given more than once").arg(name));
        seen.insert(name);

        if (name == kHeadless || name == kHelp || name == kVersion) {
            if (equals >= 0)
                return unexpected(QStringLiteral("%1: takes no value").arg(name));
            commandLine.headless = commandLine.headless || name == kHeadless;
            commandLine.help = commandLine.help || name == kHelp;
            commandLine.version = commandLine.version || name == kVersion;
            continue;
        }
        const bool known = std::any_of(kValueSettings.begin(), kValueSettings.end(),
                                       [&](const Setting &setting) { return name == setting.option; });
        if (!known)
            return unexpected(QStringLiteral("%1: unknown option (see bourse --help)").arg(name));
        if (equals >= 0) {
            commandLine.values.insert(name, argument.mid(equals + 1));
        } else {
            // "--data-dir --headless" is a forgotten value, not a directory called "--headless".
            if (i + 1 >= arguments.size() || arguments[i + 1].startsWith(u"--"))
                return unexpected(QStringLiteral("%1: needs a value").arg(name));
            commandLine.values.insert(name, arguments[++i]);
        }
    }
    return commandLine;
}

// "~" and "~/..." mean the home directory in the environment and the config file too, not only where a
// shell expands them.
QString absolutePath(const QString &path, const QString &baseDir)
{
    QString expanded = path;
    if (path == u"~" || path.startsWith(u"~/"))
        expanded = QDir::homePath() + path.mid(1);
    return QDir::cleanPath(QDir(baseDir).absoluteFilePath(expanded));
}

bool isIpv4(QStringView text)
{
    const QList<QStringView> parts = text.split(u'.');
    if (parts.size() != 4)
        return false;
    for (const QStringView part : parts) {
        if (part.isEmpty() || part.size() > 3 || (part.size() > 1 && part[0] == u'0'))
            return false; // no leading zeros: "010" reads as octal to some tools, as ten to others
        int value = 0;
        for (const QChar c : part) {
            if (c < u'0' || c > u'9')
                return false;
            value = value * 10 + (c.unicode() - u'0');
        }
        if (value > 255)
            return false;
    }
    return true;
}

Expected<QString, QString> resolveDataDir(const Sourced &setting)
{
    if (setting.value.isEmpty())
        return unexpected(QStringLiteral("%1: must not be empty").arg(setting.source));
    const QString path = absolutePath(setting.value, setting.baseDir);
    const QFileInfo info(path);
    if (info.exists() && !info.isDir())
        return unexpected(QStringLiteral("%1: %2 exists and is not a directory").arg(setting.source, quoted(path)));
    if (info.exists() && !info.isWritable())
        return unexpected(QStringLiteral("%1: %2 is not writable").arg(setting.source, quoted(path)));
    return path;
}

template<typename T>
Expected<T, QString> withSource(const Sourced &source, Expected<T, QString> result)
{
    if (!result)
        return unexpected(source.source + QStringLiteral(": ") + result.error());
    return result;
}

template<typename T, typename Describe>
Expected<T, QString> optionalToExpected(std::optional<T> value, Describe describeProblem)
{
    if (!value)
        return unexpected(describeProblem());
    return *value;
}

// Checks the value of every source (highest precedence first) and returns the first one's, or nothing
// when no source gives the setting.
template<typename T, typename Check>
Expected<std::optional<T>, QString> resolveSetting(const QList<Sourced> &sources, Check check)
{
    std::optional<T> chosen;
    for (const Sourced &source : sources) {
        const Expected<T, QString> value = check(source);
        if (!value)
            return unexpected(value.error());
        if (!chosen)
            chosen = value.value();
    }
    return chosen;
}

} // namespace

Expected<ListenAddress, QString> ListenAddress::parse(QStringView text)
{
    ListenAddress address;
    QStringView portText;
    if (text.startsWith(u'[')) {
        const qsizetype close = text.indexOf(u']');
        if (close < 0)
            return unexpected(QStringLiteral("IPv6 address has no closing \"]\", got %1").arg(quoted(text)));
        const QStringView host = text.mid(1, close - 1);
        const QStringView after = text.mid(close + 1);
        if (!after.startsWith(u':'))
            return unexpected(QStringLiteral("expected [IPV6]:PORT, got %1").arg(quoted(text)));
        QHostAddress parsed;
        if (!parsed.setAddress(host.toString()) || parsed.protocol() != QHostAddress::IPv6Protocol)
            return unexpected(QStringLiteral("%1 is not an IPv6 address").arg(quoted(text.left(close + 1))));
        address.host = host.toString();
        portText = after.mid(1);
    } else {
        const qsizetype colon = text.lastIndexOf(u':');
        if (colon < 0)
            return unexpected(QStringLiteral("expected HOST:PORT, got %1").arg(quoted(text)));
        const QStringView host = text.left(colon);
        if (host.contains(u':'))
            return unexpected(
                QStringLiteral("IPv6 addresses go in brackets, e.g. [::1]:8080, got %1").arg(quoted(text)));
        if (host.isEmpty())
            return unexpected(QStringLiteral("the host is missing, got %1").arg(quoted(text)));
        if (host != u"localhost" && !isIpv4(host)) {
            return unexpected(
                QStringLiteral("host must be an IPv4 address, [IPv6 address] or localhost, got %1").arg(quoted(host)));
        }
        address.host = host.toString();
        portText = text.mid(colon + 1);
    }
    int port = 0;
    bool digitsOnly = !portText.isEmpty() && portText.size() <= 5;
    for (const QChar c : portText) {
        digitsOnly = digitsOnly && c >= u'0' && c <= u'9';
        if (digitsOnly)
            port = port * 10 + (c.unicode() - u'0');
    }
    if (!digitsOnly || port < 1 || port > 65535)
        return unexpected(QStringLiteral("port must be 1-65535, got %1").arg(quoted(portText)));
    address.port = static_cast<std::uint16_t>(port);
    return address;
}

QString ListenAddress::toString() const
{
    const QString hostText = host.contains(u':') ? QLatin1Char('[') + host + QLatin1Char(']') : host;
    return hostText + QLatin1Char(':') + QString::number(port);
}

Expected<Invocation, QString> parseOptions(const OptionsInput &input)
{
    const Expected<CommandLine, QString> commandLine = parseCommandLine(input.arguments);
    if (!commandLine)
        return unexpected(commandLine.error());
    Invocation invocation;
    // Help and version need no valid settings: they answer even when a value or the config is wrong.
    if (commandLine->help) {
        invocation.action = Invocation::Action::Help;
        return invocation;
    }
    if (commandLine->version) {
        invocation.action = Invocation::Action::Version;
        return invocation;
    }

    // The command line, then the environment, where an empty variable counts as unset.
    const auto fromOutside = [&](const Setting &setting) {
        QList<Sourced> sources;
        if (const auto it = commandLine->values.constFind(setting.option); it != commandLine->values.constEnd())
            sources.append(Sourced{*it, setting.option, input.workingDirectory});
        if (const QString env = input.environment.value(setting.env); !env.isEmpty())
            sources.append(Sourced{env, setting.env, input.workingDirectory});
        return sources;
    };

    // The data dir that holds the default config file cannot itself come from that file.
    const QList<Sourced> outsideDataDirs = fromOutside(kDataDir);
    for (const Sourced &source : outsideDataDirs) {
        if (const Expected<QString, QString> dir = resolveDataDir(source); !dir)
            return unexpected(dir.error());
    }
    const Expected<QString, QString> lookupDir = resolveDataDir(
        outsideDataDirs.isEmpty()
            ? Sourced{input.defaultDataDir, QStringLiteral("the default data dir"), input.workingDirectory}
            : outsideDataDirs.constFirst());
    if (!lookupDir)
        return unexpected(lookupDir.error());

    Options &options = invocation.options;
    const QList<Sourced> explicitConfigs = fromOutside(kConfig);
    if (!explicitConfigs.isEmpty()) {
        const Sourced &config = explicitConfigs.constFirst();
        if (config.value.isEmpty())
            return unexpected(QStringLiteral("%1: needs a file name").arg(config.source));
        options.configFile = absolutePath(config.value, config.baseDir);
    } else {
        for (const QLatin1StringView name : {QLatin1StringView("bourse.toml"), QLatin1StringView("bourse.ini")}) {
            const QString candidate = QDir(*lookupDir).filePath(name);
            if (QFileInfo::exists(candidate)) {
                options.configFile = candidate;
                break;
            }
        }
    }

    QHash<QString, Sourced> fromConfig;
    if (!options.configFile.isEmpty()) {
        const Expected<ConfigFile, ConfigError> config = ConfigFile::read(options.configFile);
        if (!config) {
            const ConfigError &error = config.error();
            if (!explicitConfigs.isEmpty() && error.kind == ConfigError::Kind::Unreadable)
                return unexpected(explicitConfigs.constFirst().source + QStringLiteral(": ") + error.message);
            return unexpected(error.message);
        }
        if (!config->tables().isEmpty()) {
            const ConfigTable &table = config->tables().constFirst();
            return unexpected(
                QStringLiteral("%1:%2: [%3]: unknown table").arg(options.configFile).arg(table.line).arg(table.name));
        }
        // Relative paths in a config file are relative to the file, wherever bourse was started from.
        const QString configDir = QFileInfo(options.configFile).absolutePath();
        for (const ConfigEntry &entry : config->entries()) {
            const QString source = QStringLiteral("%1:%2: %3").arg(options.configFile).arg(entry.line).arg(entry.key);
            const auto setting = std::find_if(kValueSettings.begin(), kValueSettings.end(), [&](const Setting &known) {
                return !known.key.isEmpty() && entry.key == known.key;
            });
            if (setting == kValueSettings.end())
                return unexpected(source + QStringLiteral(": unknown key"));
            // An integer setting may also come as a string (an INI file has no other kind); either way its
            // text is checked like the command line's.
            const bool integer = setting->integer && entry.value.type == ConfigValue::Type::Integer;
            if (!integer && entry.value.type != ConfigValue::Type::String)
                return unexpected(QStringLiteral("%1: expected %2, got %3")
                                      .arg(source,
                                           setting->integer ? QStringLiteral("an integer") : QStringLiteral("a string"),
                                           entry.value.describeType()));
            fromConfig.insert(entry.key, Sourced{integer ? QString::number(entry.value.integer) : entry.value.string,
                                                 source, configDir});
        }
    }

    // Every value given anywhere is checked, even one a higher source overrides: a config file with a bad
    // value is a bad file, and should not wait to fail until the day the override goes.
    const auto sourcesOf = [&](const Setting &setting) {
        QList<Sourced> sources = fromOutside(setting);
        if (const auto it = fromConfig.constFind(setting.key); it != fromConfig.constEnd())
            sources.append(*it);
        return sources;
    };

    const auto listen = resolveSetting<ListenAddress>(sourcesOf(kListen), [](const Sourced &source) {
        return withSource(source, ListenAddress::parse(source.value));
    });
    if (!listen)
        return unexpected(listen.error());
    options.listen = listen->value_or(options.listen);

    const auto dataDir = resolveSetting<QString>(sourcesOf(kDataDir), resolveDataDir);
    if (!dataDir)
        return unexpected(dataDir.error());
    options.dataDir = dataDir->value_or(*lookupDir);

    const auto database = resolveSetting<sql::DatabaseUrl>(sourcesOf(kDatabaseUrl), [](const Sourced &source) {
        Expected<sql::DatabaseUrl, QString> url = withSource(source, sql::DatabaseUrl::parse(source.value));
        if (url && url->driver == sql::DatabaseUrl::Driver::Sqlite)
            url.value().path = absolutePath(url->path, source.baseDir);
        return url;
    });
    if (!database)
        return unexpected(database.error());
    options.database = database->value_or(
        sql::DatabaseUrl::sqlite(QDir(options.dataDir).filePath(QStringLiteral("bourse.db"))));

    const auto logFormat = resolveSetting<LogFormat>(sourcesOf(kLogFormat), [](const Sourced &source) {
        return withSource(source, optionalToExpected(parseLogFormat(source.value), [&] {
                              return QStringLiteral("expected text or json, got %1").arg(quoted(source.value));
                          }));
    });
    if (!logFormat)
        return unexpected(logFormat.error());
    options.logFormat = logFormat->value_or(options.logFormat);

    const auto logLevel = resolveSetting<LogLevel>(sourcesOf(kLogLevel), [](const Sourced &source) {
        return withSource(source, optionalToExpected(parseLogLevel(source.value), [&] {
                              return QStringLiteral("expected debug, info, warning or error, got %1")
                                  .arg(quoted(source.value));
                          }));
    });
    if (!logLevel)
        return unexpected(logLevel.error());
    options.logLevel = logLevel->value_or(options.logLevel);

    const auto snapshotEvery = resolveSetting<std::uint64_t>(sourcesOf(kSnapshotEvery), [](const Sourced &source) {
        bool ok = false;
        const qulonglong commands = source.value.toULongLong(&ok);
        Expected<std::uint64_t, QString> result = std::uint64_t(commands);
        if (!ok || commands < 1 || commands > kMaxSnapshotEvery)
            result = unexpected(QStringLiteral("expected a whole number of commands from 1 to %1, got %2")
                                    .arg(kMaxSnapshotEvery)
                                    .arg(quoted(source.value)));
        return withSource(source, std::move(result));
    });
    if (!snapshotEvery)
        return unexpected(snapshotEvery.error());
    options.snapshotEvery = snapshotEvery->value_or(options.snapshotEvery);

    // TLS: a PEM certificate (chain) and its PEM private key, both or neither, read and checked now so that a
    // bad file is a bad option (exit 2), not a server that cannot start.
    const auto readPem = [](const Sourced &source) -> Expected<QString, QString> {
        if (source.value.isEmpty())
            return QString(); // "": none, as the shipped config file writes it
        const QString path = absolutePath(source.value, source.baseDir);
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly))
            return withSource(source, Expected<QString, QString>(
                                          unexpected(QStringLiteral("cannot read %1").arg(quoted(path)))));
        return path;
    };
    const auto certificate = resolveSetting<QString>(sourcesOf(kTlsCertificate), readPem);
    if (!certificate)
        return unexpected(certificate.error());
    const auto key = resolveSetting<QString>(sourcesOf(kTlsKey), readPem);
    if (!key)
        return unexpected(key.error());
    const bool hasCertificate = certificate->has_value() && !(*certificate)->isEmpty();
    const bool hasKey = key->has_value() && !(*key)->isEmpty();
    if (hasCertificate != hasKey)
        return unexpected(QStringLiteral("--tls-cert and --tls-key go together: give both or neither"));
    if (hasCertificate) {
        QFile certificateFile(**certificate);
        QFile keyFile(**key);
        if (!certificateFile.open(QIODevice::ReadOnly) || !keyFile.open(QIODevice::ReadOnly))
            return unexpected(QStringLiteral("--tls-cert/--tls-key: cannot read the files"));
        const QList<QSslCertificate> chain = QSslCertificate::fromData(certificateFile.readAll(), QSsl::Pem);
        if (chain.isEmpty() || chain.first().isNull())
            return unexpected(QStringLiteral("--tls-cert: %1 holds no PEM certificate").arg(quoted(**certificate)));
        const QByteArray keyBytes = keyFile.readAll();
        QSslKey privateKey(keyBytes, QSsl::Rsa, QSsl::Pem);
        if (privateKey.isNull())
            privateKey = QSslKey(keyBytes, QSsl::Ec, QSsl::Pem);
        if (privateKey.isNull())
            return unexpected(
                QStringLiteral("--tls-key: %1 holds no unencrypted PEM RSA or EC private key").arg(quoted(**key)));
        options.tlsCertificate = **certificate;
        options.tlsKey = **key;
    }

    const bool hasDisplay = !input.environment.value(QStringLiteral("DISPLAY")).isEmpty()
                            || !input.environment.value(QStringLiteral("WAYLAND_DISPLAY")).isEmpty();
    options.headlessRequested = commandLine->headless;
    options.headless = commandLine->headless || !hasDisplay;
    return invocation;
}

QString usageText(const QString &defaultDataDir)
{
    return QStringLiteral(
               "Usage: bourse [options]\n"
               "\n"
               "A trading workstation with its own exchange: the matching engine, its SQL store, the HTTP API\n"
               "with its WebSocket and event streams, and (in later builds) the desktop window, in one process.\n"
               "\n"
               "Options:\n"
               "  --listen HOST:PORT    address of the HTTP API; HOST is an IPv4 address, [IPv6] or\n"
               "                        localhost (env BOURSE_LISTEN, default 127.0.0.1:8080)\n"
               "  --data-dir DIR        where the database, keys and config live\n"
               "                        (env BOURSE_DATA_DIR, default %1)\n"
               "  --database-url URL    sqlite:<path> or postgresql://user:pass@host:port/db\n"
               "                        (env BOURSE_DATABASE_URL, default sqlite:<data-dir>/bourse.db)\n"
               "  --config FILE         the config file (env BOURSE_CONFIG, default <data-dir>/bourse.toml,\n"
               "                        else <data-dir>/bourse.ini, if present)\n"
               "  --tls-cert FILE       serve HTTPS with this PEM certificate (chain); needs --tls-key\n"
               "                        (env BOURSE_TLS_CERT)\n"
               "  --tls-key FILE        the certificate's PEM private key (env BOURSE_TLS_KEY)\n"
               "  --headless            no desktop window (the default when there is no display)\n"
               "  --log-format FORMAT   text or json (env BOURSE_LOG_FORMAT, default text)\n"
               "  --log-level LEVEL     debug, info, warning or error (env BOURSE_LOG_LEVEL, default info)\n"
               "  --snapshot-every N    commands between engine snapshots in the journal, which bound the\n"
               "                        replay at start-up (env BOURSE_SNAPSHOT_EVERY, default 100000)\n"
               "  -h, --help            show this help and exit\n"
               "  --version             show the version and exit\n"
               "\n"
               "The command line wins over the environment, which wins over the config file. A bad option\n"
               "or value exits with status 2 before anything is written. SIGINT or SIGTERM stop bourse\n"
               "cleanly (status 0).\n")
        .arg(defaultDataDir);
}

QString bourseVersion()
{
    return QStringLiteral(BOURSE_VERSION);
}

QString versionText()
{
    return QStringLiteral("bourse ") + bourseVersion();
}

} // namespace bourse::app
