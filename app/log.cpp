#include "log.h"

#include <QDebug>
#include <QMessageLogger>

#include <algorithm>
#include <cerrno>
#include <mutex>
#include <unistd.h>

namespace bourse::app {

Q_LOGGING_CATEGORY(lcApp, "bourse.app")

namespace {

// The fields of the message being logged on this thread, set by logEvent() around the one call that ends
// in the handler (Qt calls it synchronously, on the logging thread).
thread_local std::span<const LogField> t_fields;

struct HandlerState
{
    LogFormat format = LogFormat::Text;
    LogLevel level = LogLevel::Info;
    LogSink sink;
};
std::mutex g_handlerMutex;
HandlerState g_handler; // guarded by g_handlerMutex

int severity(QtMsgType type)
{
    switch (type) {
    case QtDebugMsg: return 0;
    case QtInfoMsg: return 1;
    case QtWarningMsg: return 2;
    case QtCriticalMsg: return 3;
    case QtFatalMsg: return 4;
    }
    return 4;
}

int severity(LogLevel level)
{
    switch (level) {
    case LogLevel::Debug: return 0;
    case LogLevel::Info: return 1;
    case LogLevel::Warning: return 2;
    case LogLevel::Error: return 3;
    }
    return 3;
}

QByteArrayView levelName(QtMsgType type)
{
    switch (type) {
    case QtDebugMsg: return "debug";
    case QtInfoMsg: return "info";
    case QtWarningMsg: return "warning";
    case QtCriticalMsg: return "error";
    case QtFatalMsg: return "fatal";
    }
    return "error";
}

void appendUtf8(QByteArray &out, char32_t codePoint)
{
    if (codePoint < 0x80) {
        out.append(static_cast<char>(codePoint));
    } else if (codePoint < 0x800) {
        out.append(static_cast<char>(0xc0 | (codePoint >> 6)));
        out.append(static_cast<char>(0x80 | (codePoint & 0x3f)));
    } else if (codePoint < 0x10000) {
        out.append(static_cast<char>(0xe0 | (codePoint >> 12)));
        out.append(static_cast<char>(0x80 | ((codePoint >> 6) & 0x3f)));
        out.append(static_cast<char>(0x80 | (codePoint & 0x3f)));
    } else {
        out.append(static_cast<char>(0xf0 | (codePoint >> 18)));
        out.append(static_cast<char>(0x80 | ((codePoint >> 12) & 0x3f)));
        out.append(static_cast<char>(0x80 | ((codePoint >> 6) & 0x3f)));
        out.append(static_cast<char>(0x80 | (codePoint & 0x3f)));
    }
}

enum class Escape : std::uint8_t {
    Json,         // inside a JSON string: quotes and backslashes too
    ControlsOnly, // the text format's message: readable, but still one line
};

// Appends `text` as UTF-8 with every control character escaped (so a line stays one line) and every lone
// surrogate, which has no UTF-8 form, replaced by U+FFFD (so the line stays valid UTF-8).
void appendEscaped(QByteArray &out, QStringView text, Escape escape)
{
    static constexpr char kHex[] = "0123456789abcdef";
    for (qsizetype i = 0; i < text.size(); ++i) {
        const char16_t c = text[i].unicode();
        if (escape == Escape::Json && (c == u'"' || c == u'\\')) {
            out.append('\\').append(static_cast<char>(c));
        } else if (c == u'\n') {
            out.append("\\n");
        } else if (c == u'\r') {
            out.append("\\r");
        } else if (c == u'\t') {
            out.append("\\t");
        } else if (c < 0x20 || c == 0x7f || c == 0x2028 || c == 0x2029) {
            // DEL and the Unicode line separators too: some terminals and JavaScript parsers break on them.
            out.append("\\u");
            for (int shift = 12; shift >= 0; shift -= 4)
                out.append(kHex[(c >> shift) & 0xf]);
        } else if (QChar::isHighSurrogate(c) && i + 1 < text.size() && QChar::isLowSurrogate(text[i + 1].unicode())) {
            appendUtf8(out, QChar::surrogateToUcs4(c, text[i + 1].unicode()));
            ++i;
        } else if (QChar::isSurrogate(c)) {
            appendUtf8(out, U'\ufffd');
        } else {
            appendUtf8(out, c);
        }
    }
}

void appendJsonString(QByteArray &out, QStringView text)
{
    out.append('"');
    appendEscaped(out, text, Escape::Json);
    out.append('"');
}

bool needsQuotes(QStringView text)
{
    if (text.isEmpty())
        return true;
    for (const QChar c : text) {
        const char16_t u = c.unicode();
        if (u <= 0x20 || u == u'"' || u == u'=' || u == u'\\' || u == 0x7f || c.isSpace() || c.isSurrogate())
            return true;
    }
    return false;
}

QByteArray fieldKey(const char *key)
{
    QByteArray name(key);
    if (name == "ts" || name == "level" || name == "category" || name == "msg")
        name.prepend('_');
    return name;
}

void appendValue(QByteArray &out, const LogValue &value, LogFormat format)
{
    switch (value.type()) {
    case LogValue::Type::Signed: out.append(QByteArray::number(value.toSigned())); break;
    case LogValue::Type::Unsigned: out.append(QByteArray::number(value.toUnsigned())); break;
    case LogValue::Type::Boolean: out.append(value.toBoolean() ? "true" : "false"); break;
    case LogValue::Type::Text:
        if (format == LogFormat::Json || needsQuotes(value.text()))
            appendJsonString(out, value.text());
        else
            appendEscaped(out, value.text(), Escape::Json);
        break;
    }
}

void writeToStderr(QByteArrayView line)
{
    const char *data = line.data();
    auto left = static_cast<size_t>(line.size());
    while (left > 0) {
        const ssize_t written = ::write(STDERR_FILENO, data, left);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            return; // stderr is gone; there is nowhere left to say so
        }
        data += written;
        left -= static_cast<size_t>(written);
    }
}

void messageHandler(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    const std::lock_guard lock(g_handlerMutex);
    if (severity(type) < severity(g_handler.level))
        return;
    LogRecord record;
    record.time = QDateTime::currentDateTimeUtc();
    record.type = type;
    record.category = context.category ? QByteArrayView(context.category) : QByteArrayView("default");
    record.message = message;
    record.fields = t_fields;
    const QByteArray line = formatLogLine(record, g_handler.format);
    if (g_handler.sink)
        g_handler.sink(line);
    else
        writeToStderr(line);
}

} // namespace

QLatin1StringView logFormatName(LogFormat format)
{
    switch (format) {
    case LogFormat::Text: return QLatin1StringView("text");
    case LogFormat::Json: return QLatin1StringView("json");
    }
    return QLatin1StringView("text");
}

QLatin1StringView logLevelName(LogLevel level)
{
    switch (level) {
    case LogLevel::Debug: return QLatin1StringView("debug");
    case LogLevel::Info: return QLatin1StringView("info");
    case LogLevel::Warning: return QLatin1StringView("warning");
    case LogLevel::Error: return QLatin1StringView("error");
    }
    return QLatin1StringView("info");
}

std::optional<LogFormat> parseLogFormat(QStringView text)
{
    for (const LogFormat format : {LogFormat::Text, LogFormat::Json}) {
        if (text == logFormatName(format))
            return format;
    }
    return std::nullopt;
}

std::optional<LogLevel> parseLogLevel(QStringView text)
{
    for (const LogLevel level : {LogLevel::Debug, LogLevel::Info, LogLevel::Warning, LogLevel::Error}) {
        if (text == logLevelName(level))
            return level;
    }
    return std::nullopt;
}

void logEvent(const QLoggingCategory &category, QtMsgType type, QAnyStringView message,
              std::initializer_list<LogField> fields)
{
    if (!category.isEnabled(type))
        return;
    const std::span<const LogField> outer = t_fields;
    t_fields = std::span<const LogField>(fields.begin(), fields.size());
    {
        // The QDebug emits the message when it is destroyed, at the end of this scope.
        const QMessageLogger logger;
        switch (type) {
        case QtDebugMsg: logger.debug(category).noquote() << message.toString(); break;
        case QtInfoMsg: logger.info(category).noquote() << message.toString(); break;
        case QtWarningMsg: logger.warning(category).noquote() << message.toString(); break;
        case QtCriticalMsg:
        case QtFatalMsg: // a log line never aborts the process; callers decide how to end it
            logger.critical(category).noquote() << message.toString();
            break;
        }
    }
    t_fields = outer;
}

QByteArray formatLogLine(const LogRecord &record, LogFormat format)
{
    const QString time = record.time.toUTC().toString(Qt::ISODateWithMs);
    const QString category = QString::fromUtf8(record.category);
    QByteArray line;
    line.reserve(128 + record.message.size());
    switch (format) {
    case LogFormat::Text: {
        line.append(time.toLatin1()).append(' ');
        const QByteArrayView level = levelName(record.type);
        line.append(level);
        line.append(QByteArray(std::max<qsizetype>(1, 6 - level.size()), ' '));
        appendEscaped(line, category, Escape::ControlsOnly);
        line.append("  ");
        appendEscaped(line, record.message, Escape::ControlsOnly);
        for (const LogField &field : record.fields) {
            line.append(' ');
            appendEscaped(line, QString::fromUtf8(fieldKey(field.key)), Escape::ControlsOnly);
            line.append('=');
            appendValue(line, field.value, format);
        }
        break;
    }
    case LogFormat::Json: {
        line.append("{\"ts\":");
        appendJsonString(line, time);
        line.append(",\"level\":\"").append(levelName(record.type)).append("\",\"category\":");
        appendJsonString(line, category);
        line.append(",\"msg\":");
        appendJsonString(line, record.message);
        for (const LogField &field : record.fields) {
            line.append(',');
            appendJsonString(line, QString::fromUtf8(fieldKey(field.key)));
            line.append(':');
            appendValue(line, field.value, format);
        }
        line.append('}');
        break;
    }
    }
    line.append('\n');
    return line;
}

QtMessageHandler installLogHandler(LogFormat format, LogLevel level, LogSink sink)
{
    {
        const std::lock_guard lock(g_handlerMutex);
        g_handler.format = format;
        g_handler.level = level;
        g_handler.sink = std::move(sink);
    }
    // The handler drops low levels anyway; these rules only spare our own categories the formatting.
    QString rules;
    if (severity(level) > severity(LogLevel::Debug))
        rules += QStringLiteral("bourse.*.debug=false\n");
    if (severity(level) > severity(LogLevel::Info))
        rules += QStringLiteral("bourse.*.info=false\n");
    if (severity(level) > severity(LogLevel::Warning))
        rules += QStringLiteral("bourse.*.warning=false\n");
    QLoggingCategory::setFilterRules(rules);
    return qInstallMessageHandler(messageHandler);
}

} // namespace bourse::app
