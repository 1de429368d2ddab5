// The REST API's routes (spec/API.md §2-§6, resources/openapi.json) against a real venue on a free port, on
// SQLite and on PostgreSQL: every route for every role, the router's 404/405/HEAD/OPTIONS answers, the
// authentication flows, the admin routes, order listings and exports, the run-time settings applied live,
// gzip, request ids, metrics and the audit log. One venue per driver serves every row of that driver, so
// each case works with users and instruments of its own.
#include "test_databases.h"
#include "test_venue.h"

#include <QDeadlineTimer>
#include <QJsonArray>
#include <QLoggingCategory>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <utility>
#include <zlib.h>

using namespace bourse;
using namespace bourse::test;

namespace {

using Driver = sql::DatabaseUrl::Driver;

constexpr char kPassword[] = "password-123";
constexpr Driver kDrivers[] = {Driver::Sqlite, Driver::PostgreSql};
// The limits every venue here starts with: high enough that no case trips them by accident.
constexpr int kRoomyLimit = 100000;

QByteArray compact(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

QStringList sortedKeys(const QJsonObject &object)
{
    QStringList keys = object.keys();
    keys.sort();
    return keys;
}

QStringList sorted(QStringList list)
{
    list.sort();
    return list;
}

// A decimal string in exact units of 10^-8, for balance arithmetic without floating point.
qint64 units(const QString &decimal)
{
    const bool negative = decimal.startsWith(QLatin1Char('-'));
    const QString digits = negative ? decimal.mid(1) : decimal;
    const qsizetype point = digits.indexOf(QLatin1Char('.'));
    const QString whole = point < 0 ? digits : digits.left(point);
    QString fraction = point < 0 ? QString() : digits.mid(point + 1);
    fraction = fraction.leftJustified(8, QLatin1Char('0'), true);
    const qint64 value = whole.toLongLong() * 100'000'000 + fraction.toLongLong();
    return negative ? -value : value;
}

// The balance of one asset in a {"balances":[...]} body, in units; 0 when absent.
qint64 available(const QJsonObject &account, const QString &asset)
{
    for (const QJsonValue &balance : account.value(QStringLiteral("balances")).toArray()) {
        if (balance.toObject().value(QStringLiteral("asset")).toString() == asset)
            return units(balance.toObject().value(QStringLiteral("available")).toString());
    }
    return 0;
}

// A raw gzip member (RFC 1952) inflated; none when it is not one.
std::optional<QByteArray> gunzip(const QByteArray &data)
{
    z_stream stream{};
    if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK)
        return std::nullopt;
    QByteArray input = data;
    stream.next_in = reinterpret_cast<Bytef *>(input.data());
    stream.avail_in = uInt(input.size());
    QByteArray out;
    QByteArray buffer(16384, Qt::Uninitialized);
    int result = Z_OK;
    do {
        stream.next_out = reinterpret_cast<Bytef *>(buffer.data());
        stream.avail_out = uInt(buffer.size());
        result = inflate(&stream, Z_NO_FLUSH);
        if (result != Z_OK && result != Z_STREAM_END) {
            inflateEnd(&stream);
            return std::nullopt;
        }
        out.append(buffer.constData(), buffer.size() - qsizetype(stream.avail_out));
    } while (result != Z_STREAM_END);
    inflateEnd(&stream);
    if (stream.avail_in != 0)
        return std::nullopt;
    return out;
}

// One exchange on its own connection that the server closes after answering ("Connection: close"): the
// head and whatever bytes followed it, for answers a body-reading client would wait on (HEAD).
struct ClosedExchange
{
    int status = 0;
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray rest;
    bool closed = false;

    QByteArray header(QByteArrayView name) const
    {
        for (const auto &[key, value] : headers) {
            if (key.compare(name, Qt::CaseInsensitive) == 0)
                return value;
        }
        return {};
    }
};

ClosedExchange exchangeUntilClose(quint16 port, const QByteArray &request)
{
    RawClient client(port);
    client.send(request);
    QTcpSocket &socket = client.socket();
    QByteArray bytes;
    QDeadlineTimer deadline(10'000);
    while (socket.state() == QAbstractSocket::ConnectedState && !deadline.hasExpired()) {
        socket.waitForReadyRead(50);
        bytes.append(socket.readAll());
    }
    bytes.append(socket.readAll());
    ClosedExchange exchange;
    exchange.closed = socket.state() != QAbstractSocket::ConnectedState;
    const qsizetype headEnd = bytes.indexOf("\r\n\r\n");
    if (headEnd < 0)
        return exchange;
    const QList<QByteArray> lines = bytes.left(headEnd).split('\n');
    exchange.status = lines.value(0).mid(9, 3).toInt();
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines[i].trimmed();
        const qsizetype colon = line.indexOf(':');
        if (colon > 0)
            exchange.headers.append({line.left(colon).trimmed(), line.mid(colon + 1).trimmed()});
    }
    exchange.rest = bytes.mid(headEnd + 4);
    return exchange;
}

QJsonObject errorOf(const ApiResponse &response)
{
    return response.object().value(QStringLiteral("error")).toObject();
}

// The expected status of a route for a caller: the route's access level decides 401 and 403.
enum class Access { Public, Viewer, Trader, Admin };

int expectedStatus(Access access, const QString &role, int success)
{
    if (access == Access::Public)
        return success;
    if (role == QLatin1String("anonymous"))
        return 401;
    const int rank = role == QLatin1String("viewer") ? 1 : role == QLatin1String("trader") ? 2 : 3;
    const int needed = access == Access::Viewer ? 1 : access == Access::Trader ? 2 : 3;
    return rank >= needed ? success : 403;
}

// The warnings "bourse.server" logs, on any thread, that a config file's [limits] is overridden by a stored
// setting, while it lives; every message still reaches the handler before it.
class OverrideWarnings final
{
public:
    OverrideWarnings()
    {
        const std::lock_guard lock(s_mutex);
        s_lines.clear();
        s_previous = qInstallMessageHandler(handle);
    }
    ~OverrideWarnings() { qInstallMessageHandler(s_previous); }
    OverrideWarnings(const OverrideWarnings &) = delete;
    OverrideWarnings &operator=(const OverrideWarnings &) = delete;

    // The lines so far, and none after.
    QStringList take()
    {
        const std::lock_guard lock(s_mutex);
        return std::exchange(s_lines, QStringList());
    }

private:
    static void handle(QtMsgType type, const QMessageLogContext &context, const QString &message)
    {
        if (type == QtWarningMsg && qstrcmp(context.category, "bourse.server") == 0
            && message.startsWith(QStringLiteral("the config file's [limits]"))) {
            const std::lock_guard lock(s_mutex);
            s_lines.append(message);
        }
        if (s_previous)
            s_previous(type, context, message);
    }

    static inline std::mutex s_mutex;
    static inline QStringList s_lines;
    static inline QtMessageHandler s_previous = nullptr;
};

} // namespace

class tst_ApiRoutes final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();

    void routeRoles_data();
    void routeRoles();
    void routing_data();
    void routing();
    void headRequests_data() { TestDatabases::addDriverRows(); }
    void headRequests();

    void registration_data();
    void registration();
    void loginFailures_data() { TestDatabases::addDriverRows(); }
    void loginFailures();
    void loginThrottle_data() { TestDatabases::addDriverRows(); }
    void loginThrottle();
    void refreshRotation_data() { TestDatabases::addDriverRows(); }
    void refreshRotation();
    void logout_data() { TestDatabases::addDriverRows(); }
    void logout();
    void disabledAndDemoted_data() { TestDatabases::addDriverRows(); }
    void disabledAndDemoted();
    void me_data() { TestDatabases::addDriverRows(); }
    void me();

    void adminUsers_data();
    void adminUsers();
    void funds_data();
    void funds();
    void addInstrument_data();
    void addInstrument();
    void haltAndResume_data() { TestDatabases::addDriverRows(); }
    void haltAndResume();
    void settingsValidation_data();
    void settingsValidation();
    void settingsMerge_data() { TestDatabases::addDriverRows(); }
    void settingsMerge();
    void registrationClosed_data() { TestDatabases::addDriverRows(); }
    void registrationClosed();
    void corsLive_data() { TestDatabases::addDriverRows(); }
    void corsLive();
    void rateLimitsLive_data() { TestDatabases::addDriverRows(); }
    void rateLimitsLive();
    void settingsFromConfig_data() { TestDatabases::addDriverRows(); }
    void settingsFromConfig();
    void systemStats_data() { TestDatabases::addDriverRows(); }
    void systemStats();

    void orderListing_data();
    void orderListing();
    void cancelAll_data() { TestDatabases::addDriverRows(); }
    void cancelAll();
    void cancelAfter_data() { TestDatabases::addDriverRows(); }
    void cancelAfter();
    void cancelAfterValidation_data();
    void cancelAfterValidation();
    void exportCsv_data() { TestDatabases::addDriverRows(); }
    void exportCsv();
    void candlesAndTicker_data() { TestDatabases::addDriverRows(); }
    void candlesAndTicker();
    void marketDataQueries_data();
    void marketDataQueries();
    void gzip_data() { TestDatabases::addDriverRows(); }
    void gzip();
    void requestId_data();
    void requestId();
    void metrics_data() { TestDatabases::addDriverRows(); }
    void metrics();

    void killSwitch_data() { TestDatabases::addDriverRows(); }
    void killSwitch();
    void audit_data();
    void audit();

private:
    struct Account
    {
        std::unique_ptr<ApiClient> client;
        qint64 id = 0;
        QString username;
    };

    // One venue per driver and the users the cases share.
    struct Venue
    {
        std::unique_ptr<TestVenue> server;
        std::unique_ptr<ApiClient> admin; // the first admin, tier unlimited
        qint64 adminId = 0;
        std::unique_ptr<ApiClient> anonymous;
        std::map<QString, Account> accounts; // by purpose
        qint64 viewerOrder = 0;              // an open order of the matrix viewer (placed while a trader)
        int counter = 0;

        quint16 port() const { return server->port(); }
        // A short unique token of [0-9A-Z], for names and symbols.
        QString unique() { return QString::number(++counter, 36).toUpper(); }
    };

    Venue *venue(Driver driver);
    std::unique_ptr<TestVenue> startVenue(Driver driver);
    bool setUp(Venue &venue);
    // The user for `purpose`, created (with a deposit of USD and BTC) and logged in on first use.
    Account *account(Venue &venue, const QString &purpose, const QString &role = QStringLiteral("trader"));
    static QByteArray limitBuy(const QString &symbol, const QString &price, const QString &quantity);
    // Places a resting limit buy; its id, or 0.
    static qint64 placeResting(ApiClient &client, const QString &symbol = QStringLiteral("BTC-USD"),
                               const QString &price = QStringLiteral("1.00"),
                               const QString &quantity = QStringLiteral("0.0010"));
    static QString orderStatus(ApiClient &client, qint64 order);
    static qint64 openOrderCount(ApiClient &client);
    static QString freshRefreshToken(quint16 port, const QString &username);
    static bool addInstrument(ApiClient &admin, const QString &symbol, const QString &base);

    std::unique_ptr<TestDatabases> m_databases;
    QTemporaryDir m_dir;
    std::map<Driver, std::unique_ptr<Venue>> m_venues;
};

void tst_ApiRoutes::initTestCase()
{
    QLoggingCategory::setFilterRules(QStringLiteral("bourse.access.info=false"));
    auto databases = TestDatabases::create();
    QVERIFY2(databases.hasValue(), qPrintable(databases.hasValue() ? QString() : databases.error()));
    m_databases = std::move(databases.value());
}

void tst_ApiRoutes::cleanupTestCase()
{
    m_venues.clear();
    m_databases.reset();
}

std::unique_ptr<TestVenue> tst_ApiRoutes::startVenue(Driver driver)
{
    const auto url = m_databases->fresh(driver);
    if (!url) {
        qWarning("%s", qPrintable(url.error()));
        return nullptr;
    }
    const QString dataDir = m_dir.filePath(TestDatabases::driverName(driver));
    QDir().mkpath(dataDir);
    auto started = TestVenue::start({*url, dataDir});
    if (!started) {
        qWarning("%s", qPrintable(started.error()));
        return nullptr;
    }
    return std::move(started.value());
}

tst_ApiRoutes::Venue *tst_ApiRoutes::venue(Driver driver)
{
    if (const auto found = m_venues.find(driver); found != m_venues.end())
        return found->second.get();
    auto made = std::make_unique<Venue>();
    made->server = startVenue(driver);
    if (!made->server || !setUp(*made)) {
        qWarning("the %s venue did not start", qPrintable(TestDatabases::driverName(driver)));
        return nullptr;
    }
    return m_venues.emplace(driver, std::move(made)).first->second.get();
}

bool tst_ApiRoutes::setUp(Venue &venue)
{
    venue.admin = adminClient(venue.port());
    venue.anonymous = std::make_unique<ApiClient>(venue.port());
    if (!venue.admin)
        return false;
    venue.adminId = venue.admin->get("/api/v1/me").object().value(QStringLiteral("id")).toInteger();
    // The admin drives every case: never rate-limited. Everyone else gets roomy buckets; the rate limit case
    // lowers them for a while.
    if (venue.admin
            ->request("PATCH", "/admin/users/" + QByteArray::number(venue.adminId), R"({"rate_limit_tier":"unlimited"})")
            .status
        != 200)
        return false;
    const QJsonObject roomy{{"capacity", kRoomyLimit}, {"refill_per_second", kRoomyLimit}};
    if (venue.admin
            ->request("PATCH", "/admin/settings",
                      compact(QJsonObject{{"rate_limits", QJsonObject{{"anonymous", roomy}, {"default", roomy}}}}))
            .status
        != 200)
        return false;
    // The matrix users; the viewer places an order while still a trader, then is demoted.
    Account *viewer = account(venue, QStringLiteral("matrix-viewer"));
    if (!account(venue, QStringLiteral("matrix-trader")) || !account(venue, QStringLiteral("matrix-admin"), "admin")
        || !viewer || !account(venue, QStringLiteral("victim")) || !account(venue, QStringLiteral("helper")))
        return false;
    venue.viewerOrder = placeResting(*viewer->client);
    if (venue.viewerOrder == 0
        || venue.admin->request("PATCH", "/admin/users/" + QByteArray::number(viewer->id), R"({"role":"viewer"})").status
               != 200)
        return false;
    return addInstrument(*venue.admin, QStringLiteral("MTXP-USD"), QStringLiteral("MTXP"))
           && addInstrument(*venue.admin, QStringLiteral("MTXK-USD"), QStringLiteral("MTXK"));
}

tst_ApiRoutes::Account *tst_ApiRoutes::account(Venue &venue, const QString &purpose, const QString &role)
{
    if (const auto found = venue.accounts.find(purpose); found != venue.accounts.end())
        return &found->second;
    Account made;
    made.username
        = QStringLiteral("u") + venue.unique().toLower() + QStringLiteral("_")
          + QString(purpose).replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9]")), QStringLiteral("_")).left(24);
    const std::optional<qint64> id = venue.admin->createUser(made.username, QString::fromLatin1(kPassword), role);
    if (!id || !venue.admin->deposit(*id, QStringLiteral("USD"), QStringLiteral("1000000"))
        || !venue.admin->deposit(*id, QStringLiteral("BTC"), QStringLiteral("100"))) {
        qWarning("cannot create the user for %s", qPrintable(purpose));
        return nullptr;
    }
    made.id = *id;
    made.client = std::make_unique<ApiClient>(venue.port());
    if (made.client->login(made.username, QString::fromLatin1(kPassword)).status != 200) {
        qWarning("cannot log in as %s", qPrintable(made.username));
        return nullptr;
    }
    return &venue.accounts.emplace(purpose, std::move(made)).first->second;
}

QByteArray tst_ApiRoutes::limitBuy(const QString &symbol, const QString &price, const QString &quantity)
{
    return compact(
        QJsonObject{{"symbol", symbol}, {"side", "buy"}, {"type", "limit"}, {"price", price}, {"quantity", quantity}});
}

qint64 tst_ApiRoutes::placeResting(ApiClient &client, const QString &symbol, const QString &price,
                                   const QString &quantity)
{
    const ApiResponse placed = client.post("/api/v1/orders", limitBuy(symbol, price, quantity));
    if (placed.status != 201) {
        qWarning("placing an order: %d %s", placed.status, placed.raw.body.constData());
        return 0;
    }
    return placed.object().value(QStringLiteral("id")).toInteger();
}

QString tst_ApiRoutes::orderStatus(ApiClient &client, qint64 order)
{
    return client.get("/api/v1/orders/" + QByteArray::number(order)).object().value(QStringLiteral("status")).toString();
}

qint64 tst_ApiRoutes::openOrderCount(ApiClient &client)
{
    const ApiResponse open = client.get("/api/v1/orders?status=open");
    return open.status == 200 ? open.object().value(QStringLiteral("total")).toInteger() : -1;
}

QString tst_ApiRoutes::freshRefreshToken(quint16 port, const QString &username)
{
    ApiClient client(port);
    return client.login(username, QString::fromLatin1(kPassword))
        .object()
        .value(QStringLiteral("refresh_token"))
        .toString();
}

bool tst_ApiRoutes::addInstrument(ApiClient &admin, const QString &symbol, const QString &base)
{
    const ApiResponse added = admin.post("/admin/instruments", compact(QJsonObject{{"symbol", symbol},
                                                                                   {"base", base},
                                                                                   {"quote", "USD"},
                                                                                   {"tick_size", "0.01"},
                                                                                   {"lot_size", "0.001"},
                                                                                   {"min_quantity", "0.001"}}));
    if (added.status != 201)
        qWarning("adding %s: %d %s", qPrintable(symbol), added.status, added.raw.body.constData());
    return added.status == 201;
}

// ---- every route × every role

void tst_ApiRoutes::routeRoles_data()
{
    QTest::addColumn<Driver>("driver");
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("role");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("code");

    struct Route
    {
        const char *method;
        const char *path;
        const char *body;
        Access access;
        int success;
    };
    // Placeholders, filled in per row: {unique}, {helper}, {refresh} (a live refresh token of the helper),
    // {own_refresh} (one of the caller), {own_order} (an open order of the caller), {victim} (a user id).
    const Route routes[] = {
        {"GET", "/health", "", Access::Public, 200},
        {"GET", "/metrics", "", Access::Public, 200},
        {"GET", "/openapi.json", "", Access::Public, 200},
        {"GET", "/docs", "", Access::Public, 200},
        {"GET", "/api/v1/time", "", Access::Public, 200},
        {"GET", "/api/v1/instruments", "", Access::Public, 200},
        {"GET", "/api/v1/orderbook/BTC-USD", "", Access::Public, 200},
        {"GET", "/api/v1/trades?symbol=BTC-USD", "", Access::Public, 200},
        {"GET", "/api/v1/trades/BTC-USD", "", Access::Public, 200},
        {"GET", "/api/v1/candles/BTC-USD", "", Access::Public, 200},
        {"GET", "/api/v1/ticker/BTC-USD", "", Access::Public, 200},
        {"POST", "/auth/register", R"({"username":"rg{unique}","password":"password-123"})", Access::Public, 201},
        {"POST", "/auth/login", R"({"username":"{helper}","password":"password-123"})", Access::Public, 200},
        {"POST", "/auth/refresh", R"({"refresh_token":"{refresh}"})", Access::Public, 200},
        {"POST", "/auth/logout", R"({"refresh_token":"{own_refresh}"})", Access::Viewer, 204},
        {"GET", "/api/v1/me", "", Access::Viewer, 200},
        {"GET", "/api/v1/orders", "", Access::Viewer, 200},
        {"GET", "/api/v1/orders/export.csv", "", Access::Viewer, 200},
        {"GET", "/api/v1/orders/{own_order}", "", Access::Viewer, 200},
        {"GET", "/api/v1/fills", "", Access::Viewer, 200},
        {"GET", "/api/v1/account", "", Access::Viewer, 200},
        {"POST", "/api/v1/orders",
         R"({"symbol":"BTC-USD","side":"buy","type":"limit","price":"1.00","quantity":"0.001"})", Access::Trader, 201},
        {"DELETE", "/api/v1/orders", "", Access::Trader, 200},
        {"POST", "/api/v1/orders/cancel-after", R"({"timeout_s":0})", Access::Trader, 200},
        {"PATCH", "/api/v1/orders/{own_order}", R"({"quantity":"0.0005"})", Access::Trader, 200},
        {"DELETE", "/api/v1/orders/{own_order}", "", Access::Trader, 200},
        {"GET", "/admin/users", "", Access::Admin, 200},
        {"POST", "/admin/users", R"({"username":"mx{unique}","password":"password-123"})", Access::Admin, 201},
        {"PATCH", "/admin/users/{victim}", R"({"rate_limit_tier":"default"})", Access::Admin, 200},
        {"POST", "/admin/users/{victim}/deposits", R"({"asset":"USD","amount":"5"})", Access::Admin, 201},
        {"POST", "/admin/users/{victim}/withdrawals", R"({"asset":"USD","amount":"1"})", Access::Admin, 201},
        {"POST", "/admin/instruments",
         R"({"symbol":"N{unique}-USD","base":"N{unique}","quote":"USD","tick_size":"0.01","lot_size":"0.01","min_quantity":"0.01"})",
         Access::Admin, 201},
        {"PATCH", "/admin/instruments/MTXP-USD", R"({"status":"trading"})", Access::Admin, 200},
        {"GET", "/admin/settings", "", Access::Admin, 200},
        {"PATCH", "/admin/settings", R"({"registration_open":true})", Access::Admin, 200},
        {"POST", "/admin/kill-switch", R"({"symbol":"MTXK-USD"})", Access::Admin, 200},
        {"GET", "/admin/system/stats", "", Access::Admin, 200},
        {"GET", "/admin/audit", "", Access::Admin, 200},
    };
    const QString roles[] = {QStringLiteral("anonymous"), QStringLiteral("viewer"), QStringLiteral("trader"),
                             QStringLiteral("admin")};
    for (const Driver driver : kDrivers) {
        for (const Route &route : routes) {
            for (const QString &role : roles) {
                const int status = expectedStatus(route.access, role, route.success);
                const QString code = status == 401   ? QStringLiteral("UNAUTHORIZED")
                                     : status == 403 ? QStringLiteral("FORBIDDEN")
                                                     : QString();
                QTest::addRow("%s %s %s as %s", qPrintable(TestDatabases::driverName(driver)), route.method, route.path,
                              qPrintable(role))
                    << driver << QByteArray(route.method) << QByteArray(route.path) << QByteArray(route.body) << role
                    << status << code;
            }
        }
    }
}

void tst_ApiRoutes::routeRoles()
{
    QFETCH(Driver, driver);
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, path);
    QFETCH(QByteArray, body);
    QFETCH(QString, role);
    QFETCH(int, status);
    QFETCH(QString, code);
    Venue *v = venue(driver);
    QVERIFY(v);

    Account *caller = role == QLatin1String("anonymous") ? nullptr : account(*v, QStringLiteral("matrix-") + role);
    ApiClient &client = caller ? *caller->client : *v->anonymous;
    const Account *helper = account(*v, QStringLiteral("helper"));
    const Account *victim = account(*v, QStringLiteral("victim"));
    QVERIFY(helper && victim);

    const auto fill = [&](QByteArray text) {
        if (text.contains("{own_order}")) {
            // A trader's or admin's own open order, placed now; the viewer's is one it placed while a trader.
            const qint64 order = caller && role != QLatin1String("viewer") ? placeResting(client) : v->viewerOrder;
            text.replace("{own_order}", QByteArray::number(order));
        }
        if (text.contains("{unique}"))
            text.replace("{unique}", v->unique().toLatin1());
        text.replace("{helper}", helper->username.toLatin1());
        text.replace("{victim}", QByteArray::number(victim->id));
        if (text.contains("{refresh}"))
            text.replace("{refresh}", freshRefreshToken(v->port(), helper->username).toLatin1());
        if (text.contains("{own_refresh}"))
            text.replace("{own_refresh}",
                         freshRefreshToken(v->port(), caller ? caller->username : helper->username).toLatin1());
        return text;
    };
    const QByteArray target = fill(path);
    const ApiResponse response = client.request(method, target, fill(body));
    QVERIFY2(response.status == status, qPrintable(QStringLiteral("%1 %2: %3 %4")
                                                       .arg(QString::fromLatin1(method), QString::fromLatin1(target))
                                                       .arg(response.status)
                                                       .arg(QString::fromUtf8(response.raw.body.left(300)))));
    QVERIFY(!response.raw.header("X-Request-Id").isEmpty());
    if (code.isEmpty()) {
        QVERIFY2(!response.object().contains(QStringLiteral("error")), response.raw.body.constData());
        return;
    }
    QCOMPARE(response.errorCode(), code);
    QCOMPARE(errorOf(response).value(QStringLiteral("request_id")).toString().toLatin1(),
             response.raw.header("X-Request-Id"));
    if (status == 401)
        QCOMPARE(response.raw.header("WWW-Authenticate"), QByteArray("Bearer"));
}

// ---- the router: unknown routes, wrong methods, OPTIONS, unknown symbols

void tst_ApiRoutes::routing_data()
{
    QTest::addColumn<Driver>("driver");
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<bool>("authenticated");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QStringList>("allow"); // the Allow header's methods, when there must be one

    struct Case
    {
        const char *name;
        const char *method;
        const char *path;
        bool authenticated;
        int status;
        const char *code;
        QStringList allow;
    };
    const QStringList ordersAllow{"GET", "POST", "DELETE", "HEAD", "OPTIONS"};
    const Case cases[] = {
        {"unknown route", "GET", "/nope", false, 404, "NOT_FOUND", {}},
        {"unknown api route", "GET", "/api/v1/nope", true, 404, "NOT_FOUND", {}},
        {"unknown version", "GET", "/api/v2/instruments", false, 404, "NOT_FOUND", {}},
        {"too deep", "GET", "/api/v1/orders/1/fills", true, 404, "NOT_FOUND", {}},
        {"trailing slash", "GET", "/api/v1/instruments/", false, 404, "NOT_FOUND", {}},
        {"case matters", "GET", "/API/V1/INSTRUMENTS", false, 404, "NOT_FOUND", {}},
        {"unknown admin route", "GET", "/admin/nope", false, 404, "NOT_FOUND", {}},
        {"unknown route is 404 before 401", "POST", "/admin/nope", false, 404, "NOT_FOUND", {}},
        {"PUT orders", "PUT", "/api/v1/orders", true, 405, "METHOD_NOT_ALLOWED", ordersAllow},
        {"PUT orders anonymous: 405 before 401", "PUT", "/api/v1/orders", false, 405, "METHOD_NOT_ALLOWED", ordersAllow},
        {"POST order id",
         "POST",
         "/api/v1/orders/7",
         true,
         405,
         "METHOD_NOT_ALLOWED",
         {"GET", "PATCH", "DELETE", "HEAD", "OPTIONS"}},
        {"POST health", "POST", "/health", false, 405, "METHOD_NOT_ALLOWED", {"GET", "HEAD", "OPTIONS"}},
        {"DELETE instruments",
         "DELETE",
         "/api/v1/instruments",
         false,
         405,
         "METHOD_NOT_ALLOWED",
         {"GET", "HEAD", "OPTIONS"}},
        {"GET login", "GET", "/auth/login", false, 405, "METHOD_NOT_ALLOWED", {"POST", "OPTIONS"}},
        {"HEAD login", "HEAD", "/auth/login", false, 405, "METHOD_NOT_ALLOWED", {"POST", "OPTIONS"}},
        {"PUT admin users", "PUT", "/admin/users", false, 405, "METHOD_NOT_ALLOWED", {"GET", "POST", "HEAD", "OPTIONS"}},
        {"DELETE settings",
         "DELETE",
         "/admin/settings",
         true,
         405,
         "METHOD_NOT_ALLOWED",
         {"GET", "PATCH", "HEAD", "OPTIONS"}},
        {"GET kill switch", "GET", "/admin/kill-switch", true, 405, "METHOD_NOT_ALLOWED", {"POST", "OPTIONS"}},
        {"OPTIONS orders", "OPTIONS", "/api/v1/orders", false, 204, "", ordersAllow},
        {"OPTIONS order id",
         "OPTIONS",
         "/api/v1/orders/12",
         false,
         204,
         "",
         {"GET", "PATCH", "DELETE", "HEAD", "OPTIONS"}},
        {"OPTIONS login", "OPTIONS", "/auth/login", false, 204, "", {"POST", "OPTIONS"}},
        {"OPTIONS unknown route", "OPTIONS", "/nope", false, 404, "NOT_FOUND", {}},
        {"unknown symbol orderbook", "GET", "/api/v1/orderbook/NOPE-USD", false, 404, "NOT_FOUND", {}},
        {"unknown symbol trades path", "GET", "/api/v1/trades/NOPE-USD", false, 404, "NOT_FOUND", {}},
        {"unknown symbol trades query", "GET", "/api/v1/trades?symbol=NOPE-USD", false, 404, "NOT_FOUND", {}},
        {"unknown symbol candles", "GET", "/api/v1/candles/NOPE-USD", false, 404, "NOT_FOUND", {}},
        {"unknown symbol ticker", "GET", "/api/v1/ticker/NOPE-USD", false, 404, "NOT_FOUND", {}},
        {"lower-case symbol", "GET", "/api/v1/ticker/btc-usd", false, 404, "NOT_FOUND", {}},
        {"unknown symbol orders filter", "GET", "/api/v1/orders?symbol=NOPE-USD", true, 404, "NOT_FOUND", {}},
        {"unknown symbol fills filter", "GET", "/api/v1/fills?symbol=NOPE-USD", true, 404, "NOT_FOUND", {}},
        {"unknown symbol cancel-all", "DELETE", "/api/v1/orders?symbol=NOPE-USD", true, 404, "NOT_FOUND", {}},
        {"unknown symbol halt", "PATCH", "/admin/instruments/NOPE-USD", true, 404, "NOT_FOUND", {}},
        {"unknown order", "GET", "/api/v1/orders/999999999", true, 404, "NOT_FOUND", {}},
        {"non-numeric order id", "GET", "/api/v1/orders/abc", true, 404, "NOT_FOUND", {}},
        {"order id 0", "GET", "/api/v1/orders/0", true, 404, "NOT_FOUND", {}},
        {"unknown user", "PATCH", "/admin/users/999999999", true, 404, "NOT_FOUND", {}},
    };
    for (const Driver driver : kDrivers) {
        for (const Case &c : cases) {
            QTest::addRow("%s %s", qPrintable(TestDatabases::driverName(driver)), c.name)
                << driver << QByteArray(c.method) << QByteArray(c.path) << c.authenticated << c.status
                << QString::fromLatin1(c.code) << c.allow;
        }
    }
}

void tst_ApiRoutes::routing()
{
    QFETCH(Driver, driver);
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, path);
    QFETCH(bool, authenticated);
    QFETCH(int, status);
    QFETCH(QString, code);
    QFETCH(QStringList, allow);
    Venue *v = venue(driver);
    QVERIFY(v);
    ApiClient &client = authenticated ? *v->admin : *v->anonymous;
    const QByteArray body = method != "PATCH"                 ? QByteArray()
                            : path.startsWith("/admin/users") ? QByteArray(R"({"active":true})")
                                                              : QByteArray(R"({"status":"halted"})");
    if (method == "HEAD") {
        // A HEAD answer has the head of the GET (or error) answer and no body.
        const ClosedExchange head
            = exchangeUntilClose(v->port(), "HEAD " + path + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        QCOMPARE(head.status, status);
        QVERIFY(head.rest.isEmpty());
        QStringList methods;
        for (const QByteArray &item : head.header("Allow").split(','))
            methods.append(QString::fromLatin1(item.trimmed()));
        QCOMPARE(sorted(methods), sorted(allow));
        return;
    }
    const ApiResponse response = client.request(method, path, body);
    QVERIFY2(response.status == status,
             qPrintable(QStringLiteral("%1: %2").arg(response.status).arg(QString::fromUtf8(response.raw.body))));
    QCOMPARE(response.errorCode(), code);
    if (!code.isEmpty()) {
        QCOMPARE(response.raw.header("Content-Type"), QByteArray("application/json"));
        QVERIFY(!errorOf(response).value(QStringLiteral("message")).toString().isEmpty());
    }
    if (allow.isEmpty()) {
        QVERIFY(!response.raw.hasHeader("Allow"));
    } else {
        QStringList methods;
        for (const QByteArray &item : response.raw.header("Allow").split(','))
            methods.append(QString::fromLatin1(item.trimmed()));
        QCOMPARE(sorted(methods), sorted(allow));
    }
    if (status == 204) {
        QVERIFY(response.raw.body.isEmpty());
        QVERIFY(!response.raw.hasHeader("Access-Control-Allow-Origin")); // no CORS origins are allowed
    }
}

void tst_ApiRoutes::headRequests()
{
    QFETCH(Driver, driver);
    Venue *v = venue(driver);
    QVERIFY(v);
    for (const QByteArray &path :
         {QByteArray("/api/v1/instruments"), QByteArray("/health"), QByteArray("/api/v1/orderbook/BTC-USD")}) {
        const ApiResponse get = v->anonymous->get(path);
        QCOMPARE(get.status, 200);
        const ClosedExchange head
            = exchangeUntilClose(v->port(), "HEAD " + path + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        QVERIFY(head.closed);
        QCOMPARE(head.status, 200);
        QVERIFY2(head.rest.isEmpty(), head.rest.constData()); // a HEAD answer has no body
        QCOMPARE(head.header("Content-Type"), get.raw.header("Content-Type"));
        if (path != "/health") // the uptime in /health may grow a digit between the two
            QCOMPARE(head.header("Content-Length"), get.raw.header("Content-Length"));
        QVERIFY(!head.header("X-Request-Id").isEmpty());
    }
    // HEAD of a private route still needs a token; of an unknown one is a 404 without a body.
    const ClosedExchange privateHead
        = exchangeUntilClose(v->port(), "HEAD /api/v1/account HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    QCOMPARE(privateHead.status, 401);
    QVERIFY(privateHead.rest.isEmpty());
    const ClosedExchange unknownHead
        = exchangeUntilClose(v->port(), "HEAD /nope HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    QCOMPARE(unknownHead.status, 404);
    QVERIFY(unknownHead.rest.isEmpty());
}

// ---- authentication

void tst_ApiRoutes::registration_data()
{
    QTest::addColumn<Driver>("driver");
    QTest::addColumn<QByteArray>("body"); // {name3} etc.: a unique name of that length; {existing}: a taken name
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("field");

    struct Case
    {
        const char *name;
        const char *body;
        int status;
        const char *code;
        const char *field;
    };
    const Case cases[] = {
        {"valid", R"({"username":"{name8}","password":"password-123"})", 201, "", ""},
        {"username of 3", R"({"username":"{name3}","password":"password-123"})", 201, "", ""},
        {"username of 32", R"({"username":"{name32}","password":"password-123"})", 201, "", ""},
        {"username with . _ -", R"({"username":"a.b_c-{name4}","password":"password-123"})", 201, "", ""},
        {"username of 2", R"({"username":"ab","password":"password-123"})", 400, "VALIDATION_ERROR", "username"},
        {"username of 33", R"({"username":"{name33}","password":"password-123"})", 400, "VALIDATION_ERROR", "username"},
        {"username with a space", R"({"username":"bad name","password":"password-123"})", 400, "VALIDATION_ERROR",
         "username"},
        {"username with @", R"({"username":"bad@name","password":"password-123"})", 400, "VALIDATION_ERROR", "username"},
        {"username not ASCII", R"({"username":"j\u00fcrgen","password":"password-123"})", 400, "VALIDATION_ERROR",
         "username"},
        {"username a number", R"({"username":12345,"password":"password-123"})", 400, "VALIDATION_ERROR", "username"},
        {"username missing", R"({"password":"password-123"})", 400, "VALIDATION_ERROR", "username"},
        {"password of 7", R"({"username":"{name8}","password":"1234567"})", 400, "VALIDATION_ERROR", "password"},
        {"password of 8", R"({"username":"{name8}","password":"12345678"})", 201, "", ""},
        {"password of 128", R"({"username":"{name8}","password":"{pw128}"})", 201, "", ""},
        {"password of 129", R"({"username":"{name8}","password":"{pw129}"})", 400, "VALIDATION_ERROR", "password"},
        {"password of 8 two-byte characters",
         R"({"username":"{name8}","password":"\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"})", 201, "", ""},
        {"password of 7 astral characters",
         R"({"username":"{name8}","password":"\ud83d\ude00\ud83d\ude00\ud83d\ude00\ud83d\ude00\ud83d\ude00\ud83d\ude00\ud83d\ude00"})",
         400, "VALIDATION_ERROR", "password"},
        {"password missing", R"({"username":"{name8}"})", 400, "VALIDATION_ERROR", "password"},
        {"a role is not the caller's to choose", R"({"username":"{name8}","password":"password-123","role":"admin"})",
         400, "VALIDATION_ERROR", "role"},
        {"taken", R"({"username":"{existing}","password":"password-123"})", 409, "CONFLICT", "username"},
        {"taken in another case", R"({"username":"{EXISTING}","password":"password-123"})", 409, "CONFLICT", "username"},
        {"not JSON", R"({"username":)", 400, "BAD_REQUEST", ""},
        {"not an object", R"(["a","b"])", 400, "BAD_REQUEST", ""},
    };
    for (const Driver driver : kDrivers) {
        for (const Case &c : cases) {
            QTest::addRow("%s %s", qPrintable(TestDatabases::driverName(driver)), c.name)
                << driver << QByteArray(c.body) << c.status << QString::fromLatin1(c.code)
                << QString::fromLatin1(c.field);
        }
    }
}

void tst_ApiRoutes::registration()
{
    QFETCH(Driver, driver);
    QFETCH(QByteArray, body);
    QFETCH(int, status);
    QFETCH(QString, code);
    QFETCH(QString, field);
    Venue *v = venue(driver);
    QVERIFY(v);
    const Account *existing = account(*v, QStringLiteral("helper"));
    QVERIFY(existing);
    const auto name = [v](int length) {
        const QString token = QStringLiteral("r") + v->unique().toLower();
        return (token + QString(length, QLatin1Char('x'))).left(length).toLatin1();
    };
    for (const int length : {3, 4, 8, 32, 33})
        body.replace("{name" + QByteArray::number(length) + '}', name(length));
    body.replace("{pw128}", QByteArray(128, 'p'));
    body.replace("{pw129}", QByteArray(129, 'p'));
    body.replace("{existing}", existing->username.toLatin1());
    body.replace("{EXISTING}", existing->username.toUpper().toLatin1());

    const qint64 usersBefore = v->admin->get("/admin/users").object().value(QStringLiteral("total")).toInteger();
    const ApiResponse response = v->anonymous->post("/auth/register", body);
    QVERIFY2(response.status == status, response.raw.body.constData());
    QCOMPARE(response.errorCode(), code);
    const qint64 usersAfter = v->admin->get("/admin/users").object().value(QStringLiteral("total")).toInteger();
    if (status != 201) {
        QCOMPARE(errorOf(response).value(QStringLiteral("field")).toString(), field);
        QCOMPARE(usersAfter, usersBefore); // nothing was created
        return;
    }
    QCOMPARE(usersAfter, usersBefore + 1);
    const QJsonObject user = response.object();
    QCOMPARE(sortedKeys(user), QStringList({"created_at", "id", "role", "username"}));
    QVERIFY(user.value(QStringLiteral("id")).toInteger() > 0);
    QCOMPARE(user.value(QStringLiteral("role")).toString(), QStringLiteral("trader"));
    QCOMPARE(user.value(QStringLiteral("username")).toString(),
             QJsonDocument::fromJson(body).object().value(QStringLiteral("username")).toString());
    QVERIFY(QRegularExpression(QStringLiteral(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$)"))
                .match(user.value(QStringLiteral("created_at")).toString())
                .hasMatch());
    // The new user can log in.
    ApiClient fresh(v->port());
    const QJsonObject credentials = QJsonDocument::fromJson(body).object();
    QCOMPARE(fresh
                 .login(credentials.value(QStringLiteral("username")).toString(),
                        credentials.value(QStringLiteral("password")).toString())
                 .status,
             200);
}

void tst_ApiRoutes::loginFailures()
{
    QFETCH(Driver, driver);
    Venue *v = venue(driver);
    QVERIFY(v);
    const Account *known = account(*v, QStringLiteral("login-failures"));
    QVERIFY(known);
    const ApiResponse wrongPassword = v->anonymous->post("/auth/login",
                                                         compact(QJsonObject{{"username", known->username},
                                                                             {"password", "not-the-password"}}));
    const ApiResponse unknownUser = v->anonymous->post("/auth/login",
                                                       compact(QJsonObject{{"username", "nobody-" + v->unique()},
                                                                           {"password", "not-the-password"}}));
    QCOMPARE(wrongPassword.status, 401);
    QCOMPARE(unknownUser.status, 401);
    QCOMPARE(wrongPassword.errorCode(), QStringLiteral("UNAUTHORIZED"));
    QJsonObject wrong = errorOf(wrongPassword);
    QJsonObject unknown = errorOf(unknownUser);
    QVERIFY(wrong.value(QStringLiteral("request_id")) != unknown.value(QStringLiteral("request_id")));
    wrong.remove(QStringLiteral("request_id"));
    unknown.remove(QStringLiteral("request_id"));
    QCOMPARE(wrong, unknown);
    QCOMPARE(wrongPassword.raw.header("WWW-Authenticate"), unknownUser.raw.header("WWW-Authenticate"));

    // The response gives no token, and the right password still works.
    QVERIFY(!wrongPassword.object().contains(QStringLiteral("access_token")));
    ApiClient client(v->port());
    const ApiResponse ok = client.login(known->username, QString::fromLatin1(kPassword));
    QCOMPARE(ok.status, 200);
    const QJsonObject tokens = ok.object();
    QCOMPARE(sortedKeys(tokens), QStringList({"access_token", "expires_in", "refresh_token", "token_type"}));
    QCOMPARE(tokens.value(QStringLiteral("token_type")).toString(), QStringLiteral("Bearer"));
    QCOMPARE(tokens.value(QStringLiteral("expires_in")).toInteger(), 900);
    // The login name is case-insensitive, like the uniqueness of usernames.
    QCOMPARE(ApiClient(v->port()).login(known->username.toUpper(), QString::fromLatin1(kPassword)).status, 200);
    // A bad body is a 400, not a 401.
    const ApiResponse missing = v->anonymous->post("/auth/login", compact(QJsonObject{{"username", known->username}}));
    QCOMPARE(missing.status, 400);
    QCOMPARE(missing.errorCode(), QStringLiteral("VALIDATION_ERROR"));
    QCOMPARE(missing.errorField(), QStringLiteral("password"));
    const ApiResponse text = v->anonymous->request("POST", "/auth/login", "username=a&password=b", {},
                                                   "application/x-www-form-urlencoded");
    QCOMPARE(text.status, 415);
    QCOMPARE(text.errorCode(), QStringLiteral("UNSUPPORTED_MEDIA_TYPE"));
}

void tst_ApiRoutes::loginThrottle()
{
    QFETCH(Driver, driver);
    Venue *v = venue(driver);
    QVERIFY(v);
    const Account *target = account(*v, QStringLiteral("throttled"));
    const Account *bystander = account(*v, QStringLiteral("not-throttled"));
    QVERIFY(target && bystander);
    const QByteArray wrong = compact(QJsonObject{{"username", target->username}, {"password", "wrong-password"}});
    // The default: 10 failures for one account (whatever the case of the name) within 15 minutes.
    for (int attempt = 1; attempt <= 10; ++attempt) {
        ApiClient client(v->port()); // a new connection each time: the throttle is per account, not per client
        const QByteArray body = attempt % 2 ? wrong
                                            : compact(QJsonObject{{"username", target->username.toUpper()},
                                                                  {"password", "wrong-password"}});
        const ApiResponse failed = client.post("/auth/login", body);
        QVERIFY2(failed.status == 401, qPrintable(QStringLiteral("attempt %1: %2").arg(attempt).arg(failed.status)));
    }
    const ApiResponse throttled = v->anonymous->post("/auth/login", wrong);
    QCOMPARE(throttled.status, 429);
    QCOMPARE(throttled.errorCode(), QStringLiteral("RATE_LIMITED"));
    bool ok = false;
    const int retryAfter = throttled.raw.header("Retry-After").toInt(&ok);
    QVERIFY(ok);
    QVERIFY(retryAfter >= 1);
    QVERIFY(retryAfter <= 900);
    // Even the right password waits now; another account does not.
    ApiClient right(v->port());
    const ApiResponse blocked = right.login(target->username, QString::fromLatin1(kPassword));
    QCOMPARE(blocked.status, 429);
    QCOMPARE(blocked.errorCode(), QStringLiteral("RATE_LIMITED"));
    QVERIFY(blocked.raw.header("Retry-After").toInt() >= 1);
    QCOMPARE(ApiClient(v->port()).login(bystander->username, QString::fromLatin1(kPassword)).status, 200);
    // Tokens issued before the throttle keep working.
    QCOMPARE(target->client->get("/api/v1/me").status, 200);
}

void tst_ApiRoutes::refreshRotation()
{
    QFETCH(Driver, driver);
    Venue *v = venue(driver);
    QVERIFY(v);
    const Account *user = account(*v, QStringLiteral("refresher"));
    QVERIFY(user);
    ApiClient client(v->port());
    const ApiResponse login = client.login(user->username, QString::fromLatin1(kPassword));
    QCOMPARE(login.status, 200);
    const QString access1 = login.object().value(QStringLiteral("access_token")).toString();
    const QString refresh1 = login.object().value(QStringLiteral("refresh_token")).toString();

    // Tokens of one kind never pass for the other.
    const ApiResponse accessAsRefresh = v->anonymous->post("/auth/refresh",
                                                           compact(QJsonObject{{"refresh_token", access1}}));
    QCOMPARE(accessAsRefresh.status, 401);
    QCOMPARE(accessAsRefresh.errorCode(), QStringLiteral("UNAUTHORIZED"));
    ApiClient refreshAsAccess(v->port());
    refreshAsAccess.setToken(refresh1.toLatin1());
    QCOMPARE(refreshAsAccess.get("/api/v1/me").status, 401);

    const ApiResponse rotated = v->anonymous->post("/auth/refresh", compact(QJsonObject{{"refresh_token", refresh1}}));
    QCOMPARE(rotated.status, 200);
    QCOMPARE(sortedKeys(rotated.object()), QStringList({"access_token", "expires_in", "refresh_token", "token_type"}));
    const QString access2 = rotated.object().value(QStringLiteral("access_token")).toString();
    const QString refresh2 = rotated.object().value(QStringLiteral("refresh_token")).toString();
    QVERIFY(access2 != access1);
    QVERIFY(refresh2 != refresh1);
    ApiClient second(v->port());
    second.setToken(access2.toLatin1());
    QCOMPARE(second.get("/api/v1/me").object().value(QStringLiteral("id")).toInteger(), user->id);

    // The old refresh token is spent; presenting it again is a theft signal that revokes the whole family,
    // the newest refresh token included.
    const ApiResponse reused = v->anonymous->post("/auth/refresh", compact(QJsonObject{{"refresh_token", refresh1}}));
    QCOMPARE(reused.status, 401);
    QCOMPARE(reused.errorCode(), QStringLiteral("UNAUTHORIZED"));
    const ApiResponse newest = v->anonymous->post("/auth/refresh", compact(QJsonObject{{"refresh_token", refresh2}}));
    QCOMPARE(newest.status, 401);
    QCOMPARE(newest.errorCode(), QStringLiteral("UNAUTHORIZED"));

    // The family's access tokens are revoked with it (resources/openapi.json: every token of the family).
    QCOMPARE(second.get("/api/v1/me").status, 401);
    QCOMPARE(client.get("/api/v1/me").status, 401);
    // Another login is a new family, untouched by that.
    QCOMPARE(user->client->get("/api/v1/me").status, 200);
    const QString other = freshRefreshToken(v->port(), user->username);
    QCOMPARE(v->anonymous->post("/auth/refresh", compact(QJsonObject{{"refresh_token", other}})).status, 200);
    // Garbage is a 401, a missing member a 400.
    QCOMPARE(v->anonymous->post("/auth/refresh", R"({"refresh_token":"not.a.jwt"})").status, 401);
    const ApiResponse missing = v->anonymous->post("/auth/refresh", "{}");
    QCOMPARE(missing.status, 400);
    QCOMPARE(missing.errorField(), QStringLiteral("refresh_token"));
}

void tst_ApiRoutes::logout()
{
    QFETCH(Driver, driver);
    Venue *v = venue(driver);
    QVERIFY(v);
    const Account *user = account(*v, QStringLiteral("leaver"));
    const Account *other = account(*v, QStringLiteral("other-leaver"));
    QVERIFY(user && other);
    ApiClient client(v->port());
    const ApiResponse login = client.login(user->username, QString::fromLatin1(kPassword));
    QCOMPARE(login.status, 200);
    const QByteArray refresh = compact(
        QJsonObject{{"refresh_token", login.object().value(QStringLiteral("refresh_token"))}});

    // Without the access token: 401. With another user's refresh token: 401 and nothing revoked.
    QCOMPARE(v->anonymous->post("/auth/logout", refresh).status, 401);
    const ApiResponse foreign = other->client->post("/auth/logout", refresh);
    QCOMPARE(foreign.status, 401);
    QCOMPARE(foreign.errorCode(), QStringLiteral("UNAUTHORIZED"));

    const ApiResponse out = client.post("/auth/logout", refresh);
    QCOMPARE(out.status, 204);
    QVERIFY(out.raw.body.isEmpty());
    QVERIFY(!out.raw.hasHeader("Content-Type"));
    const ApiResponse dead = v->anonymous->post("/auth/refresh", refresh);
    QCOMPARE(dead.status, 401);
    QCOMPARE(dead.errorCode(), QStringLiteral("UNAUTHORIZED"));
    // The access tokens of that login stop working too (resources/openapi.json); the user's other logins
    // are other families and keep working.
    const ApiResponse revoked = client.get("/api/v1/me");
    QCOMPARE(revoked.status, 401);
    QCOMPARE(revoked.errorCode(), QStringLiteral("UNAUTHORIZED"));
    QCOMPARE(user->client->get("/api/v1/me").status, 200);
    // Logging out again, from another login, is idempotent.
    QCOMPARE(user->client->post("/auth/logout", refresh).status, 204);
    QCOMPARE(user->client->get("/api/v1/me").status, 200);
    const QString other2 = freshRefreshToken(v->port(), user->username);
    QCOMPARE(v->anonymous->post("/auth/refresh", compact(QJsonObject{{"refresh_token", other2}})).status, 200);
}

void tst_ApiRoutes::disabledAndDemoted()
{
    QFETCH(Driver, driver);
    Venue *v = venue(driver);
    QVERIFY(v);
    Account *disabled = account(*v, QStringLiteral("to-disable"));
    Account *demoted = account(*v, QStringLiteral("to-demote"));
    QVERIFY(disabled && demoted);
    const QString refresh = freshRefreshToken(v->port(), disabled->username);
    QCOMPARE(disabled->client->get("/api/v1/me").status, 200);

    const ApiResponse off = v->admin->request("PATCH", "/admin/users/" + QByteArray::number(disabled->id),
                                              R"({"active":false})");
    QCOMPARE(off.status, 200);
    QCOMPARE(off.object().value(QStringLiteral("active")).toBool(), false);
    // The very next request with the still-unexpired access token.
    const ApiResponse next = disabled->client->get("/api/v1/me");
    QCOMPARE(next.status, 401);
    QCOMPARE(next.errorCode(), QStringLiteral("UNAUTHORIZED"));
    QCOMPARE(disabled->client->get("/api/v1/instruments").status, 401); // a token is checked wherever it is sent
    QCOMPARE(v->anonymous->post("/auth/refresh", compact(QJsonObject{{"refresh_token", refresh}})).status, 401);
    // A disabled user's login looks like bad credentials.
    const ApiResponse login = ApiClient(v->port()).login(disabled->username, QString::fromLatin1(kPassword));
    QCOMPARE(login.status, 401);
    QCOMPARE(login.errorCode(), QStringLiteral("UNAUTHORIZED"));
    // Enabled again, the same token works again.
    QCOMPARE(v->admin->request("PATCH", "/admin/users/" + QByteArray::number(disabled->id), R"({"active":true})").status,
             200);
    QCOMPARE(disabled->client->get("/api/v1/me").status, 200);

    QVERIFY(placeResting(*demoted->client) > 0);
    const ApiResponse role = v->admin->request("PATCH", "/admin/users/" + QByteArray::number(demoted->id),
                                               R"({"role":"viewer"})");
    QCOMPARE(role.status, 200);
    QCOMPARE(role.object().value(QStringLiteral("role")).toString(), QStringLiteral("viewer"));
    const qint64 openBefore = openOrderCount(*demoted->client);
    const ApiResponse refused = demoted->client->post("/api/v1/orders", limitBuy("BTC-USD", "1.00", "0.001"));
    QCOMPARE(refused.status, 403);
    QCOMPARE(refused.errorCode(), QStringLiteral("FORBIDDEN"));
    QCOMPARE(openOrderCount(*demoted->client), openBefore); // nothing was placed
    QCOMPARE(demoted->client->get("/api/v1/me").object().value(QStringLiteral("role")).toString(),
             QStringLiteral("viewer"));
    QCOMPARE(demoted->client->request("DELETE", "/api/v1/orders").status, 403);
    // Promoted back, the same token trades again.
    QCOMPARE(v->admin->request("PATCH", "/admin/users/" + QByteArray::number(demoted->id), R"({"role":"trader"})").status,
             200);
    QCOMPARE(demoted->client->post("/api/v1/orders", limitBuy("BTC-USD", "1.00", "0.001")).status, 201);
}

void tst_ApiRoutes::me()
{
    QFETCH(Driver, driver);
    Venue *v = venue(driver);
    QVERIFY(v);
    for (const QString &role : {QStringLiteral("viewer"), QStringLiteral("trader"), QStringLiteral("admin")}) {
        const Account *user = account(*v, QStringLiteral("matrix-") + role);
        QVERIFY(user);
        const ApiResponse me = user->client->get("/api/v1/me");
        QCOMPARE(me.status, 200);
        const QJsonObject object = me.object();
        QCOMPARE(sortedKeys(object), QStringList({"created_at", "id", "role", "username"}));
        QCOMPARE(object.value(QStringLiteral("id")).toInteger(), user->id);
        QCOMPARE(object.value(QStringLiteral("username")).toString(), user->username);
        QCOMPARE(object.value(QStringLiteral("role")).toString(), role);
        QVERIFY(object.value(QStringLiteral("created_at")).toString().endsWith(QLatin1Char('Z')));
    }
    ApiClient forged(v->port());
    forged.setToken("eyJhbGciOiJub25lIn0.eyJzdWIiOjF9.");
    QCOMPARE(forged.get("/api/v1/me").status, 401);
    const ApiResponse notBearer = v->anonymous->request("GET", "/api/v1/me", {}, {"Authorization: Basic YWRtaW46eA=="});
    QCOMPARE(notBearer.status, 401);
    QCOMPARE(notBearer.errorCode(), QStringLiteral("UNAUTHORIZED"));
}

// ---- administration

void tst_ApiRoutes::adminUsers_data()
{
    QTest::addColumn<Driver>("driver");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("role"); // of the created user

    struct Case
    {
        const char *name;
        const char *body;
        int status;
        const char *code;
        const char *field;
        const char *role;
    };
    const Case cases[] = {
        {"role defaults to trader", R"({"username":"{name}","password":"password-123"})", 201, "", "", "trader"},
        {"viewer", R"({"username":"{name}","password":"password-123","role":"viewer"})", 201, "", "", "viewer"},
        {"admin", R"({"username":"{name}","password":"password-123","role":"admin"})", 201, "", "", "admin"},
        {"bad role", R"({"username":"{name}","password":"password-123","role":"root"})", 400, "VALIDATION_ERROR",
         "role", ""},
        {"role not a string", R"({"username":"{name}","password":"password-123","role":1})", 400, "VALIDATION_ERROR",
         "role", ""},
        {"bad username", R"({"username":"x","password":"password-123"})", 400, "VALIDATION_ERROR", "username", ""},
        {"short password", R"({"username":"{name}","password":"short"})", 400, "VALIDATION_ERROR", "password", ""},
        {"unknown member", R"({"username":"{name}","password":"password-123","active":false})", 400, "VALIDATION_ERROR",
         "active", ""},
        {"taken", R"({"username":"admin","password":"password-123"})", 409, "CONFLICT", "username", ""},
        {"taken in another case", R"({"username":"ADMIN","password":"password-123"})", 409, "CONFLICT", "username", ""},
    };
    for (const Driver driver : kDrivers) {
        for (const Case &c : cases) {
            QTest::addRow("%s %s", qPrintable(TestDatabases::driverName(driver)), c.name)
                << driver << QByteArray(c.body) << c.status << QString::fromLatin1(c.code)
                << QString::fromLatin1(c.field) << QString::fromLatin1(c.role);
        }
    }
}

void tst_ApiRoutes::adminUsers()
{
    QFETCH(Driver, driver);
    QFETCH(QByteArray, body);
    QFETCH(int, status);
    QFETCH(QString, code);
    QFETCH(QString, field);
    QFETCH(QString, role);
    Venue *v = venue(driver);
    QVERIFY(v);
    body.replace("{name}", "adm" + v->unique().toLower().toLatin1());

    const ApiResponse before = v->admin->get("/admin/users?page_size=2");
    QCOMPARE(before.status, 200);
    const QJsonObject page = before.object();
    QCOMPARE(sortedKeys(page), QStringList({"data", "page", "page_size", "total"}));
    QCOMPARE(page.value(QStringLiteral("page")).toInt(), 1);
    QCOMPARE(page.value(QStringLiteral("page_size")).toInt(), 2);
    QCOMPARE(page.value(QStringLiteral("data")).toArray().size(), 2);
    const qint64 total = page.value(QStringLiteral("total")).toInteger();
    QVERIFY(total >= 2);
    const QJsonObject first = page.value(QStringLiteral("data")).toArray().at(0).toObject();
    QCOMPARE(sortedKeys(first),
             QStringList({"active", "created_at", "id", "rate_limit_tier", "role", "updated_at", "username"}));
    QVERIFY(!first.contains(QStringLiteral("password_hash")));
    // Newest first.
    QVERIFY(first.value(QStringLiteral("id")).toInteger()
            > page.value(QStringLiteral("data")).toArray().at(1).toObject().value(QStringLiteral("id")).toInteger());

    const ApiResponse created = v->admin->post("/admin/users", body);
    QVERIFY2(created.status == status, created.raw.body.constData());
    QCOMPARE(created.errorCode(), code);
    const qint64 after = v->admin->get("/admin/users?page_size=1").object().value(QStringLiteral("total")).toInteger();
    if (status != 201) {
        QCOMPARE(created.errorField(), field);
        QCOMPARE(after, total);
        return;
    }
    QCOMPARE(after, total + 1);
    const QJsonObject user = created.object();
    QCOMPARE(user.value(QStringLiteral("role")).toString(), role);
    QCOMPARE(user.value(QStringLiteral("active")).toBool(), true);
    QCOMPARE(user.value(QStringLiteral("rate_limit_tier")).toString(), QStringLiteral("default"));
    // The newest user heads the first page.
    const ApiResponse newest = v->admin->get("/admin/users?page=1&page_size=1");
    QCOMPARE(newest.object().value(QStringLiteral("data")).toArray().at(0).toObject().value(QStringLiteral("id")),
             user.value(QStringLiteral("id")));
}

void tst_ApiRoutes::funds_data()
{
    QTest::addColumn<Driver>("driver");
    QTest::addColumn<QByteArray>("kind"); // deposits | withdrawals
    QTest::addColumn<QByteArray>("user"); // {user} or a literal
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("field");
    QTest::addColumn<qint64>("change"); // of the user's available USD, in units of 10^-8

    struct Case
    {
        const char *name;
        const char *kind;
        const char *user;
        const char *body;
        int status;
        const char *code;
        const char *field;
        qint64 change;
    };
    const qint64 unit = 100'000'000;
    const Case cases[] = {
        {"deposit", "deposits", "{user}", R"({"asset":"USD","amount":"250.50"})", 201, "", "", 25050 * unit / 100},
        {"deposit as a number", "deposits", "{user}", R"({"asset":"USD","amount":12.25})", 201, "", "",
         1225 * unit / 100},
        {"withdrawal", "withdrawals", "{user}", R"({"asset":"USD","amount":"100"})", 201, "", "", -100 * unit},
        {"withdrawal over available", "withdrawals", "{user}", R"({"asset":"USD","amount":"999999999"})", 400,
         "INSUFFICIENT_BALANCE", "", 0},
        {"deposit of an unknown asset", "deposits", "{user}", R"({"asset":"DOGE","amount":"1"})", 400,
         "VALIDATION_ERROR", "asset", 0},
        {"withdrawal of an unknown asset", "withdrawals", "{user}", R"({"asset":"DOGE","amount":"1"})", 400,
         "VALIDATION_ERROR", "asset", 0},
        {"deposit to an unknown user", "deposits", "999999999", R"({"asset":"USD","amount":"1"})", 404, "NOT_FOUND", "",
         0},
        {"withdrawal from an unknown user", "withdrawals", "999999999", R"({"asset":"USD","amount":"1"})", 404,
         "NOT_FOUND", "", 0},
        {"deposit to a non-numeric user", "deposits", "abc", R"({"asset":"USD","amount":"1"})", 404, "NOT_FOUND", "", 0},
        {"negative amount", "deposits", "{user}", R"({"asset":"USD","amount":"-5"})", 400, "VALIDATION_ERROR", "amount",
         0},
        {"zero amount", "deposits", "{user}", R"({"asset":"USD","amount":"0"})", 400, "VALIDATION_ERROR", "amount", 0},
        {"too many decimals", "deposits", "{user}", R"({"asset":"USD","amount":"1.123456789"})", 400,
         "VALIDATION_ERROR", "amount", 0},
        {"amount missing", "deposits", "{user}", R"({"asset":"USD"})", 400, "VALIDATION_ERROR", "amount", 0},
        {"unknown member", "deposits", "{user}", R"({"asset":"USD","amount":"1","note":"x"})", 400, "VALIDATION_ERROR",
         "note", 0},
        {"not JSON", "deposits", "{user}", R"({"asset":)", 400, "BAD_REQUEST", "", 0},
    };
    for (const Driver driver : kDrivers) {
        for (const Case &c : cases) {
            QTest::addRow("%s %s", qPrintable(TestDatabases::driverName(driver)), c.name)
                << driver << QByteArray(c.kind) << QByteArray(c.user) << QByteArray(c.body) << c.status
                << QString::fromLatin1(c.code) << QString::fromLatin1(c.field) << c.change;
        }
    }
}

void tst_ApiRoutes::funds()
{
    QFETCH(Driver, driver);
    QFETCH(QByteArray, kind);
    QFETCH(QByteArray, user);
    QFETCH(QByteArray, body);
    QFETCH(int, status);
    QFETCH(QString, code);
    QFETCH(QString, field);
    QFETCH(qint64, change);
    Venue *v = venue(driver);
    QVERIFY(v);
    Account *holder = account(*v, QStringLiteral("funds"));
    QVERIFY(holder);
    user.replace("{user}", QByteArray::number(holder->id));
    const ApiResponse before = holder->client->get("/api/v1/account");
    QCOMPARE(before.status, 200);

    const ApiResponse response = v->admin->post("/admin/users/" + user + '/' + kind, body);
    QVERIFY2(response.status == status, response.raw.body.constData());
    QCOMPARE(response.errorCode(), code);
    const ApiResponse after = holder->client->get("/api/v1/account");
    QCOMPARE(available(after.object(), QStringLiteral("USD")) - available(before.object(), QStringLiteral("USD")),
             change);
    QCOMPARE(available(after.object(), QStringLiteral("BTC")), available(before.object(), QStringLiteral("BTC")));
    if (status != 201) {
        QCOMPARE(response.errorField(), field);
        if (code == QLatin1String("INSUFFICIENT_BALANCE")) {
            const QJsonObject context = errorOf(response).value(QStringLiteral("context")).toObject();
            QCOMPARE(units(context.value(QStringLiteral("required")).toString()), 999999999 * qint64(100'000'000));
            QCOMPARE(units(context.value(QStringLiteral("available")).toString()),
                     available(before.object(), QStringLiteral("USD")));
        }
        return;
    }
    // 201 with the user's account (resources/openapi.json: AccountBalances).
    const QJsonObject account = response.object();
    QCOMPARE(account.value(QStringLiteral("user_id")).toInteger(), holder->id);
    QCOMPARE(available(account, QStringLiteral("USD")), available(after.object(), QStringLiteral("USD")));
    for (const QJsonValue &value : account.value(QStringLiteral("balances")).toArray()) {
        const QJsonObject balance = value.toObject();
        QCOMPARE(sortedKeys(balance), QStringList({"asset", "available", "reserved", "total"}));
        QCOMPARE(units(balance.value(QStringLiteral("total")).toString()),
                 units(balance.value(QStringLiteral("available")).toString())
                     + units(balance.value(QStringLiteral("reserved")).toString()));
    }
}

void tst_ApiRoutes::addInstrument_data()
{
    QTest::addColumn<Driver>("driver");
    QTest::addColumn<QByteArray>("body"); // {S}: a new unique symbol stem
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("field");

    struct Case
    {
        const char *name;
        const char *body;
        int status;
        const char *code;
        const char *field;
    };
    const Case cases[] = {
        {"valid",
         R"({"symbol":"{S}-USD","base":"{S}","quote":"USD","tick_size":"0.001","lot_size":"0.01","min_quantity":"0.05"})",
         201, "", ""},
        {"numbers", R"({"symbol":"{S}-USD","base":"{S}","quote":"USD","tick_size":0.5,"lot_size":1,"min_quantity":1})",
         201, "", ""},
        {"duplicate",
         R"({"symbol":"BTC-USD","base":"BTC","quote":"USD","tick_size":"0.01","lot_size":"0.0001","min_quantity":"0.0001"})",
         409, "CONFLICT", ""},
        {"zero tick",
         R"({"symbol":"{S}-USD","base":"{S}","quote":"USD","tick_size":"0","lot_size":"0.01","min_quantity":"0.01"})",
         400, "VALIDATION_ERROR", "tick_size"},
        {"negative tick",
         R"({"symbol":"{S}-USD","base":"{S}","quote":"USD","tick_size":"-0.01","lot_size":"0.01","min_quantity":"0.01"})",
         400, "VALIDATION_ERROR", "tick_size"},
        {"tick not a number",
         R"({"symbol":"{S}-USD","base":"{S}","quote":"USD","tick_size":"abc","lot_size":"0.01","min_quantity":"0.01"})",
         400, "VALIDATION_ERROR", "tick_size"},
        {"zero lot",
         R"({"symbol":"{S}-USD","base":"{S}","quote":"USD","tick_size":"0.01","lot_size":"0","min_quantity":"0.01"})",
         400, "VALIDATION_ERROR", "lot_size"},
        {"minimum off lot",
         R"({"symbol":"{S}-USD","base":"{S}","quote":"USD","tick_size":"0.01","lot_size":"0.01","min_quantity":"0.015"})",
         400, "VALIDATION_ERROR", "min_quantity"},
        {"same base and quote",
         R"({"symbol":"{S}-USD","base":"USD","quote":"USD","tick_size":"0.01","lot_size":"0.01","min_quantity":"0.01"})",
         400, "VALIDATION_ERROR", ""},
        {"lower-case symbol",
         R"({"symbol":"abc-usd","base":"{S}","quote":"USD","tick_size":"0.01","lot_size":"0.01","min_quantity":"0.01"})",
         400, "VALIDATION_ERROR", "symbol"},
        {"symbol missing", R"({"base":"{S}","quote":"USD","tick_size":"0.01","lot_size":"0.01","min_quantity":"0.01"})",
         400, "VALIDATION_ERROR", "symbol"},
        {"unknown member",
         R"({"symbol":"{S}-USD","base":"{S}","quote":"USD","tick_size":"0.01","lot_size":"0.01","min_quantity":"0.01","status":"halted"})",
         400, "VALIDATION_ERROR", "status"},
    };
    for (const Driver driver : kDrivers) {
        for (const Case &c : cases) {
            QTest::addRow("%s %s", qPrintable(TestDatabases::driverName(driver)), c.name)
                << driver << QByteArray(c.body) << c.status << QString::fromLatin1(c.code)
                << QString::fromLatin1(c.field);
        }
    }
}

void tst_ApiRoutes::addInstrument()
{
    QFETCH(Driver, driver);
    QFETCH(QByteArray, body);
    QFETCH(int, status);
    QFETCH(QString, code);
    QFETCH(QString, field);
    Venue *v = venue(driver);
    QVERIFY(v);
    body.replace("{S}", "I" + v->unique().toLatin1());
    const QJsonArray before = v->anonymous->get("/api/v1/instruments").json.array();
    const ApiResponse added = v->admin->post("/admin/instruments", body);
    QVERIFY2(added.status == status, added.raw.body.constData());
    QCOMPARE(added.errorCode(), code);
    const QJsonArray after = v->anonymous->get("/api/v1/instruments").json.array();
    if (status != 201) {
        if (!field.isEmpty())
            QCOMPARE(added.errorField(), field);
        QCOMPARE(after, before); // nothing changed
        return;
    }
    QCOMPARE(after.size(), before.size() + 1);
    const QJsonObject instrument = added.object();
    const QJsonObject sent = QJsonDocument::fromJson(body).object();
    QCOMPARE(sortedKeys(instrument),
             QStringList({"base", "lot_size", "min_quantity", "quote", "status", "symbol", "tick_size"}));
    QCOMPARE(instrument.value(QStringLiteral("symbol")), sent.value(QStringLiteral("symbol")));
    QCOMPARE(instrument.value(QStringLiteral("status")).toString(), QStringLiteral("trading"));
    QCOMPARE(units(instrument.value(QStringLiteral("tick_size")).toString()),
             units(sent.value(QStringLiteral("tick_size")).toVariant().toString()));
    QVERIFY(after.contains(instrument));
    // It trades at once.
    const QString symbol = instrument.value(QStringLiteral("symbol")).toString();
    QCOMPARE(v->anonymous->get("/api/v1/orderbook/" + symbol.toLatin1()).status, 200);
}

void tst_ApiRoutes::haltAndResume()
{
    QFETCH(Driver, driver);
    Venue *v = venue(driver);
    QVERIFY(v);
    Account *trader = account(*v, QStringLiteral("halted-trader"));
    QVERIFY(trader);
    const QString symbol = QStringLiteral("H") + v->unique() + QStringLiteral("-USD");
    QVERIFY(addInstrument(*v->admin, symbol, symbol.chopped(4)));
    const qint64 resting = placeResting(*trader->client, symbol, QStringLiteral("1.00"), QStringLiteral("1"));
    const qint64 second = placeResting(*trader->client, symbol, QStringLiteral("1.00"), QStringLiteral("1"));
    QVERIFY(resting && second);

    const ApiResponse halted = v->admin->request("PATCH", "/admin/instruments/" + symbol.toLatin1(),
                                                 R"({"status":"halted"})");
    QCOMPARE(halted.status, 200);
    QCOMPARE(halted.object().value(QStringLiteral("status")).toString(), QStringLiteral("halted"));
    QCOMPARE(halted.object().value(QStringLiteral("symbol")).toString(), symbol);
    bool listed = false;
    for (const QJsonValue &instrument : v->anonymous->get("/api/v1/instruments").json.array()) {
        if (instrument.toObject().value(QStringLiteral("symbol")).toString() == symbol) {
            listed = true;
            QCOMPARE(instrument.toObject().value(QStringLiteral("status")).toString(), QStringLiteral("halted"));
        }
    }
    QVERIFY(listed);

    const qint64 openBefore = openOrderCount(*trader->client);
    const QJsonObject accountBefore = trader->client->get("/api/v1/account").object();
    const ApiResponse refused = trader->client->post("/api/v1/orders", limitBuy(symbol, "1.00", "1"));
    QCOMPARE(refused.status, 409);
    QCOMPARE(refused.errorCode(), QStringLiteral("MARKET_HALTED"));
    QCOMPARE(openOrderCount(*trader->client), openBefore);
    QCOMPARE(trader->client->get("/api/v1/account").object(), accountBefore);
    const ApiResponse amend = trader->client->request("PATCH", "/api/v1/orders/" + QByteArray::number(second),
                                                      R"({"price":"2.00"})");
    QCOMPARE(amend.status, 409);
    QCOMPARE(amend.errorCode(), QStringLiteral("MARKET_HALTED"));
    // Cancels stay allowed, one by one and all at once.
    const ApiResponse cancelled = trader->client->request("DELETE", "/api/v1/orders/" + QByteArray::number(resting));
    QCOMPARE(cancelled.status, 200);
    QCOMPARE(cancelled.object().value(QStringLiteral("status")).toString(), QStringLiteral("cancelled"));
    const ApiResponse all = trader->client->request("DELETE", "/api/v1/orders?symbol=" + symbol.toLatin1());
    QCOMPARE(all.status, 200);
    QCOMPARE(all.object().value(QStringLiteral("cancelled")).toInt(), 1);

    const ApiResponse bad = v->admin->request("PATCH", "/admin/instruments/" + symbol.toLatin1(),
                                              R"({"status":"closed"})");
    QCOMPARE(bad.status, 400);
    QCOMPARE(bad.errorCode(), QStringLiteral("VALIDATION_ERROR"));
    QCOMPARE(bad.errorField(), QStringLiteral("status"));

    const ApiResponse resumed = v->admin->request("PATCH", "/admin/instruments/" + symbol.toLatin1(),
                                                  R"({"status":"trading"})");
    QCOMPARE(resumed.status, 200);
    QCOMPARE(resumed.object().value(QStringLiteral("status")).toString(), QStringLiteral("trading"));
    QCOMPARE(trader->client->post("/api/v1/orders", limitBuy(symbol, "1.00", "1")).status, 201);
}

void tst_ApiRoutes::settingsValidation_data()
{
    QTest::addColumn<Driver>("driver");
    QTest::addColumn<QByteArray>("patch");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("field");

    struct Case
    {
        const char *name;
        const char *patch;
        const char *code;
        const char *field;
    };
    const Case cases[] = {
        {"unknown key", R"({"bogus":1})", "VALIDATION_ERROR", "bogus"},
        {"valid member then unknown key", R"({"registration_open":false,"bogus":1})", "VALIDATION_ERROR", "bogus"},
        {"negative capacity", R"({"rate_limits":{"default":{"capacity":-1}}})", "VALIDATION_ERROR",
         "rate_limits.default.capacity"},
        {"zero refill", R"({"rate_limits":{"pro":{"refill_per_second":0}}})", "VALIDATION_ERROR",
         "rate_limits.pro.refill_per_second"},
        {"fractional capacity", R"({"rate_limits":{"anonymous":{"capacity":1.5}}})", "VALIDATION_ERROR",
         "rate_limits.anonymous.capacity"},
        {"capacity as a string", R"({"rate_limits":{"anonymous":{"capacity":"10"}}})", "VALIDATION_ERROR",
         "rate_limits.anonymous.capacity"},
        {"unknown tier", R"({"rate_limits":{"gold":{"capacity":10}}})", "VALIDATION_ERROR", "rate_limits.gold"},
        {"unknown bucket member", R"({"rate_limits":{"pro":{"burst":10}}})", "VALIDATION_ERROR",
         "rate_limits.pro.burst"},
        {"bad CORS origin", R"({"cors_allowed_origins":["not an origin"]})", "VALIDATION_ERROR", "cors_allowed_origins"},
        {"CORS origin with a path", R"({"cors_allowed_origins":["https://desk.example/app"]})", "VALIDATION_ERROR",
         "cors_allowed_origins"},
        {"CORS wildcard", R"({"cors_allowed_origins":["*"]})", "VALIDATION_ERROR", "cors_allowed_origins"},
        {"CORS origins not a list", R"({"cors_allowed_origins":"https://desk.example"})", "VALIDATION_ERROR",
         "cors_allowed_origins"},
        {"registration flag not a boolean", R"({"registration_open":"yes"})", "VALIDATION_ERROR", "registration_open"},
        {"body limit too small", R"({"max_body_bytes":10})", "VALIDATION_ERROR", "max_body_bytes"},
        {"zero idle timeout", R"({"keep_alive_idle_s":0})", "VALIDATION_ERROR", "keep_alive_idle_s"},
        {"zero login failures", R"({"login_throttle":{"max_failures":0}})", "VALIDATION_ERROR",
         "login_throttle.max_failures"},
        {"not JSON", R"({"registration_open":)", "BAD_REQUEST", ""},
        {"not an object", R"([1,2])", "BAD_REQUEST", ""},
    };
    for (const Driver driver : kDrivers) {
        for (const Case &c : cases) {
            QTest::addRow("%s %s", qPrintable(TestDatabases::driverName(driver)), c.name)
                << driver << QByteArray(c.patch) << QString::fromLatin1(c.code) << QString::fromLatin1(c.field);
        }
    }
}

void tst_ApiRoutes::settingsValidation()
{
    QFETCH(Driver, driver);
    QFETCH(QByteArray, patch);
    QFETCH(QString, code);
    QFETCH(QString, field);
    Venue *v = venue(driver);
    QVERIFY(v);
    const ApiResponse before = v->admin->get("/admin/settings");
    QCOMPARE(before.status, 200);
    QCOMPARE(sortedKeys(before.object()),
             QStringList({"cors_allowed_origins", "header_timeout_s", "keep_alive_idle_s", "login_throttle",
                          "max_body_bytes", "rate_limits", "registration_open"}));
    const ApiResponse refused = v->admin->request("PATCH", "/admin/settings", patch);
    QCOMPARE(refused.status, 400);
    QCOMPARE(refused.errorCode(), code);
    QCOMPARE(refused.errorField(), field);
    if (!field.isEmpty())
        QVERIFY(errorOf(refused).value(QStringLiteral("message")).toString().contains(field.section(u'.', -1)));
    QCOMPARE(v->admin->get("/admin/settings").object(), before.object()); // nothing changed
}

void tst_ApiRoutes::settingsMerge()
{
    QFETCH(Driver, driver);
    Venue *v = venue(driver);
    QVERIFY(v);
    const QJsonObject before = v->admin->get("/admin/settings").object();
    const ApiResponse changed = v->admin->request("PATCH", "/admin/settings",
                                                  R"({"rate_limits":{"pro":{"capacity":2000}}})");
    QCOMPARE(changed.status, 200);
    // Nested objects merge member by member; the answer is every setting after the change.
    QJsonObject expected = before;
    QJsonObject limits = expected.value(QStringLiteral("rate_limits")).toObject();
    QJsonObject pro = limits.value(QStringLiteral("pro")).toObject();
    pro.insert(QStringLiteral("capacity"), 2000);
    limits.insert(QStringLiteral("pro"), pro);
    expected.insert(QStringLiteral("rate_limits"), limits);
    QCOMPARE(changed.object(), expected);
    QCOMPARE(v->admin->get("/admin/settings").object(), expected);
    const ApiResponse restored
        = v->admin->request("PATCH", "/admin/settings",
                            compact(QJsonObject{
                                {"rate_limits",
                                 QJsonObject{{"pro", before.value("rate_limits").toObject().value("pro")}}}}));
    QCOMPARE(restored.status, 200);
    QCOMPARE(restored.object(), before);
    // An empty patch changes nothing.
    QCOMPARE(v->admin->request("PATCH", "/admin/settings", "{}").object(), before);
}

void tst_ApiRoutes::registrationClosed()
{
    QFETCH(Driver, driver);
    Venue *v = venue(driver);
    QVERIFY(v);
    const ApiResponse closed = v->admin->request("PATCH", "/admin/settings", R"({"registration_open":false})");
    QCOMPARE(closed.status, 200);
    QCOMPARE(closed.object().value(QStringLiteral("registration_open")).toBool(), false);
    const qint64 users = v->admin->get("/admin/users").object().value(QStringLiteral("total")).toInteger();
    const QByteArray body = compact(QJsonObject{{"username", "closed" + v->unique()}, {"password", kPassword}});
    const ApiResponse refused = v->anonymous->post("/auth/register", body);
    QCOMPARE(refused.status, 403);
    QCOMPARE(refused.errorCode(), QStringLiteral("FORBIDDEN"));
    QCOMPARE(v->admin->get("/admin/users").object().value(QStringLiteral("total")).toInteger(), users);
    // Admins still create users.
    QVERIFY(v->admin->createUser("adm-closed" + v->unique().toLower(), QString::fromLatin1(kPassword),
                                 QStringLiteral("viewer")));
    const ApiResponse opened = v->admin->request("PATCH", "/admin/settings", R"({"registration_open":true})");
    QCOMPARE(opened.status, 200);
    QCOMPARE(v->anonymous->post("/auth/register", body).status, 201);
}

void tst_ApiRoutes::corsLive()
{
    QFETCH(Driver, driver);
    Venue *v = venue(driver);
    QVERIFY(v);
    const QByteArrayList preflight{"Origin: https://desk.example", "Access-Control-Request-Method: POST",
                                   "Access-Control-Request-Headers: authorization, content-type"};
    const QByteArrayList otherPreflight{"Origin: https://evil.example", "Access-Control-Request-Method: POST"};
    // Default: no origin is allowed.
    QVERIFY(
        !v->anonymous->request("OPTIONS", "/api/v1/orders", {}, preflight).raw.hasHeader("Access-Control-Allow-Origin"));

    const ApiResponse set = v->admin->request("PATCH", "/admin/settings",
                                              R"({"cors_allowed_origins":["https://desk.example"]})");
    QCOMPARE(set.status, 200);
    QCOMPARE(set.object().value(QStringLiteral("cors_allowed_origins")).toArray(),
             QJsonArray({"https://desk.example"}));

    const ApiResponse allowed = v->anonymous->request("OPTIONS", "/api/v1/orders", {}, preflight);
    QCOMPARE(allowed.status, 204);
    QCOMPARE(allowed.raw.header("Access-Control-Allow-Origin"), QByteArray("https://desk.example"));
    QVERIFY(allowed.raw.header("Access-Control-Allow-Methods").contains("POST"));
    QVERIFY(allowed.raw.header("Access-Control-Allow-Headers").toLower().contains("authorization"));
    QVERIFY(allowed.raw.header("Access-Control-Max-Age").toInt() > 0);
    QVERIFY(allowed.raw.body.isEmpty());
    for (const auto &[name, value] : allowed.raw.headers)
        QVERIFY2(value != "*", name.constData()); // never a wildcard

    const ApiResponse other = v->anonymous->request("OPTIONS", "/api/v1/orders", {}, otherPreflight);
    QCOMPARE(other.status, 204);
    for (const auto &[name, value] : other.raw.headers)
        QVERIFY2(!name.toLower().startsWith("access-control-"), name.constData());

    // Actual requests: the allowed origin is echoed, another gets nothing.
    const ApiResponse get = v->anonymous->request("GET", "/api/v1/time", {}, {"Origin: https://desk.example"});
    QCOMPARE(get.status, 200);
    QCOMPARE(get.raw.header("Access-Control-Allow-Origin"), QByteArray("https://desk.example"));
    const ApiResponse otherGet = v->anonymous->request("GET", "/api/v1/time", {}, {"Origin: https://evil.example"});
    QCOMPARE(otherGet.status, 200);
    QVERIFY(!otherGet.raw.hasHeader("Access-Control-Allow-Origin"));

    QCOMPARE(v->admin->request("PATCH", "/admin/settings", R"({"cors_allowed_origins":[]})").status, 200);
    QVERIFY(
        !v->anonymous->request("OPTIONS", "/api/v1/orders", {}, preflight).raw.hasHeader("Access-Control-Allow-Origin"));
}

void tst_ApiRoutes::rateLimitsLive()
{
    QFETCH(Driver, driver);
    Venue *v = venue(driver);
    QVERIFY(v);
    Account *user = account(*v, QStringLiteral("rate-limited"));
    QVERIFY(user);
    const ApiResponse roomy = user->client->get("/api/v1/me");
    QCOMPARE(roomy.raw.header("X-RateLimit-Limit"), QByteArray::number(kRoomyLimit));
    QVERIFY(roomy.raw.hasHeader("X-RateLimit-Remaining"));
    QVERIFY(roomy.raw.hasHeader("X-RateLimit-Reset"));
    // Unlimited users get no rate limit headers; unlimited routes neither.
    QVERIFY(!v->admin->get("/api/v1/me").raw.hasHeader("X-RateLimit-Limit"));
    QVERIFY(!user->client->get("/health").raw.hasHeader("X-RateLimit-Limit"));

    // Whatever happens below, the roomy default tier comes back for the cases after this one.
    const auto restore = qScopeGuard([v] {
        const QJsonObject limits{{"capacity", kRoomyLimit}, {"refill_per_second", kRoomyLimit}};
        v->admin->request("PATCH", "/admin/settings",
                          compact(QJsonObject{{"rate_limits", QJsonObject{{"default", limits}}}}));
    });
    const ApiResponse lowered = v->admin->request("PATCH", "/admin/settings",
                                                  R"({"rate_limits":{"default":{"capacity":5,"refill_per_second":1}}})");
    QCOMPARE(lowered.status, 200);
    const ApiResponse limited = user->client->get("/api/v1/me");
    QCOMPARE(limited.status, 200);
    QCOMPARE(limited.raw.header("X-RateLimit-Limit"), QByteArray("5"));
    QVERIFY(limited.raw.header("X-RateLimit-Remaining").toInt() < 5);
    int refusedCount = 0;
    ApiResponse refused;
    for (int i = 0; i < 12; ++i) {
        const ApiResponse response = user->client->get("/api/v1/me");
        if (response.status == 429) {
            ++refusedCount;
            refused = response;
        } else {
            QCOMPARE(response.status, 200);
        }
    }
    QVERIFY2(refusedCount >= 5, qPrintable(QString::number(refusedCount)));
    QCOMPARE(refused.errorCode(), QStringLiteral("RATE_LIMITED"));
    QVERIFY(refused.raw.header("Retry-After").toInt() >= 1);
    QCOMPARE(refused.raw.header("X-RateLimit-Limit"), QByteArray("5"));
    QCOMPARE(refused.raw.header("X-RateLimit-Remaining"), QByteArray("0"));
    QVERIFY(refused.raw.header("X-RateLimit-Reset").toInt() >= 1);
    // The anonymous tier's bucket is another one, with its own limit.
    const ApiResponse anonymous = v->anonymous->get("/api/v1/time");
    QCOMPARE(anonymous.status, 200);
    QCOMPARE(anonymous.raw.header("X-RateLimit-Limit"), QByteArray::number(kRoomyLimit));

    const QJsonObject roomyLimits{{"capacity", kRoomyLimit}, {"refill_per_second", kRoomyLimit}};
    QCOMPARE(v->admin
                 ->request("PATCH", "/admin/settings",
                           compact(QJsonObject{{"rate_limits", QJsonObject{{"default", roomyLimits}}}}))
                 .status,
             200);
    // The emptied bucket refills at its old rate until its next take, then holds the new capacity.
    QTRY_COMPARE_WITH_TIMEOUT(user->client->get("/api/v1/me").status, 200, 5000);
    QCOMPARE(user->client->get("/api/v1/me").raw.header("X-RateLimit-Limit"), QByteArray::number(kRoomyLimit));
}

void tst_ApiRoutes::settingsFromConfig()
{
    QFETCH(Driver, driver);
    // A venue of its own: it is restarted on its database, with the settings a config file's [limits] gives.
    const auto url = m_databases->fresh(driver);
    QVERIFY2(url, qPrintable(url ? QString() : url.error()));
    const QString dataDir = m_dir.filePath(QStringLiteral("config-limits-") + TestDatabases::driverName(driver));
    QVERIFY(QDir().mkpath(dataDir));
    const auto settingsOf = [](quint16 port) { return adminClient(port)->get("/admin/settings").object(); };
    const auto json = [](const server::VenueSettings &settings) {
        return QJsonDocument::fromJson(settings.toJson()).object();
    };

    server::VenueSettings file;
    file.maxBodyBytes = 4096;
    file.keepAliveIdleSeconds = 30;
    file.headerTimeoutSeconds = 20;
    file.loginMaxFailures = 7;
    file.loginWindowSeconds = 600;
    file.anonymous = {77, 7};
    file.standard = {88, 8};
    file.pro = {99, 9};
    TestVenue::Options options{*url, dataDir};
    options.settingsDefaults = file;
    // At each start, a warning for each setting where a stored one overrides a value the file set.
    OverrideWarnings warnings;
    const auto overridden = [](const char *keys, const char *verb, const char *stored, const char *pronoun) {
        return QStringLiteral("the config file's [limits] %1 %2 overridden by the value an admin saved (%3); "
                              "change %4 in the admin panel")
            .arg(QLatin1StringView(keys), QLatin1StringView(verb), QLatin1StringView(stored),
                 QLatin1StringView(pronoun));
    };
    const char *const allRates = "rate_anonymous_capacity, rate_anonymous_per_second, rate_default_capacity, "
                                 "rate_default_per_second, rate_pro_capacity, rate_pro_per_second";
    const char *const savedRates = R"(rate_limits {"anonymous":{"capacity":77,"refill_per_second":7},)"
                                   R"("default":{"capacity":88,"refill_per_second":8},)"
                                   R"("pro":{"capacity":150,"refill_per_second":9}})";
    {
        auto venue = TestVenue::start(options);
        QVERIFY2(venue, qPrintable(venue ? QString() : venue.error()));
        QCOMPARE(warnings.take(), QStringList()); // nothing stored yet
        const quint16 port = (*venue)->port();
        QCOMPARE(settingsOf(port), json(file));
        // In force, not only shown: the anonymous bucket and the body limit are the file's.
        ApiClient anonymous(port);
        QCOMPARE(anonymous.get("/api/v1/time").raw.header("X-RateLimit-Limit"), QByteArray("77"));
        const QByteArray big = compact(QJsonObject{{"username", QString(5000, u'x')}, {"password", kPassword}});
        QCOMPARE(anonymous.post("/auth/login", big).status, 413);
        // An admin changes two of them at run time.
        const ApiResponse changed = adminClient(port)->request(
            "PATCH", "/admin/settings", R"({"max_body_bytes":8192,"rate_limits":{"pro":{"capacity":150}}})");
        QCOMPARE(changed.status, 200);
    }

    // Restarted with the same file: what the admin saved wins over it, the rest is still the file's.
    server::VenueSettings saved = file;
    saved.maxBodyBytes = 8192;
    saved.pro.capacity = 150;
    {
        auto venue = TestVenue::start(options);
        QVERIFY2(venue, qPrintable(venue ? QString() : venue.error()));
        QCOMPARE(settingsOf((*venue)->port()), json(saved));
        QCOMPARE(warnings.take(), QStringList({overridden("max_body_bytes", "is", "8192", "it"),
                                               overridden(allRates, "are", savedRates, "them")}));
    }

    // Restarted with a changed file: the settings no admin saved follow it. The rate limits were saved as one
    // group, so the file's new anonymous bucket does not apply either.
    server::VenueSettings changedFile = file;
    changedFile.maxBodyBytes = 2048;
    changedFile.keepAliveIdleSeconds = 45;
    changedFile.loginMaxFailures = 3;
    changedFile.anonymous = {55, 5};
    options.settingsDefaults = changedFile;
    server::VenueSettings expected = saved;
    expected.keepAliveIdleSeconds = 45;
    expected.loginMaxFailures = 3;
    {
        auto venue = TestVenue::start(options);
        QVERIFY2(venue, qPrintable(venue ? QString() : venue.error()));
        QCOMPARE(settingsOf((*venue)->port()), json(expected));
        QCOMPARE(ApiClient((*venue)->port()).get("/api/v1/time").raw.header("X-RateLimit-Limit"), QByteArray("77"));
        QCOMPARE(warnings.take(), QStringList({overridden("max_body_bytes", "is", "8192", "it"),
                                               overridden(allRates, "are", savedRates, "them")}));
    }

    // A file that says what the admin saved: nothing of it is overridden. Nor is anything of a file that leaves
    // the stored settings at their defaults, or of a file that sets only the login throttle, which no admin saved.
    server::VenueSettings throttleOnly;
    throttleOnly.loginMaxFailures = 4;
    for (const server::VenueSettings &agreeing : {saved, server::VenueSettings(), throttleOnly}) {
        options.settingsDefaults = agreeing;
        auto venue = TestVenue::start(options);
        QVERIFY2(venue, qPrintable(venue ? QString() : venue.error()));
        QCOMPARE(warnings.take(), QStringList());
    }

    // One setting of a group: the keys the file changed are named, and the group's stored value.
    server::VenueSettings oneRate;
    oneRate.pro.refillPerSecond = 400;
    options.settingsDefaults = oneRate;
    {
        auto venue = TestVenue::start(options);
        QVERIFY2(venue, qPrintable(venue ? QString() : venue.error()));
        QCOMPARE(warnings.take(), QStringList({overridden("rate_pro_per_second", "is", savedRates, "it")}));
    }
}

void tst_ApiRoutes::systemStats()
{
    QFETCH(Driver, driver);
    Venue *v = venue(driver);
    QVERIFY(v);
    const ApiResponse response = v->admin->get("/admin/system/stats");
    QCOMPARE(response.status, 200);
    const QJsonObject stats = response.object();
    QCOMPARE(sortedKeys(stats), QStringList({"connections", "database", "engine", "requests_per_second", "uptime_s"}));
    QVERIFY(stats.value(QStringLiteral("uptime_s")).toInteger() >= 0);
    const QJsonObject connections = stats.value(QStringLiteral("connections")).toObject();
    QCOMPARE(sortedKeys(connections), QStringList({"http", "sse", "ws"}));
    QVERIFY(connections.value(QStringLiteral("http")).toInt() >= 1); // this one
    const QJsonObject engine = stats.value(QStringLiteral("engine")).toObject();
    QCOMPARE(sortedKeys(engine), QStringList({"open_orders", "orders", "seq", "trades"}));
    QVERIFY(engine.value(QStringLiteral("orders")).toInteger() >= 1);
    QVERIFY(engine.value(QStringLiteral("open_orders")).toInteger() >= 1);
    QVERIFY(engine.value(QStringLiteral("seq")).toInteger() >= engine.value(QStringLiteral("orders")).toInteger());
    QCOMPARE(engine.value(QStringLiteral("seq")).toInteger(),
             v->anonymous->get("/api/v1/time").object().value(QStringLiteral("seq")).toInteger());
    const QJsonObject database = stats.value(QStringLiteral("database")).toObject();
    QCOMPARE(database.value(QStringLiteral("driver")).toString(), TestDatabases::driverName(driver));
    QCOMPARE(sortedKeys(database.value(QStringLiteral("pool")).toObject()),
             QStringList({"connections", "queued", "threads"}));
    // Commit latency (spec §6 "database (driver, pool, commit latency)"; openapi: commit_p50_ms, commit_p99_ms).
    QVERIFY(database.value(QStringLiteral("commit_p50_ms")).isDouble());
    QVERIFY(database.value(QStringLiteral("commit_p99_ms")).isDouble());
    QVERIFY(database.value(QStringLiteral("commit_p50_ms")).toDouble()
            <= database.value(QStringLiteral("commit_p99_ms")).toDouble());
    QVERIFY(stats.value(QStringLiteral("requests_per_second")).isDouble());
}

// ---- orders

void tst_ApiRoutes::orderListing_data()
{
    QTest::addColumn<Driver>("driver");
    QTest::addColumn<QString>("caller");  // owner | other | admin
    QTest::addColumn<QByteArray>("path"); // {owner}: the owner's user id
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("field");
    QTest::addColumn<int>("page");
    QTest::addColumn<int>("pageSize");
    QTest::addColumn<int>("total"); // -1: not checked
    QTest::addColumn<int>("count");

    struct Case
    {
        const char *name;
        const char *caller;
        const char *path;
        int status;
        const char *code;
        const char *field;
        int page;
        int pageSize;
        int total;
        int count;
    };
    // The owner has 5 orders: 3 open, 2 cancelled, all on BTC-USD.
    const Case cases[] = {
        {"defaults", "owner", "/api/v1/orders", 200, "", "", 1, 50, 5, 5},
        {"page size 2", "owner", "/api/v1/orders?page_size=2", 200, "", "", 1, 2, 5, 2},
        {"last page", "owner", "/api/v1/orders?page=3&page_size=2", 200, "", "", 3, 2, 5, 1},
        {"past the end", "owner", "/api/v1/orders?page=9&page_size=2", 200, "", "", 9, 2, 5, 0},
        {"page size clamped", "owner", "/api/v1/orders?page_size=5000", 200, "", "", 1, 1000, 5, 5},
        {"page size 1000", "owner", "/api/v1/orders?page_size=1000", 200, "", "", 1, 1000, 5, 5},
        {"page 0", "owner", "/api/v1/orders?page=0", 400, "VALIDATION_ERROR", "page", 0, 0, -1, -1},
        {"page -1", "owner", "/api/v1/orders?page=-1", 400, "VALIDATION_ERROR", "page", 0, 0, -1, -1},
        {"page not a number", "owner", "/api/v1/orders?page=abc", 400, "VALIDATION_ERROR", "page", 0, 0, -1, -1},
        {"page size 0", "owner", "/api/v1/orders?page_size=0", 400, "VALIDATION_ERROR", "page_size", 0, 0, -1, -1},
        {"page twice", "owner", "/api/v1/orders?page=1&page=2", 400, "BAD_REQUEST", "", 0, 0, -1, -1},
        {"open", "owner", "/api/v1/orders?status=open", 200, "", "", 1, 50, 3, 3},
        {"closed", "owner", "/api/v1/orders?status=closed", 200, "", "", 1, 50, 2, 2},
        {"all", "owner", "/api/v1/orders?status=all", 200, "", "", 1, 50, 5, 5},
        {"bad status", "owner", "/api/v1/orders?status=done", 400, "VALIDATION_ERROR", "status", 0, 0, -1, -1},
        {"symbol filter", "owner", "/api/v1/orders?symbol=ETH-USD", 200, "", "", 1, 50, 0, 0},
        {"symbol and status", "owner", "/api/v1/orders?symbol=BTC-USD&status=open", 200, "", "", 1, 50, 3, 3},
        {"own user_id", "owner", "/api/v1/orders?user_id={owner}", 200, "", "", 1, 50, 5, 5},
        {"admin with user_id", "admin", "/api/v1/orders?user_id={owner}", 200, "", "", 1, 50, 5, 5},
        {"admin with user_id and status", "admin", "/api/v1/orders?user_id={owner}&status=closed", 200, "", "", 1, 50,
         2, 2},
        {"admin bad user_id", "admin", "/api/v1/orders?user_id=abc", 400, "VALIDATION_ERROR", "user_id", 0, 0, -1, -1},
        {"trader with another's user_id", "other", "/api/v1/orders?user_id={owner}", 403, "FORBIDDEN", "user_id", 0, 0,
         -1, -1},
        {"trader sees only own orders", "other", "/api/v1/orders", 200, "", "", 1, 50, 0, 0},
        {"export with another's user_id", "other", "/api/v1/orders/export.csv?user_id={owner}", 403, "FORBIDDEN",
         "user_id", 0, 0, -1, -1},
        {"export bad status", "owner", "/api/v1/orders/export.csv?status=done", 400, "VALIDATION_ERROR", "status", 0, 0,
         -1, -1},
    };
    for (const Driver driver : kDrivers) {
        for (const Case &c : cases) {
            QTest::addRow("%s %s", qPrintable(TestDatabases::driverName(driver)), c.name)
                << driver << QString::fromLatin1(c.caller) << QByteArray(c.path) << c.status
                << QString::fromLatin1(c.code) << QString::fromLatin1(c.field) << c.page << c.pageSize << c.total
                << c.count;
        }
    }
}

void tst_ApiRoutes::orderListing()
{
    QFETCH(Driver, driver);
    QFETCH(QString, caller);
    QFETCH(QByteArray, path);
    QFETCH(int, status);
    QFETCH(QString, code);
    QFETCH(QString, field);
    QFETCH(int, page);
    QFETCH(int, pageSize);
    QFETCH(int, total);
    QFETCH(int, count);
    Venue *v = venue(driver);
    QVERIFY(v);
    const bool fresh = v->accounts.find(QStringLiteral("listing-owner")) == v->accounts.end();
    Account *owner = account(*v, QStringLiteral("listing-owner"));
    Account *other = account(*v, QStringLiteral("listing-other"));
    QVERIFY(owner && other);
    if (fresh) {
        std::vector<qint64> orders;
        for (int i = 0; i < 5; ++i)
            orders.push_back(placeResting(*owner->client, QStringLiteral("BTC-USD"), QString::number(i + 1) + ".00"));
        QVERIFY(std::count(orders.begin(), orders.end(), 0) == 0);
        for (const qint64 id : {orders[1], orders[3]})
            QCOMPARE(owner->client->request("DELETE", "/api/v1/orders/" + QByteArray::number(id)).status, 200);
    }
    ApiClient &client = caller == QLatin1String("owner")   ? *owner->client
                        : caller == QLatin1String("other") ? *other->client
                                                           : *v->admin;
    path.replace("{owner}", QByteArray::number(owner->id));
    const ApiResponse response = client.get(path);
    QVERIFY2(response.status == status, response.raw.body.left(300).constData());
    QCOMPARE(response.errorCode(), code);
    if (status != 200) {
        QCOMPARE(response.errorField(), field);
        return;
    }
    const QJsonObject body = response.object();
    QCOMPARE(sortedKeys(body), QStringList({"data", "page", "page_size", "total"}));
    QCOMPARE(body.value(QStringLiteral("page")).toInt(), page);
    QCOMPARE(body.value(QStringLiteral("page_size")).toInt(), pageSize);
    if (total >= 0)
        QCOMPARE(body.value(QStringLiteral("total")).toInt(), total);
    const QJsonArray data = body.value(QStringLiteral("data")).toArray();
    QCOMPARE(data.size(), count);
    const QString wanted = QString::fromLatin1(path).section(QStringLiteral("status="), 1).section(u'&', 0, 0);
    qint64 previous = std::numeric_limits<qint64>::max();
    for (const QJsonValue &value : data) {
        const QJsonObject order = value.toObject();
        QCOMPARE(sortedKeys(order),
                 QStringList({"average_price", "client_order_id", "created_at", "filled_quantity", "id", "post_only",
                              "price", "quantity", "remaining_quantity", "seq", "side", "status", "symbol",
                              "time_in_force", "type", "updated_at", "user_id"}));
        QCOMPARE(order.value(QStringLiteral("user_id")).toInteger(),
                 caller == QLatin1String("other") ? other->id : owner->id);
        const qint64 id = order.value(QStringLiteral("id")).toInteger();
        QVERIFY(id < previous); // newest first
        previous = id;
        const QString state = order.value(QStringLiteral("status")).toString();
        if (wanted == QLatin1String("open"))
            QVERIFY(state == QLatin1String("new") || state == QLatin1String("partially_filled"));
        else if (wanted == QLatin1String("closed"))
            QVERIFY(state == QLatin1String("cancelled") || state == QLatin1String("filled")
                    || state == QLatin1String("expired"));
    }
}

void tst_ApiRoutes::cancelAll()
{
    QFETCH(Driver, driver);
    Venue *v = venue(driver);
    QVERIFY(v);
    Account *user = account(*v, QStringLiteral("cancel-all"));
    Account *bystander = account(*v, QStringLiteral("cancel-all-bystander"));
    QVERIFY(user && bystander);
    const qint64 btc1 = placeResting(*user->client);
    const qint64 btc2 = placeResting(*user->client);
    const qint64 eth = placeResting(*user->client, QStringLiteral("ETH-USD"), QStringLiteral("1.00"),
                                    QStringLiteral("0.010"));
    const qint64 theirs = placeResting(*bystander->client);
    QVERIFY(btc1 && btc2 && eth && theirs);

    const ApiResponse one = user->client->request("DELETE", "/api/v1/orders?symbol=ETH-USD");
    QCOMPARE(one.status, 200);
    QCOMPARE(sortedKeys(one.object()), QStringList({"cancelled", "order_ids"}));
    QCOMPARE(one.object().value(QStringLiteral("cancelled")).toInt(), 1);
    QCOMPARE(one.object().value(QStringLiteral("order_ids")).toArray(), QJsonArray({eth}));
    QCOMPARE(orderStatus(*user->client, btc1), QStringLiteral("new"));

    const ApiResponse all = user->client->request("DELETE", "/api/v1/orders");
    QCOMPARE(all.status, 200);
    QCOMPARE(all.object().value(QStringLiteral("cancelled")).toInt(), 2);
    std::set<qint64> ids;
    for (const QJsonValue &id : all.object().value(QStringLiteral("order_ids")).toArray())
        ids.insert(id.toInteger());
    QCOMPARE(ids, std::set<qint64>({btc1, btc2}));
    QCOMPARE(orderStatus(*user->client, btc2), QStringLiteral("cancelled"));
    QCOMPARE(orderStatus(*bystander->client, theirs), QStringLiteral("new")); // only the caller's

    const ApiResponse none = user->client->request("DELETE", "/api/v1/orders");
    QCOMPARE(none.status, 200);
    QCOMPARE(none.object().value(QStringLiteral("cancelled")).toInt(), 0);
    QCOMPARE(none.object().value(QStringLiteral("order_ids")).toArray(), QJsonArray());
}

void tst_ApiRoutes::cancelAfter()
{
    QFETCH(Driver, driver);
    Venue *v = venue(driver);
    QVERIFY(v);
    Account *armed = account(*v, QStringLiteral("dead-man"));
    Account *disarmed = account(*v, QStringLiteral("dead-man-disarmed"));
    QVERIFY(armed && disarmed);
    const qint64 first = placeResting(*armed->client);
    const qint64 second = placeResting(*armed->client, QStringLiteral("ETH-USD"), QStringLiteral("1.00"),
                                       QStringLiteral("0.010"));
    const qint64 kept = placeResting(*disarmed->client);
    QVERIFY(first && second && kept);

    // The disarmed user arms first and disarms right after: its deadline would have come before the other's.
    const ApiResponse armDisarmed = disarmed->client->post("/api/v1/orders/cancel-after", R"({"timeout_s":1})");
    QCOMPARE(armDisarmed.status, 200);
    const ApiResponse arm = armed->client->post("/api/v1/orders/cancel-after", R"({"timeout_s":1})");
    QCOMPARE(arm.status, 200);
    QCOMPARE(sortedKeys(arm.object()), QStringList({"cancel_at", "timeout_s"}));
    QCOMPARE(arm.object().value(QStringLiteral("timeout_s")).toInt(), 1);
    QVERIFY(arm.object().value(QStringLiteral("cancel_at")).toString().endsWith(QLatin1Char('Z')));
    const ApiResponse off = disarmed->client->post("/api/v1/orders/cancel-after", R"({"timeout_s":0})");
    QCOMPARE(off.status, 200);
    QCOMPARE(off.object().value(QStringLiteral("timeout_s")).toInt(), 0);
    QVERIFY(off.object().value(QStringLiteral("cancel_at")).isNull());

    QTRY_COMPARE_WITH_TIMEOUT(openOrderCount(*armed->client), qint64(0), 5000);
    QCOMPARE(orderStatus(*armed->client, first), QStringLiteral("cancelled"));
    QCOMPARE(orderStatus(*armed->client, second), QStringLiteral("cancelled"));
    QCOMPARE(orderStatus(*disarmed->client, kept), QStringLiteral("new"));
    QCOMPARE(disarmed->client->request("DELETE", "/api/v1/orders").status, 200);
}

void tst_ApiRoutes::cancelAfterValidation_data()
{
    QTest::addColumn<Driver>("driver");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("field");

    struct Case
    {
        const char *name;
        const char *body;
        int status;
        const char *code;
        const char *field;
    };
    const Case cases[] = {
        {"off", R"({"timeout_s":0})", 200, "", ""},
        {"a day", R"({"timeout_s":86400})", 200, "", ""},
        {"negative", R"({"timeout_s":-1})", 400, "VALIDATION_ERROR", "timeout_s"},
        {"over a day", R"({"timeout_s":86401})", 400, "VALIDATION_ERROR", "timeout_s"},
        {"fraction", R"({"timeout_s":1.5})", 400, "VALIDATION_ERROR", "timeout_s"},
        {"string", R"({"timeout_s":"5"})", 400, "VALIDATION_ERROR", "timeout_s"},
        {"missing", R"({})", 400, "VALIDATION_ERROR", "timeout_s"},
        {"unknown member", R"({"timeout_s":5,"symbol":"BTC-USD"})", 400, "VALIDATION_ERROR", "symbol"},
    };
    for (const Driver driver : kDrivers) {
        for (const Case &c : cases) {
            QTest::addRow("%s %s", qPrintable(TestDatabases::driverName(driver)), c.name)
                << driver << QByteArray(c.body) << c.status << QString::fromLatin1(c.code)
                << QString::fromLatin1(c.field);
        }
    }
}

void tst_ApiRoutes::cancelAfterValidation()
{
    QFETCH(Driver, driver);
    QFETCH(QByteArray, body);
    QFETCH(int, status);
    QFETCH(QString, code);
    QFETCH(QString, field);
    Venue *v = venue(driver);
    QVERIFY(v);
    Account *user = account(*v, QStringLiteral("dead-man-validation"));
    QVERIFY(user);
    const ApiResponse response = user->client->post("/api/v1/orders/cancel-after", body);
    QCOMPARE(response.status, status);
    QCOMPARE(response.errorCode(), code);
    QCOMPARE(response.errorField(), field);
    if (status == 200) {
        QCOMPARE(response.object().value(QStringLiteral("timeout_s")),
                 QJsonDocument::fromJson(body).object().value(QStringLiteral("timeout_s")));
        // Leave it off.
        QCOMPARE(user->client->post("/api/v1/orders/cancel-after", R"({"timeout_s":0})").status, 200);
    }
}

void tst_ApiRoutes::exportCsv()
{
    QFETCH(Driver, driver);
    Venue *v = venue(driver);
    QVERIFY(v);
    Account *user = account(*v, QStringLiteral("exporter"));
    QVERIFY(user);
    QCOMPARE(v->admin
                 ->request("PATCH", "/admin/users/" + QByteArray::number(user->id), R"({"rate_limit_tier":"unlimited"})")
                 .status,
             200);
    // More than two chunks of 1,000 rows. Placed quickly: pipelined batches on several connections at
    // once, so that the journal commits many orders together.
    constexpr int kOrders = 2600;
    constexpr int kConnections = 8;
    constexpr int kBatch = 25;
    std::set<qint64> placed;
    std::vector<std::unique_ptr<RawClient>> pipes;
    for (int c = 0; c < kConnections; ++c)
        pipes.push_back(std::make_unique<RawClient>(v->port()));
    int next = 0;
    while (next < kOrders) {
        std::vector<int> sent;
        for (const std::unique_ptr<RawClient> &pipe : pipes) {
            QByteArray requests;
            int count = 0;
            for (; count < kBatch && next < kOrders; ++count, ++next) {
                const QByteArray body = limitBuy(QStringLiteral("BTC-USD"), QString::number(1 + next % 50) + ".00",
                                                 QStringLiteral("0.0001"));
                requests += "POST /api/v1/orders HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer "
                            + user->client->token() + "\r\nContent-Type: application/json\r\nContent-Length: "
                            + QByteArray::number(body.size()) + "\r\n\r\n" + body;
            }
            if (count > 0)
                pipe->send(requests);
            sent.push_back(count);
        }
        for (std::size_t c = 0; c < pipes.size(); ++c) {
            for (int i = 0; i < sent[c]; ++i) {
                const std::optional<RawResponse> response = pipes[c]->read();
                QVERIFY(response);
                QCOMPARE(response->status, 201);
                placed.insert(QJsonDocument::fromJson(response->body).object().value(QStringLiteral("id")).toInteger());
            }
        }
    }
    QCOMPARE(placed.size(), std::size_t(kOrders));
    // One of them cancelled, for the status filter.
    const qint64 cancelled = *placed.begin();
    QCOMPARE(user->client->request("DELETE", "/api/v1/orders/" + QByteArray::number(cancelled)).status, 200);

    const ApiResponse csv = user->client->get("/api/v1/orders/export.csv");
    QCOMPARE(csv.status, 200);
    QVERIFY(csv.raw.header("Content-Type").startsWith("text/csv"));
    QCOMPARE(csv.raw.header("Transfer-Encoding").toLower(), QByteArray("chunked"));
    QVERIFY(!csv.raw.hasHeader("Content-Length"));
    QVERIFY(csv.raw.header("Content-Disposition").startsWith("attachment"));
    QVERIFY(csv.raw.header("Content-Disposition").contains("filename="));
    QByteArray text = csv.raw.body;
    QVERIFY(text.endsWith('\n'));
    text.replace("\r\n", "\n");
    text.chop(1);
    const QList<QByteArray> lines = text.split('\n');
    QCOMPARE(lines.first(), QByteArray("id,client_order_id,symbol,side,type,time_in_force,price,quantity,"
                                       "filled_quantity,average_price,status,created_at,updated_at"));
    QCOMPARE(lines.size(), kOrders + 1);
    std::set<qint64> exported;
    qint64 previous = std::numeric_limits<qint64>::max();
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QList<QByteArray> fields = lines[i].split(',');
        QCOMPARE(fields.size(), 13);
        const qint64 id = fields[0].toLongLong();
        QVERIFY(id < previous); // newest first
        previous = id;
        exported.insert(id);
        QCOMPARE(fields[2], QByteArray("BTC-USD"));
        QCOMPARE(fields[3], QByteArray("buy"));
        QCOMPARE(fields[10], id == cancelled ? QByteArray("cancelled") : QByteArray("new"));
    }
    QCOMPARE(exported, placed);

    const ApiResponse open = user->client->get("/api/v1/orders/export.csv?status=open&symbol=BTC-USD");
    QCOMPARE(open.status, 200);
    QCOMPARE(open.raw.body.count('\n'), kOrders); // the header and every order but the cancelled one
    const ApiResponse none = user->client->get("/api/v1/orders/export.csv?symbol=ETH-USD");
    QCOMPARE(none.status, 200);
    QCOMPARE(none.raw.body.count('\n'), 1); // the header alone
    // The admin exports another user's orders.
    const ApiResponse byAdmin = v->admin->get("/api/v1/orders/export.csv?status=closed&user_id="
                                              + QByteArray::number(user->id));
    QCOMPARE(byAdmin.status, 200);
    QCOMPARE(byAdmin.raw.body.count('\n'), 2);
    QVERIFY(byAdmin.raw.body.contains('\n' + QByteArray::number(cancelled) + ','));

    // Leave the book as it was.
    const ApiResponse gone = user->client->request("DELETE", "/api/v1/orders");
    QCOMPARE(gone.status, 200);
    QCOMPARE(gone.object().value(QStringLiteral("cancelled")).toInt(), kOrders - 1);
}

void tst_ApiRoutes::candlesAndTicker()
{
    QFETCH(Driver, driver);
    Venue *v = venue(driver);
    QVERIFY(v);
    Account *maker = account(*v, QStringLiteral("candle-maker"));
    Account *taker = account(*v, QStringLiteral("candle-taker"));
    QVERIFY(maker && taker);
    const QString symbol = QStringLiteral("C") + v->unique() + QStringLiteral("-USD");
    const QString base = symbol.chopped(4);
    QVERIFY(addInstrument(*v->admin, symbol, base));
    QVERIFY(v->admin->deposit(maker->id, base, QStringLiteral("100")));

    const auto sell = [&](const char *price, const char *quantity) {
        return maker->client->post("/api/v1/orders", compact(QJsonObject{{"symbol", symbol},
                                                                         {"side", "sell"},
                                                                         {"type", "limit"},
                                                                         {"price", price},
                                                                         {"quantity", quantity}}));
    };
    // Three trades: 100.00, 110.00, 90.00, 0.1 each.
    for (const char *price : {"100.00", "110.00", "90.00"}) {
        QCOMPARE(sell(price, "0.100").status, 201);
        const ApiResponse bought = taker->client->post("/api/v1/orders", limitBuy(symbol, price, "0.100"));
        QCOMPARE(bought.status, 201);
        QCOMPARE(bought.object().value(QStringLiteral("status")).toString(), QStringLiteral("filled"));
    }
    // A book around the last price.
    QCOMPARE(sell("95.00", "0.500").status, 201);
    QVERIFY(placeResting(*taker->client, symbol, QStringLiteral("85.50"), QStringLiteral("0.200")));

    const ApiResponse ticker = v->anonymous->get("/api/v1/ticker/" + symbol.toLatin1());
    QCOMPARE(ticker.status, 200);
    QJsonObject expectedTicker{{"symbol", symbol},    {"last", "90.00"},       {"best_bid", "85.50"},
                               {"best_ask", "95.00"}, {"open_24h", "100.00"},  {"high_24h", "110.00"},
                               {"low_24h", "90.00"},  {"volume_24h", "0.300"}, {"change_24h_pct", "-10.00"}};
    QCOMPARE(ticker.object(), expectedTicker);

    // Candles: the three trades fall in one hour, or two if an hour boundary passed meanwhile.
    const ApiResponse candles = v->anonymous->get("/api/v1/candles/" + symbol.toLatin1() + "?interval=1h");
    QCOMPARE(candles.status, 200);
    const QJsonArray list = candles.json.array();
    QVERIFY(list.size() == 1 || list.size() == 2);
    qint64 trades = 0;
    qint64 volume = 0;
    QString previousTime;
    for (const QJsonValue &value : list) {
        const QJsonObject candle = value.toObject();
        QCOMPARE(sortedKeys(candle), QStringList({"close", "high", "low", "open", "time", "trades", "volume"}));
        trades += candle.value(QStringLiteral("trades")).toInteger();
        volume += units(candle.value(QStringLiteral("volume")).toString());
        QVERIFY(candle.value(QStringLiteral("time")).toString() > previousTime); // oldest first
        previousTime = candle.value(QStringLiteral("time")).toString();
        QVERIFY(candle.value(QStringLiteral("time")).toString().endsWith(QStringLiteral(":00:00.000Z")));
    }
    QCOMPARE(trades, 3);
    QCOMPARE(volume, units(QStringLiteral("0.3")));
    QCOMPARE(list.first().toObject().value(QStringLiteral("open")).toString(), QStringLiteral("100.00"));
    QCOMPARE(list.last().toObject().value(QStringLiteral("close")).toString(), QStringLiteral("90.00"));
    if (list.size() == 1) {
        QCOMPARE(list.first().toObject().value(QStringLiteral("high")).toString(), QStringLiteral("110.00"));
        QCOMPARE(list.first().toObject().value(QStringLiteral("low")).toString(), QStringLiteral("90.00"));
        QCOMPARE(list.first().toObject().value(QStringLiteral("volume")).toString(), QStringLiteral("0.300"));
    }
    const ApiResponse limited = v->anonymous->get("/api/v1/candles/" + symbol.toLatin1() + "?interval=1m&limit=1");
    QCOMPARE(limited.status, 200);
    QCOMPARE(limited.json.array().size(), 1);
    QCOMPARE(limited.json.array().first().toObject().value(QStringLiteral("close")).toString(),
             QStringLiteral("90.00"));

    // Public trades of the symbol, newest first, and the takers' fills.
    const ApiResponse trades2 = v->anonymous->get("/api/v1/trades/" + symbol.toLatin1());
    QCOMPARE(trades2.object().value(QStringLiteral("total")).toInt(), 3);
    const QJsonObject newest = trades2.object().value(QStringLiteral("data")).toArray().first().toObject();
    QCOMPARE(sortedKeys(newest), QStringList({"id", "price", "quantity", "seq", "symbol", "taker_side", "timestamp"}));
    QCOMPARE(newest.value(QStringLiteral("price")).toString(), QStringLiteral("90.00"));
    QCOMPARE(newest.value(QStringLiteral("taker_side")).toString(), QStringLiteral("buy"));
    const ApiResponse fills = taker->client->get("/api/v1/fills?symbol=" + symbol.toLatin1());
    QCOMPARE(fills.object().value(QStringLiteral("total")).toInt(), 3);
    const QJsonObject fill = fills.object().value(QStringLiteral("data")).toArray().first().toObject();
    QCOMPARE(sortedKeys(fill),
             QStringList({"liquidity", "order_id", "price", "quantity", "side", "symbol", "timestamp", "trade_id"}));
    QCOMPARE(fill.value(QStringLiteral("liquidity")).toString(), QStringLiteral("taker"));

    // An instrument without trades: nulls where nothing is known yet, and no candles.
    const ApiResponse quiet = v->anonymous->get("/api/v1/ticker/XAU-USD");
    QCOMPARE(quiet.status, 200);
    QVERIFY(quiet.object().value(QStringLiteral("last")).isNull());
    QVERIFY(quiet.object().value(QStringLiteral("change_24h_pct")).isNull());
    QCOMPARE(quiet.object().value(QStringLiteral("volume_24h")).toString(), QStringLiteral("0.00"));
    QCOMPARE(v->anonymous->get("/api/v1/candles/XAU-USD").json.array().size(), 0);
}

void tst_ApiRoutes::marketDataQueries_data()
{
    QTest::addColumn<Driver>("driver");
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("field");

    struct Case
    {
        const char *name;
        const char *path;
        int status;
        const char *code;
        const char *field;
    };
    const Case cases[] = {
        {"depth", "/api/v1/orderbook/BTC-USD?depth=1", 200, "", ""},
        {"depth clamped", "/api/v1/orderbook/BTC-USD?depth=100000", 200, "", ""},
        {"depth 0", "/api/v1/orderbook/BTC-USD?depth=0", 400, "VALIDATION_ERROR", "depth"},
        {"depth not a number", "/api/v1/orderbook/BTC-USD?depth=ten", 400, "VALIDATION_ERROR", "depth"},
        {"every interval 5m", "/api/v1/candles/BTC-USD?interval=5m", 200, "", ""},
        {"every interval 15m", "/api/v1/candles/BTC-USD?interval=15m", 200, "", ""},
        {"every interval 1d", "/api/v1/candles/BTC-USD?interval=1d", 200, "", ""},
        {"bad interval", "/api/v1/candles/BTC-USD?interval=2m", 400, "VALIDATION_ERROR", "interval"},
        {"limit clamped", "/api/v1/candles/BTC-USD?limit=99999", 200, "", ""},
        {"limit 0", "/api/v1/candles/BTC-USD?limit=0", 400, "VALIDATION_ERROR", "limit"},
        {"trades page 0", "/api/v1/trades/BTC-USD?page=0", 400, "VALIDATION_ERROR", "page"},
        {"trades page size clamped", "/api/v1/trades/BTC-USD?page_size=5000", 200, "", ""},
        {"unknown query parameters are ignored", "/api/v1/instruments?foo=bar", 200, "", ""},
        // resources/openapi.json: "Public trades of every instrument, or of one with symbol".
        {"trades of every instrument", "/api/v1/trades", 200, "", ""},
    };
    for (const Driver driver : kDrivers) {
        for (const Case &c : cases) {
            QTest::addRow("%s %s", qPrintable(TestDatabases::driverName(driver)), c.name)
                << driver << QByteArray(c.path) << c.status << QString::fromLatin1(c.code)
                << QString::fromLatin1(c.field);
        }
    }
}

void tst_ApiRoutes::marketDataQueries()
{
    QFETCH(Driver, driver);
    QFETCH(QByteArray, path);
    QFETCH(int, status);
    QFETCH(QString, code);
    QFETCH(QString, field);
    Venue *v = venue(driver);
    QVERIFY(v);
    const ApiResponse response = v->anonymous->get(path);
    QCOMPARE(response.status, status);
    QCOMPARE(response.errorCode(), code);
    QCOMPARE(response.errorField(), field);
    if (path.contains("page_size=5000"))
        QCOMPARE(response.object().value(QStringLiteral("page_size")).toInt(), 1000);
    if (path.endsWith("depth=1")) {
        QVERIFY(response.object().value(QStringLiteral("bids")).toArray().size() <= 1);
        QCOMPARE(sortedKeys(response.object()), QStringList({"asks", "bids", "seq", "symbol", "timestamp"}));
    }
}

void tst_ApiRoutes::gzip()
{
    QFETCH(Driver, driver);
    Venue *v = venue(driver);
    QVERIFY(v);
    const QByteArrayList acceptGzip{"Accept-Encoding: gzip"};
    // The OpenAPI document, and a large JSON answer of a route.
    for (const QByteArray &path : {QByteArray("/openapi.json"), QByteArray("/admin/users?page_size=1000")}) {
        const ApiResponse plain = v->admin->get(path);
        QCOMPARE(plain.status, 200);
        QVERIFY(plain.raw.body.size() > 1024);
        QVERIFY(!plain.raw.hasHeader("Content-Encoding"));
        const ApiResponse zipped = v->admin->request("GET", path, {}, acceptGzip);
        QCOMPARE(zipped.status, 200);
        QCOMPARE(zipped.raw.header("Content-Encoding"), QByteArray("gzip"));
        QVERIFY(zipped.raw.header("Vary").contains("Accept-Encoding"));
        QCOMPARE(zipped.raw.header("Content-Length").toLongLong(), zipped.raw.body.size());
        QVERIFY(zipped.raw.body.size() < plain.raw.body.size());
        const std::optional<QByteArray> inflated = gunzip(zipped.raw.body);
        QVERIFY(inflated);
        QCOMPARE(QJsonDocument::fromJson(*inflated), plain.json);
        QVERIFY(!plain.json.isNull());
        if (path == "/openapi.json")
            QCOMPARE(*inflated, plain.raw.body);
    }
    // Small answers are sent as they are, and so is everything to a client that does not accept gzip.
    const ApiResponse small = v->anonymous->request("GET", "/api/v1/time", {}, acceptGzip);
    QCOMPARE(small.status, 200);
    QVERIFY(!small.raw.hasHeader("Content-Encoding"));
    QVERIFY(!small.json.isNull());
    const ApiResponse refused = v->admin->request("GET", "/openapi.json", {}, {"Accept-Encoding: gzip;q=0, br"});
    QVERIFY(!refused.raw.hasHeader("Content-Encoding"));
    QVERIFY(!refused.json.isNull());
}

void tst_ApiRoutes::requestId_data()
{
    QTest::addColumn<Driver>("driver");
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<QByteArray>("sent"); // empty: no header at all
    QTest::addColumn<bool>("echoed");

    struct Case
    {
        const char *name;
        QByteArray sent;
        bool echoed;
    };
    const Case cases[] = {
        {"none", QByteArray(), false},
        {"simple", "abc-123", true},
        {"every allowed character", "AZaz09._-", true},
        {"one character", "x", true},
        {"128 characters", QByteArray(128, 'r'), true},
        {"129 characters", QByteArray(129, 'r'), false},
        {"a space", "bad id", false},
        {"a slash", "bad/id", false},
        {"a colon", "bad:id", false},
        {"not ASCII", "caf\xc3\xa9", false},
        {"quotes", "\"quoted\"", false},
    };
    for (const Driver driver : kDrivers) {
        for (const Case &c : cases) {
            for (const char *path : {"/api/v1/time", "/api/v1/nope"}) {
                QTest::addRow("%s %s %s", qPrintable(TestDatabases::driverName(driver)), c.name, path)
                    << driver << QByteArray(path) << c.sent << c.echoed;
            }
        }
    }
}

void tst_ApiRoutes::requestId()
{
    QFETCH(Driver, driver);
    QFETCH(QByteArray, path);
    QFETCH(QByteArray, sent);
    QFETCH(bool, echoed);
    Venue *v = venue(driver);
    QVERIFY(v);
    const QByteArrayList headers = sent.isEmpty() ? QByteArrayList() : QByteArrayList{"X-Request-Id: " + sent};
    const ApiResponse response = v->anonymous->request("GET", path, {}, headers);
    QVERIFY(response.status == 200 || response.status == 404);
    const QByteArray id = response.raw.header("X-Request-Id");
    if (echoed) {
        QCOMPARE(id, sent);
    } else {
        QVERIFY(id != sent);
        QVERIFY(QRegularExpression(QStringLiteral("^[A-Za-z0-9._-]{1,128}$")).match(QString::fromLatin1(id)).hasMatch());
        // Each generated id is new.
        QVERIFY(v->anonymous->request("GET", path, {}, headers).raw.header("X-Request-Id") != id);
    }
    if (response.status == 404)
        QCOMPARE(errorOf(response).value(QStringLiteral("request_id")).toString().toLatin1(), id);
}

void tst_ApiRoutes::metrics()
{
    QFETCH(Driver, driver);
    Venue *v = venue(driver);
    QVERIFY(v);
    Account *user = account(*v, QStringLiteral("metrics"));
    QVERIFY(user);
    const qint64 order = placeResting(*user->client);
    QVERIFY(order);
    QCOMPARE(user->client->get("/api/v1/orders/" + QByteArray::number(order)).status, 200);
    QCOMPARE(user->client->get("/api/v1/orders/987654321").status, 404);
    QCOMPARE(v->anonymous->get("/no-such-route-4711").status, 404);

    const ApiResponse metrics = v->anonymous->get("/metrics");
    QCOMPARE(metrics.status, 200);
    QVERIFY(metrics.raw.header("Content-Type").startsWith("text/plain"));
    const QString text = QString::fromUtf8(metrics.raw.body);
    const QRegularExpression
        okSeries(QStringLiteral(
                     R"(^http_requests_total\{[^}]*route="/api/v1/orders/\{id\}"[^}]*status="200"[^}]*\} [1-9]\d*$)"),
                 QRegularExpression::MultilineOption);
    QVERIFY2(okSeries.match(text).hasMatch(), qPrintable(text.left(2000)));
    const QRegularExpression missingSeries(
        QStringLiteral(R"(^http_requests_total\{[^}]*route="/api/v1/orders/\{id\}"[^}]*status="404"[^}]*\} [1-9]\d*$)"),
        QRegularExpression::MultilineOption);
    QVERIFY(missingSeries.match(text).hasMatch());
    QVERIFY(QRegularExpression(QStringLiteral(R"(^http_requests_total\{[^}]*method="GET")"),
                               QRegularExpression::MultilineOption)
                .match(text)
                .hasMatch());
    // Never a raw path in a label.
    QVERIFY(!text.contains(QStringLiteral("/api/v1/orders/") + QString::number(order)));
    QVERIFY(!text.contains(QStringLiteral("987654321")));
    QVERIFY(!text.contains(QStringLiteral("no-such-route-4711")));
    for (const char *name :
         {"http_request_duration_seconds_bucket", "engine_orders_total", "engine_trades_total", "engine_open_orders",
          "ws_connections", "sse_connections", "db_commit_duration_seconds", "journal_lag_events"}) {
        QVERIFY2(text.contains(QLatin1String(name)), name);
    }
    QCOMPARE(user->client->request("DELETE", "/api/v1/orders/" + QByteArray::number(order)).status, 200);
}

// ---- the kill switch and the audit log: last, as the kill switch halts every instrument for a moment

void tst_ApiRoutes::killSwitch()
{
    QFETCH(Driver, driver);
    Venue *v = venue(driver);
    QVERIFY(v);
    Account *trader = account(*v, QStringLiteral("killed"));
    QVERIFY(trader);
    const QString symbol = QStringLiteral("K") + v->unique() + QStringLiteral("-USD");
    QVERIFY(addInstrument(*v->admin, symbol, symbol.chopped(4)));
    const qint64 k1 = placeResting(*trader->client, symbol, QStringLiteral("1.00"), QStringLiteral("1"));
    const qint64 k2 = placeResting(*trader->client, symbol, QStringLiteral("2.00"), QStringLiteral("1"));
    const qint64 btc = placeResting(*trader->client);
    QVERIFY(k1 && k2 && btc);

    const ApiResponse unknown = v->admin->post("/admin/kill-switch", R"({"symbol":"NOPE-USD"})");
    QCOMPARE(unknown.status, 404);
    QCOMPARE(unknown.errorCode(), QStringLiteral("NOT_FOUND"));
    const ApiResponse badBody = v->admin->post("/admin/kill-switch", R"({"instrument":"BTC-USD"})");
    QCOMPARE(badBody.status, 400);
    QCOMPARE(badBody.errorCode(), QStringLiteral("VALIDATION_ERROR"));
    QCOMPARE(orderStatus(*trader->client, k1), QStringLiteral("new")); // nothing happened

    const ApiResponse one = v->admin->post("/admin/kill-switch", compact(QJsonObject{{"symbol", symbol}}));
    QCOMPARE(one.status, 200);
    QCOMPARE(one.object(), QJsonObject({{"halted", QJsonArray({symbol})}, {"cancelled", 2}}));
    QCOMPARE(orderStatus(*trader->client, k1), QStringLiteral("cancelled"));
    QCOMPARE(orderStatus(*trader->client, k2), QStringLiteral("cancelled"));
    QCOMPARE(orderStatus(*trader->client, btc), QStringLiteral("new"));
    const ApiResponse refused = trader->client->post("/api/v1/orders", limitBuy(symbol, "1.00", "1"));
    QCOMPARE(refused.status, 409);
    QCOMPARE(refused.errorCode(), QStringLiteral("MARKET_HALTED"));
    QCOMPARE(trader->client->post("/api/v1/orders", limitBuy("ETH-USD", "1.00", "0.010")).status, 201);

    // Every instrument.
    QStringList symbols;
    for (const QJsonValue &instrument : v->anonymous->get("/api/v1/instruments").json.array())
        symbols.append(instrument.toObject().value(QStringLiteral("symbol")).toString());
    const ApiResponse all = v->admin->post("/admin/kill-switch", "{}");
    QCOMPARE(all.status, 200);
    QStringList halted;
    for (const QJsonValue &item : all.object().value(QStringLiteral("halted")).toArray())
        halted.append(item.toString());
    QCOMPARE(sorted(halted), sorted(symbols));
    QVERIFY(all.object().value(QStringLiteral("cancelled")).toInt() >= 2); // the BTC and ETH orders at least
    QCOMPARE(openOrderCount(*trader->client), qint64(0));
    for (const QJsonValue &instrument : v->anonymous->get("/api/v1/instruments").json.array())
        QCOMPARE(instrument.toObject().value(QStringLiteral("status")).toString(), QStringLiteral("halted"));
    QCOMPARE(trader->client->post("/api/v1/orders", limitBuy("BTC-USD", "1.00", "0.001")).status, 409);

    // Resume every instrument for whatever comes after.
    for (const QString &name : symbols) {
        QCOMPARE(v->admin->request("PATCH", "/admin/instruments/" + name.toLatin1(), R"({"status":"trading"})").status,
                 200);
    }
    QCOMPARE(trader->client->post("/api/v1/orders", limitBuy("BTC-USD", "1.00", "0.001")).status, 201);
    QCOMPARE(trader->client->request("DELETE", "/api/v1/orders").status, 200);
}

void tst_ApiRoutes::audit_data()
{
    QTest::addColumn<Driver>("driver");
    QTest::addColumn<QString>("event");  // what the test does
    QTest::addColumn<QString>("action"); // the audit entry it leaves (resources/openapi.json AuditEntry.action)
    QTest::addColumn<QString>("actor");  // {admin} or {user}

    struct Case
    {
        const char *event;
        const char *action;
        const char *actor;
    };
    const Case cases[] = {
        {"login", "login", "{user}"},
        {"failed login", "login_failed", "{user}"},
        {"registration", "register", "{user}"},
        {"user created", "user_created", "{admin}"},
        {"role change", "user_updated", "{admin}"},
        {"active change", "user_updated", "{admin}"},
        {"deposit", "deposit", "{admin}"},
        {"withdrawal", "withdrawal", "{admin}"},
        {"instrument added", "instrument_created", "{admin}"},
        {"instrument halted", "instrument_status_changed", "{admin}"},
        {"settings change", "settings_changed", "{admin}"},
        {"kill switch", "kill_switch", "{admin}"},
        {"logout", "logout", "{user}"},
    };
    for (const Driver driver : kDrivers) {
        for (const Case &c : cases) {
            QTest::addRow("%s %s", qPrintable(TestDatabases::driverName(driver)), c.event)
                << driver << QString::fromLatin1(c.event) << QString::fromLatin1(c.action)
                << QString::fromLatin1(c.actor);
        }
    }
}

void tst_ApiRoutes::audit()
{
    QFETCH(Driver, driver);
    QFETCH(QString, event);
    QFETCH(QString, action);
    QFETCH(QString, actor);
    Venue *v = venue(driver);
    QVERIFY(v);
    const QByteArray requestId = "audit-" + TestDatabases::driverName(driver).toLatin1() + '-'
                                 + event.toLatin1().replace(' ', '-') + '-' + v->unique().toLatin1();
    const QByteArrayList headers{"X-Request-Id: " + requestId};
    Account *user = account(*v, QStringLiteral("audited"));
    QVERIFY(user);
    QString username = user->username;
    QString target;
    int expected = 200;
    ApiResponse response;
    const QByteArray userPath = "/admin/users/" + QByteArray::number(user->id);
    if (event == QLatin1String("login")) {
        response = v->anonymous->request("POST", "/auth/login",
                                         compact(QJsonObject{{"username", username}, {"password", kPassword}}),
                                         headers);
        target = QStringLiteral("user:%1").arg(user->id);
    } else if (event == QLatin1String("failed login")) {
        response = v->anonymous->request("POST", "/auth/login",
                                         compact(QJsonObject{{"username", username}, {"password", "wrong-password"}}),
                                         headers);
        expected = 401;
        target = QStringLiteral("user:%1").arg(user->id);
    } else if (event == QLatin1String("registration")) {
        username = QStringLiteral("reg-") + v->unique().toLower();
        response = v->anonymous->request("POST", "/auth/register",
                                         compact(QJsonObject{{"username", username}, {"password", kPassword}}),
                                         headers);
        expected = 201;
        target = QStringLiteral("user:%1").arg(response.object().value(QStringLiteral("id")).toInteger());
    } else if (event == QLatin1String("user created")) {
        response = v->admin->request("POST", "/admin/users",
                                     compact(QJsonObject{{"username", "made-" + v->unique().toLower()},
                                                         {"password", kPassword}}),
                                     headers);
        expected = 201;
        target = QStringLiteral("user:%1").arg(response.object().value(QStringLiteral("id")).toInteger());
    } else if (event == QLatin1String("role change")) {
        response = v->admin->request("PATCH", userPath, R"({"role":"viewer"})", headers);
        QCOMPARE(v->admin->request("PATCH", userPath, R"({"role":"trader"})").status, 200);
        target = QStringLiteral("user:%1").arg(user->id);
    } else if (event == QLatin1String("active change")) {
        response = v->admin->request("PATCH", userPath, R"({"active":false})", headers);
        QCOMPARE(v->admin->request("PATCH", userPath, R"({"active":true})").status, 200);
        target = QStringLiteral("user:%1").arg(user->id);
    } else if (event == QLatin1String("deposit")) {
        response = v->admin->request("POST", userPath + "/deposits", R"({"asset":"USD","amount":"12.34"})", headers);
        expected = 201;
        target = QStringLiteral("user:%1").arg(user->id);
    } else if (event == QLatin1String("withdrawal")) {
        response = v->admin->request("POST", userPath + "/withdrawals", R"({"asset":"USD","amount":"1.5"})", headers);
        expected = 201;
        target = QStringLiteral("user:%1").arg(user->id);
    } else if (event == QLatin1String("instrument added") || event == QLatin1String("instrument halted")
               || event == QLatin1String("kill switch")) {
        const QString symbol = QStringLiteral("A") + v->unique() + QStringLiteral("-USD");
        target = QStringLiteral("instrument:") + symbol;
        const QByteArray add = compact(QJsonObject{{"symbol", symbol},
                                                   {"base", symbol.chopped(4)},
                                                   {"quote", "USD"},
                                                   {"tick_size", "0.01"},
                                                   {"lot_size", "0.01"},
                                                   {"min_quantity", "0.01"}});
        if (event == QLatin1String("instrument added")) {
            response = v->admin->request("POST", "/admin/instruments", add, headers);
            expected = 201;
        } else {
            QCOMPARE(v->admin->post("/admin/instruments", add).status, 201);
            if (event == QLatin1String("instrument halted"))
                response = v->admin->request("PATCH", "/admin/instruments/" + symbol.toLatin1(),
                                             R"({"status":"halted"})", headers);
            else
                response = v->admin->request("POST", "/admin/kill-switch", compact(QJsonObject{{"symbol", symbol}}),
                                             headers);
        }
    } else if (event == QLatin1String("settings change")) {
        response = v->admin->request("PATCH", "/admin/settings", R"({"registration_open":true})", headers);
        target = QStringLiteral("settings");
    } else if (event == QLatin1String("logout")) {
        ApiClient client(v->port());
        const ApiResponse login = client.login(username, QString::fromLatin1(kPassword));
        response = client.request("POST", "/auth/logout",
                                  compact(QJsonObject{{"refresh_token", login.object().value("refresh_token")}}),
                                  headers);
        expected = 204;
        target = QStringLiteral("user:%1").arg(user->id);
    } else {
        QFAIL("unknown event");
    }
    QVERIFY2(response.status == expected, response.raw.body.constData());
    QCOMPARE(response.raw.header("X-Request-Id"), requestId);

    // The entry is written after the answer: wait for it.
    QJsonObject entry;
    const auto find = [&] {
        const ApiResponse page = v->admin->get("/admin/audit?page_size=1000");
        for (const QJsonValue &value : page.object().value(QStringLiteral("data")).toArray()) {
            if (value.toObject().value(QStringLiteral("request_id")).toString() == QString::fromLatin1(requestId)) {
                entry = value.toObject();
                return true;
            }
        }
        return false;
    };
    QTRY_VERIFY_WITH_TIMEOUT(find(), 5000);
    QCOMPARE(sortedKeys(entry), QStringList({"action", "actor", "at", "details", "id", "request_id", "target"}));
    QCOMPARE(entry.value(QStringLiteral("action")).toString(), action);
    QCOMPARE(entry.value(QStringLiteral("actor")).toString(),
             actor == QLatin1String("{admin}") ? QString::fromLatin1(TestVenue::kAdminUsername) : username);
    QCOMPARE(entry.value(QStringLiteral("target")).toString(), target);
    QVERIFY(entry.value(QStringLiteral("at")).toString().endsWith(QLatin1Char('Z')));
    const QByteArray details = QJsonDocument(entry.value(QStringLiteral("details")).toObject()).toJson();
    QVERIFY(!details.contains(kPassword)); // never a password
    if (event == QLatin1String("role change"))
        QCOMPARE(entry.value(QStringLiteral("details")).toObject().value(QStringLiteral("role")).toString(),
                 QStringLiteral("viewer"));
    if (event == QLatin1String("active change"))
        QCOMPARE(entry.value(QStringLiteral("details")).toObject().value(QStringLiteral("active")).toBool(true), false);
    if (event == QLatin1String("deposit")) {
        QCOMPARE(entry.value(QStringLiteral("details")).toObject().value(QStringLiteral("asset")).toString(),
                 QStringLiteral("USD"));
        QCOMPARE(units(entry.value(QStringLiteral("details")).toObject().value(QStringLiteral("amount")).toString()),
                 units(QStringLiteral("12.34")));
    }
    if (event == QLatin1String("kill switch"))
        QCOMPARE(entry.value(QStringLiteral("details")).toObject().value(QStringLiteral("cancelled")).toInt(-1), 0);
    // Admins only.
    QCOMPARE(user->client->get("/admin/audit").status, 403);
}

QTEST_GUILESS_MAIN(tst_ApiRoutes)
#include "tst_api_routes.moc"
