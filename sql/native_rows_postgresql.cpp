// The PostgreSQL row sink: a table's rows go as one binary COPY through libpq on Qt's own connection.
// Append tables are copied straight into the table. Upsert and Update tables are copied into a temporary
// table of the session (made on first use, emptied at every COMMIT) and merged by one INSERT ... SELECT ...
// ON CONFLICT or UPDATE ... FROM, so that a transaction costs a few statements per table however many
// rows it has. The COPY starts only when a table has rows, and the buffer goes out in large pieces.
// The source reads a SELECT as COPY (...) TO STDOUT in binary: no text to parse, no bytea to unescape.
#include "native_rows.h"

#include <QSqlDriver>
#include <QVariant>
#include <QtEndian>

#include <algorithm>
#include <cstring>
#include <libpq-fe.h>
#include <limits>
#include <unordered_map>

namespace bourse::sql {

namespace {

constexpr std::size_t kSendBytes = 1 << 20;

PGconn *postgresHandle(const QSqlDatabase &db)
{
    const QVariant handle = db.driver() ? db.driver()->handle() : QVariant();
    // Qt registers the handle under libpq's struct name (PGconn is a typedef of it).
    if (!handle.isValid() || qstrcmp(handle.typeName(), "pg_conn*") != 0)
        return nullptr;
    return *static_cast<PGconn *const *>(handle.constData());
}

const char *typeName(ColumnType type)
{
    switch (type) {
    case ColumnType::SmallInt: return "SMALLINT";
    case ColumnType::Integer: return "INTEGER";
    case ColumnType::BigInt: return "BIGINT";
    case ColumnType::Boolean: return "BOOLEAN";
    case ColumnType::Text: return "TEXT";
    case ColumnType::Bytes: return "BYTEA";
    }
    return "BIGINT";
}

// PostgreSQL's own words for what failed, one line: the primary message only, since the detail of a
// constraint violation quotes the row.
QString resultError(PGconn *connection, const PGresult *result)
{
    const char *primary = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    const QString text = QString::fromUtf8(primary ? primary : PQerrorMessage(connection)).simplified();
    return text.isEmpty() ? QStringLiteral("unknown PostgreSQL error") : text;
}

class Result final
{
public:
    explicit Result(PGresult *result)
        : m_result(result)
    {}
    ~Result() { PQclear(m_result); }
    Result(const Result &) = delete;
    Result &operator=(const Result &) = delete;

    PGresult *get() const { return m_result; }
    ExecStatusType status() const { return m_result ? PQresultStatus(m_result) : PGRES_FATAL_ERROR; }

private:
    PGresult *m_result;
};

class PostgreSqlRowSink final : public RowSink
{
public:
    explicit PostgreSqlRowSink(PGconn *connection)
        : m_connection(connection)
    {
        m_buffer.reserve(kSendBytes + (64 << 10));
    }

    bool servesConnection(const QSqlDatabase &db) const override { return postgresHandle(db) == m_connection; }

    std::optional<QString> begin(const RowTable &table) override
    {
        endCopy("abandoned");
        m_table = &table;
        m_statements = &statements(table);
        m_rows = 0;
        m_column = 0;
        m_valueError.reset();
        m_buffer.clear();
        static const char header[] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0"; // signature, flags, extension
        m_buffer.append(header, sizeof header - 1);
        return std::nullopt;
    }

    void integer(std::int64_t value) override
    {
        switch (nextType()) {
        case ColumnType::SmallInt:
            if (!fits<std::int16_t>(value))
                return wrongValue("is out of range for a SMALLINT");
            return field(qToBigEndian(static_cast<std::int16_t>(value)));
        case ColumnType::Integer:
            if (!fits<std::int32_t>(value))
                return wrongValue("is out of range for an INTEGER");
            return field(qToBigEndian(static_cast<std::int32_t>(value)));
        case ColumnType::BigInt: return field(qToBigEndian(value));
        case ColumnType::Boolean:
        case ColumnType::Text:
        case ColumnType::Bytes: return wrongValue("is not an integer column");
        }
    }
    void boolean(bool value) override
    {
        if (nextType() != ColumnType::Boolean)
            return wrongValue("is not a boolean column");
        field(static_cast<std::uint8_t>(value ? 1 : 0));
    }
    void text(std::string_view value) override
    {
        if (nextType() != ColumnType::Text)
            return wrongValue("is not a text column");
        bytesField(value.data(), value.size());
    }
    void bytes(std::span<const std::uint8_t> value) override
    {
        if (nextType() != ColumnType::Bytes)
            return wrongValue("is not a bytes column");
        bytesField(value.data(), value.size());
    }
    void null() override
    {
        startField();
        put(qToBigEndian(std::int32_t(-1)));
    }

    std::optional<QString> endRow() override
    {
        if (m_valueError)
            return fail(*m_valueError);
        if (m_column != m_table->columns.size())
            return fail(QStringLiteral("a row of %1 values for %2 columns").arg(m_column).arg(m_table->columns.size()));
        m_column = 0;
        ++m_rows;
        if (m_buffer.size() >= kSendBytes) {
            if (auto error = startCopy())
                return fail(*error);
            if (auto error = send())
                return fail(*error);
        }
        return std::nullopt;
    }

    std::optional<QString> finish() override
    {
        if (m_column != 0)
            return fail(QStringLiteral("the last row is incomplete"));
        if (m_rows == 0) // nothing was sent: no COPY, no merge
            return std::nullopt;
        put(qToBigEndian(std::int16_t(-1))); // the trailer
        if (auto error = startCopy())
            return fail(*error);
        if (auto error = send())
            return fail(*error);
        if (auto error = endCopy(nullptr))
            return fail(*error);
        if (m_statements->apply.isEmpty())
            return std::nullopt;
        const Result applied(PQexec(m_connection, m_statements->apply.constData()));
        if (applied.status() != PGRES_COMMAND_OK)
            return fail(resultError(m_connection, applied.get()));
        // Every row merges with exactly one stored row, or is one new row; a difference means a staged row
        // was missing or left over.
        const qint64 changed = QByteArray(PQcmdTuples(applied.get())).toLongLong();
        if (m_statements->everyRowCounts && changed != static_cast<qint64>(m_rows))
            return fail(QStringLiteral("%1 of %2 rows were there to update").arg(changed).arg(m_rows));
        return std::nullopt;
    }

private:
    struct Statements
    {
        QByteArray copy;    // COPY ... FROM STDIN
        QByteArray staging; // CREATE TEMPORARY TABLE, for Upsert and Update
        QByteArray apply;   // the merge of the staged rows
        bool everyRowCounts = false;
        bool staged = false; // the temporary table exists in this session
    };

    Statements &statements(const RowTable &table)
    {
        const auto [slot, inserted] = m_tables.try_emplace(&table);
        Statements &made = slot->second;
        if (!inserted)
            return made;
        const QByteArray name(table.name);
        const QByteArray columns = rowsql::columnList(table);
        if (table.mode == RowTable::Mode::Append) {
            made.copy = "COPY " + name + '(' + columns + ") FROM STDIN (FORMAT binary)";
            return made;
        }
        const QByteArray staging = "pg_temp.bourse_staged_" + name;
        QByteArray definition;
        for (const Column &column : table.columns)
            definition += (definition.isEmpty() ? "" : ", ") + QByteArray(column.name) + ' ' + typeName(column.type);
        made.staging = "CREATE TEMPORARY TABLE IF NOT EXISTS " + staging + " (" + definition
                       + ") ON COMMIT DELETE ROWS";
        made.copy = "COPY " + staging + '(' + columns + ") FROM STDIN (FORMAT binary)";
        if (table.mode == RowTable::Mode::Upsert) {
            const QByteArray conflict = rowsql::onConflict(table);
            made.apply = "INSERT INTO " + name + '(' + columns + ") SELECT " + columns + " FROM " + staging + conflict;
            made.everyRowCounts = !conflict.endsWith("DO NOTHING");
            return made;
        }
        QByteArray sets;
        QByteArray where;
        for (const Column &column : table.columns) {
            const QByteArray given = "v." + QByteArray(column.name);
            const QByteArray stored = name + '.' + column.name;
            if (column.role == ColumnRole::Key) {
                where += (where.isEmpty() ? " WHERE " : " AND ") + stored + " = " + given;
                continue;
            }
            if (const QByteArray value = rowsql::mergedValue(column, given, stored); !value.isEmpty())
                sets += (sets.isEmpty() ? "" : ", ") + QByteArray(column.name) + " = " + value;
        }
        if (sets.isEmpty()) // nothing changes, but every row must still be there
            sets = QByteArray(table.columns.front().name) + " = " + name + '.' + table.columns.front().name;
        // Each staged row finds its row by key. Left to itself, the planner may hash the staged rows and scan
        // the whole table instead, whose cost then grows with the table rather than with the transaction.
        // SET LOCAL ends with the transaction; what the transaction runs after this is no join of that kind.
        made.apply = "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; UPDATE " + name + " SET "
                     + sets + " FROM " + staging + " AS v" + where;
        made.everyRowCounts = true;
        return made;
    }

    template<typename Int>
    static bool fits(std::int64_t value)
    {
        return value >= std::numeric_limits<Int>::min() && value <= std::numeric_limits<Int>::max();
    }

    ColumnType nextType() const
    {
        return m_column < m_table->columns.size() ? m_table->columns[m_column].type : ColumnType::BigInt;
    }

    void wrongValue(const char *what)
    {
        const char *column = m_column < m_table->columns.size() ? m_table->columns[m_column].name : "beyond the last";
        if (!m_valueError)
            m_valueError
                = QStringLiteral("the value for column %1 %2").arg(QLatin1StringView(column), QLatin1StringView(what));
        ++m_column;
    }

    void startField()
    {
        if (m_column == 0)
            put(qToBigEndian(static_cast<std::int16_t>(m_table->columns.size())));
        ++m_column;
    }

    template<typename Plain>
    void field(Plain bigEndian)
    {
        startField();
        put(qToBigEndian(static_cast<std::int32_t>(sizeof bigEndian)));
        put(bigEndian);
    }

    void bytesField(const void *data, std::size_t size)
    {
        startField();
        put(qToBigEndian(static_cast<std::int32_t>(size)));
        m_buffer.append(static_cast<const char *>(data), size);
    }

    template<typename Plain>
    void put(Plain value)
    {
        char raw[sizeof value];
        std::memcpy(raw, &value, sizeof value);
        m_buffer.append(raw, sizeof value);
    }

    std::optional<QString> startCopy()
    {
        if (m_copying)
            return std::nullopt;
        if (!m_statements->staging.isEmpty() && !m_statements->staged) {
            const Result made(PQexec(m_connection, m_statements->staging.constData()));
            if (made.status() != PGRES_COMMAND_OK)
                return resultError(m_connection, made.get());
            m_statements->staged = true;
        }
        const Result started(PQexec(m_connection, m_statements->copy.constData()));
        if (started.status() != PGRES_COPY_IN)
            return resultError(m_connection, started.get());
        m_copying = true;
        return std::nullopt;
    }

    std::optional<QString> send()
    {
        if (PQputCopyData(m_connection, m_buffer.data(), static_cast<int>(m_buffer.size())) != 1)
            return resultError(m_connection, nullptr);
        m_buffer.clear();
        return std::nullopt;
    }

    // Ends the COPY under way, if any: completes it (abandonReason null) or abandons it, and reads every
    // result, so that the connection is ready for the next statement (or reports itself broken).
    std::optional<QString> endCopy(const char *abandonReason)
    {
        if (!m_copying)
            return std::nullopt;
        m_copying = false;
        std::optional<QString> error;
        if (PQputCopyEnd(m_connection, abandonReason) != 1)
            error = resultError(m_connection, nullptr);
        // A result still in COPY IN state would come back forever; a connection that broke returns null.
        for (int i = 0; i < 16; ++i) {
            const Result result(PQgetResult(m_connection));
            if (!result.get())
                break;
            const ExecStatusType status = result.status();
            if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH) {
                error = error.value_or(QStringLiteral("the COPY did not end"));
                break;
            }
            if (status != PGRES_COMMAND_OK && !error)
                error = resultError(m_connection, result.get());
        }
        if (abandonReason)
            return std::nullopt;
        return error;
    }

    QString fail(const QString &error)
    {
        endCopy("abandoned");
        m_buffer.clear();
        m_column = 0;
        return QStringLiteral("writing %1: %2").arg(QLatin1StringView(m_table ? m_table->name : "rows"), error);
    }

    PGconn *m_connection;
    std::unordered_map<const RowTable *, Statements> m_tables;
    const RowTable *m_table = nullptr;
    Statements *m_statements = nullptr;
    std::string m_buffer;
    std::size_t m_column = 0;
    std::size_t m_rows = 0;
    bool m_copying = false;
    std::optional<QString> m_valueError;
};

class PostgreSqlRowSource final : public RowSource
{
public:
    explicit PostgreSqlRowSource(PGconn *connection)
        : m_connection(connection)
    {}
    ~PostgreSqlRowSource() override
    {
        // Whatever was not read is read and dropped, so that the connection is ready for the next statement.
        while (!m_done)
            next();
        PQfreemem(m_message);
    }
    PostgreSqlRowSource(const PostgreSqlRowSource &) = delete;
    PostgreSqlRowSource &operator=(const PostgreSqlRowSource &) = delete;

    bool next() override
    {
        if (m_done)
            return false;
        PQfreemem(m_message);
        m_message = nullptr;
        // Each message is one row; the first also carries the file header, the last is the trailer alone.
        const int size = PQgetCopyData(m_connection, &m_message, 0);
        if (size < 0)
            return end(size == -1);
        const char *at = m_message;
        const char *const last = m_message + size;
        if (!m_headerRead) {
            static const char signature[] = "PGCOPY\n\377\r\n\0";
            if (size < 19 || std::memcmp(at, signature, 11) != 0)
                return broken();
            at += 15;
            const std::int32_t extension = take<std::int32_t>(at);
            if (extension < 0 || extension > last - at)
                return broken();
            at += extension;
            m_headerRead = true;
        }
        if (last - at < 2)
            return broken();
        const std::int16_t count = take<std::int16_t>(at);
        if (count == -1) // the trailer: the end of the rows, then of the COPY
            return next();
        m_fields.clear();
        for (int i = 0; i < count; ++i) {
            if (last - at < 4)
                return broken();
            const std::int32_t length = take<std::int32_t>(at);
            if (length > last - at)
                return broken();
            m_fields.push_back({length < 0 ? nullptr : at, std::max(length, 0)});
            at += std::max(length, 0);
        }
        return true;
    }

    std::int64_t integer(int column) const override
    {
        const Field field = at(column);
        const char *data = field.data;
        switch (field.length) {
        case 2: return take<std::int16_t>(data);
        case 4: return take<std::int32_t>(data);
        case 8: return take<std::int64_t>(data);
        }
        return 0;
    }
    std::span<const std::uint8_t> bytes(int column) const override
    {
        const Field field = at(column);
        return {reinterpret_cast<const std::uint8_t *>(field.data), static_cast<std::size_t>(field.length)};
    }
    const std::optional<QString> &error() const override { return m_error; }

private:
    struct Field
    {
        const char *data;
        std::int32_t length;
    };

    template<typename Int>
    static Int take(const char *&at)
    {
        Int value;
        std::memcpy(&value, at, sizeof value);
        at += sizeof value;
        return qFromBigEndian(value);
    }

    Field at(int column) const
    {
        return column >= 0 && static_cast<std::size_t>(column) < m_fields.size() ? m_fields[std::size_t(column)]
                                                                                 : Field{nullptr, 0};
    }

    // The COPY has ended (`complete`: the server sent all of it): read its outcome.
    bool end(bool complete)
    {
        m_done = true;
        if (!complete)
            m_error = resultError(m_connection, nullptr);
        while (PGresult *raw = PQgetResult(m_connection)) {
            const Result result(raw);
            if (result.status() != PGRES_COMMAND_OK && !m_error)
                m_error = resultError(m_connection, result.get());
        }
        return false;
    }

    bool broken()
    {
        if (!m_error)
            m_error = QStringLiteral("PostgreSQL sent a row that is not binary COPY");
        // Read on to the end, so that the connection stays usable; the rows no longer count.
        while (!m_done) {
            PQfreemem(m_message);
            m_message = nullptr;
            const int size = PQgetCopyData(m_connection, &m_message, 0);
            if (size < 0)
                end(size == -1);
        }
        return false;
    }

    PGconn *m_connection;
    char *m_message = nullptr;
    bool m_headerRead = false;
    bool m_done = false;
    std::vector<Field> m_fields;
    std::optional<QString> m_error;
};

} // namespace

Expected<std::unique_ptr<RowSink>, QString> makePostgreSqlRowSink(QSqlDatabase &db)
{
    PGconn *connection = postgresHandle(db);
    if (!connection)
        return unexpected(QStringLiteral("the QPSQL driver gave no PGconn handle"));
    return std::unique_ptr<RowSink>(std::make_unique<PostgreSqlRowSink>(connection));
}

Expected<std::unique_ptr<RowSource>, QString> readPostgreSqlRows(QSqlDatabase &db, const QByteArray &select)
{
    PGconn *connection = postgresHandle(db);
    if (!connection)
        return unexpected(QStringLiteral("the QPSQL driver gave no PGconn handle"));
    const QByteArray copy = "COPY (" + select + ") TO STDOUT (FORMAT binary)";
    const Result started(PQexec(connection, copy.constData()));
    if (started.status() != PGRES_COPY_OUT)
        return unexpected(resultError(connection, started.get()));
    return std::unique_ptr<RowSource>(std::make_unique<PostgreSqlRowSource>(connection));
}

} // namespace bourse::sql
