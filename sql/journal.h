// The event journal in SQL: what one group commit writes (the commands the engine applied, their events,
// now and then a snapshot) and what recovery reads back. Commands are the input log that start-up replays
// through the engine; events are the output log that projections and publishing read, and that replay
// must reproduce exactly. Every row carries a checksum over its seq, time, type and payload.
// Free functions over a QSqlDatabase; call them on the thread that opened that connection.
#pragma once

#include "expected.h"
#include "projections.h"
#include "native_rows.h"
#include "sequencer.h"

#include <QSqlDatabase>
#include <QString>

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

namespace bourse::sql {

// One command the engine applied, numbered by the host in application order from 1, with the range of
// event seqs it produced (both 0 when it produced none: a replayed client order id).
struct JournalCommand
{
    Seq commandSeq = 0;
    Command command;
    Seq firstEventSeq = 0;
    Seq lastEventSeq = 0;
};

// The engine's whole state after command `commandSeq`.
struct JournalSnapshot
{
    Seq commandSeq = 0;
    Seq eventSeq = 0;
    TimeNs time = 0;
    std::uint64_t stateHash = 0;
    std::vector<std::uint8_t> bytes;
};

struct JournalBatch
{
    std::vector<JournalCommand> commands; // ascending, contiguous
    std::vector<Event> events;            // ascending, contiguous
    std::optional<JournalSnapshot> snapshot;

    bool empty() const { return commands.empty() && events.empty() && !snapshot; }
};

// Where the durable journal ends.
struct JournalPosition
{
    Seq commandSeq = 0;
    Seq eventSeq = 0;
};

// Reusable buffers for writeBatches(), so that steady state does not allocate per row, and what it prepared
// on the connection (statements, temporary tables), kept while the connection stays the same.
class JournalScratch final
{
public:
    std::vector<std::uint8_t> payload;
    std::vector<std::uint64_t> eventDigests; // per command of the transaction
    ProjectionUpdate projections;
    RowSinks rows;
};

// Writes the batches in ONE transaction: all of them become durable at COMMIT, or none does. Rows already
// present (a retry after a COMMIT whose outcome was lost) are skipped by seq, never written twice. The same
// transaction brings the projections (projections.h) up to date with the events it inserts, and only those.
Expected<JournalPosition, QString> writeBatches(QSqlDatabase &db, const std::vector<JournalBatch> &batches,
                                                JournalScratch &scratch);

Expected<JournalPosition, QString> journalEnd(QSqlDatabase &db);

// One process writes a journal. On PostgreSQL the journal writer's session holds an advisory lock for as
// long as it lives, and start-up takes the same lock before recovery: a bourse killed in the middle of a
// commit can leave a server backend that is still working through that commit's data, and start-up must
// wait for it, so that recovery reads what it committed instead of racing it (and the next writer would
// then take the old rows for its own). SQLite needs none of this: its transactions end with their process.
// The lock lasts until the session ends. `wait` zero: try once. Returns what went wrong, if anything:
// another session held the lock throughout `wait`, or the database failed.
std::optional<QString> lockJournal(QSqlDatabase &db, std::chrono::milliseconds wait);

struct Recovered
{
    std::unique_ptr<Sequencer> engine;
    JournalPosition position;
    Seq snapshotCommandSeq = 0; // 0: started from an empty engine
    std::size_t replayedCommands = 0;
    std::size_t checkedEvents = 0;
};

// Start-up: the latest snapshot (checksums and state hash verified), then every later command replayed
// through the engine, each produced event compared with the journal's, each row's checksum checked, seqs
// checked for gaps, and the last event rows compared byte for byte with the events replay produced (where
// a torn last transaction would show). Any mismatch is an error naming the first damaged row and what to
// do; nothing is skipped or repaired silently.
Expected<Recovered, QString> recoverJournal(QSqlDatabase &db);

} // namespace bourse::sql
