// Connections to the venue's SQL store. ConnectionFactory turns a DatabaseUrl into open, checked
// connections; each Connection is one named QSqlDatabase (QSQLITE or QPSQL) that belongs to the thread that
// opened it and is used and destroyed on that thread only, which is Qt's rule for QSqlDatabase. Who holds
// which connection:
//   main thread     "startup"  migrations (and, later, recovery) at start-up; closed before the venue serves
//   journal thread  "journal"  the journal writer's group commits
//   query threads   "query"    the repositories behind the API, one connection per thread
// The factory is a plain value: any thread may call open(), and gets a connection of its own.
#pragma once

#include "database_url.h"
#include "expected.h"

#include <QSqlDatabase>
#include <QString>
#include <QStringView>

#include <chrono>
#include <optional>

class QSqlError;
class QThread;

namespace bourse::sql {

struct ConnectionSettings
{
    // How long SQLite waits for another connection's write lock before a statement fails as busy.
    std::chrono::milliseconds sqliteBusyTimeout{5000};
    // How long libpq tries to reach PostgreSQL, unless the URL says (connect_timeout=...).
    std::chrono::seconds postgresqlConnectTimeout{10};
};

// One open connection, owned by the thread that opened it. Move-only; the moved-from value is empty.
// Destroy it on its thread, after every QSqlQuery made on it.
class Connection final
{
public:
    Connection(Connection &&other) noexcept;
    Connection &operator=(Connection &&other) noexcept;
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;
    ~Connection(); // closes the connection and removes its name

    // The owning thread only (checked in debug builds). Make QSqlQuery objects on it; do not keep copies.
    QSqlDatabase &database();

    const QString &name() const { return m_name; } // "bourse.<purpose>.<n>", unique in the process
    DatabaseUrl::Driver driver() const { return m_driver; }
    const QString &description() const { return m_description; } // the URL without its password
    QThread *thread() const { return m_thread; }

    // Runs one statement that takes no parameters. Returns what went wrong (one line), if anything.
    std::optional<QString> execute(const QString &statement);

private:
    friend class ConnectionFactory;
    Connection(QString name, DatabaseUrl::Driver driver, QString description);
    void release();

    QString m_name; // empty once moved from
    DatabaseUrl::Driver m_driver = DatabaseUrl::Driver::Sqlite;
    QString m_description;
    QThread *m_thread = nullptr;
    QSqlDatabase m_database;
};

class ConnectionFactory final
{
public:
    explicit ConnectionFactory(DatabaseUrl url, ConnectionSettings settings = {});

    // Opens a connection for the calling thread and checks that it is what the venue relies on:
    //   SQLite: journal_mode=WAL, synchronous=FULL, foreign_keys=ON and the busy timeout, each read back;
    //     SQLite 3.37 or newer (the schema uses STRICT tables);
    //   PostgreSQL: version 12 or newer, synchronous_commit=on for the session, notices below WARNING off.
    // `purpose` names the connection ("journal", "query"...). The error is one line, begins with the URL
    // (password shown as ***) and never contains the password.
    Expected<Connection, QString> open(QStringView purpose) const;

    const DatabaseUrl &url() const { return m_url; }
    const ConnectionSettings &settings() const { return m_settings; }

private:
    DatabaseUrl m_url;
    ConnectionSettings m_settings;
};

// A driver's error as one line: the database's own text (or the driver's when there is none), with line
// breaks folded into sentences.
QString errorLine(const QSqlError &error);

} // namespace bourse::sql
