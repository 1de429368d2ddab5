// Sequencer: the matching engine's one entry point. It owns every instrument, order book, open order and
// balance, applies commands one at a time and says what happened as numbered events. Deterministic: the
// same commands give the same events and the same state hash, on any machine. Engine thread only
// (one writer, no locks); build one per venue.
//
// ## The rules, exactly (a reference implementation is tested against this text)
//
// Time. Each command runs at t = max(command.time, t of the previous command), starting from 0. Every
// event of the command carries t. Events are numbered 1, 2, 3, ... across all commands.
//
// Rejections. A refused command emits exactly one CommandRejected event and changes nothing else. The
// checks run in the order listed; the first that fails names the reason. The event's and the result's
// asset, required and available are set for InsufficientBalance only (zero otherwise); the result's order
// is the target of a rejected cancel or amend, and zero for other rejections.
//
// Every command, rejected and replayed ones included, moves the clock (as above) and lets the venue
// forget expired client order ids (below) before it is applied.
//
// Balances. Per account and asset: available and reserved (total = available + reserved). A resting or
// incoming limit buy reserves price × remaining of the quote asset; every sell reserves its remaining
// quantity of the base asset; a market buy reserves nothing and pays from available as it fills. At the
// end of every applied command one BalanceChanged event is emitted per (account, asset) whose
// (available, reserved) differs from before the command, in ascending (account id, asset id) order.
//
// AddInstrument: symbol 1-32 chars of [A-Z0-9._-] starting with [A-Z0-9] (SymbolInvalid); base and quote
// 1-16 chars of [A-Z0-9] and different (AssetInvalid); symbol not taken (InstrumentExists); tick > 0
// (TickSizeInvalid); lot > 0 (LotSizeInvalid); minQuantity > 0 and a multiple of lot
// (MinQuantityInvalid); tick × lot a Decimal, i.e. exact at 8 decimals and within range
// (PrecisionTooFine). Assets get ids when first
// seen, base before quote. Emits InstrumentAdded (status trading).
//
// SetInstrumentStatus: UnknownInstrument. Emits InstrumentStatusChanged (even when unchanged); with
// cancelOpenOrders, then cancels every open order of the instrument in ascending order id
// (OrderCancelled, reason KillSwitch).
//
// PlaceOrder, checks in order:
//   account == 0 → InvalidAccount; client order id not of [A-Za-z0-9._:-] → ClientOrderIdInvalid;
//   client order id (non-empty) remembered for this account: the same payload (symbol, side, type,
//     time in force after defaults, post-only, stp, price as given, quantity) → Replayed: no event, the
//     result names the original order; a different payload → ClientOrderIdReused;
//   unknown symbol → UnknownInstrument; halted → MarketHalted;
//   limit without price → PriceRequired; market with price → PriceNotAllowed;
//   market with gtc → TimeInForceInvalid; post-only unless limit gtc → PostOnlyInvalid;
//   limit: price <= 0 → PriceNotPositive, not a multiple of tick → PriceOffTick;
//   quantity <= 0 → QuantityNotPositive; not a multiple of lot → QuantityOffLot;
//   < minQuantity → QuantityBelowMinimum; limit: price × quantity not representable → NotionalOverflow;
//   limit buy: price × quantity > available quote, or any sell: quantity > available base, or a market
//     buy facing a non-empty book with available quote < best ask × lot → InsufficientBalance (asset,
//     required, available);
//   post-only that would cross (buy: best ask <= price; sell: best bid >= price) → PostOnlyWouldTake.
// Then: OrderAccepted (next order id), the client order id is remembered, the reservation is made.
//   FOK: if a dry run of the matching below could not fill the whole quantity, OrderExpired(FillOrKill)
//   and nothing else happens to the book.
//   Matching: while remaining > 0 and the best opposite level crosses (buy: ask <= price; sell: bid >=
//   price; market: any), take that level's oldest order M:
//     - M of the same account and stp != none: expire_maker → OrderExpired(M, SelfTradePrevention),
//       continue; expire_taker → stop; expire_both → OrderExpired(M, SelfTradePrevention), stop.
//     - q = min(remaining, M.remaining); a market buy takes at most the whole lots its available quote
//       pays for at M's price, and stops if that is none.
//     - TradeExecuted at M's price (next trade id). Buyer: base available += q; a limit buyer's quote
//       reserved -= q × its limit and available += q × (limit - trade price); a market buyer's quote
//       available -= q × trade price. Seller: base reserved -= q; quote available += q × trade price.
//   The remainder, in this order: if STP stopped matching → OrderExpired(SelfTradePrevention), even for
//   a limit gtc order (it must not rest against its own order); if a market buy could pay for no more →
//   OrderExpired(InsufficientBalance); a limit gtc order rests at the back of its price level; anything
//   else → OrderExpired(ImmediateOrCancel). An expiry releases the remainder's reservation.
//
// CancelOrder: id never issued → UnknownOrder; issued but not open → OrderNotOpen; open but account is
//   neither kAnyAccount nor the owner → UnknownOrder. Emits OrderCancelled(Requested). Allowed when halted.
//
// AmendOrder: the same three order checks as cancel; neither price nor quantity → AmendChangesNothing;
//   halted → MarketHalted; price <= 0 / off tick → PriceNotPositive / PriceOffTick; quantity <= 0 / off
//   lot → QuantityNotPositive / QuantityOffLot; quantity <= filled → QuantityNotAboveFilled; quantity <
//   minQuantity → QuantityBelowMinimum; new price × new quantity not representable → NotionalOverflow;
//   the extra reservation (buy: new price × new remaining - old price × old remaining of quote; sell: new
//   remaining - old remaining of base) > available → InsufficientBalance; post-only and the new price
//   would cross → PostOnlyWouldTake.
//   Then OrderAmended. Priority is kept when the price is unchanged and the quantity did not rise: the
//   order stays where it is. Otherwise it leaves its level, matches like a new limit gtc order (with its
//   own stp) if it crosses, and rests at the back of its new level.
//
// MassCancel: unknown symbol → UnknownInstrument. Cancels every open order of the account (all accounts
//   for kAnyAccount), on the instrument if one is named, in ascending order id: OrderCancelled(MassCancel).
//
// Deposit: account == 0 → InvalidAccount; asset unknown → UnknownAsset; amount <= 0 → AmountNotPositive;
//   the asset's total over all accounts would pass INT64_MAX units → SupplyOverflow. Emits
//   FundsDeposited. Withdraw: the same first three checks, then amount > available → InsufficientBalance.
//   Emits FundsWithdrawn. Because no asset's total can exceed INT64_MAX, no balance can overflow.
//
// Client order ids. An accepted order's (account, client order id) is remembered with its acceptance
// time T. Before and after each command at time t, entries whose order is no longer open and for which
// t >= T + 24 h are forgotten; until then, the id cannot be reused for another payload.
#pragma once

#include "codec.h"
#include "command.h"
#include "event.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace bourse {

inline constexpr TimeNs kClientOrderIdRetention = 24LL * 3600 * 1'000'000'000;

struct CommandResult
{
    enum class Outcome : std::uint8_t { Applied, Rejected, Replayed };

    Outcome outcome = Outcome::Applied;
    RejectReason reason = RejectReason::UnknownInstrument; // when Rejected
    OrderId order = 0;      // the placed, replayed, cancelled or amended order (or the target of a refused cancel/amend)
    Seq firstSeq = 0;       // the command's events are [firstSeq, lastSeq]; both 0 when it emitted none
    Seq lastSeq = 0;
    std::uint32_t affected = 0; // orders cancelled by MassCancel / SetInstrumentStatus
    AssetId asset = 0;      // for InsufficientBalance
    Decimal required;
    Decimal available;

    bool ok() const { return outcome != Outcome::Rejected; }
};

struct OrderView
{
    OrderId id = 0;
    AccountId account = 0;
    InstrumentId instrument = 0;
    Side side = Side::Buy;
    bool postOnly = false;
    SelfTradePrevention stp = SelfTradePrevention::ExpireTaker;
    Decimal price;
    Decimal quantity;
    Decimal remaining;
    ClientOrderId clientOrderId;
};

struct BalanceView
{
    Decimal available;
    Decimal reserved;
    Decimal total() const { return Decimal::fromRaw(available.raw() + reserved.raw()); }
};

struct LevelView
{
    Decimal price;
    Decimal quantity; // total resting quantity at this price
    std::uint32_t orders = 0;
};

class Sequencer final
{
public:
    Sequencer();
    ~Sequencer();
    Sequencer(const Sequencer &) = delete;
    Sequencer &operator=(const Sequencer &) = delete;

    // Applies one command and appends its events to `out`. Never throws on bad input: every refusal is a
    // result and a CommandRejected event. `out` is only appended to; reuse it to avoid allocation.
    CommandResult apply(const Command &command, std::vector<Event> &out);

    Seq lastSeq() const;
    TimeNs lastTime() const;

    // The canonical fingerprint, fed to StateHasher in this order:
    //   lastSeq, lastTime, next order id, next trade id;
    //   per instrument by id: id, symbol, base, quote, tick, lot, min quantity (raw units), status;
    //   per instrument by id, bids best to worst then asks best to worst, each level oldest first, per
    //     open order: id, account, side, price, quantity, remaining (raw), post-only, stp, client order id;
    //   per (account, asset) ascending with a non-zero available or reserved: account, asset, available,
    //     reserved (raw);
    //   per remembered client order id ascending by (account, id text): account, id text, order id, T, then
//     the payload a retry must repeat: symbol, side, type, time in force, post-only, stp, whether a
//     price was given, the price (0 if not), quantity.
    // Enums go in as their underlying integer values.
    std::uint64_t stateHash() const;

    // The whole state as bytes, and back: what recovery loads before it replays the journal's tail. A
    // restored engine behaves exactly like the one saved (same events for the same commands from then on)
    // and has the same stateHash(); callers compare that hash with the one stored beside the snapshot.
    void saveSnapshot(std::vector<std::uint8_t> &out) const;
    static Expected<std::unique_ptr<Sequencer>, CodecError> fromSnapshot(std::span<const std::uint8_t> bytes);

    // Queries for tests, snapshots and the service; engine thread only, like everything here.
    std::size_t instrumentCount() const;
    std::optional<InstrumentView> instrument(InstrumentId id) const;
    std::optional<InstrumentView> findInstrument(std::string_view symbol) const;
    std::optional<AssetId> findAsset(std::string_view code) const;
    std::size_t assetCount() const;
    std::optional<OrderView> order(OrderId id) const; // open orders only
    std::size_t openOrderCount() const;
    BalanceView balance(AccountId account, AssetId asset) const;
    // The sum of total balances over every account: changes only by deposits and withdrawals.
    Decimal assetSupply(AssetId asset) const;
    // Up to `depth` levels of one side, best first.
    std::vector<LevelView> levels(InstrumentId instrument, Side side, std::size_t depth) const;
    // Every open order of one side of a book, best level first, oldest first within a level.
    void forEachOrder(InstrumentId instrument, Side side, const std::function<void(const OrderView &)> &visit) const;

private:
    class Core;
    std::unique_ptr<Core> m_core;
};

} // namespace bourse
