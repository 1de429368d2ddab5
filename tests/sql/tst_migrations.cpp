// Tests of the schema migrations, each against SQLite and a real PostgreSQL 15 (a private cluster per
// run): how a file is cut into statements; the files compiled in are the files of the source tree; a fresh
// database gets every table and index, with the same columns in both dialects and constraints that refuse
// what cannot happen; running again changes nothing; a changed, renamed, newer or missing migration is
// refused, naming it, and changes nothing; a failing migration leaves no trace; concurrent migrators apply
// each migration once, and on PostgreSQL wait for the advisory lock.
#include "connection.h"
#include "migrations.h"
#include "test_databases.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QMap>
#include <QScopeGuard>
#include <QSemaphore>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <memory>

using bourse::sql::applyMigrations;
using bourse::sql::Connection;
using bourse::sql::ConnectionFactory;
using bourse::sql::DatabaseUrl;
using bourse::sql::Migration;
using bourse::sql::MigrationReport;
using bourse::sql::MigrationSet;
using bourse::sql::splitStatements;
using bourse::test::TestDatabases;

using Driver = DatabaseUrl::Driver;
using FileMap = QMap<QString, QByteArray>; // file name → content

Q_DECLARE_METATYPE(FileMap)

namespace {

const QStringList kTables = {
    "assets", "audit_log",        "balances",          "candles",  "commands",  "events", "instruments",
    "orders", "refresh_families", "schema_migrations", "settings", "snapshots", "trades", "users",
};

// Every named index once all migrations ran, by name: "table (columns)", " partial" for a partial index.
// Each serves a query of sql/repositories.cpp (tst_repositories checks which); orders and trades have no other.
const QMap<QString, QString> kIndexes = {
    {"audit_log_at", "audit_log (at_ns DESC)"},
    {"orders_user_client_order_id", "orders (user_id, client_order_id)"},
    {"orders_user_id", "orders (user_id, id)"},
    {"orders_user_instrument_id", "orders (user_id, instrument_id, id)"},
    {"orders_user_open_id", "orders (user_id, id, instrument_id, status) partial"},
    {"refresh_families_expires", "refresh_families (expires_at_ns)"},
    {"refresh_families_user", "refresh_families (user_id)"},
    {"snapshots_command_seq", "snapshots (command_seq DESC)"},
    {"trades_instrument_time_id", "trades (instrument_id, time_ns, id)"},
    {"trades_maker_user_id", "trades (maker_user_id, id DESC)"},
    {"trades_taker_user_id", "trades (taker_user_id, id DESC)"},
    {"users_username_folded", "users (lower(username))"},
};

QString dialectDir(Driver driver)
{
    return QStringLiteral(BOURSE_SOURCE_DIR "/sql/migrations/") + TestDatabases::driverName(driver);
}

// Rows of a query as text, columns joined by '|'.
QStringList rows(Connection &connection, const QString &statement)
{
    QSqlQuery query(connection.database());
    query.setForwardOnly(true);
    if (!query.exec(statement)) {
        qWarning("%s: %s", qPrintable(statement), qPrintable(query.lastError().text()));
        return {QStringLiteral("<error>")};
    }
    QStringList result;
    while (query.next()) {
        QStringList columns;
        for (int i = 0; i < query.record().count(); ++i)
            columns.append(query.value(i).toString());
        result.append(columns.join(u'|'));
    }
    return result;
}

QStringList tables(Connection &connection)
{
    QStringList names = connection.driver() == Driver::Sqlite
                            ? rows(connection, QStringLiteral("SELECT name FROM sqlite_master WHERE type = 'table' "
                                                              "AND name NOT LIKE 'sqlite_%'"))
                            : rows(connection, QStringLiteral("SELECT table_name FROM information_schema.tables "
                                                              "WHERE table_schema = 'public'"));
    names.sort();
    return names;
}

// The named indexes (not those behind primary keys and UNIQUE), as "table (column [DESC], ...)", followed by
// " partial" for an index with a WHERE clause (whose text the two dialects spell differently).
QMap<QString, QString> indexes(Connection &connection)
{
    QMap<QString, QString> result;
    if (connection.driver() == Driver::Sqlite) {
        for (const QString &row : rows(connection, QStringLiteral("SELECT name, tbl_name, sql LIKE '% WHERE %', sql "
                                                                  "FROM sqlite_master WHERE type = 'index' AND sql IS "
                                                                  "NOT NULL"))) {
            const QString name = row.section(u'|', 0, 0);
            const QString statement = row.section(u'|', 3);
            QStringList columns;
            for (const QString &column :
                 rows(connection, QStringLiteral("SELECT name, desc, cid FROM pragma_index_xinfo('%1') "
                                                 "WHERE key = 1 ORDER BY seqno")
                                      .arg(name))) {
                // An expression (cid -2) has no name: read from the index's statement, whose only key it is
                // (users_username_folded, 0003), as PostgreSQL's indexdef shows it.
                const bool expression = column.section(u'|', 2, 2) == u"-2";
                columns.append(
                    (expression ? statement.mid(statement.indexOf(u'(') + 1).chopped(1) : column.section(u'|', 0, 0))
                    + (column.section(u'|', 1, 1) == u"1" ? QStringLiteral(" DESC") : QString()));
            }
            result.insert(name, row.section(u'|', 1, 1) + QStringLiteral(" (") + columns.join(QStringLiteral(", "))
                                    + u')' + (row.section(u'|', 2, 2) == u"1" ? QStringLiteral(" partial") : QString()));
        }
        return result;
    }
    for (const QString &row :
         rows(connection, QStringLiteral("SELECT i.indexname, i.tablename, i.indexdef FROM pg_indexes i "
                                         "WHERE i.schemaname = 'public' AND NOT EXISTS (SELECT 1 FROM "
                                         "pg_constraint c WHERE c.conname = i.indexname)"))) {
        const QString definition = row.section(u'|', 2);
        const qsizetype open = definition.indexOf(QStringLiteral(" USING btree ("));
        QString columns = definition.mid(open + 14).chopped(1);
        const qsizetype predicate = columns.indexOf(QStringLiteral(") WHERE "));
        if (predicate >= 0)
            columns.truncate(predicate);
        result.insert(row.section(u'|', 0, 0), row.section(u'|', 1, 1) + QStringLiteral(" (") + columns + u')'
                                                   + (predicate >= 0 ? QStringLiteral(" partial") : QString()));
    }
    return result;
}

// Per table: "column NOT NULL|NULL [PK n]", in column order; how both dialects must agree.
QMap<QString, QStringList> columns(Connection &connection)
{
    QMap<QString, QStringList> result;
    for (const QString &table : tables(connection)) {
        const QStringList described
            = connection.driver() == Driver::Sqlite
                  ? rows(connection, QStringLiteral("SELECT name, \"notnull\" = 1 OR pk > 0, pk FROM "
                                                    "pragma_table_info('%1') ORDER BY cid")
                                         .arg(table))
                  : rows(connection, QStringLiteral("SELECT c.column_name, c.is_nullable = 'NO', "
                                                    "coalesce(k.ordinal_position, 0) FROM information_schema.columns c "
                                                    "LEFT JOIN information_schema.table_constraints t ON "
                                                    "t.table_name = c.table_name AND t.constraint_type = 'PRIMARY KEY' "
                                                    "LEFT JOIN information_schema.key_column_usage k ON "
                                                    "k.constraint_name = t.constraint_name AND k.column_name = "
                                                    "c.column_name WHERE c.table_schema = 'public' AND c.table_name = "
                                                    "'%1' ORDER BY c.ordinal_position")
                                         .arg(table));
        QStringList normalized;
        for (const QString &column : described) {
            const QStringList parts = column.split(u'|');
            const bool notNull = parts.value(1) == u"1" || parts.value(1) == u"true";
            normalized.append(parts.value(0) + (notNull ? QStringLiteral(" NOT NULL") : QStringLiteral(" NULL"))
                              + (parts.value(2) == u"0" ? QString() : QStringLiteral(" PK ") + parts.value(2)));
        }
        result.insert(table, normalized);
    }
    return result;
}

bool writeFiles(const QString &directory, const FileMap &files)
{
    for (auto it = files.begin(); it != files.end(); ++it) {
        QFile file(directory + u'/' + it.key());
        if (!file.open(QIODevice::WriteOnly) || file.write(it.value()) != it.value().size())
            return false;
    }
    return true;
}

QByteArray builtInFile(Driver driver)
{
    QFile file(dialectDir(driver) + QStringLiteral("/0001_initial.sql"));
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

} // namespace

class tst_Migrations final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();

    void splitsStatements_data();
    void splitsStatements();
    void refusesBadStatements_data();
    void refusesBadStatements();
    void builtInIsTheSourceTree_data();
    void builtInIsTheSourceTree();
    void refusesBadDirectories_data();
    void refusesBadDirectories();

    void freshDatabase_data();
    void freshDatabase();
    void dialectsAgree();
    void constraints_data();
    void constraints();
    void rerunIsNoOp_data() { freshDatabase_data(); }
    void rerunIsNoOp();
    void appliesOnlyWhatIsNew_data() { freshDatabase_data(); }
    void appliesOnlyWhatIsNew();
    void refusesChangedHistory_data();
    void refusesChangedHistory();
    void failedMigrationLeavesNoTrace_data() { freshDatabase_data(); }
    void failedMigrationLeavesNoTrace();
    void concurrentMigratorsApplyOnce_data() { freshDatabase_data(); }
    void concurrentMigratorsApplyOnce();
    void waitsForTheAdvisoryLock();

private:
    // A fresh database and an open connection to it, or a failed test.
    std::optional<Connection> open(const DatabaseUrl &url);
    MigrationSet builtIn(Driver driver);
    // 0001_initial plus `extra` files, read from a temporary directory.
    MigrationSet extended(Driver driver, const FileMap &extra);
    // 0001_initial alone: the release that the tests of later migrations start from, whatever the tree has.
    MigrationSet initialOnly(Driver driver) { return extended(driver, {}); }

    std::unique_ptr<TestDatabases> m_databases;
    std::optional<Connection> m_constraintConnections[2]; // SQLite, PostgreSQL
    int m_setCount = 0;
};

void tst_Migrations::initTestCase()
{
    QElapsedTimer timer;
    timer.start();
    auto databases = TestDatabases::create();
    QVERIFY2(databases.hasValue(), qPrintable(databases.hasValue() ? QString() : databases.error()));
    m_databases = std::move(databases.value());
    qInfo("PostgreSQL 15 cluster on 127.0.0.1:%d, started in %lld ms", m_databases->cluster().port(), timer.elapsed());
}

void tst_Migrations::cleanupTestCase()
{
    for (std::optional<Connection> &connection : m_constraintConnections)
        connection.reset();
    m_databases.reset();
}

std::optional<Connection> tst_Migrations::open(const DatabaseUrl &url)
{
    auto connection = ConnectionFactory(url).open(u"test");
    if (!connection) {
        qWarning("%s", qPrintable(connection.error()));
        return std::nullopt;
    }
    return std::move(connection.value());
}

MigrationSet tst_Migrations::builtIn(Driver driver)
{
    auto set = MigrationSet::builtIn(driver);
    if (!set)
        qFatal("%s", qPrintable(set.error()));
    return *set;
}

MigrationSet tst_Migrations::extended(Driver driver, const FileMap &extra)
{
    FileMap files = extra;
    files.insert(QStringLiteral("0001_initial.sql"), builtInFile(driver));
    const QString directory = m_databases->directory() + QStringLiteral("/set-%1").arg(++m_setCount);
    if (!QDir().mkpath(directory) || !writeFiles(directory, files))
        qFatal("cannot write %s", qPrintable(directory));
    auto set = MigrationSet::fromDirectory(directory);
    if (!set)
        qFatal("%s", qPrintable(set.error()));
    return *set;
}

void tst_Migrations::splitsStatements_data()
{
    QTest::addColumn<QString>("script");
    QTest::addColumn<QStringList>("statements");

    QTest::newRow("empty") << "" << QStringList{};
    QTest::newRow("comments only") << "-- one\n  -- two\n\n" << QStringList{};
    QTest::newRow("one line") << "CREATE TABLE a (x INTEGER);\n" << QStringList{"CREATE TABLE a (x INTEGER)"};
    QTest::newRow("no final newline") << "SELECT 1;" << QStringList{"SELECT 1"};
    QTest::newRow("several lines, indentation kept") << "CREATE TABLE a (\n    x INTEGER,\n    y TEXT\n);\n"
                                                     << QStringList{"CREATE TABLE a (\n    x INTEGER,\n    y TEXT\n)"};
    QTest::newRow("comments and blank lines between and inside")
        << "-- header\n\nCREATE TABLE a (\n    -- the x\n    x INTEGER\n\n);\n  -- indented\nCREATE INDEX i ON a (x);\n"
        << QStringList{"CREATE TABLE a (\n    x INTEGER\n)", "CREATE INDEX i ON a (x)"};
    QTest::newRow("CRLF and trailing blanks") << "SELECT 1;\r\nSELECT 2; \t\r\n" << QStringList{"SELECT 1", "SELECT 2"};
    QTest::newRow("';' inside a line") << "INSERT INTO a VALUES ('x;y');\n"
                                       << QStringList{"INSERT INTO a VALUES ('x;y')"};
}

void tst_Migrations::splitsStatements()
{
    QFETCH(QString, script);
    QFETCH(QStringList, statements);
    const auto split = splitStatements(script);
    QVERIFY2(split.hasValue(), qPrintable(split.hasValue() ? QString() : split.error()));
    QCOMPARE(*split, statements);
}

void tst_Migrations::refusesBadStatements_data()
{
    QTest::addColumn<QString>("script");
    QTest::addColumn<QString>("error");

    QTest::newRow("no ';'") << "CREATE TABLE a (x INTEGER)\n"
                            << "line 1: the statement that starts here has no line ending with \";\"";
    QTest::newRow("the last one unterminated")
        << "SELECT 1;\n\n-- two\nSELECT\n  2\n"
        << "line 4: the statement that starts here has no line ending with \";\"";
    QTest::newRow("a comment after ';'") << "SELECT 1; -- one\n"
                                         << "line 1: the statement that starts here has no line ending with \";\"";
    QTest::newRow("empty statement") << "SELECT 1;\n  ;\n"
                                     << "line 2: an empty statement";
}

void tst_Migrations::refusesBadStatements()
{
    QFETCH(QString, script);
    QFETCH(QString, error);
    const auto split = splitStatements(script);
    QVERIFY(!split.hasValue());
    QCOMPARE(split.error(), error);
}

void tst_Migrations::builtInIsTheSourceTree_data()
{
    QTest::addColumn<Driver>("driver");
    QTest::newRow("sqlite") << Driver::Sqlite;
    QTest::newRow("postgresql") << Driver::PostgreSql;
}

void tst_Migrations::builtInIsTheSourceTree()
{
    QFETCH(Driver, driver);
    const auto compiled = MigrationSet::builtIn(driver);
    QVERIFY2(compiled.hasValue(), qPrintable(compiled.hasValue() ? QString() : compiled.error()));
    const auto tree = MigrationSet::fromDirectory(dialectDir(driver));
    QVERIFY2(tree.hasValue(), qPrintable(tree.hasValue() ? QString() : tree.error()));

    QVERIFY(compiled->latestVersion() >= 1);
    QCOMPARE(compiled->latestVersion(), tree->latestVersion());
    for (qsizetype i = 0; i < compiled->migrations().size(); ++i) {
        const Migration &migration = compiled->migrations()[i];
        QCOMPARE(migration.version, int(i + 1));
        QCOMPARE(migration.id(), tree->migrations()[i].id());
        QCOMPARE(migration.checksum, tree->migrations()[i].checksum);
        QCOMPARE(migration.statements, tree->migrations()[i].statements);
        QVERIFY(!migration.statements.isEmpty());
    }
    const Migration &first = compiled->migrations().constFirst();
    QCOMPARE(first.id(), QStringLiteral("0001_initial"));
    QCOMPARE(first.checksum,
             QString::fromLatin1(QCryptographicHash::hash(builtInFile(driver), QCryptographicHash::Sha256).toHex()));
}

void tst_Migrations::refusesBadDirectories_data()
{
    QTest::addColumn<FileMap>("files");
    QTest::addColumn<QString>("error");

    const QByteArray ok = "CREATE TABLE a (x INTEGER);\n";
    QTest::newRow("no number") << FileMap{{"initial.sql", ok}}
                               << "\"initial.sql\" is not named NNNN_name.sql (name: a-z, 0-9, _)";
    QTest::newRow("short number") << FileMap{{"1_initial.sql", ok}}
                                  << "\"1_initial.sql\" is not named NNNN_name.sql (name: a-z, 0-9, _)";
    QTest::newRow("capitals") << FileMap{{"0001_Initial.sql", ok}}
                              << "\"0001_Initial.sql\" is not named NNNN_name.sql (name: a-z, 0-9, _)";
    QTest::newRow("starts at 0002") << FileMap{{"0002_b.sql", ok}}
                                    << "migrations are numbered 0001, 0002, ... without gaps or repeats; expected "
                                       "0001, found \"0002_b.sql\"";
    QTest::newRow("a gap") << FileMap{{"0001_a.sql", ok}, {"0003_c.sql", ok}}
                           << "migrations are numbered 0001, 0002, ... without gaps or repeats; expected 0002, "
                              "found \"0003_c.sql\"";
    QTest::newRow("a repeat") << FileMap{{"0001_a.sql", ok}, {"0001_b.sql", ok}}
                              << "migrations are numbered 0001, 0002, ... without gaps or repeats; expected 0002, "
                                 "found \"0001_b.sql\"";
    QTest::newRow("unterminated statement")
        << FileMap{{"0001_a.sql", "-- a\nCREATE TABLE a (x INTEGER)\n"}}
        << "0001_a.sql: line 2: the statement that starts here has no line ending with \";\"";
    QTest::newRow("no statement") << FileMap{{"0001_a.sql", "-- nothing yet\n"}} << "0001_a.sql: holds no statement";
    QTest::newRow("not UTF-8") << FileMap{{"0001_a.sql", "SELECT '\xff';\n"}} << "0001_a.sql: not UTF-8";
}

void tst_Migrations::refusesBadDirectories()
{
    QFETCH(FileMap, files);
    QFETCH(QString, error);
    QTemporaryDir directory;
    QVERIFY(directory.isValid());
    QVERIFY(writeFiles(directory.path(), files));
    const auto set = MigrationSet::fromDirectory(directory.path());
    QVERIFY(!set.hasValue());
    QCOMPARE(set.error(), error);

    // Other files beside the migrations are no concern of theirs.
    QTemporaryDir good;
    QVERIFY(
        writeFiles(good.path(), {{"0001_a.sql", "SELECT 1;\n"}, {".gitattributes", "*.sql text\n"}, {"README", "x"}}));
    QVERIFY(MigrationSet::fromDirectory(good.path()).hasValue());
    QCOMPARE(MigrationSet::fromDirectory(directory.path() + QStringLiteral("/none")).error(),
             QStringLiteral("no migrations directory \"%1/none\"").arg(directory.path()));
}

void tst_Migrations::freshDatabase_data()
{
    QTest::addColumn<Driver>("driver");
    QTest::newRow("sqlite") << Driver::Sqlite;
    QTest::newRow("postgresql") << Driver::PostgreSql;
}

void tst_Migrations::freshDatabase()
{
    QFETCH(Driver, driver);
    const auto url = m_databases->fresh(driver);
    QVERIFY(url.hasValue());
    std::optional<Connection> connection = open(*url);
    QVERIFY(connection);
    QCOMPARE(tables(*connection), QStringList{});

    const MigrationSet set = builtIn(driver);
    const qint64 before = QDateTime::currentMSecsSinceEpoch();
    const auto report = applyMigrations(*connection, set);
    QVERIFY2(report.hasValue(), qPrintable(report.hasValue() ? QString() : report.error()));
    QCOMPARE(report->fromVersion, 0);
    QCOMPARE(report->toVersion, set.latestVersion());
    QStringList ids;
    for (const Migration &migration : set.migrations())
        ids.append(migration.id());
    QCOMPARE(report->applied, ids);

    QCOMPARE(tables(*connection), kTables);
    QCOMPARE(indexes(*connection), kIndexes);

    const QStringList recorded
        = rows(*connection,
               QStringLiteral("SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version"));
    QCOMPARE(recorded.size(), set.migrations().size());
    for (qsizetype i = 0; i < recorded.size(); ++i) {
        const QStringList row = recorded[i].split(u'|');
        const Migration &migration = set.migrations()[i];
        QCOMPARE(row.value(0), QString::number(migration.version));
        QCOMPARE(row.value(1), migration.name);
        QCOMPARE(row.value(2), migration.checksum);
        const QDateTime appliedAt = QDateTime::fromString(row.value(3), Qt::ISODateWithMs);
        QVERIFY2(appliedAt.isValid() && row.value(3).endsWith(u'Z'), qPrintable(row.value(3)));
        QVERIFY(appliedAt.toMSecsSinceEpoch() >= before - 1000);
    }
}

void tst_Migrations::dialectsAgree()
{
    const auto sqliteUrl = m_databases->freshMigrated(Driver::Sqlite);
    const auto postgresqlUrl = m_databases->freshMigrated(Driver::PostgreSql);
    QVERIFY2(sqliteUrl.hasValue(), qPrintable(sqliteUrl.hasValue() ? QString() : sqliteUrl.error()));
    QVERIFY2(postgresqlUrl.hasValue(), qPrintable(postgresqlUrl.hasValue() ? QString() : postgresqlUrl.error()));
    std::optional<Connection> sqlite = open(*sqliteUrl);
    std::optional<Connection> postgresql = open(*postgresqlUrl);
    QVERIFY(sqlite && postgresql);

    const QMap<QString, QStringList> sqliteColumns = columns(*sqlite);
    const QMap<QString, QStringList> postgresqlColumns = columns(*postgresql);
    QCOMPARE(sqliteColumns.keys(), kTables);
    for (const QString &table : kTables) {
        QVERIFY2(!sqliteColumns.value(table).isEmpty(), qPrintable(table));
        if (sqliteColumns.value(table) != postgresqlColumns.value(table)) {
            qWarning("sqlite     %s: %s", qPrintable(table), qPrintable(sqliteColumns.value(table).join(", ")));
            qWarning("postgresql %s: %s", qPrintable(table), qPrintable(postgresqlColumns.value(table).join(", ")));
        }
        QCOMPARE(sqliteColumns.value(table), postgresqlColumns.value(table));
    }
    QCOMPARE(indexes(*sqlite), indexes(*postgresql));
}

void tst_Migrations::constraints_data()
{
    QTest::addColumn<Driver>("driver");
    QTest::addColumn<QStringList>("setup"); // must succeed
    QTest::addColumn<QString>("statement");
    QTest::addColumn<bool>("accepted");

    const QStringList assets = {"INSERT INTO assets (id, code) VALUES (0, 'BTC')",
                                "INSERT INTO assets (id, code) VALUES (1, 'USD')"};
    const QString instrument = "INSERT INTO instruments (id, symbol, base_asset, quote_asset, tick_size, lot_size, "
                               "min_quantity, status, created_at_ns, updated_at_ns) VALUES ";
    const QString order = "INSERT INTO orders (id, user_id, instrument_id, client_order_id, side, type, time_in_force, "
                          "post_only, stp, price, quantity, filled_quantity, filled_notional, status, created_at_ns, "
                          "updated_at_ns, seq) VALUES ";
    const QString trade = "INSERT INTO trades (id, instrument_id, price, quantity, taker_side, maker_order_id, "
                          "taker_order_id, maker_user_id, taker_user_id, seq, time_ns) VALUES ";
    const QString candle = "INSERT INTO candles (instrument_id, interval_s, start_ns, open, high, low, close, volume, "
                           "trades) VALUES ";
    const QString user = "INSERT INTO users (username, password_hash, role, created_at_ns, updated_at_ns) VALUES ";
    const QString family = "INSERT INTO refresh_families (id, user_id, current_token_hash, created_at_ns, "
                           "expires_at_ns) VALUES ";
    const QString command = "INSERT INTO commands (seq, time_ns, type, first_event_seq, last_event_seq, payload, "
                            "checksum) VALUES ";

    struct Case
    {
        const char *name;
        QStringList setup;
        QString statement;
        bool accepted;
    };
    const QList<Case> cases = {
        {"instrument", assets, instrument + "(0, 'BTC-USD', 0, 1, 1000000, 10000, 10000, 'trading', 5, 5)", true},
        {"instrument of an unknown asset", assets,
         instrument + "(0, 'BTC-EUR', 0, 7, 1000000, 10000, 10000, 'trading', 5, 5)", false},
        {"instrument base = quote", assets, instrument + "(0, 'BTC-BTC', 0, 0, 1000000, 10000, 10000, 'trading', 5, 5)",
         false},
        {"instrument min quantity off lot", assets,
         instrument + "(0, 'BTC-USD', 0, 1, 1000000, 10000, 15000, 'trading', 5, 5)", false},
        {"instrument status unknown", assets,
         instrument + "(0, 'BTC-USD', 0, 1, 1000000, 10000, 10000, 'paused', 5, 5)", false},
        {"asset code too long", {}, "INSERT INTO assets (id, code) VALUES (0, 'ABCDEFGHIJKLMNOPQ')", false},
        {"open limit order",
         {},
         order + "(1, 7, 0, 'c-1', 'buy', 'limit', 'gtc', TRUE, 'expire_taker', 100, 5, 0, 0, 'new', 1, 1, 3)",
         true},
        {"market order",
         {},
         order + "(1, 7, 0, NULL, 'sell', 'market', 'ioc', FALSE, 'none', NULL, 5, 5, 500, 'filled', 1, 1, 3)",
         true},
        {"partially filled",
         {},
         order + "(1, 7, 0, NULL, 'buy', 'limit', 'gtc', FALSE, 'expire_both', 100, 5, 2, 200, 'partially_filled', 1, 2, 3)",
         true},
        {"order status unknown",
         {},
         order + "(1, 7, 0, NULL, 'buy', 'limit', 'gtc', FALSE, 'none', 100, 5, 0, 0, 'open', 1, 1, 3)",
         false},
        {"order side unknown",
         {},
         order + "(1, 7, 0, NULL, 'long', 'limit', 'gtc', FALSE, 'none', 100, 5, 0, 0, 'new', 1, 1, 3)",
         false},
        // Every value of the enum columns is accepted, and one more is not (SQLite spells these CHECKs as OR
        // chains, PostgreSQL as IN lists).
        {"fok order expired",
         {},
         order + "(1, 7, 0, NULL, 'sell', 'limit', 'fok', FALSE, 'expire_maker', 100, 5, 0, 0, 'expired', 1, 1, 3)",
         true},
        {"cancelled order",
         {},
         order + "(1, 7, 0, NULL, 'buy', 'limit', 'gtc', FALSE, 'expire_both', 100, 5, 2, 200, 'cancelled', 1, 2, 3)",
         true},
        {"order type unknown",
         {},
         order + "(1, 7, 0, NULL, 'buy', 'stop', 'ioc', FALSE, 'none', 100, 5, 0, 0, 'new', 1, 1, 3)",
         false},
        {"time in force unknown",
         {},
         order + "(1, 7, 0, NULL, 'buy', 'limit', 'gtd', FALSE, 'none', 100, 5, 0, 0, 'new', 1, 1, 3)",
         false},
        {"stp unknown",
         {},
         order + "(1, 7, 0, NULL, 'buy', 'limit', 'gtc', FALSE, 'expire_all', 100, 5, 0, 0, 'new', 1, 1, 3)",
         false},
        {"post-only neither 0 nor 1",
         {},
         order + "(1, 7, 0, NULL, 'buy', 'limit', 'gtc', 2, 'none', 100, 5, 0, 0, 'new', 1, 1, 3)",
         false},
        {"limit order without price",
         {},
         order + "(1, 7, 0, NULL, 'buy', 'limit', 'gtc', FALSE, 'none', NULL, 5, 0, 0, 'new', 1, 1, 3)",
         false},
        {"market order with price",
         {},
         order + "(1, 7, 0, NULL, 'buy', 'market', 'ioc', FALSE, 'none', 100, 5, 0, 0, 'new', 1, 1, 3)",
         false},
        {"market order gtc",
         {},
         order + "(1, 7, 0, NULL, 'buy', 'market', 'gtc', FALSE, 'none', NULL, 5, 0, 0, 'new', 1, 1, 3)",
         false},
        {"post-only ioc",
         {},
         order + "(1, 7, 0, NULL, 'buy', 'limit', 'ioc', TRUE, 'none', 100, 5, 0, 0, 'new', 1, 1, 3)",
         false},
        {"zero quantity",
         {},
         order + "(1, 7, 0, NULL, 'buy', 'limit', 'gtc', FALSE, 'none', 100, 0, 0, 0, 'new', 1, 1, 3)",
         false},
        {"filled more than quantity",
         {},
         order + "(1, 7, 0, NULL, 'buy', 'limit', 'gtc', FALSE, 'none', 100, 5, 6, 600, 'filled', 1, 1, 3)",
         false},
        {"filled but not all",
         {},
         order + "(1, 7, 0, NULL, 'buy', 'limit', 'gtc', FALSE, 'none', 100, 5, 4, 400, 'filled', 1, 1, 3)",
         false},
        {"cancelled yet all filled",
         {},
         order + "(1, 7, 0, NULL, 'buy', 'limit', 'gtc', FALSE, 'none', 100, 5, 5, 500, 'cancelled', 1, 1, 3)",
         false},
        {"new with a fill",
         {},
         order + "(1, 7, 0, NULL, 'buy', 'limit', 'gtc', FALSE, 'none', 100, 5, 1, 100, 'new', 1, 1, 3)",
         false},
        {"partially filled with none",
         {},
         order + "(1, 7, 0, NULL, 'buy', 'limit', 'gtc', FALSE, 'none', 100, 5, 0, 0, 'partially_filled', 1, 1, 3)",
         false},
        {"empty client order id",
         {},
         order + "(1, 7, 0, '', 'buy', 'limit', 'gtc', FALSE, 'none', 100, 5, 0, 0, 'new', 1, 1, 3)",
         false},
        {"client order id of 65",
         {},
         order + "(1, 7, 0, '" + QString(65, u'x')
             + "', 'buy', 'limit', 'gtc', FALSE, 'none', 100, 5, 0, 0, 'new', 1, 1, 3)",
         false},
        {"a price that is text",
         {},
         order + "(1, 7, 0, NULL, 'buy', 'limit', 'gtc', FALSE, 'none', 'cheap', 5, 0, 0, 'new', 1, 1, 3)",
         false},
        {"trade", {}, trade + "(1, 0, 100, 5, 'buy', 1, 2, 7, 7, 9, 10)", true},
        {"trade with itself", {}, trade + "(1, 0, 100, 5, 'buy', 1, 1, 7, 7, 9, 10)", false},
        {"trade taken by a sell", {}, trade + "(1, 0, 100, 5, 'sell', 1, 2, 7, 7, 9, 10)", true},
        {"trade side unknown", {}, trade + "(1, 0, 100, 5, 'short', 1, 2, 7, 7, 9, 10)", false},
        {"balance", {}, "INSERT INTO balances VALUES (7, 0, 0, 100, 3)", true},
        {"negative balance", {}, "INSERT INTO balances VALUES (7, 0, -1, 100, 3)", false},
        {"balance twice",
         {"INSERT INTO balances VALUES (7, 0, 0, 100, 3)"},
         "INSERT INTO balances VALUES (7, 0, 5, 0, 4)",
         false},
        {"candle", {}, candle + "(0, 60, 120000000000, 10, 12, 9, 11, 5, 2)", true},
        {"candle high below low", {}, candle + "(0, 60, 120000000000, 10, 8, 9, 10, 5, 2)", false},
        {"candle off its interval", {}, candle + "(0, 60, 120000000001, 10, 12, 9, 11, 5, 2)", false},
        {"user", {}, user + "('alice', 'argon2id-hash', 'trader', 1, 1)", true},
        {"user role unknown", {}, user + "('alice', 'argon2id-hash', 'root', 1, 1)", false},
        {"username too short", {}, user + "('al', 'argon2id-hash', 'viewer', 1, 1)", false},
        {"username taken", {user + "('alice', 'h', 'trader', 1, 1)"}, user + "('alice', 'h', 'viewer', 2, 2)", false},
        {"refresh family",
         {user + "('alice', 'h', 'trader', 1, 1)"},
         family + "('f-1', (SELECT id FROM users), 'hash', 1, 2)",
         true},
        {"refresh family of nobody", {}, family + "('f-1', 42, 'hash', 1, 2)", false},
        {"setting by nobody",
         {},
         "INSERT INTO settings (key, value, updated_at_ns, updated_by) VALUES ('k', 'v', 1, 42)",
         false},
        {"setting by the venue", {}, "INSERT INTO settings (key, value, updated_at_ns) VALUES ('k', 'v', 1)", true},
        {"audit entry", {}, "INSERT INTO audit_log (at_ns, actor, action) VALUES (1, 'system', 'start')", true},
        {"audit entry without actor", {}, "INSERT INTO audit_log (at_ns, action) VALUES (1, 'start')", false},
        {"command without events", {}, command + "(1, 5, 2, 0, 0, X'00', 7)", true},
        {"command with half an event range", {}, command + "(1, 5, 2, 0, 3, X'00', 7)", false},
        {"event numbered 0",
         {},
         "INSERT INTO events (seq, command_seq, time_ns, type, payload, checksum) VALUES (0, 1, 5, 2, X'00', 7)",
         false},
    };
    for (const Driver driver : {Driver::Sqlite, Driver::PostgreSql}) {
        for (const Case &c : cases) {
            QString statement = c.statement;
            if (driver == Driver::PostgreSql)
                statement.replace(QStringLiteral("X'00'"), QStringLiteral("'\\x00'::bytea"));
            QTest::addRow("%s, %s", qPrintable(TestDatabases::driverName(driver)), c.name)
                << driver << c.setup << statement << c.accepted;
        }
    }
}

void tst_Migrations::constraints()
{
    QFETCH(Driver, driver);
    QFETCH(QStringList, setup);
    QFETCH(QString, statement);
    QFETCH(bool, accepted);

    // One migrated database per driver; each row runs in a transaction that is rolled back.
    std::optional<Connection> &connection = m_constraintConnections[driver == Driver::Sqlite ? 0 : 1];
    if (!connection) {
        const auto url = m_databases->freshMigrated(driver);
        QVERIFY2(url.hasValue(), qPrintable(url.hasValue() ? QString() : url.error()));
        connection = open(*url);
        QVERIFY(connection);
    }
    QCOMPARE(connection->execute(QStringLiteral("BEGIN")), std::nullopt);
    const auto rollback = qScopeGuard([&] { connection->execute(QStringLiteral("ROLLBACK")); });
    // Deferred foreign keys are checked at once: PostgreSQL is told so, SQLite is asked.
    if (driver == Driver::PostgreSql)
        QCOMPARE(connection->execute(QStringLiteral("SET CONSTRAINTS ALL IMMEDIATE")), std::nullopt);
    for (const QString &step : setup)
        QCOMPARE(connection->execute(step), std::nullopt);
    std::optional<QString> error = connection->execute(statement);
    if (!error && driver == Driver::Sqlite && !rows(*connection, QStringLiteral("PRAGMA foreign_key_check")).isEmpty())
        error = QStringLiteral("a foreign key is violated");
    if (error)
        qInfo("refused: %s", qPrintable(*error));
    if (accepted)
        QVERIFY2(!error, qPrintable(error.value_or(QString())));
    else
        QVERIFY2(error, "the database accepted it");
}

void tst_Migrations::rerunIsNoOp()
{
    QFETCH(Driver, driver);
    const auto url = m_databases->fresh(driver);
    QVERIFY(url.hasValue());
    std::optional<Connection> connection = open(*url);
    QVERIFY(connection);
    const MigrationSet set = builtIn(driver);
    QVERIFY(applyMigrations(*connection, set).hasValue());
    const QString recorded = QStringLiteral("SELECT version, name, checksum, applied_at FROM schema_migrations");
    const QStringList before = rows(*connection, recorded);
    const QMap<QString, QStringList> columnsBefore = columns(*connection);

    for (int run = 0; run < 2; ++run) {
        const auto again = applyMigrations(*connection, set);
        QVERIFY2(again.hasValue(), qPrintable(again.hasValue() ? QString() : again.error()));
        QCOMPARE(again->fromVersion, set.latestVersion());
        QCOMPARE(again->toVersion, set.latestVersion());
        QCOMPARE(again->applied, QStringList{});
    }
    // A new connection (a restart) finds nothing to do either.
    connection.reset();
    connection = open(*url);
    QVERIFY(connection);
    const auto restarted = applyMigrations(*connection, set);
    QVERIFY(restarted.hasValue());
    QCOMPARE(restarted->applied, QStringList{});
    QCOMPARE(rows(*connection, recorded), before);
    QCOMPARE(columns(*connection), columnsBefore);
}

void tst_Migrations::appliesOnlyWhatIsNew()
{
    QFETCH(Driver, driver);
    const auto url = m_databases->fresh(driver);
    QVERIFY(url.hasValue());
    std::optional<Connection> connection = open(*url);
    QVERIFY(connection);
    QVERIFY(applyMigrations(*connection, initialOnly(driver)).hasValue());

    const MigrationSet next = extended(driver, {{"0002_watchlists.sql",
                                                 "-- a later release\nCREATE TABLE watchlists (\n"
                                                 "    user_id BIGINT NOT NULL,\n    symbol TEXT NOT NULL\n);\n"
                                                 "CREATE INDEX watchlists_user ON watchlists (user_id);\n"}});
    const auto report = applyMigrations(*connection, next);
    QVERIFY2(report.hasValue(), qPrintable(report.hasValue() ? QString() : report.error()));
    QCOMPARE(report->fromVersion, 1);
    QCOMPARE(report->toVersion, 2);
    QCOMPARE(report->applied, QStringList{"0002_watchlists"});
    QVERIFY(tables(*connection).contains(QStringLiteral("watchlists")));
    QCOMPARE(connection->execute(QStringLiteral("INSERT INTO watchlists VALUES (1, 'BTC-USD')")), std::nullopt);

    // The older binary now meets a newer database, and stops.
    const auto older = applyMigrations(*connection, initialOnly(driver));
    QVERIFY(!older.hasValue());
    QCOMPARE(older.error(), QStringLiteral("the database's schema is at version 2 (0002_watchlists), newer than this "
                                           "bourse knows (latest 0001_initial); run the bourse that migrated it, or a "
                                           "newer one"));
}

void tst_Migrations::refusesChangedHistory_data()
{
    QTest::addColumn<Driver>("driver");
    QTest::addColumn<QString>("change"); // a statement run after migrating; "" for none
    QTest::addColumn<FileMap>("extra");  // files the migrating bourse has beyond 0001_initial
    QTest::addColumn<QString>("error");  // a fragment of the refusal

    for (const Driver driver : {Driver::Sqlite, Driver::PostgreSql}) {
        const QString name = TestDatabases::driverName(driver);
        QTest::addRow("%s, recorded checksum changed", qPrintable(name))
            << driver
            << QString("UPDATE schema_migrations SET checksum = '" + QString(64, u'0') + "' WHERE version = 1")
            << FileMap{}
            << "migration 0001_initial has changed since it was applied (the database recorded sha256 000000000000..., "
               "this bourse has ";
        QTest::addRow("%s, recorded name changed", qPrintable(name))
            << driver << QString("UPDATE schema_migrations SET name = 'first' WHERE version = 1") << FileMap{}
            << "migration 0001 is recorded as \"first\", but this bourse's is 0001_initial; the database was "
               "migrated by a different build";
        QTest::addRow("%s, newer version recorded", qPrintable(name))
            << driver
            << QString("INSERT INTO schema_migrations VALUES (2, 'from_the_future', '" + QString(64, u'a')
                       + "', '2030-01-01T00:00:00.000Z')")
            << FileMap{}
            << "the database's schema is at version 2 (0002_from_the_future), newer than this bourse knows (latest "
               "0001_initial); run the bourse that migrated it, or a newer one";
        QTest::addRow("%s, a version missing", qPrintable(name))
            << driver
            << QString("INSERT INTO schema_migrations VALUES (3, 'c', '" + QString(64, u'c')
                       + "', '2030-01-01T00:00:00.000Z')")
            << FileMap{{"0002_b.sql", "CREATE TABLE b (x INTEGER);\n"}, {"0003_c.sql", "CREATE TABLE c (x INTEGER);\n"}}
            << "the database lacks migration 0002_b but has 0003_c applied; it was not migrated by bourse";
    }
}

void tst_Migrations::refusesChangedHistory()
{
    QFETCH(Driver, driver);
    QFETCH(QString, change);
    QFETCH(FileMap, extra);
    QFETCH(QString, error);

    const auto url = m_databases->fresh(driver);
    QVERIFY(url.hasValue());
    std::optional<Connection> connection = open(*url);
    QVERIFY(connection);
    QVERIFY(applyMigrations(*connection, initialOnly(driver)).hasValue());
    QCOMPARE(connection->execute(change), std::nullopt);
    const QString recorded = QStringLiteral(
        "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version");
    const QStringList before = rows(*connection, recorded);
    const QStringList tablesBefore = tables(*connection);

    const MigrationSet set = extra.isEmpty() ? initialOnly(driver) : extended(driver, extra);
    const auto report = applyMigrations(*connection, set);
    QVERIFY(!report.hasValue());
    QVERIFY2(report.error().contains(error), qPrintable(report.error()));
    QVERIFY(!report.error().contains(u'\n'));
    // Refused means untouched.
    QCOMPARE(rows(*connection, recorded), before);
    QCOMPARE(tables(*connection), tablesBefore);

    // A file changed after release is the same refusal as a changed record.
    if (change.startsWith(u"UPDATE schema_migrations SET checksum")) {
        QTemporaryDir edited;
        QVERIFY(writeFiles(edited.path(), {{"0001_initial.sql", builtInFile(driver) + "-- an innocent comment\n"}}));
        const auto editedSet = MigrationSet::fromDirectory(edited.path());
        QVERIFY(editedSet.hasValue());
        QCOMPARE(connection->execute(QStringLiteral("UPDATE schema_migrations SET checksum = '%1' WHERE version = 1")
                                         .arg(builtIn(driver).migrations().constFirst().checksum)),
                 std::nullopt);
        const auto refused = applyMigrations(*connection, *editedSet);
        QVERIFY(!refused.hasValue());
        QVERIFY2(refused.error().startsWith(QStringLiteral("migration 0001_initial has changed since it was applied")),
                 qPrintable(refused.error()));
    }
}

void tst_Migrations::failedMigrationLeavesNoTrace()
{
    QFETCH(Driver, driver);
    const auto url = m_databases->fresh(driver);
    QVERIFY(url.hasValue());
    std::optional<Connection> connection = open(*url);
    QVERIFY(connection);

    const MigrationSet broken = extended(driver, {{"0002_broken.sql", "CREATE TABLE extra (x INTEGER);\n"
                                                                      "CREATE INDEX extra_x ON extra (x);\n"
                                                                      "CREATE TABLE extra (y INTEGER);\n"}});
    const auto report = applyMigrations(*connection, broken);
    QVERIFY(!report.hasValue());
    QVERIFY2(report.error().startsWith(QStringLiteral("migration 0002_broken failed at statement 3 (CREATE TABLE extra "
                                                      "(y INTEGER)): ")),
             qPrintable(report.error()));
    QVERIFY2(report.error().endsWith(QStringLiteral("; none of it was applied")), qPrintable(report.error()));
    QVERIFY(report.error().contains(u"extra"));
    QVERIFY(!report.error().contains(u'\n'));

    // 0001 committed on its own; nothing of 0002 is left, and the next start applies it whole.
    QCOMPARE(rows(*connection, QStringLiteral("SELECT version FROM schema_migrations")), QStringList{"1"});
    QVERIFY(!tables(*connection).contains(QStringLiteral("extra")));
    QVERIFY(!indexes(*connection).contains(QStringLiteral("extra_x")));
    const MigrationSet fixed = extended(driver, {{"0002_fixed.sql", "CREATE TABLE extra (x INTEGER);\n"}});
    const auto again = applyMigrations(*connection, fixed);
    QVERIFY2(again.hasValue(), qPrintable(again.hasValue() ? QString() : again.error()));
    QCOMPARE(again->applied, QStringList{"0002_fixed"});
}

void tst_Migrations::concurrentMigratorsApplyOnce()
{
    QFETCH(Driver, driver);
    const auto url = m_databases->fresh(driver);
    QVERIFY(url.hasValue());
    const ConnectionFactory factory(*url);
    const MigrationSet set = builtIn(driver);

    // Four bourses start at once against one empty database.
    constexpr int kMigrators = 4;
    struct Migrator
    {
        std::unique_ptr<QThread> thread;
        QString error;
        QStringList applied;
    };
    Migrator migrators[kMigrators];
    QSemaphore connected;
    QSemaphore go;
    for (Migrator &migrator : migrators) {
        migrator.thread.reset(QThread::create([&factory, &set, &migrator, &connected, &go] {
            auto connection = factory.open(u"migrator");
            connected.release();
            go.acquire();
            if (!connection) {
                migrator.error = connection.error();
                return;
            }
            const auto report = applyMigrations(connection.value(), set);
            if (report)
                migrator.applied = report->applied;
            else
                migrator.error = report.error();
        }));
        migrator.thread->start();
    }
    connected.acquire(kMigrators);
    go.release(kMigrators);
    QStringList applied;
    for (Migrator &migrator : migrators) {
        QVERIFY(migrator.thread->wait(60'000));
        QVERIFY2(migrator.error.isEmpty(), qPrintable(migrator.error));
        applied += migrator.applied;
    }
    QCOMPARE(applied.size(), set.latestVersion());

    std::optional<Connection> connection = open(*url);
    QVERIFY(connection);
    QCOMPARE(rows(*connection, QStringLiteral("SELECT count(*) FROM schema_migrations")),
             QStringList{QString::number(set.latestVersion())});
    QCOMPARE(tables(*connection), kTables);
}

void tst_Migrations::waitsForTheAdvisoryLock()
{
    // PostgreSQL only: SQLite's writers queue on BEGIN IMMEDIATE, which concurrentMigratorsApplyOnce covers.
    const auto url = m_databases->fresh(Driver::PostgreSql);
    QVERIFY(url.hasValue());
    std::optional<Connection> holder = open(*url);
    QVERIFY(holder);
    QCOMPARE(holder->execute(QStringLiteral("SELECT pg_advisory_lock(%1)").arg(bourse::sql::kMigrationLockKey)),
             std::nullopt);

    const ConnectionFactory factory(*url);
    const MigrationSet set = builtIn(Driver::PostgreSql);
    QString error;
    QStringList applied;
    std::unique_ptr<QThread> migrator(QThread::create([&] {
        auto connection = factory.open(u"migrator");
        if (!connection) {
            error = connection.error();
            return;
        }
        const auto report = applyMigrations(connection.value(), set);
        if (report)
            applied = report->applied;
        else
            error = report.error();
    }));
    migrator->start();

    // The migrator is seen waiting for the lock, and has created nothing meanwhile.
    const QString waiting = QStringLiteral("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                                           "AND database = (SELECT oid FROM pg_database WHERE datname = "
                                           "current_database())");
    QTRY_COMPARE_WITH_TIMEOUT(rows(*holder, waiting), QStringList{"1"}, 30'000);
    QVERIFY(!migrator->isFinished());
    QCOMPARE(tables(*holder), QStringList{});

    QCOMPARE(holder->execute(QStringLiteral("SELECT pg_advisory_unlock(%1)").arg(bourse::sql::kMigrationLockKey)),
             std::nullopt);
    QVERIFY(migrator->wait(60'000));
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QCOMPARE(applied.size(), set.latestVersion());
    QCOMPARE(tables(*holder), kTables);
    // And it let go of the lock when it was done.
    QCOMPARE(rows(*holder, QStringLiteral("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")),
             QStringList{"0"});
}

QTEST_GUILESS_MAIN(tst_Migrations)
#include "tst_migrations.moc"
