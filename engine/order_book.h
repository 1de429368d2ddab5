// OrderBook: one instrument's resting orders in price-time priority. Prices and quantities are held as
// whole ticks and lots of the instrument, so the hot path is integer arithmetic only. Each side keeps its
// price levels in one sorted array with the best level at the back, and each level an intrusive FIFO list
// of orders drawn from a pool. A level that empties inside the book stays in the array, empty, so that an
// order coming back to that price (the commonest amend) finds it without shifting the array; the best
// level is never empty, and the empties are swept out in place once they outnumber the live levels.
// Engine thread only.
#pragma once

#include "fixed_string.h"
#include "types.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace bourse {

struct PriceLevel;

struct Order
{
    // The fields matching touches come first, on one cache line.
    Order *prev = nullptr;
    Order *next = nullptr;
    PriceLevel *level = nullptr; // null while not resting
    std::int64_t priceTicks = 0; // zero for a market order
    std::int64_t remainingLots = 0;
    std::int64_t quantityLots = 0; // the total, filled included
    std::uint32_t accountIndex = 0;
    InstrumentId instrument = 0;
    Side side = Side::Buy;
    OrderType type = OrderType::Limit;
    SelfTradePrevention stp = SelfTradePrevention::ExpireTaker;
    bool postOnly = false;
    OrderId id = 0;
    AccountId account = 0;
    TimeNs acceptedAt = 0;
    ClientOrderId clientOrderId;
};

struct PriceLevel
{
    std::int64_t priceTicks = 0;
    std::int64_t totalLots = 0;
    std::uint32_t count = 0;
    Order *head = nullptr; // oldest
    Order *tail = nullptr; // newest
};

// ObjectPool: fixed-address objects in chunks; released objects are reused, so steady state allocates
// nothing.
template<typename T>
class ObjectPool final
{
public:
    T *acquire()
    {
        if (m_free.empty())
            addChunk();
        T *object = m_free.back();
        m_free.pop_back();
        *object = T{};
        return object;
    }
    void release(T *object) { m_free.push_back(object); }

private:
    static constexpr std::size_t kChunk = 4096;

    void addChunk()
    {
        m_chunks.push_back(std::make_unique<T[]>(kChunk));
        T *chunk = m_chunks.back().get();
        m_free.reserve(m_chunks.size() * kChunk);
        for (std::size_t i = kChunk; i-- > 0;)
            m_free.push_back(chunk + i);
    }

    std::vector<std::unique_ptr<T[]>> m_chunks;
    std::vector<T *> m_free;
};

class BookSide final
{
public:
    BookSide(Side side, ObjectPool<PriceLevel> &levelPool)
        : m_side(side)
        , m_levelPool(&levelPool)
    {}

    Side side() const { return m_side; }
    bool empty() const { return m_levels.empty(); } // the back level is never empty
    std::size_t levelCount() const { return m_levels.size() - m_emptyLevels; }

    PriceLevel *best() const { return m_levels.empty() ? nullptr : m_levels.back(); }

    // Visits the non-empty levels best first while visit(const PriceLevel &) returns true.
    template<typename Visit>
    void forEachLevel(Visit &&visit) const
    {
        for (auto it = m_levels.rbegin(); it != m_levels.rend(); ++it) {
            if ((*it)->count != 0 && !visit(**it))
                return;
        }
    }

    // Whether an incoming order of the opposite side at `limitTicks` would meet this side's best level.
    bool crossedBy(std::int64_t limitTicks) const
    {
        if (m_levels.empty())
            return false;
        const std::int64_t bestTicks = m_levels.back()->priceTicks;
        return m_side == Side::Sell ? bestTicks <= limitTicks : bestTicks >= limitTicks;
    }

    // Appends the order at the back of its price level (creating the level if needed).
    void append(Order &order);
    // Unlinks the order; drops its level when that empties.
    void remove(Order &order);
    // Lowers the resting order's remaining quantity in place (keeps its priority).
    static void reduce(Order &order, std::int64_t lots)
    {
        order.remainingLots -= lots;
        order.level->totalLots -= lots;
    }

private:
    // Sort key: ascending keys put the best level last for both sides.
    std::int64_t key(std::int64_t priceTicks) const { return m_side == Side::Buy ? priceTicks : -priceTicks; }
    std::size_t lowerBound(std::int64_t key) const;
    void popEmptyLevels();
    void sweepEmptyLevels();

    Side m_side;
    ObjectPool<PriceLevel> *m_levelPool;
    std::vector<std::int64_t> m_keys; // parallel to m_levels, ascending
    std::vector<PriceLevel *> m_levels;
    std::size_t m_emptyLevels = 0; // empty levels kept inside the array
};

class OrderBook final
{
public:
    explicit OrderBook(ObjectPool<PriceLevel> &levelPool)
        : m_bids(Side::Buy, levelPool)
        , m_asks(Side::Sell, levelPool)
    {}

    BookSide &side(Side side) { return side == Side::Buy ? m_bids : m_asks; }
    const BookSide &side(Side side) const { return side == Side::Buy ? m_bids : m_asks; }

private:
    BookSide m_bids;
    BookSide m_asks;
};

} // namespace bourse
