#include "api_json.h"

#include <cstdio>
#include <ctime>

namespace bourse::server {

namespace {

std::string_view symbolOf(InstrumentId id, const MarketState &market, std::optional<InstrumentView> &holder)
{
    holder = market.instrument(id);
    return holder ? holder->symbol.view() : std::string_view("?");
}

void writeOptionalDecimal(JsonWriter &json, std::string_view name, const std::optional<Decimal> &value, int digits)
{
    json.key(name);
    if (value)
        json.decimal(*value, digits);
    else
        json.null();
}

} // namespace

int fractionDigits(Decimal step)
{
    std::int64_t units = step.raw();
    if (units <= 0)
        return 0;
    int digits = Decimal::kFractionDigits;
    while (digits > 0 && units % 10 == 0) {
        units /= 10;
        --digits;
    }
    return digits;
}

Precision precisionOf(const std::optional<InstrumentView> &instrument)
{
    if (!instrument)
        return Precision{};
    return Precision{fractionDigits(instrument->tickSize), fractionDigits(instrument->lotSize)};
}

namespace {} // namespace

QByteArray rfc3339(TimeNs time)
{
    // Every order answer writes two of these: formatted directly rather than through QDateTime::toString.
    const std::int64_t ms = time >= 0 ? time / 1'000'000 : -((-time + 999'999) / 1'000'000);
    const std::time_t seconds = std::time_t(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    const int millis = int(ms - std::int64_t(seconds) * 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[32];
    const int length = std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, millis);
    return QByteArray(text, length);
}

void writeInstrument(JsonWriter &json, const InstrumentView &instrument)
{
    json.beginObject();
    json.field("symbol", instrument.symbol.view());
    json.field("base", instrument.base.view());
    json.field("quote", instrument.quote.view());
    const Precision precision = precisionOf(instrument);
    json.key("tick_size").decimal(instrument.tickSize, precision.price);
    json.key("lot_size").decimal(instrument.lotSize, precision.quantity);
    json.key("min_quantity").decimal(instrument.minQuantity, precision.quantity);
    json.field("status", instrumentStatusName(instrument.status));
    json.endObject();
}

void writeOrder(JsonWriter &json, const sql::OrderRecord &order, const MarketState &market)
{
    std::optional<InstrumentView> instrument;
    json.beginObject();
    json.field("id", order.id);
    json.key("client_order_id");
    if (order.clientOrderId.isEmpty())
        json.null();
    else
        json.string(order.clientOrderId);
    json.field("user_id", order.user);
    json.field("symbol", symbolOf(order.instrument, market, instrument));
    const Precision precision = precisionOf(instrument);
    json.field("side", sideName(order.side));
    json.field("type", orderTypeName(order.type));
    json.field("time_in_force", timeInForceName(order.timeInForce));
    json.field("post_only", order.postOnly);
    writeOptionalDecimal(json, "price", order.price, precision.price);
    json.key("quantity").decimal(order.quantity, precision.quantity);
    json.key("filled_quantity").decimal(order.filledQuantity, precision.quantity);
    json.key("remaining_quantity").decimal(order.remainingQuantity(), precision.quantity);
    writeOptionalDecimal(json, "average_price", order.averagePrice(), precision.price);
    json.field("status", sql::ProjectionUpdate::statusName(order.status));
    json.field("created_at", rfc3339(order.createdAt));
    json.field("updated_at", rfc3339(order.updatedAt));
    json.field("seq", order.seq);
    json.endObject();
}

void writeTrade(JsonWriter &json, const sql::TradeRecord &trade, const MarketState &market)
{
    std::optional<InstrumentView> instrument;
    json.beginObject();
    json.field("id", trade.id);
    json.field("symbol", symbolOf(trade.instrument, market, instrument));
    const Precision precision = precisionOf(instrument);
    json.key("price").decimal(trade.price, precision.price);
    json.key("quantity").decimal(trade.quantity, precision.quantity);
    json.field("taker_side", sideName(trade.takerSide));
    json.field("seq", trade.seq);
    json.field("timestamp", rfc3339(trade.time));
    json.endObject();
}

void writeFill(JsonWriter &json, const sql::FillRecord &fill, const MarketState &market)
{
    std::optional<InstrumentView> instrument;
    json.beginObject();
    json.field("trade_id", fill.trade);
    json.field("order_id", fill.order);
    json.field("symbol", symbolOf(fill.instrument, market, instrument));
    const Precision precision = precisionOf(instrument);
    json.field("side", sideName(fill.side));
    json.key("price").decimal(fill.price, precision.price);
    json.key("quantity").decimal(fill.quantity, precision.quantity);
    json.field("liquidity", std::string_view(sql::liquidityName(fill.liquidity).data(),
                                             std::size_t(sql::liquidityName(fill.liquidity).size())));
    json.field("timestamp", rfc3339(fill.time));
    json.endObject();
}

void writeCandle(JsonWriter &json, const sql::CandleRecord &candle, Precision precision)
{
    json.beginObject();
    json.field("time", rfc3339(candle.start));
    json.key("open").decimal(candle.open, precision.price);
    json.key("high").decimal(candle.high, precision.price);
    json.key("low").decimal(candle.low, precision.price);
    json.key("close").decimal(candle.close, precision.price);
    json.key("volume").decimal(candle.volume, precision.quantity);
    json.field("trades", candle.trades);
    json.endObject();
}

QByteArray tickerBody(const InstrumentView &instrument, const sql::TickerFigures &figures, const MarketState &market)
{
    const auto bestBid = market.bestBid(instrument.id);
    const auto bestAsk = market.bestAsk(instrument.id);
    const Precision precision = precisionOf(instrument);
    const auto optional = [&precision](JsonWriter &json, std::string_view name, const std::optional<Decimal> &value) {
        json.key(name);
        if (value)
            json.decimal(*value, precision.price);
        else
            json.null();
    };
    JsonWriter json;
    json.beginObject();
    json.field("symbol", instrument.symbol.view());
    optional(json, "last", figures.lastPrice);
    optional(json, "best_bid", bestBid ? std::optional<Decimal>(bestBid->price) : std::nullopt);
    optional(json, "best_ask", bestAsk ? std::optional<Decimal>(bestAsk->price) : std::nullopt);
    optional(json, "open_24h", figures.open);
    optional(json, "high_24h", figures.high);
    optional(json, "low_24h", figures.low);
    json.key("volume_24h").decimal(figures.volume, precision.quantity);
    json.key("change_24h_pct");
    if (figures.open && figures.lastPrice && figures.open->raw() > 0) {
        // (last - open) / open × 100, to two decimals, exact integer arithmetic (truncated).
        __extension__ using Wide = __int128;
        const Wide change = (Wide(figures.lastPrice->raw()) - figures.open->raw()) * 100 * Decimal::kOne
                            / figures.open->raw();
        const std::int64_t cents = std::int64_t(change / (Decimal::kOne / 100));
        json.decimal(Decimal::fromRaw(cents * (Decimal::kOne / 100)), 2);
    } else {
        json.null();
    }
    json.endObject();
    return json.take();
}

QByteArray streamMessage(QByteArrayView type, QByteArrayView channel, QByteArrayView object)
{
    QByteArray out;
    out.reserve(type.size() + channel.size() + object.size() + 32);
    out.append(R"({"type":")").append(type).append(R"(","channel":")").append(channel).append('"');
    const QByteArrayView members = object.sliced(1); // after the '{': the members and the closing '}'
    if (members.trimmed() != "}")
        out.append(',');
    out.append(members);
    return out;
}

void writeUser(JsonWriter &json, const sql::UserRecord &user)
{
    json.beginObject();
    json.field("id", user.id);
    json.field("username", user.username);
    json.field("role", user.role);
    json.field("active", user.active);
    json.field("rate_limit_tier", user.rateLimitTier);
    json.field("created_at", rfc3339(user.createdAt));
    json.field("updated_at", rfc3339(user.updatedAt));
    json.endObject();
}

void writeAuditEntry(JsonWriter &json, const sql::AuditRecord &entry)
{
    json.beginObject();
    json.field("id", entry.id);
    json.field("at", rfc3339(entry.at));
    json.field("actor", entry.actor);
    json.field("action", entry.action);
    json.key("target");
    if (entry.target.isEmpty())
        json.null();
    else
        json.string(entry.target);
    json.key("details");
    if (entry.details.isEmpty())
        json.beginObject().endObject();
    else
        json.raw(entry.details.toUtf8()); // written by the service as one JSON object
    json.key("request_id");
    if (entry.requestId.isEmpty())
        json.null();
    else
        json.string(entry.requestId);
    json.endObject();
}

void writeBalance(JsonWriter &json, const sql::BalanceRecord &balance)
{
    json.beginObject();
    json.field("asset", balance.assetCode);
    json.field("total", balance.total());
    json.field("available", balance.available);
    json.field("reserved", balance.reserved);
    json.endObject();
}

void writeBalances(JsonWriter &json, const std::vector<sql::BalanceRecord> &balances)
{
    json.beginObject().key("balances").beginArray();
    for (const sql::BalanceRecord &balance : balances)
        writeBalance(json, balance);
    json.endArray().endObject();
}

QByteArray orderBookBody(const MarketState &market, const InstrumentView &instrument, std::size_t depth)
{
    const Precision precision = precisionOf(instrument);
    JsonWriter json;
    json.beginObject();
    json.field("symbol", instrument.symbol.view());
    json.field("seq", market.bookSeq(instrument.id));
    for (const Side side : {Side::Buy, Side::Sell}) {
        json.key(side == Side::Buy ? "bids" : "asks").beginArray();
        for (const LevelView &level : market.levels(instrument.id, side, depth)) {
            json.beginArray();
            json.decimal(level.price, precision.price);
            json.decimal(level.quantity, precision.quantity);
            json.endArray();
        }
        json.endArray();
    }
    json.field("timestamp", rfc3339(VenueService::now()));
    json.endObject();
    return json.take();
}

QByteArray csvHeader()
{
    return QByteArrayLiteral("id,client_order_id,symbol,side,type,time_in_force,price,quantity,filled_quantity,"
                             "average_price,status,created_at,updated_at\r\n");
}

QByteArray csvLine(const sql::OrderRecord &order, const MarketState &market)
{
    std::optional<InstrumentView> instrument;
    const std::string_view symbol = symbolOf(order.instrument, market, instrument);
    const Precision precision = precisionOf(instrument);
    const std::optional<Decimal> average = order.averagePrice();
    QByteArray line;
    line.reserve(160);
    line.append(QByteArray::number(order.id)).append(',');
    line.append(order.clientOrderId.toUtf8()).append(',');
    line.append(symbol.data(), qsizetype(symbol.size())).append(',');
    line.append(sideName(order.side).data()).append(',');
    line.append(orderTypeName(order.type).data()).append(',');
    line.append(timeInForceName(order.timeInForce).data()).append(',');
    if (order.price)
        line.append(order.price->toString(precision.price).c_str());
    line.append(',');
    line.append(order.quantity.toString(precision.quantity).c_str()).append(',');
    line.append(order.filledQuantity.toString(precision.quantity).c_str()).append(',');
    if (average)
        line.append(average->toString(precision.price).c_str());
    line.append(',');
    line.append(sql::ProjectionUpdate::statusName(order.status)).append(',');
    line.append(rfc3339(order.createdAt)).append(',');
    line.append(rfc3339(order.updatedAt)).append("\r\n");
    return line;
}

} // namespace bourse::server
