#include "stream_feeds.h"

#include "api_json.h"

#include <algorithm>

namespace bourse::server {

namespace {

constexpr std::pair<std::string_view, StreamChannel> kChannels[] = {
    {"orderbook", StreamChannel::OrderBook}, {"trades", StreamChannel::Trades}, {"ticker", StreamChannel::Ticker},
    {"candles", StreamChannel::Candles},     {"orders", StreamChannel::Orders}, {"fills", StreamChannel::Fills},
    {"account", StreamChannel::Account},
};

constexpr std::pair<std::string_view, std::int64_t> kIntervals[] = {
    {"1m", 60}, {"5m", 300}, {"15m", 900}, {"1h", 3600}, {"1d", 86400},
};

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

// {"symbol","seq","bids","asks"}: the levels one batch changed (quantity "0" removes one).
QByteArray updateBody(const InstrumentView &instrument, const BookDelta &delta)
{
    const Precision precision = precisionOf(instrument);
    JsonWriter json;
    json.beginObject();
    json.field("symbol", instrument.symbol.view());
    json.field("seq", delta.bookSeq);
    writeLevels(json, "bids", delta.bids, precision);
    writeLevels(json, "asks", delta.asks, precision);
    json.endObject();
    return json.take();
}

QByteArray frame(QByteArrayView type, QByteArrayView channel, QByteArrayView object)
{
    return webSocketTextFrame(streamMessage(type, channel, object));
}

// A private message: {"type","channel",<key>:object}, the object as the REST API shows it (an order has a
// "type" of its own, so it cannot be spread into the message).
QByteArray privateFrame(QByteArrayView type, QByteArrayView channel, QByteArrayView key, QByteArrayView object)
{
    QByteArray body;
    body.reserve(object.size() + key.size() + 8);
    body.append("{\"").append(key).append("\":").append(object).append('}');
    return frame(type, channel, body);
}

QByteArray balanceJson(const sql::BalanceRecord &balance)
{
    JsonWriter json;
    writeBalance(json, balance);
    return json.take();
}

void pushAll(const std::vector<Outbox *> &list, const QByteArray &bytes)
{
    for (Outbox *outbox : list)
        outbox->push(bytes);
}

} // namespace

std::optional<StreamChannel> parseStreamChannel(std::string_view name)
{
    for (const auto &[text, channel] : kChannels) {
        if (text == name)
            return channel;
    }
    return std::nullopt;
}

QByteArrayView streamChannelName(StreamChannel channel)
{
    for (const auto &[text, known] : kChannels) {
        if (known == channel)
            return QByteArrayView(text.data(), qsizetype(text.size()));
    }
    return {};
}

bool isPrivateChannel(StreamChannel channel)
{
    return channel == StreamChannel::Orders || channel == StreamChannel::Fills || channel == StreamChannel::Account;
}

std::optional<std::int64_t> candleIntervalSeconds(std::string_view name)
{
    for (const auto &[text, seconds] : kIntervals) {
        if (text == name)
            return seconds;
    }
    return std::nullopt;
}

QByteArrayView candleIntervalName(std::int64_t seconds)
{
    for (const auto &[text, known] : kIntervals) {
        if (known == seconds)
            return QByteArrayView(text.data(), qsizetype(text.size()));
    }
    return {};
}

StreamFeeds::StreamFeeds(VenueService &service, StreamHub &hub, QObject *parent)
    : QObject(parent)
    , m_service(service)
    , m_hub(hub)
{
    connect(&m_service, &VenueService::batchCommitted, this, &StreamFeeds::onBatch);
    m_throttle.setInterval(std::chrono::seconds(1));
    connect(&m_throttle, &QTimer::timeout, this, &StreamFeeds::refreshThrottled);
    m_throttle.start();
}

StreamFeeds::~StreamFeeds() = default;

QByteArray StreamFeeds::sseChunk(std::optional<std::uint64_t> id, QByteArrayView event, QByteArrayView data)
{
    QByteArray body;
    body.reserve(data.size() + event.size() + 48);
    if (id)
        body.append("id: ").append(QByteArray::number(*id)).append('\n');
    if (!event.isEmpty())
        body.append("event: ").append(event).append("\ndata: ").append(data).append('\n');
    else
        body.append(data); // a comment line, as it is
    body.append('\n');
    QByteArray chunk = QByteArray::number(body.size(), 16);
    chunk.reserve(chunk.size() + body.size() + 4);
    chunk.append("\r\n").append(body).append("\r\n");
    return chunk;
}

bool StreamFeeds::subscribed(const std::vector<Outbox *> &list, Outbox *outbox) const
{
    return std::find(list.cbegin(), list.cend(), outbox) != list.cend();
}

void StreamFeeds::subscribe(Outbox *outbox, Encoding encoding, const StreamTopic &topic,
                            std::optional<std::uint64_t> resumeAfter)
{
    switch (topic.channel) {
    case StreamChannel::OrderBook: {
        BookAudience &audience = m_books[topic.instrument];
        (encoding == Encoding::Sse ? audience.sse : audience.webSocket).push_back(outbox);
        startBook(outbox, encoding, topic.instrument, resumeAfter);
        return;
    }
    case StreamChannel::Trades:
        m_trades[topic.instrument].push_back(outbox);
        return;
    case StreamChannel::Ticker:
        m_tickers[topic.instrument].push_back(outbox);
        sendTicker(topic.instrument, outbox);
        return;
    case StreamChannel::Candles:
        m_candles[candleKey(topic.instrument, topic.interval)].push_back(outbox);
        sendCandle(topic.instrument, topic.interval, outbox);
        return;
    case StreamChannel::Orders:
    case StreamChannel::Fills:
    case StreamChannel::Account:
        break;
    }
    m_private[topic.user].push_back(PrivateSubscriber{outbox, topic.channel, topic.instrument});
    const AccountState &accounts = m_service.accounts();
    const MarketState &market = m_service.market();
    if (topic.channel == StreamChannel::Orders) {
        const std::optional<InstrumentId> only = topic.instrument == kEveryInstrument
                                                     ? std::nullopt
                                                     : std::optional<InstrumentId>(topic.instrument);
        for (const sql::OrderRecord &order : accounts.openOrders(topic.user, only)) {
            JsonWriter json;
            writeOrder(json, order, market);
            outbox->pushInitial(privateFrame("order", "orders", "order", json.take()));
        }
    } else if (topic.channel == StreamChannel::Account) {
        for (const sql::BalanceRecord &balance : accounts.balances(topic.user))
            outbox->pushInitial(privateFrame("account", "account", "balance", balanceJson(balance)));
    }
}

void StreamFeeds::unsubscribe(Outbox *outbox, const StreamTopic &topic)
{
    const auto drop = [outbox](std::vector<Outbox *> &list) { std::erase(list, outbox); };
    switch (topic.channel) {
    case StreamChannel::OrderBook:
        if (const auto found = m_books.find(topic.instrument); found != m_books.end()) {
            drop(found->webSocket);
            drop(found->sse);
        }
        return;
    case StreamChannel::Trades:
        drop(m_trades[topic.instrument]);
        return;
    case StreamChannel::Ticker:
        drop(m_tickers[topic.instrument]);
        return;
    case StreamChannel::Candles:
        drop(m_candles[candleKey(topic.instrument, topic.interval)]);
        return;
    case StreamChannel::Orders:
    case StreamChannel::Fills:
    case StreamChannel::Account:
        break;
    }
    if (const auto found = m_private.find(topic.user); found != m_private.end()) {
        std::erase_if(*found, [&](const PrivateSubscriber &subscriber) {
            return subscriber.outbox == outbox && subscriber.channel == topic.channel
                   && subscriber.instrument == topic.instrument;
        });
        if (found->empty())
            m_private.erase(found);
    }
}

void StreamFeeds::startBook(Outbox *outbox, Encoding encoding, InstrumentId instrument,
                            std::optional<std::uint64_t> resumeAfter)
{
    const MarketState &market = m_service.market();
    const std::optional<InstrumentView> view = market.instrument(instrument);
    if (!view)
        return;
    const std::uint64_t current = market.bookSeq(instrument);
    const Replay &replay = m_books[instrument].replay;
    // Resumable: the client is at the current seq, or the replay still holds every update after its seq —
    // and they are not more than half the backlog limit, else a snapshot is the shorter way back.
    bool resumable = resumeAfter && *resumeAfter <= current
                     && (*resumeAfter == current
                         || (!replay.updates.empty() && replay.updates.front().first <= *resumeAfter + 1));
    std::vector<const std::pair<std::uint64_t, QByteArray> *> missed;
    if (resumable) {
        qint64 bytes = 0;
        for (auto it = replay.updates.crbegin(); it != replay.updates.crend() && it->first > *resumeAfter; ++it) {
            bytes += it->second.size();
            missed.push_back(&*it);
        }
        resumable = bytes <= m_hub.backlogLimit() / 2;
    }
    if (resumable) {
        for (auto it = missed.crbegin(); it != missed.crend(); ++it) {
            const auto &[seq, body] = **it;
            outbox->pushInitial(encoding == Encoding::Sse ? sseChunk(seq, "orderbook_update", body)
                                                          : frame("update", "orderbook", body));
        }
        return;
    }
    const QByteArray snapshot = orderBookBody(market, *view, std::numeric_limits<std::size_t>::max());
    outbox->pushInitial(encoding == Encoding::Sse ? sseChunk(current, "snapshot", snapshot)
                                                  : frame("snapshot", "orderbook", snapshot));
}

void StreamFeeds::onBatch(const DurableBatch &batch)
{
    for (const BookDelta &delta : batch.books)
        publishBook(delta);
    for (const Event &event : *batch.events) {
        if (event.seq < batch.firstNewSeq)
            continue;
        if (const auto *trade = std::get_if<TradeExecuted>(&event.body))
            publishTrade(*trade, event);
    }
    publishAccounts(batch.accounts);
}

void StreamFeeds::publishBook(const BookDelta &delta)
{
    const std::optional<InstrumentView> instrument = m_service.market().instrument(delta.instrument);
    if (!instrument)
        return;
    BookAudience &audience = m_books[delta.instrument];
    const QByteArray body = updateBody(*instrument, delta);
    Replay &replay = audience.replay;
    replay.updates.emplace_back(delta.bookSeq, body);
    replay.bytes += body.size();
    while (replay.updates.size() > kReplayUpdates || replay.bytes > kReplayBytes) {
        replay.bytes -= replay.updates.front().second.size();
        replay.updates.pop_front();
    }
    // Serialized once per encoding: every subscriber's socket gets the same bytes.
    if (!audience.webSocket.empty())
        pushAll(audience.webSocket, frame("update", "orderbook", body));
    if (!audience.sse.empty())
        pushAll(audience.sse, sseChunk(delta.bookSeq, "orderbook_update", body));
    m_tickerDirty.insert(delta.instrument, true);
}

void StreamFeeds::publishTrade(const TradeExecuted &trade, const Event &event)
{
    m_tickerDirty.insert(trade.instrument, true);
    m_candlesDirty.insert(trade.instrument, true);
    const auto found = m_trades.constFind(trade.instrument);
    if (found == m_trades.constEnd() || found->empty())
        return;
    const sql::TradeRecord record{trade.trade, trade.instrument, trade.price, trade.quantity,
                                  trade.takerSide, event.seq,     event.time};
    JsonWriter json;
    writeTrade(json, record, m_service.market());
    pushAll(*found, frame("trade", "trades", json.take()));
}

void StreamFeeds::publishAccounts(const AccountChanges &changes)
{
    if (m_private.isEmpty())
        return;
    const MarketState &market = m_service.market();
    // Each message is serialized once, and only when its owner has a subscriber.
    const auto deliver = [this](AccountId user, StreamChannel channel, InstrumentId instrument, auto &&serialize) {
        const auto found = m_private.constFind(user);
        if (found == m_private.constEnd())
            return;
        QByteArray bytes;
        for (const PrivateSubscriber &subscriber : *found) {
            if (subscriber.channel != channel)
                continue;
            if (subscriber.instrument != kEveryInstrument && instrument != kEveryInstrument
                && subscriber.instrument != instrument)
                continue;
            if (bytes.isEmpty())
                bytes = serialize();
            subscriber.outbox->push(bytes);
        }
    };
    for (const sql::OrderRecord &order : changes.orders) {
        deliver(order.user, StreamChannel::Orders, order.instrument, [&] {
            JsonWriter json;
            writeOrder(json, order, market);
            return privateFrame("order", "orders", "order", json.take());
        });
    }
    for (const AccountFill &fill : changes.fills) {
        deliver(fill.user, StreamChannel::Fills, fill.fill.instrument, [&] {
            JsonWriter json;
            writeFill(json, fill.fill, market);
            return privateFrame("fill", "fills", "fill", json.take());
        });
    }
    for (const AccountBalance &change : changes.balances) {
        deliver(change.user, StreamChannel::Account, kEveryInstrument,
                [&] { return privateFrame("account", "account", "balance", balanceJson(change.balance)); });
    }
}

void StreamFeeds::refreshThrottled()
{
    const QList<InstrumentId> tickers = m_tickerDirty.keys();
    m_tickerDirty.clear();
    for (InstrumentId instrument : tickers) {
        if (const auto found = m_tickers.constFind(instrument); found != m_tickers.constEnd() && !found->empty())
            sendTicker(instrument, nullptr);
    }
    const QList<InstrumentId> candles = m_candlesDirty.keys();
    m_candlesDirty.clear();
    for (InstrumentId instrument : candles) {
        for (const auto &[name, interval] : kIntervals) {
            const auto found = m_candles.constFind(candleKey(instrument, interval));
            if (found != m_candles.constEnd() && !found->empty())
                sendCandle(instrument, interval, nullptr);
        }
    }
}

void StreamFeeds::sendTicker(InstrumentId instrument, Outbox *only)
{
    // Reads run on a pool and may finish out of order: each is numbered, and one older than the last
    // broadcast is not sent (a new subscriber gets that broadcast instead).
    const quint64 key = tickerKey(instrument);
    const std::uint64_t number = ++m_issued[key];
    m_service.ticker(instrument, [this, instrument, only, key, number](ServiceResult<sql::TickerFigures> figures) {
        if (!figures)
            return; // the database is away: the next change tries again
        const std::optional<InstrumentView> view = m_service.market().instrument(instrument);
        const auto found = m_tickers.constFind(instrument);
        if (!view || found == m_tickers.constEnd())
            return;
        deliverRead(key, number, *found, only,
                    frame("ticker", "ticker", tickerBody(*view, *figures, m_service.market())), false);
    });
}

void StreamFeeds::deliverRead(quint64 key, std::uint64_t number, const std::vector<Outbox *> &audience, Outbox *only,
                              const QByteArray &bytes, bool skipRepeat)
{
    Latest &latest = m_latest[key];
    if (only) {
        if (!subscribed(audience, only)) // it may have gone while the figures were read
            return;
        only->pushInitial(number >= latest.number || latest.bytes.isEmpty() ? bytes : latest.bytes);
        return;
    }
    if (number < latest.number)
        return; // a newer broadcast went out already
    latest.number = number;
    if (skipRepeat && latest.bytes == bytes)
        return;
    latest.bytes = bytes;
    pushAll(audience, bytes);
}

void StreamFeeds::sendCandle(InstrumentId instrument, std::int64_t interval, Outbox *only)
{
    const quint64 key = candleKey(instrument, interval);
    const std::uint64_t number = ++m_issued[key];
    m_service.candles(instrument, interval, 1,
                      [this, instrument, interval, only, key, number](ServiceResult<std::vector<sql::CandleRecord>> candles) {
                          if (!candles || candles->empty())
                              return;
                          const std::optional<InstrumentView> view = m_service.market().instrument(instrument);
                          const auto found = m_candles.constFind(key);
                          if (!view || found == m_candles.constEnd())
                              return;
                          JsonWriter candle;
                          writeCandle(candle, candles->back(), precisionOf(view));
                          const QByteArray object = candle.take();
                          QByteArray body = R"({"symbol":")" + QByteArray(view->symbol.view().data(), qsizetype(view->symbol.view().size()))
                                            + R"(","interval":")" + candleIntervalName(interval).toByteArray()
                                            + "\"," + object.sliced(1);
                          deliverRead(key, number, *found, only, frame("candle", "candles", body), true);
                      });
}

} // namespace bourse::server
