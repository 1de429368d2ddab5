// HttpEdge: the guarded TCP layer in front of QHttpServer (DESIGN.md, "The network edge"). It accepts the
// connections (plain TCP, or TLS through a QSslServer), counts them per client IP, and reads every request
// through an HttpFramer under the configured limits and deadlines: a request whose head does not arrive
// within the header timeout, or whose body stalls, gets 408; framing errors get 400/413/414/431/501/505;
// each of those closes the connection. Idle keep-alive connections close after the idle timeout.
//
// QHttpServer is bound to this QTcpServer and never sees the client's socket. Each connection hands it a
// RequestSocket instead: a QTcpSocket that holds exactly one whole, re-serialized request at a time and
// collects what the route's QHttpServerResponder writes. The next request of a pipelining client is only
// handed over once the previous response has ended (RequestSocket::endResponse()), so responses go out in
// order even when a route answers later (after the engine's journal commit). A client that vanishes while
// its request is being handled changes nothing for the route: its response is dropped when it ends.
//
// Lives on one thread (the HTTP thread); everything here is called there.
#pragma once

#include "error_code.h"
#include "http_framer.h"

#include <QElapsedTimer>
#include <QHash>
#include <QHostAddress>
#include <QPointer>
#include <QSslConfiguration>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>

namespace bourse::server {

class EdgeConnection;

// The edge's limits; setLimits() applies them to every request read from then on.
struct EdgeLimits
{
    HttpLimits http;
    int maxConnectionsPerIp = 256;
    std::chrono::milliseconds headerTimeout{10'000}; // from a request's first byte to the end of its head
    std::chrono::milliseconds idleTimeout{15'000};   // keep-alive idle, and the longest pause inside a body
    qint64 maxBufferedOutput = 16 * 1024 * 1024;     // bytes a client has not read yet before it is cut off
};

// A request id: the client's own when it is 1-128 characters of [A-Za-z0-9._-] (spec §2), else a new one.
QByteArray requestIdFor(std::optional<QByteArrayView> clientValue);

// Something the edge answered or did on its own, for the access log and the metrics.
struct EdgeEvent
{
    enum class Kind : std::uint8_t {
        Refused,           // a framing error or a timeout: answered with `code`, connection closed
        ConnectionLimited, // over the per-IP cap: answered 429 and closed
    };
    Kind kind = Kind::Refused;
    ErrorCode code = ErrorCode::BadRequest;
    QByteArray message;
    QByteArray requestId;
    QHostAddress peer;
};

// What QHttpServer reads a request from and writes its response to. See the file comment.
class RequestSocket final : public QTcpSocket
{
    Q_OBJECT

public:
    explicit RequestSocket(EdgeConnection *connection, const QHostAddress &peer, quint16 peerPort,
                           const QHostAddress &local, quint16 localPort);
    ~RequestSocket() override;

    // The request being handled, as the framer read it (exact headers, de-chunked body).
    const HttpRequest &request() const { return m_request; }
    // Its id (requestIdFor()) and when its last byte arrived.
    const QByteArray &requestId() const { return m_requestId; }
    const QElapsedTimer &received() const { return m_received; }
    bool isEncrypted() const { return m_encrypted; }

    // Ends the response of the current request: what the responder wrote goes out in one write. With
    // `close`, or when the request did not want keep-alive, the connection closes once it is sent.
    void endResponse(bool close = false);
    // Streaming responses: writes what the responder has written so far without ending the response.
    void flushResponse();
    // Bytes written to the client's socket that it has not taken yet; a streaming response waits while
    // this is high (bytesWritten() says when it drains).
    qint64 clientBacklog() const;
    // False once the client has gone: a streaming response should stop.
    bool isClientConnected() const;
    // SO_SNDBUF of the client's socket (a streaming response bounds what the kernel holds for it).
    void setSendBuffer(int bytes);

    qint64 bytesAvailable() const override;
    qint64 bytesToWrite() const override;
    void disconnectFromHost() override;

protected:
    qint64 readData(char *data, qint64 maxSize) override;
    qint64 writeData(const char *data, qint64 size) override;

private:
    friend class EdgeConnection;
    void deliver(HttpRequest request, QByteArray requestId, QByteArray serialized);
    void connectionClosed(); // the edge connection is gone: tell QHttpServer, which deletes this

    EdgeConnection *m_connection; // the parent; null once it has closed
    HttpRequest m_request;
    QByteArray m_requestId;
    QElapsedTimer m_received;
    QByteArray m_input;
    qsizetype m_inputRead = 0;
    QByteArray m_output;
    bool m_encrypted = false;
    bool m_closeRequested = false;
};

// Bytes written to a socket that the kernel has not taken yet: Qt's write buffer, and on TLS also what is
// encrypted and waiting (QSslSocket::bytesToWrite() counts only plaintext not yet encrypted).
qint64 unsentBytes(const QTcpSocket *socket);

// Writes `bytes` to a connected socket now: on plain TCP with nothing queued in Qt's buffer, straight to the
// kernel (one send(), no copy into the socket's buffer and no wait for its next write notification, which
// costs a turn of the event loop); whatever the kernel does not take, and anything on TLS, goes through
// QTcpSocket::write() as usual. Order is kept: bytes never bypass bytes queued before them.
void sendNow(QTcpSocket *socket, const QByteArray &bytes);

// Closes a plain TCP socket whose peer may still be sending without destroying what was written last: a
// socket closed with unread input answers with RST, and the peer's kernel may then drop the final bytes (a
// close frame) before its application reads them. So the socket is half-closed once `socket` has nothing
// left to write, and what still arrives is read and dropped until the peer closes or `linger` passes. Call
// it right before the owner of `socket` closes it (the descriptor is duplicated for the lingering, which
// `owner` parents: it ends at the latest with it). No-op for a socket with unsent output (closing waits for
// that to go out anyway), on TLS, or without a descriptor.
void lingeringClose(QTcpSocket *socket, std::chrono::milliseconds linger, QObject *owner);

// The answer to a WebSocket upgrade the gate refuses: the error, and headers to add (Allow, ...).
struct UpgradeRefusal
{
    ErrorCode code = ErrorCode::BadRequest;
    QByteArray message;
    std::vector<std::pair<QByteArray, QByteArray>> headers;
};

// Decides on the requests that ask for a WebSocket (an Upgrade header naming "websocket"); they never reach
// QHttpServer. check() comes first: a refusal is answered by the edge, which then closes the connection.
// Otherwise the edge stops reading the connection, puts the request's handshake back in front of the bytes
// the socket has not given out yet, and calls adopt(): from then on the gate reads and writes the socket.
// It stays the edge's child (and counts toward its per-IP cap) until it disconnects, when the edge deletes
// it. The edge's thread.
class UpgradeGate
{
public:
    virtual ~UpgradeGate() = default;
    virtual std::optional<UpgradeRefusal> check(const HttpRequest &request, const QHostAddress &peer,
                                                const QByteArray &requestId) = 0;
    virtual void adopt(QTcpSocket *socket, const HttpRequest &request, const QHostAddress &peer) = 0;
};

class HttpEdge final : public QTcpServer
{
    Q_OBJECT

public:
    explicit HttpEdge(QObject *parent = nullptr);
    ~HttpEdge() override;

    // Listens on address:port (0: any free port), over TLS when a configuration is given. The error is one
    // line naming the address.
    std::optional<QString> listenOn(const QHostAddress &address, quint16 port,
                                    std::optional<QSslConfiguration> tls = std::nullopt);
    quint16 port() const;
    bool isTls() const { return m_tls; }

    void setLimits(const EdgeLimits &limits);
    const EdgeLimits &limits() const { return m_limits; }
    void setEventHandler(std::function<void(const EdgeEvent &)> handler) { m_onEvent = std::move(handler); }
    // Where WebSocket upgrades go; without a gate they are served as plain HTTP requests.
    void setUpgradeGate(UpgradeGate *gate) { m_gate = gate; }

    int connectionCount() const { return static_cast<int>(m_connections.size()); }
    int connectionsFrom(const QHostAddress &peer) const { return m_perIp.value(peer); }

    // Graceful shutdown: stops listening, closes idle connections at once and every other one as soon as
    // its current response has gone out; drained() when none is left (at once if there were none).
    void drain();

    // QTcpServer: what QHttpServer takes its sockets from.
    bool hasPendingConnections() const override;
    QTcpSocket *nextPendingConnection() override;

signals:
    void drained();

private:
    friend class EdgeConnection;
    void accept();
    void connectionFinished(EdgeConnection *connection);
    void sweep();
    void report(const EdgeEvent &event) const;

    std::unique_ptr<QTcpServer> m_listener;
    bool m_tls = false;
    EdgeLimits m_limits;
    std::function<void(const EdgeEvent &)> m_onEvent;
    UpgradeGate *m_gate = nullptr;
    QHash<QHostAddress, int> m_perIp;
    std::vector<EdgeConnection *> m_connections; // children of this edge
    std::deque<QPointer<RequestSocket>> m_pending; // handed to QHttpServer by nextPendingConnection()
    QTimer m_sweep; // deadlines are checked a few times a second rather than with a timer per connection
    QElapsedTimer m_clock;
    bool m_draining = false;
};

// One client connection: its socket, its framer, the request in hand. Owned by the HttpEdge.
class EdgeConnection final : public QObject
{
    Q_OBJECT

public:
    EdgeConnection(HttpEdge *edge, QTcpSocket *socket);
    ~EdgeConnection() override;

    RequestSocket *requestSocket() const { return m_requestSocket; }
    QTcpSocket *socket() const { return m_socket; }
    const QHostAddress &peer() const { return m_peer; }

private:
    friend class HttpEdge;
    friend class RequestSocket;

    enum class State : std::uint8_t { Reading, Handling, Closing, Upgraded };

    void onReadyRead();
    void process();
    void handOver(HttpRequest request);
    void upgrade(HttpRequest request);
    void refuse(ErrorCode code, const QByteArray &message);
    void responseEnded(bool close);
    void flush();
    void close(); // after what is written has gone out
    void checkDeadlines(qint64 now);
    void onDisconnected();

    HttpEdge *m_edge;
    QTcpSocket *m_socket; // child
    RequestSocket *m_requestSocket; // child; QHttpServer may deleteLater() it once told it is disconnected;
                                    // null once the connection was upgraded
    QHostAddress m_peer;
    HttpFramer m_framer;
    State m_state = State::Reading;
    bool m_delivering = false;    // inside handOver(): a route that answers at once must not recurse
    bool m_endedDuringDelivery = false;
    bool m_closeAfterResponse = false;
    bool m_keepAlive = true;
    bool m_gone = false;          // the client's socket disconnected
    bool m_finished = false;      // connectionFinished() has run
    qint64 m_requestStarted = -1; // edge clock ms when the current request's first byte arrived
    qint64 m_lastActivity = 0;    // edge clock ms of the last byte in or the last response out
    bool m_headComplete = false;
};

} // namespace bourse::server
