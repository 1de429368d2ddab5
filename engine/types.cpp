#include "command.h"
#include "types.h"

namespace bourse {

std::string_view rejectField(RejectReason reason)
{
    switch (reason) {
    case RejectReason::UnknownInstrument:
    case RejectReason::SymbolInvalid:
    case RejectReason::InstrumentExists:
        return "symbol";
    case RejectReason::PriceRequired:
    case RejectReason::PriceNotAllowed:
    case RejectReason::PriceNotPositive:
    case RejectReason::PriceOffTick:
    case RejectReason::PostOnlyWouldTake:
        return "price";
    case RejectReason::QuantityNotPositive:
    case RejectReason::QuantityOffLot:
    case RejectReason::QuantityBelowMinimum:
    case RejectReason::QuantityNotAboveFilled:
    case RejectReason::NotionalOverflow:
        return "quantity";
    case RejectReason::TimeInForceInvalid:
        return "time_in_force";
    case RejectReason::PostOnlyInvalid:
        return "post_only";
    case RejectReason::ClientOrderIdInvalid:
    case RejectReason::ClientOrderIdReused:
        return "client_order_id";
    case RejectReason::UnknownAsset:
    case RejectReason::AssetInvalid:
        return "asset";
    case RejectReason::AmountNotPositive:
    case RejectReason::SupplyOverflow:
        return "amount";
    case RejectReason::TickSizeInvalid:
        return "tick_size";
    case RejectReason::LotSizeInvalid:
    case RejectReason::PrecisionTooFine:
        return "lot_size";
    case RejectReason::MinQuantityInvalid:
        return "min_quantity";
    case RejectReason::MarketHalted:
    case RejectReason::InvalidAccount:
    case RejectReason::InsufficientBalance:
    case RejectReason::UnknownOrder:
    case RejectReason::OrderNotOpen:
    case RejectReason::AmendChangesNothing:
        return {};
    }
    return {};
}

std::string_view rejectName(RejectReason reason)
{
    switch (reason) {
    case RejectReason::UnknownInstrument: return "unknown_instrument";
    case RejectReason::MarketHalted: return "market_halted";
    case RejectReason::InvalidAccount: return "invalid_account";
    case RejectReason::PriceRequired: return "price_required";
    case RejectReason::PriceNotAllowed: return "price_not_allowed";
    case RejectReason::PriceNotPositive: return "price_not_positive";
    case RejectReason::PriceOffTick: return "price_off_tick";
    case RejectReason::QuantityNotPositive: return "quantity_not_positive";
    case RejectReason::QuantityOffLot: return "quantity_off_lot";
    case RejectReason::QuantityBelowMinimum: return "quantity_below_minimum";
    case RejectReason::NotionalOverflow: return "notional_overflow";
    case RejectReason::TimeInForceInvalid: return "time_in_force_invalid";
    case RejectReason::PostOnlyInvalid: return "post_only_invalid";
    case RejectReason::ClientOrderIdInvalid: return "client_order_id_invalid";
    case RejectReason::ClientOrderIdReused: return "client_order_id_reused";
    case RejectReason::InsufficientBalance: return "insufficient_balance";
    case RejectReason::PostOnlyWouldTake: return "post_only_would_take";
    case RejectReason::UnknownOrder: return "unknown_order";
    case RejectReason::OrderNotOpen: return "order_not_open";
    case RejectReason::AmendChangesNothing: return "amend_changes_nothing";
    case RejectReason::QuantityNotAboveFilled: return "quantity_not_above_filled";
    case RejectReason::UnknownAsset: return "unknown_asset";
    case RejectReason::AmountNotPositive: return "amount_not_positive";
    case RejectReason::SupplyOverflow: return "supply_overflow";
    case RejectReason::SymbolInvalid: return "symbol_invalid";
    case RejectReason::AssetInvalid: return "asset_invalid";
    case RejectReason::InstrumentExists: return "instrument_exists";
    case RejectReason::TickSizeInvalid: return "tick_size_invalid";
    case RejectReason::LotSizeInvalid: return "lot_size_invalid";
    case RejectReason::MinQuantityInvalid: return "min_quantity_invalid";
    case RejectReason::PrecisionTooFine: return "precision_too_fine";
    }
    return "unknown";
}

std::string_view sideName(Side side)
{
    return side == Side::Buy ? "buy" : "sell";
}

std::string_view orderTypeName(OrderType type)
{
    return type == OrderType::Limit ? "limit" : "market";
}

std::string_view timeInForceName(TimeInForce tif)
{
    switch (tif) {
    case TimeInForce::Gtc: return "gtc";
    case TimeInForce::Ioc: return "ioc";
    case TimeInForce::Fok: return "fok";
    }
    return "gtc";
}

std::string_view stpName(SelfTradePrevention stp)
{
    switch (stp) {
    case SelfTradePrevention::ExpireTaker: return "expire_taker";
    case SelfTradePrevention::ExpireMaker: return "expire_maker";
    case SelfTradePrevention::ExpireBoth: return "expire_both";
    case SelfTradePrevention::None: return "none";
    }
    return "expire_taker";
}

std::string_view instrumentStatusName(InstrumentStatus status)
{
    return status == InstrumentStatus::Trading ? "trading" : "halted";
}

std::string_view cancelReasonName(CancelReason reason)
{
    switch (reason) {
    case CancelReason::Requested: return "requested";
    case CancelReason::MassCancel: return "mass_cancel";
    case CancelReason::KillSwitch: return "kill_switch";
    }
    return "requested";
}

std::string_view expireReasonName(ExpireReason reason)
{
    switch (reason) {
    case ExpireReason::ImmediateOrCancel: return "immediate_or_cancel";
    case ExpireReason::FillOrKill: return "fill_or_kill";
    case ExpireReason::SelfTradePrevention: return "self_trade_prevention";
    case ExpireReason::InsufficientBalance: return "insufficient_balance";
    }
    return "immediate_or_cancel";
}

std::string_view commandName(CommandType type)
{
    switch (type) {
    case CommandType::AddInstrument: return "add_instrument";
    case CommandType::SetInstrumentStatus: return "set_instrument_status";
    case CommandType::PlaceOrder: return "place_order";
    case CommandType::CancelOrder: return "cancel_order";
    case CommandType::AmendOrder: return "amend_order";
    case CommandType::MassCancel: return "mass_cancel";
    case CommandType::Deposit: return "deposit";
    case CommandType::Withdraw: return "withdraw";
    }
    return "unknown";
}

std::optional<Side> parseSide(std::string_view text)
{
    if (text == "buy")
        return Side::Buy;
    if (text == "sell")
        return Side::Sell;
    return std::nullopt;
}

std::optional<OrderType> parseOrderType(std::string_view text)
{
    if (text == "limit")
        return OrderType::Limit;
    if (text == "market")
        return OrderType::Market;
    return std::nullopt;
}

std::optional<TimeInForce> parseTimeInForce(std::string_view text)
{
    for (auto tif : {TimeInForce::Gtc, TimeInForce::Ioc, TimeInForce::Fok}) {
        if (text == timeInForceName(tif))
            return tif;
    }
    return std::nullopt;
}

std::optional<SelfTradePrevention> parseStp(std::string_view text)
{
    for (auto stp : {SelfTradePrevention::ExpireTaker, SelfTradePrevention::ExpireMaker,
                     SelfTradePrevention::ExpireBoth, SelfTradePrevention::None}) {
        if (text == stpName(stp))
            return stp;
    }
    return std::nullopt;
}

std::optional<InstrumentStatus> parseInstrumentStatus(std::string_view text)
{
    if (text == "trading")
        return InstrumentStatus::Trading;
    if (text == "halted")
        return InstrumentStatus::Halted;
    return std::nullopt;
}

} // namespace bourse
