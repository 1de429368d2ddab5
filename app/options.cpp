#include "options.h"

#include "config_file.h"
#include "json_reader.h"
#include "json_writer.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QHostAddress>
#include <QRegularExpression>
#include <QSet>
#include <QSslCertificate>
#include <QSslKey>

#include <algorithm>
#include <array>
#include <cerrno>
#include <optional>
#include <string_view>

#include <sys/stat.h>

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
    QStringList words;              // the arguments that are not options: the command and its operand
    bool help = false;
    bool version = false;
    bool headless = false;
};

struct CommandForm
{
    Invocation::Action action;
    QLatin1StringView words;   // "config check"
    QLatin1StringView operand; // "FILE"; empty: takes none
};

constexpr std::array kCommands{
    CommandForm{Invocation::Action::ConfigCheck, QLatin1StringView("config check"), QLatin1StringView("FILE")},
    CommandForm{Invocation::Action::Backup, QLatin1StringView("backup"), QLatin1StringView("DEST")},
    CommandForm{Invocation::Action::Restore, QLatin1StringView("restore"), QLatin1StringView("SRC")},
    CommandForm{Invocation::Action::Verify, QLatin1StringView("verify"), QLatin1StringView()},
    CommandForm{Invocation::Action::ResetPassword, QLatin1StringView("admin reset-password"), QLatin1StringView("USER")},
};

// The command the words name, and its operand: "backup /srv/b" is Backup with "/srv/b".
Expected<std::pair<Invocation::Action, QString>, QString> parseCommand(const QStringList &words)
{
    if (words.isEmpty())
        return std::pair{Invocation::Action::Run, QString()};
    for (const CommandForm &form : kCommands) {
        const QStringList formWords = QString(form.words).split(u' ');
        if (words.size() < formWords.size() || words.mid(0, formWords.size()) != formWords)
            continue;
        const QStringList rest = words.mid(formWords.size());
        const QString usage = form.operand.isEmpty() ? QString(form.words) : form.words + u' ' + form.operand;
        if (form.operand.isEmpty() && !rest.isEmpty())
            return unexpected(QStringLiteral("%1: unexpected argument %2 (usage: bourse %3 [options])")
                                  .arg(form.words, quoted(rest.constFirst()), usage));
        if (!form.operand.isEmpty() && rest.isEmpty())
            return unexpected(QStringLiteral("%1: needs %2 (usage: bourse %3 [options])").arg(form.words, form.operand, usage));
        if (rest.size() > 1)
            return unexpected(QStringLiteral("%1: unexpected argument %2 (usage: bourse %3 [options])")
                                  .arg(form.words, quoted(rest[1]), usage));
        if (!form.operand.isEmpty() && rest.constFirst().isEmpty())
            return unexpected(QStringLiteral("%1: %2 must not be empty").arg(form.words, form.operand));
        return std::pair{form.action, rest.value(0)};
    }
    // "config" alone, "admin" alone or a misspelt command.
    QString known;
    for (const CommandForm &form : kCommands)
        known += (known.isEmpty() ? QString() : QStringLiteral(", ")) + form.words;
    return unexpected(QStringLiteral("unknown command %1 (commands: %2; see bourse --help)")
                          .arg(quoted(words.join(u' ')), known));
}

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
        if (argument == u"-" || argument == u"--") {
            return unexpected(QStringLiteral("unexpected argument %1 (see bourse --help)").arg(quoted(argument)));
        }
        if (!argument.startsWith(u'-')) {
            commandLine.words.append(argument);
            continue;
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

// What a check of a path covers. A start needs the data dir and the TLS files usable by this process;
// `bourse config check` judges the file, whoever runs it: an operator who checks the service's config cannot
// write its 0700 data dir or read its key, and the file is not wrong for that (a start as the service checks it).
enum class Access : std::uint8_t {
    ThisProcess, // writable data dir, readable TLS files
    FileOnly,    // paths that exist are of the right kind; a file's contents are checked when it can be read
};

// The data dir's absolute path; with Access::ThisProcess an existing one must also be writable.
Expected<QString, QString> checkDataDir(const Sourced &setting, Access access)
{
    if (setting.value.isEmpty())
        return unexpected(QStringLiteral("%1: must not be empty").arg(setting.source));
    const QString path = absolutePath(setting.value, setting.baseDir);
    const QFileInfo info(path);
    if (info.exists() && !info.isDir())
        return unexpected(QStringLiteral("%1: %2 exists and is not a directory").arg(setting.source, quoted(path)));
    if (access == Access::ThisProcess && info.exists() && !info.isWritable())
        return unexpected(QStringLiteral("%1: %2 is not writable").arg(setting.source, quoted(path)));
    return path;
}

Expected<QString, QString> resolveDataDir(const Sourced &setting)
{
    return checkDataDir(setting, Access::ThisProcess);
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

// ---- the check of each setting's value: parseOptions runs it on every source of the setting, and
// checkConfigFile on the file's entries, so that `bourse config check` and a start say the same (but for what
// depends on who runs it: Access).

Expected<ListenAddress, QString> checkListen(const Sourced &source)
{
    return withSource(source, ListenAddress::parse(source.value));
}

Expected<sql::DatabaseUrl, QString> checkDatabaseUrl(const Sourced &source)
{
    Expected<sql::DatabaseUrl, QString> url = withSource(source, sql::DatabaseUrl::parse(source.value));
    if (url && url->driver == sql::DatabaseUrl::Driver::Sqlite)
        url.value().path = absolutePath(url->path, source.baseDir);
    return url;
}

Expected<LogFormat, QString> checkLogFormat(const Sourced &source)
{
    return withSource(source, optionalToExpected(parseLogFormat(source.value), [&] {
                          return QStringLiteral("expected text or json, got %1").arg(quoted(source.value));
                      }));
}

Expected<LogLevel, QString> checkLogLevel(const Sourced &source)
{
    return withSource(source, optionalToExpected(parseLogLevel(source.value), [&] {
                          return QStringLiteral("expected debug, info, warning or error, got %1")
                              .arg(quoted(source.value));
                      }));
}

Expected<std::uint64_t, QString> checkSnapshotEvery(const Sourced &source)
{
    bool ok = false;
    const qulonglong commands = source.value.toULongLong(&ok);
    Expected<std::uint64_t, QString> result = std::uint64_t(commands);
    if (!ok || commands < 1 || commands > kMaxSnapshotEvery)
        result = unexpected(QStringLiteral("expected a whole number of commands from 1 to %1, got %2")
                                .arg(kMaxSnapshotEvery)
                                .arg(quoted(source.value)));
    return withSource(source, std::move(result));
}

bool holdsCertificate(const QByteArray &pem)
{
    const QList<QSslCertificate> chain = QSslCertificate::fromData(pem, QSsl::Pem);
    return !chain.isEmpty() && !chain.first().isNull();
}

bool holdsPrivateKey(const QByteArray &pem)
{
    return !QSslKey(pem, QSsl::Rsa, QSsl::Pem).isNull() || !QSslKey(pem, QSsl::Ec, QSsl::Pem).isNull();
}

// Whether `path` is certainly no file: it does not exist or is a directory. A path in a directory this process
// may not search may be a file: it cannot tell.
bool notThere(const QString &path)
{
    struct stat status{};
    if (::stat(QFile::encodeName(path).constData(), &status) == 0)
        return S_ISDIR(status.st_mode);
    return errno != EACCES;
}

// A TLS file, read and checked now so that a bad one is a bad option (exit 2), not a server that cannot start:
// its absolute path, or "" for none (as the shipped config file writes it). With Access::FileOnly a file this
// process may not read passes unchecked unless it is certainly missing or a directory.
Expected<QString, QString> checkPemFile(const Sourced &source, bool (*holds)(const QByteArray &),
                                        QLatin1StringView what, Access access)
{
    if (source.value.isEmpty())
        return QString();
    const QString path = absolutePath(source.value, source.baseDir);
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        if (access == Access::FileOnly && !notThere(path))
            return path;
        return unexpected(QStringLiteral("%1: cannot read %2").arg(source.source, quoted(path)));
    }
    if (!holds(file.readAll()))
        return unexpected(QStringLiteral("%1: %2 holds no %3").arg(source.source, quoted(path), what));
    return path;
}

Expected<QString, QString> checkCertificate(const Sourced &source, Access access)
{
    return checkPemFile(source, holdsCertificate, QLatin1StringView("PEM certificate"), access);
}

Expected<QString, QString> checkPrivateKey(const Sourced &source, Access access)
{
    return checkPemFile(source, holdsPrivateKey, QLatin1StringView("unencrypted PEM RSA or EC private key"), access);
}

// The check of one top-level config key's value: the function parseOptions resolves that setting with, for
// `access`'s part of it.
std::optional<QString> problemWith(const Setting &setting, const Sourced &source, Access access)
{
    const auto problem = [](const auto &checked) -> std::optional<QString> {
        if (checked)
            return std::nullopt;
        return checked.error();
    };
    if (setting.key == kListen.key)
        return problem(checkListen(source));
    if (setting.key == kDataDir.key)
        return problem(checkDataDir(source, access));
    if (setting.key == kDatabaseUrl.key)
        return problem(checkDatabaseUrl(source));
    if (setting.key == kLogFormat.key)
        return problem(checkLogFormat(source));
    if (setting.key == kLogLevel.key)
        return problem(checkLogLevel(source));
    if (setting.key == kSnapshotEvery.key)
        return problem(checkSnapshotEvery(source));
    if (setting.key == kTlsCertificate.key)
        return problem(checkCertificate(source, access));
    if (setting.key == kTlsKey.key)
        return problem(checkPrivateKey(source, access));
    return source.source + QStringLiteral(": bourse has no check for this key"); // a key added without one
}

// ---- [limits]: the run-time settings (server/venue_settings.h) a venue starts with. No command-line option
// or environment variable sets them; an admin changes them at run time.

const QLatin1StringView kLimitsTable("limits");

using server::ConfigLimit;

// A [limits] value applied to `settings` as the one-member patch it stands for, by applySettingsPatch, so that
// the file and PATCH /admin/settings hold values to the same ranges with the same code. A whole number goes into
// the patch as a number; any other text as a string, which the patch refuses as not an integer.
Expected<server::VenueSettings, QString> applyLimit(const server::VenueSettings &settings, const ConfigLimit &limit,
                                                    const Sourced &source)
{
    static const QRegularExpression kWholeNumber(QStringLiteral("^[+-]?[0-9]+$"));
    bool whole = false;
    const qlonglong number = kWholeNumber.match(source.value).hasMatch() ? source.value.toLongLong(&whole) : 0;
    server::JsonWriter json;
    int depth = 0;
    for (std::string_view rest = limit.path;; ++depth) {
        const std::size_t dot = rest.find('.');
        json.beginObject().key(rest.substr(0, dot));
        if (dot == std::string_view::npos)
            break;
        rest = rest.substr(dot + 1);
    }
    if (whole)
        json.number(std::int64_t(number));
    else
        json.string(source.value);
    for (; depth >= 0; --depth)
        json.endObject();
    const QByteArray patch = json.take();
    const Expected<server::JsonDocument, server::JsonError> document = server::readJson(
        std::string_view(patch.constData(), std::size_t(patch.size())));
    if (!document)
        return unexpected(source.source + QStringLiteral(": ") + QString::fromStdString(document.error().message));
    const Expected<server::VenueSettings, server::SettingsError> next = server::applySettingsPatch(settings,
                                                                                                   document->root());
    if (!next) {
        const server::SettingsError &error = next.error();
        if (error.expected.isEmpty())
            return unexpected(source.source + QStringLiteral(": ") + error.message);
        return unexpected(
            QStringLiteral("%1: expected %2, got %3").arg(source.source, error.expected, quoted(source.value)));
    }
    return next.value();
}

// ---- the config file's entries

// An entry with a known key and a value of the right type: the top-level setting or the [limits] key it
// gives, and its value as text, named by its source ("/etc/bourse.toml:3: listen").
struct FileEntry
{
    int line = 0;
    const Setting *setting = nullptr;
    const ConfigLimit *limit = nullptr;
    Sourced value;
};

// A problem found in a config file; `line` puts the problems in file order.
struct FileProblem
{
    int line = 0;
    QString message;
};

struct FileEntries
{
    QList<FileEntry> entries;
    QList<FileProblem> problems; // unknown tables and keys, values of the wrong type
};

// The entries of `config`, read from `fileName` (an absolute path), by key and type. Relative paths in the
// values are relative to the file's directory, wherever bourse was started from. The keys of an unknown table
// are not named again: the table's line says what is wrong.
FileEntries sortEntries(const ConfigFile &config, const QString &fileName)
{
    FileEntries sorted;
    const QString configDir = QFileInfo(fileName).absolutePath();
    const bool ini = ConfigFile::syntaxFor(fileName) == ConfigFile::Syntax::Ini;
    QSet<QString> unknownTables;
    for (const ConfigTable &table : config.tables()) {
        if (table.name == kLimitsTable)
            continue;
        unknownTables.insert(table.name);
        sorted.problems.append(
            {table.line, QStringLiteral("%1:%2: [%3]: unknown table").arg(fileName).arg(table.line).arg(table.name)});
    }
    for (const ConfigEntry &entry : config.entries()) {
        const qsizetype dot = entry.key.indexOf(u'.');
        const QString table = dot < 0 ? QString() : entry.key.left(dot);
        const QString name = entry.key.mid(dot + 1);
        if (unknownTables.contains(table))
            continue;
        const QString source = QStringLiteral("%1:%2: %3").arg(fileName).arg(entry.line).arg(entry.key);
        const auto setting = std::find_if(kValueSettings.begin(), kValueSettings.end(), [&](const Setting &known) {
            return !known.key.isEmpty() && name == known.key;
        });
        const std::span<const ConfigLimit> limits = server::configLimits();
        const auto limit = std::find_if(limits.begin(), limits.end(),
                                        [&](const ConfigLimit &known) { return name == known.key; });
        FileEntry found;
        found.line = entry.line;
        if (table.isEmpty() && setting != kValueSettings.end())
            found.setting = &*setting;
        else if (!table.isEmpty() && limit != limits.end())
            found.limit = &*limit;
        if (!found.setting && !found.limit) {
            QString hint;
            if (table.isEmpty() && limit != limits.end())
                hint = QStringLiteral(" (it goes under [limits])");
            else if (!table.isEmpty() && setting != kValueSettings.end())
                hint = QStringLiteral(" (%1 goes before [limits])").arg(name);
            sorted.problems.append({entry.line, source + QStringLiteral(": unknown key") + hint});
            continue;
        }
        // An integer setting is a TOML integer in a TOML file (+5 and 1_000 are TOML integers, "5" is a string),
        // and text in an INI file, which has no other kind; either way its text is then checked like the command
        // line's.
        const bool wantsInteger = found.limit || found.setting->integer;
        const bool integer = wantsInteger && entry.value.type == ConfigValue::Type::Integer;
        const bool textAllowed = !wantsInteger || ini;
        if (!integer && !(textAllowed && entry.value.type == ConfigValue::Type::String)) {
            sorted.problems.append(
                {entry.line, QStringLiteral("%1: expected %2, got %3")
                                 .arg(source, wantsInteger ? QStringLiteral("an integer") : QStringLiteral("a string"),
                                      entry.value.describeType())});
            continue;
        }
        found.value = Sourced{integer ? QString::number(entry.value.integer) : entry.value.string, source, configDir};
        sorted.entries.append(found);
    }
    return sorted;
}

// The messages in file order; the problems of one line stay in the order they were found.
QStringList inFileOrder(QList<FileProblem> problems)
{
    std::stable_sort(problems.begin(), problems.end(),
                     [](const FileProblem &a, const FileProblem &b) { return a.line < b.line; });
    QStringList messages;
    for (const FileProblem &problem : std::as_const(problems))
        messages.append(problem.message);
    return messages;
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

QStringList checkConfigFile(const QString &path, const QString &workingDirectory)
{
    const QString fileName = absolutePath(path, workingDirectory);
    const Expected<ConfigFile, ConfigError> config = ConfigFile::read(fileName);
    if (!config)
        return {config.error().message}; // unreadable, or the first syntax error: reading stops there
    FileEntries entries = sortEntries(*config, fileName);
    QList<FileProblem> problems = std::move(entries.problems);
    server::VenueSettings limits;
    const FileEntry *certificate = nullptr;
    const FileEntry *key = nullptr;
    for (const FileEntry &entry : std::as_const(entries.entries)) {
        std::optional<QString> problem;
        if (entry.limit) {
            Expected<server::VenueSettings, QString> next = applyLimit(limits, *entry.limit, entry.value);
            if (next)
                limits = std::move(next.value());
            else
                problem = next.error();
        } else {
            problem = problemWith(*entry.setting, entry.value, Access::FileOnly);
            if (entry.setting->key == kTlsCertificate.key)
                certificate = &entry;
            if (entry.setting->key == kTlsKey.key)
                key = &entry;
        }
        if (problem)
            problems.append({entry.line, *problem});
    }
    // The file alone must make sense: a certificate without its key here is a problem even if the environment
    // might give the key at start-up.
    const bool hasCertificate = certificate && !certificate->value.value.isEmpty();
    const bool hasKey = key && !key->value.value.isEmpty();
    if (hasCertificate && !hasKey)
        problems.append({certificate->line,
                         certificate->value.source + QStringLiteral(": given without tls_key; give both or neither")});
    if (hasKey && !hasCertificate)
        problems.append(
            {key->line, key->value.source + QStringLiteral(": given without tls_cert; give both or neither")});
    return inFileOrder(std::move(problems));
}

QStringList configFileKeys()
{
    QStringList keys;
    for (const Setting &setting : kValueSettings) {
        if (!setting.key.isEmpty())
            keys.append(setting.key);
    }
    for (const ConfigLimit &limit : server::configLimits())
        keys.append(kLimitsTable + u'.' + limit.key);
    return keys;
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
    const auto command = parseCommand(commandLine->words);
    if (!command)
        return unexpected(command.error());
    invocation.action = command->first;
    invocation.operand = command->second;
    switch (invocation.action) {
    case Invocation::Action::ConfigCheck:
        // The file named is the whole question: the settings of the environment and other files do not
        // come into it.
        invocation.operand = absolutePath(invocation.operand, input.workingDirectory);
        return invocation;
    case Invocation::Action::Backup:
    case Invocation::Action::Restore:
        invocation.operand = absolutePath(invocation.operand, input.workingDirectory);
        break;
    default: break;
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
    QList<FileEntry> limits;
    if (!options.configFile.isEmpty()) {
        const Expected<ConfigFile, ConfigError> config = ConfigFile::read(options.configFile);
        if (!config) {
            const ConfigError &error = config.error();
            if (!explicitConfigs.isEmpty() && error.kind == ConfigError::Kind::Unreadable)
                return unexpected(explicitConfigs.constFirst().source + QStringLiteral(": ") + error.message);
            return unexpected(error.message);
        }
        FileEntries entries = sortEntries(*config, options.configFile);
        if (!entries.problems.isEmpty())
            return unexpected(inFileOrder(std::move(entries.problems)).constFirst());
        for (const FileEntry &entry : std::as_const(entries.entries)) {
            if (entry.setting)
                fromConfig.insert(entry.setting->key, entry.value);
            else
                limits.append(entry);
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

    const auto listen = resolveSetting<ListenAddress>(sourcesOf(kListen), checkListen);
    if (!listen)
        return unexpected(listen.error());
    options.listen = listen->value_or(options.listen);

    const auto dataDir = resolveSetting<QString>(sourcesOf(kDataDir), resolveDataDir);
    if (!dataDir)
        return unexpected(dataDir.error());
    options.dataDir = dataDir->value_or(*lookupDir);

    const auto database = resolveSetting<sql::DatabaseUrl>(sourcesOf(kDatabaseUrl), checkDatabaseUrl);
    if (!database)
        return unexpected(database.error());
    options.database = database->value_or(
        sql::DatabaseUrl::sqlite(QDir(options.dataDir).filePath(QStringLiteral("bourse.db"))));

    const auto logFormat = resolveSetting<LogFormat>(sourcesOf(kLogFormat), checkLogFormat);
    if (!logFormat)
        return unexpected(logFormat.error());
    options.logFormat = logFormat->value_or(options.logFormat);

    const auto logLevel = resolveSetting<LogLevel>(sourcesOf(kLogLevel), checkLogLevel);
    if (!logLevel)
        return unexpected(logLevel.error());
    options.logLevel = logLevel->value_or(options.logLevel);

    const auto snapshotEvery = resolveSetting<std::uint64_t>(sourcesOf(kSnapshotEvery), checkSnapshotEvery);
    if (!snapshotEvery)
        return unexpected(snapshotEvery.error());
    options.snapshotEvery = snapshotEvery->value_or(options.snapshotEvery);

    for (const FileEntry &entry : std::as_const(limits)) {
        Expected<server::VenueSettings, QString> next = applyLimit(options.settingsDefaults, *entry.limit, entry.value);
        if (!next)
            return unexpected(next.error());
        options.settingsDefaults = std::move(next.value());
    }

    // TLS: a PEM certificate (chain) and its PEM private key, both or neither ("" is neither), wherever each
    // comes from; then every file given is read and checked.
    const QList<Sourced> certificates = sourcesOf(kTlsCertificate);
    const QList<Sourced> keys = sourcesOf(kTlsKey);
    const bool hasCertificate = !certificates.isEmpty() && !certificates.constFirst().value.isEmpty();
    const bool hasKey = !keys.isEmpty() && !keys.constFirst().value.isEmpty();
    if (hasCertificate != hasKey)
        return unexpected(QStringLiteral("--tls-cert and --tls-key go together: give both or neither"));
    const auto certificate = resolveSetting<QString>(
        certificates, [](const Sourced &source) { return checkCertificate(source, Access::ThisProcess); });
    if (!certificate)
        return unexpected(certificate.error());
    const auto key = resolveSetting<QString>(
        keys, [](const Sourced &source) { return checkPrivateKey(source, Access::ThisProcess); });
    if (!key)
        return unexpected(key.error());
    if (hasCertificate) {
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
               "Usage: bourse [options]                     run the venue\n"
               "       bourse COMMAND [options]             operate on the venue the options name\n"
               "\n"
               "A trading workstation with its own exchange: the matching engine, its SQL store, the HTTP API\n"
               "with its WebSocket and event streams, and the desktop window, in one process.\n"
               "\n"
               "Commands:\n"
               "  config check FILE     check a config file; names every bad key and value\n"
               "  backup DEST           online, consistent backup of the venue into the new directory DEST\n"
               "  restore SRC           check the backup SRC, then make it the venue's data (refused while a\n"
               "                        bourse runs on that data)\n"
               "  verify                replay the whole journal without serving: every row, every snapshot's\n"
               "                        state hash, the balances, open orders and trades\n"
               "  admin reset-password USER\n"
               "                        set USER's password (asked on the terminal, else one line on stdin)\n"
               "                        and end the user's sessions\n"
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
               "or value exits with status 2 before anything is written; a command that fails exits with 1.\n"
               "SIGINT or SIGTERM stop bourse cleanly (status 0). See man bourse.\n")
        .arg(defaultDataDir);
}

QString commandName(Invocation::Action action)
{
    for (const CommandForm &form : kCommands) {
        if (form.action == action)
            return form.words;
    }
    return QString();
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
