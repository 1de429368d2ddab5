// DatabaseUrl: where the venue's SQL store lives, as named by --database-url, BOURSE_DATABASE_URL or the
// config file's database_url. Parsed once at start-up, before anything is written; the connection
// factory reads the fields. A plain value; any thread.
//
// Accepted forms (the scheme is case-insensitive):
//   sqlite:<path>                  the path exactly as written (relative or absolute, no decoding)
//   sqlite:///<absolute path>      a file URL: percent-decoded, no ?options
//   postgresql://[user[:password]@][host][:port]/database[?option=value&...]   (also postgres://)
//     user, password, host, database and option values are percent-decoded; an empty host means the
//     local Unix socket; the port defaults to 5432; options are a fixed list of libpq's (sslmode, ...).
#pragma once

#include "expected.h"

#include <QList>
#include <QString>
#include <QStringView>

#include <cstdint>
#include <utility>

namespace bourse::sql {

struct DatabaseUrl
{
    enum class Driver : std::uint8_t { Sqlite, PostgreSql };
    static constexpr std::uint16_t kDefaultPostgreSqlPort = 5432;

    Driver driver = Driver::Sqlite;
    QString path; // SQLite: the database file

    // PostgreSQL.
    QString user;
    QString password; // never logged: toString() and every parse error leave it out
    QString host;     // a name or an address (IPv6 without brackets); empty: the local Unix socket
    std::uint16_t port = kDefaultPostgreSqlPort;
    QString databaseName;
    QList<std::pair<QString, QString>> options; // in the order given, each key at most once

    // The error is one line naming what is wrong and never contains the password.
    static Expected<DatabaseUrl, QString> parse(QStringView text);

    static DatabaseUrl sqlite(const QString &path);

    // The value of one option, or an empty string.
    QString option(QStringView key) const;

    // For logs and messages: the URL with the password replaced by "***". It parses back to the same
    // value apart from the password.
    QString toString() const;

    // PostgreSQL: libpq's connection string for the URL ("host='db' port=5432 user='u' dbname='d'" and
    // the options), WITHOUT the password, which goes to libpq tools through PGPASSWORD instead: a command
    // line is visible to every user of the machine.
    QString libpqConnectionString() const;

    friend bool operator==(const DatabaseUrl &, const DatabaseUrl &) = default;
};

// libpq's conninfo quoting: the value in single quotes, with '\' and '\'' escaped by a backslash.
QString conninfoQuoted(const QString &value);

} // namespace bourse::sql
