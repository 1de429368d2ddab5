#include "ledger.h"

#include <algorithm>

namespace bourse {

void Ledger::addAsset()
{
    m_supply.push_back(0);
    for (Account &account : m_accounts)
        account.balances.resize(m_supply.size());
}

std::optional<std::uint32_t> Ledger::find(AccountId account) const
{
    if (const std::uint32_t *index = m_index.find(account))
        return *index;
    return std::nullopt;
}

std::uint32_t Ledger::findOrCreate(AccountId account)
{
    if (const std::uint32_t *index = m_index.find(account))
        return *index;
    const auto index = static_cast<std::uint32_t>(m_accounts.size());
    m_accounts.push_back({account, std::vector<Balance>(m_supply.size())});
    m_index.insert(account, index);
    return index;
}

bool Ledger::restore(std::uint32_t index, AssetId asset, std::int64_t available, std::int64_t reserved)
{
    std::int64_t total = 0;
    std::int64_t supply = 0;
    if (available < 0 || reserved < 0 || __builtin_add_overflow(available, reserved, &total)
        || __builtin_add_overflow(m_supply[asset], total, &supply))
        return false;
    Balance &balance = m_accounts[index].balances[asset];
    balance.available = available;
    balance.reserved = reserved;
    m_supply[asset] = supply;
    return true;
}

void Ledger::emitChanges(Seq &seq, TimeNs time, std::vector<Event> &out)
{
    if (m_touched.empty())
        return;
    if (m_touched.size() > 1) {
        std::sort(m_touched.begin(), m_touched.end(), [this](const Touched &a, const Touched &b) {
            const AccountId idA = m_accounts[a.account].id;
            const AccountId idB = m_accounts[b.account].id;
            return idA != idB ? idA < idB : a.asset < b.asset;
        });
    }
    for (const Touched &touched : m_touched) {
        const Account &account = m_accounts[touched.account];
        const Balance &balance = account.balances[touched.asset];
        if (balance.available == balance.availableBefore && balance.reserved == balance.reservedBefore)
            continue;
        out.push_back(Event{++seq, time,
                            BalanceChanged{account.id, touched.asset, Decimal::fromRaw(balance.available),
                                           Decimal::fromRaw(balance.reserved)}});
    }
    m_touched.clear();
}

} // namespace bourse
