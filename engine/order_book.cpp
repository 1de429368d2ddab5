#include "order_book.h"

#include <algorithm>

namespace bourse {

std::size_t BookSide::lowerBound(std::int64_t wanted) const
{
    // Most traffic lands at or next to the best level: look there before bisecting the whole side.
    const std::size_t n = m_keys.size();
    if (n == 0 || m_keys[n - 1] < wanted)
        return n;
    if (m_keys[n - 1] == wanted || (n >= 2 && m_keys[n - 2] < wanted))
        return n - 1;
    return static_cast<std::size_t>(std::lower_bound(m_keys.begin(), m_keys.end(), wanted) - m_keys.begin());
}

void BookSide::append(Order &order)
{
    const std::int64_t wanted = key(order.priceTicks);
    const std::size_t at = lowerBound(wanted);
    PriceLevel *level = nullptr;
    if (at < m_keys.size() && m_keys[at] == wanted) {
        level = m_levels[at];
    } else {
        level = m_levelPool->acquire();
        level->priceTicks = order.priceTicks;
        m_keys.insert(m_keys.begin() + static_cast<std::ptrdiff_t>(at), wanted);
        m_levels.insert(m_levels.begin() + static_cast<std::ptrdiff_t>(at), level);
    }
    order.level = level;
    order.next = nullptr;
    order.prev = level->tail;
    if (level->tail)
        level->tail->next = &order;
    else
        level->head = &order;
    level->tail = &order;
    level->totalLots += order.remainingLots;
    ++level->count;
}

void BookSide::remove(Order &order)
{
    PriceLevel *level = order.level;
    if (order.prev)
        order.prev->next = order.next;
    else
        level->head = order.next;
    if (order.next)
        order.next->prev = order.prev;
    else
        level->tail = order.prev;
    level->totalLots -= order.remainingLots;
    --level->count;
    order.prev = order.next = nullptr;
    order.level = nullptr;
    if (level->count == 0)
        eraseLevel(level);
}

void BookSide::eraseLevel(PriceLevel *level)
{
    const std::size_t n = m_levels.size();
    std::size_t at = n - 1;
    if (m_levels[at] != level)
        at = lowerBound(key(level->priceTicks));
    m_keys.erase(m_keys.begin() + static_cast<std::ptrdiff_t>(at));
    m_levels.erase(m_levels.begin() + static_cast<std::ptrdiff_t>(at));
    m_levelPool->release(level);
}

} // namespace bourse
