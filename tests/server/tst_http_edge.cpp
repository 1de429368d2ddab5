// Tests of the network edge (HttpEdge in front of QHttpServer) with raw sockets: what well-formed requests
// get, that responses keep their order when a route answers later, and what every kind of malformed, huge,
// slow or abandoned request gets: its status, its error code, and that the server stays healthy after.
#include "http_edge.h"
#include "raw_http.h"

#include <QHttpServer>
#include <QHttpServerResponder>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>
#include <QTimer>

#include <sys/resource.h>

using namespace bourse;
using namespace bourse::server;
using bourse::test::RawClient;
using bourse::test::RawResponse;

namespace {

void answer(QHttpServerResponder &responder, const QByteArray &body)
{
    auto *socket = qobject_cast<RequestSocket *>(responder.socket());
    QVERIFY(socket);
    responder.writeStatusLine(QHttpServerResponder::StatusCode::Ok);
    responder.writeHeader("Content-Type", "text/plain");
    responder.writeHeader("Content-Length", QByteArray::number(body.size()));
    responder.writeHeader("X-Request-Id", socket->requestId());
    responder.writeBody(body);
    socket->endResponse();
}

QByteArray get(QByteArrayView path, QByteArrayView extra = {})
{
    return "GET " + path.toByteArray() + " HTTP/1.1\r\nHost: test\r\n" + extra.toByteArray() + "\r\n";
}

QByteArray errorCode(const RawResponse &response)
{
    return QJsonDocument::fromJson(response.body).object().value("error").toObject().value("code").toString().toUtf8();
}

} // namespace

class tst_HttpEdge final : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void answersAndKeepsAlive();
    void pipelinedResponsesKeepTheirOrder();
    void chunkedBodyArrives();
    void expectContinue();
    void http10ClosesAfterTheResponse();
    void requestIdIsTheClientsWhenSane_data();
    void requestIdIsTheClientsWhenSane();
    void malformedRequestsAreRefused_data();
    void malformedRequestsAreRefused();
    void bodyOverTheLimitIsRefusedAndTheAnswerArrives();
    void tenThousandHeaders();
    void slowlorisGetsRequestTimeout();
    void stalledBodyGetsRequestTimeout();
    void idleKeepAliveConnectionCloses();
    void connectionCapPerAddress();
    void clientVanishingMidRequest();
    void clientVanishingWhileItsRequestIsHandled();
    void drainFinishesInFlightRequests();

private:
    void setLimits(const EdgeLimits &limits);
    void healthy(); // a fresh connection still gets an answer

    std::unique_ptr<bourse::test::ServerThread> m_thread;
    QHttpServer *m_server = nullptr;
    HttpEdge *m_edge = nullptr;
    quint16 m_port = 0;
    std::atomic<int> m_laterHandled{0};
};

void tst_HttpEdge::init()
{
    m_thread = std::make_unique<bourse::test::ServerThread>();
    m_thread->run([this] {
        m_server = new QHttpServer;
        m_edge = new HttpEdge;
        QVERIFY(!m_edge->listenOn(QHostAddress::LocalHost, 0).has_value());
        m_port = m_edge->port();
        m_server->bind(m_edge);
        m_server->route("/ping", QHttpServerRequest::Method::Get,
                        [](const QHttpServerRequest &, QHttpServerResponder &&responder) { answer(responder, "pong"); });
        m_server->route("/later", QHttpServerRequest::Method::Get,
                        [this](const QHttpServerRequest &, QHttpServerResponder &&responder) {
                            auto held = std::make_shared<QHttpServerResponder>(std::move(responder));
                            QTimer::singleShot(100, m_server, [this, held] {
                                ++m_laterHandled;
                                answer(*held, "later");
                            });
                        });
        m_server->route("/echo", QHttpServerRequest::Method::Post,
                        [](const QHttpServerRequest &request, QHttpServerResponder &&responder) {
                            auto *socket = qobject_cast<RequestSocket *>(responder.socket());
                            // What QHttpServer parsed and what the edge framed are the same body.
                            QCOMPARE(request.body(), socket->request().body);
                            answer(responder, request.body());
                        });
    });
}

void tst_HttpEdge::cleanup()
{
    m_thread->stop([this] {
        delete m_server; // owns the edge
        m_server = nullptr;
        m_edge = nullptr;
    });
    m_thread.reset();
}

void tst_HttpEdge::setLimits(const EdgeLimits &limits)
{
    m_thread->run([this, limits] { m_edge->setLimits(limits); });
}

void tst_HttpEdge::healthy()
{
    RawClient client(m_port);
    client.send(get("/ping"));
    const std::optional<RawResponse> response = client.read();
    QVERIFY(response);
    QCOMPARE(response->status, 200);
    QCOMPARE(response->body, QByteArray("pong"));
}

void tst_HttpEdge::answersAndKeepsAlive()
{
    RawClient client(m_port);
    for (int i = 0; i < 3; ++i) {
        client.send(get("/ping"));
        const std::optional<RawResponse> response = client.read();
        QVERIFY(response);
        QCOMPARE(response->status, 200);
        QCOMPARE(response->body, QByteArray("pong"));
        QVERIFY(!response->header("x-request-id").isEmpty());
    }
    QVERIFY(client.isConnected());
}

void tst_HttpEdge::pipelinedResponsesKeepTheirOrder()
{
    RawClient client(m_port);
    // Three requests in one write: the first is answered later, the others at once; they must come back
    // in the order they were sent.
    client.send(get("/later") + get("/ping") + "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc");
    const std::optional<RawResponse> first = client.read();
    const std::optional<RawResponse> second = client.read();
    const std::optional<RawResponse> third = client.read();
    QVERIFY(first && second && third);
    QCOMPARE(first->body, QByteArray("later"));
    QCOMPARE(second->body, QByteArray("pong"));
    QCOMPARE(third->body, QByteArray("abc"));
}

void tst_HttpEdge::chunkedBodyArrives()
{
    RawClient client(m_port);
    client.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                "5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\nTrailer-Field: x\r\n\r\n");
    const std::optional<RawResponse> response = client.read();
    QVERIFY(response);
    QCOMPARE(response->status, 200);
    QCOMPARE(response->body, QByteArray("hello world"));
}

void tst_HttpEdge::expectContinue()
{
    RawClient client(m_port);
    client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    const std::optional<RawResponse> interim = client.read();
    QVERIFY(interim);
    QCOMPARE(interim->status, 100);
    client.send("body");
    const std::optional<RawResponse> response = client.read();
    QVERIFY(response);
    QCOMPARE(response->status, 200);
    QCOMPARE(response->body, QByteArray("body"));
}

void tst_HttpEdge::http10ClosesAfterTheResponse()
{
    RawClient client(m_port);
    client.send("GET /ping HTTP/1.0\r\n\r\n");
    const std::optional<RawResponse> response = client.read();
    QVERIFY(response);
    QCOMPARE(response->status, 200);
    QVERIFY(client.waitForClose());
}

void tst_HttpEdge::requestIdIsTheClientsWhenSane_data()
{
    QTest::addColumn<QByteArray>("sent");
    QTest::addColumn<bool>("kept");
    QTest::newRow("sane") << QByteArray("abc-123_X.y") << true;
    QTest::newRow("128 chars") << QByteArray(128, 'a') << true;
    QTest::newRow("129 chars") << QByteArray(129, 'a') << false;
    QTest::newRow("space") << QByteArray("a b") << false;
    QTest::newRow("slash") << QByteArray("a/b") << false;
    QTest::newRow("quote") << QByteArray("a\"b") << false;
}

void tst_HttpEdge::requestIdIsTheClientsWhenSane()
{
    QFETCH(QByteArray, sent);
    QFETCH(bool, kept);
    RawClient client(m_port);
    client.send(get("/ping", "X-Request-Id: " + sent + "\r\n"));
    const std::optional<RawResponse> response = client.read();
    QVERIFY(response);
    const QByteArray id = response->header("x-request-id");
    QCOMPARE(id == sent, kept);
    QVERIFY(!id.isEmpty() && id.size() <= 128);
}

void tst_HttpEdge::malformedRequestsAreRefused_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("code");

    const QByteArray host = "Host: t\r\n";
    QTest::newRow("1 MB request line") << "GET /" + QByteArray(1024 * 1024, 'a') + " HTTP/1.1\r\n" + host + "\r\n"
                                       << 414 << QByteArray("URI_TOO_LONG");
    QTest::newRow("1 MB request line without CRLF") << "GET /" + QByteArray(1024 * 1024, 'a') << 414
                                                    << QByteArray("URI_TOO_LONG");
    QTest::newRow("two different Content-Lengths")
        << "POST /echo HTTP/1.1\r\n" + host + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd" << 400
        << QByteArray("BAD_REQUEST");
    QTest::newRow("Content-Length list that disagrees")
        << "POST /echo HTTP/1.1\r\n" + host + "Content-Length: 3, 4\r\n\r\nabcd" << 400 << QByteArray("BAD_REQUEST");
    QTest::newRow("Content-Length with chunked")
        << "POST /echo HTTP/1.1\r\n" + host + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
        << 400 << QByteArray("BAD_REQUEST");
    QTest::newRow("negative Content-Length") << "POST /echo HTTP/1.1\r\n" + host + "Content-Length: -1\r\n\r\n" << 400
                                             << QByteArray("BAD_REQUEST");
    QTest::newRow("bad chunk size") << "POST /echo HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"
                                    << 400 << QByteArray("BAD_REQUEST");
    QTest::newRow("chunk size overflow")
        << "POST /echo HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n" << 400
        << QByteArray("BAD_REQUEST");
    QTest::newRow("chunk data without CRLF")
        << "POST /echo HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n" << 400
        << QByteArray("BAD_REQUEST");
    QTest::newRow("gzip transfer coding") << "POST /echo HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip, chunked\r\n\r\n"
                                          << 501 << QByteArray("NOT_IMPLEMENTED");
    QTest::newRow("bare LF line endings") << QByteArray("GET /ping HTTP/1.1\nHost: t\n\n") << 400
                                          << QByteArray("BAD_REQUEST");
    QTest::newRow("bare LF after headers") << QByteArray("GET /ping HTTP/1.1\r\nHost: t\n\r\n") << 400
                                           << QByteArray("BAD_REQUEST");
    QTest::newRow("bare CR") << QByteArray("GET /ping HTTP/1.1\rHost: t\r\n\r\n") << 400 << QByteArray("BAD_REQUEST");
    QTest::newRow("missing Host") << QByteArray("GET /ping HTTP/1.1\r\n\r\n") << 400 << QByteArray("BAD_REQUEST");
    QTest::newRow("two Hosts") << "GET /ping HTTP/1.1\r\n" + host + host + "\r\n" << 400 << QByteArray("BAD_REQUEST");
    QTest::newRow("space before colon") << "GET /ping HTTP/1.1\r\n" + host + "X-A : b\r\n\r\n" << 400
                                        << QByteArray("BAD_REQUEST");
    QTest::newRow("folded header") << "GET /ping HTTP/1.1\r\n" + host + "X-A: b\r\n c\r\n\r\n" << 400
                                   << QByteArray("BAD_REQUEST");
    QTest::newRow("control character in a value") << "GET /ping HTTP/1.1\r\n" + host + "X-A: b\x01\r\n\r\n" << 400
                                                   << QByteArray("BAD_REQUEST");
    QTest::newRow("HTTP/2.0") << "GET /ping HTTP/2.0\r\n" + host + "\r\n" << 505
                              << QByteArray("HTTP_VERSION_NOT_SUPPORTED");
    QTest::newRow("garbage version") << "GET /ping HTTX/1.1\r\n" + host + "\r\n" << 400 << QByteArray("BAD_REQUEST");
    QTest::newRow("unknown method") << "BREW /ping HTTP/1.1\r\n" + host + "\r\n" << 501 << QByteArray("NOT_IMPLEMENTED");
    QTest::newRow("target without slash") << "GET ping HTTP/1.1\r\n" + host + "\r\n" << 400 << QByteArray("BAD_REQUEST");
    QTest::newRow("two spaces") << "GET  /ping HTTP/1.1\r\n" + host + "\r\n" << 400 << QByteArray("BAD_REQUEST");
    QTest::newRow("raw UTF-8 in the target") << "GET /p\xc3\xa9 HTTP/1.1\r\n" + host + "\r\n" << 400
                                             << QByteArray("BAD_REQUEST");
    QTest::newRow("65 KiB of headers") << "GET /ping HTTP/1.1\r\n" + host + "X-Big: " + QByteArray(65 * 1024, 'b') + "\r\n\r\n"
                                       << 431 << QByteArray("HEADERS_TOO_LARGE");
    QTest::newRow("129 header fields") << "GET /ping HTTP/1.1\r\n" + host + QByteArray("X-A: b\r\n").repeated(128) + "\r\n"
                                       << 431 << QByteArray("HEADERS_TOO_LARGE");
}

void tst_HttpEdge::malformedRequestsAreRefused()
{
    QFETCH(QByteArray, request);
    QFETCH(int, status);
    QFETCH(QByteArray, code);

    RawClient client(m_port);
    client.send(request);
    const std::optional<RawResponse> response = client.read();
    QVERIFY(response);
    QCOMPARE(response->status, status);
    QCOMPARE(errorCode(*response), code);
    QCOMPARE(response->header("connection"), QByteArray("close"));
    QVERIFY(!response->header("x-request-id").isEmpty());
    QVERIFY(client.waitForClose());
    healthy();
}

void tst_HttpEdge::bodyOverTheLimitIsRefusedAndTheAnswerArrives()
{
    // 2 MiB announced and sent in full: the client is still writing when the 413 goes out, and must get it
    // rather than a reset.
    RawClient client(m_port);
    const QByteArray body(2 * 1024 * 1024, 'x');
    client.socket().write("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: "
                          + QByteArray::number(body.size()) + "\r\n\r\n");
    client.socket().write(body);
    const std::optional<RawResponse> response = client.read();
    QVERIFY(response);
    QCOMPARE(response->status, 413);
    QCOMPARE(errorCode(*response), QByteArray("PAYLOAD_TOO_LARGE"));
    QVERIFY(client.waitForClose());

    // The same size chunked: refused as soon as the chunks pass the limit.
    RawClient chunked(m_port);
    chunked.socket().write("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 32; ++i)
        chunked.socket().write("10000\r\n" + QByteArray(0x10000, 'y') + "\r\n");
    const std::optional<RawResponse> second = chunked.read();
    QVERIFY(second);
    QCOMPARE(second->status, 413);
    healthy();
}

void tst_HttpEdge::tenThousandHeaders()
{
    RawClient client(m_port);
    QByteArray request = "GET /ping HTTP/1.1\r\nHost: t\r\n";
    for (int i = 0; i < 10'000; ++i)
        request += "X-" + QByteArray::number(i) + ": v\r\n";
    client.send(request + "\r\n");
    const std::optional<RawResponse> response = client.read();
    QVERIFY(response);
    QCOMPARE(response->status, 431);
    QCOMPARE(errorCode(*response), QByteArray("HEADERS_TOO_LARGE"));
    healthy();
}

void tst_HttpEdge::slowlorisGetsRequestTimeout()
{
    EdgeLimits limits;
    limits.headerTimeout = std::chrono::milliseconds(600);
    setLimits(limits);
    RawClient client(m_port);
    QElapsedTimer elapsed;
    elapsed.start();
    // One byte at a time, each well within any per-read timeout, the whole head never.
    const QByteArray request = get("/ping", "X-Slow: " + QByteArray(200, 's') + "\r\n");
    std::optional<RawResponse> response;
    for (char c : request) {
        client.send(QByteArrayView(&c, 1));
        if (client.socket().waitForReadyRead(100)) {
            response = client.read();
            break;
        }
    }
    QVERIFY(response);
    QCOMPARE(response->status, 408);
    QCOMPARE(errorCode(*response), QByteArray("REQUEST_TIMEOUT"));
    QVERIFY(client.waitForClose());
    healthy();
}

void tst_HttpEdge::stalledBodyGetsRequestTimeout()
{
    EdgeLimits limits;
    limits.idleTimeout = std::chrono::milliseconds(600);
    setLimits(limits);
    RawClient client(m_port);
    client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc");
    const std::optional<RawResponse> response = client.read();
    QVERIFY(response);
    QCOMPARE(response->status, 408);
    healthy();
}

void tst_HttpEdge::idleKeepAliveConnectionCloses()
{
    EdgeLimits limits;
    limits.idleTimeout = std::chrono::milliseconds(500);
    setLimits(limits);
    RawClient client(m_port);
    client.send(get("/ping"));
    QVERIFY(client.read());
    QVERIFY(client.waitForClose(5000));
}

void tst_HttpEdge::connectionCapPerAddress()
{
    // 1,000 idle connections from one address: the edge keeps its cap, answers the rest 429 and closes
    // them, and goes on serving once they are gone.
    rlimit files{};
    getrlimit(RLIMIT_NOFILE, &files);
    if (files.rlim_cur < 4096 && files.rlim_max >= 4096) {
        files.rlim_cur = 4096;
        setrlimit(RLIMIT_NOFILE, &files);
    }
    EdgeLimits limits;
    limits.maxConnectionsPerIp = 100;
    // The accepted ones must still be open when the 900 refusals have been read, however slow a loaded
    // machine makes that: the idle timeout is not what this test is about.
    limits.idleTimeout = std::chrono::minutes(2);
    setLimits(limits);
    std::vector<std::unique_ptr<RawClient>> clients;
    for (int i = 0; i < 1000; ++i)
        clients.push_back(std::make_unique<RawClient>(m_port));
    int refused = 0;
    for (int i = 100; i < 1000; ++i) {
        const std::optional<RawResponse> response = clients[std::size_t(i)]->read(5000);
        QVERIFY(response);
        QCOMPARE(response->status, 429);
        QCOMPARE(errorCode(*response), QByteArray("RATE_LIMITED"));
        QCOMPARE(response->header("retry-after"), QByteArray("1"));
        ++refused;
    }
    QCOMPARE(refused, 900);
    int count = 0;
    m_thread->run([&] { count = m_edge->connectionCount(); });
    QCOMPARE(count, 100);
    // The accepted ones still work.
    clients[0]->send(get("/ping"));
    QVERIFY(clients[0]->read());
    clients.clear();
    QTRY_VERIFY_WITH_TIMEOUT(([&] {
                                 m_thread->run([&] { count = m_edge->connectionCount(); });
                                 return count == 0;
                             }()),
                             10000);
    healthy();
}

void tst_HttpEdge::clientVanishingMidRequest()
{
    {
        RawClient client(m_port);
        client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc");
        client.socket().abort();
    }
    {
        RawClient client(m_port);
        client.send("GET /pi");
        client.socket().disconnectFromHost();
    }
    int count = -1;
    QTRY_VERIFY_WITH_TIMEOUT(([&] {
                                 m_thread->run([&] { count = m_edge->connectionCount(); });
                                 return count == 0;
                             }()),
                             10000);
    healthy();
}

void tst_HttpEdge::clientVanishingWhileItsRequestIsHandled()
{
    const int before = m_laterHandled;
    {
        RawClient client(m_port);
        client.send(get("/later"));
        client.socket().abort();
    }
    // The route answers into the void without harm, and the connection is then released.
    QTRY_COMPARE_WITH_TIMEOUT(m_laterHandled.load(), before + 1, 10000);
    int count = -1;
    QTRY_VERIFY_WITH_TIMEOUT(([&] {
                                 m_thread->run([&] { count = m_edge->connectionCount(); });
                                 return count == 0;
                             }()),
                             10000);
    healthy();
}

void tst_HttpEdge::drainFinishesInFlightRequests()
{
    RawClient idle(m_port);
    idle.send(get("/ping"));
    QVERIFY(idle.read());
    RawClient busy(m_port);
    busy.send(get("/later"));
    QTRY_VERIFY(([&] {
        int count = 0;
        m_thread->run([&] { count = m_edge->connectionCount(); });
        return count == 2;
    }()));
    std::atomic<bool> drained = false;
    m_thread->run([&] {
        connect(m_edge, &HttpEdge::drained, m_edge, [&] { drained = true; });
        m_edge->drain();
    });
    QVERIFY(idle.waitForClose(5000));
    const std::optional<RawResponse> response = busy.read();
    QVERIFY(response);
    QCOMPARE(response->body, QByteArray("later"));
    QVERIFY(busy.waitForClose(5000));
    QTRY_VERIFY(drained.load());
    RawClient late(m_port);
    QVERIFY(!late.isConnected());
}

QTEST_GUILESS_MAIN(tst_HttpEdge)
#include "tst_http_edge.moc"
