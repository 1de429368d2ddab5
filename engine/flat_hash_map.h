// FlatHashMap: an open-addressing hash map (linear probing, backward-shift deletion) for the engine's
// indexes: order id → order, account id → account, client order id → entry. One array, no node
// allocation: once it has grown to the working set, inserts and erases allocate nothing.
// Not thread-safe; the engine thread owns every instance.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace bourse {

struct IntegerHash
{
    std::size_t operator()(std::uint64_t key) const
    {
        // Fibonacci hashing spreads sequential ids over the table.
        return static_cast<std::size_t>((key * 0x9e3779b97f4a7c15ULL) >> 17);
    }
};

template<typename Key, typename Value, typename Hash = IntegerHash>
class FlatHashMap final
{
public:
    explicit FlatHashMap(std::size_t initialCapacity = 16)
    {
        std::size_t capacity = 16;
        while (capacity < initialCapacity * 2)
            capacity *= 2;
        m_slots.resize(capacity);
    }

    std::size_t size() const { return m_size; }

    Value *find(const Key &key)
    {
        for (std::size_t i = home(key);; i = next(i)) {
            Slot &slot = m_slots[i];
            if (!slot.used)
                return nullptr;
            if (slot.key == key)
                return &slot.value;
        }
    }
    const Value *find(const Key &key) const { return const_cast<FlatHashMap *>(this)->find(key); }

    // Inserts or overwrites.
    Value &insert(const Key &key, Value value)
    {
        if ((m_size + 1) * 2 > m_slots.size())
            grow();
        for (std::size_t i = home(key);; i = next(i)) {
            Slot &slot = m_slots[i];
            if (!slot.used) {
                slot.used = true;
                slot.key = key;
                slot.value = std::move(value);
                ++m_size;
                return slot.value;
            }
            if (slot.key == key) {
                slot.value = std::move(value);
                return slot.value;
            }
        }
    }

    bool erase(const Key &key)
    {
        std::size_t i = home(key);
        for (;; i = next(i)) {
            if (!m_slots[i].used)
                return false;
            if (m_slots[i].key == key)
                break;
        }
        // Backward shift: pull later members of the probe run into the hole so lookups never need
        // tombstones.
        std::size_t hole = i;
        for (std::size_t j = next(hole);; j = next(j)) {
            Slot &candidate = m_slots[j];
            if (!candidate.used)
                break;
            const std::size_t ideal = home(candidate.key);
            const bool movable = hole <= j ? (ideal <= hole || ideal > j) : (ideal <= hole && ideal > j);
            if (movable) {
                m_slots[hole] = std::move(candidate);
                hole = j;
            }
        }
        m_slots[hole].used = false;
        m_slots[hole].value = Value{};
        --m_size;
        return true;
    }

    template<typename Visit>
    void forEach(Visit &&visit) const
    {
        for (const Slot &slot : m_slots) {
            if (slot.used)
                visit(slot.key, slot.value);
        }
    }

private:
    struct Slot
    {
        Key key{};
        Value value{};
        bool used = false;
    };

    std::size_t home(const Key &key) const { return Hash{}(key) & (m_slots.size() - 1); }
    std::size_t next(std::size_t i) const { return (i + 1) & (m_slots.size() - 1); }

    void grow()
    {
        std::vector<Slot> old(m_slots.size() * 2);
        old.swap(m_slots);
        m_size = 0;
        for (Slot &slot : old) {
            if (slot.used)
                insert(slot.key, std::move(slot.value));
        }
    }

    std::vector<Slot> m_slots;
    std::size_t m_size = 0;
};

} // namespace bourse
