#include "market_tap.h"

#include <iterator>
#include <variant>

namespace bourse::app {

namespace {

template<typename T>
void append(std::vector<T> &into, std::vector<T> &&from)
{
    if (into.empty()) {
        into = std::move(from);
        return;
    }
    into.insert(into.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}

} // namespace

void MarketPulse::merge(MarketPulse &&later)
{
    changedBooks.merge(later.changedBooks);
    if (later.watchedBook)
        watchedBook = std::move(later.watchedBook);
    append(trades, std::move(later.trades));
    droppedTrades += later.droppedTrades;
    if (trades.size() > MarketTap::kMaxTrades) {
        const auto excess = trades.size() - MarketTap::kMaxTrades;
        trades.erase(trades.begin(), trades.begin() + std::ptrdiff_t(excess));
        droppedTrades += excess;
    }
    instrumentsChanged = instrumentsChanged || later.instrumentsChanged;
    append(orders, std::move(later.orders));
    append(fills, std::move(later.fills));
    append(balances, std::move(later.balances));
}

MarketTap::MarketTap(server::VenueService &service, std::function<void()> pending, QObject *parent)
    : QObject(parent)
    , m_service(service)
    , m_pending(std::move(pending))
{
    connect(&service, &server::VenueService::batchCommitted, this, &MarketTap::onBatch);
}

BookTop MarketTap::bookTop(const server::MarketState &market, InstrumentId instrument, std::size_t depth)
{
    return BookTop{instrument, market.bookSeq(instrument), market.levels(instrument, Side::Buy, depth),
                   market.levels(instrument, Side::Sell, depth)};
}

void MarketTap::onBatch(const server::DurableBatch &batch)
{
    MarketPulse pulse;
    const std::int64_t watched = m_watched.load(std::memory_order_relaxed);
    for (const server::BookDelta &delta : batch.books) {
        pulse.changedBooks.insert(delta.instrument);
        if (std::int64_t(delta.instrument) == watched)
            pulse.watchedBook = bookTop(m_service.market(), delta.instrument, kBookDepth);
    }
    for (const Event &event : *batch.events) {
        if (event.seq < batch.firstNewSeq)
            continue;
        if (const auto *trade = std::get_if<TradeExecuted>(&event.body)) {
            pulse.trades.push_back(
                TapeTrade{trade->trade, trade->instrument, trade->price, trade->quantity, trade->takerSide, event.time});
        } else if (std::holds_alternative<InstrumentAdded>(event.body)
                   || std::holds_alternative<InstrumentStatusChanged>(event.body)) {
            pulse.instrumentsChanged = true;
        }
    }
    const AccountId user = m_user.load(std::memory_order_relaxed);
    if (user != 0) {
        for (const sql::OrderRecord &order : batch.accounts.orders) {
            if (order.user == user)
                pulse.orders.push_back(order);
        }
        for (const server::AccountFill &fill : batch.accounts.fills) {
            if (fill.user == user)
                pulse.fills.push_back(fill.fill);
        }
        for (const server::AccountBalance &balance : batch.accounts.balances) {
            if (balance.user == user)
                pulse.balances.push_back(balance.balance);
        }
    }
    if (pulse.empty())
        return;
    bool wasEmpty = false;
    {
        std::lock_guard lock(m_mutex);
        wasEmpty = m_pulse.empty();
        m_pulse.merge(std::move(pulse));
    }
    if (wasEmpty && m_pending)
        m_pending();
}

MarketPulse MarketTap::take()
{
    std::lock_guard lock(m_mutex);
    return std::exchange(m_pulse, MarketPulse());
}

} // namespace bourse::app
