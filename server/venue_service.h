// VenueService: the one way into the venue for every front end — the HTTP routes now, the WebSocket and
// the desktop GUI later (DESIGN.md). Commands and queries carry a Caller (user id, role); the service checks
// what the caller may do, turns requests into engine commands or repository reads, and answers with typed
// values or a ServiceError (an ErrorCode, a message and the field at fault), never with HTTP.
//
// Threads: the service lives on one thread (the HTTP thread) and every method is called there. Work runs
// elsewhere — engine commands on the engine thread, reads and the auth tables on the query pool, Argon2id on
// the password hasher — and every reply callback is called back on the service's thread.
#pragma once

#include "account_state.h"
#include "engine_host.h"
#include "error_code.h"
#include "jwt.h"
#include "market_state.h"
#include "password_hasher.h"
#include "query_pool.h"
#include "rate_limiter.h"
#include "repositories.h"
#include "user_directory.h"
#include "venue_settings.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QTimer>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace bourse::server {

// What is wrong with a new password, if anything: the one rule for registration, new users and the
// command line's reset ("password must be 8-128 characters", counted in Unicode characters).
std::optional<QString> passwordProblem(const QString &password);

// Who asks. user 0: an anonymous caller (public routes only).
struct Caller
{
    AccountId user = 0;
    QString username;
    Role role = Role::Viewer;
    RateTier tier = RateTier::Anonymous;
    QByteArray requestId;
    QString peer; // the client's address, for the audit log of logins

    bool authenticated() const { return user != 0; }
    bool isAdmin() const { return role == Role::Admin; }
};

struct ServiceError
{
    ErrorCode code = ErrorCode::InternalError;
    QString message;
    QString field;                             // empty when no one field is at fault
    std::optional<BalanceShortfall> shortfall; // InsufficientBalance
    std::uint32_t retryAfterSeconds = 0;       // RateLimited

    static ServiceError of(ErrorCode code, QString message, QString field = {})
    {
        return ServiceError{code, std::move(message), std::move(field), std::nullopt, 0};
    }
};

template<typename T>
using ServiceResult = Expected<T, ServiceError>;
template<typename T>
using Reply = std::function<void(ServiceResult<T>)>;

struct TokenPair
{
    QByteArray accessToken;
    QByteArray refreshToken;
    std::int64_t expiresIn = JwtSigner::kAccessLifetimeSeconds;
};

// A trade a new order made on arrival.
struct OrderFill
{
    TradeId trade = 0;
    Decimal price;
    Decimal quantity;
};

struct PlacedOrder
{
    sql::OrderRecord order;
    std::vector<OrderFill> fills;
    bool replayed = false; // a retry with the same client_order_id and payload: nothing new happened
};

struct CancelAllResult
{
    std::vector<OrderId> orders;
};

struct CancelAfterStatus
{
    int timeoutSeconds = 0;
    TimeNs cancelAt = 0; // 0 when off
};

struct KillSwitchResult
{
    std::vector<QString> halted;
    std::uint32_t cancelled = 0;
};

struct UserChanges
{
    std::optional<Role> role;
    std::optional<bool> active;
    std::optional<RateTier> tier;
};

// Running figures for /admin/system/stats and /metrics, kept by the service.
struct EngineFigures
{
    std::uint64_t orders = 0; // orders accepted since the venue began (the engine's last order id)
    std::uint64_t trades = 0;
    std::uint64_t openOrders = 0;
    Seq seq = 0;
};

// What one committed batch changed, announced right after market() and accounts() took it in: the streams
// (and the desktop GUI) publish from it. Events with seq < firstNewSeq were announced before (a batch
// delivered twice) and must be skipped.
struct DurableBatch
{
    const std::vector<Event> *events = nullptr; // valid during the signal only: connect on the service's thread
    Seq firstNewSeq = 0;
    std::vector<BookDelta> books;
    AccountChanges accounts;
};

class VenueService final : public QObject
{
    Q_OBJECT

public:
    struct Parts
    {
        EngineHost *engine = nullptr;
        sql::QueryPool *queries = nullptr;
        PasswordHasher *hasher = nullptr;
        const JwtSigner *signer = nullptr;
        QString databaseDriver; // "sqlite" | "postgresql", for the stats
    };

    VenueService(Parts parts, QObject *parent = nullptr);
    ~VenueService() override;

    // Start-up, before serving: the users, the settings, the market as the recovered engine left it.
    void load(std::vector<sql::UserRecord> users, VenueSettings settings, MarketState market, EngineFigures figures,
              AccountState accounts = {});

    // ---- identity
    // The caller an access token stands for, with the role and tier the directory holds now.
    ServiceResult<Caller> authenticate(QByteArrayView accessToken, QByteArray requestId) const;
    void registerUser(const Caller &caller, QString username, QString password, Reply<sql::UserRecord> done);
    void login(const Caller &caller, QString username, QString password, Reply<TokenPair> done);
    void refresh(const Caller &caller, QByteArray refreshToken, Reply<TokenPair> done);
    void logout(const Caller &caller, QByteArray refreshToken, Reply<bool> done);
    std::optional<DirectoryEntry> user(AccountId id) const { return m_users.find(id); }
    // A user created outside the service's own calls (the first admin at start-up).
    void remember(const sql::UserRecord &user) { m_users.put(user); }

    // ---- market data
    const MarketState &market() const { return m_market; }
    // Every account's open orders and balances, as of the last durable batch.
    const AccountState &accounts() const { return m_accounts; }
    void trades(std::optional<InstrumentId> instrument, sql::PageRequest page, Reply<sql::Page<sql::TradeRecord>> done);
    void candles(InstrumentId instrument, std::int64_t intervalSeconds, int limit,
                 Reply<std::vector<sql::CandleRecord>> done);
    void ticker(InstrumentId instrument, Reply<sql::TickerFigures> done);

    // ---- orders and account
    void placeOrder(const Caller &caller, PlaceOrder order, Reply<PlacedOrder> done);
    void amendOrder(const Caller &caller, OrderId id, std::optional<Decimal> price, std::optional<Decimal> quantity,
                    Reply<sql::OrderRecord> done);
    void cancelOrder(const Caller &caller, OrderId id, Reply<sql::OrderRecord> done);
    void cancelAll(const Caller &caller, std::optional<InstrumentId> instrument, Reply<CancelAllResult> done);
    void order(const Caller &caller, OrderId id, Reply<sql::OrderRecord> done);
    void orders(const Caller &caller, sql::OrderFilter filter, sql::PageRequest page,
                Reply<sql::Page<sql::OrderRecord>> done);
    void fills(const Caller &caller, std::optional<InstrumentId> instrument, sql::PageRequest page,
               Reply<sql::Page<sql::FillRecord>> done);
    void balances(const Caller &caller, AccountId user, Reply<std::vector<sql::BalanceRecord>> done);
    ServiceResult<CancelAfterStatus> cancelAfter(const Caller &caller, int timeoutSeconds);
    // The filter a caller may use for orders() and the export: a non-admin's own orders only (another
    // user_id is FORBIDDEN), an admin's choice of user.
    ServiceResult<sql::OrderFilter> checkedOrderFilter(const Caller &caller, sql::OrderFilter filter) const;
    // The next chunk of a CSV export whose filter checkedOrderFilter() gave.
    void exportChunk(std::shared_ptr<sql::OrderExport> cursor, Reply<std::vector<sql::OrderRecord>> done);

    // ---- administration (role admin; checked here too)
    void users(const Caller &caller, sql::PageRequest page, Reply<sql::Page<sql::UserRecord>> done);
    void createUser(const Caller &caller, QString username, QString password, Role role, Reply<sql::UserRecord> done);
    // The desktop's first-run wizard: creates the venue's first admin, and only while no admin exists
    // (CONFLICT once one does). Same username and password rules as every other account.
    void createFirstAdmin(QString username, QString password, Reply<sql::UserRecord> done);
    void updateUser(const Caller &caller, AccountId id, UserChanges changes, Reply<sql::UserRecord> done);
    void moveFunds(const Caller &caller, AccountId user, bool deposit, QString asset, Decimal amount,
                   Reply<std::vector<sql::BalanceRecord>> done);
    void addInstrument(const Caller &caller, AddInstrument instrument, Reply<InstrumentView> done);
    void setInstrumentStatus(const Caller &caller, QString symbol, InstrumentStatus status, Reply<InstrumentView> done);
    void killSwitch(const Caller &caller, std::optional<QString> symbol, Reply<KillSwitchResult> done);
    VenueSettings settings() const; // any thread: a copy
    // The service's thread only (where the settings change): a reference, no copy, no lock.
    const VenueSettings &currentSettings() const { return m_settings; }
    void updateSettings(const Caller &caller, VenueSettings next, QByteArray patchJson, Reply<VenueSettings> done);
    void audit(const Caller &caller, sql::PageRequest page, Reply<sql::Page<sql::AuditRecord>> done);
    // Records an action in the audit log; failures are logged, never the caller's problem.
    void record(const QString &actor, const QString &action, const QString &target, const QByteArray &detailsJson,
                const QByteArray &requestId);

    // ---- health and figures
    EngineFigures engineFigures() const { return m_figures; }
    bool engineHealthy() const;
    void databaseCheck(std::function<void(std::optional<QString>)> done);
    sql::QueryPool::Stats poolStats() const;
    const QString &databaseDriver() const { return m_parts.databaseDriver; }
    qint64 uptimeSeconds() const { return m_started.elapsed() / 1000; }
    // The journal's commit durations: recorded from the journal thread, read as the median and 99th
    // percentile of the last kCommitWindow commits (milliseconds; 0 before the first).
    static constexpr std::size_t kCommitWindow = 1024;
    void commitObserved(qint64 microseconds);
    std::pair<double, double> commitLatencyMs() const;

    static TimeNs now();

signals:
    void settingsChanged(const bourse::server::VenueSettings &settings);
    // After a batch of durable events was applied to market() and accounts(); see DurableBatch.
    void batchCommitted(const bourse::server::DurableBatch &batch);

private:
    template<typename T, typename Job>
    void read(Job &&job, Reply<T> done);
    void submit(Command command, std::function<void(ServiceResult<EngineReply>)> done);
    // Creates an account: by an admin (createUser: audited as user_created by the admin) or by registration
    // (registerUser: audited as register by the new user), whoever the caller's token says it is.
    void addUser(const Caller &caller, bool byAdmin, QString username, QString password, Role role,
                 Reply<sql::UserRecord> done);
    void deliverReplies(); // the engine's replies that have queued, on this thread
    ServiceError rejection(const CommandResult &result, const std::optional<InstrumentView> &instrument) const;
    ServiceResult<Caller> requireRole(const Caller &caller, Role role) const;
    QString assetCode(AssetId asset) const;
    void issueTokens(const DirectoryEntry &user, QByteArray family, std::function<void(ServiceResult<TokenPair>)> done,
                     bool rotate, QByteArray presentedDigest, QByteArray requestId);
    void onBatch(const bourse::server::EngineBatch &batch);
    void armCancelAfter(AccountId user, int timeoutSeconds);

    // Access tokens this service has verified, so that a client's every request does not pay for the HMAC
    // and the JSON of its token again: by the token's exact bytes, with what it says and when it expires.
    // The service's thread only; cleared whole when it reaches kTokenCacheSize.
    static constexpr qsizetype kTokenCacheSize = 10'000;
    struct VerifiedToken
    {
        AccountId subject = 0;
        std::int64_t expiresAt = 0;
        QByteArray family; // the login the token belongs to
    };
    mutable QHash<QByteArray, VerifiedToken> m_verifiedTokens;
    // Login families revoked (logout, a reused refresh token) within the last access-token lifetime, with
    // when: their access tokens are refused too (spec §4: every token of the family). The service's thread.
    QHash<QByteArray, std::int64_t> m_revokedFamilies;
    void revokeFamily(const QByteArray &family);

    Parts m_parts;
    UserDirectory m_users;
    MarketState m_market;     // the service's thread only
    AccountState m_accounts;  // the service's thread only
    EngineFigures m_figures;
    LoginThrottle m_throttle;
    QElapsedTimer m_started;
    QElapsedTimer m_monotonic;

    struct PendingReply
    {
        std::function<void(ServiceResult<EngineReply>)> done;
        EngineReply reply;
    };
    std::mutex m_repliesMutex;
    std::vector<PendingReply> m_replies; // guarded by m_repliesMutex
    bool m_repliesPosted = false;        // guarded by m_repliesMutex: a deliverReplies() call is on its way

    mutable std::mutex m_commitMutex;
    std::vector<qint64> m_commitMicroseconds; // guarded by m_commitMutex; a ring of kCommitWindow
    std::size_t m_commitNext = 0;             // guarded by m_commitMutex

    mutable std::mutex m_settingsMutex;
    VenueSettings m_settings; // guarded by m_settingsMutex

    struct DeadMan
    {
        std::unique_ptr<QTimer> timer;
        int timeoutSeconds = 0;
        TimeNs cancelAt = 0;
    };
    std::unordered_map<AccountId, DeadMan> m_deadMen;
};

// A deep copy of the order a PlaceOrder's events describe (the engine's reply), as the orders projection
// will hold it after the same events; fills are the trades it made as taker.
PlacedOrder orderFromEvents(const std::vector<Event> &events, OrderId id);

} // namespace bourse::server
