// ConfigFile: a strict reader of Bourse's configuration file, bourse.toml (a small subset of TOML) or
// bourse.ini (the same keys, INI spelling). It only reads and reports where each value came from (file,
// line, key); what the keys mean is Options' business. Main thread, at start-up, before anything is written.
//
// TOML subset: blank lines, # comments, [table] headers, and `key = value` where key is a bare key
// ([A-Za-z0-9_-]) and value is a "basic string" (with TOML's escapes), a 'literal string', a decimal
// integer, true or false, optionally followed by a comment. Everything else TOML has (floats, dates,
// arrays, inline tables, dotted or quoted keys, multi-line strings) is refused with a message saying so,
// never misread.
// INI: blank lines, # or ; comments on their own line, [section] headers, and `key = value` where value is
// the rest of the line, trimmed, or a "basic string".
// Both: UTF-8 (an optional byte-order mark is skipped), a key or table at most once.
#pragma once

#include "expected.h"

#include <QByteArrayView>
#include <QList>
#include <QString>

#include <cstdint>
#include <utility>

namespace bourse::app {

// A value as the file wrote it. INI values are always strings. A tagged struct rather than a std::variant:
// GCC 12 under the sanitizers warns that a moved variant holding a QString "may be used uninitialized".
struct ConfigValue
{
    enum class Type : std::uint8_t { String, Integer, Boolean };

    Type type = Type::String;
    QString string;
    std::int64_t integer = 0;
    bool boolean = false;

    static ConfigValue fromString(QString value) { return {Type::String, std::move(value), 0, false}; }
    static ConfigValue fromInteger(std::int64_t value) { return {Type::Integer, QString(), value, false}; }
    static ConfigValue fromBoolean(bool value) { return {Type::Boolean, QString(), 0, value}; }

    // "a string", "an integer", "a boolean": for messages such as "expected a string, got an integer".
    QString describeType() const;
};

struct ConfigEntry
{
    QString key; // "table.key" for a key under a [table]
    int line = 0;
    ConfigValue value;
};

struct ConfigTable
{
    QString name;
    int line = 0;
};

struct ConfigError
{
    enum class Kind : std::uint8_t {
        Unreadable, // missing, a directory, no permission: "cannot read "<file>": <reason>"
        Invalid,    // read, but not valid: "<file>:<line>: [<key>: ]<problem>"
    };
    Kind kind = Kind::Invalid;
    QString message;
};

class ConfigFile final
{
public:
    enum class Syntax : std::uint8_t { Toml, Ini };

    // .ini files are INI, everything else TOML.
    static Syntax syntaxFor(const QString &path);

    static Expected<ConfigFile, ConfigError> read(const QString &path);
    // `fileName` only names the source in error messages.
    static Expected<ConfigFile, ConfigError> parse(QByteArrayView text, Syntax syntax, const QString &fileName);

    const QList<ConfigEntry> &entries() const { return m_entries; }
    const QList<ConfigTable> &tables() const { return m_tables; }

private:
    QList<ConfigEntry> m_entries;
    QList<ConfigTable> m_tables;
};

} // namespace bourse::app
