// Tests of the structured log: the exact text and JSON lines, the escaping that keeps every line one valid
// UTF-8 line (quotes, control characters, lone surrogates, invalid UTF-8), and the installed handler:
// fields, levels, Qt's own messages, and fields staying with their own thread.
#include "log.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QStringDecoder>
#include <QTest>

#include <limits>
#include <mutex>
#include <thread>
#include <vector>

using namespace bourse::app;

namespace {

Q_LOGGING_CATEGORY(lcTest, "bourse.test")

const QDateTime kTime = QDateTime(QDate(2026, 11, 21), QTime(9, 0, 0, 123), Qt::UTC);

// The fields a row asks for, by name: LogField is not a QTest column type.
std::vector<LogField> fieldsFor(const QString &name)
{
    if (name == u"instruments")
        return {{"instruments", 3}};
    if (name == u"types")
        return {{"yes", true},
                {"no", false},
                {"negative", -42},
                {"big", std::numeric_limits<std::uint64_t>::max()},
                {"word", QStringLiteral("BTC-USD")},
                {"price", bourse::Decimal::parse("2000.50").valueOr(bourse::Decimal())}};
    if (name == u"quoting")
        return {{"spaced", QStringLiteral("a b")},
                {"empty", QString()},
                {"equals", QStringLiteral("a=b")},
                {"quote", QStringLiteral("say \"hi\"")},
                {"newline", QStringLiteral("a\nb")}};
    if (name == u"reserved")
        return {{"msg", "m"}, {"ts", "t"}, {"level", "l"}, {"category", "c"}};
    if (name == u"invalid utf-8")
        return {{"bytes", "a\xff\x62"}}; // "a", a byte that is never UTF-8, "b"
    if (name == u"lone surrogate")
        return {{"text", QString(QChar(0xd800))}};
    return {};
}

class Capture final
{
public:
    Capture(LogFormat format, LogLevel level)
    {
        m_previous = installLogHandler(format, level, [this](QByteArrayView line) {
            const std::lock_guard lock(m_mutex);
            m_lines.append(line.toByteArray());
        });
    }
    ~Capture()
    {
        qInstallMessageHandler(m_previous);
        QLoggingCategory::setFilterRules(QString());
    }
    QByteArrayList lines()
    {
        const std::lock_guard lock(m_mutex);
        return m_lines;
    }

private:
    QtMessageHandler m_previous = nullptr;
    std::mutex m_mutex;
    QByteArrayList m_lines;
};

bool isValidUtf8(const QByteArray &bytes)
{
    QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    [[maybe_unused]] const QString text = decoder.decode(bytes);
    return !decoder.hasError();
}

} // namespace

class tst_Log final : public QObject
{
    Q_OBJECT

private slots:
    void format_data();
    void format();
    void names_data();
    void names();
    void handlerWritesStructuredLines();
    void handlerLevels_data();
    void handlerLevels();
    void handlerFormatsQtMessages();
    void fieldsDoNotLeakIntoLaterMessages();
    void fieldsStayWithTheirThread();
};

void tst_Log::format_data()
{
    QTest::addColumn<QtMsgType>("type");
    QTest::addColumn<QByteArray>("category");
    QTest::addColumn<QString>("message");
    QTest::addColumn<QString>("fields");
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QByteArray>("json");

    const auto row = [](const char *name, QtMsgType type, const QByteArray &category, const QString &message,
                        const char *fields, const QByteArray &text, const QByteArray &json) {
        QTest::newRow(name) << type << category << message << QString::fromUtf8(fields) << text + '\n' << json + '\n';
    };
    const QByteArray app("bourse.app");
    row("the spec's example", QtInfoMsg, app, "engine started", "instruments",
        "2026-11-21T09:00:00.123Z info  bourse.app  engine started instruments=3",
        R"({"ts":"2026-11-21T09:00:00.123Z","level":"info","category":"bourse.app","msg":"engine started",)"
        R"("instruments":3})");
    row("debug", QtDebugMsg, app, "x", "", "2026-11-21T09:00:00.123Z debug bourse.app  x",
        R"({"ts":"2026-11-21T09:00:00.123Z","level":"debug","category":"bourse.app","msg":"x"})");
    row("warning", QtWarningMsg, app, "x", "", "2026-11-21T09:00:00.123Z warning bourse.app  x",
        R"({"ts":"2026-11-21T09:00:00.123Z","level":"warning","category":"bourse.app","msg":"x"})");
    row("critical is error", QtCriticalMsg, app, "x", "", "2026-11-21T09:00:00.123Z error bourse.app  x",
        R"({"ts":"2026-11-21T09:00:00.123Z","level":"error","category":"bourse.app","msg":"x"})");
    row("fatal", QtFatalMsg, "default", "x", "", "2026-11-21T09:00:00.123Z fatal default  x",
        R"({"ts":"2026-11-21T09:00:00.123Z","level":"fatal","category":"default","msg":"x"})");
    row("typed fields", QtInfoMsg, app, "m", "types",
        "2026-11-21T09:00:00.123Z info  bourse.app  m yes=true no=false negative=-42 big=18446744073709551615 "
        "word=BTC-USD price=2000.5",
        R"({"ts":"2026-11-21T09:00:00.123Z","level":"info","category":"bourse.app","msg":"m","yes":true,)"
        R"("no":false,"negative":-42,"big":18446744073709551615,"word":"BTC-USD","price":"2000.5"})");
    row("text quotes values that need it", QtInfoMsg, app, "m", "quoting",
        R"(2026-11-21T09:00:00.123Z info  bourse.app  m spaced="a b" empty="" equals="a=b" )"
        R"(quote="say \"hi\"" newline="a\nb")",
        R"({"ts":"2026-11-21T09:00:00.123Z","level":"info","category":"bourse.app","msg":"m","spaced":"a b",)"
        R"("empty":"","equals":"a=b","quote":"say \"hi\"","newline":"a\nb"})");
    row("reserved field names get an underscore", QtInfoMsg, app, "m", "reserved",
        "2026-11-21T09:00:00.123Z info  bourse.app  m _msg=m _ts=t _level=l _category=c",
        R"({"ts":"2026-11-21T09:00:00.123Z","level":"info","category":"bourse.app","msg":"m","_msg":"m",)"
        R"("_ts":"t","_level":"l","_category":"c"})");
    row("message: quotes and backslashes", QtInfoMsg, app, R"(say "hi" \ bye)", "",
        R"(2026-11-21T09:00:00.123Z info  bourse.app  say "hi" \ bye)",
        R"({"ts":"2026-11-21T09:00:00.123Z","level":"info","category":"bourse.app","msg":"say \"hi\" \\ bye"})");
    row("message: newline, return, tab", QtInfoMsg, app, "a\nb\rc\td", "",
        R"(2026-11-21T09:00:00.123Z info  bourse.app  a\nb\rc\td)",
        R"({"ts":"2026-11-21T09:00:00.123Z","level":"info","category":"bourse.app","msg":"a\nb\rc\td"})");
    row("message: other control characters, DEL, line separators", QtInfoMsg, app,
        QString::fromUtf16(u"a\u0001b\u001fc\u007fd\u2028e\u2029"), "",
        R"(2026-11-21T09:00:00.123Z info  bourse.app  a\u0001b\u001fc\u007fd\u2028e\u2029)",
        R"({"ts":"2026-11-21T09:00:00.123Z","level":"info","category":"bourse.app",)"
        R"("msg":"a\u0001b\u001fc\u007fd\u2028e\u2029"})");
    row("message: NUL", QtInfoMsg, app, QString(QChar(0)), "", R"(2026-11-21T09:00:00.123Z info  bourse.app  \u0000)",
        R"({"ts":"2026-11-21T09:00:00.123Z","level":"info","category":"bourse.app","msg":"\u0000"})");
    row("message: non-ASCII stays UTF-8", QtInfoMsg, app,
        QString::fromUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), "",
        "2026-11-21T09:00:00.123Z info  bourse.app  caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
        R"({"ts":"2026-11-21T09:00:00.123Z","level":"info","category":"bourse.app","msg":")"
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}");
    row("message: lone surrogates become U+FFFD", QtInfoMsg, app,
        QString(QChar(0xd800)) + QStringLiteral("x") + QString(QChar(0xdc00)), "",
        "2026-11-21T09:00:00.123Z info  bourse.app  \xef\xbf\xbdx\xef\xbf\xbd",
        R"({"ts":"2026-11-21T09:00:00.123Z","level":"info","category":"bourse.app","msg":")"
        "\xef\xbf\xbdx\xef\xbf\xbd\"}");
    row("field: invalid UTF-8 becomes U+FFFD", QtInfoMsg, app, "m", "invalid utf-8",
        "2026-11-21T09:00:00.123Z info  bourse.app  m bytes=a\xef\xbf\xbd\x62",
        R"({"ts":"2026-11-21T09:00:00.123Z","level":"info","category":"bourse.app","msg":"m","bytes":"a)"
        "\xef\xbf\xbd\x62\"}");
    row("field: a lone surrogate is quoted in text", QtInfoMsg, app, "m", "lone surrogate",
        "2026-11-21T09:00:00.123Z info  bourse.app  m text=\"\xef\xbf\xbd\"",
        R"({"ts":"2026-11-21T09:00:00.123Z","level":"info","category":"bourse.app","msg":"m","text":")"
        "\xef\xbf\xbd\"}");
    row("category with a quote", QtInfoMsg, "odd\"cat", "m", "", "2026-11-21T09:00:00.123Z info  odd\"cat  m",
        R"({"ts":"2026-11-21T09:00:00.123Z","level":"info","category":"odd\"cat","msg":"m"})");
}

void tst_Log::format()
{
    QFETCH(QtMsgType, type);
    QFETCH(QByteArray, category);
    QFETCH(QString, message);
    QFETCH(QString, fields);
    QFETCH(QByteArray, text);
    QFETCH(QByteArray, json);

    const std::vector<LogField> fieldList = fieldsFor(fields);
    LogRecord record;
    record.time = kTime;
    record.type = type;
    record.category = category;
    record.message = message;
    record.fields = fieldList;

    const QByteArray textLine = formatLogLine(record, LogFormat::Text);
    QCOMPARE(textLine, text);
    const QByteArray jsonLine = formatLogLine(record, LogFormat::Json);
    QCOMPARE(jsonLine, json);

    for (const QByteArray &line : {textLine, jsonLine}) {
        QVERIFY(line.endsWith('\n'));
        QCOMPARE(line.count('\n'), 1);
        QVERIFY(isValidUtf8(line));
    }
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(jsonLine, &error);
    QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(error.errorString()));
    QVERIFY(document.isObject());
    const QJsonObject object = document.object();
    QCOMPARE(object.value(QStringLiteral("ts")).toString(), QStringLiteral("2026-11-21T09:00:00.123Z"));
    QCOMPARE(object.value(QStringLiteral("category")).toString(), QString::fromUtf8(category));
    QCOMPARE(object.size(), 4 + static_cast<qsizetype>(fieldList.size()));
}

void tst_Log::names_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("isFormat");
    QTest::addColumn<bool>("valid");

    QTest::newRow("text") << "text" << true << true;
    QTest::newRow("json") << "json" << true << true;
    QTest::newRow("JSON") << "JSON" << true << false;
    QTest::newRow("empty format") << "" << true << false;
    QTest::newRow("debug") << "debug" << false << true;
    QTest::newRow("info") << "info" << false << true;
    QTest::newRow("warning") << "warning" << false << true;
    QTest::newRow("error") << "error" << false << true;
    QTest::newRow("warn") << "warn" << false << false;
    QTest::newRow("Info") << "Info" << false << false;
}

void tst_Log::names()
{
    QFETCH(QString, name);
    QFETCH(bool, isFormat);
    QFETCH(bool, valid);

    if (isFormat) {
        const std::optional<LogFormat> format = parseLogFormat(name);
        QCOMPARE(format.has_value(), valid);
        if (format)
            QCOMPARE(QString(logFormatName(*format)), name);
    } else {
        const std::optional<LogLevel> level = parseLogLevel(name);
        QCOMPARE(level.has_value(), valid);
        if (level)
            QCOMPARE(QString(logLevelName(*level)), name);
    }
}

void tst_Log::handlerWritesStructuredLines()
{
    Capture capture(LogFormat::Json, LogLevel::Info);
    logInfo(lcTest(), "engine started", {{"instruments", 3}, {"listen", QStringLiteral("127.0.0.1:8080")}});
    const QByteArrayList lines = capture.lines();
    QCOMPARE(lines.size(), 1);
    const QJsonObject object = QJsonDocument::fromJson(lines.constFirst()).object();
    QCOMPARE(object.value(QStringLiteral("level")).toString(), QStringLiteral("info"));
    QCOMPARE(object.value(QStringLiteral("category")).toString(), QStringLiteral("bourse.test"));
    QCOMPARE(object.value(QStringLiteral("msg")).toString(), QStringLiteral("engine started"));
    QCOMPARE(object.value(QStringLiteral("instruments")).toInt(), 3);
    QCOMPARE(object.value(QStringLiteral("listen")).toString(), QStringLiteral("127.0.0.1:8080"));
    const QDateTime time = QDateTime::fromString(object.value(QStringLiteral("ts")).toString(), Qt::ISODateWithMs);
    QVERIFY(time.isValid());
    QCOMPARE(time.timeSpec(), Qt::UTC);
}

void tst_Log::handlerLevels_data()
{
    QTest::addColumn<LogLevel>("level");
    QTest::addColumn<QString>("expected"); // which of debug, info, warning, error got through

    QTest::newRow("debug") << LogLevel::Debug << "debug info warning error";
    QTest::newRow("info") << LogLevel::Info << "info warning error";
    QTest::newRow("warning") << LogLevel::Warning << "warning error";
    QTest::newRow("error") << LogLevel::Error << "error";
}

void tst_Log::handlerLevels()
{
    QFETCH(LogLevel, level);
    QFETCH(QString, expected);

    Capture capture(LogFormat::Json, level);
    logDebug(lcTest(), "debug");
    logInfo(lcTest(), "info");
    logWarning(lcTest(), "warning");
    logError(lcTest(), "error");
    // Qt's own categories obey the same level.
    qCInfo(lcTest) << "info";
    QStringList seen;
    for (const QByteArray &line : capture.lines())
        seen.append(QJsonDocument::fromJson(line).object().value(QStringLiteral("msg")).toString());
    QStringList wanted = expected.split(u' ');
    if (wanted.contains(QStringLiteral("info")))
        wanted.append(QStringLiteral("info"));
    QCOMPARE(seen, wanted);
}

void tst_Log::handlerFormatsQtMessages()
{
    Capture capture(LogFormat::Text, LogLevel::Debug);
    qWarning("plain %d", 5);
    const QByteArrayList lines = capture.lines();
    QCOMPARE(lines.size(), 1);
    QVERIFY2(lines.constFirst().endsWith(" warning default  plain 5\n"), lines.constFirst().constData());
}

void tst_Log::fieldsDoNotLeakIntoLaterMessages()
{
    Capture capture(LogFormat::Text, LogLevel::Debug);
    logInfo(lcTest(), "first", {{"n", 1}});
    qCInfo(lcTest) << "second";
    const QByteArrayList lines = capture.lines();
    QCOMPARE(lines.size(), 2);
    QVERIFY(lines[0].endsWith(" bourse.test  first n=1\n"));
    QVERIFY2(lines[1].endsWith(" bourse.test  second\n"), lines[1].constData());
}

void tst_Log::fieldsStayWithTheirThread()
{
    Capture capture(LogFormat::Json, LogLevel::Info);
    constexpr int kLines = 200;
    const auto writer = [](const QString &name) {
        for (int i = 0; i < kLines; ++i)
            logInfo(lcTest(), name, {{"writer", name}, {"i", i}});
    };
    std::thread other(writer, QStringLiteral("other"));
    writer(QStringLiteral("main"));
    other.join();

    const QByteArrayList lines = capture.lines();
    QCOMPARE(lines.size(), 2 * kLines);
    for (const QByteArray &line : lines) {
        const QJsonObject object = QJsonDocument::fromJson(line).object();
        QCOMPARE(object.value(QStringLiteral("writer")).toString(), object.value(QStringLiteral("msg")).toString());
    }
}

QTEST_GUILESS_MAIN(tst_Log)
#include "tst_log.moc"
