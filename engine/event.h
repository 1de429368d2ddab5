// Events: what the Sequencer says happened, one value each, numbered by a global sequence. They are the
// journal (replaying them rebuilds every projection), the acks, the market data and the GUI's feed.
// Produced on the engine thread; plain values that any thread may read once handed over.
#pragma once

#include "command.h"

#include <variant>

namespace bourse {

// An instrument as the venue knows it: what InstrumentAdded announces and Sequencer::instrument() returns.
struct InstrumentView
{
    friend bool operator==(const InstrumentView &, const InstrumentView &) = default;
    InstrumentId id = 0;
    Symbol symbol;
    AssetCode base;
    AssetCode quote;
    AssetId baseAsset = 0;
    AssetId quoteAsset = 0;
    Decimal tickSize;
    Decimal lotSize;
    Decimal minQuantity;
    InstrumentStatus status = InstrumentStatus::Trading;
};

struct InstrumentAdded
{
    friend bool operator==(const InstrumentAdded &, const InstrumentAdded &) = default;
    InstrumentView instrument;
};

struct InstrumentStatusChanged
{
    friend bool operator==(const InstrumentStatusChanged &, const InstrumentStatusChanged &) = default;

    InstrumentId instrument = 0;
    InstrumentStatus status = InstrumentStatus::Trading;
};

// A new order passed every check. Matching, resting or expiry follow as further events.
struct OrderAccepted
{
    friend bool operator==(const OrderAccepted &, const OrderAccepted &) = default;

    OrderId order = 0;
    AccountId account = 0;
    InstrumentId instrument = 0;
    Side side = Side::Buy;
    OrderType type = OrderType::Limit;
    TimeInForce timeInForce = TimeInForce::Gtc; // defaults resolved
    bool postOnly = false;
    SelfTradePrevention stp = SelfTradePrevention::ExpireTaker;
    Decimal price; // zero for a market order
    Decimal quantity;
    ClientOrderId clientOrderId;
};

struct OrderAmended
{
    friend bool operator==(const OrderAmended &, const OrderAmended &) = default;

    OrderId order = 0;
    AccountId account = 0;
    InstrumentId instrument = 0;
    Decimal price;
    Decimal quantity;  // new total quantity
    Decimal remaining; // quantity - filled
    bool priorityKept = false;
};

struct OrderCancelled
{
    friend bool operator==(const OrderCancelled &, const OrderCancelled &) = default;

    OrderId order = 0;
    AccountId account = 0;
    InstrumentId instrument = 0;
    Decimal remaining; // what was left unfilled
    CancelReason reason = CancelReason::Requested;
};

struct OrderExpired
{
    friend bool operator==(const OrderExpired &, const OrderExpired &) = default;

    OrderId order = 0;
    AccountId account = 0;
    InstrumentId instrument = 0;
    Decimal remaining;
    ExpireReason reason = ExpireReason::ImmediateOrCancel;
};

// One execution between a resting (maker) and an incoming (taker) order, at the maker's price.
// An order whose remaining reaches zero here is filled; no separate event says so.
struct TradeExecuted
{
    friend bool operator==(const TradeExecuted &, const TradeExecuted &) = default;

    TradeId trade = 0;
    InstrumentId instrument = 0;
    Decimal price;
    Decimal quantity;
    Side takerSide = Side::Buy;
    OrderId makerOrder = 0;
    OrderId takerOrder = 0;
    AccountId makerAccount = 0;
    AccountId takerAccount = 0;
    Decimal makerRemaining;
    Decimal takerRemaining;
};

// The new balance of one account in one asset; total = available + reserved.
struct BalanceChanged
{
    friend bool operator==(const BalanceChanged &, const BalanceChanged &) = default;

    AccountId account = 0;
    AssetId asset = 0;
    Decimal available;
    Decimal reserved;
};

struct FundsDeposited
{
    friend bool operator==(const FundsDeposited &, const FundsDeposited &) = default;

    AccountId account = 0;
    AssetId asset = 0;
    Decimal amount;
};

struct FundsWithdrawn
{
    friend bool operator==(const FundsWithdrawn &, const FundsWithdrawn &) = default;

    AccountId account = 0;
    AssetId asset = 0;
    Decimal amount;
};

// A command that changed nothing. For InsufficientBalance, asset/required/available say by how much.
struct CommandRejected
{
    friend bool operator==(const CommandRejected &, const CommandRejected &) = default;

    CommandType command = CommandType::PlaceOrder;
    RejectReason reason = RejectReason::UnknownInstrument;
    AccountId account = 0;
    OrderId order = 0; // the target of a cancel or amend
    ClientOrderId clientOrderId;
    AssetId asset = 0;
    Decimal required;
    Decimal available;
};

using EventBody = std::variant<InstrumentAdded, InstrumentStatusChanged, OrderAccepted, OrderAmended,
                               OrderCancelled, OrderExpired, TradeExecuted, BalanceChanged, FundsDeposited,
                               FundsWithdrawn, CommandRejected>;

struct Event
{
    Seq seq = 0;
    TimeNs time = 0; // the applying command's (monotonic) time
    EventBody body;

    friend bool operator==(const Event &, const Event &) = default;
};

} // namespace bourse
