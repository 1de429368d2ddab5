// TestDatabases: fresh databases of either driver for the storage tests, which run every case against
// SQLite and against PostgreSQL (the driver is a column of their _data() tables). Make one per test
// executable, in initTestCase(): it starts that executable's one PostgresCluster and keeps the SQLite files
// in a temporary directory; every fresh() is a database no other test case has touched. Test thread only.
#pragma once

#include "connection.h"
#include "database_url.h"
#include "expected.h"
#include "postgres_cluster.h"

#include <QMetaType>
#include <QTemporaryDir>

#include <memory>
#include <optional>

Q_DECLARE_METATYPE(bourse::sql::DatabaseUrl::Driver)

namespace bourse::test {

class TestDatabases final
{
public:
    static Expected<std::unique_ptr<TestDatabases>, QString> create();

    // An empty database: a new file for SQLite, a new database in the cluster for PostgreSQL.
    Expected<sql::DatabaseUrl, QString> fresh(sql::DatabaseUrl::Driver driver);
    // A fresh database with every built-in migration applied: a copy of one migrated once per driver, which
    // is much quicker than migrating each.
    Expected<sql::DatabaseUrl, QString> freshMigrated(sql::DatabaseUrl::Driver driver);

    // A connection to a fresh migrated database; none (with a warning saying why) if that fails, for the
    // caller's QVERIFY.
    std::optional<sql::Connection> openFreshMigrated(sql::DatabaseUrl::Driver driver);

    PostgresCluster &cluster() { return *m_cluster; }
    // A temporary directory that lives as long as this object.
    QString directory() const { return m_directory.path(); }

    static QString driverName(sql::DatabaseUrl::Driver driver); // "sqlite", "postgresql"
    // The URL as text WITH its password, for a child process's command line (toString() hides it, as it
    // should everywhere else).
    static QString urlWithPassword(const sql::DatabaseUrl &url);
    // The _data() column every storage test has: "driver", one row per database.
    static void addDriverRows();

private:
    TestDatabases() = default;

    std::unique_ptr<PostgresCluster> m_cluster;
    QTemporaryDir m_directory;
    int m_sqliteCount = 0;
    std::optional<sql::DatabaseUrl> m_sqliteTemplate;
    std::optional<sql::DatabaseUrl> m_postgresqlTemplate;
};

} // namespace bourse::test
