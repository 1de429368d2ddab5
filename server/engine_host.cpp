#include "engine_host.h"

#include <cstddef>

namespace bourse::server {

EngineHost::EngineHost(QObject *parent)
    : QObject(parent)
{}

EngineHost::EngineHost(Setup setup, QObject *parent)
    : QObject(parent)
    , m_setup(std::move(setup))
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
        refuse(pending, EngineReply::Status::EngineStopped);
    }
}

void EngineHost::complete(Pending &pending, EngineReply &&reply)
{
    if (pending.done) {
        pending.done(std::move(reply));
        return;
    }
    pending.promise.addResult(std::move(reply));
    pending.promise.finish();
}

void EngineHost::refuse(Pending &pending, EngineReply::Status status)
{
    EngineReply reply;
    reply.status = status;
    complete(pending, std::move(reply));
}

bool EngineHost::isRunning() const
{
    return m_thread && m_thread->isRunning();
}

std::unique_ptr<Sequencer> EngineHost::takeEngine()
{
    if (m_thread)
        return nullptr;
    return std::move(m_setup.engine);
}

QFuture<EngineReply> EngineHost::submit(const Command &command)
{
    Pending pending{command, QPromise<EngineReply>(), nullptr};
    pending.promise.start();
    QFuture<EngineReply> future = pending.promise.future();
    enqueue(std::move(pending));
    return future;
}

void EngineHost::submit(const Command &command, Done done)
{
    enqueue(Pending{command, QPromise<EngineReply>(), std::move(done)});
}

void EngineHost::enqueue(Pending pending)
{
    {
        const std::lock_guard lock(m_mutex);
        if (!m_stopped) {
            m_queue.push_back(std::move(pending));
            m_wake.notify_one();
            return;
        }
    }
    refuse(pending, EngineReply::Status::EngineStopped);
}

void EngineHost::run()
{
    std::unique_ptr<Sequencer> sequencer = m_setup.engine ? std::move(m_setup.engine) : std::make_unique<Sequencer>();
    Seq commandSeq = m_setup.lastCommandSeq;
    std::uint64_t sinceSnapshot = 0;
    std::deque<Pending> taken;
    for (;;) {
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [this] { return !m_queue.empty() || m_stopped; });
            if (m_queue.empty()) {
                // Stopped, and everything queued before the stop has been applied. stop() waits for this
                // thread before anyone may take the engine back.
                m_setup.engine = std::move(sequencer);
                return;
            }
            taken.swap(m_queue);
        }
        if (m_setup.journal && !m_setup.journal->isAvailable()) {
            for (Pending &pending : taken)
                refuse(pending, EngineReply::Status::Unavailable);
            taken.clear();
            continue;
        }
        // Shared with the journal's done(), which may run after this loop has moved on.
        auto batch = std::make_shared<std::vector<Pending>>(std::make_move_iterator(taken.begin()),
                                                            std::make_move_iterator(taken.end()));
        taken.clear();
        auto replies = std::make_shared<std::vector<EngineReply>>(batch->size());
        sql::JournalBatch journal;
        for (std::size_t i = 0; i < batch->size(); ++i) {
            const Command &command = (*batch)[i].command;
            const std::size_t first = journal.events.size();
            EngineReply &reply = (*replies)[i];
            reply.status = EngineReply::Status::Applied;
            reply.result = sequencer->apply(command, journal.events);
            reply.events.assign(journal.events.begin() + static_cast<std::ptrdiff_t>(first), journal.events.end());
            journal.commands.push_back(
                sql::JournalCommand{++commandSeq, command, reply.result.firstSeq, reply.result.lastSeq});
        }
        sinceSnapshot += batch->size();
        if (m_setup.journal && sinceSnapshot >= m_setup.snapshotEvery) {
            sql::JournalSnapshot snapshot{commandSeq,
                                          sequencer->lastSeq(),
                                          sequencer->lastTime(),
                                          sequencer->stateHash(),
                                          {}};
            sequencer->saveSnapshot(snapshot.bytes);
            journal.snapshot = std::move(snapshot);
            sinceSnapshot = 0;
        }
        const Seq lastSeq = sequencer->lastSeq();
        if (!m_setup.journal) {
            release(*batch, *replies, true, std::move(journal.events), lastSeq);
            continue;
        }
        m_setup.journal->append(std::move(journal),
                                [this, batch, replies, lastSeq](const Expected<sql::JournalPosition, QString> &written,
                                                                sql::JournalBatch &&committed) {
                                    release(*batch, *replies, written.hasValue(), std::move(committed.events), lastSeq);
                                });
    }
}

void EngineHost::release(std::vector<Pending> &batch, std::vector<EngineReply> &replies, bool durable,
                         std::vector<Event> &&events, Seq lastSeq)
{
    // The batch first: both reach the service's thread queued, in this order, so a reply is never handled
    // (and answered) before the market state shows its events.
    if (durable)
        emit batchApplied(EngineBatch{std::make_shared<const std::vector<Event>>(std::move(events)), lastSeq});
    for (std::size_t i = 0; i < batch.size(); ++i) {
        if (!durable) {
            replies[i].status = EngineReply::Status::NotDurable;
            replies[i].events.clear();
        }
        complete(batch[i], std::move(replies[i]));
    }
}

} // namespace bourse::server
