// The fan-out core of the event streams (DESIGN.md, "Publishing"): every message is serialized once and the
// same bytes (implicitly shared, never copied per subscriber) are queued in each subscriber's Outbox. The
// hub writes the outboxes out once per turn of the event loop: whatever a subscriber collected meanwhile
// goes to its socket in one write, so a burst of updates costs one send per subscriber rather than one per
// update. Before that write, the subscriber's backlog — bytes its transport has not handed to the kernel
// plus what waits in the outbox — is checked against the limit; a subscriber over it is cut off (its sink's
// overflow() ends the stream with a reason) and never slows the publisher or the others.
//
// One thread (the HTTP thread); not thread-safe.
#pragma once

#include "metrics.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QObject>

#include <cstdint>
#include <vector>

namespace bourse::server {

class StreamHub;

// Where an outbox's bytes go: a WebSocket connection or an SSE response.
class StreamSink
{
public:
    virtual ~StreamSink() = default;
    // Bytes written to the transport that it has not handed to the kernel yet.
    virtual qint64 unsentBytes() const = 0;
    // Whole messages, in order; the sink writes them to its socket.
    virtual void deliver(const QByteArray &bytes) = 0;
    // The backlog passed the hub's limit: the outbox has closed; end the stream with a reason.
    virtual void overflow() = 0;
};

class Outbox final
{
public:
    Outbox(StreamHub &hub, StreamSink &sink);
    ~Outbox();
    Outbox(const Outbox &) = delete;
    Outbox &operator=(const Outbox &) = delete;

    // Queues one whole message for the next flush. Ignored once closed.
    void push(const QByteArray &bytes);
    // The same for what a subscription starts with (a snapshot, a replay, the open orders): such a burst
    // may be larger than the backlog limit, so it does not count toward it until the client has taken it;
    // only what comes after it does. A client that never reads is still cut off once that passes the limit.
    void pushInitial(const QByteArray &bytes);
    // Writes what is queued now (before a close frame, say), with the same backlog check as a flush.
    // False when that cut the subscriber off.
    bool flushNow();
    // Drops what is queued; pushes are ignored from now on.
    void close();
    bool isClosed() const { return m_closed; }
    qint64 pendingBytes() const { return m_pendingBytes; }

private:
    friend class StreamHub;

    StreamHub &m_hub;
    StreamSink &m_sink;
    std::vector<QByteArray> m_pending;
    qint64 m_pendingBytes = 0;
    qint64 m_initialPending = 0; // of m_pendingBytes, what pushInitial() queued
    qint64 m_initialUnsent = 0;  // initial bytes written and perhaps still unsent (an upper bound)
    bool m_dirty = false; // in the hub's list of outboxes to flush
    bool m_closed = false;
};

class StreamHub final : public QObject
{
    Q_OBJECT

public:
    static constexpr qint64 kDefaultBacklogLimit = 1024 * 1024;

    explicit StreamHub(QObject *parent = nullptr);
    ~StreamHub() override;

    // The most a subscriber may have queued (in its outbox and its transport) before it is cut off.
    void setBacklogLimit(qint64 bytes) { m_backlogLimit = bytes; }
    qint64 backlogLimit() const { return m_backlogLimit; }
    // The kernel send buffer (SO_SNDBUF) of a streaming socket. Left to autotuning, a client that does not
    // read could park megabytes in the kernel on top of the backlog limit; bounded, its memory is the limit
    // plus this. Applied by the transports when a stream starts.
    static constexpr int kDefaultSendBuffer = 256 * 1024;
    void setSendBuffer(int bytes) { m_sendBuffer = bytes; }
    int sendBuffer() const { return m_sendBuffer; }

    // Writes every outbox that has something queued. Runs by itself once per turn of the event loop after a
    // push; callable directly.
    void flush();
    // Whether a subscriber's backlog is over the limit now (the transports ask after writing on their own,
    // e.g. pongs to a flood of pings, which never pass an outbox).
    bool overLimit(const Outbox &outbox) const;
    // Counts a subscriber cut off by its transport for its backlog.
    void countSlowConsumer();

    struct Figures
    {
        std::uint64_t messages = 0;      // messages queued to subscribers (one per subscriber per message)
        std::uint64_t bytes = 0;         // bytes written to subscribers' transports
        std::uint64_t writes = 0;        // writes to transports (messages / writes: how much a flush coalesced)
        std::uint64_t slowConsumers = 0; // subscribers cut off for their backlog
    };
    const Figures &figures() const { return m_figures; }
    // Where the figures are also counted for /metrics (any may be null).
    struct Meters
    {
        Counter *messages = nullptr;
        Counter *slowConsumers = nullptr;
        Histogram *lag = nullptr; // how long each flush's oldest message waited
    };
    void setMeters(Meters meters) { m_meters = meters; }
    // How long the oldest message of each flush waited to be written: the last one's, and the worst since
    // the last call (microseconds).
    qint64 takeWorstLagMicros();

signals:
    // After each flush that wrote something, with how long its oldest message had waited (microseconds).
    void flushed(qint64 lagMicros);

private:
    friend class Outbox;
    void markDirty(Outbox *outbox);
    void forget(Outbox *outbox);
    bool flushOne(Outbox &outbox);

    std::vector<Outbox *> m_dirty;
    std::vector<Outbox *> *m_flushing = nullptr; // the list a flush is walking, where forget() clears entries
    bool m_flushPosted = false;
    qint64 m_backlogLimit = kDefaultBacklogLimit;
    int m_sendBuffer = kDefaultSendBuffer;
    QElapsedTimer m_clock;
    qint64 m_oldestPush = -1; // m_clock's µs at the first push since the last flush
    qint64 m_worstLag = 0;
    Figures m_figures;
    Meters m_meters;
};

// One text frame of the WebSocket protocol (RFC 6455 §5.2) as a server sends it: FIN, opcode 1, no mask.
QByteArray webSocketTextFrame(QByteArrayView payload);

} // namespace bourse::server
