// QueryPool: the threads that run the API's reads (repositories.h), so that no query ever runs on the
// engine thread, an I/O thread or the GUI thread. A fixed number of workers take jobs from one shared,
// bounded queue; each worker opens its own "query" connection through the ConnectionFactory when it first
// needs one, keeps it for its life and closes it on its own thread when it ends (Qt's rule for
// QSqlDatabase). submit() hands a job over and returns a QFuture of its result at once; a full queue or a
// stopped pool answers with an error straight away instead of growing or blocking.
//
// A job whose connection turns out to be broken gets its error (Unavailable), and the worker opens a fresh
// connection for its next job; while the database cannot be reached, jobs fail fast with the reason.
//
// Created, started and stopped on one thread (the main thread); submit() and stats() from any thread.
#pragma once

#include "connection.h"
#include "expected.h"

#include <QFuture>
#include <QPromise>
#include <QSqlDatabase>
#include <QString>
#include <QThread>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace bourse::sql {

// Why a job gave no value. The HTTP layer answers 503 for all but Failed, which is a bug (500).
struct QueryError
{
    enum class Kind : std::uint8_t {
        Busy,        // the queue was full: the job never ran
        Stopped,     // the pool was stopping or stopped before the job ran
        Unavailable, // the database could not be reached, or the connection broke during the job
        Failed,      // the job itself failed on a working connection
    };

    Kind kind = Kind::Failed;
    QString message; // one line, no password, no SQL payload
};

template<typename T>
using QueryResult = Expected<T, QueryError>;

class QueryPool final
{
public:
    struct Options
    {
        int threads = defaultThreads();
        std::size_t maxQueued = 512; // jobs waiting for a worker; more are refused as Busy
        // After failing to connect, a worker fails its jobs with that reason for this long before it
        // tries again, so that an unreachable server costs each job no connect timeout.
        std::chrono::milliseconds reconnectPause{500};
        QString purpose = QStringLiteral("query"); // the connections' purpose (their names, application_name)

        static int defaultThreads(); // the core count, within 2..4
    };

    struct Stats
    {
        int threads = 0;
        int connections = 0; // workers holding an open connection
        int running = 0;
        std::size_t queued = 0;
        std::uint64_t completed = 0; // jobs that returned a value
        std::uint64_t failed = 0;    // jobs that ran and returned an error, or whose connection failed
        std::uint64_t refused = 0;   // Busy and Stopped
    };

    QueryPool(ConnectionFactory factory, Options options);
    explicit QueryPool(ConnectionFactory factory)
        : QueryPool(std::move(factory), Options{})
    {}
    ~QueryPool(); // stop()s
    QueryPool(const QueryPool &) = delete;
    QueryPool &operator=(const QueryPool &) = delete;

    // Starts the workers; jobs submitted before wait for them. Once only.
    void start();
    // Refuses new jobs (Stopped), lets the workers run what is queued for up to `finishWithin`, fails what
    // is still queued then (Stopped), waits for the running jobs to end and the workers to close their
    // connections. A job that never returns keeps stop() waiting: jobs must not block on anything but the
    // database.
    void stop(std::chrono::milliseconds finishWithin = std::chrono::seconds(5));

    // Runs `job(QSqlDatabase &)` on a worker. The job returns Expected<T, QString> (a repository function's
    // result); the future gets its value, or a QueryError: its error as Failed (Unavailable when the
    // connection proved broken), or Busy, Stopped, Unavailable when it could not run. The future is ready
    // at once when the job is refused. The job is moved into the pool and destroyed on the worker that ran
    // it (or, refused, before submit() or stop() returns).
    template<typename Job>
    auto submit(Job &&job);

    Stats stats() const;

private:
    template<typename Result>
    struct ResultTraits
    {
        static_assert(sizeof(Result) == 0, "a QueryPool job returns Expected<T, QString>");
    };
    template<typename T>
    struct ResultTraits<Expected<T, QString>>
    {
        using Value = T;
    };

    // One queued job, its callable and its promise, type-erased.
    class Task
    {
    public:
        virtual ~Task() = default;
        // Runs the job; its error, if it returned one (complete() then reports it).
        virtual std::optional<QString> run(QSqlDatabase &db) = 0;
        // Completes the future: with the job's result after run(), else with `error`. `kind` is how a
        // job error is reported.
        virtual void complete(QueryError::Kind kind) = 0;
        virtual void fail(QueryError error) = 0;
    };

    template<typename Job, typename T>
    class TypedTask final : public Task
    {
    public:
        explicit TypedTask(Job job)
            : m_job(std::move(job))
        {
            m_promise.start();
        }
        QFuture<QueryResult<T>> future() { return m_promise.future(); }
        std::optional<QString> run(QSqlDatabase &db) override
        {
            m_result.emplace(m_job(db));
            if (m_result->hasValue())
                return std::nullopt;
            return m_result->error();
        }
        void complete(QueryError::Kind kind) override
        {
            if (m_result->hasValue())
                finish(QueryResult<T>(std::move(m_result->value())));
            else
                finish(QueryResult<T>(unexpected(QueryError{kind, m_result->error()})));
        }
        void fail(QueryError error) override { finish(QueryResult<T>(unexpected(std::move(error)))); }

    private:
        void finish(QueryResult<T> result)
        {
            m_promise.addResult(std::move(result));
            m_promise.finish();
        }

        Job m_job;
        QPromise<QueryResult<T>> m_promise;
        std::optional<Expected<T, QString>> m_result;
    };

    // Queues the task, or fails it at once (Busy, Stopped).
    void enqueue(std::unique_ptr<Task> task);
    void work();

    ConnectionFactory m_factory;
    Options m_options;
    std::vector<std::unique_ptr<QThread>> m_threads; // the starting thread's

    mutable std::mutex m_mutex;
    std::condition_variable m_wake;            // workers: a job queued, or stopping
    std::condition_variable m_drained;         // stop(): the queue is empty
    std::deque<std::unique_ptr<Task>> m_queue; // guarded by m_mutex
    bool m_started = false;                    // guarded by m_mutex
    bool m_stopping = false;                   // guarded by m_mutex
    Stats m_stats;                             // guarded by m_mutex; `queued` is m_queue.size()
};

template<typename Job>
auto QueryPool::submit(Job &&job)
{
    using Callable = std::decay_t<Job>;
    static_assert(std::is_invocable_v<Callable &, QSqlDatabase &>, "a job is called with the worker's QSqlDatabase &");
    using Result = std::invoke_result_t<Callable &, QSqlDatabase &>;
    using T = typename ResultTraits<Result>::Value; // a job returns Expected<T, QString>
    auto task = std::make_unique<TypedTask<Callable, T>>(Callable(std::forward<Job>(job)));
    QFuture<QueryResult<T>> future = task->future();
    enqueue(std::move(task));
    return future;
}

} // namespace bourse::sql
