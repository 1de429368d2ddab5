// The journal's rows in and out of the database through each driver's own client library, rather than one
// QVariant per value through Qt's, which was the journal's bound.
//
// Writing: journal.cpp and projections.cpp say WHAT the group commit writes, as RowTables (a table, its
// columns, and how a row meets a stored row with the same key) and the rows' values; a RowSink says HOW.
// SQLite binds natively to statements prepared once per connection. PostgreSQL streams binary COPY,
// straight into the table for new rows, or into a session temporary table followed by one INSERT ... ON
// CONFLICT or UPDATE ... FROM for rows that merge with stored ones. The transaction stays QSqlDatabase's
// (transaction(), commit(), rollback()); a sink only writes inside one.
//
// Reading: a RowSource reads the rows of one SELECT the same way (SQLite's own statement, PostgreSQL's
// binary COPY out), for recovery, which reads the whole journal once at start-up.
//
// Used on the thread that opened the connection (the journal writer's, or start-up's for recovery).
#pragma once

#include "expected.h"

#include <QByteArray>
#include <QPointer>
#include <QSqlDatabase>
#include <QString>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

class QSqlDriver;

struct sqlite3;

namespace bourse::sql {

// The sqlite3 handle behind a connection Qt's QSQLITE driver opened, or null for any other connection. The
// connection's thread, like the connection.
sqlite3 *sqliteHandle(const QSqlDatabase &db);

// A column's SQL type. PostgreSQL's binary COPY needs every value at its column's exact width; SQLite
// stores all of them as 64-bit integers, text or blobs (booleans as 0 or 1).
enum class ColumnType : std::uint8_t { SmallInt, Integer, BigInt, Boolean, Text, Bytes };

// What a value does to the stored row with the same key, when there is one (RowTable::Mode).
enum class ColumnRole : std::uint8_t {
    Key,        // names the row
    Set,        // replaces the stored value
    SetIfGiven, // replaces it unless NULL
    Add,        // is added to it
    Max,        // replaces it when greater
    Min,        // replaces it when smaller
    Initial,    // written when the row is new, never changed after
};

struct Column
{
    const char *name;
    ColumnType type;
    ColumnRole role = ColumnRole::Set;
};

struct RowTable
{
    enum class Mode : std::uint8_t {
        Append, // new rows only: a row whose key is taken is an error
        Upsert, // a new row, or merged into the stored one by the roles
        Update, // merged into the stored one by the roles, which must exist
    };
    const char *name;
    Mode mode;
    std::vector<Column> columns; // the order in which a row's values are given
};

// Writes the rows of one table after another: begin(table), then for each row its values in column order
// and endRow(), then finish(). Any error ends the table (the caller rolls the transaction back); a sink
// never leaves the connection in the middle of a statement. Errors are one line, without row values.
class RowSink
{
public:
    virtual ~RowSink() = default;

    virtual std::optional<QString> begin(const RowTable &table) = 0;
    virtual void integer(std::int64_t value) = 0;
    virtual void boolean(bool value) = 0;
    virtual void text(std::string_view value) = 0;
    virtual void bytes(std::span<const std::uint8_t> value) = 0;
    virtual void null() = 0;
    virtual std::optional<QString> endRow() = 0;
    virtual std::optional<QString> finish() = 0;

    void optionalInteger(const std::optional<std::int64_t> &value) { value ? integer(*value) : null(); }

    // The connection the sink was made for: its driver and the driver's native handle.
    virtual bool servesConnection(const QSqlDatabase &db) const = 0;
};

// The rows of one SELECT, in its order, with the values read in place. Destroy it before the connection
// closes, and before running anything else on the connection.
class RowSource
{
public:
    virtual ~RowSource() = default;

    // Moves to the next row: true if there is one; false at the end or on an error (error() says).
    virtual bool next() = 0;
    // The current row's values (0 and empty for NULL); bytes() stays valid until next().
    virtual std::int64_t integer(int column) const = 0;
    virtual std::span<const std::uint8_t> bytes(int column) const = 0;
    virtual const std::optional<QString> &error() const = 0;
};

// Reads `select`, a complete statement without parameters.
Expected<std::unique_ptr<RowSource>, QString> readRows(QSqlDatabase &db, const QByteArray &select);

// The drivers' sinks and sources (native_rows_sqlite.cpp, native_rows_postgresql.cpp).
Expected<std::unique_ptr<RowSink>, QString> makeSqliteRowSink(QSqlDatabase &db);
Expected<std::unique_ptr<RowSink>, QString> makePostgreSqlRowSink(QSqlDatabase &db);
Expected<std::unique_ptr<RowSource>, QString> readSqliteRows(QSqlDatabase &db, const QByteArray &select);
Expected<std::unique_ptr<RowSource>, QString> readPostgreSqlRows(QSqlDatabase &db, const QByteArray &select);

// SQL both sinks spell alike.
namespace rowsql {
// "a, b, c": the table's columns.
QByteArray columnList(const RowTable &table);
// The new value of `column` given the row's value and the stored one (expressions), or empty for a
// column that keeps the stored value (Key, Initial).
QByteArray mergedValue(const Column &column, const QByteArray &given, const QByteArray &stored);
// An Upsert's " ON CONFLICT ... DO UPDATE SET ..." (the row's values as excluded.<column>), or
// " ON CONFLICT DO NOTHING" when no column changes a stored row.
QByteArray onConflict(const RowTable &table);
} // namespace rowsql

// The sink of the connection the journal writes through, kept from one transaction to the next so that
// statements and temporary tables are made once per connection; made anew when the connection changes.
// forget() after any failed transaction: what the sink made inside it is gone with the rollback.
class RowSinks final
{
public:
    Expected<RowSink *, QString> forConnection(QSqlDatabase &db);
    void forget();

private:
    QPointer<QSqlDriver> m_driver; // the connection's; null once Qt has destroyed it
    std::unique_ptr<RowSink> m_sink;
};

} // namespace bourse::sql
