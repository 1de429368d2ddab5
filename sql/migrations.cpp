#include "migrations.h"

#include "connection.h"
#include "sql_log.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QSqlError>
#include <QSqlQuery>
#include <QStringDecoder>

#include <optional>

namespace bourse::sql {

namespace {

const QString kResourceRoot = QStringLiteral(":/bourse/sql/migrations/");

const QString kCreateSqliteTable = QStringLiteral(
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY CHECK (version > 0), "
    "name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT");
const QString kCreatePostgreSqlTable = QStringLiteral(
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY CHECK (version > 0), "
    "name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)");

QString versionText(int version)
{
    return QStringLiteral("%1").arg(version, 4, 10, QLatin1Char('0'));
}

QString shortChecksum(const QString &checksum)
{
    return checksum.left(12) + QStringLiteral("...");
}

// The start of a statement, to name it in a message.
QString statementHead(const QString &statement)
{
    const QString firstLine = statement.section(u'\n', 0, 0).simplified();
    return firstLine.size() > 60 ? firstLine.left(57) + QStringLiteral("...") : firstLine;
}

struct AppliedMigration
{
    int version = 0;
    QString name;
    QString checksum;
};

Expected<QList<AppliedMigration>, QString> readApplied(QSqlDatabase &database)
{
    QSqlQuery query(database);
    query.setForwardOnly(true);
    if (!query.exec(QStringLiteral("SELECT version, name, checksum FROM schema_migrations ORDER BY version")))
        return unexpected(QStringLiteral("cannot read schema_migrations: ") + errorLine(query.lastError()));
    QList<AppliedMigration> applied;
    while (query.next())
        applied.append({query.value(0).toInt(), query.value(1).toString(), query.value(2).toString()});
    return applied;
}

// What makes the recorded migrations incompatible with `set`, if anything.
std::optional<QString> checkApplied(const QList<AppliedMigration> &applied, const MigrationSet &set)
{
    if (applied.isEmpty())
        return std::nullopt;
    const AppliedMigration &newest = applied.constLast();
    if (newest.version > set.latestVersion()) {
        const QString known = set.migrations().isEmpty() ? QStringLiteral("none") : set.migrations().constLast().id();
        return QStringLiteral("the database's schema is at version %1 (%2_%3), newer than this bourse knows "
                              "(latest %4); run the bourse that migrated it, or a newer one")
            .arg(newest.version)
            .arg(versionText(newest.version), newest.name, known);
    }
    for (qsizetype i = 0; i < applied.size(); ++i) {
        const AppliedMigration &row = applied[i];
        const Migration &expected = set.migrations()[i];
        if (row.version != expected.version) {
            return QStringLiteral("the database lacks migration %1 but has %2_%3 applied; it was not migrated by "
                                  "bourse")
                .arg(expected.id(), versionText(row.version), row.name);
        }
        if (row.name != expected.name) {
            return QStringLiteral("migration %1 is recorded as \"%2\", but this bourse's is %3; the database was "
                                  "migrated by a different build")
                .arg(versionText(row.version), row.name, expected.id());
        }
        if (row.checksum != expected.checksum) {
            return QStringLiteral("migration %1 has changed since it was applied (the database recorded sha256 %2, "
                                  "this bourse has %3); the database was migrated by a different build")
                .arg(expected.id(), shortChecksum(row.checksum), shortChecksum(expected.checksum));
        }
    }
    return std::nullopt;
}

// Holds PostgreSQL's migration lock for its lifetime. The server drops it too if the session ends.
class MigrationLock final
{
public:
    static Expected<std::optional<MigrationLock>, QString> take(Connection &connection)
    {
        if (connection.driver() != DatabaseUrl::Driver::PostgreSql)
            return std::optional<MigrationLock>();
        const QString key = QString::number(kMigrationLockKey);
        QSqlQuery query(connection.database());
        if (!query.exec(QStringLiteral("SELECT pg_try_advisory_lock(%1)").arg(key)) || !query.next())
            return unexpected(QStringLiteral("cannot take the migration lock: ") + errorLine(query.lastError()));
        if (!query.value(0).toBool()) {
            qCInfo(lcSql).noquote() << "waiting for another bourse to finish migrating" << connection.description();
            if (!query.exec(QStringLiteral("SELECT pg_advisory_lock(%1)").arg(key)))
                return unexpected(QStringLiteral("cannot take the migration lock: ") + errorLine(query.lastError()));
        }
        return std::optional<MigrationLock>(MigrationLock(connection));
    }

    MigrationLock(MigrationLock &&other) noexcept
        : m_connection(std::exchange(other.m_connection, nullptr))
    {}
    MigrationLock &operator=(MigrationLock &&) = delete;
    MigrationLock(const MigrationLock &) = delete;
    MigrationLock &operator=(const MigrationLock &) = delete;
    ~MigrationLock()
    {
        if (m_connection)
            m_connection->execute(QStringLiteral("SELECT pg_advisory_unlock(%1)").arg(kMigrationLockKey));
    }

private:
    explicit MigrationLock(Connection &connection)
        : m_connection(&connection)
    {}

    Connection *m_connection;
};

std::optional<QString> recordMigration(QSqlDatabase &database, const Migration &migration)
{
    QSqlQuery query(database);
    if (!query.prepare(QStringLiteral(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)"))) {
        return errorLine(query.lastError());
    }
    query.addBindValue(migration.version);
    query.addBindValue(migration.name);
    query.addBindValue(migration.checksum);
    query.addBindValue(QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs));
    if (!query.exec())
        return errorLine(query.lastError());
    return std::nullopt;
}

} // namespace

QString Migration::id() const
{
    return versionText(version) + u'_' + name;
}

Expected<QStringList, QString> splitStatements(QStringView script)
{
    QStringList statements;
    QString current;
    qsizetype startLine = 0;
    const QList<QStringView> lines = script.split(u'\n');
    for (qsizetype i = 0; i < lines.size(); ++i) {
        // Trailing blanks (a '\r' too) go; indentation stays as written.
        QStringView line = lines[i];
        while (!line.isEmpty() && line.back().isSpace())
            line.chop(1);
        const QStringView trimmed = line.trimmed();
        if (trimmed.isEmpty() || trimmed.startsWith(u"--"))
            continue;
        if (current.isEmpty())
            startLine = i + 1;
        else
            current += u'\n';
        current += line;
        if (line.endsWith(u';')) {
            current.chop(1);
            if (current.trimmed().isEmpty())
                return unexpected(QStringLiteral("line %1: an empty statement").arg(i + 1));
            statements.append(current);
            current.clear();
        }
    }
    if (!current.isEmpty()) {
        return unexpected(
            QStringLiteral("line %1: the statement that starts here has no line ending with \";\"").arg(startLine));
    }
    return statements;
}

Expected<MigrationSet, QString> MigrationSet::builtIn(DatabaseUrl::Driver driver)
{
    const QString dialect = driver == DatabaseUrl::Driver::Sqlite ? QStringLiteral("sqlite")
                                                                  : QStringLiteral("postgresql");
    Expected<MigrationSet, QString> set = fromDirectory(kResourceRoot + dialect);
    if (!set)
        return unexpected(QStringLiteral("the migrations built into bourse are broken: ") + set.error());
    return set;
}

Expected<MigrationSet, QString> MigrationSet::fromDirectory(const QString &path)
{
    static const QRegularExpression kFileName(QStringLiteral("^(\\d{4})_([a-z0-9_]+)\\.sql$"));
    const QDir dir(path);
    if (!dir.exists())
        return unexpected(QStringLiteral("no migrations directory \"%1\"").arg(path));

    MigrationSet set;
    for (const QString &fileName : dir.entryList({QStringLiteral("*.sql")}, QDir::Files, QDir::Name)) {
        const QRegularExpressionMatch match = kFileName.match(fileName);
        if (!match.hasMatch())
            return unexpected(QStringLiteral("\"%1\" is not named NNNN_name.sql (name: a-z, 0-9, _)").arg(fileName));
        Migration migration;
        migration.version = match.captured(1).toInt();
        migration.name = match.captured(2);
        const int expected = set.latestVersion() + 1;
        if (migration.version != expected) {
            return unexpected(QStringLiteral("migrations are numbered 0001, 0002, ... without gaps or repeats; "
                                             "expected %1, found \"%2\"")
                                  .arg(versionText(expected), fileName));
        }

        QFile file(dir.filePath(fileName));
        if (!file.open(QIODevice::ReadOnly))
            return unexpected(QStringLiteral("cannot read \"%1\": %2").arg(file.fileName(), file.errorString()));
        const QByteArray bytes = file.readAll();
        migration.checksum = QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
        QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
        const QString script = decoder.decode(bytes);
        if (decoder.hasError())
            return unexpected(QStringLiteral("%1: not UTF-8").arg(fileName));
        Expected<QStringList, QString> statements = splitStatements(script);
        if (!statements)
            return unexpected(fileName + QStringLiteral(": ") + statements.error());
        if (statements->isEmpty())
            return unexpected(fileName + QStringLiteral(": holds no statement"));
        migration.statements = statements.value();
        set.m_migrations.append(std::move(migration));
    }
    return set;
}

Expected<MigrationReport, QString> applyMigrations(Connection &connection, const MigrationSet &set)
{
    const bool sqlite = connection.driver() == DatabaseUrl::Driver::Sqlite;
    Expected<std::optional<MigrationLock>, QString> lock = MigrationLock::take(connection);
    if (!lock)
        return unexpected(lock.error());

    // One transaction per migration, and the state is read again inside each: a concurrent migrator that
    // got there first is then seen, not repeated. BEGIN IMMEDIATE takes SQLite's write lock at once.
    const QString begin = sqlite ? QStringLiteral("BEGIN IMMEDIATE") : QStringLiteral("BEGIN");
    QSqlDatabase &database = connection.database();
    MigrationReport report;
    for (bool first = true;; first = false) {
        if (std::optional<QString> error = connection.execute(begin))
            return unexpected(QStringLiteral("cannot begin a transaction: ") + *error);
        const auto fail = [&](const QString &message) -> Expected<MigrationReport, QString> {
            connection.execute(QStringLiteral("ROLLBACK"));
            return unexpected(message);
        };
        if (std::optional<QString> error = connection.execute(sqlite ? kCreateSqliteTable : kCreatePostgreSqlTable))
            return fail(QStringLiteral("cannot create schema_migrations: ") + *error);
        const Expected<QList<AppliedMigration>, QString> applied = readApplied(database);
        if (!applied)
            return fail(applied.error());
        if (std::optional<QString> problem = checkApplied(*applied, set))
            return fail(*problem);
        const int current = static_cast<int>(applied->size());
        if (first)
            report.fromVersion = current;
        if (current == set.latestVersion()) {
            if (std::optional<QString> error = connection.execute(QStringLiteral("COMMIT")))
                return fail(QStringLiteral("cannot commit: ") + *error);
            break;
        }

        const Migration &migration = set.migrations()[current];
        qCDebug(lcSql).noquote() << "applying migration" << migration.id() << "to" << connection.description();
        for (qsizetype i = 0; i < migration.statements.size(); ++i) {
            if (std::optional<QString> error = connection.execute(migration.statements[i])) {
                return fail(QStringLiteral("migration %1 failed at statement %2 (%3): %4; none of it was applied")
                                .arg(migration.id())
                                .arg(i + 1)
                                .arg(statementHead(migration.statements[i]), *error));
            }
        }
        if (std::optional<QString> error = recordMigration(database, migration))
            return fail(QStringLiteral("cannot record migration %1: %2").arg(migration.id(), *error));
        if (std::optional<QString> error = connection.execute(QStringLiteral("COMMIT")))
            return fail(QStringLiteral("cannot commit migration %1: %2").arg(migration.id(), *error));
        report.applied.append(migration.id());
    }
    report.toVersion = set.latestVersion();
    return report;
}

Expected<int, QString> schemaVersion(Connection &connection, const MigrationSet &set)
{
    const bool sqlite = connection.driver() == DatabaseUrl::Driver::Sqlite;
    QSqlQuery exists(connection.database());
    if (!exists.exec(sqlite ? QStringLiteral("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = "
                                             "'schema_migrations'")
                            : QStringLiteral("SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE schemaname = "
                                             "current_schema() AND tablename = 'schema_migrations'"))
        || !exists.next())
        return unexpected(QStringLiteral("cannot read the schema: ") + errorLine(exists.lastError()));
    if (exists.value(0).toInt() == 0)
        return 0;
    const Expected<QList<AppliedMigration>, QString> applied = readApplied(connection.database());
    if (!applied)
        return unexpected(applied.error());
    if (std::optional<QString> problem = checkApplied(*applied, set))
        return unexpected(*problem);
    return static_cast<int>(applied->size());
}

} // namespace bourse::sql
