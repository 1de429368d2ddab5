// VenueProcess: one running Bourse, wired together. It starts the journal writer and the engine (with the
// state main() recovered from the journal), adds the default instruments to a new venue, starts the API
// (VenueServer: the service, HTTP, WebSocket and SSE, and their edge) on a thread of its own, "http", and
// takes everything down again on shutdown(): the API drains first (no new requests, in-flight ones finish,
// streams get their close), then the engine, then the journal, so that everything applied is durable before
// bourse exits, and last the API's objects, on their thread. The main thread stays free for the desktop
// window (Workstation), which hears serving() and stopping(). Created and driven on the main thread.
#pragma once

#include "command.h"
#include "connection.h"
#include "engine_host.h"
#include "expected.h"
#include "journal.h"
#include "journal_writer.h"
#include "migrations.h"
#include "options.h"
#include "venue_server.h"

#include <QObject>
#include <QThread>

#include <functional>
#include <memory>

#include <optional>
#include <vector>

namespace bourse::app {

using server::EngineHost;
using server::EngineReply;

// A venue's database, opened at start-up: the schema brought up to date, the journal locked and recovered.
struct OpenedVenue
{
    sql::MigrationReport schema;   // what migrating did, for the log
    sql::Recovered recovered;      // the engine and journal position
    qint64 recoveryMilliseconds = 0;
    std::shared_ptr<int> sqliteLock; // SQLite: the flock(2)ed descriptor, closed when the last copy goes
};

// Why a start failed: the one line bourse prints on stderr, and its exit code.
struct StartFailure
{
    QString line;
    int exitCode = 2;
};

// Opens the database of `options` for one venue: PostgreSQL is reached before anything is written (so that
// an unreachable one leaves no trace); the data dir is created; a SQLite database is locked against a second
// bourse; the schema is migrated; the journal is locked, then recovered and checked. Exit code 2 for a
// database or data dir that cannot be used, 1 for a journal that does not recover.
Expected<OpenedVenue, StartFailure> openVenue(const Options &options);

class VenueProcess final : public QObject
{
    Q_OBJECT

public:
    // `schema`: what migrating the database at start-up did, for the log.
    // `recovered`: the engine and journal position main() recovered, and how long that took.
    VenueProcess(Options options, OpenedVenue opened, QObject *parent = nullptr);
    ~VenueProcess() override;

    // Returns at once; the engine reports back through the event loop.
    void start();
    // Stops the engine and then emits finished(0). Safe to call more than once, and before start().
    void shutdown(const QString &reason);

    // The options it runs with; firstAdminFromWindow: the desktop window's wizard creates the first admin.
    void setFirstAdminFromWindow(bool fromWindow) { m_firstAdminFromWindow = fromWindow; }
    // Why the venue could not start serving (after finished() with a non-zero code), for the window's user;
    // empty otherwise. The log has the same line.
    const QString &failure() const { return m_failure; }

signals:
    void finished(int exitCode);
    // The API listens: `server` lives on `context`'s thread until stopping() (emitted on this thread, before
    // anything stops, so that whoever holds `server` lets go of it first). `address`: the API's base URL.
    void serving(bourse::server::VenueServer *server, QObject *context, const QString &address);
    void stopping();
    // The journal cannot write (available false, with the reason), or writes again.
    void journalAvailability(bool available, const QString &reason);

private:
    void onSeeded(const QList<EngineReply> &replies);
    void finish(int exitCode);

    void stopEngineAndJournal();
    bool prepareServer();
    bool startServer();
    // Runs `work` on the API's thread and waits for it.
    void onServerThread(const std::function<void()> &work);

    Options m_options;
    sql::MigrationReport m_schema;
    std::size_t m_replayedCommands = 0;
    Seq m_recoveredCommandSeq = 0;
    Seq m_snapshotCommandSeq = 0;
    qint64 m_recoveryMilliseconds = 0;
    bool m_newVenue = false;
    server::MarketState m_recoveredMarket; // taken from the recovered engine before it moves to its thread
    sql::JournalWriter m_journal;
    EngineHost m_engine; // stopped before m_journal, whose callbacks it receives
    std::unique_ptr<QThread> m_serverThread;
    QObject *m_serverContext = nullptr; // lives on m_serverThread; deleted there when it ends
    std::unique_ptr<server::VenueServer> m_server; // created, used and destroyed on m_serverThread
    bool m_finishing = false;
    bool m_finished = false;
    bool m_journalFailing = false;
    bool m_firstAdminFromWindow = false;
    QString m_failure;
    std::shared_ptr<int> m_sqliteLock;
};

// The instruments an empty venue starts with (spec/API.md §1).
std::vector<AddInstrument> defaultInstruments();

// Creates the data dir (and its parents) if it is missing, the dir itself with mode 0700 since it will
// hold keys and the database. Returns what went wrong, if anything.
std::optional<QString> createDataDir(const QString &path);

// Brings the schema of the database behind `connection` up to date with the migrations built into this
// bourse, on the connection's thread. The error is one line that starts with the database's URL (without
// its password), for "bourse: database: ...".
Expected<sql::MigrationReport, QString> migrateDatabase(sql::Connection &connection);

} // namespace bourse::app
