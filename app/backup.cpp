#include "backup.h"

#include "config_file.h"
#include "connection.h"
#include "migrations.h"
#include "sqlite_backup.h"
#include "venue_process.h"

#include <QCryptographicHash>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QScopeGuard>
#include <QSqlQuery>
#include <QStandardPaths>

#include <array>

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <unistd.h>

namespace bourse::app {

namespace {

const QLatin1StringView kManifestName("MANIFEST.json");
const QLatin1StringView kSqliteName("bourse.db");
const QLatin1StringView kDumpName("bourse.pgdump");
// The data dir's files a venue cannot do without: the tokens' key, and the first admin's generated password.
constexpr std::array kSecretNames{QLatin1StringView("jwt.key"), QLatin1StringView("initial-admin-password")};
constexpr std::array kConfigNames{QLatin1StringView("bourse.toml"), QLatin1StringView("bourse.ini")};

QString quoted(const QString &text)
{
    return QLatin1Char('"') + text + QLatin1Char('"');
}

QLatin1StringView driverName(sql::DatabaseUrl::Driver driver)
{
    return driver == sql::DatabaseUrl::Driver::Sqlite ? QLatin1StringView("sqlite") : QLatin1StringView("postgresql");
}

QString venueKind(sql::DatabaseUrl::Driver driver)
{
    return driver == sql::DatabaseUrl::Driver::Sqlite ? QStringLiteral("SQLite") : QStringLiteral("PostgreSQL");
}

// The size and SHA-256 of a file, read in one pass.
Expected<BackupFile, QString> describeFile(const QString &directory, const QString &name)
{
    QFile file(QDir(directory).filePath(name));
    if (!file.open(QIODevice::ReadOnly))
        return unexpected(QStringLiteral("cannot read %1: %2").arg(quoted(file.fileName()), file.errorString()));
    QCryptographicHash hash(QCryptographicHash::Sha256);
    if (!hash.addData(&file))
        return unexpected(QStringLiteral("cannot read %1: %2").arg(quoted(file.fileName()), file.errorString()));
    return BackupFile{name, file.size(), QString::fromLatin1(hash.result().toHex())};
}

// Copies `from` to the new file `to` with mode 0600 (they are keys) and syncs it.
std::optional<QString> copyPrivate(const QString &from, const QString &to)
{
    if (!QFile::copy(from, to))
        return QStringLiteral("cannot copy %1 to %2").arg(quoted(from), quoted(to));
    if (!QFile::setPermissions(to, QFile::ReadOwner | QFile::WriteOwner) || !sql::syncPath(to))
        return QStringLiteral("cannot write %1").arg(quoted(to));
    return std::nullopt;
}

// A PostgreSQL client tool (pg_dump, pg_restore) run on the URL's database, its password passed through the
// environment. The error names the tool and the first thing it said.
std::optional<QString> runPostgreSqlTool(const QString &tool, QStringList arguments, const sql::DatabaseUrl &url)
{
    const QString program = QStandardPaths::findExecutable(tool);
    if (program.isEmpty())
        return QStringLiteral("%1 not found: a PostgreSQL venue's backups need the PostgreSQL client tools "
                              "(apt install postgresql-client)")
            .arg(tool);
    QProcess process;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    if (!url.password.isEmpty())
        environment.insert(QStringLiteral("PGPASSWORD"), url.password);
    process.setProcessEnvironment(environment);
    arguments.prepend(QStringLiteral("--dbname=") + url.libpqConnectionString());
    process.start(program, arguments);
    // A dump of a large venue takes as long as it takes; the tool ends on its own or on a broken connection.
    if (!process.waitForFinished(-1) || process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0) {
        const QString said = QString::fromLocal8Bit(process.readAllStandardError()).trimmed().section(u'\n', 0, 0);
        return QStringLiteral("%1 failed (%2)%3")
            .arg(tool,
                 process.exitStatus() == QProcess::NormalExit ? QStringLiteral("exit %1").arg(process.exitCode())
                                                                : process.errorString(),
                 said.isEmpty() ? QString() : QStringLiteral(": ") + said);
    }
    return std::nullopt;
}

// "PRAGMA integrity_check" on a SQLite connection: what is wrong, if anything.
std::optional<QString> sqliteIntegrity(QSqlDatabase &db)
{
    QSqlQuery query(db);
    if (!query.exec(QStringLiteral("PRAGMA integrity_check")))
        return QStringLiteral("cannot check its integrity");
    QStringList problems;
    while (query.next() && problems.size() < 3)
        problems.append(query.value(0).toString());
    if (problems == QStringList{QStringLiteral("ok")})
        return std::nullopt;
    return QStringLiteral("it fails SQLite's integrity check (%1)").arg(problems.join(QStringLiteral("; ")));
}

// The journal of a database, replayed from its first command and checked (sql::verifyJournal), with a
// message that says which database.
Expected<sql::VerifyReport, QString> checkedJournal(QSqlDatabase &db, const QString &what,
                                                   sql::ReadView view = sql::ReadView::Own)
{
    Expected<sql::VerifyReport, QString> check = sql::verifyJournal(db, {}, view);
    if (!check)
        return unexpected(what + QStringLiteral(": ") + check.error());
    return check;
}

QString timeStamp()
{
    return QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMdd'T'HHmmss'Z'"));
}

// The journal of the copy is the one the manifest describes.
std::optional<QString> matchesManifest(const sql::VerifyReport &check, const BackupManifest &manifest, const QString &what)
{
    if (check.position.commandSeq == manifest.journal.commandSeq
        && check.position.eventSeq == manifest.journal.eventSeq && check.stateHash == manifest.stateHash)
        return std::nullopt;
    return QStringLiteral("%1 replays to command %2, event %3, state hash %4, but MANIFEST.json says command %5, "
                          "event %6, state hash %7: the backup is damaged")
        .arg(what)
        .arg(check.position.commandSeq)
        .arg(check.position.eventSeq)
        .arg(sql::formatStateHash(check.stateHash))
        .arg(manifest.journal.commandSeq)
        .arg(manifest.journal.eventSeq)
        .arg(sql::formatStateHash(manifest.stateHash));
}

} // namespace

QByteArray BackupManifest::toJson() const
{
    QJsonArray fileList;
    for (const BackupFile &file : files)
        fileList.append(QJsonObject{{"name", file.name}, {"bytes", file.bytes}, {"sha256", file.sha256}});
    const QJsonObject object{
        {"format", format},
        {"bourse_version", bourseVersion},
        {"created_at", createdAt.toUTC().toString(Qt::ISODateWithMs)},
        {"database", QString(driverName(driver))},
        {"schema_version", schemaVersion},
        // Seqs and the hash are text: JSON numbers are doubles to most readers.
        {"journal",
         QJsonObject{{"command_seq", QString::number(journal.commandSeq)},
                     {"event_seq", QString::number(journal.eventSeq)},
                     {"state_hash", sql::formatStateHash(stateHash)}}},
        {"files", fileList},
    };
    return QJsonDocument(object).toJson(QJsonDocument::Indented);
}

Expected<BackupManifest, QString> BackupManifest::fromJson(QByteArrayView json, const QString &source)
{
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(json.toByteArray(), &parseError);
    if (parseError.error != QJsonParseError::NoError || !document.isObject())
        return unexpected(QStringLiteral("%1 is not valid JSON (%2 at byte %3)")
                              .arg(source, parseError.errorString())
                              .arg(parseError.offset));
    const QJsonObject object = document.object();
    const auto bad = [&](const QString &member, const QString &problem) {
        return unexpected(QStringLiteral("%1: %2: %3").arg(source, member, problem));
    };
    BackupManifest manifest;
    manifest.format = object.value(QLatin1StringView("format")).toInt(0);
    if (manifest.format < 1)
        return bad(QStringLiteral("format"), QStringLiteral("missing or not a positive integer"));
    if (manifest.format > kFormat)
        return bad(QStringLiteral("format"),
                   QStringLiteral("%1 is newer than this bourse reads (%2): restore it with the bourse that made it, "
                                  "or a newer one")
                       .arg(manifest.format)
                       .arg(kFormat));
    manifest.bourseVersion = object.value(QLatin1StringView("bourse_version")).toString();
    manifest.createdAt =
        QDateTime::fromString(object.value(QLatin1StringView("created_at")).toString(), Qt::ISODateWithMs);
    if (!manifest.createdAt.isValid())
        return bad(QStringLiteral("created_at"), QStringLiteral("missing or not an ISO 8601 time"));
    const QString database = object.value(QLatin1StringView("database")).toString();
    if (database == driverName(sql::DatabaseUrl::Driver::Sqlite))
        manifest.driver = sql::DatabaseUrl::Driver::Sqlite;
    else if (database == driverName(sql::DatabaseUrl::Driver::PostgreSql))
        manifest.driver = sql::DatabaseUrl::Driver::PostgreSql;
    else
        return bad(QStringLiteral("database"), QStringLiteral("expected \"sqlite\" or \"postgresql\", got %1").arg(quoted(database)));
    manifest.schemaVersion = object.value(QLatin1StringView("schema_version")).toInt(0);
    if (manifest.schemaVersion < 1)
        return bad(QStringLiteral("schema_version"), QStringLiteral("missing or not a positive integer"));
    const QJsonObject journal = object.value(QLatin1StringView("journal")).toObject();
    bool commandOk = false;
    bool eventOk = false;
    bool hashOk = false;
    manifest.journal.commandSeq = journal.value(QLatin1StringView("command_seq")).toString().toULongLong(&commandOk);
    manifest.journal.eventSeq = journal.value(QLatin1StringView("event_seq")).toString().toULongLong(&eventOk);
    const QString hash = journal.value(QLatin1StringView("state_hash")).toString();
    manifest.stateHash = hash.toULongLong(&hashOk, 16);
    if (!commandOk || !eventOk || !hashOk || hash.size() != 16)
        return bad(QStringLiteral("journal"), QStringLiteral("needs command_seq, event_seq and a 16-digit state_hash"));
    const QJsonArray fileList = object.value(QLatin1StringView("files")).toArray();
    for (const QJsonValue &value : fileList) {
        const QJsonObject file = value.toObject();
        BackupFile entry{file.value(QLatin1StringView("name")).toString(),
                         static_cast<qint64>(file.value(QLatin1StringView("bytes")).toDouble(-1)),
                         file.value(QLatin1StringView("sha256")).toString()};
        // A name is a plain file name in the backup directory, never a path out of it.
        if (entry.name.isEmpty() || entry.name.contains(u'/') || entry.name.startsWith(u'.') || entry.bytes < 0
            || entry.sha256.size() != 64)
            return bad(QStringLiteral("files"), QStringLiteral("an entry needs a plain name, bytes and a sha256"));
        manifest.files.append(entry);
    }
    const QLatin1StringView databaseFile =
        manifest.driver == sql::DatabaseUrl::Driver::Sqlite ? kSqliteName : kDumpName;
    if (!manifest.file(databaseFile))
        return bad(QStringLiteral("files"), QStringLiteral("%1 is not listed").arg(databaseFile));
    return manifest;
}

const BackupFile *BackupManifest::file(QLatin1StringView name) const
{
    for (const BackupFile &entry : files) {
        if (entry.name == name)
            return &entry;
    }
    return nullptr;
}

Expected<sql::Connection, OperationError> openVenueDatabase(const Options &options, QStringView purpose)
{
    const sql::DatabaseUrl &url = options.database;
    if (url.driver == sql::DatabaseUrl::Driver::Sqlite && !QFileInfo(url.path).isFile())
        return unexpected(OperationError(QStringLiteral("there is no venue database at %1").arg(quoted(url.path)), 2));
    Expected<sql::Connection, QString> connection = sql::ConnectionFactory(url).open(purpose);
    if (!connection)
        return unexpected(OperationError(connection.error(), 2));
    const Expected<sql::MigrationSet, QString> migrations = sql::MigrationSet::builtIn(url.driver);
    if (!migrations)
        return unexpected(OperationError(migrations.error(), 2));
    const Expected<int, QString> schema = sql::schemaVersion(*connection, *migrations);
    if (!schema)
        return unexpected(OperationError(url.toString() + QStringLiteral(": ") + schema.error(), 2));
    if (*schema == 0)
        return unexpected(OperationError(QStringLiteral("%1 holds no venue (it has no schema)").arg(url.toString()), 2));
    if (*schema != migrations->latestVersion())
        return unexpected(OperationError(QStringLiteral("%1: the schema is at version %2 and this bourse's is %3: start "
                                                        "this bourse on it once to migrate it, or use the bourse that "
                                                        "runs it")
                                             .arg(url.toString())
                                             .arg(*schema)
                                             .arg(migrations->latestVersion()),
                                         2));
    return std::move(connection.value());
}

Expected<BackupReport, OperationError> backupVenue(const Options &options, const QString &destination)
{
    QElapsedTimer timer;
    timer.start();
    const sql::DatabaseUrl &url = options.database;
    const bool sqlite = url.driver == sql::DatabaseUrl::Driver::Sqlite;
    // The venue first: nothing is made for a backup of a venue that is not there.
    Expected<sql::Connection, OperationError> venue = openVenueDatabase(options, u"backup");
    if (!venue)
        return unexpected(venue.error());

    // The destination: a new directory, or an empty one. Whatever this makes goes again if the backup fails.
    const QFileInfo target(destination);
    bool created = false;
    if (target.exists() || target.isSymLink()) {
        if (!target.isDir())
            return unexpected(QStringLiteral("%1 exists and is not a directory").arg(quoted(destination)));
        if (!QDir(destination).isEmpty(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden | QDir::System))
            return unexpected(
                QStringLiteral("%1 is not empty: a backup goes into a new or empty directory").arg(quoted(destination)));
    } else {
        if (!QDir().mkpath(target.absolutePath()) || !QDir().mkdir(destination))
            return unexpected(QStringLiteral("cannot create %1").arg(quoted(destination)));
        created = true;
        // The new directory's entry, durable with its parent; the files in it are synced one by one.
        sql::syncPath(target.absolutePath());
    }
    // It will hold the venue's keys.
    QFile::setPermissions(destination, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
    bool finished = false;
    const auto removePartial = qScopeGuard([&] {
        if (finished)
            return;
        QDir directory(destination);
        if (created) {
            directory.removeRecursively();
            return;
        }
        for (const QString &name : directory.entryList(QDir::Files | QDir::Hidden | QDir::System))
            directory.remove(name);
    });
    const QDir directory(destination);

    BackupManifest manifest;
    manifest.bourseVersion = bourseVersion();
    manifest.createdAt = QDateTime::currentDateTimeUtc();
    manifest.driver = url.driver;

    // openVenueDatabase() saw this bourse's schema.
    const Expected<sql::MigrationSet, QString> migrations = sql::MigrationSet::builtIn(url.driver);
    if (!migrations)
        return unexpected(migrations.error());
    manifest.schemaVersion = migrations->latestVersion();
    const QString databaseFile = sqlite ? QString(kSqliteName) : QString(kDumpName);
    {
        // PostgreSQL: one snapshot for everything, the dump and the check of the journal.
        QString snapshot;
        if (!sqlite) {
            if (std::optional<QString> error =
                    venue->execute(QStringLiteral("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")))
                return unexpected(url.toString() + QStringLiteral(": ") + *error);
            // The transaction waits idle while pg_dump works, and the check reads the whole journal: neither
            // may be cut short by the server's timeouts.
            for (const char *setting : {"idle_in_transaction_session_timeout", "statement_timeout"}) {
                if (std::optional<QString> error =
                        venue->execute(QStringLiteral("SET LOCAL %1 = 0").arg(QLatin1StringView(setting))))
                    return unexpected(url.toString() + QStringLiteral(": ") + *error);
            }
            QSqlQuery exported(venue->database());
            if (!exported.exec(QStringLiteral("SELECT pg_export_snapshot()")) || !exported.next())
                return unexpected(url.toString() + QStringLiteral(": cannot export a snapshot"));
            snapshot = exported.value(0).toString();
        }

        if (sqlite) {
            if (std::optional<QString> error =
                    sql::sqliteBackup(venue->database(), directory.filePath(databaseFile)))
                return unexpected(url.toString() + QStringLiteral(": ") + *error);
        } else {
            if (std::optional<QString> error = runPostgreSqlTool(
                    QStringLiteral("pg_dump"),
                    {QStringLiteral("--format=custom"), QStringLiteral("--no-owner"), QStringLiteral("--no-privileges"),
                     QStringLiteral("--snapshot=") + snapshot,
                     QStringLiteral("--file=") + directory.filePath(databaseFile)},
                    url))
                return unexpected(*error);
            // The journal as the dump holds it: the same snapshot.
            const Expected<sql::VerifyReport, QString> check =
                checkedJournal(venue->database(), url.toString(), sql::ReadView::Callers);
            if (!check)
                return unexpected(check.error());
            manifest.journal = check->position;
            manifest.stateHash = check->stateHash;
            if (std::optional<QString> error = venue->execute(QStringLiteral("COMMIT")))
                return unexpected(url.toString() + QStringLiteral(": ") + *error);
        }
    }
    if (sqlite) {
        // The copy, checked as a restore will check it.
        const QString copy = directory.filePath(databaseFile);
        Expected<sql::Connection, QString> connection = sql::ConnectionFactory(sql::DatabaseUrl::sqlite(copy)).open(u"backup-check");
        if (!connection)
            return unexpected(connection.error());
        if (std::optional<QString> problem = sqliteIntegrity(connection->database()))
            return unexpected(QStringLiteral("the copy of %1: %2").arg(url.toString(), *problem));
        const Expected<sql::VerifyReport, QString> check =
            checkedJournal(connection->database(), QStringLiteral("the copy of ") + url.toString());
        if (!check)
            return unexpected(check.error());
        manifest.journal = check->position;
        manifest.stateHash = check->stateHash;
    } else if (std::optional<QString> error =
                   runPostgreSqlTool(QStringLiteral("pg_restore"),
                                     {QStringLiteral("--list"), directory.filePath(databaseFile)}, url)) {
        return unexpected(QStringLiteral("the dump does not read back: ") + *error);
    }

    // The database holds the users' password hashes: for the owner's eyes only, like the keys.
    QFile::setPermissions(directory.filePath(databaseFile), QFile::ReadOwner | QFile::WriteOwner);
    QStringList names{databaseFile};
    for (const QLatin1StringView secret : kSecretNames) {
        const QString path = QDir(options.dataDir).filePath(secret);
        if (!QFileInfo(path).isFile())
            continue;
        if (std::optional<QString> error = copyPrivate(path, directory.filePath(secret)))
            return unexpected(*error);
        names.append(secret);
    }
    if (!options.configFile.isEmpty()) {
        const QString name = ConfigFile::syntaxFor(options.configFile) == ConfigFile::Syntax::Ini
                                 ? QString(kConfigNames[1])
                                 : QString(kConfigNames[0]);
        if (std::optional<QString> error = copyPrivate(options.configFile, directory.filePath(name)))
            return unexpected(*error);
        names.append(name);
    }
    for (const QString &name : std::as_const(names)) {
        Expected<BackupFile, QString> file = describeFile(destination, name);
        if (!file)
            return unexpected(file.error());
        manifest.files.append(*file);
    }

    // The manifest last, and atomically: its presence says the backup is whole.
    const QString partial = directory.filePath(QStringLiteral(".MANIFEST.json.partial"));
    QFile manifestFile(partial);
    const QByteArray json = manifest.toJson();
    if (!manifestFile.open(QIODevice::WriteOnly) || manifestFile.write(json) != json.size() || !manifestFile.flush())
        return unexpected(QStringLiteral("cannot write %1").arg(quoted(partial)));
    manifestFile.close();
    if (!sql::syncPath(partial) || !QFile::rename(partial, directory.filePath(kManifestName))
        || !sql::syncPath(destination))
        return unexpected(QStringLiteral("cannot write %1").arg(quoted(directory.filePath(kManifestName))));
    finished = true;
    return BackupReport{destination, manifest, timer.elapsed()};
}

Expected<RestoreReport, OperationError> restoreVenue(const Options &options, const QString &source)
{
    QElapsedTimer timer;
    timer.start();
    const QDir backup(source);
    if (!QFileInfo(source).isDir())
        return unexpected(QStringLiteral("%1 is not a directory").arg(quoted(source)));
    QFile manifestFile(backup.filePath(kManifestName));
    if (!manifestFile.exists())
        return unexpected(QStringLiteral("%1 is not a bourse backup: it has no MANIFEST.json (a backup that did not "
                                         "finish has none)")
                              .arg(quoted(source)));
    if (!manifestFile.open(QIODevice::ReadOnly))
        return unexpected(QStringLiteral("cannot read %1: %2").arg(quoted(manifestFile.fileName()), manifestFile.errorString()));
    Expected<BackupManifest, QString> manifest = BackupManifest::fromJson(manifestFile.readAll(), manifestFile.fileName());
    if (!manifest)
        return unexpected(manifest.error());

    const sql::DatabaseUrl &url = options.database;
    if (manifest->driver != url.driver)
        return unexpected(QStringLiteral("%1 is the backup of a %2 venue, and the venue to restore into is %3 (%4): "
                                         "restore it into a %2 venue")
                              .arg(quoted(source), venueKind(manifest->driver), venueKind(url.driver), url.toString()));
    // Every file exactly as the backup wrote it.
    for (const BackupFile &expected : std::as_const(manifest->files)) {
        const QString path = backup.filePath(expected.name);
        if (!QFileInfo(path).isFile())
            return unexpected(QStringLiteral("%1 is missing: the backup is incomplete").arg(quoted(path)));
        const Expected<BackupFile, QString> actual = describeFile(source, expected.name);
        if (!actual)
            return unexpected(actual.error());
        if (actual->bytes != expected.bytes)
            return unexpected(QStringLiteral("%1 is damaged: it has %2 bytes, MANIFEST.json says %3")
                                  .arg(quoted(path))
                                  .arg(actual->bytes)
                                  .arg(expected.bytes));
        if (actual->sha256 != expected.sha256)
            return unexpected(QStringLiteral("%1 is damaged: its SHA-256 is %2, MANIFEST.json says %3")
                                  .arg(quoted(path), actual->sha256, expected.sha256));
    }
    const Expected<sql::MigrationSet, QString> migrations = sql::MigrationSet::builtIn(url.driver);
    if (!migrations)
        return unexpected(migrations.error());
    if (manifest->schemaVersion > migrations->latestVersion())
        return unexpected(QStringLiteral("%1 holds a database at schema version %2, newer than this bourse knows "
                                         "(%3): restore it with bourse %4 or newer")
                              .arg(quoted(source))
                              .arg(manifest->schemaVersion)
                              .arg(migrations->latestVersion())
                              .arg(manifest->bourseVersion));

    RestoreReport report;
    report.manifest = *manifest;
    report.database = url.toString();
    report.schemaFrom = manifest->schemaVersion;
    const QString stamp = timeStamp();
    if (std::optional<QString> error = createDataDir(options.dataDir))
        return unexpected(*error);
    const QDir dataDir(options.dataDir);

    // Run as root (by an admin, on the service's venue), what it installs belongs to the data dir's owner:
    // the service's user must be able to open it.
    std::optional<std::pair<uid_t, gid_t>> owner;
    if (::geteuid() == 0) {
        struct stat info;
        if (::stat(QFile::encodeName(options.dataDir).constData(), &info) == 0)
            owner = std::pair{info.st_uid, info.st_gid};
    }
    const auto stage = [&](const QString &from, const QString &to) -> std::optional<QString> {
        QFile::remove(to);
        if (std::optional<QString> error = copyPrivate(from, to))
            return error;
        if (owner && ::chown(QFile::encodeName(to).constData(), owner->first, owner->second) != 0)
            return QStringLiteral("cannot give %1 to the data dir's owner").arg(quoted(to));
        return std::nullopt;
    };
    // Staged files go again unless they were put in place.
    QStringList staged;
    const auto removeStaged = qScopeGuard([&] {
        for (const QString &path : std::as_const(staged)) {
            for (const char *suffix : {"", "-wal", "-shm"})
                QFile::remove(path + QLatin1StringView(suffix));
        }
    });

    // The data dir's secrets, staged beside their targets.
    QList<std::pair<QString, QString>> secrets; // staged → target
    for (const QLatin1StringView secret : kSecretNames) {
        const BackupFile *file = manifest->file(secret);
        if (!file)
            continue;
        const QString target = dataDir.filePath(secret);
        if (QFileInfo(target).isFile() && describeFile(options.dataDir, secret).valueOr(BackupFile{}).sha256 == file->sha256)
            continue; // the same already
        const QString stagedSecret = dataDir.filePath(QStringLiteral(".%1.restore-%2").arg(secret).arg(::getpid()));
        staged.append(stagedSecret);
        if (std::optional<QString> error = stage(backup.filePath(secret), stagedSecret))
            return unexpected(*error);
        secrets.append({stagedSecret, target});
    }

    // Held until the restore is done: a PostgreSQL session with the journal's lock, or SQLite's flock.
    std::optional<sql::Connection> lockHolder;
    int sqliteLock = -1;
    const auto releaseLock = qScopeGuard([&] {
        if (sqliteLock >= 0)
            ::close(sqliteLock);
    });
    const QString running = QStringLiteral("a bourse is running on %1: stop it first (restore never replaces a "
                                           "running venue's data)")
                                .arg(url.toString());
    // Puts a staged file in place with one rename; what was there stays reachable under its aside name
    // (a hard link made first), so that the target is never missing.
    const auto install = [&](const QString &from, const QString &target) -> std::optional<QString> {
        if (QFileInfo::exists(target)) {
            const QString aside = target + QStringLiteral(".before-restore-") + stamp;
            if (::link(QFile::encodeName(target).constData(), QFile::encodeName(aside).constData()) != 0)
                return QStringLiteral("cannot keep %1 as %2: %3")
                    .arg(quoted(target), quoted(aside), QString::fromLocal8Bit(std::strerror(errno)));
            report.keptAside.append(aside);
        }
        if (::rename(QFile::encodeName(from).constData(), QFile::encodeName(target).constData()) != 0)
            return QStringLiteral("cannot put %1 in place: %2")
                .arg(quoted(target), QString::fromLocal8Bit(std::strerror(errno)));
        staged.removeAll(from);
        report.installed.append(target);
        return std::nullopt;
    };
    const auto installSecrets = [&]() -> std::optional<QString> {
        for (const auto &[from, target] : std::as_const(secrets)) {
            if (std::optional<QString> error = install(from, target))
                return error;
        }
        return sql::syncPath(options.dataDir) ? std::nullopt
                                              : std::optional<QString>(QStringLiteral("cannot sync %1").arg(quoted(options.dataDir)));
    };
    // Once something is in place, a failure says what restore already did.
    const auto partly = [&](const QString &error) {
        return QStringLiteral("%1 (already done: installed %2; kept aside %3)")
            .arg(error, report.installed.join(QStringLiteral(", ")), report.keptAside.join(QStringLiteral(", ")));
    };

    if (url.driver == sql::DatabaseUrl::Driver::Sqlite) {
        const QString targetPath = url.path;
        const QString targetDir = QFileInfo(targetPath).absolutePath();
        if (!QDir().mkpath(targetDir))
            return unexpected(QStringLiteral("cannot create %1").arg(quoted(targetDir)));
        // The same flock(2) a running bourse holds on its database (openVenue). A bourse that starts while
        // this holds it is refused; once the restored file is in place, a new one opens that.
        if (QFileInfo::exists(targetPath)) {
            sqliteLock = ::open(QFile::encodeName(targetPath).constData(), O_RDONLY | O_CLOEXEC);
            if (sqliteLock < 0)
                return unexpected(QStringLiteral("cannot open %1").arg(quoted(targetPath)));
            if (::flock(sqliteLock, LOCK_EX | LOCK_NB) != 0)
                return unexpected(running);
        }
        // Staged beside the target, on its file system, so that putting it in place is one rename.
        const QString stagedDatabase = QDir(targetDir).filePath(QStringLiteral(".bourse-restore-%1.db").arg(::getpid()));
        staged.append(stagedDatabase);
        if (std::optional<QString> error = stage(backup.filePath(kSqliteName), stagedDatabase))
            return unexpected(*error);
        {
            Expected<sql::Connection, QString> connection =
                sql::ConnectionFactory(sql::DatabaseUrl::sqlite(stagedDatabase)).open(u"restore");
            if (!connection)
                return unexpected(connection.error());
            const QString what = quoted(backup.filePath(kSqliteName));
            if (std::optional<QString> problem = sqliteIntegrity(connection->database()))
                return unexpected(QStringLiteral("%1 is damaged: %2").arg(what, *problem));
            // A backup made by an older bourse is brought up to this one's schema first, as its start would;
            // one made by a newer bourse is refused here.
            const Expected<sql::MigrationReport, QString> migrated = sql::applyMigrations(*connection, *migrations);
            if (!migrated)
                return unexpected(what + QStringLiteral(": ") + migrated.error());
            report.schemaTo = migrated->toVersion;
            const Expected<sql::VerifyReport, QString> check = checkedJournal(connection->database(), what);
            if (!check)
                return unexpected(check.error());
            if (std::optional<QString> mismatch = matchesManifest(*check, *manifest, what))
                return unexpected(*mismatch);
        } // closed: its -wal is folded in and gone
        // The venue being replaced: its log folded into the file first (no bourse runs on it: we hold its
        // lock), so that the copy kept aside is whole on its own.
        if (sqliteLock >= 0) {
            {
                Expected<sql::Connection, QString> old =
                    sql::ConnectionFactory(sql::DatabaseUrl::sqlite(targetPath)).open(u"restore-old");
                if (!old)
                    return unexpected(old.error());
                QSqlQuery checkpoint(old->database());
                if (!checkpoint.exec(QStringLiteral("PRAGMA wal_checkpoint(TRUNCATE)")) || !checkpoint.next()
                    || checkpoint.value(0).toInt() != 0)
                    return unexpected(QStringLiteral("cannot fold %1's log into it; nothing was changed").arg(quoted(targetPath)));
            }
            if (QFileInfo(targetPath + QStringLiteral("-wal")).size() > 0)
                return unexpected(QStringLiteral("%1-wal still holds data; nothing was changed").arg(targetPath));
            QFile::remove(targetPath + QStringLiteral("-wal"));
            QFile::remove(targetPath + QStringLiteral("-shm"));
        }
        if (std::optional<QString> error = installSecrets())
            return unexpected(partly(*error));
        // Last, the database: one rename over the old file, which stays reachable under its aside name.
        if (std::optional<QString> error = install(stagedDatabase, targetPath))
            return unexpected(partly(*error));
        if (!sql::syncPath(targetDir))
            return unexpected(partly(QStringLiteral("cannot sync %1").arg(quoted(targetDir))));
    } else {
        Expected<sql::Connection, QString> connection = sql::ConnectionFactory(url).open(u"restore");
        if (!connection)
            return unexpected(OperationError(connection.error(), 2));
        if (std::optional<QString> error = sql::lockJournal(connection->database(), std::chrono::milliseconds(0)))
            return unexpected(error->startsWith(QStringLiteral("another bourse")) ? running
                                                                                  : url.toString() + QStringLiteral(": ") + *error);
        QSqlQuery tables(connection->database());
        if (!tables.exec(QStringLiteral("SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema()"))
            || !tables.next())
            return unexpected(url.toString() + QStringLiteral(": cannot list its tables"));
        if (const int count = tables.value(0).toInt(); count > 0)
            return unexpected(QStringLiteral("%1 is not empty (it has %2 tables): restore into a new, empty database "
                                             "(createdb), or drop this one's tables first")
                                  .arg(url.toString())
                                  .arg(count));
        tables.finish();
        const QString dump = backup.filePath(kDumpName);
        if (std::optional<QString> error =
                runPostgreSqlTool(QStringLiteral("pg_restore"), {QStringLiteral("--list"), dump}, url))
            return unexpected(QStringLiteral("%1 does not read back: %2").arg(quoted(dump), *error));
        // One transaction: the database gets the whole backup or stays empty.
        if (std::optional<QString> error = runPostgreSqlTool(
                QStringLiteral("pg_restore"),
                {QStringLiteral("--no-owner"), QStringLiteral("--no-privileges"), QStringLiteral("--single-transaction"),
                 QStringLiteral("--exit-on-error"), dump},
                url))
            return unexpected(*error);
        const QString what = QStringLiteral("the restored ") + url.toString();
        const QString leftAsIs = QStringLiteral(" (the database was left as restored, for inspection)");
        const Expected<sql::MigrationReport, QString> migrated = sql::applyMigrations(*connection, *migrations);
        if (!migrated)
            return unexpected(what + QStringLiteral(": ") + migrated.error() + leftAsIs);
        report.schemaTo = migrated->toVersion;
        const Expected<sql::VerifyReport, QString> check = checkedJournal(connection->database(), what);
        if (!check)
            return unexpected(check.error() + leftAsIs);
        if (std::optional<QString> mismatch = matchesManifest(*check, *manifest, what))
            return unexpected(*mismatch + leftAsIs);
        report.installed.append(url.toString());
        if (std::optional<QString> error = installSecrets())
            return unexpected(partly(*error));
        lockHolder.emplace(std::move(connection.value()));
    }

    for (const QLatin1StringView name : kConfigNames) {
        if (manifest->file(name))
            report.configInBackup = backup.filePath(name);
    }
    report.milliseconds = timer.elapsed();
    return report;
}

} // namespace bourse::app
