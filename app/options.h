// Options: everything `bourse` is told at start-up (spec/API.md §1), resolved from the command line, the
// environment, the config file and the defaults, in that order of precedence, and validated as a whole
// before the process writes anything. A bad value is one line naming its source and the problem.
// Main thread, at start-up.
#pragma once

#include "database_url.h"
#include "expected.h"
#include "log.h"
#include "venue_settings.h"

#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

#include <cstdint>

namespace bourse::app {

// The address the HTTP API listens on. `host` is an IPv4 or IPv6 address (without brackets) or
// "localhost"; names that would need a resolver are refused, since a listener binds an address.
struct ListenAddress
{
    QString host;
    std::uint16_t port = 0;

    static Expected<ListenAddress, QString> parse(QStringView text);
    QString toString() const; // "127.0.0.1:8080", "[::1]:8080"

    friend bool operator==(const ListenAddress &, const ListenAddress &) = default;
};

struct Options
{
    ListenAddress listen{QStringLiteral("127.0.0.1"), 8080};
    QString dataDir;           // absolute, cleaned
    sql::DatabaseUrl database; // a SQLite path is made absolute
    QString configFile;        // the file that was read; empty when there was none
    bool headless = false;     // --headless, or no display to open a window on
    bool headlessRequested = false;
    LogFormat logFormat = LogFormat::Text;
    LogLevel logLevel = LogLevel::Info;
    std::uint64_t snapshotEvery = 100'000; // commands between journal snapshots
    QString tlsCertificate; // absolute path of a PEM certificate (chain); empty: plain HTTP
    QString tlsKey;         // absolute path of its PEM private key
    // The run-time settings the venue starts with: the built-in defaults under the config file's [limits].
    // The ones an admin saved in the database win over them (VenueServer::Config::settingsDefaults).
    server::VenueSettings settingsDefaults;
};

// Checks the config file `path` (relative to `workingDirectory`) on its own, as `bourse config check` does:
// every problem found, one line each in file order ("FILE:LINE: key: problem", with FILE the absolute path,
// as parseOptions names it), or none when the file is valid. The checks are parseOptions' own; relative paths
// in the file are relative to its directory, and the environment and command line do not come into it. Nor
// does who runs it: a data_dir it cannot write, or a TLS file that exists but it cannot read (the service's,
// checked by an operator), is no problem of the file; a start still refuses them.
QStringList checkConfigFile(const QString &path, const QString &workingDirectory);

// Every key a config file may set, in the order the shipped bourse.toml documents them; a key of a table is
// "table.key" ("limits.max_body_bytes").
QStringList configFileKeys();

// The world the parser reads, passed in so that tests can make their own.
struct OptionsInput
{
    QStringList arguments; // without the program name
    QProcessEnvironment environment;
    QString defaultDataDir;   // the platform's app data dir
    QString workingDirectory; // relative paths are relative to this
};

// What the command line asks for: run the venue (no command), or one of the operations commands, which act
// on the venue the same options name (its data dir and database) and exit.
struct Invocation
{
    enum class Action : std::uint8_t {
        Run,
        Help,
        Version,
        ConfigCheck,   // bourse config check FILE
        Backup,        // bourse backup DEST
        Restore,       // bourse restore SRC
        Verify,        // bourse verify
        ResetPassword, // bourse admin reset-password USER
    };

    Action action = Action::Run;
    Options options; // for Run and the commands that act on a venue (not Help, Version, ConfigCheck)
    // ConfigCheck: the file, Backup: the destination, Restore: the source (absolute, cleaned paths);
    // ResetPassword: the username, as given.
    QString operand;
};

// "config check", "backup", ..., for messages; empty for Run, Help and Version.
QString commandName(Invocation::Action action);

// The error has no "bourse: " prefix, e.g. `--listen: port must be 1-65535, got "99999"`.
Expected<Invocation, QString> parseOptions(const OptionsInput &input);

// What --help prints; `defaultDataDir` is shown as the data dir's default.
QString usageText(const QString &defaultDataDir);
// The version of this build, from the CMake project: "0.1.0".
QString bourseVersion();
// What --version prints, without the newline: "bourse 0.1.0".
QString versionText();

} // namespace bourse::app
