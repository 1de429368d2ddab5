// The event journal in SQL: what one group commit writes (the commands the engine applied, their events,
// now and then a snapshot), what recovery reads back, and what `bourse verify` checks in full. Commands are
// the input log that start-up replays through the engine; events are the output log that projections and
// publishing read, and that replay must reproduce exactly. Every row carries a checksum over its seq, time,
// type and payload. Free functions over a QSqlDatabase; call them on the thread that opened that connection.
#pragma once

#include "expected.h"
#include "projections.h"
#include "native_rows.h"
#include "sequencer.h"

#include <QSqlDatabase>
#include <QString>

#include <chrono>
#include <functional>
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

// How far verifyJournal() has come, after each stretch of commands.
struct VerifyProgress
{
    Seq commandSeq = 0;     // replayed and checked up to here
    Seq lastCommandSeq = 0; // the journal's last command when verification began
    Seq eventSeq = 0;       // event rows compared up to here
    std::size_t snapshots = 0;
};

struct VerifyReport
{
    std::size_t commands = 0;  // command rows replayed (all of them)
    std::size_t events = 0;    // event rows compared with replay's events (all of them)
    std::size_t snapshots = 0; // snapshot rows checked (all of them)
    std::size_t trades = 0;    // trades rows, one per TradeExecuted event and equal to it (all of them)
    JournalPosition position;  // the journal's end
    std::uint64_t stateHash = 0; // the engine's after the last command
    std::size_t openOrders = 0;  // open orders, in the engine and in the orders table alike
    std::size_t balanceRows = 0; // rows of the balances table, each equal to the engine's balance
    std::size_t accounts = 0;    // accounts holding a non-zero balance of some asset
    std::chrono::milliseconds elapsed{0};
};

// The whole journal checked, without serving and without writing: every command replayed from the first
// through a new engine, each checked as recovery checks it; every event row compared with the event replay
// produced (seq, command, time, type, payload, checksum); every snapshot row checked (checksum, decoding,
// its recorded state hash and event seq equal to what it restores AND to the replayed engine's at that
// command); every trades row compared with the TradeExecuted event replay produced that wrote it (all its
// columns), and no row beside those; then the projections against the final engine: every balances row,
// each asset's total, and the open orders of the orders table (remaining quantity, price, side...), one for
// one with the engine's.
// Reads in one read-only transaction (PostgreSQL: REPEATABLE READ; SQLite: one read transaction with
// query_only set), so it sees one consistent state while a venue goes on writing beside it. Memory stays
// bounded by a stretch of commands and the engine's state, however long the journal. The error names the
// first damaged row and what differs (one line, without advice); an error that begins with "reading" or
// "starting" is the database failing to answer (a lost connection, a timeout), not damage: see
// isReadFailure(). `progress`, when given, is called on this thread after each stretch of commands.
// ReadView::Callers: the caller has begun a read transaction on `db` already (PostgreSQL: REPEATABLE READ,
// e.g. the one whose snapshot a backup's pg_dump imports) and verification reads in it, beginning and
// ending nothing.
enum class ReadView : std::uint8_t { Own, Callers };
Expected<VerifyReport, QString> verifyJournal(QSqlDatabase &db,
                                              const std::function<void(const VerifyProgress &)> &progress = {},
                                              ReadView view = ReadView::Own);

// Whether a verifyJournal() error is the database failing to answer rather than damage it found.
inline bool isReadFailure(const QString &verifyError)
{
    return verifyError.startsWith(QLatin1StringView("reading ")) || verifyError.startsWith(QLatin1StringView("starting "));
}

// A state hash as the reports print it: 16 lowercase hex digits.
QString formatStateHash(std::uint64_t hash);

} // namespace bourse::sql
