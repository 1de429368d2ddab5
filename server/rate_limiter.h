// The API's rate limits (spec/API.md §2, §4): RateLimiter keeps one token bucket per client key ("ip:1.2.3.4",
// "user:42") and answers each request with the decision and the X-RateLimit-* values; LoginThrottle counts
// failed logins per account, whatever the source IP. Both take the time as an argument (milliseconds of a
// monotonic clock), so that tests drive it, and both keep their memory bounded under a flood of new keys.
// Thread-safe: any I/O thread may call them (one mutex each).
#pragma once

#include <QByteArrayView>
#include <QStringView>

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace bourse::server {

struct BucketLimit
{
    std::uint32_t capacity = 0; // tokens when full; 0 means unlimited
    std::uint32_t refillPerSecond = 0;

    friend bool operator==(const BucketLimit &, const BucketLimit &) = default;
};

struct RateDecision
{
    bool allowed = true;
    bool limited = false;                // false when the limit is unlimited: then no X-RateLimit headers are sent
    std::uint32_t limit = 0;             // the capacity
    std::uint32_t remaining = 0;         // whole tokens left after this request
    std::uint32_t resetSeconds = 0;      // whole seconds (ceil) until the bucket is full again
    std::uint32_t retryAfterSeconds = 0; // when !allowed: ceil seconds until the tokens are there, at least 1
};

// Token buckets in exact integer arithmetic: tokens are counted in thousandths, and a bucket refilling
// `refillPerSecond` tokens a second gains exactly that many thousandths a millisecond.
//
// - A bucket starts full; a refused request takes nothing.
// - Time going backwards counts as no time passing.
// - A limit that changed for an existing key applies on its next take: the time until then refills at the
//   old rate, then the tokens are clamped to the new capacity.
// - A cost above the capacity is charged as the whole capacity, so that a small limit still lets a costly
//   request through once the bucket is full instead of refusing it forever.
// - With refillPerSecond 0 a bucket never refills: resetSeconds and retryAfterSeconds say UINT32_MAX.
// - An unlimited take keeps no bucket (and forgets one the key had).
class RateLimiter final
{
public:
    explicit RateLimiter(std::size_t maxKeys = 100'000);

    RateDecision take(QByteArrayView key, const BucketLimit &limit, std::int64_t nowMs, std::uint32_t cost = 1);
    void clear();
    std::size_t size() const;

private:
    struct Bucket
    {
        std::string key;
        BucketLimit limit;
        std::uint64_t milliTokens = 0;
        std::int64_t updatedMs = 0; // the time up to which refill is counted; never goes back
    };

    mutable std::mutex m_mutex;
    const std::size_t m_maxKeys;
    std::list<Bucket> m_buckets; // guarded by m_mutex; most recently used first
    // Guarded by m_mutex; its keys are views of the buckets' own keys.
    std::unordered_map<std::string_view, std::list<Bucket>::iterator> m_index;
};

// Failed logins per account over a sliding window: an account is blocked while its last maxFailures
// failures all fall inside the window ending now, and until the oldest of them leaves it. Account names
// compare case-insensitively (they are stored case-folded). Callers record only attempts whose password
// was checked, not the ones refused while blocked, so that a blocked account unblocks on time.
class LoginThrottle final
{
public:
    struct Limit
    {
        std::uint32_t maxFailures = 10; // 0 switches the throttle off
        std::int64_t windowMs = 15 * 60 * 1000;
    };

    explicit LoginThrottle(std::size_t maxAccounts = 100'000);

    // The whole seconds (at least 1) until a new attempt is allowed, or nullopt when it is allowed now.
    std::optional<std::uint32_t> blockedFor(QStringView account, const Limit &limit, std::int64_t nowMs) const;
    void recordFailure(QStringView account, const Limit &limit, std::int64_t nowMs);
    // Forgets the account's failures.
    void recordSuccess(QStringView account);
    void clear();
    std::size_t size() const;

private:
    struct Account
    {
        std::string key;                      // the case-folded name in UTF-8
        std::vector<std::int64_t> failuresMs; // the last maxFailures failure times, oldest first
        std::int64_t windowMs = 0;            // of the latest failure, to tell when all have aged out
    };

    mutable std::mutex m_mutex;
    const std::size_t m_maxAccounts;
    std::list<Account> m_accounts; // guarded by m_mutex; most recently failed first
    // Guarded by m_mutex; its keys are views of the accounts' own keys.
    std::unordered_map<std::string_view, std::list<Account>::iterator> m_index;
};

} // namespace bourse::server
