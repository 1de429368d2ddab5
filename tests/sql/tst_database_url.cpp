// Tests of DatabaseUrl: every accepted form with the fields it yields and its redacted text, that text
// parsing back to the same URL, and every refused form with its exact message, which never contains the
// password.
#include "database_url.h"

#include <QTest>

using bourse::sql::DatabaseUrl;

Q_DECLARE_METATYPE(DatabaseUrl::Driver)

namespace {

QString optionsText(const DatabaseUrl &url)
{
    QStringList parts;
    for (const auto &[key, value] : url.options)
        parts.append(key + u'=' + value);
    return parts.join(u'&');
}

} // namespace

class tst_DatabaseUrl final : public QObject
{
    Q_OBJECT

private slots:
    void valid_data();
    void valid();
    void toStringParsesBack_data() { valid_data(); }
    void toStringParsesBack();
    void invalid_data();
    void invalid();
    void sqliteFactory();
};

void tst_DatabaseUrl::valid_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<DatabaseUrl::Driver>("driver");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("user");
    QTest::addColumn<QString>("password");
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");
    QTest::addColumn<QString>("database");
    QTest::addColumn<QString>("options");
    QTest::addColumn<QString>("redacted");

    const auto sqlite = [](const char *name, const QString &text, const QString &path) {
        QTest::newRow(name) << text << DatabaseUrl::Driver::Sqlite << path << ""
                            << ""
                            << "" << 5432 << ""
                            << "" << QStringLiteral("sqlite:") + path;
    };
    sqlite("sqlite absolute", "sqlite:/var/lib/bourse/bourse.db", "/var/lib/bourse/bourse.db");
    sqlite("sqlite relative", "sqlite:data/bourse.db", "data/bourse.db");
    sqlite("sqlite bare file name", "sqlite:bourse.db", "bourse.db");
    sqlite("sqlite scheme in capitals", "SQLite:/a.db", "/a.db");
    sqlite("sqlite:/// URL", "sqlite:///srv/bourse.db", "/srv/bourse.db");
    sqlite("sqlite:/// URL is percent-decoded", "sqlite:///my%20dir/x%2By%C3%A9.db", QStringLiteral("/my dir/x+yé.db"));
    sqlite("sqlite path is literal", "sqlite:/a%20b?c#d", "/a%20b?c#d");
    sqlite("sqlite path with spaces", "sqlite:/my dir/b.db", "/my dir/b.db");

    const auto pg = [](const char *name, const QString &text, const QString &user, const QString &password,
                       const QString &host, int port, const QString &database, const QString &options,
                       const QString &redacted) {
        QTest::newRow(name) << text << DatabaseUrl::Driver::PostgreSql << "" << user << password << host << port
                            << database << options << redacted;
    };
    pg("postgresql, everything", "postgresql://bourse:s3cret@db.example:5433/venue", "bourse", "s3cret", "db.example",
       5433, "venue", "", "postgresql://bourse:***@db.example:5433/venue");
    pg("postgres scheme, default port", "postgres://u@h/db", "u", "", "h", 5432, "db", "", "postgresql://u@h:5432/db");
    pg("scheme in capitals", "POSTGRESQL://h/db", "", "", "h", 5432, "db", "", "postgresql://h:5432/db");
    pg("no user", "postgresql://10.0.0.5/db", "", "", "10.0.0.5", 5432, "db", "", "postgresql://10.0.0.5:5432/db");
    pg("local socket", "postgresql:///bourse", "", "", "", 5432, "bourse", "", "postgresql:///bourse");
    pg("local socket, other port", "postgresql://:5433/bourse", "", "", "", 5433, "bourse", "",
       "postgresql://:5433/bourse");
    pg("lowest and highest port", "postgresql://h:1/db", "", "", "h", 1, "db", "", "postgresql://h:1/db");
    pg("highest port", "postgresql://h:65535/db", "", "", "h", 65535, "db", "", "postgresql://h:65535/db");
    pg("percent-encoded password", "postgresql://u:p%40ss%2Fw0rd%3F@h/db", "u", "p@ss/w0rd?", "h", 5432, "db", "",
       "postgresql://u:***@h:5432/db");
    pg("percent-encoded user and database", "postgresql://u%20x:s3cret@h/d%20b", "u x", "s3cret", "h", 5432, "d b", "",
       "postgresql://u%20x:***@h:5432/d%20b");
    pg("UTF-8 user", "postgresql://%C3%BC@h/db", QStringLiteral("ü"), "", "h", 5432, "db", "",
       "postgresql://%C3%BC@h:5432/db");
    pg("empty password", "postgresql://u:@h/db", "u", "", "h", 5432, "db", "", "postgresql://u@h:5432/db");
    pg("':' in the password", "postgresql://u:p:q@h/db", "u", "p:q", "h", 5432, "db", "",
       "postgresql://u:***@h:5432/db");
    pg("'@' in the password", "postgresql://u:p@ss@h/db", "u", "p@ss", "h", 5432, "db", "",
       "postgresql://u:***@h:5432/db");
    pg("IPv6", "postgresql://u@[::1]:5432/db", "u", "", "::1", 5432, "db", "", "postgresql://u@[::1]:5432/db");
    pg("IPv6, default port", "postgresql://[2001:db8::1]/db", "", "", "2001:db8::1", 5432, "db", "",
       "postgresql://[2001:db8::1]:5432/db");
    pg("host with an underscore", "postgresql://my_db-1.local/db", "", "", "my_db-1.local", 5432, "db", "",
       "postgresql://my_db-1.local:5432/db");
    pg("options", "postgresql://h/db?sslmode=verify-full&connect_timeout=10&application_name=desk%201", "", "", "h",
       5432, "db", "sslmode=verify-full&connect_timeout=10&application_name=desk 1",
       "postgresql://h:5432/db?sslmode=verify-full&connect_timeout=10&application_name=desk%201");
    pg("an option value with '/'", "postgresql://h/db?sslrootcert=/etc/ssl/root.crt", "", "", "h", 5432, "db",
       "sslrootcert=/etc/ssl/root.crt", "postgresql://h:5432/db?sslrootcert=%2Fetc%2Fssl%2Froot.crt");
}

void tst_DatabaseUrl::valid()
{
    QFETCH(QString, text);
    QFETCH(DatabaseUrl::Driver, driver);
    QFETCH(QString, path);
    QFETCH(QString, user);
    QFETCH(QString, password);
    QFETCH(QString, host);
    QFETCH(int, port);
    QFETCH(QString, database);
    QFETCH(QString, options);
    QFETCH(QString, redacted);

    const auto url = DatabaseUrl::parse(text);
    QVERIFY2(url.hasValue(), qPrintable(url.hasValue() ? QString() : url.error()));
    QCOMPARE(url->driver, driver);
    QCOMPARE(url->path, path);
    QCOMPARE(url->user, user);
    QCOMPARE(url->password, password);
    QCOMPARE(url->host, host);
    QCOMPARE(int(url->port), port);
    QCOMPARE(url->databaseName, database);
    QCOMPARE(optionsText(*url), options);
    QCOMPARE(url->toString(), redacted);
    if (!password.isEmpty())
        QVERIFY(!url->toString().contains(password));
}

void tst_DatabaseUrl::toStringParsesBack()
{
    QFETCH(QString, text);
    QFETCH(QString, password);

    const auto url = DatabaseUrl::parse(text);
    QVERIFY(url.hasValue());
    const auto again = DatabaseUrl::parse(url->toString());
    QVERIFY2(again.hasValue(), qPrintable(again.hasValue() ? QString() : again.error()));
    DatabaseUrl expected = *url;
    expected.password = password.isEmpty() ? QString() : QStringLiteral("***");
    QCOMPARE(*again, expected);
}

void tst_DatabaseUrl::invalid_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("error");

    const QString forms = QStringLiteral("use sqlite:<path> or postgresql://user:pass@host:port/db");
    QTest::newRow("empty") << ""
                           << "is empty; " + forms;
    QTest::newRow("a bare path") << "/var/lib/bourse.db"
                                 << "is not a database URL; " + forms;
    QTest::newRow("a file name") << "bourse.db"
                                 << "is not a database URL; " + forms;
    QTest::newRow("scheme starting with a digit") << "1sqlite:x"
                                                  << "is not a database URL; " + forms;
    QTest::newRow("mysql") << "mysql://h/db"
                           << "unsupported database \"mysql\"; " + forms;
    QTest::newRow("file") << "file:/x.db"
                          << "unsupported database \"file\"; " + forms;

    QTest::newRow("sqlite without a path") << "sqlite:"
                                           << "sqlite: needs a file path, e.g. sqlite:/var/lib/bourse/bourse.db";
    QTest::newRow("sqlite:// without a path") << "sqlite://"
                                              << "sqlite: needs a file path, e.g. sqlite:/var/lib/bourse/bourse.db";
    QTest::newRow("sqlite with a host") << "sqlite://host/x.db"
                                        << "a sqlite URL cannot name a host (\"host\"); use sqlite:relative/path or "
                                           "sqlite:///absolute/path";
    QTest::newRow("sqlite:/// with options") << "sqlite:///x.db?mode=ro"
                                             << "a sqlite:/// URL takes no ?options or #fragment";
    QTest::newRow("sqlite:/// bad percent") << "sqlite:///x%zz.db"
                                            << "bad percent-encoding in the sqlite path";
    QTest::newRow("sqlite:/// NUL") << "sqlite:///x%00.db"
                                    << "bad percent-encoding in the sqlite path";
    QTest::newRow("sqlite:/// invalid UTF-8") << "sqlite:///x%FF.db"
                                              << "bad percent-encoding in the sqlite path";
    QTest::newRow("sqlite control character") << "sqlite:/a\nb"
                                              << "the sqlite path contains a control character";

    QTest::newRow("postgresql without //") << "postgresql:h/db"
                                           << "a postgresql URL starts with postgresql://, e.g. "
                                              "postgresql://user:pass@host:5432/bourse";
    QTest::newRow("postgres without //")
        << "Postgres:h/db"
        << "a postgres URL starts with postgres://, e.g. postgres://user:pass@host:5432/bourse";
    QTest::newRow("no database") << "postgresql://h"
                                 << "the URL names no database, e.g. postgresql://user:pass@host:5432/bourse";
    QTest::newRow("empty database") << "postgresql://u:s3cret@h:5432/"
                                    << "the URL names no database, e.g. postgresql://user:pass@host:5432/bourse";
    QTest::newRow("port too large") << "postgresql://u:s3cret@h:99999/db"
                                    << "port must be 1-65535, got \"99999\"";
    QTest::newRow("port empty") << "postgresql://h:/db"
                                << "port must be 1-65535, got \"\"";
    QTest::newRow("port zero") << "postgresql://h:0/db"
                               << "port must be 1-65535, got \"0\"";
    QTest::newRow("port not a number") << "postgresql://h:pg/db"
                                       << "port must be 1-65535, got \"pg\"";
    QTest::newRow("IPv6 without brackets") << "postgresql://::1/db"
                                           << "IPv6 addresses go in brackets, e.g. postgresql://user@[::1]:5432/bourse";
    QTest::newRow("IPv6 unclosed") << "postgresql://[::1/db"
                                   << "the IPv6 address has no closing \"]\"";
    QTest::newRow("IPv6 garbage") << "postgresql://[zz]/db"
                                  << "\"[zz]\" is not an IPv6 address";
    QTest::newRow("IPv6 then junk") << "postgresql://[::1]x/db"
                                    << "expected \":port\" after the IPv6 address, got \"x\"";
    QTest::newRow("space") << "postgresql://ho st/db"
                           << "the URL contains a space or control character; percent-encode it";
    QTest::newRow("bad host") << "postgresql://h!/db"
                              << "host \"h!\" is not a host name or address";
    QTest::newRow("fragment") << "postgresql://h/db#x"
                              << "a database URL takes no #fragment";
    QTest::newRow("slash in the database") << "postgresql://h/a/b"
                                           << "the database name \"a/b\" contains \"/\"";
    QTest::newRow("bad percent in the database") << "postgresql://h/d%zz"
                                                 << "bad percent-encoding in the database name";
    QTest::newRow("bad percent in the user") << "postgresql://u%zz@h/db"
                                             << "bad percent-encoding in the user name";
    QTest::newRow("bad percent in the password") << "postgresql://u:s3cret%zz@h/db"
                                                 << "bad percent-encoding in the password";
    QTest::newRow("truncated percent in the password") << "postgresql://u:s3cret%4@h/db"
                                                       << "bad percent-encoding in the password";
    QTest::newRow("invalid UTF-8 in the password") << "postgresql://u:s3cret%FF@h/db"
                                                   << "bad percent-encoding in the password";
    QTest::newRow("password without a user") << "postgresql://:s3cret@h/db"
                                             << "a password is given without a user name";
    const QString encodeHint = QStringLiteral("\"@\" after the host: percent-encode \"@\", \"/\", \"?\" and \"#\" in "
                                              "the user name and password (e.g. %40 for \"@\")");
    QTest::newRow("'/' in the password") << "postgresql://u:s3c/ret@h/db" << encodeHint;
    QTest::newRow("'?' in the password") << "postgresql://u:s3c?ret@h/db" << encodeHint;
    QTest::newRow("empty option list") << "postgresql://h/db?"
                                       << "empty option list after \"?\"";
    QTest::newRow("option without a value") << "postgresql://h/db?sslmode"
                                            << "option \"sslmode\" needs a value (sslmode=...)";
    QTest::newRow("option with an empty value") << "postgresql://h/db?sslmode="
                                                << "option \"sslmode\" needs a value (sslmode=...)";
    QTest::newRow("option without a name") << "postgresql://h/db?=x"
                                           << "an option has no name (\"=x\")";
    QTest::newRow("trailing &") << "postgresql://h/db?sslmode=require&"
                                << "an option has no name (\"\")";
    QTest::newRow("option in capitals") << "postgresql://h/db?SSLMODE=require"
                                        << "option name \"SSLMODE\" is not of [a-z_]";
    QTest::newRow("unknown option")
        << "postgresql://h/db?sslmod=require"
        << "unknown option \"sslmod\"; known: application_name, connect_timeout, keepalives, keepalives_count, "
           "keepalives_idle, keepalives_interval, options, sslcert, sslcrl, sslkey, sslmode, sslrootcert, "
           "target_session_attrs";
    QTest::newRow("password as an option")
        << "postgresql://h/db?password=s3cret"
        << "unknown option \"password\"; known: application_name, connect_timeout, keepalives, keepalives_count, "
           "keepalives_idle, keepalives_interval, options, sslcert, sslcrl, sslkey, sslmode, sslrootcert, "
           "target_session_attrs";
    QTest::newRow("option twice") << "postgresql://h/db?sslmode=require&sslmode=disable"
                                  << "option \"sslmode\" is given twice";
    QTest::newRow("bad sslmode") << "postgresql://h/db?sslmode=maybe"
                                 << "sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full, "
                                    "got \"maybe\"";
    QTest::newRow("bad connect_timeout") << "postgresql://h/db?connect_timeout=ten"
                                         << "connect_timeout must be a whole number of seconds, got \"ten\"";
    QTest::newRow("bad percent in an option") << "postgresql://h/db?application_name=%zz"
                                              << "bad percent-encoding in option \"application_name\"";
}

void tst_DatabaseUrl::invalid()
{
    QFETCH(QString, text);
    QFETCH(QString, error);

    const auto url = DatabaseUrl::parse(text);
    QVERIFY(!url.hasValue());
    QCOMPARE(url.error(), error);
    QVERIFY(!url.error().contains(u'\n'));
    QVERIFY(!url.error().contains(QStringLiteral("s3c")));
}

void tst_DatabaseUrl::sqliteFactory()
{
    const DatabaseUrl url = DatabaseUrl::sqlite(QStringLiteral("/data/bourse.db"));
    QCOMPARE(url.driver, DatabaseUrl::Driver::Sqlite);
    QCOMPARE(url.toString(), QStringLiteral("sqlite:/data/bourse.db"));
    QCOMPARE(url, DatabaseUrl::parse(u"sqlite:/data/bourse.db").value());
}

QTEST_GUILESS_MAIN(tst_DatabaseUrl)
#include "tst_database_url.moc"
