// The vocabulary of the matching engine: identifiers, order attributes and the typed reasons a command
// is refused. Plain values; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace bourse {

using AccountId = std::uint64_t;    // the user id; 0 is never an account
using OrderId = std::uint64_t;      // assigned by the engine from 1, in acceptance order
using TradeId = std::uint64_t;      // assigned by the engine from 1
using Seq = std::uint64_t;          // global event sequence number, from 1
using InstrumentId = std::uint32_t; // assigned by the engine from 0, in the order instruments are added
using AssetId = std::uint32_t;      // assigned by the engine from 0, in the order assets first appear
using TimeNs = std::int64_t;        // nanoseconds since the Unix epoch, UTC; supplied on every command

inline constexpr AccountId kAnyAccount = 0; // on cancel/amend/mass cancel: act for an admin, any owner

enum class Side : std::uint8_t { Buy, Sell };
enum class OrderType : std::uint8_t { Limit, Market };
enum class TimeInForce : std::uint8_t { Gtc, Ioc, Fok };
enum class SelfTradePrevention : std::uint8_t { ExpireTaker, ExpireMaker, ExpireBoth, None };
enum class InstrumentStatus : std::uint8_t { Trading, Halted };

// Why an order left the book without filling completely.
enum class CancelReason : std::uint8_t {
    Requested,        // the owner (or an admin) cancelled it
    MassCancel,       // cancel-all, per account and optionally per instrument
    KillSwitch,       // SetInstrumentStatus with cancelOpenOrders: every open order of the instrument
};
enum class ExpireReason : std::uint8_t {
    ImmediateOrCancel,   // the unfilled rest of an IOC or market order
    FillOrKill,          // an FOK that could not fill completely, so it did not fill at all
    SelfTradePrevention, // it met an order of its own account and the STP mode expired it
    InsufficientBalance, // a market buy ran out of available quote
};

// Every way a command can be refused. A refused command changes nothing but the event sequence.
enum class RejectReason : std::uint8_t {
    // order entry
    UnknownInstrument,
    MarketHalted,
    InvalidAccount,
    PriceRequired,        // a limit order without a price
    PriceNotAllowed,      // a market order with a price
    PriceNotPositive,
    PriceOffTick,
    QuantityNotPositive,
    QuantityOffLot,
    QuantityBelowMinimum,
    NotionalOverflow,     // price × quantity is not representable
    TimeInForceInvalid,   // a market order with gtc
    PostOnlyInvalid,      // post-only on a market, IOC or FOK order
    ClientOrderIdInvalid, // longer than 64 or outside [A-Za-z0-9._:-]
    ClientOrderIdReused,  // same account and client order id, different payload
    InsufficientBalance,
    PostOnlyWouldTake,
    // cancel and amend
    UnknownOrder,         // never existed, or is open but belongs to another account
    OrderNotOpen,         // existed, but is filled, cancelled or expired
    AmendChangesNothing,  // neither price nor quantity given
    QuantityNotAboveFilled,
    // funds
    UnknownAsset,
    AmountNotPositive,
    SupplyOverflow,       // a deposit that would take the asset's total past the representable range
    // instruments
    SymbolInvalid,
    AssetInvalid,
    InstrumentExists,
    TickSizeInvalid,
    LotSizeInvalid,
    MinQuantityInvalid,
    PrecisionTooFine,     // tick × lot is not a Decimal (finer than 10^-8, or out of range): notionals
                          // could not be exact
};

// The request field a reason blames, for the API's "field" member; empty when no one field is at fault.
std::string_view rejectField(RejectReason reason);
// A stable snake_case name for logs, tests and the journal.
std::string_view rejectName(RejectReason reason);

std::string_view sideName(Side side);                  // "buy" | "sell"
std::string_view orderTypeName(OrderType type);        // "limit" | "market"
std::string_view timeInForceName(TimeInForce tif);     // "gtc" | "ioc" | "fok"
std::string_view stpName(SelfTradePrevention stp);     // "expire_taker" | ... | "none"
std::string_view instrumentStatusName(InstrumentStatus status); // "trading" | "halted"
std::string_view cancelReasonName(CancelReason reason);
std::string_view expireReasonName(ExpireReason reason);

std::optional<Side> parseSide(std::string_view text);
std::optional<OrderType> parseOrderType(std::string_view text);
std::optional<TimeInForce> parseTimeInForce(std::string_view text);
std::optional<SelfTradePrevention> parseStp(std::string_view text);
std::optional<InstrumentStatus> parseInstrumentStatus(std::string_view text);

constexpr Side opposite(Side side)
{
    return side == Side::Buy ? Side::Sell : Side::Buy;
}

} // namespace bourse
