// EngineHost: runs the matching engine on a thread of its own. The Sequencer is created on that thread and
// only ever touched there, so the engine needs no locks; the one shared structure is the command queue
// behind submit(). Every command's outcome comes back as a QFuture (continue it with .then(context, ...)
// to get it on your own thread), and every applied batch is announced by batchApplied(), which the
// journal and the GUI models will listen to. Created, started and stopped on the main thread; submit()
// from any thread.
#pragma once

#include "command.h"
#include "event.h"
#include "sequencer.h"

#include <QFuture>
#include <QObject>
#include <QPromise>
#include <QThread>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

namespace bourse::app {

struct EngineReply
{
    enum class Status : std::uint8_t {
        Applied,       // the engine took the command: result says whether it accepted or rejected it
        EngineStopped, // the engine had stopped; nothing happened
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
    explicit EngineHost(QObject *parent = nullptr);
    ~EngineHost() override; // stop()s

    // Starts the engine thread; commands submitted before wait for it.
    void start();
    // Applies what is already queued, then ends the engine thread and waits for it. Commands submitted
    // afterwards complete at once with EngineStopped. Idempotent.
    void stop();
    bool isRunning() const;

    // Queues one command. Commands apply in the order they were submitted, one at a time.
    QFuture<EngineReply> submit(const Command &command);

signals:
    // Emitted on the engine thread once a batch has been applied and its futures completed; receivers on
    // other threads get it queued.
    void batchApplied(const bourse::app::EngineBatch &batch);

private:
    struct Pending
    {
        Command command;
        QPromise<EngineReply> promise;
    };

    void run(); // the engine thread's whole life

    std::unique_ptr<QThread> m_thread; // main thread only

    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<Pending> m_queue; // guarded by m_mutex
    bool m_stopped = false;      // guarded by m_mutex
};

} // namespace bourse::app
