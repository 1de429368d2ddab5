#include "user_directory.h"

namespace bourse::server {

QLatin1StringView roleName(Role role)
{
    switch (role) {
    case Role::Viewer: return QLatin1StringView("viewer");
    case Role::Trader: return QLatin1StringView("trader");
    case Role::Admin: return QLatin1StringView("admin");
    }
    return QLatin1StringView("viewer");
}

std::optional<Role> parseRole(std::string_view text)
{
    if (text == "viewer")
        return Role::Viewer;
    if (text == "trader")
        return Role::Trader;
    if (text == "admin")
        return Role::Admin;
    return std::nullopt;
}

DirectoryEntry UserDirectory::entryFor(const sql::UserRecord &user)
{
    const QByteArray role = user.role.toUtf8();
    const QByteArray tier = user.rateLimitTier.toUtf8();
    DirectoryEntry entry;
    entry.id = user.id;
    entry.username = user.username;
    // The table's CHECKs allow only the known names; anything else would be a bug, and gets least rights.
    entry.role = parseRole(std::string_view(role.constData(), std::size_t(role.size()))).value_or(Role::Viewer);
    entry.active = user.active;
    entry.tier = parseRateTier(std::string_view(tier.constData(), std::size_t(tier.size()))).value_or(RateTier::Default);
    entry.createdAt = user.createdAt;
    return entry;
}

void UserDirectory::reset(const std::vector<sql::UserRecord> &users)
{
    QHash<AccountId, DirectoryEntry> next;
    next.reserve(qsizetype(users.size()));
    for (const sql::UserRecord &user : users)
        next.insert(user.id, entryFor(user));
    const std::lock_guard lock(m_mutex);
    m_users = std::move(next);
}

void UserDirectory::put(const sql::UserRecord &user)
{
    const DirectoryEntry entry = entryFor(user);
    const std::lock_guard lock(m_mutex);
    m_users.insert(user.id, entry);
}

std::optional<DirectoryEntry> UserDirectory::find(AccountId id) const
{
    const std::lock_guard lock(m_mutex);
    const auto it = m_users.constFind(id);
    if (it == m_users.cend())
        return std::nullopt;
    return *it;
}

int UserDirectory::size() const
{
    const std::lock_guard lock(m_mutex);
    return int(m_users.size());
}

} // namespace bourse::server
