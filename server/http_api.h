// HttpApi: the REST API of spec/API.md §2-§6 on QHttpServer 6.4. It is the QAbstractHttpServer bound to the
// HttpEdge (http_edge.h), which hands it only whole, well-formed requests; this class routes each one and
// answers it in the spec's shapes. Per request, in this order: the route (404, or 405 with Allow), a CORS
// preflight, the caller from the Bearer token (401), the rate limit of the caller's tier or IP (429 with
// Retry-After; X-RateLimit-* on every limited response), the role (403), the body (415, 400, 413 from the
// edge), then the route's handler, which talks only to the VenueService. Errors become HTTP in one place
// (fail()). Every answer gets X-Request-Id, CORS headers for allowed origins, gzip when the client accepts
// it and the body is over 1 KiB, a line in the access log and the request metrics.
//
// The routes live in routes_*.cpp, one file per area, as members of this class. Lives on the HTTP thread.
#pragma once

#include "api_json.h"
#include "http_edge.h"
#include "json_reader.h"
#include "metrics.h"
#include "rate_limiter.h"
#include "stream_feeds.h"
#include "venue_service.h"

#include <QAbstractHttpServer>
#include <QElapsedTimer>
#include <QHash>
#include <QPointer>
#include <QTimer>

#include <memory>
#include <vector>

namespace bourse::server {

class HttpApi final : public QAbstractHttpServer
{
    Q_OBJECT

public:
    HttpApi(VenueService &service, StreamFeeds &feeds, MetricsRegistry &metrics, QString version,
            QObject *parent = nullptr);
    ~HttpApi() override;

    // Serves what `edge` (already listening) accepts; the edge becomes this server's child.
    void serve(HttpEdge *edge);
    HttpEdge *edge() const { return m_edge; }
    // The route patterns with their methods, as "GET /api/v1/orders/{id}" (tests compare them with the
    // OpenAPI document).
    QStringList routeList() const;

    // Shutdown: new requests get 503 from now on; in-flight ones finish; event streams end.
    void setShuttingDown()
    {
        m_shuttingDown = true;
        endStreams();
    }
    // Open order book event streams (SSE).
    int streamCount() const;
    // How often an open event stream gets a keep-alive comment (15 s; tests shorten it).
    void setStreamPingInterval(std::chrono::milliseconds interval) { m_streamPing.setInterval(interval); }
    // Where /admin/system/stats reads the open WebSocket connections from.
    void setWebSocketCount(std::function<int()> count) { m_webSocketCount = std::move(count); }

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override;
    void missingHandler(const QHttpServerRequest &request, QTcpSocket *socket) override;

public:
    // One request and what is known about it while it is answered; shared by the callbacks that complete it.
    struct Exchange
    {
        QPointer<RequestSocket> socket;
        HttpRequestHead head;
        QByteArray body;
        QByteArray requestId;
        QByteArray routePattern;                              // for logs and metrics: never the raw path
        std::vector<QByteArray> params;                       // the path's {placeholders}, decoded, in order
        std::vector<std::pair<QByteArray, QByteArray>> query; // decoded
        Caller caller;
        std::optional<RateDecision> rate;
        QByteArray corsOrigin; // echoed when allowed
        bool gzip = false;
        QElapsedTimer timer;
        std::optional<JsonDocument> json;
        bool answered = false;

        std::optional<QByteArrayView> queryValue(QByteArrayView name) const;
        JsonValue root() const { return json->root(); }
    };
    using ExchangePtr = std::shared_ptr<Exchange>;
    using Headers = std::vector<std::pair<QByteArray, QByteArray>>;

private:
    enum class Access : std::uint8_t { Public, Viewer, Trader, Admin };
    enum class Body : std::uint8_t { None, Json };
    using Handler = void (HttpApi::*)(const ExchangePtr &);

    struct Route
    {
        QByteArray method;
        QByteArray pattern;
        Handler handler = nullptr;
        Access access = Access::Public;
        Body body = Body::None;
        bool rateLimited = true;
        std::vector<QByteArray> segments; // the pattern split at '/'
        int literals = 0;                 // segments that are not {placeholders}: the more, the more specific
    };

    void addRoute(QByteArray method, QByteArray pattern, Handler handler, Access access, Body body = Body::None,
                  bool rateLimited = true);
    void dispatch(const ExchangePtr &exchange);
    bool checkBody(const ExchangePtr &exchange);
    Headers corsPreflightHeaders(const ExchangePtr &exchange) const;

public:
    // ---- answering (also used by the routes)
    void send(const ExchangePtr &exchange, int status, QByteArray body, QByteArray contentType = "application/json",
              const Headers &extra = {});
    void sendJson(const ExchangePtr &exchange, int status, QByteArray json, const Headers &extra = {})
    {
        send(exchange, status, std::move(json), "application/json", extra);
    }
    void fail(const ExchangePtr &exchange, const ServiceError &error, Headers extra = {});
    void fail(const ExchangePtr &exchange, ErrorCode code, const QString &message, const QString &field = {})
    {
        fail(exchange, ServiceError::of(code, message, field));
    }
    // A reply callback that answers with `ok` when the service succeeds and with fail() otherwise.
    template<typename T, typename Ok>
    Reply<T> answer(const ExchangePtr &exchange, Ok ok);
    // A reply callback that answers 200 with a page of rows, each written by `writeRow(json, row)`.
    template<typename Row, typename WriteRow>
    Reply<sql::Page<Row>> pageReply(const ExchangePtr &exchange, WriteRow writeRow)
    {
        return answer<sql::Page<Row>>(exchange, [this, exchange, writeRow](const sql::Page<Row> &page) {
            sendJson(exchange, 200, pageBody(page, writeRow));
        });
    }

    // Streaming (the CSV export): the head of a chunked response, its chunks, its end.
    void beginStream(const ExchangePtr &exchange, int status, QByteArray contentType, const Headers &extra);
    void streamChunk(const ExchangePtr &exchange, const QByteArray &data);
    void endStream(const ExchangePtr &exchange);

private:
    QByteArray head(const ExchangePtr &exchange, int status, const QByteArray &contentType, const Headers &extra,
                    std::optional<qsizetype> contentLength, bool gzip) const;
    void finished(const ExchangePtr &exchange, int status);

    // ---- routes (routes_public.cpp)
    void getHealth(const ExchangePtr &exchange);
    void getMetrics(const ExchangePtr &exchange);
    void getOpenApi(const ExchangePtr &exchange);
    void getDocs(const ExchangePtr &exchange);
    void getTime(const ExchangePtr &exchange);
    void getInstruments(const ExchangePtr &exchange);
    void getOrderBook(const ExchangePtr &exchange);
    void getTrades(const ExchangePtr &exchange);
    void getTradesOfSymbol(const ExchangePtr &exchange);
    void getCandles(const ExchangePtr &exchange);
    void getTicker(const ExchangePtr &exchange);
    // ---- the order book event stream (routes_stream.cpp)
    class SseStream;
    void getOrderBookStream(const ExchangePtr &exchange);
    // GET /ws that does not ask for an upgrade (upgrades never reach the routes: ws_gateway.h).
    void getWebSocketWithoutUpgrade(const ExchangePtr &exchange);
    void removeStreamLater(SseStream *stream);
    void pingStreams();
    void endStreams();
    void updateStreamGauge();
    // ---- auth (routes_auth.cpp)
    void postRegister(const ExchangePtr &exchange);
    void postLogin(const ExchangePtr &exchange);
    void postRefresh(const ExchangePtr &exchange);
    void postLogout(const ExchangePtr &exchange);
    void getMe(const ExchangePtr &exchange);
    // ---- orders and account (routes_orders.cpp)
    void postOrder(const ExchangePtr &exchange);
    void getOrders(const ExchangePtr &exchange);
    void deleteOrders(const ExchangePtr &exchange);
    void getOrder(const ExchangePtr &exchange);
    void patchOrder(const ExchangePtr &exchange);
    void deleteOrder(const ExchangePtr &exchange);
    void postCancelAfter(const ExchangePtr &exchange);
    void getOrdersCsv(const ExchangePtr &exchange);
    void getFills(const ExchangePtr &exchange);
    void getAccount(const ExchangePtr &exchange);
    void exportNext(const ExchangePtr &exchange, std::shared_ptr<sql::OrderExport> cursor);
    // The filter of the order listing and its export (status, symbol, user_id), as the caller may use it.
    std::optional<sql::OrderFilter> orderFilterOf(const ExchangePtr &exchange);
    // ---- admin (routes_admin.cpp)
    void getUsers(const ExchangePtr &exchange);
    void postUser(const ExchangePtr &exchange);
    void patchUser(const ExchangePtr &exchange);
    void postDeposit(const ExchangePtr &exchange);
    void postWithdrawal(const ExchangePtr &exchange);
    void moveFunds(const ExchangePtr &exchange, bool deposit);
    void postInstrument(const ExchangePtr &exchange);
    void patchInstrument(const ExchangePtr &exchange);
    void getSettings(const ExchangePtr &exchange);
    void patchSettings(const ExchangePtr &exchange);
    void postKillSwitch(const ExchangePtr &exchange);
    void getStats(const ExchangePtr &exchange);
    void getAudit(const ExchangePtr &exchange);

    // Helpers shared by the routes: each answers the error itself and returns none when the input is bad.
    std::optional<InstrumentView> symbolParam(const ExchangePtr &exchange, QByteArrayView symbol, bool inQuery);
    std::optional<sql::PageRequest> pageParams(const ExchangePtr &exchange);
    std::optional<std::int64_t> intParam(const ExchangePtr &exchange, QByteArrayView name, std::int64_t min,
                                         std::int64_t max, std::int64_t fallback, bool clampHigh);
    std::optional<AccountId> idParam(const ExchangePtr &exchange, const char *what);
    // The answers several routes share: an order, a token pair; the refresh token of a body.
    Reply<sql::OrderRecord> orderReply(const ExchangePtr &exchange);
    Reply<TokenPair> tokenReply(const ExchangePtr &exchange);
    std::optional<QByteArray> refreshTokenOf(const ExchangePtr &exchange);

    VenueService &m_service;
    MetricsRegistry &m_metrics;
    QString m_version;
    HttpEdge *m_edge = nullptr;
    std::vector<Route> m_routes;
    RateLimiter m_rateLimiter;
    QElapsedTimer m_clock;
    bool m_shuttingDown = false;
    StreamFeeds &m_feeds;
    std::function<int()> m_webSocketCount;
    std::vector<std::shared_ptr<SseStream>> m_streams; // the open order book event streams
    QTimer m_streamPing;                               // a comment line every 15 s
    Gauge *m_sseConnections = nullptr;
    Counter *m_requestsTotal = nullptr;                  // all requests, for requests per second
    QHash<QByteArray, Counter *> m_requestCounters;      // "GET /api/v1/orders 201" → its series
    QHash<QByteArray, Histogram *> m_durationHistograms; // route pattern → its series
    QByteArray m_openApi;                                // the document, read once from resources
    QByteArray m_docs;

    // Requests per second for /admin/system/stats: a sliding count over the last few seconds.
    std::uint64_t m_rateWindowStartCount = 0;
    qint64 m_rateWindowStartMs = 0;
    double m_requestsPerSecond = 0;
};

template<typename T, typename Ok>
Reply<T> HttpApi::answer(const ExchangePtr &exchange, Ok ok)
{
    return [this, exchange, ok](ServiceResult<T> result) {
        if (!result)
            fail(exchange, result.error());
        else
            ok(result.value());
    };
}

} // namespace bourse::server
