#include "connection.h"

#include "sql_log.h"

#include <QFileInfo>
#include <QRegularExpression>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>
#include <QVersionNumber>

#include <atomic>
#include <utility>

namespace bourse::sql {

namespace {

const QString kSqliteDriver = QStringLiteral("QSQLITE");
const QString kPostgreSqlDriver = QStringLiteral("QPSQL");

// The oldest servers and libraries whose features the schema and the writer rely on.
const QVersionNumber kMinimumSqlite(3, 37, 0); // STRICT tables
constexpr int kMinimumPostgreSqlVersionNum = 120000;

std::atomic<quint64> g_connectionCount{0};

bool endsSentence(QStringView text)
{
    return text.endsWith(u'.') || text.endsWith(u':') || text.endsWith(u';') || text.endsWith(u'?')
           || text.endsWith(u'!') || text.endsWith(u',');
}

// PostgreSQL's multi-line messages as one line: the pointer into the statement ("LINE 1: ..." and the
// caret under it) and the trailing "(SQLSTATE)" that QPSQL appends say nothing a log reader needs.
QString foldLines(QStringView text)
{
    static const QRegularExpression kStatementPointer(QStringLiteral("^(LINE \\d+:.*|\\^|\\([0-9A-Z]{5}\\))$"));
    QString folded;
    for (const QStringView rawLine : text.split(u'\n')) {
        const QString line = rawLine.toString().simplified();
        if (line.isEmpty() || kStatementPointer.match(line).hasMatch())
            continue;
        if (!folded.isEmpty())
            folded += endsSentence(folded) ? QStringLiteral(" ") : QStringLiteral(". ");
        folded += line;
    }
    return folded;
}

QString withoutPassword(QString text, const QString &password)
{
    if (!password.isEmpty())
        text.replace(password, QStringLiteral("***"));
    return text;
}

// The first column of the first row of a statement's result.
Expected<QVariant, QString> scalar(QSqlDatabase &database, const QString &statement)
{
    QSqlQuery query(database);
    query.setForwardOnly(true);
    if (!query.exec(statement))
        return unexpected(QStringLiteral("%1: %2").arg(statement, errorLine(query.lastError())));
    if (!query.next())
        return unexpected(QStringLiteral("%1 returned no row").arg(statement));
    return query.value(0);
}

std::optional<QString> openSqlite(Connection &connection, const DatabaseUrl &url, const ConnectionSettings &settings)
{
    const QFileInfo file(url.path);
    if (!QFileInfo(file.absolutePath()).isDir())
        return QStringLiteral("the directory \"%1\" does not exist").arg(file.absolutePath());
    if (file.isDir())
        return QStringLiteral("\"%1\" is a directory, not a database file").arg(url.path);

    QSqlDatabase &database = connection.database();
    database.setDatabaseName(url.path);
    database.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=%1").arg(settings.sqliteBusyTimeout.count()));
    if (!database.open())
        return errorLine(database.lastError());

    const Expected<QVariant, QString> version = scalar(database, QStringLiteral("SELECT sqlite_version()"));
    if (!version)
        return version.error();
    if (QVersionNumber::fromString(version->toString()) < kMinimumSqlite) {
        return QStringLiteral("SQLite %1 is too old; bourse needs %2 or newer")
            .arg(version->toString(), kMinimumSqlite.toString());
    }

    // Each setting is read back: journal_mode silently stays "memory" or "delete" where WAL cannot work
    // (an in-memory database, some network file systems), and the venue's durability rests on these.
    const Expected<QVariant, QString> journalMode = scalar(database, QStringLiteral("PRAGMA journal_mode=WAL"));
    if (!journalMode)
        return journalMode.error();
    const QString mode = journalMode->toString().toLower();
    if (mode == u"memory")
        return QStringLiteral("journal_mode is \"memory\", not wal: an in-memory database cannot keep the venue");
    if (mode != u"wal")
        return QStringLiteral("journal_mode is \"%1\", not wal; is the file on a local disk?").arg(mode);
    for (const char *statement : {"PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON"}) {
        if (std::optional<QString> error = connection.execute(QString::fromLatin1(statement)))
            return QStringLiteral("%1: %2").arg(QLatin1StringView(statement), *error);
    }
    struct Expectation
    {
        const char *pragma;
        qint64 value;
    };
    const Expectation expectations[] = {
        {"synchronous", 2}, // FULL
        {"foreign_keys", 1},
        {"busy_timeout", settings.sqliteBusyTimeout.count()},
    };
    for (const Expectation &expected : expectations) {
        const QString statement = QStringLiteral("PRAGMA %1").arg(QLatin1StringView(expected.pragma));
        const Expected<QVariant, QString> value = scalar(database, statement);
        if (!value)
            return value.error();
        if (value->toLongLong() != expected.value) {
            return QStringLiteral("PRAGMA %1 is %2 after setting it to %3")
                .arg(QLatin1StringView(expected.pragma), value->toString())
                .arg(expected.value);
        }
    }
    return std::nullopt;
}

std::optional<QString> openPostgreSql(Connection &connection, const DatabaseUrl &url,
                                      const ConnectionSettings &settings, QStringView purpose)
{
    // QPSQL joins the options into libpq's conninfo after turning every ';' into a space, so values are
    // quoted for libpq and may not contain ';' themselves.
    QStringList options;
    for (const auto &[key, value] : url.options) {
        if (value.contains(u';'))
            return QStringLiteral("option \"%1\": the Qt PostgreSQL driver cannot pass a \";\" in a value").arg(key);
        options.append(key + u'=' + conninfoQuoted(value));
    }
    if (url.option(u"connect_timeout").isEmpty())
        options.append(QStringLiteral("connect_timeout=%1").arg(settings.postgresqlConnectTimeout.count()));
    if (url.option(u"application_name").isEmpty())
        options.append(QStringLiteral("application_name=")
                       + conninfoQuoted(QStringLiteral("bourse-") + purpose.toString()));

    QSqlDatabase &database = connection.database();
    database.setHostName(url.host);
    database.setPort(url.port);
    database.setUserName(url.user);
    database.setPassword(url.password);
    database.setDatabaseName(url.databaseName);
    database.setConnectOptions(options.join(u';'));
    if (!database.open())
        return errorLine(database.lastError());

    const Expected<QVariant, QString> version
        = scalar(database, QStringLiteral("SELECT current_setting('server_version_num')::integer"));
    if (!version)
        return version.error();
    if (version->toInt() < kMinimumPostgreSqlVersionNum) {
        return QStringLiteral("PostgreSQL %1 is too old; bourse needs 12 or newer").arg(version->toInt());
    }
    // A commit must be on the server's disk before the venue acknowledges anything; the server's default
    // may say otherwise. NOTICEs ("relation already exists, skipping") would reach stderr through libpq.
    for (const char *statement : {"SET synchronous_commit TO on", "SET client_min_messages TO warning"}) {
        if (std::optional<QString> error = connection.execute(QString::fromLatin1(statement)))
            return QStringLiteral("%1: %2").arg(QLatin1StringView(statement), *error);
    }
    const Expected<QVariant, QString> synchronousCommit
        = scalar(database, QStringLiteral("SELECT current_setting('synchronous_commit')"));
    if (!synchronousCommit)
        return synchronousCommit.error();
    if (synchronousCommit->toString() != u"on")
        return QStringLiteral("synchronous_commit is \"%1\" after setting it to on").arg(synchronousCommit->toString());
    const Expected<QVariant, QString> fsync = scalar(database, QStringLiteral("SELECT current_setting('fsync')"));
    if (fsync && fsync->toString() != u"on") {
        qCWarning(lcSql).noquote() << "the PostgreSQL server runs with fsync off: a crash of its machine can lose"
                                   << "acknowledged orders" << url.toString();
    }
    return std::nullopt;
}

} // namespace

QString errorLine(const QSqlError &error)
{
    QString text = foldLines(error.databaseText());
    if (text.isEmpty())
        text = foldLines(error.driverText());
    if (text.isEmpty())
        text = QStringLiteral("unknown database error");
    return text;
}

Connection::Connection(QString name, DatabaseUrl::Driver driver, QString description)
    : m_name(std::move(name))
    , m_driver(driver)
    , m_description(std::move(description))
    , m_thread(QThread::currentThread())
{}

Connection::Connection(Connection &&other) noexcept
    : m_name(std::exchange(other.m_name, QString()))
    , m_driver(other.m_driver)
    , m_description(std::move(other.m_description))
    , m_thread(std::exchange(other.m_thread, nullptr))
    , m_database(std::exchange(other.m_database, QSqlDatabase()))
{}

Connection &Connection::operator=(Connection &&other) noexcept
{
    if (this != &other) {
        release();
        m_name = std::exchange(other.m_name, QString());
        m_driver = other.m_driver;
        m_description = std::move(other.m_description);
        m_thread = std::exchange(other.m_thread, nullptr);
        m_database = std::exchange(other.m_database, QSqlDatabase());
    }
    return *this;
}

Connection::~Connection()
{
    release();
}

void Connection::release()
{
    if (m_name.isEmpty())
        return;
    Q_ASSERT_X(m_thread == QThread::currentThread(), "bourse::sql::Connection",
               "a connection must be closed on the thread that opened it");
    m_database.close();
    m_database = QSqlDatabase(); // the last handle must be gone before the name is removed
    QSqlDatabase::removeDatabase(m_name);
    m_name.clear();
}

QSqlDatabase &Connection::database()
{
    Q_ASSERT_X(m_thread == QThread::currentThread(), "bourse::sql::Connection",
               "a connection is used on the thread that opened it only");
    return m_database;
}

std::optional<QString> Connection::execute(const QString &statement)
{
    QSqlQuery query(database());
    if (!query.exec(statement))
        return errorLine(query.lastError());
    return std::nullopt;
}

ConnectionFactory::ConnectionFactory(DatabaseUrl url, ConnectionSettings settings)
    : m_url(std::move(url))
    , m_settings(settings)
{}

Expected<Connection, QString> ConnectionFactory::open(QStringView purpose) const
{
    const QString name = QStringLiteral("bourse.%1.%2").arg(purpose).arg(++g_connectionCount);
    const bool sqlite = m_url.driver == DatabaseUrl::Driver::Sqlite;
    if (!QSqlDatabase::isDriverAvailable(sqlite ? kSqliteDriver : kPostgreSqlDriver)) {
        return unexpected(sqlite ? QStringLiteral("the Qt SQLite driver (QSQLITE) is not installed; on Debian: "
                                                  "libqt6sql6-sqlite")
                                 : QStringLiteral("the Qt PostgreSQL driver (QPSQL) is not installed; on Debian: "
                                                  "libqt6sql6-psql"));
    }
    Connection connection(name, m_url.driver, m_url.toString());
    // On any failure below `connection` goes out of scope and takes the name with it.
    connection.m_database = QSqlDatabase::addDatabase(sqlite ? kSqliteDriver : kPostgreSqlDriver, name);
    const std::optional<QString> error = sqlite ? openSqlite(connection, m_url, m_settings)
                                                : openPostgreSql(connection, m_url, m_settings, purpose);
    if (error)
        return unexpected(
            QStringLiteral("%1: %2").arg(connection.description(), withoutPassword(*error, m_url.password)));
    qCDebug(lcSql).noquote() << "opened" << name << "to" << connection.description();
    return connection;
}

} // namespace bourse::sql
