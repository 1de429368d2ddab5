#include "journal_replay.h"

#include "codec.h"

#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

#include <algorithm>

namespace bourse::sql {

QString sqlError(const QString &what, const QSqlError &error)
{
    return QStringLiteral("%1: %2").arg(what, error.text().simplified());
}

void EventsDigest::add(const Event &event, std::span<const std::uint8_t> payload)
{
    m_hasher.add(event.seq);
    m_hasher.add(event.time);
    m_hasher.add(static_cast<std::uint64_t>(typeOf(event.body)));
    m_hasher.add(std::string_view(reinterpret_cast<const char *>(payload.data()), payload.size()));
}

std::uint64_t commandChecksum(const JournalCommand &command, std::span<const std::uint8_t> payload,
                              std::uint64_t eventsDigest)
{
    StateHasher hasher;
    hasher.add(journalChecksum(command.commandSeq, command.command.time, typeOf(command.command.body), payload));
    hasher.add(command.firstEventSeq);
    hasher.add(command.lastEventSeq);
    hasher.add(eventsDigest);
    return hasher.value();
}

CommandReplay::CommandReplay(Sequencer &engine, JournalPosition position)
    : m_engine(engine)
    , m_position(position)
{}

std::optional<QString> CommandReplay::apply(const RowSource &rows)
{
    JournalCommand row;
    row.commandSeq = static_cast<Seq>(rows.integer(0));
    row.command.time = rows.integer(1);
    const std::int64_t type = rows.integer(2);
    row.firstEventSeq = static_cast<Seq>(rows.integer(3));
    row.lastEventSeq = static_cast<Seq>(rows.integer(4));
    const std::span<const std::uint8_t> bytes = rows.bytes(5);
    const auto checksum = static_cast<std::uint64_t>(rows.integer(6));
    const QString where = QStringLiteral("command %1").arg(row.commandSeq);
    if (row.commandSeq != m_position.commandSeq + 1)
        return QStringLiteral("the journal skips from command %1 to %2").arg(m_position.commandSeq).arg(row.commandSeq);
    auto body = decodeCommandBody(static_cast<std::uint8_t>(type), bytes);
    if (type < 0 || type > 255 || !body)
        return where + QStringLiteral(" is ") + (body ? "of an unknown type" : describe(body.error()));
    row.command.body = std::move(body.value());

    m_events.clear();
    m_payloads.clear();
    m_payloadEnd.clear();
    const CommandResult result = m_engine.apply(row.command, m_events);
    EventsDigest digest;
    for (const Event &event : m_events) {
        const std::size_t start = m_payloads.size();
        encodeBody(event.body, m_payloads);
        m_payloadEnd.push_back(m_payloads.size());
        digest.add(event, std::span<const std::uint8_t>(m_payloads).subspan(start));
    }
    if (result.firstSeq != row.firstEventSeq || result.lastSeq != row.lastEventSeq
        || commandChecksum(row, bytes, digest.value()) != checksum)
        return where
               + QStringLiteral(" fails its checksum: the row is damaged, or replaying it no longer gives the events "
                                "it gave");
    m_position = {row.commandSeq, m_engine.lastSeq()};
    ++m_replayedCommands;
    m_producedEvents += m_events.size();
    return std::nullopt;
}

std::span<const std::uint8_t> CommandReplay::payload(std::size_t event) const
{
    const std::size_t start = event == 0 ? 0 : m_payloadEnd[event - 1];
    return std::span<const std::uint8_t>(m_payloads).subspan(start, m_payloadEnd[event] - start);
}

const char *eventRowDifference(const RowSource &rows, Seq seq, Seq commandSeq, TimeNs time, std::uint8_t type,
                               std::span<const std::uint8_t> payload)
{
    const std::span<const std::uint8_t> stored = rows.bytes(4);
    if (static_cast<Seq>(rows.integer(0)) != seq)
        return "its seq";
    if (static_cast<Seq>(rows.integer(1)) != commandSeq)
        return "its command";
    if (rows.integer(2) != time)
        return "its time";
    if (rows.integer(3) != type)
        return "its type";
    if (!std::equal(stored.begin(), stored.end(), payload.begin(), payload.end()))
        return "its payload";
    if (static_cast<std::uint64_t>(rows.integer(5)) != journalChecksum(seq, time, type, payload))
        return "its checksum";
    return nullptr;
}

QString damagedEventRow(Seq seq, const char *differs)
{
    return QStringLiteral("event %1 is not the event its command produces (%2 differs): the row is damaged")
        .arg(seq)
        .arg(QLatin1String(differs));
}

SnapshotRow SnapshotRow::read(const QSqlQuery &query)
{
    SnapshotRow row;
    row.commandSeq = static_cast<Seq>(query.value(0).toLongLong());
    row.eventSeq = static_cast<Seq>(query.value(1).toLongLong());
    row.time = query.value(2).toLongLong();
    row.stateHash = static_cast<std::uint64_t>(query.value(3).toLongLong());
    row.payload = query.value(4).toByteArray();
    row.checksum = static_cast<std::uint64_t>(query.value(5).toLongLong());
    return row;
}

Expected<std::unique_ptr<Sequencer>, QString> restoreSnapshot(const SnapshotRow &row)
{
    const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t *>(row.payload.constData()),
                                              static_cast<std::size_t>(row.payload.size()));
    if (journalChecksum(row.commandSeq, row.time, kSnapshotRowType, bytes) != row.checksum)
        return unexpected(QStringLiteral("snapshot after command %1 fails its checksum").arg(row.commandSeq));
    auto engine = Sequencer::fromSnapshot(bytes);
    if (!engine)
        return unexpected(
            QStringLiteral("snapshot after command %1 is %2").arg(row.commandSeq).arg(describe(engine.error())));
    if (engine.value()->stateHash() != row.stateHash || engine.value()->lastSeq() != row.eventSeq)
        return unexpected(
            QStringLiteral("snapshot after command %1 does not restore the state it recorded").arg(row.commandSeq));
    return std::move(engine.value());
}

} // namespace bourse::sql
