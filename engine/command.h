// Commands: everything that can change the venue's state, as plain values. A command is built at the
// edge (HTTP, WebSocket, GUI, journal replay), carries its caller's account and its time, and is applied
// by the Sequencer on the engine thread. Any thread may build one.
#pragma once

#include "decimal.h"
#include "fixed_string.h"
#include "types.h"

#include <optional>
#include <variant>

namespace bourse {

struct AddInstrument
{
    friend bool operator==(const AddInstrument &, const AddInstrument &) = default;

    Symbol symbol; // 1-32 of [A-Z0-9._-], starting with a letter or digit
    AssetCode base; // 1-16 of [A-Z0-9]
    AssetCode quote;
    Decimal tickSize;
    Decimal lotSize;
    Decimal minQuantity; // a positive multiple of lotSize
};

struct SetInstrumentStatus
{
    friend bool operator==(const SetInstrumentStatus &, const SetInstrumentStatus &) = default;

    Symbol symbol;
    InstrumentStatus status = InstrumentStatus::Trading;
    bool cancelOpenOrders = false; // the kill switch halts and cancels in one step
};

struct PlaceOrder
{
    friend bool operator==(const PlaceOrder &, const PlaceOrder &) = default;

    AccountId account = 0;
    Symbol symbol;
    Side side = Side::Buy;
    OrderType type = OrderType::Limit;
    std::optional<TimeInForce> timeInForce; // absent: gtc for limit, ioc for market
    bool postOnly = false;
    SelfTradePrevention stp = SelfTradePrevention::ExpireTaker;
    std::optional<Decimal> price; // required for limit, forbidden for market
    Decimal quantity;
    ClientOrderId clientOrderId; // empty: none
};

struct CancelOrder
{
    friend bool operator==(const CancelOrder &, const CancelOrder &) = default;

    AccountId account = 0; // kAnyAccount: on behalf of an admin, whoever owns it
    OrderId order = 0;
};

// Quantity is the order's new total quantity (filled included), as in the API.
struct AmendOrder
{
    friend bool operator==(const AmendOrder &, const AmendOrder &) = default;

    AccountId account = 0; // kAnyAccount: on behalf of an admin
    OrderId order = 0;
    std::optional<Decimal> price;
    std::optional<Decimal> quantity;
};

struct MassCancel
{
    friend bool operator==(const MassCancel &, const MassCancel &) = default;

    AccountId account = 0; // kAnyAccount: every account's orders (admin)
    std::optional<Symbol> symbol; // absent: every instrument
};

struct Deposit
{
    friend bool operator==(const Deposit &, const Deposit &) = default;

    AccountId account = 0;
    AssetCode asset;
    Decimal amount;
};

struct Withdraw
{
    friend bool operator==(const Withdraw &, const Withdraw &) = default;

    AccountId account = 0;
    AssetCode asset;
    Decimal amount;
};

using CommandBody = std::variant<AddInstrument, SetInstrumentStatus, PlaceOrder, CancelOrder, AmendOrder,
                                 MassCancel, Deposit, Withdraw>;

enum class CommandType : std::uint8_t {
    AddInstrument,
    SetInstrumentStatus,
    PlaceOrder,
    CancelOrder,
    AmendOrder,
    MassCancel,
    Deposit,
    Withdraw,
};

struct Command
{
    // Wall-clock time the edge stamped on the command. The sequencer never lets time run backwards: it
    // uses max(time, the previous command's time), so replaying a journal gives the same result.
    TimeNs time = 0;
    CommandBody body;

    CommandType type() const { return static_cast<CommandType>(body.index()); }
};

std::string_view commandName(CommandType type);

} // namespace bourse
