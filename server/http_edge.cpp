#include "http_edge.h"

#include "server_log.h"

#include <QRandomGenerator>
#include <QSocketNotifier>
#include <QSslServer>
#include <QSslSocket>

#include <atomic>

#include <cerrno>
#include <sys/socket.h>
#include <unistd.h>

namespace bourse::server {

namespace {

constexpr qint64 kReadBufferBytes = 256 * 1024; // per connection; TCP pushes back on a client beyond it
constexpr qint64 kLingerMilliseconds = 2000;    // reading and dropping after an error answer, see close()
constexpr int kSweepMilliseconds = 250;

bool isRequestIdChar(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '_'
           || c == '-';
}

const char *reasonPhrase(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
    }
}

// An answer the edge gives on its own, always closing the connection.
QByteArray edgeResponse(ErrorCode code, const QByteArray &message, const QByteArray &requestId, int retryAfter = 0,
                        const std::vector<std::pair<QByteArray, QByteArray>> &headers = {})
{
    const int status = httpStatus(code);
    const QByteArray body = errorBody(code, QString::fromUtf8(message), requestId);
    QByteArray out;
    out.reserve(256 + body.size());
    out.append("HTTP/1.1 ").append(QByteArray::number(status)).append(' ').append(reasonPhrase(status));
    out.append("\r\nContent-Type: application/json\r\nContent-Length: ").append(QByteArray::number(body.size()));
    out.append("\r\nX-Request-Id: ").append(requestId);
    if (retryAfter > 0)
        out.append("\r\nRetry-After: ").append(QByteArray::number(retryAfter));
    for (const auto &[name, value] : headers)
        out.append("\r\n").append(name).append(": ").append(value);
    out.append("\r\nConnection: close\r\n\r\n").append(body);
    return out;
}

bool isHopByHop(QByteArrayView name)
{
    static constexpr const char *kNames[] = {"connection", "keep-alive", "transfer-encoding", "content-length",
                                             "upgrade", "expect", "te", "trailer", "proxy-connection"};
    for (const char *hop : kNames) {
        if (name.compare(QByteArrayView(hop), Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

// The request as QHttpServer reads it: HTTP/1.1, only end-to-end headers, the body by Content-Length.
// What the framer checked needs no second opinion, and QHttpServer never sees chunking, upgrades or a
// Connection header it would act on.
QByteArray serialize(const HttpRequest &request)
{
    const HttpRequestHead &head = request.head;
    QByteArray out;
    qsizetype size = head.method.size() + head.target.size() + 64 + request.body.size();
    for (const auto &[name, value] : head.headers)
        size += name.size() + value.size() + 4;
    out.reserve(size);
    out.append(head.method).append(' ').append(head.target).append(" HTTP/1.1\r\n");
    for (const auto &[name, value] : head.headers) {
        if (isHopByHop(name))
            continue;
        out.append(name).append(": ").append(value).append("\r\n");
    }
    out.append("Content-Length: ").append(QByteArray::number(request.body.size())).append("\r\n\r\n");
    out.append(request.body);
    return out;
}

// An Upgrade header that names the websocket protocol.
bool wantsWebSocket(const HttpRequestHead &head)
{
    const std::optional<QByteArrayView> upgrade = head.header("upgrade");
    return upgrade && headerListHas(*upgrade, "websocket");
}

// The opening handshake as QWebSocketServer reads it back: only the fields it needs (the gate has checked
// them), so that none of the client's other fields can trip its own, smaller limits.
QByteArray handshakeOf(const HttpRequestHead &head)
{
    QByteArray out = "GET " + head.path().toByteArray() + " HTTP/1.1\r\n";
    for (const char *name : {"Host", "Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Origin"}) {
        if (const std::optional<QByteArrayView> value = head.header(name))
            out.append(name).append(": ").append(*value).append("\r\n");
    }
    out.append("\r\n");
    return out;
}

QHostAddress normalized(const QHostAddress &address)
{
    bool isV4 = false;
    const quint32 v4 = address.toIPv4Address(&isV4);
    return isV4 ? QHostAddress(v4) : address;
}

} // namespace

QByteArray requestIdFor(std::optional<QByteArrayView> clientValue)
{
    if (clientValue && !clientValue->isEmpty() && clientValue->size() <= 128) {
        bool sane = true;
        for (char c : *clientValue)
            sane = sane && isRequestIdChar(c);
        if (sane)
            return clientValue->toByteArray();
    }
    // A random prefix per process and a counter: unique, cheap, and never a client's guess of another's.
    static const quint64 prefix = QRandomGenerator::system()->generate64();
    static std::atomic<quint64> counter{0};
    const quint64 n = counter.fetch_add(1, std::memory_order_relaxed) + 1;
    char text[33];
    std::snprintf(text, sizeof text, "%016llx%016llx", static_cast<unsigned long long>(prefix),
                  static_cast<unsigned long long>(n));
    return QByteArray(text + 4, 28); // 28 hex digits: 12 of the prefix, 16 of the counter
}

// ---- RequestSocket

RequestSocket::RequestSocket(EdgeConnection *connection, const QHostAddress &peer, quint16 peerPort,
                             const QHostAddress &local, quint16 localPort)
    : QTcpSocket(connection)
    , m_connection(connection)
{
    setPeerAddress(peer);
    setPeerPort(peerPort);
    setLocalAddress(local);
    setLocalPort(localPort);
    setSocketState(QAbstractSocket::ConnectedState);
    setOpenMode(QIODevice::ReadWrite | QIODevice::Unbuffered);
}

RequestSocket::~RequestSocket()
{
    // QAbstractSocket's destructor aborts a connected socket; there is no socket behind this one.
    setSocketState(QAbstractSocket::UnconnectedState);
}

void RequestSocket::deliver(HttpRequest request, QByteArray requestId, QByteArray serialized)
{
    m_request = std::move(request);
    m_requestId = std::move(requestId);
    m_received.start();
    m_input = std::move(serialized);
    m_inputRead = 0;
    m_output.clear();
    m_closeRequested = false;
    emit readyRead();
}

void RequestSocket::connectionClosed()
{
    m_connection = nullptr;
    if (state() == QAbstractSocket::UnconnectedState)
        return;
    setSocketState(QAbstractSocket::UnconnectedState);
    emit disconnected();
}

qint64 RequestSocket::readData(char *data, qint64 maxSize)
{
    const qint64 available = m_input.size() - m_inputRead;
    const qint64 n = qMin(available, maxSize);
    if (n > 0) {
        std::memcpy(data, m_input.constData() + m_inputRead, static_cast<std::size_t>(n));
        m_inputRead += n;
    }
    if (m_inputRead == m_input.size()) {
        m_input.clear();
        m_inputRead = 0;
    }
    return n;
}

qint64 RequestSocket::writeData(const char *data, qint64 size)
{
    m_output.append(data, size);
    return size;
}

qint64 RequestSocket::bytesAvailable() const
{
    return (m_input.size() - m_inputRead) + QIODevice::bytesAvailable();
}

qint64 RequestSocket::bytesToWrite() const
{
    return m_output.size();
}

void RequestSocket::disconnectFromHost()
{
    m_closeRequested = true;
}

void RequestSocket::endResponse(bool close)
{
    if (m_connection)
        m_connection->responseEnded(close || m_closeRequested);
    else
        m_output.clear();
}

void RequestSocket::flushResponse()
{
    if (m_connection)
        m_connection->flush();
    else
        m_output.clear();
}

qint64 RequestSocket::clientBacklog() const
{
    const EdgeConnection *connection = m_connection;
    return connection ? unsentBytes(connection->m_socket) : 0;
}

void RequestSocket::setSendBuffer(int bytes)
{
    if (m_connection && m_connection->m_socket)
        m_connection->m_socket->setSocketOption(QAbstractSocket::SendBufferSizeSocketOption, bytes);
}

bool RequestSocket::isClientConnected() const
{
    const EdgeConnection *connection = m_connection;
    if (!connection)
        return false;
    return !connection->m_gone && connection->m_state != EdgeConnection::State::Closing;
}

// ---- sendNow

qint64 unsentBytes(const QTcpSocket *socket)
{
    if (!socket)
        return 0;
    qint64 unsent = socket->bytesToWrite();
    if (const auto *tls = qobject_cast<const QSslSocket *>(socket))
        unsent += tls->encryptedBytesToWrite();
    return unsent;
}

void sendNow(QTcpSocket *socket, const QByteArray &bytes)
{
    if (bytes.isEmpty())
        return;
    qint64 sent = 0;
    if (socket->bytesToWrite() == 0 && socket->state() == QAbstractSocket::ConnectedState
        && !qobject_cast<QSslSocket *>(socket)) {
        const qintptr descriptor = socket->socketDescriptor();
        if (descriptor >= 0) {
            const ssize_t n = ::send(int(descriptor), bytes.constData(), std::size_t(bytes.size()),
                                     MSG_DONTWAIT | MSG_NOSIGNAL);
            sent = n > 0 ? qint64(n) : 0; // an error: QTcpSocket::write() below finds and reports it
        }
    }
    if (sent == bytes.size())
        return;
    socket->write(sent == 0 ? bytes : bytes.sliced(sent));
}

// ---- lingeringClose

namespace {

// A half-closed socket's descriptor, read and dropped until the peer closes or the linger is over; the
// descriptor closes with it (also when its owner goes first, at shutdown).
class Lingerer final : public QObject
{
public:
    Lingerer(int fd, std::chrono::milliseconds linger, QObject *owner)
        : QObject(owner)
        , m_fd(fd)
        , m_notifier(fd, QSocketNotifier::Read, this)
    {
        connect(&m_notifier, &QSocketNotifier::activated, this, &Lingerer::drain);
        QTimer::singleShot(linger, this, [this] { finish(); });
    }
    ~Lingerer() override { ::close(m_fd); }

private:
    void drain()
    {
        char scratch[16 * 1024];
        for (;;) {
            const ssize_t n = ::recv(m_fd, scratch, sizeof scratch, MSG_DONTWAIT);
            if (n > 0)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
                return;
            finish(); // EOF or an error: the peer is done
            return;
        }
    }
    void finish()
    {
        m_notifier.setEnabled(false);
        deleteLater();
    }

    int m_fd;
    QSocketNotifier m_notifier;
};

} // namespace

void lingeringClose(QTcpSocket *socket, std::chrono::milliseconds linger, QObject *owner)
{
    if (!socket || qobject_cast<QSslSocket *>(socket) || socket->bytesToWrite() > 0)
        return;
    const qintptr descriptor = socket->socketDescriptor();
    if (descriptor < 0)
        return;
    const int fd = ::dup(int(descriptor));
    if (fd < 0)
        return;
    ::shutdown(fd, SHUT_WR);
    new Lingerer(fd, linger, owner);
}

// ---- HttpEdge

HttpEdge::HttpEdge(QObject *parent)
    : QTcpServer(parent)
{
    m_clock.start();
    m_sweep.setInterval(kSweepMilliseconds);
    connect(&m_sweep, &QTimer::timeout, this, &HttpEdge::sweep);
}

HttpEdge::~HttpEdge()
{
    m_sweep.stop();
    // Connections are children; they must not call back into a half-destroyed edge.
    for (EdgeConnection *connection : m_connections)
        connection->m_finished = true;
}

std::optional<QString> HttpEdge::listenOn(const QHostAddress &address, quint16 port,
                                          std::optional<QSslConfiguration> tls)
{
    if (tls) {
        auto ssl = std::make_unique<QSslServer>();
        ssl->setSslConfiguration(*tls);
        ssl->setHandshakeTimeout(static_cast<int>(m_limits.headerTimeout.count()));
        m_listener = std::move(ssl);
        m_tls = true;
    } else {
        m_listener = std::make_unique<QTcpServer>();
        m_tls = false;
    }
    if (!m_listener->listen(address, port)) {
        const QString error = QStringLiteral("cannot listen on %1:%2: %3")
                                  .arg(address.toString())
                                  .arg(port)
                                  .arg(m_listener->errorString());
        m_listener.reset();
        return error;
    }
    connect(m_listener.get(), &QTcpServer::pendingConnectionAvailable, this, &HttpEdge::accept);
    m_sweep.start();
    return std::nullopt;
}

quint16 HttpEdge::port() const
{
    return m_listener ? m_listener->serverPort() : 0;
}

void HttpEdge::setLimits(const EdgeLimits &limits)
{
    m_limits = limits;
    for (EdgeConnection *connection : m_connections)
        connection->m_framer.setLimits(limits.http);
}

bool HttpEdge::hasPendingConnections() const
{
    return !m_pending.empty();
}

QTcpSocket *HttpEdge::nextPendingConnection()
{
    while (!m_pending.empty()) {
        QPointer<RequestSocket> socket = m_pending.front();
        m_pending.pop_front();
        if (socket)
            return socket.data();
    }
    return nullptr;
}

void HttpEdge::accept()
{
    bool added = false;
    while (QTcpSocket *socket = m_listener ? m_listener->nextPendingConnection() : nullptr) {
        const QHostAddress peer = normalized(socket->peerAddress());
        if (m_draining) {
            socket->abort();
            socket->deleteLater();
            continue;
        }
        if (m_perIp.value(peer) >= m_limits.maxConnectionsPerIp) {
            const QByteArray id = requestIdFor(std::nullopt);
            const QByteArray message = "too many connections from this address";
            socket->write(edgeResponse(ErrorCode::RateLimited, message, id, 1));
            connect(socket, &QAbstractSocket::disconnected, socket, &QObject::deleteLater);
            socket->disconnectFromHost();
            report(EdgeEvent{EdgeEvent::Kind::ConnectionLimited, ErrorCode::RateLimited, message, id, peer});
            continue;
        }
        auto *connection = new EdgeConnection(this, socket);
        m_connections.push_back(connection);
        ++m_perIp[peer];
        m_pending.emplace_back(connection->requestSocket());
        added = true;
    }
    // QHttpServer 6.4 takes its sockets on pendingConnectionAvailable, a signal with a private tag that
    // only QTcpServer itself may emit directly; through the meta-object it can be raised here too.
    if (added)
        QMetaObject::invokeMethod(this, "pendingConnectionAvailable", Qt::DirectConnection);
}

void HttpEdge::connectionFinished(EdgeConnection *connection)
{
    std::erase(m_connections, connection);
    const auto it = m_perIp.find(connection->peer());
    if (it != m_perIp.end() && --it.value() <= 0)
        m_perIp.erase(it);
    connection->deleteLater();
    if (m_draining && m_connections.empty())
        QMetaObject::invokeMethod(this, &HttpEdge::drained, Qt::QueuedConnection);
}

void HttpEdge::drain()
{
    if (m_draining)
        return;
    m_draining = true;
    if (m_listener)
        m_listener->close();
    const std::vector<EdgeConnection *> connections = m_connections;
    for (EdgeConnection *connection : connections) {
        if (connection->m_state != EdgeConnection::State::Reading)
            continue;
        if (connection->m_framer.state() == HttpFramer::State::Idle && connection->m_framer.buffered() == 0)
            connection->close();
        else
            connection->refuse(ErrorCode::ServiceUnavailable, "the server is shutting down");
    }
    if (m_connections.empty())
        QMetaObject::invokeMethod(this, &HttpEdge::drained, Qt::QueuedConnection);
}

void HttpEdge::sweep()
{
    const qint64 now = m_clock.elapsed();
    const std::vector<EdgeConnection *> connections = m_connections;
    for (EdgeConnection *connection : connections)
        connection->checkDeadlines(now);
}

void HttpEdge::report(const EdgeEvent &event) const
{
    if (m_onEvent)
        m_onEvent(event);
}

// ---- EdgeConnection

EdgeConnection::EdgeConnection(HttpEdge *edge, QTcpSocket *socket)
    : QObject(edge)
    , m_edge(edge)
    , m_socket(socket)
    , m_peer(normalized(socket->peerAddress()))
    , m_framer(edge->limits().http)
{
    m_socket->setParent(this);
    m_socket->setReadBufferSize(kReadBufferBytes);
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    m_requestSocket = new RequestSocket(this, m_peer, socket->peerPort(), socket->localAddress(), socket->localPort());
    m_requestSocket->m_encrypted = edge->isTls();
    m_lastActivity = edge->m_clock.elapsed();
    connect(m_socket, &QIODevice::readyRead, this, &EdgeConnection::onReadyRead);
    connect(m_socket, &QAbstractSocket::disconnected, this, &EdgeConnection::onDisconnected);
    connect(m_socket, &QIODevice::bytesWritten, this, [this](qint64 written) {
        if (m_state == State::Closing && m_socket->bytesToWrite() == 0 && !m_edge->isTls()) {
            // The answer is out: half-close, then drop what the client still sends until it closes
            // (see close()).
            ::shutdown(static_cast<int>(m_socket->socketDescriptor()), SHUT_WR);
        }
        emit m_requestSocket->bytesWritten(written);
    });
    // Bytes that arrived with the connection (or during a TLS handshake) are already buffered.
    if (m_socket->bytesAvailable() > 0)
        QMetaObject::invokeMethod(this, &EdgeConnection::onReadyRead, Qt::QueuedConnection);
}

EdgeConnection::~EdgeConnection() = default;

void EdgeConnection::onReadyRead()
{
    if (m_state == State::Closing) {
        m_socket->skip(m_socket->bytesAvailable());
        return;
    }
    if (m_state != State::Reading)
        return; // the request in hand is answered first; TCP holds the client back meanwhile
    const QByteArray bytes = m_socket->readAll();
    if (bytes.isEmpty())
        return;
    const qint64 now = m_edge->m_clock.elapsed();
    m_lastActivity = now;
    if (m_requestStarted < 0)
        m_requestStarted = now;
    m_framer.append(bytes);
    process();
}

void EdgeConnection::process()
{
    while (m_state == State::Reading) {
        const HttpFramer::Step step = m_framer.next();
        switch (step.kind) {
        case HttpFramer::Step::Kind::NeedMore:
            if (m_framer.state() == HttpFramer::State::Idle && m_framer.buffered() == 0) {
                m_requestStarted = -1;
                m_headComplete = false;
            }
            return;
        case HttpFramer::Step::Kind::HeadComplete:
            m_headComplete = true;
            if (m_framer.head().expectContinue)
                m_socket->write("HTTP/1.1 100 Continue\r\n\r\n");
            continue;
        case HttpFramer::Step::Kind::Error:
            refuse(step.error.code, step.error.message);
            return;
        case HttpFramer::Step::Kind::Request:
            handOver(m_framer.take());
            continue;
        }
    }
}

void EdgeConnection::handOver(HttpRequest request)
{
    if (m_edge->m_gate && wantsWebSocket(request.head)) {
        upgrade(std::move(request));
        return;
    }
    m_state = State::Handling;
    m_keepAlive = request.head.keepAlive;
    m_closeAfterResponse = false;
    m_headComplete = false;
    m_requestStarted = -1;
    QByteArray id = requestIdFor(request.head.header("x-request-id"));
    QByteArray serialized = serialize(request);
    m_delivering = true;
    m_endedDuringDelivery = false;
    m_requestSocket->deliver(std::move(request), std::move(id), std::move(serialized));
    m_delivering = false;
    if (m_endedDuringDelivery) {
        m_endedDuringDelivery = false;
        // Answered at once: go on with what the client has pipelined, in process()'s loop.
        if (m_gone || !m_keepAlive || m_closeAfterResponse || m_edge->m_draining) {
            close();
            return;
        }
        m_state = State::Reading;
        m_lastActivity = m_edge->m_clock.elapsed();
        if (m_socket->bytesAvailable() > 0)
            m_framer.append(m_socket->readAll());
        if (m_framer.buffered() > 0)
            m_requestStarted = m_lastActivity;
    }
}

void EdgeConnection::upgrade(HttpRequest request)
{
    const QByteArray id = requestIdFor(request.head.header("x-request-id"));
    std::optional<UpgradeRefusal> refusal = m_edge->m_gate->check(request, m_peer, id);
    if (!refusal && m_framer.buffered() > 0) {
        // RFC 6455 §4.1: a client waits for the handshake's answer before it sends frames.
        refusal = UpgradeRefusal{ErrorCode::BadRequest, "data came before the WebSocket handshake was answered", {}};
    }
    if (!refusal && (m_gone || m_edge->m_draining))
        refusal = UpgradeRefusal{ErrorCode::ServiceUnavailable, "the server is shutting down", {}};
    if (refusal) {
        if (!m_gone && m_socket->state() == QAbstractSocket::ConnectedState)
            m_socket->write(edgeResponse(refusal->code, refusal->message, id, 0, refusal->headers));
        m_edge->report(EdgeEvent{EdgeEvent::Kind::Refused, refusal->code, refusal->message, id, m_peer});
        close();
        return;
    }
    m_state = State::Upgraded;
    QObject::disconnect(m_socket, nullptr, this, nullptr);
    connect(m_socket, &QAbstractSocket::disconnected, this, &EdgeConnection::onDisconnected);
    m_requestSocket->connectionClosed(); // QHttpServer lets go of it (and deletes it later)
    m_requestSocket = nullptr;
    const QByteArray replay = handshakeOf(request.head);
    for (qsizetype i = replay.size(); i-- > 0;)
        m_socket->ungetChar(replay.at(i));
    m_edge->m_gate->adopt(m_socket, request, m_peer);
}

void EdgeConnection::responseEnded(bool close)
{
    if (m_state != State::Handling)
        return;
    flush();
    if (close)
        m_closeAfterResponse = true;
    if (m_delivering) {
        m_endedDuringDelivery = true;
        return;
    }
    if (m_gone || !m_keepAlive || m_closeAfterResponse || m_edge->m_draining) {
        this->close();
        return;
    }
    m_state = State::Reading;
    m_lastActivity = m_edge->m_clock.elapsed();
    if (m_socket->bytesAvailable() > 0)
        m_framer.append(m_socket->readAll());
    if (m_framer.buffered() > 0)
        m_requestStarted = m_lastActivity;
    process();
}

void EdgeConnection::flush()
{
    QByteArray &output = m_requestSocket->m_output;
    if (output.isEmpty())
        return;
    if (!m_gone && m_socket->state() == QAbstractSocket::ConnectedState)
        sendNow(m_socket, output);
    output.clear();
}

void EdgeConnection::refuse(ErrorCode code, const QByteArray &message)
{
    const QByteArray id = requestIdFor(m_framer.state() == HttpFramer::State::ReadingBody
                                           ? m_framer.head().header("x-request-id")
                                           : std::nullopt);
    if (!m_gone && m_socket->state() == QAbstractSocket::ConnectedState)
        m_socket->write(edgeResponse(code, message, id));
    m_edge->report(EdgeEvent{EdgeEvent::Kind::Refused, code, message, id, m_peer});
    close();
}

void EdgeConnection::close()
{
    if (m_gone) {
        m_state = State::Closing;
        onDisconnected();
        return;
    }
    if (m_state == State::Closing)
        return;
    m_state = State::Closing;
    m_lastActivity = m_edge->m_clock.elapsed();
    if (m_edge->isTls()) {
        m_socket->disconnectFromHost();
        return;
    }
    // A client may still be sending (the rest of a refused body). Closing a socket with unread input
    // makes the kernel send RST, which can destroy the answer before the client reads it; so half-close
    // once the answer is out, drop what still arrives, and close for good when the client does, or after
    // kLingerMilliseconds.
    if (m_socket->bytesToWrite() == 0)
        ::shutdown(static_cast<int>(m_socket->socketDescriptor()), SHUT_WR);
}

void EdgeConnection::checkDeadlines(qint64 now)
{
    const EdgeLimits &limits = m_edge->limits();
    switch (m_state) {
    case State::Reading: {
        const bool midRequest = m_framer.state() != HttpFramer::State::Idle || m_framer.buffered() > 0;
        if (!midRequest) {
            if (now - m_lastActivity > limits.idleTimeout.count())
                close();
            return;
        }
        if (!m_headComplete && m_requestStarted >= 0 && now - m_requestStarted > limits.headerTimeout.count()) {
            refuse(ErrorCode::RequestTimeout, "the request headers did not arrive in time");
            return;
        }
        if (m_headComplete && now - m_lastActivity > limits.idleTimeout.count())
            refuse(ErrorCode::RequestTimeout, "the request body stalled");
        return;
    }
    case State::Handling:
        if (unsentBytes(m_socket) > limits.maxBufferedOutput) {
            m_socket->abort(); // a client that does not read what it asked for
        }
        return;
    case State::Closing:
        if (now - m_lastActivity > kLingerMilliseconds)
            m_socket->abort();
        return;
    case State::Upgraded:
        return; // the gate keeps its own deadlines
    }
}

void EdgeConnection::onDisconnected()
{
    m_gone = true;
    if (m_state == State::Handling)
        return; // the route is still working on the request; responseEnded() finishes this
    if (m_finished)
        return;
    m_finished = true;
    if (m_requestSocket)
        m_requestSocket->connectionClosed();
    m_edge->connectionFinished(this);
}

} // namespace bourse::server
