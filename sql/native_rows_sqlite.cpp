// SQLite's rows. The sink binds each row with sqlite3_bind_* and steps it, on statements prepared once per
// connection. Qt prepares them (QSqlQuery), so that Qt finalizes them when it closes the connection, which
// sqlite3_close() refuses to do while any statement is alive; binding and stepping are SQLite's own. The
// source steps a statement of its own, finalized when it goes.
#include "native_rows.h"

#include <QSqlDriver>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlResult>
#include <QVariant>

#include <algorithm>
#include <sqlite3.h>
#include <unordered_map>

namespace bourse::sql {

sqlite3 *sqliteHandle(const QSqlDatabase &db)
{
    const QVariant handle = db.driver() ? db.driver()->handle() : QVariant();
    if (!handle.isValid() || qstrcmp(handle.typeName(), "sqlite3*") != 0)
        return nullptr;
    return *static_cast<sqlite3 *const *>(handle.constData());
}

namespace {

sqlite3_stmt *statementHandle(const QSqlQuery &query)
{
    const QVariant handle = query.result() ? query.result()->handle() : QVariant();
    if (!handle.isValid() || qstrcmp(handle.typeName(), "sqlite3_stmt*") != 0)
        return nullptr;
    return *static_cast<sqlite3_stmt *const *>(handle.constData());
}

class SqliteRowSink final : public RowSink
{
public:
    SqliteRowSink(QSqlDriver *driver, sqlite3 *handle)
        : m_driver(driver)
        , m_handle(handle)
    {}

    bool servesConnection(const QSqlDatabase &db) const override { return sqliteHandle(db) == m_handle; }

    std::optional<QString> begin(const RowTable &table) override
    {
        m_table = &table;
        m_statements = &m_tables[&table];
        m_row.clear();
        return std::nullopt;
    }

    void integer(std::int64_t value) override { m_row.push_back(Value{Value::Integer, value, nullptr, 0}); }
    void boolean(bool value) override { integer(value ? 1 : 0); } // STRICT tables take no other boolean
    void text(std::string_view value) override
    {
        m_row.push_back(Value{Value::Text, 0, value.data(), static_cast<int>(value.size())});
    }
    void bytes(std::span<const std::uint8_t> value) override
    {
        m_row.push_back(Value{Value::Bytes, 0, value.data(), static_cast<int>(value.size())});
    }
    void null() override { m_row.push_back(Value{Value::Null, 0, nullptr, 0}); }

    std::optional<QString> endRow() override
    {
        const RowTable &table = *m_table;
        if (m_row.size() != table.columns.size())
            return fail(QStringLiteral("a row of %1 values for %2 columns").arg(m_row.size()).arg(table.columns.size()));
        const std::uint64_t variant = table.mode == RowTable::Mode::Update ? givenColumns() : 0;
        const auto statement = prepared(variant);
        if (!statement)
            return fail(statement.error());
        // Null once Qt has finalized the statement (it closed the connection): never stepped again.
        sqlite3_stmt *const handle = statementHandle((*statement)->query);
        if (!handle)
            return fail(QStringLiteral("the connection was closed"));
        const std::vector<std::size_t> &parameters = (*statement)->parameters;
        for (std::size_t i = 0; i < parameters.size(); ++i) {
            if (const int bound = bind(handle, static_cast<int>(i) + 1, m_row[parameters[i]]); bound != SQLITE_OK)
                return fail(QString::fromUtf8(sqlite3_errstr(bound)));
        }
        m_row.clear();
        const int stepped = sqlite3_step(handle);
        // reset() repeats the step's error code, and sqlite3_errmsg() then names the constraint.
        const int reset = sqlite3_reset(handle);
        if (stepped != SQLITE_DONE)
            return fail(QString::fromUtf8(reset != SQLITE_OK ? sqlite3_errmsg(m_handle) : sqlite3_errstr(stepped)));
        if (table.mode == RowTable::Mode::Update && sqlite3_changes(m_handle) != 1)
            return fail(QStringLiteral("a row to update is not there"));
        return std::nullopt;
    }

    std::optional<QString> finish() override
    {
        m_table = nullptr;
        m_statements = nullptr;
        return std::nullopt;
    }

private:
    struct Value
    {
        enum Kind : std::uint8_t { Null, Integer, Text, Bytes } kind;
        std::int64_t integer;
        const void *data;
        int size;
    };
    struct Prepared
    {
        std::uint64_t variant;
        QSqlQuery query;
        std::vector<std::size_t> parameters; // the row's value for each parameter
    };

    // The statements of one table: one, or for an Update one per set of given columns (see givenColumns()).
    using Statements = std::vector<Prepared>;

    // An Update leaves out what does not change the stored row (a SetIfGiven value that is NULL, an Add of
    // zero), since SQLite checks a CHECK constraint and updates an index only when the UPDATE sets one
    // of their columns; the orders' status CHECK alone, an IN list, costs more than the rest of the row.
    std::uint64_t givenColumns() const
    {
        std::uint64_t given = 0;
        for (std::size_t i = 0; i < m_row.size(); ++i) {
            const ColumnRole role = m_table->columns[i].role;
            const Value &value = m_row[i];
            const bool unchanged = (role == ColumnRole::SetIfGiven && value.kind == Value::Null)
                                   || (role == ColumnRole::Add && value.kind == Value::Integer && value.integer == 0);
            if (!unchanged)
                given |= std::uint64_t(1) << i;
        }
        return given;
    }

    // The statement for `variant`, with plain "?" parameters (QSqlQuery::prepare() renames them in order),
    // and in `parameters` which of the row's values each one takes.
    QString sql(std::uint64_t variant, std::vector<std::size_t> &parameters) const
    {
        const RowTable &table = *m_table;
        QByteArray sql;
        if (table.mode == RowTable::Mode::Update) {
            QByteArray sets;
            QByteArray where;
            std::vector<std::size_t> keys;
            for (std::size_t i = 0; i < table.columns.size(); ++i) {
                const Column &column = table.columns[i];
                if (column.role == ColumnRole::Key) {
                    where += where.isEmpty() ? " WHERE " : " AND ";
                    where += QByteArray(column.name) + " = ?";
                    keys.push_back(i);
                    continue;
                }
                if (!(variant & (std::uint64_t(1) << i)))
                    continue;
                // Given, so COALESCE has nothing to do.
                const QByteArray value = column.role == ColumnRole::SetIfGiven
                                             ? "?"
                                             : rowsql::mergedValue(column, "?", column.name);
                if (value.isEmpty())
                    continue;
                sets += sets.isEmpty() ? "" : ", ";
                sets += QByteArray(column.name) + " = " + value;
                parameters.insert(parameters.end(), static_cast<std::size_t>(value.count('?')), i); // Max, Min: two
            }
            if (sets.isEmpty()) // nothing changes, but the row must still be there
                sets = QByteArray(table.columns.front().name) + " = " + table.columns.front().name;
            sql = "UPDATE " + QByteArray(table.name) + " SET " + sets + where;
            parameters.insert(parameters.end(), keys.begin(), keys.end());
        } else {
            QByteArray values;
            for (std::size_t i = 0; i < table.columns.size(); ++i) {
                values += i ? ", ?" : "?";
                parameters.push_back(i);
            }
            sql = "INSERT INTO " + QByteArray(table.name) + '(' + rowsql::columnList(table) + ") VALUES (" + values
                  + ')';
            if (table.mode == RowTable::Mode::Upsert)
                sql += rowsql::onConflict(table);
        }
        return QString::fromLatin1(sql);
    }

    Expected<const Prepared *, QString> prepared(std::uint64_t variant)
    {
        Statements &statements = *m_statements;
        auto found = std::find_if(statements.begin(), statements.end(),
                                  [variant](const Prepared &prepared) { return prepared.variant == variant; });
        if (found == statements.end()) {
            statements.push_back(Prepared{variant, QSqlQuery(m_driver->createResult()), {}});
            found = statements.end() - 1;
            if (!found->query.prepare(sql(variant, found->parameters))) {
                const QString error = found->query.lastError().databaseText().simplified();
                statements.erase(found);
                return unexpected(QStringLiteral("preparing: ") + error);
            }
        }
        return &*found;
    }

    static int bind(sqlite3_stmt *statement, int index, const Value &value)
    {
        // A zero-length blob or text needs a non-null pointer, or SQLite binds NULL.
        static const char empty = 0;
        switch (value.kind) {
        case Value::Null: return sqlite3_bind_null(statement, index);
        case Value::Integer: return sqlite3_bind_int64(statement, index, value.integer);
        // SQLITE_STATIC: the caller's buffers outlive the step, which endRow() takes before returning.
        case Value::Text:
            return sqlite3_bind_text(statement, index, value.size ? static_cast<const char *>(value.data) : &empty,
                                     value.size, SQLITE_STATIC);
        case Value::Bytes:
            return sqlite3_bind_blob(statement, index, value.size ? value.data : &empty, value.size, SQLITE_STATIC);
        }
        return SQLITE_MISUSE;
    }

    QString fail(const QString &error)
    {
        m_row.clear();
        return QStringLiteral("writing %1: %2").arg(QLatin1StringView(m_table ? m_table->name : "rows"), error);
    }

    // No QSqlDatabase copy: the connection's name must go when its owner closes it. RowSinks uses this sink
    // only while the driver lives.
    QSqlDriver *m_driver;
    sqlite3 *m_handle;
    std::unordered_map<const RowTable *, Statements> m_tables;
    const RowTable *m_table = nullptr;
    Statements *m_statements = nullptr;
    std::vector<Value> m_row;
};

class SqliteRowSource final : public RowSource
{
public:
    SqliteRowSource(sqlite3 *handle, sqlite3_stmt *statement)
        : m_handle(handle)
        , m_statement(statement)
    {}
    ~SqliteRowSource() override { sqlite3_finalize(m_statement); }
    SqliteRowSource(const SqliteRowSource &) = delete;
    SqliteRowSource &operator=(const SqliteRowSource &) = delete;

    bool next() override
    {
        if (m_done)
            return false;
        const int stepped = sqlite3_step(m_statement);
        if (stepped == SQLITE_ROW)
            return true;
        m_done = true;
        if (stepped != SQLITE_DONE)
            m_error = QString::fromUtf8(sqlite3_errmsg(m_handle));
        return false;
    }
    std::int64_t integer(int column) const override { return sqlite3_column_int64(m_statement, column); }
    std::span<const std::uint8_t> bytes(int column) const override
    {
        const auto *data = static_cast<const std::uint8_t *>(sqlite3_column_blob(m_statement, column));
        return {data, data ? static_cast<std::size_t>(sqlite3_column_bytes(m_statement, column)) : 0};
    }
    const std::optional<QString> &error() const override { return m_error; }

private:
    sqlite3 *m_handle;
    sqlite3_stmt *m_statement;
    bool m_done = false;
    std::optional<QString> m_error;
};

} // namespace

Expected<std::unique_ptr<RowSink>, QString> makeSqliteRowSink(QSqlDatabase &db)
{
    sqlite3 *handle = sqliteHandle(db);
    if (!handle)
        return unexpected(QStringLiteral("the QSQLITE driver gave no sqlite3 handle"));
    return std::unique_ptr<RowSink>(std::make_unique<SqliteRowSink>(db.driver(), handle));
}

Expected<std::unique_ptr<RowSource>, QString> readSqliteRows(QSqlDatabase &db, const QByteArray &select)
{
    sqlite3 *handle = sqliteHandle(db);
    if (!handle)
        return unexpected(QStringLiteral("the QSQLITE driver gave no sqlite3 handle"));
    sqlite3_stmt *statement = nullptr;
    if (sqlite3_prepare_v2(handle, select.constData(), static_cast<int>(select.size()), &statement, nullptr)
        != SQLITE_OK) {
        sqlite3_finalize(statement);
        return unexpected(QString::fromUtf8(sqlite3_errmsg(handle)));
    }
    return std::unique_ptr<RowSource>(std::make_unique<SqliteRowSource>(handle, statement));
}

} // namespace bourse::sql
