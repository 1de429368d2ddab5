// The API's response bodies (spec/API.md §3-§6): how each typed value the service returns is written as
// JSON, in the field order the spec lists, amounts as decimal strings, times as RFC 3339 UTC with
// milliseconds. One function per shape, shared by every route that returns it. Pure functions; any thread.
#pragma once

#include "json_writer.h"
#include "market_state.h"
#include "repositories.h"
#include "venue_service.h"

namespace bourse::server {

// "2026-11-21T09:00:00.123Z"
QByteArray rfc3339(TimeNs time);

// How many fraction digits an instrument's prices and quantities are written with: those of its tick and
// lot ("2000.50", "1.5000"), as exchange APIs do. An unknown instrument: no padding.
struct Precision
{
    int price = 0;
    int quantity = 0;
};
int fractionDigits(Decimal step); // 0.01 → 2, 1 → 0
Precision precisionOf(const std::optional<InstrumentView> &instrument);

void writeInstrument(JsonWriter &json, const InstrumentView &instrument);
// The order with its symbol looked up in `market` (an order's instrument always exists).
void writeOrder(JsonWriter &json, const sql::OrderRecord &order, const MarketState &market);
void writeTrade(JsonWriter &json, const sql::TradeRecord &trade, const MarketState &market);
void writeFill(JsonWriter &json, const sql::FillRecord &fill, const MarketState &market);
void writeCandle(JsonWriter &json, const sql::CandleRecord &candle, Precision precision);
void writeUser(JsonWriter &json, const sql::UserRecord &user);
void writeAuditEntry(JsonWriter &json, const sql::AuditRecord &entry);
// {"asset","total","available","reserved"}, and {"balances":[...]} of them.
void writeBalance(JsonWriter &json, const sql::BalanceRecord &balance);
void writeBalances(JsonWriter &json, const std::vector<sql::BalanceRecord> &balances);
// {"symbol","seq","bids":[[p,q]...],"asks":[...],"timestamp"}: up to `depth` levels a side, best first, and
// the book's seq (the last update the levels include).
QByteArray orderBookBody(const MarketState &market, const InstrumentView &instrument, std::size_t depth);
// {"symbol","last","best_bid","best_ask","open_24h","high_24h","low_24h","volume_24h","change_24h_pct"}: the
// 24 h figures from the trades, the best prices from the book.
QByteArray tickerBody(const InstrumentView &instrument, const sql::TickerFigures &figures, const MarketState &market);
// A stream message: {"type":..,"channel":..} followed by the members of `object` (a JSON object).
QByteArray streamMessage(QByteArrayView type, QByteArrayView channel, QByteArrayView object);

// {"data":[...],"page":1,"page_size":50,"total":1234}, each row written by `row`.
template<typename Row, typename WriteRow>
QByteArray pageBody(const sql::Page<Row> &page, WriteRow &&row)
{
    JsonWriter json;
    json.beginObject().key("data").beginArray();
    for (const Row &item : page.rows)
        row(json, item);
    json.endArray();
    json.field("page", page.page);
    json.field("page_size", page.pageSize);
    json.field("total", page.total);
    json.endObject();
    return json.take();
}

// The CSV export's header line and one order's line (RFC 4180; ids and enums never need quoting, a
// client_order_id cannot hold a comma or a quote).
QByteArray csvHeader();
QByteArray csvLine(const sql::OrderRecord &order, const MarketState &market);

} // namespace bourse::server
