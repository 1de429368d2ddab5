// UserDirectory: what the server needs of every user on every request — role, active flag, rate-limit
// tier — held in memory so that authenticating a request costs no query. One venue process owns its
// database (app/main.cpp locks it), so the directory is loaded once at start and kept current by the
// service's own writes: a disabled user or a changed role applies on the user's very next request.
// Thread-safe (one mutex): the HTTP thread reads it, the service writes it after each committed change.
#pragma once

#include "repositories.h"
#include "venue_settings.h"

#include <QHash>
#include <QString>

#include <mutex>
#include <optional>
#include <vector>

namespace bourse::server {

enum class Role : std::uint8_t { Viewer, Trader, Admin };
QLatin1StringView roleName(Role role); // "viewer" | "trader" | "admin"
std::optional<Role> parseRole(std::string_view text);

struct DirectoryEntry
{
    AccountId id = 0;
    QString username;
    Role role = Role::Trader;
    bool active = true;
    RateTier tier = RateTier::Default;
    TimeNs createdAt = 0;
};

class UserDirectory final
{
public:
    void reset(const std::vector<sql::UserRecord> &users);
    void put(const sql::UserRecord &user);
    std::optional<DirectoryEntry> find(AccountId id) const;
    int size() const;

    static DirectoryEntry entryFor(const sql::UserRecord &user);

private:
    mutable std::mutex m_mutex;
    QHash<AccountId, DirectoryEntry> m_users; // guarded by m_mutex
};

} // namespace bourse::server
