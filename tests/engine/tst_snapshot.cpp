// Engine snapshots: a restored engine has the same state hash as the one saved AND behaves the same from
// then on (the same events for every later command: priorities, client order id retention, ids), taken
// at many random points of a seeded stream. A damaged snapshot is refused, never half-loaded.
#include "command_generator.h"
#include "sequencer.h"
#include "state_hash.h"

#include <QTest>

#include <random>

using namespace bourse;

class TestSnapshot final : public QObject
{
    Q_OBJECT

private slots:
    void restoredEngineBehavesTheSame()
    {
        const std::uint64_t seed = test::environmentNumber("BOURSE_SNAPSHOT_SEED", std::random_device{}());
        qInfo("seed %llu", static_cast<unsigned long long>(seed));
        test::CommandGenerator generator(seed);
        Sequencer original;
        std::unique_ptr<Sequencer> restored;
        std::vector<Event> expected;
        std::vector<Event> actual;
        std::vector<std::uint8_t> bytes;
        std::mt19937_64 random(seed);
        int snapshots = 0;
        int nextSnapshot = -1;
        for (int i = 0; i < 300'000; ++i) {
            // One snapshot in each block of 20,000 commands, at a random point of it.
            if (i % 20'000 == 0)
                nextSnapshot = i + 7'000 + static_cast<int>(random() % 5'000);
            if (i == nextSnapshot) {
                bytes.clear();
                original.saveSnapshot(bytes);
                auto loaded = Sequencer::fromSnapshot(bytes);
                QVERIFY2(loaded.hasValue(), loaded.hasValue() ? "" : describe(loaded.error()));
                restored = std::move(loaded.value());
                QCOMPARE(restored->stateHash(), original.stateHash());
                QCOMPARE(restored->openOrderCount(), original.openOrderCount());
                // Saving the restored engine gives the same bytes: nothing was lost or reordered.
                std::vector<std::uint8_t> again;
                restored->saveSnapshot(again);
                QVERIFY(again == bytes);
                ++snapshots;
            }
            const Command command = generator.next();
            expected.clear();
            const CommandResult a = original.apply(command, expected);
            generator.observe(expected);
            if (restored) {
                actual.clear();
                const CommandResult b = restored->apply(command, actual);
                QVERIFY2(actual == expected, qPrintable(QStringLiteral("events differ at command %1").arg(i)));
                QCOMPARE(b.outcome, a.outcome);
                QCOMPARE(b.order, a.order);
            }
        }
        QCOMPARE(snapshots, 15);
        QCOMPARE(restored->stateHash(), original.stateHash());
    }

    void emptyEngineRoundTrips()
    {
        Sequencer empty;
        std::vector<std::uint8_t> bytes;
        empty.saveSnapshot(bytes);
        const auto loaded = Sequencer::fromSnapshot(bytes);
        QVERIFY(loaded.hasValue());
        QCOMPARE(loaded.value()->stateHash(), empty.stateHash());
    }

    void damagedSnapshotsAreRefused()
    {
        test::CommandGenerator generator(42);
        Sequencer engine;
        std::vector<Event> events;
        for (int i = 0; i < 20'000; ++i) {
            events.clear();
            engine.apply(generator.next(), events);
            generator.observe(events);
        }
        std::vector<std::uint8_t> bytes;
        engine.saveSnapshot(bytes);
        QVERIFY(engine.openOrderCount() > 10);

        // Every cut short is refused: by the checksum, and (re-signed, as a writer bug would sign it) by the
        // parser's own bounds checks.
        const std::size_t body = bytes.size() - sizeof(std::uint64_t);
        for (std::size_t size = 0; size < body; size += 1 + size / 50) {
            QVERIFY(!Sequencer::fromSnapshot(std::span(bytes.data(), size)).hasValue());
            std::vector<std::uint8_t> resigned(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(size));
            StateHasher hasher;
            hasher.add(std::string_view(reinterpret_cast<const char *>(resigned.data()), resigned.size()));
            for (int i = 0; i < 8; ++i)
                resigned.push_back(static_cast<std::uint8_t>(hasher.value() >> (8 * i)));
            const auto loaded = Sequencer::fromSnapshot(resigned);
            QVERIFY2(!loaded.hasValue(), qPrintable(QStringLiteral("accepted %1 of %2 bytes").arg(size).arg(body)));
            QVERIFY(loaded.error() != CodecError::ChecksumMismatch);
        }
        // An extra byte moves the trailing checksum: refused.
        std::vector<std::uint8_t> longer = bytes;
        longer.push_back(0);
        QCOMPARE(Sequencer::fromSnapshot(longer).error(), CodecError::ChecksumMismatch);
        // Every flipped byte, anywhere, is refused before anything is believed.
        std::mt19937_64 random(7);
        for (int i = 0; i < 2'000; ++i) {
            std::vector<std::uint8_t> damaged = bytes;
            damaged[random() % damaged.size()] ^= static_cast<std::uint8_t>(1 + random() % 255);
            const auto loaded = Sequencer::fromSnapshot(damaged);
            QVERIFY(!loaded.hasValue());
            QCOMPARE(loaded.error(), CodecError::ChecksumMismatch);
        }
    }
};

QTEST_APPLESS_MAIN(TestSnapshot)
#include "tst_snapshot.moc"
