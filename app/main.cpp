// bourse: the process entry point. Reads the options (exiting 2 on a bad one, before anything is written),
// opens the database and brings its schema up to date (exiting 2 when it cannot), sets up logging and the
// shutdown signals, and hands over to VenueProcess. Main thread.
#include "connection.h"
#include "journal.h"
#include "log.h"
#include "migrations.h"
#include "options.h"
#include "shutdown_signals.h"
#include "venue_process.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcessEnvironment>
#include <QStandardPaths>

#include <csignal>
#include <cstdio>
#include <optional>

#include <fcntl.h>
#include <sys/file.h>

namespace {

constexpr int kExitBadUsage = 2;
constexpr int kExitFailure = 1;

void printLine(FILE *stream, const QString &text)
{
    const QByteArray bytes = text.toUtf8();
    std::fwrite(bytes.constData(), 1, static_cast<size_t>(bytes.size()), stream);
    std::fputc('\n', stream);
    std::fflush(stream);
}

} // namespace

int main(int argc, char *argv[])
{
    using namespace bourse::app;

    // A file-size limit (ulimit -f) must be a write error the journal reports and retries, like a full
    // disk, not a signal that kills the venue.
    std::signal(SIGXFSZ, SIG_IGN);

    // No organization name: on Linux QStandardPaths would put it between ~/.local/share and "bourse",
    // and the documented data dir is ~/.local/share/bourse.
    QCoreApplication::setApplicationName(QStringLiteral("bourse"));
    QCoreApplication::setApplicationVersion(bourseVersion());
    // The desktop window is a later issue: until then no Qt Gui, so QCoreApplication.
    QCoreApplication app(argc, argv);

    const QString defaultDataDir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    OptionsInput input;
    input.arguments = QCoreApplication::arguments().mid(1);
    input.environment = QProcessEnvironment::systemEnvironment();
    input.defaultDataDir = defaultDataDir;
    input.workingDirectory = QDir::currentPath();
    const bourse::Expected<Invocation, QString> invocation = parseOptions(input);
    if (!invocation) {
        printLine(stderr, QStringLiteral("bourse: ") + invocation.error());
        return kExitBadUsage;
    }
    switch (invocation->action) {
    case Invocation::Action::Help: std::fputs(usageText(defaultDataDir).toUtf8().constData(), stdout); return 0;
    case Invocation::Action::Version: printLine(stdout, versionText()); return 0;
    case Invocation::Action::Run: break;
    }
    const Options &options = invocation->options;
    installLogHandler(options.logFormat, options.logLevel);

    // Every option has validated; from here on bourse may write. PostgreSQL is reached before anything is
    // written, so that an unreachable one leaves no trace; a SQLite file lives in the data dir, which has to
    // exist first. The start-up connection is the main thread's, and closes once the schema is up to date.
    const bourse::sql::ConnectionFactory databases(options.database);
    std::optional<bourse::sql::Connection> startup;
    const auto connect = [&]() -> std::optional<QString> {
        bourse::Expected<bourse::sql::Connection, QString> connection = databases.open(u"startup");
        if (!connection)
            return connection.error();
        startup.emplace(std::move(connection.value()));
        return std::nullopt;
    };
    const auto databaseFailure = [](const QString &error) {
        printLine(stderr, QStringLiteral("bourse: database: ") + error);
        return kExitBadUsage;
    };
    const bool sqlite = options.database.driver == bourse::sql::DatabaseUrl::Driver::Sqlite;
    if (!sqlite) {
        if (const std::optional<QString> error = connect())
            return databaseFailure(*error);
    }
    if (const std::optional<QString> error = createDataDir(options.dataDir)) {
        printLine(stderr, QStringLiteral("bourse: data dir: ") + *error);
        return kExitBadUsage;
    }
    if (sqlite) {
        if (const std::optional<QString> error = connect())
            return databaseFailure(*error);
        // One bourse per SQLite database, or two writers would interleave their journals. flock(2) is
        // independent of SQLite's own fcntl locks, and the kernel drops it with the process however that
        // ends. The descriptor stays open for the life of the process.
        const int lock = ::open(QFile::encodeName(options.database.path).constData(), O_RDONLY | O_CLOEXEC);
        if (lock < 0 || ::flock(lock, LOCK_EX | LOCK_NB) != 0)
            return databaseFailure(options.database.toString()
                                   + QStringLiteral(": another bourse process is using this database"));
    }
    const bourse::Expected<bourse::sql::MigrationReport, QString> schema = migrateDatabase(*startup);
    if (!schema)
        return databaseFailure(schema.error());
    // Recovery reads the journal only once no other session can still be writing it (journal.h).
    if (const std::optional<QString> error = bourse::sql::lockJournal(startup->database(), std::chrono::seconds(30)))
        return databaseFailure(error.value());
    // Recovery: the latest snapshot and the journal after it, replayed and checked, before anything serves.
    QElapsedTimer recoveryTimer;
    recoveryTimer.start();
    bourse::Expected<bourse::sql::Recovered, QString> recovered = bourse::sql::recoverJournal(startup->database());
    if (!recovered) {
        printLine(stderr, QStringLiteral("bourse: journal: ") + recovered.error());
        return kExitFailure;
    }
    const qint64 recoveryMilliseconds = recoveryTimer.elapsed();
    startup.reset();

    ShutdownSignals shutdownSignals;
    if (const std::optional<QString> error = shutdownSignals.install()) {
        logError(lcApp(), *error);
        return kExitFailure;
    }
    VenueProcess venue(options, *schema, std::move(recovered.value()), recoveryMilliseconds);
    QObject::connect(&shutdownSignals, &ShutdownSignals::shutdownRequested, &venue,
                     [&venue](int signalNumber) { venue.shutdown(signalName(signalNumber)); });
    // Queued: finished() may come before exec() has started the loop, and exit() would then be lost.
    QObject::connect(
        &venue, &VenueProcess::finished, &app, [](int exitCode) { QCoreApplication::exit(exitCode); },
        Qt::QueuedConnection);
    venue.start();
    return QCoreApplication::exec();
}
