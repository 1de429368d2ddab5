// The admin routes of spec §6: users, deposits and withdrawals, instruments, run-time settings, the kill
// switch, system statistics and the audit log. The router has checked the admin role already; the service
// checks it again.
#include "api_json.h"
#include "http_api.h"
#include "request_body.h"

namespace bourse::server {

namespace {

QByteArray userBody(const sql::UserRecord &user)
{
    JsonWriter json;
    writeUser(json, user);
    return json.take();
}

QByteArray instrumentBody(const InstrumentView &instrument)
{
    JsonWriter json;
    writeInstrument(json, instrument);
    return json.take();
}

std::optional<Role> roleOf(std::string_view text)
{
    return parseRole(text);
}

std::optional<RateTier> tierOf(std::string_view text)
{
    return parseRateTier(text);
}

std::optional<InstrumentStatus> statusOf(std::string_view text)
{
    return parseInstrumentStatus(text);
}

} // namespace

void HttpApi::getUsers(const ExchangePtr &exchange)
{
    const std::optional<sql::PageRequest> page = pageParams(exchange);
    if (!page)
        return;
    m_service.users(exchange->caller, *page,
                    pageReply<sql::UserRecord>(exchange, [](JsonWriter &json, const sql::UserRecord &user) {
                        writeUser(json, user);
                    }));
}

void HttpApi::postUser(const ExchangePtr &exchange)
{
    RequestBody body(exchange->root(), {"username", "password", "role"});
    const std::optional<QString> username = body.string("username", true, 64);
    const std::optional<QString> password = body.string("password", true, 256);
    const std::optional<Role> role = body.choice("role", false, roleOf, "viewer, trader, admin");
    if (!body.ok()) {
        fail(exchange, body.error());
        return;
    }
    m_service.createUser(exchange->caller, *username, *password, role.value_or(Role::Trader),
                         answer<sql::UserRecord>(exchange, [this, exchange](const sql::UserRecord &user) {
                             sendJson(exchange, 201, userBody(user));
                         }));
}

void HttpApi::patchUser(const ExchangePtr &exchange)
{
    const std::optional<AccountId> id = idParam(exchange, "user");
    if (!id)
        return;
    RequestBody body(exchange->root(), {"role", "active", "rate_limit_tier"});
    UserChanges changes;
    changes.role = body.choice("role", false, roleOf, "viewer, trader, admin");
    changes.active = body.boolean("active", false);
    changes.tier = body.choice("rate_limit_tier", false, tierOf, "default, pro, unlimited");
    if (body.ok() && !changes.role && !changes.active && !changes.tier)
        body.setError({}, QStringLiteral("give role, active, rate_limit_tier or several")); // no one field is at fault
    if (!body.ok()) {
        fail(exchange, body.error());
        return;
    }
    m_service.updateUser(exchange->caller, *id, changes,
                         answer<sql::UserRecord>(exchange, [this, exchange](const sql::UserRecord &user) {
                             sendJson(exchange, 200, userBody(user));
                         }));
}

void HttpApi::postDeposit(const ExchangePtr &exchange)
{
    moveFunds(exchange, true);
}

void HttpApi::postWithdrawal(const ExchangePtr &exchange)
{
    moveFunds(exchange, false);
}

void HttpApi::moveFunds(const ExchangePtr &exchange, bool deposit)
{
    const std::optional<AccountId> id = idParam(exchange, "user");
    if (!id)
        return;
    RequestBody body(exchange->root(), {"asset", "amount"});
    const std::optional<QString> asset = body.string("asset", true, 16);
    const std::optional<Decimal> amount = body.decimal("amount", true);
    if (!body.ok()) {
        fail(exchange, body.error());
        return;
    }
    m_service.moveFunds(exchange->caller, *id, deposit, *asset, *amount,
                        answer<std::vector<sql::BalanceRecord>>(exchange,
                                                                [this, exchange, user = *id](
                                                                    const std::vector<sql::BalanceRecord> &balances) {
                                                                    JsonWriter json;
                                                                    writeBalances(json, balances);
                                                                    // openapi AccountBalances: whose account, then
                                                                    // the balances.
                                                                    QByteArray account = json.take();
                                                                    account.insert(1, "\"user_id\":"
                                                                                          + QByteArray::number(user)
                                                                                          + ',');
                                                                    sendJson(exchange, 201, account);
                                                                }));
}

void HttpApi::postInstrument(const ExchangePtr &exchange)
{
    RequestBody body(exchange->root(), {"symbol", "base", "quote", "tick_size", "lot_size", "min_quantity"});
    const std::optional<QByteArray> symbol = body.bytes("symbol", true, 32);
    const std::optional<QByteArray> base = body.bytes("base", true, 16);
    const std::optional<QByteArray> quote = body.bytes("quote", true, 16);
    const std::optional<Decimal> tick = body.decimal("tick_size", true);
    const std::optional<Decimal> lot = body.decimal("lot_size", true);
    const std::optional<Decimal> minimum = body.decimal("min_quantity", true);
    if (!body.ok()) {
        fail(exchange, body.error());
        return;
    }
    const auto view = [](const QByteArray &bytes) {
        return std::string_view(bytes.constData(), std::size_t(bytes.size()));
    };
    AddInstrument add{Symbol(view(*symbol)), AssetCode(view(*base)), AssetCode(view(*quote)), *tick, *lot, *minimum};
    m_service.addInstrument(exchange->caller, add,
                            answer<InstrumentView>(exchange, [this, exchange](const InstrumentView &instrument) {
                                sendJson(exchange, 201, instrumentBody(instrument));
                            }));
}

void HttpApi::patchInstrument(const ExchangePtr &exchange)
{
    RequestBody body(exchange->root(), {"status"});
    const std::optional<InstrumentStatus> status = body.choice("status", true, statusOf, "trading, halted");
    if (!body.ok()) {
        fail(exchange, body.error());
        return;
    }
    m_service.setInstrumentStatus(exchange->caller, QString::fromUtf8(exchange->params.front()), *status,
                                  answer<InstrumentView>(exchange, [this, exchange](const InstrumentView &instrument) {
                                      sendJson(exchange, 200, instrumentBody(instrument));
                                  }));
}

void HttpApi::getSettings(const ExchangePtr &exchange)
{
    sendJson(exchange, 200, m_service.settings().toJson());
}

void HttpApi::patchSettings(const ExchangePtr &exchange)
{
    const Expected<VenueSettings, SettingsError> next = applySettingsPatch(m_service.settings(), exchange->root());
    if (!next) {
        fail(exchange, ErrorCode::ValidationError, next.error().message, next.error().field);
        return;
    }
    m_service.updateSettings(exchange->caller, *next, exchange->body,
                             answer<VenueSettings>(exchange, [this, exchange](const VenueSettings &settings) {
                                 sendJson(exchange, 200, settings.toJson());
                             }));
}

void HttpApi::postKillSwitch(const ExchangePtr &exchange)
{
    RequestBody body(exchange->root(), {"symbol"});
    const std::optional<QString> symbol = body.string("symbol", false, 32);
    if (!body.ok()) {
        fail(exchange, body.error());
        return;
    }
    m_service.killSwitch(exchange->caller, symbol,
                         answer<KillSwitchResult>(exchange, [this, exchange](const KillSwitchResult &result) {
                             JsonWriter json;
                             json.beginObject();
                             json.key("halted").beginArray();
                             for (const QString &halted : result.halted)
                                 json.string(halted);
                             json.endArray();
                             json.field("cancelled", std::int64_t(result.cancelled));
                             json.endObject();
                             sendJson(exchange, 200, json.take());
                         }));
}

void HttpApi::getStats(const ExchangePtr &exchange)
{
    const EngineFigures engine = m_service.engineFigures();
    const sql::QueryPool::Stats pool = m_service.poolStats();
    JsonWriter json;
    json.beginObject();
    json.field("uptime_s", m_service.uptimeSeconds());
    json.key("connections").beginObject();
    json.field("http", m_edge ? m_edge->connectionCount() : 0);
    json.field("ws", m_webSocketCount ? m_webSocketCount() : 0);
    json.field("sse", streamCount());
    json.endObject();
    json.key("engine").beginObject();
    json.field("open_orders", engine.openOrders);
    json.field("orders", engine.orders);
    json.field("trades", engine.trades);
    json.field("seq", engine.seq);
    json.endObject();
    json.key("database").beginObject();
    json.field("driver", m_service.databaseDriver());
    json.key("pool").beginObject();
    json.field("threads", pool.threads);
    json.field("connections", pool.connections);
    json.field("queued", std::uint64_t(pool.queued));
    json.endObject();
    const auto [p50, p99] = m_service.commitLatencyMs();
    json.key("commit_p50_ms").raw(QByteArray::number(p50, 'f', 3));
    json.key("commit_p99_ms").raw(QByteArray::number(p99, 'f', 3));
    json.endObject();
    json.key("requests_per_second").raw(QByteArray::number(m_requestsPerSecond, 'f', 1));
    json.endObject();
    sendJson(exchange, 200, json.take());
}

void HttpApi::getAudit(const ExchangePtr &exchange)
{
    const std::optional<sql::PageRequest> page = pageParams(exchange);
    if (!page)
        return;
    m_service.audit(exchange->caller, *page,
                    pageReply<sql::AuditRecord>(exchange, [](JsonWriter &json, const sql::AuditRecord &entry) {
                        writeAuditEntry(json, entry);
                    }));
}

} // namespace bourse::server
