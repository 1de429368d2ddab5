#include "journal.h"

#include "codec.h"
#include "state_hash.h"

#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

namespace bourse::sql {

namespace {

constexpr int kRowsPerStatement = 128;
constexpr std::uint8_t kSnapshotRowType = 0xff;

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

QString placeholders(int rows, int columns)
{
    QString row = QStringLiteral("(");
    for (int c = 0; c < columns; ++c)
        row += c ? QStringLiteral(",?") : QStringLiteral("?");
    row += QLatin1Char(')');
    QString all;
    all.reserve(rows * (row.size() + 1));
    for (int r = 0; r < rows; ++r) {
        if (r)
            all += QLatin1Char(',');
        all += row;
    }
    return all;
}

// Multi-row INSERT in statements of kRowsPerStatement rows (prepared once per transaction) plus single
// rows for the remainder.
class RowInserter final
{
public:
    RowInserter(QSqlDatabase &db, const QString &table, const QString &columns, int columnCount)
        : m_full(db)
        , m_single(db)
        , m_columnCount(columnCount)
    {
        const QString head = QStringLiteral("INSERT INTO %1(%2) VALUES ").arg(table, columns);
        m_ok = m_full.prepare(head + placeholders(kRowsPerStatement, columnCount))
               && m_single.prepare(head + placeholders(1, columnCount));
        if (!m_ok)
            m_error = sqlError(QStringLiteral("preparing the insert into ") + table,
                               m_full.lastError().isValid() ? m_full.lastError() : m_single.lastError());
    }

    bool ok() const { return m_ok; }
    const QString &error() const { return m_error; }

    // Adds one row's values; writes when a statement is full.
    bool add(std::initializer_list<QVariant> values)
    {
        for (const QVariant &value : values)
            m_pending.push_back(value);
        if (m_pending.size() == static_cast<std::size_t>(kRowsPerStatement * m_columnCount))
            return flushFull();
        return true;
    }
    bool finish()
    {
        for (std::size_t row = 0; row < m_pending.size(); row += static_cast<std::size_t>(m_columnCount)) {
            for (int c = 0; c < m_columnCount; ++c)
                m_single.bindValue(c, m_pending[row + static_cast<std::size_t>(c)]);
            if (!m_single.exec())
                return fail(m_single);
        }
        m_pending.clear();
        return true;
    }

private:
    bool flushFull()
    {
        for (std::size_t i = 0; i < m_pending.size(); ++i)
            m_full.bindValue(static_cast<int>(i), m_pending[i]);
        m_pending.clear();
        return m_full.exec() || fail(m_full);
    }
    bool fail(const QSqlQuery &query)
    {
        m_ok = false;
        m_error = sqlError(QStringLiteral("writing the journal"), query.lastError());
        return false;
    }

    QSqlQuery m_full;
    QSqlQuery m_single;
    int m_columnCount;
    std::vector<QVariant> m_pending;
    bool m_ok = true;
    QString m_error;
};

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

Expected<JournalPosition, QString> writeBatches(QSqlDatabase &db, const std::vector<JournalBatch> &batches,
                                                JournalScratch &scratch)
{
    // Rows at or below what is durable were written by a transaction whose COMMIT reply was lost.
    const auto durable = journalEnd(db);
    if (!durable)
        return durable;
    JournalPosition position = *durable;
    scratch.projections.clear();
    if (!db.transaction())
        return unexpected(sqlError(QStringLiteral("starting a journal transaction"), db.lastError()));
    const auto abort = [&db](const QString &error) {
        db.rollback();
        return unexpected(error);
    };

    RowInserter commands(db, QStringLiteral("commands"),
                         QStringLiteral("seq, time_ns, type, first_event_seq, last_event_seq, payload, checksum"), 7);
    RowInserter events(db, QStringLiteral("events"),
                       QStringLiteral("seq, command_seq, time_ns, type, payload, checksum"), 6);
    if (!commands.ok())
        return abort(commands.error());
    if (!events.ok())
        return abort(events.error());

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
                const QByteArray bytes(reinterpret_cast<const char *>(scratch.payload.data()),
                                       static_cast<qsizetype>(scratch.payload.size()));
                const std::uint8_t type = typeOf(event->body);
                if (!events.add({asSigned(event->seq), asSigned(command.commandSeq), qint64(event->time), int(type), bytes,
                                 asSigned(journalChecksum(event->seq, event->time, type, scratch.payload))}))
                    return abort(events.error());
                position.eventSeq = event->seq;
                scratch.projections.add(*event);
            }
            if (command.commandSeq <= position.commandSeq)
                continue;
            scratch.payload.clear();
            encodeBody(command.command.body, scratch.payload);
            const QByteArray bytes(reinterpret_cast<const char *>(scratch.payload.data()),
                                   static_cast<qsizetype>(scratch.payload.size()));
            if (!commands.add({asSigned(command.commandSeq), qint64(command.command.time),
                               int(typeOf(command.command.body)), asSigned(command.firstEventSeq),
                               asSigned(command.lastEventSeq), bytes,
                               asSigned(commandChecksum(command, scratch.payload, digest.value()))}))
                return abort(commands.error());
            position.commandSeq = command.commandSeq;
        }
    }
    if (!commands.finish())
        return abort(commands.error());
    if (!events.finish())
        return abort(events.error());
    if (const auto projected = scratch.projections.write(db); !projected)
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

Expected<Recovered, QString> recoverJournal(QSqlDatabase &db)
{
    const QString advice = QStringLiteral(
        "; the journal is damaged: restore the data from a backup (bourse restore) or, to inspect it, run "
        "bourse verify. Bourse does not start on a damaged journal, so that no acknowledged order is lost.");
    Recovered recovered;

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
    QSqlQuery commands(db);
    commands.setForwardOnly(true);
    commands.prepare(QStringLiteral("SELECT seq, time_ns, type, first_event_seq, last_event_seq, payload, checksum "
                                    "FROM commands WHERE seq > ? ORDER BY seq"));
    commands.addBindValue(asSigned(recovered.position.commandSeq));
    if (!commands.exec())
        return unexpected(sqlError(QStringLiteral("reading the journal"), commands.lastError()));

    std::vector<Event> events;
    std::vector<std::uint8_t> encoded;
    Sequencer &engine = *recovered.engine;
    while (commands.next()) {
        JournalCommand row;
        row.commandSeq = static_cast<Seq>(commands.value(0).toLongLong());
        row.command.time = commands.value(1).toLongLong();
        const int type = commands.value(2).toInt();
        row.firstEventSeq = static_cast<Seq>(commands.value(3).toLongLong());
        row.lastEventSeq = static_cast<Seq>(commands.value(4).toLongLong());
        const QByteArray payload = commands.value(5).toByteArray();
        const auto checksum = static_cast<std::uint64_t>(commands.value(6).toLongLong());
        const QString where = QStringLiteral("command %1").arg(row.commandSeq);
        if (row.commandSeq != recovered.position.commandSeq + 1)
            return unexpected(QStringLiteral("the journal skips from command %1 to %2")
                                  .arg(recovered.position.commandSeq)
                                  .arg(row.commandSeq)
                              + advice);
        const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t *>(payload.constData()),
                                                  static_cast<std::size_t>(payload.size()));
        auto body = decodeCommandBody(static_cast<std::uint8_t>(type), bytes);
        if (type < 0 || type > 255 || !body)
            return unexpected(where + QStringLiteral(" is ") + (body ? "of an unknown type" : describe(body.error())) + advice);
        row.command.body = std::move(body.value());

        events.clear();
        const CommandResult result = engine.apply(row.command, events);
        EventsDigest digest;
        for (const Event &event : events) {
            encoded.clear();
            encodeBody(event.body, encoded);
            digest.add(event, encoded);
        }
        if (result.firstSeq != row.firstEventSeq || result.lastSeq != row.lastEventSeq
            || commandChecksum(row, bytes, digest.value()) != checksum)
            return unexpected(where
                              + QStringLiteral(" fails its checksum: the row is damaged, or replaying it no longer "
                                               "gives the events it gave")
                              + advice);
        recovered.position = {row.commandSeq, engine.lastSeq()};
        ++recovered.replayedCommands;
        recovered.checkedEvents += events.size();
    }
    if (commands.lastError().isValid())
        return unexpected(sqlError(QStringLiteral("reading the journal"), commands.lastError()));

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
    return recovered;
}

} // namespace bourse::sql
