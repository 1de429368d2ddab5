// The projections: the tables the API and the GUI read (assets, instruments, orders, trades, balances,
// candles), kept up to date from the journal's events inside the journal's own transaction, so that they
// commit with it or not at all. One group commit's events are first folded in memory (one row per order,
// balance and candle however many events touched it), then each touched row is written once, through the
// connection's RowSink (native_rows.h). Used by writeBatches() on the thread that opened the connection (the
// journal writer's).
#pragma once

#include "event.h"
#include "expected.h"

#include <QString>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

namespace bourse::sql {

class RowSink;

// Candle intervals in seconds, one candle row per instrument, interval and bucket that saw a trade.
inline constexpr std::array<std::int64_t, 5> kCandleIntervals = {60, 300, 900, 3600, 86400};

// filled_notional's unit: price × quantity in raw quote units, exact (tick × lot is a Decimal, so every
// fill's price × quantity is a whole number of 10^-8).
std::int64_t notionalRaw(Decimal price, Decimal quantity);

// The projection rows one transaction changes. add() every event the transaction inserts into the journal,
// in seq order, then write() once before COMMIT; clear() before reuse (write() leaves it cleared too).
class ProjectionUpdate final
{
public:
    void clear();
    void add(const Event &event);
    // Writes every touched row; the number of rows written, or what failed (the caller rolls back).
    Expected<std::size_t, QString> write(RowSink &sink);

    enum class OrderStatus : std::uint8_t { New, PartiallyFilled, Filled, Cancelled, Expired };
    static const char *statusName(OrderStatus status);

private:
    struct OrderRow
    {
        OrderId id = 0;
        bool accepted = false; // OrderAccepted is in this transaction: the whole row is known
        // The whole row, when accepted.
        AccountId account = 0;
        InstrumentId instrument = 0;
        Side side = Side::Buy;
        OrderType type = OrderType::Limit;
        TimeInForce timeInForce = TimeInForce::Gtc;
        bool postOnly = false;
        SelfTradePrevention stp = SelfTradePrevention::ExpireTaker;
        ClientOrderId clientOrderId;
        TimeNs createdAt = 0;
        // What this transaction changes (the whole value when accepted, else a delta or a replacement).
        std::optional<std::int64_t> price;    // raw; none: a market order, or unchanged
        std::optional<std::int64_t> quantity; // raw; none: unchanged
        std::int64_t filled = 0;              // added to the stored value
        std::int64_t notional = 0;            // added to the stored value
        std::optional<OrderStatus> status;    // none: unchanged
        TimeNs updatedAt = 0;
        Seq seq = 0;
    };
    struct BalanceRow
    {
        AccountId account = 0;
        AssetId asset = 0;
        std::int64_t available = 0;
        std::int64_t reserved = 0;
        Seq seq = 0;
    };
    struct CandleRow
    {
        InstrumentId instrument = 0;
        std::int64_t interval = 0; // seconds
        TimeNs start = 0;
        std::int64_t open = 0;
        std::int64_t high = 0;
        std::int64_t low = 0;
        std::int64_t close = 0;
        std::int64_t volume = 0;
        std::int64_t trades = 0;
    };
    struct TradeRow
    {
        TradeExecuted trade;
        Seq seq = 0;
        TimeNs time = 0;
    };
    struct InstrumentRow
    {
        InstrumentView instrument;
        bool added = false; // InstrumentAdded is in this transaction
        TimeNs createdAt = 0;
        TimeNs updatedAt = 0;
    };
    struct CandleKey
    {
        InstrumentId instrument = 0;
        std::int64_t interval = 0;
        TimeNs start = 0;
        friend bool operator==(const CandleKey &, const CandleKey &) = default;
    };
    struct CandleKeyHash
    {
        std::size_t operator()(const CandleKey &key) const;
    };
    struct PairHash
    {
        std::size_t operator()(const std::pair<std::uint64_t, std::uint64_t> &key) const;
    };

    OrderRow &order(OrderId id, const Event &event);
    void addTrade(const Event &event, const TradeExecuted &trade);
    void addCandle(const CandleKey &key, std::int64_t price, std::int64_t quantity);

    Expected<std::size_t, QString> writeRows(RowSink &sink);

    std::vector<InstrumentRow> m_instruments;
    std::vector<std::pair<AssetId, AssetCode>> m_assets;
    std::vector<OrderRow> m_orders;
    std::unordered_map<OrderId, std::size_t> m_orderIndex; // into m_orders
    std::vector<TradeRow> m_trades;
    std::vector<BalanceRow> m_balances;
    std::unordered_map<std::pair<std::uint64_t, std::uint64_t>, std::size_t, PairHash> m_balanceIndex;
    std::vector<CandleRow> m_candles;
    std::unordered_map<CandleKey, std::size_t, CandleKeyHash> m_candleIndex;
};

} // namespace bourse::sql
