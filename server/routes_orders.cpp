// The order and account routes of spec §5: order entry (idempotent by client_order_id), listing, amend,
// cancel, cancel-all, the dead-man switch, the streamed CSV export, fills and balances.
#include "api_json.h"
#include "http_api.h"
#include "request_body.h"

namespace bourse::server {

namespace {

constexpr qint64 kExportBacklogBytes = 256 * 1024; // the export waits while the client has this much unread

QByteArray orderBody(const sql::OrderRecord &order, const MarketState &market)
{
    JsonWriter json;
    writeOrder(json, order, market);
    return json.take();
}

bool validClientOrderId(QByteArrayView id)
{
    return !id.isEmpty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
               || c == ':' || c == '-';
    });
}

} // namespace

void HttpApi::postOrder(const ExchangePtr &exchange)
{
    RequestBody body(exchange->root(), {"symbol", "side", "type", "price", "quantity", "time_in_force", "post_only",
                                        "client_order_id", "stp"});
    const std::optional<QByteArray> symbol = body.bytes("symbol", true, 64);
    const std::optional<Side> side = body.choice("side", true, parseSide, "buy, sell");
    const std::optional<OrderType> type = body.choice("type", true, parseOrderType, "limit, market");
    const std::optional<Decimal> price = body.decimal("price", false);
    const std::optional<Decimal> quantity = body.decimal("quantity", true);
    const std::optional<TimeInForce> tif = body.choice("time_in_force", false, parseTimeInForce, "gtc, ioc, fok");
    const std::optional<bool> postOnly = body.boolean("post_only", false);
    const std::optional<QByteArray> clientOrderId = body.bytes("client_order_id", false, 256);
    const std::optional<SelfTradePrevention> stp = body.choice("stp", false, parseStp,
                                                               "expire_taker, expire_maker, expire_both, none");
    if (body.ok() && clientOrderId && !validClientOrderId(*clientOrderId))
        body.setError("client_order_id",
                      QStringLiteral("client_order_id must be 1-64 characters of A-Z, a-z, 0-9, '.', '_', ':', '-'"));
    if (!body.ok()) {
        fail(exchange, body.error());
        return;
    }
    const std::optional<InstrumentView> instrument = symbolParam(exchange, *symbol, true);
    if (!instrument)
        return;
    PlaceOrder order;
    order.symbol = instrument->symbol;
    order.side = *side;
    order.type = *type;
    order.timeInForce = tif;
    order.postOnly = postOnly.value_or(false);
    order.stp = stp.value_or(SelfTradePrevention::ExpireTaker);
    order.price = price;
    order.quantity = *quantity;
    if (clientOrderId)
        order.clientOrderId = ClientOrderId(
            std::string_view(clientOrderId->constData(), std::size_t(clientOrderId->size())));
    m_service.placeOrder(exchange->caller, order,
                         answer<PlacedOrder>(exchange, [this, exchange](const PlacedOrder &placed) {
                             JsonWriter json;
                             writeOrder(json, placed.order, m_service.market());
                             QByteArray bytes = json.take();
                             // The order's object, then its fills: reopen the object for one more member.
                             bytes.chop(1);
                             const Precision precision = precisionOf(
                                 m_service.market().instrument(placed.order.instrument));
                             JsonWriter fills;
                             fills.beginArray();
                             for (const OrderFill &fill : placed.fills) {
                                 fills.beginObject();
                                 fills.field("trade_id", fill.trade);
                                 fills.key("price").decimal(fill.price, precision.price);
                                 fills.key("quantity").decimal(fill.quantity, precision.quantity);
                                 fills.field("liquidity", "taker");
                                 fills.endObject();
                             }
                             fills.endArray();
                             bytes.append(",\"fills\":").append(fills.take()).append('}');
                             if (placed.replayed)
                                 sendJson(exchange, 200, bytes, {{"Idempotent-Replayed", "true"}});
                             else
                                 sendJson(exchange, 201, bytes);
                         }));
}

std::optional<sql::OrderFilter> HttpApi::orderFilterOf(const ExchangePtr &exchange)
{
    sql::OrderFilter filter;
    const QByteArrayView status = exchange->queryValue("status").value_or("all");
    if (status == "open")
        filter.status = sql::OrderStatusFilter::Open;
    else if (status == "closed")
        filter.status = sql::OrderStatusFilter::Closed;
    else if (status == "all")
        filter.status = sql::OrderStatusFilter::All;
    else {
        fail(exchange, ErrorCode::ValidationError, QStringLiteral("status must be one of open, closed, all"),
             QStringLiteral("status"));
        return std::nullopt;
    }
    if (const auto symbol = exchange->queryValue("symbol")) {
        const std::optional<InstrumentView> instrument = symbolParam(exchange, *symbol, true);
        if (!instrument)
            return std::nullopt;
        filter.instrument = instrument->id;
    }
    if (exchange->queryValue("user_id")) {
        const std::optional<std::int64_t> user = intParam(exchange, "user_id", 1,
                                                          std::numeric_limits<std::int64_t>::max(), 1, false);
        if (!user)
            return std::nullopt;
        filter.user = AccountId(*user);
    }
    const ServiceResult<sql::OrderFilter> allowed = m_service.checkedOrderFilter(exchange->caller, filter);
    if (!allowed) {
        fail(exchange, allowed.error());
        return std::nullopt;
    }
    return *allowed;
}

void HttpApi::getOrders(const ExchangePtr &exchange)
{
    const std::optional<sql::OrderFilter> filter = orderFilterOf(exchange);
    if (!filter)
        return;
    const std::optional<sql::PageRequest> page = pageParams(exchange);
    if (!page)
        return;
    m_service.orders(exchange->caller, *filter, *page,
                     pageReply<sql::OrderRecord>(exchange, [this](JsonWriter &json, const sql::OrderRecord &order) {
                         writeOrder(json, order, m_service.market());
                     }));
}

void HttpApi::getOrdersCsv(const ExchangePtr &exchange)
{
    const std::optional<sql::OrderFilter> filter = orderFilterOf(exchange);
    if (!filter)
        return;
    auto cursor = std::make_shared<sql::OrderExport>(*filter);
    beginStream(exchange, 200, "text/csv; charset=utf-8",
                {{"Content-Disposition", "attachment; filename=\"orders.csv\""}});
    streamChunk(exchange, csvHeader());
    exportNext(exchange, cursor);
}

void HttpApi::exportNext(const ExchangePtr &exchange, std::shared_ptr<sql::OrderExport> cursor)
{
    RequestSocket *socket = exchange->socket;
    if (!socket || !socket->isClientConnected()) {
        exchange->answered = true; // the client went away: nothing more to send
        finished(exchange, 499);
        return;
    }
    if (socket->clientBacklog() > kExportBacklogBytes) {
        // Wait for the client to read what it has before reading more rows: memory stays bounded.
        auto connection = std::make_shared<QMetaObject::Connection>();
        *connection = connect(socket, &QIODevice::bytesWritten, this, [this, exchange, cursor, connection] {
            disconnect(*connection);
            exportNext(exchange, cursor);
        });
        connect(socket, &QObject::destroyed, this, [connection] { QObject::disconnect(*connection); });
        return;
    }
    m_service.exportChunk(cursor, [this, exchange, cursor](ServiceResult<std::vector<sql::OrderRecord>> chunk) {
        if (!chunk) {
            // The head is out: the only honest way to say the export failed is to cut the stream short,
            // without the final empty chunk, so the client sees an incomplete transfer.
            exchange->answered = true;
            if (RequestSocket *stream = exchange->socket)
                stream->endResponse(true);
            finished(exchange, 500);
            return;
        }
        if (chunk->empty()) {
            endStream(exchange);
            return;
        }
        QByteArray data;
        for (const sql::OrderRecord &order : *chunk)
            data.append(csvLine(order, m_service.market()));
        streamChunk(exchange, data);
        exportNext(exchange, cursor);
    });
}

void HttpApi::deleteOrders(const ExchangePtr &exchange)
{
    std::optional<InstrumentId> instrument;
    if (const auto symbol = exchange->queryValue("symbol")) {
        const std::optional<InstrumentView> view = symbolParam(exchange, *symbol, true);
        if (!view)
            return;
        instrument = view->id;
    }
    m_service.cancelAll(exchange->caller, instrument,
                        answer<CancelAllResult>(exchange, [this, exchange](const CancelAllResult &result) {
                            JsonWriter json;
                            json.beginObject();
                            json.field("cancelled", std::int64_t(result.orders.size()));
                            json.key("order_ids").beginArray();
                            for (const OrderId id : result.orders)
                                json.number(std::uint64_t(id));
                            json.endArray();
                            json.endObject();
                            sendJson(exchange, 200, json.take());
                        }));
}

Reply<sql::OrderRecord> HttpApi::orderReply(const ExchangePtr &exchange)
{
    return answer<sql::OrderRecord>(exchange, [this, exchange](const sql::OrderRecord &order) {
        sendJson(exchange, 200, orderBody(order, m_service.market()));
    });
}

void HttpApi::getOrder(const ExchangePtr &exchange)
{
    const std::optional<AccountId> id = idParam(exchange, "order");
    if (!id)
        return;
    m_service.order(exchange->caller, *id, orderReply(exchange));
}

void HttpApi::patchOrder(const ExchangePtr &exchange)
{
    const std::optional<AccountId> id = idParam(exchange, "order");
    if (!id)
        return;
    RequestBody body(exchange->root(), {"price", "quantity"});
    const std::optional<Decimal> price = body.decimal("price", false);
    const std::optional<Decimal> quantity = body.decimal("quantity", false);
    if (body.ok() && !price && !quantity)
        body.setError({}, QStringLiteral("give price, quantity or both")); // no one field is at fault
    if (!body.ok()) {
        fail(exchange, body.error());
        return;
    }
    m_service.amendOrder(exchange->caller, *id, price, quantity, orderReply(exchange));
}

void HttpApi::deleteOrder(const ExchangePtr &exchange)
{
    const std::optional<AccountId> id = idParam(exchange, "order");
    if (!id)
        return;
    m_service.cancelOrder(exchange->caller, *id, orderReply(exchange));
}

void HttpApi::postCancelAfter(const ExchangePtr &exchange)
{
    RequestBody body(exchange->root(), {"timeout_s"});
    const std::optional<std::int64_t> timeout = body.integer("timeout_s", true, 0, 86400);
    if (!body.ok()) {
        fail(exchange, body.error());
        return;
    }
    const ServiceResult<CancelAfterStatus> status = m_service.cancelAfter(exchange->caller, int(*timeout));
    if (!status) {
        fail(exchange, status.error());
        return;
    }
    JsonWriter json;
    json.beginObject();
    json.field("timeout_s", status->timeoutSeconds);
    json.key("cancel_at");
    if (status->cancelAt)
        json.string(rfc3339(status->cancelAt));
    else
        json.null();
    json.endObject();
    sendJson(exchange, 200, json.take());
}

void HttpApi::getFills(const ExchangePtr &exchange)
{
    std::optional<InstrumentId> instrument;
    if (const auto symbol = exchange->queryValue("symbol")) {
        const std::optional<InstrumentView> view = symbolParam(exchange, *symbol, true);
        if (!view)
            return;
        instrument = view->id;
    }
    const std::optional<sql::PageRequest> page = pageParams(exchange);
    if (!page)
        return;
    m_service.fills(exchange->caller, instrument, *page,
                    pageReply<sql::FillRecord>(exchange, [this](JsonWriter &json, const sql::FillRecord &fill) {
                        writeFill(json, fill, m_service.market());
                    }));
}

void HttpApi::getAccount(const ExchangePtr &exchange)
{
    m_service.balances(exchange->caller, exchange->caller.user,
                       answer<std::vector<sql::BalanceRecord>>(exchange,
                                                               [this, exchange](
                                                                   const std::vector<sql::BalanceRecord> &balances) {
                                                                   JsonWriter json;
                                                                   writeBalances(json, balances);
                                                                   sendJson(exchange, 200, json.take());
                                                               }));
}

} // namespace bourse::server
