// Tests of the strict JSON reader for request bodies: every refusal with its kind and byte offset, valid
// documents of every kind read back exactly, numbers into Decimals and integers, the limits, hostile
// nesting that fails at once, a 2 MiB body, and a seeded random round trip (seed printed; BOURSE_SEED
// replays one).
#include "json_reader.h"

#include <QElapsedTimer>
#include <QTest>

#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

using namespace bourse;
using namespace bourse::server;

Q_DECLARE_METATYPE(bourse::server::JsonErrorKind)
Q_DECLARE_METATYPE(bourse::DecimalError)
Q_DECLARE_METATYPE(bourse::server::JsonIntegerError)

namespace {

std::string_view view(const QByteArray &bytes)
{
    return std::string_view(bytes.constData(), static_cast<std::size_t>(bytes.size()));
}

QByteArray bytes(std::string_view text)
{
    return QByteArray(text.data(), static_cast<qsizetype>(text.size()));
}

void appendEscaped(std::string &out, std::string_view text)
{
    static constexpr char kHex[] = "0123456789ABCDEF";
    out += '"';
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (byte < 0x20) {
            out += "\\u00";
            out += kHex[byte >> 4];
            out += kHex[byte & 0x0F];
        } else {
            out += c;
        }
    }
    out += '"';
}

// A canonical text of a read document: no whitespace, numbers as written, strings with only '"', '\' and
// control characters escaped. Recursive: the test documents are shallow.
void dump(const JsonValue &value, std::string &out)
{
    switch (value.kind()) {
    case JsonKind::Null: out += "null"; return;
    case JsonKind::Boolean: out += value.boolean() ? "true" : "false"; return;
    case JsonKind::Number: out += value.numberText(); return;
    case JsonKind::String: appendEscaped(out, value.string()); return;
    case JsonKind::Array:
        out += '[';
        for (std::size_t i = 0; i < value.size(); ++i) {
            if (i > 0)
                out += ',';
            dump(value.at(i), out);
        }
        out += ']';
        return;
    case JsonKind::Object:
        out += '{';
        for (std::size_t i = 0; i < value.size(); ++i) {
            if (i > 0)
                out += ',';
            appendEscaped(out, value.keyAt(i));
            out += ':';
            dump(value.at(i), out);
        }
        out += '}';
        return;
    }
}

QByteArray dump(const JsonDocument &document)
{
    std::string out;
    dump(document.root(), out);
    return bytes(out);
}

QByteArray nested(int depth, const char *open, const char *inner, const char *close)
{
    QByteArray body;
    for (int i = 0; i < depth; ++i)
        body += open;
    body += inner;
    for (int i = 0; i < depth; ++i)
        body += close;
    return body;
}

// The random round trip's model of a document, and the text it is written as.
struct Model
{
    JsonKind kind = JsonKind::Null;
    bool boolean = false;
    std::string text;                                    // a number's text or a string's UTF-8
    std::vector<std::pair<std::string, Model>> children; // keys are empty in arrays
};

class RandomJson
{
public:
    explicit RandomJson(std::uint64_t seed)
        : m_random(seed)
    {}

    Model value(int depth)
    {
        Model model;
        const int choice = pick(0, depth >= 6 ? 3 : 5);
        switch (choice) {
        case 0:
            model.kind = pick(0, 1) ? JsonKind::Null : JsonKind::Boolean;
            model.boolean = pick(0, 1) == 1;
            break;
        case 1:
            model.kind = JsonKind::Number;
            model.text = number();
            break;
        case 2:
        case 3:
            model.kind = JsonKind::String;
            model.text = string();
            break;
        case 4:
            model.kind = JsonKind::Array;
            for (int i = pick(0, 6); i > 0; --i)
                model.children.emplace_back(std::string(), value(depth + 1));
            break;
        default: {
            model.kind = JsonKind::Object;
            std::set<std::string> keys;
            for (int i = pick(0, 6); i > 0; --i) {
                std::string key = string();
                if (keys.insert(key).second)
                    model.children.emplace_back(std::move(key), value(depth + 1));
            }
            break;
        }
        }
        return model;
    }

    void write(const Model &model, std::string &out)
    {
        space(out);
        switch (model.kind) {
        case JsonKind::Null: out += "null"; break;
        case JsonKind::Boolean: out += model.boolean ? "true" : "false"; break;
        case JsonKind::Number: out += model.text; break;
        case JsonKind::String: writeString(model.text, out); break;
        case JsonKind::Array:
        case JsonKind::Object: {
            const bool isObject = model.kind == JsonKind::Object;
            out += isObject ? '{' : '[';
            for (std::size_t i = 0; i < model.children.size(); ++i) {
                if (i > 0)
                    out += ',';
                if (isObject) {
                    space(out);
                    writeString(model.children[i].first, out);
                    space(out);
                    out += ':';
                }
                write(model.children[i].second, out);
            }
            space(out);
            out += isObject ? '}' : ']';
            break;
        }
        }
        space(out);
    }

private:
    int pick(int low, int high) { return std::uniform_int_distribution<int>(low, high)(m_random); }

    std::string digits(int count, bool leadingNonZero)
    {
        std::string text;
        for (int i = 0; i < count; ++i)
            text += static_cast<char>('0' + pick(i == 0 && leadingNonZero ? 1 : 0, 9));
        return text;
    }

    std::string number()
    {
        std::string text = pick(0, 3) == 0 ? "-" : "";
        text += pick(0, 4) == 0 ? std::string("0") : digits(pick(1, 12), true);
        if (pick(0, 1))
            text += "." + digits(pick(1, 10), false);
        if (pick(0, 4) == 0) {
            text += pick(0, 1) ? 'e' : 'E';
            const int sign = pick(0, 2);
            if (sign > 0)
                text += sign == 1 ? '+' : '-';
            text += digits(pick(1, 3), false);
        }
        return text;
    }

    std::uint32_t codePoint()
    {
        switch (pick(0, 9)) {
        case 0: return static_cast<std::uint32_t>(pick(0, 0x1F)); // control characters, U+0000 included
        case 1: return pick(0, 1) ? '"' : '\\';
        case 2: return static_cast<std::uint32_t>(pick(0x80, 0x7FF));
        case 3: {
            const int value = pick(0x800, 0xFFFF - 0x800); // skips the surrogates
            return static_cast<std::uint32_t>(value < 0xD800 ? value : value + 0x800);
        }
        case 4: return static_cast<std::uint32_t>(pick(0x10000, 0x10FFFF));
        default: return static_cast<std::uint32_t>(pick(0x20, 0x7E));
        }
    }

    std::string string()
    {
        std::string text;
        for (int i = pick(0, 12); i > 0; --i) {
            const std::uint32_t cp = codePoint();
            if (cp < 0x80) {
                text += static_cast<char>(cp);
            } else if (cp < 0x800) {
                text += static_cast<char>(0xC0 | (cp >> 6));
                text += static_cast<char>(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                text += static_cast<char>(0xE0 | (cp >> 12));
                text += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
                text += static_cast<char>(0x80 | (cp & 0x3F));
            } else {
                text += static_cast<char>(0xF0 | (cp >> 18));
                text += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
                text += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
                text += static_cast<char>(0x80 | (cp & 0x3F));
            }
        }
        return text;
    }

    void space(std::string &out)
    {
        static constexpr char kSpace[] = {' ', '\t', '\n', '\r'};
        if (pick(0, 3) == 0) {
            for (int i = pick(1, 3); i > 0; --i)
                out += kSpace[pick(0, 3)];
        }
    }

    void unicodeEscape(std::uint32_t unit, std::string &out)
    {
        static constexpr char kUpper[] = "0123456789ABCDEF";
        static constexpr char kLower[] = "0123456789abcdef";
        const char *hex = pick(0, 1) ? kUpper : kLower;
        out += "\\u";
        for (int shift = 12; shift >= 0; shift -= 4)
            out += hex[(unit >> shift) & 0xF];
    }

    // Writes UTF-8 text as a JSON string, each character raw or escaped at random (where raw is allowed).
    void writeString(const std::string &text, std::string &out)
    {
        out += '"';
        for (std::size_t i = 0; i < text.size();) {
            const auto lead = static_cast<unsigned char>(text[i]);
            const std::size_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
            std::uint32_t cp = length == 1   ? lead
                               : length == 2 ? lead & 0x1Fu
                               : length == 3 ? lead & 0x0Fu
                                             : lead & 0x07u;
            for (std::size_t k = 1; k < length; ++k)
                cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3Fu);
            const bool mustEscape = cp < 0x20 || cp == '"' || cp == '\\';
            if (!mustEscape && pick(0, 2) != 0) {
                out.append(text, i, length);
            } else if (cp == '"' || cp == '\\' || cp == '\n' || cp == '\t' || cp == '/') {
                if (pick(0, 1)) {
                    out += '\\';
                    out += cp == '\n' ? 'n' : cp == '\t' ? 't' : static_cast<char>(cp);
                } else {
                    unicodeEscape(cp, out);
                }
            } else if (cp >= 0x10000) {
                const std::uint32_t offset = cp - 0x10000;
                unicodeEscape(0xD800 + (offset >> 10), out);
                unicodeEscape(0xDC00 + (offset & 0x3FF), out);
            } else {
                unicodeEscape(cp, out);
            }
            i += length;
        }
        out += '"';
    }

    std::mt19937_64 m_random;
};

bool sameValue(const Model &model, const JsonValue &value, std::string &why)
{
    if (model.kind != value.kind()) {
        why = std::string("kind: expected ") + typeName(model.kind) + ", read " + value.typeName();
        return false;
    }
    switch (model.kind) {
    case JsonKind::Null: return true;
    case JsonKind::Boolean:
        if (model.boolean != value.boolean())
            why = "boolean differs";
        return why.empty();
    case JsonKind::Number:
        if (model.text != value.numberText())
            why = "number: expected " + model.text + ", read " + std::string(value.numberText());
        return why.empty();
    case JsonKind::String:
        if (model.text != value.string())
            why = "string differs";
        return why.empty();
    case JsonKind::Array:
    case JsonKind::Object:
        if (model.children.size() != value.size()) {
            why = "size differs";
            return false;
        }
        for (std::size_t i = 0; i < model.children.size(); ++i) {
            if (model.kind == JsonKind::Object && model.children[i].first != value.keyAt(i)) {
                why = "key differs";
                return false;
            }
            if (!sameValue(model.children[i].second, value.at(i), why))
                return false;
        }
        return true;
    }
    return false;
}

} // namespace

class tst_JsonReader : public QObject
{
    Q_OBJECT

private slots:
    void refused_data();
    void refused();
    void accepted_data();
    void accepted();
    void decimal_data();
    void decimal();
    void integer_data();
    void integer();
    void accessors();
    void limits_data();
    void limits();
    void duplicateKeyInLargeObject();
    void hostileNesting_data();
    void hostileNesting();
    void deepNestingWithoutRecursion();
    void largeBody();
    void randomRoundTrip();
    void corruptedBodies();
};

void tst_JsonReader::refused_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<JsonErrorKind>("kind");
    QTest::addColumn<int>("offset");
    QTest::addColumn<QByteArray>("says");

    const auto row = [](const char *name, const QByteArray &body, JsonErrorKind kind, int offset, const char *says) {
        QTest::newRow(name) << body << kind << offset << QByteArray(says);
    };
    using K = JsonErrorKind;

    row("empty", "", K::EmptyBody, 0, "empty body");
    row("whitespace only", " \t\r\n", K::EmptyBody, 4, "empty body");
    row("byte order mark", "\xEF\xBB\xBF{}", K::ByteOrderMark, 0, "byte order mark");

    row("end in object", "{", K::UnexpectedEnd, 1, "expected a key string or '}'");
    row("end after comma", "[1,", K::UnexpectedEnd, 3, "expected a value");
    row("end in array", "[1", K::UnexpectedEnd, 2, "expected ',' or ']'");
    row("end after key", "{\"a\"", K::UnexpectedEnd, 4, "expected ':'");
    row("end after colon", "{\"a\":", K::UnexpectedEnd, 5, "expected a value");
    row("end in string", "\"abc", K::UnexpectedEnd, 4, "inside the string starting at byte offset 0");
    row("end in escape", "\"\\", K::UnexpectedEnd, 2, "inside an escape");

    row("trailing comma in array", "[1,]", K::UnexpectedCharacter, 3, "expected a value, found ']'");
    row("trailing comma in object", "{\"a\":1,}", K::UnexpectedCharacter, 7, "expected a key string after ','");
    row("comma first in object", "{,}", K::UnexpectedCharacter, 1, "expected a key string or '}'");
    row("missing colon", "{\"a\" 1}", K::UnexpectedCharacter, 5, "expected ':' after a key, found '1'");
    row("bare key", "{a:1}", K::UnexpectedCharacter, 1, "found 'a'");
    row("number key", "{1:1}", K::UnexpectedCharacter, 1, "found '1'");
    row("missing comma", "[1 2]", K::UnexpectedCharacter, 3, "expected ',' or ']', found '2'");
    row("wrong closer", "[1}", K::UnexpectedCharacter, 2, "expected ',' or ']', found '}'");
    row("single quotes", "'a'", K::UnexpectedCharacter, 0, "expected a value, found '''");
    row("capital True", "True", K::UnexpectedCharacter, 0, "found 'T'");
    row("bytes outside a string", "\xC3\xA9", K::UnexpectedCharacter, 0, "found byte 0xC3");
    row("comment", "[1] // no", K::TrailingContent, 4, "unexpected '/' after the JSON value");

    row("tru", "tru", K::InvalidLiteral, 0, "expected true");
    row("nul in array", "[nul]", K::InvalidLiteral, 1, "expected null");
    row("fals", "fals", K::InvalidLiteral, 0, "expected false");

    row("NaN", "NaN", K::InvalidNumber, 0, "NaN is not a JSON number");
    row("Infinity", "[Infinity]", K::InvalidNumber, 1, "Infinity is not a JSON number");
    row("-Infinity", "-Infinity", K::InvalidNumber, 0, "-Infinity is not a JSON number");
    row("plus", "+1", K::InvalidNumber, 0, "cannot start with '+'");
    row("leading point", ".5", K::InvalidNumber, 0, "cannot start with '.'");
    row("trailing point", "1.", K::InvalidNumber, 2, "expected a digit after the decimal point");
    row("point before exponent", "1.e5", K::InvalidNumber, 2, "expected a digit after the decimal point");
    row("leading zero", "01", K::InvalidNumber, 0, "leading zeros");
    row("negative leading zero", "-01", K::InvalidNumber, 0, "leading zeros");
    row("double zero", "{\"a\":00}", K::InvalidNumber, 5, "leading zeros");
    row("lone minus", "-", K::InvalidNumber, 1, "expected a digit after '-'");
    row("minus NaN", "-NaN", K::InvalidNumber, 1, "expected a digit after '-'");
    row("empty exponent", "1e", K::InvalidNumber, 2, "expected a digit in the exponent");
    row("signed empty exponent", "1e+", K::InvalidNumber, 3, "expected a digit in the exponent");
    row("hex", "0x10", K::TrailingContent, 1, "unexpected 'x'");
    row("two points", "1.5.2", K::TrailingContent, 3, "unexpected '.'");

    row("continuation byte first", "\"\x80\"", K::InvalidUtf8, 1, "unexpected continuation byte 0x80");
    row("overlong C0", "\"\xC0\xAF\"", K::InvalidUtf8, 1, "overlong");
    row("overlong C1", "\"\xC1\xBF\"", K::InvalidUtf8, 1, "overlong");
    row("overlong three bytes", "\"\xE0\x80\xAF\"", K::InvalidUtf8, 1, "overlong");
    row("overlong four bytes", "\"\xF0\x80\x80\xAF\"", K::InvalidUtf8, 1, "overlong");
    row("encoded high surrogate", "\"\xED\xA0\x80\"", K::InvalidUtf8, 1, "surrogate");
    row("encoded low surrogate", "\"\xED\xBF\xBF\"", K::InvalidUtf8, 1, "surrogate");
    row("beyond U+10FFFF", "\"\xF4\x90\x80\x80\"", K::InvalidUtf8, 1, "beyond U+10FFFF");
    row("F5 lead", "\"\xF5\x80\x80\x80\"", K::InvalidUtf8, 1, "0xF5 starts no character");
    row("FF byte", "[\"a\xFF\"]", K::InvalidUtf8, 3, "0xFF starts no character");
    row("missing continuation", "\"\xC3\"", K::InvalidUtf8, 1, "bad continuation byte 0x22");
    row("short three bytes", "\"\xE2\x82\"", K::InvalidUtf8, 1, "bad continuation byte 0x22");
    row("truncated at end", "\"\xE2\x82", K::InvalidUtf8, 1, "truncated");
    row("invalid UTF-8 in a key", "{\"\xC0\x80\":1}", K::InvalidUtf8, 2, "overlong");

    row("raw newline", "\"a\nb\"", K::ControlCharacter, 2, "control character 0x0A");
    row("raw tab", "[\"\t\"]", K::ControlCharacter, 2, "control character 0x09");
    row("raw NUL", QByteArray("\"a\0\"", 4), K::ControlCharacter, 2, "control character 0x00");
    row("raw unit separator", "\"\x1F\"", K::ControlCharacter, 1, "control character 0x1F");

    row("unknown escape", "\"\\x\"", K::InvalidEscape, 1, "backslash followed by 'x'");
    row("capital U escape", "\"\\U0041\"", K::InvalidEscape, 1, "backslash followed by 'U'");
    row("escaped quote-less", "\"\\'\"", K::InvalidEscape, 1, "backslash followed by '''");
    row("bad hex", "\"\\u12G4\"", K::InvalidEscape, 1, "expected 4 hex digits");
    row("short hex", "\"\\u12\"", K::InvalidEscape, 1, "expected 4 hex digits");
    row("hex at end", "\"\\u00", K::InvalidEscape, 1, "expected 4 hex digits");

    row("lone high surrogate", "\"\\uD800\"", K::InvalidSurrogate, 1, "not followed by a low surrogate");
    row("lone low surrogate", "\"a\\uDC00\"", K::InvalidSurrogate, 2, "without a high surrogate");
    row("high then letter", "\"\\uD83Dx\"", K::InvalidSurrogate, 1, "not followed by a low surrogate");
    row("high then BMP escape", "\"\\uD800\\u0041\"", K::InvalidSurrogate, 1, "not followed by a low surrogate");
    row("two highs", "\"\\uDBFF\\uDBFF\"", K::InvalidSurrogate, 1, "not followed by a low surrogate");
    row("high then short escape", "\"\\uD800\\n\"", K::InvalidSurrogate, 1, "not followed by a low surrogate");
    row("reversed pair", "\"\\uDE00\\uD83D\"", K::InvalidSurrogate, 1, "without a high surrogate");

    row("duplicate key", "{\"a\":1,\"a\":2}", K::DuplicateKey, 7, "duplicate key \"a\"");
    row("duplicate after escape", "{\"a\":1,\"\\u0061\":2}", K::DuplicateKey, 7, "duplicate key \"a\"");
    row("duplicate nested", "{\"x\":{\"b\":1,\"c\":0,\"b\":[]}}", K::DuplicateKey, 18, "duplicate key \"b\"");
    row("first duplicate named", "{\"p\":1,\"q\":1,\"q\":2,\"p\":2}", K::DuplicateKey, 13, "duplicate key \"q\"");
    row("duplicate empty key", "{\"\":1,\"\":2}", K::DuplicateKey, 6, "duplicate key \"\"");
    row("duplicate key quoted", "{\"a\\\"b\":1,\"a\\\"b\":2}", K::DuplicateKey, 10, "duplicate key \"a\\\"b\"");
    row("duplicate key with newline", "{\"a\\nb\":1,\"a\\nb\":2}", K::DuplicateKey, 10, "duplicate key \"a\\u000Ab\"");

    row("two documents", "{} {}", K::TrailingContent, 3, "unexpected '{' after the JSON value");
    row("two numbers", "1 2", K::TrailingContent, 2, "unexpected '2'");
    row("extra closer", "[]]", K::TrailingContent, 2, "unexpected ']'");
    row("trailing NUL", QByteArray("null\0", 5), K::TrailingContent, 4, "unexpected byte 0x00");
    row("falsy", "falsy", K::InvalidLiteral, 0, "expected false");
    row("null then letter", "nullx", K::TrailingContent, 4, "unexpected 'x'");
    row("string then garbage", "\"a\"x", K::TrailingContent, 3, "unexpected 'x'");
    row("trailing BOM", "{}\xEF\xBB\xBF", K::TrailingContent, 2, "unexpected byte 0xEF");

    row("33 arrays deep", nested(33, "[", "", "]"), K::TooDeep, 32, "nesting deeper than 32");
    row("33 objects deep", nested(33, "{\"k\":", "1", "}"), K::TooDeep, 32 * 5, "nesting deeper than 32");
}

void tst_JsonReader::refused()
{
    QFETCH(QByteArray, body);
    QFETCH(JsonErrorKind, kind);
    QFETCH(int, offset);
    QFETCH(QByteArray, says);

    const auto result = readJson(view(body));
    QVERIFY2(!result.hasValue(), "the body was accepted");
    const JsonError &error = result.error();
    const QByteArray message = bytes(error.message);
    QVERIFY2(error.kind == kind, message.constData());
    QCOMPARE(error.offset, static_cast<std::size_t>(offset));
    QVERIFY2(message.contains(says), message.constData());
    QVERIFY2(message.endsWith(" at byte offset " + QByteArray::number(offset)), message.constData());
    QVERIFY2(!message.contains('\n') && !message.contains('\r'), "the message is one line");
}

void tst_JsonReader::accepted_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QByteArray>("canonical");
    QTest::addColumn<JsonKind>("kind");

    const auto row = [](const char *name, const QByteArray &body, const QByteArray &canonical, JsonKind kind) {
        QTest::newRow(name) << body << canonical << kind;
    };
    using K = JsonKind;

    row("null", "null", "null", K::Null);
    row("true with spaces", " \t\r\ntrue\n", "true", K::Boolean);
    row("false", "false", "false", K::Boolean);
    row("zero", "0", "0", K::Number);
    row("negative zero", "-0", "-0", K::Number);
    row("big exact", "123456789.12345678", "123456789.12345678", K::Number);
    row("exponent kept as written", "1E+2", "1E+2", K::Number);
    row("negative fraction exponent", "-1.5e-3", "-1.5e-3", K::Number);
    row("huge number text", "1e309", "1e309", K::Number);
    row("long digits", "123456789012345678901234567890", "123456789012345678901234567890", K::Number);
    row("empty string", "\"\"", "\"\"", K::String);
    row("short escapes", "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"", "\"a\\\"b\\\\c/d\\u0008\\u000C\\u000A\\u000D\\u0009\"",
        K::String);
    row("unicode escapes", "\"\\u00e9\\u20AC\\uD83D\\uDE00\"", "\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"", K::String);
    row("escaped U+10FFFF", "\"\\uDBFF\\uDFFF\"", "\"\xF4\x8F\xBF\xBF\"", K::String);
    row("escaped NUL", "\"\\u0000\"", "\"\\u0000\"", K::String);
    row("raw UTF-8", "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"", "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"",
        K::String);
    row("UTF-8 boundaries",
        "\"\x7F\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF\xF0\x90\x80\x80\xF4\x8F\xBF\xBF\"",
        "\"\x7F\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF\xF0\x90\x80\x80\xF4\x8F\xBF\xBF\"",
        K::String);
    row("empty array", "[ ]", "[]", K::Array);
    row("empty object", "{ }", "{}", K::Object);
    row("every kind", " [ 1 , -2.5e3, \"s\" , true, false, null, [ ], { \"a\" : { } } ] ",
        "[1,-2.5e3,\"s\",true,false,null,[],{\"a\":{}}]", K::Array);
    row("order",
        "{\"symbol\":\"BTC-USD\",\"side\":\"buy\",\"price\":\"2000.50\",\"quantity\":0.0001,\"post_only\":false}",
        "{\"symbol\":\"BTC-USD\",\"side\":\"buy\",\"price\":\"2000.50\",\"quantity\":0.0001,\"post_only\":false}",
        K::Object);
    row("keys differ in case", "{\"a\":1,\"A\":2}", "{\"a\":1,\"A\":2}", K::Object);
    row("keys differ by escape", "{\"a\":1,\"a\\u0000\":2}", "{\"a\":1,\"a\\u0000\":2}", K::Object);
    row("same key in sibling objects", "[{\"a\":1},{\"a\":2}]", "[{\"a\":1},{\"a\":2}]", K::Array);
    row("32 arrays deep", nested(32, "[", "7", "]"), nested(32, "[", "7", "]"), K::Array);
    row("32 objects deep", nested(32, "{\"k\":", "null", "}"), nested(32, "{\"k\":", "null", "}"), K::Object);
}

void tst_JsonReader::accepted()
{
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, canonical);
    QFETCH(JsonKind, kind);

    const auto result = readJson(view(body));
    QVERIFY2(result.hasValue(), result.hasValue() ? "" : result.error().message.c_str());
    QCOMPARE(result->root().kind(), kind);
    QCOMPARE(dump(*result), canonical);
}

void tst_JsonReader::decimal_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<qint64>("raw");
    QTest::addColumn<DecimalError>("error");

    const auto value = [](const char *name, const char *body, qint64 raw) {
        QTest::newRow(name) << QByteArray(body) << true << raw << DecimalError::Syntax;
    };
    const auto refused = [](const char *name, const char *body, DecimalError error) {
        QTest::newRow(name) << QByteArray(body) << false << qint64(0) << error;
    };

    value("big exact", "123456789.12345678", 12345678912345678);
    value("one unit", "0.00000001", 1);
    value("negative zero is zero", "-0", 0);
    value("negative zero fraction", "-0.0", 0);
    value("exponent", "1E2", 10'000'000'000);
    value("negative exponent", "25e-1", 250'000'000);
    value("string amount", "\"2000.50\"", 200'050'000'000);
    value("largest", "92233720368.54775807", std::numeric_limits<qint64>::max());
    value("smallest", "-92233720368.54775807", -std::numeric_limits<qint64>::max());
    refused("1e309", "1e309", DecimalError::OutOfRange);
    refused("past largest", "92233720368.54775808", DecimalError::OutOfRange);
    refused("past smallest", "-92233720368.54775808", DecimalError::OutOfRange);
    refused("0.1e-30", "0.1e-30", DecimalError::TooManyDecimals);
    refused("nine decimals", "0.000000001", DecimalError::TooManyDecimals);
    refused("empty string", "\"\"", DecimalError::Empty);
    refused("string with space", "\" 1\"", DecimalError::Syntax);
    refused("string NaN", "\"NaN\"", DecimalError::Syntax);
    refused("boolean", "true", DecimalError::Syntax);
    refused("array", "[1]", DecimalError::Syntax);
}

void tst_JsonReader::decimal()
{
    QFETCH(QByteArray, body);
    QFETCH(bool, ok);
    QFETCH(qint64, raw);
    QFETCH(DecimalError, error);

    const auto document = readJson(view(body));
    QVERIFY(document.hasValue());
    const auto decimal = document->root().decimal();
    QCOMPARE(decimal.hasValue(), ok);
    if (ok) {
        QCOMPARE(decimal->raw(), raw);
        QVERIFY(raw != 0 || !decimal->isNegative());
    } else {
        QCOMPARE(decimal.error(), error);
    }
}

void tst_JsonReader::integer_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<qint64>("min");
    QTest::addColumn<qint64>("max");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<qint64>("value");
    QTest::addColumn<JsonIntegerError>("error");

    constexpr qint64 kMin = std::numeric_limits<qint64>::min();
    constexpr qint64 kMax = std::numeric_limits<qint64>::max();
    const auto value = [](const char *name, const char *body, qint64 min, qint64 max, qint64 expected) {
        QTest::newRow(name) << QByteArray(body) << min << max << true << expected << JsonIntegerError::NotAnInteger;
    };
    const auto refused = [](const char *name, const char *body, qint64 min, qint64 max, JsonIntegerError error) {
        QTest::newRow(name) << QByteArray(body) << min << max << false << qint64(0) << error;
    };

    value("zero", "0", 0, 10, 0);
    value("negative zero", "-0", 0, 10, 0);
    value("in range", "42", 0, 100, 42);
    value("at max", "100", 0, 100, 100);
    value("negative", "-7", -10, 10, -7);
    value("int64 max", "9223372036854775807", kMin, kMax, kMax);
    value("int64 min", "-9223372036854775808", kMin, kMax, kMin);
    refused("above max", "101", 0, 100, JsonIntegerError::OutOfRange);
    refused("below min", "-1", 0, 100, JsonIntegerError::OutOfRange);
    refused("past int64 max", "9223372036854775808", kMin, kMax, JsonIntegerError::OutOfRange);
    refused("past int64 min", "-9223372036854775809", kMin, kMax, JsonIntegerError::OutOfRange);
    refused("many digits", "123456789012345678901234567890", kMin, kMax, JsonIntegerError::OutOfRange);
    refused("fraction", "1.0", kMin, kMax, JsonIntegerError::NotAnInteger);
    refused("exponent", "1e2", kMin, kMax, JsonIntegerError::NotAnInteger);
    refused("string", "\"5\"", kMin, kMax, JsonIntegerError::NotAnInteger);
    refused("null", "null", kMin, kMax, JsonIntegerError::NotAnInteger);
}

void tst_JsonReader::integer()
{
    QFETCH(QByteArray, body);
    QFETCH(qint64, min);
    QFETCH(qint64, max);
    QFETCH(bool, ok);
    QFETCH(qint64, value);
    QFETCH(JsonIntegerError, error);

    const auto document = readJson(view(body));
    QVERIFY(document.hasValue());
    const auto integer = document->root().integer(min, max);
    QCOMPARE(integer.hasValue(), ok);
    if (ok)
        QCOMPARE(*integer, value);
    else
        QCOMPARE(integer.error(), error);
}

void tst_JsonReader::accessors()
{
    const QByteArray body = R"({"symbol":"BTC-USD","price":"2000.50","quantity":1.5,"post_only":false,)"
                            R"("tags":[1,"x",null],"extra":{},"note":null})";
    auto result = readJson(view(body));
    QVERIFY(result.hasValue());
    // A document may move after it was read: values point into its buffers, not into the document itself.
    const JsonDocument document = std::move(*result);
    const JsonValue root = document.root();
    QVERIFY(root.isObject());
    QCOMPARE(root.size(), std::size_t{7});
    QCOMPARE(document.valueCount(), std::size_t{11});

    const std::vector<std::string_view> expectedNames{"symbol", "price", "quantity", "post_only",
                                                      "tags",   "extra", "note"};
    QVERIFY(root.memberNames() == expectedNames);
    QCOMPARE(root.keyAt(2), std::string_view("quantity"));

    QCOMPARE(root.member("symbol")->string(), std::string_view("BTC-USD"));
    QCOMPARE(root.member("price")->decimal()->raw(), 200'050'000'000);
    QCOMPARE(root.member("quantity")->numberText(), std::string_view("1.5"));
    QCOMPARE(root.member("quantity")->decimal()->raw(), 150'000'000);
    QCOMPARE(root.member("post_only")->boolean(), false);
    QVERIFY(root.member("note")->isNull());
    QVERIFY(!root.member("missing").has_value());
    QVERIFY(!root.member("Symbol").has_value());

    const JsonValue tags = *root.member("tags");
    QCOMPARE(tags.size(), std::size_t{3});
    QCOMPARE(tags.at(0).integer(0, 10).valueOr(-1), 1);
    QCOMPARE(tags.at(1).string(), std::string_view("x"));
    QVERIFY(tags.at(2).isNull());
    QCOMPARE(root.member("extra")->size(), std::size_t{0});

    QCOMPARE(QByteArray(root.member("symbol")->typeName()), QByteArray("a string"));
    QCOMPARE(QByteArray(root.member("quantity")->typeName()), QByteArray("a number"));
    QCOMPARE(QByteArray(root.member("post_only")->typeName()), QByteArray("a boolean"));
    QCOMPARE(QByteArray(tags.typeName()), QByteArray("an array"));
    QCOMPARE(QByteArray(root.typeName()), QByteArray("an object"));
    QCOMPARE(QByteArray(root.member("note")->typeName()), QByteArray("null"));
    QCOMPARE(QByteArray(describe(JsonIntegerError::OutOfRange)), QByteArray("is out of range"));
}

void tst_JsonReader::limits_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("maxDepth");
    QTest::addColumn<int>("maxStringBytes");
    QTest::addColumn<int>("maxNumberLength");
    QTest::addColumn<int>("maxMembers");
    QTest::addColumn<int>("maxValues");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<JsonErrorKind>("kind");
    QTest::addColumn<int>("offset");

    const JsonLimits defaults;
    const auto row = [&](const char *name, const QByteArray &body, JsonLimits limits, bool ok, JsonErrorKind kind,
                         int offset) {
        QTest::newRow(name) << body << limits.maxDepth << static_cast<int>(limits.maxStringBytes)
                            << static_cast<int>(limits.maxNumberLength) << static_cast<int>(limits.maxMembers)
                            << static_cast<int>(limits.maxValues) << ok << kind << offset;
    };
    const auto depth = [&](int value) {
        JsonLimits limits = defaults;
        limits.maxDepth = value;
        return limits;
    };
    const auto strings = [&](std::size_t value) {
        JsonLimits limits = defaults;
        limits.maxStringBytes = value;
        return limits;
    };
    const auto numbers = [&](std::size_t value) {
        JsonLimits limits = defaults;
        limits.maxNumberLength = value;
        return limits;
    };
    const auto members = [&](std::size_t value) {
        JsonLimits limits = defaults;
        limits.maxMembers = value;
        return limits;
    };
    const auto values = [&](std::size_t value) {
        JsonLimits limits = defaults;
        limits.maxValues = value;
        return limits;
    };
    using K = JsonErrorKind;
    const K none = K::EmptyBody;

    row("depth 0 allows a scalar", "1", depth(0), true, none, 0);
    row("depth 0 refuses an array", "[]", depth(0), false, K::TooDeep, 0);
    row("depth 1 allows a flat object", "{\"a\":1}", depth(1), true, none, 0);
    row("depth 1 refuses nesting", "{\"a\":[]}", depth(1), false, K::TooDeep, 5);
    row("depth 3 mixed", "[{\"a\":[1]}]", depth(3), true, none, 0);
    row("depth 3 mixed too deep", "[{\"a\":[[1]]}]", depth(3), false, K::TooDeep, 7);

    row("string at limit", "\"abc\"", strings(3), true, none, 0);
    row("string over limit", "[\"abcd\"]", strings(3), false, K::StringTooLong, 1);
    row("key over limit", "{\"abcd\":1}", strings(3), false, K::StringTooLong, 1);
    row("escapes count decoded", "\"\\u00e9x\"", strings(3), true, none, 0);
    row("decoded bytes over limit", "\"\\u00e9\\u00e9\"", strings(3), false, K::StringTooLong, 0);

    row("number at limit", "-1.5", numbers(4), true, none, 0);
    row("number over limit", "[1, -1.25]", numbers(4), false, K::NumberTooLong, 4);

    row("array at limit", "[1,2,3]", members(3), true, none, 0);
    row("array over limit", "[1,2,3,4]", members(3), false, K::TooManyMembers, 7);
    row("object over limit", "{\"a\":1,\"b\":2,\"c\":3,\"d\":4}", members(3), false, K::TooManyMembers, 19);
    row("members counted per container", "[[1,2,3],[1,2,3],[1,2,3]]", members(3), true, none, 0);

    row("values at limit", "[1,2,3,4]", values(5), true, none, 0);
    row("values over limit", "[1,2,3,4,5]", values(5), false, K::TooManyValues, 9);
    row("containers count as values", nested(6, "[", "", "]"), values(5), false, K::TooManyValues, 5);
}

void tst_JsonReader::limits()
{
    QFETCH(QByteArray, body);
    QFETCH(int, maxDepth);
    QFETCH(int, maxStringBytes);
    QFETCH(int, maxNumberLength);
    QFETCH(int, maxMembers);
    QFETCH(int, maxValues);
    QFETCH(bool, ok);
    QFETCH(JsonErrorKind, kind);
    QFETCH(int, offset);

    JsonLimits limits;
    limits.maxDepth = maxDepth;
    limits.maxStringBytes = static_cast<std::size_t>(maxStringBytes);
    limits.maxNumberLength = static_cast<std::size_t>(maxNumberLength);
    limits.maxMembers = static_cast<std::size_t>(maxMembers);
    limits.maxValues = static_cast<std::size_t>(maxValues);
    const auto result = readJson(view(body), limits);
    QVERIFY2(result.hasValue() == ok, result.hasValue() ? "accepted" : result.error().message.c_str());
    if (!ok) {
        QVERIFY2(result.error().kind == kind, result.error().message.c_str());
        QCOMPARE(result.error().offset, static_cast<std::size_t>(offset));
    }
}

// Objects past the pairwise threshold are checked by sorting; the first repeat in body order is named.
void tst_JsonReader::duplicateKeyInLargeObject()
{
    std::string body = "{";
    for (int i = 0; i < 5000; ++i)
        body += "\"key" + std::to_string(i) + "\":" + std::to_string(i) + ",";
    const std::size_t firstRepeat = body.size();
    body += "\"key4000\":1,\"key17\":2}";

    const auto refused = readJson(body);
    QVERIFY(!refused.hasValue());
    QCOMPARE(refused.error().kind, JsonErrorKind::DuplicateKey);
    QCOMPARE(refused.error().offset, firstRepeat);
    QVERIFY2(refused.error().message.find("\"key4000\"") != std::string::npos, refused.error().message.c_str());

    body.resize(firstRepeat);
    body.back() = '}';
    const auto accepted = readJson(body);
    QVERIFY(accepted.hasValue());
    QCOMPARE(accepted->root().size(), std::size_t{5000});
    QCOMPARE(accepted->root().member("key4999")->integer(0, 5000).valueOr(-1), 4999);
}

void tst_JsonReader::hostileNesting_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("offset");

    constexpr int kDepth = 100'000;
    QTest::newRow("arrays, closed") << nested(kDepth, "[", "", "]") << 32;
    QTest::newRow("arrays, unclosed") << QByteArray(kDepth, '[') << 32;
    QTest::newRow("objects, closed") << nested(kDepth, "{\"a\":", "0", "}") << 32 * 5;
    QTest::newRow("objects, unclosed") << nested(kDepth, "{\"a\":", "", "") << 32 * 5;
    QTest::newRow("alternating") << nested(kDepth / 2, "[{\"a\":", "0", "}]") << 32 / 2 * 6;
}

// A 100,000-deep body fails at the first container past the limit, long before its end.
void tst_JsonReader::hostileNesting()
{
    QFETCH(QByteArray, body);
    QFETCH(int, offset);

    // Speed is the benchmarks' business (machines here are shared); what this checks is that reading
    // stops at the limit's offset instead of walking the rest.
    const auto result = readJson(view(body));
    QVERIFY(!result.hasValue());
    QCOMPARE(result.error().kind, JsonErrorKind::TooDeep);
    QCOMPARE(result.error().offset, static_cast<std::size_t>(offset));
}

// With the limit raised, the same depth reads and is walked and freed without recursion (no stack overflow,
// even under the sanitizers).
void tst_JsonReader::deepNestingWithoutRecursion()
{
    constexpr int kDepth = 100'000;
    JsonLimits limits;
    limits.maxDepth = kDepth;

    const QByteArray arrays = nested(kDepth, "[", "1", "]");
    const auto array = readJson(view(arrays), limits);
    QVERIFY2(array.hasValue(), array.hasValue() ? "" : array.error().message.c_str());
    JsonValue value = array->root();
    int depth = 0;
    while (value.isArray()) {
        QCOMPARE(value.size(), std::size_t{1});
        value = value.at(0);
        ++depth;
    }
    QCOMPARE(depth, kDepth);
    QCOMPARE(value.integer(0, 1).valueOr(-1), 1);

    const QByteArray objects = nested(kDepth, "{\"a\":", "1", "}");
    const auto object = readJson(view(objects), limits);
    QVERIFY2(object.hasValue(), object.hasValue() ? "" : object.error().message.c_str());
    QCOMPARE(object->valueCount(), std::size_t{kDepth + 1});

    limits.maxDepth = kDepth - 1;
    const auto tooDeep = readJson(view(arrays), limits);
    QVERIFY(!tooDeep.hasValue());
    QCOMPARE(tooDeep.error().offset, std::size_t{kDepth - 1});
}

// A 2 MiB body of order-like objects, every field read back (the time it took is printed, not judged).
void tst_JsonReader::largeBody()
{
    constexpr std::size_t kTarget = 2 * 1024 * 1024;
    std::string body = "{\"orders\":[";
    int count = 0;
    while (body.size() < kTarget) {
        if (count > 0)
            body += ',';
        const std::string id = std::to_string(count);
        body += "{\"id\":" + id + ",\"client_order_id\":\"bot-" + id
                + "\",\"symbol\":\"BTC-USD\",\"side\":\"buy\",\"type\":\"limit\",\"price\":\"2000."
                + std::to_string(count % 100)
                + "\",\"quantity\":0.0001,\"time_in_force\":\"gtc\",\"post_only\":false,\"stp\":\"expire_taker\","
                  "\"note\":\"caf\\u00e9 \\u20ac \\ud83d\\ude00 \xC3\xA9\\n\",\"tags\":[1,2.5e-1,null,true,{}]}";
        ++count;
    }
    body += "],\"count\":" + std::to_string(count) + "}";
    QVERIFY(body.size() >= kTarget);

    QElapsedTimer timer;
    timer.start();
    const auto result = readJson(body);
    const qint64 elapsedMs = timer.elapsed();
    QVERIFY2(result.hasValue(), result.hasValue() ? "" : result.error().message.c_str());
    qInfo("read %zu bytes, %zu values, in %lld ms", body.size(), result->valueCount(), elapsedMs);

    const JsonValue root = result->root();
    QCOMPARE(root.member("count")->integer(0, 1'000'000).valueOr(-1), count);
    const JsonValue orders = *root.member("orders");
    QCOMPARE(orders.size(), static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) {
        const JsonValue order = orders.at(static_cast<std::size_t>(i));
        QCOMPARE(order.size(), std::size_t{12});
        QCOMPARE(order.member("id")->integer(0, count).valueOr(-1), i);
        QCOMPARE(order.member("client_order_id")->string(), "bot-" + std::to_string(i));
        const std::string price = "2000." + std::to_string(i % 100);
        QCOMPARE(order.member("price")->string(), price);
        QCOMPARE(order.member("price")->decimal()->raw(), Decimal::parse(price)->raw());
        QCOMPARE(order.member("quantity")->decimal()->raw(), 10'000);
        QCOMPARE(order.member("note")->string(),
                 std::string_view("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xC3\xA9\n"));
        QCOMPARE(order.member("tags")->at(1).decimal()->raw(), 25'000'000);
    }
}

void tst_JsonReader::randomRoundTrip()
{
    std::uint64_t seed = std::random_device{}();
    if (qEnvironmentVariableIsSet("BOURSE_SEED"))
        seed = qEnvironmentVariable("BOURSE_SEED").toULongLong();
    qInfo("randomRoundTrip seed %llu (BOURSE_SEED=%llu replays it)", static_cast<unsigned long long>(seed),
          static_cast<unsigned long long>(seed));

    RandomJson random(seed);
    constexpr int kDocuments = 2000;
    for (int i = 0; i < kDocuments; ++i) {
        const Model model = random.value(0);
        std::string text;
        random.write(model, text);
        const auto result = readJson(text);
        if (!result.hasValue())
            QFAIL(("document " + std::to_string(i) + " refused: " + result.error().message + "\n" + text).c_str());
        std::string why;
        if (!sameValue(model, result->root(), why))
            QFAIL(("document " + std::to_string(i) + " read back wrong: " + why + "\n" + text).c_str());
    }
}

// Random documents cut short or with bytes changed: never a crash (the sanitizer build checks), every
// refusal a one-line message pointing inside the body, every acceptance a document that reads back the same.
void tst_JsonReader::corruptedBodies()
{
    std::uint64_t seed = std::random_device{}();
    if (qEnvironmentVariableIsSet("BOURSE_SEED"))
        seed = qEnvironmentVariable("BOURSE_SEED").toULongLong();
    qInfo("corruptedBodies seed %llu", static_cast<unsigned long long>(seed));
    RandomJson random(seed);
    std::mt19937_64 mutation(seed ^ 0x9E3779B97F4A7C15ULL);
    const auto pick = [&](std::size_t high) { return std::uniform_int_distribution<std::size_t>(0, high)(mutation); };

    const auto check = [](const std::string &text) -> std::string {
        const auto result = readJson(text);
        if (!result.hasValue()) {
            const JsonError &error = result.error();
            if (error.offset > text.size())
                return "offset past the end: " + error.message;
            if (error.message.find('\n') != std::string::npos)
                return "message of several lines: " + error.message;
            if (!error.message.ends_with(" at byte offset " + std::to_string(error.offset)))
                return "message without its offset: " + error.message;
            return {};
        }
        const QByteArray once = dump(*result);
        const auto again = readJson(view(once));
        if (!again.hasValue() || dump(*again) != once)
            return "the canonical text of an accepted body does not read back the same";
        return {};
    };

    constexpr int kDocuments = 1000;
    for (int i = 0; i < kDocuments; ++i) {
        Model model;
        model.kind = JsonKind::Object;
        model.children.emplace_back("order", random.value(0));
        std::string text;
        random.write(model, text);

        // Every prefix that stops before the closing brace is incomplete.
        const std::size_t cut = pick(text.rfind('}'));
        const std::string prefix = text.substr(0, cut);
        if (readJson(prefix).hasValue())
            QFAIL(("a prefix was accepted: " + prefix).c_str());
        std::string why = check(prefix);
        if (!why.empty())
            QFAIL((why + "\n" + prefix).c_str());

        std::string mutated = text;
        for (std::size_t n = pick(2) + 1; n > 0; --n) {
            const std::size_t at = pick(mutated.size() - 1);
            switch (pick(2)) {
            case 0: mutated[at] = static_cast<char>(pick(255)); break;
            case 1: mutated.insert(at, 1, "{}[]\",:0-e.\x80\xC3\xED\xF4"[pick(15)]); break;
            default: mutated.erase(at, 1); break;
            }
            if (mutated.empty())
                break;
        }
        why = check(mutated);
        if (!why.empty())
            QFAIL((why + "\n" + mutated).c_str());
    }
}

QTEST_GUILESS_MAIN(tst_JsonReader)
#include "tst_json_reader.moc"
