#include "rate_limiter.h"

#include <QByteArray>
#include <QString>

#include <algorithm>
#include <limits>
#include <utility>

namespace bourse::server {

namespace {

constexpr std::uint64_t kMilli = 1000; // thousandths of a token per token, milliseconds per second
constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint32_t kMaxSeconds = std::numeric_limits<std::uint32_t>::max();

template<typename Entry>
using Index = std::unordered_map<std::string_view, typename std::list<Entry>::iterator>;

// The entry of `key`, moved to the front as the most recently used one; null when there is none.
template<typename Entry>
Entry *touch(std::list<Entry> &entries, Index<Entry> &index, std::string_view key)
{
    const auto found = index.find(key);
    if (found == index.end())
        return nullptr;
    entries.splice(entries.begin(), entries, found->second);
    return &*found->second;
}

template<typename Entry>
void eraseEntry(std::list<Entry> &entries, Index<Entry> &index, typename std::list<Entry>::iterator entry)
{
    index.erase(entry->key); // first: the index's key is a view of the entry's
    entries.erase(entry);
}

// Room for one new entry: the idle entries go first (they carry no state), then the least recently used
// ones. It frees a sixteenth of the table at once, so that the sweep's cost is shared by the next new keys
// rather than paid by each one during a flood.
template<typename Entry, typename IsIdle>
void makeRoom(std::list<Entry> &entries, Index<Entry> &index, std::size_t maxEntries, IsIdle isIdle)
{
    if (entries.size() < maxEntries)
        return;
    const std::size_t target = maxEntries - std::max<std::size_t>(1, maxEntries / 16);
    for (auto entry = entries.begin(); entry != entries.end();) {
        const auto next = std::next(entry);
        if (isIdle(*entry))
            eraseEntry(entries, index, entry);
        entry = next;
    }
    while (entries.size() > target)
        eraseEntry(entries, index, std::prev(entries.end()));
}

template<typename Entry>
Entry &insertFront(std::list<Entry> &entries, Index<Entry> &index, Entry entry)
{
    entries.push_front(std::move(entry));
    index.emplace(entries.front().key, entries.begin());
    return entries.front();
}

std::uint64_t ceilDiv(std::uint64_t numerator, std::uint64_t denominator)
{
    return numerator / denominator + (numerator % denominator != 0 ? 1 : 0);
}

// b - a for a <= b, without the signed overflow of b - a when they are far apart.
std::uint64_t distance(std::int64_t a, std::int64_t b)
{
    return static_cast<std::uint64_t>(b) - static_cast<std::uint64_t>(a);
}

std::uint32_t wholeSeconds(std::uint64_t ms)
{
    if (ms == kNever)
        return kMaxSeconds;
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(ceilDiv(ms, kMilli), kMaxSeconds));
}

std::uint64_t fullMilliTokens(const BucketLimit &limit)
{
    return std::uint64_t{limit.capacity} * kMilli;
}

// Milliseconds until `missing` thousandths have flowed in; kNever for a bucket that does not refill.
std::uint64_t msToRefill(std::uint64_t missing, std::uint32_t refillPerSecond)
{
    if (missing == 0)
        return 0;
    if (refillPerSecond == 0)
        return kNever;
    // refillPerSecond tokens a second are exactly refillPerSecond thousandths a millisecond.
    return ceilDiv(missing, refillPerSecond);
}

std::string foldedKey(QStringView account)
{
    const QByteArray utf8 = account.toString().toCaseFolded().toUtf8();
    return std::string(utf8.constData(), static_cast<std::size_t>(utf8.size()));
}

template<typename Bucket>
std::uint64_t milliTokensAt(const Bucket &bucket, std::int64_t nowMs)
{
    const std::uint64_t full = fullMilliTokens(bucket.limit);
    if (nowMs <= bucket.updatedMs || bucket.milliTokens >= full)
        return std::min(bucket.milliTokens, full);
    const std::uint64_t elapsed = distance(bucket.updatedMs, nowMs);
    const std::uint64_t toFull = msToRefill(full - bucket.milliTokens, bucket.limit.refillPerSecond);
    // Below toFull the product stays under full + refillPerSecond: no overflow.
    return elapsed >= toFull ? full : bucket.milliTokens + elapsed * bucket.limit.refillPerSecond;
}

} // namespace

// ---- RateLimiter ----

RateLimiter::RateLimiter(std::size_t maxKeys)
    : m_maxKeys(std::max<std::size_t>(maxKeys, 1))
{}

RateDecision RateLimiter::take(QByteArrayView key, const BucketLimit &limit, std::int64_t nowMs, std::uint32_t cost)
{
    const std::string_view keyView(key.data(), static_cast<std::size_t>(key.size()));
    const std::lock_guard lock(m_mutex);

    if (limit.capacity == 0) {
        if (const auto found = m_index.find(keyView); found != m_index.end())
            eraseEntry(m_buckets, m_index, found->second);
        return RateDecision{};
    }

    const std::uint64_t full = fullMilliTokens(limit);
    Bucket *bucket = touch(m_buckets, m_index, keyView);
    if (bucket == nullptr) {
        makeRoom(m_buckets, m_index, m_maxKeys, [nowMs](const Bucket &candidate) {
            return milliTokensAt(candidate, nowMs) >= fullMilliTokens(candidate.limit);
        });
        bucket = &insertFront(m_buckets, m_index, Bucket{std::string(keyView), limit, full, nowMs});
    } else {
        bucket->milliTokens = milliTokensAt(*bucket, nowMs); // at the rate the bucket had until now
        bucket->updatedMs = std::max(bucket->updatedMs, nowMs);
        if (bucket->limit != limit) {
            bucket->limit = limit;
            bucket->milliTokens = std::min(bucket->milliTokens, full);
        }
    }

    const std::uint64_t price = std::uint64_t{std::min(cost, limit.capacity)} * kMilli;
    RateDecision decision;
    decision.limited = true;
    decision.limit = limit.capacity;
    if (bucket->milliTokens >= price) {
        bucket->milliTokens -= price;
    } else {
        decision.allowed = false;
        const std::uint64_t waitMs = msToRefill(price - bucket->milliTokens, limit.refillPerSecond);
        decision.retryAfterSeconds = std::max<std::uint32_t>(wholeSeconds(waitMs), 1);
    }
    decision.remaining = static_cast<std::uint32_t>(bucket->milliTokens / kMilli);
    decision.resetSeconds = wholeSeconds(msToRefill(full - bucket->milliTokens, limit.refillPerSecond));
    return decision;
}

void RateLimiter::clear()
{
    const std::lock_guard lock(m_mutex);
    m_index.clear();
    m_buckets.clear();
}

std::size_t RateLimiter::size() const
{
    const std::lock_guard lock(m_mutex);
    return m_buckets.size();
}

// ---- LoginThrottle ----

LoginThrottle::LoginThrottle(std::size_t maxAccounts)
    : m_maxAccounts(std::max<std::size_t>(maxAccounts, 1))
{}

std::optional<std::uint32_t> LoginThrottle::blockedFor(QStringView account, const Limit &limit, std::int64_t nowMs) const
{
    if (limit.maxFailures == 0)
        return std::nullopt;
    const std::string key = foldedKey(account);
    const std::lock_guard lock(m_mutex);
    const auto found = m_index.find(key);
    if (found == m_index.end())
        return std::nullopt;
    const std::vector<std::int64_t> &failures = found->second->failuresMs;
    if (failures.size() < limit.maxFailures)
        return std::nullopt;
    // The oldest of the last maxFailures failures decides: the block ends when it leaves the window.
    const std::int64_t oldest = failures[failures.size() - limit.maxFailures];
    const std::int64_t now = std::max(nowMs, failures.back()); // a clock that went back: no time passed
    const std::uint64_t age = distance(oldest, now);
    if (limit.windowMs <= 0 || age >= static_cast<std::uint64_t>(limit.windowMs))
        return std::nullopt;
    const std::uint64_t leftMs = static_cast<std::uint64_t>(limit.windowMs) - age;
    return std::max<std::uint32_t>(wholeSeconds(leftMs), 1);
}

void LoginThrottle::recordFailure(QStringView account, const Limit &limit, std::int64_t nowMs)
{
    if (limit.maxFailures == 0)
        return;
    const std::string key = foldedKey(account);
    const std::lock_guard lock(m_mutex);
    Account *entry = touch(m_accounts, m_index, key);
    if (entry == nullptr) {
        makeRoom(m_accounts, m_index, m_maxAccounts, [nowMs](const Account &candidate) {
            if (candidate.failuresMs.empty())
                return true;
            const std::int64_t newest = candidate.failuresMs.back();
            return nowMs >= newest
                   && distance(newest, nowMs)
                          >= static_cast<std::uint64_t>(std::max<std::int64_t>(candidate.windowMs, 0));
        });
        entry = &insertFront(m_accounts, m_index, Account{key, {}, limit.windowMs});
    }
    std::vector<std::int64_t> &failures = entry->failuresMs;
    failures.push_back(failures.empty() ? nowMs : std::max(nowMs, failures.back()));
    if (failures.size() > limit.maxFailures) {
        const auto excess = static_cast<std::ptrdiff_t>(failures.size() - limit.maxFailures);
        failures.erase(failures.begin(), failures.begin() + excess);
    }
    entry->windowMs = limit.windowMs;
}

void LoginThrottle::recordSuccess(QStringView account)
{
    const std::string key = foldedKey(account);
    const std::lock_guard lock(m_mutex);
    if (const auto found = m_index.find(key); found != m_index.end())
        eraseEntry(m_accounts, m_index, found->second);
}

void LoginThrottle::clear()
{
    const std::lock_guard lock(m_mutex);
    m_index.clear();
    m_accounts.clear();
}

std::size_t LoginThrottle::size() const
{
    const std::lock_guard lock(m_mutex);
    return m_accounts.size();
}

} // namespace bourse::server
