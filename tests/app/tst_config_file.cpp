// Tests of ConfigFile, the strict reader of bourse.toml / bourse.ini: what each accepted line yields (key,
// line, typed value), every refusal with its exact message, and reading from disk. Entries are written as
// "key@line=s:text" (string), "=i:42" (integer) or "=b:true" (boolean), joined by " | ".
#include "config_file.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace bourse::app;

namespace {

QString describe(const ConfigFile &file)
{
    QStringList parts;
    for (const ConfigEntry &entry : file.entries()) {
        QString value;
        switch (entry.value.type) {
        case ConfigValue::Type::String: value = QStringLiteral("s:") + entry.value.string; break;
        case ConfigValue::Type::Integer: value = QStringLiteral("i:") + QString::number(entry.value.integer); break;
        case ConfigValue::Type::Boolean:
            value = entry.value.boolean ? QStringLiteral("b:true") : QStringLiteral("b:false");
            break;
        }
        parts.append(QStringLiteral("%1@%2=%3").arg(entry.key).arg(entry.line).arg(value));
    }
    for (const ConfigTable &table : file.tables())
        parts.append(QStringLiteral("[%1]@%2").arg(table.name).arg(table.line));
    return parts.join(QStringLiteral(" | "));
}

} // namespace

class tst_ConfigFile final : public QObject
{
    Q_OBJECT

private slots:
    void toml_data();
    void toml();
    void tomlStrings_data();
    void tomlStrings();
    void ini_data();
    void ini();
    void errors_data();
    void errors();
    void syntaxFor_data();
    void syntaxFor();
    void readFromDisk();
    void unreadable_data();
    void unreadable();
};

void tst_ConfigFile::toml_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QString>("expected");

    QTest::newRow("empty") << QByteArray() << "";
    QTest::newRow("comments and blank lines") << QByteArray("# a comment\n\n   \n\t# another\n") << "";
    QTest::newRow("basic string") << QByteArray("listen = \"127.0.0.1:8080\"") << "listen@1=s:127.0.0.1:8080";
    QTest::newRow("literal string") << QByteArray("path = 'C:\\dir\\n'") << "path@1=s:C:\\dir\\n";
    QTest::newRow("empty string") << QByteArray("k = \"\"") << "k@1=s:";
    QTest::newRow("hash inside a string") << QByteArray("k = \"a # b\" # c") << "k@1=s:a # b";
    QTest::newRow("integer") << QByteArray("k = 42") << "k@1=i:42";
    QTest::newRow("zero") << QByteArray("k = 0") << "k@1=i:0";
    QTest::newRow("negative") << QByteArray("k = -17") << "k@1=i:-17";
    QTest::newRow("plus sign") << QByteArray("k = +5") << "k@1=i:5";
    QTest::newRow("underscores") << QByteArray("k = 1_000_000") << "k@1=i:1000000";
    QTest::newRow("int64 max") << QByteArray("k = 9223372036854775807") << "k@1=i:9223372036854775807";
    QTest::newRow("int64 min") << QByteArray("k = -9223372036854775808") << "k@1=i:-9223372036854775808";
    QTest::newRow("true") << QByteArray("k = true") << "k@1=b:true";
    QTest::newRow("false with a comment") << QByteArray("k = false # off") << "k@1=b:false";
    QTest::newRow("blanks everywhere") << QByteArray("  \tk  =\t \"v\"  \t") << "k@1=s:v";
    QTest::newRow("no blanks") << QByteArray("k=\"v\"") << "k@1=s:v";
    QTest::newRow("bare key characters") << QByteArray("Log-level_2 = 1") << "Log-level_2@1=i:1";
    QTest::newRow("line numbers") << QByteArray("# one\n\na = 1\n\nb = 2\n") << "a@3=i:1 | b@5=i:2";
    QTest::newRow("CRLF") << QByteArray("a = \"x\"\r\nb = 2\r\n") << "a@1=s:x | b@2=i:2";
    QTest::newRow("byte-order mark") << QByteArray("\xef\xbb\xbf"
                                                   "a = 1")
                                     << "a@1=i:1";
    QTest::newRow("table") << QByteArray("a = 1\n[server]\nport = 2\n[ log ] # spaced\nlevel = \"x\"")
                           << "a@1=i:1 | server.port@3=i:2 | log.level@5=s:x | [server]@2 | [log]@4";
    QTest::newRow("the [limits] table") << QByteArray("log_level = \"info\"\n[limits]\nmax_body_bytes = 2048\n"
                                                      "# rate_pro_capacity = 9\nrate_pro_per_second = 1_000")
                                        << "log_level@1=s:info | limits.max_body_bytes@3=i:2048 | "
                                           "limits.rate_pro_per_second@5=i:1000 | [limits]@2";
    QTest::newRow("same key in two tables")
        << QByteArray("[a]\nk = 1\n[b]\nk = 2") << "a.k@2=i:1 | b.k@4=i:2 | [a]@1 | [b]@3";
    QTest::newRow("UTF-8 text") << QByteArray("k = \"caf\xc3\xa9 \xe2\x82\xac\"") << QStringLiteral("k@1=s:café €");
}

void tst_ConfigFile::toml()
{
    QFETCH(QByteArray, text);
    QFETCH(QString, expected);

    const auto file = ConfigFile::parse(text, ConfigFile::Syntax::Toml, QStringLiteral("f.toml"));
    QVERIFY2(file.hasValue(), qPrintable(file.hasValue() ? QString() : file.error().message));
    QCOMPARE(describe(*file), expected);
}

void tst_ConfigFile::tomlStrings_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QString>("expected");

    QTest::newRow("quote and backslash") << QByteArray(R"(k = "a\"b\\c")") << QStringLiteral("a\"b\\c");
    QTest::newRow("control escapes") << QByteArray(R"(k = "\b\t\n\f\r")") << QStringLiteral("\b\t\n\f\r");
    QTest::newRow("\\u") << QByteArray(R"(k = "\u00e9\u20AC")") << QStringLiteral("é€");
    QTest::newRow("\\U beyond the BMP") << QByteArray(R"(k = "\U0001F600")") << QString::fromUtf8("\xf0\x9f\x98\x80");
    QTest::newRow("a raw tab") << QByteArray("k = \"a\tb\"") << QStringLiteral("a\tb");
    QTest::newRow("literal: no escapes") << QByteArray(R"(k = 'a\"b\u0041')") << QStringLiteral("a\\\"b\\u0041");
}

void tst_ConfigFile::tomlStrings()
{
    QFETCH(QByteArray, text);
    QFETCH(QString, expected);

    const auto file = ConfigFile::parse(text, ConfigFile::Syntax::Toml, QStringLiteral("f.toml"));
    QVERIFY2(file.hasValue(), qPrintable(file.hasValue() ? QString() : file.error().message));
    QCOMPARE(file->entries().size(), 1);
    QCOMPARE(file->entries().constFirst().value.type, ConfigValue::Type::String);
    QCOMPARE(file->entries().constFirst().value.string, expected);
}

void tst_ConfigFile::ini_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QString>("expected");

    QTest::newRow("raw value") << QByteArray("listen = 127.0.0.1:8080") << "listen@1=s:127.0.0.1:8080";
    QTest::newRow("raw value with spaces") << QByteArray("k =  a b  ") << "k@1=s:a b";
    QTest::newRow("no blanks") << QByteArray("k=v") << "k@1=s:v";
    QTest::newRow("numbers stay strings") << QByteArray("k = 42\nb = true") << "k@1=s:42 | b@2=s:true";
    QTest::newRow("empty value") << QByteArray("k =") << "k@1=s:";
    QTest::newRow("comments") << QByteArray("; one\n# two\nk = v") << "k@3=s:v";
    QTest::newRow("a raw value keeps ; and #") << QByteArray("k = a ; b # c") << "k@1=s:a ; b # c";
    QTest::newRow("quoted value") << QByteArray("k = \"a ; b\" ; comment") << "k@1=s:a ; b";
    QTest::newRow("section") << QByteArray("[General]\nk = v") << "General.k@2=s:v | [General]@1";
    QTest::newRow("the [limits] section") << QByteArray("listen = 127.0.0.1:1\n[limits]\nmax_body_bytes = 2048\n"
                                                        "rate_pro_capacity = \"9\"")
                                          << "listen@1=s:127.0.0.1:1 | limits.max_body_bytes@3=s:2048 | "
                                             "limits.rate_pro_capacity@4=s:9 | [limits]@2";
}

void tst_ConfigFile::ini()
{
    QFETCH(QByteArray, text);
    QFETCH(QString, expected);

    const auto file = ConfigFile::parse(text, ConfigFile::Syntax::Ini, QStringLiteral("f.ini"));
    QVERIFY2(file.hasValue(), qPrintable(file.hasValue() ? QString() : file.error().message));
    QCOMPARE(describe(*file), expected);
}

void tst_ConfigFile::errors_data()
{
    QTest::addColumn<ConfigFile::Syntax>("syntax");
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QString>("error");

    const auto toml = [](const char *name, const QByteArray &text, const char *error) {
        QTest::newRow(name) << ConfigFile::Syntax::Toml << text << QString::fromUtf8(error);
    };
    toml("unterminated string", "k = \"v", "f:1: k: the string has no closing quote");
    toml("unterminated literal", "k = 'v", "f:1: k: the string has no closing quote");
    toml("multi-line basic string", "k = \"\"\"v\"\"\"", "f:1: k: multi-line strings are not supported");
    toml("multi-line literal string", "k = '''v'''", "f:1: k: multi-line strings are not supported");
    toml("unknown escape", R"(k = "\x41")", "f:1: k: unknown escape \\x in a string");
    toml("short \\u", R"(k = "\u12")", "f:1: k: \\u needs 4 hex digits");
    toml("bad \\U", R"(k = "\U0000004G")", "f:1: k: \\U needs 8 hex digits");
    toml("surrogate \\u", R"(k = "\uD800")", "f:1: k: \\uD800 is not a Unicode scalar value");
    toml("\\U beyond Unicode", R"(k = "\U00110000")", "f:1: k: \\U00110000 is not a Unicode scalar value");
    toml("control character in a string",
         "k = \"a\x01"
         "b\"",
         "f:1: k: control character in a string; write it as an escape");
    toml("float", "k = 1.5", "f:1: k: floats are not supported");
    toml("exponent", "k = 1e3", "f:1: k: floats are not supported");
    toml("inf", "k = -inf", "f:1: k: floats are not supported");
    toml("nan", "k = nan", "f:1: k: floats are not supported");
    toml("hexadecimal", "k = 0x1F", "f:1: k: hexadecimal, octal and binary integers are not supported");
    toml("binary", "k = 0b101", "f:1: k: hexadecimal, octal and binary integers are not supported");
    toml("date", "k = 1979-05-27", "f:1: k: dates and times are not supported");
    toml("time", "k = 07:32:00", "f:1: k: dates and times are not supported");
    toml("array", "k = [1, 2]", "f:1: k: arrays are not supported");
    toml("inline table", "k = {a = 1}", "f:1: k: inline tables are not supported");
    toml("leading zero", "k = 012", "f:1: k: integers have no leading zeros, got 012");
    toml("double underscore", "k = 1__0",
         "f:1: k: expected a \"string\", an integer, true or false, got 1__0 (strings need quotes)");
    toml("too large", "k = 9223372036854775808", "f:1: k: integer 9223372036854775808 is out of range");
    toml("too small", "k = -9223372036854775809", "f:1: k: integer -9223372036854775809 is out of range");
    toml("bare word", "k = yes",
         "f:1: k: expected a \"string\", an integer, true or false, got yes (strings need quotes)");
    toml("True is not true", "k = True",
         "f:1: k: expected a \"string\", an integer, true or false, got True (strings need quotes)");
    toml("missing value", "k =", "f:1: k: expected a value: a \"string\", an integer, true or false");
    toml("missing value before a comment", "k = # nothing",
         "f:1: k: expected a value: a \"string\", an integer, true or false");
    toml("text after the value", "k = \"v\" x", "f:1: k: unexpected text after the value");
    toml("two values", "k = 1 2", "f:1: k: unexpected text after the value");
    toml("no equals sign", "k \"v\"", "f:1: k: expected \"=\" after the key");
    toml("no key", "= \"v\"", "f:1: expected key = value");
    toml("quoted key", "\"k\" = 1", "f:1: quoted keys are not supported");
    toml("dotted key", "a.b = 1", "f:1: a: dotted keys are not supported");
    toml("duplicate key", "k = 1\n\nk = 2", "f:3: k: duplicate key (first set on line 1)");
    toml("duplicate key in a table", "[t]\nk = 1\nk = 2", "f:3: t.k: duplicate key (first set on line 2)");
    toml("duplicate table", "[t]\n[u]\n[t]", "f:3: table [t] appears twice (first on line 1)");
    toml("array of tables", "[[t]]", "f:1: arrays of tables are not supported");
    toml("unclosed table", "[t", "f:1: the table header has no closing \"]\"");
    toml("dotted table", "[a.b]", "f:1: table names are bare keys of [A-Za-z0-9_-], got [a.b]");
    toml("empty table name", "[ ]", "f:1: table names are bare keys of [A-Za-z0-9_-], got []");
    toml("text after a table", "[t] x", "f:1: unexpected text after [t]");
    toml("invalid UTF-8", "a = 1\nk = \"\xff\"", "f:2: not valid UTF-8");
    toml("NUL", QByteArray("k = 1\0", 6), "f:1: NUL character");
    toml("the error names the right line", "# one\n\nk = 1.5", "f:3: k: floats are not supported");

    const auto ini = [](const char *name, const QByteArray &text, const char *error) {
        QTest::newRow(name) << ConfigFile::Syntax::Ini << text << QString::fromUtf8(error);
    };
    ini("INI: duplicate key", "k = a\nk = b", "f:2: k: duplicate key (first set on line 1)");
    ini("INI: no equals sign", "k v", "f:1: k: expected \"=\" after the key");
    ini("INI: unterminated quoted value", "k = \"v", "f:1: k: the string has no closing quote");
    ini("INI: text after a quoted value", "k = \"v\" x", "f:1: k: unexpected text after the value");
    ini("INI: invalid UTF-8", "k = \xc3\x28", "f:1: not valid UTF-8");
}

void tst_ConfigFile::errors()
{
    QFETCH(ConfigFile::Syntax, syntax);
    QFETCH(QByteArray, text);
    QFETCH(QString, error);

    const auto file = ConfigFile::parse(text, syntax, QStringLiteral("f"));
    QVERIFY(!file.hasValue());
    QCOMPARE(file.error().kind, ConfigError::Kind::Invalid);
    QCOMPARE(file.error().message, error);
}

void tst_ConfigFile::syntaxFor_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<ConfigFile::Syntax>("syntax");

    QTest::newRow(".toml") << "/etc/bourse/bourse.toml" << ConfigFile::Syntax::Toml;
    QTest::newRow(".ini") << "/etc/bourse/bourse.ini" << ConfigFile::Syntax::Ini;
    QTest::newRow(".INI") << "BOURSE.INI" << ConfigFile::Syntax::Ini;
    QTest::newRow("no extension") << "bourse" << ConfigFile::Syntax::Toml;
    QTest::newRow(".conf") << "bourse.conf" << ConfigFile::Syntax::Toml;
}

void tst_ConfigFile::syntaxFor()
{
    QFETCH(QString, path);
    QFETCH(ConfigFile::Syntax, syntax);
    QCOMPARE(ConfigFile::syntaxFor(path), syntax);
}

void tst_ConfigFile::readFromDisk()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString tomlPath = dir.filePath(QStringLiteral("bourse.toml"));
    const QString iniPath = dir.filePath(QStringLiteral("bourse.ini"));
    for (const auto &[path, text] :
         {std::pair{tomlPath, QByteArray("k = 7\n")}, std::pair{iniPath, QByteArray("k = 7\n")}}) {
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(text);
    }
    const auto toml = ConfigFile::read(tomlPath);
    QVERIFY(toml.hasValue());
    QCOMPARE(describe(*toml), QStringLiteral("k@1=i:7"));
    const auto ini = ConfigFile::read(iniPath);
    QVERIFY(ini.hasValue());
    QCOMPARE(describe(*ini), QStringLiteral("k@1=s:7"));

    QFile bad(tomlPath);
    QVERIFY(bad.open(QIODevice::WriteOnly | QIODevice::Truncate));
    bad.write("k = 1.5\n");
    bad.close();
    const auto invalid = ConfigFile::read(tomlPath);
    QVERIFY(!invalid.hasValue());
    QCOMPARE(invalid.error().kind, ConfigError::Kind::Invalid);
    QCOMPARE(invalid.error().message, tomlPath + QStringLiteral(":1: k: floats are not supported"));
}

void tst_ConfigFile::unreadable_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("reason");

    QTest::newRow("missing") << "missing.toml"
                             << "No such file or directory";
    QTest::newRow("a directory") << "sub"
                                 << "it is a directory";
}

void tst_ConfigFile::unreadable()
{
    QFETCH(QString, name);
    QFETCH(QString, reason);

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QVERIFY(QDir(dir.path()).mkdir(QStringLiteral("sub")));
    const QString path = dir.filePath(name);
    const auto file = ConfigFile::read(path);
    QVERIFY(!file.hasValue());
    QCOMPARE(file.error().kind, ConfigError::Kind::Unreadable);
    QCOMPARE(file.error().message, QStringLiteral("cannot read \"%1\": %2").arg(path, reason));
}

QTEST_GUILESS_MAIN(tst_ConfigFile)
#include "tst_config_file.moc"
