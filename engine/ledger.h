// Ledger: every account's balances per asset, with what each command changed. Amounts are raw Decimal
// units (10^-8). The ledger keeps, per asset, the total over all accounts (the supply), which only
// deposits and withdrawals change; because the supply stays within int64, no balance can overflow.
// Engine thread only.
#pragma once

#include "event.h"
#include "flat_hash_map.h"
#include "types.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace bourse {

struct Balance
{
    std::int64_t available = 0;
    std::int64_t reserved = 0;
    // What the current command found, for the BalanceChanged events at its end.
    std::uint64_t touchedBy = 0;
    std::int64_t availableBefore = 0;
    std::int64_t reservedBefore = 0;
};

class Ledger final
{
public:
    // Grows every account (and the supply) to cover a new asset. Called when an instrument adds one.
    void addAsset();
    std::size_t assetCount() const { return m_supply.size(); }

    std::optional<std::uint32_t> find(AccountId account) const;
    std::uint32_t findOrCreate(AccountId account);
    AccountId accountId(std::uint32_t index) const { return m_accounts[index].id; }
    std::size_t accountCount() const { return m_accounts.size(); }

    // Read without marking.
    const Balance &peek(std::uint32_t index, AssetId asset) const { return m_accounts[index].balances[asset]; }
    // Set outside any command (restoring a snapshot); keeps the supply in step. False if it would overflow.
    bool restore(std::uint32_t index, AssetId asset, std::int64_t available, std::int64_t reserved);
    // Read for change: remembers the values before the first change of this command.
    Balance &touch(std::uint32_t index, AssetId asset)
    {
        Balance &balance = m_accounts[index].balances[asset];
        if (balance.touchedBy != m_command) {
            balance.touchedBy = m_command;
            balance.availableBefore = balance.available;
            balance.reservedBefore = balance.reserved;
            m_touched.push_back({index, asset});
        }
        return balance;
    }

    std::int64_t supply(AssetId asset) const { return m_supply[asset]; }
    void addSupply(AssetId asset, std::int64_t delta) { m_supply[asset] += delta; }

    void beginCommand()
    {
        ++m_command;
        m_touched.clear();
    }
    // Appends one BalanceChanged per (account, asset) the command changed, ascending by (account, asset).
    void emitChanges(Seq &seq, TimeNs time, std::vector<Event> &out);

    template<typename Visit> // visit(AccountId, AssetId, const Balance &) in no particular order
    void forEachBalance(Visit &&visit) const
    {
        for (const Account &account : m_accounts) {
            for (AssetId asset = 0; asset < account.balances.size(); ++asset)
                visit(account.id, asset, account.balances[asset]);
        }
    }

private:
    struct Account
    {
        AccountId id = 0;
        std::vector<Balance> balances; // indexed by AssetId, always assetCount() long
    };
    struct Touched
    {
        std::uint32_t account;
        AssetId asset;
    };

    std::vector<Account> m_accounts;
    FlatHashMap<AccountId, std::uint32_t> m_index;
    std::vector<std::int64_t> m_supply;
    std::uint64_t m_command = 0;
    std::vector<Touched> m_touched;
};

} // namespace bourse
