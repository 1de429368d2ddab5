// MarketState: the server's view of the market, built only from durable events (DESIGN.md: nothing is
// published before the journal's COMMIT). It keeps the instruments, an aggregated (L2) book per instrument
// with the open limit orders needed to maintain it, a book sequence number per instrument for gap-free
// streaming, and the last trade; apply() takes one committed batch and says which levels it changed.
// One thread only (the HTTP thread, fed by EngineHost::batchApplied); not thread-safe.
#pragma once

#include "event.h"
#include "flat_hash_map.h"
#include "sequencer.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

namespace bourse::server {

// One level whose net state a batch changed: its final total and order count; quantity zero means the
// level is gone.
struct LevelChange
{
    friend bool operator==(const LevelChange &, const LevelChange &) = default;

    Decimal price;
    Decimal quantity;
    std::uint32_t orders = 0;
};

// What one batch did to one instrument's book, each side best first. bookSeq is the book's new sequence
// number: exactly one more than before this batch.
struct BookDelta
{
    friend bool operator==(const BookDelta &, const BookDelta &) = default;

    InstrumentId instrument = 0;
    std::uint64_t bookSeq = 0;
    std::vector<LevelChange> bids;
    std::vector<LevelChange> asks;
};

struct LastTrade
{
    friend bool operator==(const LastTrade &, const LastTrade &) = default;

    TradeId trade = 0;
    Decimal price;
    Decimal quantity;
    Side takerSide = Side::Buy;
    TimeNs time = 0;
};

class MarketState final
{
public:
    MarketState() = default; // an empty venue, before any event

    // The market of a recovered engine, at its lastSeq(). Call it where the engine may be read: before it
    // is handed to EngineHost, or on the engine thread. Book sequence numbers start at 0; there is no last
    // trade until the next one (the engine does not keep it).
    static MarketState fromEngine(const Sequencer &engine);

    // Applies one committed batch (events in seq order). Events with seq <= lastSeq() were applied before
    // and are skipped, so a batch delivered twice changes nothing the second time. Returns, in instrument
    // id order, one delta per instrument whose book differs from before the batch; a level that changed
    // and came back within the batch is not listed.
    std::vector<BookDelta> apply(const std::vector<Event> &events);

    Seq lastSeq() const { return m_lastSeq; }

    // Where every book's sequence starts (this one and instruments added later). A server starts its books
    // at a base above any seq an earlier run can have reached (VenueServer: start time × 10^6), so that a
    // client resuming from a seq of a previous run (Last-Event-ID, since_seq) gets a snapshot instead of
    // this run's updates applied to another run's book. Call before the first apply().
    void setBookSeqBase(std::uint64_t base);

    std::size_t instrumentCount() const { return m_instruments.size(); }
    std::optional<InstrumentView> instrument(InstrumentId id) const;
    std::optional<InstrumentView> instrument(std::string_view symbol) const;
    std::vector<InstrumentView> instruments() const; // in id order

    // Up to `depth` levels of one side, best first (SIZE_MAX for all). Empty for an unknown instrument.
    std::vector<LevelView> levels(InstrumentId instrument, Side side, std::size_t depth) const;
    std::optional<LevelView> bestBid(InstrumentId instrument) const;
    std::optional<LevelView> bestAsk(InstrumentId instrument) const;
    // Rises by exactly 1 for every batch that changed the instrument's book; 0 for an unknown instrument.
    std::uint64_t bookSeq(InstrumentId instrument) const;
    std::optional<LastTrade> lastTrade(InstrumentId instrument) const;
    std::size_t openOrderCount() const { return m_orders.size(); } // limit orders resting in the books
    // The instrument of a resting order; none when the order is not resting (unknown, closed, market).
    std::optional<InstrumentView> instrumentOfOrder(OrderId order) const;

private:
    struct Level
    {
        std::int64_t quantity = 0; // raw Decimal units
        std::uint32_t orders = 0;
        friend bool operator==(const Level &, const Level &) = default;
    };
    // Price (raw Decimal units) → level, ascending on both sides: the best bid is the last entry.
    using BookSide = std::map<std::int64_t, Level>;

    struct Market
    {
        InstrumentView view;
        std::array<BookSide, 2> sides; // indexed by Side
        std::uint64_t bookSeq = 0;
        std::optional<LastTrade> lastTrade;
    };

    struct OpenOrder
    {
        InstrumentId instrument = 0;
        Side side = Side::Buy;
        std::int64_t price = 0;
        std::int64_t remaining = 0;
    };

    // A level the current batch touched, with its state before the batch.
    struct TouchKey
    {
        InstrumentId instrument = 0;
        Side side = Side::Buy;
        std::int64_t price = 0;
        friend auto operator<=>(const TouchKey &, const TouchKey &) = default;
    };

    const Market *market(InstrumentId id) const;
    void applyOne(const Event &event);
    void addInstrument(const InstrumentView &view);
    void rest(OrderId id, const OpenOrder &order);
    // Takes `quantity` off the open order: from its level, and out of the book once nothing remains.
    void reduce(OrderId id, std::int64_t quantity);
    void remove(OrderId id);
    // Adds (or with negative amounts, takes) to a level, first remembering its state before the batch.
    void changeLevel(const OpenOrder &order, std::int64_t quantity, std::int32_t orders);
    std::vector<BookDelta> collectDeltas();

    std::vector<Market> m_instruments; // by id: the engine numbers instruments 0, 1, 2, ...
    std::map<Symbol, InstrumentId> m_bySymbol;
    FlatHashMap<OrderId, OpenOrder> m_orders;
    std::map<TouchKey, Level> m_touched; // during apply() only
    Seq m_lastSeq = 0;
    std::uint64_t m_bookSeqBase = 0;
};

} // namespace bourse::server
