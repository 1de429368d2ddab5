#include "account_state.h"

#include "projections.h"

#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace bourse::server {

namespace {

QString text(std::string_view view)
{
    return QString::fromUtf8(view.data(), qsizetype(view.size()));
}

Decimal plus(Decimal a, Decimal b)
{
    return Decimal::fromRaw(a.raw() + b.raw());
}

} // namespace

void AccountState::load(std::vector<sql::OrderRecord> openOrders,
                        std::vector<std::pair<AccountId, sql::BalanceRecord>> balances)
{
    m_accounts.clear();
    m_owners = FlatHashMap<OrderId, AccountId>();
    for (sql::OrderRecord &order : openOrders) {
        if (!order.isOpen())
            continue;
        const OrderId id = order.id;
        const AccountId user = order.user;
        m_owners.insert(id, user);
        m_accounts[user].orders.insert_or_assign(id, std::move(order));
    }
    for (auto &[user, balance] : balances) {
        if (!balance.assetCode.isEmpty())
            m_assetCodes.try_emplace(balance.asset, balance.assetCode);
        m_accounts[user].balances.insert_or_assign(balance.asset, Holding{balance.available, balance.reserved});
    }
}

void AccountState::setInstruments(const std::vector<InstrumentView> &instruments)
{
    for (const InstrumentView &instrument : instruments)
        learnAssets(instrument);
}

void AccountState::learnAssets(const InstrumentView &instrument)
{
    m_assetCodes.try_emplace(instrument.baseAsset, text(instrument.base.view()));
    m_assetCodes.try_emplace(instrument.quoteAsset, text(instrument.quote.view()));
}

AccountChanges AccountState::apply(const std::vector<Event> &events)
{
    AccountChanges changes;
    for (const Event &event : events) {
        if (event.seq <= m_lastSeq)
            continue; // delivered before
        applyOne(event, changes);
        m_lastSeq = event.seq;
    }
    return changes;
}

void AccountState::applyOne(const Event &event, AccountChanges &changes)
{
    std::visit(
        [this, &event, &changes](const auto &body) {
            using T = std::decay_t<decltype(body)>;
            if constexpr (std::is_same_v<T, InstrumentAdded>) {
                learnAssets(body.instrument);
            } else if constexpr (std::is_same_v<T, OrderAccepted>) {
                sql::OrderRecord order = acceptedOrder(body, event.time);
                m_owners.insert(body.order, body.account);
                // Kept first and reported from there, so that an order that closes within its own command (a
                // market, IOC or FOK order) leaves nothing behind.
                const auto slot = m_accounts[body.account].orders.insert_or_assign(body.order, std::move(order)).first;
                report(slot->second, event, changes);
            } else if constexpr (std::is_same_v<T, TradeExecuted>) {
                const auto fillOf = [&body, &event](OrderId order, sql::Liquidity liquidity, Side side) {
                    return sql::FillRecord{body.trade, order,         body.instrument, side,      liquidity,
                                           body.price, body.quantity, event.seq,       event.time};
                };
                changes.fills.push_back(
                    AccountFill{body.takerAccount, fillOf(body.takerOrder, sql::Liquidity::Taker, body.takerSide)});
                changes.fills.push_back(AccountFill{body.makerAccount, fillOf(body.makerOrder, sql::Liquidity::Maker,
                                                                              opposite(body.takerSide))});
                const Decimal notional = fillNotional(body.price, body.quantity);
                fill(body.takerOrder, body, notional, body.takerRemaining, event, changes);
                fill(body.makerOrder, body, notional, body.makerRemaining, event, changes);
            } else if constexpr (std::is_same_v<T, OrderAmended>) {
                // The status stays, as in the projection: an amend leaves the quantity above what is filled.
                if (sql::OrderRecord *order = findOrder(body.order)) {
                    order->price = body.price;
                    order->quantity = body.quantity;
                    report(*order, event, changes);
                }
            } else if constexpr (std::is_same_v<T, OrderCancelled> || std::is_same_v<T, OrderExpired>) {
                if (sql::OrderRecord *order = findOrder(body.order)) {
                    order->status = std::is_same_v<T, OrderCancelled> ? sql::OrderStatus::Cancelled
                                                                      : sql::OrderStatus::Expired;
                    report(*order, event, changes);
                }
            } else if constexpr (std::is_same_v<T, BalanceChanged>) {
                const Holding holding{body.available, body.reserved};
                m_accounts[body.account].balances.insert_or_assign(body.asset, holding);
                changes.balances.push_back(AccountBalance{body.account, balanceRecord(body.asset, holding), event.seq});
            }
            // InstrumentStatusChanged, FundsDeposited, FundsWithdrawn and CommandRejected change no order and no
            // balance here: what a deposit, a withdrawal or a kill switch changes arrives as its own events.
        },
        event.body);
}

sql::OrderRecord acceptedOrder(const OrderAccepted &accepted, TimeNs time)
{
    sql::OrderRecord order;
    order.id = accepted.order;
    order.user = accepted.account;
    order.instrument = accepted.instrument;
    order.clientOrderId = accepted.clientOrderId.empty() ? QString() : text(accepted.clientOrderId.view());
    order.side = accepted.side;
    order.type = accepted.type;
    order.timeInForce = accepted.timeInForce;
    order.postOnly = accepted.postOnly;
    order.stp = accepted.stp;
    if (accepted.type == OrderType::Limit)
        order.price = accepted.price;
    order.quantity = accepted.quantity;
    order.status = sql::OrderStatus::New;
    order.createdAt = time;
    return order;
}

Decimal fillNotional(Decimal price, Decimal quantity)
{
    const std::optional<Decimal> exact = Decimal::checkedMul(price, quantity);
    return exact ? *exact : Decimal::fromRaw(sql::notionalRaw(price, quantity));
}

void AccountState::fill(OrderId id, const TradeExecuted &trade, Decimal notional, Decimal remaining, const Event &event,
                        AccountChanges &changes)
{
    sql::OrderRecord *order = findOrder(id);
    if (!order)
        return;
    order->filledQuantity = plus(order->filledQuantity, trade.quantity);
    order->filledNotional = plus(order->filledNotional, notional);
    // From the engine's remaining, as the projection does, not from our own sum.
    order->status = remaining.isZero() ? sql::OrderStatus::Filled : sql::OrderStatus::PartiallyFilled;
    report(*order, event, changes);
}

void AccountState::report(sql::OrderRecord &order, const Event &event, AccountChanges &changes)
{
    order.updatedAt = event.time;
    order.seq = event.seq;
    changes.orders.push_back(order);
    if (order.isOpen())
        return;
    const OrderId id = order.id;
    const auto account = m_accounts.find(order.user); // `order` lives in it: not used after the erase
    m_owners.erase(id);
    account->second.orders.erase(id);
    if (account->second.orders.empty() && account->second.balances.empty())
        m_accounts.erase(account);
}

sql::OrderRecord *AccountState::findOrder(OrderId id)
{
    return const_cast<sql::OrderRecord *>(std::as_const(*this).findOrder(id));
}

const sql::OrderRecord *AccountState::findOrder(OrderId id) const
{
    const AccountId *user = m_owners.find(id);
    if (!user)
        return nullptr;
    const auto account = m_accounts.find(*user);
    if (account == m_accounts.end())
        return nullptr;
    const auto order = account->second.orders.find(id);
    return order == account->second.orders.end() ? nullptr : &order->second;
}

sql::BalanceRecord AccountState::balanceRecord(AssetId asset, const Holding &holding) const
{
    return sql::BalanceRecord{asset, assetCode(asset), holding.available, holding.reserved};
}

QString AccountState::assetCode(AssetId asset) const
{
    const auto found = m_assetCodes.find(asset);
    return found == m_assetCodes.end() ? QString() : found->second;
}

std::vector<sql::OrderRecord> AccountState::openOrders(AccountId user, std::optional<InstrumentId> instrument) const
{
    std::vector<sql::OrderRecord> out;
    const auto account = m_accounts.find(user);
    if (account == m_accounts.end())
        return out;
    for (const auto &[id, order] : account->second.orders) {
        if (!instrument || order.instrument == *instrument)
            out.push_back(order);
    }
    return out;
}

std::optional<sql::OrderRecord> AccountState::openOrder(OrderId id) const
{
    const sql::OrderRecord *order = findOrder(id);
    return order ? std::optional<sql::OrderRecord>(*order) : std::nullopt;
}

std::vector<sql::BalanceRecord> AccountState::balances(AccountId user) const
{
    std::vector<sql::BalanceRecord> out;
    const auto account = m_accounts.find(user);
    if (account == m_accounts.end())
        return out;
    out.reserve(account->second.balances.size());
    for (const auto &[asset, holding] : account->second.balances)
        out.push_back(balanceRecord(asset, holding));
    return out;
}

std::optional<sql::BalanceRecord> AccountState::balance(AccountId user, AssetId asset) const
{
    const auto account = m_accounts.find(user);
    if (account == m_accounts.end())
        return std::nullopt;
    const auto found = account->second.balances.find(asset);
    if (found == account->second.balances.end())
        return std::nullopt;
    return balanceRecord(asset, found->second);
}

} // namespace bourse::server
