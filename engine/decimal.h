// Decimal: the exact fixed-point number used for every price, quantity and amount in Bourse.
// A signed 64-bit count of 10^-8 units (the precision exchange APIs such as Binance's expose), so values
// up to ±92,233,720,368.54775807 are exact. Parsed once at the edge, never converted to binary floating
// point. A plain value; any thread.
#pragma once

#include "expected.h"

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bourse {

enum class DecimalError : std::uint8_t {
    Empty,           // no characters at all
    Syntax,          // not a number in JSON's grammar (this includes NaN, Infinity, "1.", ".5", "0x10")
    TooManyDecimals, // more than 8 significant fraction digits (0.1e-30 among them)
    OutOfRange,      // beyond ±92233720368.54775807, 1e309 among them
};

const char *describe(DecimalError error);

class Decimal final
{
public:
    static constexpr int kFractionDigits = 8;
    static constexpr std::int64_t kOne = 100'000'000;

    constexpr Decimal() = default;
    static constexpr Decimal fromRaw(std::int64_t units) { return Decimal(units); }
    static constexpr Decimal fromInteger(std::int64_t whole) { return Decimal(whole * kOne); }

    // Parses a number in JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, as a JSON number
    // or the content of a JSON string. The value must be exact at 8 fraction digits: "1.500000000" is
    // 1.5, but "0.000000001" is TooManyDecimals, never rounded. "-0" is zero.
    static Expected<Decimal, DecimalError> parse(std::string_view text);

    constexpr std::int64_t raw() const { return m_units; }
    constexpr bool isZero() const { return m_units == 0; }
    constexpr bool isPositive() const { return m_units > 0; }
    constexpr bool isNegative() const { return m_units < 0; }

    // How many fraction digits the value needs: 0 for 12, 2 for 12.5 written as 12.50 or 12.5 alike.
    int significantFractionDigits() const;

    // The shortest exact text, with at least minFractionDigits fraction digits: Decimal(2000.5)
    // .toString(2) is "2000.50", .toString() is "2000.5". Never exponent notation.
    std::string toString(int minFractionDigits = 0) const;

    // Exact arithmetic that reports overflow instead of wrapping.
    static std::optional<Decimal> checkedAdd(Decimal a, Decimal b);
    static std::optional<Decimal> checkedSub(Decimal a, Decimal b);
    // a × b when the exact product fits and needs no more than 8 fraction digits; nullopt otherwise.
    static std::optional<Decimal> checkedMul(Decimal a, Decimal b);

    friend constexpr bool operator==(Decimal, Decimal) = default;
    friend constexpr auto operator<=>(Decimal, Decimal) = default;

private:
    constexpr explicit Decimal(std::int64_t units)
        : m_units(units)
    {}

    std::int64_t m_units = 0;
};

} // namespace bourse
