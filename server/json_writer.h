// JsonWriter: builds a response body as compact JSON straight into bytes, in the order the spec lists the
// fields. QJsonObject sorts keys, allocates per member and formats numbers as doubles; amounts here are
// decimal strings and ids 64-bit integers that must come out exactly. The writer puts commas and escapes
// strings (RFC 8259: quote, backslash, control characters; everything else as UTF-8); the caller keeps
// objects and arrays balanced (asserted). A plain value; one thread at a time.
#pragma once

#include "decimal.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QString>
#include <QStringView>

#include <cstdint>
#include <string_view>

namespace bourse::server {

class JsonWriter final
{
public:
    JsonWriter() { m_out.reserve(256); }

    JsonWriter &beginObject();
    JsonWriter &endObject();
    JsonWriter &beginArray();
    JsonWriter &endArray();
    // The key of the next member; the value follows with one of the calls below.
    JsonWriter &key(std::string_view name);

    JsonWriter &string(QStringView text);
    JsonWriter &string(std::string_view utf8);
    JsonWriter &string(const char *utf8) { return string(std::string_view(utf8)); }
    JsonWriter &string(const QString &text) { return string(QStringView(text)); }
    JsonWriter &string(const QByteArray &utf8) { return string(QByteArrayView(utf8)); }
    JsonWriter &string(QByteArrayView utf8) { return string(std::string_view(utf8.data(), std::size_t(utf8.size()))); }
    // A Decimal as the API writes amounts: a string with at least minFractionDigits digits.
    JsonWriter &decimal(Decimal value, int minFractionDigits = 0);
    JsonWriter &number(std::int64_t value);
    JsonWriter &number(std::uint64_t value);
    JsonWriter &number(int value) { return number(static_cast<std::int64_t>(value)); }
    JsonWriter &boolean(bool value);
    JsonWriter &null();
    // Bytes that already are one JSON value (a stored JSON document), written as they are.
    JsonWriter &raw(QByteArrayView json);

    // Shorthands for a member: key(name) then the value.
    template<typename T>
    JsonWriter &field(std::string_view name, T &&value);

    QByteArray take();
    const QByteArray &bytes() const { return m_out; }

private:
    void separate(); // a comma before every element but the first of its container
    void appendEscaped(std::string_view utf8);

    QByteArray m_out;
    // One bit per open container, innermost lowest: set once it holds an element.
    std::uint64_t m_hasElement = 0;
    int m_depth = 0;
    bool m_afterKey = false;
};

template<typename T>
JsonWriter &JsonWriter::field(std::string_view name, T &&value)
{
    key(name);
    using V = std::decay_t<T>;
    if constexpr (std::is_same_v<V, bool>)
        return boolean(value);
    else if constexpr (std::is_same_v<V, Decimal>)
        return decimal(value);
    else if constexpr (std::is_integral_v<V> && std::is_signed_v<V>)
        return number(static_cast<std::int64_t>(value));
    else if constexpr (std::is_integral_v<V>)
        return number(static_cast<std::uint64_t>(value));
    else
        return string(std::forward<T>(value));
}

} // namespace bourse::server
