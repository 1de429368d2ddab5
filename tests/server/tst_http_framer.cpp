// Tests of HttpFramer, the strict HTTP/1.1 request reader: every request is fed whole and byte by byte and
// must give the same outcome both ways.
#include "http_framer.h"

#include <QTest>

using namespace bourse::server;

namespace {

struct Outcome
{
    std::vector<HttpRequest> requests;
    std::optional<HttpFramingError> error;
    bool headAnnounced = false;
};

Outcome feed(const QByteArray &bytes, int step, const HttpLimits &limits = {})
{
    HttpFramer framer(limits);
    Outcome outcome;
    for (qsizetype at = 0; at < bytes.size() && !outcome.error; at += step) {
        framer.append(QByteArrayView(bytes).sliced(at, qMin<qsizetype>(step, bytes.size() - at)));
        for (;;) {
            const HttpFramer::Step next = framer.next();
            if (next.kind == HttpFramer::Step::Kind::NeedMore)
                break;
            if (next.kind == HttpFramer::Step::Kind::HeadComplete) {
                outcome.headAnnounced = true;
                continue;
            }
            if (next.kind == HttpFramer::Step::Kind::Error) {
                outcome.error = next.error;
                break;
            }
            outcome.requests.push_back(framer.take());
        }
    }
    return outcome;
}

} // namespace

class tst_HttpFramer final : public QObject
{
    Q_OBJECT

private slots:
    void requests_data();
    void requests();
    void errors_data();
    void errors();
    void pipelinedRequestsComeOneByOne();
    void headCompleteBeforeTheBody();
    void limitsAreExact();
};

void tst_HttpFramer::requests_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<bool>("keepAlive");

    QTest::newRow("get") << QByteArray("GET /a?b=c HTTP/1.1\r\nHost: h\r\n\r\n") << QByteArray("GET")
                         << QByteArray("/a?b=c") << QByteArray() << true;
    QTest::newRow("leading empty lines") << QByteArray("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n") << QByteArray("GET")
                                         << QByteArray("/") << QByteArray() << true;
    QTest::newRow("connection close") << QByteArray("GET / HTTP/1.1\r\nHost: h\r\nConnection: Close\r\n\r\n")
                                      << QByteArray("GET") << QByteArray("/") << QByteArray() << false;
    QTest::newRow("http/1.0") << QByteArray("GET / HTTP/1.0\r\n\r\n") << QByteArray("GET") << QByteArray("/")
                              << QByteArray() << false;
    QTest::newRow("http/1.0 keep-alive") << QByteArray("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                                         << QByteArray("GET") << QByteArray("/") << QByteArray() << true;
    QTest::newRow("content-length") << QByteArray("POST /o HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello")
                                    << QByteArray("POST") << QByteArray("/o") << QByteArray("hello") << true;
    QTest::newRow("identical content-lengths")
        << QByteArray("POST /o HTTP/1.1\r\nHost: h\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nhi")
        << QByteArray("POST") << QByteArray("/o") << QByteArray("hi") << true;
    QTest::newRow("chunked") << QByteArray("POST /o HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n"
                                           "2\r\nhe\r\nA\r\nllo world!\r\n0\r\n\r\n")
                             << QByteArray("POST") << QByteArray("/o") << QByteArray("hello world!") << true;
    QTest::newRow("absolute-form") << QByteArray("GET http://h:8080/x/y?z=1 HTTP/1.1\r\nHost: h\r\n\r\n")
                                   << QByteArray("GET") << QByteArray("/x/y?z=1") << QByteArray() << true;
    QTest::newRow("absolute-form without path") << QByteArray("GET http://h HTTP/1.1\r\nHost: h\r\n\r\n")
                                                << QByteArray("GET") << QByteArray("/") << QByteArray() << true;
    QTest::newRow("options *") << QByteArray("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n") << QByteArray("OPTIONS")
                               << QByteArray("*") << QByteArray() << true;
    QTest::newRow("empty header value") << QByteArray("GET / HTTP/1.1\r\nHost: h\r\nX-Empty:\r\n\r\n")
                                        << QByteArray("GET") << QByteArray("/") << QByteArray() << true;
}

void tst_HttpFramer::requests()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, target);
    QFETCH(QByteArray, body);
    QFETCH(bool, keepAlive);
    for (int step : {int(bytes.size()), 1, 3}) {
        const Outcome outcome = feed(bytes, step);
        QVERIFY2(!outcome.error, outcome.error ? outcome.error->message.constData() : "");
        QCOMPARE(outcome.requests.size(), std::size_t(1));
        const HttpRequest &request = outcome.requests.front();
        QCOMPARE(request.head.method, method);
        QCOMPARE(request.head.target, target);
        QCOMPARE(request.body, body);
        QCOMPARE(request.head.keepAlive, keepAlive);
    }
}

void tst_HttpFramer::errors_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<ErrorCode>("code");

    QTest::newRow("bare LF") << QByteArray("GET / HTTP/1.1\nHost: h\r\n\r\n") << ErrorCode::BadRequest;
    QTest::newRow("bare CR") << QByteArray("GET / HTTP/1.1\r\nHost: h\rX\r\n\r\n") << ErrorCode::BadRequest;
    QTest::newRow("no host") << QByteArray("GET / HTTP/1.1\r\n\r\n") << ErrorCode::BadRequest;
    QTest::newRow("conflicting lengths") << QByteArray("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n"
                                                       "Content-Length: 2\r\n\r\nab")
                                         << ErrorCode::BadRequest;
    QTest::newRow("length and chunked") << QByteArray("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n"
                                                      "Transfer-Encoding: chunked\r\n\r\n")
                                        << ErrorCode::BadRequest;
    QTest::newRow("chunked twice") << QByteArray("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n")
                                   << ErrorCode::NotImplemented;
    QTest::newRow("chunked not last") << QByteArray("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n")
                                      << ErrorCode::NotImplemented;
    QTest::newRow("transfer-encoding in 1.0") << QByteArray("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n")
                                              << ErrorCode::BadRequest;
    QTest::newRow("huge content-length") << QByteArray("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: "
                                                       "99999999999999999999999\r\n\r\n")
                                         << ErrorCode::PayloadTooLarge;
    QTest::newRow("content-length with sign") << QByteArray("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n")
                                              << ErrorCode::BadRequest;
    QTest::newRow("empty content-length") << QByteArray("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \r\n\r\n")
                                          << ErrorCode::BadRequest;
    QTest::newRow("chunk extension garbage")
        << QByteArray("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3 x\r\nabc\r\n0\r\n\r\n")
        << ErrorCode::BadRequest;
    QTest::newRow("lowercase method") << QByteArray("get / HTTP/1.1\r\nHost: h\r\n\r\n") << ErrorCode::NotImplemented;
    QTest::newRow("target * with GET") << QByteArray("GET * HTTP/1.1\r\nHost: h\r\n\r\n") << ErrorCode::BadRequest;
    QTest::newRow("HTTP/1.2") << QByteArray("GET / HTTP/1.2\r\nHost: h\r\n\r\n") << ErrorCode::HttpVersionNotSupported;
    QTest::newRow("header name with space") << QByteArray("GET / HTTP/1.1\r\nHost: h\r\nX Y: z\r\n\r\n")
                                            << ErrorCode::BadRequest;
    QTest::newRow("empty header name") << QByteArray("GET / HTTP/1.1\r\nHost: h\r\n: z\r\n\r\n") << ErrorCode::BadRequest;
    QTest::newRow("NUL in value") << QByteArray("GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n", 35)
                                  << ErrorCode::BadRequest;
}

void tst_HttpFramer::errors()
{
    QFETCH(QByteArray, bytes);
    QFETCH(ErrorCode, code);
    for (int step : {int(bytes.size()), 1}) {
        const Outcome outcome = feed(bytes, step);
        QVERIFY(outcome.requests.empty());
        QVERIFY(outcome.error);
        QCOMPARE(outcome.error->code, code);
        QVERIFY(!outcome.error->message.isEmpty());
    }
}

void tst_HttpFramer::pipelinedRequestsComeOneByOne()
{
    const QByteArray bytes = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
                             "POST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nab"
                             "POST /3 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nc\r\n0\r\n\r\n"
                             "GET /4 HTTP/1.1\r\nHost: h\r\n\r\n";
    for (int step : {int(bytes.size()), 1, 7}) {
        const Outcome outcome = feed(bytes, step);
        QVERIFY(!outcome.error);
        QCOMPARE(outcome.requests.size(), std::size_t(4));
        QCOMPARE(outcome.requests[0].head.target, QByteArray("/1"));
        QCOMPARE(outcome.requests[1].body, QByteArray("ab"));
        QCOMPARE(outcome.requests[2].body, QByteArray("c"));
        QCOMPARE(outcome.requests[3].head.target, QByteArray("/4"));
    }
}

void tst_HttpFramer::headCompleteBeforeTheBody()
{
    HttpFramer framer;
    framer.append("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
    HttpFramer::Step step = framer.next();
    QCOMPARE(step.kind, HttpFramer::Step::Kind::HeadComplete);
    QVERIFY(framer.head().expectContinue);
    QCOMPARE(framer.next().kind, HttpFramer::Step::Kind::NeedMore);
    framer.append("abc");
    QCOMPARE(framer.next().kind, HttpFramer::Step::Kind::Request);
    QCOMPARE(framer.take().body, QByteArray("abc"));
    QCOMPARE(framer.state(), HttpFramer::State::Idle);
}

void tst_HttpFramer::limitsAreExact()
{
    HttpLimits limits;
    limits.maxRequestLine = 20;
    limits.maxHeaderFields = 2;
    limits.maxBodyBytes = 4;
    // "GET /xxxxxxxxxxxxxxx HTTP/1.1" with the target sized to make the line exactly 20 and 21 bytes.
    const QByteArray at = "GET /" + QByteArray(6, 'x') + " HTTP/1.1";
    QCOMPARE(at.size(), 20);
    QVERIFY(feed(at + "\r\nHost: h\r\n\r\n", 1, limits).requests.size() == 1);
    QCOMPARE(feed("GET /" + QByteArray(7, 'x') + " HTTP/1.1\r\nHost: h\r\n\r\n", 1, limits).error->code,
             ErrorCode::UriTooLong);
    QVERIFY(feed("GET / HTTP/1.1\r\nHost: h\r\nA: b\r\n\r\n", 1, limits).requests.size() == 1);
    QCOMPARE(feed("GET / HTTP/1.1\r\nHost: h\r\nA: b\r\nC: d\r\n\r\n", 1, limits).error->code, ErrorCode::HeadersTooLarge);
    QVERIFY(feed("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nabcd", 1, limits).requests.size() == 1);
    QCOMPARE(feed("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nabcde", 1, limits).error->code,
             ErrorCode::PayloadTooLarge);
    QCOMPARE(feed("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", 1, limits)
                 .error->code,
             ErrorCode::PayloadTooLarge);
}

QTEST_APPLESS_MAIN(tst_HttpFramer)
#include "tst_http_framer.moc"
