// StateHasher: the 64-bit fingerprint of the venue's state. Two engines that hold the same books, orders,
// balances, instruments and remembered client order ids give the same hash, whatever their internals,
// because both feed it the same values in the canonical order that Sequencer::stateHash() documents.
// A plain value; any thread.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace bourse {

class StateHasher final
{
public:
    void add(std::uint64_t value)
    {
        // splitmix64's finaliser over the running state: every bit of every value reaches every bit.
        std::uint64_t z = m_state ^ (value + 0x9e3779b97f4a7c15ULL + (m_state << 6) + (m_state >> 2));
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        m_state = z ^ (z >> 31);
    }
    void add(std::int64_t value) { add(static_cast<std::uint64_t>(value)); }
    void add(std::uint32_t value) { add(static_cast<std::uint64_t>(value)); }
    void add(bool value) { add(static_cast<std::uint64_t>(value ? 1 : 0)); }
    void add(std::string_view text)
    {
        add(static_cast<std::uint64_t>(text.size()));
        for (std::size_t i = 0; i < text.size(); i += 8) {
            std::uint64_t chunk = 0;
            std::memcpy(&chunk, text.data() + i, text.size() - i < 8 ? text.size() - i : 8);
            add(chunk);
        }
    }

    std::uint64_t value() const { return m_state; }

private:
    std::uint64_t m_state = 0x6a09e667f3bcc908ULL;
};

} // namespace bourse
