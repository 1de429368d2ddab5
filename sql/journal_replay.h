// What reading the journal back takes, shared by recovery (journal.cpp) and verification
// (journal_verify.cpp), and the row checksums the writer computes for them: a command row checked and
// replayed through the engine, a stored event row compared with the event replay produced, a snapshot row
// checked and restored. Messages are one line naming the row and what is wrong, without advice: each caller
// adds its own. Internal to bourse_sql; the thread that opened the connection.
#pragma once

#include "expected.h"
#include "journal.h"
#include "native_rows.h"
#include "sequencer.h"
#include "state_hash.h"

#include <QByteArray>
#include <QString>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

class QSqlError;
class QSqlQuery;

namespace bourse::sql {

// The type a snapshot row's checksum is computed with (commands and events use their body's type).
inline constexpr std::uint8_t kSnapshotRowType = 0xff;

// "what: the error's text", on one line.
QString sqlError(const QString &what, const QSqlError &error);

inline qint64 asSigned(std::uint64_t value)
{
    return static_cast<qint64>(value); // BIGINT columns are signed; the bits are what matter
}

// The events of one command, as replay will recompute them.
class EventsDigest final
{
public:
    void add(const Event &event, std::span<const std::uint8_t> payload);
    std::uint64_t value() const { return m_hasher.value(); }

private:
    StateHasher m_hasher;
};

// A command row's checksum: the row itself and the digest of the events it produced, so that replay
// proves both that the row is intact and that the engine still turns it into the same events.
std::uint64_t commandChecksum(const JournalCommand &command, std::span<const std::uint8_t> payload,
                              std::uint64_t eventsDigest);

// Replays command rows through an engine in seq order, each checked: its seq follows the last one, its
// payload decodes, and its checksum matches the row and the events that replaying it gives.
class CommandReplay final
{
public:
    // The columns apply() reads, in its order.
    static constexpr const char *kColumns = "seq, time_ns, type, first_event_seq, last_event_seq, payload, checksum";

    // `engine` is at `position` (an empty engine at {0, 0}); it must outlive this object.
    CommandReplay(Sequencer &engine, JournalPosition position);

    // Replays the command row `rows` is on (kColumns): what is wrong with it, if anything.
    std::optional<QString> apply(const RowSource &rows);

    // The last replayed command's seq and events, with each event's payload as the journal stores it.
    Seq commandSeq() const { return m_position.commandSeq; }
    const std::vector<Event> &events() const { return m_events; }
    std::span<const std::uint8_t> payload(std::size_t event) const;

    // After the last replayed command.
    JournalPosition position() const { return m_position; }
    std::size_t replayedCommands() const { return m_replayedCommands; }
    std::size_t producedEvents() const { return m_producedEvents; }

private:
    Sequencer &m_engine;
    JournalPosition m_position;
    std::size_t m_replayedCommands = 0;
    std::size_t m_producedEvents = 0;
    std::vector<Event> m_events;
    std::vector<std::uint8_t> m_payloads;  // the events' payloads, one after another
    std::vector<std::size_t> m_payloadEnd; // where each event's payload ends in m_payloads
};

// The columns eventRowDifference() reads, in its order.
inline constexpr const char *kEventColumns = "seq, command_seq, time_ns, type, payload, checksum";

// What differs between the stored event row `rows` is on (kEventColumns) and the event replay produced as
// event `seq` of command `commandSeq` ("its seq", "its payload"...), or nullptr when they are the same.
const char *eventRowDifference(const RowSource &rows, Seq seq, Seq commandSeq, TimeNs time, std::uint8_t type,
                               std::span<const std::uint8_t> payload);
// "event N is not the event its command produces (D differs): the row is damaged".
QString damagedEventRow(Seq seq, const char *differs);

// One row of the snapshots table.
struct SnapshotRow
{
    static constexpr const char *kColumns = "command_seq, event_seq, time_ns, state_hash, payload, checksum";

    Seq commandSeq = 0;
    Seq eventSeq = 0;
    TimeNs time = 0;
    std::uint64_t stateHash = 0;
    QByteArray payload;
    std::uint64_t checksum = 0;

    // The row `query` is on (kColumns).
    static SnapshotRow read(const QSqlQuery &query);
};

// The engine the snapshot row holds, once its checksum is checked and the engine it decodes to has the
// state hash and event seq the row records; else what is wrong.
Expected<std::unique_ptr<Sequencer>, QString> restoreSnapshot(const SnapshotRow &row);

} // namespace bourse::sql
