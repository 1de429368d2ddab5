#include "config_file.h"

#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QRegularExpression>
#include <QStringDecoder>

#include <algorithm>
#include <limits>
#include <optional>

namespace bourse::app {

namespace {

bool isBareKeyChar(QChar c)
{
    const char16_t u = c.unicode();
    return (u >= u'a' && u <= u'z') || (u >= u'A' && u <= u'Z') || (u >= u'0' && u <= u'9') || u == u'_' || u == u'-';
}

bool isBlank(QChar c)
{
    return c == u' ' || c == u'\t';
}

QStringView trimmed(QStringView text)
{
    qsizetype begin = 0;
    qsizetype end = text.size();
    while (begin < end && isBlank(text[begin]))
        ++begin;
    while (end > begin && isBlank(text[end - 1]))
        --end;
    return text.mid(begin, end - begin);
}

int hexDigit(QChar c)
{
    const char16_t u = c.unicode();
    if (u >= u'0' && u <= u'9')
        return u - u'0';
    if (u >= u'a' && u <= u'f')
        return u - u'a' + 10;
    if (u >= u'A' && u <= u'F')
        return u - u'A' + 10;
    return -1;
}

// One value and how many characters of the line it took, or what is wrong with it.
struct ParsedValue
{
    ConfigValue value;
    qsizetype length = 0;
};

// A TOML basic string starting at text[0] == '"'.
Expected<ParsedValue, QString> parseBasicString(QStringView text)
{
    if (text.startsWith(u"\"\"\""))
        return unexpected(QStringLiteral("multi-line strings are not supported"));
    QString value;
    for (qsizetype i = 1; i < text.size(); ++i) {
        const QChar c = text[i];
        if (c == u'"')
            return ParsedValue{ConfigValue::fromString(value), i + 1};
        if ((c.unicode() < 0x20 && c != u'\t') || c.unicode() == 0x7f)
            return unexpected(QStringLiteral("control character in a string; write it as an escape"));
        if (c != u'\\') {
            value.append(c);
            continue;
        }
        if (++i >= text.size())
            break;
        switch (text[i].unicode()) {
        case u'b': value.append(u'\b'); break;
        case u't': value.append(u'\t'); break;
        case u'n': value.append(u'\n'); break;
        case u'f': value.append(u'\f'); break;
        case u'r': value.append(u'\r'); break;
        case u'"': value.append(u'"'); break;
        case u'\\': value.append(u'\\'); break;
        case u'u':
        case u'U': {
            const qsizetype digits = text[i] == u'u' ? 4 : 8;
            if (i + digits >= text.size())
                return unexpected(QStringLiteral("\\%1 needs %2 hex digits").arg(text[i]).arg(digits));
            char32_t codePoint = 0;
            for (qsizetype d = 1; d <= digits; ++d) {
                const int digit = hexDigit(text[i + d]);
                if (digit < 0)
                    return unexpected(QStringLiteral("\\%1 needs %2 hex digits").arg(text[i]).arg(digits));
                codePoint = codePoint * 16 + static_cast<char32_t>(digit);
            }
            if (codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff))
                return unexpected(QStringLiteral("\\%1 is not a Unicode scalar value").arg(text.mid(i, digits + 1)));
            value.append(QString::fromUcs4(&codePoint, 1));
            i += digits;
            break;
        }
        default: return unexpected(QStringLiteral("unknown escape \\%1 in a string").arg(text[i]));
        }
    }
    return unexpected(QStringLiteral("the string has no closing quote"));
}

Expected<ParsedValue, QString> parseLiteralString(QStringView text)
{
    if (text.startsWith(u"'''"))
        return unexpected(QStringLiteral("multi-line strings are not supported"));
    for (qsizetype i = 1; i < text.size(); ++i) {
        const QChar c = text[i];
        if (c == u'\'')
            return ParsedValue{ConfigValue::fromString(text.mid(1, i - 1).toString()), i + 1};
        if ((c.unicode() < 0x20 && c != u'\t') || c.unicode() == 0x7f)
            return unexpected(QStringLiteral("control character in a string"));
    }
    return unexpected(QStringLiteral("the string has no closing quote"));
}

// A bare token: an integer or a boolean, or one of TOML's types this reader refuses by name.
Expected<ParsedValue, QString> parseBareValue(QStringView text)
{
    qsizetype length = 0;
    while (length < text.size() && !isBlank(text[length]) && text[length] != u'#')
        ++length;
    const QStringView token = text.left(length);
    if (token == u"true")
        return ParsedValue{ConfigValue::fromBoolean(true), length};
    if (token == u"false")
        return ParsedValue{ConfigValue::fromBoolean(false), length};
    if (token.isEmpty())
        return unexpected(QStringLiteral("expected a value: a \"string\", an integer, true or false"));
    if (token.startsWith(u'['))
        return unexpected(QStringLiteral("arrays are not supported"));
    if (token.startsWith(u'{'))
        return unexpected(QStringLiteral("inline tables are not supported"));

    static const QRegularExpression kInteger(QStringLiteral("^[+-]?(0|[1-9](_?[0-9])*)$"));
    static const QRegularExpression kPrefixed(QStringLiteral("^0[xob]"));
    static const QRegularExpression kFloat(
        QStringLiteral("^[+-]?([0-9](_?[0-9])*(\\.[0-9](_?[0-9])*)?([eE][+-]?[0-9](_?[0-9])*)?|inf|nan)$"));
    static const QRegularExpression kDateTime(
        QStringLiteral("^([0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{2}:[0-9]{2}:[0-9]{2})"));
    if (kPrefixed.match(token).hasMatch())
        return unexpected(QStringLiteral("hexadecimal, octal and binary integers are not supported"));
    if (kDateTime.match(token).hasMatch())
        return unexpected(QStringLiteral("dates and times are not supported"));
    if (!kInteger.match(token).hasMatch()) {
        static const QRegularExpression kLeadingZero(QStringLiteral("^[+-]?0[0-9_]+$"));
        if (kLeadingZero.match(token).hasMatch())
            return unexpected(QStringLiteral("integers have no leading zeros, got %1").arg(token.toString()));
        if (kFloat.match(token).hasMatch())
            return unexpected(QStringLiteral("floats are not supported"));
        return unexpected(
            QStringLiteral("expected a \"string\", an integer, true or false, got %1 (strings need quotes)")
                .arg(token.toString()));
    }

    const bool negative = token.startsWith(u'-');
    std::uint64_t magnitude = 0;
    constexpr std::uint64_t kLimit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1;
    for (const QChar c : token) {
        if (c < u'0' || c > u'9')
            continue; // the sign and '_' separators, already checked
        magnitude = magnitude * 10 + static_cast<std::uint64_t>(c.unicode() - u'0');
        if (magnitude > kLimit)
            return unexpected(QStringLiteral("integer %1 is out of range").arg(token.toString()));
    }
    if (!negative && magnitude == kLimit)
        return unexpected(QStringLiteral("integer %1 is out of range").arg(token.toString()));
    // Two's complement: 0 - magnitude is the negative value, including INT64_MIN.
    const std::int64_t value = negative ? static_cast<std::int64_t>(0 - magnitude)
                                        : static_cast<std::int64_t>(magnitude);
    return ParsedValue{ConfigValue::fromInteger(value), length};
}

class Parser final
{
public:
    Parser(ConfigFile::Syntax syntax, const QString &fileName)
        : m_syntax(syntax)
        , m_fileName(fileName)
    {}

    // Returns the error message, or an empty string when the line is fine.
    QString parseLine(QStringView raw, int lineNumber)
    {
        m_line = lineNumber;
        const QStringView line = trimmed(raw);
        if (line.isEmpty() || line.startsWith(u'#') || (m_syntax == ConfigFile::Syntax::Ini && line.startsWith(u';')))
            return {};
        if (line.startsWith(u'['))
            return parseTable(line);
        return parseKeyValue(line);
    }

    QList<ConfigEntry> entries;
    QList<ConfigTable> tables;

private:
    QString error(const QString &problem, QStringView key = {}) const
    {
        QString message = QStringLiteral("%1:%2: ").arg(m_fileName).arg(m_line);
        if (!key.isEmpty())
            message += key.toString() + QStringLiteral(": ");
        return message + problem;
    }

    // What may follow a value or header: blanks, then nothing or a comment.
    bool onlyCommentLeft(QStringView rest) const
    {
        rest = trimmed(rest);
        return rest.isEmpty() || rest.startsWith(u'#')
               || (m_syntax == ConfigFile::Syntax::Ini && rest.startsWith(u';'));
    }

    QString parseTable(QStringView line)
    {
        if (line.startsWith(u"[["))
            return error(QStringLiteral("arrays of tables are not supported"));
        const qsizetype close = line.indexOf(u']');
        if (close < 0)
            return error(QStringLiteral("the table header has no closing \"]\""));
        const QStringView name = trimmed(line.mid(1, close - 1));
        if (name.isEmpty() || !std::all_of(name.begin(), name.end(), isBareKeyChar))
            return error(QStringLiteral("table names are bare keys of [A-Za-z0-9_-], got [%1]").arg(name));
        if (!onlyCommentLeft(line.mid(close + 1)))
            return error(QStringLiteral("unexpected text after [%1]").arg(name));
        const QString tableName = name.toString();
        for (const ConfigTable &table : tables) {
            if (table.name == tableName)
                return error(
                    QStringLiteral("table [%1] appears twice (first on line %2)").arg(tableName).arg(table.line));
        }
        tables.append({tableName, m_line});
        m_table = tableName;
        return {};
    }

    QString parseKeyValue(QStringView line)
    {
        if (line.startsWith(u'"') || line.startsWith(u'\''))
            return error(QStringLiteral("quoted keys are not supported"));
        qsizetype keyLength = 0;
        while (keyLength < line.size() && isBareKeyChar(line[keyLength]))
            ++keyLength;
        const QStringView bareKey = line.left(keyLength);
        QStringView rest = trimmed(line.mid(keyLength));
        if (bareKey.isEmpty())
            return error(QStringLiteral("expected key = value"));
        if (rest.startsWith(u'.'))
            return error(QStringLiteral("dotted keys are not supported"), bareKey);
        if (!rest.startsWith(u'='))
            return error(QStringLiteral("expected \"=\" after the key"), bareKey);
        const QString key = m_table.isEmpty() ? bareKey.toString() : m_table + u'.' + bareKey.toString();
        rest = trimmed(rest.mid(1));

        Expected<ParsedValue, QString> parsed = parseValue(rest);
        if (!parsed)
            return error(parsed.error(), key);
        if (!onlyCommentLeft(rest.mid(parsed->length)))
            return error(QStringLiteral("unexpected text after the value"), key);
        if (const auto first = m_firstLine.constFind(key); first != m_firstLine.constEnd())
            return error(QStringLiteral("duplicate key (first set on line %1)").arg(*first), key);
        m_firstLine.insert(key, m_line);
        entries.append({key, m_line, parsed->value});
        return {};
    }

    Expected<ParsedValue, QString> parseValue(QStringView text) const
    {
        if (text.startsWith(u'"'))
            return parseBasicString(text);
        if (m_syntax == ConfigFile::Syntax::Ini)
            return ParsedValue{ConfigValue::fromString(text.toString()),
                               text.size()}; // the rest of the line, as written
        if (text.startsWith(u'\''))
            return parseLiteralString(text);
        return parseBareValue(text);
    }

    ConfigFile::Syntax m_syntax;
    QString m_fileName;
    int m_line = 0;
    QString m_table;
    QHash<QString, int> m_firstLine;
};

} // namespace

ConfigFile::Syntax ConfigFile::syntaxFor(const QString &path)
{
    return path.endsWith(QStringLiteral(".ini"), Qt::CaseInsensitive) ? Syntax::Ini : Syntax::Toml;
}

Expected<ConfigFile, ConfigError> ConfigFile::read(const QString &path)
{
    const QFileInfo info(path);
    if (info.isDir())
        return unexpected(ConfigError{ConfigError::Kind::Unreadable,
                                      QStringLiteral("cannot read \"%1\": it is a directory").arg(path)});
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return unexpected(ConfigError{ConfigError::Kind::Unreadable,
                                      QStringLiteral("cannot read \"%1\": %2").arg(path, file.errorString())});
    const QByteArray text = file.readAll();
    if (file.error() != QFileDevice::NoError)
        return unexpected(ConfigError{ConfigError::Kind::Unreadable,
                                      QStringLiteral("cannot read \"%1\": %2").arg(path, file.errorString())});
    return parse(text, syntaxFor(path), path);
}

Expected<ConfigFile, ConfigError> ConfigFile::parse(QByteArrayView text, Syntax syntax, const QString &fileName)
{
    if (text.startsWith("\xef\xbb\xbf"))
        text = text.sliced(3);
    Parser parser(syntax, fileName);
    int lineNumber = 0;
    for (QByteArrayView rest = text; !rest.isEmpty() || lineNumber == 0;) {
        ++lineNumber;
        const qsizetype newline = rest.indexOf('\n');
        QByteArrayView raw = newline < 0 ? rest : rest.first(newline);
        rest = newline < 0 ? QByteArrayView() : rest.sliced(newline + 1);
        if (raw.endsWith('\r'))
            raw.chop(1);
        QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
        const QString line = decoder.decode(raw);
        if (decoder.hasError())
            return unexpected(ConfigError{ConfigError::Kind::Invalid,
                                          QStringLiteral("%1:%2: not valid UTF-8").arg(fileName).arg(lineNumber)});
        if (line.contains(QChar(u'\0')))
            return unexpected(ConfigError{ConfigError::Kind::Invalid,
                                          QStringLiteral("%1:%2: NUL character").arg(fileName).arg(lineNumber)});
        if (const QString problem = parser.parseLine(line, lineNumber); !problem.isEmpty())
            return unexpected(ConfigError{ConfigError::Kind::Invalid, problem});
    }
    ConfigFile file;
    file.m_entries = std::move(parser.entries);
    file.m_tables = std::move(parser.tables);
    return file;
}

QString ConfigValue::describeType() const
{
    switch (type) {
    case Type::String: return QStringLiteral("a string");
    case Type::Integer: return QStringLiteral("an integer");
    case Type::Boolean: return QStringLiteral("a boolean");
    }
    return QStringLiteral("a value");
}

} // namespace bourse::app
