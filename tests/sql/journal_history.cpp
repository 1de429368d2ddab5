#include "journal_history.h"

namespace bourse::test {

CommandResult journalCommand(Sequencer &engine, Seq &commandSeq, const Command &command, sql::JournalBatch &batch,
                             std::vector<Event> &events)
{
    events.clear();
    const CommandResult result = engine.apply(command, events);
    batch.commands.push_back(sql::JournalCommand{++commandSeq, command, result.firstSeq, result.lastSeq});
    batch.events.insert(batch.events.end(), events.begin(), events.end());
    return result;
}

std::vector<Event> eventsOf(const std::vector<sql::JournalBatch> &batches)
{
    std::vector<Event> events;
    for (const sql::JournalBatch &batch : batches)
        events.insert(events.end(), batch.events.begin(), batch.events.end());
    return events;
}

JournalHistory::JournalHistory(std::uint64_t seed)
    : m_generator(seed)
    , m_engine(std::make_unique<Sequencer>())
{}

const std::vector<Event> &JournalHistory::journalNext(sql::JournalBatch &batch)
{
    journalCommand(*m_engine, m_commandSeq, m_generator.next(), batch, m_events);
    m_generator.observe(m_events);
    return m_events;
}

sql::JournalBatch JournalHistory::nextBatch(std::uint64_t size, Seq upTo)
{
    sql::JournalBatch batch;
    for (std::uint64_t i = 0; i < size && m_commandSeq < upTo; ++i)
        journalNext(batch);
    return batch;
}

std::vector<sql::JournalBatch> JournalHistory::batches(Seq commandCount, std::mt19937_64 &random,
                                                       std::uint64_t maxBatch, LastBatch last,
                                                       const std::function<void(sql::JournalBatch &)> &each)
{
    std::vector<sql::JournalBatch> made;
    while (m_commandSeq < commandCount) {
        const std::uint64_t size = 1 + random() % maxBatch;
        made.push_back(nextBatch(size, last == LastBatch::Cut ? commandCount : std::numeric_limits<Seq>::max()));
        if (each)
            each(made.back());
    }
    return made;
}

SnapshottedHistory snapshottedHistory(std::uint64_t seed, Seq commandCount, Seq snapshotEvery)
{
    SnapshottedHistory history;
    JournalHistory source(seed);
    std::mt19937_64 random(seed);
    Seq sinceSnapshot = 0;
    const auto snapshotAfter = [&](sql::JournalBatch &batch) {
        sinceSnapshot += batch.commands.size();
        if (snapshotEvery == 0 || sinceSnapshot < snapshotEvery)
            return;
        const Sequencer &engine = source.engine();
        sql::JournalSnapshot snapshot{source.commandSeq(), engine.lastSeq(), engine.lastTime(), engine.stateHash(), {}};
        engine.saveSnapshot(snapshot.bytes);
        batch.snapshot = std::move(snapshot);
        history.lastSnapshotCommand = source.commandSeq();
        sinceSnapshot = 0;
    };
    history.batches = source.batches(commandCount, random, 200, JournalHistory::LastBatch::Cut, snapshotAfter);
    history.finalHash = source.engine().stateHash();
    history.end = {source.commandSeq(), source.engine().lastSeq()};
    history.engine = source.takeEngine();
    return history;
}

std::optional<QString> writeInGroups(QSqlDatabase &db, const std::vector<sql::JournalBatch> &batches)
{
    sql::JournalScratch scratch;
    std::vector<sql::JournalBatch> group;
    for (std::size_t i = 0; i < batches.size(); ++i) {
        group.push_back(batches[i]);
        if (group.size() == 1 + i % 8 || i + 1 == batches.size()) {
            const auto written = sql::writeBatches(db, group, scratch);
            if (!written)
                return written.error();
            group.clear();
        }
    }
    return std::nullopt;
}

} // namespace bourse::test
