#include "json_reader.h"

#include <algorithm>
#include <cassert>
#include <limits>

namespace bourse::server {

const char *typeName(JsonKind kind)
{
    switch (kind) {
    case JsonKind::Null: return "null";
    case JsonKind::Boolean: return "a boolean";
    case JsonKind::Number: return "a number";
    case JsonKind::String: return "a string";
    case JsonKind::Array: return "an array";
    case JsonKind::Object: return "an object";
    }
    return "a value";
}

const char *describe(JsonIntegerError error)
{
    switch (error) {
    case JsonIntegerError::NotAnInteger: return "is not an integer";
    case JsonIntegerError::OutOfRange: return "is out of range";
    }
    return "is invalid";
}

namespace {

constexpr std::size_t kQuotedKeyLimit = 64; // bytes of a key repeated in an error message

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

bool isWhitespace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

unsigned char byteAt(std::string_view text, std::size_t pos)
{
    return static_cast<unsigned char>(text[pos]);
}

std::string hexByte(unsigned char byte)
{
    static constexpr char kDigits[] = "0123456789ABCDEF";
    std::string text = "0x";
    text += kDigits[byte >> 4];
    text += kDigits[byte & 0x0F];
    return text;
}

// How an unexpected byte reads in a message: 'x' when printable ASCII, else its hex value.
std::string describeByte(unsigned char byte)
{
    if (byte >= 0x20 && byte < 0x7F)
        return std::string("'") + static_cast<char>(byte) + "'";
    return "byte " + hexByte(byte);
}

// A key quoted for a one-line message: quotes, backslashes and control characters escaped, long keys cut
// at a character boundary.
std::string quoteForMessage(std::string_view key)
{
    std::string text = "\"";
    std::size_t end = key.size();
    if (end > kQuotedKeyLimit) {
        end = kQuotedKeyLimit;
        while (end > 0 && (byteAt(key, end) & 0xC0) == 0x80)
            --end;
    }
    for (std::size_t i = 0; i < end; ++i) {
        const unsigned char byte = byteAt(key, i);
        if (byte == '"' || byte == '\\') {
            text += '\\';
            text += static_cast<char>(byte);
        } else if (byte < 0x20 || byte == 0x7F) {
            text += "\\u00";
            text += hexByte(byte).substr(2);
        } else {
            text += static_cast<char>(byte);
        }
    }
    text += end < key.size() ? "...\"" : "\"";
    return text;
}

void appendUtf8(std::vector<char> &out, std::uint32_t codePoint)
{
    if (codePoint < 0x80) {
        out.push_back(static_cast<char>(codePoint));
    } else if (codePoint < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (codePoint >> 6)));
        out.push_back(static_cast<char>(0x80 | (codePoint & 0x3F)));
    } else if (codePoint < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (codePoint >> 12)));
        out.push_back(static_cast<char>(0x80 | ((codePoint >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (codePoint & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (codePoint >> 18)));
        out.push_back(static_cast<char>(0x80 | ((codePoint >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((codePoint >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (codePoint & 0x3F)));
    }
}

} // namespace

// One reading of one body. The values of every open container wait on m_pending; when the container closes
// they move, contiguous, to the document's node array and the container takes their place on m_pending.
// Every value is thus copied at most twice, and no step looks back further than the object it closes.
class JsonReader final
{
public:
    JsonReader(std::string_view body, const JsonLimits &limits)
        : m_body(body)
        , m_limits(limits)
    {}

    Expected<JsonDocument, JsonError> read();

private:
    using Node = JsonValue::Node;

    struct Frame
    {
        JsonKind kind;
        std::size_t pendingBase; // where this container's values start on m_pending
        std::uint32_t keyOffset; // the container's own key, when it is an object member
        std::uint32_t keyLength;
        std::uint32_t keySource;
    };

    bool fail(JsonErrorKind kind, std::size_t offset, const std::string &what);
    void skipWhitespace();
    bool atEnd() const { return m_pos >= m_body.size(); }

    bool admitValue(std::size_t offset);
    bool openContainer(JsonKind kind);
    bool closeContainer();
    bool readScalar();
    bool readKey(const char *expectation);
    bool readString(std::uint32_t &offset, std::uint32_t &length);
    bool readEscape();
    bool readUtf8Sequence();
    bool readNumber();
    bool refuseValueStart();
    void pushValue(Node node);
    bool checkDuplicateKeys(std::uint32_t first, std::uint32_t count);

    std::uint32_t textSize() const { return static_cast<std::uint32_t>(m_document.m_text.size()); }
    std::string_view keyOf(const Node &node) const
    {
        return std::string_view(m_document.m_text.data() + node.keyOffset, node.keyLength);
    }

    std::string_view m_body;
    JsonLimits m_limits;
    std::size_t m_pos = 0;
    std::size_t m_valueCount = 0;
    JsonDocument m_document;
    std::vector<Node> m_pending;
    std::vector<Frame> m_frames;
    std::vector<std::uint32_t> m_order; // scratch for duplicate detection in large objects
    Node m_key;                         // the key read for the next object member
    JsonError m_error;
};

bool JsonReader::fail(JsonErrorKind kind, std::size_t offset, const std::string &what)
{
    m_error.kind = kind;
    m_error.offset = offset;
    m_error.message = what + " at byte offset " + std::to_string(offset);
    return false;
}

void JsonReader::skipWhitespace()
{
    while (m_pos < m_body.size() && isWhitespace(m_body[m_pos]))
        ++m_pos;
}

Expected<JsonDocument, JsonError> JsonReader::read()
{
    // Offsets are 32-bit; a body near 4 GiB is far beyond any configured limit anyway.
    if (m_body.size() >= std::numeric_limits<std::uint32_t>::max()) {
        fail(JsonErrorKind::BodyTooLarge, 0, "body too large for the JSON reader");
        return unexpected(m_error);
    }
    if (m_body.substr(0, 3) == "\xEF\xBB\xBF") {
        fail(JsonErrorKind::ByteOrderMark, 0, "byte order mark before the JSON value (send UTF-8 without a BOM)");
        return unexpected(m_error);
    }
    skipWhitespace();
    if (atEnd()) {
        fail(JsonErrorKind::EmptyBody, m_pos, "empty body: expected a JSON value");
        return unexpected(m_error);
    }
    // Strings and number texts are never longer than the body that holds them: one allocation.
    m_document.m_text.reserve(m_body.size());

    bool expectValue = true;
    for (;;) {
        skipWhitespace();
        if (expectValue) {
            if (atEnd()) {
                fail(JsonErrorKind::UnexpectedEnd, m_pos, "unexpected end of the body: expected a value");
                return unexpected(m_error);
            }
            const char c = m_body[m_pos];
            if (c == '[' || c == '{') {
                const JsonKind kind = c == '[' ? JsonKind::Array : JsonKind::Object;
                if (!openContainer(kind))
                    return unexpected(m_error);
                skipWhitespace();
                const char closer = kind == JsonKind::Array ? ']' : '}';
                if (!atEnd() && m_body[m_pos] == closer) {
                    ++m_pos;
                    if (!closeContainer())
                        return unexpected(m_error);
                    expectValue = false;
                } else if (kind == JsonKind::Object && !readKey("expected a key string or '}'")) {
                    return unexpected(m_error);
                }
                continue;
            }
            if (!readScalar())
                return unexpected(m_error);
            expectValue = false;
            continue;
        }

        if (m_frames.empty())
            break;
        const bool inObject = m_frames.back().kind == JsonKind::Object;
        const char closer = inObject ? '}' : ']';
        if (atEnd()) {
            fail(JsonErrorKind::UnexpectedEnd, m_pos,
                 std::string("unexpected end of the body: expected ',' or '") + closer + "'");
            return unexpected(m_error);
        }
        const char c = m_body[m_pos];
        if (c == ',') {
            ++m_pos;
            if (inObject) {
                skipWhitespace();
                if (!readKey("expected a key string after ','"))
                    return unexpected(m_error);
            }
            expectValue = true;
        } else if (c == closer) {
            ++m_pos;
            if (!closeContainer())
                return unexpected(m_error);
        } else {
            fail(JsonErrorKind::UnexpectedCharacter, m_pos,
                 std::string("expected ',' or '") + closer + "', found " + describeByte(byteAt(m_body, m_pos)));
            return unexpected(m_error);
        }
    }

    if (!atEnd()) {
        fail(JsonErrorKind::TrailingContent, m_pos,
             "unexpected " + describeByte(byteAt(m_body, m_pos)) + " after the JSON value");
        return unexpected(m_error);
    }
    assert(m_pending.size() == 1);
    m_document.m_nodes.push_back(m_pending.back());
    return std::move(m_document);
}

// Every value, scalar or container, passes here before it is read: the limits fail at the first value too
// many, not after reading it.
bool JsonReader::admitValue(std::size_t offset)
{
    if (++m_valueCount > m_limits.maxValues)
        return fail(JsonErrorKind::TooManyValues, offset,
                    "more than " + std::to_string(m_limits.maxValues) + " values in the document");
    if (!m_frames.empty() && m_pending.size() - m_frames.back().pendingBase >= m_limits.maxMembers) {
        const bool inObject = m_frames.back().kind == JsonKind::Object;
        return fail(JsonErrorKind::TooManyMembers, inObject ? m_key.keySource : offset,
                    "more than " + std::to_string(m_limits.maxMembers)
                        + (inObject ? " members in an object" : " elements in an array"));
    }
    return true;
}

bool JsonReader::openContainer(JsonKind kind)
{
    if (m_frames.size() >= static_cast<std::size_t>(std::max(m_limits.maxDepth, 0)))
        return fail(JsonErrorKind::TooDeep, m_pos,
                    "nesting deeper than " + std::to_string(m_limits.maxDepth) + " arrays and objects");
    if (!admitValue(m_pos))
        return false;
    const bool isMember = !m_frames.empty() && m_frames.back().kind == JsonKind::Object;
    m_frames.push_back(Frame{kind, m_pending.size(), isMember ? m_key.keyOffset : 0u, isMember ? m_key.keyLength : 0u,
                             isMember ? m_key.keySource : 0u});
    ++m_pos;
    return true;
}

bool JsonReader::closeContainer()
{
    const Frame frame = m_frames.back();
    m_frames.pop_back();
    auto &nodes = m_document.m_nodes;
    const auto first = static_cast<std::uint32_t>(nodes.size());
    const auto count = static_cast<std::uint32_t>(m_pending.size() - frame.pendingBase);
    nodes.insert(nodes.end(), m_pending.begin() + static_cast<std::ptrdiff_t>(frame.pendingBase), m_pending.end());
    m_pending.resize(frame.pendingBase);
    if (frame.kind == JsonKind::Object && !checkDuplicateKeys(first, count))
        return false;
    Node node;
    node.kind = frame.kind;
    node.first = first;
    node.length = count;
    node.keyOffset = frame.keyOffset;
    node.keyLength = frame.keyLength;
    node.keySource = frame.keySource;
    m_pending.push_back(node);
    return true;
}

// The first repeated key in body order is the one named. Small objects compare pairwise; large ones sort,
// so that an object of many members costs n log n, not n².
bool JsonReader::checkDuplicateKeys(std::uint32_t first, std::uint32_t count)
{
    const auto &nodes = m_document.m_nodes;
    constexpr std::uint32_t kPairwiseLimit = 16;
    std::optional<std::uint32_t> repeated;
    if (count <= kPairwiseLimit) {
        for (std::uint32_t j = 1; j < count && !repeated; ++j) {
            for (std::uint32_t i = 0; i < j; ++i) {
                if (keyOf(nodes[first + i]) == keyOf(nodes[first + j])) {
                    repeated = first + j;
                    break;
                }
            }
        }
    } else {
        m_order.resize(count);
        for (std::uint32_t i = 0; i < count; ++i)
            m_order[i] = first + i;
        std::sort(m_order.begin(), m_order.end(), [&](std::uint32_t a, std::uint32_t b) {
            const std::string_view keyA = keyOf(nodes[a]);
            const std::string_view keyB = keyOf(nodes[b]);
            return keyA != keyB ? keyA < keyB : a < b;
        });
        for (std::uint32_t i = 1; i < count; ++i) {
            if (keyOf(nodes[m_order[i - 1]]) == keyOf(nodes[m_order[i]]))
                repeated = std::min(repeated.value_or(m_order[i]), m_order[i]);
        }
    }
    if (!repeated)
        return true;
    const Node &node = nodes[*repeated];
    return fail(JsonErrorKind::DuplicateKey, node.keySource, "duplicate key " + quoteForMessage(keyOf(node)));
}

bool JsonReader::readKey(const char *expectation)
{
    if (atEnd())
        return fail(JsonErrorKind::UnexpectedEnd, m_pos, std::string("unexpected end of the body: ") + expectation);
    if (m_body[m_pos] != '"')
        return fail(JsonErrorKind::UnexpectedCharacter, m_pos,
                    std::string(expectation) + ", found " + describeByte(byteAt(m_body, m_pos)));
    m_key.keySource = static_cast<std::uint32_t>(m_pos);
    if (!readString(m_key.keyOffset, m_key.keyLength))
        return false;
    skipWhitespace();
    if (atEnd())
        return fail(JsonErrorKind::UnexpectedEnd, m_pos, "unexpected end of the body: expected ':' after a key");
    if (m_body[m_pos] != ':')
        return fail(JsonErrorKind::UnexpectedCharacter, m_pos,
                    "expected ':' after a key, found " + describeByte(byteAt(m_body, m_pos)));
    ++m_pos;
    return true;
}

void JsonReader::pushValue(Node node)
{
    if (!m_frames.empty() && m_frames.back().kind == JsonKind::Object) {
        node.keyOffset = m_key.keyOffset;
        node.keyLength = m_key.keyLength;
        node.keySource = m_key.keySource;
    }
    m_pending.push_back(node);
}

bool JsonReader::readScalar()
{
    const std::size_t start = m_pos;
    const char c = m_body[m_pos];
    const bool startsValue = c == '"' || c == '-' || isDigit(c) || c == 't' || c == 'f' || c == 'n';
    if (!startsValue)
        return refuseValueStart();
    if (!admitValue(start))
        return false;

    Node node;
    if (c == '"') {
        node.kind = JsonKind::String;
        if (!readString(node.first, node.length))
            return false;
    } else if (c == '-' || isDigit(c)) {
        node.kind = JsonKind::Number;
        node.first = textSize();
        if (!readNumber())
            return false;
        node.length = textSize() - node.first;
    } else {
        static constexpr std::string_view kLiterals[] = {"true", "false", "null"};
        const std::string_view literal = c == 't' ? kLiterals[0] : c == 'f' ? kLiterals[1] : kLiterals[2];
        if (m_body.substr(m_pos, literal.size()) != literal)
            return fail(JsonErrorKind::InvalidLiteral, start, "invalid literal (expected " + std::string(literal) + ")");
        m_pos += literal.size();
        node.kind = c == 'n' ? JsonKind::Null : JsonKind::Boolean;
        node.length = c == 't' ? 1u : 0u;
    }
    pushValue(node);
    return true;
}

// No value starts here: say why in the terms a client will recognise.
bool JsonReader::refuseValueStart()
{
    const std::string_view rest = m_body.substr(m_pos);
    if (rest.starts_with("NaN"))
        return fail(JsonErrorKind::InvalidNumber, m_pos, "NaN is not a JSON number");
    if (rest.starts_with("Infinity"))
        return fail(JsonErrorKind::InvalidNumber, m_pos, "Infinity is not a JSON number");
    if (rest.front() == '+')
        return fail(JsonErrorKind::InvalidNumber, m_pos, "a JSON number cannot start with '+'");
    if (rest.front() == '.')
        return fail(JsonErrorKind::InvalidNumber, m_pos, "a JSON number cannot start with '.' (write 0.5)");
    return fail(JsonErrorKind::UnexpectedCharacter, m_pos,
                "expected a value, found " + describeByte(byteAt(m_body, m_pos)));
}

bool JsonReader::readNumber()
{
    const std::size_t start = m_pos;
    const auto digitsFrom = [this](std::size_t pos) {
        while (pos < m_body.size() && isDigit(m_body[pos]))
            ++pos;
        return pos;
    };
    std::size_t pos = m_pos;
    if (m_body[pos] == '-') {
        ++pos;
        if (m_body.substr(pos).starts_with("Infinity"))
            return fail(JsonErrorKind::InvalidNumber, start, "-Infinity is not a JSON number");
        if (pos >= m_body.size() || !isDigit(m_body[pos]))
            return fail(JsonErrorKind::InvalidNumber, pos, "expected a digit after '-'");
    }
    if (m_body[pos] == '0') {
        ++pos;
        if (pos < m_body.size() && isDigit(m_body[pos]))
            return fail(JsonErrorKind::InvalidNumber, start, "a JSON number cannot have leading zeros");
    } else {
        pos = digitsFrom(pos);
    }
    if (pos < m_body.size() && m_body[pos] == '.') {
        ++pos;
        if (pos >= m_body.size() || !isDigit(m_body[pos]))
            return fail(JsonErrorKind::InvalidNumber, pos, "expected a digit after the decimal point");
        pos = digitsFrom(pos);
    }
    if (pos < m_body.size() && (m_body[pos] == 'e' || m_body[pos] == 'E')) {
        ++pos;
        if (pos < m_body.size() && (m_body[pos] == '+' || m_body[pos] == '-'))
            ++pos;
        if (pos >= m_body.size() || !isDigit(m_body[pos]))
            return fail(JsonErrorKind::InvalidNumber, pos, "expected a digit in the exponent");
        pos = digitsFrom(pos);
    }
    if (pos - start > m_limits.maxNumberLength)
        return fail(JsonErrorKind::NumberTooLong, start,
                    "number longer than " + std::to_string(m_limits.maxNumberLength) + " characters");
    m_document.m_text.insert(m_document.m_text.end(), m_body.begin() + static_cast<std::ptrdiff_t>(start),
                             m_body.begin() + static_cast<std::ptrdiff_t>(pos));
    m_pos = pos;
    return true;
}

// m_pos is on the opening quote. The decoded text goes to the document; offset and length say where.
bool JsonReader::readString(std::uint32_t &offset, std::uint32_t &length)
{
    const std::size_t start = m_pos;
    auto &text = m_document.m_text;
    offset = textSize();
    ++m_pos;
    for (;;) {
        // The common case: a run of printable ASCII, copied in one go.
        const std::size_t runStart = m_pos;
        while (m_pos < m_body.size()) {
            const unsigned char byte = byteAt(m_body, m_pos);
            if (byte < 0x20 || byte >= 0x80 || byte == '"' || byte == '\\')
                break;
            ++m_pos;
        }
        text.insert(text.end(), m_body.begin() + static_cast<std::ptrdiff_t>(runStart),
                    m_body.begin() + static_cast<std::ptrdiff_t>(m_pos));
        if (text.size() - offset > m_limits.maxStringBytes)
            return fail(JsonErrorKind::StringTooLong, start,
                        "string longer than " + std::to_string(m_limits.maxStringBytes) + " bytes");
        if (atEnd())
            return fail(JsonErrorKind::UnexpectedEnd, m_pos,
                        "unexpected end of the body inside the string starting at byte offset " + std::to_string(start));
        const unsigned char byte = byteAt(m_body, m_pos);
        if (byte == '"') {
            ++m_pos;
            length = textSize() - offset;
            return true;
        }
        if (byte == '\\') {
            if (!readEscape())
                return false;
        } else if (byte < 0x20) {
            return fail(JsonErrorKind::ControlCharacter, m_pos,
                        "control character " + hexByte(byte) + " in a string (escape it)");
        } else if (!readUtf8Sequence()) {
            return false;
        }
    }
}

// m_pos is on a backslash.
bool JsonReader::readEscape()
{
    auto &text = m_document.m_text;
    const std::size_t start = m_pos;
    if (start + 1 >= m_body.size())
        return fail(JsonErrorKind::UnexpectedEnd, start + 1, "unexpected end of the body inside an escape");
    const char kind = m_body[start + 1];
    char simple = 0;
    switch (kind) {
    case '"': simple = '"'; break;
    case '\\': simple = '\\'; break;
    case '/': simple = '/'; break;
    case 'b': simple = '\b'; break;
    case 'f': simple = '\f'; break;
    case 'n': simple = '\n'; break;
    case 'r': simple = '\r'; break;
    case 't': simple = '\t'; break;
    case 'u': break;
    default:
        return fail(JsonErrorKind::InvalidEscape, start,
                    "invalid escape: backslash followed by " + describeByte(static_cast<unsigned char>(kind)));
    }
    if (simple != 0) {
        text.push_back(simple);
        m_pos += 2;
        return true;
    }

    // \uXXXX, possibly the first half of a surrogate pair.
    const auto hex4 = [this](std::size_t pos) -> int {
        if (pos + 4 > m_body.size())
            return -1;
        int value = 0;
        for (std::size_t i = pos; i < pos + 4; ++i) {
            const int digit = hexValue(m_body[i]);
            if (digit < 0)
                return -1;
            value = value * 16 + digit;
        }
        return value;
    };
    const int unit = hex4(start + 2);
    if (unit < 0)
        return fail(JsonErrorKind::InvalidEscape, start, "invalid \\u escape: expected 4 hex digits");
    auto codePoint = static_cast<std::uint32_t>(unit);
    std::size_t end = start + 6;
    if (codePoint >= 0xDC00 && codePoint <= 0xDFFF)
        return fail(JsonErrorKind::InvalidSurrogate, start, "low surrogate escape without a high surrogate before it");
    if (codePoint >= 0xD800 && codePoint <= 0xDBFF) {
        const int low = end + 1 < m_body.size() && m_body[end] == '\\' && m_body[end + 1] == 'u' ? hex4(end + 2) : -1;
        if (low < 0xDC00 || low > 0xDFFF)
            return fail(JsonErrorKind::InvalidSurrogate, start,
                        "high surrogate escape not followed by a low surrogate escape");
        codePoint = 0x10000 + ((codePoint - 0xD800) << 10) + (static_cast<std::uint32_t>(low) - 0xDC00);
        end += 6;
    }
    appendUtf8(text, codePoint);
    m_pos = end;
    return true;
}

// m_pos is on a byte >= 0x80 inside a string: one well-formed UTF-8 sequence (RFC 3629 §4), or an error.
bool JsonReader::readUtf8Sequence()
{
    const std::size_t start = m_pos;
    const unsigned char lead = byteAt(m_body, start);
    std::size_t length = 0;
    unsigned char low = 0x80; // the second byte's range: narrower after E0, ED, F0 and F4
    unsigned char high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0)
            low = 0xA0; // below: an overlong encoding
        else if (lead == 0xED)
            high = 0x9F; // above: a surrogate, U+D800..U+DFFF
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0)
            low = 0x90; // below: an overlong encoding
        else if (lead == 0xF4)
            high = 0x8F; // above: beyond U+10FFFF
    } else if (lead >= 0x80 && lead <= 0xBF) {
        return fail(JsonErrorKind::InvalidUtf8, start, "invalid UTF-8: unexpected continuation byte " + hexByte(lead));
    } else if (lead == 0xC0 || lead == 0xC1) {
        return fail(JsonErrorKind::InvalidUtf8, start, "invalid UTF-8: overlong encoding (" + hexByte(lead) + ")");
    } else {
        return fail(JsonErrorKind::InvalidUtf8, start,
                    "invalid UTF-8: " + hexByte(lead) + " starts no character up to U+10FFFF");
    }
    if (start + length > m_body.size())
        return fail(JsonErrorKind::InvalidUtf8, start, "invalid UTF-8: truncated sequence");
    const unsigned char second = byteAt(m_body, start + 1);
    if (second < low || second > high) {
        std::string why = "invalid UTF-8: bad continuation byte " + hexByte(second);
        if (second >= 0x80 && second <= 0xBF) {
            if (lead == 0xE0 || lead == 0xF0)
                why = "invalid UTF-8: overlong encoding";
            else if (lead == 0xED)
                why = "invalid UTF-8: an encoded surrogate (U+D800..U+DFFF)";
            else if (lead == 0xF4)
                why = "invalid UTF-8: a code point beyond U+10FFFF";
        }
        return fail(JsonErrorKind::InvalidUtf8, start, why);
    }
    for (std::size_t i = 2; i < length; ++i) {
        const unsigned char next = byteAt(m_body, start + i);
        if (next < 0x80 || next > 0xBF)
            return fail(JsonErrorKind::InvalidUtf8, start, "invalid UTF-8: bad continuation byte " + hexByte(next));
    }
    m_document.m_text.insert(m_document.m_text.end(), m_body.begin() + static_cast<std::ptrdiff_t>(start),
                             m_body.begin() + static_cast<std::ptrdiff_t>(start + length));
    m_pos = start + length;
    return true;
}

Expected<JsonDocument, JsonError> readJson(std::string_view body, const JsonLimits &limits)
{
    return JsonReader(body, limits).read();
}

JsonValue JsonDocument::root() const
{
    assert(!m_nodes.empty());
    return JsonValue(&m_nodes.back(), m_nodes.data(), m_text.data());
}

JsonKind JsonValue::kind() const
{
    return m_node->kind;
}

bool JsonValue::boolean() const
{
    assert(isBoolean());
    return m_node->length != 0;
}

std::string_view JsonValue::string() const
{
    assert(isString());
    return std::string_view(m_text + m_node->first, m_node->length);
}

std::string_view JsonValue::numberText() const
{
    assert(isNumber());
    return std::string_view(m_text + m_node->first, m_node->length);
}

Expected<Decimal, DecimalError> JsonValue::decimal() const
{
    if (!isNumber() && !isString())
        return unexpected(DecimalError::Syntax);
    return Decimal::parse(std::string_view(m_text + m_node->first, m_node->length));
}

Expected<std::int64_t, JsonIntegerError> JsonValue::integer(std::int64_t min, std::int64_t max) const
{
    if (!isNumber())
        return unexpected(JsonIntegerError::NotAnInteger);
    std::string_view digits = numberText();
    const bool negative = digits.front() == '-';
    if (negative)
        digits.remove_prefix(1);
    if (digits.find_first_not_of("0123456789") != std::string_view::npos)
        return unexpected(JsonIntegerError::NotAnInteger);
    // The magnitude in unsigned arithmetic, up to 2^63 (the magnitude of the most negative int64).
    constexpr std::uint64_t kLimit = std::uint64_t{1} << 63;
    std::uint64_t magnitude = 0;
    for (const char digit : digits) {
        const auto value = static_cast<std::uint64_t>(digit - '0');
        if (magnitude > (kLimit - value) / 10)
            return unexpected(JsonIntegerError::OutOfRange);
        magnitude = magnitude * 10 + value;
    }
    if (!negative && magnitude == kLimit)
        return unexpected(JsonIntegerError::OutOfRange);
    const std::int64_t value = negative ? static_cast<std::int64_t>(0 - magnitude)
                                        : static_cast<std::int64_t>(magnitude);
    if (value < min || value > max)
        return unexpected(JsonIntegerError::OutOfRange);
    return value;
}

std::size_t JsonValue::size() const
{
    assert(isArray() || isObject());
    return m_node->length;
}

JsonValue JsonValue::at(std::size_t index) const
{
    assert((isArray() || isObject()) && index < m_node->length);
    return JsonValue(m_nodes + m_node->first + index, m_nodes, m_text);
}

std::string_view JsonValue::keyAt(std::size_t index) const
{
    assert(isObject() && index < m_node->length);
    const Node &member = m_nodes[m_node->first + index];
    return std::string_view(m_text + member.keyOffset, member.keyLength);
}

std::optional<JsonValue> JsonValue::member(std::string_view key) const
{
    assert(isObject());
    for (std::size_t i = 0; i < m_node->length; ++i) {
        if (keyAt(i) == key)
            return at(i);
    }
    return std::nullopt;
}

std::vector<std::string_view> JsonValue::memberNames() const
{
    assert(isObject());
    std::vector<std::string_view> names;
    names.reserve(m_node->length);
    for (std::size_t i = 0; i < m_node->length; ++i)
        names.push_back(keyAt(i));
    return names;
}

} // namespace bourse::server
