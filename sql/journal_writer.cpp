#include "journal_writer.h"

#include "sql_log.h"

#include <QElapsedTimer>

namespace bourse::sql {

JournalWriter::JournalWriter(ConnectionFactory factory, Options options, QObject *parent)
    : QObject(parent)
    , m_factory(std::move(factory))
    , m_options(options)
{}

JournalWriter::~JournalWriter()
{
    stop();
}

void JournalWriter::start()
{
    if (m_thread)
        return;
    m_thread.reset(QThread::create([this] { run(); }));
    m_thread->setObjectName(QStringLiteral("journal"));
    m_thread->start();
}

void JournalWriter::stop(std::chrono::milliseconds giveUpAfter)
{
    if (!m_thread)
        return;
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
        m_giveUpAt = std::chrono::steady_clock::now() + giveUpAfter;
    }
    m_wake.notify_all();
    m_thread->wait();
    m_thread.reset();
}

void JournalWriter::append(JournalBatch batch, Done done)
{
    {
        std::lock_guard lock(m_mutex);
        if (!m_finished) {
            m_pendingEvents.fetch_add(batch.events.size(), std::memory_order_relaxed);
            m_queue.push_back(Pending{std::move(batch), std::move(done)});
            m_wake.notify_one();
            return;
        }
    }
    // The thread has ended: nothing will write this batch.
    done(unexpected(QStringLiteral("the journal has stopped")), std::move(batch));
}

void JournalWriter::run()
{
    std::optional<Connection> connection;
    JournalScratch scratch;
    std::vector<Pending> taking;
    std::vector<JournalBatch> batches;
    std::chrono::milliseconds delay = m_options.firstRetryDelay;

    for (;;) {
        {
            std::unique_lock lock(m_mutex);
            if (taking.empty()) {
                m_wake.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
                if (m_queue.empty()) {
                    m_finished = true; // stopping, and everything is written
                    return;
                }
                // Group commit: everything that queued while the last transaction ran.
                std::size_t events = 0;
                while (!m_queue.empty() && (taking.empty() || events < m_options.maxEventsPerCommit)) {
                    events += m_queue.front().batch.events.size();
                    taking.push_back(std::move(m_queue.front()));
                    m_queue.pop_front();
                }
            } else if (m_stopping && std::chrono::steady_clock::now() >= m_giveUpAt) {
                // Shutting down with the database still failing: say so to every waiting batch (outside
                // the lock: a done() may append).
                std::deque<Pending> rest;
                rest.swap(m_queue);
                m_finished = true;
                m_pendingEvents.store(0, std::memory_order_relaxed);
                lock.unlock();
                const Expected<JournalPosition, QString> failed =
                    unexpected(QStringLiteral("the journal could not be written before shutdown"));
                for (Pending &pending : taking)
                    pending.done(failed, std::move(pending.batch));
                for (Pending &pending : rest)
                    pending.done(failed, std::move(pending.batch));
                return;
            }
        }

        QString error;
        if (!connection) {
            auto opened = m_factory.open(u"journal");
            if (!opened) {
                error = opened.error();
            } else if (std::optional<QString> locked = lockJournal(opened->database(), std::chrono::milliseconds(0))) {
                error = *locked; // a dying writer's backend may still hold it: retried like any failure
            } else {
                connection.emplace(std::move(opened.value()));
            }
        }
        if (connection) {
            batches.clear();
            for (Pending &pending : taking)
                batches.push_back(std::move(pending.batch));
            QElapsedTimer timer;
            timer.start();
            const auto written = writeBatches(connection->database(), batches, scratch);
            // Keep the batches for a retry until they are durable.
            for (std::size_t i = 0; i < taking.size(); ++i)
                taking[i].batch = std::move(batches[i]);
            if (written) {
                const qint64 micros = timer.nsecsElapsed() / 1000;
                // Before the acks: a caller that sees its command acknowledged may send the next one at
                // once, and must not find the engine still refusing.
                const bool recovered = !m_available.exchange(true, std::memory_order_acq_rel);
                for (Pending &pending : taking) {
                    m_pendingEvents.fetch_sub(pending.batch.events.size(), std::memory_order_relaxed);
                    pending.done(written, std::move(pending.batch));
                }
                emit committed(*written, static_cast<int>(taking.size()), micros);
                taking.clear();
                if (recovered) {
                    delay = m_options.firstRetryDelay;
                    qCInfo(lcSql) << "journal writes again";
                    emit available();
                }
                continue;
            }
            error = written.error();
            connection.reset(); // a fresh connection for the retry
        }

        // Nothing is acknowledged while failing; try again after a growing pause (stop() cuts it short).
        qCWarning(lcSql).noquote() << "journal write failed, retrying in" << delay.count() << "ms:" << error;
        m_available.store(false, std::memory_order_release);
        emit unavailable(error);
        std::unique_lock lock(m_mutex);
        m_wake.wait_for(lock, delay, [this] { return m_stopping && std::chrono::steady_clock::now() >= m_giveUpAt; });
        delay = std::min(delay * 2, m_options.maxRetryDelay);
    }
}

} // namespace bourse::sql
