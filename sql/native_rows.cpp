#include "native_rows.h"

#include <QSqlDriver>

namespace bourse::sql {

Expected<RowSink *, QString> RowSinks::forConnection(QSqlDatabase &db)
{
    // m_driver is null once Qt destroyed the driver, so a new driver at the old address does not match.
    if (m_sink && m_driver && m_driver == db.driver() && m_sink->servesConnection(db))
        return m_sink.get();
    m_sink.reset();
    Expected<std::unique_ptr<RowSink>, QString> made = unexpected(
        QStringLiteral("the journal cannot write through the %1 driver").arg(db.driverName()));
    if (db.driverName() == QLatin1String("QSQLITE"))
        made = makeSqliteRowSink(db);
    else if (db.driverName() == QLatin1String("QPSQL"))
        made = makePostgreSqlRowSink(db);
    if (!made)
        return unexpected(made.error());
    m_sink = std::move(made.value());
    m_driver = db.driver();
    return m_sink.get();
}

void RowSinks::forget()
{
    m_sink.reset();
    m_driver.clear();
}

Expected<std::unique_ptr<RowSource>, QString> readRows(QSqlDatabase &db, const QByteArray &select)
{
    if (db.driverName() == QLatin1String("QSQLITE"))
        return readSqliteRows(db, select);
    if (db.driverName() == QLatin1String("QPSQL"))
        return readPostgreSqlRows(db, select);
    return unexpected(QStringLiteral("the journal cannot read through the %1 driver").arg(db.driverName()));
}

namespace rowsql {

QByteArray columnList(const RowTable &table)
{
    QByteArray list;
    for (const Column &column : table.columns) {
        if (!list.isEmpty())
            list += ", ";
        list += column.name;
    }
    return list;
}

QByteArray mergedValue(const Column &column, const QByteArray &given, const QByteArray &stored)
{
    switch (column.role) {
    case ColumnRole::Key:
    case ColumnRole::Initial: return {};
    case ColumnRole::Set: return given;
    case ColumnRole::SetIfGiven: return "COALESCE(" + given + ", " + stored + ')';
    case ColumnRole::Add: return stored + " + " + given;
    case ColumnRole::Max: return "CASE WHEN " + given + " > " + stored + " THEN " + given + " ELSE " + stored + " END";
    case ColumnRole::Min: return "CASE WHEN " + given + " < " + stored + " THEN " + given + " ELSE " + stored + " END";
    }
    return {};
}

QByteArray onConflict(const RowTable &table)
{
    QByteArray keys;
    QByteArray updates;
    for (const Column &column : table.columns) {
        if (column.role == ColumnRole::Key) {
            keys += keys.isEmpty() ? "" : ", ";
            keys += column.name;
            continue;
        }
        const QByteArray value = mergedValue(column, QByteArray("excluded.") + column.name,
                                             QByteArray(table.name) + '.' + column.name);
        if (value.isEmpty())
            continue;
        updates += updates.isEmpty() ? "" : ", ";
        updates += QByteArray(column.name) + " = " + value;
    }
    // Without a target, as before: a row that collides with any unique constraint is left alone.
    if (updates.isEmpty())
        return " ON CONFLICT DO NOTHING";
    return " ON CONFLICT (" + keys + ") DO UPDATE SET " + updates;
}

} // namespace rowsql

} // namespace bourse::sql
