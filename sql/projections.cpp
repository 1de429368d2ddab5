#include "projections.h"

#include "native_rows.h"

#include <algorithm>
#include <string_view>
#include <type_traits>
#include <variant>

namespace bourse::sql {

namespace {

constexpr std::int64_t kNanosPerSecond = 1'000'000'000;
constexpr std::int64_t kRawPerUnit = 100'000'000; // Decimal's 10^8

using Mode = RowTable::Mode;
using Type = ColumnType;
using Role = ColumnRole;

// The projection tables as the rows below fill them. Ids of instruments and assets are INTEGER columns,
// every other number a BIGINT; a post_only flag is a BOOLEAN (0 or 1 in SQLite).
const RowTable kAssets{"assets", Mode::Upsert, {{"id", Type::Integer, Role::Key}, {"code", Type::Text, Role::Initial}}};
const RowTable kAddedInstruments{"instruments",
                                 Mode::Append,
                                 {{"id", Type::Integer},
                                  {"symbol", Type::Text},
                                  {"base_asset", Type::Integer},
                                  {"quote_asset", Type::Integer},
                                  {"tick_size", Type::BigInt},
                                  {"lot_size", Type::BigInt},
                                  {"min_quantity", Type::BigInt},
                                  {"status", Type::Text},
                                  {"created_at_ns", Type::BigInt},
                                  {"updated_at_ns", Type::BigInt}}};
const RowTable kInstrumentStatuses{"instruments",
                                   Mode::Update,
                                   {{"id", Type::Integer, Role::Key},
                                    {"status", Type::Text, Role::Set},
                                    {"updated_at_ns", Type::BigInt, Role::Set}}};
const RowTable kNewOrders{"orders",
                          Mode::Append,
                          {{"id", Type::BigInt},
                           {"user_id", Type::BigInt},
                           {"instrument_id", Type::Integer},
                           {"client_order_id", Type::Text},
                           {"side", Type::Text},
                           {"type", Type::Text},
                           {"time_in_force", Type::Text},
                           {"post_only", Type::Boolean},
                           {"stp", Type::Text},
                           {"price", Type::BigInt},
                           {"quantity", Type::BigInt},
                           {"filled_quantity", Type::BigInt},
                           {"filled_notional", Type::BigInt},
                           {"status", Type::Text},
                           {"created_at_ns", Type::BigInt},
                           {"updated_at_ns", Type::BigInt},
                           {"seq", Type::BigInt}}};
// An order accepted by an earlier transaction: what this one changes (OrderRow).
const RowTable kOrderChanges{"orders",
                             Mode::Update,
                             {{"id", Type::BigInt, Role::Key},
                              {"price", Type::BigInt, Role::SetIfGiven},
                              {"quantity", Type::BigInt, Role::SetIfGiven},
                              {"filled_quantity", Type::BigInt, Role::Add},
                              {"filled_notional", Type::BigInt, Role::Add},
                              {"status", Type::Text, Role::SetIfGiven},
                              {"updated_at_ns", Type::BigInt, Role::Set},
                              {"seq", Type::BigInt, Role::Set}}};
const RowTable kTrades{"trades",
                       Mode::Append,
                       {{"id", Type::BigInt},
                        {"instrument_id", Type::Integer},
                        {"price", Type::BigInt},
                        {"quantity", Type::BigInt},
                        {"taker_side", Type::Text},
                        {"maker_order_id", Type::BigInt},
                        {"taker_order_id", Type::BigInt},
                        {"maker_user_id", Type::BigInt},
                        {"taker_user_id", Type::BigInt},
                        {"seq", Type::BigInt},
                        {"time_ns", Type::BigInt}}};
const RowTable kBalances{"balances",
                         Mode::Upsert,
                         {{"user_id", Type::BigInt, Role::Key},
                          {"asset_id", Type::Integer, Role::Key},
                          {"available", Type::BigInt, Role::Set},
                          {"reserved", Type::BigInt, Role::Set},
                          {"updated_seq", Type::BigInt, Role::Set}}};
const RowTable kCandles{"candles",
                        Mode::Upsert,
                        {{"instrument_id", Type::Integer, Role::Key},
                         {"interval_s", Type::Integer, Role::Key},
                         {"start_ns", Type::BigInt, Role::Key},
                         {"open", Type::BigInt, Role::Initial},
                         {"high", Type::BigInt, Role::Max},
                         {"low", Type::BigInt, Role::Min},
                         {"close", Type::BigInt, Role::Set},
                         {"volume", Type::BigInt, Role::Add},
                         {"trades", Type::Integer, Role::Add}}};

std::int64_t integer(std::uint64_t value)
{
    return static_cast<std::int64_t>(value); // ids and seqs fit: the engine numbers them from 0 or 1
}

// The rows of one table: begin, one call per row, finish; the rows written, or what failed.
template<typename WriteRow>
Expected<std::size_t, QString> writeTable(RowSink &sink, const RowTable &table, std::size_t rows, WriteRow writeRow)
{
    if (rows == 0)
        return std::size_t(0);
    if (auto error = sink.begin(table))
        return unexpected(*error);
    std::size_t written = 0;
    for (std::size_t i = 0; i < rows; ++i) {
        if (!writeRow(i))
            continue;
        if (auto error = sink.endRow())
            return unexpected(*error);
        ++written;
    }
    if (auto error = sink.finish())
        return unexpected(*error);
    return written;
}

} // namespace

std::int64_t notionalRaw(Decimal price, Decimal quantity)
{
    __extension__ using Wide = __int128;
    return static_cast<std::int64_t>(static_cast<Wide>(price.raw()) * quantity.raw() / kRawPerUnit);
}

const char *ProjectionUpdate::statusName(OrderStatus status)
{
    switch (status) {
    case OrderStatus::New: return "new";
    case OrderStatus::PartiallyFilled: return "partially_filled";
    case OrderStatus::Filled: return "filled";
    case OrderStatus::Cancelled: return "cancelled";
    case OrderStatus::Expired: return "expired";
    }
    return "new";
}

std::size_t ProjectionUpdate::CandleKeyHash::operator()(const CandleKey &key) const
{
    std::uint64_t h = static_cast<std::uint64_t>(key.start) * 0x9e3779b97f4a7c15ULL;
    h ^= (static_cast<std::uint64_t>(key.instrument) << 20) ^ static_cast<std::uint64_t>(key.interval);
    return static_cast<std::size_t>(h ^ (h >> 29));
}

std::size_t ProjectionUpdate::PairHash::operator()(const std::pair<std::uint64_t, std::uint64_t> &key) const
{
    const std::uint64_t h = key.first * 0x9e3779b97f4a7c15ULL ^ (key.second + 0x632be59bd9b4e019ULL);
    return static_cast<std::size_t>(h ^ (h >> 31));
}

void ProjectionUpdate::clear()
{
    m_instruments.clear();
    m_assets.clear();
    m_orders.clear();
    m_orderIndex.clear();
    m_trades.clear();
    m_balances.clear();
    m_balanceIndex.clear();
    m_candles.clear();
    m_candleIndex.clear();
}

ProjectionUpdate::OrderRow &ProjectionUpdate::order(OrderId id, const Event &event)
{
    const auto [slot, inserted] = m_orderIndex.try_emplace(id, m_orders.size());
    if (inserted) {
        m_orders.emplace_back();
        m_orders.back().id = id;
    }
    OrderRow &row = m_orders[slot->second];
    row.updatedAt = event.time;
    row.seq = event.seq;
    return row;
}

void ProjectionUpdate::addCandle(const CandleKey &key, std::int64_t price, std::int64_t quantity)
{
    const auto [slot, inserted] = m_candleIndex.try_emplace(key, m_candles.size());
    if (inserted) {
        m_candles.push_back(CandleRow{key.instrument, key.interval, key.start, price, price, price, price, quantity, 1});
        return;
    }
    CandleRow &candle = m_candles[slot->second];
    candle.high = std::max(candle.high, price);
    candle.low = std::min(candle.low, price);
    candle.close = price;
    candle.volume += quantity;
    ++candle.trades;
}

void ProjectionUpdate::addTrade(const Event &event, const TradeExecuted &trade)
{
    m_trades.push_back(TradeRow{trade, event.seq, event.time});
    const std::int64_t notional = notionalRaw(trade.price, trade.quantity);
    const auto fill = [&](OrderId id, Decimal remaining) {
        OrderRow &row = order(id, event);
        row.filled += trade.quantity.raw();
        row.notional += notional;
        row.status = remaining.raw() == 0 ? OrderStatus::Filled : OrderStatus::PartiallyFilled;
    };
    fill(trade.makerOrder, trade.makerRemaining);
    fill(trade.takerOrder, trade.takerRemaining);
    for (const std::int64_t interval : kCandleIntervals) {
        const std::int64_t width = interval * kNanosPerSecond;
        TimeNs start = event.time / width * width;
        if (start > event.time)
            start -= width; // floor, not truncation, should a time ever be negative
        addCandle(CandleKey{trade.instrument, interval, start}, trade.price.raw(), trade.quantity.raw());
    }
}

void ProjectionUpdate::add(const Event &event)
{
    std::visit(
        [&](const auto &body) {
            using Body = std::decay_t<decltype(body)>;
            if constexpr (std::is_same_v<Body, InstrumentAdded>) {
                const InstrumentView &view = body.instrument;
                for (const auto &[id, code] :
                     {std::pair{view.baseAsset, view.base}, std::pair{view.quoteAsset, view.quote}}) {
                    bool known = false;
                    for (const auto &asset : m_assets)
                        known = known || asset.first == id;
                    if (!known)
                        m_assets.emplace_back(id, code);
                }
                m_instruments.push_back(InstrumentRow{view, true, event.time, event.time});
            } else if constexpr (std::is_same_v<Body, InstrumentStatusChanged>) {
                for (InstrumentRow &row : m_instruments) {
                    if (row.instrument.id == body.instrument) {
                        row.instrument.status = body.status;
                        row.updatedAt = event.time;
                        return;
                    }
                }
                InstrumentRow row;
                row.instrument.id = body.instrument;
                row.instrument.status = body.status;
                row.updatedAt = event.time;
                m_instruments.push_back(row);
            } else if constexpr (std::is_same_v<Body, OrderAccepted>) {
                OrderRow &row = order(body.order, event);
                row.accepted = true;
                row.account = body.account;
                row.instrument = body.instrument;
                row.side = body.side;
                row.type = body.type;
                row.timeInForce = body.timeInForce;
                row.postOnly = body.postOnly;
                row.stp = body.stp;
                row.clientOrderId = body.clientOrderId;
                row.createdAt = event.time;
                if (body.type == OrderType::Limit)
                    row.price = body.price.raw();
                row.quantity = body.quantity.raw();
                row.status = OrderStatus::New;
            } else if constexpr (std::is_same_v<Body, OrderAmended>) {
                // The status stays: an amend leaves the quantity above what is filled.
                OrderRow &row = order(body.order, event);
                row.price = body.price.raw();
                row.quantity = body.quantity.raw();
            } else if constexpr (std::is_same_v<Body, OrderCancelled>) {
                order(body.order, event).status = OrderStatus::Cancelled;
            } else if constexpr (std::is_same_v<Body, OrderExpired>) {
                order(body.order, event).status = OrderStatus::Expired;
            } else if constexpr (std::is_same_v<Body, TradeExecuted>) {
                addTrade(event, body);
            } else if constexpr (std::is_same_v<Body, BalanceChanged>) {
                const BalanceRow row{body.account, body.asset, body.available.raw(), body.reserved.raw(), event.seq};
                const auto [slot, inserted]
                    = m_balanceIndex.try_emplace(std::pair<std::uint64_t, std::uint64_t>{body.account, body.asset},
                                                 m_balances.size());
                if (inserted)
                    m_balances.push_back(row);
                else
                    m_balances[slot->second] = row;
            }
            // FundsDeposited, FundsWithdrawn and CommandRejected change no projection: the balance change
            // a deposit or withdrawal makes arrives as BalanceChanged.
        },
        event.body);
}

Expected<std::size_t, QString> ProjectionUpdate::write(RowSink &sink)
{
    auto written = writeRows(sink);
    clear();
    return written;
}

Expected<std::size_t, QString> ProjectionUpdate::writeRows(RowSink &sink)
{
    std::size_t total = 0;
    // Each table is written once, in this order: an instrument's assets before it, an order before
    // the rows that change it.
    const auto add = [&total](const Expected<std::size_t, QString> &written) {
        if (written)
            total += *written;
        return written.hasValue();
    };

    const auto assets = writeTable(sink, kAssets, m_assets.size(), [&](std::size_t i) {
        sink.integer(integer(m_assets[i].first));
        sink.text(m_assets[i].second.view());
        return true;
    });
    if (!add(assets))
        return assets;
    const auto added = writeTable(sink, kAddedInstruments, m_instruments.size(), [&](std::size_t i) {
        const InstrumentRow &row = m_instruments[i];
        if (!row.added)
            return false;
        const InstrumentView &view = row.instrument;
        sink.integer(integer(view.id));
        sink.text(view.symbol.view());
        sink.integer(integer(view.baseAsset));
        sink.integer(integer(view.quoteAsset));
        sink.integer(view.tickSize.raw());
        sink.integer(view.lotSize.raw());
        sink.integer(view.minQuantity.raw());
        sink.text(instrumentStatusName(view.status));
        sink.integer(row.createdAt);
        sink.integer(row.updatedAt);
        return true;
    });
    if (!add(added))
        return added;
    const auto statuses = writeTable(sink, kInstrumentStatuses, m_instruments.size(), [&](std::size_t i) {
        const InstrumentRow &row = m_instruments[i];
        if (row.added)
            return false;
        sink.integer(integer(row.instrument.id));
        sink.text(instrumentStatusName(row.instrument.status));
        sink.integer(row.updatedAt);
        return true;
    });
    if (!add(statuses))
        return statuses;

    const auto newOrders = writeTable(sink, kNewOrders, m_orders.size(), [&](std::size_t i) {
        const OrderRow &row = m_orders[i];
        if (!row.accepted)
            return false;
        sink.integer(integer(row.id));
        sink.integer(integer(row.account));
        sink.integer(integer(row.instrument));
        if (const std::string_view clientOrderId = row.clientOrderId.view(); clientOrderId.empty())
            sink.null();
        else
            sink.text(clientOrderId);
        sink.text(sideName(row.side));
        sink.text(orderTypeName(row.type));
        sink.text(timeInForceName(row.timeInForce));
        sink.boolean(row.postOnly);
        sink.text(stpName(row.stp));
        sink.optionalInteger(row.price);
        sink.integer(row.quantity.value_or(0));
        sink.integer(row.filled);
        sink.integer(row.notional);
        sink.text(statusName(row.status.value_or(OrderStatus::New)));
        sink.integer(row.createdAt);
        sink.integer(row.updatedAt);
        sink.integer(integer(row.seq));
        return true;
    });
    if (!add(newOrders))
        return newOrders;
    const auto changedOrders = writeTable(sink, kOrderChanges, m_orders.size(), [&](std::size_t i) {
        const OrderRow &row = m_orders[i];
        if (row.accepted)
            return false;
        sink.integer(integer(row.id));
        sink.optionalInteger(row.price);
        sink.optionalInteger(row.quantity);
        sink.integer(row.filled);
        sink.integer(row.notional);
        if (row.status)
            sink.text(statusName(*row.status));
        else
            sink.null();
        sink.integer(row.updatedAt);
        sink.integer(integer(row.seq));
        return true;
    });
    if (!add(changedOrders))
        return changedOrders;

    const auto trades = writeTable(sink, kTrades, m_trades.size(), [&](std::size_t i) {
        const TradeRow &row = m_trades[i];
        const TradeExecuted &trade = row.trade;
        sink.integer(integer(trade.trade));
        sink.integer(integer(trade.instrument));
        sink.integer(trade.price.raw());
        sink.integer(trade.quantity.raw());
        sink.text(sideName(trade.takerSide));
        sink.integer(integer(trade.makerOrder));
        sink.integer(integer(trade.takerOrder));
        sink.integer(integer(trade.makerAccount));
        sink.integer(integer(trade.takerAccount));
        sink.integer(integer(row.seq));
        sink.integer(row.time);
        return true;
    });
    if (!add(trades))
        return trades;

    const auto balances = writeTable(sink, kBalances, m_balances.size(), [&](std::size_t i) {
        const BalanceRow &row = m_balances[i];
        sink.integer(integer(row.account));
        sink.integer(integer(row.asset));
        sink.integer(row.available);
        sink.integer(row.reserved);
        sink.integer(integer(row.seq));
        return true;
    });
    if (!add(balances))
        return balances;

    const auto candles = writeTable(sink, kCandles, m_candles.size(), [&](std::size_t i) {
        const CandleRow &row = m_candles[i];
        sink.integer(integer(row.instrument));
        sink.integer(row.interval);
        sink.integer(row.start);
        sink.integer(row.open);
        sink.integer(row.high);
        sink.integer(row.low);
        sink.integer(row.close);
        sink.integer(row.volume);
        sink.integer(row.trades);
        return true;
    });
    if (!add(candles))
        return candles;
    return total;
}

} // namespace bourse::sql
