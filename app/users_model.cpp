#include "users_model.h"

#include "admin_request.h"
#include "request_body.h"

#include <QDateTime>

namespace bourse::app {

namespace {

using server::Caller;
using server::Reply;
using server::ServiceResult;
using server::VenueService;

AccountId accountOf(qint64 id)
{
    return id > 0 ? AccountId(id) : 0;
}

} // namespace

UsersModel::UsersModel(QObject *parent)
    : QAbstractListModel(parent)
{
    if (Desk *desk = Desk::instance()) {
        connect(desk, &Desk::sessionChanged, this, [this] {
            if (Desk::instance()->isAdmin())
                refresh();
        });
        if (desk->isAdmin())
            refresh();
    }
}

int UsersModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QVariant UsersModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const sql::UserRecord &user = m_all[m_rows[std::size_t(index.row())]];
    switch (role) {
    case Qt::DisplayRole:
    case UsernameRole: return user.username;
    case UserIdRole: return qint64(user.id);
    case RoleRole: return user.role;
    case ActiveRole: return user.active;
    case TierRole: return user.rateLimitTier;
    case CreatedAtRole:
        return QDateTime::fromMSecsSinceEpoch(user.createdAt / 1'000'000, Qt::UTC).toString(Qt::ISODate);
    default: return {};
    }
}

QHash<int, QByteArray> UsersModel::roleNames() const
{
    return {{UserIdRole, "userId"}, {UsernameRole, "username"}, {RoleRole, "role"},
            {ActiveRole, "active"}, {TierRole, "tier"},         {CreatedAtRole, "createdAt"}};
}

void UsersModel::setFilterText(const QString &text)
{
    if (text == m_filter)
        return;
    m_filter = text;
    emit filterTextChanged();
    rebuild();
}

void UsersModel::setLoading(bool loading)
{
    if (loading == m_loading)
        return;
    m_loading = loading;
    emit loadingChanged();
}

void UsersModel::refresh()
{
    if (!Desk::instance())
        return;
    m_pending.clear();
    setLoading(true);
    loadPage(1, ++m_generation);
}

void UsersModel::loadPage(std::int64_t page, std::uint64_t generation)
{
    const sql::PageRequest request = sql::PageRequest::make(page, kPageSize).value();
    Desk::instance()->call<sql::Page<sql::UserRecord>>(this,
                                                       adminOnly<sql::Page<sql::UserRecord>>(
                                                           [request](VenueService &service, const Caller &caller,
                                                                     Reply<sql::Page<sql::UserRecord>> reply) {
                                                               service.users(caller, request, std::move(reply));
                                                           }),
                                                       [this, page,
                                                        generation](ServiceResult<sql::Page<sql::UserRecord>> result) {
                                                           if (generation != m_generation)
                                                               return;
                                                           if (!result) {
                                                               setLoading(false);
                                                               fail(result.error());
                                                               return;
                                                           }
                                                           m_pending.insert(m_pending.end(), result->rows.begin(),
                                                                            result->rows.end());
                                                           const bool more = !result->rows.empty()
                                                                             && std::int64_t(m_pending.size())
                                                                                    < result->total
                                                                             && m_pending.size()
                                                                                    < std::size_t(kMaxUsers);
                                                           if (more) {
                                                               loadPage(page + 1, generation);
                                                               return;
                                                           }
                                                           // One reset for the whole new listing.
                                                           beginResetModel();
                                                           m_all = std::move(m_pending);
                                                           m_pending.clear();
                                                           m_rows = matchingRows();
                                                           endResetModel();
                                                           setLoading(false);
                                                           emit countsChanged();
                                                       });
}

std::vector<std::size_t> UsersModel::matchingRows() const
{
    std::vector<std::size_t> rows;
    for (std::size_t i = 0; i < m_all.size(); ++i) {
        if (m_filter.isEmpty() || m_all[i].username.contains(m_filter, Qt::CaseInsensitive))
            rows.push_back(i);
    }
    return rows;
}

void UsersModel::rebuild()
{
    beginResetModel();
    m_rows = matchingRows();
    endResetModel();
}

QString UsersModel::username(qint64 userId) const
{
    for (const sql::UserRecord &user : m_all) {
        if (qint64(user.id) == userId)
            return user.username;
    }
    return {};
}

void UsersModel::fail(const server::ServiceError &error)
{
    m_error = error.message;
    m_errorField = error.field;
    emit errorChanged();
    emit failed(error.message, error.field);
}

void UsersModel::succeed(const QString &message)
{
    if (!m_error.isEmpty() || !m_errorField.isEmpty()) {
        m_error.clear();
        m_errorField.clear();
        emit errorChanged();
    }
    m_message = message;
    emit messageChanged();
    emit succeeded(message);
}

void UsersModel::createUser(const QString &username, const QString &password, const QString &role)
{
    // POST /admin/users' reading of its body.
    const server::JsonDocument document = role.isEmpty()
                                              ? formBody({{"username", username}, {"password", password}})
                                              : formBody(
                                                  {{"username", username}, {"password", password}, {"role", role}});
    server::RequestBody body(document.root(), {"username", "password", "role"});
    const std::optional<QString> name = body.string("username", true, 64);
    const std::optional<QString> secret = body.string("password", true, 256);
    const std::optional<server::Role> chosen = body.choice("role", false, server::parseRole, "viewer, trader, admin");
    if (!body.ok()) {
        fail(body.error());
        return;
    }
    const server::Role newRole = chosen.value_or(server::Role::Trader);
    Desk::instance()->call<sql::UserRecord>(this,
                                            adminOnly<sql::UserRecord>([name = *name, secret = *secret,
                                                                        newRole](VenueService &service,
                                                                                 const Caller &caller,
                                                                                 Reply<sql::UserRecord> reply) {
                                                service.createUser(caller, name, secret, newRole, std::move(reply));
                                            }),
                                            [this](ServiceResult<sql::UserRecord> result) {
                                                if (!result) {
                                                    fail(result.error());
                                                    return;
                                                }
                                                // The new user is first, as the service lists them: every row's index into m_all moves by one.
                                                const bool shown = m_filter.isEmpty()
                                                                   || result->username.contains(m_filter,
                                                                                                Qt::CaseInsensitive);
                                                if (shown)
                                                    beginInsertRows(QModelIndex(), 0, 0);
                                                std::vector<sql::UserRecord> next;
                                                next.reserve(m_all.size() + 1);
                                                next.push_back(*result);
                                                std::move(m_all.begin(), m_all.end(), std::back_inserter(next));
                                                m_all = std::move(next);
                                                // The same rows as before, one down, and the new one first when it matches.
                                                m_rows = matchingRows();
                                                if (shown)
                                                    endInsertRows();
                                                emit countsChanged();
                                                succeed(tr("Created %1 (%2)").arg(result->username, result->role));
                                            });
}

void UsersModel::setRole(qint64 userId, const QString &role)
{
    // PATCH /admin/users/{id}'s reading of "role".
    const server::JsonDocument document = formBody({{"role", role}});
    server::RequestBody body(document.root(), {"role", "active", "rate_limit_tier"});
    server::UserChanges changes;
    changes.role = body.choice("role", true, server::parseRole, "viewer, trader, admin");
    if (!body.ok()) {
        fail(body.error());
        return;
    }
    updateUser(userId, changes);
}

void UsersModel::setActive(qint64 userId, bool active)
{
    server::UserChanges changes;
    changes.active = active;
    updateUser(userId, changes);
}

void UsersModel::updateUser(qint64 userId, server::UserChanges changes)
{
    const AccountId id = accountOf(userId);
    if (id == 0) {
        fail(adminValidationError(QStringLiteral("user must be a positive integer id"), QStringLiteral("user")));
        return;
    }
    Desk::instance()->call<sql::UserRecord>(this,
                                            adminOnly<sql::UserRecord>([id, changes](VenueService &service,
                                                                                     const Caller &caller,
                                                                                     Reply<sql::UserRecord> reply) {
                                                service.updateUser(caller, id, changes, std::move(reply));
                                            }),
                                            [this](ServiceResult<sql::UserRecord> result) {
                                                if (!result) {
                                                    fail(result.error());
                                                    return;
                                                }
                                                applyUser(*result);
                                                succeed(tr("%1: %2, %3")
                                                            .arg(result->username, result->role,
                                                                 result->active ? tr("enabled") : tr("disabled")));
                                            });
}

void UsersModel::applyUser(const sql::UserRecord &user)
{
    for (std::size_t i = 0; i < m_all.size(); ++i) {
        if (m_all[i].id != user.id)
            continue;
        m_all[i] = user;
        const auto shown = std::find(m_rows.begin(), m_rows.end(), i);
        if (shown != m_rows.end()) {
            const QModelIndex at = index(int(shown - m_rows.begin()));
            emit dataChanged(at, at);
        }
        return;
    }
}

void UsersModel::moveFunds(qint64 userId, bool deposit, const QString &asset, const QString &amount)
{
    const AccountId id = accountOf(userId);
    if (id == 0) {
        fail(adminValidationError(QStringLiteral("user must be a positive integer id"), QStringLiteral("user")));
        return;
    }
    // POST /admin/users/{id}/deposits|withdrawals' reading of its body.
    const server::JsonDocument document = formBody({{"asset", asset}, {"amount", amount}});
    server::RequestBody body(document.root(), {"asset", "amount"});
    const std::optional<QString> code = body.string("asset", true, 16);
    const std::optional<Decimal> value = body.decimal("amount", true);
    if (!body.ok()) {
        fail(body.error());
        return;
    }
    Desk::instance()->call<std::vector<sql::BalanceRecord>>(
        this,
        adminOnly<std::vector<sql::BalanceRecord>>(
            [id, deposit, code = *code, value = *value](VenueService &service, const Caller &caller,
                                                        Reply<std::vector<sql::BalanceRecord>> reply) {
                service.moveFunds(caller, id, deposit, code, value, std::move(reply));
            }),
        [this, id, deposit, code = *code, value = *value](ServiceResult<std::vector<sql::BalanceRecord>> result) {
            if (!result) {
                fail(result.error());
                return;
            }
            QString balance;
            for (const sql::BalanceRecord &record : *result) {
                if (record.assetCode == code)
                    balance = QString::fromStdString(record.total().toString());
            }
            const QString who = username(qint64(id));
            succeed((deposit ? tr("Deposited %1 %2 to %3; balance %4") : tr("Withdrew %1 %2 from %3; balance %4"))
                        .arg(QString::fromStdString(value.toString()), code, who.isEmpty() ? QString::number(id) : who,
                             balance));
        });
}

} // namespace bourse::app
