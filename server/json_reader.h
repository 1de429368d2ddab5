// The strict JSON reader for request bodies (RFC 8259). QJsonDocument turns numbers into doubles, keeps the
// last of duplicate keys and recurses; this reader keeps every number's text so that prices and quantities
// become Decimals exactly, refuses duplicate keys, and walks the body with an explicit stack under limits,
// in time linear in the body's size. A refusal is one line naming what is wrong and the byte offset, for a
// 400 BAD_REQUEST body. Plain values; any thread (a document is immutable once read).
//
// Decisions beyond the RFC:
// - A leading UTF-8 byte order mark is refused (RFC 8259 §8.1 lets a parser ignore it; a client that sends
//   one sends something other than the JSON it thinks it sends, so it is told).
// - Any value may be the root; whether it must be an object is the route's business.
// - "\u0000" is accepted: strings are views with a length, never C strings.
// - The number "-0" reads as Decimal zero and as the integer 0: no negative zero anywhere.
#pragma once

#include "decimal.h"
#include "expected.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bourse::server {

struct JsonLimits
{
    int maxDepth = 32;                      // nested arrays and objects; the root container is depth 1
    std::size_t maxStringBytes = 64 * 1024; // a string or key, counted in decoded UTF-8 bytes
    std::size_t maxNumberLength = 256;      // characters of one number's text
    std::size_t maxMembers = 10'000;        // members of one object or elements of one array
    std::size_t maxValues = 1'000'000;      // values in the whole document, containers included
};

enum class JsonErrorKind : std::uint8_t {
    EmptyBody,     // nothing but whitespace
    ByteOrderMark, // a leading U+FEFF
    UnexpectedEnd, // the body stops inside a value
    UnexpectedCharacter,
    InvalidLiteral,   // "tru", "nul", ...
    InvalidNumber,    // "01", "+1", ".5", "1.", "1e", NaN, Infinity
    InvalidUtf8,      // bad or truncated sequences, overlongs, UTF-8-encoded surrogates, > U+10FFFF
    ControlCharacter, // a raw byte below 0x20 inside a string
    InvalidEscape,    // "\x", "\u12G4"
    InvalidSurrogate, // "\uD800" alone, "\uDC00" first, "\uD800\u0041"
    DuplicateKey,     // the same key twice in one object (compared after unescaping)
    TrailingContent,  // something after the root value
    TooDeep,          // JsonLimits::maxDepth
    StringTooLong,    // JsonLimits::maxStringBytes
    NumberTooLong,    // JsonLimits::maxNumberLength
    TooManyMembers,   // JsonLimits::maxMembers
    TooManyValues,    // JsonLimits::maxValues
    BodyTooLarge,     // beyond what 32-bit offsets address (4 GiB); the caller's own limit comes first
};

struct JsonError
{
    JsonErrorKind kind = JsonErrorKind::EmptyBody;
    std::size_t offset = 0; // the byte where the problem starts
    std::string message;    // one line: what and where, e.g. `duplicate key "price" at byte offset 31`
};

enum class JsonKind : std::uint8_t { Null, Boolean, Number, String, Array, Object };

// For messages: "null", "a boolean", "a number", "a string", "an array", "an object".
const char *typeName(JsonKind kind);

enum class JsonIntegerError : std::uint8_t {
    NotAnInteger, // not a number, or a number with a fraction or an exponent ("1.0", "1e2")
    OutOfRange,   // outside the range the caller asked for
};

const char *describe(JsonIntegerError error);

class JsonDocument;
class JsonReader;

// One value of a document: a small handle, valid while its JsonDocument lives (moving the document is
// fine). Asking a value for another kind's content (string() of a number) is a bug and asserts.
class JsonValue final
{
public:
    JsonKind kind() const;
    const char *typeName() const { return server::typeName(kind()); }
    bool isNull() const { return kind() == JsonKind::Null; }
    bool isBoolean() const { return kind() == JsonKind::Boolean; }
    bool isNumber() const { return kind() == JsonKind::Number; }
    bool isString() const { return kind() == JsonKind::String; }
    bool isArray() const { return kind() == JsonKind::Array; }
    bool isObject() const { return kind() == JsonKind::Object; }

    bool boolean() const;
    // The decoded UTF-8 of a string (escapes resolved; it may hold "\0").
    std::string_view string() const;
    // A number's text exactly as the body wrote it, already checked against JSON's grammar.
    std::string_view numberText() const;

    // A number's text or a string's content through Decimal::parse: the API takes amounts either way.
    // "1e309" is OutOfRange, "0.1e-30" TooManyDecimals, "-0" zero; any other kind is Syntax (check the
    // kind first for a better message).
    Expected<Decimal, DecimalError> decimal() const;
    // A number written as an integer (-?(0|[1-9][0-9]*), no fraction, no exponent) within [min, max].
    Expected<std::int64_t, JsonIntegerError> integer(std::int64_t min, std::int64_t max) const;

    // Arrays and objects: how many elements or members.
    std::size_t size() const;
    // Arrays: the element at index < size(). Objects: the member value at index, in body order.
    JsonValue at(std::size_t index) const;
    // Objects: the key of the member at index < size().
    std::string_view keyAt(std::size_t index) const;
    // Objects: the member named key, if any (keys are unique: duplicates were refused). A linear scan:
    // request objects are small.
    std::optional<JsonValue> member(std::string_view key) const;
    // Objects: every key, in body order, so a caller can refuse or ignore fields it does not know.
    std::vector<std::string_view> memberNames() const;

private:
    friend class JsonDocument;
    friend class JsonReader;
    struct Node;
    JsonValue(const Node *node, const Node *nodes, const char *text)
        : m_node(node)
        , m_nodes(nodes)
        , m_text(text)
    {}

    const Node *m_node;
    const Node *m_nodes; // the document's node array (children are found by index)
    const char *m_text;  // the document's decoded strings and number texts
};

struct JsonValue::Node
{
    JsonKind kind = JsonKind::Null;
    std::uint32_t first = 0;     // string/number: offset in the text; array/object: index of the first child
    std::uint32_t length = 0;    // string/number: bytes; array/object: children; boolean: 0 or 1
    std::uint32_t keyOffset = 0; // object members: the decoded key in the text
    std::uint32_t keyLength = 0;
    std::uint32_t keySource = 0; // object members: where the key starts in the body (for duplicate errors)
};

class JsonDocument final
{
public:
    JsonValue root() const;
    // How many values the document holds, containers included.
    std::size_t valueCount() const { return m_nodes.size(); }

private:
    friend class JsonReader; // json_reader.cpp: the one code that fills a document
    JsonDocument() = default;

    std::vector<JsonValue::Node> m_nodes; // children before their container; the root is last
    std::vector<char> m_text;
};

Expected<JsonDocument, JsonError> readJson(std::string_view body, const JsonLimits &limits = {});

} // namespace bourse::server
