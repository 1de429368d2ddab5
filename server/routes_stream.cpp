// GET /api/v1/orderbook/{symbol}/stream (spec §3): server-sent events of one order book. A `snapshot` event
// first (the book as GET /api/v1/orderbook shows it, `seq` the last update it includes), then an
// `orderbook_update` event for every durable batch that changed the book, carrying only the changed levels
// (quantity "0" removes a level) and a `seq` one above the previous; each event's `id:` is its seq. Each
// update is serialized once and the same bytes go to every subscriber. A comment line every 15 s keeps
// proxies from closing a quiet stream. A subscriber whose unread backlog passes kStreamBacklogBytes gets an
// `error` event {"code":"SLOW_CONSUMER"} and its stream ends: it never slows the others and never silently
// misses an update. Last-Event-ID is not replayed from: a reconnecting client gets a fresh snapshot.
#include "api_json.h"
#include "http_api.h"

namespace bourse::server {

namespace {

constexpr qint64 kStreamBacklogBytes = 1024 * 1024;

// One SSE event as a chunk of the chunked response.
QByteArray chunk(const QByteArray &event)
{
    return QByteArray::number(event.size(), 16) + "\r\n" + event + "\r\n";
}

// An event with an id (the book's seq) unless none is given: an error event is no point to resume from.
QByteArray sseEvent(std::optional<std::uint64_t> id, QByteArrayView name, const QByteArray &data)
{
    const QByteArray idLine = id ? "id: " + QByteArray::number(*id) + '\n' : QByteArray();
    return idLine + "event: " + name.toByteArray() + "\ndata: " + data + "\n\n";
}

void writeLevels(JsonWriter &json, std::string_view name, const std::vector<LevelChange> &levels, Precision precision)
{
    json.key(name).beginArray();
    for (const LevelChange &level : levels) {
        json.beginArray();
        json.decimal(level.price, precision.price);
        json.decimal(level.quantity, precision.quantity);
        json.endArray();
    }
    json.endArray();
}

} // namespace

void HttpApi::getOrderBookStream(const ExchangePtr &exchange)
{
    const std::optional<InstrumentView> instrument = symbolParam(exchange, exchange->params.front(), false);
    if (!instrument)
        return;
    const MarketState &market = m_service.market();
    const QByteArray snapshot = orderBookBody(market, *instrument, std::numeric_limits<std::size_t>::max());
    exchange->gzip = false; // events must reach the client as they happen
    beginStream(exchange, 200, "text/event-stream; charset=utf-8", {{"X-Accel-Buffering", "no"}});
    streamChunk(exchange, sseEvent(market.bookSeq(instrument->id), "snapshot", snapshot));
    m_bookStreams[instrument->id].push_back(exchange);
    updateStreamGauge();
}

void HttpApi::publishBooks(const std::vector<BookDelta> &deltas)
{
    for (const BookDelta &delta : deltas) {
        const auto found = m_bookStreams.find(delta.instrument);
        if (found == m_bookStreams.end() || found->empty())
            continue;
        const std::optional<InstrumentView> instrument = m_service.market().instrument(delta.instrument);
        if (!instrument)
            continue;
        const Precision precision = precisionOf(instrument);
        JsonWriter json;
        json.beginObject();
        json.field("symbol", instrument->symbol.view());
        json.field("seq", delta.bookSeq);
        writeLevels(json, "bids", delta.bids, precision);
        writeLevels(json, "asks", delta.asks, precision);
        json.endObject();
        // Serialized once: every subscriber's socket gets the same bytes (implicitly shared).
        const QByteArray bytes = chunk(sseEvent(delta.bookSeq, "orderbook_update", json.take()));
        std::vector<ExchangePtr> &subscribers = *found;
        std::erase_if(subscribers, [&](const ExchangePtr &subscriber) { return !feedStream(subscriber, bytes); });
    }
    updateStreamGauge();
}

bool HttpApi::feedStream(const ExchangePtr &exchange, const QByteArray &bytes)
{
    RequestSocket *socket = exchange->socket;
    if (!socket || !socket->isClientConnected()) {
        if (!exchange->answered) {
            exchange->answered = true;
            finished(exchange, 200);
        }
        return false;
    }
    if (socket->clientBacklog() > kStreamBacklogBytes) {
        socket->write(chunk(
            sseEvent(std::nullopt, "error", R"({"code":"SLOW_CONSUMER","message":"the stream fell too far behind"})")));
        endStream(exchange);
        return false;
    }
    socket->write(bytes);
    socket->flushResponse();
    return true;
}

void HttpApi::pingStreams()
{
    static const QByteArray ping = chunk(": ping\n\n");
    for (auto it = m_bookStreams.begin(); it != m_bookStreams.end(); ++it)
        std::erase_if(*it, [&](const ExchangePtr &subscriber) { return !feedStream(subscriber, ping); });
    updateStreamGauge();
}

void HttpApi::endStreams()
{
    for (auto it = m_bookStreams.begin(); it != m_bookStreams.end(); ++it) {
        for (const ExchangePtr &subscriber : *it)
            endStream(subscriber);
    }
    m_bookStreams.clear();
    updateStreamGauge();
}

void HttpApi::updateStreamGauge()
{
    m_sseConnections->set(streamCount());
}

int HttpApi::streamCount() const
{
    int open = 0;
    for (auto it = m_bookStreams.cbegin(); it != m_bookStreams.cend(); ++it)
        open += int(it->size());
    return open;
}

} // namespace bourse::server
