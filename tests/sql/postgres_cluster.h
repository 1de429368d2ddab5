// PostgresCluster: a private PostgreSQL 15 server for one test executable. create() runs initdb into a
// fresh temporary directory and starts the server on 127.0.0.1 at a free port, its Unix socket in that
// directory and fsync left on (the storage tests are about durability); the destructor stops it
// (pg_ctl stop -m fast) and deletes the directory. stopImmediate() and start() let fault tests take the
// server away under load and bring it back on the same port.
//
// As root (as CI runs), initdb and pg_ctl refuse to run, so they run as the `postgres` system user that
// Debian's postgresql package creates, and the directory is handed to it; the tests themselves connect
// over TCP with a password. PostgreSQL missing is an error, never a reason to skip: CI must run these tests.
// Test thread only.
#pragma once

#include "database_url.h"
#include "expected.h"

#include <QString>
#include <QStringList>
#include <QTemporaryDir>

#include <memory>
#include <optional>
#include <sys/types.h>

namespace bourse::test {

class PostgresCluster final
{
public:
    // Where initdb, pg_ctl and postgres are: BOURSE_POSTGRESQL_BIN if set, else Debian's
    // /usr/lib/postgresql/15/bin.
    static QString binaryDir();

    // The error says what failed and ends with the server's log, as one paragraph.
    static Expected<std::unique_ptr<PostgresCluster>, QString> create();
    ~PostgresCluster();
    PostgresCluster(const PostgresCluster &) = delete;
    PostgresCluster &operator=(const PostgresCluster &) = delete;

    quint16 port() const { return m_port; }
    QString user() const { return m_user; }
    QString password() const { return m_password; }
    bool isRunning() const { return m_running; }

    // postgresql://<user>:<password>@127.0.0.1:<port>/<database>
    sql::DatabaseUrl url(const QString &database) const;

    // Creates a database with a name not used before (bourse_test_1, bourse_test_2, ...): empty, or a copy
    // of `templateName`, which nobody may be connected to.
    Expected<sql::DatabaseUrl, QString> createDatabase(const QString &templateName = QString());

    // pg_ctl stop -m immediate: the server goes away as in a crash; its clients see their connections drop.
    std::optional<QString> stopImmediate();
    // Starts the stopped server again, on the same port.
    std::optional<QString> start();

private:
    PostgresCluster() = default;

    std::optional<QString> initialize();
    // Runs one statement in the maintenance database "postgres", over a connection of its own.
    std::optional<QString> administer(const QString &statement);
    std::optional<QString> startOnce();
    // Runs one PostgreSQL program (as the postgres user when we are root); the error holds its output.
    std::optional<QString> run(const QString &program, const QStringList &arguments);
    QString dataDir() const;
    QString logFile() const;
    QString logTail() const;

    std::unique_ptr<QTemporaryDir> m_dir;
    std::optional<uid_t> m_runAsUid; // set when running as root
    gid_t m_runAsGid = 0;
    quint16 m_port = 0;
    QString m_user = QStringLiteral("bourse");
    QString m_password;
    bool m_running = false;
    int m_databaseCount = 0;
    int m_administrationCount = 0;
};

} // namespace bourse::test
