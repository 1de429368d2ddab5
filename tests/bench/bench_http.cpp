// bench_http: the REST API's throughput and latency, measured side by side in one run on one server (a
// whole venue on SQLite in this process, on its own threads, as bourse runs it):
//   - GET /health and authenticated POST /api/v1/orders with durable acks, each over 64 keep-alive
//     connections in a closed loop (one request in flight per connection), for a fixed time each;
//   - POST /api/v1/orders at a fixed offered rate (open loop): each request's latency counts from when it
//     was due to be sent, not from when a free connection sent it, so a stall is not hidden (no
//     coordinated omission).
// The load generator is one thread with blocking sends and epoll. Orders rest at two prices that
// never cross (buys at 100, sells at 200), so every order is accepted, journalled and acknowledged.
// Environment: BENCH_SECONDS (default 5) per closed-loop phase, BENCH_RATE (default 10000) orders/s
// offered in the open-loop phase, BENCH_CONNECTIONS (default 64).
#include "bench_env.h"
#include "test_venue.h"

#include <QCoreApplication>
#include <QDir>
#include <QLoggingCategory>
#include <QTemporaryDir>

#include <algorithm>
#include <arpa/inet.h>
#include <chrono>
#include <cstdio>
#include <deque>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <vector>

using namespace bourse;
using namespace bourse::test;
using Clock = std::chrono::steady_clock;

namespace {

struct Connection
{
    int fd = -1;
    QByteArray in;
    bool busy = false;
    Clock::time_point due; // when the request in flight was due (open loop) or sent (closed loop)
};

// One whole response at the front of `in`: its status, and how many bytes it takes; 0 bytes while incomplete.
std::pair<int, qsizetype> takeResponse(QByteArrayView in)
{
    const qsizetype end = in.indexOf("\r\n\r\n");
    if (end < 0)
        return {0, 0};
    const int status = in.sliced(9, 3).toInt();
    qsizetype length = 0;
    const qsizetype header = in.indexOf(QByteArrayView("Content-Length: "));
    if (header >= 0 && header < end) {
        const qsizetype valueEnd = in.indexOf(QByteArrayView("\r\n"), header);
        length = in.sliced(header + 16, valueEnd - header - 16).toLongLong();
    }
    const qsizetype total = end + 4 + length;
    if (in.size() < total)
        return {0, 0};
    return {status, total};
}

struct Phase
{
    std::uint64_t completed = 0;
    std::uint64_t failed = 0;
    double seconds = 0;
    std::vector<std::int64_t> latenciesNs;
};

class Load
{
public:
    Load(quint16 port, int connections)
        : m_epoll(::epoll_create1(EPOLL_CLOEXEC))
        , m_timer(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK))
    {
        // The open loop sleeps until the next request is due on this timer, to the nanosecond, rather than
        // spinning (which would take a core from the server) or oversleeping (which would count against it).
        epoll_event timerEvent{};
        timerEvent.events = EPOLLIN;
        timerEvent.data.u32 = kTimerId;
        ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_timer, &timerEvent);
        m_connections.reserve(std::size_t(connections));
        for (int i = 0; i < connections; ++i) {
            m_connections.push_back(Connection{connectLoopback(port), {}, false, {}});
            epoll_event event{};
            event.events = EPOLLIN;
            event.data.u32 = std::uint32_t(i);
            ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_connections.back().fd, &event);
        }
    }
    ~Load()
    {
        for (const Connection &connection : m_connections)
            ::close(connection.fd);
        ::close(m_timer);
        ::close(m_epoll);
    }
    bool ok() const
    {
        return std::all_of(m_connections.begin(), m_connections.end(), [](const Connection &c) { return c.fd >= 0; });
    }

    // Closed loop: every connection keeps one request in flight for `seconds`.
    Phase closed(const std::function<QByteArray()> &next, int expected, double seconds)
    {
        Phase phase;
        const Clock::time_point start = Clock::now();
        const Clock::time_point stop
            = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
        for (Connection &connection : m_connections)
            send(connection, next(), Clock::now());
        while (Clock::now() < stop) {
            poll([&](Connection &connection, int status) {
                count(phase, connection, status, expected);
                if (Clock::now() < stop)
                    send(connection, next(), Clock::now());
            });
        }
        drain(phase, expected);
        phase.seconds = std::chrono::duration<double>(Clock::now() - start).count();
        return phase;
    }

    // Open loop: request i is due at start + i / rate; it goes out on the first idle connection at or after
    // that moment, and its latency counts from when it was due.
    Phase open(const std::function<QByteArray()> &next, int expected, int rate, double seconds)
    {
        Phase phase;
        const Clock::time_point start = Clock::now();
        const auto total = std::uint64_t(double(rate) * seconds);
        std::uint64_t issued = 0;
        std::deque<Clock::time_point> waiting; // due but not sent: no idle connection yet
        while (issued < total || !waiting.empty() || busyCount() > 0) {
            const Clock::time_point now = Clock::now();
            while (issued < total
                   && start + std::chrono::nanoseconds(std::int64_t(double(issued) * 1e9 / rate)) <= now) {
                waiting.push_back(start + std::chrono::nanoseconds(std::int64_t(double(issued) * 1e9 / rate)));
                ++issued;
            }
            for (Connection &connection : m_connections) {
                if (waiting.empty())
                    break;
                if (!connection.busy) {
                    send(connection, next(), waiting.front());
                    waiting.pop_front();
                }
            }
            if (issued < total) {
                const Clock::time_point due = start
                                              + std::chrono::nanoseconds(std::int64_t(double(issued) * 1e9 / rate));
                const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(due.time_since_epoch()).count();
                itimerspec when{};
                when.it_value.tv_sec = ns / 1'000'000'000;
                when.it_value.tv_nsec = ns % 1'000'000'000;
                ::timerfd_settime(m_timer, TFD_TIMER_ABSTIME, &when, nullptr);
            }
            poll([&](Connection &connection, int status) { count(phase, connection, status, expected); }, 10);
        }
        phase.seconds = std::chrono::duration<double>(Clock::now() - start).count();
        return phase;
    }

private:
    int busyCount() const
    {
        return int(
            std::count_if(m_connections.begin(), m_connections.end(), [](const Connection &c) { return c.busy; }));
    }

    static void send(Connection &connection, const QByteArray &request, Clock::time_point due)
    {
        connection.busy = true;
        connection.due = due;
        qsizetype sent = 0;
        while (sent < request.size()) {
            const ssize_t n = ::send(connection.fd, request.constData() + sent, std::size_t(request.size() - sent),
                                     MSG_NOSIGNAL);
            if (n <= 0)
                return;
            sent += n;
        }
    }

    static void count(Phase &phase, Connection &connection, int status, int expected)
    {
        if (status == expected)
            ++phase.completed;
        else
            ++phase.failed;
        phase.latenciesNs.push_back(
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - connection.due).count());
    }

    template<typename OnResponse>
    void poll(OnResponse &&onResponse, int timeoutMs = 10)
    {
        epoll_event events[128];
        const int ready = ::epoll_wait(m_epoll, events, 128, timeoutMs);
        char buffer[65536];
        for (int e = 0; e < ready; ++e) {
            if (events[e].data.u32 == kTimerId) {
                std::uint64_t expirations = 0;
                [[maybe_unused]] const ssize_t n = ::read(m_timer, &expirations, sizeof expirations);
                continue;
            }
            Connection &connection = m_connections[events[e].data.u32];
            const ssize_t n = ::recv(connection.fd, buffer, sizeof buffer, 0);
            if (n <= 0)
                continue;
            connection.in.append(buffer, n);
            qsizetype offset = 0;
            for (;;) {
                const auto [status, size] = takeResponse(QByteArrayView(connection.in).sliced(offset));
                if (size == 0)
                    break;
                offset += size;
                connection.busy = false;
                onResponse(connection, status);
            }
            connection.in.remove(0, offset);
        }
    }

    void drain(Phase &phase, int expected)
    {
        const Clock::time_point deadline = Clock::now() + std::chrono::seconds(10);
        while (busyCount() > 0 && Clock::now() < deadline)
            poll([&](Connection &connection, int status) { count(phase, connection, status, expected); });
    }

    static constexpr std::uint32_t kTimerId = 0xffffffff;
    int m_epoll;
    int m_timer;
    std::vector<Connection> m_connections;
};

std::int64_t percentile(std::vector<std::int64_t> values, double p)
{
    if (values.empty())
        return 0;
    std::sort(values.begin(), values.end());
    return values[std::min(values.size() - 1, std::size_t(p * double(values.size())))];
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    // One log line per request would measure the terminal: the access log is off for the run.
    QLoggingCategory::setFilterRules(QStringLiteral("bourse.access.info=false\nqt.httpserver.warning=false"));
    const double seconds = envInt("BENCH_SECONDS", 5);
    const int rate = envInt("BENCH_RATE", 10'000);
    const int connections = envInt("BENCH_CONNECTIONS", 64);

    QTemporaryDir dir;
    const QString dataDir = dir.filePath(QStringLiteral("venue"));
    QDir().mkpath(dataDir);
    auto venue = TestVenue::start({sql::DatabaseUrl::sqlite(dir.filePath(QStringLiteral("bench.db"))), dataDir});
    if (!venue) {
        std::fprintf(stderr, "bench_http: %s\n", qPrintable(venue.error()));
        return 1;
    }
    const quint16 port = (*venue)->port();
    const auto admin = adminClient(port);
    const std::optional<qint64> user = admin ? admin->createUser(QStringLiteral("bench"),
                                                                 QStringLiteral("bench-password"),
                                                                 QStringLiteral("trader"))
                                             : std::nullopt;
    if (!user || !admin->deposit(*user, QStringLiteral("USD"), QStringLiteral("1000000000"))
        || !admin->deposit(*user, QStringLiteral("BTC"), QStringLiteral("1000000"))
        || admin->request("PATCH", "/admin/users/" + QByteArray::number(*user), R"({"rate_limit_tier":"unlimited"})").status
               != 200) {
        std::fprintf(stderr, "bench_http: cannot set up the bench user\n");
        return 1;
    }
    ApiClient trader(port);
    if (trader.login(QStringLiteral("bench"), QStringLiteral("bench-password")).status != 200) {
        std::fprintf(stderr, "bench_http: cannot log in\n");
        return 1;
    }
    const QByteArray health = "GET /health HTTP/1.1\r\nHost: bench\r\n\r\n";
    const QByteArray bodies[2]
        = {R"({"symbol":"BTC-USD","side":"buy","type":"limit","price":"100.00","quantity":"0.0001"})",
           R"({"symbol":"BTC-USD","side":"sell","type":"limit","price":"200.00","quantity":"0.0001"})"};
    QByteArray orders[2];
    for (int i = 0; i < 2; ++i) {
        orders[i] = "POST /api/v1/orders HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer " + trader.token()
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + QByteArray::number(bodies[i].size())
                    + "\r\n\r\n" + bodies[i];
    }
    std::uint64_t sequence = 0;
    const auto nextOrder = [&] { return orders[sequence++ % 2]; };

    Load load(port, connections);
    if (!load.ok()) {
        std::fprintf(stderr, "bench_http: cannot connect\n");
        return 1;
    }
    load.closed([&] { return health; }, 200, 1); // warm-up
    const Phase healthPhase = load.closed([&] { return health; }, 200, seconds);
    const Phase orderPhase = load.closed(nextOrder, 201, seconds);
    const Phase openPhase = load.open(nextOrder, 201, rate, seconds);

    // What the journal's commits took over the open-loop phase (its last 1,024 commits): the floor under
    // an order's latency, since its ack waits for the commit that makes it durable.
    const QJsonObject database = admin->get("/admin/system/stats").object().value("database").toObject();
    const double healthRps = double(healthPhase.completed) / healthPhase.seconds;
    const double orderRps = double(orderPhase.completed) / orderPhase.seconds;
    std::printf("BENCH http_health_rps %.0f req/s\n", healthRps);
    std::printf("BENCH http_order_entry_rps %.0f orders/s\n", orderRps);
    std::printf("BENCH http_order_entry_vs_health_ratio %.3f x\n", orderRps / healthRps);
    std::printf("BENCH http_order_entry_closed_p50_us %lld us\n",
                static_cast<long long>(percentile(orderPhase.latenciesNs, 0.50) / 1000));
    std::printf("BENCH http_order_entry_closed_p99_us %lld us\n",
                static_cast<long long>(percentile(orderPhase.latenciesNs, 0.99) / 1000));
    std::printf("BENCH http_order_entry_offered_rate %d orders/s\n", rate);
    std::printf("BENCH http_order_entry_achieved_rate %.0f orders/s\n", double(openPhase.completed) / openPhase.seconds);
    std::printf("BENCH http_order_entry_p50_us %lld us\n",
                static_cast<long long>(percentile(openPhase.latenciesNs, 0.50) / 1000));
    std::printf("BENCH http_order_entry_p99_us %lld us\n",
                static_cast<long long>(percentile(openPhase.latenciesNs, 0.99) / 1000));
    std::printf("BENCH http_order_entry_max_us %lld us\n",
                static_cast<long long>(percentile(openPhase.latenciesNs, 1.0) / 1000));
    std::printf("BENCH http_order_entry_commit_p50_ms %.3f ms\n", database.value("commit_p50_ms").toDouble());
    std::printf("BENCH http_order_entry_commit_p99_ms %.3f ms\n", database.value("commit_p99_ms").toDouble());
    std::printf("BENCH http_failed_requests %llu requests\n",
                static_cast<unsigned long long>(healthPhase.failed + orderPhase.failed + openPhase.failed));
    return healthPhase.failed + orderPhase.failed + openPhase.failed == 0 ? 0 : 1;
}
