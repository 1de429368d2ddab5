// verifyJournal(), the engine of `bourse verify`, on a real database of each driver: a sound journal with
// snapshots verifies to the state hash recovery reaches; each kind of damage, including the ones recovery
// never reads (old events, old snapshots, the projections), is named with its exact message; verification
// writes nothing; and it sees one consistent state while a writer goes on committing beside it.
#include "codec.h"
#include "connection.h"
#include "journal.h"
#include "journal_history.h"
#include "test_databases.h"

#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QFile>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QTest>

using namespace bourse;
using namespace bourse::sql;

namespace {

// What the damage cases change (damage_data names each).
enum class Damage {
    CommandPayload,
    CommandMissing,
    OldEventPayload,
    OldEventChecksum,
    EventMissing,
    EventExtra,
    SnapshotPayload,
    SnapshotStateHash,
    ForeignSnapshot,
    SnapshotPastTheEnd,
    TradePrice,
    TradeMissing,
    TradeExtra,
    BalanceChanged,
    BalanceMissing,
    OpenOrderRemaining,
    OpenOrderExtra,
    OpenOrderClosed,
};

QString amount(std::int64_t raw)
{
    return QString::fromStdString(Decimal::fromRaw(raw).toString());
}

// The first row of `select`'s values; empty if there is none (or the query fails, with a warning).
QVariantList row(QSqlDatabase &db, const QString &select)
{
    QSqlQuery query(db);
    QVariantList values;
    if (!query.exec(select)) {
        qWarning("%s: %s", qPrintable(select), qPrintable(query.lastError().text()));
        return values;
    }
    if (query.next()) {
        for (int i = 0; i < query.record().count(); ++i)
            values.append(query.value(i));
    }
    return values;
}

qint64 scalar(QSqlDatabase &db, const QString &select)
{
    const QVariantList values = row(db, select);
    return values.isEmpty() ? -1 : values.first().toLongLong();
}

QByteArray scalarBytes(QSqlDatabase &db, const QString &select)
{
    return row(db, select).value(0).toByteArray();
}

// Runs `statement` with `values` bound in order: what went wrong, if anything.
std::optional<QString> run(QSqlDatabase &db, const QString &statement, const QVariantList &values = {})
{
    QSqlQuery query(db);
    if (!query.prepare(statement))
        return query.lastError().text();
    for (const QVariant &value : values)
        query.addBindValue(value);
    if (!query.exec())
        return query.lastError().text();
    return std::nullopt;
}

// `payload` with the bits of its byte at `index` (from the end when negative) inverted.
QByteArray flipped(QByteArray payload, qsizetype index)
{
    const qsizetype at = index < 0 ? payload.size() + index : index;
    payload[at] = static_cast<char>(~payload[at]);
    return payload;
}

// How many trades `batches` journal, and the id of the last: counted from their TradeExecuted events.
std::pair<std::size_t, TradeId> tradesOf(const std::vector<JournalBatch> &batches)
{
    std::pair<std::size_t, TradeId> trades{0, 0};
    for (const JournalBatch &batch : batches) {
        for (const Event &event : batch.events) {
            if (const auto *trade = std::get_if<TradeExecuted>(&event.body)) {
                ++trades.first;
                trades.second = trade->trade;
            }
        }
    }
    return trades;
}

// A digest of everything the database holds: SQLite's file and write-ahead log byte for byte; every table of
// PostgreSQL's public schema, row by row.
QByteArray fingerprint(QSqlDatabase &db, const DatabaseUrl &url)
{
    QCryptographicHash hash(QCryptographicHash::Sha256);
    if (url.driver == DatabaseUrl::Driver::Sqlite) {
        for (const QString &path : {url.path, url.path + QStringLiteral("-wal")}) {
            QFile file(path);
            if (file.open(QIODevice::ReadOnly))
                hash.addData(&file);
            hash.addData(path.toUtf8());
        }
        return hash.result();
    }
    QSqlQuery tables(db);
    if (!tables.exec(QStringLiteral("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")))
        return {};
    while (tables.next()) {
        const QString table = tables.value(0).toString();
        QSqlQuery content(db);
        if (!content.exec(QStringLiteral("SELECT COUNT(*), md5(COALESCE(string_agg(t::text, '|' ORDER BY t::text), "
                                         "'')) FROM %1 t")
                              .arg(table))
            || !content.next())
            return {};
        hash.addData(table.toUtf8() + ':' + content.value(0).toByteArray() + ':' + content.value(1).toByteArray());
    }
    return hash.result();
}

} // namespace

Q_DECLARE_METATYPE(Damage)

class TestVerify final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        auto databases = test::TestDatabases::create();
        QVERIFY2(databases.hasValue(), databases.hasValue() ? "" : qPrintable(databases.error()));
        m_databases = std::move(databases.value());
        // A snapshot about every 500 commands; the damage cases share it.
        m_damaged = test::snapshottedHistory(21, 3'000, 500);
    }

    void soundJournalVerifies_data() { test::TestDatabases::addDriverRows(); }
    void soundJournalVerifies()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        auto connection = open(driver);
        QVERIFY(connection);
        QSqlDatabase &db = connection->database();
        const test::SnapshottedHistory history = test::snapshottedHistory(22, 60'000, 7'000);
        const auto written = test::writeInGroups(db, history.batches);
        QVERIFY2(!written, written ? qPrintable(*written) : "");
        const qint64 snapshots = scalar(db, QStringLiteral("SELECT COUNT(*) FROM snapshots"));
        QCOMPARE(snapshots, qint64(8));

        std::vector<VerifyProgress> seen;
        const auto report = verifyJournal(db, [&seen](const VerifyProgress &progress) { seen.push_back(progress); });
        QVERIFY2(report.hasValue(), report.hasValue() ? "" : qPrintable(report.error()));
        QCOMPARE(report->commands, std::size_t(history.end.commandSeq));
        QCOMPARE(report->events, std::size_t(history.end.eventSeq));
        QCOMPARE(report->snapshots, std::size_t(snapshots));
        QCOMPARE(report->trades, tradesOf(history.batches).first);
        QVERIFY(report->trades > 0);
        QCOMPARE(qint64(report->trades), scalar(db, QStringLiteral("SELECT COUNT(*) FROM trades")));
        QCOMPARE(report->position.commandSeq, history.end.commandSeq);
        QCOMPARE(report->position.eventSeq, history.end.eventSeq);
        QCOMPARE(report->stateHash, history.finalHash);
        QCOMPARE(report->openOrders, history.engine->openOrderCount());
        QVERIFY(report->openOrders > 0);
        QCOMPARE(qint64(report->balanceRows), scalar(db, QStringLiteral("SELECT COUNT(*) FROM balances")));
        QCOMPARE(qint64(report->accounts), scalar(db, QStringLiteral("SELECT COUNT(DISTINCT user_id) FROM balances "
                                                                     "WHERE available > 0 OR reserved > 0")));
        QVERIFY(report->accounts > 0);

        // The same state recovery reaches (from the latest snapshot).
        const auto recovered = recoverJournal(db);
        QVERIFY2(recovered.hasValue(), recovered.hasValue() ? "" : qPrintable(recovered.error()));
        QCOMPARE(report->stateHash, recovered->engine->stateHash());
        QCOMPARE(formatStateHash(report->stateHash).size(), 16);
        QCOMPARE(formatStateHash(0x1fULL), QStringLiteral("000000000000001f"));

        // Progress after each stretch: onwards, ending where the journal ends.
        QVERIFY(seen.size() >= std::size_t(snapshots));
        for (std::size_t i = 0; i < seen.size(); ++i) {
            QCOMPARE(seen[i].lastCommandSeq, history.end.commandSeq);
            QVERIFY(i == 0 || seen[i].commandSeq > seen[i - 1].commandSeq);
        }
        QCOMPARE(seen.back().commandSeq, history.end.commandSeq);
        QCOMPARE(seen.back().eventSeq, history.end.eventSeq);
        QCOMPARE(seen.back().snapshots, std::size_t(snapshots));

        const double seconds = std::max<double>(double(report->elapsed.count()), 1.0) / 1000;
        qInfo("verified %zu commands, %zu events, %zu snapshots, %zu trades, %zu open orders, %zu balance rows in "
              "%lld ms: %.0f commands/s, %.0f events/s",
              report->commands, report->events, report->snapshots, report->trades, report->openOrders,
              report->balanceRows,
              qint64(report->elapsed.count()), double(report->commands) / seconds, double(report->events) / seconds);
    }

    void emptyJournalVerifies_data() { test::TestDatabases::addDriverRows(); }
    void emptyJournalVerifies()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        auto connection = open(driver);
        QVERIFY(connection);
        int calls = 0;
        const auto report = verifyJournal(connection->database(), [&calls](const VerifyProgress &) { ++calls; });
        QVERIFY2(report.hasValue(), report.hasValue() ? "" : qPrintable(report.error()));
        QCOMPARE(report->commands, std::size_t(0));
        QCOMPARE(report->events, std::size_t(0));
        QCOMPARE(report->snapshots, std::size_t(0));
        QCOMPARE(report->trades, std::size_t(0));
        QCOMPARE(report->openOrders, std::size_t(0));
        QCOMPARE(report->balanceRows, std::size_t(0));
        QCOMPARE(report->stateHash, Sequencer().stateHash());
        QCOMPARE(calls, 0);
    }

    void damageIsNamed_data()
    {
        QTest::addColumn<DatabaseUrl::Driver>("driver");
        QTest::addColumn<Damage>("damage");
        const QList<std::pair<const char *, Damage>> damages = {
            {"a flipped byte in command 500's payload", Damage::CommandPayload},
            {"command 1200 deleted", Damage::CommandMissing},
            {"a flipped byte in event 300's payload", Damage::OldEventPayload},
            {"event 250's checksum changed", Damage::OldEventChecksum},
            {"event 400 deleted", Damage::EventMissing},
            {"an event row after the last", Damage::EventExtra},
            {"a flipped byte in the first snapshot's payload", Damage::SnapshotPayload},
            {"the first snapshot's state_hash changed", Damage::SnapshotStateHash},
            {"the first snapshot replaced by the second, checksum recomputed", Damage::ForeignSnapshot},
            {"a snapshot after the last command", Damage::SnapshotPastTheEnd},
            {"a trades row's price changed", Damage::TradePrice},
            {"a trades row deleted", Damage::TradeMissing},
            {"a trades row after the last trade", Damage::TradeExtra},
            {"a balances row changed", Damage::BalanceChanged},
            {"a balances row deleted", Damage::BalanceMissing},
            {"an open order's remaining changed", Damage::OpenOrderRemaining},
            {"an extra open order row", Damage::OpenOrderExtra},
            {"an open order's row cancelled", Damage::OpenOrderClosed},
        };
        for (const auto driver : {DatabaseUrl::Driver::Sqlite, DatabaseUrl::Driver::PostgreSql}) {
            for (const auto &[name, damage] : damages)
                QTest::addRow("%s: %s", qPrintable(test::TestDatabases::driverName(driver)), name) << driver << damage;
        }
    }
    void damageIsNamed()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        QFETCH(Damage, damage);
        auto connection = open(driver);
        QVERIFY(connection);
        QSqlDatabase &db = connection->database();
        const test::SnapshottedHistory &history = m_damaged;
        const auto written = test::writeInGroups(db, history.batches);
        QVERIFY2(!written, written ? qPrintable(*written) : "");
        const auto sound = verifyJournal(db);
        QVERIFY2(sound.hasValue(), sound.hasValue() ? "" : qPrintable(sound.error()));
        QVERIFY(sound->snapshots >= 5);

        const Sequencer &engine = *history.engine;
        // The snapshots' rows, in command order: command_seq, event_seq, time_ns, state_hash, payload.
        QList<QVariantList> snapshots;
        {
            QSqlQuery query(db);
            QVERIFY(query.exec(QStringLiteral("SELECT command_seq, event_seq, time_ns, state_hash, payload, id FROM "
                                              "snapshots ORDER BY command_seq")));
            while (query.next())
                snapshots.append(
                    {query.value(0), query.value(1), query.value(2), query.value(3), query.value(4), query.value(5)});
        }
        QString expected;
        bool recoveryMisses = false; // recovery reads only the latest snapshot, what follows it, and no projection
        std::optional<QString> failed;
        switch (damage) {
        case Damage::CommandPayload: {
            const QVariantList command = row(db, QStringLiteral("SELECT type, payload FROM commands WHERE seq = 500"));
            QCOMPARE(command.size(), 2);
            const QByteArray payload = flipped(command[1].toByteArray(), -1);
            // The last byte is a value's (not a length, presence or enum byte): the payload still decodes, to
            // another command than the one the row's checksum covers.
            QVERIFY(decodeCommandBody(static_cast<std::uint8_t>(command[0].toInt()),
                                      std::span(reinterpret_cast<const std::uint8_t *>(payload.constData()),
                                                std::size_t(payload.size())))
                        .hasValue());
            failed = run(db, QStringLiteral("UPDATE commands SET payload = ? WHERE seq = 500"), {payload});
            expected = QStringLiteral("command 500 fails its checksum: the row is damaged, or replaying it no longer "
                                      "gives the events it gave");
            break;
        }
        case Damage::CommandMissing:
            failed = run(db, QStringLiteral("DELETE FROM commands WHERE seq = 1200"));
            expected = QStringLiteral("the journal skips from command 1199 to 1201");
            break;
        case Damage::OldEventPayload: {
            const QByteArray payload = scalarBytes(db, QStringLiteral("SELECT payload FROM events WHERE seq = 300"));
            failed = run(db, QStringLiteral("UPDATE events SET payload = ? WHERE seq = 300"), {flipped(payload, -1)});
            expected = QStringLiteral("event 300 is not the event its command produces (its payload differs): the row "
                                      "is damaged");
            recoveryMisses = true;
            break;
        }
        case Damage::OldEventChecksum:
            failed = run(db, QStringLiteral("UPDATE events SET checksum = checksum + 1 WHERE seq = 250"));
            expected = QStringLiteral("event 250 is not the event its command produces (its checksum differs): the "
                                      "row is damaged");
            recoveryMisses = true;
            break;
        case Damage::EventMissing: {
            const qint64 command = scalar(db, QStringLiteral("SELECT command_seq FROM events WHERE seq = 400"));
            failed = run(db, QStringLiteral("DELETE FROM events WHERE seq = 400"));
            expected = QStringLiteral("event 400 is missing: the journal has no row for it, though command %1 "
                                      "produces it")
                           .arg(command);
            recoveryMisses = true;
            break;
        }
        case Damage::EventExtra:
            failed = run(db, QStringLiteral("INSERT INTO events(seq, command_seq, time_ns, type, payload, checksum) "
                                            "SELECT (SELECT MAX(seq) + 1 FROM events), 1, 0, 0, payload, 0 FROM "
                                            "events WHERE seq = 1"));
            expected = QStringLiteral("the journal holds event rows after event %1, the last its commands produce: 1 "
                                      "of them, up to event %2")
                           .arg(history.end.eventSeq)
                           .arg(history.end.eventSeq + 1);
            break;
        case Damage::SnapshotPayload:
            failed = run(db, QStringLiteral("UPDATE snapshots SET payload = ? WHERE id = ?"),
                         {flipped(snapshots[0][4].toByteArray(), 100), snapshots[0][5]});
            expected = QStringLiteral("snapshot after command %1 fails its checksum").arg(snapshots[0][0].toLongLong());
            recoveryMisses = true;
            break;
        case Damage::SnapshotStateHash:
            // The row's checksum covers its command seq, time and payload, not the state hash: it still passes.
            failed = run(db, QStringLiteral("UPDATE snapshots SET state_hash = state_hash + 1 WHERE id = ?"),
                         {snapshots[0][5]});
            expected = QStringLiteral("snapshot after command %1 does not restore the state it recorded")
                           .arg(snapshots[0][0].toLongLong());
            recoveryMisses = true;
            break;
        case Damage::ForeignSnapshot: {
            // The first snapshot's row takes the second's state, hash, event seq and time, with the checksum
            // recomputed over its own command seq the way the journal writer computes it
            // (journalChecksum(command seq, time, 0xff, payload)): a sound row in itself, of the wrong state.
            const QVariantList &first = snapshots[0];
            const QVariantList &second = snapshots[1];
            const QByteArray payload = second[4].toByteArray();
            const std::uint64_t checksum
                = journalChecksum(static_cast<Seq>(first[0].toLongLong()), second[2].toLongLong(), 0xff,
                                  std::span(reinterpret_cast<const std::uint8_t *>(payload.constData()),
                                            std::size_t(payload.size())));
            failed = run(db,
                         QStringLiteral("UPDATE snapshots SET event_seq = ?, time_ns = ?, state_hash = ?, payload = ?, "
                                        "checksum = ? WHERE id = ?"),
                         {second[1], second[2], second[3], payload, qint64(checksum), first[5]});
            expected = QStringLiteral("snapshot after command %1 is not the state replay reaches there: it records "
                                      "state %2 at event %3, replaying the journal to command %1 gives state %4 at "
                                      "event %5")
                           .arg(first[0].toLongLong())
                           .arg(formatStateHash(std::uint64_t(second[3].toLongLong())))
                           .arg(second[1].toLongLong())
                           .arg(formatStateHash(std::uint64_t(first[3].toLongLong())))
                           .arg(first[1].toLongLong());
            recoveryMisses = true;
            break;
        }
        case Damage::SnapshotPastTheEnd:
            failed = run(db,
                         QStringLiteral("INSERT INTO snapshots(command_seq, event_seq, time_ns, state_hash, payload, "
                                        "checksum, created_at_ns) SELECT ?, event_seq, time_ns, state_hash, payload, "
                                        "checksum, created_at_ns FROM snapshots WHERE id = ?"),
                         {qint64(history.end.commandSeq + 5), snapshots.back()[5]});
            expected = QStringLiteral("snapshot after command %1 lies past the journal's last command, %2")
                           .arg(history.end.commandSeq + 5)
                           .arg(history.end.commandSeq);
            break;
        case Damage::TradePrice:
        case Damage::TradeMissing: {
            // A trades row halfway through the table: its id, the event that wrote it, its price.
            const qint64 trades = scalar(db, QStringLiteral("SELECT COUNT(*) FROM trades"));
            QVERIFY(trades > 100);
            const QVariantList trade = row(db, QStringLiteral("SELECT id, seq, price FROM trades ORDER BY id LIMIT 1 "
                                                              "OFFSET %1")
                                                   .arg(trades / 2));
            QCOMPARE(trade.size(), 3);
            if (damage == Damage::TradePrice) {
                failed = run(db, QStringLiteral("UPDATE trades SET price = price + 1 WHERE id = ?"), {trade[0]});
                expected = QStringLiteral("trades row %1 is not the trade event %2 produced: its price is %3 in the "
                                          "table, %4 in the journal")
                               .arg(trade[0].toLongLong())
                               .arg(trade[1].toLongLong())
                               .arg(amount(trade[2].toLongLong() + 1), amount(trade[2].toLongLong()));
            } else {
                failed = run(db, QStringLiteral("DELETE FROM trades WHERE id = ?"), {trade[0]});
                expected = QStringLiteral("trade %1 of event %2 has no trades row")
                               .arg(trade[0].toLongLong())
                               .arg(trade[1].toLongLong());
            }
            recoveryMisses = true;
            break;
        }
        case Damage::TradeExtra: {
            const TradeId last = tradesOf(history.batches).second;
            QVERIFY(last > 0);
            failed = run(db,
                         QStringLiteral("INSERT INTO trades(id, instrument_id, price, quantity, taker_side, "
                                        "maker_order_id, taker_order_id, maker_user_id, taker_user_id, seq, time_ns) "
                                        "SELECT id + 1, instrument_id, price, quantity, taker_side, maker_order_id, "
                                        "taker_order_id, maker_user_id, taker_user_id, seq, time_ns FROM trades "
                                        "WHERE id = ?"),
                         {qint64(last)});
            expected = QStringLiteral("the trades table holds rows after trade %1, the last the journal produces: 1 "
                                      "of them, up to trades row %2")
                           .arg(last)
                           .arg(last + 1);
            recoveryMisses = true;
            break;
        }
        case Damage::BalanceChanged: {
            const QVariantList balance = row(db, QStringLiteral("SELECT user_id, asset_id, available, reserved FROM "
                                                                "balances WHERE available > 0 ORDER BY user_id, "
                                                                "asset_id LIMIT 1"));
            QCOMPARE(balance.size(), 4);
            failed = run(db,
                         QStringLiteral("UPDATE balances SET available = available + 1 WHERE user_id = ? AND "
                                        "asset_id = ?"),
                         {balance[0], balance[1]});
            const BalanceView held = engine.balance(balance[0].toULongLong(), balance[1].toUInt());
            QCOMPARE(held.available.raw(), balance[2].toLongLong());
            expected = QStringLiteral("balances row of user %1, asset %2 is not the engine's balance: available %3 "
                                      "and reserved %4 in the table, available %5 and reserved %6 in the engine")
                           .arg(balance[0].toLongLong())
                           .arg(balance[1].toLongLong())
                           .arg(amount(held.available.raw() + 1), amount(held.reserved.raw()),
                                amount(held.available.raw()), amount(held.reserved.raw()));
            recoveryMisses = true;
            break;
        }
        case Damage::BalanceMissing: {
            const QVariantList balance = row(db, QStringLiteral("SELECT user_id, asset_id, available + reserved FROM "
                                                                "balances WHERE available > 0 ORDER BY user_id, "
                                                                "asset_id LIMIT 1"));
            QCOMPARE(balance.size(), 3);
            failed = run(db, QStringLiteral("DELETE FROM balances WHERE user_id = ? AND asset_id = ?"),
                         {balance[0], balance[1]});
            const std::int64_t supply = engine.assetSupply(balance[1].toUInt()).raw();
            expected = QStringLiteral("the balances rows of asset %1 add up to %2, but the engine's accounts hold %3 "
                                      "of it: a row is missing")
                           .arg(balance[1].toLongLong())
                           .arg(amount(supply - balance[2].toLongLong()), amount(supply));
            recoveryMisses = true;
            break;
        }
        case Damage::OpenOrderRemaining: {
            const QVariantList order = row(db, QStringLiteral("SELECT id, quantity - filled_quantity FROM orders WHERE "
                                                              "status = 'partially_filled' AND quantity - "
                                                              "filled_quantity > 1 ORDER BY id LIMIT 1"));
            QCOMPARE(order.size(), 2);
            failed = run(db, QStringLiteral("UPDATE orders SET filled_quantity = filled_quantity + 1 WHERE id = ?"),
                         {order[0]});
            expected = QStringLiteral("orders row %1 is not the engine's open order %1: its remaining quantity is %2 "
                                      "in the table, %3 in the engine")
                           .arg(order[0].toLongLong())
                           .arg(amount(order[1].toLongLong() - 1), amount(order[1].toLongLong()));
            recoveryMisses = true;
            break;
        }
        case Damage::OpenOrderExtra: {
            const qint64 id = scalar(db, QStringLiteral("SELECT MAX(id) + 1 FROM orders"));
            failed = run(db,
                         QStringLiteral("INSERT INTO orders(id, user_id, instrument_id, client_order_id, side, type, "
                                        "time_in_force, post_only, stp, price, quantity, filled_quantity, "
                                        "filled_notional, status, created_at_ns, updated_at_ns, seq) SELECT ?, "
                                        "user_id, instrument_id, NULL, side, type, time_in_force, post_only, stp, "
                                        "price, quantity, 0, 0, 'new', created_at_ns, updated_at_ns, seq FROM orders "
                                        "WHERE id = (SELECT MIN(id) FROM orders WHERE status = 'new')"),
                         {id});
            expected = QStringLiteral("orders row %1 is open (new) in the table, but the engine holds no open order %1")
                           .arg(id);
            recoveryMisses = true;
            break;
        }
        case Damage::OpenOrderClosed: {
            const QVariantList order = row(db, QStringLiteral("SELECT id, quantity FROM orders WHERE status = 'new' "
                                                              "ORDER BY id LIMIT 1"));
            QCOMPARE(order.size(), 2);
            failed = run(db, QStringLiteral("UPDATE orders SET status = 'cancelled' WHERE id = ?"), {order[0]});
            expected = QStringLiteral("the engine holds order %1 open with %2 remaining, but its orders row is "
                                      "cancelled")
                           .arg(order[0].toLongLong())
                           .arg(amount(order[1].toLongLong()));
            recoveryMisses = true;
            break;
        }
        }
        QVERIFY2(!failed, failed ? qPrintable(*failed) : "");

        const auto report = verifyJournal(db);
        QVERIFY(!report.hasValue());
        QCOMPARE(report.error(), expected);
        if (recoveryMisses) {
            const auto recovered = recoverJournal(db);
            QVERIFY2(recovered.hasValue(), recovered.hasValue() ? "" : qPrintable(recovered.error()));
        }
    }

    // Nothing changes, not a byte of SQLite's files; a write through verification's own connection while it
    // runs is refused; and the connection writes again afterwards (SQLite's query_only is back off).
    void verifyWritesNothing_data() { test::TestDatabases::addDriverRows(); }
    void verifyWritesNothing()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        const auto url = m_databases->freshMigrated(driver);
        QVERIFY2(url.hasValue(), url.hasValue() ? "" : qPrintable(url.error()));
        const ConnectionFactory factory(*url);
        const test::SnapshottedHistory history = test::snapshottedHistory(23, 4'000, 1'000);
        const std::vector<JournalBatch> first(history.batches.begin(), history.batches.begin() + 10);
        {
            auto writer = factory.open(u"writer");
            QVERIFY(writer.hasValue());
            const auto written = test::writeInGroups(writer->database(), first);
            QVERIFY2(!written, written ? qPrintable(*written) : "");
        }
        auto connection = factory.open(u"verify");
        QVERIFY(connection.hasValue());
        QSqlDatabase &db = connection->database();
        const QByteArray before = fingerprint(db, *url);
        QVERIFY(!before.isEmpty());
        // Its transaction refuses writes, even through its own connection: SQLite says so to a write (which
        // leaves the read transaction as it was); PostgreSQL's would abort the transaction, so it is asked.
        std::vector<QString> refusals;
        const auto report = verifyJournal(db, [&](const VerifyProgress &) {
            if (driver == DatabaseUrl::Driver::Sqlite) {
                refusals.push_back(run(db, QStringLiteral("UPDATE balances SET available = available + 1"))
                                       .value_or(QStringLiteral("written")));
            } else {
                refusals.push_back(row(db, QStringLiteral("SELECT current_setting('transaction_read_only') || ' ' || "
                                                          "current_setting('transaction_isolation')"))
                                       .value(0)
                                       .toString());
            }
        });
        QVERIFY2(report.hasValue(), report.hasValue() ? "" : qPrintable(report.error()));
        QVERIFY(!refusals.empty());
        for (const QString &refusal : refusals) {
            if (driver == DatabaseUrl::Driver::Sqlite)
                QVERIFY2(refusal.contains(QLatin1String("attempt to write a readonly database")), qPrintable(refusal));
            else
                QCOMPARE(refusal, QStringLiteral("on repeatable read"));
        }
        QCOMPARE(fingerprint(db, *url).toHex(), before.toHex());
        // A damaged journal is left as it was too.
        QCOMPARE(run(db, QStringLiteral("UPDATE events SET checksum = checksum + 1 WHERE seq = 20")), std::nullopt);
        const QByteArray damaged = fingerprint(db, *url);
        QVERIFY(!verifyJournal(db).hasValue());
        QCOMPARE(fingerprint(db, *url).toHex(), damaged.toHex());
        QCOMPARE(run(db, QStringLiteral("UPDATE events SET checksum = checksum - 1 WHERE seq = 20")), std::nullopt);

        const auto rest = test::writeInGroups(db, history.batches);
        QVERIFY2(!rest, rest ? qPrintable(*rest) : "");
        const auto whole = verifyJournal(db);
        QVERIFY2(whole.hasValue(), whole.hasValue() ? "" : qPrintable(whole.error()));
        QCOMPARE(whole->stateHash, history.finalHash);
    }

    // A writer commits the rest of the history while verification runs (between two of its stretches):
    // verification sees the journal and the projections as they were when it began, and passes.
    void verifySeesOneStateBesideAWriter_data() { test::TestDatabases::addDriverRows(); }
    void verifySeesOneStateBesideAWriter()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        const auto url = m_databases->freshMigrated(driver);
        QVERIFY2(url.hasValue(), url.hasValue() ? "" : qPrintable(url.error()));
        const ConnectionFactory factory(*url);
        auto writer = factory.open(u"writer");
        auto verifier = factory.open(u"verify");
        QVERIFY(writer.hasValue() && verifier.hasValue());
        const test::SnapshottedHistory history = test::snapshottedHistory(24, 6'000, 500);
        const std::size_t half = history.batches.size() / 2;
        const std::vector<JournalBatch> first(history.batches.begin(), history.batches.begin() + qsizetype(half));
        const auto written = test::writeInGroups(writer->database(), first);
        QVERIFY2(!written, written ? qPrintable(*written) : "");
        const auto atHalf = recoverJournal(writer->database());
        QVERIFY2(atHalf.hasValue(), atHalf.hasValue() ? "" : qPrintable(atHalf.error()));

        bool wrote = false;
        std::optional<QString> rest;
        const auto report = verifyJournal(verifier->database(), [&](const VerifyProgress &) {
            if (!std::exchange(wrote, true))
                rest = test::writeInGroups(writer->database(), history.batches);
        });
        QVERIFY(wrote);
        QVERIFY2(!rest, rest ? qPrintable(*rest) : "");
        QCOMPARE(scalar(writer->database(), QStringLiteral("SELECT MAX(seq) FROM commands")),
                 qint64(history.end.commandSeq));
        QVERIFY2(report.hasValue(), report.hasValue() ? "" : qPrintable(report.error()));
        QCOMPARE(report->position.commandSeq, atHalf->position.commandSeq);
        QCOMPARE(report->position.eventSeq, atHalf->position.eventSeq);
        QCOMPARE(report->stateHash, atHalf->engine->stateHash());

        const auto whole = verifyJournal(verifier->database());
        QVERIFY2(whole.hasValue(), whole.hasValue() ? "" : qPrintable(whole.error()));
        QCOMPARE(whole->position.commandSeq, history.end.commandSeq);
        QCOMPARE(whole->stateHash, history.finalHash);
    }

private:
    // A connection to a fresh database with the schema, for one test case.
    std::optional<Connection> open(DatabaseUrl::Driver driver) { return m_databases->openFreshMigrated(driver); }

    std::unique_ptr<test::TestDatabases> m_databases;
    test::SnapshottedHistory m_damaged;
};

QTEST_GUILESS_MAIN(TestVerify)
#include "tst_verify.moc"
