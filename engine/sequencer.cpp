#include "sequencer.h"

#include "flat_hash_map.h"
#include "ledger.h"
#include "order_book.h"
#include "state_hash.h"
#include "wire.h"

#include <algorithm>
#include <limits>
#include <string>
#include <unordered_map>

namespace bourse {

namespace {

constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();

bool isUpperAlnum(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool validSymbol(std::string_view symbol)
{
    if (symbol.empty() || symbol.size() > Symbol::capacity || !isUpperAlnum(symbol.front()))
        return false;
    return std::all_of(symbol.begin(), symbol.end(),
                       [](char c) { return isUpperAlnum(c) || c == '.' || c == '_' || c == '-'; });
}

bool validAssetCode(std::string_view code)
{
    return !code.empty() && code.size() <= AssetCode::capacity && std::all_of(code.begin(), code.end(), isUpperAlnum);
}

bool validClientOrderId(std::string_view id)
{
    return std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
               || c == ':' || c == '-';
    });
}

// a × b × c, or false when it does not fit in int64 (all three are non-negative here).
bool multiply(std::int64_t a, std::int64_t b, std::int64_t c, std::int64_t &out)
{
    std::int64_t ab = 0;
    return !__builtin_mul_overflow(a, b, &ab) && !__builtin_mul_overflow(ab, c, &out);
}

struct StringHash
{
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
};

struct Instrument
{
    explicit Instrument(ObjectPool<PriceLevel> &levels)
        : book(levels)
    {}

    InstrumentView view;
    std::int64_t tick = 0;    // raw units per tick
    std::int64_t lot = 0;     // raw units per lot
    std::int64_t minLots = 0;
    std::int64_t unit = 0;    // raw quote units per (tick × lot): notional = ticks × lots × unit
    OrderBook book;
};

struct ClientOrderKey
{
    AccountId account = 0;
    ClientOrderId id;
    friend bool operator==(const ClientOrderKey &, const ClientOrderKey &) = default;
};

struct ClientOrderKeyHash
{
    std::size_t operator()(const ClientOrderKey &key) const
    {
        std::uint64_t h = 0xcbf29ce484222325ULL ^ (key.account * 0x9e3779b97f4a7c15ULL);
        for (char c : key.id.view()) {
            h ^= static_cast<unsigned char>(c);
            h *= 0x100000001b3ULL;
        }
        return static_cast<std::size_t>(h ^ (h >> 29));
    }
};

// What a retry must repeat to be the same order.
struct ClientOrderEntry
{
    OrderId order = 0;
    TimeNs acceptedAt = 0;
    Symbol symbol;
    Side side = Side::Buy;
    OrderType type = OrderType::Limit;
    TimeInForce timeInForce = TimeInForce::Gtc;
    bool postOnly = false;
    SelfTradePrevention stp = SelfTradePrevention::ExpireTaker;
    std::optional<Decimal> price;
    Decimal quantity;
};

struct RetentionItem
{
    TimeNs acceptedAt = 0;
    ClientOrderKey key;
    OrderId order = 0;
};

// A FIFO on one growable array: steady state allocates nothing (std::deque would, block by block).
template<typename T>
class RingQueue final
{
public:
    bool empty() const { return m_size == 0; }
    const T &front() const { return m_items[m_head]; }
    void pop()
    {
        m_head = (m_head + 1) & (m_items.size() - 1);
        --m_size;
    }
    void push(const T &item)
    {
        if (m_size == m_items.size())
            grow();
        m_items[(m_head + m_size) & (m_items.size() - 1)] = item;
        ++m_size;
    }

private:
    void grow()
    {
        std::vector<T> bigger(m_items.empty() ? 64 : m_items.size() * 2);
        for (std::size_t i = 0; i < m_size; ++i)
            bigger[i] = m_items[(m_head + i) & (m_items.size() - 1)];
        m_items.swap(bigger);
        m_head = 0;
    }

    std::vector<T> m_items;
    std::size_t m_head = 0;
    std::size_t m_size = 0;
};

// Why matching stopped with quantity left.
enum class Stop : std::uint8_t { Filled, NoCross, SelfTrade, Unaffordable };

} // namespace

class Sequencer::Core final
{
public:
    CommandResult apply(const Command &command, std::vector<Event> &out);

    CommandResult handle(const AddInstrument &c);
    CommandResult handle(const SetInstrumentStatus &c);
    CommandResult handle(const PlaceOrder &c);
    CommandResult handle(const CancelOrder &c);
    CommandResult handle(const AmendOrder &c);
    CommandResult handle(const MassCancel &c);
    CommandResult handle(const Deposit &c);
    CommandResult handle(const Withdraw &c);

    Instrument *findInstrument(std::string_view symbol) const
    {
        const auto it = m_instrumentBySymbol.find(symbol);
        return it == m_instrumentBySymbol.end() ? nullptr : m_instruments[it->second].get();
    }
    std::optional<AssetId> findAsset(std::string_view code) const
    {
        const auto it = m_assetByCode.find(code);
        return it == m_assetByCode.end() ? std::nullopt : std::optional<AssetId>(it->second);
    }
    OrderView view(const Order &order) const;
    std::uint64_t stateHash() const;
    void save(ByteWriter &out) const;
    bool load(ByteReader &in); // into a fresh Core; false (with in's error set) on a bad snapshot

    // State (read by the Sequencer's queries too).
    TimeNs m_time = 0;
    Seq m_seq = 0;
    OrderId m_nextOrder = 1;
    TradeId m_nextTrade = 1;
    ObjectPool<PriceLevel> m_levelPool;
    ObjectPool<Order> m_orderPool;
    std::vector<std::unique_ptr<Instrument>> m_instruments;
    std::unordered_map<std::string, InstrumentId, StringHash, std::equal_to<>> m_instrumentBySymbol;
    std::vector<AssetCode> m_assets;
    std::unordered_map<std::string, AssetId, StringHash, std::equal_to<>> m_assetByCode;
    Ledger m_ledger;
    FlatHashMap<OrderId, Order *> m_openOrders{1024}; // resting orders, and the one being placed
    FlatHashMap<ClientOrderKey, ClientOrderEntry, ClientOrderKeyHash> m_clientOrders{1024};
    RingQueue<RetentionItem> m_retention;

private:
    template<typename Body>
    void emit(Body &&body)
    {
        m_out->push_back(Event{++m_seq, m_time, std::forward<Body>(body)});
    }
    CommandResult reject(CommandType command, RejectReason reason, AccountId account, OrderId order = 0,
                         ClientOrderId clientOrderId = {}, AssetId asset = 0, std::int64_t required = 0,
                         std::int64_t available = 0);
    static CommandResult applied(OrderId order = 0, std::uint32_t affected = 0)
    {
        CommandResult result;
        result.order = order;
        result.affected = affected;
        return result;
    }
    std::int64_t availableOf(AccountId account, AssetId asset) const
    {
        const auto index = m_ledger.find(account);
        return index ? m_ledger.peek(*index, asset).available : 0;
    }
    std::optional<RejectReason> findOpen(OrderId id, AccountId account, Order *&order) const;
    std::optional<RejectReason> checkNewInstrument(const AddInstrument &c) const;
    AssetId assetFor(const AssetCode &code); // the asset's id, registering it if new
    void install(const InstrumentView &view); // a checked instrument joins the venue
    // The checks deposits and withdrawals share: account, asset, a positive amount.
    Expected<AssetId, RejectReason> checkFunds(AccountId account, const AssetCode &code, Decimal amount) const;
    void forgetExpiredClientOrderIds();

    bool crosses(const Order &taker, const PriceLevel &level) const
    {
        if (taker.type == OrderType::Market)
            return true;
        return taker.side == Side::Buy ? level.priceTicks <= taker.priceTicks : level.priceTicks >= taker.priceTicks;
    }
    std::int64_t fillableLots(const Instrument &instrument, const Order &taker) const;
    Stop match(Instrument &instrument, Order &taker);
    void execute(Instrument &instrument, Order &taker, Order &maker, std::int64_t lots);
    void finish(Instrument &instrument, Order &order, Stop stop, TimeInForce timeInForce);
    void releaseReservation(const Instrument &instrument, const Order &order);
    void expire(Instrument &instrument, Order &order, ExpireReason reason); // not resting
    void cancelResting(Instrument &instrument, Order &order, CancelReason reason);
    void close(Order &order);
    std::uint32_t cancelWhere(CancelReason reason, AccountId account, std::optional<InstrumentId> instrument);

    std::vector<Event> *m_out = nullptr;
    std::vector<Order *> m_scratch;
};

// ---------------------------------------------------------------------------------------------------------

CommandResult Sequencer::Core::apply(const Command &command, std::vector<Event> &out)
{
    m_time = std::max(m_time, command.time);
    m_out = &out;
    const Seq first = m_seq + 1;
    m_ledger.beginCommand();
    forgetExpiredClientOrderIds();

    CommandResult result = std::visit([this](const auto &body) { return handle(body); }, command.body);

    if (result.outcome == CommandResult::Outcome::Applied)
        m_ledger.emitChanges(m_seq, m_time, out);
    if (m_seq >= first) {
        result.firstSeq = first;
        result.lastSeq = m_seq;
    }
    m_out = nullptr;
    return result;
}

CommandResult Sequencer::Core::reject(CommandType command, RejectReason reason, AccountId account, OrderId order,
                                      ClientOrderId clientOrderId, AssetId asset, std::int64_t required,
                                      std::int64_t available)
{
    emit(CommandRejected{command, reason, account, order, clientOrderId, asset, Decimal::fromRaw(required),
                         Decimal::fromRaw(available)});
    CommandResult result;
    result.outcome = CommandResult::Outcome::Rejected;
    result.reason = reason;
    result.order = order;
    result.asset = asset;
    result.required = Decimal::fromRaw(required);
    result.available = Decimal::fromRaw(available);
    return result;
}

void Sequencer::Core::forgetExpiredClientOrderIds()
{
    while (!m_retention.empty() && m_time - m_retention.front().acceptedAt >= kClientOrderIdRetention) {
        const RetentionItem item = m_retention.front();
        m_retention.pop();
        const ClientOrderEntry *entry = m_clientOrders.find(item.key);
        // An entry whose order is still open stays; close() forgets it when the order closes.
        if (entry && entry->order == item.order && !m_openOrders.find(item.order))
            m_clientOrders.erase(item.key);
    }
}

std::optional<RejectReason> Sequencer::Core::findOpen(OrderId id, AccountId account, Order *&order) const
{
    if (Order *const *found = m_openOrders.find(id)) {
        if (account != kAnyAccount && (*found)->account != account)
            return RejectReason::UnknownOrder;
        order = *found;
        return std::nullopt;
    }
    if (id >= 1 && id < m_nextOrder)
        return RejectReason::OrderNotOpen;
    return RejectReason::UnknownOrder;
}

// ---------------------------------------------------------------------------------------------------------
// Instruments and funds

std::optional<RejectReason> Sequencer::Core::checkNewInstrument(const AddInstrument &c) const
{
    if (!validSymbol(c.symbol.view()))
        return RejectReason::SymbolInvalid;
    if (!validAssetCode(c.base.view()) || !validAssetCode(c.quote.view()) || c.base == c.quote)
        return RejectReason::AssetInvalid;
    if (findInstrument(c.symbol.view()))
        return RejectReason::InstrumentExists;
    if (!c.tickSize.isPositive())
        return RejectReason::TickSizeInvalid;
    if (!c.lotSize.isPositive())
        return RejectReason::LotSizeInvalid;
    if (!c.minQuantity.isPositive() || c.minQuantity.raw() % c.lotSize.raw() != 0)
        return RejectReason::MinQuantityInvalid;
    const auto unit = Decimal::checkedMul(c.tickSize, c.lotSize);
    if (!unit || !unit->isPositive())
        return RejectReason::PrecisionTooFine;
    return std::nullopt;
}

AssetId Sequencer::Core::assetFor(const AssetCode &code)
{
    if (const auto existing = findAsset(code.view()))
        return *existing;
    const auto id = static_cast<AssetId>(m_assets.size());
    m_assets.push_back(code);
    m_assetByCode.emplace(std::string(code.view()), id);
    m_ledger.addAsset();
    return id;
}

void Sequencer::Core::install(const InstrumentView &view)
{
    auto instrument = std::make_unique<Instrument>(m_levelPool);
    instrument->view = view;
    instrument->tick = view.tickSize.raw();
    instrument->lot = view.lotSize.raw();
    instrument->minLots = view.minQuantity.raw() / view.lotSize.raw();
    instrument->unit = Decimal::checkedMul(view.tickSize, view.lotSize)->raw(); // checked by checkNewInstrument
    m_instrumentBySymbol.emplace(std::string(view.symbol.view()), view.id);
    m_instruments.push_back(std::move(instrument));
}

CommandResult Sequencer::Core::handle(const AddInstrument &c)
{
    if (const auto reason = checkNewInstrument(c))
        return reject(CommandType::AddInstrument, *reason, 0);
    InstrumentView view;
    view.id = static_cast<InstrumentId>(m_instruments.size());
    view.symbol = c.symbol;
    view.base = c.base;
    view.quote = c.quote;
    view.baseAsset = assetFor(c.base);
    view.quoteAsset = assetFor(c.quote);
    view.tickSize = c.tickSize;
    view.lotSize = c.lotSize;
    view.minQuantity = c.minQuantity;
    view.status = InstrumentStatus::Trading;
    install(view);
    emit(InstrumentAdded{view});
    return applied();
}

CommandResult Sequencer::Core::handle(const SetInstrumentStatus &c)
{
    Instrument *instrument = findInstrument(c.symbol.view());
    if (!instrument)
        return reject(CommandType::SetInstrumentStatus, RejectReason::UnknownInstrument, 0);
    instrument->view.status = c.status;
    emit(InstrumentStatusChanged{instrument->view.id, c.status});
    std::uint32_t cancelled = 0;
    if (c.cancelOpenOrders)
        cancelled = cancelWhere(CancelReason::KillSwitch, kAnyAccount, instrument->view.id);
    return applied(0, cancelled);
}

Expected<AssetId, RejectReason> Sequencer::Core::checkFunds(AccountId account, const AssetCode &code,
                                                            Decimal amount) const
{
    if (account == 0)
        return unexpected(RejectReason::InvalidAccount);
    const auto asset = findAsset(code.view());
    if (!asset)
        return unexpected(RejectReason::UnknownAsset);
    if (!amount.isPositive())
        return unexpected(RejectReason::AmountNotPositive);
    return *asset;
}

CommandResult Sequencer::Core::handle(const Deposit &c)
{
    const auto rejectWith = [&](RejectReason reason) { return reject(CommandType::Deposit, reason, c.account); };
    const auto asset = checkFunds(c.account, c.asset, c.amount);
    if (!asset)
        return rejectWith(asset.error());
    if (m_ledger.supply(*asset) > kInt64Max - c.amount.raw())
        return rejectWith(RejectReason::SupplyOverflow);

    const std::uint32_t account = m_ledger.findOrCreate(c.account);
    emit(FundsDeposited{c.account, *asset, c.amount});
    m_ledger.touch(account, *asset).available += c.amount.raw();
    m_ledger.addSupply(*asset, c.amount.raw());
    return applied();
}

CommandResult Sequencer::Core::handle(const Withdraw &c)
{
    const auto rejectWith = [&](RejectReason reason, AssetId asset = 0, std::int64_t required = 0,
                                std::int64_t available = 0) {
        return reject(CommandType::Withdraw, reason, c.account, 0, {}, asset, required, available);
    };
    const auto asset = checkFunds(c.account, c.asset, c.amount);
    if (!asset)
        return rejectWith(asset.error());
    const std::int64_t available = availableOf(c.account, *asset);
    if (c.amount.raw() > available)
        return rejectWith(RejectReason::InsufficientBalance, *asset, c.amount.raw(), available);

    const std::uint32_t account = m_ledger.findOrCreate(c.account);
    emit(FundsWithdrawn{c.account, *asset, c.amount});
    m_ledger.touch(account, *asset).available -= c.amount.raw();
    m_ledger.addSupply(*asset, -c.amount.raw());
    return applied();
}

// ---------------------------------------------------------------------------------------------------------
// Orders

CommandResult Sequencer::Core::handle(const PlaceOrder &c)
{
    const auto rejectWith = [&](RejectReason reason, AssetId asset = 0, std::int64_t required = 0,
                                std::int64_t available = 0) {
        return reject(CommandType::PlaceOrder, reason, c.account, 0, c.clientOrderId, asset, required, available);
    };
    if (c.account == 0)
        return rejectWith(RejectReason::InvalidAccount);
    if (!validClientOrderId(c.clientOrderId.view()))
        return rejectWith(RejectReason::ClientOrderIdInvalid);
    const bool isLimit = c.type == OrderType::Limit;
    const TimeInForce timeInForce = c.timeInForce.value_or(isLimit ? TimeInForce::Gtc : TimeInForce::Ioc);
    if (!c.clientOrderId.empty()) {
        if (const ClientOrderEntry *entry = m_clientOrders.find(ClientOrderKey{c.account, c.clientOrderId})) {
            const bool samePayload = entry->symbol == c.symbol && entry->side == c.side && entry->type == c.type
                                     && entry->timeInForce == timeInForce && entry->postOnly == c.postOnly
                                     && entry->stp == c.stp && entry->price == c.price
                                     && entry->quantity == c.quantity;
            if (!samePayload)
                return rejectWith(RejectReason::ClientOrderIdReused);
            CommandResult result;
            result.outcome = CommandResult::Outcome::Replayed;
            result.order = entry->order;
            return result;
        }
    }

    Instrument *instrument = findInstrument(c.symbol.view());
    if (!instrument)
        return rejectWith(RejectReason::UnknownInstrument);
    if (instrument->view.status == InstrumentStatus::Halted)
        return rejectWith(RejectReason::MarketHalted);
    if (isLimit && !c.price)
        return rejectWith(RejectReason::PriceRequired);
    if (!isLimit && c.price)
        return rejectWith(RejectReason::PriceNotAllowed);
    if (!isLimit && timeInForce == TimeInForce::Gtc)
        return rejectWith(RejectReason::TimeInForceInvalid);
    if (c.postOnly && (!isLimit || timeInForce != TimeInForce::Gtc))
        return rejectWith(RejectReason::PostOnlyInvalid);
    std::int64_t priceTicks = 0;
    if (isLimit) {
        if (!c.price->isPositive())
            return rejectWith(RejectReason::PriceNotPositive);
        if (c.price->raw() % instrument->tick != 0)
            return rejectWith(RejectReason::PriceOffTick);
        priceTicks = c.price->raw() / instrument->tick;
    }
    const std::int64_t quantity = c.quantity.raw();
    if (quantity <= 0)
        return rejectWith(RejectReason::QuantityNotPositive);
    if (quantity % instrument->lot != 0)
        return rejectWith(RejectReason::QuantityOffLot);
    const std::int64_t lots = quantity / instrument->lot;
    if (lots < instrument->minLots)
        return rejectWith(RejectReason::QuantityBelowMinimum);
    std::int64_t notional = 0;
    if (isLimit && !multiply(priceTicks, lots, instrument->unit, notional))
        return rejectWith(RejectReason::NotionalOverflow);

    const AssetId base = instrument->view.baseAsset;
    const AssetId quote = instrument->view.quoteAsset;
    const BookSide &opposite = instrument->book.side(bourse::opposite(c.side));
    if (c.side == Side::Buy && isLimit) {
        const std::int64_t available = availableOf(c.account, quote);
        if (notional > available)
            return rejectWith(RejectReason::InsufficientBalance, quote, notional, available);
    } else if (c.side == Side::Sell) {
        const std::int64_t available = availableOf(c.account, base);
        if (quantity > available)
            return rejectWith(RejectReason::InsufficientBalance, base, quantity, available);
    } else if (!opposite.empty()) {
        // A market buy must be able to pay for at least one lot at the best ask.
        const std::int64_t oneLot = opposite.best()->priceTicks * instrument->unit;
        const std::int64_t available = availableOf(c.account, quote);
        if (available < oneLot)
            return rejectWith(RejectReason::InsufficientBalance, quote, oneLot, available);
    }
    if (c.postOnly && opposite.crossedBy(priceTicks))
        return rejectWith(RejectReason::PostOnlyWouldTake);

    // Accepted.
    Order &order = *m_orderPool.acquire();
    order.priceTicks = priceTicks;
    order.remainingLots = lots;
    order.quantityLots = lots;
    order.accountIndex = m_ledger.findOrCreate(c.account);
    order.instrument = instrument->view.id;
    order.side = c.side;
    order.type = c.type;
    order.stp = c.stp;
    order.postOnly = c.postOnly;
    order.id = m_nextOrder++;
    order.account = c.account;
    order.acceptedAt = m_time;
    order.clientOrderId = c.clientOrderId;
    m_openOrders.insert(order.id, &order);
    emit(OrderAccepted{order.id, c.account, order.instrument, c.side, c.type, timeInForce, c.postOnly, c.stp,
                       c.price.value_or(Decimal()), c.quantity, c.clientOrderId});

    if (!c.clientOrderId.empty()) {
        const ClientOrderKey key{c.account, c.clientOrderId};
        m_clientOrders.insert(key, ClientOrderEntry{order.id, m_time, c.symbol, c.side, c.type, timeInForce,
                                                    c.postOnly, c.stp, c.price, c.quantity});
        m_retention.push(RetentionItem{m_time, key, order.id});
    }

    if (c.side == Side::Buy && isLimit) {
        Balance &balance = m_ledger.touch(order.accountIndex, quote);
        balance.available -= notional;
        balance.reserved += notional;
    } else if (c.side == Side::Sell) {
        Balance &balance = m_ledger.touch(order.accountIndex, base);
        balance.available -= quantity;
        balance.reserved += quantity;
    }

    const OrderId id = order.id;
    if (timeInForce == TimeInForce::Fok && fillableLots(*instrument, order) < lots) {
        expire(*instrument, order, ExpireReason::FillOrKill);
        return applied(id);
    }
    const Stop stop = match(*instrument, order);
    finish(*instrument, order, stop, timeInForce);
    return applied(id);
}

CommandResult Sequencer::Core::handle(const CancelOrder &c)
{
    Order *order = nullptr;
    if (const auto reason = findOpen(c.order, c.account, order))
        return reject(CommandType::CancelOrder, *reason, c.account, c.order);
    const OrderId id = order->id;
    cancelResting(*m_instruments[order->instrument], *order, CancelReason::Requested);
    return applied(id);
}

CommandResult Sequencer::Core::handle(const AmendOrder &c)
{
    const auto rejectWith = [&](RejectReason reason, AssetId asset = 0, std::int64_t required = 0,
                                std::int64_t available = 0) {
        return reject(CommandType::AmendOrder, reason, c.account, c.order, {}, asset, required, available);
    };
    Order *found = nullptr;
    if (const auto reason = findOpen(c.order, c.account, found))
        return rejectWith(*reason);
    Order &order = *found;
    if (!c.price && !c.quantity)
        return rejectWith(RejectReason::AmendChangesNothing);
    Instrument &instrument = *m_instruments[order.instrument];
    if (instrument.view.status == InstrumentStatus::Halted)
        return rejectWith(RejectReason::MarketHalted);

    std::int64_t priceTicks = order.priceTicks;
    if (c.price) {
        if (!c.price->isPositive())
            return rejectWith(RejectReason::PriceNotPositive);
        if (c.price->raw() % instrument.tick != 0)
            return rejectWith(RejectReason::PriceOffTick);
        priceTicks = c.price->raw() / instrument.tick;
    }
    const std::int64_t filledLots = order.quantityLots - order.remainingLots;
    std::int64_t quantityLots = order.quantityLots;
    if (c.quantity) {
        if (!c.quantity->isPositive())
            return rejectWith(RejectReason::QuantityNotPositive);
        if (c.quantity->raw() % instrument.lot != 0)
            return rejectWith(RejectReason::QuantityOffLot);
        quantityLots = c.quantity->raw() / instrument.lot;
        if (quantityLots <= filledLots)
            return rejectWith(RejectReason::QuantityNotAboveFilled);
        if (quantityLots < instrument.minLots)
            return rejectWith(RejectReason::QuantityBelowMinimum);
    }
    std::int64_t notional = 0;
    if (!multiply(priceTicks, quantityLots, instrument.unit, notional))
        return rejectWith(RejectReason::NotionalOverflow);

    // The reservation follows the new price and remaining quantity; both products fit because the
    // notional of the whole quantity does.
    const std::int64_t remainingLots = quantityLots - filledLots;
    const bool buy = order.side == Side::Buy;
    const AssetId asset = buy ? instrument.view.quoteAsset : instrument.view.baseAsset;
    const std::int64_t extra = buy ? priceTicks * remainingLots * instrument.unit
                                         - order.priceTicks * order.remainingLots * instrument.unit
                                   : (remainingLots - order.remainingLots) * instrument.lot;
    const std::int64_t available = m_ledger.peek(order.accountIndex, asset).available;
    if (extra > available)
        return rejectWith(RejectReason::InsufficientBalance, asset, extra, available);
    if (order.postOnly && instrument.book.side(opposite(order.side)).crossedBy(priceTicks))
        return rejectWith(RejectReason::PostOnlyWouldTake);

    const bool priorityKept = priceTicks == order.priceTicks && quantityLots <= order.quantityLots;
    emit(OrderAmended{order.id, order.account, order.instrument, Decimal::fromRaw(priceTicks * instrument.tick),
                      Decimal::fromRaw(quantityLots * instrument.lot),
                      Decimal::fromRaw(remainingLots * instrument.lot), priorityKept});
    Balance &balance = m_ledger.touch(order.accountIndex, asset);
    balance.available -= extra;
    balance.reserved += extra;

    const OrderId id = order.id;
    if (priorityKept) {
        BookSide::reduce(order, order.remainingLots - remainingLots);
        order.quantityLots = quantityLots;
        return applied(id);
    }
    instrument.book.side(order.side).remove(order);
    order.priceTicks = priceTicks;
    order.quantityLots = quantityLots;
    order.remainingLots = remainingLots;
    const Stop stop = match(instrument, order);
    finish(instrument, order, stop, TimeInForce::Gtc);
    return applied(id);
}

CommandResult Sequencer::Core::handle(const MassCancel &c)
{
    std::optional<InstrumentId> only;
    if (c.symbol) {
        const Instrument *instrument = findInstrument(c.symbol->view());
        if (!instrument)
            return reject(CommandType::MassCancel, RejectReason::UnknownInstrument, c.account);
        only = instrument->view.id;
    }
    return applied(0, cancelWhere(CancelReason::MassCancel, c.account, only));
}

std::uint32_t Sequencer::Core::cancelWhere(CancelReason reason, AccountId account,
                                           std::optional<InstrumentId> instrument)
{
    m_scratch.clear();
    m_openOrders.forEach([&](OrderId, Order *order) {
        if ((account == kAnyAccount || order->account == account) && (!instrument || order->instrument == *instrument))
            m_scratch.push_back(order);
    });
    std::sort(m_scratch.begin(), m_scratch.end(), [](const Order *a, const Order *b) { return a->id < b->id; });
    for (Order *order : m_scratch)
        cancelResting(*m_instruments[order->instrument], *order, reason);
    return static_cast<std::uint32_t>(m_scratch.size());
}

// ---------------------------------------------------------------------------------------------------------
// Matching

std::int64_t Sequencer::Core::fillableLots(const Instrument &instrument, const Order &taker) const
{
    const BookSide &opposite = instrument.book.side(bourse::opposite(taker.side));
    const bool marketBuy = taker.type == OrderType::Market && taker.side == Side::Buy;
    std::int64_t budget = marketBuy ? m_ledger.peek(taker.accountIndex, instrument.view.quoteAsset).available : 0;
    std::int64_t total = 0;
    // Walks the levels the way match() would; each step says whether to go on.
    const auto level = [&](const PriceLevel &price) {
        if (!crosses(taker, price))
            return false;
        const std::int64_t perLot = price.priceTicks * instrument.unit;
        for (const Order *maker = price.head; maker; maker = maker->next) {
            if (maker->accountIndex == taker.accountIndex && taker.stp != SelfTradePrevention::None) {
                if (taker.stp == SelfTradePrevention::ExpireMaker)
                    continue;
                return false;
            }
            const std::int64_t lots = std::min(taker.remainingLots - total, maker->remainingLots);
            if (marketBuy) {
                const std::int64_t affordable = budget / perLot;
                if (maker->accountIndex == taker.accountIndex) {
                    // Buying from oneself (stp none) pays the quote straight back: matching goes on in
                    // affordable chunks until the order is done, as long as one lot is affordable.
                    if (affordable == 0)
                        return false;
                } else {
                    if (affordable < lots) {
                        total += affordable;
                        return false;
                    }
                    budget -= lots * perLot;
                }
            }
            total += lots;
            if (total >= taker.remainingLots)
                return false;
        }
        return true;
    };
    opposite.forEachLevel(level);
    return total;
}

Stop Sequencer::Core::match(Instrument &instrument, Order &taker)
{
    BookSide &opposite = instrument.book.side(bourse::opposite(taker.side));
    const bool marketBuy = taker.type == OrderType::Market && taker.side == Side::Buy;
    while (taker.remainingLots > 0) {
        PriceLevel *level = opposite.best();
        if (!level || !crosses(taker, *level))
            return Stop::NoCross;
        Order &maker = *level->head;
        if (maker.accountIndex == taker.accountIndex && taker.stp != SelfTradePrevention::None) {
            if (taker.stp == SelfTradePrevention::ExpireTaker)
                return Stop::SelfTrade;
            opposite.remove(maker);
            expire(instrument, maker, ExpireReason::SelfTradePrevention);
            if (taker.stp == SelfTradePrevention::ExpireBoth)
                return Stop::SelfTrade;
            continue;
        }
        std::int64_t lots = std::min(taker.remainingLots, maker.remainingLots);
        if (marketBuy) {
            const std::int64_t perLot = level->priceTicks * instrument.unit;
            const std::int64_t affordable =
                m_ledger.peek(taker.accountIndex, instrument.view.quoteAsset).available / perLot;
            if (affordable == 0)
                return Stop::Unaffordable;
            lots = std::min(lots, affordable);
        }
        execute(instrument, taker, maker, lots);
    }
    return Stop::Filled;
}

void Sequencer::Core::execute(Instrument &instrument, Order &taker, Order &maker, std::int64_t lots)
{
    const std::int64_t priceTicks = maker.priceTicks;
    const std::int64_t cost = priceTicks * lots * instrument.unit;
    const std::int64_t quantity = lots * instrument.lot;
    taker.remainingLots -= lots;
    BookSide::reduce(maker, lots);
    emit(TradeExecuted{m_nextTrade++, instrument.view.id, Decimal::fromRaw(priceTicks * instrument.tick),
                       Decimal::fromRaw(quantity), taker.side, maker.id, taker.id, maker.account, taker.account,
                       Decimal::fromRaw(maker.remainingLots * instrument.lot),
                       Decimal::fromRaw(taker.remainingLots * instrument.lot)});

    const Order &buyer = taker.side == Side::Buy ? taker : maker;
    const Order &seller = taker.side == Side::Buy ? maker : taker;
    const AssetId base = instrument.view.baseAsset;
    const AssetId quote = instrument.view.quoteAsset;
    m_ledger.touch(buyer.accountIndex, base).available += quantity;
    Balance &buyerQuote = m_ledger.touch(buyer.accountIndex, quote);
    if (buyer.type == OrderType::Market) {
        buyerQuote.available -= cost;
    } else {
        const std::int64_t reservedForLots = buyer.priceTicks * lots * instrument.unit;
        buyerQuote.reserved -= reservedForLots;
        buyerQuote.available += reservedForLots - cost; // price improvement comes back
    }
    m_ledger.touch(seller.accountIndex, base).reserved -= quantity;
    m_ledger.touch(seller.accountIndex, quote).available += cost;

    if (maker.remainingLots == 0) {
        instrument.book.side(maker.side).remove(maker);
        close(maker);
    }
}

void Sequencer::Core::finish(Instrument &instrument, Order &order, Stop stop, TimeInForce timeInForce)
{
    if (order.remainingLots == 0) {
        close(order);
    } else if (stop == Stop::SelfTrade) {
        expire(instrument, order, ExpireReason::SelfTradePrevention);
    } else if (stop == Stop::Unaffordable) {
        expire(instrument, order, ExpireReason::InsufficientBalance);
    } else if (order.type == OrderType::Limit && timeInForce == TimeInForce::Gtc) {
        instrument.book.side(order.side).append(order);
    } else {
        expire(instrument, order, ExpireReason::ImmediateOrCancel);
    }
}

void Sequencer::Core::releaseReservation(const Instrument &instrument, const Order &order)
{
    std::int64_t amount = 0;
    AssetId asset = 0;
    if (order.side == Side::Sell) {
        amount = order.remainingLots * instrument.lot;
        asset = instrument.view.baseAsset;
    } else if (order.type == OrderType::Limit) {
        amount = order.priceTicks * order.remainingLots * instrument.unit;
        asset = instrument.view.quoteAsset;
    }
    if (amount == 0)
        return;
    Balance &balance = m_ledger.touch(order.accountIndex, asset);
    balance.reserved -= amount;
    balance.available += amount;
}

void Sequencer::Core::expire(Instrument &instrument, Order &order, ExpireReason reason)
{
    emit(OrderExpired{order.id, order.account, order.instrument,
                      Decimal::fromRaw(order.remainingLots * instrument.lot), reason});
    releaseReservation(instrument, order);
    close(order);
}

void Sequencer::Core::cancelResting(Instrument &instrument, Order &order, CancelReason reason)
{
    instrument.book.side(order.side).remove(order);
    emit(OrderCancelled{order.id, order.account, order.instrument,
                        Decimal::fromRaw(order.remainingLots * instrument.lot), reason});
    releaseReservation(instrument, order);
    close(order);
}

void Sequencer::Core::close(Order &order)
{
    m_openOrders.erase(order.id);
    if (!order.clientOrderId.empty() && m_time - order.acceptedAt >= kClientOrderIdRetention) {
        const ClientOrderKey key{order.account, order.clientOrderId};
        const ClientOrderEntry *entry = m_clientOrders.find(key);
        if (entry && entry->order == order.id)
            m_clientOrders.erase(key);
    }
    m_orderPool.release(&order);
}

// ---------------------------------------------------------------------------------------------------------
// Views and the state hash

OrderView Sequencer::Core::view(const Order &order) const
{
    const Instrument &instrument = *m_instruments[order.instrument];
    OrderView view;
    view.id = order.id;
    view.account = order.account;
    view.instrument = order.instrument;
    view.side = order.side;
    view.postOnly = order.postOnly;
    view.stp = order.stp;
    view.price = Decimal::fromRaw(order.priceTicks * instrument.tick);
    view.quantity = Decimal::fromRaw(order.quantityLots * instrument.lot);
    view.remaining = Decimal::fromRaw(order.remainingLots * instrument.lot);
    view.clientOrderId = order.clientOrderId;
    return view;
}

std::uint64_t Sequencer::Core::stateHash() const
{
    StateHasher hasher;
    hasher.add(m_seq);
    hasher.add(m_time);
    hasher.add(m_nextOrder);
    hasher.add(m_nextTrade);
    for (const auto &instrument : m_instruments) {
        const InstrumentView &v = instrument->view;
        hasher.add(v.id);
        hasher.add(v.symbol.view());
        hasher.add(v.base.view());
        hasher.add(v.quote.view());
        hasher.add(v.tickSize.raw());
        hasher.add(v.lotSize.raw());
        hasher.add(v.minQuantity.raw());
        hasher.add(static_cast<std::uint64_t>(v.status));
    }
    for (const auto &instrument : m_instruments) {
        for (const Side side : {Side::Buy, Side::Sell}) {
            instrument->book.side(side).forEachLevel([&](const PriceLevel &level) {
                for (const Order *order = level.head; order; order = order->next) {
                    hasher.add(order->id);
                    hasher.add(order->account);
                    hasher.add(static_cast<std::uint64_t>(order->side));
                    hasher.add(order->priceTicks * instrument->tick);
                    hasher.add(order->quantityLots * instrument->lot);
                    hasher.add(order->remainingLots * instrument->lot);
                    hasher.add(order->postOnly);
                    hasher.add(static_cast<std::uint64_t>(order->stp));
                    hasher.add(order->clientOrderId.view());
                }
                return true;
            });
        }
    }
    struct Row
    {
        AccountId account;
        AssetId asset;
        std::int64_t available;
        std::int64_t reserved;
    };
    std::vector<Row> balances;
    m_ledger.forEachBalance([&](AccountId account, AssetId asset, const Balance &balance) {
        if (balance.available != 0 || balance.reserved != 0)
            balances.push_back({account, asset, balance.available, balance.reserved});
    });
    std::sort(balances.begin(), balances.end(), [](const Row &a, const Row &b) {
        return a.account != b.account ? a.account < b.account : a.asset < b.asset;
    });
    for (const Row &row : balances) {
        hasher.add(row.account);
        hasher.add(row.asset);
        hasher.add(row.available);
        hasher.add(row.reserved);
    }
    std::vector<std::pair<ClientOrderKey, ClientOrderEntry>> remembered;
    m_clientOrders.forEach([&](const ClientOrderKey &key, const ClientOrderEntry &entry) {
        remembered.emplace_back(key, entry);
    });
    std::sort(remembered.begin(), remembered.end(), [](const auto &a, const auto &b) {
        return a.first.account != b.first.account ? a.first.account < b.first.account
                                                  : a.first.id.view() < b.first.id.view();
    });
    for (const auto &[key, entry] : remembered) {
        hasher.add(key.account);
        hasher.add(key.id.view());
        hasher.add(entry.order);
        hasher.add(entry.acceptedAt);
        hasher.add(entry.symbol.view());
        hasher.add(static_cast<std::uint64_t>(entry.side));
        hasher.add(static_cast<std::uint64_t>(entry.type));
        hasher.add(static_cast<std::uint64_t>(entry.timeInForce));
        hasher.add(entry.postOnly);
        hasher.add(static_cast<std::uint64_t>(entry.stp));
        hasher.add(entry.price.has_value());
        hasher.add(entry.price.value_or(Decimal()).raw());
        hasher.add(entry.quantity.raw());
    }
    return hasher.value();
}

// ---------------------------------------------------------------------------------------------------------
// Snapshots
//
// Layout (ByteWriter primitives): version; time, seq, next order id, next trade id; the assets; the
// instruments in id order; every account with its balance in every asset; the open orders in book order
// (per instrument, bids best to worst then asks, oldest first in a level), so that appending them in turn
// rebuilds each level's priority; the remembered client order ids in acceptance order.

namespace {
constexpr std::uint8_t kSnapshotVersion = 1;

std::uint64_t snapshotChecksum(std::span<const std::uint8_t> body)
{
    StateHasher hasher;
    hasher.add(std::string_view(reinterpret_cast<const char *>(body.data()), body.size()));
    return hasher.value();
}
}

void Sequencer::Core::save(ByteWriter &out) const
{
    out.put(kSnapshotVersion);
    out.put(m_time);
    out.put(m_seq);
    out.put(m_nextOrder);
    out.put(m_nextTrade);
    out.put(static_cast<std::uint32_t>(m_assets.size()));
    for (const AssetCode &code : m_assets)
        out.put(code);
    out.put(static_cast<std::uint32_t>(m_instruments.size()));
    for (const auto &instrument : m_instruments) {
        const InstrumentView &v = instrument->view;
        out.put(v.symbol), out.put(v.base), out.put(v.quote), out.put(v.tickSize), out.put(v.lotSize);
        out.put(v.minQuantity), out.put(v.status);
    }
    out.put(static_cast<std::uint32_t>(m_ledger.accountCount()));
    for (std::uint32_t index = 0; index < m_ledger.accountCount(); ++index) {
        out.put(m_ledger.accountId(index));
        for (AssetId asset = 0; asset < m_assets.size(); ++asset) {
            out.put(m_ledger.peek(index, asset).available);
            out.put(m_ledger.peek(index, asset).reserved);
        }
    }
    out.put(static_cast<std::uint64_t>(m_openOrders.size()));
    for (const auto &instrument : m_instruments) {
        for (const Side side : {Side::Buy, Side::Sell}) {
            instrument->book.side(side).forEachLevel([&](const PriceLevel &level) {
                for (const Order *order = level.head; order; order = order->next) {
                    out.put(order->id), out.put(order->account), out.put(order->instrument), out.put(order->side);
                    out.put(order->priceTicks * instrument->tick), out.put(order->quantityLots * instrument->lot);
                    out.put(order->remainingLots * instrument->lot), out.put(order->postOnly), out.put(order->stp);
                    out.put(order->clientOrderId), out.put(order->acceptedAt);
                }
                return true;
            });
        }
    }
    std::vector<std::pair<const ClientOrderKey *, const ClientOrderEntry *>> remembered;
    m_clientOrders.forEach([&](const ClientOrderKey &key, const ClientOrderEntry &entry) {
        remembered.emplace_back(&key, &entry);
    });
    std::sort(remembered.begin(), remembered.end(),
              [](const auto &a, const auto &b) { return a.second->order < b.second->order; });
    out.put(static_cast<std::uint64_t>(remembered.size()));
    for (const auto &[key, e] : remembered) {
        out.put(key->account), out.put(key->id), out.put(e->order), out.put(e->acceptedAt), out.put(e->symbol);
        out.put(e->side), out.put(e->type), out.put(e->timeInForce), out.put(e->postOnly), out.put(e->stp);
        out.put(e->price), out.put(e->quantity);
    }
}

bool Sequencer::Core::load(ByteReader &in)
{
    const auto bad = [&in] {
        in.fail(CodecError::BadValue);
        return false;
    };
    std::uint8_t version = 0;
    in.get(version);
    if (in.ok() && version != kSnapshotVersion)
        in.fail(CodecError::UnknownVersion);
    in.get(m_time), in.get(m_seq), in.get(m_nextOrder), in.get(m_nextTrade);
    if (!in.ok())
        return false;
    if (m_time < 0 || m_nextOrder < 1 || m_nextTrade < 1)
        return bad();

    // Every count is checked against the bytes left, so a corrupt count cannot make us allocate wildly.
    std::uint32_t assets = 0;
    in.get(assets);
    if (!in.ok() || assets > in.remaining())
        return in.ok() ? bad() : false;
    for (std::uint32_t i = 0; i < assets; ++i) {
        AssetCode code;
        in.get(code);
        if (!in.ok() || !validAssetCode(code.view()) || findAsset(code.view()))
            return in.ok() ? bad() : false;
        assetFor(code);
    }
    std::uint32_t instruments = 0;
    in.get(instruments);
    if (!in.ok() || instruments > in.remaining())
        return in.ok() ? bad() : false;
    for (std::uint32_t i = 0; i < instruments; ++i) {
        AddInstrument spec;
        InstrumentStatus status = InstrumentStatus::Trading;
        in.get(spec.symbol), in.get(spec.base), in.get(spec.quote), in.get(spec.tickSize), in.get(spec.lotSize);
        in.get(spec.minQuantity), in.get(status);
        if (!in.ok())
            return false;
        const auto base = findAsset(spec.base.view());
        const auto quote = findAsset(spec.quote.view());
        if (checkNewInstrument(spec) || !base || !quote)
            return bad();
        install(InstrumentView{static_cast<InstrumentId>(i), spec.symbol, spec.base, spec.quote, *base, *quote,
                               spec.tickSize, spec.lotSize, spec.minQuantity, status});
    }
    std::uint32_t accounts = 0;
    in.get(accounts);
    if (!in.ok() || accounts > in.remaining())
        return in.ok() ? bad() : false;
    for (std::uint32_t i = 0; i < accounts; ++i) {
        AccountId id = 0;
        in.get(id);
        if (!in.ok() || id == 0 || m_ledger.find(id))
            return in.ok() ? bad() : false;
        const std::uint32_t index = m_ledger.findOrCreate(id);
        for (AssetId asset = 0; asset < assets; ++asset) {
            std::int64_t available = 0;
            std::int64_t reserved = 0;
            in.get(available), in.get(reserved);
            if (!in.ok() || !m_ledger.restore(index, asset, available, reserved))
                return in.ok() ? bad() : false;
        }
    }
    std::uint64_t orders = 0;
    in.get(orders);
    if (!in.ok() || orders > in.remaining())
        return in.ok() ? bad() : false;
    for (std::uint64_t i = 0; i < orders; ++i) {
        OrderId id = 0;
        AccountId account = 0;
        InstrumentId instrumentId = 0;
        Side side = Side::Buy;
        std::int64_t price = 0, quantity = 0, remaining = 0;
        bool postOnly = false;
        SelfTradePrevention stp = SelfTradePrevention::ExpireTaker;
        ClientOrderId clientOrderId;
        TimeNs acceptedAt = 0;
        in.get(id), in.get(account), in.get(instrumentId), in.get(side), in.get(price), in.get(quantity);
        in.get(remaining), in.get(postOnly), in.get(stp), in.get(clientOrderId), in.get(acceptedAt);
        if (!in.ok())
            return false;
        const auto accountIndex = m_ledger.find(account);
        if (id == 0 || id >= m_nextOrder || m_openOrders.find(id) || !accountIndex || instrumentId >= m_instruments.size())
            return bad();
        Instrument &instrument = *m_instruments[instrumentId];
        if (price <= 0 || price % instrument.tick != 0 || quantity % instrument.lot != 0 || remaining % instrument.lot != 0
            || remaining <= 0 || remaining > quantity || !validClientOrderId(clientOrderId.view()))
            return bad();
        Order &order = *m_orderPool.acquire();
        order.priceTicks = price / instrument.tick;
        order.quantityLots = quantity / instrument.lot;
        order.remainingLots = remaining / instrument.lot;
        order.accountIndex = *accountIndex;
        order.instrument = instrumentId;
        order.side = side;
        order.type = OrderType::Limit;
        order.stp = stp;
        order.postOnly = postOnly;
        order.id = id;
        order.account = account;
        order.acceptedAt = acceptedAt;
        order.clientOrderId = clientOrderId;
        m_openOrders.insert(id, &order);
        instrument.book.side(side).append(order);
    }
    std::uint64_t remembered = 0;
    in.get(remembered);
    if (!in.ok() || remembered > in.remaining())
        return in.ok() ? bad() : false;
    TimeNs lastAccepted = 0;
    for (std::uint64_t i = 0; i < remembered; ++i) {
        ClientOrderKey key;
        ClientOrderEntry e;
        in.get(key.account), in.get(key.id), in.get(e.order), in.get(e.acceptedAt), in.get(e.symbol);
        in.get(e.side), in.get(e.type), in.get(e.timeInForce), in.get(e.postOnly), in.get(e.stp), in.get(e.price);
        in.get(e.quantity);
        if (!in.ok())
            return false;
        // Acceptance order, so the retention queue stays sorted by time as forgetting expects.
        if (key.id.empty() || m_clientOrders.find(key) || e.order == 0 || e.order >= m_nextOrder
            || e.acceptedAt < lastAccepted || e.acceptedAt > m_time)
            return bad();
        lastAccepted = e.acceptedAt;
        m_clientOrders.insert(key, e);
        m_retention.push(RetentionItem{e.acceptedAt, key, e.order});
    }
    in.finish();
    return in.ok();
}

// ---------------------------------------------------------------------------------------------------------
// Sequencer

Sequencer::Sequencer()
    : m_core(std::make_unique<Core>())
{}

Sequencer::~Sequencer() = default;

CommandResult Sequencer::apply(const Command &command, std::vector<Event> &out)
{
    return m_core->apply(command, out);
}

void Sequencer::saveSnapshot(std::vector<std::uint8_t> &out) const
{
    const std::size_t start = out.size();
    ByteWriter writer(out);
    m_core->save(writer);
    // A trailing checksum over the whole body: any damage is refused before a byte of it is believed.
    writer.put(snapshotChecksum(std::span(out).subspan(start)));
}

Expected<std::unique_ptr<Sequencer>, CodecError> Sequencer::fromSnapshot(std::span<const std::uint8_t> bytes)
{
    if (bytes.size() < sizeof(std::uint64_t))
        return unexpected(CodecError::Truncated);
    const std::span<const std::uint8_t> body = bytes.first(bytes.size() - sizeof(std::uint64_t));
    ByteReader trailer(bytes.last(sizeof(std::uint64_t)));
    std::uint64_t checksum = 0;
    trailer.get(checksum);
    if (checksum != snapshotChecksum(body))
        return unexpected(CodecError::ChecksumMismatch);
    auto sequencer = std::make_unique<Sequencer>();
    ByteReader reader(body);
    if (!sequencer->m_core->load(reader))
        return unexpected(reader.error().value_or(CodecError::BadValue));
    return sequencer;
}

Seq Sequencer::lastSeq() const
{
    return m_core->m_seq;
}

TimeNs Sequencer::lastTime() const
{
    return m_core->m_time;
}

std::uint64_t Sequencer::stateHash() const
{
    return m_core->stateHash();
}

std::size_t Sequencer::instrumentCount() const
{
    return m_core->m_instruments.size();
}

std::optional<InstrumentView> Sequencer::instrument(InstrumentId id) const
{
    if (id >= m_core->m_instruments.size())
        return std::nullopt;
    return m_core->m_instruments[id]->view;
}

std::optional<InstrumentView> Sequencer::findInstrument(std::string_view symbol) const
{
    const Instrument *instrument = m_core->findInstrument(symbol);
    return instrument ? std::optional<InstrumentView>(instrument->view) : std::nullopt;
}

std::optional<AssetId> Sequencer::findAsset(std::string_view code) const
{
    return m_core->findAsset(code);
}

std::size_t Sequencer::assetCount() const
{
    return m_core->m_assets.size();
}

std::optional<OrderView> Sequencer::order(OrderId id) const
{
    if (Order *const *order = m_core->m_openOrders.find(id))
        return m_core->view(**order);
    return std::nullopt;
}

std::size_t Sequencer::openOrderCount() const
{
    return m_core->m_openOrders.size();
}

BalanceView Sequencer::balance(AccountId account, AssetId asset) const
{
    const auto index = m_core->m_ledger.find(account);
    if (!index || asset >= m_core->m_ledger.assetCount())
        return {};
    const Balance &balance = m_core->m_ledger.peek(*index, asset);
    return {Decimal::fromRaw(balance.available), Decimal::fromRaw(balance.reserved)};
}

Decimal Sequencer::assetSupply(AssetId asset) const
{
    return asset < m_core->m_ledger.assetCount() ? Decimal::fromRaw(m_core->m_ledger.supply(asset)) : Decimal();
}

std::vector<LevelView> Sequencer::levels(InstrumentId instrument, Side side, std::size_t depth) const
{
    std::vector<LevelView> out;
    if (instrument >= m_core->m_instruments.size())
        return out;
    const Instrument &ins = *m_core->m_instruments[instrument];
    const BookSide &bookSide = ins.book.side(side);
    out.reserve(std::min(depth, bookSide.levelCount()));
    bookSide.forEachLevel([&](const PriceLevel &level) {
        if (out.size() >= depth)
            return false;
        out.push_back({Decimal::fromRaw(level.priceTicks * ins.tick), Decimal::fromRaw(level.totalLots * ins.lot),
                       level.count});
        return true;
    });
    return out;
}

void Sequencer::forEachOrder(InstrumentId instrument, Side side,
                             const std::function<void(const OrderView &)> &visit) const
{
    if (instrument >= m_core->m_instruments.size())
        return;
    m_core->m_instruments[instrument]->book.side(side).forEachLevel([&](const PriceLevel &level) {
        for (const Order *order = level.head; order; order = order->next)
            visit(m_core->view(*order));
        return true;
    });
}

} // namespace bourse
