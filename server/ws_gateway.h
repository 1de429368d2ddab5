// WsGateway: GET /ws (spec §7). It is the HttpEdge's UpgradeGate: an upgrade request is judged before any
// WebSocket exists — the path, the handshake's fields, the Origin against the settings (or the venue's own
// origin), the token from `Authorization: Bearer` or `?token=` — and refused in the API's error shape (404,
// 405, 400, 403, 401, 503) by the edge. An accepted socket goes to a QWebSocketServer (handleConnection),
// which answers the handshake; each connection then becomes a WsSession.
//
// A session reads JSON text messages — ops `subscribe`, `unsubscribe`, `auth`, `ping`, each with an
// optional `id` echoed in the reply — and answers every bad one with an `error` message, keeping the
// connection open: invalid JSON, binary messages, unknown ops, channels or symbols, a private channel
// without authentication, a subscription held twice or never held, too many subscriptions, too many
// messages (a token bucket per connection). The caller's token is checked again at every heartbeat: once it
// has expired or been revoked, the private subscriptions end with an error. Messages over 64 KiB close it
// with 1009 (QWebSocket's own limit). What it is sent goes through its Outbox (stream_hub.h): replies,
// snapshots and updates in order, updates serialized once for all subscribers and written straight to the
// socket as ready frames; a backlog over the hub's limit closes it with 1008 "slow consumer". The gateway
// pings every session every 20 s and drops one that has sent nothing (pong included) for 60 s. On shutdown
// every session gets its pending messages and a 1001 close frame.
//
// The HTTP thread; not thread-safe.
#pragma once

#include "http_edge.h"
#include "metrics.h"
#include "stream_feeds.h"
#include "venue_service.h"

#include <QElapsedTimer>
#include <QHash>
#include <QHostAddress>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <QWebSocketServer>

#include <chrono>
#include <memory>
#include <vector>

class QWebSocket;

namespace bourse::server {

class WsSession;

class WsGateway final : public QObject, public UpgradeGate
{
    Q_OBJECT

public:
    struct Limits
    {
        qint64 maxMessageBytes = 64 * 1024; // incoming messages and frames; over it: close 1009
        std::chrono::milliseconds pingInterval{20'000};
        std::chrono::milliseconds idleTimeout{60'000}; // nothing heard for this long: dropped
        int maxSubscriptions = 100;                    // per connection
        double messagesPerSecond = 50;                 // incoming messages, a token bucket per connection
        double messageBurst = 200;
        std::chrono::milliseconds closeLinger{5'000}; // after a close frame, before the socket is aborted
    };

    WsGateway(VenueService &service, StreamFeeds &feeds, MetricsRegistry &metrics, bool tls, QObject *parent = nullptr);
    ~WsGateway() override;

    void setLimits(const Limits &limits);
    const Limits &limits() const { return m_limits; }

    // UpgradeGate
    std::optional<UpgradeRefusal> check(const HttpRequest &request, const QHostAddress &peer,
                                        const QByteArray &requestId) override;
    void adopt(QTcpSocket *socket, const HttpRequest &request, const QHostAddress &peer) override;

    int connectionCount() const { return int(m_sessions.size()); }
    // Refuses new upgrades and closes every session with 1001 after what it has pending.
    void shutdown();

private:
    friend class WsSession;
    void onNewConnection();
    void heartbeat();
    void sessionEnded(WsSession *session);

    struct Pending
    {
        QPointer<QTcpSocket> socket;
        Caller caller;
        QByteArray token;
    };
    static QString peerKey(const QHostAddress &address, quint16 port)
    {
        return address.toString() + u'|' + QString::number(port);
    }

    VenueService &m_service;
    StreamFeeds &m_feeds;
    Limits m_limits;
    QWebSocketServer m_server;
    Caller m_accepted;                // what check() found, for the adopt() that follows it
    QByteArray m_acceptedToken;
    QHash<QString, Pending> m_pending; // handshakes QWebSocketServer has not finished, by peer address and port
    std::vector<WsSession *> m_sessions; // children
    QTimer m_heartbeat;
    QElapsedTimer m_clock;
    bool m_shuttingDown = false;
    Gauge *m_connections = nullptr;
    Counter *m_received = nullptr;
    Counter *m_refused = nullptr;
};

} // namespace bourse::server
