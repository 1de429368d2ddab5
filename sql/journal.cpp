#include "journal.h"

#include "codec.h"
#include "journal_replay.h"

#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

#include <algorithm>

namespace bourse::sql {

namespace {

// The journal's PostgreSQL advisory lock ("Bourse" + 1: the migrations use "Bourse").
constexpr qint64 kJournalLockKey = 0x426F75727366;

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
    if (!snapshotQuery.exec(QStringLiteral("SELECT %1 FROM snapshots ORDER BY command_seq DESC LIMIT 1")
                                .arg(QLatin1String(SnapshotRow::kColumns))))
        return unexpected(sqlError(QStringLiteral("reading the latest snapshot"), snapshotQuery.lastError()));
    if (snapshotQuery.next()) {
        const SnapshotRow snapshot = SnapshotRow::read(snapshotQuery);
        auto engine = restoreSnapshot(snapshot);
        if (!engine)
            return unexpected(engine.error() + advice);
        recovered.engine = std::move(engine.value());
        recovered.snapshotCommandSeq = snapshot.commandSeq;
        recovered.position = {snapshot.commandSeq, snapshot.eventSeq};
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
    auto commands = readRows(db, QByteArray("SELECT ") + CommandReplay::kColumns + " FROM commands WHERE seq > "
                                     + QByteArray::number(asSigned(recovered.position.commandSeq)) + " ORDER BY seq");
    if (!commands)
        return unexpected(QStringLiteral("reading the journal: ") + commands.error());
    RowSource &rows = **commands;

    CommandReplay replay(*recovered.engine, recovered.position);
    while (rows.next()) {
        if (const auto damage = replay.apply(rows))
            return unexpected(*damage + advice);
        for (std::size_t i = 0; i < replay.events().size(); ++i) {
            const Event &event = replay.events()[i];
            if (event.seq > tailFrom) {
                const std::span<const std::uint8_t> payload = replay.payload(i);
                tailEvents.push_back(
                    TailEvent{replay.commandSeq(), event.time, typeOf(event.body), {payload.begin(), payload.end()}});
            }
        }
    }
    if (rows.error())
        return unexpected(QStringLiteral("reading the journal: ") + *rows.error());
    commands.value().reset(); // the connection is free for the next statement
    recovered.position = replay.position();
    recovered.replayedCommands = replay.replayedCommands();
    recovered.checkedEvents = replay.producedEvents();

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
    auto lastEvents = readRows(db, QByteArray("SELECT ") + kEventColumns + " FROM events WHERE seq > "
                                       + QByteArray::number(asSigned(tailFrom)) + " ORDER BY seq");
    if (!lastEvents)
        return unexpected(QStringLiteral("reading the journal's events: ") + lastEvents.error());
    RowSource &tailRows = **lastEvents;
    for (std::size_t i = 0; tailRows.next(); ++i) {
        const auto seq = static_cast<Seq>(tailRows.integer(0));
        const TailEvent *expected = i < tailEvents.size() ? &tailEvents[i] : nullptr;
        // What differs, for the message (and for whoever investigates the damage).
        const char *differs = expected ? eventRowDifference(tailRows, tailFrom + 1 + i, expected->commandSeq,
                                                            expected->time, expected->type, expected->payload)
                                       : "an event replay does not produce";
        if (differs)
            return unexpected(damagedEventRow(seq, differs) + advice);
    }
    if (tailRows.error())
        return unexpected(QStringLiteral("reading the journal's events: ") + *tailRows.error());
    return recovered;
}

} // namespace bourse::sql
