#include "engine_host.h"

#include <cstddef>

namespace bourse::app {

EngineHost::EngineHost(QObject *parent)
    : QObject(parent)
{}

EngineHost::~EngineHost()
{
    stop();
}

void EngineHost::start()
{
    if (m_thread)
        return;
    m_thread.reset(QThread::create([this] { run(); }));
    m_thread->setObjectName(QStringLiteral("engine"));
    m_thread->start();
}

void EngineHost::stop()
{
    {
        const std::lock_guard lock(m_mutex);
        m_stopped = true;
    }
    m_wake.notify_all();
    if (m_thread) {
        m_thread->wait();
        m_thread.reset();
    }
    // Only a host that was never started can still hold commands here.
    std::deque<Pending> left;
    {
        const std::lock_guard lock(m_mutex);
        left.swap(m_queue);
    }
    for (Pending &pending : left) {
        pending.promise.addResult(EngineReply{});
        pending.promise.finish();
    }
}

bool EngineHost::isRunning() const
{
    return m_thread && m_thread->isRunning();
}

QFuture<EngineReply> EngineHost::submit(const Command &command)
{
    QPromise<EngineReply> promise;
    promise.start();
    QFuture<EngineReply> future = promise.future();
    bool queued = false;
    {
        const std::lock_guard lock(m_mutex);
        if (!m_stopped) {
            m_queue.push_back(Pending{command, std::move(promise)});
            queued = true;
        }
    }
    if (!queued) {
        promise.addResult(EngineReply{});
        promise.finish();
        return future;
    }
    m_wake.notify_one();
    return future;
}

void EngineHost::run()
{
    // Made here rather than in the constructor, so that the engine's memory belongs to this thread from
    // its first byte and nothing else ever holds a pointer to it.
    const auto sequencer = std::make_unique<Sequencer>();
    std::deque<Pending> batch;
    for (;;) {
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [this] { return !m_queue.empty() || m_stopped; });
            if (m_queue.empty())
                return; // stopped, and everything queued before the stop has been applied
            batch.swap(m_queue);
        }
        // The storage issue puts the journal between apply and the replies: they are released only once
        // the batch has committed.
        auto events = std::make_shared<std::vector<Event>>();
        for (Pending &pending : batch) {
            const auto first = static_cast<std::ptrdiff_t>(events->size());
            EngineReply reply;
            reply.status = EngineReply::Status::Applied;
            reply.result = sequencer->apply(pending.command, *events);
            reply.events.assign(events->begin() + first, events->end());
            pending.promise.addResult(std::move(reply));
            pending.promise.finish();
        }
        batch.clear();
        emit batchApplied(EngineBatch{std::move(events), sequencer->lastSeq()});
    }
}

} // namespace bourse::app
