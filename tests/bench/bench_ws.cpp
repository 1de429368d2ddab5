// bench_ws: the WebSocket fan-out of the order book channel (spec §7), on one server (a whole venue on SQLite
// in this process, on its own threads, as bourse runs it):
//   - BENCH_SUBSCRIBERS connections upgrade on GET /ws and subscribe to the book of BENCH_SYMBOL; once every
//     one has its snapshot, orders flow at a steady offered rate, straight into the VenueService on the
//     server thread (no HTTP in the way: the HTTP thread's time goes to the fan-out being measured);
//   - after a second of warm-up, for BENCH_SECONDS: the order book updates every subscriber receives
//     (deliveries per second, summed over the subscribers), and for each one the time from its publication
//     to the return of the subscriber's read that brought it. The publication is stamped on the server
//     thread in the VenueService's batchCommitted signal, right after StreamFeeds has queued the update in
//     every outbox, by the book seq it carries; the receiver looks its seq up. Every update counts, late or
//     not: nothing is sampled, and a stall of the server or of the reader shows as latency;
//   - every subscriber's seq must rise by exactly 1 after its snapshot: any other step is a gap (duplicates
//     included). After the flow stops, each must have received every update since its snapshot.
// Also printed, to explain the above: updates published per second; deliveries / (updates x subscribers)
// over the whole run (1.0: nothing dropped); the time from publication to the end of the hub's flush that
// wrote the update to the last subscriber's socket (the server's share of the latency); the hub's flushes per
// second and messages per write (coalescing); subscribers cut off as slow; and, on stderr, each thread's time
// on a CPU and time runnable but waiting for one over the window.
// The receiver is one thread with epoll over non-blocking sockets; it parses every frame it reads. Orders:
// eight traders rest orders at random prices up to 100 ticks from 100.00, buys below and sells above; 5% are
// IOC orders crossing by up to 5 ticks, which trade (or meet self-trade prevention). To keep the book at
// most about BENCH_RESTING orders, every BENCH_RESTING/8 orders one trader's orders are cancelled at once
// (DELETE /api/v1/orders, in turn), which costs one command, not one per order.
// With BENCH_STALLED, that many more subscribers (spread among the others) take their snapshot and then never
// read again, with a small receive buffer: the server must cut each off once its backlog passes the hub's
// limit (close 1008, "slow consumer"), and the figures above, about the other subscribers only, show whether
// the stalled ones cost them anything. Printed for them: how many the server cut off, and when (from the
// start of the flow, stamped on the server thread after the flush that cut them); and, from reading each
// stalled socket to its end after the run, how the server left it: a 1008 close frame, the connection ended
// without one (a close frame queues behind the backlog it cut off, and the server aborts the connection when
// its close linger is over), or still open (never cut off). In every run: the process's resident memory at
// the end and at its peak, which the backlog limit must keep bounded however many subscribers stall.
// Environment: BENCH_SUBSCRIBERS (default 1000), BENCH_SECONDS (default 5), BENCH_ORDER_RATE (default
// 20000) orders/s offered, BENCH_RESTING (default 2000), BENCH_SYMBOL (default BTC-USD), BENCH_STALLED
// (default 0).
#include "bench_env.h"
#include "test_venue.h"
#include "venue_server.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QLoggingCategory>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTimer>

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fcntl.h>
#include <map>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <random>
#include <string>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

using namespace bourse;
using namespace bourse::test;
using Clock = std::chrono::steady_clock;

namespace {

std::int64_t nanosOf(Clock::time_point time)
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
}

// When each update of the book was published (steady clock, ns), by its seq: written on the server thread,
// read by the receiver. A slot holds the seq it was written for, so that a lookup never takes a stale one.
class PublishTimes
{
public:
    static constexpr std::size_t kSlots = std::size_t(1) << 20;

    void record(std::uint64_t seq, std::int64_t nanos)
    {
        Slot &slot = m_slots[seq & (kSlots - 1)];
        slot.nanos.store(nanos, std::memory_order_relaxed);
        slot.seq.store(seq, std::memory_order_release);
        std::uint64_t last = m_last.load(std::memory_order_relaxed);
        while (seq > last && !m_last.compare_exchange_weak(last, seq, std::memory_order_release))
            ;
    }
    std::optional<std::int64_t> find(std::uint64_t seq) const
    {
        const Slot &slot = m_slots[seq & (kSlots - 1)];
        if (slot.seq.load(std::memory_order_acquire) != seq)
            return std::nullopt;
        return slot.nanos.load(std::memory_order_relaxed);
    }
    std::uint64_t last() const { return m_last.load(std::memory_order_acquire); }

private:
    struct Slot
    {
        std::atomic<std::uint64_t> seq{0};
        std::atomic<std::int64_t> nanos{0};
    };
    std::vector<Slot> m_slots = std::vector<Slot>(kSlots);
    std::atomic<std::uint64_t> m_last{0};
};

// Publish-to-receive latencies, exact to the microsecond up to 2 s.
class Histogram
{
public:
    void add(std::int64_t nanos)
    {
        const std::int64_t micros = std::max<std::int64_t>(0, nanos / 1000);
        ++m_counts[std::size_t(std::min<std::int64_t>(micros, std::int64_t(m_counts.size()) - 1))];
        m_max = std::max(m_max, nanos);
        ++m_total;
    }
    std::uint64_t total() const { return m_total; }
    double percentileMs(double p) const
    {
        if (m_total == 0)
            return 0;
        const auto rank = std::min<std::uint64_t>(m_total - 1, std::uint64_t(p * double(m_total)));
        std::uint64_t seen = 0;
        for (std::size_t micros = 0; micros < m_counts.size(); ++micros) {
            seen += m_counts[micros];
            if (seen > rank)
                return double(micros) / 1000.0;
        }
        return maxMs();
    }
    double maxMs() const { return double(m_max) / 1e6; }

private:
    std::vector<std::uint32_t> m_counts = std::vector<std::uint32_t>(2'000'000);
    std::int64_t m_max = 0;
    std::uint64_t m_total = 0;
};

constexpr int kTraders = 8;

// The order flow, on the server thread: a precise 1 ms timer places every order that is due by then.
struct OrderFlow
{
    server::VenueService *service = nullptr;
    server::Caller traders[kTraders];
    InstrumentView instrument;
    int rate = 0;
    std::uint64_t cancelEvery = 0; // orders between two mass cancels
    std::mt19937_64 random{20240601};
    QTimer *timer = nullptr;
    QElapsedTimer clock;
    std::uint64_t issued = 0;
    int nextCancel = 0; // the trader whose orders go next
    std::atomic<std::uint64_t> placed{0};
    std::atomic<std::uint64_t> rejected{0};

    void start(QObject *parent, const std::shared_ptr<OrderFlow> &self)
    {
        timer = new QTimer(parent);
        timer->setTimerType(Qt::PreciseTimer);
        timer->setInterval(1);
        QObject::connect(timer, &QTimer::timeout, timer, [self] { self->tick(self); });
        clock.start();
        timer->start();
    }
    void stop() { timer->stop(); }

    void tick(const std::shared_ptr<OrderFlow> &self)
    {
        const auto due = std::uint64_t(double(clock.nsecsElapsed()) * 1e-9 * rate);
        for (; issued < due; ++issued) {
            placeOne(self);
            if ((issued + 1) % cancelEvery == 0) {
                // One trader's resting orders go: the book keeps at most about BENCH_RESTING orders.
                service->cancelAll(traders[nextCancel], instrument.id, [self](server::ServiceResult<server::CancelAllResult> done) {
                    if (!done)
                        self->rejected.fetch_add(1, std::memory_order_relaxed);
                });
                nextCancel = (nextCancel + 1) % kTraders;
            }
        }
    }

    void placeOne(const std::shared_ptr<OrderFlow> &self)
    {
        const std::int64_t tick = instrument.tickSize.raw();
        const std::int64_t lot = instrument.lotSize.raw();
        const std::int64_t mid = Decimal::fromInteger(100).raw();
        const bool buy = random() % 2 == 0;
        const bool crossing = random() % 100 < 5;
        PlaceOrder order;
        order.symbol = instrument.symbol;
        order.side = buy ? Side::Buy : Side::Sell;
        order.type = OrderType::Limit;
        const std::int64_t ticks = crossing ? -std::int64_t(1 + random() % 5) : std::int64_t(1 + random() % 100);
        order.price = Decimal::fromRaw(buy ? mid - ticks * tick : mid + ticks * tick);
        order.quantity = Decimal::fromRaw(
            std::max(instrument.minQuantity.raw(), lot * std::int64_t(1 + random() % (crossing ? 20 : 10))));
        if (crossing)
            order.timeInForce = TimeInForce::Ioc;
        service->placeOrder(traders[random() % kTraders], order, [self](server::ServiceResult<server::PlacedOrder> done) {
            if (done)
                self->placed.fetch_add(1, std::memory_order_relaxed);
            else
                self->rejected.fetch_add(1, std::memory_order_relaxed);
        });
    }
};

// ---- the subscribers' side

// Non-blocking, for the epoll loop.
int connectTo(quint16 port, int receiveBuffer = 0)
{
    const int fd = connectLoopback(port, receiveBuffer);
    if (fd >= 0)
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

bool sendAll(int fd, QByteArrayView bytes)
{
    qsizetype sent = 0;
    while (sent < bytes.size()) {
        const ssize_t n = ::send(fd, bytes.data() + sent, std::size_t(bytes.size() - sent), MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue; // a few dozen bytes into an empty socket buffer: never for long
        if (n <= 0)
            return false;
        sent += n;
    }
    return true;
}

// A client frame: FIN, `opcode`, masked with a random key as RFC 6455 §5.3 requires of clients.
QByteArray clientFrame(std::uint8_t opcode, QByteArrayView payload)
{
    QByteArray frame;
    frame.append(char(0x80 | opcode));
    if (payload.size() <= 125) {
        frame.append(char(0x80 | payload.size()));
    } else {
        frame.append(char(0x80 | 126));
        frame.append(char((payload.size() >> 8) & 0xff)).append(char(payload.size() & 0xff));
    }
    const quint32 key = QRandomGenerator::global()->generate();
    const char mask[4] = {char(key >> 24), char(key >> 16), char(key >> 8), char(key)};
    frame.append(mask, 4);
    for (qsizetype i = 0; i < payload.size(); ++i)
        frame.append(char(payload[i] ^ mask[i % 4]));
    return frame;
}

QByteArrayView messageType(QByteArrayView message)
{
    const qsizetype at = message.indexOf(QByteArrayView(R"("type":")"));
    if (at < 0)
        return {};
    const qsizetype begin = at + 8;
    const qsizetype end = message.indexOf('"', begin);
    return end < 0 ? QByteArrayView() : message.sliced(begin, end - begin);
}

std::optional<std::uint64_t> messageSeq(QByteArrayView message)
{
    const qsizetype at = message.indexOf(QByteArrayView(R"("seq":)"));
    if (at < 0)
        return std::nullopt;
    std::uint64_t seq = 0;
    qsizetype i = at + 6;
    if (i >= message.size() || message[i] < '0' || message[i] > '9')
        return std::nullopt;
    for (; i < message.size() && message[i] >= '0' && message[i] <= '9'; ++i)
        seq = seq * 10 + std::uint64_t(message[i] - '0');
    return seq;
}

struct Subscriber
{
    // A stalled subscriber goes from Subscribing to Stalled (never read) and, after the run, to Draining.
    enum class State : std::uint8_t { Upgrading, Subscribing, Live, Stalled, Draining, Closed };
    int fd = -1;
    State state = State::Upgrading;
    bool stalled = false;
    std::string in;       // bytes of an incomplete frame (or of the upgrade response)
    QByteArray fragments; // a text message in several frames
    std::uint64_t snapshotSeq = 0;
    std::uint64_t lastSeq = 0;
    std::uint64_t updates = 0; // after the snapshot
    int closeCode = 0;         // from the server's close frame; 0 when none came
};

struct Tally
{
    std::uint64_t deliveries = 0; // updates received in the window
    std::uint64_t gaps = 0;
    std::uint64_t unknownPublish = 0; // updates whose publication was not found (should stay 0)
    std::uint64_t closes = 0;
    std::uint64_t errors = 0; // error messages, protocol errors
    Histogram latency;
};

class Subscribers
{
public:
    Subscribers(quint16 port, QByteArray symbol, const PublishTimes &published)
        : m_port(port)
        , m_symbol(std::move(symbol))
        , m_published(published)
        , m_epoll(::epoll_create1(EPOLL_CLOEXEC))
    {}
    ~Subscribers()
    {
        for (const Subscriber &subscriber : m_subscribers) {
            if (subscriber.fd >= 0)
                ::close(subscriber.fd);
        }
        ::close(m_epoll);
    }

    // Upgrades and subscribes `count` connections and `stalledCount` stalled ones, spread evenly among them
    // (the hub then writes to stalled and reading subscribers in turn, as it would on a real venue), a few
    // handshakes at a time (the listen backlog is short); true once every one has its snapshot.
    bool connectAll(int count, int stalledCount, std::chrono::seconds within)
    {
        const std::size_t total = std::size_t(count) + std::size_t(stalledCount);
        m_subscribers.reserve(total);
        const Clock::time_point deadline = Clock::now() + within;
        while (Clock::now() < deadline) {
            while (m_subscribers.size() < total && m_subscribers.size() - std::size_t(m_live + m_stalled) < 32) {
                const std::size_t i = m_subscribers.size();
                if (!open((i + 1) * std::size_t(stalledCount) / total > i * std::size_t(stalledCount) / total))
                    return false;
            }
            if (m_live == count && m_stalled == stalledCount)
                return true;
            if (m_tally.closes > 0 || m_tally.errors > 0)
                return false;
            pump(10);
        }
        return false;
    }

    // Reads until `until`; updates received in [windowStart, windowEnd) count in the tally.
    void run(Clock::time_point until)
    {
        for (Clock::time_point now = Clock::now(); now < until; now = Clock::now())
            pump(int(std::clamp<std::int64_t>(
                std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count(), 1, 10)));
    }
    void setWindow(Clock::time_point start, Clock::time_point end)
    {
        m_windowStart = start;
        m_windowEnd = end;
    }

    // True once every live subscriber has `seq`.
    bool allAt(std::uint64_t seq) const
    {
        return std::all_of(m_subscribers.begin(), m_subscribers.end(), [seq](const Subscriber &s) {
            return s.state != Subscriber::State::Live || s.lastSeq >= seq;
        });
    }
    // After the run: reads every stalled subscriber's socket to its end (or until nothing came for `quiet`:
    // one the server never cut off catches up, then has nothing more), to see how the server left it.
    void readStalled(std::chrono::milliseconds quiet, Clock::time_point deadline)
    {
        for (std::size_t i = 0; i < m_subscribers.size(); ++i) {
            Subscriber &subscriber = m_subscribers[i];
            if (subscriber.state != Subscriber::State::Stalled)
                continue;
            subscriber.state = Subscriber::State::Draining;
            epoll_event event{};
            event.events = EPOLLIN;
            event.data.u32 = std::uint32_t(i);
            ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, subscriber.fd, &event);
        }
        const auto draining = [this] {
            return std::any_of(m_subscribers.begin(), m_subscribers.end(), [](const Subscriber &s) {
                return s.state == Subscriber::State::Draining;
            });
        };
        std::uint64_t bytes = m_bytesRead;
        Clock::time_point quietSince = Clock::now();
        while (Clock::now() < deadline && draining()) {
            pump(10);
            if (m_bytesRead != bytes) {
                bytes = m_bytesRead;
                quietSince = Clock::now();
            } else if (Clock::now() - quietSince > quiet) {
                break;
            }
        }
    }

    int live() const { return m_live; }
    int stalled() const { return m_stalled; }
    const Tally &tally() const { return m_tally; }
    const std::vector<Subscriber> &all() const { return m_subscribers; }

private:
    bool open(bool stalled)
    {
        // A stalled subscriber's small receive window keeps the kernel from taking its backlog off the server.
        const int fd = connectTo(m_port, stalled ? 4096 : 0);
        if (fd < 0)
            return false;
        quint32 nonce[4];
        QRandomGenerator::global()->fillRange(nonce);
        const QByteArray key = QByteArray(reinterpret_cast<const char *>(nonce), sizeof nonce).toBase64();
        const QByteArray request = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: "
                                   "Upgrade\r\nSec-WebSocket-Key: "
                                   + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
        if (!sendAll(fd, request)) {
            ::close(fd);
            return false;
        }
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.u32 = std::uint32_t(m_subscribers.size());
        ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &event);
        Subscriber subscriber;
        subscriber.fd = fd;
        subscriber.stalled = stalled;
        m_subscribers.push_back(std::move(subscriber));
        return true;
    }

    void pump(int timeoutMs)
    {
        epoll_event events[256];
        const int ready = ::epoll_wait(m_epoll, events, 256, timeoutMs);
        for (int e = 0; e < ready; ++e) {
            Subscriber &subscriber = m_subscribers[events[e].data.u32];
            for (;;) {
                const ssize_t n = ::recv(subscriber.fd, m_buffer.data(), m_buffer.size(), 0);
                if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                    close(subscriber);
                    break;
                }
                if (n < 0)
                    break;
                m_bytesRead += std::uint64_t(n);
                const Clock::time_point received = Clock::now(); // the read returned these bytes now
                take(subscriber, std::string_view(m_buffer.data(), std::size_t(n)), received);
                if (std::size_t(n) < m_buffer.size() || subscriber.state == Subscriber::State::Closed
                    || subscriber.state == Subscriber::State::Stalled)
                    break;
            }
        }
    }

    // A stalled subscriber past its snapshot: the server is meant to cut it off.
    static bool mayBeCutOff(const Subscriber &subscriber)
    {
        return subscriber.state == Subscriber::State::Stalled || subscriber.state == Subscriber::State::Draining;
    }

    void close(Subscriber &subscriber)
    {
        if (subscriber.state == Subscriber::State::Closed)
            return;
        if (subscriber.state == Subscriber::State::Live)
            --m_live;
        if (!mayBeCutOff(subscriber))
            ++m_tally.closes;
        subscriber.state = Subscriber::State::Closed;
        ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, subscriber.fd, nullptr);
    }

    void take(Subscriber &subscriber, std::string_view bytes, Clock::time_point received)
    {
        // Whole frames straight from the read buffer; only an incomplete tail is kept.
        std::string_view data = bytes;
        if (!subscriber.in.empty()) {
            subscriber.in.append(bytes);
            data = subscriber.in;
        }
        std::size_t offset = 0;
        if (subscriber.state == Subscriber::State::Upgrading) {
            const std::size_t end = data.find("\r\n\r\n");
            if (end == std::string_view::npos) {
                if (subscriber.in.empty())
                    subscriber.in.assign(bytes);
                return;
            }
            if (data.substr(0, 12) != "HTTP/1.1 101") {
                std::fprintf(stderr, "bench_ws: upgrade refused: %.*s\n", int(std::min<std::size_t>(end, 200)),
                             data.data());
                ++m_tally.errors;
                close(subscriber);
                return;
            }
            offset = end + 4;
            subscriber.state = Subscriber::State::Subscribing;
            const QByteArray subscribe = R"({"op":"subscribe","channel":"orderbook","symbol":")" + m_symbol + R"("})";
            if (!sendAll(subscriber.fd, clientFrame(0x1, subscribe))) {
                close(subscriber);
                return;
            }
        }
        const std::int64_t receivedNs = nanosOf(received);
        const bool inWindow = received >= m_windowStart && received < m_windowEnd;
        // A stalled subscriber stops at its snapshot; anything after it stays in `in` until the read after the run.
        while (subscriber.state != Subscriber::State::Closed && subscriber.state != Subscriber::State::Stalled) {
            const std::size_t left = data.size() - offset;
            if (left < 2)
                break;
            const auto *head = reinterpret_cast<const unsigned char *>(data.data() + offset);
            const bool fin = head[0] & 0x80;
            const int opcode = head[0] & 0x0f;
            const bool masked = head[1] & 0x80;
            std::uint64_t length = head[1] & 0x7f;
            std::size_t headerSize = 2;
            if (length == 126) {
                if (left < 4)
                    break;
                length = (std::uint64_t(head[2]) << 8) | head[3];
                headerSize = 4;
            } else if (length == 127) {
                if (left < 10)
                    break;
                length = 0;
                for (int i = 0; i < 8; ++i)
                    length = (length << 8) | head[2 + i];
                headerSize = 10;
            }
            if (masked) { // a server never masks (RFC 6455 §5.1)
                ++m_tally.errors;
                close(subscriber);
                return;
            }
            if (left < headerSize + length)
                break;
            const std::string_view payload = data.substr(offset + headerSize, std::size_t(length));
            offset += headerSize + std::size_t(length);
            switch (opcode) {
            case 0x0: // continuation
            case 0x1: // text
                if (!fin || !subscriber.fragments.isEmpty()) {
                    subscriber.fragments.append(payload.data(), qsizetype(payload.size()));
                    if (fin) {
                        const QByteArray whole = std::exchange(subscriber.fragments, {});
                        onMessage(subscriber, whole, receivedNs, inWindow);
                    }
                } else {
                    onMessage(subscriber, QByteArrayView(payload.data(), qsizetype(payload.size())), receivedNs,
                              inWindow);
                }
                break;
            case 0x8: // close: a subscriber cut off (slow consumer) or the server shutting down
                if (payload.size() >= 2)
                    subscriber.closeCode = (std::uint8_t(payload[0]) << 8) | std::uint8_t(payload[1]);
                if (!mayBeCutOff(subscriber))
                    std::fprintf(stderr, "bench_ws: closed by the server: %.*s\n",
                                 int(std::min<std::size_t>(payload.size(), 120)), payload.data());
                close(subscriber);
                break;
            case 0x9: // ping: a pong with the same payload
                sendAll(subscriber.fd, clientFrame(0xA, QByteArrayView(payload.data(), qsizetype(payload.size()))));
                break;
            default:
                break;
            }
        }
        const std::string_view tail = data.substr(std::min(offset, data.size()));
        if (tail.data() == subscriber.in.data() + offset && !subscriber.in.empty())
            subscriber.in.erase(0, offset);
        else
            subscriber.in.assign(tail);
    }

    void onMessage(Subscriber &subscriber, QByteArrayView message, std::int64_t receivedNs, bool inWindow)
    {
        if (subscriber.state == Subscriber::State::Draining)
            return; // a stalled subscriber's backlog, read after the run: none of the figures
        const QByteArrayView type = messageType(message);
        if (type == "update") {
            const std::optional<std::uint64_t> seq = messageSeq(message);
            if (subscriber.state != Subscriber::State::Live || !seq) {
                ++m_tally.errors; // an update before the snapshot, or without a seq
                return;
            }
            if (*seq != subscriber.lastSeq + 1)
                ++m_tally.gaps; // a skip, a repeat or a step back
            subscriber.lastSeq = std::max(subscriber.lastSeq, *seq);
            ++subscriber.updates;
            if (!inWindow)
                return;
            ++m_tally.deliveries;
            if (const std::optional<std::int64_t> published = m_published.find(*seq))
                m_tally.latency.add(receivedNs - *published);
            else
                ++m_tally.unknownPublish;
        } else if (type == "snapshot") {
            const std::optional<std::uint64_t> seq = messageSeq(message);
            if (subscriber.state != Subscriber::State::Subscribing || !seq) {
                ++m_tally.errors;
                return;
            }
            subscriber.snapshotSeq = subscriber.lastSeq = *seq;
            if (subscriber.stalled) {
                // Never read again: out of the read set, so that the server's backlog for it only grows.
                subscriber.state = Subscriber::State::Stalled;
                ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, subscriber.fd, nullptr);
                ++m_stalled;
                return;
            }
            subscriber.state = Subscriber::State::Live;
            ++m_live;
        } else if (type == "error") {
            std::fprintf(stderr, "bench_ws: %.*s\n", int(std::min<qsizetype>(message.size(), 200)), message.data());
            ++m_tally.errors;
        }
        // "subscribed" and anything else: nothing to count
    }

    quint16 m_port;
    QByteArray m_symbol;
    const PublishTimes &m_published;
    int m_epoll;
    std::vector<Subscriber> m_subscribers;
    int m_live = 0;
    int m_stalled = 0; // stalled subscribers that got their snapshot
    std::uint64_t m_bytesRead = 0;
    std::vector<char> m_buffer = std::vector<char>(256 * 1024);
    Clock::time_point m_windowStart = Clock::time_point::max();
    Clock::time_point m_windowEnd = Clock::time_point::max();
    Tally m_tally;
};

// Each of this process's threads, by id: its name, and from /proc/<tid>/schedstat the time it ran on a CPU
// and the time it waited, runnable, for one (ns).
struct ThreadTimes
{
    std::string name;
    std::uint64_t running = 0;
    std::uint64_t waiting = 0;
};

std::map<int, ThreadTimes> threadTimes()
{
    std::map<int, ThreadTimes> threads;
    QDir tasks(QStringLiteral("/proc/self/task"));
    for (const QString &tid : tasks.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        QFile comm(tasks.filePath(tid + QStringLiteral("/comm")));
        QFile schedstat(tasks.filePath(tid + QStringLiteral("/schedstat")));
        if (!comm.open(QIODevice::ReadOnly) || !schedstat.open(QIODevice::ReadOnly))
            continue;
        const QList<QByteArray> fields = schedstat.readAll().trimmed().split(' ');
        if (fields.size() < 2)
            continue;
        threads[tid.toInt()] = {comm.readAll().trimmed().toStdString(), fields[0].toULongLong(),
                                fields[1].toULongLong()};
    }
    return threads;
}

// A figure of /proc/self/status in MiB: VmRSS (resident now) or VmHWM (the peak of VmRSS); -1 if missing.
double statusMib(QByteArrayView field)
{
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith(field) && line.size() > field.size() && line[field.size()] == ':')
            return double(line.sliced(field.size() + 1).trimmed().split(' ').front().toLongLong()) / 1024.0;
    }
    return -1;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QLoggingCategory::setFilterRules(QStringLiteral("bourse.access.info=false\nqt.httpserver.warning=false"));
    const int subscriberCount = envInt("BENCH_SUBSCRIBERS", 1000);
    const int seconds = envInt("BENCH_SECONDS", 5);
    const int rate = envInt("BENCH_ORDER_RATE", 20'000);
    const int maxResting = envInt("BENCH_RESTING", 2000);
    const int stalledCount = envInt("BENCH_STALLED", 0);
    const QByteArray symbol = qEnvironmentVariableIsSet("BENCH_SYMBOL") ? qgetenv("BENCH_SYMBOL") : "BTC-USD";

    // Declared before the venue: the server thread writes to it until the venue stops.
    auto published = std::make_unique<PublishTimes>();
    // The server thread's own figures: only touched there.
    struct Written
    {
        std::uint64_t next = 1; // the first seq no flush has written yet
        std::uint64_t flushes = 0;
        bool counting = false;
        Histogram latency;
        // When the hub's count of subscribers cut off as slow rose (steady clock, ns), one stamp per cut: checked
        // after each flush, where the hub cuts them off.
        std::vector<std::int64_t> cutAt;
    };
    auto written = std::make_unique<Written>();

    QTemporaryDir dir;
    const QString dataDir = dir.filePath(QStringLiteral("venue"));
    QDir().mkpath(dataDir);
    auto venue = TestVenue::start({sql::DatabaseUrl::sqlite(dir.filePath(QStringLiteral("bench.db"))), dataDir});
    if (!venue) {
        std::fprintf(stderr, "bench_ws: %s\n", qPrintable(venue.error()));
        return 1;
    }
    const quint16 port = (*venue)->port();

    std::optional<InstrumentView> instrument;
    (*venue)->onServer([&](server::VenueServer &s) {
        instrument = s.service().market().instrument(std::string_view(symbol.constData(), std::size_t(symbol.size())));
        // Every subscriber comes from 127.0.0.1: the per-IP cap must let them all in (plus the admin).
        server::EdgeLimits limits = s.api().edge()->limits();
        limits.maxConnectionsPerIp = std::max(limits.maxConnectionsPerIp, subscriberCount + stalledCount + 64);
        s.api().edge()->setLimits(limits);
    });
    if (!instrument) {
        std::fprintf(stderr, "bench_ws: no instrument %s\n", symbol.constData());
        return 1;
    }

    // The traders, with plenty of both assets.
    const auto admin = adminClient(port);
    server::Caller traders[kTraders];
    for (int i = 0; i < kTraders; ++i) {
        const QString name = QStringLiteral("bench-trader-%1").arg(i);
        const std::optional<qint64> user = admin ? admin->createUser(name, QStringLiteral("bench-password"),
                                                                     QStringLiteral("trader"))
                                                 : std::nullopt;
        if (!user || !admin->deposit(*user, QString::fromLatin1(instrument->quote.view()), QStringLiteral("1000000000"))
            || !admin->deposit(*user, QString::fromLatin1(instrument->base.view()), QStringLiteral("10000000"))) {
            std::fprintf(stderr, "bench_ws: cannot set up the traders\n");
            return 1;
        }
        traders[i].user = AccountId(*user);
        traders[i].username = name;
        traders[i].role = server::Role::Trader;
        traders[i].tier = server::RateTier::Unlimited;
        traders[i].requestId = "bench-ws";
    }

    const InstrumentId instrumentId = instrument->id;
    PublishTimes *times = published.get();
    (*venue)->onServer([&](server::VenueServer &s) {
        QObject::connect(
            &s.service(), &server::VenueService::batchCommitted, &s.service(),
            [times, instrumentId](const server::DurableBatch &batch) {
                const std::int64_t now = nanosOf(Clock::now());
                for (const server::BookDelta &delta : batch.books) {
                    if (delta.instrument == instrumentId)
                        times->record(delta.bookSeq, now);
                }
            },
            Qt::DirectConnection);
        // When the hub's flush after a publication has written it to every subscriber's socket: the server's
        // share of the latency (informative).
        QObject::connect(
            &s.streamHub(), &server::StreamHub::flushed, &s.streamHub(),
            [times, written = written.get(), hub = &s.streamHub()](qint64) {
                const std::int64_t now = nanosOf(Clock::now());
                ++written->flushes;
                while (written->cutAt.size() < hub->figures().slowConsumers)
                    written->cutAt.push_back(now);
                const std::uint64_t last = times->last();
                for (std::uint64_t seq = std::max(written->next, last > 4096 ? last - 4096 : 1); seq <= last; ++seq) {
                    if (const std::optional<std::int64_t> at = times->find(seq); at && written->counting)
                        written->latency.add(now - *at);
                }
                written->next = last + 1;
            },
            Qt::DirectConnection);
    });

    // The subscribers, all with their snapshot before anything moves.
    Subscribers subscribers(port, symbol, *published);
    const Clock::time_point connectStart = Clock::now();
    if (!subscribers.connectAll(subscriberCount, stalledCount, std::chrono::seconds(60))) {
        std::fprintf(stderr, "bench_ws: %d of %d subscribers and %d of %d stalled ones got their snapshot\n",
                     subscribers.live(), subscriberCount, subscribers.stalled(), stalledCount);
        return 1;
    }
    const double connectSeconds = std::chrono::duration<double>(Clock::now() - connectStart).count();

    auto flow = std::make_shared<OrderFlow>();
    std::copy(std::begin(traders), std::end(traders), std::begin(flow->traders));
    flow->instrument = *instrument;
    flow->rate = rate;
    flow->cancelEvery = std::uint64_t(std::max(1, maxResting / kTraders));
    (*venue)->onServer([&](server::VenueServer &s) {
        flow->service = &s.service();
        flow->start(&s, flow);
    });
    const Clock::time_point flowStart = Clock::now();
    const Clock::time_point windowStart = flowStart + std::chrono::seconds(1);
    const Clock::time_point windowEnd = windowStart + std::chrono::seconds(seconds);
    subscribers.setWindow(windowStart, windowEnd);
    subscribers.run(windowStart);
    const std::uint64_t seqAtStart = published->last();
    const std::uint64_t placedAtStart = flow->placed.load();
    std::uint64_t flushesAtStart = 0;
    (*venue)->onServer([&](server::VenueServer &) {
        written->counting = true;
        flushesAtStart = written->flushes;
    });
    const auto cpuAtStart = threadTimes();
    subscribers.run(windowEnd);
    const std::uint64_t seqAtEnd = published->last();
    const std::uint64_t placedAtEnd = flow->placed.load();
    const auto cpuAtEnd = threadTimes();
    std::uint64_t flushesAtEnd = 0;
    (*venue)->onServer([&](server::VenueServer &) {
        flow->stop();
        written->counting = false;
        flushesAtEnd = written->flushes;
    });

    // Every update published must reach every subscriber: read until the orders in flight have committed,
    // every subscriber has the last update, and nothing more came for half a second (strays would show).
    const Clock::time_point drainDeadline = Clock::now() + std::chrono::seconds(15);
    std::uint64_t lastSeq = published->last();
    Clock::time_point quietSince = Clock::now();
    while (Clock::now() < drainDeadline) {
        subscribers.run(Clock::now() + std::chrono::milliseconds(50));
        if (published->last() != lastSeq || !subscribers.allAt(lastSeq)) {
            lastSeq = published->last();
            quietSince = Clock::now();
        } else if (Clock::now() - quietSince > std::chrono::milliseconds(500)) {
            break;
        }
    }

    server::StreamHub::Figures hub;
    std::vector<std::int64_t> cutAt;
    (*venue)->onServer([&](server::VenueServer &s) {
        hub = s.streamHub().figures();
        cutAt = written->cutAt;
    });
    // Here, before the stalled subscribers are read: the memory the server holds for those it has not cut off
    // is still held.
    const double rssMib = statusMib("VmRSS");
    const double peakRssMib = statusMib("VmHWM");
    if (stalledCount > 0)
        subscribers.readStalled(std::chrono::milliseconds(500), Clock::now() + std::chrono::seconds(15));

    const Tally &tally = subscribers.tally();
    std::uint64_t delivered = 0;
    std::uint64_t expected = 0;
    int slowReaders = 0;  // reading subscribers closed with 1008 (the run fails)
    int stalledSlow = 0;  // stalled ones that found a 1008 close frame
    int stalledEnded = 0; // stalled ones whose connection ended without a close frame
    int stalledOpen = 0;  // stalled ones still open: never cut off
    int stalledOther = 0; // stalled ones closed with another code
    for (const Subscriber &subscriber : subscribers.all()) {
        if (!subscriber.stalled) {
            delivered += subscriber.updates;
            expected += lastSeq - subscriber.snapshotSeq;
            slowReaders += subscriber.closeCode == 1008 ? 1 : 0;
        } else if (subscriber.state != Subscriber::State::Closed) {
            ++stalledOpen;
        } else if (subscriber.closeCode == 1008) {
            ++stalledSlow;
        } else if (subscriber.closeCode == 0) {
            ++stalledEnded;
        } else {
            ++stalledOther;
        }
    }
    const double window = double(seconds);
    const double updatesPerSecond = double(seqAtEnd - seqAtStart) / window;
    std::printf("BENCH ws_subscribers %d subscribers\n", subscribers.live());
    std::printf("BENCH ws_connect_seconds %.2f s\n", connectSeconds);
    std::printf("BENCH ws_order_offered_rate %d orders/s\n", rate);
    std::printf("BENCH ws_order_placed_rate %.0f orders/s\n", double(placedAtEnd - placedAtStart) / window);
    std::printf("BENCH ws_book_updates_per_sec %.0f updates/s\n", updatesPerSecond);
    std::printf("BENCH ws_fanout_deliveries_per_sec %.0f deliveries/s\n", double(tally.deliveries) / window);
    std::printf("BENCH ws_delivery_ratio %.4f x\n", expected == 0 ? 0.0 : double(delivered) / double(expected));
    std::printf("BENCH ws_publish_to_receive_p50_ms %.3f ms\n", tally.latency.percentileMs(0.50));
    std::printf("BENCH ws_publish_to_receive_p99_ms %.3f ms\n", tally.latency.percentileMs(0.99));
    std::printf("BENCH ws_publish_to_receive_max_ms %.3f ms\n", tally.latency.maxMs());
    std::printf("BENCH ws_publish_to_flushed_p50_ms %.3f ms\n", written->latency.percentileMs(0.50));
    std::printf("BENCH ws_publish_to_flushed_p99_ms %.3f ms\n", written->latency.percentileMs(0.99));
    std::printf("BENCH ws_hub_flushes_per_sec %.0f flushes/s\n", double(flushesAtEnd - flushesAtStart) / window);
    std::printf("BENCH ws_gaps %llu gaps\n", static_cast<unsigned long long>(tally.gaps));
    std::printf("BENCH ws_hub_messages_per_write %.2f messages\n",
                hub.writes == 0 ? 0.0 : double(hub.messages) / double(hub.writes));
    std::printf("BENCH ws_hub_bytes_per_write %.0f bytes\n",
                hub.writes == 0 ? 0.0 : double(hub.bytes) / double(hub.writes));
    std::printf("BENCH ws_slow_consumers %llu subscribers\n", static_cast<unsigned long long>(hub.slowConsumers));
    std::printf("BENCH ws_order_rejects %llu orders\n", static_cast<unsigned long long>(flow->rejected.load()));
    if (stalledCount > 0) {
        // The hub's count includes any reading subscriber cut off (each shows as a close above, and fails the
        // run); the stamps are the stalled ones' when none was.
        std::printf("BENCH ws_stalled_subscribers %d subscribers\n", subscribers.stalled());
        std::printf("BENCH ws_stalled_cut_off %llu subscribers\n",
                    static_cast<unsigned long long>(hub.slowConsumers
                                                    - std::min(hub.slowConsumers, std::uint64_t(slowReaders))));
        if (!cutAt.empty() && slowReaders == 0) {
            std::sort(cutAt.begin(), cutAt.end());
            const auto sinceFlow = [&](std::int64_t at) { return double(at - nanosOf(flowStart)) / 1e9; };
            std::printf("BENCH ws_stalled_seconds_to_cut_p50 %.2f s\n", sinceFlow(cutAt[(cutAt.size() - 1) / 2]));
            std::printf("BENCH ws_stalled_seconds_to_cut_max %.2f s\n", sinceFlow(cutAt.back()));
        }
        std::printf("BENCH ws_stalled_read_close_1008 %d subscribers\n", stalledSlow);
        std::printf("BENCH ws_stalled_read_ended_without_close %d subscribers\n", stalledEnded);
        std::printf("BENCH ws_stalled_read_still_open %d subscribers\n", stalledOpen);
        if (stalledOther > 0)
            std::fprintf(stderr, "bench_ws: %d stalled subscribers closed with a code other than 1008\n", stalledOther);
    }
    std::printf("BENCH ws_process_rss_mib %.1f MiB\n", rssMib);
    std::printf("BENCH ws_process_peak_rss_mib %.1f MiB\n", peakRssMib);
    if (tally.unknownPublish > 0 || tally.errors > 0 || tally.closes > 0)
        std::fprintf(stderr, "bench_ws: %llu updates without a publication time, %llu errors, %llu closed\n",
                     static_cast<unsigned long long>(tally.unknownPublish),
                     static_cast<unsigned long long>(tally.errors), static_cast<unsigned long long>(tally.closes));
    // Where the time went over the window, by thread (informative): on a CPU, and runnable but waiting for
    // one (on a busy machine the second shows the threads starved); 100% is one core for the whole window.
    for (const auto &[tid, end] : cpuAtEnd) {
        const auto before = cpuAtStart.find(tid);
        const ThreadTimes start = before == cpuAtStart.end() ? ThreadTimes{} : before->second;
        const double running = 100.0 * double(end.running - start.running) / 1e9 / window;
        const double waiting = 100.0 * double(end.waiting - start.waiting) / 1e9 / window;
        if (running >= 1.0)
            std::fprintf(stderr, "bench_ws: thread %-12s on cpu %5.1f%%, waiting for a cpu %5.1f%%\n",
                         end.name.c_str(), running, waiting);
    }
    const bool clean = tally.gaps == 0 && tally.closes == 0 && tally.errors == 0 && delivered == expected;
    std::fflush(stdout); // the figures are out before the teardown
    return clean ? 0 : 1;
}
