// ByteWriter / ByteReader: the little-endian primitives under the journal codec and engine snapshots.
// The reader never reads past its input; the first problem sticks as its error. Any thread.
#pragma once

#include "codec.h"
#include "decimal.h"
#include "fixed_string.h"

#include <cstring>
#include <optional>
#include <type_traits>

namespace bourse {

// The largest valid value of each one-byte enum, for the reader's range checks.
template<typename E> constexpr std::uint8_t kEnumMax = 0;
template<> inline constexpr std::uint8_t kEnumMax<Side> = 1;
template<> inline constexpr std::uint8_t kEnumMax<OrderType> = 1;
template<> inline constexpr std::uint8_t kEnumMax<TimeInForce> = 2;
template<> inline constexpr std::uint8_t kEnumMax<SelfTradePrevention> = 3;
template<> inline constexpr std::uint8_t kEnumMax<InstrumentStatus> = 1;
template<> inline constexpr std::uint8_t kEnumMax<CancelReason> = 2;
template<> inline constexpr std::uint8_t kEnumMax<ExpireReason> = 3;
template<> inline constexpr std::uint8_t kEnumMax<RejectReason> = static_cast<std::uint8_t>(RejectReason::PrecisionTooFine);
template<> inline constexpr std::uint8_t kEnumMax<CommandType> = static_cast<std::uint8_t>(CommandType::Withdraw);

template<typename T> struct IsFixedString : std::false_type {};
template<std::size_t N> struct IsFixedString<FixedString<N>> : std::true_type {};
template<typename T> struct IsOptional : std::false_type {};
template<typename T> struct IsOptional<std::optional<T>> : std::true_type {};

class ByteWriter final
{
public:
    explicit ByteWriter(std::vector<std::uint8_t> &out)
        : m_out(&out)
    {}

    template<typename T>
    void put(const T &value)
    {
        if constexpr (std::is_same_v<T, bool>) {
            m_out->push_back(value ? 1 : 0);
        } else if constexpr (std::is_enum_v<T>) {
            static_assert(sizeof(T) == 1);
            m_out->push_back(static_cast<std::uint8_t>(value));
        } else if constexpr (std::is_integral_v<T>) {
            auto bits = static_cast<std::make_unsigned_t<T>>(value);
            for (std::size_t i = 0; i < sizeof(T); ++i) {
                m_out->push_back(static_cast<std::uint8_t>(bits & 0xff));
                if constexpr (sizeof(T) > 1)
                    bits = static_cast<decltype(bits)>(bits >> 8);
            }
        } else if constexpr (std::is_same_v<T, Decimal>) {
            put(value.raw());
        } else if constexpr (IsFixedString<T>::value) {
            const std::string_view text = value.view();
            m_out->push_back(static_cast<std::uint8_t>(text.size()));
            m_out->insert(m_out->end(), text.begin(), text.end());
        } else if constexpr (IsOptional<T>::value) {
            put(value.has_value());
            if (value)
                put(*value);
        } else {
            static_assert(sizeof(T) == 0, "no wire form for this type");
        }
    }

private:
    std::vector<std::uint8_t> *m_out;
};

class ByteReader final
{
public:
    explicit ByteReader(std::span<const std::uint8_t> data)
        : m_data(data)
    {}

    bool ok() const { return !m_error; }
    std::optional<CodecError> error() const { return m_error; }
    void fail(CodecError error)
    {
        if (!m_error)
            m_error = error;
    }
    std::size_t remaining() const { return m_data.size() - m_pos; }
    // Ends the read: anything left over is an error.
    void finish()
    {
        if (ok() && m_pos != m_data.size())
            fail(CodecError::TrailingBytes);
    }

    template<typename T>
    void get(T &value)
    {
        if constexpr (std::is_same_v<T, bool>) {
            const std::uint8_t byte = takeByte();
            if (byte > 1)
                fail(CodecError::BadValue);
            value = byte == 1;
        } else if constexpr (std::is_enum_v<T>) {
            const std::uint8_t byte = takeByte();
            if (byte > kEnumMax<T>)
                fail(CodecError::BadValue);
            value = ok() ? static_cast<T>(byte) : T{};
        } else if constexpr (std::is_integral_v<T>) {
            std::make_unsigned_t<T> bits = 0;
            for (std::size_t i = 0; i < sizeof(T); ++i)
                bits = static_cast<decltype(bits)>(bits | (static_cast<decltype(bits)>(takeByte()) << (8 * i)));
            value = static_cast<T>(bits);
        } else if constexpr (std::is_same_v<T, Decimal>) {
            std::int64_t raw = 0;
            get(raw);
            value = Decimal::fromRaw(raw);
        } else if constexpr (IsFixedString<T>::value) {
            const std::uint8_t size = takeByte();
            if (size > T::capacity || size > remaining()) {
                fail(size > T::capacity ? CodecError::BadValue : CodecError::Truncated);
                value = T{};
                return;
            }
            value = T(std::string_view(reinterpret_cast<const char *>(m_data.data() + m_pos), size));
            m_pos += size;
        } else if constexpr (IsOptional<T>::value) {
            bool present = false;
            get(present);
            if (present && ok()) {
                typename T::value_type inner{};
                get(inner);
                value = inner;
            } else {
                value.reset();
            }
        } else {
            static_assert(sizeof(T) == 0, "no wire form for this type");
        }
    }

private:
    std::uint8_t takeByte()
    {
        if (!ok())
            return 0;
        if (m_pos >= m_data.size()) {
            fail(CodecError::Truncated);
            return 0;
        }
        return m_data[m_pos++];
    }

    std::span<const std::uint8_t> m_data;
    std::size_t m_pos = 0;
    std::optional<CodecError> m_error;
};

} // namespace bourse
