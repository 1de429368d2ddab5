// Venue commands applied to a Sequencer and journalled the way the engine host journals them: each one a
// JournalCommand numbered in turn, with the events it produced, in a sql::JournalBatch. journalCommand()
// does it for one given command (the hand-made histories); JournalHistory for the seeded stream of a
// test::CommandGenerator, one command, one batch or a whole history at a time (the random histories of the
// storage tests and of the journal benchmark); snapshottedHistory() for a whole one with the engine host's
// snapshots, which writeInGroups() writes in group commits. Compiled into each executable that uses it, with
// ../engine/command_generator.cpp. Test thread only.
#pragma once

#include "command_generator.h"
#include "journal.h"

#include <QSqlDatabase>
#include <QString>

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <vector>

namespace bourse::test {

// Applies `command` to `engine` and appends it to `batch` as command ++commandSeq, with the events it
// produced; those are also left in `events` (cleared first).
CommandResult journalCommand(Sequencer &engine, Seq &commandSeq, const Command &command, sql::JournalBatch &batch,
                             std::vector<Event> &events);

// Every event of `batches`, in order.
std::vector<Event> eventsOf(const std::vector<sql::JournalBatch> &batches);

class JournalHistory final
{
public:
    // Whether the batch that reaches a history's command count is cut short there or kept whole.
    enum class LastBatch { Cut, Whole };

    explicit JournalHistory(std::uint64_t seed);

    // The generator's next command, applied, shown to the generator and journalled in `batch`; its events.
    const std::vector<Event> &journalNext(sql::JournalBatch &batch);
    // A batch of the next `size` commands, fewer if the command count would pass `upTo`.
    sql::JournalBatch nextBatch(std::uint64_t size, Seq upTo = std::numeric_limits<Seq>::max());
    // Batches of 1-`maxBatch` commands, each size drawn from `random`, until the command count reaches
    // `commandCount`. `each`, when given, sees every batch as it is made (the engine just past it), before
    // the next size is drawn.
    std::vector<sql::JournalBatch> batches(Seq commandCount, std::mt19937_64 &random, std::uint64_t maxBatch,
                                           LastBatch last, const std::function<void(sql::JournalBatch &)> &each = {});

    Sequencer &engine() { return *m_engine; }
    // The engine, handed over once the history is made.
    std::unique_ptr<Sequencer> takeEngine() { return std::move(m_engine); }
    Seq commandSeq() const { return m_commandSeq; }

private:
    CommandGenerator m_generator;
    std::unique_ptr<Sequencer> m_engine;
    Seq m_commandSeq = 0;
    std::vector<Event> m_events; // the last command's
};

// A whole seeded history cut into batches of 1-200 commands, with a snapshot after each batch that brings
// the commands since the last snapshot to `snapshotEvery` (none when 0), as the engine host takes them.
struct SnapshottedHistory
{
    std::vector<sql::JournalBatch> batches;
    std::unique_ptr<Sequencer> engine; // after the last command
    std::uint64_t finalHash = 0;
    sql::JournalPosition end;
    Seq lastSnapshotCommand = 0;
};
SnapshottedHistory snapshottedHistory(std::uint64_t seed, Seq commandCount, Seq snapshotEvery);

// Writes `batches` in group commits of 1-8 of them; what failed, if anything.
std::optional<QString> writeInGroups(QSqlDatabase &db, const std::vector<sql::JournalBatch> &batches);

} // namespace bourse::test
