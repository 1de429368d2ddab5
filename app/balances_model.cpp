#include "balances_model.h"

#include <algorithm>

namespace bourse::app {

namespace {

bool beforeAsset(const sql::BalanceRecord &row, AssetId asset)
{
    return row.asset < asset;
}

} // namespace

BalancesModel::BalancesModel(QObject *parent)
    : QAbstractListModel(parent)
    , m_desk(Desk::instance())
{
    if (!m_desk)
        return;
    connect(m_desk, &Desk::pulse, this, &BalancesModel::onPulse);
    connect(m_desk, &Desk::sessionChanged, this, &BalancesModel::reload);
    reload();
}

int BalancesModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QHash<int, QByteArray> BalancesModel::roleNames() const
{
    return {{AssetRole, "asset"}, {TotalRole, "total"}, {AvailableRole, "available"}, {ReservedRole, "reserved"}};
}

QVariant BalancesModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return QVariant();
    const sql::BalanceRecord &balance = m_rows[std::size_t(index.row())];
    // As the API writes them: exact, shortest.
    switch (role) {
    case AssetRole: return balance.assetCode;
    case TotalRole: return QString::fromStdString(balance.total().toString());
    case AvailableRole: return QString::fromStdString(balance.available.toString());
    case ReservedRole: return QString::fromStdString(balance.reserved.toString());
    default: return QVariant();
    }
}

void BalancesModel::reload()
{
    const quint64 generation = ++m_generation;
    m_pending.clear();
    if (!m_rows.empty()) {
        beginResetModel();
        m_rows.clear();
        endResetModel();
        emit countChanged();
    }
    m_loading = false;
    if (!m_desk || !m_desk->signedIn())
        return;
    m_loading = true;
    const AccountId user = *m_desk->userId();
    m_desk->call<std::vector<sql::BalanceRecord>>(
        this,
        [user](server::VenueService &service, const server::Caller &caller,
               server::Reply<std::vector<sql::BalanceRecord>> reply) { service.balances(caller, user, std::move(reply)); },
        [this, generation](server::ServiceResult<std::vector<sql::BalanceRecord>> result) {
            if (generation != m_generation)
                return;
            m_loading = false;
            if (!result) {
                emit actionFailed(result.error().message);
                return;
            }
            std::vector<sql::BalanceRecord> rows = std::move(*result);
            std::sort(rows.begin(), rows.end(),
                      [](const sql::BalanceRecord &a, const sql::BalanceRecord &b) { return a.asset < b.asset; });
            beginResetModel();
            m_rows = std::move(rows);
            endResetModel();
            emit countChanged();
            // The read and the pulses race; a balance a pulse reported is at least as new as the read's.
            std::vector<sql::BalanceRecord> later = std::move(m_pending);
            m_pending.clear();
            apply(later);
        });
}

void BalancesModel::onPulse(const MarketPulse &pulse)
{
    if (pulse.balances.empty())
        return;
    if (m_loading) {
        m_pending.insert(m_pending.end(), pulse.balances.begin(), pulse.balances.end());
        return;
    }
    apply(pulse.balances);
}

void BalancesModel::apply(const std::vector<sql::BalanceRecord> &changes)
{
    if (changes.empty())
        return;
    // Assets held for the first time: one insertion each (rare: a first deposit or a first buy).
    int first = int(m_rows.size());
    int last = -1;
    std::vector<AssetId> updated;
    for (const sql::BalanceRecord &balance : changes) {
        const auto at = std::lower_bound(m_rows.begin(), m_rows.end(), balance.asset, beforeAsset);
        if (at != m_rows.end() && at->asset == balance.asset) {
            *at = balance; // in event order: the last one wins
            updated.push_back(balance.asset);
            continue;
        }
        const int row = int(at - m_rows.begin());
        beginInsertRows(QModelIndex(), row, row);
        m_rows.insert(at, balance);
        endInsertRows();
        emit countChanged();
    }
    for (const AssetId asset : updated) {
        const int row = int(std::lower_bound(m_rows.begin(), m_rows.end(), asset, beforeAsset) - m_rows.begin());
        first = std::min(first, row);
        last = std::max(last, row);
    }
    if (last >= 0)
        emit dataChanged(index(first), index(last), {TotalRole, AvailableRole, ReservedRole});
}

} // namespace bourse::app
