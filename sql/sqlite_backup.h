// SQLite's online backup, on a connection Qt's QSQLITE driver opened: a page-by-page copy of the whole
// database as one read transaction saw it, taken while other connections (a running venue's journal writer)
// go on writing. In WAL mode the copy neither blocks the writer nor waits for it. The thread that opened
// the connection, like everything on it.
#pragma once

#include <QSqlDatabase>
#include <QString>

#include <optional>

namespace bourse::sql {

// Copies the database behind `source` (its "main" schema) into a new file at `destination`, which must not
// exist, and syncs it to disk. The copy holds no -wal file of its own once this returns. On failure the
// partial file is removed; the error is one line.
std::optional<QString> sqliteBackup(const QSqlDatabase &source, const QString &destination);

// fsync(2) on a path: a file's data, or a directory's entries (after a rename or a new file in it). Any
// thread.
bool syncPath(const QString &path);

} // namespace bourse::sql
