#include "accounts.h"

#include "connection.h"

#include <QScopeGuard>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QStringList>
#include <QVariant>
#include <QVariantList>

#include <algorithm>

namespace bourse::sql {

namespace {

const QString kUserColumns = QStringLiteral(
    "id, username, role, active, rate_limit_tier, created_at_ns, updated_at_ns");

bool isPostgreSql(const QSqlDatabase &db)
{
    return db.driverName() == QLatin1String("QPSQL");
}

QVariant integer(std::int64_t value)
{
    return QVariant(static_cast<qint64>(value));
}

QVariant account(AccountId value)
{
    return QVariant(static_cast<qint64>(value));
}

// NULL for an empty text, as the repositories read NULL back as empty.
QVariant textOrNull(const QString &text)
{
    return text.isEmpty() ? QVariant(QMetaType::fromType<QString>()) : QVariant(text);
}

// The drivers bind a null QString as NULL: an empty value is stored as an empty text.
QString notNull(const QString &text)
{
    return text.isNull() ? QString(QLatin1StringView("")) : text;
}

// errorLine() of the error's first line only: PostgreSQL's DETAIL line quotes the row that a constraint
// refused ("Failing row contains (...)", the password hash among it) or the conflicting key, and an error
// carries no values.
QString failure(const QString &what, const QSqlError &error)
{
    const QString firstLine = error.databaseText().section(u'\n', 0, 0);
    return what + QStringLiteral(": ")
           + errorLine(QSqlError(error.driverText(), firstLine, error.type(), error.nativeErrorCode()));
}

// One row a statement returned, its columns in order.
using Row = QVariantList;

struct StatementResult
{
    std::vector<Row> rows;
    std::int64_t changed = 0; // rows inserted, updated or deleted
};

// Runs one statement, its values bound in order, and reads every row it returns. The statement is finished
// when this returns (SQLite refuses to COMMIT while one is still being read) and then released, or, when
// `keep` is given, moved there (see WriteTransaction).
Expected<StatementResult, QString> runStatement(QSqlDatabase &db, const QString &what, const QString &statement,
                                                const QVariantList &values, std::vector<QSqlQuery> *keep)
{
    QSqlQuery query(db);
    const auto done = qScopeGuard([&] {
        query.finish();
        if (keep)
            keep->push_back(std::move(query));
    });
    query.setForwardOnly(true);
    if (!query.prepare(statement))
        return unexpected(failure(what, query.lastError()));
    for (const QVariant &value : values)
        query.addBindValue(value);
    if (!query.exec())
        return unexpected(failure(what, query.lastError()));
    StatementResult result;
    result.changed = query.numRowsAffected();
    if (query.isSelect()) {
        const int columns = query.record().count();
        while (query.next()) {
            Row row;
            row.reserve(columns);
            for (int column = 0; column < columns; ++column)
                row.append(query.value(column));
            result.rows.push_back(std::move(row));
        }
        if (query.lastError().isValid())
            return unexpected(failure(what, query.lastError()));
    }
    return result;
}

// A statement on its own (autocommit): the rows it returned.
Expected<std::vector<Row>, QString> rowsOf(QSqlDatabase &db, const QString &what, const QString &statement,
                                           const QVariantList &values)
{
    auto result = runStatement(db, what, statement, values, nullptr);
    if (!result)
        return unexpected(result.error());
    return std::move(result->rows);
}

// A statement on its own that returns no rows: how many rows it changed.
Expected<std::int64_t, QString> change(QSqlDatabase &db, const QString &what, const QString &statement,
                                       const QVariantList &values)
{
    const auto result = runStatement(db, what, statement, values, nullptr);
    if (!result)
        return unexpected(result.error());
    return result->changed;
}

QString text(const QVariant &value)
{
    return value.isNull() ? QString() : value.toString();
}

// A row of kUserColumns, from column `first` on.
UserRecord userFrom(const Row &row, int first = 0)
{
    return UserRecord{static_cast<AccountId>(row.at(first).toLongLong()),
                      text(row.at(first + 1)),
                      text(row.at(first + 2)),
                      row.at(first + 3).toBool(), // BOOLEAN in PostgreSQL, 0/1 in SQLite
                      text(row.at(first + 4)),
                      row.at(first + 5).toLongLong(),
                      row.at(first + 6).toLongLong()};
}

// A write transaction, rolled back unless committed, that runs the statements of one call. On SQLite BEGIN
// IMMEDIATE takes the write lock at once, waiting up to the busy timeout while the journal writer holds it:
// a deferred transaction would read first and then fail at once as busy when its write could not upgrade the
// lock. On PostgreSQL the rows a transaction changes stay locked until it ends, which the functions below
// rely on.
class WriteTransaction final
{
public:
    WriteTransaction(QSqlDatabase &db, QString what)
        : m_db(db)
        , m_what(std::move(what))
    {
        QSqlQuery begin(m_db);
        if (!begin.exec(isPostgreSql(m_db) ? QStringLiteral("BEGIN") : QStringLiteral("BEGIN IMMEDIATE")))
            m_error = failure(m_what + QStringLiteral(", beginning the transaction"), begin.lastError());
        else
            m_open = true;
    }
    ~WriteTransaction()
    {
        if (m_open)
            QSqlQuery(m_db).exec(QStringLiteral("ROLLBACK"));
        // m_statements go after the ROLLBACK: QPSQL deallocates a prepared statement when its QSqlQuery goes,
        // which PostgreSQL refuses in a transaction that an error aborted, and the statement would then stay
        // prepared for the connection's life.
    }
    WriteTransaction(const WriteTransaction &) = delete;
    WriteTransaction &operator=(const WriteTransaction &) = delete;

    const std::optional<QString> &error() const { return m_error; }

    Expected<std::vector<Row>, QString> rowsOf(const QString &statement, const QVariantList &values)
    {
        auto result = runStatement(m_db, m_what, statement, values, &m_statements);
        if (!result)
            return unexpected(result.error());
        return std::move(result->rows);
    }

    Expected<std::int64_t, QString> change(const QString &statement, const QVariantList &values)
    {
        const auto result = runStatement(m_db, m_what, statement, values, &m_statements);
        if (!result)
            return unexpected(result.error());
        return result->changed;
    }

    std::optional<QString> commit()
    {
        QSqlQuery commit(m_db);
        if (commit.exec(QStringLiteral("COMMIT"))) {
            m_open = false;
            return std::nullopt;
        }
        return failure(m_what + QStringLiteral(", committing"), commit.lastError());
    }

private:
    QSqlDatabase &m_db;
    QString m_what;
    bool m_open = false;
    std::optional<QString> m_error;
    std::vector<QSqlQuery> m_statements; // run in this transaction, released after it
};

Expected<std::int64_t, QString> revokeFamiliesOf(WriteTransaction &transaction, AccountId user)
{
    return transaction.change(QStringLiteral(
                                  "UPDATE refresh_families SET revoked = TRUE WHERE user_id = ? AND revoked = FALSE"),
                              {account(user)});
}

} // namespace

// ---- users

Expected<std::optional<UserRecord>, QString> createUser(QSqlDatabase &db, const NewUser &user)
{
    // DO NOTHING on any unique index, users_username_folded among them: a taken name returns no row.
    const auto rows = rowsOf(db, QStringLiteral("creating a user"),
                             QStringLiteral(
                                 "INSERT INTO users (username, password_hash, role, active, rate_limit_tier, "
                                 "created_at_ns, updated_at_ns) VALUES (?, ?, ?, TRUE, ?, ?, ?) ON CONFLICT "
                                 "DO NOTHING RETURNING ")
                                 + kUserColumns,
                             {user.username, user.passwordHash, user.role, user.rateLimitTier, integer(user.now),
                              integer(user.now)});
    if (!rows)
        return unexpected(rows.error());
    if (rows->empty())
        return std::optional<UserRecord>();
    return std::optional<UserRecord>(userFrom(rows->front()));
}

Expected<std::optional<UserCredentials>, QString> findUserByName(QSqlDatabase &db, QStringView username)
{
    // lower(username) exactly as users_username_folded states it, so that the index serves the lookup.
    const auto rows = rowsOf(db, QStringLiteral("finding a user by name"),
                             QStringLiteral("SELECT %1, password_hash FROM users WHERE lower(username) = lower(?)")
                                 .arg(kUserColumns),
                             {username.toString()});
    if (!rows)
        return unexpected(rows.error());
    if (rows->empty())
        return std::optional<UserCredentials>();
    return std::optional<UserCredentials>(UserCredentials{userFrom(rows->front()), text(rows->front().at(7))});
}

Expected<std::optional<UserRecord>, QString> findUser(QSqlDatabase &db, AccountId id)
{
    const auto rows = rowsOf(db, QStringLiteral("finding a user"),
                             QStringLiteral("SELECT %1 FROM users WHERE id = ?").arg(kUserColumns), {account(id)});
    if (!rows)
        return unexpected(rows.error());
    if (rows->empty())
        return std::optional<UserRecord>();
    return std::optional<UserRecord>(userFrom(rows->front()));
}

Expected<std::vector<UserRecord>, QString> allUsers(QSqlDatabase &db)
{
    const auto rows = rowsOf(db, QStringLiteral("reading the users"),
                             QStringLiteral("SELECT %1 FROM users ORDER BY id").arg(kUserColumns), {});
    if (!rows)
        return unexpected(rows.error());
    std::vector<UserRecord> users;
    users.reserve(rows->size());
    for (const Row &row : *rows)
        users.push_back(userFrom(row));
    return users;
}

Expected<std::optional<UserRecord>, QString> updateUser(QSqlDatabase &db, AccountId id, const UserChanges &changes,
                                                        TimeNs now)
{
    const QString what = QStringLiteral("updating a user");
    QStringList assignments;
    QVariantList values;
    if (changes.role) {
        assignments.append(QStringLiteral("role = ?"));
        values.append(*changes.role);
    }
    if (changes.active)
        assignments.append(*changes.active ? QStringLiteral("active = TRUE") : QStringLiteral("active = FALSE"));
    if (changes.rateLimitTier) {
        assignments.append(QStringLiteral("rate_limit_tier = ?"));
        values.append(*changes.rateLimitTier);
    }
    if (changes.passwordHash) {
        assignments.append(QStringLiteral("password_hash = ?"));
        values.append(*changes.passwordHash);
    }
    assignments.append(QStringLiteral("updated_at_ns = ?"));
    values.append(integer(now));
    values.append(account(id));

    WriteTransaction transaction(db, what);
    if (transaction.error())
        return unexpected(*transaction.error());
    const auto rows = transaction.rowsOf(QStringLiteral("UPDATE users SET %1 WHERE id = ? RETURNING %2")
                                             .arg(assignments.join(QStringLiteral(", ")), kUserColumns),
                                         values);
    if (!rows)
        return unexpected(rows.error());
    if (rows->empty())
        return std::optional<UserRecord>();
    if ((changes.active && !*changes.active) || changes.passwordHash) {
        if (const auto revoked = revokeFamiliesOf(transaction, id); !revoked)
            return unexpected(revoked.error());
    }
    if (std::optional<QString> error = transaction.commit())
        return unexpected(*error);
    return std::optional<UserRecord>(userFrom(rows->front()));
}

Expected<bool, QString> hasAdmin(QSqlDatabase &db)
{
    const auto rows = rowsOf(db, QStringLiteral("looking for an admin"),
                             QStringLiteral("SELECT 1 FROM users WHERE role = 'admin' AND active = TRUE LIMIT 1"), {});
    if (!rows)
        return unexpected(rows.error());
    return !rows->empty();
}

// ---- refresh-token families

Expected<bool, QString> createRefreshFamily(QSqlDatabase &db, const QString &familyId, AccountId user,
                                            const QString &tokenDigest, TimeNs now, TimeNs expiresAt)
{
    // On PostgreSQL FOR SHARE holds the user's row until the family is committed, so that updateUser()'s
    // disabling waits for it and then revokes it too, or (having gone first) makes this insert nothing. The
    // foreign key's own lock does not conflict with an update of `active`. SQLite runs one writer at a time.
    const auto inserted
        = change(db, QStringLiteral("creating a refresh family"),
                 QStringLiteral(
                     "INSERT INTO refresh_families (id, user_id, current_token_hash, revoked, created_at_ns, "
                     "expires_at_ns) SELECT ?, id, ?, FALSE, ?, ? FROM users WHERE id = ? AND active = TRUE%1")
                     .arg(isPostgreSql(db) ? QStringLiteral(" FOR SHARE") : QString()),
                 {familyId, tokenDigest, integer(now), integer(expiresAt), account(user)});
    if (!inserted)
        return unexpected(inserted.error());
    return *inserted > 0;
}

QLatin1StringView rotateOutcomeName(RotateOutcome::Kind kind)
{
    switch (kind) {
    case RotateOutcome::Kind::Rotated: return QLatin1StringView("rotated");
    case RotateOutcome::Kind::Reused: return QLatin1StringView("reused");
    case RotateOutcome::Kind::Revoked: return QLatin1StringView("revoked");
    case RotateOutcome::Kind::Expired: return QLatin1StringView("expired");
    case RotateOutcome::Kind::Unknown: return QLatin1StringView("unknown");
    }
    return QLatin1StringView("unknown");
}

Expected<RotateOutcome, QString> rotateRefreshToken(QSqlDatabase &db, const QString &familyId,
                                                    const QString &presentedDigest, const QString &newDigest,
                                                    TimeNs now, TimeNs newExpiresAt)
{
    const QString what = QStringLiteral("rotating a refresh token");
    WriteTransaction transaction(db, what);
    if (transaction.error())
        return unexpected(*transaction.error());
    // The one statement that decides. A concurrent rotation of the same token waits for this row's lock
    // (PostgreSQL re-reads the row then; SQLite has one writer at a time) and then finds another digest.
    const auto rotated
        = transaction.rowsOf(QStringLiteral("UPDATE refresh_families SET current_token_hash = ?, rotated_at_ns = ?, "
                                            "expires_at_ns = ? WHERE id = ? AND current_token_hash = ? AND "
                                            "revoked = FALSE AND expires_at_ns > ? RETURNING user_id"),
                             {newDigest, integer(now), integer(newExpiresAt), familyId, presentedDigest, integer(now)});
    if (!rotated)
        return unexpected(rotated.error());
    RotateOutcome outcome;
    if (!rotated->empty()) {
        outcome = {RotateOutcome::Kind::Rotated, static_cast<AccountId>(rotated->front().at(0).toLongLong())};
    } else {
        // Not rotated: find out why, reading the row under its lock (FOR UPDATE on PostgreSQL; SQLite's write
        // lock is held already), so that nothing changes it before the revocation below.
        const QString select = QStringLiteral("SELECT user_id, revoked, expires_at_ns FROM refresh_families WHERE "
                                              "id = ?%1")
                                   .arg(isPostgreSql(db) ? QStringLiteral(" FOR UPDATE") : QString());
        const auto family = transaction.rowsOf(select, {familyId});
        if (!family)
            return unexpected(family.error());
        if (family->empty())
            return RotateOutcome{RotateOutcome::Kind::Unknown, 0};
        const Row &row = family->front();
        outcome.user = static_cast<AccountId>(row.at(0).toLongLong());
        if (row.at(1).toBool()) {
            outcome.kind = RotateOutcome::Kind::Revoked;
        } else if (row.at(2).toLongLong() <= now) {
            outcome.kind = RotateOutcome::Kind::Expired;
        } else {
            // Live, so the digest was not the current one: a replay of a rotated token, or a forgery.
            outcome.kind = RotateOutcome::Kind::Reused;
            const auto revoked = transaction.change(QStringLiteral(
                                                        "UPDATE refresh_families SET revoked = TRUE WHERE id = ?"),
                                                    {familyId});
            if (!revoked)
                return unexpected(revoked.error());
        }
    }
    if (std::optional<QString> error = transaction.commit())
        return unexpected(*error);
    return outcome;
}

Expected<bool, QString> revokeRefreshFamily(QSqlDatabase &db, const QString &familyId)
{
    const auto revoked = change(db, QStringLiteral("revoking a refresh family"),
                                QStringLiteral("UPDATE refresh_families SET revoked = TRUE WHERE id = ? AND revoked = "
                                               "FALSE"),
                                {familyId});
    if (!revoked)
        return unexpected(revoked.error());
    return *revoked > 0;
}

Expected<std::int64_t, QString> revokeUserRefreshFamilies(QSqlDatabase &db, AccountId user)
{
    return change(db, QStringLiteral("revoking a user's refresh families"),
                  QStringLiteral("UPDATE refresh_families SET revoked = TRUE WHERE user_id = ? AND revoked = FALSE"),
                  {account(user)});
}

Expected<std::int64_t, QString> deleteExpiredRefreshFamilies(QSqlDatabase &db, TimeNs now)
{
    return change(db, QStringLiteral("deleting expired refresh families"),
                  QStringLiteral("DELETE FROM refresh_families WHERE expires_at_ns <= ?"), {integer(now)});
}

// ---- settings

Expected<std::vector<std::pair<QString, QString>>, QString> loadSettings(QSqlDatabase &db)
{
    const auto rows = rowsOf(db, QStringLiteral("reading the settings"),
                             QStringLiteral("SELECT key, value FROM settings"), {});
    if (!rows)
        return unexpected(rows.error());
    std::vector<std::pair<QString, QString>> settings;
    settings.reserve(rows->size());
    for (const Row &row : *rows)
        settings.emplace_back(text(row.at(0)), text(row.at(1)));
    // Sorted here rather than by ORDER BY, whose order on PostgreSQL follows the database's collation.
    std::sort(settings.begin(), settings.end());
    return settings;
}

Expected<std::int64_t, QString> saveSettings(QSqlDatabase &db, const std::vector<std::pair<QString, QString>> &values,
                                             std::optional<AccountId> updatedBy, TimeNs now)
{
    const QString what = QStringLiteral("saving the settings");
    WriteTransaction transaction(db, what);
    if (transaction.error())
        return unexpected(*transaction.error());
    const QVariant by = updatedBy ? account(*updatedBy) : QVariant(QMetaType::fromType<qint64>());
    for (const auto &[key, value] : values) {
        const auto saved
            = transaction.change(QStringLiteral("INSERT INTO settings (key, value, updated_at_ns, updated_by) VALUES "
                                                "(?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                                                "updated_at_ns = excluded.updated_at_ns, updated_by = "
                                                "excluded.updated_by"),
                                 {key, notNull(value), integer(now), by});
        if (!saved)
            return unexpected(saved.error());
    }
    if (std::optional<QString> error = transaction.commit())
        return unexpected(*error);
    return static_cast<std::int64_t>(values.size());
}

// ---- audit log

Expected<std::int64_t, QString> appendAudit(QSqlDatabase &db, const NewAuditEntry &entry)
{
    const auto rows = rowsOf(db, QStringLiteral("appending to the audit log"),
                             QStringLiteral("INSERT INTO audit_log (at_ns, actor, action, target, details, request_id) "
                                            "VALUES (?, ?, ?, ?, ?, ?) RETURNING id"),
                             {integer(entry.at), entry.actor, entry.action, textOrNull(entry.target),
                              textOrNull(entry.details), textOrNull(entry.requestId)});
    if (!rows)
        return unexpected(rows.error());
    if (rows->empty())
        return unexpected(QStringLiteral("appending to the audit log: no id returned"));
    return rows->front().at(0).toLongLong();
}

} // namespace bourse::sql
