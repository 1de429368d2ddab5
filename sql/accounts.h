// The accounts store: the writes behind authentication and administration (spec/API.md §4, §6), and the
// reads that go with them: users with their password hashes, refresh-token families (rotation, reuse
// detection, revocation), the run-time settings and the audit log. The admin listings of users and of the
// audit log are in repositories.h, whose UserRecord and AuditRecord this unit shares.
// Each call is atomic: where it runs more than one statement they share one transaction, which on SQLite
// takes the write lock at its start (BEGIN IMMEDIATE; the journal writer writes from another connection).
// Errors are one line with neither values nor password hashes in it.
// Free functions over a QSqlDatabase; call them on the thread that opened that connection, which for the
// server is a QueryPool worker (query_pool.h), never the engine's or an I/O thread.
#pragma once

#include "expected.h"
#include "repositories.h"
#include "types.h"

#include <QLatin1StringView>
#include <QSqlDatabase>
#include <QString>
#include <QStringView>

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace bourse::sql {

// ---- users

struct NewUser
{
    QString username;     // 3-32 characters (the database's CHECK); the server allows [A-Za-z0-9_.-]
    QString passwordHash; // a PHC string ("$argon2id$...")
    QString role;         // "viewer" | "trader" | "admin"
    QString rateLimitTier = QStringLiteral("default"); // "default" | "pro" | "unlimited"
    TimeNs now = 0;
};

// A user with the password hash that a login checks.
struct UserCredentials
{
    UserRecord user;
    QString passwordHash;
};

// What updateUser() changes; none: left as it is.
struct UserChanges
{
    std::optional<QString> role;
    std::optional<bool> active;
    std::optional<QString> rateLimitTier;
    std::optional<QString> passwordHash;
};

// The new user, active; none when the username is taken, whatever its case ("Alice" and "alice" are one
// name): the unique index users_username_folded (0003) decides, so two concurrent registrations of one name
// make one user. A value the database's CHECKs refuse (a username of 33 characters, an unknown role) is an
// error.
Expected<std::optional<UserRecord>, QString> createUser(QSqlDatabase &db, const NewUser &user);

// The user of that name, whatever its case; none: no such user (whether active or not is the caller's to
// check).
Expected<std::optional<UserCredentials>, QString> findUserByName(QSqlDatabase &db, QStringView username);
Expected<std::optional<UserRecord>, QString> findUser(QSqlDatabase &db, AccountId id);
// Every user, by id: the server's directory of roles, states and tiers, loaded at start.
Expected<std::vector<UserRecord>, QString> allUsers(QSqlDatabase &db);

// Applies `changes` and sets updated_at to `now`; the user as it is now, none when there is no such user.
// Disabling a user or changing the password revokes every refresh family of the user in the same
// transaction, so that no session outlives either.
Expected<std::optional<UserRecord>, QString> updateUser(QSqlDatabase &db, AccountId id, const UserChanges &changes,
                                                        TimeNs now);

// Whether any active admin exists (start-up creates the first one when none does).
Expected<bool, QString> hasAdmin(QSqlDatabase &db);

// ---- refresh-token families

// One login's chain of refresh tokens. The database holds a digest of the current token only; `familyId`
// is random and appears in the token. False, and nothing written, when the user does not exist or is not
// active: a login racing the user's disabling either sees the user disabled or has its family revoked with
// the others.
Expected<bool, QString> createRefreshFamily(QSqlDatabase &db, const QString &familyId, AccountId user,
                                            const QString &tokenDigest, TimeNs now, TimeNs expiresAt);

struct RotateOutcome
{
    enum class Kind : std::uint8_t {
        Rotated, // the presented token was the current one: `newDigest` is current now, until newExpiresAt
        Reused,  // the family is live but the token is not its current one (already rotated, or forged):
                 // the family is revoked now, in the same transaction
        Revoked, // the family was revoked already (logout, reuse, a disabled user, a new password)
        Expired, // the family outlived its expiry
        Unknown, // no such family (never made, or deleted once expired)
    };

    Kind kind = Kind::Unknown;
    AccountId user = 0; // the family's user; 0 when Unknown
};

QLatin1StringView rotateOutcomeName(RotateOutcome::Kind kind); // "rotated", "reused", ...

// Rotates the family's token when `presentedDigest` is its current one and the family is live at `now`:
// one conditional UPDATE decides, so of two concurrent rotations of one token exactly one is Rotated and
// the other Reused (which revokes the family, as a stolen token's replay should).
Expected<RotateOutcome, QString> rotateRefreshToken(QSqlDatabase &db, const QString &familyId,
                                                    const QString &presentedDigest, const QString &newDigest,
                                                    TimeNs now, TimeNs newExpiresAt);

// Logout: true when this call revoked the family, false when it was unknown or revoked already.
Expected<bool, QString> revokeRefreshFamily(QSqlDatabase &db, const QString &familyId);
// The number of the user's families this call revoked.
Expected<std::int64_t, QString> revokeUserRefreshFamilies(QSqlDatabase &db, AccountId user);
// Housekeeping: deletes the families expired at `now`, revoked or not; how many. A token of a deleted
// family is Unknown, which the server refuses as it does an expired one.
Expected<std::int64_t, QString> deleteExpiredRefreshFamilies(QSqlDatabase &db, TimeNs now);

// ---- settings

// Every setting as key and value text, by key (in code-point order, on either database).
Expected<std::vector<std::pair<QString, QString>>, QString> loadSettings(QSqlDatabase &db);
// Inserts or replaces each value, all in one transaction: all are saved or none. `updatedBy` none: the
// venue's own defaults. The number of values saved.
Expected<std::int64_t, QString> saveSettings(QSqlDatabase &db, const std::vector<std::pair<QString, QString>> &values,
                                             std::optional<AccountId> updatedBy, TimeNs now);

// ---- audit log

struct NewAuditEntry
{
    TimeNs at = 0;
    QString actor;     // a username, or "system"
    QString action;    // not empty
    QString target;    // empty: none (stored as NULL, as listAudit() reads it)
    QString details;   // JSON text; empty: none
    QString requestId; // empty: none
};

// The new entry's id.
Expected<std::int64_t, QString> appendAudit(QSqlDatabase &db, const NewAuditEntry &entry);

} // namespace bourse::sql
