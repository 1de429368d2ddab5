// AccountState: the server's view of every account's open orders and balances, built only from durable events
// like MarketState (DESIGN.md: nothing is published before the journal's COMMIT). It feeds the private channels
// (orders, fills, account) and the GUI. Its records are the rows the orders and balances projections hold after
// the same events (sql/projections.h), field for field; an order is kept while it is open, and once filled,
// cancelled or expired it is reported one last time and forgotten. apply() takes one committed batch and says
// what it changed, event by event.
// One thread only (the HTTP thread, fed by EngineHost::batchApplied); not thread-safe. A plain value.
#pragma once

#include "event.h"
#include "flat_hash_map.h"
#include "repositories.h"

#include <QString>

#include <cstddef>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

namespace bourse::server {

// The record an accepted order starts as (status new, nothing filled; updatedAt and seq left to the caller), as
// the orders projection writes it.
sql::OrderRecord acceptedOrder(const OrderAccepted &accepted, TimeNs time);
// A fill's price × quantity in the quote asset, as the orders projection adds it to filledNotional: exact,
// since tick × lot is a Decimal (the engine checks it), else the projection's own arithmetic, so that the
// two still agree.
Decimal fillNotional(Decimal price, Decimal quantity);

// One side of a trade, for the user who took part.
struct AccountFill
{
    AccountId user = 0;
    sql::FillRecord fill;
};

// A balance as one BalanceChanged left it; seq is that event's.
struct AccountBalance
{
    AccountId user = 0;
    sql::BalanceRecord balance;
    Seq seq = 0;
};

// What one batch changed, in event order.
struct AccountChanges
{
    // One entry per order an event changed: the order's whole state right after that event (updatedAt and seq
    // are the event's). A trade changes two orders: the taker's entry comes first, then the maker's.
    std::vector<sql::OrderRecord> orders;
    // Per trade, the taker's fill, then the maker's, also when one user is on both sides (as sql::listFills).
    std::vector<AccountFill> fills;
    // Per BalanceChanged, with the asset's code.
    std::vector<AccountBalance> balances;

    bool empty() const { return orders.empty() && fills.empty() && balances.empty(); }
};

class AccountState final
{
public:
    AccountState() = default; // an empty venue, before any event

    // Start-up: the open orders (status new or partially_filled; others are ignored) and every balance row, as
    // the database holds them after recovery (sql::openOrders, sql::allBalances). Replaces the orders and
    // balances held so far; asset codes and lastSeq() stay. Call setLastSeq() with the recovered engine's.
    void load(std::vector<sql::OrderRecord> openOrders, std::vector<std::pair<AccountId, sql::BalanceRecord>> balances);
    // Teaches the asset codes of these instruments (MarketState::instruments(), or the engine's); the
    // InstrumentAdded events of apply() teach later ones.
    void setInstruments(const std::vector<InstrumentView> &instruments);
    // The seq of the last event applied: the recovered engine's lastSeq() at start-up.
    void setLastSeq(Seq seq) { m_lastSeq = seq; }
    Seq lastSeq() const { return m_lastSeq; }

    // Applies one committed batch (events in seq order). Events with seq <= lastSeq() were applied before and
    // are skipped, so a batch delivered twice changes and reports nothing the second time. An event about an
    // order that is not open here (which a consistent journal never has) changes no order, but a trade's fills
    // are reported all the same: they depend on the event alone.
    AccountChanges apply(const std::vector<Event> &events);

    // A user's open orders by id, optionally on one instrument.
    std::vector<sql::OrderRecord> openOrders(AccountId user,
                                             std::optional<InstrumentId> instrument = std::nullopt) const;
    // Any user's open order; none when it is unknown or closed.
    std::optional<sql::OrderRecord> openOrder(OrderId id) const;
    std::size_t openOrderCount() const { return m_owners.size(); }
    // Every asset the user has held (a zero balance included, as the balances table keeps it), by asset id.
    std::vector<sql::BalanceRecord> balances(AccountId user) const;
    std::optional<sql::BalanceRecord> balance(AccountId user, AssetId asset) const;
    // The code of an asset some instrument uses; empty when none is known.
    QString assetCode(AssetId asset) const;

private:
    struct Holding
    {
        Decimal available;
        Decimal reserved;
    };
    struct Account
    {
        std::map<OrderId, sql::OrderRecord> orders; // open ones only
        std::map<AssetId, Holding> balances;
    };

    void applyOne(const Event &event, AccountChanges &changes);
    void learnAssets(const InstrumentView &instrument);
    sql::OrderRecord *findOrder(OrderId id);
    const sql::OrderRecord *findOrder(OrderId id) const;
    // Reports the order as `event` left it, and forgets it once it is closed.
    void report(sql::OrderRecord &order, const Event &event, AccountChanges &changes);
    void fill(OrderId id, const TradeExecuted &trade, Decimal notional, Decimal remaining, const Event &event,
              AccountChanges &changes);
    sql::BalanceRecord balanceRecord(AssetId asset, const Holding &holding) const;

    std::unordered_map<AccountId, Account> m_accounts;
    FlatHashMap<OrderId, AccountId> m_owners; // every open order's user
    std::unordered_map<AssetId, QString> m_assetCodes;
    Seq m_lastSeq = 0;
};

} // namespace bourse::server
