// ReferenceVenue: a deliberately naive second implementation of the matching rules written down in
// engine/sequencer.h, built from that text alone so that the differential test can hold the real
// Sequencer against it. Obviously correct over fast: ordered maps and lists, 128-bit arithmetic on raw
// Decimal units, every exactness assumption checked. Test thread only.
#pragma once

#include "sequencer.h"

#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace bourse::test {

class ReferenceVenue final
{
public:
    // Applies one command and appends its events to `out`, exactly as Sequencer::apply documents.
    CommandResult apply(const Command &command, std::vector<Event> &out);

    // The canonical fingerprint, fed to StateHasher in the order that Sequencer::stateHash() documents.
    std::uint64_t stateHash() const;

    Seq lastSeq() const { return m_lastSeq; }
    TimeNs lastTime() const { return m_now; }
    OrderId nextOrderId() const { return m_nextOrderId; }
    TradeId nextTradeId() const { return m_nextTradeId; }

    std::size_t instrumentCount() const { return m_instruments.size(); }
    std::optional<InstrumentView> instrument(InstrumentId id) const;
    std::optional<InstrumentId> findInstrument(std::string_view symbol) const;
    std::size_t assetCount() const { return m_assetCodes.size(); }
    std::optional<AssetId> findAsset(std::string_view code) const;

    std::optional<Decimal> bestPrice(InstrumentId instrument, Side side) const;
    // Every open order of one side, best level first, oldest first within a level.
    std::vector<OrderView> bookSide(InstrumentId instrument, Side side) const;
    std::optional<OrderView> order(OrderId id) const; // open orders only
    std::size_t openOrderCount() const { return m_open.size(); }

    BalanceView balance(AccountId account, AssetId asset) const;
    // Every (account, asset) pair that a command ever touched, ascending; some may be zero now.
    std::vector<std::pair<AccountId, AssetId>> balanceKeys() const;
    Decimal assetSupply(AssetId asset) const;
    std::size_t rememberedClientOrderIdCount() const { return m_clientOrderIds.size(); }

private:
    struct Order
    {
        OrderId id = 0;
        AccountId account = 0;
        InstrumentId instrument = 0;
        Side side = Side::Buy;
        OrderType type = OrderType::Limit;
        TimeInForce timeInForce = TimeInForce::Gtc;
        bool postOnly = false;
        SelfTradePrevention stp = SelfTradePrevention::ExpireTaker;
        std::int64_t price = 0; // raw units; zero for a market order
        std::int64_t quantity = 0;
        std::int64_t remaining = 0;
        ClientOrderId clientOrderId;
    };
    using Level = std::list<Order>;
    using BookSide = std::map<std::int64_t, Level>; // ascending price: asks read from the front, bids from the back

    struct Instrument
    {
        InstrumentView view;
        BookSide bids;
        BookSide asks;
    };

    struct Balance
    {
        friend bool operator==(const Balance &, const Balance &) = default;
        std::int64_t available = 0;
        std::int64_t reserved = 0;
    };
    using BalanceKey = std::pair<AccountId, AssetId>;

    struct OpenOrderPlace
    {
        InstrumentId instrument = 0;
        Side side = Side::Buy;
        std::int64_t price = 0;
    };

    // What makes two placements with one client order id "the same": PlaceOrder with defaults resolved.
    struct PlacePayload
    {
        friend bool operator==(const PlacePayload &, const PlacePayload &) = default;
        Symbol symbol;
        Side side = Side::Buy;
        OrderType type = OrderType::Limit;
        TimeInForce timeInForce = TimeInForce::Gtc;
        bool postOnly = false;
        SelfTradePrevention stp = SelfTradePrevention::ExpireTaker;
        std::optional<Decimal> price;
        Decimal quantity;
    };
    struct RememberedClientOrderId
    {
        OrderId order = 0;
        TimeNs acceptedAt = 0;
        PlacePayload payload;
    };
    using ClientOrderIdKey = std::pair<AccountId, std::string>;

    enum class MatchStop : std::uint8_t { None, SelfTrade, Unaffordable };

    CommandResult applyAddInstrument(const AddInstrument &command);
    CommandResult applySetInstrumentStatus(const SetInstrumentStatus &command);
    CommandResult applyPlaceOrder(const PlaceOrder &command);
    CommandResult applyCancelOrder(const CancelOrder &command);
    CommandResult applyAmendOrder(const AmendOrder &command);
    CommandResult applyMassCancel(const MassCancel &command);
    CommandResult applyDeposit(const Deposit &command);
    CommandResult applyWithdraw(const Withdraw &command);

    void emit(EventBody body);
    CommandResult reject(CommandRejected rejected);
    CommandResult applied(OrderId order, std::uint32_t affected = 0);
    Balance &touch(AccountId account, AssetId asset);
    Balance current(AccountId account, AssetId asset) const;
    void forgetClientOrderIds();

    // The three order checks shared by cancel and amend; nullopt when they pass.
    std::optional<RejectReason> checkOrderTarget(AccountId account, OrderId id) const;
    Order &openOrder(OrderId id);
    Order takeFromBook(OrderId id); // removes an open order from its level and the open index
    void rest(Order order);

    void reserve(const Order &order);
    void release(const Order &order);
    void expire(const Order &order, ExpireReason reason);
    void cancel(const Order &order, CancelReason reason);

    MatchStop match(Instrument &instrument, Order &taker);
    bool fillOrKillFills(const Instrument &instrument, const Order &taker) const;
    void settleTaker(Order taker, MatchStop stop);
    bool wouldCross(const Instrument &instrument, Side side, std::int64_t price) const;

    std::vector<Instrument> m_instruments;
    std::vector<std::string> m_assetCodes; // by asset id
    std::map<BalanceKey, Balance> m_balances;
    std::map<OrderId, OpenOrderPlace> m_open;
    std::map<ClientOrderIdKey, RememberedClientOrderId> m_clientOrderIds;
    // The same entries oldest first, so that forgetting does not walk every remembered id each command.
    std::set<std::pair<TimeNs, ClientOrderIdKey>> m_clientOrderIdsByAge;

    Seq m_lastSeq = 0;
    TimeNs m_now = 0;
    OrderId m_nextOrderId = 1;
    TradeId m_nextTradeId = 1;

    // The command being applied.
    std::vector<Event> *m_out = nullptr;
    CommandType m_commandType = CommandType::AddInstrument;
    Seq m_firstSeq = 0;
    std::map<BalanceKey, Balance> m_balancesBefore; // the first-touch value of each balance touched
};

} // namespace bourse::test
