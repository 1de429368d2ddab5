#include "test_databases.h"

#include <QTest>

#include "connection.h"
#include "migrations.h"

#include <QFile>
#include <QUrl>

namespace bourse::test {

Expected<std::unique_ptr<TestDatabases>, QString> TestDatabases::create()
{
    std::unique_ptr<TestDatabases> databases(new TestDatabases);
    if (!databases->m_directory.isValid())
        return unexpected(QStringLiteral("cannot create a temporary directory: ")
                          + databases->m_directory.errorString());
    Expected<std::unique_ptr<PostgresCluster>, QString> cluster = PostgresCluster::create();
    if (!cluster)
        return unexpected(QStringLiteral("cannot start PostgreSQL: ") + cluster.error());
    databases->m_cluster = std::move(cluster.value());
    return databases;
}

Expected<sql::DatabaseUrl, QString> TestDatabases::fresh(sql::DatabaseUrl::Driver driver)
{
    switch (driver) {
    case sql::DatabaseUrl::Driver::Sqlite:
        return sql::DatabaseUrl::sqlite(m_directory.filePath(QStringLiteral("test-%1.db").arg(++m_sqliteCount)));
    case sql::DatabaseUrl::Driver::PostgreSql: return m_cluster->createDatabase();
    }
    return unexpected(QStringLiteral("unknown driver"));
}

Expected<sql::DatabaseUrl, QString> TestDatabases::freshMigrated(sql::DatabaseUrl::Driver driver)
{
    const bool sqlite = driver == sql::DatabaseUrl::Driver::Sqlite;
    std::optional<sql::DatabaseUrl> &migrated = sqlite ? m_sqliteTemplate : m_postgresqlTemplate;
    if (!migrated) {
        Expected<sql::DatabaseUrl, QString> url = fresh(driver);
        if (!url)
            return url;
        // The connection is closed before anything is copied: SQLite then folds its WAL into the file, and
        // PostgreSQL copies only a database nobody is connected to.
        Expected<sql::Connection, QString> connection = sql::ConnectionFactory(*url).open(u"test");
        if (!connection)
            return unexpected(connection.error());
        const Expected<sql::MigrationSet, QString> migrations = sql::MigrationSet::builtIn(driver);
        if (!migrations)
            return unexpected(migrations.error());
        const Expected<sql::MigrationReport, QString> report = sql::applyMigrations(connection.value(), *migrations);
        if (!report)
            return unexpected(report.error());
        migrated = *url;
    }
    if (!sqlite)
        return m_cluster->createDatabase(migrated->databaseName);
    const sql::DatabaseUrl copy = sql::DatabaseUrl::sqlite(
        m_directory.filePath(QStringLiteral("test-%1.db").arg(++m_sqliteCount)));
    if (QFile::exists(migrated->path + QStringLiteral("-wal")))
        return unexpected(QStringLiteral("%1 still has a write-ahead log; cannot copy it").arg(migrated->path));
    if (!QFile::copy(migrated->path, copy.path))
        return unexpected(QStringLiteral("cannot copy %1 to %2").arg(migrated->path, copy.path));
    return copy;
}

std::optional<sql::Connection> TestDatabases::openFreshMigrated(sql::DatabaseUrl::Driver driver)
{
    const Expected<sql::DatabaseUrl, QString> url = freshMigrated(driver);
    if (!url) {
        qWarning("no test database: %s", qPrintable(url.error()));
        return std::nullopt;
    }
    Expected<sql::Connection, QString> connection = sql::ConnectionFactory(*url).open(u"test");
    if (!connection) {
        qWarning("%s", qPrintable(connection.error()));
        return std::nullopt;
    }
    return std::move(connection.value());
}

void TestDatabases::addDriverRows()
{
    QTest::addColumn<sql::DatabaseUrl::Driver>("driver");
    for (const auto driver : {sql::DatabaseUrl::Driver::Sqlite, sql::DatabaseUrl::Driver::PostgreSql})
        QTest::newRow(qPrintable(driverName(driver))) << driver;
}

QString TestDatabases::driverName(sql::DatabaseUrl::Driver driver)
{
    return driver == sql::DatabaseUrl::Driver::Sqlite ? QStringLiteral("sqlite") : QStringLiteral("postgresql");
}

QString TestDatabases::urlWithPassword(const sql::DatabaseUrl &url)
{
    QString text = url.toString();
    if (!url.password.isEmpty())
        text.replace(text.indexOf(QLatin1String(":***@")), 5,
                     QLatin1Char(':') + QString::fromLatin1(QUrl::toPercentEncoding(url.password)) + QLatin1Char('@'));
    return text;
}

} // namespace bourse::test
