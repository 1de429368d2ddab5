// BookSide against a std::map model: random appends, removals and in-place reductions over a few hundred
// prices, so that emptied levels are popped at the top, kept inside the book, reused, and swept out. After
// every step the visible levels (price, total, count, FIFO order) must equal the model's.
#include "order_book.h"

#include <QTest>

#include <deque>
#include <map>
#include <random>

using namespace bourse;

class TestOrderBook final : public QObject
{
    Q_OBJECT

private slots:
    void matchesModel_data()
    {
        QTest::addColumn<int>("side");
        QTest::newRow("bids") << int(Side::Buy);
        QTest::newRow("asks") << int(Side::Sell);
    }
    void matchesModel()
    {
        QFETCH(int, side);
        const auto bookSide = static_cast<Side>(side);
        const std::uint64_t seed = std::random_device{}();
        qInfo("seed %llu", static_cast<unsigned long long>(seed));
        std::mt19937_64 random(seed);

        ObjectPool<PriceLevel> levels;
        ObjectPool<Order> orders;
        BookSide book(bookSide, levels);
        std::map<std::int64_t, std::deque<Order *>> model; // price → FIFO
        std::vector<Order *> live;
        OrderId nextId = 1;

        const auto check = [&](int step) {
            std::vector<std::int64_t> modelPrices;
            for (const auto &[price, queue] : model)
                modelPrices.push_back(price);
            if (bookSide == Side::Buy)
                std::reverse(modelPrices.begin(), modelPrices.end()); // best first: highest bid
            std::vector<std::int64_t> bookPrices;
            bool same = true;
            book.forEachLevel([&](const PriceLevel &level) {
                const auto &queue = model[level.priceTicks];
                std::int64_t total = 0;
                const Order *order = level.head;
                for (const Order *expected : queue) {
                    same = same && order == expected;
                    total += expected->remainingLots;
                    order = order ? order->next : nullptr;
                }
                same = same && order == nullptr && level.totalLots == total && level.count == queue.size();
                bookPrices.push_back(level.priceTicks);
                return true;
            });
            QVERIFY2(same, qPrintable(QStringLiteral("level contents differ at step %1").arg(step)));
            QCOMPARE(bookPrices, modelPrices);
            QCOMPARE(book.levelCount(), model.size());
            QCOMPARE(book.empty(), model.empty());
            if (!model.empty())
                QCOMPARE(book.best()->priceTicks, modelPrices.front());
        };

        for (int step = 0; step < 200'000; ++step) {
            const int roll = static_cast<int>(random() % 100);
            // Phases: grow to many levels, then drain mostly from the inside, so sweeps happen.
            const bool growing = (step / 20'000) % 2 == 0;
            if (live.empty() || roll < (growing ? 60 : 8)) {
                Order *order = orders.acquire();
                order->id = nextId++;
                order->side = bookSide;
                order->priceTicks = 1'000 + static_cast<std::int64_t>(random() % 2'000);
                order->remainingLots = 1 + static_cast<std::int64_t>(random() % 9);
                book.append(*order);
                model[order->priceTicks].push_back(order);
                live.push_back(order);
            } else if (roll < 90) {
                const std::size_t at = random() % live.size();
                Order *order = live[at];
                auto &queue = model[order->priceTicks];
                queue.erase(std::find(queue.begin(), queue.end(), order));
                if (queue.empty())
                    model.erase(order->priceTicks);
                book.remove(*order);
                orders.release(order);
                live[at] = live.back();
                live.pop_back();
            } else {
                Order *order = live[random() % live.size()];
                if (order->remainingLots > 1)
                    BookSide::reduce(*order, 1);
            }
            if (step % 97 == 0 || step > 199'000)
                check(step);
            if (QTest::currentTestFailed())
                return;
        }
    }
};

QTEST_APPLESS_MAIN(TestOrderBook)
#include "tst_order_book.moc"
