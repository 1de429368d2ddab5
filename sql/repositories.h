// The repositories: the typed reads behind the API's queries (spec/API.md §3, §5, §6) over the projection
// tables and the ordinary ones: orders, the CSV export, public trades, a user's fills, candles, the 24 h
// ticker, balances, instruments, users and the audit log. Rows come back as typed values in the tables'
// own units (raw 10^-8 amounts as Decimal, *_ns times, enums), never as JSON: the HTTP layer formats them.
// Every listing is newest first and reads in that order through an index or a primary key, without sorting
// (tests/sql/tst_repositories.cpp checks the plans).
// Free functions over a QSqlDatabase; call them on the thread that opened that connection, which for the
// API is a QueryPool worker (query_pool.h), never the engine's or an I/O thread.
#pragma once

#include "decimal.h"
#include "expected.h"
#include "projections.h"
#include "types.h"

#include <QLatin1StringView>
#include <QSqlDatabase>
#include <QString>
#include <QStringView>
#include <QVariantList>

#include <cstdint>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

namespace bourse::sql {

using OrderStatus = ProjectionUpdate::OrderStatus;

// Which page of a listing the client asked for, as API §2 defines it: page from 1 (default 1), page_size
// 1-1000 (default 50), a larger page_size clamped to 1000. A valid value by construction.
class PageRequest final
{
public:
    static constexpr int kDefaultSize = 50;
    static constexpr int kMaxSize = 1000;

    struct Invalid
    {
        QString field;   // "page" or "page_size", the API's names
        QString message; // one line, for a VALIDATION_ERROR
    };

    PageRequest() = default; // page 1 of 50
    static Expected<PageRequest, Invalid> make(std::int64_t page, std::int64_t pageSize);

    std::int64_t page() const { return m_page; }
    int size() const { return m_size; }
    std::int64_t offset() const; // rows before this page; saturates rather than overflows

private:
    std::int64_t m_page = 1;
    int m_size = kDefaultSize;
};

// One page of a listing and how many rows the whole listing has, both read from one snapshot of the
// database (a read transaction), so that they agree even while the journal commits.
template<typename Row>
struct Page
{
    std::vector<Row> rows;
    std::int64_t page = 1;
    int pageSize = PageRequest::kDefaultSize;
    std::int64_t total = 0;
};

// ---- orders

// An order as the orders projection holds it after its latest event.
struct OrderRecord
{
    OrderId id = 0;
    AccountId user = 0;
    InstrumentId instrument = 0;
    QString clientOrderId; // empty: none
    Side side = Side::Buy;
    OrderType type = OrderType::Limit;
    TimeInForce timeInForce = TimeInForce::Gtc;
    bool postOnly = false;
    SelfTradePrevention stp = SelfTradePrevention::ExpireTaker;
    std::optional<Decimal> price; // none for a market order
    Decimal quantity;
    Decimal filledQuantity;
    Decimal filledNotional; // the sum of price × quantity over the fills, in the quote asset
    OrderStatus status = OrderStatus::New;
    TimeNs createdAt = 0;
    TimeNs updatedAt = 0;
    Seq seq = 0; // the order's latest event

    Decimal remainingQuantity() const { return Decimal::fromRaw(quantity.raw() - filledQuantity.raw()); }
    // filledNotional / filledQuantity, cut (not rounded) at 10^-8; none before the first fill.
    std::optional<Decimal> averagePrice() const;
    bool isOpen() const { return status == OrderStatus::New || status == OrderStatus::PartiallyFilled; }
};

enum class OrderStatusFilter : std::uint8_t {
    Open,   // new or partially_filled
    Closed, // filled, cancelled or expired
    All,
};

struct OrderFilter
{
    std::optional<AccountId> user; // none: every user's orders (admins only; the caller checks the role)
    OrderStatusFilter status = OrderStatusFilter::All;
    std::optional<InstrumentId> instrument;
};

// Newest first: id desc. The engine numbers orders as it accepts them, on a clock that never runs backwards,
// so that is created_at desc too, ties in id desc. A user's orders read in that order through an index (0002);
// every user's orders (admins only) read the primary key backwards, skipping what the filter does not want.
Expected<Page<OrderRecord>, QString> listOrders(QSqlDatabase &db, const OrderFilter &filter, PageRequest page);

// The order, whoever owns it: the caller compares `user` with the requester's (404 for another user's
// order unless an admin asks). none: no such order.
Expected<std::optional<OrderRecord>, QString> findOrder(QSqlDatabase &db, OrderId id);
// The user's newest order with that client order id (an id may be used again once the engine has forgotten
// it, 24 h after its order closed). none: no such order.
Expected<std::optional<OrderRecord>, QString> findOrderByClientId(QSqlDatabase &db, AccountId user,
                                                                  QStringView clientOrderId);

// Every user's open orders (new or partially_filled), by id: what server::AccountState loads at start-up. Read
// through the open orders' own index (orders_user_open_id), never the whole history, and sorted by id.
Expected<std::vector<OrderRecord>, QString> openOrders(QSqlDatabase &db);

// The CSV export: the listing of listOrders(), in the same order, read in chunks of at most `chunkSize`
// rows, each chunk its own statement that continues below the last id of the previous one (a keyset, not
// OFFSET), so memory and the cost of a chunk stay bounded however many rows there are, and each chunk may
// run as a job of its own. Rows are never skipped or repeated; an order whose status changes while the
// export runs appears as the status was when its chunk was read. A plain value: any thread may hold it,
// but next() runs on the connection's thread.
class OrderExport final
{
public:
    static constexpr int kDefaultChunkSize = 1000;
    static constexpr int kMaxChunkSize = 10'000;

    // chunkSize is clamped to 1..kMaxChunkSize.
    explicit OrderExport(OrderFilter filter, int chunkSize = kDefaultChunkSize);

    // The next chunk; empty once the export is complete (then atEnd()). After an error, calling next()
    // again retries the same chunk.
    Expected<std::vector<OrderRecord>, QString> next(QSqlDatabase &db);
    bool atEnd() const { return m_atEnd; }
    int chunkSize() const { return m_chunkSize; }

private:
    OrderFilter m_filter;
    int m_chunkSize;
    std::optional<OrderId> m_after; // the id of the last row returned
    bool m_atEnd = false;
};

// Runs an export to its end on one connection, handing each chunk to `consume`, which returns false to stop
// early (the client went away). The number of rows handed over.
Expected<std::int64_t, QString> exportOrders(QSqlDatabase &db, const OrderFilter &filter, int chunkSize,
                                             const std::function<bool(const std::vector<OrderRecord> &)> &consume);

// ---- trades and fills

// A public trade: no order or user ids.
struct TradeRecord
{
    TradeId id = 0;
    InstrumentId instrument = 0;
    Decimal price;
    Decimal quantity;
    Side takerSide = Side::Buy;
    Seq seq = 0;
    TimeNs time = 0;
};

// An instrument's trades (none: every instrument's), newest first (by id, which is execution order).
Expected<Page<TradeRecord>, QString> listTrades(QSqlDatabase &db, std::optional<InstrumentId> instrument,
                                                PageRequest page);

enum class Liquidity : std::uint8_t { Maker, Taker };
QLatin1StringView liquidityName(Liquidity liquidity); // "maker" | "taker"

// One side of a trade as the user who took part sees it.
struct FillRecord
{
    TradeId trade = 0;
    OrderId order = 0; // the user's order
    InstrumentId instrument = 0;
    Side side = Side::Buy; // the user's side: the taker's side for a taker, the other for a maker
    Liquidity liquidity = Liquidity::Taker;
    Decimal price;
    Decimal quantity;
    Seq seq = 0;
    TimeNs time = 0;
};

// The user's fills, newest first. A trade between two orders of the same user (stp none) is two fills,
// the taker's before the maker's.
Expected<Page<FillRecord>, QString> listFills(QSqlDatabase &db, AccountId user, std::optional<InstrumentId> instrument,
                                              PageRequest page);

// ---- market data

inline constexpr int kDefaultCandleLimit = 500;
inline constexpr int kMaxCandleLimit = 1500;

struct CandleRecord
{
    TimeNs start = 0;
    Decimal open;
    Decimal high;
    Decimal low;
    Decimal close;
    Decimal volume; // base quantity
    std::int64_t trades = 0;
};

// The latest `limit` candles (clamped to 1..kMaxCandleLimit) of an interval in kCandleIntervals (seconds),
// oldest first. Only intervals that saw a trade have a candle. Another interval is an error.
Expected<std::vector<CandleRecord>, QString> latestCandles(QSqlDatabase &db, InstrumentId instrument,
                                                           std::int64_t intervalSeconds, int limit);

// What the 24 h ticker needs from the trades.
struct TickerFigures
{
    std::optional<Decimal> lastPrice; // the latest trade ever; none before the first
    TimeNs lastTime = 0;
    // Over the trades at or after now - 24 h (and any stamped after now, as the engine's clock may run
    // ahead of the caller's). open is the first of them; all three are none when there were none.
    std::optional<Decimal> open;
    std::optional<Decimal> high;
    std::optional<Decimal> low;
    Decimal volume; // base quantity; zero when none
    std::int64_t trades = 0;
};

// One statement, so one consistent view. Whole minutes of the window are read from the 1 m candles and
// only the window's first, partial minute from the trades, so the cost does not grow with the trade rate.
Expected<TickerFigures, QString> ticker24h(QSqlDatabase &db, InstrumentId instrument, TimeNs now);

// ---- accounts and reference data

struct BalanceRecord
{
    AssetId asset = 0;
    QString assetCode;
    Decimal available;
    Decimal reserved;

    Decimal total() const { return Decimal::fromRaw(available.raw() + reserved.raw()); }
};

// Every asset the user has held, by asset id.
Expected<std::vector<BalanceRecord>, QString> balances(QSqlDatabase &db, AccountId user);
// Every balance row of every user, by user then asset id, each with its asset's code: what
// server::AccountState loads at start-up.
Expected<std::vector<std::pair<AccountId, BalanceRecord>>, QString> allBalances(QSqlDatabase &db);

struct InstrumentRecord
{
    InstrumentId id = 0;
    QString symbol;
    AssetId baseAsset = 0;
    AssetId quoteAsset = 0;
    QString base; // asset codes
    QString quote;
    Decimal tickSize;
    Decimal lotSize;
    Decimal minQuantity;
    InstrumentStatus status = InstrumentStatus::Trading;
    TimeNs createdAt = 0;
    TimeNs updatedAt = 0;
};

// Every instrument, by id.
Expected<std::vector<InstrumentRecord>, QString> instruments(QSqlDatabase &db);

// A user as the admin listing shows it; the password hash stays in the database.
struct UserRecord
{
    AccountId id = 0;
    QString username;
    QString role; // "viewer" | "trader" | "admin"
    bool active = true;
    QString rateLimitTier; // "default" | "pro" | "unlimited"
    TimeNs createdAt = 0;
    TimeNs updatedAt = 0;
};

// Newest first (by id).
Expected<Page<UserRecord>, QString> listUsers(QSqlDatabase &db, PageRequest page);

struct AuditRecord
{
    std::int64_t id = 0;
    TimeNs at = 0;
    QString actor;
    QString action;
    QString target;    // empty: none
    QString details;   // JSON text; empty: none
    QString requestId; // empty: none
};

// Newest first: at desc, then id desc.
Expected<Page<AuditRecord>, QString> listAudit(QSqlDatabase &db, PageRequest page);

// For tests: while set, every statement that a repository function runs on the calling thread is first
// handed to `observer` with its values (tst_repositories reads each one's query plan). Empty: none.
using StatementObserver = std::function<void(const QString &statement, const QVariantList &values)>;
void setStatementObserver(StatementObserver observer);

} // namespace bourse::sql
