// The service's Prometheus metrics for GET /metrics (spec/API.md §3): counters, gauges (stored, or read by
// a callback when rendered) and duration histograms, rendered in the text exposition format 0.0.4.
// Registering or looking a series up takes the registry's mutex, so callers keep the returned reference;
// updating a series is lock-free (relaxed atomics). Any thread may register, update and render.
#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <variant>
#include <vector>

namespace bourse::server {

// The Content-Type of render()'s text.
inline constexpr char kMetricsContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// A count that only rises. Any thread.
class Counter final
{
public:
    void add(std::uint64_t n = 1) { m_value.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t value() const { return m_value.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> m_value{0};
};

// A value that goes up and down. Any thread.
class Gauge final
{
public:
    void set(std::int64_t value) { m_value.store(value, std::memory_order_relaxed); }
    void add(std::int64_t n) { m_value.fetch_add(n, std::memory_order_relaxed); }
    std::int64_t value() const { return m_value.load(std::memory_order_relaxed); }

private:
    std::atomic<std::int64_t> m_value{0};
};

// Durations counted in buckets with fixed upper bounds in seconds; an observation equal to a bound counts
// in that bound's bucket (Prometheus' "le"). Observations are whole nanoseconds and the sum is kept in
// them, so nothing drifts. Any thread: an observation is two relaxed atomic adds, so a render meanwhile
// may pair a sum and counts a few observations apart, which Prometheus tolerates.
class Histogram final
{
public:
    // Finite bounds in strictly increasing order (Q_ASSERT).
    explicit Histogram(std::vector<double> boundsSeconds);

    // A negative duration (a clock that went back) counts as 0.
    void observeNanoseconds(std::int64_t ns);

    const std::vector<double> &bounds() const { return m_bounds; }
    // The observations at or below each bound, then all of them (the "+Inf" bucket): bounds().size() + 1.
    std::vector<std::uint64_t> cumulativeCounts() const;
    std::uint64_t count() const;
    std::int64_t sumNanoseconds() const { return m_sumNs.load(std::memory_order_relaxed); }

private:
    std::vector<double> m_bounds;
    std::vector<std::int64_t> m_boundsNs; // m_bounds rounded to nanoseconds, for exact comparisons
    // One per bound and one past the last, each counting only its own range: the count is their total, so
    // the "+Inf" bucket and "_count" always agree.
    std::unique_ptr<std::atomic<std::uint64_t>[]> m_buckets;
    std::atomic<std::int64_t> m_sumNs{0};
};

// The registry: families of series by metric name, each series by its label set (label order does not
// matter). Series live as long as the registry and are never removed: label values must come from small
// fixed sets (route patterns, statuses), never from raw paths or user input.
class MetricsRegistry final
{
public:
    using Labels = std::vector<std::pair<QByteArray, QByteArray>>;

    MetricsRegistry() = default;
    MetricsRegistry(const MetricsRegistry &) = delete;
    MetricsRegistry &operator=(const MetricsRegistry &) = delete;

    // The series of name and labels, created on first use; the same object on every later call. Names
    // match [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* (Q_ASSERT). A name already
    // registered with another type is a bug and ends the program. The first help text of a name is kept.
    Counter &counter(QByteArrayView name, QByteArrayView help, const Labels &labels = {});
    Gauge &gauge(QByteArrayView name, QByteArrayView help, const Labels &labels = {});
    // Asking again for a series with other bounds is a bug (Q_ASSERT); the first bounds stay.
    Histogram &histogram(QByteArrayView name, QByteArrayView help, const Labels &labels = {},
                         std::vector<double> bounds = defaultLatencyBounds());
    // A gauge whose value `read` returns at each render(); registering the same series again replaces it.
    // `read` runs on the rendering thread under the registry's mutex: it must only read (an atomic, a value
    // under its own short lock) and never call the registry.
    void gaugeCallback(QByteArrayView name, QByteArrayView help, std::function<double()> read,
                       const Labels &labels = {});

    // Families sorted by name, series by labels.
    QByteArray render() const;

    // 0.5 ms to 10 s, for request and commit latencies.
    static std::vector<double> defaultLatencyBounds();

private:
    enum class Type : std::uint8_t { Counter, Gauge, Histogram };
    using GaugeCallback = std::function<double()>;
    // A std::map node never moves, so a series lives in place and references to it stay valid.
    using Series = std::variant<Counter, Gauge, Histogram, GaugeCallback>;

    struct Family
    {
        Type type = Type::Counter;
        QByteArray help;
        std::map<Labels, Series> series; // by label set, sorted by label name
    };

    // The family of `name`, created with `type` and `help` if new; under m_mutex.
    Family &family(QByteArrayView name, QByteArrayView help, Type type);

    mutable std::mutex m_mutex;
    std::map<QByteArray, Family> m_families; // guarded by m_mutex
};

} // namespace bourse::server
