// The workstation under a busy market: the real window (Bourse.Ui's Main, signed in, the workspace showing
// BTC-USD) on a real venue in this process, while a synthetic feed changes the selected book BENCH_BOOK_RATE
// times a second (default 5,000: resting orders placed and cancelled at prices around the spread) and makes
// BENCH_TRADE_RATE trades a second (default 500: small IOC orders that cross). The feed runs through
// VenueService on the API's thread, as orders from the network would, and reaches the window only as
// durable batches through the Desk's throttled pulse.
//
// Measured over BENCH_SECONDS (default 10) after 2 s of warm-up: the intervals between the window's
// frameSwapped signals — their 99th percentile and maximum (target: p99 <= 16.7 ms, 60 fps) — and the book
// changes and trades the venue actually made, so that the figures say under which load they were taken.
// Run it on a display (xvfb-run under CI-like machines); with QT_QPA_PLATFORM=offscreen it measures the
// software scene graph without one.
#include "bench_env.h"
#include "desk_fixture.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QQmlApplicationEngine>
#include <QQuickStyle>
#include <QQuickWindow>
#include <QTest>
#include <QUrl>
#include <QtQml/qqmlextensionplugin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

Q_IMPORT_QML_PLUGIN(Bourse_ModelsPlugin)
Q_IMPORT_QML_PLUGIN(Bourse_UiPlugin)

namespace {

using namespace bourse;

void bench(const char *name, double value, const char *unit)
{
    std::printf("BENCH %s %.*f %s\n", name, value >= 100 ? 0 : 2, value, unit);
    std::fflush(stdout);
}

double percentile(std::vector<double> values, double fraction)
{
    if (values.empty())
        return 0;
    std::sort(values.begin(), values.end());
    const auto index = std::min(values.size() - 1, std::size_t(fraction * double(values.size())));
    return values[index];
}

// The feed's state: the API's thread only.
struct Feed
{
    server::Caller maker;
    server::Caller taker;
    std::deque<OrderId> resting;
    std::mt19937 random{20261207};
    std::uint64_t bookChanges = 0; // orders placed and cancelled that changed the book
    std::uint64_t trades = 0;
    std::uint64_t failures = 0;
};

Decimal price(std::int64_t cents)
{
    return Decimal::fromRaw(cents * (Decimal::kOne / 100));
}

// One tick of the feed, on the API's thread: `changes` book changes (half new resting orders, half cancels of
// the oldest) and `takers` crossing IOC orders of one lot.
void feedTick(server::VenueService &service, const std::shared_ptr<Feed> &feed, int changes, int takers)
{
    std::uniform_int_distribution<int> offset(1, 40);
    for (int i = 0; i < changes; ++i) {
        const bool cancel = feed->resting.size() > 200 && (i % 2 == 1);
        if (cancel) {
            const OrderId id = feed->resting.front();
            feed->resting.pop_front();
            service.cancelOrder(feed->maker, id, [feed](server::ServiceResult<sql::OrderRecord> result) {
                result ? ++feed->bookChanges : ++feed->failures;
            });
            continue;
        }
        PlaceOrder order;
        order.symbol = Symbol("BTC-USD");
        order.side = i % 4 < 2 ? Side::Buy : Side::Sell;
        // Bids at 99.60-99.99, asks at 100.01-100.40: never crossing each other.
        order.price = order.side == Side::Buy ? price(10'000 - offset(feed->random)) : price(10'000 + offset(feed->random));
        order.quantity = Decimal::fromRaw(Decimal::kOne / 100 * (1 + offset(feed->random) % 5));
        service.placeOrder(feed->maker, order, [feed](server::ServiceResult<server::PlacedOrder> result) {
            if (!result) {
                ++feed->failures;
                return;
            }
            ++feed->bookChanges;
            feed->resting.push_back(result->order.id);
        });
    }
    for (int i = 0; i < takers; ++i) {
        PlaceOrder order;
        order.symbol = Symbol("BTC-USD");
        order.side = i % 2 == 0 ? Side::Buy : Side::Sell;
        order.type = OrderType::Limit;
        order.timeInForce = TimeInForce::Ioc;
        order.price = order.side == Side::Buy ? price(10'100) : price(9'900);
        order.quantity = Decimal::fromRaw(Decimal::kOne / 10'000); // one lot
        service.placeOrder(feed->taker, order, [feed](server::ServiceResult<server::PlacedOrder> result) {
            if (!result) {
                ++feed->failures;
                return;
            }
            feed->trades += result->fills.size();
        });
    }
}

} // namespace

int main(int argc, char **argv)
{
    QApplication application(argc, argv);
    const int seconds = test::envInt("BENCH_SECONDS", 10);
    const int bookRate = test::envInt("BENCH_BOOK_RATE", 5'000);
    const int tradeRate = test::envInt("BENCH_TRADE_RATE", 500);

    auto fixture = test::DeskFixture::start();
    if (!fixture)
        return 1;
    for (const char *name : {"maker", "taker"}) {
        const std::optional<qint64> id =
            fixture->addUser(QLatin1StringView(name), {{"USD", "100000000"}, {"BTC", "1000000"}});
        if (!id)
            return 1;
    }
    const QString admin = QString::fromLatin1(test::TestVenue::kAdminUsername);
    if (!fixture->signIn(admin, QString::fromLatin1(test::TestVenue::kAdminPassword)))
        return 1;
    auto makerApi = fixture->client(QStringLiteral("maker"));
    auto takerApi = fixture->client(QStringLiteral("taker"));
    if (!makerApi || !takerApi)
        return 1;

    // Where a frame's time goes: the models applying a pulse (the first and the last of the pulse's
    // receivers bracket them: this one connects before the models exist, the other after), and the render
    // thread drawing (beforeRendering to frameSwapped).
    QElapsedTimer clock;
    clock.start();
    qint64 pulseStarted = 0;
    std::vector<double> pulseApply;
    std::vector<double> rendering;
    bool measuring = false;
    QObject::connect(&fixture->desk(), &app::Desk::pulse, &fixture->desk(),
                     [&] { pulseStarted = clock.nsecsElapsed(); });

    QQuickStyle::setStyle(QStringLiteral("Basic"));
    QQmlApplicationEngine engine;
    engine.addImportPath(QStringLiteral("qrc:/qt/qml"));
    engine.load(QUrl(QStringLiteral("qrc:/qt/qml/Bourse/Ui/Main.qml")));
    if (engine.rootObjects().isEmpty())
        return 1;
    auto *window = qobject_cast<QQuickWindow *>(engine.rootObjects().constFirst());
    QObject::connect(&fixture->desk(), &app::Desk::pulse, &fixture->desk(), [&] {
        if (measuring)
            pulseApply.push_back(double(clock.nsecsElapsed() - pulseStarted) / 1e6);
    });
    std::atomic<qint64> renderStarted{0};
    std::mutex renderMutex;
    QObject::connect(window, &QQuickWindow::beforeRendering, window,
                     [&] { renderStarted.store(clock.nsecsElapsed()); }, Qt::DirectConnection);
    QObject::connect(window, &QQuickWindow::afterRendering, window, [&] {
        if (!measuring)
            return;
        const double spent = double(clock.nsecsElapsed() - renderStarted.load()) / 1e6;
        const std::lock_guard lock(renderMutex);
        rendering.push_back(spent);
    }, Qt::DirectConnection);
    fixture->desk().setFrameWindow(window); // as Workstation::show() does
    window->resize(1500, 940);
    if (!QTest::qWaitForWindowExposed(window))
        return 1;

    // The feed's callers, made on the API's thread from the traders' tokens.
    auto feed = std::make_shared<Feed>();
    fixture->venue().onServer([&](server::VenueServer &venue) {
        feed->maker = *venue.service().authenticate(makerApi->token(), "bench-maker");
        feed->taker = *venue.service().authenticate(takerApi->token(), "bench-taker");
    });
    QObject *context = fixture->desk().serverContext();
    server::VenueServer *server = nullptr;
    fixture->venue().onServer([&](server::VenueServer &venue) { server = &venue; });

    // 100 ticks a second from a thread of its own; each tick is one queued call onto the API's thread.
    std::atomic<bool> running{true};
    std::thread feeder([&] {
        auto next = std::chrono::steady_clock::now();
        const int changesPerTick = std::max(1, bookRate / 100);
        const int takersPerTick = std::max(1, tradeRate / 100);
        while (running.load()) {
            QMetaObject::invokeMethod(
                context, [server, feed, changesPerTick, takersPerTick] {
                    feedTick(server->service(), feed, changesPerTick, takersPerTick);
                },
                Qt::QueuedConnection);
            next += std::chrono::milliseconds(10);
            std::this_thread::sleep_until(next);
        }
    });

    std::vector<double> intervals;
    qint64 last = -1;
    QObject::connect(window, &QQuickWindow::frameSwapped, window, [&] {
        const qint64 now = clock.nsecsElapsed();
        if (measuring && last >= 0)
            intervals.push_back(double(now - last) / 1e6);
        last = now;
    }, Qt::DirectConnection);

    QTest::qWait(2000); // warm-up: the book fills, the models settle
    std::uint64_t changesBefore = 0;
    std::uint64_t tradesBefore = 0;
    fixture->venue().onServer([&](server::VenueServer &) {
        changesBefore = feed->bookChanges;
        tradesBefore = feed->trades;
    });
    measuring = true;
    last = -1;
    const qint64 started = clock.elapsed();
    QTest::qWait(seconds * 1000);
    measuring = false;
    const double elapsed = double(clock.elapsed() - started) / 1000.0;
    running.store(false);
    feeder.join();
    std::uint64_t changes = 0;
    std::uint64_t trades = 0;
    std::uint64_t failures = 0;
    fixture->venue().onServer([&](server::VenueServer &) {
        changes = feed->bookChanges - changesBefore;
        trades = feed->trades - tradesBefore;
        failures = feed->failures;
    });

    bench("gui_frame_p99_ms", percentile(intervals, 0.99), "ms");
    bench("gui_frame_max_ms", intervals.empty() ? 0 : *std::max_element(intervals.begin(), intervals.end()), "ms");
    bench("gui_frame_p50_ms", percentile(intervals, 0.50), "ms");
    bench("gui_frames_per_s", double(intervals.size()) / elapsed, "frames/s");
    bench("gui_pulse_apply_p50_ms", percentile(pulseApply, 0.50), "ms");
    bench("gui_pulse_apply_p99_ms", percentile(pulseApply, 0.99), "ms");
    bench("gui_pulses_per_s", double(pulseApply.size()) / elapsed, "pulses/s");
    {
        const std::lock_guard lock(renderMutex);
        bench("gui_render_p50_ms", percentile(rendering, 0.50), "ms");
        bench("gui_render_p99_ms", percentile(rendering, 0.99), "ms");
    }
    bench("gui_feed_book_changes_per_s", double(changes) / elapsed, "changes/s");
    bench("gui_feed_trades_per_s", double(trades) / elapsed, "trades/s");
    if (failures > 0)
        std::fprintf(stderr, "bench_gui: %llu feed orders failed\n", static_cast<unsigned long long>(failures));
    if (const QString path = qEnvironmentVariable("BENCH_GUI_SCREENSHOT"); !path.isEmpty())
        window->grabWindow().save(path);
    engine.clearComponentCache();
    return 0;
}
