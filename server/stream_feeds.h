// StreamFeeds: what the event streams say (spec §3 and §7), built from each durable batch the VenueService
// publishes, serialized once per message and queued in the outboxes of the subscribers (stream_hub.h).
//
// - orderbook: a snapshot, then an update per batch that changed the book, with the book's seq rising by
//   exactly 1 (a client detects any gap); the snapshot's seq is the last update it includes. The last
//   kReplayUpdates updates of each book are kept, so a client that resumes (SSE Last-Event-ID, WebSocket
//   since_seq) after an update still held gets the updates it missed instead of a snapshot.
// - trades: each trade as it is executed; ticker: the 24 h figures, at most once a second per symbol when
//   trades or the best prices changed; candles: the current candle of an interval, at most once a second
//   when trades changed it. Ticker and candles come from the same reads as the REST routes.
// - orders, fills, account (private, the subscriber's own): every state change of an order, every fill,
//   every balance change, from AccountState. A subscription to orders starts with the open orders, one to
//   account with the balances, so a client that reconnects is back in step at once.
//
// Messages go out in two encodings: WebSocket text frames ({"type","channel",...}) and, for the order book,
// SSE events inside the chunks of a chunked response. One thread (the HTTP thread).
#pragma once

#include "stream_hub.h"
#include "venue_service.h"

#include <QHash>
#include <QObject>
#include <QTimer>

#include <deque>
#include <optional>
#include <string_view>
#include <vector>

namespace bourse::server {

enum class StreamChannel : std::uint8_t { OrderBook, Trades, Ticker, Candles, Orders, Fills, Account };
std::optional<StreamChannel> parseStreamChannel(std::string_view name);
QByteArrayView streamChannelName(StreamChannel channel);
bool isPrivateChannel(StreamChannel channel);

inline constexpr InstrumentId kEveryInstrument = ~InstrumentId(0);

// What one subscription is to.
struct StreamTopic
{
    StreamChannel channel = StreamChannel::OrderBook;
    InstrumentId instrument = kEveryInstrument; // the private channels may leave it open
    std::int64_t interval = 0;                  // candles: seconds
    AccountId user = 0;                         // the private channels: whose
    friend bool operator==(const StreamTopic &, const StreamTopic &) = default;
};

// The candle intervals a stream (and GET /api/v1/candles) knows, by name: "1m" → 60.
std::optional<std::int64_t> candleIntervalSeconds(std::string_view name);
QByteArrayView candleIntervalName(std::int64_t seconds);

class StreamFeeds final : public QObject
{
    Q_OBJECT

public:
    enum class Encoding : std::uint8_t { WebSocket, Sse };
    static constexpr std::size_t kReplayUpdates = 4096; // per book
    static constexpr qint64 kReplayBytes = 8 * 1024 * 1024;

    StreamFeeds(VenueService &service, StreamHub &hub, QObject *parent = nullptr);
    ~StreamFeeds() override;

    // Subscribes an outbox and queues its first messages (see the file comment). `resumeAfter`: the seq of
    // the last order book update the client has (orderbook only).
    void subscribe(Outbox *outbox, Encoding encoding, const StreamTopic &topic,
                   std::optional<std::uint64_t> resumeAfter = std::nullopt);
    void unsubscribe(Outbox *outbox, const StreamTopic &topic);

    // How often the ticker and candle feeds look for changes (tests shorten it).
    void setThrottle(std::chrono::milliseconds interval) { m_throttle.setInterval(interval); }
    StreamHub &hub() { return m_hub; }

    // The SSE wire form of one event (a chunk of the chunked response); an id unless none is given.
    static QByteArray sseChunk(std::optional<std::uint64_t> id, QByteArrayView event, QByteArrayView data);

private:
    void onBatch(const bourse::server::DurableBatch &batch);
    void publishBook(const BookDelta &delta);
    void publishTrade(const TradeExecuted &trade, const Event &event);
    void publishAccounts(const AccountChanges &changes);
    void refreshThrottled();
    void sendTicker(InstrumentId instrument, Outbox *only);
    void sendCandle(InstrumentId instrument, std::int64_t interval, Outbox *only);
    // Queues into `outbox` either the updates after `resumeAfter`, when the replay still holds them, or a
    // snapshot.
    void startBook(Outbox *outbox, Encoding encoding, InstrumentId instrument, std::optional<std::uint64_t> resumeAfter);
    bool subscribed(const std::vector<Outbox *> &list, Outbox *outbox) const;

    struct Replay
    {
        std::deque<std::pair<std::uint64_t, QByteArray>> updates; // seq → the update's JSON, oldest first
        qint64 bytes = 0;
    };
    struct BookAudience
    {
        std::vector<Outbox *> webSocket;
        std::vector<Outbox *> sse;
        Replay replay;
    };
    struct PrivateSubscriber
    {
        Outbox *outbox = nullptr;
        StreamChannel channel = StreamChannel::Orders;
        InstrumentId instrument = kEveryInstrument;
    };
    static quint64 candleKey(InstrumentId instrument, std::int64_t interval)
    {
        return (quint64(instrument) << 32) | quint64(interval);
    }
    static quint64 tickerKey(InstrumentId instrument) { return candleKey(instrument, 0); }
    // The reads of one ticker or candle feed, numbered; what the newest broadcast sent.
    struct Latest
    {
        std::uint64_t number = 0;
        QByteArray bytes;
    };
    void deliverRead(quint64 key, std::uint64_t number, const std::vector<Outbox *> &audience, Outbox *only,
                     const QByteArray &bytes, bool skipRepeat);

    VenueService &m_service;
    StreamHub &m_hub;
    QHash<InstrumentId, BookAudience> m_books;
    QHash<InstrumentId, std::vector<Outbox *>> m_trades;
    QHash<InstrumentId, std::vector<Outbox *>> m_tickers;
    QHash<quint64, std::vector<Outbox *>> m_candles; // by candleKey()
    QHash<AccountId, std::vector<PrivateSubscriber>> m_private;
    QHash<InstrumentId, bool> m_tickerDirty;
    QHash<InstrumentId, bool> m_candlesDirty;
    QHash<quint64, std::uint64_t> m_issued; // reads started, by tickerKey() / candleKey()
    QHash<quint64, Latest> m_latest;
    QTimer m_throttle;
};

} // namespace bourse::server
