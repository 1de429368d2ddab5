// Structured logging for the whole process: one line per event on stderr, as human text or as JSON lines.
// logInfo() and its siblings attach key=value fields to a line; the message handler that main() installs
// formats every Qt message, ours and Qt's own, through formatLogLine(). Any thread may log.
#pragma once

#include "decimal.h"

#include <QAnyStringView>
#include <QByteArray>
#include <QByteArrayView>
#include <QDateTime>
#include <QLatin1StringView>
#include <QLoggingCategory>
#include <QString>

#include <concepts>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <span>
#include <string_view>

namespace bourse::app {

Q_DECLARE_LOGGING_CATEGORY(lcApp)

enum class LogFormat : std::uint8_t { Text, Json };
enum class LogLevel : std::uint8_t { Debug, Info, Warning, Error };

QLatin1StringView logFormatName(LogFormat format); // "text" | "json"
QLatin1StringView logLevelName(LogLevel level);    // "debug" | "info" | "warning" | "error"
std::optional<LogFormat> parseLogFormat(QStringView text);
std::optional<LogLevel> parseLogLevel(QStringView text);

// One field's value. Numbers and booleans stay typed in JSON; decimals are exact text, like the API's.
// A tagged struct rather than a std::variant: GCC 12 under the sanitizers warns that a moved variant
// holding a QString "may be used uninitialized", and CI builds with warnings as errors.
class LogValue final
{
public:
    enum class Type : std::uint8_t { Signed, Unsigned, Boolean, Text };

    LogValue(bool value)
        : m_type(Type::Boolean)
        , m_boolean(value)
    {}
    template<std::integral T>
    requires(!std::same_as<T, bool>) LogValue(T value)
    {
        if constexpr (std::is_signed_v<T>) {
            m_type = Type::Signed;
            m_signed = static_cast<std::int64_t>(value);
        } else {
            m_type = Type::Unsigned;
            m_unsigned = static_cast<std::uint64_t>(value);
        }
    }
    LogValue(const QString &value)
        : m_text(value)
    {}
    LogValue(QLatin1StringView value)
        : m_text(value)
    {}
    // Bytes that should be UTF-8; invalid sequences are shown as U+FFFD rather than passed on.
    LogValue(const char *utf8)
        : m_text(QString::fromUtf8(utf8))
    {}
    LogValue(const QByteArray &utf8)
        : m_text(QString::fromUtf8(utf8))
    {}
    LogValue(std::string_view utf8)
        : m_text(QString::fromUtf8(utf8.data(), static_cast<qsizetype>(utf8.size())))
    {}
    LogValue(Decimal value)
        : m_text(QString::fromStdString(value.toString()))
    {}

    Type type() const { return m_type; }
    std::int64_t toSigned() const { return m_signed; }
    std::uint64_t toUnsigned() const { return m_unsigned; }
    bool toBoolean() const { return m_boolean; }
    const QString &text() const { return m_text; }

private:
    Type m_type = Type::Text;
    std::int64_t m_signed = 0;
    std::uint64_t m_unsigned = 0;
    bool m_boolean = false;
    QString m_text;
};

struct LogField
{
    // `key` is a string literal in snake_case; it is not copied.
    LogField(const char *fieldKey, LogValue fieldValue)
        : key(fieldKey)
        , value(std::move(fieldValue))
    {}

    const char *key;
    LogValue value;
};

// Logs `message` with `fields` in `category`. The fields reach the handler through a thread-local side
// channel, so the message itself stays plain prose and a foreign handler (Qt Test's) still prints it.
void logEvent(const QLoggingCategory &category, QtMsgType type, QAnyStringView message,
              std::initializer_list<LogField> fields = {});

inline void logDebug(const QLoggingCategory &category, QAnyStringView message,
                     std::initializer_list<LogField> fields = {})
{
    logEvent(category, QtDebugMsg, message, fields);
}
inline void logInfo(const QLoggingCategory &category, QAnyStringView message,
                    std::initializer_list<LogField> fields = {})
{
    logEvent(category, QtInfoMsg, message, fields);
}
inline void logWarning(const QLoggingCategory &category, QAnyStringView message,
                       std::initializer_list<LogField> fields = {})
{
    logEvent(category, QtWarningMsg, message, fields);
}
inline void logError(const QLoggingCategory &category, QAnyStringView message,
                     std::initializer_list<LogField> fields = {})
{
    logEvent(category, QtCriticalMsg, message, fields);
}

struct LogRecord
{
    QDateTime time; // UTC
    QtMsgType type = QtInfoMsg;
    QByteArrayView category;
    QString message;
    std::span<const LogField> fields;
};

// One line, ending in '\n', never containing another:
//   text: 2026-11-21T09:00:00.123Z info  bourse.app  engine started instruments=3
//   json: {"ts":"2026-11-21T09:00:00.123Z","level":"info","category":"bourse.app","msg":"engine started",
//          "instruments":3}
// Fields named ts, level, category or msg are written with a leading underscore so JSON keys stay unique.
QByteArray formatLogLine(const LogRecord &record, LogFormat format);

// Where finished lines go; the default writes each to stderr with one write() call.
using LogSink = std::function<void(QByteArrayView line)>;

// From now on, every Qt message of `level` or above is formatted as `format` and handed to `sink`; lower
// ones are dropped (and bourse.* categories stop producing them). Returns the handler it replaced.
QtMessageHandler installLogHandler(LogFormat format, LogLevel level, LogSink sink = {});

} // namespace bourse::app
