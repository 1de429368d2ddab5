// GET /api/v1/orderbook/{symbol}/stream (spec §3): server-sent events of one order book. A `snapshot` event
// first (the book as GET /api/v1/orderbook shows it, `seq` the last update it includes), then an
// `orderbook_update` event for every durable batch that changed the book, carrying only the changed levels
// (quantity "0" removes a level) and a `seq` one above the previous; each event's `id:` is its seq. A client
// that reconnects with Last-Event-ID gets the updates it missed instead, while the feed's replay still holds
// them (stream_feeds.h). The events come from StreamFeeds through an Outbox, serialized once for every
// subscriber. A comment line every 15 s keeps proxies from closing a quiet stream. A subscriber whose
// backlog passes the hub's limit gets an `error` event {"code":"SLOW_CONSUMER"} and its stream ends: it never
// slows the others and never silently misses an update.
#include "api_json.h"
#include "http_api.h"

namespace bourse::server {

// One open event stream: the exchange it answers, and the outbox the feeds fill.
class HttpApi::SseStream final : public StreamSink
{
public:
    SseStream(HttpApi &api, ExchangePtr exchange, StreamTopic topic)
        : m_api(api)
        , m_exchange(std::move(exchange))
        , m_topic(topic)
        , m_outbox(api.m_feeds.hub(), *this)
    {}

    ~SseStream() override
    {
        if (!m_ended)
            m_api.m_feeds.unsubscribe(&m_outbox, m_topic); // the feeds must not keep a pointer to it
    }

    Outbox &outbox() { return m_outbox; }
    const StreamTopic &topic() const { return m_topic; }
    const ExchangePtr &exchange() const { return m_exchange; }
    bool isOpen() const
    {
        const RequestSocket *socket = m_exchange->socket;
        return !m_ended && socket && socket->isClientConnected();
    }

    qint64 unsentBytes() const override
    {
        const RequestSocket *socket = m_exchange->socket;
        return socket ? socket->clientBacklog() : 0;
    }
    void deliver(const QByteArray &bytes) override
    {
        if (RequestSocket *socket = m_exchange->socket; socket && !m_ended) {
            socket->write(bytes);
            socket->flushResponse();
        }
    }
    void overflow() override
    {
        if (RequestSocket *socket = m_exchange->socket; socket && !m_ended) {
            socket->write(StreamFeeds::sseChunk(
                std::nullopt, "error", R"({"code":"SLOW_CONSUMER","message":"the stream fell too far behind"})"));
        }
        end();
        m_api.removeStreamLater(this);
    }
    // Ends the response (once): the zero chunk, then the connection closes.
    void end()
    {
        if (m_ended)
            return;
        m_ended = true;
        m_outbox.close();
        m_api.m_feeds.unsubscribe(&m_outbox, m_topic);
        m_api.endStream(m_exchange);
    }

private:
    HttpApi &m_api;
    ExchangePtr m_exchange;
    StreamTopic m_topic;
    Outbox m_outbox;
    bool m_ended = false;
};

void HttpApi::getOrderBookStream(const ExchangePtr &exchange)
{
    const std::optional<InstrumentView> instrument = symbolParam(exchange, exchange->params.front(), false);
    if (!instrument)
        return;
    // Last-Event-ID: the seq of the last event the client has, when it is one (a number, as we send them).
    std::optional<std::uint64_t> resumeAfter;
    if (const std::optional<QByteArrayView> lastId = exchange->head.header("Last-Event-ID")) {
        bool ok = false;
        const qulonglong seq = lastId->trimmed().toULongLong(&ok);
        if (ok)
            resumeAfter = seq;
    }
    exchange->gzip = false; // events must reach the client as they happen
    if (RequestSocket *socket = exchange->socket)
        socket->setSendBuffer(m_feeds.hub().sendBuffer());
    beginStream(exchange, 200, "text/event-stream; charset=utf-8", {{"X-Accel-Buffering", "no"}});
    StreamTopic topic;
    topic.channel = StreamChannel::OrderBook;
    topic.instrument = instrument->id;
    auto stream = std::make_shared<SseStream>(*this, exchange, topic);
    m_feeds.subscribe(&stream->outbox(), StreamFeeds::Encoding::Sse, topic, resumeAfter);
    m_streams.push_back(std::move(stream));
    // A client that goes away ends its stream at once, not at the next ping. (By a weak reference: the
    // stream may be gone already, and another may live at its address.)
    connect(exchange->socket, &QAbstractSocket::disconnected, this,
            [this, weak = std::weak_ptr<SseStream>(m_streams.back())] {
                if (const std::shared_ptr<SseStream> open = weak.lock()) {
                    open->end();
                    removeStreamLater(open.get());
                }
            });
    updateStreamGauge();
}

void HttpApi::getWebSocketWithoutUpgrade(const ExchangePtr &exchange)
{
    fail(exchange, ErrorCode::BadRequest,
         QStringLiteral("GET /ws is a WebSocket endpoint: send Upgrade: websocket, Connection: Upgrade, "
                        "Sec-WebSocket-Key and Sec-WebSocket-Version: 13"));
}

void HttpApi::removeStreamLater(SseStream *stream)
{
    // Not now: the hub may be in the middle of a flush that called this stream. By a weak reference, so that
    // a stream that took its address meanwhile is not the one removed.
    std::weak_ptr<SseStream> weak;
    for (const std::shared_ptr<SseStream> &open : m_streams) {
        if (open.get() == stream)
            weak = open;
    }
    QMetaObject::invokeMethod(
        this,
        [this, weak] {
            if (const std::shared_ptr<SseStream> open = weak.lock())
                std::erase(m_streams, open);
            updateStreamGauge();
        },
        Qt::QueuedConnection);
}

void HttpApi::pingStreams()
{
    static const QByteArray ping = StreamFeeds::sseChunk(std::nullopt, {}, ": ping\n");
    std::vector<std::shared_ptr<SseStream>> open;
    for (std::shared_ptr<SseStream> &stream : m_streams) {
        if (!stream->isOpen()) {
            stream->end(); // the client went away: its response is over
            continue;
        }
        stream->outbox().push(ping);
        open.push_back(std::move(stream));
    }
    m_streams.swap(open);
    updateStreamGauge();
}

void HttpApi::endStreams()
{
    for (std::shared_ptr<SseStream> &stream : m_streams) {
        stream->outbox().flushNow();
        stream->end();
    }
    m_streams.clear();
    updateStreamGauge();
}

void HttpApi::updateStreamGauge()
{
    m_sseConnections->set(streamCount());
}

int HttpApi::streamCount() const
{
    int open = 0;
    for (const std::shared_ptr<SseStream> &stream : m_streams)
        open += stream->isOpen() ? 1 : 0;
    return open;
}

} // namespace bourse::server
