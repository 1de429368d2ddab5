#include "sqlite_backup.h"

#include "native_rows.h"

#include <QFile>

#include <sqlite3.h>

#include <fcntl.h>
#include <unistd.h>

namespace bourse::sql {

namespace {

QString sqliteMessage(sqlite3 *db, int code)
{
    return db ? QString::fromUtf8(sqlite3_errmsg(db)) : QString::fromUtf8(sqlite3_errstr(code));
}

} // namespace

bool syncPath(const QString &path)
{
    const int fd = ::open(QFile::encodeName(path).constData(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    const bool synced = ::fsync(fd) == 0;
    ::close(fd);
    return synced;
}

std::optional<QString> sqliteBackup(const QSqlDatabase &source, const QString &destination)
{
    sqlite3 *from = sqliteHandle(source);
    if (!from)
        return QStringLiteral("not an open SQLite connection");
    if (QFile::exists(destination))
        return QStringLiteral("\"%1\" exists already").arg(destination);

    sqlite3 *to = nullptr;
    const QByteArray path = QFile::encodeName(destination);
    int code = sqlite3_open_v2(path.constData(), &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    const auto fail = [&](const QString &what) -> std::optional<QString> {
        const QString message = QStringLiteral("%1: %2").arg(what, sqliteMessage(to, code));
        sqlite3_close(to);
        QFile::remove(destination);
        QFile::remove(destination + QStringLiteral("-wal"));
        QFile::remove(destination + QStringLiteral("-shm"));
        return message;
    };
    if (code != SQLITE_OK)
        return fail(QStringLiteral("cannot create \"%1\"").arg(destination));

    sqlite3_backup *backup = sqlite3_backup_init(to, "main", from, "main");
    if (!backup) {
        code = sqlite3_errcode(to);
        return fail(QStringLiteral("cannot start the backup"));
    }
    // All pages in one step: one read transaction on the source, so the copy is the database as of one
    // moment. A writer busy at that instant (SQLITE_BUSY/LOCKED) is waited out a little and tried again.
    for (int attempt = 0;; ++attempt) {
        code = sqlite3_backup_step(backup, -1);
        if (code == SQLITE_DONE || (code != SQLITE_BUSY && code != SQLITE_LOCKED) || attempt >= 200)
            break;
        sqlite3_sleep(25);
    }
    const int stepCode = code;
    code = sqlite3_backup_finish(backup);
    if (stepCode != SQLITE_DONE) {
        code = stepCode;
        return fail(QStringLiteral("the backup stopped"));
    }
    if (code != SQLITE_OK)
        return fail(QStringLiteral("the backup did not finish"));
    // The source is in WAL mode, and so is the copy: fold its log into the file; closing then removes it.
    code = sqlite3_wal_checkpoint_v2(to, "main", SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
    if (code != SQLITE_OK)
        return fail(QStringLiteral("cannot checkpoint the copy"));
    code = sqlite3_close(to);
    to = nullptr;
    if (code != SQLITE_OK)
        return fail(QStringLiteral("cannot close the copy"));
    if (!syncPath(destination))
        return QStringLiteral("cannot sync \"%1\" to disk").arg(destination);
    return std::nullopt;
}

} // namespace bourse::sql
