// Tests of the rate limits: RateLimiter's decisions and X-RateLimit values step by step in driven time
// (bursts, refill, fractions, costs, no refill, a clock going back, limits changed mid-way, unlimited),
// its bounded memory under a flood of keys, concurrent takes that never hand out more than the bucket
// holds, and LoginThrottle's sliding window, case-folding and bounded memory. No sleeps: time is an
// argument.
#include "rate_limiter.h"

#include <QTest>

#include <atomic>
#include <cstdint>
#include <limits>
#include <thread>
#include <vector>

using namespace bourse::server;

namespace {

constexpr std::uint32_t kMax = std::numeric_limits<std::uint32_t>::max();

// One take and what it must answer.
struct Step
{
    BucketLimit limit;
    std::int64_t nowMs = 0;
    std::uint32_t cost = 1;
    bool allowed = true;
    std::uint32_t remaining = 0;
    std::uint32_t resetSeconds = 0;
    std::uint32_t retryAfterSeconds = 0;
};
using Steps = QList<Step>;

// One event of a login scenario: a failure or a success recorded, or blockedFor checked.
struct LoginEvent
{
    enum Kind : std::uint8_t { Failure, Success, Check };
    Kind kind = Check;
    std::int64_t nowMs = 0;
    int blockedSeconds = -1; // Check: the expected blockedFor, -1 for allowed
};
using LoginEvents = QList<LoginEvent>;

LoginEvent failure(std::int64_t nowMs)
{
    return {LoginEvent::Failure, nowMs, -1};
}

LoginEvent success()
{
    return {LoginEvent::Success, 0, -1};
}

LoginEvent blocked(std::int64_t nowMs, int seconds)
{
    return {LoginEvent::Check, nowMs, seconds};
}

LoginEvent allowed(std::int64_t nowMs)
{
    return {LoginEvent::Check, nowMs, -1};
}

QByteArray numbered(const char *prefix, int n)
{
    return QByteArray(prefix) + QByteArray::number(n);
}

} // namespace

Q_DECLARE_METATYPE(Step)
Q_DECLARE_METATYPE(LoginEvent)
Q_DECLARE_METATYPE(bourse::server::LoginThrottle::Limit)

class tst_RateLimiter final : public QObject
{
    Q_OBJECT

private slots:
    void decisions_data();
    void decisions();
    void unlimitedNeverRefuses_data();
    void unlimitedNeverRefuses();
    void fullBucketsAreEvictedFirst();
    void leastRecentlyUsedIsEvictedWhenNoneIsFull();
    void floodKeepsBusyKey_data();
    void floodKeepsBusyKey();
    void concurrentTakes_data();
    void concurrentTakes();
    void concurrentFloodStaysBounded();

    void loginThrottle_data();
    void loginThrottle();
    void loginCaseInsensitive_data();
    void loginCaseInsensitive();
    void loginBounded_data();
    void loginBounded();
};

void tst_RateLimiter::decisions_data()
{
    QTest::addColumn<Steps>("steps");

    // Columns of a step: limit, now (ms), cost, allowed, remaining, reset (s), retry after (s).
    const BucketLimit three{3, 1};
    QTest::newRow("burst of the capacity, then refused") << Steps{{three, 0, 1, true, 2, 1, 0},
                                                                  {three, 0, 1, true, 1, 2, 0},
                                                                  {three, 0, 1, true, 0, 3, 0},
                                                                  {three, 0, 1, false, 0, 3, 1},
                                                                  {three, 0, 1, false, 0, 3, 1}};

    QTest::newRow("refill over driven time")
        << Steps{{three, 0, 3, true, 0, 3, 0},
                 {three, 999, 1, false, 0, 3, 1}, // 0.999 tokens: 1 ms short
                 {three, 1000, 1, true, 0, 3, 0},
                 {three, 2500, 1, true, 0, 3, 0},    // 1.5 tokens, 0.5 left: 2.5 s to full
                 {three, 3499, 1, true, 0, 3, 0},    // 1.499 tokens, 0.499 left
                 {three, 10'000, 1, true, 2, 1, 0}}; // long full again

    const BucketLimit tenAtFour{10, 4};
    QTest::newRow("four thousandths a millisecond")
        << Steps{{tenAtFour, 0, 10, true, 0, 3, 0},   // 2.5 s to full
                 {tenAtFour, 100, 1, false, 0, 3, 1}, // 0.4 tokens; 150 ms to one
                 {tenAtFour, 250, 1, true, 0, 3, 0},
                 {tenAtFour, 2750, 10, true, 0, 3, 0},
                 {tenAtFour, 2751, 1, false, 0, 3, 1}};

    const BucketLimit fiveAtOne{5, 1};
    QTest::newRow("retry after several seconds") << Steps{{fiveAtOne, 0, 5, true, 0, 5, 0},
                                                          {fiveAtOne, 1000, 3, false, 1, 4, 2},
                                                          {fiveAtOne, 2999, 3, false, 2, 3, 1}, // 2.999 tokens
                                                          {fiveAtOne, 3000, 3, true, 0, 5, 0}};

    const BucketLimit tenAtOne{10, 1};
    QTest::newRow("cost above one") << Steps{{tenAtOne, 0, 4, true, 6, 4, 0},
                                             {tenAtOne, 0, 4, true, 2, 8, 0},
                                             {tenAtOne, 0, 4, false, 2, 8, 2},
                                             {tenAtOne, 2000, 4, true, 0, 10, 0}};

    const BucketLimit twoAtOne{2, 1};
    QTest::newRow("cost above the capacity costs the capacity") << Steps{{twoAtOne, 0, 5, true, 0, 2, 0},
                                                                         {twoAtOne, 0, 5, false, 0, 2, 2},
                                                                         {twoAtOne, 1000, 5, false, 1, 1, 1},
                                                                         {twoAtOne, 2000, 5, true, 0, 2, 0}};

    QTest::newRow("zero cost") << Steps{{twoAtOne, 0, 0, true, 2, 0, 0},
                                        {twoAtOne, 0, 2, true, 0, 2, 0},
                                        {twoAtOne, 0, 0, true, 0, 2, 0}};

    const BucketLimit noRefill{2, 0};
    QTest::newRow("no refill") << Steps{{noRefill, 0, 1, true, 1, kMax, 0},
                                        {noRefill, 0, 1, true, 0, kMax, 0},
                                        {noRefill, 1'000'000'000, 1, false, 0, kMax, kMax}};

    QTest::newRow("clock going backwards") << Steps{{twoAtOne, 10'000, 2, true, 0, 2, 0},
                                                    {twoAtOne, 5000, 1, false, 0, 2, 1}, // no time passed
                                                    {twoAtOne, 10'999, 1, false, 0, 2, 1},
                                                    {twoAtOne, 11'000, 1, true, 0, 2, 0},
                                                    {twoAtOne, 4000, 1, false, 0, 2, 1}};

    QTest::newRow("times far apart") << Steps{{twoAtOne, -1'000'000'000'000, 2, true, 0, 2, 0},
                                              {twoAtOne, std::numeric_limits<std::int64_t>::max(), 1, true, 1, 1, 0},
                                              {twoAtOne, std::numeric_limits<std::int64_t>::min(), 1, true, 0, 2, 0}};

    const BucketLimit five{5, 1};
    const BucketLimit twenty{20, 1};
    QTest::newRow("capacity lowered, then raised") << Steps{{tenAtOne, 0, 2, true, 8, 2, 0},
                                                            {five, 0, 1, true, 4, 1, 0}, // 8 clamped to 5
                                                            {twenty, 0, 1, true, 3, 17, 0},
                                                            {twenty, 17'000, 1, true, 19, 1, 0}};

    const BucketLimit tenAtHundred{10, 100};
    QTest::newRow("faster refill applies from the change on")
        << Steps{{tenAtOne, 0, 10, true, 0, 10, 0},
                 {tenAtHundred, 1000, 1, true, 0, 1, 0}, // refilled one token at the old rate
                 {tenAtHundred, 1100, 1, true, 9, 1, 0}};

    const BucketLimit unlimited{0, 0};
    QTest::newRow("unlimited in between forgets the bucket")
        << Steps{{twoAtOne, 0, 2, true, 0, 2, 0},
                 {unlimited, 0, 1, true, 0, 0, 0},
                 {twoAtOne, 0, 1, true, 1, 1, 0}}; // a new bucket starts full
}

void tst_RateLimiter::decisions()
{
    QFETCH(Steps, steps);
    RateLimiter limiter;
    for (qsizetype i = 0; i < steps.size(); ++i) {
        const Step &step = steps[i];
        const RateDecision decision = limiter.take("ip:192.0.2.1", step.limit, step.nowMs, step.cost);
        const QByteArray where = "step " + QByteArray::number(i);
        QVERIFY2(decision.allowed == step.allowed, where.constData());
        QVERIFY2(decision.limited == (step.limit.capacity != 0), where.constData());
        QCOMPARE(decision.limit, step.limit.capacity);
        QCOMPARE(decision.remaining, step.remaining);
        QCOMPARE(decision.resetSeconds, step.resetSeconds);
        QCOMPARE(decision.retryAfterSeconds, step.retryAfterSeconds);
    }
}

void tst_RateLimiter::unlimitedNeverRefuses_data()
{
    QTest::addColumn<std::uint32_t>("refillPerSecond");
    QTest::addColumn<std::uint32_t>("cost");
    QTest::newRow("capacity 0") << 0u << 1u;
    QTest::newRow("capacity 0 with a refill") << 5u << 1u;
    QTest::newRow("capacity 0, costly requests") << 0u << 1000u;
}

void tst_RateLimiter::unlimitedNeverRefuses()
{
    QFETCH(std::uint32_t, refillPerSecond);
    QFETCH(std::uint32_t, cost);
    RateLimiter limiter;
    for (int i = 0; i < 10'000; ++i) {
        const RateDecision decision = limiter.take("user:7", BucketLimit{0, refillPerSecond}, 0, cost);
        QVERIFY(decision.allowed);
        QVERIFY(!decision.limited);
        QCOMPARE(decision.retryAfterSeconds, 0u);
    }
    QCOMPARE(limiter.size(), std::size_t{0}); // nothing to remember
}

void tst_RateLimiter::fullBucketsAreEvictedFirst()
{
    const BucketLimit limit{10, 1};
    RateLimiter limiter(4);
    for (const char *key : {"a", "b", "c"})
        QCOMPARE(limiter.take(key, limit, 0, 1).remaining, 9u);
    QCOMPARE(limiter.take("d", limit, 0, 0).remaining, 10u); // full: no state
    QCOMPARE(limiter.size(), std::size_t{4});

    QCOMPARE(limiter.take("e", limit, 0).remaining, 9u);
    QCOMPARE(limiter.size(), std::size_t{4});
    // "a" was the least recently used: only the full "d" could have gone.
    for (const char *key : {"a", "b", "c", "e"})
        QCOMPARE(limiter.take(key, limit, 0, 0).remaining, 9u);

    limiter.clear();
    QCOMPARE(limiter.size(), std::size_t{0});
    QCOMPARE(limiter.take("a", limit, 0, 0).remaining, 10u);
}

void tst_RateLimiter::leastRecentlyUsedIsEvictedWhenNoneIsFull()
{
    const BucketLimit limit{10, 1};
    RateLimiter limiter(4);
    for (const char *key : {"a", "b", "c", "d"})
        limiter.take(key, limit, 0, 2);
    limiter.take("a", limit, 0, 1); // now "b" is the least recently used

    QCOMPARE(limiter.take("e", limit, 0, 1).remaining, 9u);
    QCOMPARE(limiter.size(), std::size_t{4});
    QCOMPARE(limiter.take("a", limit, 0, 0).remaining, 7u);
    QCOMPARE(limiter.take("c", limit, 0, 0).remaining, 8u);
    QCOMPARE(limiter.take("d", limit, 0, 0).remaining, 8u);
    QCOMPARE(limiter.take("e", limit, 0, 0).remaining, 9u);
    QCOMPARE(limiter.take("b", limit, 0, 0).remaining, 10u); // forgotten: a new, full bucket
    QCOMPARE(limiter.size(), std::size_t{4});
}

void tst_RateLimiter::floodKeepsBusyKey_data()
{
    QTest::addColumn<std::size_t>("maxKeys");
    QTest::addColumn<std::int64_t>("msBetweenKeys");
    // At one instant no bucket is full again: least recently used ones go. Over time the flood's buckets
    // refill and go first.
    QTest::newRow("at one instant") << std::size_t{64} << std::int64_t{0};
    QTest::newRow("over time") << std::size_t{64} << std::int64_t{1000};
    QTest::newRow("one key") << std::size_t{1} << std::int64_t{0};
    QTest::newRow("two keys") << std::size_t{2} << std::int64_t{0};
}

void tst_RateLimiter::floodKeepsBusyKey()
{
    QFETCH(std::size_t, maxKeys);
    QFETCH(std::int64_t, msBetweenKeys);
    RateLimiter limiter(maxKeys);
    const BucketLimit flood{5, 1};
    const BucketLimit busy{100'000, 0}; // no refill: its remaining count tells whether it was ever forgotten
    for (int i = 0; i < 20'000; ++i) {
        const std::int64_t now = i * msBetweenKeys;
        if (maxKeys > 1) {
            const RateDecision decision = limiter.take("user:42", busy, now);
            QCOMPARE(decision.remaining, static_cast<std::uint32_t>(100'000 - 1 - i));
        }
        QVERIFY(limiter.take(numbered("ip:10.0.", i), flood, now).allowed);
        QVERIFY(limiter.size() <= maxKeys);
    }
}

void tst_RateLimiter::concurrentTakes_data()
{
    QTest::addColumn<std::uint32_t>("capacity");
    QTest::addColumn<std::uint32_t>("refillPerSecond");
    QTest::addColumn<int>("takesPerThread");
    QTest::addColumn<std::int64_t>("msPerTake");

    QTest::newRow("no refill") << 1000u << 0u << 20'000 << std::int64_t{1};
    QTest::newRow("refilling") << 100u << 500u << 20'000 << std::int64_t{1};
    QTest::newRow("refilling, time standing still") << 100u << 500u << 20'000 << std::int64_t{0};
}

void tst_RateLimiter::concurrentTakes()
{
    QFETCH(std::uint32_t, capacity);
    QFETCH(std::uint32_t, refillPerSecond);
    QFETCH(int, takesPerThread);
    QFETCH(std::int64_t, msPerTake);

    // Each thread runs its own clock from 0: the bucket sees time jump back and forth, and must count
    // every millisecond once.
    RateLimiter limiter;
    const BucketLimit limit{capacity, refillPerSecond};
    std::atomic<std::uint64_t> allowed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            std::uint64_t mine = 0;
            for (int i = 0; i < takesPerThread; ++i)
                mine += limiter.take("user:1", limit, i * msPerTake).allowed ? 1u : 0u;
            allowed += mine;
        });
    }
    for (std::thread &thread : threads)
        thread.join();

    const std::int64_t lastMs = (takesPerThread - 1) * msPerTake;
    const std::uint64_t most = capacity + static_cast<std::uint64_t>(lastMs) * refillPerSecond / 1000;
    QVERIFY2(allowed.load() <= most, QByteArray::number(allowed.load()).constData());
    // Without refill the threads drain the bucket long before they finish: exactly its capacity went out.
    if (refillPerSecond == 0 || msPerTake == 0)
        QCOMPARE(allowed.load(), std::uint64_t{capacity});
    QCOMPARE(limiter.size(), std::size_t{1});
}

void tst_RateLimiter::concurrentFloodStaysBounded()
{
    RateLimiter limiter(100);
    std::vector<std::thread> threads;
    std::atomic<bool> oversized{false};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 5000; ++i) {
                limiter.take(numbered("ip:", t * 100'000 + i), BucketLimit{5, 1}, i);
                if (limiter.size() > 100)
                    oversized = true;
            }
        });
    }
    for (std::thread &thread : threads)
        thread.join();
    QVERIFY(!oversized);
    QVERIFY(limiter.size() <= 100);
}

void tst_RateLimiter::loginThrottle_data()
{
    QTest::addColumn<LoginThrottle::Limit>("limit");
    QTest::addColumn<LoginEvents>("events");

    LoginEvents tenth;
    for (int i = 0; i < 9; ++i) {
        tenth << failure(i * 1000) << allowed(i * 1000);
    }
    tenth << failure(9000) << blocked(9000, 891) // the first failure leaves the window at 900 s
          << blocked(898'999, 2) << blocked(899'000, 1) << blocked(899'999, 1) << allowed(900'000) << failure(900'000)
          << blocked(900'000, 1) // now the second failure (1 s) is the oldest
          << allowed(901'000);
    QTest::newRow("spec default: the 10th failure blocks") << LoginThrottle::Limit{} << tenth;

    QTest::newRow("success forgets the failures")
        << LoginThrottle::Limit{3, 60'000}
        << LoginEvents{failure(0), failure(1), failure(2), blocked(2, 60), success(),     allowed(2),
                       failure(3), failure(4), allowed(4), failure(5),     blocked(5, 60)};

    QTest::newRow("failures spread wider than the window")
        << LoginThrottle::Limit{3, 60'000}
        << LoginEvents{failure(0),      failure(30'000),     failure(60'000),    allowed(60'000),
                       failure(61'000), blocked(61'000, 29), blocked(89'999, 1), allowed(90'000)};

    QTest::newRow("one strike") << LoginThrottle::Limit{1, 5000}
                                << LoginEvents{allowed(0), failure(0), blocked(0, 5), blocked(4001, 1), allowed(5000)};

    QTest::newRow("clock going backwards") << LoginThrottle::Limit{2, 10'000}
                                           << LoginEvents{failure(10'000), failure(5000), // counted at 10 s
                                                          blocked(5000, 10), blocked(19'999, 1), allowed(20'000)};

    QTest::newRow("switched off") << LoginThrottle::Limit{0, 60'000}
                                  << LoginEvents{failure(0), failure(1), failure(2), allowed(3)};
}

void tst_RateLimiter::loginThrottle()
{
    QFETCH(LoginThrottle::Limit, limit);
    QFETCH(LoginEvents, events);
    LoginThrottle throttle;
    for (qsizetype i = 0; i < events.size(); ++i) {
        const LoginEvent &event = events[i];
        switch (event.kind) {
        case LoginEvent::Failure: throttle.recordFailure(u"alice", limit, event.nowMs); break;
        case LoginEvent::Success: throttle.recordSuccess(u"alice"); break;
        case LoginEvent::Check: {
            const std::optional<std::uint32_t> seconds = throttle.blockedFor(u"alice", limit, event.nowMs);
            const QByteArray where = "event " + QByteArray::number(i);
            QVERIFY2(seconds.has_value() == (event.blockedSeconds >= 0), where.constData());
            if (seconds)
                QCOMPARE(static_cast<int>(*seconds), event.blockedSeconds);
            break;
        }
        }
    }
    // Another account is not concerned.
    QVERIFY(!throttle.blockedFor(u"bob", limit, 0));
}

void tst_RateLimiter::loginCaseInsensitive_data()
{
    QTest::addColumn<QString>("recorded");
    QTest::addColumn<QString>("asked");
    QTest::addColumn<bool>("same");

    QTest::newRow("lower and upper") << QStringLiteral("alice") << QStringLiteral("ALICE") << true;
    QTest::newRow("mixed") << QStringLiteral("Alice") << QStringLiteral("aLiCe") << true;
    QTest::newRow("accents") << QStringLiteral("Ünïcode") << QStringLiteral("üNÏCODE") << true;
    QTest::newRow("final sigma") << QStringLiteral("ΟΔΥΣΣΕΥΣ") << QStringLiteral("οδυσσευς") << true;
    QTest::newRow("another name") << QStringLiteral("alice") << QStringLiteral("alice2") << false;
    QTest::newRow("a prefix") << QStringLiteral("alice") << QStringLiteral("alic") << false;
}

void tst_RateLimiter::loginCaseInsensitive()
{
    QFETCH(QString, recorded);
    QFETCH(QString, asked);
    QFETCH(bool, same);
    const LoginThrottle::Limit limit{3, 60'000};
    LoginThrottle throttle;
    for (int i = 0; i < 3; ++i)
        throttle.recordFailure(recorded, limit, i);
    QVERIFY(throttle.blockedFor(recorded, limit, 3).has_value());
    QCOMPARE(throttle.blockedFor(asked, limit, 3).has_value(), same);
    throttle.recordSuccess(asked);
    QCOMPARE(throttle.blockedFor(recorded, limit, 3).has_value(), !same);
}

void tst_RateLimiter::loginBounded_data()
{
    QTest::addColumn<std::int64_t>("msBetweenAccounts");
    QTest::addColumn<bool>("victimBusy");
    // Spaced a window apart, each flood account has aged out when the next one comes and goes first, even
    // though the victim is the least recently failed. Within the window, the victim stays by being busy.
    QTest::newRow("aged-out accounts go first") << std::int64_t{60'000} << false;
    QTest::newRow("least recently failed go next") << std::int64_t{1} << true;
}

void tst_RateLimiter::loginBounded()
{
    QFETCH(std::int64_t, msBetweenAccounts);
    QFETCH(bool, victimBusy);
    const LoginThrottle::Limit victimLimit{5, 1000LL * 60 * 60 * 24 * 365};
    const LoginThrottle::Limit floodLimit{10, 60'000};
    LoginThrottle throttle(8);
    for (int i = 0; i < 5; ++i)
        throttle.recordFailure(u"victim", victimLimit, 0);
    QVERIFY(throttle.blockedFor(u"victim", victimLimit, 0).has_value());

    for (int i = 0; i < 10'000; ++i) {
        const std::int64_t now = 1 + i * msBetweenAccounts;
        throttle.recordFailure(QString::fromLatin1(numbered("user", i)), floodLimit, now);
        if (victimBusy)
            throttle.recordFailure(u"VICTIM", victimLimit, now);
        QVERIFY(throttle.size() <= 8);
        QVERIFY(throttle.blockedFor(u"victim", victimLimit, now).has_value());
    }
    throttle.clear();
    QCOMPARE(throttle.size(), std::size_t{0});
    QVERIFY(!throttle.blockedFor(u"victim", victimLimit, 0).has_value());
}

QTEST_GUILESS_MAIN(tst_RateLimiter)
#include "tst_rate_limiter.moc"
