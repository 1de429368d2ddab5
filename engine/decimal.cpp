#include "decimal.h"

#include <limits>

namespace bourse {

const char *describe(DecimalError error)
{
    switch (error) {
    case DecimalError::Empty:
        return "is empty";
    case DecimalError::Syntax:
        return "is not a decimal number";
    case DecimalError::TooManyDecimals:
        return "has more than 8 decimal places";
    case DecimalError::OutOfRange:
        return "is out of range";
    }
    return "is invalid";
}

namespace {

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

} // namespace

Expected<Decimal, DecimalError> Decimal::parse(std::string_view text)
{
    if (text.empty())
        return unexpected(DecimalError::Empty);

    std::size_t pos = 0;
    const bool negative = text[pos] == '-';
    if (negative)
        ++pos;

    // Integer part: a lone 0 or a digit run without a leading zero.
    const std::size_t intBegin = pos;
    if (pos >= text.size() || !isDigit(text[pos]))
        return unexpected(DecimalError::Syntax);
    if (text[pos] == '0') {
        ++pos;
    } else {
        while (pos < text.size() && isDigit(text[pos]))
            ++pos;
    }
    const std::string_view intDigits = text.substr(intBegin, pos - intBegin);

    std::string_view fracDigits;
    if (pos < text.size() && text[pos] == '.') {
        ++pos;
        const std::size_t fracBegin = pos;
        while (pos < text.size() && isDigit(text[pos]))
            ++pos;
        if (pos == fracBegin)
            return unexpected(DecimalError::Syntax);
        fracDigits = text.substr(fracBegin, pos - fracBegin);
    }

    // The exponent is read saturating: its digits may be arbitrarily many.
    constexpr std::int64_t kExponentCap = 1'000'000;
    std::int64_t exponent = 0;
    if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
        ++pos;
        bool expNegative = false;
        if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
            expNegative = text[pos] == '-';
            ++pos;
        }
        const std::size_t expBegin = pos;
        while (pos < text.size() && isDigit(text[pos])) {
            if (exponent < kExponentCap)
                exponent = exponent * 10 + (text[pos] - '0');
            ++pos;
        }
        if (pos == expBegin)
            return unexpected(DecimalError::Syntax);
        if (expNegative)
            exponent = -exponent;
    }
    if (pos != text.size())
        return unexpected(DecimalError::Syntax);

    // The value is digits × 10^(exponent - fracDigits.size()); we need it × 10^8 as an integer.
    // Collect the significant digits without leading zeros; trailing zeros are shifted out exactly.
    std::string_view digitsA = intDigits;
    std::string_view digitsB = fracDigits;
    auto digitAt = [&](std::size_t i) { return i < digitsA.size() ? digitsA[i] : digitsB[i - digitsA.size()]; };
    const std::size_t total = digitsA.size() + digitsB.size();
    std::size_t first = 0;
    while (first < total && digitAt(first) == '0')
        ++first;
    if (first == total)
        return Decimal(0); // zero in any spelling, whatever the exponent
    std::size_t last = total; // one past the last non-zero digit
    while (digitAt(last - 1) == '0')
        --last;
    const std::int64_t trailingZeros = static_cast<std::int64_t>(total - last);

    // value = significand × 10^shift, with the significand the digits [first, last).
    const std::int64_t shift = exponent - static_cast<std::int64_t>(digitsB.size()) + trailingZeros
                               + kFractionDigits;
    if (shift < 0)
        return unexpected(DecimalError::TooManyDecimals);
    const std::size_t significantDigits = last - first;
    if (static_cast<std::int64_t>(significantDigits) + shift > 19)
        return unexpected(DecimalError::OutOfRange);

    // At most 19 digits: accumulate in unsigned 64 bits, then check against the signed range.
    std::uint64_t magnitude = 0;
    for (std::size_t i = first; i < last; ++i)
        magnitude = magnitude * 10 + static_cast<std::uint64_t>(digitAt(i) - '0');
    for (std::int64_t i = 0; i < shift; ++i) {
        if (magnitude > std::numeric_limits<std::uint64_t>::max() / 10)
            return unexpected(DecimalError::OutOfRange);
        magnitude *= 10;
    }
    constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (magnitude > kMax)
        return unexpected(DecimalError::OutOfRange);
    const auto units = static_cast<std::int64_t>(magnitude);
    return Decimal(negative ? -units : units);
}

int Decimal::significantFractionDigits() const
{
    std::int64_t fraction = m_units % kOne;
    if (fraction == 0)
        return 0;
    int digits = kFractionDigits;
    while (fraction % 10 == 0) {
        fraction /= 10;
        --digits;
    }
    return digits;
}

std::string Decimal::toString(int minFractionDigits) const
{
    // Work on the magnitude in unsigned arithmetic so that the most negative value formats too.
    const bool negative = m_units < 0;
    const std::uint64_t magnitude = negative ? std::uint64_t(0) - static_cast<std::uint64_t>(m_units)
                                             : static_cast<std::uint64_t>(m_units);
    const std::uint64_t whole = magnitude / static_cast<std::uint64_t>(kOne);
    std::uint64_t fraction = magnitude % static_cast<std::uint64_t>(kOne);

    std::string out;
    if (negative)
        out.push_back('-');
    out += std::to_string(whole);

    int digits = significantFractionDigits();
    if (minFractionDigits > kFractionDigits)
        minFractionDigits = kFractionDigits;
    if (digits < minFractionDigits)
        digits = minFractionDigits;
    if (digits > 0) {
        char buffer[kFractionDigits];
        for (int i = kFractionDigits - 1; i >= 0; --i) {
            buffer[i] = static_cast<char>('0' + fraction % 10);
            fraction /= 10;
        }
        out.push_back('.');
        out.append(buffer, static_cast<std::size_t>(digits));
    }
    return out;
}

std::optional<Decimal> Decimal::checkedAdd(Decimal a, Decimal b)
{
    std::int64_t sum = 0;
    if (__builtin_add_overflow(a.m_units, b.m_units, &sum))
        return std::nullopt;
    return Decimal(sum);
}

std::optional<Decimal> Decimal::checkedSub(Decimal a, Decimal b)
{
    std::int64_t difference = 0;
    if (__builtin_sub_overflow(a.m_units, b.m_units, &difference))
        return std::nullopt;
    return Decimal(difference);
}

std::optional<Decimal> Decimal::checkedMul(Decimal a, Decimal b)
{
    __extension__ using Wide = __int128;
    const Wide product = Wide(a.m_units) * Wide(b.m_units);
    if (product % kOne != 0)
        return std::nullopt;
    const Wide scaled = product / kOne;
    if (scaled > std::numeric_limits<std::int64_t>::max() || scaled < std::numeric_limits<std::int64_t>::min())
        return std::nullopt;
    return Decimal(static_cast<std::int64_t>(scaled));
}

} // namespace bourse
