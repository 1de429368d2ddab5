#include "reference_venue.h"

#include "state_hash.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <ranges>

namespace bourse::test {

namespace {

__extension__ using Wide = __int128;

constexpr std::int64_t kOne = Decimal::kOne;
constexpr std::int64_t kMaxUnits = std::numeric_limits<std::int64_t>::max();

// The reference must never paper over a broken assumption, in Release builds too.
void require(bool ok, const char *what)
{
    if (!ok) {
        std::fprintf(stderr, "ReferenceVenue: broken assumption: %s\n", what);
        std::abort();
    }
}

// a × b on raw units: nullopt when the product is not exact at 8 decimals or does not fit.
std::optional<std::int64_t> tryMultiply(std::int64_t a, std::int64_t b)
{
    const Wide product = Wide(a) * Wide(b);
    if (product % kOne != 0)
        return std::nullopt;
    const Wide scaled = product / kOne;
    if (scaled > kMaxUnits || scaled < std::numeric_limits<std::int64_t>::min())
        return std::nullopt;
    return static_cast<std::int64_t>(scaled);
}

std::int64_t multiply(std::int64_t a, std::int64_t b)
{
    const std::optional<std::int64_t> product = tryMultiply(a, b);
    require(product.has_value(), "a notional is exact and representable");
    return *product;
}

bool isUpper(char c)
{
    return c >= 'A' && c <= 'Z';
}
bool isLower(char c)
{
    return c >= 'a' && c <= 'z';
}
bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

bool symbolValid(std::string_view text)
{
    if (text.empty() || text.size() > 32)
        return false;
    if (!isUpper(text.front()) && !isDigit(text.front()))
        return false;
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return isUpper(c) || isDigit(c) || c == '.' || c == '_' || c == '-'; });
}

bool assetCodeValid(std::string_view text)
{
    if (text.empty() || text.size() > 16)
        return false;
    return std::all_of(text.begin(), text.end(), [](char c) { return isUpper(c) || isDigit(c); });
}

bool clientOrderIdValid(std::string_view text)
{
    return std::all_of(text.begin(), text.end(), [](char c) {
        return isUpper(c) || isLower(c) || isDigit(c) || c == '.' || c == '_' || c == ':' || c == '-';
    });
}

template<typename Enum>
std::uint64_t enumValue(Enum value)
{
    return static_cast<std::uint64_t>(value);
}

} // namespace

CommandResult ReferenceVenue::apply(const Command &command, std::vector<Event> &out)
{
    m_now = std::max(m_now, command.time);
    m_out = &out;
    m_commandType = command.type();
    m_firstSeq = m_lastSeq + 1;
    m_balancesBefore.clear();

    forgetClientOrderIds();
    CommandResult result;
    switch (command.type()) {
    case CommandType::AddInstrument: result = applyAddInstrument(std::get<AddInstrument>(command.body)); break;
    case CommandType::SetInstrumentStatus:
        result = applySetInstrumentStatus(std::get<SetInstrumentStatus>(command.body));
        break;
    case CommandType::PlaceOrder: result = applyPlaceOrder(std::get<PlaceOrder>(command.body)); break;
    case CommandType::CancelOrder: result = applyCancelOrder(std::get<CancelOrder>(command.body)); break;
    case CommandType::AmendOrder: result = applyAmendOrder(std::get<AmendOrder>(command.body)); break;
    case CommandType::MassCancel: result = applyMassCancel(std::get<MassCancel>(command.body)); break;
    case CommandType::Deposit: result = applyDeposit(std::get<Deposit>(command.body)); break;
    case CommandType::Withdraw: result = applyWithdraw(std::get<Withdraw>(command.body)); break;
    }
    forgetClientOrderIds();

    m_out = nullptr;
    return result;
}

// --- the commands ----------------------------------------------------------------------------------------

CommandResult ReferenceVenue::applyAddInstrument(const AddInstrument &command)
{
    CommandRejected rejected;
    if (!symbolValid(command.symbol.view())) {
        rejected.reason = RejectReason::SymbolInvalid;
        return reject(rejected);
    }
    if (!assetCodeValid(command.base.view()) || !assetCodeValid(command.quote.view()) || command.base == command.quote) {
        rejected.reason = RejectReason::AssetInvalid;
        return reject(rejected);
    }
    if (findInstrument(command.symbol.view())) {
        rejected.reason = RejectReason::InstrumentExists;
        return reject(rejected);
    }
    const std::int64_t tick = command.tickSize.raw();
    const std::int64_t lot = command.lotSize.raw();
    const std::int64_t minimum = command.minQuantity.raw();
    if (tick <= 0) {
        rejected.reason = RejectReason::TickSizeInvalid;
        return reject(rejected);
    }
    if (lot <= 0) {
        rejected.reason = RejectReason::LotSizeInvalid;
        return reject(rejected);
    }
    if (minimum <= 0 || minimum % lot != 0) {
        rejected.reason = RejectReason::MinQuantityInvalid;
        return reject(rejected);
    }
    // tick × lot must be a Decimal: exact at 8 decimals and within range.
    if ((Wide(tick) * Wide(lot)) % kOne != 0 || Wide(tick) * Wide(lot) / kOne > Wide(INT64_MAX)) {
        rejected.reason = RejectReason::PrecisionTooFine;
        return reject(rejected);
    }

    auto assetId = [this](const AssetCode &code) {
        if (const std::optional<AssetId> known = findAsset(code.view()))
            return *known;
        m_assetCodes.emplace_back(code.view());
        return static_cast<AssetId>(m_assetCodes.size() - 1);
    };
    Instrument instrument;
    instrument.view.id = static_cast<InstrumentId>(m_instruments.size());
    instrument.view.symbol = command.symbol;
    instrument.view.base = command.base;
    instrument.view.quote = command.quote;
    instrument.view.baseAsset = assetId(command.base);
    instrument.view.quoteAsset = assetId(command.quote);
    instrument.view.tickSize = command.tickSize;
    instrument.view.lotSize = command.lotSize;
    instrument.view.minQuantity = command.minQuantity;
    instrument.view.status = InstrumentStatus::Trading;
    m_instruments.push_back(instrument);

    const InstrumentView &view = m_instruments.back().view;
    emit(InstrumentAdded{view});
    return applied(0);
}

CommandResult ReferenceVenue::applySetInstrumentStatus(const SetInstrumentStatus &command)
{
    const std::optional<InstrumentId> id = findInstrument(command.symbol.view());
    if (!id) {
        CommandRejected rejected;
        rejected.reason = RejectReason::UnknownInstrument;
        return reject(rejected);
    }
    m_instruments[*id].view.status = command.status;
    emit(InstrumentStatusChanged{*id, command.status});

    std::uint32_t cancelled = 0;
    if (command.cancelOpenOrders) {
        std::vector<OrderId> victims;
        for (const auto &[orderId, place] : m_open) {
            if (place.instrument == *id)
                victims.push_back(orderId);
        }
        for (const OrderId orderId : victims) {
            cancel(takeFromBook(orderId), CancelReason::KillSwitch);
            ++cancelled;
        }
    }
    return applied(0, cancelled);
}

CommandResult ReferenceVenue::applyPlaceOrder(const PlaceOrder &command)
{
    CommandRejected rejected;
    rejected.account = command.account;
    rejected.clientOrderId = command.clientOrderId;
    auto refuse = [&](RejectReason reason) {
        rejected.reason = reason;
        return reject(rejected);
    };

    if (command.account == 0)
        return refuse(RejectReason::InvalidAccount);
    if (!clientOrderIdValid(command.clientOrderId.view()))
        return refuse(RejectReason::ClientOrderIdInvalid);

    const bool limit = command.type == OrderType::Limit;
    const TimeInForce timeInForce = command.timeInForce.value_or(limit ? TimeInForce::Gtc : TimeInForce::Ioc);
    const PlacePayload payload{command.symbol,   command.side, command.type,  timeInForce,
                               command.postOnly, command.stp,  command.price, command.quantity};
    const ClientOrderIdKey clientKey{command.account, std::string(command.clientOrderId.view())};
    if (!command.clientOrderId.empty()) {
        const auto remembered = m_clientOrderIds.find(clientKey);
        if (remembered != m_clientOrderIds.end()) {
            if (!(remembered->second.payload == payload))
                return refuse(RejectReason::ClientOrderIdReused);
            require(m_balancesBefore.empty() && m_lastSeq + 1 == m_firstSeq, "a replay changes nothing");
            CommandResult result;
            result.outcome = CommandResult::Outcome::Replayed;
            result.order = remembered->second.order;
            return result;
        }
    }

    const std::optional<InstrumentId> instrumentId = findInstrument(command.symbol.view());
    if (!instrumentId)
        return refuse(RejectReason::UnknownInstrument);
    Instrument &instrument = m_instruments[*instrumentId];
    const InstrumentView &view = instrument.view;
    if (view.status == InstrumentStatus::Halted)
        return refuse(RejectReason::MarketHalted);
    if (limit && !command.price)
        return refuse(RejectReason::PriceRequired);
    if (!limit && command.price)
        return refuse(RejectReason::PriceNotAllowed);
    if (!limit && timeInForce == TimeInForce::Gtc)
        return refuse(RejectReason::TimeInForceInvalid);
    if (command.postOnly && !(limit && timeInForce == TimeInForce::Gtc))
        return refuse(RejectReason::PostOnlyInvalid);
    const std::int64_t price = limit ? command.price->raw() : 0;
    if (limit && price <= 0)
        return refuse(RejectReason::PriceNotPositive);
    if (limit && price % view.tickSize.raw() != 0)
        return refuse(RejectReason::PriceOffTick);
    const std::int64_t quantity = command.quantity.raw();
    if (quantity <= 0)
        return refuse(RejectReason::QuantityNotPositive);
    if (quantity % view.lotSize.raw() != 0)
        return refuse(RejectReason::QuantityOffLot);
    if (quantity < view.minQuantity.raw())
        return refuse(RejectReason::QuantityBelowMinimum);
    std::optional<std::int64_t> notional;
    if (limit) {
        notional = tryMultiply(price, quantity);
        if (!notional)
            return refuse(RejectReason::NotionalOverflow);
    }

    auto insufficient = [&](AssetId asset, std::int64_t required, std::int64_t available) {
        rejected.asset = asset;
        rejected.required = Decimal::fromRaw(required);
        rejected.available = Decimal::fromRaw(available);
        return refuse(RejectReason::InsufficientBalance);
    };
    const std::int64_t availableQuote = current(command.account, view.quoteAsset).available;
    const std::int64_t availableBase = current(command.account, view.baseAsset).available;
    if (command.side == Side::Buy && limit && *notional > availableQuote)
        return insufficient(view.quoteAsset, *notional, availableQuote);
    if (command.side == Side::Sell && quantity > availableBase)
        return insufficient(view.baseAsset, quantity, availableBase);
    if (command.side == Side::Buy && !limit && !instrument.asks.empty()) {
        const std::int64_t lotCost = multiply(instrument.asks.begin()->first, view.lotSize.raw());
        if (availableQuote < lotCost)
            return insufficient(view.quoteAsset, lotCost, availableQuote);
    }
    if (command.postOnly && wouldCross(instrument, command.side, price))
        return refuse(RejectReason::PostOnlyWouldTake);

    Order order;
    order.id = m_nextOrderId++;
    order.account = command.account;
    order.instrument = view.id;
    order.side = command.side;
    order.type = command.type;
    order.timeInForce = timeInForce;
    order.postOnly = command.postOnly;
    order.stp = command.stp;
    order.price = price;
    order.quantity = quantity;
    order.remaining = quantity;
    order.clientOrderId = command.clientOrderId;
    emit(OrderAccepted{order.id, order.account, order.instrument, order.side, order.type, order.timeInForce,
                       order.postOnly, order.stp, Decimal::fromRaw(order.price), Decimal::fromRaw(order.quantity),
                       order.clientOrderId});
    if (!command.clientOrderId.empty()) {
        require(!m_clientOrderIds.contains(clientKey), "a remembered id was replayed or refused above");
        m_clientOrderIds[clientKey] = RememberedClientOrderId{order.id, m_now, payload};
        m_clientOrderIdsByAge.emplace(m_now, clientKey);
    }
    reserve(order);

    if (timeInForce == TimeInForce::Fok && !fillOrKillFills(instrument, order)) {
        expire(order, ExpireReason::FillOrKill);
        return applied(order.id);
    }
    const MatchStop stop = match(instrument, order);
    settleTaker(order, stop);
    return applied(order.id);
}

CommandResult ReferenceVenue::applyCancelOrder(const CancelOrder &command)
{
    if (const std::optional<RejectReason> reason = checkOrderTarget(command.account, command.order)) {
        CommandRejected rejected;
        rejected.reason = *reason;
        rejected.account = command.account;
        rejected.order = command.order;
        return reject(rejected);
    }
    cancel(takeFromBook(command.order), CancelReason::Requested);
    return applied(command.order);
}

CommandResult ReferenceVenue::applyAmendOrder(const AmendOrder &command)
{
    CommandRejected rejected;
    rejected.account = command.account;
    rejected.order = command.order;
    auto refuse = [&](RejectReason reason) {
        rejected.reason = reason;
        return reject(rejected);
    };

    if (const std::optional<RejectReason> reason = checkOrderTarget(command.account, command.order))
        return refuse(*reason);
    if (!command.price && !command.quantity)
        return refuse(RejectReason::AmendChangesNothing);
    const Order &order = openOrder(command.order);
    Instrument &instrument = m_instruments[order.instrument];
    const InstrumentView &view = instrument.view;
    if (view.status == InstrumentStatus::Halted)
        return refuse(RejectReason::MarketHalted);
    if (command.price) {
        if (command.price->raw() <= 0)
            return refuse(RejectReason::PriceNotPositive);
        if (command.price->raw() % view.tickSize.raw() != 0)
            return refuse(RejectReason::PriceOffTick);
    }
    const std::int64_t filled = order.quantity - order.remaining;
    if (command.quantity) {
        const std::int64_t quantity = command.quantity->raw();
        if (quantity <= 0)
            return refuse(RejectReason::QuantityNotPositive);
        if (quantity % view.lotSize.raw() != 0)
            return refuse(RejectReason::QuantityOffLot);
        if (quantity <= filled)
            return refuse(RejectReason::QuantityNotAboveFilled);
        if (quantity < view.minQuantity.raw())
            return refuse(RejectReason::QuantityBelowMinimum);
    }
    const std::int64_t newPrice = command.price ? command.price->raw() : order.price;
    const std::int64_t newQuantity = command.quantity ? command.quantity->raw() : order.quantity;
    if (!tryMultiply(newPrice, newQuantity))
        return refuse(RejectReason::NotionalOverflow);
    const std::int64_t newRemaining = newQuantity - filled;

    const AssetId reservedAsset = order.side == Side::Buy ? view.quoteAsset : view.baseAsset;
    const std::int64_t extra = order.side == Side::Buy
                                   ? multiply(newPrice, newRemaining) - multiply(order.price, order.remaining)
                                   : newRemaining - order.remaining;
    const std::int64_t available = current(order.account, reservedAsset).available;
    if (extra > available) {
        rejected.asset = reservedAsset;
        rejected.required = Decimal::fromRaw(extra);
        rejected.available = Decimal::fromRaw(available);
        return refuse(RejectReason::InsufficientBalance);
    }
    if (order.postOnly && wouldCross(instrument, order.side, newPrice))
        return refuse(RejectReason::PostOnlyWouldTake);

    const bool priorityKept = newPrice == order.price && newQuantity <= order.quantity;
    emit(OrderAmended{order.id, order.account, order.instrument, Decimal::fromRaw(newPrice),
                      Decimal::fromRaw(newQuantity), Decimal::fromRaw(newRemaining), priorityKept});
    if (priorityKept) {
        Order &inPlace = openOrder(command.order);
        release(inPlace);
        inPlace.quantity = newQuantity;
        inPlace.remaining = newRemaining;
        reserve(inPlace);
        return applied(command.order);
    }

    Order moved = takeFromBook(command.order);
    release(moved);
    moved.price = newPrice;
    moved.quantity = newQuantity;
    moved.remaining = newRemaining;
    reserve(moved);
    const MatchStop stop = match(instrument, moved);
    settleTaker(moved, stop);
    return applied(command.order);
}

CommandResult ReferenceVenue::applyMassCancel(const MassCancel &command)
{
    std::optional<InstrumentId> only;
    if (command.symbol) {
        only = findInstrument(command.symbol->view());
        if (!only) {
            CommandRejected rejected;
            rejected.reason = RejectReason::UnknownInstrument;
            rejected.account = command.account;
            return reject(rejected);
        }
    }
    std::vector<OrderId> victims;
    for (const auto &[orderId, place] : m_open) {
        if (only && place.instrument != *only)
            continue;
        if (command.account != kAnyAccount && openOrder(orderId).account != command.account)
            continue;
        victims.push_back(orderId);
    }
    for (const OrderId orderId : victims)
        cancel(takeFromBook(orderId), CancelReason::MassCancel);
    return applied(0, static_cast<std::uint32_t>(victims.size()));
}

CommandResult ReferenceVenue::applyDeposit(const Deposit &command)
{
    CommandRejected rejected;
    rejected.account = command.account;
    auto refuse = [&](RejectReason reason) {
        rejected.reason = reason;
        return reject(rejected);
    };
    if (command.account == 0)
        return refuse(RejectReason::InvalidAccount);
    const std::optional<AssetId> asset = findAsset(command.asset.view());
    if (!asset)
        return refuse(RejectReason::UnknownAsset);
    if (command.amount.raw() <= 0)
        return refuse(RejectReason::AmountNotPositive);
    if (Wide(assetSupply(*asset).raw()) + Wide(command.amount.raw()) > Wide(kMaxUnits))
        return refuse(RejectReason::SupplyOverflow);

    touch(command.account, *asset).available += command.amount.raw();
    emit(FundsDeposited{command.account, *asset, command.amount});
    return applied(0);
}

CommandResult ReferenceVenue::applyWithdraw(const Withdraw &command)
{
    CommandRejected rejected;
    rejected.account = command.account;
    auto refuse = [&](RejectReason reason) {
        rejected.reason = reason;
        return reject(rejected);
    };
    if (command.account == 0)
        return refuse(RejectReason::InvalidAccount);
    const std::optional<AssetId> asset = findAsset(command.asset.view());
    if (!asset)
        return refuse(RejectReason::UnknownAsset);
    if (command.amount.raw() <= 0)
        return refuse(RejectReason::AmountNotPositive);
    const std::int64_t available = current(command.account, *asset).available;
    if (command.amount.raw() > available) {
        rejected.asset = *asset;
        rejected.required = command.amount;
        rejected.available = Decimal::fromRaw(available);
        return refuse(RejectReason::InsufficientBalance);
    }

    touch(command.account, *asset).available -= command.amount.raw();
    emit(FundsWithdrawn{command.account, *asset, command.amount});
    return applied(0);
}

// --- events, results, balances ---------------------------------------------------------------------------

void ReferenceVenue::emit(EventBody body)
{
    m_out->push_back(Event{++m_lastSeq, m_now, std::move(body)});
}

CommandResult ReferenceVenue::reject(CommandRejected rejected)
{
    require(m_balancesBefore.empty() && m_lastSeq + 1 == m_firstSeq, "a rejection comes before any change");
    rejected.command = m_commandType;
    emit(rejected);
    CommandResult result;
    result.outcome = CommandResult::Outcome::Rejected;
    result.reason = rejected.reason;
    // The header leaves it open; like the event, the result names the order a cancel or amend aimed at.
    result.order = rejected.order;
    result.firstSeq = m_lastSeq;
    result.lastSeq = m_lastSeq;
    result.asset = rejected.asset;
    result.required = rejected.required;
    result.available = rejected.available;
    return result;
}

CommandResult ReferenceVenue::applied(OrderId order, std::uint32_t affected)
{
    for (const auto &[key, before] : m_balancesBefore) {
        const Balance now = m_balances.at(key);
        require(now.available >= 0 && now.reserved >= 0, "balances never go negative");
        if (now != before)
            emit(BalanceChanged{key.first, key.second, Decimal::fromRaw(now.available), Decimal::fromRaw(now.reserved)});
    }
    CommandResult result;
    result.outcome = CommandResult::Outcome::Applied;
    result.order = order;
    result.affected = affected;
    if (m_lastSeq >= m_firstSeq) {
        result.firstSeq = m_firstSeq;
        result.lastSeq = m_lastSeq;
    }
    return result;
}

ReferenceVenue::Balance &ReferenceVenue::touch(AccountId account, AssetId asset)
{
    const BalanceKey key{account, asset};
    Balance &balance = m_balances[key];
    m_balancesBefore.try_emplace(key, balance);
    return balance;
}

ReferenceVenue::Balance ReferenceVenue::current(AccountId account, AssetId asset) const
{
    const auto found = m_balances.find({account, asset});
    return found == m_balances.end() ? Balance{} : found->second;
}

void ReferenceVenue::forgetClientOrderIds()
{
    for (auto it = m_clientOrderIdsByAge.begin();
         it != m_clientOrderIdsByAge.end() && m_now - it->first >= kClientOrderIdRetention;) {
        const auto entry = m_clientOrderIds.find(it->second);
        require(entry != m_clientOrderIds.end() && entry->second.acceptedAt == it->first,
                "the age index matches the remembered ids");
        if (m_open.contains(entry->second.order)) {
            ++it;
            continue;
        }
        m_clientOrderIds.erase(entry);
        it = m_clientOrderIdsByAge.erase(it);
    }
}

// --- orders ----------------------------------------------------------------------------------------------

std::optional<RejectReason> ReferenceVenue::checkOrderTarget(AccountId account, OrderId id) const
{
    if (id == 0 || id >= m_nextOrderId)
        return RejectReason::UnknownOrder;
    if (!m_open.contains(id))
        return RejectReason::OrderNotOpen;
    const OpenOrderPlace &place = m_open.at(id);
    const Instrument &instrument = m_instruments[place.instrument];
    const Level &level = (place.side == Side::Buy ? instrument.bids : instrument.asks).at(place.price);
    const auto found = std::find_if(level.begin(), level.end(), [id](const Order &o) { return o.id == id; });
    require(found != level.end(), "an open order is on its level");
    if (account != kAnyAccount && account != found->account)
        return RejectReason::UnknownOrder;
    return std::nullopt;
}

ReferenceVenue::Order &ReferenceVenue::openOrder(OrderId id)
{
    const OpenOrderPlace &place = m_open.at(id);
    Instrument &instrument = m_instruments[place.instrument];
    Level &level = (place.side == Side::Buy ? instrument.bids : instrument.asks).at(place.price);
    const auto found = std::find_if(level.begin(), level.end(), [id](const Order &o) { return o.id == id; });
    require(found != level.end(), "an open order is on its level");
    return *found;
}

ReferenceVenue::Order ReferenceVenue::takeFromBook(OrderId id)
{
    const OpenOrderPlace place = m_open.at(id);
    Instrument &instrument = m_instruments[place.instrument];
    BookSide &side = place.side == Side::Buy ? instrument.bids : instrument.asks;
    Level &level = side.at(place.price);
    const auto found = std::find_if(level.begin(), level.end(), [id](const Order &o) { return o.id == id; });
    require(found != level.end(), "an open order is on its level");
    const Order order = *found;
    level.erase(found);
    if (level.empty())
        side.erase(place.price);
    m_open.erase(id);
    return order;
}

void ReferenceVenue::rest(Order order)
{
    require(order.type == OrderType::Limit && order.timeInForce == TimeInForce::Gtc && order.remaining > 0,
            "only a limit gtc order with something left rests");
    Instrument &instrument = m_instruments[order.instrument];
    BookSide &side = order.side == Side::Buy ? instrument.bids : instrument.asks;
    m_open[order.id] = OpenOrderPlace{order.instrument, order.side, order.price};
    side[order.price].push_back(order);
}

void ReferenceVenue::reserve(const Order &order)
{
    const InstrumentView &view = m_instruments[order.instrument].view;
    if (order.side == Side::Sell) {
        Balance &base = touch(order.account, view.baseAsset);
        base.available -= order.remaining;
        base.reserved += order.remaining;
    } else if (order.type == OrderType::Limit) {
        Balance &quote = touch(order.account, view.quoteAsset);
        const std::int64_t amount = multiply(order.price, order.remaining);
        quote.available -= amount;
        quote.reserved += amount;
    }
}

void ReferenceVenue::release(const Order &order)
{
    const InstrumentView &view = m_instruments[order.instrument].view;
    if (order.side == Side::Sell) {
        Balance &base = touch(order.account, view.baseAsset);
        base.available += order.remaining;
        base.reserved -= order.remaining;
    } else if (order.type == OrderType::Limit) {
        Balance &quote = touch(order.account, view.quoteAsset);
        const std::int64_t amount = multiply(order.price, order.remaining);
        quote.available += amount;
        quote.reserved -= amount;
    }
}

void ReferenceVenue::expire(const Order &order, ExpireReason reason)
{
    emit(OrderExpired{order.id, order.account, order.instrument, Decimal::fromRaw(order.remaining), reason});
    release(order);
}

void ReferenceVenue::cancel(const Order &order, CancelReason reason)
{
    emit(OrderCancelled{order.id, order.account, order.instrument, Decimal::fromRaw(order.remaining), reason});
    release(order);
}

bool ReferenceVenue::wouldCross(const Instrument &instrument, Side side, std::int64_t price) const
{
    if (side == Side::Buy)
        return !instrument.asks.empty() && instrument.asks.begin()->first <= price;
    return !instrument.bids.empty() && instrument.bids.rbegin()->first >= price;
}

ReferenceVenue::MatchStop ReferenceVenue::match(Instrument &instrument, Order &taker)
{
    const InstrumentView &view = instrument.view;
    const bool buy = taker.side == Side::Buy;
    const bool limit = taker.type == OrderType::Limit;
    BookSide &opposite = buy ? instrument.asks : instrument.bids;

    while (taker.remaining > 0 && !opposite.empty()) {
        const auto levelIt = buy ? opposite.begin() : std::prev(opposite.end());
        const std::int64_t levelPrice = levelIt->first;
        if (limit && (buy ? levelPrice > taker.price : levelPrice < taker.price))
            break;
        Level &level = levelIt->second;
        Order &maker = level.front();

        if (maker.account == taker.account && taker.stp != SelfTradePrevention::None) {
            if (taker.stp == SelfTradePrevention::ExpireTaker)
                return MatchStop::SelfTrade;
            expire(takeFromBook(maker.id), ExpireReason::SelfTradePrevention);
            if (taker.stp == SelfTradePrevention::ExpireBoth)
                return MatchStop::SelfTrade;
            continue;
        }

        std::int64_t quantity = std::min(taker.remaining, maker.remaining);
        if (buy && !limit) {
            const std::int64_t lotCost = multiply(maker.price, view.lotSize.raw());
            const std::int64_t affordableLots = current(taker.account, view.quoteAsset).available / lotCost;
            const Wide affordable = Wide(affordableLots) * Wide(view.lotSize.raw());
            if (affordable < Wide(quantity))
                quantity = static_cast<std::int64_t>(affordable);
            if (quantity == 0)
                return MatchStop::Unaffordable;
        }

        const std::int64_t price = maker.price;
        const std::int64_t notional = multiply(price, quantity);
        Order &buyer = buy ? taker : maker;
        Order &seller = buy ? maker : taker;
        touch(buyer.account, view.baseAsset).available += quantity;
        if (buyer.type == OrderType::Limit) {
            Balance &quote = touch(buyer.account, view.quoteAsset);
            const std::int64_t atLimit = multiply(quantity, buyer.price);
            quote.reserved -= atLimit;
            quote.available += atLimit - notional;
        } else {
            touch(buyer.account, view.quoteAsset).available -= notional;
        }
        touch(seller.account, view.baseAsset).reserved -= quantity;
        touch(seller.account, view.quoteAsset).available += notional;

        taker.remaining -= quantity;
        maker.remaining -= quantity;
        emit(TradeExecuted{m_nextTradeId++, view.id, Decimal::fromRaw(price), Decimal::fromRaw(quantity), taker.side,
                           maker.id, taker.id, maker.account, taker.account, Decimal::fromRaw(maker.remaining),
                           Decimal::fromRaw(taker.remaining)});
        if (maker.remaining == 0) {
            m_open.erase(maker.id);
            level.pop_front();
            if (level.empty())
                opposite.erase(levelIt);
        }
    }
    return MatchStop::None;
}

// The matching loop above, run on copies: only a market buy's spending depends on anything but the book.
bool ReferenceVenue::fillOrKillFills(const Instrument &instrument, const Order &taker) const
{
    struct Maker
    {
        AccountId account;
        std::int64_t price;
        std::int64_t remaining;
    };
    const bool buy = taker.side == Side::Buy;
    const bool limit = taker.type == OrderType::Limit;
    std::vector<Maker> makers;
    auto collect = [&](const auto &levels) {
        for (const auto &[levelPrice, level] : levels) {
            if (limit && (buy ? levelPrice > taker.price : levelPrice < taker.price))
                break;
            for (const Order &order : level)
                makers.push_back(Maker{order.account, order.price, order.remaining});
        }
    };
    if (buy)
        collect(instrument.asks);
    else
        collect(std::ranges::reverse_view(instrument.bids));

    const std::int64_t lot = instrument.view.lotSize.raw();
    std::int64_t remaining = taker.remaining;
    std::int64_t available = current(taker.account, instrument.view.quoteAsset).available;
    std::size_t next = 0;
    while (remaining > 0 && next < makers.size()) {
        Maker &maker = makers[next];
        if (maker.account == taker.account && taker.stp != SelfTradePrevention::None) {
            if (taker.stp != SelfTradePrevention::ExpireMaker)
                return false;
            ++next;
            continue;
        }
        std::int64_t quantity = std::min(remaining, maker.remaining);
        if (buy && !limit) {
            const std::int64_t lotCost = multiply(maker.price, lot);
            const Wide affordable = Wide(available / lotCost) * Wide(lot);
            if (affordable < Wide(quantity))
                quantity = static_cast<std::int64_t>(affordable);
            if (quantity == 0)
                return false;
            const std::int64_t notional = multiply(maker.price, quantity);
            available -= notional;
            if (maker.account == taker.account)
                available += notional; // it sold to itself
        }
        remaining -= quantity;
        maker.remaining -= quantity;
        if (maker.remaining == 0)
            ++next;
    }
    return remaining == 0;
}

void ReferenceVenue::settleTaker(Order taker, MatchStop stop)
{
    if (taker.remaining == 0)
        return;
    if (stop == MatchStop::SelfTrade)
        expire(taker, ExpireReason::SelfTradePrevention);
    else if (taker.type == OrderType::Limit && taker.timeInForce == TimeInForce::Gtc)
        rest(taker);
    else
        expire(taker,
               stop == MatchStop::Unaffordable ? ExpireReason::InsufficientBalance : ExpireReason::ImmediateOrCancel);
}

// --- queries ---------------------------------------------------------------------------------------------

std::uint64_t ReferenceVenue::stateHash() const
{
    StateHasher hasher;
    hasher.add(std::uint64_t(m_lastSeq));
    hasher.add(std::int64_t(m_now));
    hasher.add(std::uint64_t(m_nextOrderId));
    hasher.add(std::uint64_t(m_nextTradeId));
    for (const Instrument &instrument : m_instruments) {
        const InstrumentView &view = instrument.view;
        hasher.add(std::uint32_t(view.id));
        hasher.add(view.symbol.view());
        hasher.add(view.base.view());
        hasher.add(view.quote.view());
        hasher.add(view.tickSize.raw());
        hasher.add(view.lotSize.raw());
        hasher.add(view.minQuantity.raw());
        hasher.add(enumValue(view.status));
    }
    for (const Instrument &instrument : m_instruments) {
        for (const Side side : {Side::Buy, Side::Sell}) {
            for (const OrderView &order : bookSide(instrument.view.id, side)) {
                hasher.add(std::uint64_t(order.id));
                hasher.add(std::uint64_t(order.account));
                hasher.add(enumValue(order.side));
                hasher.add(order.price.raw());
                hasher.add(order.quantity.raw());
                hasher.add(order.remaining.raw());
                hasher.add(order.postOnly);
                hasher.add(enumValue(order.stp));
                hasher.add(order.clientOrderId.view());
            }
        }
    }
    for (const auto &[key, balance] : m_balances) {
        if (balance.available == 0 && balance.reserved == 0)
            continue;
        hasher.add(std::uint64_t(key.first));
        hasher.add(std::uint32_t(key.second));
        hasher.add(balance.available);
        hasher.add(balance.reserved);
    }
    for (const auto &[key, entry] : m_clientOrderIds) {
        hasher.add(std::uint64_t(key.first));
        hasher.add(std::string_view(key.second));
        hasher.add(std::uint64_t(entry.order));
        hasher.add(std::int64_t(entry.acceptedAt));
        const PlacePayload &p = entry.payload;
        hasher.add(p.symbol.view());
        hasher.add(std::uint64_t(p.side));
        hasher.add(std::uint64_t(p.type));
        hasher.add(std::uint64_t(p.timeInForce));
        hasher.add(p.postOnly);
        hasher.add(std::uint64_t(p.stp));
        hasher.add(p.price.has_value());
        hasher.add(p.price.value_or(Decimal()).raw());
        hasher.add(p.quantity.raw());
    }
    return hasher.value();
}

std::optional<InstrumentView> ReferenceVenue::instrument(InstrumentId id) const
{
    if (id >= m_instruments.size())
        return std::nullopt;
    return m_instruments[id].view;
}

std::optional<InstrumentId> ReferenceVenue::findInstrument(std::string_view symbol) const
{
    for (const Instrument &instrument : m_instruments) {
        if (instrument.view.symbol.view() == symbol)
            return instrument.view.id;
    }
    return std::nullopt;
}

std::optional<AssetId> ReferenceVenue::findAsset(std::string_view code) const
{
    for (std::size_t id = 0; id < m_assetCodes.size(); ++id) {
        if (m_assetCodes[id] == code)
            return static_cast<AssetId>(id);
    }
    return std::nullopt;
}

std::optional<Decimal> ReferenceVenue::bestPrice(InstrumentId id, Side side) const
{
    if (id >= m_instruments.size())
        return std::nullopt;
    const Instrument &instrument = m_instruments[id];
    if (side == Side::Buy)
        return instrument.bids.empty() ? std::nullopt
                                       : std::optional(Decimal::fromRaw(instrument.bids.rbegin()->first));
    return instrument.asks.empty() ? std::nullopt : std::optional(Decimal::fromRaw(instrument.asks.begin()->first));
}

std::vector<OrderView> ReferenceVenue::bookSide(InstrumentId id, Side side) const
{
    std::vector<OrderView> orders;
    if (id >= m_instruments.size())
        return orders;
    auto collect = [&orders](const auto &levels) {
        for (const auto &[price, level] : levels) {
            for (const Order &order : level) {
                orders.push_back(OrderView{order.id, order.account, order.instrument, order.side, order.postOnly,
                                           order.stp, Decimal::fromRaw(order.price), Decimal::fromRaw(order.quantity),
                                           Decimal::fromRaw(order.remaining), order.clientOrderId});
            }
        }
    };
    const Instrument &instrument = m_instruments[id];
    if (side == Side::Buy)
        collect(std::ranges::reverse_view(instrument.bids));
    else
        collect(instrument.asks);
    return orders;
}

std::optional<OrderView> ReferenceVenue::order(OrderId id) const
{
    const auto found = m_open.find(id);
    if (found == m_open.end())
        return std::nullopt;
    for (const OrderView &view : bookSide(found->second.instrument, found->second.side)) {
        if (view.id == id)
            return view;
    }
    require(false, "an open order is in its book");
    return std::nullopt;
}

BalanceView ReferenceVenue::balance(AccountId account, AssetId asset) const
{
    const Balance balance = current(account, asset);
    return BalanceView{Decimal::fromRaw(balance.available), Decimal::fromRaw(balance.reserved)};
}

std::vector<std::pair<AccountId, AssetId>> ReferenceVenue::balanceKeys() const
{
    std::vector<std::pair<AccountId, AssetId>> keys;
    for (const auto &entry : m_balances)
        keys.push_back(entry.first);
    return keys;
}

Decimal ReferenceVenue::assetSupply(AssetId asset) const
{
    Wide supply = 0;
    for (const auto &[key, balance] : m_balances) {
        if (key.second == asset)
            supply += Wide(balance.available) + Wide(balance.reserved);
    }
    require(supply <= Wide(kMaxUnits), "no asset's supply passes INT64_MAX units");
    return Decimal::fromRaw(static_cast<std::int64_t>(supply));
}

} // namespace bourse::test
