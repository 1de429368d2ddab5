// The journal benchmarks: durable events per second through the real JournalWriter (group commit, one
// fsync'd COMMIT per transaction) on SQLite and on a private PostgreSQL 15 cluster, commit latency, the
// latency of a lone command's commit (a quiet venue: one command per transaction), and recovery: replay
// rate and the start-up time with a journal of about a million events.
// Prints `BENCH <name> <value> <unit>` lines. Not a test: figures, never pass/fail.
#include "connection.h"
#include "journal.h"
#include "journal_history.h"
#include "journal_writer.h"
#include "test_databases.h"

#include <QCoreApplication>
#include <QElapsedTimer>

#include <algorithm>
#include <cstdio>
#include <mutex>

using namespace bourse;
using namespace bourse::sql;

namespace {

constexpr int kCommandsPerBatch = 64; // what the engine thread hands over per wake-up under load

struct History
{
    std::vector<JournalBatch> batches;
    std::size_t events = 0;
    std::size_t commands = 0;
};

History makeHistory(std::size_t wantedEvents)
{
    History history;
    test::JournalHistory source(20261121);
    while (history.events < wantedEvents) {
        JournalBatch batch = source.nextBatch(kCommandsPerBatch);
        history.events += batch.events.size();
        history.commands += batch.commands.size();
        history.batches.push_back(std::move(batch));
    }
    return history;
}

void bench(const char *name, double value, const char *unit)
{
    std::printf("BENCH %s %.*f %s\n", name, value >= 100 ? 0 : 2, value, unit);
    std::fflush(stdout);
}

double percentile(std::vector<qint64> samples, double q)
{
    if (samples.empty())
        return 0;
    std::sort(samples.begin(), samples.end());
    return static_cast<double>(samples[static_cast<std::size_t>(q * static_cast<double>(samples.size() - 1))]);
}

// Appends every batch as fast as the engine could, and waits for the last acknowledgement.
bool writeThroughWriter(const ConnectionFactory &factory, const History &history, const char *driver)
{
    JournalWriter writer(factory);
    std::mutex mutex;
    std::vector<qint64> commitMicros; // guarded by mutex
    std::vector<int> batchesPerCommit; // guarded by mutex
    QObject::connect(
        &writer, &JournalWriter::committed, &writer,
        [&](JournalPosition, int batches, qint64 micros) {
            std::lock_guard lock(mutex);
            commitMicros.push_back(micros);
            batchesPerCommit.push_back(batches);
        },
        Qt::DirectConnection);
    std::size_t failures = 0;
    writer.start();
    QElapsedTimer timer;
    timer.start();
    for (const JournalBatch &batch : history.batches) {
        writer.append(batch, [&](const Expected<JournalPosition, QString> &written, JournalBatch &&) {
            if (!written) {
                std::lock_guard lock(mutex);
                ++failures;
            }
        });
    }
    writer.stop(std::chrono::seconds(60));
    const double seconds = static_cast<double>(timer.nsecsElapsed()) / 1e9;
    if (failures) {
        std::fprintf(stderr, "%s: %zu batches failed\n", driver, failures);
        return false;
    }
    const std::string prefix = std::string("journal_") + driver;
    bench((prefix + "_events_per_sec").c_str(), static_cast<double>(history.events) / seconds, "events/s");
    bench((prefix + "_commit_p50_us").c_str(), percentile(commitMicros, 0.50), "us");
    bench((prefix + "_commit_p99_us").c_str(), percentile(commitMicros, 0.99), "us");
    std::printf("# %s: %zu events, %zu commands in %.2f s, %zu commits (%.1f batches each on average)\n", driver,
                history.events, history.commands, seconds, commitMicros.size(),
                static_cast<double>(history.batches.size()) / static_cast<double>(std::max<std::size_t>(1, commitMicros.size())));
    return true;
}

// One command per transaction, each written before the next, as on a quiet venue: what a transaction costs
// beyond its rows (statements, round trips, the fsync'd COMMIT).
bool writeOneByOne(const ConnectionFactory &factory, const History &history, const char *driver)
{
    constexpr std::size_t kCommits = 2000;
    auto connection = factory.open(u"single");
    if (!connection) {
        std::fprintf(stderr, "%s\n", qPrintable(connection.error()));
        return false;
    }
    JournalScratch scratch;
    std::vector<qint64> commitMicros;
    std::vector<JournalBatch> single(1);
    for (const JournalBatch &batch : history.batches) {
        auto event = batch.events.begin();
        for (const JournalCommand &command : batch.commands) {
            JournalBatch &one = single.front();
            one.commands.assign(1, command);
            one.events.clear();
            for (; event != batch.events.end() && event->seq <= command.lastEventSeq; ++event)
                one.events.push_back(*event);
            QElapsedTimer timer;
            timer.start();
            const auto written = writeBatches(connection->database(), single, scratch);
            commitMicros.push_back(timer.nsecsElapsed() / 1000);
            if (!written) {
                std::fprintf(stderr, "%s: %s\n", driver, qPrintable(written.error()));
                return false;
            }
            if (commitMicros.size() == kCommits)
                break;
        }
        if (commitMicros.size() == kCommits)
            break;
    }
    const std::string prefix = std::string("journal_") + driver + "_single_command";
    bench((prefix + "_commit_p50_us").c_str(), percentile(commitMicros, 0.50), "us");
    bench((prefix + "_commit_p99_us").c_str(), percentile(commitMicros, 0.99), "us");
    return true;
}

bool measureRecovery(const ConnectionFactory &factory, const History &history, const char *driver)
{
    QElapsedTimer timer;
    timer.start();
    auto connection = factory.open(u"recovery");
    if (!connection) {
        std::fprintf(stderr, "%s\n", qPrintable(connection.error()));
        return false;
    }
    const auto recovered = recoverJournal(connection->database());
    const double seconds = static_cast<double>(timer.nsecsElapsed()) / 1e9;
    if (!recovered) {
        std::fprintf(stderr, "%s: %s\n", driver, qPrintable(recovered.error()));
        return false;
    }
    const std::string prefix = std::string("replay_") + driver;
    bench((prefix + "_events_per_sec").c_str(), static_cast<double>(recovered->checkedEvents) / seconds, "events/s");
    // Start-up with a journal of about a million events and no snapshot: connect, read, replay, check.
    bench((std::string("restart_") + driver + "_seconds_1m_events").c_str(), seconds, "s");
    std::printf("# %s: recovered %zu commands and %zu events in %.3f s (journal of %zu events)\n", driver,
                recovered->replayedCommands, recovered->checkedEvents, seconds, history.events);
    return true;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    auto databases = test::TestDatabases::create();
    if (!databases) {
        std::fprintf(stderr, "no test databases: %s\n", qPrintable(databases.error()));
        return 1;
    }
    const History history = makeHistory(1'000'000);
    bool ok = true;
    for (const auto driver : {DatabaseUrl::Driver::Sqlite, DatabaseUrl::Driver::PostgreSql}) {
        const char *name = driver == DatabaseUrl::Driver::Sqlite ? "sqlite" : "postgresql";
        auto url = databases.value()->freshMigrated(driver);
        if (!url) {
            std::fprintf(stderr, "%s\n", qPrintable(url.error()));
            return 1;
        }
        const ConnectionFactory factory(*url);
        ok = writeThroughWriter(factory, history, name) && ok;
        ok = measureRecovery(factory, history, name) && ok;
        auto quiet = databases.value()->freshMigrated(driver);
        if (!quiet) {
            std::fprintf(stderr, "%s\n", qPrintable(quiet.error()));
            return 1;
        }
        ok = writeOneByOne(ConnectionFactory(*quiet), history, name) && ok;
    }
    return ok ? 0 : 1;
}
