// The REST API (spec/API.md §3-§6) against a real venue on a free port, over raw HTTP, on SQLite and on
// PostgreSQL: the routes' answers for each role, and the order lifecycle end to end.
#include "test_databases.h"
#include "test_venue.h"
#include "ws_client.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QRandomGenerator>
#include <QSslCertificate>
#include <QSslSocket>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

using namespace bourse;
using namespace bourse::test;

class tst_Api final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();

    void orderLifecycle_data() { TestDatabases::addDriverRows(); }
    void orderLifecycle();
    void servesHttpsWithTheGivenCertificate();
    void healthDegradesWhileTheDatabaseIsAway();
    void orderBookStreamRebuildsTheBook();

private:
    std::unique_ptr<TestVenue> startVenue(sql::DatabaseUrl::Driver driver);

    std::unique_ptr<TestDatabases> m_databases;
    QTemporaryDir m_dir;
};

void tst_Api::initTestCase()
{
    auto databases = TestDatabases::create();
    QVERIFY2(databases.hasValue(), qPrintable(databases.hasValue() ? QString() : databases.error()));
    m_databases = std::move(databases.value());
}

void tst_Api::cleanupTestCase()
{
    m_databases.reset();
}

std::unique_ptr<TestVenue> tst_Api::startVenue(sql::DatabaseUrl::Driver driver)
{
    return TestVenue::startFresh(*m_databases, driver, m_dir.path());
}

void tst_Api::orderLifecycle()
{
    QFETCH(sql::DatabaseUrl::Driver, driver);
    const std::unique_ptr<TestVenue> venue = startVenue(driver);
    QVERIFY(venue);
    const auto admin = adminClient(venue->port());
    QVERIFY(admin);
    const std::optional<qint64> alice = admin->createUser(QStringLiteral("alice"), QStringLiteral("alice-password"),
                                                          QStringLiteral("trader"));
    const std::optional<qint64> bob = admin->createUser(QStringLiteral("bob"), QStringLiteral("bob-password"),
                                                        QStringLiteral("trader"));
    QVERIFY(alice && bob);
    QVERIFY(admin->deposit(*alice, QStringLiteral("USD"), QStringLiteral("100000")));
    QVERIFY(admin->deposit(*bob, QStringLiteral("BTC"), QStringLiteral("2")));

    ApiClient a(venue->port());
    QCOMPARE(a.login(QStringLiteral("alice"), QStringLiteral("alice-password")).status, 200);
    ApiClient b(venue->port());
    QCOMPARE(b.login(QStringLiteral("bob"), QStringLiteral("bob-password")).status, 200);

    const ApiResponse resting
        = b.post("/api/v1/orders",
                 R"({"symbol":"BTC-USD","side":"sell","type":"limit","price":"50000.00","quantity":"1.5"})");
    QCOMPARE(resting.status, 201);
    QCOMPARE(resting.object().value("status").toString(), QStringLiteral("new"));
    QCOMPARE(resting.object().value("price").toString(), QStringLiteral("50000.00"));
    QCOMPARE(resting.object().value("quantity").toString(), QStringLiteral("1.5000"));

    const ApiResponse taker = a.post(
        "/api/v1/orders",
        R"({"symbol":"BTC-USD","side":"buy","type":"limit","price":"50100","quantity":1,"client_order_id":"t-1"})");
    QCOMPARE(taker.status, 201);
    QCOMPARE(taker.object().value("status").toString(), QStringLiteral("filled"));
    QCOMPARE(taker.object().value("average_price").toString(), QStringLiteral("50000.00"));
    QCOMPARE(taker.object().value("fills").toArray().size(), 1);
    QCOMPARE(taker.object().value("fills").toArray().at(0).toObject().value("liquidity").toString(),
             QStringLiteral("taker"));

    // A retry is idempotent; the same id with another payload is a conflict.
    const ApiResponse replay = a.post(
        "/api/v1/orders",
        R"({"symbol":"BTC-USD","side":"buy","type":"limit","price":"50100","quantity":1,"client_order_id":"t-1"})");
    QCOMPARE(replay.status, 200);
    QCOMPARE(replay.raw.header("Idempotent-Replayed"), QByteArray("true"));
    QCOMPARE(replay.object().value("id"), taker.object().value("id"));
    const ApiResponse conflict = a.post(
        "/api/v1/orders",
        R"({"symbol":"BTC-USD","side":"buy","type":"limit","price":"50200","quantity":1,"client_order_id":"t-1"})");
    QCOMPARE(conflict.status, 409);
    QCOMPARE(conflict.errorCode(), QStringLiteral("CONFLICT"));

    const ApiResponse book = a.get("/api/v1/orderbook/BTC-USD");
    QCOMPARE(book.status, 200);
    QCOMPARE(book.object().value("asks").toArray().at(0).toArray().at(1).toString(), QStringLiteral("0.5000"));

    const ApiResponse account = a.get("/api/v1/account");
    QCOMPARE(account.status, 200);
    const QJsonArray balances = account.object().value("balances").toArray();
    QCOMPARE(balances.size(), 2);

    const qint64 restingId = resting.object().value("id").toInteger();
    const QByteArray restingPath = "/api/v1/orders/" + QByteArray::number(restingId);
    // Another user's order does not exist for the caller.
    QCOMPARE(a.get(restingPath).status, 404);
    QCOMPARE(a.request("DELETE", restingPath).status, 404);
    QCOMPARE(a.request("PATCH", restingPath, R"({"quantity":"0.1"})").status, 404);
    const ApiResponse amended = b.request("PATCH", restingPath, R"({"quantity":"1.2"})");
    QCOMPARE(amended.status, 200);
    QCOMPARE(amended.object().value("remaining_quantity").toString(), QStringLiteral("0.2000"));
    const ApiResponse cancelled = b.request("DELETE", restingPath);
    QCOMPARE(cancelled.status, 200);
    QCOMPARE(cancelled.object().value("status").toString(), QStringLiteral("cancelled"));
    const ApiResponse again = b.request("DELETE", restingPath);
    QCOMPARE(again.status, 409);
    QCOMPARE(again.errorCode(), QStringLiteral("ORDER_NOT_OPEN"));

    const ApiResponse fills = a.get("/api/v1/fills");
    QCOMPARE(fills.status, 200);
    QCOMPARE(fills.object().value("total").toInteger(), 1);
    const ApiResponse trades = a.get("/api/v1/trades/BTC-USD");
    QCOMPARE(trades.status, 200);
    QCOMPARE(trades.object().value("data").toArray().size(), 1);
}

void tst_Api::servesHttpsWithTheGivenCertificate()
{
    const auto made = TestVenue::selfSignedTls(m_dir.path());
    QVERIFY2(made.hasValue(), qPrintable(made.hasValue() ? QString() : made.error()));
    const QSslConfiguration tls = *made;
    const QList<QSslCertificate> chain = tls.localCertificateChain();

    const auto url = m_databases->fresh(sql::DatabaseUrl::Driver::Sqlite);
    QVERIFY(url);
    const QString dataDir = m_dir.filePath(QStringLiteral("tls"));
    QDir().mkpath(dataDir);
    auto venue = TestVenue::start({*url, dataDir}, tls);
    QVERIFY2(venue.hasValue(), qPrintable(venue.hasValue() ? QString() : venue.error()));

    QSslSocket client;
    client.setPeerVerifyMode(QSslSocket::VerifyNone);
    client.connectToHostEncrypted(QStringLiteral("127.0.0.1"), (*venue)->port());
    QVERIFY2(client.waitForEncrypted(10'000), qPrintable(client.errorString()));
    QCOMPARE(client.peerCertificate(), chain.first());
    client.write("GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    QByteArray response;
    while (client.waitForReadyRead(10'000))
        response += client.readAll();
    QVERIFY2(response.startsWith("HTTP/1.1 200 OK\r\n"), response.constData());

    // Plain HTTP on the TLS port gets no answer but a closed connection.
    RawClient plain((*venue)->port());
    plain.send("GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n");
    QVERIFY(!plain.read(5'000));
}

void tst_Api::healthDegradesWhileTheDatabaseIsAway()
{
    const std::unique_ptr<TestVenue> venue = startVenue(sql::DatabaseUrl::Driver::PostgreSql);
    QVERIFY(venue);
    const auto admin = adminClient(venue->port());
    QVERIFY(admin);
    QVERIFY(admin->deposit(1, QStringLiteral("USD"), QStringLiteral("1000")));
    QCOMPARE(admin->get("/health").status, 200);

    QVERIFY(!m_databases->cluster().stopImmediate().has_value());
    const ApiResponse degraded = admin->get("/health");
    QCOMPARE(degraded.status, 503);
    QCOMPARE(degraded.object().value("status").toString(), QStringLiteral("degraded"));
    const QJsonObject database = degraded.object().value("checks").toObject().value("database").toObject();
    QCOMPARE(database.value("status").toString(), QStringLiteral("unhealthy"));
    QVERIFY(!database.value("message").toString().isEmpty());
    // Order entry is refused once the journal knows it cannot write. An order sent before that waits for its
    // durable ack (here until the client gives up) and is made durable when the database is back; an order
    // answered 503 never happens.
    QStringList refused;
    QElapsedTimer waited;
    waited.start();
    for (int i = 0; refused.isEmpty() && waited.elapsed() < 30'000; ++i) {
        const QString id = QStringLiteral("away-%1").arg(i);
        const ApiResponse order = admin->post(
            "/api/v1/orders",
            QStringLiteral(
                R"({"symbol":"BTC-USD","side":"buy","type":"limit","price":"1","quantity":"1","client_order_id":"%1"})")
                .arg(id)
                .toUtf8());
        if (order.status == 503) {
            QCOMPARE(order.errorCode(), QStringLiteral("SERVICE_UNAVAILABLE"));
            refused.append(id);
        }
    }
    QVERIFY(!refused.isEmpty());

    QVERIFY(!m_databases->cluster().start().has_value());
    QTRY_COMPARE_WITH_TIMEOUT(admin->get("/health").status, 200, 30'000);
    // A retry with the same client_order_id is safe: 201 the first time it lands, 200 (replayed) after.
    const auto placeBack = [&] {
        const int status
            = admin
                  ->post("/api/v1/orders",
                         R"({"symbol":"BTC-USD","side":"buy","type":"limit","price":"1","quantity":"1","client_order_id":"back"})")
                  .status;
        return status == 201 || status == 200;
    };
    QTRY_VERIFY_WITH_TIMEOUT(placeBack(), 30'000);
    const QJsonArray orders = admin->get("/api/v1/orders?page_size=1000").object().value("data").toArray();
    QStringList placed;
    for (const QJsonValue &order : orders)
        placed.append(order.toObject().value("client_order_id").toString());
    QVERIFY(placed.contains(QStringLiteral("back")));
    for (const QString &id : refused)
        QVERIFY2(!placed.contains(id), qPrintable(id));
}



void tst_Api::orderBookStreamRebuildsTheBook()
{
    const std::unique_ptr<TestVenue> venue = startVenue(sql::DatabaseUrl::Driver::Sqlite);
    QVERIFY(venue);
    const auto admin = adminClient(venue->port());
    QVERIFY(admin);
    const std::optional<qint64> maker = admin->createUser(QStringLiteral("maker"), QStringLiteral("maker-password"),
                                                          QStringLiteral("trader"));
    QVERIFY(maker);
    QVERIFY(admin->deposit(*maker, QStringLiteral("USD"), QStringLiteral("10000000")));
    QVERIFY(admin->deposit(*maker, QStringLiteral("BTC"), QStringLiteral("1000")));
    QVERIFY(admin->deposit(1, QStringLiteral("USD"), QStringLiteral("10000000")));
    QVERIFY(admin->deposit(1, QStringLiteral("BTC"), QStringLiteral("1000")));
    ApiClient trader(venue->port());
    QCOMPARE(trader.login(QStringLiteral("maker"), QStringLiteral("maker-password")).status, 200);
    // Some book before the stream starts, so the snapshot has levels.
    QCOMPARE(trader
                 .post("/api/v1/orders",
                       R"({"symbol":"BTC-USD","side":"buy","type":"limit","price":"100.00","quantity":"1"})")
                 .status,
             201);

    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, venue->port());
    QVERIFY(socket.waitForConnected(10'000));
    socket.write("GET /api/v1/orderbook/BTC-USD/stream HTTP/1.1\r\nHost: test\r\nAccept-Encoding: gzip\r\n\r\n");
    SseReader reader(socket);
    const auto snapshot = reader.next();
    QVERIFY(snapshot);
    QVERIFY2(reader.head.startsWith("HTTP/1.1 200 OK\r\n"), reader.head.constData());
    QVERIFY(reader.head.contains("Content-Type: text/event-stream"));
    QVERIFY(!reader.head.contains("Content-Encoding"));
    QCOMPARE(snapshot->name, QByteArray("snapshot"));
    const QJsonObject first = QJsonDocument::fromJson(snapshot->data).object();
    BookSide bids;
    BookSide asks;
    applyLevels(bids, first.value("bids").toArray());
    applyLevels(asks, first.value("asks").toArray());
    QCOMPARE(bids.value(QStringLiteral("100.00")), QStringLiteral("1.0000"));
    qint64 seq = first.value("seq").toInteger();

    // A seeded stream of orders from two accounts (crossing, resting, cancelled, amended).
    const quint32 seed = QRandomGenerator::global()->generate();
    qInfo("order stream seed %u", seed);
    QRandomGenerator random(seed);
    std::vector<qint64> open;
    for (int i = 0; i < 300; ++i) {
        ApiClient &client = random.bounded(2) ? trader : *admin;
        const int action = random.bounded(10);
        if (action < 7 || open.empty()) {
            const bool buy = random.bounded(2);
            const QString price = QString::number(95 + random.bounded(11)) + QStringLiteral(".00");
            const QString quantity = QString::number(1 + random.bounded(5));
            const ApiResponse placed
                = client.post("/api/v1/orders",
                              QStringLiteral(
                                  R"({"symbol":"BTC-USD","side":"%1","type":"limit","price":"%2","quantity":"%3"})")
                                  .arg(buy ? QStringLiteral("buy") : QStringLiteral("sell"), price, quantity)
                                  .toUtf8());
            QVERIFY2(placed.status == 201, placed.raw.body.constData());
            if (placed.object().value("status").toString() == u"new"
                || placed.object().value("status").toString() == u"partially_filled")
                open.push_back(placed.object().value("id").toInteger());
        } else {
            const qint64 id = open[std::size_t(random.bounded(int(open.size())))];
            // Either owner may try: a foreign or closed order is refused, which changes no book.
            admin->request("DELETE", "/api/v1/orders/" + QByteArray::number(id));
        }
    }
    // Every update arrives, in order, one seq after the other, until the stream is where the book is.
    const ApiResponse book = admin->get("/api/v1/orderbook/BTC-USD?depth=1000");
    QCOMPARE(book.status, 200);
    const qint64 last = book.object().value("seq").toInteger();
    while (seq < last) {
        const auto update = reader.next();
        QVERIFY2(update, qPrintable(QStringLiteral("no update after seq %1 of %2").arg(seq).arg(last)));
        QCOMPARE(update->name, QByteArray("orderbook_update"));
        const QJsonObject body = QJsonDocument::fromJson(update->data).object();
        QCOMPARE(body.value("seq").toInteger(), seq + 1);
        seq = body.value("seq").toInteger();
        applyLevels(bids, body.value("bids").toArray());
        applyLevels(asks, body.value("asks").toArray());
    }
    BookSide expectedBids;
    BookSide expectedAsks;
    applyLevels(expectedBids, book.object().value("bids").toArray());
    applyLevels(expectedAsks, book.object().value("asks").toArray());
    QCOMPARE(bids, expectedBids);
    QCOMPARE(asks, expectedAsks);

    // The stream counts as an SSE connection in the stats.
    QCOMPARE(admin->get("/admin/system/stats").object().value("connections").toObject().value("sse").toInt(), 1);
}

QTEST_GUILESS_MAIN(tst_Api)
#include "tst_api.moc"
