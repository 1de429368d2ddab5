// The authentication routes of spec §4: register, login, refresh, logout, and the caller's own profile.
#include "api_json.h"
#include "http_api.h"
#include "request_body.h"

namespace bourse::server {

namespace {

QByteArray tokenBody(const TokenPair &pair)
{
    JsonWriter json;
    json.beginObject();
    json.field("access_token", QByteArrayView(pair.accessToken));
    json.field("refresh_token", QByteArrayView(pair.refreshToken));
    json.field("token_type", "Bearer");
    json.field("expires_in", pair.expiresIn);
    json.endObject();
    return json.take();
}

} // namespace

void HttpApi::postRegister(const ExchangePtr &exchange)
{
    RequestBody body(exchange->root(), {"username", "password"});
    const std::optional<QString> username = body.string("username", true, 64);
    const std::optional<QString> password = body.string("password", true, 256);
    if (!body.ok()) {
        fail(exchange, body.error());
        return;
    }
    m_service.registerUser(exchange->caller, *username, *password,
                           answer<sql::UserRecord>(exchange, [this, exchange](const sql::UserRecord &user) {
                               JsonWriter json;
                               json.beginObject();
                               json.field("id", user.id);
                               json.field("username", user.username);
                               json.field("role", user.role);
                               json.field("created_at", rfc3339(user.createdAt));
                               json.endObject();
                               sendJson(exchange, 201, json.take());
                           }));
}

void HttpApi::postLogin(const ExchangePtr &exchange)
{
    RequestBody body(exchange->root(), {"username", "password"});
    const std::optional<QString> username = body.string("username", true, 64);
    const std::optional<QString> password = body.string("password", true, 256);
    if (!body.ok()) {
        fail(exchange, body.error());
        return;
    }
    m_service.login(exchange->caller, *username, *password, tokenReply(exchange));
}

std::optional<QByteArray> HttpApi::refreshTokenOf(const ExchangePtr &exchange)
{
    RequestBody body(exchange->root(), {"refresh_token"});
    const std::optional<QByteArray> token = body.bytes("refresh_token", true, int(JwtSigner::kMaxTokenBytes));
    if (!body.ok())
        fail(exchange, body.error());
    return token;
}

Reply<TokenPair> HttpApi::tokenReply(const ExchangePtr &exchange)
{
    return answer<TokenPair>(exchange,
                             [this, exchange](const TokenPair &pair) { sendJson(exchange, 200, tokenBody(pair)); });
}

void HttpApi::postRefresh(const ExchangePtr &exchange)
{
    if (const std::optional<QByteArray> token = refreshTokenOf(exchange))
        m_service.refresh(exchange->caller, *token, tokenReply(exchange));
}

void HttpApi::postLogout(const ExchangePtr &exchange)
{
    if (const std::optional<QByteArray> token = refreshTokenOf(exchange))
        m_service.logout(exchange->caller, *token,
                         answer<bool>(exchange, [this, exchange](bool) { send(exchange, 204, QByteArray()); }));
}

void HttpApi::getMe(const ExchangePtr &exchange)
{
    const std::optional<DirectoryEntry> user = m_service.user(exchange->caller.user);
    if (!user) {
        fail(exchange, ErrorCode::Unauthorized, QStringLiteral("the account is disabled or unknown"));
        return;
    }
    JsonWriter json;
    json.beginObject();
    json.field("id", user->id);
    json.field("username", user->username);
    json.field("role", roleName(user->role).data());
    json.field("created_at", rfc3339(user->createdAt));
    json.endObject();
    sendJson(exchange, 200, json.take());
}

} // namespace bourse::server
