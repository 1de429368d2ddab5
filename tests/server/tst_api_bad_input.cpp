// Bad input against the real API (spec/API.md §2-§5 and resources/openapi.json), on SQLite and on
// PostgreSQL: every malformed, mistyped, out-of-range, smuggled, unauthenticated or unauthorised request
// gets its status and its code in the one error body, and changes nothing — the balances and order lists
// of every user, the book and the user list are compared before and after each row — and the server stays
// healthy. The HTTP level (framing, limits, slow and vanishing clients) is hit with raw sockets.
// One venue per driver, started once and shared by every row.
#include "test_databases.h"
#include "test_venue.h"
#include "venue_server.h"

#include <QDateTime>
#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QLoggingCategory>
#include <QTemporaryDir>
#include <QTest>

#include <map>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/resource.h>

using namespace bourse;
using namespace bourse::test;
using Driver = sql::DatabaseUrl::Driver;

namespace {

constexpr int kPerIpConnectionCap = 256; // HttpEdge's default (EdgeLimits::maxConnectionsPerIp)
constexpr qint64 kFastMs = 2000;         // every refusal comes back within this

const Driver kDrivers[] = {Driver::Sqlite, Driver::PostgreSql};

QByteArray jwtSecret()
{
    return QByteArray(40, 'k'); // test_venue.cpp's VenueServer::Config::jwtSecret
}

QByteArray base64Url(const QByteArray &bytes)
{
    return bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

QByteArray fromBase64Url(const QByteArray &text)
{
    return QByteArray::fromBase64(text, QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

QByteArray hmacSha256(const QByteArray &key, const QByteArray &data)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (!HMAC(EVP_sha256(), key.constData(), int(key.size()), reinterpret_cast<const unsigned char *>(data.constData()),
              std::size_t(data.size()), mac, &length))
        return {};
    return QByteArray(reinterpret_cast<const char *>(mac), qsizetype(length));
}

// A JWT in compact form, built by hand: the header and payload as given, HMAC-SHA256 under `key`, or no
// signature at all when `key` is empty.
QByteArray jwt(const QJsonObject &header, const QJsonObject &payload, const QByteArray &key)
{
    const QByteArray input = base64Url(QJsonDocument(header).toJson(QJsonDocument::Compact)) + '.'
                             + base64Url(QJsonDocument(payload).toJson(QJsonDocument::Compact));
    return input + '.' + (key.isEmpty() ? QByteArray() : base64Url(hmacSha256(key, input)));
}

QJsonObject hs256Header()
{
    return QJsonObject{{"alg", "HS256"}, {"typ", "JWT"}};
}

qint64 nowSeconds()
{
    return QDateTime::currentSecsSinceEpoch();
}

QJsonObject accessClaims(qint64 subject, const QString &role, qint64 issuedAt, qint64 expiresAt)
{
    return QJsonObject{{"sub", QString::number(subject)},
                       {"role", role},
                       {"iat", issuedAt},
                       {"exp", expiresAt},
                       {"jti", "forged-1"},
                       {"typ", "access"}};
}

// A real token with its payload edited and its signature kept.
QByteArray tampered(const QByteArray &token, const QByteArray &from, const QByteArray &to)
{
    QList<QByteArray> parts = token.split('.');
    if (parts.size() != 3)
        return token;
    QByteArray payload = fromBase64Url(parts[1]);
    if (!payload.contains(from))
        return QByteArray("no-such-claim");
    parts[1] = base64Url(payload.replace(from, to));
    return parts.join('.');
}

// A limit buy of BTC-USD that would rest (the best ask is 60000.00), with members replaced or added (`changes`,
// raw JSON text) and removed (`without`), keeping the order of the members.
QByteArray order(std::initializer_list<std::pair<QByteArray, QByteArray>> changes = {},
                 std::initializer_list<QByteArray> without = {})
{
    std::vector<std::pair<QByteArray, QByteArray>> members = {{"symbol", R"("BTC-USD")"},
                                                              {"side", R"("buy")"},
                                                              {"type", R"("limit")"},
                                                              {"price", R"("30000.00")"},
                                                              {"quantity", R"("0.01")"}};
    for (const auto &[name, value] : changes) {
        const auto it = std::find_if(members.begin(), members.end(), [&](const auto &m) { return m.first == name; });
        if (it == members.end())
            members.emplace_back(name, value);
        else
            it->second = value;
    }
    for (const QByteArray &name : without)
        std::erase_if(members, [&](const auto &m) { return m.first == name; });
    QByteArrayList parts;
    for (const auto &[name, value] : members)
        parts.append('"' + name + "\":" + value);
    return '{' + parts.join(',') + '}';
}

QByteArray deeplyNested(int depth, QByteArrayView open)
{
    return open.toByteArray().repeated(depth);
}

// One error answer: the status, the one body shape with its code, a message, the field when one is at fault
// ("*": whatever the server names) and the request id of the X-Request-Id header; no internals.
void verifyError(const RawResponse &raw, int status, const QString &code, const QString &field)
{
    QCOMPARE(raw.status, status);
    QVERIFY2(raw.header("content-type").startsWith("application/json"), raw.header("content-type").constData());
    QJsonParseError parseError{};
    const QJsonDocument document = QJsonDocument::fromJson(raw.body, &parseError);
    QVERIFY2(parseError.error == QJsonParseError::NoError && document.isObject(), raw.body.left(300).constData());
    const QJsonObject root = document.object();
    QCOMPARE(root.keys(), QStringList{QStringLiteral("error")});
    const QJsonObject error = root.value("error").toObject();
    QCOMPARE(error.value("code").toString(), code);
    QVERIFY(!error.value("message").toString().isEmpty());
    const QString requestId = error.value("request_id").toString();
    QVERIFY(!requestId.isEmpty());
    QCOMPARE(requestId.toLatin1(), raw.header("x-request-id"));
    for (const QString &key : error.keys()) {
        static const QStringList known = {"code", "message", "field", "request_id", "context"};
        QVERIFY2(known.contains(key), qPrintable(key));
    }
    QCOMPARE(error.contains("context"), code == QLatin1String("INSUFFICIENT_BALANCE"));
    if (field.isEmpty())
        QVERIFY2(!error.contains("field"), qPrintable(error.value("field").toString()));
    else if (field != QLatin1String("*"))
        QCOMPARE(error.value("field").toString(), field);
    for (const char *internal : {"/work/", ".cpp", "SELECT ", "INSERT ", "QSql", "std::"})
        QVERIFY2(!raw.body.contains(internal), raw.body.left(300).constData());
    if (status == 401)
        QCOMPARE(raw.header("www-authenticate"), QByteArray("Bearer"));
    if (status == 405)
        QVERIFY(!raw.header("allow").isEmpty());
}

} // namespace

class tst_ApiBadInput final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();

    void orderEntry_data();
    void orderEntry();
    void amendCancelAndQuery_data();
    void amendCancelAndQuery();
    void registration_data();
    void registration();
    void roles_data();
    void roles();
    void authentication_data();
    void authentication();
    void refreshTokenReuse_data() { TestDatabases::addDriverRows(); }
    void refreshTokenReuse();
    void registrationCreatesOnlyTraders_data() { TestDatabases::addDriverRows(); }
    void registrationCreatesOnlyTraders();

    void framing_data();
    void framing();
    void oversizedBody_data() { TestDatabases::addDriverRows(); }
    void oversizedBody();
    void slowClients_data() { TestDatabases::addDriverRows(); }
    void slowClients();
    void connectionFlood_data() { TestDatabases::addDriverRows(); }
    void connectionFlood();
    void clientVanishing_data() { TestDatabases::addDriverRows(); }
    void clientVanishing();
    void stillServing_data() { TestDatabases::addDriverRows(); }
    void stillServing();

private:
    // One venue with its users and a book: alice (trader) has a partly filled bid, an ask and a cancelled
    // order; bob (trader) a bid and a cancelled order; vera is a funded viewer. All on the unlimited tier.
    struct Fixture
    {
        std::unique_ptr<TestVenue> venue;
        std::unique_ptr<ApiClient> admin, alice, bob, viewer;
        qint64 aliceId = 0, bobId = 0, viewerId = 0;
        qint64 aliceOpen = 0, aliceAsk = 0, aliceClosed = 0, bobOpen = 0, bobClosed = 0;
    };

    struct BadRequest
    {
        const char *name;
        QByteArray caller; // alice, bob, viewer or anonymous
        QByteArray method;
        QByteArray path; // {aliceOpen}, {aliceClosed}, {bobOpen}, {bobClosed}, {aliceId} are replaced
        QByteArray body;
        int status;
        QString code;
        QString field = {};
        QByteArray contentType = "application/json"; // "-": none
    };

    static void addRows(const std::vector<BadRequest> &rows);
    void runRow();
    void setUp(Fixture &fixture, Driver driver);
    Fixture &fixture(Driver driver) { return m_fixtures.at(driver); }
    ApiClient *client(Fixture &fixture, const QByteArray &who);
    QByteArray expand(const Fixture &fixture, QByteArray text) const;
    QByteArray snapshot(Fixture &fixture);
    void healthy(Fixture &fixture);
    void patchSettings(Fixture &fixture, const QByteArray &patch);
    int connectionsFromLoopback(Fixture &fixture);

    std::unique_ptr<TestDatabases> m_databases;
    QTemporaryDir m_dir;
    std::map<Driver, Fixture> m_fixtures;
};

// ---- the venues

void tst_ApiBadInput::initTestCase()
{
    QLoggingCategory::setFilterRules(QStringLiteral("bourse.access.info=false"));
    rlimit files{};
    getrlimit(RLIMIT_NOFILE, &files);
    if (files.rlim_cur < 4096 && files.rlim_max >= 4096) {
        files.rlim_cur = 4096;
        setrlimit(RLIMIT_NOFILE, &files);
    }
    auto databases = TestDatabases::create();
    QVERIFY2(databases.hasValue(), qPrintable(databases.hasValue() ? QString() : databases.error()));
    m_databases = std::move(databases.value());
    for (const Driver driver : kDrivers) {
        setUp(m_fixtures[driver], driver);
        if (QTest::currentTestFailed())
            return;
    }
}

void tst_ApiBadInput::cleanupTestCase()
{
    m_fixtures.clear();
    m_databases.reset();
}

void tst_ApiBadInput::setUp(Fixture &f, Driver driver)
{
    const auto url = m_databases->fresh(driver);
    QVERIFY2(url.hasValue(), qPrintable(url.hasValue() ? QString() : url.error()));
    const QString dataDir = m_dir.filePath(TestDatabases::driverName(driver));
    QDir().mkpath(dataDir);
    TestVenue::Options options;
    options.database = *url;
    options.dataDir = dataDir;
    auto venue = TestVenue::start(options);
    QVERIFY2(venue.hasValue(), qPrintable(venue.hasValue() ? QString() : venue.error()));
    f.venue = std::move(venue.value());
    const quint16 port = f.venue->port();
    f.admin = adminClient(port);
    QVERIFY(f.admin);
    ApiClient &admin = *f.admin;

    const auto alice = admin.createUser("alice", "alice-password", "trader");
    const auto bob = admin.createUser("bob", "bob-password", "trader");
    const auto vera = admin.createUser("vera", "vera-password", "viewer");
    QVERIFY(alice && bob && vera);
    f.aliceId = *alice;
    f.bobId = *bob;
    f.viewerId = *vera;
    for (const qint64 id : {f.aliceId, f.bobId, f.viewerId}) {
        QCOMPARE(admin.request("PATCH", "/admin/users/" + QByteArray::number(id), R"({"rate_limit_tier":"unlimited"})")
                     .status,
                 200);
        QVERIFY(admin.deposit(id, "USD", "1000000"));
        QVERIFY(admin.deposit(id, "BTC", "10"));
    }
    // An instrument whose minimum is above its lot, and a halted one.
    QCOMPARE(admin
                 .post("/admin/instruments", R"({"symbol":"SOL-USD","base":"SOL","quote":"USD","tick_size":"0.01",)"
                                             R"("lot_size":"0.01","min_quantity":"1"})")
                 .status,
             201);
    QCOMPARE(admin.request("PATCH", "/admin/instruments/XAU-USD", R"({"status":"halted"})").status, 200);

    f.alice = std::make_unique<ApiClient>(port);
    f.bob = std::make_unique<ApiClient>(port);
    f.viewer = std::make_unique<ApiClient>(port);
    QCOMPARE(f.alice->login("alice", "alice-password").status, 200);
    QCOMPARE(f.bob->login("bob", "bob-password").status, 200);
    QCOMPARE(f.viewer->login("vera", "vera-password").status, 200);

    const auto place = [](ApiClient &client, const QByteArray &body, const char *status) -> qint64 {
        const ApiResponse response = client.post("/api/v1/orders", body);
        if (response.status != 201 || response.object().value("status").toString() != QLatin1String(status)) {
            qWarning("placing %s: %d %s", body.constData(), response.status, response.raw.body.constData());
            return 0;
        }
        return response.object().value("id").toInteger();
    };
    QVERIFY(place(*f.bob, order({{"side", R"("sell")"}, {"price", R"("45000.00")"}, {"quantity", R"("0.3")"}}), "new"));
    f.aliceOpen = place(*f.alice, order({{"price", R"("45000.00")"}, {"quantity", R"("1")"}}), "partially_filled");
    f.bobOpen = place(*f.bob, order({{"price", R"("48000.00")"}, {"quantity", R"("0.5")"}}), "new");
    f.aliceAsk = place(*f.alice, order({{"side", R"("sell")"}, {"price", R"("60000.00")"}, {"quantity", R"("1")"}}),
                       "new");
    f.bobClosed = place(*f.bob, order({{"quantity", R"("0.1")"}}), "new");
    f.aliceClosed = place(*f.alice, order({{"quantity", R"("0.1")"}}), "new");
    QVERIFY(f.aliceOpen && f.bobOpen && f.aliceAsk && f.bobClosed && f.aliceClosed);
    QCOMPARE(f.bob->request("DELETE", "/api/v1/orders/" + QByteArray::number(f.bobClosed)).status, 200);
    QCOMPARE(f.alice->request("DELETE", "/api/v1/orders/" + QByteArray::number(f.aliceClosed)).status, 200);
}

ApiClient *tst_ApiBadInput::client(Fixture &f, const QByteArray &who)
{
    if (who == "alice")
        return f.alice.get();
    if (who == "bob")
        return f.bob.get();
    if (who == "viewer")
        return f.viewer.get();
    if (who == "admin")
        return f.admin.get();
    return nullptr;
}

QByteArray tst_ApiBadInput::expand(const Fixture &f, QByteArray text) const
{
    return text.replace("{aliceOpen}", QByteArray::number(f.aliceOpen))
        .replace("{aliceClosed}", QByteArray::number(f.aliceClosed))
        .replace("{bobOpen}", QByteArray::number(f.bobOpen))
        .replace("{bobClosed}", QByteArray::number(f.bobClosed))
        .replace("{aliceId}", QByteArray::number(f.aliceId))
        .replace("{bobId}", QByteArray::number(f.bobId))
        .replace("{TOKEN}", f.alice->token());
}

// Everything a bad request could have changed: each user's balances and orders, the books, the users.
QByteArray tst_ApiBadInput::snapshot(Fixture &f)
{
    QByteArray state;
    for (ApiClient *user : {f.alice.get(), f.bob.get(), f.viewer.get()}) {
        const ApiResponse account = user->get("/api/v1/account");
        const ApiResponse orders = user->get("/api/v1/orders?status=all&page_size=1000");
        if (account.status != 200 || orders.status != 200)
            return "snapshot failed: " + account.raw.body + orders.raw.body;
        state += "account " + account.raw.body + "\norders total="
                 + QByteArray::number(orders.object().value("total").toInteger()) + ' ' + orders.raw.body + '\n';
    }
    for (const char *symbol : {"BTC-USD", "SOL-USD"}) {
        const ApiResponse book = f.alice->get(QByteArray("/api/v1/orderbook/") + symbol);
        if (book.status != 200)
            return "snapshot failed: " + book.raw.body;
        QJsonObject levels = book.object();
        levels.remove("timestamp");
        state += "book " + QJsonDocument(levels).toJson(QJsonDocument::Compact) + '\n';
    }
    const ApiResponse users = f.admin->get("/admin/users?page_size=1000");
    if (users.status != 200)
        return "snapshot failed: " + users.raw.body;
    state += "users " + users.raw.body;
    return state;
}

void tst_ApiBadInput::healthy(Fixture &f)
{
    RawClient fresh(f.venue->port());
    fresh.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
    const std::optional<RawResponse> response = fresh.read();
    QVERIFY(response);
    QCOMPARE(response->status, 200);
    QCOMPARE(QJsonDocument::fromJson(response->body).object().value("status").toString(), QStringLiteral("ok"));
}

void tst_ApiBadInput::patchSettings(Fixture &f, const QByteArray &patch)
{
    const ApiResponse response = f.admin->request("PATCH", "/admin/settings", patch);
    QVERIFY2(response.status == 200, response.raw.body.constData());
}

int tst_ApiBadInput::connectionsFromLoopback(Fixture &f)
{
    int count = 0;
    f.venue->onServer(
        [&](server::VenueServer &server) { count = server.api().edge()->connectionsFrom(QHostAddress::LocalHost); });
    return count;
}

// ---- the request tables

void tst_ApiBadInput::addRows(const std::vector<BadRequest> &rows)
{
    QTest::addColumn<Driver>("driver");
    QTest::addColumn<QByteArray>("caller");
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<QByteArray>("contentType");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("field");
    for (const Driver driver : kDrivers) {
        for (const BadRequest &row : rows) {
            QTest::addRow("%s: %s", qPrintable(TestDatabases::driverName(driver)), row.name)
                << driver << row.caller << row.method << row.path << row.contentType << row.body << row.status
                << row.code << row.field;
        }
    }
}

// A row of any request table: the request, its answer, nothing changed, still healthy.
void tst_ApiBadInput::runRow()
{
    QFETCH(Driver, driver);
    QFETCH(QByteArray, caller);
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, path);
    QFETCH(QByteArray, contentType);
    QFETCH(QByteArray, body);
    QFETCH(int, status);
    QFETCH(QString, code);
    QFETCH(QString, field);
    Fixture &f = fixture(driver);
    const QByteArray before = snapshot(f);
    QVERIFY2(!before.startsWith("snapshot failed"), before.constData());

    ApiClient anonymous(f.venue->port());
    ApiClient *sender = caller == "anonymous" ? &anonymous : client(f, caller);
    QVERIFY(sender);
    QElapsedTimer elapsed;
    elapsed.start();
    const ApiResponse response = sender->request(method, expand(f, path), expand(f, body), {},
                                                 contentType == "-" ? QByteArrayView() : QByteArrayView(contentType));
    QVERIFY2(elapsed.elapsed() < kFastMs, qPrintable(QString::number(elapsed.elapsed())));
    verifyError(response.raw, status, code, field);
    if (QTest::currentTestFailed())
        return;

    QCOMPARE(snapshot(f), before);
    healthy(f);
}

void tst_ApiBadInput::orderEntry_data()
{
    const auto post = [](const char *name, QByteArray body, int status, const char *code, const char *field = "",
                         QByteArray contentType = "application/json") {
        return BadRequest{name,
                          "alice",
                          "POST",
                          "/api/v1/orders",
                          std::move(body),
                          status,
                          QString::fromLatin1(code),
                          QString::fromLatin1(field),
                          std::move(contentType)};
    };
    const auto invalid = [&](const char *name, QByteArray body, const char *field) {
        return post(name, std::move(body), 400, "VALIDATION_ERROR", field);
    };
    const auto malformed = [&](const char *name, QByteArray body) {
        return post(name, std::move(body), 400, "BAD_REQUEST");
    };
    const QByteArray valid = order();
    addRows({
        // Not JSON, or not an object.
        malformed("truncated JSON", R"({"symbol":"BTC-USD",)"),
        malformed("single quotes", "{'symbol':'BTC-USD'}"),
        malformed("trailing comma", valid.chopped(1) + ",}"),
        malformed("content after the object", valid + " x"),
        malformed("two objects", valid + valid),
        malformed("empty body", ""),
        malformed("whitespace body", "  \r\n\t "),
        malformed("byte order mark", "\xEF\xBB\xBF" + valid),
        malformed("array body", '[' + valid + ']'),
        malformed("number body", "42"),
        malformed("string body", R"("BTC-USD")"),
        malformed("null body", "null"),
        malformed("boolean body", "true"),
        malformed("100,000-deep arrays", deeplyNested(100'000, "[")),
        malformed("100,000-deep objects", deeplyNested(100'000, R"({"a":)")),
        malformed("invalid UTF-8 byte in a string", order({{"symbol", "\"BTC-\xFFUSD\""}})),
        malformed("overlong UTF-8 in a string", order({{"client_order_id", "\"a\xC0\xAF\""}})),
        malformed("UTF-8-encoded surrogate", order({{"client_order_id", "\"a\xED\xA0\x80\""}})),
        malformed("truncated UTF-8 sequence", order({{"client_order_id", "\"a\xE2\x82\""}})),
        malformed("lone surrogate escape", order({{"client_order_id", R"("a\ud800")"}})),
        malformed("raw control character in a string", order({{"client_order_id", "\"a\x01\""}})),
        malformed("invalid escape", order({{"client_order_id", R"("a\x41")"}})),
        malformed("duplicate key", valid.chopped(1) + R"(,"price":"1.00"})"),
        malformed("duplicate key after unescaping", valid.chopped(1) + R"(,"pr\u0069ce":"1.00"})"),
        malformed("bare NaN", order({{"price", "NaN"}})),
        malformed("bare Infinity", order({{"quantity", "Infinity"}})),
        malformed("bare -Infinity", order({{"price", "-Infinity"}})),
        malformed("leading zero number", order({{"quantity", "01"}})),
        malformed("leading plus", order({{"quantity", "+1"}})),
        malformed("hex number", order({{"quantity", "0x10"}})),
        malformed("number over 256 characters", order({{"quantity", QByteArray(300, '1')}})),
        post("text/plain", valid, 415, "UNSUPPORTED_MEDIA_TYPE", "", "text/plain"),
        post("no Content-Type", valid, 415, "UNSUPPORTED_MEDIA_TYPE", "", "-"),
        post("form encoding", "symbol=BTC-USD", 415, "UNSUPPORTED_MEDIA_TYPE", "", "application/x-www-form-urlencoded"),
        post("JSON in latin1", valid, 415, "UNSUPPORTED_MEDIA_TYPE", "", "application/json; charset=latin1"),
        post("application/jsonx", valid, 415, "UNSUPPORTED_MEDIA_TYPE", "", "application/jsonx"),
        // Numbers that are no amounts.
        invalid("price 1e309", order({{"price", "1e309"}}), "price"),
        invalid("quantity 1e309", order({{"quantity", "1e309"}}), "quantity"),
        invalid("quantity 200 digits", order({{"quantity", QByteArray(200, '9')}}), "quantity"),
        invalid("price \"NaN\"", order({{"price", R"("NaN")"}}), "price"),
        invalid("price \"Infinity\"", order({{"price", R"("Infinity")"}}), "price"),
        invalid("quantity -0", order({{"quantity", "-0"}}), "quantity"),
        invalid("quantity \"-0\"", order({{"quantity", R"("-0")"}}), "quantity"),
        invalid("quantity 0", order({{"quantity", "0"}}), "quantity"),
        invalid("quantity -1", order({{"quantity", "-1"}}), "quantity"),
        invalid("price -0", order({{"price", "-0"}}), "price"),
        invalid("price negative", order({{"price", R"("-30000.00")"}}), "price"),
        invalid("quantity 0.1e-30", order({{"quantity", "0.1e-30"}}), "quantity"),
        invalid("price 0.1e-30", order({{"price", "0.1e-30"}}), "price"),
        invalid("quantity with 9 decimals", order({{"quantity", R"("0.000000001")"}}), "quantity"),
        invalid("notional overflow", order({{"price", R"("99999999999.99")"}, {"quantity", R"("99999999999")"}}), "*"),
        // Types.
        invalid("quantity \"abc\"", order({{"quantity", R"("abc")"}}), "quantity"),
        invalid("quantity empty string", order({{"quantity", R"("")"}}), "quantity"),
        invalid("quantity with a space", order({{"quantity", R"(" 1")"}}), "quantity"),
        invalid("quantity \"1,5\"", order({{"quantity", R"("1,5")"}}), "quantity"),
        invalid("quantity true", order({{"quantity", "true"}}), "quantity"),
        invalid("quantity array", order({{"quantity", "[1]"}}), "quantity"),
        invalid("quantity object", order({{"quantity", R"({"value":1})"}}), "quantity"),
        invalid("side 1", order({{"side", "1"}}), "side"),
        invalid("symbol 5", order({{"symbol", "5"}}), "symbol"),
        invalid("symbol null", order({{"symbol", "null"}}), "symbol"),
        invalid("type array", order({{"type", R"(["limit"])"}}), "type"),
        invalid("post_only string", order({{"post_only", R"("true")"}}), "post_only"),
        invalid("post_only 1", order({{"post_only", "1"}}), "post_only"),
        invalid("client_order_id number", order({{"client_order_id", "42"}}), "client_order_id"),
        // Values the instrument or the enums refuse.
        invalid("price off tick", order({{"price", R"("50000.001")"}}), "price"),
        invalid("price off tick as a number", order({{"price", "30000.005"}}), "price"),
        invalid("quantity off lot", order({{"quantity", R"("0.00015")"}}), "quantity"),
        invalid("quantity below minimum",
                order({{"symbol", R"("SOL-USD")"}, {"price", R"("10.00")"}, {"quantity", R"("0.5")"}}), "quantity"),
        post("unknown symbol", order({{"symbol", R"("DOGE-USD")"}}), 404, "NOT_FOUND", "symbol"),
        post("lower-case symbol", order({{"symbol", R"("btc-usd")"}}), 404, "NOT_FOUND", "symbol"),
        post("symbol with NUL", order({{"symbol", R"("BTC-USD\u0000")"}}), 404, "NOT_FOUND", "symbol"),
        post("symbol with accent", order({{"symbol", R"("BTC-USD\u00e9")"}}), 404, "NOT_FOUND", "symbol"),
        invalid("symbol of 65 bytes", order({{"symbol", '"' + QByteArray(65, 'A') + '"'}}), "symbol"),
        invalid("unknown side", order({{"side", R"("hold")"}}), "side"),
        invalid("upper-case side", order({{"side", R"("BUY")"}}), "side"),
        invalid("unknown type", order({{"type", R"("stop")"}}), "type"),
        invalid("unknown time_in_force", order({{"time_in_force", R"("day")"}}), "time_in_force"),
        invalid("unknown stp", order({{"stp", R"("never")"}}), "stp"),
        invalid("market with a price", order({{"type", R"("market")"}}), "price"),
        invalid("market with gtc", order({{"type", R"("market")"}, {"time_in_force", R"("gtc")"}}, {"price"}),
                "time_in_force"),
        invalid("post_only on ioc", order({{"time_in_force", R"("ioc")"}, {"post_only", "true"}}), "post_only"),
        invalid("post_only on fok", order({{"time_in_force", R"("fok")"}, {"post_only", "true"}}), "post_only"),
        invalid("post_only on market", order({{"type", R"("market")"}, {"post_only", "true"}}, {"price"}), "post_only"),
        invalid("client_order_id of 65 characters", order({{"client_order_id", '"' + QByteArray(65, 'c') + '"'}}),
                "client_order_id"),
        invalid("client_order_id of 300 characters", order({{"client_order_id", '"' + QByteArray(300, 'c') + '"'}}),
                "client_order_id"),
        invalid("empty client_order_id", order({{"client_order_id", R"("")"}}), "client_order_id"),
        invalid("client_order_id with a space", order({{"client_order_id", R"("a b")"}}), "client_order_id"),
        invalid("client_order_id with a slash", order({{"client_order_id", R"("a/b")"}}), "client_order_id"),
        invalid("client_order_id with a quote", order({{"client_order_id", R"("a\"b")"}}), "client_order_id"),
        invalid("client_order_id with NUL", order({{"client_order_id", R"("a\u0000b")"}}), "client_order_id"),
        invalid("client_order_id non-ASCII", order({{"client_order_id", R"("caf\u00e9")"}}), "client_order_id"),
        // Missing members.
        invalid("empty object", "{}", "symbol"),
        invalid("missing symbol", order({}, {"symbol"}), "symbol"),
        invalid("missing side", order({}, {"side"}), "side"),
        invalid("missing type", order({}, {"type"}), "type"),
        invalid("missing quantity", order({}, {"quantity"}), "quantity"),
        invalid("limit without price", order({}, {"price"}), "price"),
        invalid("quantity null", order({{"quantity", "null"}}), "quantity"),
        // Mass assignment: members of the order the server owns.
        invalid("mass assignment status", order({{"status", R"("filled")"}}), "status"),
        invalid("mass assignment filled_quantity", order({{"filled_quantity", R"("0.01")"}}), "filled_quantity"),
        invalid("mass assignment user_id", order({{"user_id", "1"}}), "user_id"),
        invalid("mass assignment role", order({{"role", R"("admin")"}}), "role"),
        invalid("mass assignment id", order({{"id", "1"}}), "id"),
        invalid("mass assignment seq", order({{"seq", "1"}}), "seq"),
        invalid("mass assignment remaining_quantity", order({{"remaining_quantity", R"("5")"}}), "remaining_quantity"),
        invalid("mass assignment created_at", order({{"created_at", R"("2020-01-01T00:00:00.000Z")"}}), "created_at"),
        invalid("mass assignment average_price", order({{"average_price", R"("1.00")"}}), "average_price"),
        invalid("unknown member first", R"({"account":7,"symbol":"BTC-USD"})", "account"),
        invalid("member name in another case", order({{"Symbol", R"("ETH-USD")"}}), "Symbol"),
        // Well-formed orders the venue refuses.
        post("insufficient quote balance", order({{"quantity", R"("100")"}}), 400, "INSUFFICIENT_BALANCE"),
        post("insufficient base balance",
             order({{"side", R"("sell")"}, {"price", R"("90000.00")"}, {"quantity", R"("100")"}}), 400,
             "INSUFFICIENT_BALANCE"),
        post("post-only that would take",
             order({{"side", R"("sell")"}, {"price", R"("48000.00")"}, {"post_only", "true"}}), 409,
             "POST_ONLY_WOULD_TAKE", "price"),
        post("halted market", order({{"symbol", R"("XAU-USD")"}, {"price", R"("2000.00")"}}), 409, "MARKET_HALTED"),
    });
}

void tst_ApiBadInput::orderEntry()
{
    runRow();
}

void tst_ApiBadInput::amendCancelAndQuery_data()
{
    const auto as = [](const char *name, QByteArray method, QByteArray path, QByteArray body, int status,
                       const char *code, const char *field = "", QByteArray contentType = "application/json") {
        return BadRequest{name,
                          "alice",
                          std::move(method),
                          std::move(path),
                          std::move(body),
                          status,
                          QString::fromLatin1(code),
                          QString::fromLatin1(field),
                          std::move(contentType)};
    };
    const QByteArray open = "/api/v1/orders/{aliceOpen}";
    std::vector<BadRequest> rows = {
        as("PATCH {}", "PATCH", open, "{}", 400, "VALIDATION_ERROR", "*"), // no one field is at fault
        as("PATCH status filled", "PATCH", open, R"({"status":"filled"})", 400, "VALIDATION_ERROR", "status"),
        as("PATCH status with a quantity", "PATCH", open, R"({"quantity":"0.9","status":"cancelled"})", 400,
           "VALIDATION_ERROR", "status"),
        as("PATCH filled_quantity", "PATCH", open, R"({"filled_quantity":"1"})", 400, "VALIDATION_ERROR",
           "filled_quantity"),
        as("PATCH user_id", "PATCH", open, R"({"user_id":{bobId},"quantity":"0.9"})", 400, "VALIDATION_ERROR",
           "user_id"),
        as("PATCH symbol", "PATCH", open, R"({"symbol":"ETH-USD"})", 400, "VALIDATION_ERROR", "symbol"),
        as("PATCH quantity equal to filled", "PATCH", open, R"({"quantity":"0.3"})", 400, "VALIDATION_ERROR",
           "quantity"),
        as("PATCH quantity below filled", "PATCH", open, R"({"quantity":"0.1"})", 400, "VALIDATION_ERROR", "quantity"),
        as("PATCH quantity 0", "PATCH", open, R"({"quantity":"0"})", 400, "VALIDATION_ERROR", "quantity"),
        as("PATCH quantity -0", "PATCH", open, R"({"quantity":-0})", 400, "VALIDATION_ERROR", "quantity"),
        as("PATCH quantity negative", "PATCH", open, R"({"quantity":"-1"})", 400, "VALIDATION_ERROR", "quantity"),
        as("PATCH quantity off lot", "PATCH", open, R"({"quantity":"0.90005"})", 400, "VALIDATION_ERROR", "quantity"),
        as("PATCH quantity 1e309", "PATCH", open, R"({"quantity":1e309})", 400, "VALIDATION_ERROR", "quantity"),
        as("PATCH price off tick", "PATCH", open, R"({"price":"45000.001"})", 400, "VALIDATION_ERROR", "price"),
        as("PATCH price 0", "PATCH", open, R"({"price":"0"})", 400, "VALIDATION_ERROR", "price"),
        as("PATCH price abc", "PATCH", open, R"({"price":"abc"})", 400, "VALIDATION_ERROR", "price"),
        as("PATCH price true", "PATCH", open, R"({"price":true})", 400, "VALIDATION_ERROR", "price"),
        as("PATCH quantity beyond the balance", "PATCH", open, R"({"quantity":"1000"})", 400, "INSUFFICIENT_BALANCE"),
        as("PATCH null body", "PATCH", open, "null", 400, "BAD_REQUEST"),
        as("PATCH array body", "PATCH", open, R"([{"quantity":"0.9"}])", 400, "BAD_REQUEST"),
        as("PATCH malformed body", "PATCH", open, R"({"quantity":)", 400, "BAD_REQUEST"),
        as("PATCH duplicate key", "PATCH", open, R"({"quantity":"0.9","quantity":"0.8"})", 400, "BAD_REQUEST"),
        as("PATCH text/plain", "PATCH", open, R"({"quantity":"0.9"})", 415, "UNSUPPORTED_MEDIA_TYPE", "", "text/plain"),
        as("PATCH no Content-Type", "PATCH", open, R"({"quantity":"0.9"})", 415, "UNSUPPORTED_MEDIA_TYPE", "", "-"),
        as("PATCH own closed order", "PATCH", "/api/v1/orders/{aliceClosed}", R"({"quantity":"0.5"})", 409,
           "ORDER_NOT_OPEN"),
        as("DELETE own closed order", "DELETE", "/api/v1/orders/{aliceClosed}", "", 409, "ORDER_NOT_OPEN"),
        as("GET other user's open order", "GET", "/api/v1/orders/{bobOpen}", "", 404, "NOT_FOUND"),
        as("PATCH other user's open order", "PATCH", "/api/v1/orders/{bobOpen}", R"({"quantity":"0.4"})", 404,
           "NOT_FOUND"),
        as("DELETE other user's open order", "DELETE", "/api/v1/orders/{bobOpen}", "", 404, "NOT_FOUND"),
        as("GET other user's closed order", "GET", "/api/v1/orders/{bobClosed}", "", 404, "NOT_FOUND"),
        as("PATCH other user's closed order", "PATCH", "/api/v1/orders/{bobClosed}", R"({"quantity":"0.05"})", 404,
           "NOT_FOUND"),
        as("DELETE other user's closed order", "DELETE", "/api/v1/orders/{bobClosed}", "", 404, "NOT_FOUND"),
        as("DELETE without an id", "DELETE", "/api/v1/orders/", "", 404, "NOT_FOUND"),
        as("PUT an order", "PUT", open, R"({"quantity":"0.9"})", 405, "METHOD_NOT_ALLOWED"),
        as("PUT the orders", "PUT", "/api/v1/orders", order(), 405, "METHOD_NOT_ALLOWED"),
        as("cancel-all of an unknown symbol", "DELETE", "/api/v1/orders?symbol=DOGE-USD", "", 404, "NOT_FOUND",
           "symbol"),
        as("orders with a bad status", "GET", "/api/v1/orders?status=filled", "", 400, "VALIDATION_ERROR", "status"),
        as("orders of another user", "GET", "/api/v1/orders?user_id={bobId}", "", 403, "FORBIDDEN", "*"),
        as("orders page 0", "GET", "/api/v1/orders?page=0", "", 400, "VALIDATION_ERROR", "page"),
        as("orders page_size abc", "GET", "/api/v1/orders?page_size=abc", "", 400, "VALIDATION_ERROR", "page_size"),
        as("orders status twice", "GET", "/api/v1/orders?status=open&status=all", "", 400, "BAD_REQUEST"),
        as("orderbook of an unknown symbol", "GET", "/api/v1/orderbook/DOGE-USD", "", 404, "NOT_FOUND"),
        as("orderbook depth 0", "GET", "/api/v1/orderbook/BTC-USD?depth=0", "", 400, "VALIDATION_ERROR", "depth"),
        as("cancel-after negative", "POST", "/api/v1/orders/cancel-after", R"({"timeout_s":-1})", 400,
           "VALIDATION_ERROR", "timeout_s"),
        as("cancel-after string", "POST", "/api/v1/orders/cancel-after", R"({"timeout_s":"10"})", 400,
           "VALIDATION_ERROR", "timeout_s"),
        as("cancel-after fraction", "POST", "/api/v1/orders/cancel-after", R"({"timeout_s":1.5})", 400,
           "VALIDATION_ERROR", "timeout_s"),
        as("cancel-after over a day", "POST", "/api/v1/orders/cancel-after", R"({"timeout_s":86401})", 400,
           "VALIDATION_ERROR", "timeout_s"),
    };
    // Ids that are not numbers, not positive, or beyond any order: the same 404 for each method.
    static const QByteArray ids[] = {"abc",
                                     "0",
                                     "-1",
                                     "1.5",
                                     "1e3",
                                     "%20",
                                     "0x10",
                                     "99999999999999999999999",
                                     "9223372036854775807",
                                     "9223372036854775808",
                                     "18446744073709551616"};
    static std::vector<QByteArray> names; // the rows keep pointers to their names
    names.clear();
    names.reserve(std::size(ids) * 3);
    for (const QByteArray &id : ids) {
        for (const char *method : {"GET", "PATCH", "DELETE"}) {
            names.push_back(QByteArray(method) + " id " + id);
            rows.push_back(as(names.back().constData(), method, "/api/v1/orders/" + id,
                              QByteArray(method) == "PATCH" ? R"({"quantity":"0.5"})" : "", 404, "NOT_FOUND"));
        }
    }
    addRows(rows);
}

void tst_ApiBadInput::amendCancelAndQuery()
{
    runRow();
}

void tst_ApiBadInput::registration_data()
{
    const auto anonymous = [](const char *name, QByteArray path, QByteArray body, int status, const char *code,
                              const char *field = "", QByteArray contentType = "application/json") {
        return BadRequest{name,
                          "anonymous",
                          "POST",
                          std::move(path),
                          std::move(body),
                          status,
                          QString::fromLatin1(code),
                          QString::fromLatin1(field),
                          std::move(contentType)};
    };
    addRows({
        // The documented choice (openapi.json): an unknown member is refused, so "role" never makes an admin.
        anonymous("register with role admin", "/auth/register",
                  R"({"username":"mallory","password":"mallory-password","role":"admin"})", 400, "VALIDATION_ERROR",
                  "role"),
        anonymous("register with role first", "/auth/register",
                  R"({"role":"admin","username":"mallory","password":"mallory-password"})", 400, "VALIDATION_ERROR",
                  "role"),
        anonymous("register with id", "/auth/register",
                  R"({"username":"mallory","password":"mallory-password","id":1})", 400, "VALIDATION_ERROR", "id"),
        anonymous("register with active", "/auth/register",
                  R"({"username":"mallory","password":"mallory-password","active":true})", 400, "VALIDATION_ERROR",
                  "active"),
        anonymous("register with rate_limit_tier", "/auth/register",
                  R"({"username":"mallory","password":"mallory-password","rate_limit_tier":"unlimited"})", 400,
                  "VALIDATION_ERROR", "rate_limit_tier"),
        anonymous("register with a short username", "/auth/register",
                  R"({"username":"ma","password":"mallory-password"})", 400, "VALIDATION_ERROR", "username"),
        anonymous("register with a bad username", "/auth/register",
                  R"({"username":"mal/lory","password":"mallory-password"})", 400, "VALIDATION_ERROR", "username"),
        anonymous("register with a short password", "/auth/register", R"({"username":"mallory","password":"short"})",
                  400, "VALIDATION_ERROR", "password"),
        anonymous("register with a numeric username", "/auth/register",
                  R"({"username":5,"password":"mallory-password"})", 400, "VALIDATION_ERROR", "username"),
        anonymous("register without a password", "/auth/register", R"({"username":"mallory"})", 400, "VALIDATION_ERROR",
                  "password"),
        anonymous("register a taken username", "/auth/register",
                  R"({"username":"alice","password":"another-password"})", 409, "CONFLICT", "*"),
        anonymous("register with an array", "/auth/register", R"([{"username":"mallory","password":"m-password"}])",
                  400, "BAD_REQUEST"),
        anonymous("register as text/plain", "/auth/register", R"({"username":"mallory","password":"m-password"})", 415,
                  "UNSUPPORTED_MEDIA_TYPE", "", "text/plain"),
        anonymous("login with role", "/auth/login",
                  R"({"username":"alice","password":"alice-password","role":"admin"})", 400, "VALIDATION_ERROR", "role"),
        anonymous("refresh with a garbage token", "/auth/refresh", R"({"refresh_token":"garbage"})", 401,
                  "UNAUTHORIZED"),
        anonymous("refresh with a number", "/auth/refresh", R"({"refresh_token":5})", 400, "VALIDATION_ERROR",
                  "refresh_token"),
        anonymous("admin user creation without a token", "/admin/users",
                  R"({"username":"mallory","password":"mallory-password","role":"admin"})", 401, "UNAUTHORIZED"),
    });
}

void tst_ApiBadInput::registration()
{
    runRow();
}

void tst_ApiBadInput::roles_data()
{
    const auto by = [](const char *name, QByteArray caller, QByteArray method, QByteArray path, QByteArray body,
                       int status, const char *code) {
        return BadRequest{name,   std::move(caller),         std::move(method), std::move(path), std::move(body),
                          status, QString::fromLatin1(code), QString()};
    };
    addRows({
        by("trader lists users", "alice", "GET", "/admin/users", "", 403, "FORBIDDEN"),
        by("trader creates an admin", "alice", "POST", "/admin/users",
           R"({"username":"mallory","password":"mallory-password","role":"admin"})", 403, "FORBIDDEN"),
        by("trader promotes itself", "alice", "PATCH", "/admin/users/{aliceId}", R"({"role":"admin"})", 403,
           "FORBIDDEN"),
        by("trader deposits to itself", "alice", "POST", "/admin/users/{aliceId}/deposits",
           R"({"asset":"USD","amount":"1000000"})", 403, "FORBIDDEN"),
        by("trader withdraws from another", "alice", "POST", "/admin/users/{bobId}/withdrawals",
           R"({"asset":"USD","amount":"1"})", 403, "FORBIDDEN"),
        by("trader changes settings", "alice", "PATCH", "/admin/settings", R"({"registration_open":false})", 403,
           "FORBIDDEN"),
        by("trader halts a market", "alice", "PATCH", "/admin/instruments/BTC-USD", R"({"status":"halted"})", 403,
           "FORBIDDEN"),
        by("trader pulls the kill switch", "alice", "POST", "/admin/kill-switch", "{}", 403, "FORBIDDEN"),
        by("trader reads the audit", "alice", "GET", "/admin/audit", "", 403, "FORBIDDEN"),
        by("viewer places an order", "viewer", "POST", "/api/v1/orders", order(), 403, "FORBIDDEN"),
        by("viewer amends an order", "viewer", "PATCH", "/api/v1/orders/{aliceOpen}", R"({"quantity":"0.9"})", 403,
           "FORBIDDEN"),
        by("viewer cancels an order", "viewer", "DELETE", "/api/v1/orders/{aliceOpen}", "", 403, "FORBIDDEN"),
        by("viewer cancels all", "viewer", "DELETE", "/api/v1/orders", "", 403, "FORBIDDEN"),
        by("viewer arms cancel-after", "viewer", "POST", "/api/v1/orders/cancel-after", R"({"timeout_s":5})", 403,
           "FORBIDDEN"),
        by("viewer reads another user's order", "viewer", "GET", "/api/v1/orders/{aliceOpen}", "", 404, "NOT_FOUND"),
        by("trader cancels another user's order", "bob", "DELETE", "/api/v1/orders/{aliceOpen}", "", 404, "NOT_FOUND"),
        by("trader amends another user's order", "bob", "PATCH", "/api/v1/orders/{aliceOpen}", R"({"price":"1.00"})",
           404, "NOT_FOUND"),
    });
}

void tst_ApiBadInput::roles()
{
    runRow();
}

// ---- tokens

void tst_ApiBadInput::authentication_data()
{
    QTest::addColumn<Driver>("driver");
    QTest::addColumn<QByteArray>("kind");
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<int>("status");
    static const char *const kinds[] = {"no header",
                                        "Bearer alone",
                                        "Bearer and spaces",
                                        "Basic credentials",
                                        "Token scheme",
                                        "garbage token",
                                        "three garbage parts",
                                        "expired token",
                                        "alg none",
                                        "alg none with a valid signature",
                                        "alg HS512",
                                        "alg missing",
                                        "crit header",
                                        "signed with another key",
                                        "signed with an empty signature",
                                        "tampered role",
                                        "tampered sub",
                                        "refresh token as access token",
                                        "unknown user",
                                        "sub with a leading zero",
                                        "issued in the future",
                                        "typ missing",
                                        "role missing",
                                        "oversized token",
                                        "token with a fourth part"};
    for (const Driver driver : kDrivers) {
        const QByteArray name = TestDatabases::driverName(driver).toLatin1();
        for (const char *kind : kinds) {
            QTest::addRow("%s: %s: GET account", name.constData(), kind)
                << driver << QByteArray(kind) << QByteArray("GET") << QByteArray("/api/v1/account") << 401;
            QTest::addRow("%s: %s: POST order", name.constData(), kind)
                << driver << QByteArray(kind) << QByteArray("POST") << QByteArray("/api/v1/orders") << 401;
        }
        // Positive controls: the forging itself is right, so the refusals above are the server's doing.
        QTest::addRow("%s: valid forged token: GET account", name.constData())
            << driver << QByteArray("valid forged token") << QByteArray("GET") << QByteArray("/api/v1/account") << 200;
        QTest::addRow("%s: correctly signed role admin: GET admin users", name.constData())
            << driver << QByteArray("signed role admin") << QByteArray("GET") << QByteArray("/admin/users") << 403;
    }
}

void tst_ApiBadInput::authentication()
{
    QFETCH(Driver, driver);
    QFETCH(QByteArray, kind);
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, path);
    QFETCH(int, status);
    Fixture &f = fixture(driver);
    const QByteArray before = snapshot(f);
    QVERIFY2(!before.startsWith("snapshot failed"), before.constData());

    const qint64 now = nowSeconds();
    const QByteArray aliceToken = f.alice->token();
    const QByteArray key = jwtSecret();
    const auto signedBy = [&](const QJsonObject &payload) { return jwt(hs256Header(), payload, key); };
    const QJsonObject valid = accessClaims(f.aliceId, "trader", now, now + 600);
    std::optional<QByteArray> authorization;
    if (kind == "Bearer alone")
        authorization = "Bearer";
    else if (kind == "Bearer and spaces")
        authorization = "Bearer    ";
    else if (kind == "Basic credentials")
        authorization = "Basic " + QByteArray("alice:alice-password").toBase64();
    else if (kind == "Token scheme")
        authorization = "Token " + aliceToken;
    else if (kind == "garbage token")
        authorization = "Bearer garbage";
    else if (kind == "three garbage parts")
        authorization = "Bearer a.b.c";
    else if (kind == "expired token")
        authorization = "Bearer " + signedBy(accessClaims(f.aliceId, "trader", now - 3600, now - 60));
    else if (kind == "alg none")
        authorization = "Bearer " + jwt({{"alg", "none"}, {"typ", "JWT"}}, valid, {});
    else if (kind == "alg none with a valid signature")
        authorization = "Bearer " + jwt({{"alg", "none"}, {"typ", "JWT"}}, valid, key);
    else if (kind == "alg HS512")
        authorization = "Bearer " + jwt({{"alg", "HS512"}, {"typ", "JWT"}}, valid, key);
    else if (kind == "alg missing")
        authorization = "Bearer " + jwt({{"typ", "JWT"}}, valid, key);
    else if (kind == "crit header")
        authorization = "Bearer " + jwt({{"alg", "HS256"}, {"crit", QJsonArray{"exp"}}}, valid, key);
    else if (kind == "signed with another key")
        authorization = "Bearer " + jwt(hs256Header(), valid, QByteArray(40, 'x'));
    else if (kind == "signed with an empty signature")
        authorization = "Bearer " + jwt(hs256Header(), valid, {});
    else if (kind == "tampered role")
        authorization = "Bearer " + tampered(aliceToken, R"("role":"trader")", R"("role":"admin")");
    else if (kind == "tampered sub")
        authorization = "Bearer "
                        + tampered(aliceToken, "\"sub\":\"" + QByteArray::number(f.aliceId) + '"',
                                   "\"sub\":\"" + QByteArray::number(f.bobId) + '"');
    else if (kind == "refresh token as access token") {
        ApiClient login(f.venue->port());
        const ApiResponse pair = login.login("alice", "alice-password");
        QCOMPARE(pair.status, 200);
        authorization = "Bearer " + pair.object().value("refresh_token").toString().toLatin1();
    } else if (kind == "unknown user")
        authorization = "Bearer " + signedBy(accessClaims(999'999, "trader", now, now + 600));
    else if (kind == "sub with a leading zero") {
        QJsonObject claims = valid;
        claims["sub"] = "0" + QString::number(f.aliceId);
        authorization = "Bearer " + signedBy(claims);
    } else if (kind == "issued in the future")
        authorization = "Bearer " + signedBy(accessClaims(f.aliceId, "trader", now + 3600, now + 4000));
    else if (kind == "typ missing") {
        QJsonObject claims = valid;
        claims.remove("typ");
        authorization = "Bearer " + signedBy(claims);
    } else if (kind == "role missing") {
        QJsonObject claims = valid;
        claims.remove("role");
        authorization = "Bearer " + signedBy(claims);
    } else if (kind == "oversized token") {
        QJsonObject claims = valid;
        claims["pad"] = QString(5000, QLatin1Char('p'));
        authorization = "Bearer " + signedBy(claims);
    } else if (kind == "token with a fourth part")
        authorization = "Bearer " + aliceToken + ".x";
    else if (kind == "valid forged token")
        authorization = "Bearer " + signedBy(valid);
    else if (kind == "signed role admin")
        authorization = "Bearer " + signedBy(accessClaims(f.aliceId, "admin", now, now + 600));
    else
        QCOMPARE(kind, QByteArray("no header"));

    ApiClient anonymous(f.venue->port());
    QByteArrayList headers;
    if (authorization)
        headers.append("Authorization: " + *authorization);
    const ApiResponse response = anonymous.request(method, path, method == "POST" ? order() : QByteArray(), headers);
    if (status == 200) {
        QCOMPARE(response.status, 200);
        QVERIFY(response.object().contains("balances"));
    } else {
        verifyError(response.raw, status, status == 401 ? QStringLiteral("UNAUTHORIZED") : QStringLiteral("FORBIDDEN"),
                    QString());
        if (QTest::currentTestFailed())
            return;
    }
    QCOMPARE(snapshot(f), before);
    healthy(f);
}

void tst_ApiBadInput::refreshTokenReuse()
{
    QFETCH(Driver, driver);
    Fixture &f = fixture(driver);
    const QByteArray before = snapshot(f);
    ApiClient client(f.venue->port());
    const ApiResponse first = client.login("alice", "alice-password");
    QCOMPARE(first.status, 200);
    const QByteArray firstRefresh = first.object().value("refresh_token").toString().toLatin1();
    const auto refresh = [&](const QByteArray &token) {
        ApiClient anonymous(f.venue->port());
        return anonymous.post("/auth/refresh", R"({"refresh_token":")" + token + "\"}");
    };
    // An access token is no refresh token.
    verifyError(refresh(first.object().value("access_token").toString().toLatin1()).raw, 401, "UNAUTHORIZED", {});
    if (QTest::currentTestFailed())
        return;

    const ApiResponse second = refresh(firstRefresh);
    QCOMPARE(second.status, 200);
    const QByteArray secondRefresh = second.object().value("refresh_token").toString().toLatin1();
    const QByteArray secondAccess = second.object().value("access_token").toString().toLatin1();
    QVERIFY(secondRefresh != firstRefresh);

    // The rotated token again: refused, and its whole family with it.
    verifyError(refresh(firstRefresh).raw, 401, "UNAUTHORIZED", {});
    if (QTest::currentTestFailed())
        return;
    verifyError(refresh(secondRefresh).raw, 401, "UNAUTHORIZED", {});
    if (QTest::currentTestFailed())
        return;
    // Spec §4: "every token of that login family is revoked": the access token issued with the revoked
    // refresh token too.
    ApiClient holder(f.venue->port());
    holder.setToken(secondAccess);
    QCOMPARE(holder.get("/api/v1/me").status, 401);

    // Another login is a new family and works.
    ApiClient again(f.venue->port());
    QCOMPARE(again.login("alice", "alice-password").status, 200);
    QCOMPARE(snapshot(f), before);
    healthy(f);
}

void tst_ApiBadInput::registrationCreatesOnlyTraders()
{
    QFETCH(Driver, driver);
    Fixture &f = fixture(driver);
    ApiClient anonymous(f.venue->port());
    const ApiResponse created = anonymous.post("/auth/register", R"({"username":"mallory","password":"mallory-pw1"})");
    QCOMPARE(created.status, 201);
    QCOMPARE(created.object().value("role").toString(), QStringLiteral("trader"));
    ApiClient mallory(f.venue->port());
    QCOMPARE(mallory.login("mallory", "mallory-pw1").status, 200);
    const ApiResponse me = mallory.get("/api/v1/me");
    QCOMPARE(me.status, 200);
    QCOMPARE(me.object().value("role").toString(), QStringLiteral("trader"));
    verifyError(mallory.get("/admin/users").raw, 403, "FORBIDDEN", {});
}

// ---- the HTTP level, with raw sockets

void tst_ApiBadInput::framing_data()
{
    QTest::addColumn<Driver>("driver");
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("code");

    // Each request carries alice's token and a valid order where it can, so that a request that slipped
    // through would show in the snapshot.
    const QByteArray body = order();
    const QByteArray head = "POST /api/v1/orders HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {TOKEN}\r\n"
                            "Content-Type: application/json\r\n";
    const QByteArray length = "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    QByteArray tenThousandHeaders = head + length;
    for (int i = 0; i < 10'000; ++i)
        tenThousandHeaders += "X-" + QByteArray::number(i) + ": v\r\n";
    const QByteArray chunked = QByteArray::number(body.size(), 16) + "\r\n" + body + "\r\n0\r\n\r\n";
    QByteArray bareLf = head + length + "\r\n" + body;
    bareLf.replace("\r\n", "\n");
    const struct
    {
        const char *name;
        QByteArray request;
        int status;
        const char *code;
    } rows[] = {
        {"1 MB request line", "GET /api/v1/orders?" + QByteArray(1024 * 1024, 'a') + " HTTP/1.1\r\nHost: t\r\n\r\n",
         414, "URI_TOO_LONG"},
        {"10,000 headers", tenThousandHeaders + "\r\n" + body, 431, "HEADERS_TOO_LARGE"},
        {"129 header fields", head + length + QByteArray("X-A: b\r\n").repeated(126) + "\r\n" + body, 431,
         "HEADERS_TOO_LARGE"},
        {"65 KiB header", head + length + "X-Big: " + QByteArray(65 * 1024, 'b') + "\r\n\r\n" + body, 431,
         "HEADERS_TOO_LARGE"},
        {"two different Content-Lengths", head + length + "Content-Length: 5\r\n\r\n" + body, 400, "BAD_REQUEST"},
        {"Content-Length list", head + "Content-Length: " + QByteArray::number(body.size()) + ", 5\r\n\r\n" + body, 400,
         "BAD_REQUEST"},
        {"Content-Length with chunked", head + length + "Transfer-Encoding: chunked\r\n\r\n" + chunked, 400,
         "BAD_REQUEST"},
        {"negative Content-Length", head + "Content-Length: -1\r\n\r\n" + body, 400, "BAD_REQUEST"},
        {"bad chunk size", head + "Transfer-Encoding: chunked\r\n\r\nzz\r\n" + body + "\r\n0\r\n\r\n", 400,
         "BAD_REQUEST"},
        {"chunk size overflow", head + "Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n", 400, "BAD_REQUEST"},
        {"chunk without its CRLF",
         head + "Transfer-Encoding: chunked\r\n\r\n" + QByteArray::number(body.size(), 16) + "\r\n" + body
             + "X0\r\n\r\n",
         400, "BAD_REQUEST"},
        {"gzip transfer coding", head + "Transfer-Encoding: gzip, chunked\r\n\r\n" + chunked, 501, "NOT_IMPLEMENTED"},
        {"bare LF line endings", bareLf, 400, "BAD_REQUEST"},
        {"bare LF after one header", head + "X-A: b\n" + length + "\r\n" + body, 400, "BAD_REQUEST"},
        {"bare CR", head + "X-A: b\rX-B: c\r\n" + length + "\r\n" + body, 400, "BAD_REQUEST"},
        {"folded header", head + "X-A: b\r\n c\r\n" + length + "\r\n" + body, 400, "BAD_REQUEST"},
        {"space before colon", head + "X-A : b\r\n" + length + "\r\n" + body, 400, "BAD_REQUEST"},
        {"NUL in a header value", head + QByteArray("X-A: b\0c\r\n", 10) + length + "\r\n" + body, 400, "BAD_REQUEST"},
        {"missing Host", QByteArray(head).replace("Host: t\r\n", "") + length + "\r\n" + body, 400, "BAD_REQUEST"},
        {"two Hosts", head + "Host: u\r\n" + length + "\r\n" + body, 400, "BAD_REQUEST"},
        {"HTTP/2.0", QByteArray(head).replace("HTTP/1.1", "HTTP/2.0") + length + "\r\n" + body, 505,
         "HTTP_VERSION_NOT_SUPPORTED"},
        {"unknown method", QByteArray(head).replace("POST", "BREW") + length + "\r\n" + body, 501, "NOT_IMPLEMENTED"},
        {"target with a space", QByteArray(head).replace("/api/v1/orders", "/api/v1/orders x") + length + "\r\n" + body,
         400, "BAD_REQUEST"},
        {"raw UTF-8 in the target",
         QByteArray(head).replace("/api/v1/orders", "/api/v1/\xC3\xA9") + length + "\r\n" + body, 400, "BAD_REQUEST"},
    };
    for (const Driver driver : kDrivers) {
        for (const auto &row : rows) {
            QTest::addRow("%s: %s", qPrintable(TestDatabases::driverName(driver)), row.name)
                << driver << row.request << row.status << QString::fromLatin1(row.code);
        }
    }
}

void tst_ApiBadInput::framing()
{
    QFETCH(Driver, driver);
    QFETCH(QByteArray, request);
    QFETCH(int, status);
    QFETCH(QString, code);
    Fixture &f = fixture(driver);
    const QByteArray before = snapshot(f);
    QVERIFY2(!before.startsWith("snapshot failed"), before.constData());

    RawClient client(f.venue->port());
    QElapsedTimer elapsed;
    elapsed.start();
    client.socket().write(expand(f, request)); // not waiting: the answer may come before the last byte is taken
    const std::optional<RawResponse> response = client.read();
    QVERIFY(response);
    QVERIFY(elapsed.elapsed() < kFastMs);
    verifyError(*response, status, code, {});
    if (QTest::currentTestFailed())
        return;
    QCOMPARE(response->header("connection"), QByteArray("close"));
    QVERIFY(client.waitForClose());
    QCOMPARE(snapshot(f), before);
    healthy(f);
}

void tst_ApiBadInput::oversizedBody()
{
    QFETCH(Driver, driver);
    Fixture &f = fixture(driver);
    const QByteArray before = snapshot(f);
    const QByteArray head = expand(f, "POST /api/v1/orders HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {TOKEN}\r\n"
                                      "Content-Type: application/json\r\n");
    // A 2 MiB JSON object (a valid order padded with spaces), sent whole: the 413 arrives although the
    // client is still writing, then the connection closes.
    const QByteArray body = order().chopped(1) + QByteArray(2 * 1024 * 1024, ' ') + '}';
    {
        RawClient client(f.venue->port());
        client.socket().write(head + "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n");
        client.socket().write(body);
        const std::optional<RawResponse> response = client.read();
        QVERIFY(response);
        verifyError(*response, 413, "PAYLOAD_TOO_LARGE", {});
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(response->header("connection"), QByteArray("close"));
        QVERIFY(client.waitForClose());
    }
    // The same chunked: refused once the chunks pass the limit.
    {
        RawClient client(f.venue->port());
        client.socket().write(head + "Transfer-Encoding: chunked\r\n\r\n");
        for (qsizetype at = 0; at < body.size(); at += 0x10000) {
            const QByteArray chunk = body.mid(at, 0x10000);
            client.socket().write(QByteArray::number(chunk.size(), 16) + "\r\n" + chunk + "\r\n");
        }
        client.socket().write("0\r\n\r\n");
        const std::optional<RawResponse> response = client.read();
        QVERIFY(response);
        verifyError(*response, 413, "PAYLOAD_TOO_LARGE", {});
        if (QTest::currentTestFailed())
            return;
        QVERIFY(client.waitForClose());
    }
    QCOMPARE(snapshot(f), before);
    healthy(f);
}

void tst_ApiBadInput::slowClients()
{
    QFETCH(Driver, driver);
    Fixture &f = fixture(driver);
    const QByteArray before = snapshot(f);
    patchSettings(f, R"({"header_timeout_s":1,"keep_alive_idle_s":1})");
    if (QTest::currentTestFailed())
        return;
    const QByteArray body = order();
    const QByteArray request = expand(f, "POST /api/v1/orders HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {TOKEN}\r\n"
                                         "Content-Type: application/json\r\nContent-Length: ")
                               + QByteArray::number(body.size()) + "\r\n\r\n" + body;
    {
        // Slowloris: one byte every 300 ms, each in time for any per-read deadline, the head never.
        RawClient client(f.venue->port());
        QElapsedTimer elapsed;
        elapsed.start();
        std::optional<RawResponse> response;
        for (qsizetype i = 0; i < request.size() && !response; ++i) {
            client.send(request.mid(i, 1));
            if (client.socket().waitForReadyRead(300))
                response = client.read();
        }
        QVERIFY(response);
        QVERIFY2(elapsed.elapsed() < 5000, qPrintable(QString::number(elapsed.elapsed())));
        verifyError(*response, 408, "REQUEST_TIMEOUT", {});
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(response->header("connection"), QByteArray("close"));
        QVERIFY(client.waitForClose());
    }
    {
        // A body that stalls halfway.
        RawClient client(f.venue->port());
        client.send(request.chopped(body.size() / 2));
        const std::optional<RawResponse> response = client.read(5000);
        QVERIFY(response);
        verifyError(*response, 408, "REQUEST_TIMEOUT", {});
        if (QTest::currentTestFailed())
            return;
        QVERIFY(client.waitForClose());
    }
    {
        // An idle keep-alive connection is closed.
        RawClient client(f.venue->port());
        client.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
        QVERIFY(client.read());
        QVERIFY(client.waitForClose(5000));
    }
    patchSettings(f, R"({"header_timeout_s":10,"keep_alive_idle_s":15})");
    QCOMPARE(snapshot(f), before);
    healthy(f);
}

void tst_ApiBadInput::connectionFlood()
{
    QFETCH(Driver, driver);
    Fixture &f = fixture(driver);
    const QByteArray before = snapshot(f);
    // Let the clients' own keep-alive connections go, so that the count from this address is known; then a
    // long idle timeout, so that none of the flood's accepted connections closes before it is counted.
    patchSettings(f, R"({"keep_alive_idle_s":1})");
    QTRY_COMPARE_WITH_TIMEOUT(connectionsFromLoopback(f), 0, 10'000);
    patchSettings(f, R"({"keep_alive_idle_s":120})"); // the admin's connection stays
    const int free = kPerIpConnectionCap - connectionsFromLoopback(f);
    QVERIFY(free > 0 && free <= kPerIpConnectionCap);

    // 1,000 idle connections from one address: the cap holds, the rest get 429 and are closed. Which ones
    // are refused depends on the order the edge accepts them in (the listen backlog may reorder), not ours.
    constexpr int kClients = 1000;
    std::vector<std::unique_ptr<RawClient>> clients;
    for (int i = 0; i < kClients; ++i)
        clients.push_back(std::make_unique<RawClient>(f.venue->port()));
    std::vector<bool> refused(clients.size(), false);
    int refusedCount = 0;
    const QDeadlineTimer deadline(30'000);
    while (refusedCount < kClients - free && !deadline.hasExpired()) {
        for (std::size_t i = 0; i < clients.size(); ++i) {
            QTcpSocket &socket = clients[i]->socket();
            if (refused[i] || (socket.bytesAvailable() == 0 && !socket.waitForReadyRead(0)))
                continue;
            const std::optional<RawResponse> response = clients[i]->read(5000);
            QVERIFY2(response, qPrintable(QString::number(i)));
            verifyError(*response, 429, "RATE_LIMITED", {});
            if (QTest::currentTestFailed())
                return;
            QCOMPARE(response->header("retry-after"), QByteArray("1"));
            QVERIFY(clients[i]->waitForClose(5000));
            refused[i] = true;
            ++refusedCount;
        }
    }
    QCOMPARE(refusedCount, kClients - free);
    QCOMPARE(connectionsFromLoopback(f), kPerIpConnectionCap);
    std::vector<RawClient *> accepted;
    for (std::size_t i = 0; i < clients.size(); ++i) {
        if (refused[i])
            continue;
        QVERIFY(clients[i]->isConnected());
        QCOMPARE(clients[i]->socket().bytesAvailable(), qint64(0));
        accepted.push_back(clients[i].get());
    }
    QCOMPARE(int(accepted.size()), free);
    // An accepted one still works.
    accepted.front()->send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
    const std::optional<RawResponse> health = accepted.front()->read();
    QVERIFY(health);
    QCOMPARE(health->status, 200);

    // The idle timeout, lowered, closes the accepted ones.
    patchSettings(f, R"({"keep_alive_idle_s":1})");
    for (RawClient *client : accepted)
        QVERIFY(client->waitForClose(10'000));
    clients.clear();
    QTRY_VERIFY_WITH_TIMEOUT(connectionsFromLoopback(f) <= 1, 10'000);
    patchSettings(f, R"({"keep_alive_idle_s":15})");
    QCOMPARE(snapshot(f), before);
    healthy(f);
}

void tst_ApiBadInput::clientVanishing()
{
    QFETCH(Driver, driver);
    Fixture &f = fixture(driver);
    const QByteArray before = snapshot(f);
    const int connections = connectionsFromLoopback(f);
    const QByteArray body = order();
    const QByteArray head = expand(f, "POST /api/v1/orders HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {TOKEN}\r\n"
                                      "Content-Type: application/json\r\nContent-Length: ")
                            + QByteArray::number(body.size()) + "\r\n\r\n";
    {
        RawClient client(f.venue->port()); // gone mid-body, abruptly
        client.send(head + body.left(body.size() / 2));
        client.socket().abort();
    }
    {
        RawClient client(f.venue->port()); // gone mid-body, politely
        client.send(head + body.left(10));
        client.socket().disconnectFromHost();
    }
    {
        RawClient client(f.venue->port()); // gone mid-head
        client.send(head.left(30));
        client.socket().abort();
    }
    QTRY_VERIFY_WITH_TIMEOUT(connectionsFromLoopback(f) <= connections, 10'000);
    QCOMPARE(snapshot(f), before);
    healthy(f);
}

void tst_ApiBadInput::stillServing()
{
    QFETCH(Driver, driver);
    Fixture &f = fixture(driver);
    healthy(f);
    ApiClient fresh(f.venue->port());
    fresh.setToken(f.alice->token());
    const ApiResponse placed = fresh.post("/api/v1/orders", order({{"client_order_id", R"("still-serving")"}}));
    QCOMPARE(placed.status, 201);
    QCOMPARE(placed.object().value("status").toString(), QStringLiteral("new"));
    const ApiResponse cancelled
        = fresh.request("DELETE", "/api/v1/orders/" + QByteArray::number(placed.object().value("id").toInteger()));
    QCOMPARE(cancelled.status, 200);
}

QTEST_GUILESS_MAIN(tst_ApiBadInput)
#include "tst_api_bad_input.moc"
