#include "metrics.h"

#include <QtGlobal>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>

namespace bourse::server {

namespace {

constexpr std::int64_t kNanosecondsPerSecond = 1'000'000'000;

bool isNameStart(char c, bool colonAllowed)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colonAllowed && c == ':');
}

// Metric names allow ':', label names do not.
[[maybe_unused]] bool isValidName(QByteArrayView name, bool colonAllowed)
{
    if (name.isEmpty() || !isNameStart(name.front(), colonAllowed))
        return false;
    return std::all_of(name.begin(), name.end(),
                       [colonAllowed](char c) { return isNameStart(c, colonAllowed) || (c >= '0' && c <= '9'); });
}

// Label sets compare and render in label-name order, so that callers may list them in any order.
MetricsRegistry::Labels canonical(MetricsRegistry::Labels labels)
{
    std::sort(labels.begin(), labels.end(), [](const auto &a, const auto &b) { return a.first < b.first; });
    for (std::size_t i = 0; i < labels.size(); ++i) {
        Q_ASSERT_X(isValidName(labels[i].first, false), "MetricsRegistry",
                   "label name must match [a-zA-Z_][a-zA-Z0-9_]*");
        Q_ASSERT_X(i == 0 || labels[i - 1].first != labels[i].first, "MetricsRegistry", "duplicate label name");
    }
    return labels;
}

void appendEscaped(QByteArray &out, QByteArrayView text, bool escapeQuotes)
{
    for (const char c : text) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else if (escapeQuotes && c == '"')
            out += "\\\"";
        else
            out += c;
    }
}

// {a="x",b="y"} with an optional extra label last (a histogram bucket's "le"); nothing for no labels.
void appendLabels(QByteArray &out, const MetricsRegistry::Labels &labels, QByteArrayView extraName = {},
                  QByteArrayView extraValue = {})
{
    if (labels.empty() && extraName.isEmpty())
        return;
    out += '{';
    bool first = true;
    const auto appendOne = [&](QByteArrayView name, QByteArrayView value) {
        if (!first)
            out += ',';
        first = false;
        out += name;
        out += "=\"";
        appendEscaped(out, value, true);
        out += '"';
    };
    for (const auto &[name, value] : labels)
        appendOne(name, value);
    if (!extraName.isEmpty())
        appendOne(extraName, extraValue);
    out += '}';
}

// The shortest text that reads back as the same double, spelled the way Prometheus parses it. Plain
// decimals from 1e-4 up to 1e21 ("0.0005", not to_chars' shorter "5e-04"), as people read bounds.
QByteArray formatDouble(double value)
{
    if (std::isnan(value))
        return "NaN";
    if (std::isinf(value))
        return value > 0 ? "+Inf" : "-Inf";
    std::array<char, 64> buffer{};
    char *const end = buffer.data() + buffer.size();
    auto result = std::to_chars(buffer.data(), end, value, std::chars_format::scientific);
    Q_ASSERT(result.ec == std::errc());
    const char *const e = std::find(buffer.data(), result.ptr, 'e');
    int exponent = 0;
    std::from_chars(e + (e[1] == '+' ? 2 : 1), result.ptr, exponent);
    if (exponent >= -4 && exponent < 21) {
        result = std::to_chars(buffer.data(), end, value, std::chars_format::fixed);
        Q_ASSERT(result.ec == std::errc());
    }
    return QByteArray(buffer.data(), result.ptr - buffer.data());
}

// Nanoseconds (>= 0) as exact decimal seconds ("0.0015"), with no binary rounding on the way.
QByteArray formatSeconds(std::int64_t ns)
{
    QByteArray text = QByteArray::number(ns / kNanosecondsPerSecond);
    if (const std::int64_t fraction = ns % kNanosecondsPerSecond; fraction != 0) {
        QByteArray digits = QByteArray::number(fraction).rightJustified(9, '0');
        while (digits.endsWith('0'))
            digits.chop(1);
        text += '.' + digits;
    }
    return text;
}

// A bound in nanoseconds, clamped to about a century so that a huge bound cannot overflow the conversion.
std::int64_t toNanoseconds(double seconds)
{
    constexpr double kLimit = 4e18;
    const double ns = std::clamp(seconds * 1e9, -kLimit, kLimit);
    return std::llround(ns);
}

void appendLine(QByteArray &out, QByteArrayView name, QByteArrayView suffix, const MetricsRegistry::Labels &labels,
                const QByteArray &value, QByteArrayView extraName = {}, QByteArrayView extraValue = {})
{
    out += name;
    out += suffix;
    appendLabels(out, labels, extraName, extraValue);
    out += ' ';
    out += value;
    out += '\n';
}

// The series as the type its caller asked for; another type is a bug that would otherwise corrupt it.
template<typename T, typename Series>
T &expect(Series &series, QByteArrayView name)
{
    T *const found = std::get_if<T>(&series);
    if (found == nullptr)
        qFatal("metrics: the series of %s was registered with another type", name.toByteArray().constData());
    return *found;
}

} // namespace

// ---- Histogram ----

Histogram::Histogram(std::vector<double> boundsSeconds)
    : m_bounds(std::move(boundsSeconds))
    , m_buckets(std::make_unique<std::atomic<std::uint64_t>[]>(m_bounds.size() + 1))
{
    m_boundsNs.reserve(m_bounds.size());
    for (std::size_t i = 0; i < m_bounds.size(); ++i) {
        Q_ASSERT_X(std::isfinite(m_bounds[i]), "Histogram", "bounds must be finite");
        Q_ASSERT_X(i == 0 || m_bounds[i - 1] < m_bounds[i], "Histogram", "bounds must rise strictly");
        m_boundsNs.push_back(toNanoseconds(m_bounds[i]));
    }
}

void Histogram::observeNanoseconds(std::int64_t ns)
{
    ns = std::max<std::int64_t>(ns, 0);
    const auto bucket = std::lower_bound(m_boundsNs.begin(), m_boundsNs.end(), ns) - m_boundsNs.begin();
    m_buckets[static_cast<std::size_t>(bucket)].fetch_add(1, std::memory_order_relaxed);
    m_sumNs.fetch_add(ns, std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::cumulativeCounts() const
{
    std::vector<std::uint64_t> counts(m_bounds.size() + 1);
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < counts.size(); ++i) {
        total += m_buckets[i].load(std::memory_order_relaxed);
        counts[i] = total;
    }
    return counts;
}

std::uint64_t Histogram::count() const
{
    return cumulativeCounts().back();
}

// ---- MetricsRegistry ----

MetricsRegistry::Family &MetricsRegistry::family(QByteArrayView name, QByteArrayView help, Type type)
{
    Q_ASSERT_X(isValidName(name, true), "MetricsRegistry", "metric name must match [a-zA-Z_:][a-zA-Z0-9_:]*");
    auto [found, inserted] = m_families.try_emplace(name.toByteArray());
    Family &result = found->second;
    if (inserted) {
        result.type = type;
        result.help = help.toByteArray();
    } else if (result.type != type) {
        qFatal("metrics: %s is registered with another type", found->first.constData());
    }
    return result;
}

Counter &MetricsRegistry::counter(QByteArrayView name, QByteArrayView help, const Labels &labels)
{
    const std::lock_guard lock(m_mutex);
    Family &owner = family(name, help, Type::Counter);
    auto found = owner.series.try_emplace(canonical(labels), std::in_place_type<Counter>).first;
    return expect<Counter>(found->second, name);
}

Gauge &MetricsRegistry::gauge(QByteArrayView name, QByteArrayView help, const Labels &labels)
{
    const std::lock_guard lock(m_mutex);
    Family &owner = family(name, help, Type::Gauge);
    auto found = owner.series.try_emplace(canonical(labels), std::in_place_type<Gauge>).first;
    return expect<Gauge>(found->second, name);
}

Histogram &MetricsRegistry::histogram(QByteArrayView name, QByteArrayView help, const Labels &labels,
                                      std::vector<double> bounds)
{
    const std::lock_guard lock(m_mutex);
    Family &owner = family(name, help, Type::Histogram);
    Labels key = canonical(labels);
    Q_ASSERT_X(std::none_of(key.begin(), key.end(), [](const auto &label) { return label.first == "le"; }),
               "MetricsRegistry", "\"le\" is the histogram's own label");
    if (const auto found = owner.series.find(key); found != owner.series.end()) {
        Histogram &existing = expect<Histogram>(found->second, name);
        Q_ASSERT_X(existing.bounds() == bounds, "MetricsRegistry", "a histogram asked again with other bounds");
        return existing;
    }
    const auto created = owner.series.try_emplace(std::move(key), std::in_place_type<Histogram>, std::move(bounds));
    return expect<Histogram>(created.first->second, name);
}

void MetricsRegistry::gaugeCallback(QByteArrayView name, QByteArrayView help, std::function<double()> read,
                                    const Labels &labels)
{
    const std::lock_guard lock(m_mutex);
    Family &owner = family(name, help, Type::Gauge);
    auto found = owner.series.try_emplace(canonical(labels), std::in_place_type<GaugeCallback>).first;
    expect<GaugeCallback>(found->second, name) = std::move(read);
}

QByteArray MetricsRegistry::render() const
{
    static constexpr const char *kTypeNames[] = {"counter", "gauge", "histogram"};
    QByteArray out;
    const std::lock_guard lock(m_mutex);
    for (const auto &[name, owner] : m_families) {
        out += "# HELP " + name + ' ';
        appendEscaped(out, owner.help, false);
        out += "\n# TYPE " + name + ' ' + kTypeNames[static_cast<std::size_t>(owner.type)] + '\n';
        for (const auto &[labels, series] : owner.series) {
            if (const auto *counter = std::get_if<Counter>(&series)) {
                appendLine(out, name, {}, labels, QByteArray::number(counter->value()));
            } else if (const auto *gauge = std::get_if<Gauge>(&series)) {
                appendLine(out, name, {}, labels, QByteArray::number(gauge->value()));
            } else if (const auto *read = std::get_if<GaugeCallback>(&series)) {
                appendLine(out, name, {}, labels, formatDouble(*read ? (*read)() : std::nan("")));
            } else if (const auto *histogram = std::get_if<Histogram>(&series)) {
                const std::int64_t sumNs = histogram->sumNanoseconds();
                const std::vector<std::uint64_t> counts = histogram->cumulativeCounts();
                const std::vector<double> &bounds = histogram->bounds();
                for (std::size_t i = 0; i < bounds.size(); ++i)
                    appendLine(out, name, "_bucket", labels, QByteArray::number(counts[i]), "le",
                               formatDouble(bounds[i]));
                appendLine(out, name, "_bucket", labels, QByteArray::number(counts.back()), "le", "+Inf");
                appendLine(out, name, "_sum", labels, formatSeconds(sumNs));
                appendLine(out, name, "_count", labels, QByteArray::number(counts.back()));
            }
        }
    }
    return out;
}

std::vector<double> MetricsRegistry::defaultLatencyBounds()
{
    return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

} // namespace bourse::server
