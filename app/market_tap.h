// MarketTap: how the desktop window hears the venue. It sits on the API's thread ("http"), where
// VenueService announces every durable batch, and copies out of each batch what the window shows — which
// books changed (and the watched book's top levels), the trades, the signed-in user's orders, fills and
// balances, instrument changes — into one pending MarketPulse. The window's thread takes the pulse at its
// own pace (Desk: at most once per display frame), so a busy market costs the GUI one merge per frame,
// never one signal per event. Only durable batches reach it, like every other subscriber (DESIGN.md).
// Threads: created and fed on the API's thread; take() and the setters from any thread.
#pragma once

#include "market_state.h"
#include "venue_service.h"

#include <QObject>

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <vector>

namespace bourse::app {

// One trade for the tape and the chart.
struct TapeTrade
{
    TradeId id = 0;
    InstrumentId instrument = 0;
    Decimal price;
    Decimal quantity;
    Side takerSide = Side::Buy;
    TimeNs time = 0;
};

// The top of one book, best first on both sides.
struct BookTop
{
    InstrumentId instrument = 0;
    std::uint64_t bookSeq = 0;
    std::vector<LevelView> bids;
    std::vector<LevelView> asks;
};

// Everything that changed since the last take(), merged.
struct MarketPulse
{
    std::set<InstrumentId> changedBooks;
    std::optional<BookTop> watchedBook; // the watched book's latest top, when it changed
    std::vector<TapeTrade> trades;      // oldest first; at most kMaxTrades (the newest)
    std::size_t droppedTrades = 0;      // older trades left out to keep the bound
    bool instrumentsChanged = false;    // added, halted or resumed
    // The signed-in user's, in event order.
    std::vector<sql::OrderRecord> orders;
    std::vector<sql::FillRecord> fills;
    std::vector<sql::BalanceRecord> balances;

    bool empty() const
    {
        return changedBooks.empty() && !watchedBook && trades.empty() && !instrumentsChanged && orders.empty()
               && fills.empty() && balances.empty();
    }
    void merge(MarketPulse &&later);
};

class MarketTap final : public QObject
{
    Q_OBJECT

public:
    static constexpr std::size_t kMaxTrades = 20'000;
    static constexpr std::size_t kBookDepth = 200; // levels per side the ladder can show

    // `pending` is called (on the API's thread) when the pulse goes from empty to not empty: the owner then
    // schedules a take() on its own thread. Connects to service.batchCommitted.
    MarketTap(server::VenueService &service, std::function<void()> pending, QObject *parent = nullptr);

    // Whose orders, fills and balances to copy (0: nobody's), and which book's top to copy (-1: none).
    void setUser(AccountId user) { m_user.store(user, std::memory_order_relaxed); }
    void setWatchedInstrument(std::int64_t instrument) { m_watched.store(instrument, std::memory_order_relaxed); }

    // What changed since the last call; empty when nothing did.
    MarketPulse take();

    // The watched book's top as the service holds it now: the API's thread only.
    static BookTop bookTop(const server::MarketState &market, InstrumentId instrument, std::size_t depth);

private:
    void onBatch(const server::DurableBatch &batch);

    server::VenueService &m_service;
    std::function<void()> m_pending;
    std::atomic<AccountId> m_user{0};
    std::atomic<std::int64_t> m_watched{-1};
    std::mutex m_mutex;
    MarketPulse m_pulse; // guarded by m_mutex
};

} // namespace bourse::app
