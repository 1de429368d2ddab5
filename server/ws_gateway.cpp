#include "ws_gateway.h"

#include "json_reader.h"
#include "json_writer.h"
#include "server_log.h"

#include <QUrlQuery>
#include <QWebSocket>

#include <algorithm>

namespace bourse::server {

namespace {

// The token of `?token=`, percent-decoded; none when absent.
std::optional<QByteArray> queryToken(QByteArrayView query)
{
    while (!query.isEmpty()) {
        const qsizetype amp = query.indexOf('&');
        const QByteArrayView pair = amp < 0 ? query : query.first(amp);
        query = amp < 0 ? QByteArrayView() : query.sliced(amp + 1);
        const qsizetype equals = pair.indexOf('=');
        const QByteArrayView name = equals < 0 ? pair : pair.first(equals);
        if (name != "token")
            continue;
        const QByteArrayView value = equals < 0 ? QByteArrayView() : pair.sliced(equals + 1);
        return QByteArray::fromPercentEncoding(value.toByteArray());
    }
    return std::nullopt;
}

QByteArray textOf(std::string_view text)
{
    return QByteArray(text.data(), qsizetype(text.size()));
}

} // namespace

// ---- WsSession

class WsSession final : public QObject, public StreamSink
{
public:
    WsSession(WsGateway &gateway, QWebSocket *socket, QTcpSocket *raw, Caller caller, QByteArray token)
        : QObject(&gateway)
        , m_gateway(gateway)
        , m_socket(socket)
        , m_raw(raw)
        , m_caller(std::move(caller))
        , m_token(std::move(token))
        , m_outbox(gateway.m_feeds.hub(), *this)
    {
        m_socket->setParent(this);
        const WsGateway::Limits &limits = gateway.m_limits;
        m_socket->setMaxAllowedIncomingFrameSize(quint64(limits.maxMessageBytes));
        m_socket->setMaxAllowedIncomingMessageSize(quint64(limits.maxMessageBytes));
        m_tokens = limits.messageBurst;
        m_lastHeard = gateway.m_clock.elapsed();
        m_lastRefill = m_lastHeard;
        connect(m_socket, &QWebSocket::textMessageReceived, this, &WsSession::onText);
        connect(m_socket, &QWebSocket::binaryMessageReceived, this, &WsSession::onBinary);
        connect(m_socket, &QWebSocket::pong, this, [this] { m_lastHeard = m_gateway.m_clock.elapsed(); });
        connect(m_socket, &QWebSocket::disconnected, this, &WsSession::onDisconnected);
        // What QWebSocket writes by itself (pongs to the client's pings) never passes the outbox: after
        // each read, the backlog is checked here too, so that a flood of pings from a client that does not
        // read cannot grow the server's memory.
        connect(raw, &QIODevice::readyRead, this, [this] {
            if (!m_closing && m_gateway.m_feeds.hub().overLimit(m_outbox)) {
                m_gateway.m_feeds.hub().countSlowConsumer();
                closeWith(QWebSocketProtocol::CloseCodePolicyViolated, QStringLiteral("slow consumer"), false);
            }
        });
        // QWebSocket closes the socket right after its close frame, also when the client is still sending
        // (a message over the limit): linger, so that the client gets the frame rather than a reset.
        connect(m_socket, &QWebSocket::aboutToClose, this,
                [this] { lingeringClose(m_raw.data(), std::chrono::milliseconds(2000), &m_gateway); });
        m_linger.setSingleShot(true);
        connect(&m_linger, &QTimer::timeout, this, [this] {
            if (QTcpSocket *connection = m_raw.data())
                connection->abort();
        });
    }

    ~WsSession() override { unsubscribeAll(); }

    // StreamSink
    qint64 unsentBytes() const override { return server::unsentBytes(m_raw.data()); }
    void deliver(const QByteArray &bytes) override
    {
        QTcpSocket *raw = m_raw.data();
        if (!raw || raw->state() != QAbstractSocket::ConnectedState)
            return;
        sendNow(raw, bytes);
    }
    void overflow() override { closeWith(QWebSocketProtocol::CloseCodePolicyViolated, QStringLiteral("slow consumer"), false); }

    // The caller's token again, as at every request of the REST API: once it has expired, its login was
    // revoked or the account disabled, the private subscriptions end with an UNAUTHORIZED error and the
    // connection goes on anonymous. A changed role applies too.
    void recheck()
    {
        if (m_closing || !m_caller.authenticated())
            return;
        const ServiceResult<Caller> again = m_gateway.m_service.authenticate(m_token, QByteArray());
        if (again && again->user == m_caller.user) {
            m_caller.role = again->role;
            return;
        }
        const QString reason = again ? QStringLiteral("the token names another account") : again.error().message;
        dropPrivateTopics();
        m_caller = Caller{};
        m_token.clear();
        sendError({}, ErrorCode::Unauthorized,
                  QStringLiteral("authentication ended (%1): the private channels were unsubscribed; send auth with "
                                 "a new token")
                      .arg(reason));
    }

    void ping()
    {
        if (!m_closing)
            m_socket->ping();
    }
    qint64 lastHeard() const { return m_lastHeard; }

    // Sends what is pending (when `graceful`) and a close frame; the socket is aborted if the client has not
    // closed its side within the gateway's linger.
    void closeWith(QWebSocketProtocol::CloseCode code, const QString &reason, bool graceful)
    {
        if (m_closing)
            return;
        m_closing = true;
        unsubscribeAll();
        if (graceful)
            m_outbox.flushNow();
        m_outbox.close();
        m_linger.start(m_gateway.m_limits.closeLinger);
        m_socket->close(code, reason);
    }
    void drop()
    {
        m_closing = true;
        unsubscribeAll();
        m_outbox.close();
        if (QTcpSocket *raw = m_raw.data())
            raw->abort();
        else
            m_socket->abort();
    }

private:
    struct Request
    {
        QByteArray idJson; // the id as the reply echoes it; empty when none
    };

    void onDisconnected()
    {
        if (m_ended)
            return;
        m_ended = true;
        m_closing = true;
        unsubscribeAll();
        m_outbox.close();
        m_gateway.sessionEnded(this);
    }

    void dropPrivateTopics()
    {
        std::vector<StreamTopic> kept;
        for (const StreamTopic &topic : m_topics) {
            if (isPrivateChannel(topic.channel))
                m_gateway.m_feeds.unsubscribe(&m_outbox, topic);
            else
                kept.push_back(topic);
        }
        m_topics.swap(kept);
    }

    void unsubscribeAll()
    {
        for (const StreamTopic &topic : m_topics)
            m_gateway.m_feeds.unsubscribe(&m_outbox, topic);
        m_topics.clear();
    }

    void send(const QByteArray &json) { m_outbox.push(webSocketTextFrame(json)); }

    void sendError(const Request &request, ErrorCode code, const QString &message, std::string_view field = {})
    {
        JsonWriter json;
        json.beginObject();
        json.field("type", "error");
        const QLatin1StringView codeName = errorCodeName(code);
        json.field("code", std::string_view(codeName.data(), std::size_t(codeName.size())));
        json.field("message", message);
        if (!field.empty())
            json.field("field", field);
        if (!request.idJson.isEmpty())
            json.key("id").raw(request.idJson);
        json.endObject();
        send(json.take());
    }

    bool takeToken()
    {
        const WsGateway::Limits &limits = m_gateway.m_limits;
        const qint64 now = m_gateway.m_clock.elapsed();
        m_tokens = std::min(limits.messageBurst, m_tokens + double(now - m_lastRefill) * limits.messagesPerSecond / 1000.0);
        m_lastRefill = now;
        if (m_tokens >= 1) {
            m_tokens -= 1;
            return true;
        }
        return false;
    }

    void onBinary(const QByteArray &)
    {
        m_lastHeard = m_gateway.m_clock.elapsed();
        m_gateway.m_received->add();
        if (m_closing || !admit())
            return;
        sendError({}, ErrorCode::BadRequest, QStringLiteral("binary messages are not accepted: send JSON as text"));
    }

    // The message rate limit: false when this message is over it (then at most one error a second says so).
    bool admit()
    {
        if (takeToken())
            return true;
        if (m_lastRateError < 0 || m_lastHeard - m_lastRateError >= 1000) {
            m_lastRateError = m_lastHeard;
            sendError({}, ErrorCode::RateLimited,
                      QStringLiteral("too many messages: at most %1 a second (bursts of %2); messages over it are "
                                     "dropped")
                          .arg(m_gateway.m_limits.messagesPerSecond)
                          .arg(m_gateway.m_limits.messageBurst));
        }
        return false;
    }

    void onText(const QString &text)
    {
        m_lastHeard = m_gateway.m_clock.elapsed();
        m_gateway.m_received->add();
        if (m_closing || !admit()) // one error a second at most: a flood must not become a flood of errors
            return;
        const QByteArray utf8 = text.toUtf8();
        JsonLimits jsonLimits;
        const Expected<JsonDocument, JsonError> document = readJson(std::string_view(utf8.constData(), std::size_t(utf8.size())), jsonLimits);
        if (!document) {
            sendError({}, ErrorCode::BadRequest,
                      QStringLiteral("the message is not valid JSON: %1").arg(QString::fromStdString(document.error().message)));
            return;
        }
        const JsonValue root = document->root();
        if (!root.isObject()) {
            sendError({}, ErrorCode::BadRequest, QStringLiteral("a message must be a JSON object"));
            return;
        }
        Request request;
        if (const std::optional<JsonValue> id = root.member("id")) {
            if (id->isString()) {
                JsonWriter json;
                json.string(id->string());
                request.idJson = json.take();
            } else if (id->isNumber()) {
                request.idJson = textOf(id->numberText());
            } else if (!id->isNull()) {
                sendError({}, ErrorCode::BadRequest, QStringLiteral("id must be a string or a number"), "id");
                return;
            }
        }
        const std::optional<JsonValue> op = root.member("op");
        if (!op || !op->isString()) {
            sendError(request, ErrorCode::BadRequest, QStringLiteral("op is required: subscribe, unsubscribe, auth or ping"),
                      "op");
            return;
        }
        const std::string_view name = op->string();
        if (name == "ping") {
            reply(request, "pong", {});
        } else if (name == "auth") {
            authenticate(request, root);
        } else if (name == "subscribe" || name == "unsubscribe") {
            subscription(request, root, name == "subscribe");
        } else {
            sendError(request, ErrorCode::BadRequest,
                      QStringLiteral("unknown op %1: use subscribe, unsubscribe, auth or ping")
                          .arg(QString::fromUtf8(textOf(name.substr(0, 64)))),
                      "op");
        }
    }

    // {"type":type, ...members, "id"}: `members` writes the rest.
    void reply(const Request &request, std::string_view type, const std::function<void(JsonWriter &)> &members)
    {
        JsonWriter json;
        json.beginObject();
        json.field("type", type);
        if (members)
            members(json);
        if (!request.idJson.isEmpty())
            json.key("id").raw(request.idJson);
        json.endObject();
        send(json.take());
    }

    void authenticate(const Request &request, const JsonValue &root)
    {
        const std::optional<JsonValue> token = root.member("token");
        if (!token || !token->isString() || token->string().empty()) {
            sendError(request, ErrorCode::BadRequest, QStringLiteral("token is required"), "token");
            return;
        }
        const std::string_view text = token->string();
        ServiceResult<Caller> caller = m_gateway.m_service.authenticate(QByteArrayView(text.data(), qsizetype(text.size())),
                                                                        QByteArray());
        if (!caller) {
            sendError(request, ErrorCode::Unauthorized, caller.error().message, "token");
            return;
        }
        if (m_caller.authenticated() && m_caller.user != caller->user)
            dropPrivateTopics(); // another account from now on: the previous one's private streams end
        m_caller = std::move(caller.value());
        m_token = QByteArray(text.data(), qsizetype(text.size()));
        reply(request, "authenticated", [this](JsonWriter &json) {
            json.field("user_id", m_caller.user);
            json.field("username", m_caller.username);
            const QLatin1StringView role = roleName(m_caller.role);
            json.field("role", std::string_view(role.data(), std::size_t(role.size())));
        });
    }

    void subscription(const Request &request, const JsonValue &root, bool subscribe)
    {
        const std::optional<JsonValue> channelValue = root.member("channel");
        if (!channelValue || !channelValue->isString()) {
            sendError(request, ErrorCode::BadRequest,
                      QStringLiteral("channel is required: orderbook, trades, ticker, candles, orders, fills or account"),
                      "channel");
            return;
        }
        const std::optional<StreamChannel> channel = parseStreamChannel(channelValue->string());
        if (!channel) {
            sendError(request, ErrorCode::BadRequest,
                      QStringLiteral("unknown channel %1: use orderbook, trades, ticker, candles, orders, fills or "
                                     "account")
                          .arg(QString::fromUtf8(textOf(channelValue->string().substr(0, 64)))),
                      "channel");
            return;
        }
        StreamTopic topic;
        topic.channel = *channel;
        const bool isPrivate = isPrivateChannel(*channel);
        const std::optional<JsonValue> symbol = root.member("symbol");
        std::optional<InstrumentView> instrument;
        if (symbol && !symbol->isNull()) {
            if (!symbol->isString()) {
                sendError(request, ErrorCode::BadRequest, QStringLiteral("symbol must be a string"), "symbol");
                return;
            }
            instrument = m_gateway.m_service.market().instrument(symbol->string());
            if (!instrument) {
                sendError(request, ErrorCode::NotFound,
                          QStringLiteral("unknown symbol %1").arg(QString::fromUtf8(textOf(symbol->string().substr(0, 64)))),
                          "symbol");
                return;
            }
            topic.instrument = instrument->id;
        } else if (!isPrivate) {
            sendError(request, ErrorCode::BadRequest,
                      QStringLiteral("symbol is required for the %1 channel")
                          .arg(QLatin1StringView(streamChannelName(*channel))),
                      "symbol");
            return;
        }
        if (*channel == StreamChannel::Account)
            topic.instrument = kEveryInstrument; // balances are per asset, not per symbol
        if (*channel == StreamChannel::Candles) {
            const std::optional<JsonValue> interval = root.member("interval");
            std::optional<std::int64_t> seconds = 60;
            if (interval && !interval->isNull())
                seconds = interval->isString() ? candleIntervalSeconds(interval->string()) : std::nullopt;
            if (!seconds) {
                sendError(request, ErrorCode::ValidationError, QStringLiteral("interval must be one of 1m, 5m, 15m, 1h, 1d"),
                          "interval");
                return;
            }
            topic.interval = *seconds;
        }
        std::optional<std::uint64_t> sinceSeq;
        if (const std::optional<JsonValue> since = root.member("since_seq"); since && !since->isNull()) {
            std::optional<std::int64_t> seq;
            if (since->isNumber()) {
                if (const auto parsed = since->integer(0, std::numeric_limits<std::int64_t>::max()))
                    seq = *parsed;
            }
            if (*channel != StreamChannel::OrderBook || !seq) {
                sendError(request, ErrorCode::ValidationError,
                          QStringLiteral("since_seq must be a non-negative integer, on the orderbook channel only"),
                          "since_seq");
                return;
            }
            sinceSeq = std::uint64_t(*seq);
        }
        if (isPrivate) {
            if (!m_caller.authenticated()) {
                sendError(request, ErrorCode::Unauthorized,
                          QStringLiteral("the %1 channel needs authentication: send {\"op\":\"auth\",\"token\":...} "
                                         "or connect with a token")
                              .arg(QLatin1StringView(streamChannelName(*channel))),
                          "channel");
                return;
            }
            topic.user = m_caller.user;
        }
        const auto held = std::find(m_topics.begin(), m_topics.end(), topic);
        const QString what = QLatin1StringView(streamChannelName(*channel))
                             + (instrument ? u' ' + QString::fromUtf8(textOf(instrument->symbol.view())) : QString());
        const auto members = [&](JsonWriter &json) {
            json.field("channel", streamChannelName(*channel));
            if (instrument)
                json.field("symbol", instrument->symbol.view());
            if (*channel == StreamChannel::Candles)
                json.field("interval", candleIntervalName(topic.interval));
        };
        if (!subscribe) {
            if (held == m_topics.end()) {
                sendError(request, ErrorCode::NotFound, QStringLiteral("not subscribed to %1").arg(what), "channel");
                return;
            }
            m_topics.erase(held);
            m_gateway.m_feeds.unsubscribe(&m_outbox, topic);
            reply(request, "unsubscribed", members);
            return;
        }
        if (held != m_topics.end()) {
            sendError(request, ErrorCode::Conflict, QStringLiteral("already subscribed to %1").arg(what), "channel");
            return;
        }
        if (int(m_topics.size()) >= m_gateway.m_limits.maxSubscriptions) {
            sendError(request, ErrorCode::RateLimited,
                      QStringLiteral("at most %1 subscriptions per connection").arg(m_gateway.m_limits.maxSubscriptions),
                      "channel");
            return;
        }
        m_topics.push_back(topic);
        reply(request, "subscribed", members);
        m_gateway.m_feeds.subscribe(&m_outbox, StreamFeeds::Encoding::WebSocket, topic, sinceSeq);
    }

    WsGateway &m_gateway;
    QWebSocket *m_socket; // child
    QPointer<QTcpSocket> m_raw; // the connection's socket (the edge's), for frames written ready-made
    Caller m_caller;
    QByteArray m_token; // the caller's, checked again at every heartbeat
    Outbox m_outbox;
    std::vector<StreamTopic> m_topics;
    double m_tokens = 0;
    qint64 m_lastRefill = 0;
    qint64 m_lastRateError = -1;
    qint64 m_lastHeard = 0;
    QTimer m_linger;
    bool m_closing = false;
    bool m_ended = false;
};

// ---- WsGateway

WsGateway::WsGateway(VenueService &service, StreamFeeds &feeds, MetricsRegistry &metrics, bool tls, QObject *parent)
    : QObject(parent)
    , m_service(service)
    , m_feeds(feeds)
    , m_server(QStringLiteral("Bourse"), tls ? QWebSocketServer::SecureMode : QWebSocketServer::NonSecureMode)
{
    m_clock.start();
    m_server.setMaxPendingConnections(1 << 20);
    connect(&m_server, &QWebSocketServer::newConnection, this, &WsGateway::onNewConnection);
    m_connections = &metrics.gauge("ws_connections", "Open WebSocket connections");
    m_received = &metrics.counter("ws_messages_received_total", "WebSocket messages received from clients");
    m_refused = &metrics.counter("ws_upgrades_refused_total", "WebSocket upgrade requests refused before the handshake");
    connect(&m_heartbeat, &QTimer::timeout, this, &WsGateway::heartbeat);
    setLimits(m_limits);
}

WsGateway::~WsGateway()
{
    m_heartbeat.stop();
    // Sessions are children; their destructors unsubscribe from the feeds, which outlive this.
}

void WsGateway::setLimits(const Limits &limits)
{
    m_limits = limits;
    m_heartbeat.start(limits.pingInterval);
}

std::optional<UpgradeRefusal> WsGateway::check(const HttpRequest &request, const QHostAddress &, const QByteArray &requestId)
{
    const HttpRequestHead &head = request.head;
    const auto refuse = [this](ErrorCode code, QByteArray message,
                               std::vector<std::pair<QByteArray, QByteArray>> headers = {}) {
        m_refused->add();
        return UpgradeRefusal{code, std::move(message), std::move(headers)};
    };
    if (head.path() != "/ws")
        return refuse(ErrorCode::NotFound, "WebSocket connections are served at /ws only");
    if (head.method != "GET")
        return refuse(ErrorCode::MethodNotAllowed, "a WebSocket upgrade must be a GET", {{"Allow", "GET"}});
    if (m_shuttingDown)
        return refuse(ErrorCode::ServiceUnavailable, "the server is shutting down");
    if (head.minorVersion < 1)
        return refuse(ErrorCode::BadRequest, "a WebSocket upgrade needs HTTP/1.1");
    if (!request.body.isEmpty())
        return refuse(ErrorCode::BadRequest, "a WebSocket upgrade has no body");
    const std::optional<QByteArrayView> connection = head.header("connection");
    if (!connection || !headerListHas(*connection, "upgrade"))
        return refuse(ErrorCode::BadRequest, "a WebSocket upgrade needs Connection: Upgrade");
    if (head.headerCount("sec-websocket-version") != 1 || head.header("sec-websocket-version")->trimmed() != "13")
        return refuse(ErrorCode::BadRequest, "Sec-WebSocket-Version must be 13", {{"Sec-WebSocket-Version", "13"}});
    const std::optional<QByteArrayView> key = head.header("sec-websocket-key");
    if (!key || head.headerCount("sec-websocket-key") != 1
        || QByteArray::fromBase64Encoding(key->trimmed().toByteArray(), QByteArray::AbortOnBase64DecodingErrors)
                   .decoded.size()
               != 16)
        return refuse(ErrorCode::BadRequest, "Sec-WebSocket-Key must be 16 bytes in base64");
    if (!head.header("host"))
        return refuse(ErrorCode::BadRequest, "a WebSocket upgrade needs a Host header");
    if (const std::optional<QByteArrayView> origin = head.header("origin")) {
        // A browser's page: from an origin the settings allow, or the venue's own (its /docs page).
        const QByteArray host = head.header("host")->trimmed().toByteArray();
        const bool own = origin->compare(QByteArray("http://" + host), Qt::CaseInsensitive) == 0
                         || origin->compare(QByteArray("https://" + host), Qt::CaseInsensitive) == 0;
        if (!own && !m_service.currentSettings().allowsOrigin(*origin))
            return refuse(ErrorCode::Forbidden, "the Origin of this page is not allowed to connect");
    }
    std::optional<QByteArray> token;
    if (const std::optional<QByteArrayView> authorization = head.header("authorization")) {
        const QByteArrayView value = authorization->trimmed();
        if (value.size() < 8 || value.first(7).compare("Bearer ", Qt::CaseInsensitive) != 0)
            return refuse(ErrorCode::Unauthorized, "the Authorization header must be a Bearer token");
        token = value.sliced(7).trimmed().toByteArray();
    } else {
        token = queryToken(head.query());
    }
    m_accepted = Caller{};
    m_acceptedToken.clear();
    if (token) {
        ServiceResult<Caller> caller = m_service.authenticate(*token, requestId);
        if (!caller)
            return refuse(ErrorCode::Unauthorized, caller.error().message.toUtf8());
        m_accepted = std::move(caller.value());
        m_acceptedToken = *token;
    }
    m_accepted.requestId = requestId;
    return std::nullopt;
}

void WsGateway::adopt(QTcpSocket *socket, const HttpRequest &, const QHostAddress &)
{
    const QString key = peerKey(socket->peerAddress(), socket->peerPort());
    socket->setSocketOption(QAbstractSocket::SendBufferSizeSocketOption, m_feeds.hub().sendBuffer());
    m_pending.insert(key, Pending{socket, std::move(m_accepted), std::move(m_acceptedToken)});
    m_accepted = Caller{};
    m_acceptedToken.clear();
    // A handshake QWebSocketServer refuses, or a client gone before it answered: nothing stays pending.
    connect(socket, &QAbstractSocket::disconnected, this, [this, key, socket] {
        const auto found = m_pending.find(key);
        if (found != m_pending.end() && found->socket == socket)
            m_pending.erase(found);
    });
    m_server.handleConnection(socket);
}

void WsGateway::onNewConnection()
{
    while (QWebSocket *socket = m_server.nextPendingConnection()) {
        const auto found = m_pending.find(peerKey(socket->peerAddress(), socket->peerPort()));
        if (found == m_pending.end() || !found->socket || m_shuttingDown) {
            socket->abort();
            socket->deleteLater();
            continue;
        }
        QTcpSocket *raw = found->socket;
        Caller caller = std::move(found->caller);
        QByteArray token = std::move(found->token);
        m_pending.erase(found);
        QObject::disconnect(raw, &QAbstractSocket::disconnected, this, nullptr);
        auto *session = new WsSession(*this, socket, raw, std::move(caller), std::move(token));
        m_sessions.push_back(session);
        m_connections->set(connectionCount());
    }
}

void WsGateway::sessionEnded(WsSession *session)
{
    std::erase(m_sessions, session);
    m_connections->set(connectionCount());
    session->deleteLater();
}

void WsGateway::heartbeat()
{
    const qint64 now = m_clock.elapsed();
    const std::vector<WsSession *> sessions = m_sessions;
    for (WsSession *session : sessions) {
        if (now - session->lastHeard() > m_limits.idleTimeout.count()) {
            session->drop(); // silent too long: gone without a close, or not answering pings
        } else {
            session->recheck();
            session->ping();
        }
    }
}

void WsGateway::shutdown()
{
    m_shuttingDown = true;
    const std::vector<WsSession *> sessions = m_sessions;
    for (WsSession *session : sessions)
        session->closeWith(QWebSocketProtocol::CloseCodeGoingAway, QStringLiteral("server shutting down"), true);
}

} // namespace bourse::server
