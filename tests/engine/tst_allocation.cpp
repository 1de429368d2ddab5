// The engine's hot path allocates nothing in steady state: once pools, indexes and level arrays have grown
// to the working set, placing, matching, amending and cancelling orders (with and without client order
// ids) never calls operator new. Counted by replacing the global allocation functions in this executable.
#include "sequencer.h"

#include <QTest>

#include <atomic>
#include <cstdlib>
#include <new>
#include <random>

namespace {
std::atomic<std::size_t> g_allocations{0};
}

void *operator new(std::size_t size)
{
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    if (void *p = std::malloc(size ? size : 1))
        return p;
    throw std::bad_alloc();
}
void *operator new[](std::size_t size)
{
    return operator new(size);
}
void operator delete(void *p) noexcept
{
    std::free(p);
}
void operator delete[](void *p) noexcept
{
    std::free(p);
}
void operator delete(void *p, std::size_t) noexcept
{
    std::free(p);
}
void operator delete[](void *p, std::size_t) noexcept
{
    std::free(p);
}

using namespace bourse;

class TestAllocation final : public QObject
{
    Q_OBJECT

private slots:
    void steadyStateAllocatesNothing()
    {
        Sequencer engine;
        std::vector<Event> events;
        events.reserve(1 << 16);
        TimeNs now = 1'800'000'000'000'000'000;
        std::size_t trades = 0;
        std::size_t amends = 0;
        std::size_t cancels = 0;
        const auto run = [&](CommandBody body) {
            events.clear();
            now += 1'000'000'000; // a second per command: 24 h passes every 86,400 commands
            const CommandResult result = engine.apply(Command{now, std::move(body)}, events);
            for (const Event &event : events) {
                trades += std::holds_alternative<TradeExecuted>(event.body);
                amends += std::holds_alternative<OrderAmended>(event.body);
                cancels += std::holds_alternative<OrderCancelled>(event.body);
            }
            return result;
        };
        const auto d = [](const char *text) { return Decimal::parse(text).value(); };
        QVERIFY(run(AddInstrument{Symbol("BTC-USD"), AssetCode("BTC"), AssetCode("USD"), d("0.01"), d("0.0001"),
                                  d("0.0001")}).ok());
        for (AccountId account = 1; account <= 50; ++account) {
            QVERIFY(run(Deposit{account, AssetCode("USD"), d("1000000000")}).ok());
            QVERIFY(run(Deposit{account, AssetCode("BTC"), d("100000")}).ok());
        }

        std::mt19937_64 random(7);
        std::vector<OrderId> placed;
        placed.reserve(8'000); // the test's own bookkeeping must not allocate either
        std::size_t clientIds = 0;
        const auto step = [&] {
            const int roll = static_cast<int>(random() % 100);
            const Side side = random() % 2 ? Side::Buy : Side::Sell;
            const std::int64_t offset = static_cast<std::int64_t>(random() % 400);
            const std::int64_t ticks = side == Side::Buy ? 100'000 - 1 - offset : 100'000 + offset;
            // Hold the book at about 1,500 orders: a growing book is not a steady state.
            const bool place = engine.openOrderCount() < 1'000 || (roll < 30 && engine.openOrderCount() < 2'000);
            if (place) {
                PlaceOrder order;
                order.account = 1 + random() % 50;
                order.symbol = Symbol("BTC-USD");
                order.side = side;
                order.price = Decimal::fromRaw((roll < 3 ? (side == Side::Buy ? 100'003 : 99'996) : ticks) * 1'000'000);
                order.quantity = Decimal::fromRaw(static_cast<std::int64_t>(1 + random() % 20) * 10'000);
                order.timeInForce = roll < 5 ? TimeInForce::Ioc : TimeInForce::Gtc;
                // Client order ids: every tenth order, unique, remembered and forgotten after 24 h.
                if (roll % 10 == 0) {
                    char text[32];
                    std::snprintf(text, sizeof text, "c-%zu", clientIds++);
                    order.clientOrderId = ClientOrderId(text);
                }
                const auto result = run(order);
                if (result.ok())
                    placed.push_back(result.order);
            } else if (roll < 45 || engine.openOrderCount() >= 2'000) {
                const std::size_t at = random() % placed.size();
                run(CancelOrder{kAnyAccount, placed[at]});
                placed[at] = placed.back();
                placed.pop_back();
            } else {
                const OrderId id = placed[random() % placed.size()];
                run(AmendOrder{kAnyAccount, id, Decimal::fromRaw(ticks * 1'000'000), std::nullopt});
            }
            // Drop candidates that closed (filled or expired), so that cancels and amends mostly hit.
            if (placed.size() > 3'000) {
                std::erase_if(placed, [&](OrderId id) { return !engine.order(id); });
            }
        };

        // Warm-up: about 83 h of venue time, so client order ids are forgotten as fast as they are remembered.
        for (int i = 0; i < 300'000; ++i)
            step();
        const std::size_t before = g_allocations.load();
        trades = amends = cancels = 0;
        for (int i = 0; i < 200'000; ++i)
            step();
        const std::size_t allocations = g_allocations.load() - before;
        QCOMPARE(allocations, std::size_t(0));
        // The window did real work: matching, moving and cancelling orders.
        QVERIFY2(trades > 5'000 && amends > 50'000 && cancels > 10'000,
                 qPrintable(QStringLiteral("trades %1 amends %2 cancels %3").arg(trades).arg(amends).arg(cancels)));
        QVERIFY(engine.openOrderCount() > 100);
    }
};

QTEST_APPLESS_MAIN(TestAllocation)
#include "tst_allocation.moc"
