#include "server_stats.h"

#include "journal_writer.h"

namespace bourse::app {

ServerStats::ServerStats(QObject *parent)
    : QObject(parent)
{
    m_timer.setInterval(kIntervalMilliseconds);
    connect(&m_timer, &QTimer::timeout, this, &ServerStats::sample);
    m_clock.start();
}

void ServerStats::setActive(bool active)
{
    if (active == m_timer.isActive())
        return;
    if (active) {
        m_timer.start();
        sample();
    } else {
        m_timer.stop();
    }
    emit activeChanged();
}

ServerStats::Reading ServerStats::read(server::VenueServer &venue)
{
    Reading reading;
    // The counter /admin/system/stats turns into requests per second; asking for it again gives the same one.
    reading.requestsTotal
        = venue.metrics().counter("bourse_http_requests_all_total", "Every HTTP request answered by a route").value();
    reading.commitP99Ms = venue.service().commitLatencyMs().second;
    reading.http = venue.httpConnections();
    reading.webSockets = venue.webSockets().connectionCount();
    reading.sse = venue.api().streamCount();
    reading.pendingEvents = venue.journal() ? qint64(venue.journal()->pendingEvents()) : 0;
    reading.openOrders = qint64(venue.service().engineFigures().openOrders);
    reading.uptimeSeconds = venue.service().uptimeSeconds();
    return reading;
}

void ServerStats::sample()
{
    Desk *desk = Desk::instance();
    if (!desk)
        return;
    // Microseconds: two samples can come within the same millisecond (a test's), and the requests between
    // them must not be lost for want of a time difference.
    desk->inspect<Reading>(this, &ServerStats::read,
                           [this](Reading reading) { take(reading, m_clock.nsecsElapsed() / 1000); });
}

void ServerStats::take(const Reading &reading, qint64 elapsedUs)
{
    if (m_previous && elapsedUs > m_previousUs && reading.requestsTotal >= m_previous->requestsTotal) {
        m_requestsPerSecond = double(reading.requestsTotal - m_previous->requestsTotal) * 1e6
                              / double(elapsedUs - m_previousUs);
    }
    m_previous = reading;
    m_previousUs = elapsedUs;
    m_last = reading;
    push(m_requests, m_requestsPerSecond);
    push(m_latency, reading.commitP99Ms);
    push(m_connections, double(reading.http));
    push(m_lag, double(reading.pendingEvents));
    emit sampled();
}

void ServerStats::push(std::deque<double> &values, double value)
{
    values.push_back(value);
    while (values.size() > std::size_t(kHistorySeconds))
        values.pop_front();
}

QVariantList ServerStats::list(const std::deque<double> &values)
{
    QVariantList out;
    out.reserve(qsizetype(values.size()));
    for (double value : values)
        out.append(value);
    return out;
}

} // namespace bourse::app
