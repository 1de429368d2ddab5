// EngineHost: runs the matching engine on a thread of its own. The Sequencer is handed over before the
// thread starts and from then on only touched there, so the engine needs no locks; the one shared
// structure is the command queue behind submit(). The thread applies whatever has queued as one batch,
// numbers the commands, and hands the batch to the journal; only after the journal's COMMIT does each
// command's QFuture complete and batchApplied() announce the events (DESIGN.md: nobody sees an event a
// crash could take back). Without a journal (unit tests) replies are released at once. While the journal
// cannot write, new commands are refused with Status::Unavailable before they reach the engine: nothing
// piles up in memory that a crash would lose, and no caller waits on a database that may not come back.
// Created, started and stopped on the main thread; submit() from any thread.
#pragma once

#include "command.h"
#include "event.h"
#include "journal_writer.h"
#include "sequencer.h"

#include <QFuture>
#include <QObject>
#include <QPromise>
#include <QThread>

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace bourse::server {

struct EngineReply
{
    enum class Status : std::uint8_t {
        Applied,       // durable: result says whether the engine accepted or rejected it
        EngineStopped, // the engine had stopped; nothing happened
        NotDurable,    // the engine applied it but the journal could not make it durable before shutdown
        Unavailable,   // the journal is failing (database unreachable, disk full): refused, nothing happened
    };

    Status status = Status::EngineStopped;
    CommandResult result;
    std::vector<Event> events; // the command's events, in order
};

struct EngineBatch
{
    std::shared_ptr<const std::vector<Event>> events; // shared by every receiver, never copied
    Seq lastSeq = 0;
};

class EngineHost final : public QObject
{
    Q_OBJECT

public:
    struct Setup
    {
        std::unique_ptr<Sequencer> engine;     // null: an empty engine
        Seq lastCommandSeq = 0;                // the journal's last command: numbering goes on from here
        sql::JournalWriter *journal = nullptr; // null: no durability (unit tests); must outlive stop()
        std::uint64_t snapshotEvery = 100'000; // commands between snapshots written to the journal
    };

    explicit EngineHost(QObject *parent = nullptr);
    explicit EngineHost(Setup setup, QObject *parent = nullptr);
    ~EngineHost() override; // stop()s

    // Starts the engine thread; commands submitted before wait for it.
    void start();
    // Applies what is already queued, then ends the engine thread and waits for it. Commands submitted
    // afterwards complete at once with EngineStopped. Idempotent.
    void stop();
    bool isRunning() const;
    // False while the journal cannot write: commands submitted now are refused (Unavailable). Any thread.
    bool acceptsCommands() const { return !m_setup.journal || m_setup.journal->isAvailable(); }
    // After stop(): the engine, with every command it applied (tests compare it with what recovery
    // rebuilds). Null while running, and after a first call.
    std::unique_ptr<Sequencer> takeEngine();

    // Queues one command. Commands apply in the order they were submitted, one at a time.
    QFuture<EngineReply> submit(const Command &command);
    // The same, with the reply handed to `done` instead of a future: on the journal thread after COMMIT (on
    // the calling thread at once when refused). `done` must be quick — post the reply onward — since the
    // whole batch's replies are released one after another. Cheaper than a future per command.
    using Done = std::function<void(EngineReply &&)>;
    void submit(const Command &command, Done done);

signals:
    // Emitted on the engine thread once a batch has been applied and its futures completed; receivers on
    // other threads get it queued.
    void batchApplied(const bourse::server::EngineBatch &batch);

private:
    struct Pending
    {
        Command command;
        QPromise<EngineReply> promise; // unused when done is set
        Done done;
    };

    // Hands a command its reply, through its callback or its future.
    static void complete(Pending &pending, EngineReply &&reply);
    // Completes a command without applying it.
    static void refuse(Pending &pending, EngineReply::Status status);
    void enqueue(Pending pending);
    void run(); // the engine thread's whole life
    // Completes the batch's futures and announces its events; on the journal thread after COMMIT.
    void release(std::vector<Pending> &batch, std::vector<EngineReply> &replies, bool durable,
                 std::vector<Event> &&events, Seq lastSeq);

    Setup m_setup; // the engine moves to the engine thread when it starts

    std::unique_ptr<QThread> m_thread; // main thread only

    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<Pending> m_queue; // guarded by m_mutex
    bool m_stopped = false;      // guarded by m_mutex
};

} // namespace bourse::server
