#include "venue_service.h"

#include "accounts.h"
#include "json_writer.h"
#include "server_log.h"

#include <QFutureWatcher>
#include <QRegularExpression>
#include <QSqlError>
#include <QSqlQuery>

#include <chrono>
#include <variant>

namespace bourse::server {

std::optional<QString> passwordProblem(const QString &password)
{
    const qsizetype characters = password.toUcs4().size();
    if (characters < 8 || characters > 128)
        return QStringLiteral("password must be 8-128 characters");
    return std::nullopt;
}

namespace {

// Calls `handle` with the future's result on `context`'s thread once the future is ready. A
// QFutureWatcher rather than QFuture::then(context, ...): in Qt 6.4 a continuation attached while another
// thread finishes the future can run on a half-set-up continuation and crash (seen under load here).
template<typename T, typename Handle>
void whenReady(QFuture<T> future, QObject *context, Handle &&handle)
{
    auto *watcher = new QFutureWatcher<T>(context);
    QObject::connect(watcher, &QFutureWatcherBase::finished, context,
                     [watcher, handle = std::forward<Handle>(handle)]() mutable {
                         watcher->deleteLater();
                         handle(watcher->future().result());
                     });
    watcher->setFuture(std::move(future));
}

ServiceError unavailable(const QString &message)
{
    return ServiceError::of(ErrorCode::ServiceUnavailable, message);
}

void deliverReply(const std::function<void(ServiceResult<EngineReply>)> &done, EngineReply &&reply)
{
    switch (reply.status) {
    case EngineReply::Status::Applied: done(std::move(reply)); return;
    case EngineReply::Status::EngineStopped:
        done(unexpected(unavailable(QStringLiteral("the server is shutting down"))));
        return;
    case EngineReply::Status::NotDurable:
        done(unexpected(
            unavailable(QStringLiteral("the journal could not make the command durable; it may not have happened"))));
        return;
    case EngineReply::Status::Unavailable:
        done(unexpected(unavailable(QStringLiteral("the database is unavailable; nothing was accepted"))));
        return;
    }
}

ServiceError queryFailure(const sql::QueryError &error)
{
    if (error.kind == sql::QueryError::Kind::Failed) {
        qCWarning(lcServer).noquote() << "query failed:" << error.message;
        return ServiceError::of(ErrorCode::InternalError, QStringLiteral("internal error"));
    }
    if (error.kind == sql::QueryError::Kind::Busy)
        return unavailable(QStringLiteral("the server is busy; try again shortly"));
    if (error.kind == sql::QueryError::Kind::Stopped)
        return unavailable(QStringLiteral("the server is shutting down"));
    return unavailable(QStringLiteral("the database is unavailable"));
}

const QRegularExpression &usernamePattern()
{
    static const QRegularExpression pattern(QStringLiteral("^[A-Za-z0-9_.-]{3,32}$"));
    return pattern;
}

std::optional<ServiceError> checkCredentials(const QString &username, const QString &password)
{
    if (!usernamePattern().match(username).hasMatch())
        return ServiceError::of(ErrorCode::ValidationError,
                                QStringLiteral("username must be 3-32 characters of A-Z, a-z, 0-9, '_', '.', '-'"),
                                QStringLiteral("username"));
    if (std::optional<QString> problem = passwordProblem(password))
        return ServiceError::of(ErrorCode::ValidationError, *problem, QStringLiteral("password"));
    return std::nullopt;
}

ServiceError invalidCredentials()
{
    return ServiceError::of(ErrorCode::Unauthorized, QStringLiteral("invalid username or password"));
}

ServiceError invalidToken()
{
    return ServiceError::of(ErrorCode::Unauthorized,
                            QStringLiteral("the refresh token is invalid, expired or revoked"));
}

QByteArray details(const std::function<void(JsonWriter &)> &write)
{
    JsonWriter json;
    json.beginObject();
    write(json);
    json.endObject();
    return json.take();
}

QString text(std::string_view view)
{
    return QString::fromUtf8(view.data(), qsizetype(view.size()));
}

} // namespace

PlacedOrder orderFromEvents(const std::vector<Event> &events, OrderId id)
{
    PlacedOrder placed;
    sql::OrderRecord &order = placed.order;
    bool expired = false;
    for (const Event &event : events) {
        if (const auto *accepted = std::get_if<OrderAccepted>(&event.body); accepted && accepted->order == id) {
            order = acceptedOrder(*accepted, event.time);
        } else if (const auto *trade = std::get_if<TradeExecuted>(&event.body); trade && trade->takerOrder == id) {
            order.filledQuantity = Decimal::fromRaw(order.filledQuantity.raw() + trade->quantity.raw());
            const Decimal notional = fillNotional(trade->price, trade->quantity);
            order.filledNotional = Decimal::fromRaw(order.filledNotional.raw() + notional.raw());
            placed.fills.push_back(OrderFill{trade->trade, trade->price, trade->quantity});
        } else if (const auto *expiry = std::get_if<OrderExpired>(&event.body); expiry && expiry->order == id) {
            expired = true;
        } else {
            continue;
        }
        order.updatedAt = event.time;
        order.seq = event.seq;
    }
    if (order.filledQuantity == order.quantity)
        order.status = sql::OrderStatus::Filled;
    else if (expired)
        order.status = sql::OrderStatus::Expired;
    else if (order.filledQuantity.raw() > 0)
        order.status = sql::OrderStatus::PartiallyFilled;
    else
        order.status = sql::OrderStatus::New;
    return placed;
}

VenueService::VenueService(Parts parts, QObject *parent)
    : QObject(parent)
    , m_parts(parts)
{
    m_started.start();
    m_monotonic.start();
    connect(m_parts.engine, &EngineHost::batchApplied, this, &VenueService::onBatch);
}

VenueService::~VenueService() = default;

TimeNs VenueService::now()
{
    using namespace std::chrono;
    return duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count();
}

void VenueService::load(std::vector<sql::UserRecord> users, VenueSettings settings, MarketState market,
                        EngineFigures figures, AccountState accounts)
{
    m_users.reset(users);
    {
        const std::lock_guard lock(m_settingsMutex);
        m_settings = std::move(settings);
    }
    m_market = std::move(market);
    m_accounts = std::move(accounts);
    m_accounts.setInstruments(m_market.instruments());
    if (m_accounts.lastSeq() < m_market.lastSeq())
        m_accounts.setLastSeq(m_market.lastSeq());
    m_figures = figures;
}

void VenueService::onBatch(const EngineBatch &batch)
{
    DurableBatch durable;
    durable.events = batch.events.get();
    durable.firstNewSeq = m_figures.seq + 1;
    for (const Event &event : *batch.events) {
        if (event.seq <= m_figures.seq)
            continue;
        if (const auto *accepted = std::get_if<OrderAccepted>(&event.body))
            m_figures.orders = std::max<std::uint64_t>(m_figures.orders, accepted->order);
        else if (const auto *trade = std::get_if<TradeExecuted>(&event.body))
            m_figures.trades = std::max<std::uint64_t>(m_figures.trades, trade->trade);
    }
    m_figures.seq = std::max(m_figures.seq, batch.lastSeq);
    durable.books = m_market.apply(*batch.events);
    durable.accounts = m_accounts.apply(*batch.events);
    m_figures.openOrders = m_market.openOrderCount();
    emit batchCommitted(durable);
}

template<typename T, typename Job>
void VenueService::read(Job &&job, Reply<T> done)
{
    whenReady(m_parts.queries->submit(std::forward<Job>(job)), this, [done](sql::QueryResult<T> result) {
        if (!result)
            done(unexpected(queryFailure(result.error())));
        else
            done(std::move(result.value()));
    });
}

void VenueService::submit(Command command, std::function<void(ServiceResult<EngineReply>)> done)
{
    // The reply comes on the journal thread, a whole batch's replies one after another: they queue here and
    // one queued call per burst brings them all to this thread, rather than a wake-up per reply.
    m_parts.engine->submit(command, [this, done](EngineReply &&reply) {
        bool post = false;
        {
            const std::lock_guard lock(m_repliesMutex);
            m_replies.push_back(PendingReply{done, std::move(reply)});
            post = !m_repliesPosted;
            m_repliesPosted = true;
        }
        if (post)
            QMetaObject::invokeMethod(this, &VenueService::deliverReplies, Qt::QueuedConnection);
    });
}

void VenueService::deliverReplies()
{
    std::vector<PendingReply> replies;
    {
        const std::lock_guard lock(m_repliesMutex);
        replies.swap(m_replies);
        m_repliesPosted = false;
    }
    for (PendingReply &pending : replies)
        deliverReply(pending.done, std::move(pending.reply));
}

QString VenueService::assetCode(AssetId asset) const
{
    for (const InstrumentView &instrument : m_market.instruments()) {
        if (instrument.baseAsset == asset)
            return text(instrument.base.view());
        if (instrument.quoteAsset == asset)
            return text(instrument.quote.view());
    }
    return QString();
}

ServiceError VenueService::rejection(const CommandResult &result, const std::optional<InstrumentView> &instrument) const
{
    RejectContext context = instrument ? RejectContext::forInstrument(*instrument) : RejectContext{};
    ServiceError error;
    error.code = errorCodeFor(result.reason);
    if (result.reason == RejectReason::InsufficientBalance) {
        context.asset = assetCode(result.asset);
        context.required = result.required;
        context.available = result.available;
        error.shortfall = BalanceShortfall{result.required, result.available};
    }
    error.message = rejectMessage(result.reason, context);
    error.field = text(rejectField(result.reason));
    return error;
}

ServiceResult<Caller> VenueService::requireRole(const Caller &caller, Role role) const
{
    if (!caller.authenticated())
        return unexpected(ServiceError::of(ErrorCode::Unauthorized, QStringLiteral("authentication required")));
    if (int(caller.role) < int(role))
        return unexpected(ServiceError::of(ErrorCode::Forbidden,
                                           QStringLiteral("the %1 role may not do this").arg(roleName(caller.role))));
    return caller;
}

// ---- identity

ServiceResult<Caller> VenueService::authenticate(QByteArrayView accessToken, QByteArray requestId) const
{
    const std::int64_t nowSeconds = now() / 1'000'000'000;
    VerifiedToken token;
    const auto cached = m_verifiedTokens.constFind(accessToken.toByteArray());
    if (cached != m_verifiedTokens.cend() && nowSeconds < cached->expiresAt) {
        token = *cached;
    } else {
        const Expected<TokenClaims, JwtError> claims = m_parts.signer->verify(accessToken, TokenType::Access,
                                                                              nowSeconds);
        if (!claims) {
            return unexpected(
                ServiceError::of(ErrorCode::Unauthorized, QStringLiteral("invalid access token: %1")
                                                              .arg(QLatin1StringView(describe(claims.error())))));
        }
        token = VerifiedToken{claims->subject, claims->expiresAt, claims->family};
        if (m_verifiedTokens.size() >= kTokenCacheSize)
            m_verifiedTokens.clear();
        m_verifiedTokens.insert(accessToken.toByteArray(), token);
    }
    if (!token.family.isEmpty() && m_revokedFamilies.contains(token.family))
        return unexpected(ServiceError::of(ErrorCode::Unauthorized, QStringLiteral("the login was revoked")));
    const std::optional<DirectoryEntry> entry = m_users.find(token.subject);
    if (!entry || !entry->active)
        return unexpected(
            ServiceError::of(ErrorCode::Unauthorized, QStringLiteral("the account is disabled or unknown")));
    Caller caller;
    caller.user = entry->id;
    caller.username = entry->username;
    caller.role = entry->role; // the directory's, not the token's: a changed role applies at once
    caller.tier = entry->tier;
    caller.requestId = std::move(requestId);
    return caller;
}

void VenueService::registerUser(const Caller &caller, QString username, QString password, Reply<sql::UserRecord> done)
{
    if (!settings().registrationOpen) {
        done(unexpected(ServiceError::of(ErrorCode::Forbidden, QStringLiteral("registration is closed"))));
        return;
    }
    if (std::optional<ServiceError> error = checkCredentials(username, password)) {
        done(unexpected(*error));
        return;
    }
    addUser(caller, false, username, password, Role::Trader, std::move(done));
}

void VenueService::createUser(const Caller &caller, QString username, QString password, Role role,
                              Reply<sql::UserRecord> done)
{
    if (const auto allowed = requireRole(caller, Role::Admin); !allowed) {
        done(unexpected(allowed.error()));
        return;
    }
    addUser(caller, true, std::move(username), std::move(password), role, std::move(done));
}

void VenueService::addUser(const Caller &caller, bool byAdmin, QString username, QString password, Role role,
                           Reply<sql::UserRecord> done)
{
    if (std::optional<ServiceError> error = checkCredentials(username, password)) {
        done(unexpected(*error));
        return;
    }
    const QByteArray requestId = caller.requestId;
    const QString actor = byAdmin ? caller.username : username;
    whenReady(m_parts.hasher->hash(password), this,
              [this, username, role, done, requestId, actor, byAdmin](Expected<QString, PasswordHashError> hashed) {
                  if (!hashed) {
                      done(unexpected(
                          hashed.error() == PasswordHashError::Busy
                              ? unavailable(QStringLiteral("the server is busy; try again shortly"))
                              : ServiceError::of(ErrorCode::InternalError, QStringLiteral("internal error"))));
                      return;
                  }
                  sql::NewUser user{username, *hashed, roleName(role), QStringLiteral("default"), now()};
                  read<std::optional<sql::UserRecord>>([user](QSqlDatabase &db) { return sql::createUser(db, user); },
                                                       [this, done, requestId, actor, byAdmin, username](
                                                           ServiceResult<std::optional<sql::UserRecord>> stored) {
                                                           if (!stored) {
                                                               done(unexpected(stored.error()));
                                                               return;
                                                           }
                                                           if (!stored->has_value()) {
                                                               done(unexpected(
                                                                   ServiceError::of(ErrorCode::Conflict,
                                                                                    QStringLiteral("username is taken"),
                                                                                    QStringLiteral("username"))));
                                                               return;
                                                           }
                                                           const sql::UserRecord &created = **stored;
                                                           m_users.put(created);
                                                           record(actor,
                                                                  byAdmin ? QStringLiteral("user_created")
                                                                          : QStringLiteral("register"),
                                                                  QStringLiteral("user:%1").arg(created.id),
                                                                  details([&](JsonWriter &json) {
                                                                      json.field("username", created.username);
                                                                      json.field("role", created.role);
                                                                  }),
                                                                  requestId);
                                                           done(created);
                                                       });
              });
}

void VenueService::createFirstAdmin(QString username, QString password, Reply<sql::UserRecord> done)
{
    if (std::optional<ServiceError> error = checkCredentials(username, password)) {
        done(unexpected(*error));
        return;
    }
    whenReady(m_parts.hasher->hash(password), this,
              [this, username, done](Expected<QString, PasswordHashError> hashed) {
                  if (!hashed) {
                      done(unexpected(
                          hashed.error() == PasswordHashError::Busy
                              ? unavailable(QStringLiteral("the server is busy; try again shortly"))
                              : ServiceError::of(ErrorCode::InternalError, QStringLiteral("internal error"))));
                      return;
                  }
                  const sql::NewUser user{username, *hashed, QStringLiteral("admin"), QStringLiteral("unlimited"), now()};
                  // One job on one connection, so "no admin yet" still holds when the row is written (the
                  // query pool runs a job whole; only the wizard creates admins this way).
                  using Created = std::variant<std::monostate, sql::UserRecord, ServiceError>;
                  read<Created>(
                      [user](QSqlDatabase &db) -> Expected<Created, QString> {
                          const Expected<bool, QString> exists = sql::hasAdmin(db);
                          if (!exists)
                              return unexpected(exists.error());
                          if (*exists)
                              return Created(ServiceError::of(ErrorCode::Conflict,
                                                              QStringLiteral("the venue already has an admin")));
                          Expected<std::optional<sql::UserRecord>, QString> created = sql::createUser(db, user);
                          if (!created)
                              return unexpected(created.error());
                          if (!created->has_value())
                              return Created(ServiceError::of(ErrorCode::Conflict, QStringLiteral("username is taken"),
                                                              QStringLiteral("username")));
                          return Created(std::move(**created));
                      },
                      [this, done](ServiceResult<Created> stored) {
                          if (!stored) {
                              done(unexpected(stored.error()));
                              return;
                          }
                          if (const auto *error = std::get_if<ServiceError>(&*stored)) {
                              done(unexpected(*error));
                              return;
                          }
                          const sql::UserRecord created = std::get<sql::UserRecord>(*stored);
                          m_users.put(created);
                          record(QStringLiteral("setup"), QStringLiteral("admin_created"),
                                 QStringLiteral("user:%1").arg(created.id), details([&](JsonWriter &json) {
                                     json.field("username", created.username);
                                     json.field("by", "first-run wizard");
                                 }),
                                 QByteArray());
                          done(created);
                      });
              });
}

void VenueService::login(const Caller &caller, QString username, QString password, Reply<TokenPair> done)
{
    const VenueSettings current = settings();
    const LoginThrottle::Limit limit{std::uint32_t(current.loginMaxFailures),
                                     std::int64_t(current.loginWindowSeconds) * 1000};
    const QByteArray requestId = caller.requestId;
    if (const std::optional<std::uint32_t> wait = m_throttle.blockedFor(username, limit, m_monotonic.elapsed())) {
        ServiceError error = ServiceError::of(ErrorCode::RateLimited,
                                              QStringLiteral(
                                                  "too many failed logins for this account; try again later"));
        error.retryAfterSeconds = *wait;
        const QString ip = caller.peer;
        record(username, QStringLiteral("login_throttled"), QString(),
               details([&](JsonWriter &json) { json.field("ip", ip); }), requestId);
        done(unexpected(error));
        return;
    }
    read<std::optional<sql::UserCredentials>>(
        [username](QSqlDatabase &db) { return sql::findUserByName(db, username); },
        [this, username, password, done, limit, requestId,
         ip = caller.peer](ServiceResult<std::optional<sql::UserCredentials>> found) {
            if (!found) {
                done(unexpected(found.error()));
                return;
            }
            // An unknown user costs one full hash too (against no stored hash): same answer, about the same time.
            const std::optional<sql::UserCredentials> user = *found;
            const QString phc = user ? user->passwordHash : QString();
            whenReady(m_parts.hasher->verify(phc, password), this,
                      [this, user, username, done, limit, requestId, ip](PasswordCheck check) {
                          if (check == PasswordCheck::Busy) {
                              done(unexpected(unavailable(QStringLiteral("the server is busy; try again shortly"))));
                              return;
                          }
                          if (check != PasswordCheck::Match || !user || !user->user.active) {
                              m_throttle.recordFailure(username, limit, m_monotonic.elapsed());
                              record(username, QStringLiteral("login_failed"),
                                     user ? QStringLiteral("user:%1").arg(user->user.id) : QString(),
                                     details([&](JsonWriter &json) {
                                         json.field("reason",
                                                    check != PasswordCheck::Match ? "bad credentials" : "disabled");
                                         json.field("ip", ip);
                                     }),
                                     requestId);
                              done(unexpected(invalidCredentials()));
                              return;
                          }
                          m_throttle.recordSuccess(username);
                          const DirectoryEntry entry = UserDirectory::entryFor(user->user);
                          record(entry.username, QStringLiteral("login"), QStringLiteral("user:%1").arg(entry.id),
                                 details([&](JsonWriter &json) { json.field("ip", ip); }), requestId);
                          issueTokens(entry, newTokenId(), done, false, QByteArray(), requestId);
                      });
        });
}

void VenueService::issueTokens(const DirectoryEntry &user, QByteArray family,
                               std::function<void(ServiceResult<TokenPair>)> done, bool rotate,
                               QByteArray presentedDigest, QByteArray requestId)
{
    const std::int64_t nowSeconds = now() / 1'000'000'000;
    TokenClaims access;
    access.subject = user.id;
    access.role = roleName(user.role);
    access.issuedAt = nowSeconds;
    access.expiresAt = nowSeconds + JwtSigner::kAccessLifetimeSeconds;
    access.id = newTokenId();
    access.type = TokenType::Access;
    access.family = family;
    TokenClaims refreshClaims;
    refreshClaims.subject = user.id;
    refreshClaims.issuedAt = nowSeconds;
    refreshClaims.expiresAt = nowSeconds + JwtSigner::kRefreshLifetimeSeconds;
    refreshClaims.id = newTokenId();
    refreshClaims.type = TokenType::Refresh;
    refreshClaims.family = family;
    TokenPair pair;
    pair.accessToken = m_parts.signer->sign(access);
    pair.refreshToken = m_parts.signer->sign(refreshClaims);
    const QByteArray digest = tokenDigest(pair.refreshToken);
    const TimeNs at = nowSeconds * 1'000'000'000;
    const TimeNs expires = refreshClaims.expiresAt * 1'000'000'000;
    const AccountId userId = user.id;
    const QString username = user.username;
    if (!rotate) {
        read<bool>(
            [family, userId, digest, at, expires](QSqlDatabase &db) {
                return sql::createRefreshFamily(db, QString::fromLatin1(family), userId, QString::fromLatin1(digest),
                                                at, expires);
            },
            [done, pair](ServiceResult<bool> created) {
                if (!created)
                    done(unexpected(created.error()));
                else if (!*created) // the user was disabled meanwhile
                    done(unexpected(invalidCredentials()));
                else
                    done(pair);
            });
        return;
    }
    read<sql::RotateOutcome>(
        [family, presentedDigest, digest, at, expires](QSqlDatabase &db) {
            return sql::rotateRefreshToken(db, QString::fromLatin1(family), QString::fromLatin1(presentedDigest),
                                           QString::fromLatin1(digest), at, expires);
        },
        [this, done, pair, userId, username, family, requestId](ServiceResult<sql::RotateOutcome> rotated) {
            if (!rotated) {
                done(unexpected(rotated.error()));
                return;
            }
            if (rotated->kind == sql::RotateOutcome::Kind::Rotated && rotated->user == userId) {
                done(pair);
                return;
            }
            if (rotated->kind != sql::RotateOutcome::Kind::Rotated)
                revokeFamily(family);
            if (rotated->kind == sql::RotateOutcome::Kind::Reused)
                record(username, QStringLiteral("refresh_token_reused"), QStringLiteral("user:%1").arg(userId),
                       details([](JsonWriter &json) { json.field("effect", "login family revoked"); }), requestId);
            done(unexpected(invalidToken()));
        });
}

void VenueService::refresh(const Caller &caller, QByteArray refreshToken, Reply<TokenPair> done)
{
    const Expected<TokenClaims, JwtError> claims = m_parts.signer->verify(refreshToken, TokenType::Refresh,
                                                                          now() / 1'000'000'000);
    if (!claims) {
        done(unexpected(invalidToken()));
        return;
    }
    const std::optional<DirectoryEntry> entry = m_users.find(claims->subject);
    if (!entry || !entry->active) {
        done(unexpected(invalidToken()));
        return;
    }
    issueTokens(*entry, claims->family, std::move(done), true, tokenDigest(refreshToken), caller.requestId);
}

void VenueService::logout(const Caller &caller, QByteArray refreshToken, Reply<bool> done)
{
    if (!caller.authenticated()) {
        done(unexpected(ServiceError::of(ErrorCode::Unauthorized, QStringLiteral("authentication required"))));
        return;
    }
    // An expired refresh token still names its family: logging out must work with it too, so it is read
    // again as of a moment within its lifetime (verify() also refuses an "iat" after the time it is given).
    const std::int64_t nowSeconds = now() / 1'000'000'000;
    const Expected<TokenClaims, JwtError> current = m_parts.signer->verify(refreshToken, TokenType::Refresh, nowSeconds);
    const Expected<TokenClaims, JwtError> claims
        = !current && current.error() == JwtError::Expired
              ? m_parts.signer->verify(refreshToken, TokenType::Refresh, nowSeconds - JwtSigner::kRefreshLifetimeSeconds)
              : current;
    if (!claims || claims->subject != caller.user) {
        done(unexpected(
            ServiceError::of(ErrorCode::Unauthorized, QStringLiteral("the refresh token is not valid for this user"))));
        return;
    }
    const QString family = QString::fromLatin1(claims->family);
    const QByteArray requestId = caller.requestId;
    const QString actor = caller.username;
    const AccountId user = caller.user;
    read<bool>([family](QSqlDatabase &db) { return sql::revokeRefreshFamily(db, family); },
               [this, done, requestId, actor, user, family](ServiceResult<bool> revoked) {
                   if (!revoked) {
                       done(unexpected(revoked.error()));
                       return;
                   }
                   revokeFamily(family.toLatin1());
                   record(actor, QStringLiteral("logout"), QStringLiteral("user:%1").arg(user), QByteArray(), requestId);
                   done(true);
               });
}

void VenueService::revokeFamily(const QByteArray &family)
{
    const std::int64_t nowSeconds = now() / 1'000'000'000;
    // An entry outlives every access token issued before it: then it can go.
    if (m_revokedFamilies.size() >= 1024) {
        m_revokedFamilies.removeIf(
            [nowSeconds](const auto &entry) { return entry.value() + JwtSigner::kAccessLifetimeSeconds < nowSeconds; });
    }
    m_revokedFamilies.insert(family, nowSeconds);
}

// ---- market data

void VenueService::trades(std::optional<InstrumentId> instrument, sql::PageRequest page,
                          Reply<sql::Page<sql::TradeRecord>> done)
{
    read<sql::Page<sql::TradeRecord>>([instrument,
                                       page](QSqlDatabase &db) { return sql::listTrades(db, instrument, page); },
                                      std::move(done));
}

void VenueService::candles(InstrumentId instrument, std::int64_t intervalSeconds, int limit,
                           Reply<std::vector<sql::CandleRecord>> done)
{
    read<std::vector<sql::CandleRecord>>(
        [instrument, intervalSeconds, limit](QSqlDatabase &db) {
            return sql::latestCandles(db, instrument, intervalSeconds, limit);
        },
        std::move(done));
}

void VenueService::ticker(InstrumentId instrument, Reply<sql::TickerFigures> done)
{
    const TimeNs at = now();
    read<sql::TickerFigures>([instrument, at](QSqlDatabase &db) { return sql::ticker24h(db, instrument, at); },
                             std::move(done));
}

// ---- orders and account

void VenueService::placeOrder(const Caller &caller, PlaceOrder order, Reply<PlacedOrder> done)
{
    if (const auto allowed = requireRole(caller, Role::Trader); !allowed) {
        done(unexpected(allowed.error()));
        return;
    }
    order.account = caller.user;
    const std::optional<InstrumentView> instrument = m_market.instrument(order.symbol.view());
    submit(Command{now(), order}, [this, done, instrument](ServiceResult<EngineReply> reply) {
        if (!reply) {
            done(unexpected(reply.error()));
            return;
        }
        const CommandResult &result = reply->result;
        if (result.outcome == CommandResult::Outcome::Rejected) {
            done(unexpected(rejection(result, instrument)));
            return;
        }
        if (result.outcome == CommandResult::Outcome::Replayed) {
            const OrderId id = result.order;
            read<std::optional<sql::OrderRecord>>([id](QSqlDatabase &db) { return sql::findOrder(db, id); },
                                                  [done](ServiceResult<std::optional<sql::OrderRecord>> found) {
                                                      if (!found) {
                                                          done(unexpected(found.error()));
                                                          return;
                                                      }
                                                      if (!found->has_value()) {
                                                          done(unexpected(
                                                              ServiceError::of(ErrorCode::InternalError,
                                                                               QStringLiteral("internal error"))));
                                                          return;
                                                      }
                                                      PlacedOrder placed;
                                                      placed.order = **found;
                                                      placed.replayed = true;
                                                      done(std::move(placed));
                                                  });
            return;
        }
        done(orderFromEvents(reply->events, result.order));
    });
}

void VenueService::order(const Caller &caller, OrderId id, Reply<sql::OrderRecord> done)
{
    if (const auto allowed = requireRole(caller, Role::Viewer); !allowed) {
        done(unexpected(allowed.error()));
        return;
    }
    const AccountId user = caller.user;
    const bool admin = caller.isAdmin();
    read<std::optional<sql::OrderRecord>>([id](QSqlDatabase &db) { return sql::findOrder(db, id); },
                                          [done, user, admin](ServiceResult<std::optional<sql::OrderRecord>> found) {
                                              if (!found) {
                                                  done(unexpected(found.error()));
                                                  return;
                                              }
                                              if (!found->has_value() || (!admin && (*found)->user != user)) {
                                                  done(unexpected(ServiceError::of(ErrorCode::NotFound,
                                                                                   QStringLiteral("order not found"))));
                                                  return;
                                              }
                                              done(**found);
                                          });
}

void VenueService::amendOrder(const Caller &caller, OrderId id, std::optional<Decimal> price,
                              std::optional<Decimal> quantity, Reply<sql::OrderRecord> done)
{
    if (const auto allowed = requireRole(caller, Role::Trader); !allowed) {
        done(unexpected(allowed.error()));
        return;
    }
    AmendOrder amend{caller.isAdmin() ? kAnyAccount : caller.user, id, price, quantity};
    // The instrument, for the reject message's tick and lot: the order's own, read from the open order index.
    const std::optional<InstrumentView> instrument = m_market.instrumentOfOrder(id);
    const Caller who = caller;
    submit(Command{now(), amend}, [this, done, instrument, id, who](ServiceResult<EngineReply> reply) {
        if (!reply) {
            done(unexpected(reply.error()));
            return;
        }
        if (!reply->result.ok()) {
            if (reply->result.reason == RejectReason::UnknownOrder) {
                done(unexpected(ServiceError::of(ErrorCode::NotFound, QStringLiteral("order not found"))));
                return;
            }
            if (reply->result.reason == RejectReason::OrderNotOpen) {
                // Closed: but is it the caller's? Another user's closed order is a 404, as in cancelOrder().
                const ServiceError notOpen = rejection(reply->result, instrument);
                order(who, id, [done, notOpen](ServiceResult<sql::OrderRecord> found) {
                    done(unexpected(found ? notOpen : found.error()));
                });
                return;
            }
            done(unexpected(rejection(reply->result, instrument)));
            return;
        }
        order(who, id, done);
    });
}

void VenueService::cancelOrder(const Caller &caller, OrderId id, Reply<sql::OrderRecord> done)
{
    if (const auto allowed = requireRole(caller, Role::Trader); !allowed) {
        done(unexpected(allowed.error()));
        return;
    }
    const Caller who = caller;
    submit(Command{now(), CancelOrder{caller.isAdmin() ? kAnyAccount : caller.user, id}},
           [this, done, id, who](ServiceResult<EngineReply> reply) {
               if (!reply) {
                   done(unexpected(reply.error()));
                   return;
               }
               if (!reply->result.ok()) {
                   if (reply->result.reason == RejectReason::OrderNotOpen) {
                       // Closed: but is it the caller's? Another user's closed order is a 404 like any other.
                       order(who, id, [done](ServiceResult<sql::OrderRecord> found) {
                           if (!found)
                               done(unexpected(found.error()));
                           else
                               done(unexpected(
                                   ServiceError::of(ErrorCode::OrderNotOpen, QStringLiteral("the order is not open"))));
                       });
                       return;
                   }
                   done(unexpected(ServiceError::of(ErrorCode::NotFound, QStringLiteral("order not found"))));
                   return;
               }
               order(who, id, done);
           });
}

void VenueService::cancelAll(const Caller &caller, std::optional<InstrumentId> instrument, Reply<CancelAllResult> done)
{
    if (const auto allowed = requireRole(caller, Role::Trader); !allowed) {
        done(unexpected(allowed.error()));
        return;
    }
    MassCancel cancel;
    cancel.account = caller.user; // an admin's cancel-all is their own too; the kill switch is the venue-wide one
    if (instrument) {
        const std::optional<InstrumentView> view = m_market.instrument(*instrument);
        if (view)
            cancel.symbol = view->symbol;
    }
    submit(Command{now(), cancel}, [done](ServiceResult<EngineReply> reply) {
        if (!reply) {
            done(unexpected(reply.error()));
            return;
        }
        CancelAllResult result;
        for (const Event &event : reply->events) {
            if (const auto *cancelled = std::get_if<OrderCancelled>(&event.body))
                result.orders.push_back(cancelled->order);
        }
        done(std::move(result));
    });
}

void VenueService::orders(const Caller &caller, sql::OrderFilter filter, sql::PageRequest page,
                          Reply<sql::Page<sql::OrderRecord>> done)
{
    const ServiceResult<sql::OrderFilter> allowed = checkedOrderFilter(caller, filter);
    if (!allowed) {
        done(unexpected(allowed.error()));
        return;
    }
    const sql::OrderFilter checked = *allowed;
    read<sql::Page<sql::OrderRecord>>([checked, page](QSqlDatabase &db) { return sql::listOrders(db, checked, page); },
                                      std::move(done));
}

ServiceResult<sql::OrderFilter> VenueService::checkedOrderFilter(const Caller &caller, sql::OrderFilter filter) const
{
    if (const auto allowed = requireRole(caller, Role::Viewer); !allowed)
        return unexpected(allowed.error());
    if (!caller.isAdmin()) {
        if (filter.user && *filter.user != caller.user)
            return unexpected(ServiceError::of(ErrorCode::Forbidden,
                                               QStringLiteral("only admins may list other users' orders"),
                                               QStringLiteral("user_id")));
        filter.user = caller.user;
    }
    return filter;
}

void VenueService::exportChunk(std::shared_ptr<sql::OrderExport> cursor, Reply<std::vector<sql::OrderRecord>> done)
{
    read<std::vector<sql::OrderRecord>>([cursor](QSqlDatabase &db) { return cursor->next(db); }, std::move(done));
}

void VenueService::fills(const Caller &caller, std::optional<InstrumentId> instrument, sql::PageRequest page,
                         Reply<sql::Page<sql::FillRecord>> done)
{
    if (const auto allowed = requireRole(caller, Role::Viewer); !allowed) {
        done(unexpected(allowed.error()));
        return;
    }
    const AccountId user = caller.user;
    read<sql::Page<sql::FillRecord>>([user, instrument,
                                      page](QSqlDatabase &db) { return sql::listFills(db, user, instrument, page); },
                                     std::move(done));
}

void VenueService::balances(const Caller &caller, AccountId user, Reply<std::vector<sql::BalanceRecord>> done)
{
    if (const auto allowed = requireRole(caller, Role::Viewer); !allowed) {
        done(unexpected(allowed.error()));
        return;
    }
    if (user != caller.user && !caller.isAdmin()) {
        done(unexpected(ServiceError::of(ErrorCode::Forbidden, QStringLiteral("only admins may read other accounts"))));
        return;
    }
    read<std::vector<sql::BalanceRecord>>([user](QSqlDatabase &db) { return sql::balances(db, user); }, std::move(done));
}

ServiceResult<CancelAfterStatus> VenueService::cancelAfter(const Caller &caller, int timeoutSeconds)
{
    if (const auto allowed = requireRole(caller, Role::Trader); !allowed)
        return unexpected(allowed.error());
    armCancelAfter(caller.user, timeoutSeconds);
    CancelAfterStatus status;
    status.timeoutSeconds = timeoutSeconds;
    const auto it = m_deadMen.find(caller.user);
    status.cancelAt = it == m_deadMen.end() ? 0 : it->second.cancelAt;
    return status;
}

void VenueService::armCancelAfter(AccountId user, int timeoutSeconds)
{
    if (timeoutSeconds <= 0) {
        if (const auto it = m_deadMen.find(user); it != m_deadMen.end()) {
            it->second.timer->stop();
            it->second.timeoutSeconds = 0;
            it->second.cancelAt = 0;
        }
        return;
    }
    DeadMan &deadMan = m_deadMen[user];
    if (!deadMan.timer) {
        deadMan.timer = std::make_unique<QTimer>();
        deadMan.timer->setSingleShot(true);
        deadMan.timer->setTimerType(Qt::PreciseTimer);
        QObject::connect(deadMan.timer.get(), &QTimer::timeout, this, [this, user] {
            // Disarmed, but the timer stays: it is the sender of this very signal.
            DeadMan &fired = m_deadMen[user];
            fired.timeoutSeconds = 0;
            fired.cancelAt = 0;
            MassCancel cancel;
            cancel.account = user;
            submit(Command{now(), cancel}, [this, user](ServiceResult<EngineReply> reply) {
                std::uint32_t cancelled = reply ? reply->result.affected : 0;
                record(QStringLiteral("system"), QStringLiteral("cancel_after_fired"),
                       QStringLiteral("user:%1").arg(user), details([&](JsonWriter &json) {
                           json.field("cancelled", std::int64_t(cancelled));
                           json.field("ok", bool(reply));
                       }),
                       QByteArray());
            });
        });
    }
    deadMan.timeoutSeconds = timeoutSeconds;
    deadMan.cancelAt = now() + TimeNs(timeoutSeconds) * 1'000'000'000;
    deadMan.timer->start(std::chrono::seconds(timeoutSeconds));
}

// ---- administration

void VenueService::users(const Caller &caller, sql::PageRequest page, Reply<sql::Page<sql::UserRecord>> done)
{
    if (const auto allowed = requireRole(caller, Role::Admin); !allowed) {
        done(unexpected(allowed.error()));
        return;
    }
    read<sql::Page<sql::UserRecord>>([page](QSqlDatabase &db) { return sql::listUsers(db, page); }, std::move(done));
}

void VenueService::updateUser(const Caller &caller, AccountId id, UserChanges changes, Reply<sql::UserRecord> done)
{
    if (const auto allowed = requireRole(caller, Role::Admin); !allowed) {
        done(unexpected(allowed.error()));
        return;
    }
    if (id == caller.user && ((changes.role && *changes.role != Role::Admin) || (changes.active && !*changes.active))) {
        done(unexpected(ServiceError::of(ErrorCode::Conflict,
                                         QStringLiteral("an admin cannot demote or disable their own account"))));
        return;
    }
    sql::UserChanges stored;
    if (changes.role)
        stored.role = QString(roleName(*changes.role));
    stored.active = changes.active;
    if (changes.tier)
        stored.rateLimitTier = QString(rateTierName(*changes.tier));
    const TimeNs at = now();
    const QByteArray requestId = caller.requestId;
    const QString actor = caller.username;
    read<std::optional<sql::UserRecord>>([id, stored,
                                          at](QSqlDatabase &db) { return sql::updateUser(db, id, stored, at); },
                                         [this, done, requestId, actor,
                                          changes](ServiceResult<std::optional<sql::UserRecord>> updated) {
                                             if (!updated) {
                                                 done(unexpected(updated.error()));
                                                 return;
                                             }
                                             if (!updated->has_value()) {
                                                 done(unexpected(ServiceError::of(ErrorCode::NotFound,
                                                                                  QStringLiteral("user not found"))));
                                                 return;
                                             }
                                             const sql::UserRecord &user = **updated;
                                             m_users.put(user);
                                             record(actor, QStringLiteral("user_updated"),
                                                    QStringLiteral("user:%1").arg(user.id),
                                                    details([&](JsonWriter &json) {
                                                        if (changes.role)
                                                            json.field("role", roleName(*changes.role).data());
                                                        if (changes.active)
                                                            json.field("active", *changes.active);
                                                        if (changes.tier)
                                                            json.field("rate_limit_tier",
                                                                       rateTierName(*changes.tier).data());
                                                    }),
                                                    requestId);
                                             done(user);
                                         });
}

void VenueService::moveFunds(const Caller &caller, AccountId user, bool deposit, QString asset, Decimal amount,
                             Reply<std::vector<sql::BalanceRecord>> done)
{
    if (const auto allowed = requireRole(caller, Role::Admin); !allowed) {
        done(unexpected(allowed.error()));
        return;
    }
    if (!m_users.find(user)) {
        done(unexpected(ServiceError::of(ErrorCode::NotFound, QStringLiteral("user not found"))));
        return;
    }
    const QByteArray code = asset.toUtf8();
    if (code.isEmpty() || code.size() > qsizetype(AssetCode::capacity)) {
        done(unexpected(ServiceError::of(ErrorCode::ValidationError,
                                         QStringLiteral("asset must be 1-16 characters of A-Z and 0-9"),
                                         QStringLiteral("asset"))));
        return;
    }
    const AssetCode assetCode(std::string_view(code.constData(), std::size_t(code.size())));
    Command command{now(), deposit ? CommandBody(Deposit{user, assetCode, amount})
                                   : CommandBody(Withdraw{user, assetCode, amount})};
    const QByteArray requestId = caller.requestId;
    const QString actor = caller.username;
    const Caller who = caller;
    submit(command, [this, done, user, deposit, asset, amount, requestId, actor, who](ServiceResult<EngineReply> reply) {
        if (!reply) {
            done(unexpected(reply.error()));
            return;
        }
        if (!reply->result.ok()) {
            done(unexpected(rejection(reply->result, std::nullopt)));
            return;
        }
        record(actor, deposit ? QStringLiteral("deposit") : QStringLiteral("withdrawal"),
               QStringLiteral("user:%1").arg(user), details([&](JsonWriter &json) {
                   json.field("asset", asset);
                   json.field("amount", amount);
               }),
               requestId);
        balances(who, user, done);
    });
}

void VenueService::addInstrument(const Caller &caller, AddInstrument instrument, Reply<InstrumentView> done)
{
    if (const auto allowed = requireRole(caller, Role::Admin); !allowed) {
        done(unexpected(allowed.error()));
        return;
    }
    const QByteArray requestId = caller.requestId;
    const QString actor = caller.username;
    submit(Command{now(), instrument}, [this, done, requestId, actor](ServiceResult<EngineReply> reply) {
        if (!reply) {
            done(unexpected(reply.error()));
            return;
        }
        if (!reply->result.ok()) {
            ServiceError error = rejection(reply->result, std::nullopt);
            if (reply->result.reason == RejectReason::InstrumentExists)
                error.code = ErrorCode::Conflict;
            done(unexpected(error));
            return;
        }
        for (const Event &event : reply->events) {
            if (const auto *added = std::get_if<InstrumentAdded>(&event.body)) {
                const InstrumentView &view = added->instrument;
                record(actor, QStringLiteral("instrument_created"),
                       QStringLiteral("instrument:") + text(view.symbol.view()), details([&](JsonWriter &json) {
                           json.field("base", view.base.view());
                           json.field("quote", view.quote.view());
                           json.field("tick_size", view.tickSize);
                           json.field("lot_size", view.lotSize);
                           json.field("min_quantity", view.minQuantity);
                       }),
                       requestId);
                done(view);
                return;
            }
        }
        done(unexpected(ServiceError::of(ErrorCode::InternalError, QStringLiteral("internal error"))));
    });
}

void VenueService::setInstrumentStatus(const Caller &caller, QString symbol, InstrumentStatus status,
                                       Reply<InstrumentView> done)
{
    if (const auto allowed = requireRole(caller, Role::Admin); !allowed) {
        done(unexpected(allowed.error()));
        return;
    }
    const QByteArray bytes = symbol.toUtf8();
    const std::optional<InstrumentView> instrument = m_market.instrument(
        std::string_view(bytes.constData(), std::size_t(bytes.size())));
    if (!instrument) {
        done(unexpected(ServiceError::of(ErrorCode::NotFound, QStringLiteral("unknown symbol %1").arg(symbol))));
        return;
    }
    const QByteArray requestId = caller.requestId;
    const QString actor = caller.username;
    SetInstrumentStatus command{instrument->symbol, status, false};
    submit(Command{now(), command}, [this, done, requestId, actor, instrument,
                                     status](ServiceResult<EngineReply> reply) {
        if (!reply) {
            done(unexpected(reply.error()));
            return;
        }
        if (!reply->result.ok()) {
            done(unexpected(rejection(reply->result, instrument)));
            return;
        }
        InstrumentView view = *instrument;
        view.status = status;
        record(actor, QStringLiteral("instrument_status_changed"),
               QStringLiteral("instrument:") + text(view.symbol.view()),
               details([&](JsonWriter &json) { json.field("status", instrumentStatusName(status)); }), requestId);
        done(view);
    });
}

void VenueService::killSwitch(const Caller &caller, std::optional<QString> symbol, Reply<KillSwitchResult> done)
{
    if (const auto allowed = requireRole(caller, Role::Admin); !allowed) {
        done(unexpected(allowed.error()));
        return;
    }
    std::vector<InstrumentView> targets;
    if (symbol) {
        const QByteArray bytes = symbol->toUtf8();
        const std::optional<InstrumentView> instrument = m_market.instrument(
            std::string_view(bytes.constData(), std::size_t(bytes.size())));
        if (!instrument) {
            done(unexpected(ServiceError::of(ErrorCode::NotFound, QStringLiteral("unknown symbol %1").arg(*symbol),
                                             QStringLiteral("symbol"))));
            return;
        }
        targets.push_back(*instrument);
    } else {
        targets = m_market.instruments();
    }
    struct Progress
    {
        KillSwitchResult result;
        std::size_t pending = 0;
        std::optional<ServiceError> error;
    };
    auto progress = std::make_shared<Progress>();
    progress->pending = targets.size();
    const QByteArray requestId = caller.requestId;
    const QString actor = caller.username;
    if (targets.empty()) {
        done(progress->result);
        return;
    }
    for (const InstrumentView &instrument : targets) {
        const QString name = text(instrument.symbol.view());
        submit(Command{now(), SetInstrumentStatus{instrument.symbol, InstrumentStatus::Halted, true}},
               [this, progress, done, name, requestId, actor](ServiceResult<EngineReply> reply) {
                   if (!reply)
                       progress->error = reply.error();
                   else if (reply->result.ok()) {
                       progress->result.halted.push_back(name);
                       progress->result.cancelled += reply->result.affected;
                   }
                   if (--progress->pending > 0)
                       return;
                   std::sort(progress->result.halted.begin(), progress->result.halted.end());
                   record(actor, QStringLiteral("kill_switch"),
                          progress->result.halted.size() == 1
                              ? QStringLiteral("instrument:") + progress->result.halted.front()
                              : QStringLiteral("*"),
                          details([&](JsonWriter &json) {
                              json.key("halted").beginArray();
                              for (const QString &halted : progress->result.halted)
                                  json.string(halted);
                              json.endArray();
                              json.field("cancelled", std::int64_t(progress->result.cancelled));
                          }),
                          requestId);
                   if (progress->error && progress->result.halted.empty())
                       done(unexpected(*progress->error));
                   else
                       done(progress->result);
               });
    }
}

VenueSettings VenueService::settings() const
{
    const std::lock_guard lock(m_settingsMutex);
    return m_settings;
}

void VenueService::updateSettings(const Caller &caller, VenueSettings next, QByteArray patchJson,
                                  Reply<VenueSettings> done)
{
    if (const auto allowed = requireRole(caller, Role::Admin); !allowed) {
        done(unexpected(allowed.error()));
        return;
    }
    // Only the members the patch names are stored: the others keep following the settings the venue starts
    // with (the config file's [limits]). A patch that does not read back (never, from the two callers) stores
    // every member, as a full save would.
    const Expected<JsonDocument, JsonError> patch = readJson(
        std::string_view(patchJson.constData(), std::size_t(patchJson.size())));
    const std::vector<std::pair<QString, QString>> rows = patch ? next.toRows(patch->root()) : next.toRows();
    const AccountId by = caller.user;
    const TimeNs at = now();
    const QByteArray requestId = caller.requestId;
    const QString actor = caller.username;
    read<std::int64_t>([rows, by, at](QSqlDatabase &db) { return sql::saveSettings(db, rows, by, at); },
                       [this, done, next, requestId, actor, patchJson](ServiceResult<std::int64_t> saved) {
                           if (!saved) {
                               done(unexpected(saved.error()));
                               return;
                           }
                           {
                               const std::lock_guard lock(m_settingsMutex);
                               m_settings = next;
                           }
                           record(actor, QStringLiteral("settings_changed"), QStringLiteral("settings"), patchJson,
                                  requestId);
                           emit settingsChanged(next);
                           done(next);
                       });
}

void VenueService::audit(const Caller &caller, sql::PageRequest page, Reply<sql::Page<sql::AuditRecord>> done)
{
    if (const auto allowed = requireRole(caller, Role::Admin); !allowed) {
        done(unexpected(allowed.error()));
        return;
    }
    read<sql::Page<sql::AuditRecord>>([page](QSqlDatabase &db) { return sql::listAudit(db, page); }, std::move(done));
}

void VenueService::record(const QString &actor, const QString &action, const QString &target,
                          const QByteArray &detailsJson, const QByteArray &requestId)
{
    sql::NewAuditEntry entry{now(),
                             actor,
                             action,
                             target,
                             QString::fromUtf8(detailsJson),
                             QString::fromLatin1(requestId)};
    whenReady(m_parts.queries->submit([entry](QSqlDatabase &db) { return sql::appendAudit(db, entry); }), this,
              [action](sql::QueryResult<std::int64_t> appended) {
                  if (!appended)
                      qCWarning(lcServer).noquote()
                          << "the audit log could not record" << action << ":" << appended.error().message;
              });
}

// ---- health

bool VenueService::engineHealthy() const
{
    return m_parts.engine->isRunning() && m_parts.engine->acceptsCommands();
}

void VenueService::databaseCheck(std::function<void(std::optional<QString>)> done)
{
    const auto check = [](QSqlDatabase &db) -> Expected<bool, QString> {
        QSqlQuery query(db);
        if (!query.exec(QStringLiteral("SELECT 1")) || !query.next())
            return unexpected(sql::errorLine(query.lastError()));
        return true;
    };
    whenReady(m_parts.queries->submit(check), this, [done](sql::QueryResult<bool> result) {
        if (result)
            done(std::nullopt);
        else
            done(result.error().message.isEmpty() ? QStringLiteral("unreachable") : result.error().message);
    });
}

void VenueService::commitObserved(qint64 microseconds)
{
    const std::lock_guard lock(m_commitMutex);
    if (m_commitMicroseconds.size() < kCommitWindow)
        m_commitMicroseconds.push_back(microseconds);
    else
        m_commitMicroseconds[m_commitNext] = microseconds;
    m_commitNext = (m_commitNext + 1) % kCommitWindow;
}

std::pair<double, double> VenueService::commitLatencyMs() const
{
    std::vector<qint64> sorted;
    {
        const std::lock_guard lock(m_commitMutex);
        sorted = m_commitMicroseconds;
    }
    if (sorted.empty())
        return {0.0, 0.0};
    std::sort(sorted.begin(), sorted.end());
    const auto at = [&](double p) {
        return double(sorted[std::min(sorted.size() - 1, std::size_t(p * double(sorted.size())))]) / 1000.0;
    };
    return {at(0.5), at(0.99)};
}

sql::QueryPool::Stats VenueService::poolStats() const
{
    return m_parts.queries->stats();
}

} // namespace bourse::server
