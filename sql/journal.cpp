#include "journal.h"

#include "codec.h"
#include "state_hash.h"

#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

#include <algorithm>

namespace bourse::sql {

namespace {

constexpr std::uint8_t kSnapshotRowType = 0xff;
// The journal's PostgreSQL advisory lock ("Bourse" + 1: the migrations use "Bourse").
constexpr qint64 kJournalLockKey = 0x426F75727366;

QString sqlError(const QString &what, const QSqlError &error)
{
    return QStringLiteral("%1: %2").arg(what, error.text().simplified());
}

qint64 asSigned(std::uint64_t value)
{
    return static_cast<qint64>(value); // BIGINT columns are signed; the bits are what matter
}

// The events of one command, as recovery will recompute them.
class EventsDigest final
{
public:
    void add(const Event &event, std::span<const std::uint8_t> payload)
    {
        m_hasher.add(event.seq);
        m_hasher.add(event.time);
        m_hasher.add(static_cast<std::uint64_t>(typeOf(event.body)));
        m_hasher.add(std::string_view(reinterpret_cast<const char *>(payload.data()), payload.size()));
    }
    std::uint64_t value() const { return m_hasher.value(); }

private:
    StateHasher m_hasher;
};

// A command row's checksum: the row itself and the digest of the events it produced, so that replay
// proves both that the row is intact and that the engine still turns it into the same events.
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

const RowTable kCommandRows{"commands",
                            RowTable::Mode::Append,
                            {{"seq", ColumnType::BigInt},
                             {"time_ns", ColumnType::BigInt},
                             {"type", ColumnType::SmallInt},
                             {"first_event_seq", ColumnType::BigInt},
                             {"last_event_seq", ColumnType::BigInt},
                             {"payload", ColumnType::Bytes},
                             {"checksum", ColumnType::BigInt}}};
const RowTable kEventRows{"events",
                          RowTable::Mode::Append,
                          {{"seq", ColumnType::BigInt},
                           {"command_seq", ColumnType::BigInt},
                           {"time_ns", ColumnType::BigInt},
                           {"type", ColumnType::SmallInt},
                           {"payload", ColumnType::Bytes},
                           {"checksum", ColumnType::BigInt}}};

} // namespace

Expected<JournalPosition, QString> journalEnd(QSqlDatabase &db)
{
    QSqlQuery query(db);
    if (!query.exec(QStringLiteral("SELECT (SELECT COALESCE(MAX(seq), 0) FROM commands), "
                                   "(SELECT COALESCE(MAX(seq), 0) FROM events)"))
        || !query.next())
        return unexpected(sqlError(QStringLiteral("reading the journal's end"), query.lastError()));
    return JournalPosition{static_cast<Seq>(query.value(0).toLongLong()), static_cast<Seq>(query.value(1).toLongLong())};
}

std::optional<QString> lockJournal(QSqlDatabase &db, std::chrono::milliseconds wait)
{
    if (db.driverName() != QLatin1String("QPSQL"))
        return std::nullopt;
    const QString held = QStringLiteral("another bourse process is writing this database's journal (its lock is held)");
    QSqlQuery query(db);
    if (wait.count() <= 0) {
        if (!query.exec(QStringLiteral("SELECT pg_try_advisory_lock(%1)").arg(kJournalLockKey)) || !query.next())
            return sqlError(QStringLiteral("taking the journal's lock"), query.lastError());
        return query.value(0).toBool() ? std::nullopt : std::optional<QString>(held);
    }
    if (!query.exec(QStringLiteral("SET lock_timeout = %1").arg(wait.count())))
        return sqlError(QStringLiteral("taking the journal's lock"), query.lastError());
    const bool locked = query.exec(QStringLiteral("SELECT pg_advisory_lock(%1)").arg(kJournalLockKey));
    // 55P03: lock_not_available, the timeout.
    const bool timedOut = !locked && query.lastError().nativeErrorCode() == QLatin1String("55P03");
    const QString error = locked ? QString() : sqlError(QStringLiteral("taking the journal's lock"), query.lastError());
    QSqlQuery reset(db);
    reset.exec(QStringLiteral("RESET lock_timeout"));
    if (timedOut)
        return held + QStringLiteral(" after waiting %1 ms").arg(wait.count());
    if (!locked)
        return error;
    return std::nullopt;
}

Expected<JournalPosition, QString> writeBatches(QSqlDatabase &db, const std::vector<JournalBatch> &batches,
                                                JournalScratch &scratch)
{
    // Rows at or below what is durable were written by a transaction whose COMMIT reply was lost.
    const auto durable = journalEnd(db);
    if (!durable)
        return durable;
    JournalPosition position = *durable;
    scratch.projections.clear();
    const auto sink = scratch.rows.forConnection(db);
    if (!sink)
        return unexpected(sink.error());
    RowSink &rows = **sink;
    if (!db.transaction())
        return unexpected(sqlError(QStringLiteral("starting a journal transaction"), db.lastError()));
    const auto abort = [&db, &scratch](const QString &error) {
        db.rollback();
        scratch.rows.forget(); // what the sink made in this transaction is rolled back with it
        return unexpected(error);
    };

    // The events first, then the commands: a sink writes one table at a time, and a command's checksum
    // covers the digest of its events, which this pass computes.
    scratch.eventDigests.clear();
    if (const auto error = rows.begin(kEventRows))
        return abort(*error);
    for (const JournalBatch &batch : batches) {
        auto event = batch.events.begin();
        for (const JournalCommand &command : batch.commands) {
            EventsDigest digest;
            for (; event != batch.events.end() && event->seq <= command.lastEventSeq; ++event) {
                scratch.payload.clear();
                encodeBody(event->body, scratch.payload);
                digest.add(*event, scratch.payload);
                if (event->seq <= position.eventSeq)
                    continue;
                const std::uint8_t type = typeOf(event->body);
                rows.integer(asSigned(event->seq));
                rows.integer(asSigned(command.commandSeq));
                rows.integer(event->time);
                rows.integer(type);
                rows.bytes(scratch.payload);
                rows.integer(asSigned(journalChecksum(event->seq, event->time, type, scratch.payload)));
                if (const auto error = rows.endRow())
                    return abort(*error);
                position.eventSeq = event->seq;
                scratch.projections.add(*event);
            }
            scratch.eventDigests.push_back(digest.value());
        }
    }
    if (const auto error = rows.finish())
        return abort(*error);

    if (const auto error = rows.begin(kCommandRows))
        return abort(*error);
    auto eventsDigest = scratch.eventDigests.begin();
    for (const JournalBatch &batch : batches) {
        for (const JournalCommand &command : batch.commands) {
            const std::uint64_t digest = *eventsDigest++;
            if (command.commandSeq <= position.commandSeq)
                continue;
            scratch.payload.clear();
            encodeBody(command.command.body, scratch.payload);
            rows.integer(asSigned(command.commandSeq));
            rows.integer(command.command.time);
            rows.integer(typeOf(command.command.body));
            rows.integer(asSigned(command.firstEventSeq));
            rows.integer(asSigned(command.lastEventSeq));
            rows.bytes(scratch.payload);
            rows.integer(asSigned(commandChecksum(command, scratch.payload, digest)));
            if (const auto error = rows.endRow())
                return abort(*error);
            position.commandSeq = command.commandSeq;
        }
    }
    if (const auto error = rows.finish())
        return abort(*error);
    if (const auto projected = scratch.projections.write(rows); !projected)
        return abort(projected.error());

    for (const JournalBatch &batch : batches) {
        if (!batch.snapshot)
            continue;
        const JournalSnapshot &snapshot = *batch.snapshot;
        QSqlQuery insert(db);
        insert.prepare(QStringLiteral("INSERT INTO snapshots(command_seq, event_seq, time_ns, state_hash, payload, "
                                      "checksum, created_at_ns) SELECT ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS "
                                      "(SELECT 1 FROM snapshots WHERE command_seq = ?)"));
        const QByteArray bytes(reinterpret_cast<const char *>(snapshot.bytes.data()),
                               static_cast<qsizetype>(snapshot.bytes.size()));
        insert.addBindValue(asSigned(snapshot.commandSeq));
        insert.addBindValue(asSigned(snapshot.eventSeq));
        insert.addBindValue(qint64(snapshot.time));
        insert.addBindValue(asSigned(snapshot.stateHash));
        insert.addBindValue(bytes);
        insert.addBindValue(asSigned(journalChecksum(snapshot.commandSeq, snapshot.time, kSnapshotRowType, snapshot.bytes)));
        insert.addBindValue(qint64(snapshot.time));
        insert.addBindValue(asSigned(snapshot.commandSeq));
        if (!insert.exec())
            return abort(sqlError(QStringLiteral("writing a snapshot"), insert.lastError()));
    }
    if (!db.commit())
        return abort(sqlError(QStringLiteral("committing the journal"), db.lastError()));
    return position;
}

// How many of the journal's last event rows recovery compares with what replay produces.
constexpr Seq kTailEvents = 10'000;

Expected<Recovered, QString> recoverJournal(QSqlDatabase &db)
{
    const QString advice = QStringLiteral(
        "; the journal is damaged, and bourse does not start on a damaged journal so that no acknowledged order "
        "is lost or changed: restore the database from a backup taken before the damage (for SQLite the .db "
        "file together with its -wal file), then start bourse again");
    Recovered recovered;

    // Where the event rows end now: the last kTailEvents of them are compared byte for byte with what replay
    // produces, which is where a torn or half-written last transaction would show. (Every command row is
    // checked in full; older event rows carry their own checksums for whoever reads them.)
    const auto stored = journalEnd(db);
    if (!stored)
        return unexpected(stored.error());

    QSqlQuery snapshotQuery(db);
    snapshotQuery.setForwardOnly(true);
    if (!snapshotQuery.exec(QStringLiteral("SELECT command_seq, event_seq, time_ns, state_hash, payload, checksum "
                                           "FROM snapshots ORDER BY command_seq DESC LIMIT 1")))
        return unexpected(sqlError(QStringLiteral("reading the latest snapshot"), snapshotQuery.lastError()));
    if (snapshotQuery.next()) {
        const auto commandSeq = static_cast<Seq>(snapshotQuery.value(0).toLongLong());
        const auto eventSeq = static_cast<Seq>(snapshotQuery.value(1).toLongLong());
        const TimeNs time = snapshotQuery.value(2).toLongLong();
        const auto stateHash = static_cast<std::uint64_t>(snapshotQuery.value(3).toLongLong());
        const QByteArray payload = snapshotQuery.value(4).toByteArray();
        const auto checksum = static_cast<std::uint64_t>(snapshotQuery.value(5).toLongLong());
        const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t *>(payload.constData()),
                                                  static_cast<std::size_t>(payload.size()));
        if (journalChecksum(commandSeq, time, kSnapshotRowType, bytes) != checksum)
            return unexpected(QStringLiteral("snapshot after command %1 fails its checksum").arg(commandSeq) + advice);
        auto engine = Sequencer::fromSnapshot(bytes);
        if (!engine)
            return unexpected(QStringLiteral("snapshot after command %1 is %2").arg(commandSeq).arg(describe(engine.error()))
                              + advice);
        if (engine.value()->stateHash() != stateHash || engine.value()->lastSeq() != eventSeq)
            return unexpected(QStringLiteral("snapshot after command %1 does not restore the state it recorded")
                                  .arg(commandSeq)
                              + advice);
        recovered.engine = std::move(engine.value());
        recovered.snapshotCommandSeq = commandSeq;
        recovered.position = {commandSeq, eventSeq};
    } else {
        recovered.engine = std::make_unique<Sequencer>();
    }

    const Seq startEventSeq = recovered.position.eventSeq;
    const Seq tailFrom = std::max(startEventSeq, stored->eventSeq > kTailEvents ? stored->eventSeq - kTailEvents : 0);
    struct TailEvent
    {
        Seq commandSeq = 0;
        TimeNs time = 0;
        std::uint8_t type = 0;
        std::vector<std::uint8_t> payload;
    };
    std::vector<TailEvent> tailEvents; // replay's events after tailFrom, in seq order
    // Read natively: a QVariant per value (and, from PostgreSQL, text to parse) would cost about as much as
    // the replay itself.
    auto commands = readRows(db, "SELECT seq, time_ns, type, first_event_seq, last_event_seq, payload, checksum "
                                 "FROM commands WHERE seq > "
                                     + QByteArray::number(asSigned(recovered.position.commandSeq)) + " ORDER BY seq");
    if (!commands)
        return unexpected(QStringLiteral("reading the journal: ") + commands.error());
    RowSource &rows = **commands;

    std::vector<Event> events;
    std::vector<std::uint8_t> encoded;
    Sequencer &engine = *recovered.engine;
    while (rows.next()) {
        JournalCommand row;
        row.commandSeq = static_cast<Seq>(rows.integer(0));
        row.command.time = rows.integer(1);
        const std::int64_t type = rows.integer(2);
        row.firstEventSeq = static_cast<Seq>(rows.integer(3));
        row.lastEventSeq = static_cast<Seq>(rows.integer(4));
        const std::span<const std::uint8_t> bytes = rows.bytes(5);
        const auto checksum = static_cast<std::uint64_t>(rows.integer(6));
        const auto where = [&row] { return QStringLiteral("command %1").arg(row.commandSeq); };
        if (row.commandSeq != recovered.position.commandSeq + 1)
            return unexpected(QStringLiteral("the journal skips from command %1 to %2")
                                  .arg(recovered.position.commandSeq)
                                  .arg(row.commandSeq)
                              + advice);
        auto body = decodeCommandBody(static_cast<std::uint8_t>(type), bytes);
        if (type < 0 || type > 255 || !body)
            return unexpected(where() + QStringLiteral(" is ") + (body ? "of an unknown type" : describe(body.error()))
                              + advice);
        row.command.body = std::move(body.value());

        events.clear();
        const CommandResult result = engine.apply(row.command, events);
        EventsDigest digest;
        for (const Event &event : events) {
            encoded.clear();
            encodeBody(event.body, encoded);
            digest.add(event, encoded);
            if (event.seq > tailFrom)
                tailEvents.push_back(TailEvent{row.commandSeq, event.time, typeOf(event.body), encoded});
        }
        if (result.firstSeq != row.firstEventSeq || result.lastSeq != row.lastEventSeq
            || commandChecksum(row, bytes, digest.value()) != checksum)
            return unexpected(where()
                              + QStringLiteral(" fails its checksum: the row is damaged, or replaying it no longer "
                                               "gives the events it gave")
                              + advice);
        recovered.position = {row.commandSeq, engine.lastSeq()};
        ++recovered.replayedCommands;
        recovered.checkedEvents += events.size();
    }
    if (rows.error())
        return unexpected(QStringLiteral("reading the journal: ") + *rows.error());
    commands.value().reset(); // the connection is free for the next statement

    // The event rows after the starting point must be exactly the ones replay produced: none missing,
    // none extra.
    QSqlQuery tail(db);
    tail.prepare(QStringLiteral("SELECT (SELECT COALESCE(MAX(seq), 0) FROM events), "
                                "(SELECT COUNT(*) FROM events WHERE seq > ?)"));
    tail.addBindValue(asSigned(startEventSeq));
    if (!tail.exec() || !tail.next())
        return unexpected(sqlError(QStringLiteral("reading the journal's events"), tail.lastError()));
    const auto lastEvent = static_cast<Seq>(tail.value(0).toLongLong());
    const auto count = static_cast<Seq>(tail.value(1).toLongLong());
    if (lastEvent != recovered.position.eventSeq || count != recovered.position.eventSeq - startEventSeq)
        return unexpected(QStringLiteral("the journal holds %1 events after %2, ending at %3, but its commands "
                                         "produce events up to %4")
                              .arg(count)
                              .arg(startEventSeq)
                              .arg(lastEvent)
                              .arg(recovered.position.eventSeq)
                          + advice);

    // The last event rows are exactly the events replay produced.
    auto lastEvents = readRows(db, "SELECT seq, command_seq, time_ns, type, payload, checksum FROM events WHERE seq > "
                                       + QByteArray::number(asSigned(tailFrom)) + " ORDER BY seq");
    if (!lastEvents)
        return unexpected(QStringLiteral("reading the journal's events: ") + lastEvents.error());
    RowSource &tailRows = **lastEvents;
    for (std::size_t i = 0; tailRows.next(); ++i) {
        const auto seq = static_cast<Seq>(tailRows.integer(0));
        const std::span<const std::uint8_t> payload = tailRows.bytes(4);
        const TailEvent *expected = i < tailEvents.size() ? &tailEvents[i] : nullptr;
        // What differs, for the message (and for whoever investigates the damage).
        const char *differs = nullptr;
        if (!expected)
            differs = "an event replay does not produce";
        else if (seq != tailFrom + 1 + i)
            differs = "its seq";
        else if (static_cast<Seq>(tailRows.integer(1)) != expected->commandSeq)
            differs = "its command";
        else if (tailRows.integer(2) != expected->time)
            differs = "its time";
        else if (tailRows.integer(3) != expected->type)
            differs = "its type";
        else if (!std::equal(payload.begin(), payload.end(), expected->payload.begin(), expected->payload.end()))
            differs = "its payload";
        else if (static_cast<std::uint64_t>(tailRows.integer(5))
                 != journalChecksum(seq, expected->time, expected->type, expected->payload))
            differs = "its checksum";
        if (differs)
            return unexpected(QStringLiteral("event %1 is not the event its command produces (%2 differs): the row "
                                             "is damaged")
                                  .arg(seq)
                                  .arg(QLatin1String(differs))
                              + advice);
    }
    if (tailRows.error())
        return unexpected(QStringLiteral("reading the journal's events: ") + *tailRows.error());
    return recovered;
}

} // namespace bourse::sql
