// Backups of a venue, and restoring one: `bourse backup DEST` and `bourse restore SRC`. A backup is a
// directory:
//   bourse.db        SQLite: the whole database as one read transaction saw it, copied with SQLite's online
//                    backup API while the venue goes on serving
//   bourse.pgdump    PostgreSQL: pg_dump's custom format, taken inside a snapshot that bourse's own REPEATABLE
//                    READ transaction exported, the one in which it checks the journal too
//   jwt.key, initial-admin-password   the data dir's secrets, when present (the tokens stay valid)
//   bourse.toml | bourse.ini           the config file the venue runs with, when it has one
//   MANIFEST.json    written last: what made the backup, the schema version, where the journal ends and the
//                    state hash there, each file's size and SHA-256. A directory without it is no backup.
// Restoring checks everything first (the manifest, every file's sum, the database's integrity, the whole
// journal replayed to the manifest's position and state hash) on a staged copy beside the target, and only
// then puts the copy in place; what it replaces is kept aside, never deleted. Main thread of a command
// process: nothing here runs inside a serving venue.
#pragma once

#include "connection.h"
#include "database_url.h"
#include "expected.h"
#include "journal.h"
#include "options.h"

#include <QDateTime>
#include <QList>
#include <QString>
#include <QStringList>

#include <cstdint>
#include <utility>

class QSqlDatabase;

namespace bourse::app {

struct BackupFile
{
    QString name; // within the backup directory: "bourse.db"
    qint64 bytes = 0;
    QString sha256; // lower-case hex
};

struct BackupManifest
{
    static constexpr int kFormat = 1;

    int format = kFormat;
    QString bourseVersion;
    QDateTime createdAt; // UTC
    sql::DatabaseUrl::Driver driver = sql::DatabaseUrl::Driver::Sqlite;
    int schemaVersion = 0;
    sql::JournalPosition journal; // where the backed-up journal ends
    std::uint64_t stateHash = 0;  // the engine's state hash there
    QList<BackupFile> files;      // the database first

    QByteArray toJson() const;
    // `source` names the file in messages.
    static Expected<BackupManifest, QString> fromJson(QByteArrayView json, const QString &source);
    const BackupFile *file(QLatin1StringView name) const;
};

// Why a backup or restore did not happen: the one line to print, and the exit status: 2 when the venue the
// options name cannot be used at all (no database there, unreachable, another schema), 1 for the rest.
struct OperationError
{
    OperationError(QString text, int status = 1)
        : message(std::move(text))
        , exitCode(status)
    {}

    QString message;
    int exitCode = 1;
};

// The database of the venue `options` name, for a command that reads or writes it beside (or instead of) a
// running venue: reachable, holding a venue, at this bourse's schema (a command never migrates it). SQLite's
// file must exist already: opening would create an empty one. Every refusal has exit status 2.
Expected<sql::Connection, OperationError> openVenueDatabase(const Options &options, QStringView purpose);

struct BackupReport
{
    QString directory;
    BackupManifest manifest;
    qint64 milliseconds = 0;
};

// Backs up the venue `options` names (its database, and the data dir's secrets and config) into the new
// directory `destination`, which must not exist or be empty. Online: a running venue goes on serving. The
// copy is checked (integrity, the whole journal replayed) before the manifest is written. On failure
// whatever this made is removed.
Expected<BackupReport, OperationError> backupVenue(const Options &options, const QString &destination);

struct RestoreReport
{
    BackupManifest manifest;
    QString database;       // what the venue's database now is (the URL, without the password)
    int schemaFrom = 0;     // the backup's schema version, migrated up to
    int schemaTo = 0;       // this bourse's
    QStringList keptAside;  // files it replaced, renamed "<name>.before-restore-<time>"
    QStringList installed;  // files it put in place
    QString configInBackup; // the backup's config file, which restore never installs; empty: none
    qint64 milliseconds = 0;
};

// Restores the backup in `source` as the database and data dir `options` name. Refuses, changing nothing,
// a directory that is not a complete backup, a file whose size or sum differs from the manifest, a database
// that fails its integrity check or whose journal does not replay to the manifest's state hash, a backup of
// the other kind of database, a schema newer than this bourse's, and a target that a bourse is running on.
// A PostgreSQL backup goes into an empty database (create one with createdb). Everything is staged and
// checked first; then the data dir's secrets and, last, the database are put in place, each with one
// rename, so that the target always has a whole database: the old one, or the restored one. Run as root,
// the files it installs get the data dir's owner (the service's user).
Expected<RestoreReport, OperationError> restoreVenue(const Options &options, const QString &source);

} // namespace bourse::app
