// The event streams (spec §3 and §7) against a real venue on a free port: GET /ws with Qt's QWebSocket and
// with a raw client that can misbehave, and the order book's SSE stream with a raw reader. The books both
// streams rebuild from a snapshot and gap-free updates equal GET /api/v1/orderbook after 10,000 random
// orders; resuming (Last-Event-ID, since_seq) replays what was missed; private events reach only their
// owner; every bad input gets its documented answer and leaves the connection (and the venue) as it was; a
// client that does not read is cut off without slowing the others; shutdown sends close frames.
#include "test_databases.h"
#include "test_venue.h"
#include "venue_server.h"
#include "ws_client.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QLoggingCategory>
#include <QMessageAuthenticationCode>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QWebSocket>


using namespace bourse;
using namespace bourse::test;
using Driver = sql::DatabaseUrl::Driver;

namespace {

struct Books
{
    BookSide bids;
    BookSide asks;
    qint64 seq = -1;
    int gaps = 0;

    void snapshot(const QJsonObject &body)
    {
        bids.clear();
        asks.clear();
        applyLevels(bids, body.value("bids").toArray());
        applyLevels(asks, body.value("asks").toArray());
        seq = body.value("seq").toInteger();
    }
    void update(const QJsonObject &body)
    {
        if (body.value("seq").toInteger() != seq + 1)
            ++gaps;
        seq = body.value("seq").toInteger();
        applyLevels(bids, body.value("bids").toArray());
        applyLevels(asks, body.value("asks").toArray());
    }
};

QByteArray base64Url(const QByteArray &bytes)
{
    return bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

// An access token signed with the test venue's secret (test_venue.cpp), with the given lifetime.
QByteArray signedToken(qint64 subject, qint64 issuedAt, qint64 expiresAt)
{
    const QByteArray header = base64Url(R"({"alg":"HS256","typ":"JWT"})");
    const QByteArray payload = base64Url(QJsonDocument(QJsonObject{{"sub", QString::number(subject)},
                                                                   {"role", "admin"},
                                                                   {"iat", issuedAt},
                                                                   {"exp", expiresAt},
                                                                   {"jti", "ws-test"},
                                                                   {"typ", "access"}})
                                             .toJson(QJsonDocument::Compact));
    const QByteArray input = header + '.' + payload;
    return input + '.'
           + base64Url(QMessageAuthenticationCode::hash(input, QByteArray(40, 'k'), QCryptographicHash::Sha256));
}

QByteArray orderBody(bool buy, const QString &price, const QString &quantity)
{
    return QStringLiteral(R"({"symbol":"BTC-USD","side":"%1","type":"limit","price":"%2","quantity":"%3"})")
        .arg(buy ? QStringLiteral("buy") : QStringLiteral("sell"), price, quantity)
        .toUtf8();
}

// A QWebSocket's text messages, collected as they come (the test thread's event loop runs them).
struct Collector
{
    explicit Collector(QWebSocket &socket)
    {
        QObject::connect(&socket, &QWebSocket::textMessageReceived, &socket, [this](const QString &text) {
            messages.push_back(QJsonDocument::fromJson(text.toUtf8()).object());
        });
    }
    // Waits until a message satisfies `match` (from `from` on); its index, or -1.
    qsizetype waitFor(const std::function<bool(const QJsonObject &)> &match, qsizetype from = 0, int timeoutMs = 10'000)
    {
        QElapsedTimer timer;
        timer.start();
        for (;;) {
            for (qsizetype i = from; i < qsizetype(messages.size()); ++i) {
                if (match(messages[std::size_t(i)]))
                    return i;
            }
            if (timer.elapsed() > timeoutMs)
                return -1;
            QTest::qWait(5);
        }
    }
    std::vector<QJsonObject> messages;
};

bool ofType(const QJsonObject &message, const char *type)
{
    return message.value("type").toString() == QLatin1StringView(type);
}

} // namespace

class tst_Ws final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();

    void refusedUpgrades_data();
    void refusedUpgrades();
    void upgradeWithoutTokenIsAnonymous();
    void plainGetOfWsPath();
    void badMessages_data();
    void badMessages();
    void pingAndIdEcho();
    void subscribeTwiceAndUnsubscribeNothing();
    void privateChannelNeedsAuth();
    void authWithBadOrExpiredToken();
    void endedLoginEndsPrivateStreams();
    void oversizedMessageCloses1009();
    void burstOfSubscribesIsRateLimited();
    void vanishedClientIsForgotten();
    void connectionsPerAddressAreCapped();
    void secureWebSocket();
    void silentPeerIsDropped();
    void streamsRebuildTheBook();
    void resumeReplaysWhatWasMissed();
    void privateEventsReachOnlyTheirOwner_data() { TestDatabases::addDriverRows(); }
    void privateEventsReachOnlyTheirOwner();
    void publicTradesTickerAndCandles();
    void slowConsumerIsCutOff();
    void pingFloodIsCutOff();
    void largeInitialBurstsAreDelivered();
    void framesBeforeTheAnswerAreRefused();
    void binaryFloodIsRateLimited();
    void shutdownSendsCloseFrames();

private:
    std::unique_ptr<TestVenue> startVenue(Driver driver);

    std::unique_ptr<TestDatabases> m_databases;
    QTemporaryDir m_dir;
    std::unique_ptr<TestVenue> m_shared; // SQLite, for the tests that change nothing lasting
    QByteArray m_adminToken;
};

void tst_Ws::initTestCase()
{
    QLoggingCategory::setFilterRules(QStringLiteral("bourse.access.info=false"));
    auto databases = TestDatabases::create();
    QVERIFY2(databases.hasValue(), qPrintable(databases.hasValue() ? QString() : databases.error()));
    m_databases = std::move(databases.value());
    m_shared = startVenue(Driver::Sqlite);
    QVERIFY(m_shared);
    const auto admin = adminClient(m_shared->port());
    QVERIFY(admin);
    m_adminToken = admin->token();
}

void tst_Ws::cleanupTestCase()
{
    m_shared.reset();
    m_databases.reset();
}

std::unique_ptr<TestVenue> tst_Ws::startVenue(Driver driver)
{
    return TestVenue::startFresh(*m_databases, driver, m_dir.path());
}

// ---- the upgrade

void tst_Ws::refusedUpgrades_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<QByteArrayList>("headers");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("code");

    const QByteArrayList standard = {"Upgrade: websocket", "Connection: Upgrade",
                                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"};
    const auto with = [&](const QByteArrayList &extra) { return standard + extra; };
    const auto without = [&](const QByteArray &prefix) {
        QByteArrayList headers;
        for (const QByteArray &header : standard) {
            if (!header.startsWith(prefix))
                headers += header;
        }
        return headers;
    };
    QTest::addRow("bad token in the header") << QByteArray("GET") << QByteArray("/ws")
                                              << with({"Authorization: Bearer not-a-token"}) << 401
                                              << "UNAUTHORIZED";
    QTest::addRow("bad token in the query") << QByteArray("GET") << QByteArray("/ws?token=abc.def.ghi") << standard
                                             << 401 << "UNAUTHORIZED";
    QTest::addRow("Basic credentials") << QByteArray("GET") << QByteArray("/ws")
                                       << with({"Authorization: Basic YWRtaW46eA=="}) << 401 << "UNAUTHORIZED";
    QTest::addRow("expired token") << QByteArray("GET") << QByteArray("/ws")
                                   << with({"Authorization: Bearer "
                                            + signedToken(1, QDateTime::currentSecsSinceEpoch() - 3600,
                                                          QDateTime::currentSecsSinceEpoch() - 60)})
                                   << 401 << "UNAUTHORIZED";
    QTest::addRow("disallowed Origin") << QByteArray("GET") << QByteArray("/ws")
                                       << with({"Origin: https://evil.example"}) << 403 << "FORBIDDEN";
    QTest::addRow("another path") << QByteArray("GET") << QByteArray("/api/v1/instruments") << standard << 404
                                  << "NOT_FOUND";
    QTest::addRow("unknown path") << QByteArray("GET") << QByteArray("/websocket") << standard << 404 << "NOT_FOUND";
    QTest::addRow("POST") << QByteArray("POST") << QByteArray("/ws") << standard << 405 << "METHOD_NOT_ALLOWED";
    QTest::addRow("version 8") << QByteArray("GET") << QByteArray("/ws")
                               << (without("Sec-WebSocket-Version") + QByteArrayList{"Sec-WebSocket-Version: 8"})
                               << 400 << "BAD_REQUEST";
    QTest::addRow("no key") << QByteArray("GET") << QByteArray("/ws") << without("Sec-WebSocket-Key") << 400
                            << "BAD_REQUEST";
    QTest::addRow("short key") << QByteArray("GET") << QByteArray("/ws")
                               << (without("Sec-WebSocket-Key") + QByteArrayList{"Sec-WebSocket-Key: c2hvcnQ="})
                               << 400 << "BAD_REQUEST";
    QTest::addRow("no Connection: Upgrade") << QByteArray("GET") << QByteArray("/ws") << without("Connection")
                                            << 400 << "BAD_REQUEST";
}

void tst_Ws::refusedUpgrades()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, target);
    QFETCH(QByteArrayList, headers);
    QFETCH(int, status);
    QFETCH(QString, code);

    RawWebSocket client(m_shared->port());
    QCOMPARE(client.handshake(headers, target, method), status);
    const QJsonObject error = QJsonDocument::fromJson(client.body()).object().value("error").toObject();
    QCOMPARE(error.value("code").toString(), code);
    QVERIFY(!error.value("message").toString().isEmpty());
    QVERIFY(!error.value("request_id").toString().isEmpty());
    QVERIFY(client.head().contains("Connection: close"));
    if (status == 405)
        QVERIFY(client.head().contains("Allow: GET"));
    if (code == u"BAD_REQUEST" && QTest::currentDataTag() == QByteArray("version 8"))
        QVERIFY(client.head().contains("Sec-WebSocket-Version: 13"));
    QVERIFY(client.waitForClose(5'000)); // refused: never upgraded, the connection ends
    // Nothing was opened.
    int open = -1;
    m_shared->onServer([&](server::VenueServer &server) { open = server.webSockets().connectionCount(); });
    QCOMPARE(open, 0);
}

void tst_Ws::upgradeWithoutTokenIsAnonymous()
{
    // No token and no Origin (a bot), or the venue's own origin (its /docs page), or a valid token: accepted.
    const QByteArray ownOrigin = "Origin: http://127.0.0.1:" + QByteArray::number(m_shared->port());
    for (const QByteArrayList &headers : {QByteArrayList{}, QByteArrayList{ownOrigin},
                                          QByteArrayList{"Authorization: Bearer " + m_adminToken}}) {
        QWebSocket socket;
        QNetworkRequest request(QUrl(QStringLiteral("ws://127.0.0.1:%1/ws").arg(m_shared->port())));
        for (const QByteArray &header : headers) {
            const qsizetype colon = header.indexOf(':');
            request.setRawHeader(header.left(colon), header.mid(colon + 2));
        }
        QSignalSpy connected(&socket, &QWebSocket::connected);
        socket.open(request);
        QVERIFY2(connected.wait(10'000), qPrintable(socket.errorString()));
        Collector collector(socket);
        socket.sendTextMessage(R"({"op":"subscribe","channel":"orders"})");
        const qsizetype reply = collector.waitFor([](const QJsonObject &m) { return !m.isEmpty(); });
        QVERIFY(reply >= 0);
        const bool authenticated = headers.size() == 1 && headers.front().startsWith("Authorization");
        QCOMPARE(collector.messages[std::size_t(reply)].value("type").toString(),
                 authenticated ? QStringLiteral("subscribed") : QStringLiteral("error"));
        socket.close();
    }
    // The token may also come in the query string.
    QWebSocket socket;
    QSignalSpy connected(&socket, &QWebSocket::connected);
    socket.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/ws?token=%2").arg(m_shared->port()).arg(QString::fromLatin1(m_adminToken))));
    QVERIFY(connected.wait(10'000));
    Collector collector(socket);
    socket.sendTextMessage(R"({"op":"subscribe","channel":"account"})");
    QVERIFY(collector.waitFor([](const QJsonObject &m) { return ofType(m, "subscribed"); }) >= 0);
}

void tst_Ws::plainGetOfWsPath()
{
    ApiClient client(m_shared->port());
    const ApiResponse response = client.get("/ws");
    QCOMPARE(response.status, 400);
    QCOMPARE(response.errorCode(), QStringLiteral("BAD_REQUEST"));
}

// ---- messages on an open connection

void tst_Ws::badMessages_data()
{
    QTest::addColumn<int>("opcode");
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("field");

    QTest::addRow("invalid JSON") << 1 << QByteArray("{\"op\":") << "BAD_REQUEST" << "";
    QTest::addRow("not JSON at all") << 1 << QByteArray("hello") << "BAD_REQUEST" << "";
    QTest::addRow("an array") << 1 << QByteArray("[1,2]") << "BAD_REQUEST" << "";
    QTest::addRow("empty text") << 1 << QByteArray("") << "BAD_REQUEST" << "";
    QTest::addRow("duplicate key") << 1 << QByteArray(R"({"op":"ping","op":"ping"})") << "BAD_REQUEST" << "";
    QTest::addRow("binary frame") << 2 << QByteArray(R"({"op":"ping"})") << "BAD_REQUEST" << "";
    QTest::addRow("no op") << 1 << QByteArray(R"({"channel":"trades"})") << "BAD_REQUEST" << "op";
    QTest::addRow("op not a string") << 1 << QByteArray(R"({"op":7})") << "BAD_REQUEST" << "op";
    QTest::addRow("unknown op") << 1 << QByteArray(R"({"op":"dance"})") << "BAD_REQUEST" << "op";
    QTest::addRow("id an object") << 1 << QByteArray(R"({"op":"ping","id":{}})") << "BAD_REQUEST" << "id";
    QTest::addRow("no channel") << 1 << QByteArray(R"({"op":"subscribe","symbol":"BTC-USD"})") << "BAD_REQUEST"
                                << "channel";
    QTest::addRow("unknown channel") << 1 << QByteArray(R"({"op":"subscribe","channel":"news","symbol":"BTC-USD"})")
                                     << "BAD_REQUEST" << "channel";
    QTest::addRow("unknown symbol") << 1 << QByteArray(R"({"op":"subscribe","channel":"trades","symbol":"DOGE-XYZ"})")
                                    << "NOT_FOUND" << "symbol";
    QTest::addRow("symbol a number") << 1 << QByteArray(R"({"op":"subscribe","channel":"trades","symbol":5})")
                                     << "BAD_REQUEST" << "symbol";
    QTest::addRow("no symbol") << 1 << QByteArray(R"({"op":"subscribe","channel":"orderbook"})") << "BAD_REQUEST"
                               << "symbol";
    QTest::addRow("bad interval") << 1
                                  << QByteArray(R"({"op":"subscribe","channel":"candles","symbol":"BTC-USD","interval":"7m"})")
                                  << "VALIDATION_ERROR" << "interval";
    QTest::addRow("negative since_seq")
        << 1 << QByteArray(R"({"op":"subscribe","channel":"orderbook","symbol":"BTC-USD","since_seq":-1})")
        << "VALIDATION_ERROR" << "since_seq";
    QTest::addRow("since_seq on trades")
        << 1 << QByteArray(R"({"op":"subscribe","channel":"trades","symbol":"BTC-USD","since_seq":3})")
        << "VALIDATION_ERROR" << "since_seq";
    QTest::addRow("private without auth") << 1 << QByteArray(R"({"op":"subscribe","channel":"fills"})")
                                          << "UNAUTHORIZED" << "channel";
    QTest::addRow("auth without token") << 1 << QByteArray(R"({"op":"auth"})") << "BAD_REQUEST" << "token";
    QTest::addRow("unsubscribe of nothing") << 1
                                            << QByteArray(R"({"op":"unsubscribe","channel":"trades","symbol":"BTC-USD"})")
                                            << "NOT_FOUND" << "channel";
}

void tst_Ws::badMessages()
{
    QFETCH(int, opcode);
    QFETCH(QByteArray, message);
    QFETCH(QString, code);
    QFETCH(QString, field);

    RawWebSocket client(m_shared->port());
    QCOMPARE(client.handshake(), 101);
    client.sendFrame(opcode, message);
    const std::optional<QJsonObject> error = client.nextJson();
    QVERIFY(error);
    QCOMPARE(error->value("type").toString(), QStringLiteral("error"));
    QCOMPARE(error->value("code").toString(), code);
    QVERIFY(!error->value("message").toString().isEmpty());
    QCOMPARE(error->value("field").toString(), field);
    // The connection stays open and usable; the bad message changed nothing.
    client.sendText(R"({"op":"ping","id":"after"})");
    const std::optional<QJsonObject> pong = client.nextJson();
    QVERIFY(pong);
    QCOMPARE(pong->value("type").toString(), QStringLiteral("pong"));
    QCOMPARE(pong->value("id").toString(), QStringLiteral("after"));
    client.sendText(R"({"op":"subscribe","channel":"trades","symbol":"BTC-USD"})");
    const std::optional<QJsonObject> subscribed = client.nextJson();
    QVERIFY(subscribed);
    QCOMPARE(subscribed->value("type").toString(), QStringLiteral("subscribed"));
}

void tst_Ws::pingAndIdEcho()
{
    RawWebSocket client(m_shared->port());
    QCOMPARE(client.handshake(), 101);
    client.sendText(R"({"op":"ping","id":42})");
    std::optional<QJsonObject> reply = client.nextJson();
    QVERIFY(reply);
    QCOMPARE(reply->value("type").toString(), QStringLiteral("pong"));
    QCOMPARE(reply->value("id").toInteger(), 42);
    client.sendText(R"({"op":"subscribe","channel":"ticker","symbol":"BTC-USD","id":"t-1"})");
    reply = client.nextJson();
    QVERIFY(reply);
    QCOMPARE(reply->value("type").toString(), QStringLiteral("subscribed"));
    QCOMPARE(reply->value("channel").toString(), QStringLiteral("ticker"));
    QCOMPARE(reply->value("symbol").toString(), QStringLiteral("BTC-USD"));
    QCOMPARE(reply->value("id").toString(), QStringLiteral("t-1"));
    // The ticker's current figures follow at once.
    reply = client.nextJson();
    QVERIFY(reply);
    QCOMPARE(reply->value("type").toString(), QStringLiteral("ticker"));
    QCOMPARE(reply->value("symbol").toString(), QStringLiteral("BTC-USD"));
    QVERIFY(reply->contains("best_bid") && reply->contains("volume_24h"));
    // A protocol-level ping is answered with a pong carrying the same payload.
    client.sendFrame(9, "are-you-there");
    const std::optional<WsFrame> pong = client.next();
    QVERIFY(pong);
    QCOMPARE(pong->opcode, 10);
    QCOMPARE(pong->payload, QByteArray("are-you-there"));
}

void tst_Ws::subscribeTwiceAndUnsubscribeNothing()
{
    RawWebSocket client(m_shared->port());
    QCOMPARE(client.handshake(), 101);
    client.sendText(R"({"op":"subscribe","channel":"orderbook","symbol":"BTC-USD"})");
    std::optional<QJsonObject> reply = client.nextJson();
    QVERIFY(reply && reply->value("type").toString() == u"subscribed");
    reply = client.nextJson();
    QVERIFY(reply && reply->value("type").toString() == u"snapshot");
    QCOMPARE(reply->value("channel").toString(), QStringLiteral("orderbook"));
    QVERIFY(reply->contains("seq") && reply->contains("bids") && reply->contains("asks") && reply->contains("timestamp"));
    // Twice: a conflict, and no second snapshot.
    client.sendText(R"({"op":"subscribe","channel":"orderbook","symbol":"BTC-USD","id":2})");
    reply = client.nextJson();
    QVERIFY(reply);
    QCOMPARE(reply->value("type").toString(), QStringLiteral("error"));
    QCOMPARE(reply->value("code").toString(), QStringLiteral("CONFLICT"));
    QCOMPARE(reply->value("id").toInteger(), 2);
    client.sendText(R"({"op":"unsubscribe","channel":"orderbook","symbol":"BTC-USD"})");
    reply = client.nextJson();
    QVERIFY(reply);
    QCOMPARE(reply->value("type").toString(), QStringLiteral("unsubscribed"));
    client.sendText(R"({"op":"unsubscribe","channel":"orderbook","symbol":"BTC-USD"})");
    reply = client.nextJson();
    QVERIFY(reply);
    QCOMPARE(reply->value("code").toString(), QStringLiteral("NOT_FOUND"));
    // Another symbol's channel is another subscription.
    client.sendText(R"({"op":"subscribe","channel":"orderbook","symbol":"ETH-USD"})");
    reply = client.nextJson();
    QVERIFY(reply && reply->value("type").toString() == u"subscribed");
    QCOMPARE(reply->value("symbol").toString(), QStringLiteral("ETH-USD"));
}

void tst_Ws::privateChannelNeedsAuth()
{
    RawWebSocket client(m_shared->port());
    QCOMPARE(client.handshake(), 101);
    for (const char *channel : {"orders", "fills", "account"}) {
        client.sendText(QByteArray(R"({"op":"subscribe","channel":")") + channel + "\"}");
        const std::optional<QJsonObject> reply = client.nextJson();
        QVERIFY(reply);
        QCOMPARE(reply->value("code").toString(), QStringLiteral("UNAUTHORIZED"));
    }
    // Authenticating later opens them.
    client.sendText(R"({"op":"auth","token":")" + m_adminToken + R"(","id":"a"})");
    std::optional<QJsonObject> reply = client.nextJson();
    QVERIFY(reply);
    QCOMPARE(reply->value("type").toString(), QStringLiteral("authenticated"));
    QCOMPARE(reply->value("user_id").toInteger(), 1);
    QCOMPARE(reply->value("role").toString(), QStringLiteral("admin"));
    QCOMPARE(reply->value("id").toString(), QStringLiteral("a"));
    client.sendText(R"({"op":"subscribe","channel":"fills"})");
    reply = client.nextJson();
    QVERIFY(reply);
    QCOMPARE(reply->value("type").toString(), QStringLiteral("subscribed"));
}

void tst_Ws::authWithBadOrExpiredToken()
{
    RawWebSocket client(m_shared->port());
    QCOMPARE(client.handshake(), 101);
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    for (const QByteArray &token : {QByteArray("garbage"), signedToken(1, now - 3600, now - 60),
                                    signedToken(999'999, now, now + 600), m_adminToken + "x"}) {
        client.sendText(R"({"op":"auth","token":")" + token + "\"}");
        const std::optional<QJsonObject> reply = client.nextJson();
        QVERIFY(reply);
        QCOMPARE(reply->value("code").toString(), QStringLiteral("UNAUTHORIZED"));
        QCOMPARE(reply->value("field").toString(), QStringLiteral("token"));
    }
    // Still anonymous.
    client.sendText(R"({"op":"subscribe","channel":"orders"})");
    const std::optional<QJsonObject> reply = client.nextJson();
    QVERIFY(reply);
    QCOMPARE(reply->value("code").toString(), QStringLiteral("UNAUTHORIZED"));
}

void tst_Ws::endedLoginEndsPrivateStreams()
{
    const std::unique_ptr<TestVenue> venue = startVenue(Driver::Sqlite);
    QVERIFY(venue);
    venue->onServer([](server::VenueServer &server) {
        server::WsGateway::Limits limits = server.webSockets().limits();
        limits.pingInterval = std::chrono::milliseconds(100);
        server.webSockets().setLimits(limits);
    });
    const auto admin = adminClient(venue->port());
    QVERIFY(admin);
    const std::optional<qint64> alice = admin->createUser(QStringLiteral("alice"), QStringLiteral("alice-password"),
                                                          QStringLiteral("trader"));
    QVERIFY(alice);
    const auto expectEnd = [](RawWebSocket &client, const char *what) {
        std::optional<QJsonObject> message;
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < 10'000) {
            message = client.nextJson(500);
            if (message && message->value("type").toString() == u"error")
                break;
        }
        QVERIFY2(message && message->value("code").toString() == u"UNAUTHORIZED", what);
        QVERIFY2(message->value("message").toString().contains(u"authentication ended"), what);
        // The private channels are closed to it now; the public ones stay.
        client.sendText(R"({"op":"subscribe","channel":"orders"})");
        const std::optional<QJsonObject> refused = client.nextJson();
        QVERIFY2(refused && refused->value("code").toString() == u"UNAUTHORIZED", what);
        client.sendText(R"({"op":"ping","id":"still"})");
        const std::optional<QJsonObject> pong = client.nextJson();
        QVERIFY2(pong && pong->value("id").toString() == u"still", what);
    };
    const auto subscribeOrders = [](RawWebSocket &client) {
        client.sendText(R"({"op":"subscribe","channel":"orders"})");
        const std::optional<QJsonObject> reply = client.nextJson();
        return reply && reply->value("type").toString() == u"subscribed";
    };

    // Logout revokes the login: its access token ends too.
    ApiClient aliceApi(venue->port());
    const ApiResponse login = aliceApi.login(QStringLiteral("alice"), QStringLiteral("alice-password"));
    QCOMPARE(login.status, 200);
    RawWebSocket loggedOut(venue->port());
    QCOMPARE(loggedOut.handshake({"Authorization: Bearer " + aliceApi.token()}), 101);
    QVERIFY(subscribeOrders(loggedOut));
    const QByteArray logout = QJsonDocument(QJsonObject{{"refresh_token", login.object().value("refresh_token")}})
                                  .toJson(QJsonDocument::Compact);
    QCOMPARE(aliceApi.post("/auth/logout", logout).status, 204);
    expectEnd(loggedOut, "logout");

    // A token that expires while the connection is open.
    RawWebSocket expiring(venue->port());
    QCOMPARE(expiring.handshake(), 101);
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    const QByteArray auth = R"({"op":"auth","token":")" + signedToken(1, now, now + 2) + "\"}";
    expiring.sendText(auth);
    QCOMPARE(expiring.nextJson()->value("type").toString(), QStringLiteral("authenticated"));
    QVERIFY(subscribeOrders(expiring));
    expectEnd(expiring, "expiry");

    // An account disabled by an admin.
    ApiClient again(venue->port());
    QCOMPARE(again.login(QStringLiteral("alice"), QStringLiteral("alice-password")).status, 200);
    RawWebSocket disabled(venue->port());
    QCOMPARE(disabled.handshake({"Authorization: Bearer " + again.token()}), 101);
    QVERIFY(subscribeOrders(disabled));
    QCOMPARE(admin->request("PATCH", "/admin/users/" + QByteArray::number(*alice), R"({"active":false})").status, 200);
    expectEnd(disabled, "disabled");
}

void tst_Ws::oversizedMessageCloses1009()
{
    for (const bool fragmented : {false, true}) {
        RawWebSocket client(m_shared->port());
        QCOMPARE(client.handshake(), 101);
        const QByteArray big = R"({"op":"ping","pad":")" + QByteArray(200 * 1024, 'x') + "\"}";
        if (fragmented) {
            // 200 KiB in 4 KiB frames: each frame is small, the message is not.
            for (qsizetype at = 0; at < big.size(); at += 4096)
                client.sendFrame(at == 0 ? 1 : 0, big.mid(at, 4096), at + 4096 >= big.size());
        } else {
            client.sendText(big);
        }
        const std::optional<WsFrame> frame = client.nextClose();
        QVERIFY(frame);
        QCOMPARE(frame->closeCode(), 1009);
        QVERIFY(client.waitForClose());
    }
}

void tst_Ws::burstOfSubscribesIsRateLimited()
{
    RawWebSocket client(m_shared->port());
    QCOMPARE(client.handshake(), 101);
    QByteArray burst;
    for (int i = 0; i < 10'000; ++i)
        client.sendText(R"({"op":"subscribe","channel":"trades","symbol":"BTC-USD","id":)" + QByteArray::number(i) + "}");
    // The first is subscribed, then conflicts until the burst allowance is spent, then one RATE_LIMITED
    // error for the rest: the flood never becomes a flood of answers.
    int subscribed = 0;
    int conflicts = 0;
    int limited = 0;
    while (const std::optional<QJsonObject> reply = client.nextJson(2'000)) {
        if (reply->value("type").toString() == u"subscribed")
            ++subscribed;
        else if (reply->value("code").toString() == u"CONFLICT")
            ++conflicts;
        else if (reply->value("code").toString() == u"RATE_LIMITED")
            ++limited;
    }
    QCOMPARE(subscribed, 1);
    QVERIFY2(conflicts >= 190 && conflicts <= 260, qPrintable(QString::number(conflicts)));
    QVERIFY2(limited >= 1 && limited <= 5, qPrintable(QString::number(limited)));
    QVERIFY(client.isConnected());
    // Once the bucket refills, the connection answers again.
    QTest::qWait(1'100);
    client.sendText(R"({"op":"ping","id":"later"})");
    const std::optional<QJsonObject> pong = client.nextJson();
    QVERIFY(pong);
    QCOMPARE(pong->value("id").toString(), QStringLiteral("later"));
}

namespace {

// Waits until the venue has `count` WebSocket connections; the count it saw last.
int waitForConnections(TestVenue &venue, int count, int timeoutMs = 10'000)
{
    QElapsedTimer timer;
    timer.start();
    int open = -1;
    for (;;) {
        venue.onServer([&](server::VenueServer &server) { open = server.webSockets().connectionCount(); });
        if (open == count || timer.elapsed() > timeoutMs)
            return open;
        QTest::qWait(20);
    }
}

} // namespace

void tst_Ws::vanishedClientIsForgotten()
{
    const int before = 0;
    QCOMPARE(waitForConnections(*m_shared, before), before); // the earlier tests' clients are gone
    {
        RawWebSocket client(m_shared->port());
        QCOMPARE(client.handshake(), 101);
        client.sendText(R"({"op":"subscribe","channel":"orderbook","symbol":"BTC-USD"})");
        QVERIFY(client.nextJson());
        int open = -1;
        m_shared->onServer([&](server::VenueServer &server) { open = server.webSockets().connectionCount(); });
        QCOMPARE(open, before + 1);
        client.socket().abort(); // no close frame: gone
    }
    QCOMPARE(waitForConnections(*m_shared, before), before);
    ApiClient client(m_shared->port());
    const QByteArray metrics = client.get("/metrics").raw.body;
    QVERIFY2(metrics.contains("ws_connections " + QByteArray::number(before)), metrics.constData());
}

void tst_Ws::connectionsPerAddressAreCapped()
{
    const std::unique_ptr<TestVenue> venue = startVenue(Driver::Sqlite);
    QVERIFY(venue);
    venue->onServer([](server::VenueServer &server) {
        server::EdgeLimits limits = server.api().edge()->limits();
        limits.maxConnectionsPerIp = 3;
        server.api().edge()->setLimits(limits);
    });
    std::vector<std::unique_ptr<RawWebSocket>> open;
    for (int i = 0; i < 3; ++i) {
        open.push_back(std::make_unique<RawWebSocket>(venue->port()));
        QCOMPARE(open.back()->handshake(), 101);
    }
    // A WebSocket counts toward the address's cap for as long as it is open.
    RawWebSocket fourth(venue->port());
    QCOMPARE(fourth.handshake(), 429);
    QCOMPARE(QJsonDocument::fromJson(fourth.body()).object().value("error").toObject().value("code").toString(),
             QStringLiteral("RATE_LIMITED"));
    ApiClient stats(venue->port());
    QCOMPARE(stats.get("/health").status, 429);
    open.pop_back();
    QCOMPARE(waitForConnections(*venue, 2), 2);
    RawWebSocket again(venue->port());
    QCOMPARE(again.handshake(), 101);
    // The admin's view: three WebSockets (the admin's own HTTP connection takes the last place).
    open.pop_back();
    QCOMPARE(waitForConnections(*venue, 2), 2);
    const auto admin = adminClient(venue->port());
    QVERIFY(admin);
    const QJsonObject connections = admin->get("/admin/system/stats").object().value("connections").toObject();
    QCOMPARE(connections.value("ws").toInt(), 2);
    QVERIFY(admin->get("/metrics").raw.body.contains("ws_connections 2"));
}

void tst_Ws::secureWebSocket()
{
    const auto tls = TestVenue::selfSignedTls(m_dir.path());
    QVERIFY2(tls.hasValue(), qPrintable(tls.hasValue() ? QString() : tls.error()));
    const auto url = m_databases->fresh(Driver::Sqlite);
    QVERIFY(url);
    const QString dataDir = m_dir.filePath(QStringLiteral("tls"));
    QDir().mkpath(dataDir);
    auto venue = TestVenue::start({*url, dataDir}, *tls);
    QVERIFY2(venue.hasValue(), qPrintable(venue.hasValue() ? QString() : venue.error()));

    QWebSocket socket;
    QSslConfiguration client = QSslConfiguration::defaultConfiguration();
    client.setPeerVerifyMode(QSslSocket::VerifyNone);
    socket.setSslConfiguration(client);
    QSignalSpy connected(&socket, &QWebSocket::connected);
    socket.open(QUrl(QStringLiteral("wss://127.0.0.1:%1/ws").arg((*venue)->port())));
    QVERIFY2(connected.wait(10'000), qPrintable(socket.errorString()));
    Collector collector(socket);
    socket.sendTextMessage(R"({"op":"subscribe","channel":"orderbook","symbol":"BTC-USD","id":1})");
    QVERIFY(collector.waitFor([](const QJsonObject &m) { return ofType(m, "snapshot"); }) >= 0);
    // An update over TLS too: orders placed over HTTPS, on one keep-alive connection.
    const quint16 port = (*venue)->port();
    QSslSocket api;
    api.setPeerVerifyMode(QSslSocket::VerifyNone);
    api.connectToHostEncrypted(QStringLiteral("127.0.0.1"), port);
    QVERIFY(api.waitForEncrypted(10'000));
    QByteArray pending;
    const auto https = [&api, &pending](const QByteArray &method, const QByteArray &path, const QByteArray &body,
                                        const QByteArray &token) {
        QByteArray request = method + ' ' + path + " HTTP/1.1\r\nHost: localhost\r\n";
        if (!token.isEmpty())
            request += "Authorization: Bearer " + token + "\r\n";
        request += "Content-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n\r\n"
                   + body;
        api.write(request);
        for (;;) {
            const qsizetype end = pending.indexOf("\r\n\r\n");
            if (end >= 0) {
                const qsizetype at = pending.toLower().indexOf("content-length: ");
                const qsizetype length = pending.mid(at + 16, pending.indexOf("\r\n", at) - at - 16).toLongLong();
                if (pending.size() >= end + 4 + length) {
                    const QByteArray json = pending.mid(end + 4, length);
                    pending.remove(0, end + 4 + length);
                    return QJsonDocument::fromJson(json).object();
                }
            }
            if (!api.waitForReadyRead(10'000))
                return QJsonObject();
            pending += api.readAll();
        }
    };
    const QByteArray token = https("POST", "/auth/login",
                                   R"({"username":"admin","password":")" + QByteArray(TestVenue::kAdminPassword) + "\"}",
                                   {})
                                 .value("access_token")
                                 .toString()
                                 .toLatin1();
    QVERIFY(!token.isEmpty());
    QVERIFY(!https("POST", "/admin/users/1/deposits", R"({"asset":"USD","amount":"100000000"})", token).contains("error"));
    QCOMPARE(https("POST", "/api/v1/orders", orderBody(true, "10.00", "1"), token).value("status").toString(),
             QStringLiteral("new"));
    QVERIFY(collector.waitFor([](const QJsonObject &m) { return ofType(m, "update"); }) >= 0);

    // A wss client that stops reading is cut off like a plain one: what waits encrypted counts too.
    (*venue)->onServer([](server::VenueServer &server) {
        server.streamHub().setBacklogLimit(32 * 1024);
        server.streamHub().setSendBuffer(8 * 1024);
    });
    QSslSocket stalled;
    const int fd = connectLoopback(port, 4096);
    QVERIFY(fd >= 0 && stalled.setSocketDescriptor(fd));
    stalled.setReadBufferSize(4096);
    stalled.setPeerVerifyMode(QSslSocket::VerifyNone);
    stalled.startClientEncryption();
    QVERIFY(stalled.waitForEncrypted(10'000));
    stalled.write("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    QVERIFY(stalled.waitForReadyRead(10'000));
    QVERIFY(stalled.peek(12).startsWith("HTTP/1.1 101"));
    stalled.write(RawWebSocket::frame(1, R"({"op":"subscribe","channel":"orderbook","symbol":"BTC-USD"})"));
    QVERIFY(stalled.waitForBytesWritten(5'000));
    std::uint64_t slow = 0;
    for (int i = 0; i < 3'000 && slow == 0; ++i) {
        QCOMPARE(https("POST", "/api/v1/orders", orderBody(true, QString::number(11 + i % 500) + ".00", "1"), token)
                     .value("status")
                     .toString(),
                 QStringLiteral("new"));
        if (i % 100 == 99)
            (*venue)->onServer([&](server::VenueServer &server) { slow = server.streamHub().figures().slowConsumers; });
    }
    QCOMPARE(slow, 1u);

    // A refused upgrade over TLS gets its answer too.
    QWebSocket refused;
    refused.setSslConfiguration(client);
    QSignalSpy failed(&refused, &QWebSocket::disconnected);
    refused.open(QUrl(QStringLiteral("wss://127.0.0.1:%1/ws?token=bad").arg((*venue)->port())));
    QVERIFY(failed.wait(10'000));
    QVERIFY2(refused.errorString().contains("401"), qPrintable(refused.errorString()));
}

void tst_Ws::silentPeerIsDropped()
{
    const std::unique_ptr<TestVenue> venue = startVenue(Driver::Sqlite);
    QVERIFY(venue);
    venue->onServer([](server::VenueServer &server) {
        server::WsGateway::Limits limits = server.webSockets().limits();
        limits.pingInterval = std::chrono::milliseconds(100);
        limits.idleTimeout = std::chrono::milliseconds(500);
        server.webSockets().setLimits(limits);
    });
    RawWebSocket silent(venue->port());
    QCOMPARE(silent.handshake(), 101);
    RawWebSocket lively(venue->port());
    QCOMPARE(lively.handshake(), 101);
    // The silent one reads but never answers; the lively one answers every ping (nextJson does).
    QElapsedTimer timer;
    timer.start();
    int pings = 0;
    while (silent.isConnected() && timer.elapsed() < 10'000) {
        if (const std::optional<WsFrame> frame = silent.next(50); frame && frame->opcode == 9)
            ++pings;
        lively.sendText(R"({"op":"ping"})");
        QVERIFY(lively.nextJson(1'000));
    }
    QVERIFY(!silent.isConnected());
    QVERIFY(pings >= 2);
    QVERIFY(timer.elapsed() >= 400);
    QVERIFY(lively.isConnected());
}

// ---- the streams' content

void tst_Ws::streamsRebuildTheBook()
{
    const std::unique_ptr<TestVenue> venue = startVenue(Driver::Sqlite);
    QVERIFY(venue);
    const auto admin = adminClient(venue->port());
    QVERIFY(admin);
    const std::optional<qint64> maker = admin->createUser(QStringLiteral("maker"), QStringLiteral("maker-password"),
                                                          QStringLiteral("trader"));
    QVERIFY(maker);
    QCOMPARE(admin->request("PATCH", "/admin/users/" + QByteArray::number(*maker), R"({"rate_limit_tier":"unlimited"})")
                 .status,
             200);
    for (const qint64 user : {*maker, qint64(1)}) {
        QVERIFY(admin->deposit(user, QStringLiteral("USD"), QStringLiteral("1000000000")));
        QVERIFY(admin->deposit(user, QStringLiteral("BTC"), QStringLiteral("1000000")));
    }
    ApiClient trader(venue->port());
    QCOMPARE(trader.login(QStringLiteral("maker"), QStringLiteral("maker-password")).status, 200);
    QCOMPARE(trader.post("/api/v1/orders", orderBody(true, "100.00", "1")).status, 201);

    // A QWebSocket and a raw SSE reader, both from a snapshot.
    QWebSocket socket;
    QSignalSpy connected(&socket, &QWebSocket::connected);
    socket.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/ws").arg(venue->port())));
    QVERIFY(connected.wait(10'000));
    Collector collector(socket);
    socket.sendTextMessage(R"({"op":"subscribe","channel":"orderbook","symbol":"BTC-USD"})");
    QVERIFY(collector.waitFor([](const QJsonObject &m) { return ofType(m, "snapshot"); }) >= 0);
    QTcpSocket sse;
    sse.connectToHost(QHostAddress::LocalHost, venue->port());
    QVERIFY(sse.waitForConnected(10'000));
    sse.write("GET /api/v1/orderbook/BTC-USD/stream HTTP/1.1\r\nHost: test\r\n\r\n");
    SseReader reader(sse);
    Books sseBooks;
    const auto snapshot = reader.next();
    QVERIFY(snapshot);
    QCOMPARE(snapshot->name, QByteArray("snapshot"));
    sseBooks.snapshot(QJsonDocument::fromJson(snapshot->data).object());
    QCOMPARE(snapshot->id, QByteArray::number(sseBooks.seq));
    QCOMPARE(sseBooks.bids.value(QStringLiteral("100.00")), QStringLiteral("1.0000"));

    // 10,000 seeded orders from two accounts: resting, crossing, cancelled.
    const quint32 seed = QRandomGenerator::global()->generate();
    qInfo("order stream seed %u", seed);
    QRandomGenerator random(seed);
    std::vector<qint64> open;
    for (int i = 0; i < 10'000; ++i) {
        ApiClient &client = random.bounded(2) ? trader : *admin;
        if (random.bounded(10) < 8 || open.empty()) {
            const QString price = QString::number(90 + random.bounded(21)) + QStringLiteral(".00");
            const ApiResponse placed = client.post(
                "/api/v1/orders", orderBody(random.bounded(2), price, QString::number(1 + random.bounded(5))));
            QVERIFY2(placed.status == 201, placed.raw.body.constData());
            const QString status = placed.object().value("status").toString();
            if (status == u"new" || status == u"partially_filled")
                open.push_back(placed.object().value("id").toInteger());
        } else {
            const std::size_t at = std::size_t(random.bounded(int(open.size())));
            admin->request("DELETE", "/api/v1/orders/" + QByteArray::number(open[at]));
            open.erase(open.begin() + qsizetype(at));
        }
        if (i % 50 == 0) {
            QCoreApplication::processEvents(); // the QWebSocket reads as it goes
            while (sse.bytesAvailable() || sse.waitForReadyRead(0)) {
                const auto event = reader.next(0);
                if (!event)
                    break;
                QCOMPARE(event->name, QByteArray("orderbook_update"));
                sseBooks.update(QJsonDocument::fromJson(event->data).object());
                QCOMPARE(event->id, QByteArray::number(sseBooks.seq));
            }
        }
    }
    const ApiResponse book = admin->get("/api/v1/orderbook/BTC-USD?depth=1000");
    QCOMPARE(book.status, 200);
    const qint64 last = book.object().value("seq").toInteger();
    Books expected;
    expected.snapshot(book.object());

    // The SSE stream: every update in order until the stream is where the book is.
    while (sseBooks.seq < last) {
        const auto event = reader.next();
        QVERIFY2(event, qPrintable(QStringLiteral("no SSE update after seq %1 of %2").arg(sseBooks.seq).arg(last)));
        QCOMPARE(event->name, QByteArray("orderbook_update"));
        sseBooks.update(QJsonDocument::fromJson(event->data).object());
    }
    QCOMPARE(sseBooks.gaps, 0);
    QCOMPARE(sseBooks.seq, last);
    QCOMPARE(sseBooks.bids, expected.bids);
    QCOMPARE(sseBooks.asks, expected.asks);

    // The WebSocket: the same.
    QVERIFY(collector.waitFor([last](const QJsonObject &m) { return m.value("seq").toInteger() == last; }, 0, 30'000)
            >= 0);
    Books wsBooks;
    for (const QJsonObject &message : collector.messages) {
        if (ofType(message, "snapshot"))
            wsBooks.snapshot(message);
        else if (ofType(message, "update"))
            wsBooks.update(message);
    }
    QCOMPARE(wsBooks.gaps, 0);
    QCOMPARE(wsBooks.seq, last);
    QCOMPARE(wsBooks.bids, expected.bids);
    QCOMPARE(wsBooks.asks, expected.asks);
    // Nobody was cut off on the way.
    std::uint64_t slow = 1;
    venue->onServer([&](server::VenueServer &server) { slow = server.streamHub().figures().slowConsumers; });
    QCOMPARE(slow, 0u);
}

void tst_Ws::resumeReplaysWhatWasMissed()
{
    const std::unique_ptr<TestVenue> venue = startVenue(Driver::Sqlite);
    QVERIFY(venue);
    const auto admin = adminClient(venue->port());
    QVERIFY(admin);
    QVERIFY(admin->deposit(1, QStringLiteral("USD"), QStringLiteral("1000000")));
    QCOMPARE(admin->post("/api/v1/orders", orderBody(true, "100.00", "1")).status, 201);
    const qint64 seen = admin->get("/api/v1/orderbook/BTC-USD").object().value("seq").toInteger();
    // Three updates the client misses.
    for (const char *price : {"101.00", "102.00", "103.00"})
        QCOMPARE(admin->post("/api/v1/orders", orderBody(true, price, "1")).status, 201);
    const qint64 now = admin->get("/api/v1/orderbook/BTC-USD").object().value("seq").toInteger();
    QCOMPARE(now, seen + 3);
    // This run's seqs start above any an earlier run could have reached: the start time × 10^6.
    QVERIFY(qAbs(seen / 1'000'000 - QDateTime::currentSecsSinceEpoch()) < 600);

    // SSE with Last-Event-ID: the three updates, no snapshot.
    {
        QTcpSocket sse;
        sse.connectToHost(QHostAddress::LocalHost, venue->port());
        QVERIFY(sse.waitForConnected(10'000));
        sse.write("GET /api/v1/orderbook/BTC-USD/stream HTTP/1.1\r\nHost: t\r\nLast-Event-ID: " + QByteArray::number(seen)
                  + "\r\n\r\n");
        SseReader reader(sse);
        for (qint64 seq = seen + 1; seq <= now; ++seq) {
            const auto event = reader.next();
            QVERIFY(event);
            QCOMPARE(event->name, QByteArray("orderbook_update"));
            QCOMPARE(event->id, QByteArray::number(seq));
        }
        QVERIFY(!reader.next(300)); // and nothing more until the book changes
    }
    // A quiet stream gets a keep-alive comment (every 15 s; shortened here).
    {
        venue->onServer([](server::VenueServer &server) { server.api().setStreamPingInterval(std::chrono::milliseconds(100)); });
        QTcpSocket sse;
        sse.connectToHost(QHostAddress::LocalHost, venue->port());
        QVERIFY(sse.waitForConnected(10'000));
        sse.write("GET /api/v1/orderbook/BTC-USD/stream HTTP/1.1\r\nHost: t\r\n\r\n");
        QByteArray received;
        QElapsedTimer timer;
        timer.start();
        while (!received.contains("\r\n: ping\n\n\r\n") && timer.elapsed() < 5'000) {
            if (sse.waitForReadyRead(200))
                received += sse.readAll();
        }
        QVERIFY2(received.contains(": ping\n"), received.constData());
        venue->onServer([](server::VenueServer &server) { server.api().setStreamPingInterval(std::chrono::seconds(15)); });
    }
    // A Last-Event-ID the replay cannot serve (ahead of the book, from an earlier run, not a seq): a snapshot.
    for (const QByteArray &id : {QByteArray::number(now + 1000), QByteArray::number(seen - 1'000'000),
                                 QByteArray("not-a-seq")}) {
        QTcpSocket sse;
        sse.connectToHost(QHostAddress::LocalHost, venue->port());
        QVERIFY(sse.waitForConnected(10'000));
        sse.write("GET /api/v1/orderbook/BTC-USD/stream HTTP/1.1\r\nHost: t\r\nLast-Event-ID: " + id + "\r\n\r\n");
        SseReader reader(sse);
        const auto event = reader.next();
        QVERIFY(event);
        QCOMPARE(event->name, QByteArray("snapshot"));
        QCOMPARE(event->id, QByteArray::number(now));
    }
    // WebSocket since_seq: the same.
    RawWebSocket client(venue->port());
    QCOMPARE(client.handshake(), 101);
    client.sendText(R"({"op":"subscribe","channel":"orderbook","symbol":"BTC-USD","since_seq":)"
                    + QByteArray::number(seen) + "}");
    QVERIFY(client.nextJson()->value("type").toString() == u"subscribed");
    for (qint64 seq = seen + 1; seq <= now; ++seq) {
        const std::optional<QJsonObject> update = client.nextJson();
        QVERIFY(update);
        QCOMPARE(update->value("type").toString(), QStringLiteral("update"));
        QCOMPARE(update->value("seq").toInteger(), seq);
    }
    client.sendText(R"({"op":"subscribe","channel":"orderbook","symbol":"ETH-USD","since_seq":999999})");
    QVERIFY(client.nextJson()->value("type").toString() == u"subscribed");
    const std::optional<QJsonObject> snapshot = client.nextJson();
    QVERIFY(snapshot);
    QCOMPARE(snapshot->value("type").toString(), QStringLiteral("snapshot"));
}

void tst_Ws::privateEventsReachOnlyTheirOwner()
{
    QFETCH(Driver, driver);
    const std::unique_ptr<TestVenue> venue = startVenue(driver);
    QVERIFY(venue);
    const auto admin = adminClient(venue->port());
    QVERIFY(admin);
    const std::optional<qint64> alice = admin->createUser(QStringLiteral("alice"), QStringLiteral("alice-password"),
                                                          QStringLiteral("trader"));
    const std::optional<qint64> bob = admin->createUser(QStringLiteral("bob"), QStringLiteral("bob-password-1"),
                                                        QStringLiteral("trader"));
    QVERIFY(alice && bob);
    QVERIFY(admin->deposit(*alice, QStringLiteral("USD"), QStringLiteral("100000")));
    QVERIFY(admin->deposit(*bob, QStringLiteral("BTC"), QStringLiteral("10")));
    ApiClient aliceApi(venue->port());
    QCOMPARE(aliceApi.login(QStringLiteral("alice"), QStringLiteral("alice-password")).status, 200);
    ApiClient bobApi(venue->port());
    QCOMPARE(bobApi.login(QStringLiteral("bob"), QStringLiteral("bob-password-1")).status, 200);
    // An open order of Alice's before she connects: her orders channel starts with it.
    const ApiResponse resting = aliceApi.post("/api/v1/orders", orderBody(true, "50.00", "1"));
    QCOMPARE(resting.status, 201);

    // Alice with the token on the upgrade, Bob authenticating afterwards.
    QWebSocket aliceSocket;
    QNetworkRequest request(QUrl(QStringLiteral("ws://127.0.0.1:%1/ws").arg(venue->port())));
    request.setRawHeader("Authorization", "Bearer " + aliceApi.token());
    QSignalSpy aliceConnected(&aliceSocket, &QWebSocket::connected);
    aliceSocket.open(request);
    QVERIFY(aliceConnected.wait(10'000));
    Collector aliceIn(aliceSocket);
    QWebSocket bobSocket;
    QSignalSpy bobConnected(&bobSocket, &QWebSocket::connected);
    bobSocket.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/ws").arg(venue->port())));
    QVERIFY(bobConnected.wait(10'000));
    Collector bobIn(bobSocket);
    bobSocket.sendTextMessage(R"({"op":"auth","token":")" + QString::fromLatin1(bobApi.token()) + "\"}");
    QVERIFY(bobIn.waitFor([](const QJsonObject &m) { return ofType(m, "authenticated"); }) >= 0);
    for (QWebSocket *socket : {&aliceSocket, &bobSocket}) {
        for (const char *channel : {"orders", "fills", "account"})
            socket->sendTextMessage(QStringLiteral(R"({"op":"subscribe","channel":"%1"})").arg(QLatin1StringView(channel)));
    }
    QVERIFY(aliceIn.waitFor([](const QJsonObject &m) { return ofType(m, "subscribed") && m.value("channel").toString() == u"account"; })
            >= 0);
    QVERIFY(bobIn.waitFor([](const QJsonObject &m) { return ofType(m, "subscribed") && m.value("channel").toString() == u"account"; })
            >= 0);
    // Alice's open order and her balances came first.
    const qsizetype restingAt = aliceIn.waitFor([&](const QJsonObject &m) {
        return ofType(m, "order") && m.value("order").toObject().value("id").toInteger() == resting.object().value("id").toInteger();
    });
    QVERIFY(restingAt >= 0);
    QCOMPARE(aliceIn.messages[std::size_t(restingAt)].value("order").toObject().value("status").toString(), QStringLiteral("new"));
    QVERIFY(aliceIn.waitFor([](const QJsonObject &m) { return ofType(m, "account") && m.value("balance").toObject().value("asset").toString() == u"USD"; }) >= 0);

    // Alice buys 2 at 60; Bob sells 1 into it: a trade.
    const qsizetype aliceFrom = qsizetype(aliceIn.messages.size());
    const qsizetype bobFrom = qsizetype(bobIn.messages.size());
    const ApiResponse buy = aliceApi.post("/api/v1/orders", orderBody(true, "60.00", "2"));
    QCOMPARE(buy.status, 201);
    const qint64 buyId = buy.object().value("id").toInteger();
    const ApiResponse sell = bobApi.post("/api/v1/orders", orderBody(false, "60.00", "1"));
    QCOMPARE(sell.status, 201);
    const qint64 sellId = sell.object().value("id").toInteger();

    // Alice: her order new, then partially filled; a maker fill; her balances changed.
    const qsizetype placed = aliceIn.waitFor(
        [&](const QJsonObject &m) { return ofType(m, "order") && m.value("order").toObject().value("id").toInteger() == buyId && m.value("order").toObject().value("status").toString() == u"new"; },
        aliceFrom);
    QVERIFY(placed >= 0);
    const qsizetype partial = aliceIn.waitFor(
        [&](const QJsonObject &m) {
            return ofType(m, "order") && m.value("order").toObject().value("id").toInteger() == buyId && m.value("order").toObject().value("status").toString() == u"partially_filled";
        },
        placed);
    QVERIFY(partial >= 0);
    QCOMPARE(aliceIn.messages[std::size_t(partial)].value("order").toObject().value("filled_quantity").toString(), QStringLiteral("1.0000"));
    const qsizetype aliceFill = aliceIn.waitFor(
        [&](const QJsonObject &m) { return ofType(m, "fill") && m.value("fill").toObject().value("order_id").toInteger() == buyId; }, aliceFrom);
    QVERIFY(aliceFill >= 0);
    QCOMPARE(aliceIn.messages[std::size_t(aliceFill)].value("fill").toObject().value("liquidity").toString(), QStringLiteral("maker"));
    QCOMPARE(aliceIn.messages[std::size_t(aliceFill)].value("fill").toObject().value("side").toString(), QStringLiteral("buy"));
    QVERIFY(aliceIn.waitFor([](const QJsonObject &m) { return ofType(m, "account") && m.value("balance").toObject().value("asset").toString() == u"BTC"; },
                            aliceFrom)
            >= 0);
    // Bob: his order filled at once (taker), his fill.
    const qsizetype filled = bobIn.waitFor(
        [&](const QJsonObject &m) {
            return ofType(m, "order") && m.value("order").toObject().value("id").toInteger() == sellId && m.value("order").toObject().value("status").toString() == u"filled";
        },
        bobFrom);
    QVERIFY(filled >= 0);
    const qsizetype bobFill = bobIn.waitFor(
        [&](const QJsonObject &m) { return ofType(m, "fill") && m.value("fill").toObject().value("order_id").toInteger() == sellId; }, bobFrom);
    QVERIFY(bobFill >= 0);
    QCOMPARE(bobIn.messages[std::size_t(bobFill)].value("fill").toObject().value("liquidity").toString(), QStringLiteral("taker"));
    // Alice cancels: her order's last state.
    QCOMPARE(aliceApi.request("DELETE", "/api/v1/orders/" + QByteArray::number(buyId)).status, 200);
    QVERIFY(aliceIn.waitFor(
                [&](const QJsonObject &m) {
                    return ofType(m, "order") && m.value("order").toObject().value("id").toInteger() == buyId && m.value("order").toObject().value("status").toString() == u"cancelled";
                },
                partial)
            >= 0);
    QTest::qWait(200); // anything misdelivered would be here by now

    // Nobody saw the other's orders, fills or balances.
    int aliceOrders = 0;
    for (const QJsonObject &message : aliceIn.messages) {
        if (ofType(message, "order")) {
            QCOMPARE(message.value("order").toObject().value("user_id").toInteger(), *alice);
            ++aliceOrders;
        }
        if (ofType(message, "fill"))
            QCOMPARE(message.value("fill").toObject().value("order_id").toInteger(), buyId);
    }
    QCOMPARE(aliceOrders, 4); // the resting one; the buy: new, partially filled, cancelled
    int bobOrders = 0;
    for (const QJsonObject &message : bobIn.messages) {
        if (ofType(message, "order")) {
            QCOMPARE(message.value("order").toObject().value("user_id").toInteger(), *bob);
            ++bobOrders;
        }
        if (ofType(message, "fill"))
            QCOMPARE(message.value("fill").toObject().value("order_id").toInteger(), sellId);
    }
    QCOMPARE(bobOrders, 2); // the sell: new, then filled (one event each)
}

void tst_Ws::publicTradesTickerAndCandles()
{
    const std::unique_ptr<TestVenue> venue = startVenue(Driver::Sqlite);
    QVERIFY(venue);
    venue->onServer([](server::VenueServer &server) { server.streamFeeds().setThrottle(std::chrono::milliseconds(50)); });
    const auto admin = adminClient(venue->port());
    QVERIFY(admin);
    QVERIFY(admin->deposit(1, QStringLiteral("BTC"), QStringLiteral("100")));
    const std::optional<qint64> buyer = admin->createUser(QStringLiteral("buyer"), QStringLiteral("buyer-password"),
                                                          QStringLiteral("trader"));
    QVERIFY(buyer);
    QVERIFY(admin->deposit(*buyer, QStringLiteral("USD"), QStringLiteral("1000000")));
    ApiClient buyerApi(venue->port());
    QCOMPARE(buyerApi.login(QStringLiteral("buyer"), QStringLiteral("buyer-password")).status, 200);
    RawWebSocket client(venue->port());
    QCOMPARE(client.handshake(), 101);
    client.sendText(R"({"op":"subscribe","channel":"trades","symbol":"BTC-USD"})");
    client.sendText(R"({"op":"subscribe","channel":"ticker","symbol":"BTC-USD"})");
    client.sendText(R"({"op":"subscribe","channel":"candles","symbol":"BTC-USD","interval":"1m"})");
    int subscribed = 0;
    while (subscribed < 3) {
        const std::optional<QJsonObject> message = client.nextJson();
        QVERIFY(message);
        subscribed += message->value("type").toString() == u"subscribed" ? 1 : 0;
    }
    QCOMPARE(admin->post("/api/v1/orders", orderBody(false, "250.00", "2")).status, 201);
    QCOMPARE(buyerApi.post("/api/v1/orders", orderBody(true, "250.00", "0.5")).status, 201);
    bool trade = false;
    bool ticker = false;
    bool candle = false;
    QElapsedTimer timer;
    timer.start();
    while (!(trade && ticker && candle) && timer.elapsed() < 10'000) {
        const std::optional<QJsonObject> message = client.nextJson(1'000);
        if (!message)
            continue;
        if (message->value("type").toString() == u"trade") {
            QCOMPARE(message->value("channel").toString(), QStringLiteral("trades"));
            QCOMPARE(message->value("symbol").toString(), QStringLiteral("BTC-USD"));
            QCOMPARE(message->value("price").toString(), QStringLiteral("250.00"));
            QCOMPARE(message->value("quantity").toString(), QStringLiteral("0.5000"));
            QCOMPARE(message->value("taker_side").toString(), QStringLiteral("buy"));
            QVERIFY(message->value("id").toInteger() > 0 && message->value("seq").toInteger() > 0);
            trade = true;
        } else if (message->value("type").toString() == u"ticker" && message->value("last").toString() == u"250.00") {
            QCOMPARE(message->value("best_ask").toString(), QStringLiteral("250.00"));
            ticker = true;
        } else if (message->value("type").toString() == u"candle" && message->value("close").toString() == u"250.00") {
            QCOMPARE(message->value("interval").toString(), QStringLiteral("1m"));
            QCOMPARE(message->value("volume").toString(), QStringLiteral("0.5000"));
            QCOMPARE(message->value("trades").toInteger(), 1);
            candle = true;
        }
    }
    QVERIFY(trade);
    QVERIFY(ticker);
    QVERIFY(candle);
}

// ---- slow consumers and shutdown

void tst_Ws::slowConsumerIsCutOff()
{
    const std::unique_ptr<TestVenue> venue = startVenue(Driver::Sqlite);
    QVERIFY(venue);
    venue->onServer([](server::VenueServer &server) {
        server.streamHub().setBacklogLimit(64 * 1024);
        server.streamHub().setSendBuffer(8 * 1024);
        server::WsGateway::Limits limits = server.webSockets().limits();
        limits.closeLinger = std::chrono::seconds(60); // the test reads the close frame late, on purpose
        server.webSockets().setLimits(limits);
    });
    const auto admin = adminClient(venue->port());
    QVERIFY(admin);
    QVERIFY(admin->deposit(1, QStringLiteral("USD"), QStringLiteral("100000000")));
    // Many levels, so that each update is sizable.
    for (int i = 0; i < 200; ++i)
        QCOMPARE(admin->post("/api/v1/orders", orderBody(true, QString::number(100 + i) + ".00", "1")).status, 201);

    // Two clients that never read, with a small receive buffer; one that keeps up.
    RawWebSocket stalled(venue->port(), 4096);
    QCOMPARE(stalled.handshake(), 101);
    stalled.sendText(R"({"op":"subscribe","channel":"orderbook","symbol":"BTC-USD"})");
    QTcpSocket stalledSse;
    const int fd = connectLoopback(venue->port(), 4096);
    QVERIFY(fd >= 0);
    stalledSse.setSocketDescriptor(fd);
    stalledSse.setReadBufferSize(4096);
    stalledSse.write("GET /api/v1/orderbook/BTC-USD/stream HTTP/1.1\r\nHost: t\r\n\r\n");
    QVERIFY(stalledSse.waitForBytesWritten(5'000));
    RawWebSocket reader(venue->port());
    QCOMPARE(reader.handshake(), 101);
    reader.sendText(R"({"op":"subscribe","channel":"orderbook","symbol":"BTC-USD"})");
    QVERIFY(reader.nextJson()->value("type").toString() == u"subscribed");
    Books books;
    const std::optional<QJsonObject> snapshot = reader.nextJson();
    QVERIFY(snapshot && snapshot->value("type").toString() == u"snapshot");
    books.snapshot(*snapshot);

    // Updates flow: each order changes a level; the stalled clients' backlogs grow past 64 KiB.
    std::uint64_t slow = 0;
    for (int i = 0; i < 3000 && slow < 2; ++i) {
        QCOMPARE(admin->post("/api/v1/orders", orderBody(true, QString::number(100 + i % 200) + ".00", "1")).status, 201);
        while (const std::optional<QJsonObject> update = reader.nextJson(0))
            books.update(*update);
        if (i % 100 == 99)
            venue->onServer([&](server::VenueServer &server) { slow = server.streamHub().figures().slowConsumers; });
    }
    QCOMPARE(slow, 2u);
    // The reader kept every update, in order.
    const qint64 last = admin->get("/api/v1/orderbook/BTC-USD").object().value("seq").toInteger();
    while (books.seq < last) {
        const std::optional<QJsonObject> update = reader.nextJson();
        QVERIFY(update);
        books.update(*update);
    }
    QCOMPARE(books.gaps, 0);

    // The stalled WebSocket, reading at last: what was queued before the cut, then close 1008.
    qint64 seq = -1;
    int gaps = 0;
    const std::optional<WsFrame> frame = stalled.nextClose(10'000, [&](const WsFrame &text) {
        const QJsonObject message = QJsonDocument::fromJson(text.payload).object();
        if (message.value("type").toString() == u"update")
            gaps += message.value("seq").toInteger() != seq + 1 ? 1 : 0;
        if (message.contains("seq"))
            seq = message.value("seq").toInteger();
    });
    QVERIFY(frame);
    QCOMPARE(frame->closeCode(), 1008);
    QCOMPARE(frame->closeReason(), QByteArray("slow consumer"));
    QCOMPARE(gaps, 0); // cut off, never skipped
    QVERIFY(seq < last);
    // The stalled SSE stream: its events, then the SLOW_CONSUMER error, then the end.
    SseReader sse(stalledSse);
    std::optional<SseReader::Event> event;
    QByteArray lastName;
    while ((event = sse.next(5'000)))
        lastName = event->name;
    QVERIFY(sse.ended);
    QCOMPARE(lastName, QByteArray("error"));
    int sseOpen = -1;
    venue->onServer([&](server::VenueServer &server) { sseOpen = server.api().streamCount(); });
    QCOMPARE(sseOpen, 0);
    // Counted where an operator looks.
    const QByteArray metrics = admin->get("/metrics").raw.body;
    QVERIFY2(metrics.contains("stream_slow_consumer_drops_total 2"), metrics.constData());
    QVERIFY(metrics.contains("stream_messages_total "));
    QVERIFY(metrics.contains("stream_publish_lag_seconds_count "));
    QVERIFY(metrics.contains("sse_connections 0"));
}

void tst_Ws::pingFloodIsCutOff()
{
    const std::unique_ptr<TestVenue> venue = startVenue(Driver::Sqlite);
    QVERIFY(venue);
    venue->onServer([](server::VenueServer &server) {
        server.streamHub().setBacklogLimit(64 * 1024);
        server.streamHub().setSendBuffer(8 * 1024);
    });
    // Pings answered by QWebSocket itself never pass an outbox; a client that sends them without reading the
    // pongs must not grow the server's memory.
    RawWebSocket flood(venue->port(), 4096);
    QCOMPARE(flood.handshake(), 101);
    const QByteArray payload(125, 'p');
    std::uint64_t slow = 0;
    for (int i = 0; i < 20'000 && slow == 0; ++i) {
        flood.sendFrame(9, payload);
        if (i % 500 == 499) {
            if (!flood.isConnected())
                break;
            venue->onServer([&](server::VenueServer &server) { slow = server.streamHub().figures().slowConsumers; });
        }
    }
    QElapsedTimer timer;
    timer.start();
    while (slow == 0 && timer.elapsed() < 10'000) {
        venue->onServer([&](server::VenueServer &server) { slow = server.streamHub().figures().slowConsumers; });
        QTest::qWait(20);
    }
    QCOMPARE(slow, 1u);
    QCOMPARE(waitForConnections(*venue, 0, 15'000), 0);
}

void tst_Ws::largeInitialBurstsAreDelivered()
{
    const std::unique_ptr<TestVenue> venue = startVenue(Driver::Sqlite);
    QVERIFY(venue);
    venue->onServer([](server::VenueServer &server) { server.streamHub().setBacklogLimit(16 * 1024); });
    const auto admin = adminClient(venue->port());
    QVERIFY(admin);
    QVERIFY(admin->deposit(1, QStringLiteral("USD"), QStringLiteral("100000000")));
    // 200 open orders: about 80 KB of order messages, five times the backlog limit.
    for (int i = 0; i < 200; ++i)
        QCOMPARE(admin->post("/api/v1/orders", orderBody(true, QString::number(100 + i) + ".00", "1")).status, 201);
    const qint64 last = admin->get("/api/v1/orderbook/BTC-USD").object().value("seq").toInteger();

    RawWebSocket client(venue->port());
    QCOMPARE(client.handshake({"Authorization: Bearer " + admin->token()}), 101);
    client.sendText(R"({"op":"subscribe","channel":"orders"})");
    QCOMPARE(client.nextJson()->value("type").toString(), QStringLiteral("subscribed"));
    for (int i = 0; i < 200; ++i) {
        const std::optional<QJsonObject> order = client.nextJson();
        QVERIFY2(order && order->value("type").toString() == u"order", qPrintable(QString::number(i)));
    }
    // A resume that would replay more than half the limit gets the (shorter) snapshot instead.
    client.sendText(R"({"op":"subscribe","channel":"orderbook","symbol":"BTC-USD","since_seq":)"
                    + QByteArray::number(last - 199) + "}");
    QCOMPARE(client.nextJson()->value("type").toString(), QStringLiteral("subscribed"));
    const std::optional<QJsonObject> first = client.nextJson();
    QVERIFY(first);
    QCOMPARE(first->value("type").toString(), QStringLiteral("snapshot"));
    QCOMPARE(first->value("bids").toArray().size(), 200);
    // ...and a short one the updates.
    client.sendText(R"({"op":"subscribe","channel":"orderbook","symbol":"ETH-USD"})");
    QCOMPARE(client.nextJson()->value("type").toString(), QStringLiteral("subscribed"));
    QCOMPARE(client.nextJson()->value("type").toString(), QStringLiteral("snapshot"));
    std::uint64_t slow = 1;
    venue->onServer([&](server::VenueServer &server) { slow = server.streamHub().figures().slowConsumers; });
    QCOMPARE(slow, 0u);
    RawWebSocket resumed(venue->port());
    QCOMPARE(resumed.handshake(), 101);
    resumed.sendText(R"({"op":"subscribe","channel":"orderbook","symbol":"BTC-USD","since_seq":)"
                     + QByteArray::number(last - 3) + "}");
    QCOMPARE(resumed.nextJson()->value("type").toString(), QStringLiteral("subscribed"));
    for (qint64 seq = last - 2; seq <= last; ++seq) {
        const std::optional<QJsonObject> update = resumed.nextJson();
        QVERIFY(update);
        QCOMPARE(update->value("type").toString(), QStringLiteral("update"));
        QCOMPARE(update->value("seq").toInteger(), seq);
    }
}

void tst_Ws::framesBeforeTheAnswerAreRefused()
{
    // RFC 6455 §4.1: a client waits for the 101 before it sends frames. One that does not is refused.
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, m_shared->port());
    QVERIFY(socket.waitForConnected(10'000));
    QByteArray frame = QByteArray("\x81\x8d", 2) + QByteArray(4, '\0') + R"({"op":"ping"})";
    socket.write("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
                 + frame);
    QByteArray response;
    while (socket.waitForReadyRead(5'000))
        response += socket.readAll();
    QVERIFY2(response.startsWith("HTTP/1.1 400 "), response.constData());
    QVERIFY(response.contains("BAD_REQUEST"));
}

void tst_Ws::binaryFloodIsRateLimited()
{
    RawWebSocket client(m_shared->port());
    QCOMPARE(client.handshake(), 101);
    for (int i = 0; i < 2'000; ++i)
        client.sendFrame(2, "binary");
    int badRequests = 0;
    int limited = 0;
    while (const std::optional<QJsonObject> reply = client.nextJson(1'500)) {
        badRequests += reply->value("code").toString() == u"BAD_REQUEST" ? 1 : 0;
        limited += reply->value("code").toString() == u"RATE_LIMITED" ? 1 : 0;
    }
    // The burst allowance gets its answers, the rest one RATE_LIMITED error (a second or two of them).
    QVERIFY2(badRequests >= 190 && badRequests <= 260, qPrintable(QString::number(badRequests)));
    QVERIFY2(limited >= 1 && limited <= 3, qPrintable(QString::number(limited)));
    QVERIFY(client.isConnected());
}

void tst_Ws::shutdownSendsCloseFrames()
{
    std::unique_ptr<TestVenue> venue = startVenue(Driver::Sqlite);
    QVERIFY(venue);
    QWebSocket socket;
    QSignalSpy connected(&socket, &QWebSocket::connected);
    socket.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/ws").arg(venue->port())));
    QVERIFY(connected.wait(10'000));
    RawWebSocket raw(venue->port());
    QCOMPARE(raw.handshake(), 101);
    raw.sendText(R"({"op":"subscribe","channel":"orderbook","symbol":"BTC-USD"})");
    QVERIFY(raw.nextJson());
    QSignalSpy disconnected(&socket, &QWebSocket::disconnected);
    venue.reset(); // drains: every session gets a close frame; the kernel holds it for the QWebSocket
    QVERIFY(disconnected.count() > 0 || disconnected.wait(15'000));
    QCOMPARE(socket.closeCode(), QWebSocketProtocol::CloseCodeGoingAway);
    const std::optional<WsFrame> frame = raw.nextClose(2'000);
    QVERIFY(frame);
    QCOMPARE(frame->closeCode(), 1001);
}

QTEST_GUILESS_MAIN(tst_Ws)
#include "tst_ws.moc"
