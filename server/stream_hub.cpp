#include "stream_hub.h"

#include <QtEndian>

#include <algorithm>

namespace bourse::server {

// ---- Outbox

Outbox::Outbox(StreamHub &hub, StreamSink &sink)
    : m_hub(hub)
    , m_sink(sink)
{}

Outbox::~Outbox()
{
    if (m_dirty)
        m_hub.forget(this);
}

void Outbox::push(const QByteArray &bytes)
{
    if (m_closed || bytes.isEmpty())
        return;
    m_pending.push_back(bytes);
    m_pendingBytes += bytes.size();
    ++m_hub.m_figures.messages;
    if (m_hub.m_meters.messages)
        m_hub.m_meters.messages->add();
    if (!m_dirty) {
        m_dirty = true;
        m_hub.markDirty(this);
    }
}

void Outbox::pushInitial(const QByteArray &bytes)
{
    if (m_closed || bytes.isEmpty())
        return;
    push(bytes);
    m_initialPending += bytes.size();
}

bool Outbox::flushNow()
{
    if (m_dirty) {
        m_hub.forget(this);
        m_dirty = false;
    }
    return m_hub.flushOne(*this);
}

void Outbox::close()
{
    m_closed = true;
    m_pending.clear();
    m_pendingBytes = 0;
    m_initialPending = 0;
}

// ---- StreamHub

StreamHub::StreamHub(QObject *parent)
    : QObject(parent)
{
    m_clock.start();
}

StreamHub::~StreamHub() = default;

void StreamHub::markDirty(Outbox *outbox)
{
    m_dirty.push_back(outbox);
    if (m_oldestPush < 0)
        m_oldestPush = m_clock.nsecsElapsed() / 1000;
    if (!m_flushPosted) {
        m_flushPosted = true;
        QMetaObject::invokeMethod(this, &StreamHub::flush, Qt::QueuedConnection);
    }
}

void StreamHub::forget(Outbox *outbox)
{
    if (m_flushing)
        std::replace(m_flushing->begin(), m_flushing->end(), outbox, static_cast<Outbox *>(nullptr));
    std::erase(m_dirty, outbox);
}

bool StreamHub::overLimit(const Outbox &outbox) const
{
    // Initial bursts leave first (the stream is in order), so no more of them than is unsent can still be
    // waiting: the rest of the unsent bytes, and everything queued after them, is backlog.
    const qint64 unsent = outbox.m_sink.unsentBytes();
    const qint64 initial = std::min(outbox.m_initialUnsent, unsent);
    return unsent - initial + outbox.m_pendingBytes - outbox.m_initialPending > m_backlogLimit;
}

void StreamHub::countSlowConsumer()
{
    ++m_figures.slowConsumers;
    if (m_meters.slowConsumers)
        m_meters.slowConsumers->add();
}

bool StreamHub::flushOne(Outbox &outbox)
{
    if (outbox.m_closed)
        return false;
    if (outbox.m_pending.empty())
        return true;
    outbox.m_initialUnsent = std::min(outbox.m_initialUnsent, outbox.m_sink.unsentBytes());
    if (overLimit(outbox)) {
        outbox.close();
        countSlowConsumer();
        outbox.m_sink.overflow();
        return false;
    }
    std::vector<QByteArray> pending;
    pending.swap(outbox.m_pending);
    const qint64 size = outbox.m_pendingBytes;
    outbox.m_pendingBytes = 0;
    outbox.m_initialUnsent += outbox.m_initialPending;
    outbox.m_initialPending = 0;
    m_figures.bytes += std::uint64_t(size);
    ++m_figures.writes;
    if (pending.size() == 1) {
        outbox.m_sink.deliver(pending.front()); // the shared bytes themselves: no copy
        return true;
    }
    QByteArray joined;
    joined.reserve(size);
    for (const QByteArray &message : pending)
        joined.append(message);
    outbox.m_sink.deliver(joined);
    return true;
}

void StreamHub::flush()
{
    m_flushPosted = false;
    if (m_dirty.empty())
        return;
    std::vector<Outbox *> dirty;
    dirty.swap(m_dirty);
    const qint64 lag = m_oldestPush < 0 ? 0 : m_clock.nsecsElapsed() / 1000 - m_oldestPush;
    m_oldestPush = -1;
    m_flushing = &dirty;
    for (Outbox *&outbox : dirty) {
        if (!outbox)
            continue; // deleted by a sink's overflow() earlier in this flush
        Outbox *current = outbox;
        current->m_dirty = false;
        outbox = nullptr;
        flushOne(*current);
    }
    m_flushing = nullptr;
    m_worstLag = std::max(m_worstLag, lag);
    if (m_meters.lag)
        m_meters.lag->observeNanoseconds(lag * 1000);
    emit flushed(lag);
}

qint64 StreamHub::takeWorstLagMicros()
{
    return std::exchange(m_worstLag, 0);
}

QByteArray webSocketTextFrame(QByteArrayView payload)
{
    const qsizetype size = payload.size();
    QByteArray frame;
    frame.reserve(size + 10);
    frame.append(char(0x81)); // FIN, text
    if (size <= 125) {
        frame.append(char(size));
    } else if (size <= 0xFFFF) {
        frame.append(char(126));
        const quint16 length = qToBigEndian(quint16(size));
        frame.append(reinterpret_cast<const char *>(&length), 2);
    } else {
        frame.append(char(127));
        const quint64 length = qToBigEndian(quint64(size));
        frame.append(reinterpret_cast<const char *>(&length), 8);
    }
    frame.append(payload);
    return frame;
}

} // namespace bourse::server
