// ServerStats: the admin panel's Live stats page — once a second, while active, the figures
// /admin/system/stats and /metrics compute (requests per second from the all-requests counter, the journal's
// commit p99, open HTTP / WebSocket / SSE connections, the journal's lag in pending events, open orders),
// read from the VenueServer on the API's thread, each kept as the last kHistorySeconds samples for the
// sparklines. GUI thread.
#pragma once

#include "desk.h"

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>
#include <QVariantList>
#include <QtQml/qqmlregistration.h>

#include <deque>

namespace bourse::app {

class ServerStats : public QObject
{
    Q_OBJECT
    QML_ELEMENT

    Q_PROPERTY(bool active READ active WRITE setActive NOTIFY activeChanged)
    Q_PROPERTY(double requestsPerSecond READ requestsPerSecond NOTIFY sampled)
    Q_PROPERTY(double commitP99Ms READ commitP99Ms NOTIFY sampled)
    Q_PROPERTY(int httpConnections READ httpConnections NOTIFY sampled)
    Q_PROPERTY(int webSockets READ webSockets NOTIFY sampled)
    Q_PROPERTY(int sseStreams READ sseStreams NOTIFY sampled)
    Q_PROPERTY(qint64 pendingEvents READ pendingEvents NOTIFY sampled)
    Q_PROPERTY(qint64 openOrders READ openOrders NOTIFY sampled)
    Q_PROPERTY(qint64 uptimeSeconds READ uptimeSeconds NOTIFY sampled)
    Q_PROPERTY(int sampleCount READ sampleCount NOTIFY sampled)
    // Oldest first, one value a second, at most kHistorySeconds.
    Q_PROPERTY(QVariantList requestsHistory READ requestsHistory NOTIFY sampled)
    Q_PROPERTY(QVariantList latencyHistory READ latencyHistory NOTIFY sampled)
    Q_PROPERTY(QVariantList connectionsHistory READ connectionsHistory NOTIFY sampled)
    Q_PROPERTY(QVariantList lagHistory READ lagHistory NOTIFY sampled)
    Q_PROPERTY(int historySeconds READ historySeconds CONSTANT)

public:
    static constexpr int kHistorySeconds = 120;
    static constexpr int kIntervalMilliseconds = 1000;

    // What one reading on the API's thread gives.
    struct Reading
    {
        std::uint64_t requestsTotal = 0;
        double commitP99Ms = 0;
        int http = 0;
        int webSockets = 0;
        int sse = 0;
        qint64 pendingEvents = 0;
        qint64 openOrders = 0;
        qint64 uptimeSeconds = 0;
    };
    static Reading read(server::VenueServer &venue);

    explicit ServerStats(QObject *parent = nullptr);

    bool active() const { return m_timer.isActive(); }
    void setActive(bool active);
    double requestsPerSecond() const { return m_requestsPerSecond; }
    double commitP99Ms() const { return m_last.commitP99Ms; }
    int httpConnections() const { return m_last.http; }
    int webSockets() const { return m_last.webSockets; }
    int sseStreams() const { return m_last.sse; }
    qint64 pendingEvents() const { return m_last.pendingEvents; }
    qint64 openOrders() const { return m_last.openOrders; }
    qint64 uptimeSeconds() const { return m_last.uptimeSeconds; }
    int sampleCount() const { return int(m_requests.size()); }
    QVariantList requestsHistory() const { return list(m_requests); }
    QVariantList latencyHistory() const { return list(m_latency); }
    QVariantList connectionsHistory() const { return list(m_connections); }
    QVariantList lagHistory() const { return list(m_lag); }
    int historySeconds() const { return kHistorySeconds; }

    // Takes one sample now (the timer's work; the tests call it).
    Q_INVOKABLE void sample();

signals:
    void activeChanged();
    void sampled();

private:
    void take(const Reading &reading, qint64 elapsedUs);
    static QVariantList list(const std::deque<double> &values);
    static void push(std::deque<double> &values, double value);

    QTimer m_timer;
    QElapsedTimer m_clock;
    std::optional<Reading> m_previous;
    qint64 m_previousUs = 0;
    Reading m_last;
    double m_requestsPerSecond = 0;
    std::deque<double> m_requests;
    std::deque<double> m_latency;
    std::deque<double> m_connections;
    std::deque<double> m_lag;
};

} // namespace bourse::app
