// The public routes of spec §3: health, metrics, the OpenAPI document and its page, the clock, instruments,
// order books, trades, candles and the ticker; and the parameter helpers every area shares.
#include "api_json.h"
#include "http_api.h"

namespace bourse::server {

namespace {

QString text(QByteArrayView bytes)
{
    return QString::fromUtf8(bytes);
}

} // namespace

// ---- parameter helpers

std::optional<InstrumentView> HttpApi::symbolParam(const ExchangePtr &exchange, QByteArrayView symbol, bool inQuery)
{
    const std::optional<InstrumentView> instrument = m_service.market().instrument(
        std::string_view(symbol.data(), std::size_t(symbol.size())));
    if (!instrument) {
        fail(exchange,
             ServiceError::of(ErrorCode::NotFound, QStringLiteral("unknown symbol %1").arg(text(symbol).left(64)),
                              inQuery ? QStringLiteral("symbol") : QString()));
    }
    return instrument;
}

std::optional<std::int64_t> HttpApi::intParam(const ExchangePtr &exchange, QByteArrayView name, std::int64_t min,
                                              std::int64_t max, std::int64_t fallback, bool clampHigh)
{
    const std::optional<QByteArrayView> value = exchange->queryValue(name);
    if (!value)
        return fallback;
    bool ok = false;
    const qlonglong number = value->toByteArray().toLongLong(&ok);
    const bool digits = !value->isEmpty() && std::all_of(value->begin(), value->end(), [](char c) {
        return (c >= '0' && c <= '9') || c == '-';
    });
    if (!ok || !digits || number < min || (!clampHigh && number > max)) {
        fail(exchange, ErrorCode::ValidationError,
             QStringLiteral("%1 must be an integer from %2 to %3").arg(text(name)).arg(min).arg(max), text(name));
        return std::nullopt;
    }
    return std::min<std::int64_t>(number, max);
}

std::optional<sql::PageRequest> HttpApi::pageParams(const ExchangePtr &exchange)
{
    const std::optional<std::int64_t> page = intParam(exchange, "page", 1, std::numeric_limits<std::int32_t>::max(), 1,
                                                      false);
    if (!page)
        return std::nullopt;
    const std::optional<std::int64_t> size = intParam(exchange, "page_size", 1, sql::PageRequest::kMaxSize,
                                                      sql::PageRequest::kDefaultSize, true);
    if (!size)
        return std::nullopt;
    const Expected<sql::PageRequest, sql::PageRequest::Invalid> request = sql::PageRequest::make(*page, *size);
    if (!request) {
        fail(exchange, ErrorCode::ValidationError, request.error().message, request.error().field);
        return std::nullopt;
    }
    return *request;
}

std::optional<AccountId> HttpApi::idParam(const ExchangePtr &exchange, const char *what)
{
    const QByteArray &raw = exchange->params.front();
    bool ok = false;
    const qulonglong id = raw.toULongLong(&ok);
    const bool digits = std::all_of(raw.begin(), raw.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!ok || !digits || id == 0 || id > qulonglong(std::numeric_limits<std::int64_t>::max())) {
        fail(exchange, ErrorCode::NotFound, QStringLiteral("%1 not found").arg(QLatin1StringView(what)));
        return std::nullopt;
    }
    return AccountId(id);
}

// ---- routes

void HttpApi::getHealth(const ExchangePtr &exchange)
{
    const bool engineOk = m_service.engineHealthy();
    m_service.databaseCheck([this, exchange, engineOk](std::optional<QString> databaseError) {
        const bool healthy = engineOk && !databaseError;
        JsonWriter json;
        json.beginObject();
        json.field("status", healthy ? "ok" : "degraded");
        json.field("version", m_version);
        json.field("uptime_s", m_service.uptimeSeconds());
        json.key("checks").beginObject();
        json.key("database").beginObject();
        json.field("status", databaseError ? "unhealthy" : "healthy");
        if (databaseError)
            json.field("message", QStringLiteral("the database is unreachable"));
        json.endObject();
        json.key("engine").beginObject();
        json.field("status", engineOk ? "healthy" : "unhealthy");
        if (!engineOk)
            json.field("message", QStringLiteral("the engine is stopped or its journal cannot write"));
        json.endObject();
        json.endObject();
        json.endObject();
        sendJson(exchange, healthy ? 200 : 503, json.take());
    });
}

void HttpApi::getMetrics(const ExchangePtr &exchange)
{
    send(exchange, 200, m_metrics.render(), kMetricsContentType);
}

void HttpApi::getOpenApi(const ExchangePtr &exchange)
{
    send(exchange, 200, m_openApi, "application/json");
}

void HttpApi::getDocs(const ExchangePtr &exchange)
{
    send(exchange, 200, m_docs, "text/html; charset=utf-8",
         {{"Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                                      "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'"}});
}

void HttpApi::getTime(const ExchangePtr &exchange)
{
    JsonWriter json;
    json.beginObject();
    json.field("time", rfc3339(VenueService::now()));
    json.field("seq", m_service.market().lastSeq());
    json.endObject();
    sendJson(exchange, 200, json.take());
}

void HttpApi::getInstruments(const ExchangePtr &exchange)
{
    JsonWriter json;
    json.beginArray();
    for (const InstrumentView &instrument : m_service.market().instruments())
        writeInstrument(json, instrument);
    json.endArray();
    sendJson(exchange, 200, json.take());
}

void HttpApi::getOrderBook(const ExchangePtr &exchange)
{
    const std::optional<InstrumentView> instrument = symbolParam(exchange, exchange->params.front(), false);
    if (!instrument)
        return;
    const std::optional<std::int64_t> depth = intParam(exchange, "depth", 1, 1000, 50, true);
    if (!depth)
        return;
    sendJson(exchange, 200, orderBookBody(m_service.market(), *instrument, std::size_t(*depth)));
}

void HttpApi::getTrades(const ExchangePtr &exchange)
{
    // Every instrument's trades, or one's with symbol=.
    std::optional<InstrumentId> instrument;
    if (const std::optional<QByteArrayView> symbol = exchange->queryValue("symbol")) {
        const std::optional<InstrumentView> view = symbolParam(exchange, *symbol, true);
        if (!view)
            return;
        instrument = view->id;
    }
    const std::optional<sql::PageRequest> page = pageParams(exchange);
    if (!page)
        return;
    m_service.trades(instrument, *page,
                     pageReply<sql::TradeRecord>(exchange, [this](JsonWriter &json, const sql::TradeRecord &trade) {
                         writeTrade(json, trade, m_service.market());
                     }));
}

void HttpApi::getTradesOfSymbol(const ExchangePtr &exchange)
{
    const std::optional<InstrumentView> instrument = symbolParam(exchange, exchange->params.front(), false);
    if (!instrument)
        return;
    exchange->query.erase(std::remove_if(exchange->query.begin(), exchange->query.end(),
                                         [](const auto &pair) { return pair.first == "symbol"; }),
                          exchange->query.end());
    exchange->query.emplace_back("symbol", exchange->params.front());
    getTrades(exchange);
}

void HttpApi::getCandles(const ExchangePtr &exchange)
{
    const std::optional<InstrumentView> instrument = symbolParam(exchange, exchange->params.front(), false);
    if (!instrument)
        return;
    static const std::vector<std::pair<QByteArrayView, std::int64_t>> intervals
        = {{"1m", 60}, {"5m", 300}, {"15m", 900}, {"1h", 3600}, {"1d", 86400}};
    const QByteArrayView interval = exchange->queryValue("interval").value_or("1m");
    const auto found = std::find_if(intervals.cbegin(), intervals.cend(),
                                    [&](const auto &pair) { return pair.first == interval; });
    if (found == intervals.cend()) {
        fail(exchange, ErrorCode::ValidationError, QStringLiteral("interval must be one of 1m, 5m, 15m, 1h, 1d"),
             QStringLiteral("interval"));
        return;
    }
    const std::optional<std::int64_t> limit = intParam(exchange, "limit", 1, sql::kMaxCandleLimit,
                                                       sql::kDefaultCandleLimit, true);
    if (!limit)
        return;
    const Precision precision = precisionOf(instrument);
    m_service.candles(instrument->id, found->second, int(*limit),
                      answer<std::vector<sql::CandleRecord>>(exchange,
                                                             [this, exchange, precision](
                                                                 const std::vector<sql::CandleRecord> &candles) {
                                                                 JsonWriter json;
                                                                 json.beginArray();
                                                                 for (const sql::CandleRecord &candle : candles)
                                                                     writeCandle(json, candle, precision);
                                                                 json.endArray();
                                                                 sendJson(exchange, 200, json.take());
                                                             }));
}

void HttpApi::getTicker(const ExchangePtr &exchange)
{
    const std::optional<InstrumentView> instrument = symbolParam(exchange, exchange->params.front(), false);
    if (!instrument)
        return;
    const InstrumentView view = *instrument;
    m_service.ticker(view.id,
                     answer<sql::TickerFigures>(exchange, [this, exchange, view](const sql::TickerFigures &figures) {
                         sendJson(exchange, 200, tickerBody(view, figures, m_service.market()));
                     }));
}

} // namespace bourse::server
