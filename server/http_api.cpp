#include "http_api.h"

#include "gzip.h"
#include "server_log.h"

#include <QFile>
#include <QHttpServerRequest>
#include <QLoggingCategory>

namespace bourse::server {

namespace {

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

QByteArray readResource(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return QByteArray();
    return file.readAll();
}

std::vector<QByteArray> splitPath(QByteArrayView path)
{
    std::vector<QByteArray> segments;
    qsizetype start = 1; // after the leading '/'
    while (start <= path.size()) {
        qsizetype end = path.indexOf('/', start);
        if (end < 0)
            end = path.size();
        segments.push_back(path.sliced(start, end - start).toByteArray());
        start = end + 1;
    }
    return segments;
}

bool isPlaceholder(const QByteArray &segment)
{
    return segment.startsWith('{') && segment.endsWith('}');
}

// application/json, with or without parameters (a charset other than UTF-8 is refused).
bool isJsonContentType(QByteArrayView value)
{
    const QByteArray lower = value.toByteArray().toLower();
    const qsizetype semicolon = lower.indexOf(';');
    const QByteArray type = (semicolon < 0 ? lower : lower.left(semicolon)).trimmed();
    if (type != "application/json")
        return false;
    if (semicolon >= 0) {
        const QByteArray parameters = lower.mid(semicolon + 1).trimmed();
        if (parameters.startsWith("charset=")) {
            QByteArray charset = parameters.mid(8).trimmed();
            if (charset.startsWith('"') && charset.endsWith('"') && charset.size() >= 2)
                charset = charset.mid(1, charset.size() - 2);
            return charset == "utf-8" || charset == "utf8";
        }
    }
    return true;
}

} // namespace

std::optional<QByteArrayView> HttpApi::Exchange::queryValue(QByteArrayView name) const
{
    for (const auto &[key, value] : query) {
        if (key == name)
            return QByteArrayView(value);
    }
    return std::nullopt;
}

HttpApi::HttpApi(VenueService &service, StreamFeeds &feeds, MetricsRegistry &metrics, QString version,
                 QObject *parent)
    : QAbstractHttpServer(parent)
    , m_service(service)
    , m_metrics(metrics)
    , m_version(std::move(version))
    , m_feeds(feeds)
{
    m_clock.start();
    m_openApi = readResource(QStringLiteral(":/bourse/resources/openapi.json"));
    m_docs = readResource(QStringLiteral(":/bourse/resources/docs.html"));
    m_requestsTotal = &m_metrics.counter("bourse_http_requests_all_total", "Every HTTP request answered by a route");
    m_sseConnections = &m_metrics.gauge("sse_connections", "Open server-sent event streams");
    m_streamPing.setInterval(std::chrono::seconds(15));
    connect(&m_streamPing, &QTimer::timeout, this, &HttpApi::pingStreams);
    m_streamPing.start();

    // Literal routes before the ones with placeholders in the same place: the most specific match wins.
    addRoute("GET", "/health", &HttpApi::getHealth, Access::Public, Body::None, false);
    addRoute("GET", "/metrics", &HttpApi::getMetrics, Access::Public, Body::None, false);
    addRoute("GET", "/openapi.json", &HttpApi::getOpenApi, Access::Public, Body::None, false);
    addRoute("GET", "/docs", &HttpApi::getDocs, Access::Public, Body::None, false);
    addRoute("GET", "/api/v1/time", &HttpApi::getTime, Access::Public);
    addRoute("GET", "/ws", &HttpApi::getWebSocketWithoutUpgrade, Access::Public, Body::None, false);
    addRoute("GET", "/api/v1/instruments", &HttpApi::getInstruments, Access::Public);
    addRoute("GET", "/api/v1/orderbook/{symbol}", &HttpApi::getOrderBook, Access::Public);
    addRoute("GET", "/api/v1/orderbook/{symbol}/stream", &HttpApi::getOrderBookStream, Access::Public);
    addRoute("GET", "/api/v1/trades", &HttpApi::getTrades, Access::Public);
    addRoute("GET", "/api/v1/trades/{symbol}", &HttpApi::getTradesOfSymbol, Access::Public);
    addRoute("GET", "/api/v1/candles/{symbol}", &HttpApi::getCandles, Access::Public);
    addRoute("GET", "/api/v1/ticker/{symbol}", &HttpApi::getTicker, Access::Public);

    addRoute("POST", "/auth/register", &HttpApi::postRegister, Access::Public, Body::Json);
    addRoute("POST", "/auth/login", &HttpApi::postLogin, Access::Public, Body::Json);
    addRoute("POST", "/auth/refresh", &HttpApi::postRefresh, Access::Public, Body::Json);
    addRoute("POST", "/auth/logout", &HttpApi::postLogout, Access::Viewer, Body::Json);
    addRoute("GET", "/api/v1/me", &HttpApi::getMe, Access::Viewer);

    addRoute("POST", "/api/v1/orders", &HttpApi::postOrder, Access::Trader, Body::Json);
    addRoute("GET", "/api/v1/orders", &HttpApi::getOrders, Access::Viewer);
    addRoute("DELETE", "/api/v1/orders", &HttpApi::deleteOrders, Access::Trader);
    addRoute("POST", "/api/v1/orders/cancel-after", &HttpApi::postCancelAfter, Access::Trader, Body::Json);
    addRoute("GET", "/api/v1/orders/export.csv", &HttpApi::getOrdersCsv, Access::Viewer);
    addRoute("GET", "/api/v1/orders/{id}", &HttpApi::getOrder, Access::Viewer);
    addRoute("PATCH", "/api/v1/orders/{id}", &HttpApi::patchOrder, Access::Trader, Body::Json);
    addRoute("DELETE", "/api/v1/orders/{id}", &HttpApi::deleteOrder, Access::Trader);
    addRoute("GET", "/api/v1/fills", &HttpApi::getFills, Access::Viewer);
    addRoute("GET", "/api/v1/account", &HttpApi::getAccount, Access::Viewer);

    addRoute("GET", "/admin/users", &HttpApi::getUsers, Access::Admin);
    addRoute("POST", "/admin/users", &HttpApi::postUser, Access::Admin, Body::Json);
    addRoute("PATCH", "/admin/users/{id}", &HttpApi::patchUser, Access::Admin, Body::Json);
    addRoute("POST", "/admin/users/{id}/deposits", &HttpApi::postDeposit, Access::Admin, Body::Json);
    addRoute("POST", "/admin/users/{id}/withdrawals", &HttpApi::postWithdrawal, Access::Admin, Body::Json);
    addRoute("POST", "/admin/instruments", &HttpApi::postInstrument, Access::Admin, Body::Json);
    addRoute("PATCH", "/admin/instruments/{symbol}", &HttpApi::patchInstrument, Access::Admin, Body::Json);
    addRoute("GET", "/admin/settings", &HttpApi::getSettings, Access::Admin);
    addRoute("PATCH", "/admin/settings", &HttpApi::patchSettings, Access::Admin, Body::Json);
    addRoute("POST", "/admin/kill-switch", &HttpApi::postKillSwitch, Access::Admin, Body::Json);
    addRoute("GET", "/admin/system/stats", &HttpApi::getStats, Access::Admin);
    addRoute("GET", "/admin/audit", &HttpApi::getAudit, Access::Admin);
}

HttpApi::~HttpApi() = default;

void HttpApi::addRoute(QByteArray method, QByteArray pattern, Handler handler, Access access, Body body,
                       bool rateLimited)
{
    Route route;
    route.method = std::move(method);
    route.segments = splitPath(pattern);
    route.pattern = std::move(pattern);
    route.handler = handler;
    route.access = access;
    route.body = body;
    route.rateLimited = rateLimited;
    route.literals = int(std::count_if(route.segments.cbegin(), route.segments.cend(),
                                       [](const QByteArray &segment) { return !isPlaceholder(segment); }));
    m_routes.push_back(std::move(route));
}

QStringList HttpApi::routeList() const
{
    QStringList list;
    for (const Route &route : m_routes)
        list.append(QString::fromLatin1(route.method + ' ' + route.pattern));
    return list;
}

namespace {

QLoggingCategory::CategoryFilter g_previousFilter = nullptr;

void muteHttpServerWarnings(QLoggingCategory *category)
{
    if (qstrcmp(category->categoryName(), "qt.httpserver") == 0)
        category->setEnabled(QtWarningMsg, false);
    else if (g_previousFilter)
        g_previousFilter(category);
}

} // namespace

void HttpApi::serve(HttpEdge *edge)
{
    m_edge = edge;
    // QHttpServer 6.4's bind() warns that a QTcpServer "is not listening" when, like the edge, it hands on the
    // connections of a listener of its own. True but harmless here, so muted for that one call: the filter
    // is put back at once (installing a filter re-applies it to every category).
    g_previousFilter = QLoggingCategory::installFilter(muteHttpServerWarnings);
    bind(edge);
    QLoggingCategory::installFilter(g_previousFilter);
}

void HttpApi::missingHandler(const QHttpServerRequest &, QTcpSocket *)
{
    // Not reached: handleRequest() answers every request.
}

bool HttpApi::handleRequest(const QHttpServerRequest &, QTcpSocket *socket)
{
    auto *requestSocket = qobject_cast<RequestSocket *>(socket);
    if (!requestSocket)
        return false;
    auto exchange = std::make_shared<Exchange>();
    exchange->timer.start();
    exchange->socket = requestSocket;
    exchange->head = requestSocket->request().head;
    exchange->body = requestSocket->request().body;
    exchange->requestId = requestSocket->requestId();
    if (const auto encoding = exchange->head.header("Accept-Encoding"))
        exchange->gzip = acceptsGzip(*encoding);
    if (const auto origin = exchange->head.header("Origin"); origin && m_service.currentSettings().allowsOrigin(*origin))
        exchange->corsOrigin = origin->toByteArray();
    m_requestsTotal->add();
    dispatch(exchange);
    return true;
}

void HttpApi::dispatch(const ExchangePtr &exchange)
{
    const QByteArrayView path = exchange->head.path();
    const std::vector<QByteArray> segments = splitPath(path);

    // The most specific patterns that match the path, and among them the one of this method (a HEAD is
    // served by the GET route).
    const Route *match = nullptr;
    const Route *get = nullptr;
    const Route *any = nullptr;
    int best = -1;
    QByteArrayList allowed;
    for (const Route &route : m_routes) {
        if (route.segments.size() != segments.size())
            continue;
        bool matches = true;
        for (std::size_t i = 0; i < segments.size() && matches; ++i)
            matches = isPlaceholder(route.segments[i]) ? !segments[i].isEmpty() : route.segments[i] == segments[i];
        if (!matches || route.literals < best)
            continue;
        if (route.literals > best) {
            best = route.literals;
            match = get = nullptr;
            any = &route;
            allowed.clear();
        }
        allowed.append(route.method);
        if (route.method == exchange->head.method)
            match = &route;
        if (route.method == "GET")
            get = &route;
    }
    if (!any) {
        exchange->routePattern = "unmatched";
        fail(exchange, ErrorCode::NotFound, QStringLiteral("no such route"));
        return;
    }
    if (get)
        allowed.append("HEAD");
    allowed.append("OPTIONS");
    const QByteArray allow = allowed.join(", ");
    if (exchange->head.method == "OPTIONS") {
        exchange->routePattern = any->pattern;
        Headers headers = corsPreflightHeaders(exchange);
        headers.emplace_back("Allow", allow);
        send(exchange, 204, QByteArray(), QByteArray(), headers);
        return;
    }
    if (!match && exchange->head.method == "HEAD")
        match = get;
    if (!match) {
        exchange->routePattern = any->pattern;
        fail(exchange,
             ServiceError::of(ErrorCode::MethodNotAllowed,
                              QStringLiteral("%1 is not allowed here; allowed: %2")
                                  .arg(QString::fromLatin1(exchange->head.method), QString::fromLatin1(allow))),
             {{"Allow", allow}});
        return;
    }
    exchange->routePattern = match->pattern;
    for (std::size_t i = 0; i < segments.size(); ++i) {
        if (isPlaceholder(match->segments[i]))
            exchange->params.push_back(QByteArray::fromPercentEncoding(segments[i]));
    }
    // The query string: name=value pairs, percent-decoded; a name given twice is ambiguous and refused.
    const QByteArrayView query = exchange->head.query();
    if (!query.isEmpty()) {
        for (const QByteArray &pair : query.toByteArray().split('&')) {
            if (pair.isEmpty())
                continue;
            const qsizetype equals = pair.indexOf('=');
            QByteArray name = QByteArray::fromPercentEncoding(equals < 0 ? pair : pair.left(equals));
            QByteArray value = equals < 0 ? QByteArray()
                                          : QByteArray::fromPercentEncoding(pair.mid(equals + 1).replace('+', ' '));
            if (exchange->queryValue(name)) {
                fail(exchange, ErrorCode::BadRequest,
                     QStringLiteral("query parameter %1 is given more than once").arg(QString::fromUtf8(name)));
                return;
            }
            exchange->query.emplace_back(std::move(name), std::move(value));
        }
    }

    if (m_shuttingDown) {
        fail(exchange, ErrorCode::ServiceUnavailable, QStringLiteral("the server is shutting down"));
        return;
    }

    // The caller: a Bearer token is checked wherever it is sent; routes that need one refuse without it.
    if (const auto authorization = exchange->head.header("Authorization")) {
        const QByteArrayView value = *authorization;
        // The scheme is case-insensitive (RFC 9110 §11.1).
        if (value.size() <= 7 || value.first(7).compare("Bearer ", Qt::CaseInsensitive) != 0) {
            fail(exchange, ErrorCode::Unauthorized,
                 QStringLiteral("the Authorization header must be \"Bearer <token>\""));
            return;
        }
        ServiceResult<Caller> caller = m_service.authenticate(value.sliced(7).trimmed(), exchange->requestId);
        if (!caller) {
            fail(exchange, caller.error());
            return;
        }
        exchange->caller = std::move(caller.value());
    } else {
        exchange->caller.requestId = exchange->requestId;
    }
    if (exchange->socket)
        exchange->caller.peer = exchange->socket->peerAddress().toString();
    if (match->access != Access::Public && !exchange->caller.authenticated()) {
        fail(exchange, ErrorCode::Unauthorized,
             QStringLiteral("authentication required: send Authorization: Bearer <access token>"));
        return;
    }

    if (match->rateLimited) {
        const VenueSettings &settings = m_service.currentSettings();
        QByteArray key;
        BucketLimit limit;
        if (exchange->caller.authenticated()) {
            key = "user:" + QByteArray::number(exchange->caller.user);
            limit = settings.limitFor(exchange->caller.tier);
        } else {
            key = "ip:" + (exchange->socket ? exchange->socket->peerAddress().toString().toLatin1() : QByteArray());
            limit = settings.anonymous;
        }
        const RateDecision decision = m_rateLimiter.take(key, limit, m_clock.elapsed());
        if (decision.limited)
            exchange->rate = decision;
        if (!decision.allowed) {
            ServiceError error = ServiceError::of(ErrorCode::RateLimited,
                                                  QStringLiteral("rate limit exceeded; retry later"));
            error.retryAfterSeconds = decision.retryAfterSeconds;
            fail(exchange, error);
            return;
        }
    }

    const Role needed = match->access == Access::Admin    ? Role::Admin
                        : match->access == Access::Trader ? Role::Trader
                                                          : Role::Viewer;
    if (match->access != Access::Public && int(exchange->caller.role) < int(needed)) {
        fail(exchange, ErrorCode::Forbidden,
             QStringLiteral("the %1 role may not use this route").arg(roleName(exchange->caller.role)));
        return;
    }
    if (match->body == Body::Json && !checkBody(exchange))
        return;
    (this->*(match->handler))(exchange);
}

bool HttpApi::checkBody(const ExchangePtr &exchange)
{
    const std::optional<QByteArrayView> contentType = exchange->head.header("Content-Type");
    if (!contentType || !isJsonContentType(*contentType)) {
        fail(exchange, ErrorCode::UnsupportedMediaType, QStringLiteral("the body must be application/json"));
        return false;
    }
    if (exchange->body.size() > m_service.currentSettings().maxBodyBytes) {
        fail(exchange, ErrorCode::PayloadTooLarge, QStringLiteral("the body is over the limit"));
        return false;
    }
    Expected<JsonDocument, JsonError> document = readJson(
        std::string_view(exchange->body.constData(), std::size_t(exchange->body.size())));
    if (!document) {
        fail(exchange, ErrorCode::BadRequest,
             QStringLiteral("the body is not valid JSON: %1").arg(QString::fromStdString(document.error().message)));
        return false;
    }
    if (!document->root().isObject()) {
        fail(exchange, ErrorCode::BadRequest,
             QStringLiteral("the body must be a JSON object, not %1")
                 .arg(QLatin1StringView(document->root().typeName())));
        return false;
    }
    exchange->json.emplace(std::move(document.value()));
    return true;
}

HttpApi::Headers HttpApi::corsPreflightHeaders(const ExchangePtr &exchange) const
{
    Headers headers;
    if (exchange->corsOrigin.isEmpty())
        return headers;
    headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE, OPTIONS");
    headers.emplace_back("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-Id, Idempotency-Key");
    headers.emplace_back("Access-Control-Max-Age", "600");
    return headers;
}

QByteArray HttpApi::head(const ExchangePtr &exchange, int status, const QByteArray &contentType, const Headers &extra,
                         std::optional<qsizetype> contentLength, bool gzip) const
{
    QByteArray out;
    out.reserve(384);
    out.append("HTTP/1.1 ").append(QByteArray::number(status)).append(' ').append(reasonPhrase(status)).append("\r\n");
    if (!contentType.isEmpty())
        out.append("Content-Type: ").append(contentType).append("\r\n");
    if (contentLength)
        out.append("Content-Length: ").append(QByteArray::number(*contentLength)).append("\r\n");
    else
        out.append("Transfer-Encoding: chunked\r\n");
    if (gzip)
        out.append("Content-Encoding: gzip\r\n");
    out.append("Vary: Accept-Encoding, Origin\r\n");
    out.append("X-Request-Id: ").append(exchange->requestId).append("\r\n");
    if (exchange->rate) {
        out.append("X-RateLimit-Limit: ").append(QByteArray::number(exchange->rate->limit)).append("\r\n");
        out.append("X-RateLimit-Remaining: ").append(QByteArray::number(exchange->rate->remaining)).append("\r\n");
        out.append("X-RateLimit-Reset: ").append(QByteArray::number(exchange->rate->resetSeconds)).append("\r\n");
    }
    if (!exchange->corsOrigin.isEmpty()) {
        out.append("Access-Control-Allow-Origin: ").append(exchange->corsOrigin).append("\r\n");
        out.append("Access-Control-Expose-Headers: X-Request-Id, X-RateLimit-Limit, X-RateLimit-Remaining, "
                   "X-RateLimit-Reset, Retry-After, Idempotent-Replayed\r\n");
    }
    out.append("Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n");
    for (const auto &[name, value] : extra)
        out.append(name).append(": ").append(value).append("\r\n");
    if (!exchange->head.keepAlive || m_shuttingDown)
        out.append("Connection: close\r\n");
    out.append("\r\n");
    return out;
}

void HttpApi::send(const ExchangePtr &exchange, int status, QByteArray body, QByteArray contentType,
                   const Headers &extra)
{
    if (exchange->answered)
        return;
    exchange->answered = true;
    RequestSocket *socket = exchange->socket;
    if (socket) {
        const bool compress = exchange->gzip && body.size() > kGzipMinimumBytes;
        if (compress)
            body = gzipCompress(body);
        QByteArray response = head(exchange, status, status == 204 ? QByteArray() : contentType, extra,
                                   status == 204 ? std::optional<qsizetype>() : body.size(), compress);
        if (status == 204) // no body and no Content-Length: but not chunked either
            response.replace("Transfer-Encoding: chunked\r\n", "");
        if (exchange->head.method != "HEAD")
            response.append(body);
        socket->write(response);
        socket->endResponse(m_shuttingDown);
    }
    finished(exchange, status);
}

void HttpApi::fail(const ExchangePtr &exchange, const ServiceError &error, Headers extra)
{
    if (error.code == ErrorCode::InternalError)
        qCWarning(lcServer).noquote() << "internal error on" << exchange->routePattern << exchange->requestId
                                      << error.message;
    if (error.code == ErrorCode::RateLimited)
        extra.emplace_back("Retry-After", QByteArray::number(std::max<std::uint32_t>(1, error.retryAfterSeconds)));
    if (error.code == ErrorCode::Unauthorized)
        extra.emplace_back("WWW-Authenticate", "Bearer");
    const QString message = error.code == ErrorCode::InternalError ? QStringLiteral("internal error") : error.message;
    const BalanceShortfall *shortfall = error.shortfall ? &*error.shortfall : nullptr;
    sendJson(exchange, httpStatus(error.code),
             errorBody(error.code, message, exchange->requestId, error.field, shortfall), extra);
}

void HttpApi::beginStream(const ExchangePtr &exchange, int status, QByteArray contentType, const Headers &extra)
{
    if (RequestSocket *socket = exchange->socket) {
        socket->write(head(exchange, status, contentType, extra, std::nullopt, false));
        socket->flushResponse();
    }
}

void HttpApi::streamChunk(const ExchangePtr &exchange, const QByteArray &data)
{
    if (data.isEmpty())
        return;
    if (RequestSocket *socket = exchange->socket) {
        socket->write(QByteArray::number(data.size(), 16) + "\r\n" + data + "\r\n");
        socket->flushResponse();
    }
}

void HttpApi::endStream(const ExchangePtr &exchange)
{
    if (exchange->answered)
        return;
    exchange->answered = true;
    if (RequestSocket *socket = exchange->socket) {
        socket->write("0\r\n\r\n");
        socket->endResponse(m_shuttingDown);
    }
    finished(exchange, 200);
}

void HttpApi::finished(const ExchangePtr &exchange, int status)
{
    const qint64 ns = exchange->timer.nsecsElapsed();
    const QByteArray statusText = QByteArray::number(status);
    // The series are looked up once per (method, route, status) and kept: the registry's lookup takes its
    // mutex and builds label sets, which is too much for every request.
    const QByteArray key = exchange->head.method + ' ' + exchange->routePattern + ' ' + statusText;
    Counter *&requests = m_requestCounters[key];
    if (!requests) {
        requests = &m_metrics.counter("http_requests_total", "HTTP requests by method, route pattern and status",
                                      {{"method", exchange->head.method},
                                       {"route", exchange->routePattern},
                                       {"status", statusText}});
    }
    requests->add();
    Histogram *&durations = m_durationHistograms[exchange->routePattern];
    if (!durations) {
        durations = &m_metrics.histogram("http_request_duration_seconds", "HTTP request duration by route pattern",
                                         {{"route", exchange->routePattern}});
    }
    durations->observeNanoseconds(ns);
    if (lcAccess().isInfoEnabled()) {
        qCInfo(lcAccess).noquote().nospace()
            << "request method=" << exchange->head.method << " route=" << exchange->routePattern << " status=" << status
            << " duration_us=" << (ns / 1000) << " request_id=" << exchange->requestId << " user="
            << (exchange->caller.authenticated() ? QString::number(exchange->caller.user) : QStringLiteral("-"));
    }
    const qint64 nowMs = m_clock.elapsed();
    if (nowMs - m_rateWindowStartMs >= 2000) {
        const std::uint64_t count = m_requestsTotal->value();
        m_requestsPerSecond = double(count - m_rateWindowStartCount) * 1000.0 / double(nowMs - m_rateWindowStartMs);
        m_rateWindowStartCount = count;
        m_rateWindowStartMs = nowMs;
    }
}

} // namespace bourse::server
