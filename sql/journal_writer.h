// JournalWriter: the journal thread. Takes batches from the engine thread and makes them durable with
// group commit: while one transaction commits, the next batches queue up, and the next transaction takes
// them all, so commits grow with load and latency stays one commit. A batch's `done` runs only after its
// COMMIT (on the journal thread): that is when acks may be released and events published. If the database
// fails, nothing is acknowledged: the writer reconnects with backoff and writes the same batches again,
// skipping whatever a lost COMMIT reply had in fact made durable, so nothing is written twice. While it
// fails, isAvailable() is false, so that the engine refuses new commands instead of piling them up
// (callers get SERVICE_UNAVAILABLE); batches already handed over wait and are acknowledged once they are
// durable.
// Created, started and stopped on one thread (the main thread); append() from any thread.
#pragma once

#include "connection.h"
#include "journal.h"

#include <QObject>
#include <QThread>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

namespace bourse::sql {

class JournalWriter final : public QObject
{
    Q_OBJECT

public:
    // Gets the batch back once it is durable (or has failed), so the events can go on to publishing
    // without a copy.
    using Done = std::function<void(const Expected<JournalPosition, QString> &, JournalBatch &&)>;

    struct Options
    {
        std::chrono::milliseconds firstRetryDelay{50};
        std::chrono::milliseconds maxRetryDelay{5000};
        std::size_t maxEventsPerCommit = 100'000; // bounds one transaction's size, not its wait
    };

    explicit JournalWriter(ConnectionFactory factory, Options options, QObject *parent = nullptr);
    explicit JournalWriter(ConnectionFactory factory, QObject *parent = nullptr)
        : JournalWriter(std::move(factory), Options{}, parent)
    {}
    ~JournalWriter() override; // stop()s

    void start();
    // Writes everything queued (retrying while the database fails, until `giveUpAfter`), then ends the
    // thread. Batches still unwritten then get their done() with an error.
    void stop(std::chrono::milliseconds giveUpAfter = std::chrono::seconds(5));

    // Queues a batch for the next commit. After the thread has ended (stop()), done() runs at once, on
    // the calling thread, with an error.
    void append(JournalBatch batch, Done done);

    // False from a failed write until a write works again. Any thread.
    bool isAvailable() const { return m_available.load(std::memory_order_acquire); }
    // Events handed over and not yet durable. Any thread.
    std::size_t pendingEvents() const { return m_pendingEvents.load(std::memory_order_relaxed); }

signals:
    // From the journal thread, after each COMMIT.
    void committed(bourse::sql::JournalPosition position, int batches, qint64 commitMicroseconds);
    // From the journal thread when writing fails (each retry) and when it works again.
    void unavailable(const QString &reason);
    void available();

private:
    struct Pending
    {
        JournalBatch batch;
        Done done;
    };

    void run();

    ConnectionFactory m_factory;
    Options m_options;
    std::unique_ptr<QThread> m_thread;

    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<Pending> m_queue;                            // guarded by m_mutex
    bool m_stopping = false;                                // guarded by m_mutex
    bool m_finished = false; // the thread has ended: append() fails at once; guarded by m_mutex
    std::chrono::steady_clock::time_point m_giveUpAt;       // guarded by m_mutex
    std::atomic<bool> m_available{true};
    std::atomic<std::size_t> m_pendingEvents{0};
};

} // namespace bourse::sql
