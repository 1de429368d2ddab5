#include "query_pool.h"

#include "sql_log.h"

#include <algorithm>

namespace bourse::sql {

int QueryPool::Options::defaultThreads()
{
    return std::clamp(QThread::idealThreadCount(), 2, 4);
}

QueryPool::QueryPool(ConnectionFactory factory, Options options)
    : m_factory(std::move(factory))
    , m_options(std::move(options))
{
    m_options.threads = std::max(1, m_options.threads);
    m_options.maxQueued = std::max<std::size_t>(1, m_options.maxQueued);
}

QueryPool::~QueryPool()
{
    stop();
}

void QueryPool::start()
{
    {
        std::lock_guard lock(m_mutex);
        if (m_started || m_stopping)
            return;
        m_started = true;
        m_stats.threads = m_options.threads;
    }
    for (int i = 0; i < m_options.threads; ++i) {
        m_threads.emplace_back(QThread::create([this] { work(); }));
        m_threads.back()->setObjectName(QStringLiteral("%1-%2").arg(m_options.purpose).arg(i + 1));
        m_threads.back()->start();
    }
}

void QueryPool::stop(std::chrono::milliseconds finishWithin)
{
    std::deque<std::unique_ptr<Task>> rest;
    {
        std::unique_lock lock(m_mutex);
        m_stopping = true;
        m_wake.notify_all();
        if (!m_threads.empty())
            m_drained.wait_for(lock, finishWithin, [this] { return m_queue.empty(); });
        rest.swap(m_queue);
        m_stats.refused += rest.size();
    }
    m_wake.notify_all();
    for (const std::unique_ptr<Task> &task : rest)
        task->fail(QueryError{QueryError::Kind::Stopped, QStringLiteral("the server stopped before the query ran")});
    rest.clear();
    for (const std::unique_ptr<QThread> &thread : m_threads)
        thread->wait();
    m_threads.clear();
}

void QueryPool::enqueue(std::unique_ptr<Task> task)
{
    std::optional<QueryError> refusal;
    {
        std::lock_guard lock(m_mutex);
        if (m_stopping) {
            refusal = QueryError{QueryError::Kind::Stopped, QStringLiteral("the server is stopping")};
        } else if (m_queue.size() >= m_options.maxQueued) {
            refusal = QueryError{QueryError::Kind::Busy,
                                 QStringLiteral("the database is busy: %1 queries are waiting").arg(m_queue.size())};
        } else {
            m_queue.push_back(std::move(task));
        }
        if (refusal)
            ++m_stats.refused;
    }
    if (refusal)
        task->fail(std::move(*refusal));
    else
        m_wake.notify_one();
}

QueryPool::Stats QueryPool::stats() const
{
    std::lock_guard lock(m_mutex);
    Stats stats = m_stats;
    stats.queued = m_queue.size();
    return stats;
}

void QueryPool::work()
{
    std::optional<Connection> connection;
    // While the database cannot be reached: why, and when to try again.
    QString unreachable;
    std::chrono::steady_clock::time_point retryAt;
    bool failing = false;

    for (;;) {
        std::unique_ptr<Task> task;
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
            if (m_queue.empty())
                break; // stopping, and nothing is left
            task = std::move(m_queue.front());
            m_queue.pop_front();
            ++m_stats.running;
            if (m_queue.empty())
                m_drained.notify_all();
        }

        if (!connection && std::chrono::steady_clock::now() >= retryAt) {
            auto opened = m_factory.open(m_options.purpose);
            if (opened) {
                connection.emplace(std::move(opened.value()));
                std::lock_guard lock(m_mutex);
                ++m_stats.connections;
            } else {
                unreachable = opened.error();
                retryAt = std::chrono::steady_clock::now() + m_options.reconnectPause;
            }
        }

        bool ok = false;
        if (!connection) {
            if (!failing)
                qCWarning(lcSql).noquote() << "queries fail: cannot connect:" << unreachable;
            failing = true;
            task->fail(QueryError{QueryError::Kind::Unavailable, unreachable});
        } else {
            if (failing)
                qCInfo(lcSql) << "queries run again";
            failing = false;
            const std::optional<QString> error = task->run(connection->database());
            ok = !error;
            QueryError::Kind kind = QueryError::Kind::Failed;
            // A failed job may have met a dead connection (a restarted server, a dropped link): if the driver
            // has closed it, or even the simplest statement fails now, the next job gets a fresh one.
            if (error && (!connection->database().isOpen() || connection->execute(QStringLiteral("SELECT 1")))) {
                qCWarning(lcSql).noquote() << "a query connection broke, reconnecting for the next query:" << *error;
                kind = QueryError::Kind::Unavailable;
                connection.reset();
                std::lock_guard lock(m_mutex);
                --m_stats.connections;
            }
            task->complete(kind);
        }
        task.reset(); // the job's captures go here, on the worker

        std::lock_guard lock(m_mutex);
        --m_stats.running;
        ++(ok ? m_stats.completed : m_stats.failed);
    }

    if (connection) {
        connection.reset(); // on this thread, which opened it
        std::lock_guard lock(m_mutex);
        --m_stats.connections;
    }
}

} // namespace bourse::sql
