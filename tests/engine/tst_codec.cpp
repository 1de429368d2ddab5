// The journal codec: every command and event the engine really produces survives encode → decode
// unchanged, and every malformed payload is refused with the right error instead of being guessed at.
#include "codec.h"
#include "command_generator.h"
#include "sequencer.h"

#include <QTest>

using namespace bourse;

Q_DECLARE_METATYPE(CodecError)

namespace {

std::vector<std::uint8_t> encoded(const EventBody &body)
{
    std::vector<std::uint8_t> out;
    encodeBody(body, out);
    return out;
}

EventBody sampleTrade()
{
    return TradeExecuted{7, 1, Decimal::fromRaw(6'400'000'000'000), Decimal::fromRaw(15'000), Side::Sell, 3, 9, 11, 12,
                         Decimal::fromRaw(0), Decimal::fromRaw(5'000)};
}

} // namespace

class TestCodec final : public QObject
{
    Q_OBJECT

private slots:
    void roundTripsWhatTheEngineProduces()
    {
        const std::uint64_t seed = test::environmentNumber("BOURSE_CODEC_SEED", std::random_device{}());
        qInfo("seed %llu", static_cast<unsigned long long>(seed));
        test::CommandGenerator generator(seed);
        Sequencer engine;
        std::vector<Event> events;
        std::vector<std::uint8_t> payload;
        std::size_t seenEvents = 0;
        std::vector<bool> commandTypes(std::variant_size_v<CommandBody>);
        std::vector<bool> eventTypes(std::variant_size_v<EventBody>);
        for (int i = 0; i < 100'000; ++i) {
            const Command command = generator.next();
            payload.clear();
            encodeBody(command.body, payload);
            const auto decoded = decodeCommandBody(typeOf(command.body), payload);
            QVERIFY2(decoded.hasValue(), decoded.hasValue() ? "" : describe(decoded.error()));
            QVERIFY(*decoded == command.body);
            commandTypes[command.body.index()] = true;

            events.clear();
            engine.apply(command, events);
            generator.observe(events);
            for (const Event &event : events) {
                payload.clear();
                encodeBody(event.body, payload);
                const auto back = decodeEventBody(typeOf(event.body), payload);
                QVERIFY2(back.hasValue(), back.hasValue() ? "" : describe(back.error()));
                QVERIFY(*back == event.body);
                eventTypes[event.body.index()] = true;
                ++seenEvents;
            }
        }
        QVERIFY(seenEvents > 100'000);
        for (std::size_t t = 0; t < commandTypes.size(); ++t)
            QVERIFY2(commandTypes[t], qPrintable(QStringLiteral("no command of type %1").arg(t)));
        for (std::size_t t = 0; t < eventTypes.size(); ++t)
            QVERIFY2(eventTypes[t], qPrintable(QStringLiteral("no event of type %1").arg(t)));
    }

    void everyTruncationIsRefused()
    {
        const std::vector<std::uint8_t> whole = encoded(sampleTrade());
        for (std::size_t size = 0; size < whole.size(); ++size) {
            const auto decoded = decodeEventBody(typeOf(sampleTrade()), std::span(whole.data(), size));
            QVERIFY(!decoded.hasValue());
            QCOMPARE(decoded.error(), CodecError::Truncated);
        }
    }

    void malformed_data()
    {
        QTest::addColumn<int>("variant");
        QTest::addColumn<CodecError>("error");
        QTest::newRow("trailing byte") << 0 << CodecError::TrailingBytes;
        QTest::newRow("other version") << 1 << CodecError::UnknownVersion;
        QTest::newRow("type past the last") << 2 << CodecError::UnknownType;
        QTest::newRow("enum out of range") << 3 << CodecError::BadValue;
        QTest::newRow("bool of 2") << 4 << CodecError::BadValue;
        QTest::newRow("string longer than its capacity") << 5 << CodecError::BadValue;
        QTest::newRow("string longer than the payload") << 6 << CodecError::Truncated;
        QTest::newRow("optional presence of 2") << 7 << CodecError::BadValue;
        QTest::newRow("empty payload") << 8 << CodecError::Truncated;
    }
    void malformed()
    {
        QFETCH(int, variant);
        QFETCH(CodecError, error);
        // OrderAccepted: version, order(8) account(8) instrument(4) side type tif postOnly stp, price(8)
        // quantity(8), client order id (length + bytes).
        const EventBody accepted = OrderAccepted{1, 2, 0, Side::Buy, OrderType::Limit, TimeInForce::Gtc, false,
                                                 SelfTradePrevention::None, Decimal::fromRaw(100), Decimal::fromRaw(5),
                                                 ClientOrderId("ab")};
        std::vector<std::uint8_t> payload = encoded(accepted);
        std::uint8_t type = typeOf(accepted);
        constexpr std::size_t kSide = 1 + 8 + 8 + 4;
        constexpr std::size_t kPostOnly = kSide + 3;
        constexpr std::size_t kClientIdLength = kSide + 5 + 16;
        bool command = false;
        switch (variant) {
        case 0: payload.push_back(0); break;
        case 1: payload[0] = kCodecVersion + 1; break;
        case 2: type = static_cast<std::uint8_t>(std::variant_size_v<EventBody>); break;
        case 3: payload[kSide] = 2; break;
        case 4: payload[kPostOnly] = 2; break;
        case 5: payload[kClientIdLength] = 65; break;
        case 6: payload[kClientIdLength] = 60; break;
        case 7: {
            // AmendOrder: version, account(8), order(8), then price's presence byte.
            command = true;
            payload.clear();
            encodeBody(CommandBody(AmendOrder{1, 2, Decimal::fromRaw(3), std::nullopt}), payload);
            payload[1 + 16] = 2;
            type = static_cast<std::uint8_t>(CommandType::AmendOrder);
            break;
        }
        case 8: payload.clear(); break;
        default: QFAIL("no such variant");
        }
        if (command) {
            const auto decoded = decodeCommandBody(type, payload);
            QVERIFY(!decoded.hasValue());
            QCOMPARE(decoded.error(), error);
        } else {
            const auto decoded = decodeEventBody(type, payload);
            QVERIFY(!decoded.hasValue());
            QCOMPARE(decoded.error(), error);
        }
    }

    void checksumCoversEveryPart()
    {
        const std::vector<std::uint8_t> payload = encoded(sampleTrade());
        const std::uint64_t base = journalChecksum(10, 20, 6, payload);
        QCOMPARE(journalChecksum(10, 20, 6, payload), base);
        QVERIFY(journalChecksum(11, 20, 6, payload) != base);
        QVERIFY(journalChecksum(10, 21, 6, payload) != base);
        QVERIFY(journalChecksum(10, 20, 7, payload) != base);
        for (std::size_t byte = 0; byte < payload.size(); ++byte) {
            for (int bit = 0; bit < 8; ++bit) {
                std::vector<std::uint8_t> flipped = payload;
                flipped[byte] = static_cast<std::uint8_t>(flipped[byte] ^ (1u << bit));
                QVERIFY(journalChecksum(10, 20, 6, flipped) != base);
            }
        }
        std::vector<std::uint8_t> longer = payload;
        longer.push_back(0);
        QVERIFY(journalChecksum(10, 20, 6, longer) != base);
    }
};

QTEST_APPLESS_MAIN(TestCodec)
#include "tst_codec.moc"
