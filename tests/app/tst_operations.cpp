// Tests of the operations commands of the built `bourse`, run as processes beside a running venue:
// - backup while orders flow over the API, then restore into a new data dir (or an empty PostgreSQL
//   database): `bourse verify` passes on it, the restored venue starts, its orders are ones the original
//   acknowledged and its money adds up; a backup taken once the flow stopped restores to exactly the
//   original's orders and balances, and the original's tokens work there (jwt.key came along);
// - restore refuses, changing nothing, a backup with a damaged file, without its manifest, whose journal does
//   not replay to the manifest's state hash, of the other kind of database, into a running venue, or into a
//   PostgreSQL database that is not empty;
// - admin reset-password: the new password works and the old one and the user's refresh tokens do not, an
//   audit row says who; bad passwords, unknown users and no input change nothing;
// - verify: a sound venue is "sound" with its state hash, a damaged journal exits 1 naming the row.
// SQLite and a private PostgreSQL cluster (started here, never skipped).
#include "bourse_process.h"
#include "connection.h"
#include "postgres_cluster.h"
#include "test_databases.h"

#include <QCryptographicHash>
#include <QDeadlineTimer>
#include <QDir>
#include <QEventLoop>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <csignal>
#include <memory>

#include <sys/stat.h>
#include <unistd.h>

using namespace bourse;
using bourse::test::Bourse;

namespace {

constexpr int kStartMs = 20'000;
constexpr int kCommandMs = 120'000;
constexpr int kTraders = 4;
const QString kAdminPassword = QStringLiteral("admin-password-1");
const QString kTraderPassword = QStringLiteral("trader-password-1");

struct Reply
{
    int status = 0;
    QJsonValue json;
};

// A client of one venue's API over QNetworkAccessManager; call() waits for the answer in an event loop, so
// that processes and other requests go on meanwhile.
class Api final
{
public:
    explicit Api(quint16 port)
        : m_base(QStringLiteral("http://127.0.0.1:%1").arg(port))
    {}

    QNetworkReply *send(const QByteArray &verb, const QString &path, const QJsonObject &body = {},
                        const QString &token = {})
    {
        QNetworkRequest request(QUrl(m_base + path));
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
        if (!token.isEmpty())
            request.setRawHeader("Authorization", "Bearer " + token.toUtf8());
        const QByteArray bytes = body.isEmpty() ? QByteArray() : QJsonDocument(body).toJson(QJsonDocument::Compact);
        return m_manager.sendCustomRequest(request, verb, bytes);
    }

    static Reply read(QNetworkReply *reply)
    {
        Reply answer;
        answer.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QJsonDocument document = QJsonDocument::fromJson(reply->readAll());
        answer.json = document.isObject() ? QJsonValue(document.object()) : QJsonValue(document.array());
        reply->deleteLater();
        return answer;
    }

    Reply call(const QByteArray &verb, const QString &path, const QJsonObject &body = {}, const QString &token = {})
    {
        QNetworkReply *reply = send(verb, path, body, token);
        QEventLoop loop;
        QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
        QTimer::singleShot(30'000, &loop, &QEventLoop::quit);
        if (!reply->isFinished())
            loop.exec();
        return read(reply);
    }

    QString login(const QString &username, const QString &password, QString *refreshToken = nullptr)
    {
        const Reply reply = call("POST", QStringLiteral("/auth/login"),
                                 QJsonObject{{"username", username}, {"password", password}});
        if (refreshToken)
            *refreshToken = reply.json[QLatin1StringView("refresh_token")].toString();
        return reply.status == 200 ? reply.json[QLatin1StringView("access_token")].toString() : QString();
    }

private:
    QString m_base;
    QNetworkAccessManager m_manager;
};

// Limit orders from the traders, buys and sells around 100 so that many trade, kept `inFlight` at a time
// from the event loop until stop(); every acknowledged order id is kept.
class OrderFlow final
{
public:
    OrderFlow(Api &api, QStringList tokens, int inFlight)
        : m_api(api)
        , m_tokens(std::move(tokens))
        , m_inFlight(inFlight)
    {}

    void start()
    {
        for (int i = 0; i < m_inFlight; ++i)
            sendOne();
    }
    // Stops sending and waits for every answer.
    void stop()
    {
        m_stopping = true;
        QTRY_COMPARE_WITH_TIMEOUT(m_pending, 0, 30'000);
    }
    void waitForAcknowledged(int count)
    {
        QTRY_VERIFY_WITH_TIMEOUT(m_acknowledged.size() >= count, 60'000);
    }
    const QSet<qint64> &acknowledged() const { return m_acknowledged; }
    int failures() const { return m_failures; }

private:
    void sendOne()
    {
        const int n = m_sent++;
        const bool buy = n % 2 == 0;
        const QString price = QStringLiteral("%1").arg(99.95 + 0.01 * (n % 11), 0, 'f', 2);
        QNetworkReply *reply = m_api.send(
            "POST", QStringLiteral("/api/v1/orders"),
            QJsonObject{{"symbol", "BTC-USD"}, {"side", buy ? "buy" : "sell"}, {"type", "limit"}, {"price", price},
                        {"quantity", "0.01"}, {"client_order_id", QStringLiteral("flow-%1").arg(n)}},
            m_tokens[n % m_tokens.size()]);
        ++m_pending;
        QObject::connect(reply, &QNetworkReply::finished, reply, [this, reply] {
            --m_pending;
            const Reply answer = Api::read(reply);
            if (answer.status == 201)
                m_acknowledged.insert(answer.json[QLatin1StringView("id")].toVariant().toLongLong());
            else
                ++m_failures;
            if (!m_stopping)
                sendOne();
        });
    }

    Api &m_api;
    QStringList m_tokens;
    int m_inFlight = 1;
    int m_sent = 0;
    int m_pending = 0;
    int m_failures = 0;
    bool m_stopping = false;
    QSet<qint64> m_acknowledged;
};

// What a venue holds for its traders: every order (all statuses) and every balance, per trader.
struct VenueState
{
    QList<QJsonArray> orders;   // per trader, newest first as the API lists them
    QList<QJsonArray> balances; // per trader
    friend bool operator==(const VenueState &, const VenueState &) = default;
};

QString sha256Of(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return QString();
    QCryptographicHash hash(QCryptographicHash::Sha256);
    hash.addData(&file);
    return QString::fromLatin1(hash.result().toHex());
}

} // namespace

class tst_Operations final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanupTestCase();

    void backupWhileOrdersFlowThenRestore_data();
    void backupWhileOrdersFlowThenRestore();
    void damagedBackupIsRefused_data();
    void damagedBackupIsRefused();
    void restoreIntoARunningVenueIsRefused();
    void restoreOverAKilledVenueKeepsItWhole();
    void resetPassword();
    void verify();

private:
    QString path(const QString &name) const { return m_dir->filePath(name); }
    // Runs one command to its end: its exit code; stdout and stderr in *output and *error.
    int run(const QStringList &arguments, QByteArray *output = nullptr, QByteArray *error = nullptr,
            const QByteArray &input = QByteArray());
    // Starts a venue (headless, on a free port, first admin from the environment) and waits until it serves.
    std::unique_ptr<Bourse> startVenue(const QStringList &venueArguments, quint16 *port);
    void stopVenue(Bourse &venue);
    // Creates kTraders funded traders with the unlimited rate tier; their access tokens.
    QStringList addTraders(Api &api);
    VenueState stateOf(Api &api, const QStringList &tokens);
    // A sound venue with a few hundred orders, stopped: its data dir.
    QStringList makeVenue(const QString &name);

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<test::PostgresCluster> m_cluster;
};

void tst_Operations::initTestCase()
{
    auto cluster = test::PostgresCluster::create();
    QVERIFY2(cluster, cluster ? "" : qPrintable(cluster.error()));
    m_cluster = std::move(cluster.value());
}

void tst_Operations::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

void tst_Operations::cleanupTestCase()
{
    m_cluster.reset();
}

int tst_Operations::run(const QStringList &arguments, QByteArray *output, QByteArray *error, const QByteArray &input)
{
    Bourse command(QStringLiteral(BOURSE_BINARY), test::isolatedEnvironment(m_dir->path()), arguments, input);
    const int code = command.waitForExit(kCommandMs);
    if (output)
        *output = command.standardOutput();
    if (error)
        *error = command.standardError();
    return code;
}

std::unique_ptr<Bourse> tst_Operations::startVenue(const QStringList &venueArguments, quint16 *port)
{
    *port = test::freePort();
    QProcessEnvironment env = test::isolatedEnvironment(m_dir->path());
    env.insert(QStringLiteral("BOURSE_ADMIN_USERNAME"), QStringLiteral("admin"));
    env.insert(QStringLiteral("BOURSE_ADMIN_PASSWORD"), kAdminPassword);
    auto venue = std::make_unique<Bourse>(
        QStringLiteral(BOURSE_BINARY), env,
        venueArguments + QStringList{QStringLiteral("--headless"), QStringLiteral("--listen"),
                                     QStringLiteral("127.0.0.1:%1").arg(*port)});
    // The callers check that it runs; what it said is in the failure message then.
    QDeadlineTimer deadline(kStartMs);
    while (!venue->standardError().contains("serving the API") && venue->process().state() != QProcess::NotRunning
           && !deadline.hasExpired())
        QTest::qWait(50);
    if (!venue->standardError().contains("serving the API"))
        qWarning().noquote() << "the venue did not start:" << venue->standardError();
    return venue;
}

void tst_Operations::stopVenue(Bourse &venue)
{
    venue.signal(SIGTERM);
    QCOMPARE(venue.waitForExit(20'000), 0);
}

QStringList tst_Operations::addTraders(Api &api)
{
    const QString admin = api.login(QStringLiteral("admin"), kAdminPassword);
    QStringList tokens;
    for (int i = 1; i <= kTraders; ++i) {
        const QString name = QStringLiteral("trader%1").arg(i);
        const Reply created = api.call("POST", QStringLiteral("/admin/users"),
                                       QJsonObject{{"username", name}, {"password", kTraderPassword}, {"role", "trader"}},
                                       admin);
        if (created.status != 201)
            return {};
        const qint64 id = created.json[QLatin1StringView("id")].toVariant().toLongLong();
        api.call("PATCH", QStringLiteral("/admin/users/%1").arg(id), QJsonObject{{"rate_limit_tier", "unlimited"}}, admin);
        for (const auto &[asset, amount] : {std::pair{"USD", "10000000"}, std::pair{"BTC", "100000"}}) {
            if (api.call("POST", QStringLiteral("/admin/users/%1/deposits").arg(id),
                         QJsonObject{{"asset", asset}, {"amount", amount}}, admin)
                    .status
                != 201)
                return {};
        }
        tokens.append(api.login(name, kTraderPassword));
    }
    return tokens;
}

VenueState tst_Operations::stateOf(Api &api, const QStringList &tokens)
{
    VenueState state;
    for (const QString &token : tokens) {
        state.orders.append(api.call("GET", QStringLiteral("/api/v1/orders?status=all&page_size=1000"), {}, token)
                                .json[QLatin1StringView("data")]
                                .toArray());
        state.balances.append(
            api.call("GET", QStringLiteral("/api/v1/account"), {}, token).json[QLatin1StringView("balances")].toArray());
    }
    return state;
}

QStringList tst_Operations::makeVenue(const QString &name)
{
    const QStringList arguments{QStringLiteral("--data-dir"), path(name)};
    quint16 port = 0;
    std::unique_ptr<Bourse> venue = startVenue(arguments, &port);
    if (!venue || venue->process().state() != QProcess::Running)
        return {};
    Api api(port);
    const QStringList tokens = addTraders(api);
    if (tokens.size() != kTraders)
        return {};
    OrderFlow flow(api, tokens, 8);
    flow.start();
    flow.waitForAcknowledged(300);
    flow.stop();
    stopVenue(*venue);
    return arguments;
}

void tst_Operations::backupWhileOrdersFlowThenRestore_data()
{
    QTest::addColumn<bool>("postgresql");
    QTest::newRow("sqlite") << false;
    QTest::newRow("postgresql") << true;
}

void tst_Operations::backupWhileOrdersFlowThenRestore()
{
    QFETCH(bool, postgresql);
    // Where each venue keeps its data: a data dir, and for PostgreSQL a database of its own.
    const auto venueArguments = [&](const QString &name) -> QStringList {
        QStringList arguments{QStringLiteral("--data-dir"), path(name)};
        if (postgresql) {
            auto url = m_cluster->createDatabase();
            if (!url)
                return {};
            arguments << QStringLiteral("--database-url") << test::TestDatabases::urlWithPassword(*url);
        }
        return arguments;
    };
    const QStringList original = venueArguments(QStringLiteral("original"));
    QVERIFY(!original.isEmpty());
    quint16 port = 0;
    std::unique_ptr<Bourse> venue = startVenue(original, &port);
    QCOMPARE(venue->process().state(), QProcess::Running);
    Api api(port);
    const QStringList tokens = addTraders(api);
    QCOMPARE(tokens.size(), kTraders);

    // Orders flow, eight at a time, before, during and after the backup.
    OrderFlow flow(api, tokens, 8);
    flow.start();
    flow.waitForAcknowledged(400);
    const qsizetype beforeBackup = flow.acknowledged().size();
    Bourse backup(QStringLiteral(BOURSE_BINARY), test::isolatedEnvironment(m_dir->path()),
                  QStringList{QStringLiteral("backup"), path(QStringLiteral("during"))} + original);
    QTRY_COMPARE_WITH_TIMEOUT(backup.process().state(), QProcess::NotRunning, kCommandMs);
    const qsizetype afterBackup = flow.acknowledged().size();
    QVERIFY2(backup.waitForExit(0) == 0, backup.standardError().constData());
    QVERIFY2(backup.standardOutput().contains("(replayed and checked)"), backup.standardOutput().constData());
    QVERIFY2(afterBackup > beforeBackup, "no order was acknowledged while the backup ran");
    flow.waitForAcknowledged(int(afterBackup) + 100);
    flow.stop();
    QCOMPARE(flow.failures(), 0);

    // Once the flow has stopped: a second backup, and what the original holds.
    QByteArray output;
    QByteArray error;
    QCOMPARE(run(QStringList{QStringLiteral("backup"), path(QStringLiteral("quiet"))} + original, &output, &error), 0);
    const VenueState originalState = stateOf(api, tokens);
    QCOMPARE(originalState.orders.size(), kTraders);
    // Not over the running original.
    QCOMPARE(run(QStringList{QStringLiteral("restore"), path(QStringLiteral("quiet"))} + original, &output, &error), 1);
    QVERIFY2(error.contains("a bourse is running on ") && error.contains(": stop it first"), error.constData());
    qsizetype originalOrders = 0;
    for (const QJsonArray &orders : originalState.orders)
        originalOrders += orders.size();
    QCOMPARE(originalOrders, flow.acknowledged().size());
    stopVenue(*venue);

    // The backup taken under load: restored, verified, served; every order in it is one the original
    // acknowledged, and the money adds up to what was deposited.
    const QStringList during = venueArguments(QStringLiteral("restored-during"));
    QCOMPARE(run(QStringList{QStringLiteral("restore"), path(QStringLiteral("during"))} + during, &output, &error), 0);
    QVERIFY2(output.contains("restored "), output.constData());
    QCOMPARE(run(QStringList{QStringLiteral("verify")} + during, &output, &error), 0);
    QVERIFY2(output.contains(": sound"), output.constData());
    {
        std::unique_ptr<Bourse> restored = startVenue(during, &port);
        QCOMPARE(restored->process().state(), QProcess::Running);
        Api restoredApi(port);
        const VenueState state = stateOf(restoredApi, tokens); // the original's tokens: jwt.key came along
        qsizetype restoredOrders = 0;
        QMap<QString, double> totals;
        for (int trader = 0; trader < kTraders; ++trader) {
            for (const QJsonValue &order : state.orders[trader]) {
                QVERIFY(flow.acknowledged().contains(order[QLatin1StringView("id")].toVariant().toLongLong()));
                ++restoredOrders;
            }
            for (const QJsonValue &balance : state.balances[trader])
                totals[balance[QLatin1StringView("asset")].toString()] +=
                    balance[QLatin1StringView("total")].toString().toDouble();
        }
        QVERIFY(restoredOrders >= beforeBackup);
        QVERIFY(restoredOrders <= afterBackup + 8);
        QCOMPARE(totals.value(QStringLiteral("USD")), 10000000.0 * kTraders);
        QCOMPARE(totals.value(QStringLiteral("BTC")), 100000.0 * kTraders);
        stopVenue(*restored);
    }

    // The backup taken after the flow: exactly the original's orders and balances.
    const QStringList quiet = venueArguments(QStringLiteral("restored-quiet"));
    QCOMPARE(run(QStringList{QStringLiteral("restore"), path(QStringLiteral("quiet"))} + quiet, &output, &error), 0);
    QCOMPARE(run(QStringList{QStringLiteral("verify")} + quiet, &output, &error), 0);
    std::unique_ptr<Bourse> restored = startVenue(quiet, &port);
    QCOMPARE(restored->process().state(), QProcess::Running);
    Api restoredApi(port);
    const VenueState state = stateOf(restoredApi, tokens);
    QCOMPARE(state.orders, originalState.orders);
    QCOMPARE(state.balances, originalState.balances);
    stopVenue(*restored);

    if (postgresql) {
        // Into a database that is not empty (the original's): refused, named.
        QCOMPARE(run(QStringList{QStringLiteral("restore"), path(QStringLiteral("quiet"))} + original, &output, &error), 1);
        QVERIFY2(error.contains("is not empty (it has ") && error.contains("restore into a new, empty database"),
                 error.constData());
        // A PostgreSQL backup into a SQLite venue: refused, named.
        QCOMPARE(run({QStringLiteral("restore"), path(QStringLiteral("quiet")), QStringLiteral("--data-dir"),
                      path(QStringLiteral("sqlite-target"))},
                     &output, &error),
                 1);
        QVERIFY2(error.contains("is the backup of a PostgreSQL venue, and the venue to restore into is SQLite"),
                 error.constData());
        QVERIFY(!QFileInfo::exists(path(QStringLiteral("sqlite-target"))));
    }
}

void tst_Operations::damagedBackupIsRefused_data()
{
    QTest::addColumn<QString>("damage");
    QTest::addColumn<QString>("error");
    QTest::newRow("no manifest") << "rm MANIFEST.json"
                                 << "is not a bourse backup: it has no MANIFEST.json";
    QTest::newRow("manifest not JSON") << "write MANIFEST.json {"
                                       << "MANIFEST.json is not valid JSON";
    QTest::newRow("a byte of the database flipped") << "flip bourse.db"
                                                    << "bourse.db\" is damaged: its SHA-256 is ";
    QTest::newRow("jwt.key cut short") << "truncate jwt.key"
                                       << "jwt.key\" is damaged: it has 10 bytes, MANIFEST.json says ";
    QTest::newRow("the database missing") << "rm bourse.db"
                                          << "bourse.db\" is missing: the backup is incomplete";
    QTest::newRow("a command altered, sums redone") << "alter-command"
                                                    << "command 5 fails its checksum";
    QTest::newRow("state hash in the manifest changed") << "alter-hash"
                                                        << "MANIFEST.json says command ";
}

void tst_Operations::damagedBackupIsRefused()
{
    QFETCH(QString, damage);
    QFETCH(QString, error);
    const QStringList venue = makeVenue(QStringLiteral("venue"));
    QVERIFY(!venue.isEmpty());
    const QString backupDir = path(QStringLiteral("backup"));
    QByteArray output;
    QByteArray stderrText;
    QCOMPARE(run(QStringList{QStringLiteral("backup"), backupDir} + venue, &output, &stderrText), 0);

    const QDir backup(backupDir);
    QFile manifestFile(backup.filePath(QStringLiteral("MANIFEST.json")));
    QVERIFY(manifestFile.open(QIODevice::ReadOnly));
    QJsonObject manifest = QJsonDocument::fromJson(manifestFile.readAll()).object();
    manifestFile.close();
    const auto rewriteManifest = [&] {
        QJsonArray files = manifest[QLatin1StringView("files")].toArray();
        for (qsizetype i = 0; i < files.size(); ++i) {
            QJsonObject file = files[i].toObject();
            const QString name = backup.filePath(file[QLatin1StringView("name")].toString());
            file[QLatin1StringView("sha256")] = sha256Of(name);
            file[QLatin1StringView("bytes")] = QFileInfo(name).size();
            files[i] = file;
        }
        manifest[QLatin1StringView("files")] = files;
        QFile out(backup.filePath(QStringLiteral("MANIFEST.json")));
        QVERIFY(out.open(QIODevice::WriteOnly | QIODevice::Truncate));
        out.write(QJsonDocument(manifest).toJson());
    };
    const QStringList words = damage.split(u' ');
    if (words[0] == u"rm") {
        QVERIFY(QFile::remove(backup.filePath(words[1])));
    } else if (words[0] == u"write") {
        QFile file(backup.filePath(words[1]));
        QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
        file.write(words[2].toUtf8());
    } else if (words[0] == u"flip") {
        QFile file(backup.filePath(words[1]));
        QVERIFY(file.open(QIODevice::ReadWrite));
        file.seek(file.size() / 2);
        char byte = 0;
        QVERIFY(file.getChar(&byte));
        file.seek(file.size() / 2);
        QVERIFY(file.putChar(char(byte ^ 0x5a)));
    } else if (words[0] == u"truncate") {
        QVERIFY(QFile::resize(backup.filePath(words[1]), 10));
    } else if (damage == u"alter-command") {
        // A command's payload changed inside the database, and the manifest's sums made to match: only
        // replaying the journal can tell.
        {
            const sql::ConnectionFactory factory(sql::DatabaseUrl::sqlite(backup.filePath(QStringLiteral("bourse.db"))));
            auto connection = factory.open(u"damage");
            QVERIFY2(connection, connection ? "" : qPrintable(connection.error()));
            QSqlQuery query(connection->database());
            QVERIFY(query.exec(QStringLiteral("UPDATE commands SET time_ns = time_ns + 1 WHERE seq = 5")));
            QCOMPARE(query.numRowsAffected(), 1);
        }
        rewriteManifest();
    } else if (damage == u"alter-hash") {
        QJsonObject journal = manifest[QLatin1StringView("journal")].toObject();
        const QString hash = journal[QLatin1StringView("state_hash")].toString();
        journal[QLatin1StringView("state_hash")] = QString(hash).replace(0, 1, hash[0] == u'0' ? u'1' : u'0');
        manifest[QLatin1StringView("journal")] = journal;
        rewriteManifest();
    }

    // Into a new data dir: refused, and nothing is created there.
    const QString target = path(QStringLiteral("target"));
    QCOMPARE(run({QStringLiteral("restore"), backupDir, QStringLiteral("--data-dir"), target}, &output, &stderrText), 1);
    QVERIFY2(stderrText.startsWith("bourse restore: ") && stderrText.contains(error.toUtf8()), stderrText.constData());
    QCOMPARE(stderrText.count('\n'), 1);
    QVERIFY(output.isEmpty());
    QVERIFY2(!QFileInfo::exists(target) || QDir(target).isEmpty(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden),
             qPrintable(QDir(target).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden).join(u' ')));

    // Over an existing venue: refused, and its database is untouched.
    const QString database = QDir(venue[1]).filePath(QStringLiteral("bourse.db"));
    const QString before = sha256Of(database);
    QCOMPARE(run(QStringList{QStringLiteral("restore"), backupDir} + venue, &output, &stderrText), 1);
    QVERIFY2(stderrText.contains(error.toUtf8()), stderrText.constData());
    QCOMPARE(sha256Of(database), before);
    QCOMPARE(QDir(venue[1]).entryList(QDir::Files).filter(QStringLiteral("before-restore")), QStringList());
}

void tst_Operations::restoreIntoARunningVenueIsRefused()
{
    const QStringList venue = makeVenue(QStringLiteral("venue"));
    QVERIFY(!venue.isEmpty());
    QByteArray output;
    QByteArray error;
    QCOMPARE(run(QStringList{QStringLiteral("backup"), path(QStringLiteral("backup"))} + venue, &output, &error), 0);
    // No venue there: exit 2, as for any option naming an unusable venue.
    QCOMPARE(run({QStringLiteral("backup"), path(QStringLiteral("b2")), QStringLiteral("--data-dir"), path(QStringLiteral("none"))},
                 &output, &error),
             2);
    QVERIFY2(error.contains("there is no venue database at"), error.constData());
    QVERIFY(!QFileInfo::exists(path(QStringLiteral("b2"))));
    // Not into an existing, non-empty directory either.
    QCOMPARE(run(QStringList{QStringLiteral("backup"), path(QStringLiteral("backup"))} + venue, &output, &error), 1);
    QVERIFY2(error.contains("is not empty: a backup goes into a new or empty directory"), error.constData());

    quint16 port = 0;
    std::unique_ptr<Bourse> running = startVenue(venue, &port);
    QCOMPARE(running->process().state(), QProcess::Running);
    const QString database = QDir(venue[1]).filePath(QStringLiteral("bourse.db"));
    QCOMPARE(run(QStringList{QStringLiteral("restore"), path(QStringLiteral("backup"))} + venue, &output, &error), 1);
    QVERIFY2(error.contains("a bourse is running on sqlite:" + database.toUtf8() + ": stop it first"), error.constData());
    stopVenue(*running);
    // Stopped: it goes, and what it replaced is kept aside.
    QCOMPARE(run(QStringList{QStringLiteral("restore"), path(QStringLiteral("backup"))} + venue, &output, &error), 0);
    QVERIFY2(output.contains("kept aside " + database.toUtf8() + ".before-restore-"), output.constData());
    QCOMPARE(QDir(venue[1]).entryList(QDir::Files).filter(QStringLiteral("bourse.db.before-restore-")).size(), 1);

    // Into a data dir that belongs to another user (as an admin restores the service's venue, as root): what
    // it installs is that user's, mode 0600. Not root (a developer's run), the files are the runner's.
    const QString owned = path(QStringLiteral("owned"));
    QVERIFY(QDir().mkpath(owned));
    const bool root = ::geteuid() == 0;
    const uid_t uid = root ? 65534 : ::geteuid();
    const gid_t gid = root ? 65534 : ::getegid();
    if (root)
        QCOMPARE(::chown(QFile::encodeName(owned).constData(), uid, gid), 0);
    QCOMPARE(run({QStringLiteral("restore"), path(QStringLiteral("backup")), QStringLiteral("--data-dir"), owned}, &output,
                 &error),
             0);
    for (const char *name : {"bourse.db", "jwt.key"}) {
        struct stat info;
        QCOMPARE(::stat(QFile::encodeName(QDir(owned).filePath(QLatin1StringView(name))).constData(), &info), 0);
        QCOMPARE(info.st_uid, uid);
        QCOMPARE(info.st_gid, gid);
        QCOMPARE(int(info.st_mode & 07777), 0600);
    }
}

// A venue killed with SIGKILL leaves committed data in its -wal file. Restoring over it folds that log into
// the database before keeping the database aside, so the copy kept aside is whole on its own; the venue's
// place never holds anything but a whole database.
void tst_Operations::restoreOverAKilledVenueKeepsItWhole()
{
    const QStringList venue = makeVenue(QStringLiteral("venue"));
    QVERIFY(!venue.isEmpty());
    QByteArray output;
    QByteArray error;
    QCOMPARE(run(QStringList{QStringLiteral("backup"), path(QStringLiteral("backup"))} + venue, &output, &error), 0);

    // More users after the backup, then the venue killed: they are in its -wal only.
    quint16 port = 0;
    std::unique_ptr<Bourse> running = startVenue(venue, &port);
    QCOMPARE(running->process().state(), QProcess::Running);
    Api api(port);
    const QString admin = api.login(QStringLiteral("admin"), kAdminPassword);
    for (int i = 0; i < 3; ++i) {
        QCOMPARE(api.call("POST", QStringLiteral("/admin/users"),
                          QJsonObject{{"username", QStringLiteral("late%1").arg(i)}, {"password", kTraderPassword},
                                      {"role", "trader"}},
                          admin)
                     .status,
                 201);
    }
    running->process().kill();
    QVERIFY(running->process().waitForFinished(10'000));
    const QString database = QDir(venue[1]).filePath(QStringLiteral("bourse.db"));
    QVERIFY(QFileInfo(database + QStringLiteral("-wal")).size() > 0);

    QCOMPARE(run(QStringList{QStringLiteral("restore"), path(QStringLiteral("backup"))} + venue, &output, &error), 0);
    const QStringList aside = QDir(venue[1]).entryList({QStringLiteral("bourse.db.before-restore-*")}, QDir::Files);
    QCOMPARE(aside.size(), 1);
    QVERIFY(!QFileInfo::exists(QDir(venue[1]).filePath(aside[0] + QStringLiteral("-wal"))));
    const auto users = [](const QString &file) {
        const sql::ConnectionFactory factory(sql::DatabaseUrl::sqlite(file));
        auto connection = factory.open(u"count");
        QSqlQuery query(connection ? connection->database() : QSqlDatabase());
        return query.exec(QStringLiteral("SELECT COUNT(*) FROM users")) && query.next() ? query.value(0).toInt() : -1;
    };
    // A copy of the kept file (opening the original would give it a -wal of its own): admin, the traders and
    // the three late users.
    const QString copy = path(QStringLiteral("aside-copy.db"));
    QVERIFY(QFile::copy(QDir(venue[1]).filePath(aside[0]), copy));
    QCOMPARE(users(copy), 1 + kTraders + 3);
    QCOMPARE(users(database), 1 + kTraders); // the backup's
    QCOMPARE(run(QStringList{QStringLiteral("verify")} + venue, &output, &error), 0);
}

void tst_Operations::resetPassword()
{
    const QStringList venue = makeVenue(QStringLiteral("venue"));
    QVERIFY(!venue.isEmpty());
    quint16 port = 0;
    std::unique_ptr<Bourse> running = startVenue(venue, &port);
    QCOMPARE(running->process().state(), QProcess::Running);
    Api api(port);
    QString refresh;
    QVERIFY(!api.login(QStringLiteral("trader1"), kTraderPassword, &refresh).isEmpty());

    const QStringList reset = QStringList{QStringLiteral("admin"), QStringLiteral("reset-password")};
    QByteArray output;
    QByteArray error;
    // Bad inputs change nothing.
    QCOMPARE(run(reset + QStringList{QStringLiteral("trader1")} + venue, &output, &error, "short\n"), 1);
    QCOMPARE(error, QByteArray("bourse admin reset-password: password must be 8-128 characters\n"));
    QCOMPARE(run(reset + QStringList{QStringLiteral("nobody")} + venue, &output, &error, "long-enough-1\n"), 1);
    QCOMPARE(error, QByteArray("bourse admin reset-password: no user named \"nobody\"\n"));
    QCOMPARE(run(reset + QStringList{QStringLiteral("trader1")} + venue, &output, &error, ""), 1);
    QCOMPARE(error, QByteArray("bourse admin reset-password: no password on stdin (give it as one line)\n"));
    QCOMPARE(run(reset + QStringList{QStringLiteral("trader1"), QStringLiteral("--data-dir"), path(QStringLiteral("none"))},
                 &output, &error, "long-enough-1\n"),
             2);
    QVERIFY2(error.contains("there is no venue database at"), error.constData());
    QVERIFY(!api.login(QStringLiteral("trader1"), kTraderPassword).isEmpty());

    // Online, while the venue serves: the new password works, the old one and the old sessions do not.
    QCOMPARE(run(reset + QStringList{QStringLiteral("TRADER1")} + venue, &output, &error, "a-new-password-2\n"), 0);
    QCOMPARE(output, QByteArray("the password of trader1 is set; the user's sessions have ended\n"));
    QVERIFY(api.login(QStringLiteral("trader1"), kTraderPassword).isEmpty());
    QVERIFY(!api.login(QStringLiteral("trader1"), QStringLiteral("a-new-password-2")).isEmpty());
    QCOMPARE(api.call("POST", QStringLiteral("/auth/refresh"), QJsonObject{{"refresh_token", refresh}}).status, 401);
    const QString admin = api.login(QStringLiteral("admin"), kAdminPassword);
    const QJsonArray audit =
        api.call("GET", QStringLiteral("/admin/audit?page_size=1000"), {}, admin).json[QLatin1StringView("data")].toArray();
    bool audited = false;
    for (const QJsonValue &entry : audit) {
        audited = audited
                  || (entry[QLatin1StringView("action")] == QStringLiteral("password_reset")
                      && entry[QLatin1StringView("actor")].toString().startsWith(QStringLiteral("command line")));
    }
    QVERIFY(audited);
    stopVenue(*running);
}

void tst_Operations::verify()
{
    const QStringList venue = makeVenue(QStringLiteral("venue"));
    QVERIFY(!venue.isEmpty());
    QByteArray output;
    QByteArray error;
    QCOMPARE(run(QStringList{QStringLiteral("verify")} + venue, &output, &error), 0);
    QVERIFY2(output.contains(": sound\n") && output.contains("state hash "), output.constData());

    const sql::ConnectionFactory factory(sql::DatabaseUrl::sqlite(QDir(venue[1]).filePath(QStringLiteral("bourse.db"))));
    const auto change = [&](const QString &statement) {
        auto connection = factory.open(u"damage");
        QVERIFY(connection);
        QSqlQuery query(connection->database());
        QVERIFY2(query.exec(statement), qPrintable(query.lastError().text()));
        QCOMPARE(query.numRowsAffected(), 1);
    };
    // A balance changed in the table the API reads (the journal is fine, so a start would not notice):
    // exit 1, naming the row; changed back, sound again.
    const QString someBalance = QStringLiteral("user_id = 2 AND asset_id = (SELECT MIN(asset_id) FROM balances WHERE "
                                               "user_id = 2)");
    change(QStringLiteral("UPDATE balances SET available = available + 1 WHERE ") + someBalance);
    QCOMPARE(run(QStringList{QStringLiteral("verify")} + venue, &output, &error), 1);
    QVERIFY2(error.contains("balances row of user 2, asset ") && error.contains("is not the engine's balance"),
             error.constData());
    change(QStringLiteral("UPDATE balances SET available = available - 1 WHERE ") + someBalance);
    QCOMPARE(run(QStringList{QStringLiteral("verify")} + venue, &output, &error), 0);

    // A command row changed on disk: exit 1, naming it.
    change(QStringLiteral("UPDATE commands SET time_ns = time_ns + 1 WHERE seq = 7"));
    QCOMPARE(run(QStringList{QStringLiteral("verify")} + venue, &output, &error), 1);
    QVERIFY2(error.startsWith("bourse verify: ") && error.contains("command 7 fails its checksum"), error.constData());
    QCOMPARE(error.count('\n'), 1);
    // No database there: exit 2.
    QCOMPARE(run({QStringLiteral("verify"), QStringLiteral("--data-dir"), path(QStringLiteral("none"))}, &output, &error), 2);
    QVERIFY2(error.contains("there is no venue database at"), error.constData());
}

QTEST_GUILESS_MAIN(tst_Operations)
#include "tst_operations.moc"
