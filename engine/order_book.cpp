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
        if (level->count == 0)
            --m_emptyLevels;
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
    if (level->count != 0)
        return;
    if (level == m_levels.back()) {
        popEmptyLevels();
    } else if (++m_emptyLevels > levelCount() + 64) {
        sweepEmptyLevels();
    }
}

void BookSide::popEmptyLevels()
{
    // The best level just emptied (it was never counted as kept); so may the ones kept behind it.
    m_levelPool->release(m_levels.back());
    m_levels.pop_back();
    m_keys.pop_back();
    while (!m_levels.empty() && m_levels.back()->count == 0) {
        m_levelPool->release(m_levels.back());
        m_levels.pop_back();
        m_keys.pop_back();
        --m_emptyLevels;
    }
}

void BookSide::sweepEmptyLevels()
{
    // In place and in order, allocating nothing: one pass over both arrays.
    std::size_t kept = 0;
    for (std::size_t i = 0; i < m_levels.size(); ++i) {
        if (m_levels[i]->count == 0) {
            m_levelPool->release(m_levels[i]);
            continue;
        }
        m_levels[kept] = m_levels[i];
        m_keys[kept] = m_keys[i];
        ++kept;
    }
    m_levels.resize(kept);
    m_keys.resize(kept);
    m_emptyLevels = 0;
}

} // namespace bourse
