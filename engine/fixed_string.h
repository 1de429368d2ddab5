// FixedString<N>: an inline string of at most N bytes, trivially copyable, so that commands and events
// carrying symbols, asset codes and client order ids stay plain values with no heap allocation.
#pragma once

#include <algorithm>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace bourse {

template<std::size_t N>
class FixedString final
{
    static_assert(N > 0 && N < 256, "the length is kept in one byte");

public:
    static constexpr std::size_t capacity = N;

    constexpr FixedString() = default;

    // Text longer than N does not fit: the caller checks fits() first, or gets it cut.
    static constexpr bool fits(std::string_view text) { return text.size() <= N; }

    constexpr FixedString(std::string_view text)
    {
        m_size = static_cast<std::uint8_t>(std::min(text.size(), N));
        std::copy_n(text.data(), m_size, m_data);
    }

    constexpr std::string_view view() const { return {m_data, m_size}; }
    constexpr std::size_t size() const { return m_size; }
    constexpr bool empty() const { return m_size == 0; }

    friend constexpr bool operator==(const FixedString &a, const FixedString &b)
    {
        return a.view() == b.view();
    }
    friend constexpr auto operator<=>(const FixedString &a, const FixedString &b)
    {
        return a.view() <=> b.view();
    }

private:
    char m_data[N] = {};
    std::uint8_t m_size = 0;
};

using Symbol = FixedString<32>;
using AssetCode = FixedString<16>;
using ClientOrderId = FixedString<64>;

} // namespace bourse
