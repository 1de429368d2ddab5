#include "market_state.h"

#include <algorithm>
#include <type_traits>
#include <utility>
#include <variant>

namespace bourse::server {

namespace {

std::size_t sideIndex(Side side)
{
    return side == Side::Buy ? 0 : 1;
}

LevelView levelView(std::int64_t price, std::int64_t quantity, std::uint32_t orders)
{
    return LevelView{Decimal::fromRaw(price), Decimal::fromRaw(quantity), orders};
}

} // namespace

MarketState MarketState::fromEngine(const Sequencer &engine)
{
    MarketState state;
    const auto count = static_cast<InstrumentId>(engine.instrumentCount());
    for (InstrumentId id = 0; id < count; ++id) {
        const std::optional<InstrumentView> view = engine.instrument(id);
        if (!view)
            continue; // cannot happen: the engine numbers its instruments densely
        state.addInstrument(*view);
        for (const Side side : {Side::Buy, Side::Sell}) {
            engine.forEachOrder(id, side, [&state](const OrderView &order) {
                state.rest(order.id, OpenOrder{order.instrument, order.side, order.price.raw(), order.remaining.raw()});
            });
        }
    }
    state.m_touched.clear(); // the initial book is no change
    state.m_lastSeq = engine.lastSeq();
    return state;
}

void MarketState::setBookSeqBase(std::uint64_t base)
{
    m_bookSeqBase = base;
    for (Market &market : m_instruments)
        market.bookSeq = base;
}

std::vector<BookDelta> MarketState::apply(const std::vector<Event> &events)
{
    m_touched.clear();
    for (const Event &event : events) {
        if (event.seq <= m_lastSeq)
            continue; // delivered before
        applyOne(event);
        m_lastSeq = event.seq;
    }
    return collectDeltas();
}

void MarketState::applyOne(const Event &event)
{
    std::visit(
        [this, &event](const auto &body) {
            using T = std::decay_t<decltype(body)>;
            if constexpr (std::is_same_v<T, InstrumentAdded>) {
                addInstrument(body.instrument);
            } else if constexpr (std::is_same_v<T, InstrumentStatusChanged>) {
                if (body.instrument < m_instruments.size())
                    m_instruments[body.instrument].view.status = body.status;
            } else if constexpr (std::is_same_v<T, OrderAccepted>) {
                // A limit order counts at its level from acceptance: the trades and the expiry that may follow
                // in the same command take it out again, so after the command the level is the engine's.
                // A market order never rests.
                if (body.type == OrderType::Limit && body.instrument < m_instruments.size())
                    rest(body.order, OpenOrder{body.instrument, body.side, body.price.raw(), body.quantity.raw()});
            } else if constexpr (std::is_same_v<T, TradeExecuted>) {
                reduce(body.makerOrder, body.quantity.raw());
                reduce(body.takerOrder, body.quantity.raw()); // no-op for a market taker
                if (body.instrument < m_instruments.size())
                    m_instruments[body.instrument].lastTrade = LastTrade{body.trade, body.price, body.quantity,
                                                                         body.takerSide, event.time};
            } else if constexpr (std::is_same_v<T, OrderCancelled> || std::is_same_v<T, OrderExpired>) {
                remove(body.order);
            } else if constexpr (std::is_same_v<T, OrderAmended>) {
                // Old price and remaining out, new ones in; trades that follow (a re-priced order that
                // crosses) reduce it like any taker.
                OpenOrder *order = m_orders.find(body.order);
                if (!order)
                    return; // only open orders can be amended: nothing of ours
                OpenOrder moved = *order;
                remove(body.order);
                moved.price = body.price.raw();
                moved.remaining = body.remaining.raw();
                if (moved.remaining > 0)
                    rest(body.order, moved);
            }
        },
        event.body);
}

void MarketState::addInstrument(const InstrumentView &view)
{
    if (view.id != m_instruments.size())
        return; // cannot happen: ids are dense and announced in order
    Market market;
    market.view = view;
    market.bookSeq = m_bookSeqBase;
    m_instruments.push_back(std::move(market));
    m_bySymbol.emplace(view.symbol, view.id);
}

void MarketState::rest(OrderId id, const OpenOrder &order)
{
    if (order.remaining <= 0)
        return;
    m_orders.insert(id, order);
    changeLevel(order, order.remaining, 1);
}

void MarketState::reduce(OrderId id, std::int64_t quantity)
{
    OpenOrder *order = m_orders.find(id);
    if (!order)
        return;
    const std::int64_t taken = std::min(quantity, order->remaining);
    order->remaining -= taken;
    const bool done = order->remaining == 0;
    changeLevel(*order, -taken, done ? -1 : 0);
    if (done)
        m_orders.erase(id);
}

void MarketState::remove(OrderId id)
{
    const OpenOrder *order = m_orders.find(id);
    if (!order)
        return; // a market order, or a limit order that has already filled
    changeLevel(*order, -order->remaining, -1);
    m_orders.erase(id);
}

void MarketState::changeLevel(const OpenOrder &order, std::int64_t quantity, std::int32_t orders)
{
    BookSide &side = m_instruments[order.instrument].sides[sideIndex(order.side)];
    const auto found = side.find(order.price);
    m_touched.try_emplace(TouchKey{order.instrument, order.side, order.price},
                          found == side.end() ? Level{} : found->second);
    Level &level = found == side.end() ? side[order.price] : found->second;
    level.quantity += quantity;
    level.orders = static_cast<std::uint32_t>(static_cast<std::int64_t>(level.orders) + orders);
    if (level.orders == 0)
        side.erase(order.price);
}

std::vector<BookDelta> MarketState::collectDeltas()
{
    std::vector<BookDelta> deltas;
    for (const auto &[key, before] : m_touched) {
        const BookSide &side = m_instruments[key.instrument].sides[sideIndex(key.side)];
        const auto found = side.find(key.price);
        const Level after = found == side.end() ? Level{} : found->second;
        if (after == before)
            continue;
        if (deltas.empty() || deltas.back().instrument != key.instrument)
            deltas.push_back(BookDelta{key.instrument, 0, {}, {}});
        std::vector<LevelChange> &changes = key.side == Side::Buy ? deltas.back().bids : deltas.back().asks;
        changes.push_back(LevelChange{Decimal::fromRaw(key.price), Decimal::fromRaw(after.quantity), after.orders});
    }
    m_touched.clear();
    for (BookDelta &delta : deltas) {
        std::reverse(delta.bids.begin(), delta.bids.end()); // collected in ascending price: best bid last
        delta.bookSeq = ++m_instruments[delta.instrument].bookSeq;
    }
    return deltas;
}

const MarketState::Market *MarketState::market(InstrumentId id) const
{
    return id < m_instruments.size() ? &m_instruments[id] : nullptr;
}

std::optional<InstrumentView> MarketState::instrument(InstrumentId id) const
{
    const Market *found = market(id);
    return found ? std::optional<InstrumentView>(found->view) : std::nullopt;
}

std::optional<InstrumentView> MarketState::instrumentOfOrder(OrderId order) const
{
    const OpenOrder *open = m_orders.find(order);
    return open ? instrument(open->instrument) : std::nullopt;
}

std::optional<InstrumentView> MarketState::instrument(std::string_view symbol) const
{
    if (!Symbol::fits(symbol))
        return std::nullopt;
    const auto found = m_bySymbol.find(Symbol(symbol));
    return found == m_bySymbol.end() ? std::nullopt : instrument(found->second);
}

std::vector<InstrumentView> MarketState::instruments() const
{
    std::vector<InstrumentView> out;
    out.reserve(m_instruments.size());
    for (const Market &entry : m_instruments)
        out.push_back(entry.view);
    return out;
}

std::vector<LevelView> MarketState::levels(InstrumentId instrument, Side side, std::size_t depth) const
{
    std::vector<LevelView> out;
    const Market *found = market(instrument);
    if (!found)
        return out;
    const BookSide &book = found->sides[sideIndex(side)];
    out.reserve(std::min(depth, book.size()));
    const auto take = [&out, depth](const auto begin, const auto end) {
        for (auto level = begin; level != end && out.size() < depth; ++level)
            out.push_back(levelView(level->first, level->second.quantity, level->second.orders));
    };
    if (side == Side::Buy)
        take(book.rbegin(), book.rend());
    else
        take(book.begin(), book.end());
    return out;
}

std::optional<LevelView> MarketState::bestBid(InstrumentId instrument) const
{
    const Market *found = market(instrument);
    if (!found || found->sides[sideIndex(Side::Buy)].empty())
        return std::nullopt;
    const auto &[price, level] = *found->sides[sideIndex(Side::Buy)].rbegin();
    return levelView(price, level.quantity, level.orders);
}

std::optional<LevelView> MarketState::bestAsk(InstrumentId instrument) const
{
    const Market *found = market(instrument);
    if (!found || found->sides[sideIndex(Side::Sell)].empty())
        return std::nullopt;
    const auto &[price, level] = *found->sides[sideIndex(Side::Sell)].begin();
    return levelView(price, level.quantity, level.orders);
}

std::uint64_t MarketState::bookSeq(InstrumentId instrument) const
{
    const Market *found = market(instrument);
    return found ? found->bookSeq : 0;
}

std::optional<LastTrade> MarketState::lastTrade(InstrumentId instrument) const
{
    const Market *found = market(instrument);
    return found ? found->lastTrade : std::nullopt;
}

} // namespace bourse::server
