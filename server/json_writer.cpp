#include "json_writer.h"

#include <QtGlobal>

#include <charconv>

namespace bourse::server {

void JsonWriter::separate()
{
    if (m_afterKey) {
        m_afterKey = false;
        return;
    }
    if (m_depth == 0)
        return;
    const std::uint64_t bit = std::uint64_t(1) << (m_depth - 1);
    if (m_hasElement & bit)
        m_out.append(',');
    m_hasElement |= bit;
}

JsonWriter &JsonWriter::beginObject()
{
    separate();
    Q_ASSERT(m_depth < 64);
    m_out.append('{');
    ++m_depth;
    m_hasElement &= ~(std::uint64_t(1) << (m_depth - 1));
    return *this;
}

JsonWriter &JsonWriter::endObject()
{
    Q_ASSERT(m_depth > 0 && !m_afterKey);
    --m_depth;
    m_out.append('}');
    return *this;
}

JsonWriter &JsonWriter::beginArray()
{
    separate();
    Q_ASSERT(m_depth < 64);
    m_out.append('[');
    ++m_depth;
    m_hasElement &= ~(std::uint64_t(1) << (m_depth - 1));
    return *this;
}

JsonWriter &JsonWriter::endArray()
{
    Q_ASSERT(m_depth > 0 && !m_afterKey);
    --m_depth;
    m_out.append(']');
    return *this;
}

JsonWriter &JsonWriter::key(std::string_view name)
{
    separate();
    m_out.append('"');
    appendEscaped(name);
    m_out.append("\":", 2);
    m_afterKey = true;
    return *this;
}

void JsonWriter::appendEscaped(std::string_view utf8)
{
    static constexpr char kHex[] = "0123456789abcdef";
    std::size_t runStart = 0;
    for (std::size_t i = 0; i < utf8.size(); ++i) {
        const auto c = static_cast<unsigned char>(utf8[i]);
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        m_out.append(utf8.data() + runStart, qsizetype(i - runStart));
        runStart = i + 1;
        switch (c) {
        case '"': m_out.append("\\\"", 2); break;
        case '\\': m_out.append("\\\\", 2); break;
        case '\n': m_out.append("\\n", 2); break;
        case '\r': m_out.append("\\r", 2); break;
        case '\t': m_out.append("\\t", 2); break;
        default: {
            const char escape[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
            m_out.append(escape, 6);
        }
        }
    }
    m_out.append(utf8.data() + runStart, qsizetype(utf8.size() - runStart));
}

JsonWriter &JsonWriter::string(std::string_view utf8)
{
    separate();
    m_out.append('"');
    appendEscaped(utf8);
    m_out.append('"');
    return *this;
}

JsonWriter &JsonWriter::string(QStringView text)
{
    const QByteArray utf8 = text.toUtf8();
    return string(std::string_view(utf8.constData(), std::size_t(utf8.size())));
}

JsonWriter &JsonWriter::decimal(Decimal value, int minFractionDigits)
{
    const std::string text = value.toString(minFractionDigits);
    separate();
    m_out.append('"');
    m_out.append(text.data(), qsizetype(text.size()));
    m_out.append('"');
    return *this;
}

JsonWriter &JsonWriter::number(std::int64_t value)
{
    separate();
    char buffer[24];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    m_out.append(buffer, result.ptr - buffer);
    return *this;
}

JsonWriter &JsonWriter::number(std::uint64_t value)
{
    separate();
    char buffer[24];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    m_out.append(buffer, result.ptr - buffer);
    return *this;
}

JsonWriter &JsonWriter::boolean(bool value)
{
    separate();
    if (value)
        m_out.append("true", 4);
    else
        m_out.append("false", 5);
    return *this;
}

JsonWriter &JsonWriter::null()
{
    separate();
    m_out.append("null", 4);
    return *this;
}

JsonWriter &JsonWriter::raw(QByteArrayView json)
{
    separate();
    m_out.append(json);
    return *this;
}

QByteArray JsonWriter::take()
{
    Q_ASSERT(m_depth == 0);
    QByteArray out = std::move(m_out);
    m_out = QByteArray();
    m_hasElement = 0;
    m_afterKey = false;
    return out;
}

} // namespace bourse::server
