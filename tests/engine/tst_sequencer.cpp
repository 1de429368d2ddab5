// The Sequencer's rules, one at a time: every rejection with its reason (and that it changes nothing),
// price-time priority, trade prices, reservations, TIFs, post-only, STP, amend priority, mass cancel,
// halts, funds, client order id idempotency and retention, time and sequence numbers.
#include "sequencer.h"

#include <QTest>

#include <sstream>

using namespace bourse;

Q_DECLARE_METATYPE(RejectReason)

namespace {

constexpr TimeNs kStart = 1'800'000'000'000'000'000;
constexpr TimeNs kSecond = 1'000'000'000;

Decimal d(const char *text)
{
    return Decimal::parse(text).value();
}

// A venue with BTC-USD (tick 0.01, lot 0.0001) and ETH-USD (tick 0.01, lot 0.001, min 0.01), and accounts
// 1-4 funded with 1,000,000 USD, 100 BTC and 1,000 ETH each.
class Venue final
{
public:
    Venue()
    {
        run(AddInstrument{Symbol("BTC-USD"), AssetCode("BTC"), AssetCode("USD"), d("0.01"), d("0.0001"), d("0.0001")});
        run(AddInstrument{Symbol("ETH-USD"), AssetCode("ETH"), AssetCode("USD"), d("0.01"), d("0.001"), d("0.01")});
        for (AccountId account = 1; account <= 4; ++account) {
            run(Deposit{account, AssetCode("USD"), d("1000000")});
            run(Deposit{account, AssetCode("BTC"), d("100")});
            run(Deposit{account, AssetCode("ETH"), d("1000")});
        }
        events.clear();
    }

    CommandResult run(CommandBody body)
    {
        events.clear();
        return sequencer.apply(Command{now, std::move(body)}, events);
    }

    CommandResult limit(AccountId account, Side side, const char *price, const char *quantity,
                        TimeInForce tif = TimeInForce::Gtc,
                        SelfTradePrevention stp = SelfTradePrevention::ExpireTaker, const char *symbol = "BTC-USD")
    {
        PlaceOrder order;
        order.account = account;
        order.symbol = Symbol(symbol);
        order.side = side;
        order.type = OrderType::Limit;
        order.timeInForce = tif;
        order.stp = stp;
        order.price = d(price);
        order.quantity = d(quantity);
        return run(order);
    }

    CommandResult market(AccountId account, Side side, const char *quantity,
                         TimeInForce tif = TimeInForce::Ioc,
                         SelfTradePrevention stp = SelfTradePrevention::ExpireTaker)
    {
        PlaceOrder order;
        order.account = account;
        order.symbol = Symbol("BTC-USD");
        order.side = side;
        order.type = OrderType::Market;
        order.timeInForce = tif;
        order.stp = stp;
        order.quantity = d(quantity);
        return run(order);
    }

    template<typename T>
    std::vector<T> all() const
    {
        std::vector<T> found;
        for (const Event &event : events) {
            if (const T *body = std::get_if<T>(&event.body))
                found.push_back(*body);
        }
        return found;
    }

    BalanceView balance(AccountId account, const char *asset) const
    {
        return sequencer.balance(account, *sequencer.findAsset(asset));
    }

    // Everything but the sequence number: books, open orders and balances, as text.
    std::string state() const
    {
        std::ostringstream out;
        for (InstrumentId id = 0; id < sequencer.instrumentCount(); ++id) {
            out << sequencer.instrument(id)->symbol.view() << ' '
                << instrumentStatusName(sequencer.instrument(id)->status) << '\n';
            for (Side side : {Side::Buy, Side::Sell}) {
                sequencer.forEachOrder(id, side, [&](const OrderView &o) {
                    out << o.id << ' ' << o.account << ' ' << sideName(o.side) << ' ' << o.price.toString() << ' '
                        << o.remaining.toString() << '/' << o.quantity.toString() << '\n';
                });
            }
        }
        for (AccountId account = 0; account <= 6; ++account) {
            for (AssetId asset = 0; asset < sequencer.assetCount(); ++asset) {
                const BalanceView b = sequencer.balance(account, asset);
                out << account << ':' << asset << ' ' << b.available.toString() << ' ' << b.reserved.toString()
                    << '\n';
            }
        }
        return out.str();
    }

    // Best-first (order id, remaining) on one side.
    std::vector<std::pair<OrderId, std::string>> queue(Side side, const char *symbol = "BTC-USD") const
    {
        std::vector<std::pair<OrderId, std::string>> out;
        sequencer.forEachOrder(sequencer.findInstrument(symbol)->id, side,
                               [&](const OrderView &o) { out.emplace_back(o.id, o.remaining.toString()); });
        return out;
    }

    Sequencer sequencer;
    std::vector<Event> events;
    TimeNs now = kStart;
};

using Queue = std::vector<std::pair<OrderId, std::string>>;

PlaceOrder validLimitBuy()
{
    PlaceOrder order;
    order.account = 1;
    order.symbol = Symbol("BTC-USD");
    order.side = Side::Buy;
    order.type = OrderType::Limit;
    order.price = d("60000.00");
    order.quantity = d("0.5");
    return order;
}

} // namespace

class TestSequencer final : public QObject
{
    Q_OBJECT

private slots:
    void addInstrumentRejects_data()
    {
        QTest::addColumn<QString>("symbol");
        QTest::addColumn<QString>("base");
        QTest::addColumn<QString>("quote");
        QTest::addColumn<QString>("tick");
        QTest::addColumn<QString>("lot");
        QTest::addColumn<QString>("minQuantity");
        QTest::addColumn<RejectReason>("reason");
        QTest::newRow("empty symbol") << "" << "A" << "B" << "0.01" << "1" << "1" << RejectReason::SymbolInvalid;
        QTest::newRow("lower-case symbol") << "btc-usd" << "A" << "B" << "0.01" << "1" << "1" << RejectReason::SymbolInvalid;
        QTest::newRow("symbol starts with dash") << "-X" << "A" << "B" << "0.01" << "1" << "1" << RejectReason::SymbolInvalid;
        QTest::newRow("symbol with space") << "A B" << "A" << "B" << "0.01" << "1" << "1" << RejectReason::SymbolInvalid;
        QTest::newRow("empty base") << "X-Y" << "" << "B" << "0.01" << "1" << "1" << RejectReason::AssetInvalid;
        QTest::newRow("base with dash") << "X-Y" << "A-1" << "B" << "0.01" << "1" << "1" << RejectReason::AssetInvalid;
        QTest::newRow("base equals quote") << "X-Y" << "USD" << "USD" << "0.01" << "1" << "1" << RejectReason::AssetInvalid;
        QTest::newRow("taken") << "BTC-USD" << "BTC" << "USD" << "0.01" << "1" << "1" << RejectReason::InstrumentExists;
        QTest::newRow("zero tick") << "X-Y" << "X" << "Y" << "0" << "1" << "1" << RejectReason::TickSizeInvalid;
        QTest::newRow("negative tick") << "X-Y" << "X" << "Y" << "-0.01" << "1" << "1" << RejectReason::TickSizeInvalid;
        QTest::newRow("zero lot") << "X-Y" << "X" << "Y" << "0.01" << "0" << "1" << RejectReason::LotSizeInvalid;
        QTest::newRow("zero minimum") << "X-Y" << "X" << "Y" << "0.01" << "1" << "0" << RejectReason::MinQuantityInvalid;
        QTest::newRow("minimum off lot") << "X-Y" << "X" << "Y" << "0.01" << "0.1" << "0.15" << RejectReason::MinQuantityInvalid;
        QTest::newRow("tick x lot below 1e-8") << "X-Y" << "X" << "Y" << "0.0001" << "0.00001" << "0.00001" << RejectReason::PrecisionTooFine;
        QTest::newRow("tick x lot out of range") << "X-Y" << "X" << "Y" << "1000000000" << "1000000000" << "1000000000" << RejectReason::PrecisionTooFine;
    }
    void addInstrumentRejects()
    {
        QFETCH(QString, symbol);
        QFETCH(QString, base);
        QFETCH(QString, quote);
        QFETCH(QString, tick);
        QFETCH(QString, lot);
        QFETCH(QString, minQuantity);
        QFETCH(RejectReason, reason);
        Venue venue;
        const std::string before = venue.state();
        const std::size_t assets = venue.sequencer.assetCount();
        const auto result = venue.run(AddInstrument{Symbol(symbol.toStdString()), AssetCode(base.toStdString()),
                                                    AssetCode(quote.toStdString()), d(qPrintable(tick)),
                                                    d(qPrintable(lot)), d(qPrintable(minQuantity))});
        QCOMPARE(result.outcome, CommandResult::Outcome::Rejected);
        QCOMPARE(result.reason, reason);
        QCOMPARE(venue.events.size(), std::size_t(1));
        QCOMPARE(std::get<CommandRejected>(venue.events[0].body).reason, reason);
        QCOMPARE(venue.state(), before);
        QCOMPARE(venue.sequencer.assetCount(), assets);
    }

    void addInstrumentAssignsAssets()
    {
        Venue venue;
        QCOMPARE(venue.sequencer.assetCount(), std::size_t(3)); // BTC, USD, ETH
        const auto result = venue.run(
            AddInstrument{Symbol("ETH-BTC"), AssetCode("ETH"), AssetCode("BTC"), d("0.00001"), d("0.001"), d("0.001")});
        QVERIFY(result.ok());
        QCOMPARE(venue.sequencer.assetCount(), std::size_t(3));
        const auto added = venue.all<InstrumentAdded>();
        QCOMPARE(added.size(), std::size_t(1));
        QCOMPARE(added[0].instrument.id, InstrumentId(2));
        QCOMPARE(added[0].instrument.baseAsset, *venue.sequencer.findAsset("ETH"));
        QCOMPARE(added[0].instrument.quoteAsset, *venue.sequencer.findAsset("BTC"));
        QCOMPARE(added[0].instrument, *venue.sequencer.instrument(2));
        QCOMPARE(venue.sequencer.findInstrument("ETH-BTC")->tickSize, d("0.00001"));
    }

    void placeRejects_data()
    {
        QTest::addColumn<int>("variant");
        QTest::addColumn<RejectReason>("reason");
        QTest::addColumn<QString>("field");
        QTest::newRow("account 0") << 0 << RejectReason::InvalidAccount << "";
        QTest::newRow("client order id with space") << 1 << RejectReason::ClientOrderIdInvalid << "client_order_id";
        QTest::newRow("unknown symbol") << 2 << RejectReason::UnknownInstrument << "symbol";
        QTest::newRow("limit without price") << 3 << RejectReason::PriceRequired << "price";
        QTest::newRow("market with price") << 4 << RejectReason::PriceNotAllowed << "price";
        QTest::newRow("market gtc") << 5 << RejectReason::TimeInForceInvalid << "time_in_force";
        QTest::newRow("post-only ioc") << 6 << RejectReason::PostOnlyInvalid << "post_only";
        QTest::newRow("post-only market") << 7 << RejectReason::PostOnlyInvalid << "post_only";
        QTest::newRow("zero price") << 8 << RejectReason::PriceNotPositive << "price";
        QTest::newRow("negative price") << 9 << RejectReason::PriceNotPositive << "price";
        QTest::newRow("price off tick") << 10 << RejectReason::PriceOffTick << "price";
        QTest::newRow("zero quantity") << 11 << RejectReason::QuantityNotPositive << "quantity";
        QTest::newRow("negative quantity") << 12 << RejectReason::QuantityNotPositive << "quantity";
        QTest::newRow("quantity off lot") << 13 << RejectReason::QuantityOffLot << "quantity";
        QTest::newRow("below minimum") << 14 << RejectReason::QuantityBelowMinimum << "quantity";
        QTest::newRow("notional overflow") << 15 << RejectReason::NotionalOverflow << "quantity";
        QTest::newRow("buy beyond quote") << 16 << RejectReason::InsufficientBalance << "";
        QTest::newRow("sell beyond base") << 17 << RejectReason::InsufficientBalance << "";
        QTest::newRow("unfunded account") << 18 << RejectReason::InsufficientBalance << "";
        QTest::newRow("post-only would take") << 19 << RejectReason::PostOnlyWouldTake << "price";
        QTest::newRow("market buy cannot pay one lot") << 20 << RejectReason::InsufficientBalance << "";
        QTest::newRow("market sell beyond base") << 21 << RejectReason::InsufficientBalance << "";
    }
    void placeRejects()
    {
        QFETCH(int, variant);
        QFETCH(RejectReason, reason);
        QFETCH(QString, field);
        Venue venue;
        QVERIFY(venue.limit(2, Side::Sell, "61000.00", "1").ok()); // an ask to cross
        PlaceOrder order = validLimitBuy();
        order.clientOrderId = ClientOrderId("my-order-1");
        switch (variant) {
        case 0: order.account = 0; break;
        case 1: order.clientOrderId = ClientOrderId("bad id"); break;
        case 2: order.symbol = Symbol("DOGE-USD"); break;
        case 3: order.price.reset(); break;
        case 4: order.type = OrderType::Market; break;
        case 5: order.type = OrderType::Market; order.price.reset(); order.timeInForce = TimeInForce::Gtc; break;
        case 6: order.postOnly = true; order.timeInForce = TimeInForce::Ioc; break;
        case 7: order.postOnly = true; order.type = OrderType::Market; order.price.reset(); break;
        case 8: order.price = d("0"); break;
        case 9: order.price = d("-1.00"); break;
        case 10: order.price = d("60000.005"); break;
        case 11: order.quantity = d("0"); break;
        case 12: order.quantity = d("-1"); break;
        case 13: order.quantity = d("0.00005"); break;
        case 14: order.symbol = Symbol("ETH-USD"); order.price = d("3000"); order.quantity = d("0.005"); break;
        case 15: order.price = d("90000000000"); order.quantity = d("2"); break;
        case 16: order.quantity = d("17"); break;
        case 17: order.side = Side::Sell; order.price = d("70000"); order.quantity = d("101"); break;
        case 18: order.account = 6; break;
        case 19: order.postOnly = true; order.price = d("61000.00"); break;
        case 20: order.account = 6; order.type = OrderType::Market; order.price.reset(); break;
        case 21: order.side = Side::Sell; order.type = OrderType::Market; order.price.reset(); order.quantity = d("100.0001"); break;
        default: QFAIL("no such variant");
        }
        const std::string before = venue.state();
        const auto result = venue.run(order);
        QCOMPARE(result.outcome, CommandResult::Outcome::Rejected);
        QCOMPARE(result.reason, reason);
        QCOMPARE(QString::fromLatin1(rejectField(reason).data(), qsizetype(rejectField(reason).size())), field);
        QCOMPARE(venue.events.size(), std::size_t(1));
        const auto rejected = std::get<CommandRejected>(venue.events[0].body);
        QCOMPARE(rejected.reason, reason);
        QCOMPARE(rejected.command, CommandType::PlaceOrder);
        QCOMPARE(venue.state(), before);
        // A rejected order's client order id is not remembered: the corrected order may use it.
        if (variant != 1 && variant != 0) {
            PlaceOrder corrected = validLimitBuy();
            corrected.clientOrderId = ClientOrderId("my-order-1");
            QCOMPARE(venue.run(corrected).outcome, CommandResult::Outcome::Applied);
        }
    }

    void insufficientBalanceSaysHowMuch()
    {
        Venue venue;
        PlaceOrder order = validLimitBuy();
        order.quantity = d("20");
        const auto result = venue.run(order);
        QCOMPARE(result.reason, RejectReason::InsufficientBalance);
        QCOMPARE(result.asset, *venue.sequencer.findAsset("USD"));
        QCOMPARE(result.required, d("1200000"));
        QCOMPARE(result.available, d("1000000"));
    }

    void priceTimePriorityAndMakerPrice()
    {
        Venue venue;
        const OrderId first = venue.limit(2, Side::Sell, "60000.00", "0.3").order;
        const OrderId second = venue.limit(3, Side::Sell, "60000.00", "0.3").order;
        const OrderId better = venue.limit(4, Side::Sell, "59990.00", "0.1").order;
        const OrderId worse = venue.limit(2, Side::Sell, "60010.00", "1").order;

        const auto result = venue.limit(1, Side::Buy, "60005.00", "0.6");
        QVERIFY(result.ok());
        const auto trades = venue.all<TradeExecuted>();
        QCOMPARE(trades.size(), std::size_t(3));
        QCOMPARE(trades[0].makerOrder, better); // best price first
        QCOMPARE(trades[0].price, d("59990.00"));
        QCOMPARE(trades[1].makerOrder, first); // then time priority within the level
        QCOMPARE(trades[1].price, d("60000.00"));
        QCOMPARE(trades[1].quantity, d("0.3"));
        QCOMPARE(trades[2].makerOrder, second);
        QCOMPARE(trades[2].quantity, d("0.2"));
        QCOMPARE(trades[2].makerRemaining, d("0.1"));
        QCOMPARE(trades[2].takerRemaining, d("0"));
        QCOMPARE(trades[2].takerSide, Side::Buy);
        QVERIFY(trades[0].trade < trades[1].trade && trades[1].trade < trades[2].trade);
        QCOMPARE(venue.queue(Side::Sell), (Queue{{second, "0.1"}, {worse, "1"}}));
        QCOMPARE(venue.queue(Side::Buy), Queue{});

        // The buyer reserved 0.6 × 60005 and paid 0.1 × 59990 + 0.5 × 60000: the improvement comes back.
        const BalanceView usd = venue.balance(1, "USD");
        QCOMPARE(usd.reserved, d("0"));
        QCOMPARE(usd.available, d("964001.00"));
        QCOMPARE(venue.balance(1, "BTC").available, d("100.6"));
        QCOMPARE(venue.balance(2, "USD").available, d("1018000"));
        QCOMPARE(venue.balance(2, "BTC").reserved, d("1"));
        QCOMPARE(venue.balance(2, "BTC").available, d("98.7"));
    }

    void restingSellFilledAtBidPrice()
    {
        Venue venue;
        venue.limit(1, Side::Buy, "60000.00", "1");
        const auto result = venue.limit(2, Side::Sell, "59000.00", "0.25");
        QVERIFY(result.ok());
        const auto trades = venue.all<TradeExecuted>();
        QCOMPARE(trades.size(), std::size_t(1));
        QCOMPARE(trades[0].price, d("60000.00")); // the seller gets the better price
        QCOMPARE(trades[0].takerSide, Side::Sell);
        QCOMPARE(venue.balance(2, "USD").available, d("1015000"));
        QCOMPARE(venue.balance(1, "USD").reserved, d("45000"));
    }

    void balanceEventsAreSortedAndOnlyForChanges()
    {
        Venue venue;
        venue.limit(3, Side::Sell, "60000.00", "1");
        venue.limit(2, Side::Buy, "60000.00", "0.5");
        const auto changes = venue.all<BalanceChanged>();
        QCOMPARE(changes.size(), std::size_t(4));
        QCOMPARE(changes[0].account, AccountId(2));
        QCOMPARE(changes[1].account, AccountId(2));
        QVERIFY(changes[0].asset < changes[1].asset);
        QCOMPARE(changes[2].account, AccountId(3));
        QCOMPARE(changes[3].account, AccountId(3));
        // The seller's reserved BTC dropped and USD rose; the buyer's BTC rose and USD fell.
        for (const BalanceChanged &change : changes) {
            const BalanceView now = venue.sequencer.balance(change.account, change.asset);
            QCOMPARE(change.available, now.available);
            QCOMPARE(change.reserved, now.reserved);
        }
        // A FOK that cannot fill reserves and releases: no net change, so no BalanceChanged.
        venue.limit(1, Side::Buy, "60000.00", "5", TimeInForce::Fok);
        QCOMPARE(venue.all<BalanceChanged>().size(), std::size_t(0));
        QCOMPARE(venue.all<OrderExpired>().size(), std::size_t(1));
    }

    void immediateOrCancelExpiresRemainder()
    {
        Venue venue;
        venue.limit(2, Side::Sell, "60000.00", "0.2");
        const auto result = venue.limit(1, Side::Buy, "60000.00", "0.5", TimeInForce::Ioc);
        QVERIFY(result.ok());
        QCOMPARE(venue.all<TradeExecuted>().size(), std::size_t(1));
        const auto expired = venue.all<OrderExpired>();
        QCOMPARE(expired.size(), std::size_t(1));
        QCOMPARE(expired[0].order, result.order);
        QCOMPARE(expired[0].remaining, d("0.3"));
        QCOMPARE(expired[0].reason, ExpireReason::ImmediateOrCancel);
        QCOMPARE(venue.queue(Side::Buy), Queue{});
        QCOMPARE(venue.balance(1, "USD").reserved, d("0"));
        QVERIFY(!venue.sequencer.order(result.order));
    }

    void fillOrKill()
    {
        Venue venue;
        venue.limit(2, Side::Sell, "60000.00", "0.2");
        venue.limit(3, Side::Sell, "60001.00", "0.2");
        const std::string before = venue.state();
        // 0.5 cannot fill within 60001: nothing trades at all.
        auto result = venue.limit(1, Side::Buy, "60001.00", "0.5", TimeInForce::Fok);
        QVERIFY(result.ok());
        QCOMPARE(venue.all<TradeExecuted>().size(), std::size_t(0));
        QCOMPARE(venue.all<OrderExpired>().at(0).reason, ExpireReason::FillOrKill);
        QCOMPARE(venue.all<OrderExpired>().at(0).remaining, d("0.5"));
        QCOMPARE(venue.state(), before);
        // 0.4 can: it fills completely across both levels.
        result = venue.limit(1, Side::Buy, "60001.00", "0.4", TimeInForce::Fok);
        QCOMPARE(venue.all<TradeExecuted>().size(), std::size_t(2));
        QCOMPARE(venue.all<OrderExpired>().size(), std::size_t(0));
        // An FOK whose fill would stop at its own order (expire_taker) does not fill either.
        venue.limit(1, Side::Sell, "60002.00", "0.1");
        venue.limit(2, Side::Sell, "60003.00", "0.1");
        const std::string beforeSelf = venue.state();
        venue.limit(1, Side::Buy, "60003.00", "0.2", TimeInForce::Fok);
        QCOMPARE(venue.all<TradeExecuted>().size(), std::size_t(0));
        QCOMPARE(venue.state(), beforeSelf);
        // With expire_maker the own order would be expired and skipped, so 0.1 is all there is: no fill.
        venue.limit(1, Side::Buy, "60003.00", "0.2", TimeInForce::Fok, SelfTradePrevention::ExpireMaker);
        QCOMPARE(venue.state(), beforeSelf);
        // 0.1 with expire_maker fills from account 2, expiring account 1's own ask on the way.
        venue.limit(1, Side::Buy, "60003.00", "0.1", TimeInForce::Fok, SelfTradePrevention::ExpireMaker);
        QCOMPARE(venue.all<TradeExecuted>().size(), std::size_t(1));
        QCOMPARE(venue.all<OrderExpired>().at(0).reason, ExpireReason::SelfTradePrevention);
        QCOMPARE(venue.queue(Side::Sell), Queue{});
    }

    void marketOrders()
    {
        Venue venue;
        // An empty book: a market order is accepted and expires.
        auto result = venue.market(1, Side::Buy, "1");
        QVERIFY(result.ok());
        QCOMPARE(venue.all<OrderExpired>().at(0).reason, ExpireReason::ImmediateOrCancel);

        venue.limit(2, Side::Sell, "50000.00", "0.5");
        venue.limit(3, Side::Sell, "51000.00", "10");
        // Account 5 has 60,000 USD: 0.5 at 50,000 costs 25,000; 35,000 buys 0.6862 at 51,000 (whole lots).
        venue.run(Deposit{5, AssetCode("USD"), d("60000")});
        result = venue.market(5, Side::Buy, "2");
        QVERIFY(result.ok());
        const auto trades = venue.all<TradeExecuted>();
        QCOMPARE(trades.size(), std::size_t(2));
        QCOMPARE(trades[0].quantity, d("0.5"));
        QCOMPARE(trades[1].quantity, d("0.6862"));
        QCOMPARE(trades[1].price, d("51000.00"));
        const auto expired = venue.all<OrderExpired>();
        QCOMPARE(expired.size(), std::size_t(1));
        QCOMPARE(expired[0].reason, ExpireReason::InsufficientBalance);
        QCOMPARE(expired[0].remaining, d("0.8138"));
        QCOMPARE(venue.balance(5, "USD").available, d("3.80"));
        QCOMPARE(venue.balance(5, "USD").reserved, d("0"));
        QCOMPARE(venue.balance(5, "BTC").available, d("1.1862"));

        // A market sell sweeps bids and expires what the book cannot take.
        venue.limit(1, Side::Buy, "49000.00", "0.1");
        result = venue.market(4, Side::Sell, "0.3");
        QCOMPARE(venue.all<TradeExecuted>().size(), std::size_t(1));
        QCOMPARE(venue.all<OrderExpired>().at(0).remaining, d("0.2"));
        QCOMPARE(venue.balance(4, "BTC").reserved, d("0"));
        QCOMPARE(venue.balance(4, "BTC").available, d("99.9"));

        // A market FOK that its balance cannot complete does not fill.
        venue.run(Deposit{6, AssetCode("USD"), d("51000")});
        const std::string before = venue.state();
        venue.market(6, Side::Buy, "1.5", TimeInForce::Fok);
        QCOMPARE(venue.all<TradeExecuted>().size(), std::size_t(0));
        QCOMPARE(venue.all<OrderExpired>().at(0).reason, ExpireReason::FillOrKill);
        QCOMPARE(venue.state(), before);
    }

    void marketBuyFromOwnAskWithoutStp()
    {
        // Found by the differential test: buying from oneself with stp none pays the quote straight back,
        // so a market FOK that can afford only part of its own ask at once still fills, in chunks.
        Venue venue;
        venue.run(Deposit{5, AssetCode("BTC"), d("1")});
        venue.run(Deposit{5, AssetCode("USD"), d("25000")});
        const OrderId ask = venue.limit(5, Side::Sell, "50000.00", "1").order;
        const BalanceView usdBefore = venue.balance(5, "USD");
        const auto result = venue.market(5, Side::Buy, "0.9", TimeInForce::Fok, SelfTradePrevention::None);
        QVERIFY(result.ok());
        const auto trades = venue.all<TradeExecuted>();
        QCOMPARE(trades.size(), std::size_t(2)); // 0.5 (all 25,000 pays for), then the last 0.4
        QCOMPARE(trades[0].quantity, d("0.5"));
        QCOMPARE(trades[1].quantity, d("0.4"));
        QCOMPARE(venue.all<OrderExpired>().size(), std::size_t(0));
        QCOMPARE(venue.sequencer.order(ask)->remaining, d("0.1"));
        QCOMPARE(venue.balance(5, "USD").total(), usdBefore.total());
        // Against another account's ask the same FOK cannot complete and does not fill.
        venue.run(CancelOrder{5, ask});
        venue.limit(2, Side::Sell, "50000.00", "1");
        const std::string before = venue.state();
        venue.market(5, Side::Buy, "0.9", TimeInForce::Fok, SelfTradePrevention::None);
        QCOMPARE(venue.all<OrderExpired>().at(0).reason, ExpireReason::FillOrKill);
        QCOMPARE(venue.state(), before);
    }

    void postOnly()
    {
        Venue venue;
        venue.limit(2, Side::Sell, "60000.00", "1");
        PlaceOrder order = validLimitBuy();
        order.postOnly = true;
        order.price = d("59999.99");
        const auto result = venue.run(order);
        QVERIFY(result.ok());
        QCOMPARE(venue.all<TradeExecuted>().size(), std::size_t(0));
        QCOMPARE(venue.queue(Side::Buy), (Queue{{result.order, "0.5"}}));
        order.price = d("60000.00");
        QCOMPARE(venue.run(order).reason, RejectReason::PostOnlyWouldTake);
    }

    void selfTradePrevention_data()
    {
        QTest::addColumn<SelfTradePrevention>("stp");
        QTest::addColumn<int>("trades");
        QTest::addColumn<bool>("makerExpired");
        QTest::addColumn<bool>("takerExpired");
        QTest::addColumn<bool>("takerRests");
        QTest::newRow("expire_taker") << SelfTradePrevention::ExpireTaker << 0 << false << true << false;
        QTest::newRow("expire_maker") << SelfTradePrevention::ExpireMaker << 1 << true << false << true;
        QTest::newRow("expire_both") << SelfTradePrevention::ExpireBoth << 0 << true << true << false;
        QTest::newRow("none") << SelfTradePrevention::None << 2 << false << false << false;
    }
    void selfTradePrevention()
    {
        QFETCH(SelfTradePrevention, stp);
        QFETCH(int, trades);
        QFETCH(bool, makerExpired);
        QFETCH(bool, takerExpired);
        QFETCH(bool, takerRests);
        Venue venue;
        const OrderId own = venue.limit(1, Side::Sell, "60000.00", "0.5").order;
        const OrderId other = venue.limit(2, Side::Sell, "60000.00", "0.5").order;
        const BalanceView usdBefore = venue.balance(1, "USD");
        const BalanceView btcBefore = venue.balance(1, "BTC");
        const auto result = venue.limit(1, Side::Buy, "60000.00", "1", TimeInForce::Gtc, stp);
        QVERIFY(result.ok());
        QCOMPARE(int(venue.all<TradeExecuted>().size()), trades);
        bool sawMakerExpiry = false;
        bool sawTakerExpiry = false;
        for (const OrderExpired &expired : venue.all<OrderExpired>()) {
            QCOMPARE(expired.reason, ExpireReason::SelfTradePrevention);
            sawMakerExpiry |= expired.order == own;
            sawTakerExpiry |= expired.order == result.order;
        }
        QCOMPARE(sawMakerExpiry, makerExpired);
        QCOMPARE(sawTakerExpiry, takerExpired);
        QCOMPARE(bool(venue.sequencer.order(result.order)), takerRests);
        if (stp == SelfTradePrevention::ExpireTaker)
            QCOMPARE(venue.queue(Side::Sell), (Queue{{own, "0.5"}, {other, "0.5"}}));
        if (stp == SelfTradePrevention::None) {
            // Trading with oneself moves nothing but the other side's fill.
            QCOMPARE(venue.all<TradeExecuted>().at(0).makerAccount, AccountId(1));
            QCOMPARE(venue.balance(1, "BTC").total(), Decimal::fromRaw(btcBefore.total().raw() + 50'000'000));
            QCOMPARE(venue.balance(1, "USD").total(), Decimal::fromRaw(usdBefore.total().raw() - 3'000'000'000'000));
        }
    }

    void cancel()
    {
        Venue venue;
        const OrderId id = venue.limit(1, Side::Buy, "60000.00", "1").order;
        const std::string resting = venue.state();
        QCOMPARE(venue.run(CancelOrder{2, id}).reason, RejectReason::UnknownOrder); // not the owner's
        QCOMPARE(venue.state(), resting);
        QCOMPARE(venue.run(CancelOrder{1, 999}).reason, RejectReason::UnknownOrder);
        QCOMPARE(venue.run(CancelOrder{1, 0}).reason, RejectReason::UnknownOrder);
        const auto result = venue.run(CancelOrder{1, id});
        QVERIFY(result.ok());
        QCOMPARE(result.order, id);
        QCOMPARE(venue.all<OrderCancelled>().at(0).reason, CancelReason::Requested);
        QCOMPARE(venue.all<OrderCancelled>().at(0).remaining, d("1"));
        QCOMPARE(venue.balance(1, "USD").reserved, d("0"));
        QCOMPARE(venue.balance(1, "USD").available, d("1000000"));
        QCOMPARE(venue.run(CancelOrder{1, id}).reason, RejectReason::OrderNotOpen);
        // An admin cancels anyone's order.
        const OrderId other = venue.limit(3, Side::Sell, "70000.00", "1").order;
        QVERIFY(venue.run(CancelOrder{kAnyAccount, other}).ok());
    }

    void amendPriority()
    {
        Venue venue;
        const OrderId a = venue.limit(1, Side::Buy, "60000.00", "1").order;
        const OrderId b = venue.limit(2, Side::Buy, "60000.00", "1").order;
        const OrderId c = venue.limit(3, Side::Buy, "60000.00", "1").order;

        // Quantity down keeps priority.
        auto result = venue.run(AmendOrder{1, a, std::nullopt, d("0.5")});
        QVERIFY(result.ok());
        QVERIFY(venue.all<OrderAmended>().at(0).priorityKept);
        QCOMPARE(venue.queue(Side::Buy), (Queue{{a, "0.5"}, {b, "1"}, {c, "1"}}));
        QCOMPARE(venue.balance(1, "USD").reserved, d("30000"));

        // Quantity up loses it.
        venue.run(AmendOrder{1, a, std::nullopt, d("2")});
        QVERIFY(!venue.all<OrderAmended>().at(0).priorityKept);
        QCOMPARE(venue.queue(Side::Buy), (Queue{{b, "1"}, {c, "1"}, {a, "2"}}));
        QCOMPARE(venue.balance(1, "USD").reserved, d("120000"));

        // A new price loses it even when it comes back to the same level.
        venue.run(AmendOrder{2, b, d("60000.01"), std::nullopt});
        venue.run(AmendOrder{2, b, d("60000.00"), std::nullopt});
        QCOMPARE(venue.queue(Side::Buy), (Queue{{c, "1"}, {a, "2"}, {b, "1"}}));

        // The same price and quantity again keeps it.
        venue.run(AmendOrder{3, c, d("60000.00"), d("1")});
        QVERIFY(venue.all<OrderAmended>().at(0).priorityKept);
        QCOMPARE(venue.queue(Side::Buy).front().first, c);
    }

    void amendCrossingMatches()
    {
        Venue venue;
        venue.limit(2, Side::Sell, "60100.00", "0.4");
        const OrderId bid = venue.limit(1, Side::Buy, "60000.00", "1").order;
        const auto result = venue.run(AmendOrder{1, bid, d("60200.00"), std::nullopt});
        QVERIFY(result.ok());
        const auto trades = venue.all<TradeExecuted>();
        QCOMPARE(trades.size(), std::size_t(1));
        QCOMPARE(trades[0].price, d("60100.00"));
        QCOMPARE(trades[0].takerOrder, bid);
        QCOMPARE(venue.queue(Side::Buy), (Queue{{bid, "0.6"}}));
        QCOMPARE(venue.sequencer.order(bid)->quantity, d("1"));
        // Reserved: 0.6 × 60200 for what rests.
        QCOMPARE(venue.balance(1, "USD").reserved, d("36120"));
        QCOMPARE(venue.balance(1, "USD").available, d("939840")); // 1,000,000 - 0.4 × 60100 - 36120
    }

    void amendRejects_data()
    {
        QTest::addColumn<int>("variant");
        QTest::addColumn<RejectReason>("reason");
        QTest::newRow("unknown id") << 0 << RejectReason::UnknownOrder;
        QTest::newRow("other account") << 1 << RejectReason::UnknownOrder;
        QTest::newRow("closed order") << 2 << RejectReason::OrderNotOpen;
        QTest::newRow("nothing to change") << 3 << RejectReason::AmendChangesNothing;
        QTest::newRow("zero price") << 4 << RejectReason::PriceNotPositive;
        QTest::newRow("price off tick") << 5 << RejectReason::PriceOffTick;
        QTest::newRow("zero quantity") << 6 << RejectReason::QuantityNotPositive;
        QTest::newRow("quantity off lot") << 7 << RejectReason::QuantityOffLot;
        QTest::newRow("quantity equals filled") << 8 << RejectReason::QuantityNotAboveFilled;
        QTest::newRow("quantity below filled") << 9 << RejectReason::QuantityNotAboveFilled;
        QTest::newRow("notional overflow") << 10 << RejectReason::NotionalOverflow;
        QTest::newRow("more than the balance") << 11 << RejectReason::InsufficientBalance;
        QTest::newRow("post-only would take") << 12 << RejectReason::PostOnlyWouldTake;
        QTest::newRow("halted") << 13 << RejectReason::MarketHalted;
        QTest::newRow("below minimum") << 14 << RejectReason::QuantityBelowMinimum;
    }
    void amendRejects()
    {
        QFETCH(int, variant);
        QFETCH(RejectReason, reason);
        Venue venue;
        venue.limit(2, Side::Sell, "60010.00", "0.4");
        PlaceOrder post = validLimitBuy();
        post.postOnly = true;
        post.quantity = d("1");
        const OrderId id = venue.run(post).order;
        venue.limit(3, Side::Sell, "60000.00", "0.4"); // fills 0.4 of it
        QCOMPARE(venue.sequencer.order(id)->remaining, d("0.6"));
        const OrderId eth = venue.limit(1, Side::Buy, "3000.00", "0.05", TimeInForce::Gtc,
                                        SelfTradePrevention::ExpireTaker, "ETH-USD").order;
        const OrderId closed = venue.limit(4, Side::Buy, "1.00", "1").order;
        venue.run(CancelOrder{4, closed});
        AmendOrder amend{1, id, std::nullopt, d("0.9")};
        switch (variant) {
        case 0: amend.order = 12345; break;
        case 1: amend.account = 2; break;
        case 2: amend.order = closed; amend.account = 4; break;
        case 3: amend.quantity.reset(); break;
        case 4: amend.price = d("0"); break;
        case 5: amend.price = d("60000.001"); break;
        case 6: amend.quantity = d("0"); break;
        case 7: amend.quantity = d("0.55555"); break;
        case 8: amend.quantity = d("0.4"); break;
        case 9: amend.quantity = d("0.3"); break;
        case 10: amend.price = d("90000000000"); amend.quantity = d("2"); break;
        case 11: amend.quantity = d("100"); break;
        case 12: amend.price = d("60010.00"); break;
        case 13: venue.run(SetInstrumentStatus{Symbol("BTC-USD"), InstrumentStatus::Halted, false}); break;
        case 14: amend.order = eth; amend.quantity = d("0.005"); break;
        default: QFAIL("no such variant");
        }
        const std::string before = venue.state();
        const auto result = venue.run(amend);
        QCOMPARE(result.outcome, CommandResult::Outcome::Rejected);
        QCOMPARE(result.reason, reason);
        QCOMPARE(venue.events.size(), std::size_t(1));
        QCOMPARE(std::get<CommandRejected>(venue.events[0].body).command, CommandType::AmendOrder);
        QCOMPARE(venue.state(), before);
    }

    void massCancel()
    {
        Venue venue;
        const OrderId a1 = venue.limit(1, Side::Buy, "60000.00", "1").order;
        const OrderId b1 = venue.limit(2, Side::Buy, "60000.00", "1").order;
        const OrderId a2 = venue.limit(1, Side::Sell, "3000.00", "1", TimeInForce::Gtc,
                                       SelfTradePrevention::ExpireTaker, "ETH-USD").order;
        const OrderId a3 = venue.limit(1, Side::Sell, "70000.00", "1").order;

        QCOMPARE(venue.run(MassCancel{1, Symbol("NOPE")}).reason, RejectReason::UnknownInstrument);
        auto result = venue.run(MassCancel{1, Symbol("BTC-USD")});
        QCOMPARE(result.affected, 2u);
        auto cancelled = venue.all<OrderCancelled>();
        QCOMPARE(cancelled.size(), std::size_t(2));
        QCOMPARE(cancelled[0].order, a1); // ascending ids
        QCOMPARE(cancelled[1].order, a3);
        QCOMPARE(cancelled[0].reason, CancelReason::MassCancel);
        QVERIFY(venue.sequencer.order(a2));
        QVERIFY(venue.sequencer.order(b1));
        QCOMPARE(venue.balance(1, "USD").reserved, d("0"));

        result = venue.run(MassCancel{3, std::nullopt}); // nothing of its own: fine, nothing happens
        QVERIFY(result.ok());
        QCOMPARE(result.affected, 0u);
        QCOMPARE(venue.events.size(), std::size_t(0));

        result = venue.run(MassCancel{kAnyAccount, std::nullopt});
        QCOMPARE(result.affected, 2u);
        QCOMPARE(venue.sequencer.openOrderCount(), std::size_t(0));
    }

    void haltAndKillSwitch()
    {
        Venue venue;
        const OrderId resting = venue.limit(1, Side::Buy, "60000.00", "1").order;
        venue.limit(2, Side::Sell, "70000.00", "1");
        auto result = venue.run(SetInstrumentStatus{Symbol("BTC-USD"), InstrumentStatus::Halted, false});
        QVERIFY(result.ok());
        QCOMPARE(venue.all<InstrumentStatusChanged>().at(0).status, InstrumentStatus::Halted);
        QCOMPARE(venue.limit(3, Side::Buy, "60000.00", "1").reason, RejectReason::MarketHalted);
        QVERIFY(venue.limit(3, Side::Buy, "3000.00", "1", TimeInForce::Gtc, SelfTradePrevention::ExpireTaker,
                            "ETH-USD").ok()); // other instruments trade on
        QVERIFY(venue.run(CancelOrder{1, resting}).ok()); // cancels stay allowed
        QCOMPARE(venue.run(SetInstrumentStatus{Symbol("NOPE"), InstrumentStatus::Halted, false}).reason,
                 RejectReason::UnknownInstrument);

        venue.run(SetInstrumentStatus{Symbol("BTC-USD"), InstrumentStatus::Trading, false});
        venue.limit(4, Side::Buy, "60000.00", "1");
        result = venue.run(SetInstrumentStatus{Symbol("BTC-USD"), InstrumentStatus::Halted, true});
        QCOMPARE(result.affected, 2u);
        for (const OrderCancelled &c : venue.all<OrderCancelled>())
            QCOMPARE(c.reason, CancelReason::KillSwitch);
        QCOMPARE(venue.queue(Side::Buy), Queue{});
        QCOMPARE(venue.queue(Side::Sell), Queue{});
        QCOMPARE(venue.sequencer.openOrderCount(), std::size_t(1)); // the ETH order
    }

    void funds_data()
    {
        QTest::addColumn<bool>("deposit");
        QTest::addColumn<quint64>("account");
        QTest::addColumn<QString>("asset");
        QTest::addColumn<QString>("amount");
        QTest::addColumn<int>("reason"); // -1: accepted
        QTest::newRow("deposit") << true << quint64(5) << "USD" << "10.5" << -1;
        QTest::newRow("deposit to account 0") << true << quint64(0) << "USD" << "1" << int(RejectReason::InvalidAccount);
        QTest::newRow("deposit unknown asset") << true << quint64(5) << "EUR" << "1" << int(RejectReason::UnknownAsset);
        QTest::newRow("deposit zero") << true << quint64(5) << "USD" << "0" << int(RejectReason::AmountNotPositive);
        QTest::newRow("deposit negative") << true << quint64(5) << "USD" << "-1" << int(RejectReason::AmountNotPositive);
        QTest::newRow("deposit past supply") << true << quint64(5) << "USD" << "92233720368.54775807" << int(RejectReason::SupplyOverflow);
        QTest::newRow("withdraw") << false << quint64(1) << "BTC" << "100" << -1;
        QTest::newRow("withdraw too much") << false << quint64(1) << "BTC" << "100.00000001" << int(RejectReason::InsufficientBalance);
        QTest::newRow("withdraw from nobody") << false << quint64(9) << "BTC" << "1" << int(RejectReason::InsufficientBalance);
        QTest::newRow("withdraw unknown asset") << false << quint64(1) << "XYZ" << "1" << int(RejectReason::UnknownAsset);
        QTest::newRow("withdraw zero") << false << quint64(1) << "BTC" << "0" << int(RejectReason::AmountNotPositive);
        QTest::newRow("withdraw account 0") << false << quint64(0) << "BTC" << "1" << int(RejectReason::InvalidAccount);
    }
    void funds()
    {
        QFETCH(bool, deposit);
        QFETCH(quint64, account);
        QFETCH(QString, asset);
        QFETCH(QString, amount);
        QFETCH(int, reason);
        Venue venue;
        const std::string before = venue.state();
        const AssetId usd = *venue.sequencer.findAsset("USD");
        const Decimal supplyBefore = venue.sequencer.assetSupply(usd);
        const Decimal value = d(qPrintable(amount));
        const AssetCode code(asset.toStdString());
        const auto result = deposit ? venue.run(Deposit{account, code, value}) : venue.run(Withdraw{account, code, value});
        if (reason >= 0) {
            QCOMPARE(result.outcome, CommandResult::Outcome::Rejected);
            QCOMPARE(int(result.reason), reason);
            QCOMPARE(venue.state(), before);
            QCOMPARE(venue.sequencer.assetSupply(usd), supplyBefore);
            return;
        }
        QVERIFY(result.ok());
        QCOMPARE(venue.events.size(), std::size_t(2));
        if (deposit) {
            QCOMPARE(std::get<FundsDeposited>(venue.events[0].body).amount, value);
            QCOMPARE(venue.balance(account, "USD").available, value);
            QCOMPARE(venue.sequencer.assetSupply(usd), Decimal::fromRaw(supplyBefore.raw() + value.raw()));
        } else {
            QCOMPARE(std::get<FundsWithdrawn>(venue.events[0].body).amount, value);
            QCOMPARE(venue.balance(account, "BTC").available, d("0"));
        }
    }

    void withdrawCannotTouchReserved()
    {
        Venue venue;
        venue.limit(1, Side::Sell, "70000.00", "60");
        QCOMPARE(venue.run(Withdraw{1, AssetCode("BTC"), d("41")}).reason, RejectReason::InsufficientBalance);
        QVERIFY(venue.run(Withdraw{1, AssetCode("BTC"), d("40")}).ok());
        QCOMPARE(venue.balance(1, "BTC").total(), d("60"));
    }

    void clientOrderIdIdempotency()
    {
        Venue venue;
        PlaceOrder order = validLimitBuy();
        order.clientOrderId = ClientOrderId("abc:1");
        const auto first = venue.run(order);
        QCOMPARE(first.outcome, CommandResult::Outcome::Applied);
        const std::string after = venue.state();

        // The retry: the original order, nothing new (no event, no sequence number).
        const Seq seq = venue.sequencer.lastSeq();
        PlaceOrder retry = order;
        retry.timeInForce = TimeInForce::Gtc; // the default spelled out is the same payload
        const auto replay = venue.run(retry);
        QCOMPARE(replay.outcome, CommandResult::Outcome::Replayed);
        QCOMPARE(replay.order, first.order);
        QCOMPARE(venue.events.size(), std::size_t(0));
        QCOMPARE(venue.sequencer.lastSeq(), seq);
        QCOMPARE(venue.state(), after);

        PlaceOrder different = order;
        different.quantity = d("0.6");
        QCOMPARE(venue.run(different).reason, RejectReason::ClientOrderIdReused);
        QCOMPARE(venue.state(), after);
        // Another account may use the same id.
        different.account = 2;
        QVERIFY(venue.run(different).ok());

        // Still remembered after it is cancelled, within 24 h...
        venue.run(CancelOrder{1, first.order});
        venue.now += kClientOrderIdRetention - kSecond;
        QCOMPARE(venue.run(order).outcome, CommandResult::Outcome::Replayed);
        different.account = 1;
        QCOMPARE(venue.run(different).reason, RejectReason::ClientOrderIdReused);
    }

    void clientOrderIdRetention()
    {
        Venue venue;
        PlaceOrder order = validLimitBuy();
        order.clientOrderId = ClientOrderId("keep");
        const OrderId open = venue.run(order).order;
        PlaceOrder other = validLimitBuy();
        other.clientOrderId = ClientOrderId("gone");
        const OrderId closed = venue.run(other).order;
        venue.run(CancelOrder{1, closed});

        // Just before 24 h both are remembered.
        venue.now += kClientOrderIdRetention - 1;
        other.quantity = d("0.1");
        QCOMPARE(venue.run(other).reason, RejectReason::ClientOrderIdReused);
        // At 24 h the closed one is forgotten; the open one is kept as long as it is open.
        venue.now += 1;
        const auto reused = venue.run(other);
        QCOMPARE(reused.outcome, CommandResult::Outcome::Applied);
        QVERIFY(reused.order != closed);
        order.quantity = d("0.1");
        QCOMPARE(venue.run(order).reason, RejectReason::ClientOrderIdReused);
        // Once the old open order closes, its id is free at once.
        venue.run(CancelOrder{1, open});
        QCOMPARE(venue.run(order).outcome, CommandResult::Outcome::Applied);
    }

    void timeNeverRunsBackwards()
    {
        Venue venue;
        venue.now = kStart + 10 * kSecond;
        venue.limit(1, Side::Buy, "1.00", "1");
        QCOMPARE(venue.events.front().time, kStart + 10 * kSecond);
        venue.now = kStart;
        venue.limit(1, Side::Buy, "1.00", "1");
        QCOMPARE(venue.events.front().time, kStart + 10 * kSecond);
        QCOMPARE(venue.sequencer.lastTime(), kStart + 10 * kSecond);
    }

    void sequenceNumbersAreContiguous()
    {
        Venue venue;
        venue.limit(2, Side::Sell, "60000.00", "1");
        Seq expected = venue.sequencer.lastSeq() + 1;
        for (int i = 0; i < 3; ++i) {
            const auto result = i == 1 ? venue.limit(1, Side::Buy, "0.001", "1") // rejected: off tick
                                       : venue.limit(1, Side::Buy, "60000.00", "0.1");
            QCOMPARE(result.firstSeq, expected);
            QCOMPARE(result.lastSeq, expected + venue.events.size() - 1);
            for (const Event &event : venue.events)
                QCOMPARE(event.seq, expected++);
        }
    }

    void stateHashFollowsState()
    {
        Venue a;
        Venue b;
        QCOMPARE(a.sequencer.stateHash(), b.sequencer.stateHash());
        a.limit(1, Side::Buy, "60000.00", "1");
        QVERIFY(a.sequencer.stateHash() != b.sequencer.stateHash());
        b.limit(1, Side::Buy, "60000.00", "1");
        QCOMPARE(a.sequencer.stateHash(), b.sequencer.stateHash());
        b.run(AmendOrder{1, 13, std::nullopt, d("0.5")});
        QVERIFY(a.sequencer.stateHash() != b.sequencer.stateHash());
    }

    void levelsView()
    {
        Venue venue;
        venue.limit(1, Side::Buy, "100.00", "1");
        venue.limit(2, Side::Buy, "100.00", "2");
        venue.limit(1, Side::Buy, "101.00", "1");
        venue.limit(1, Side::Sell, "105.00", "1");
        const auto bids = venue.sequencer.levels(0, Side::Buy, 10);
        QCOMPARE(bids.size(), std::size_t(2));
        QCOMPARE(bids[0].price, d("101.00"));
        QCOMPARE(bids[1].quantity, d("3"));
        QCOMPARE(bids[1].orders, 2u);
        QCOMPARE(venue.sequencer.levels(0, Side::Buy, 1).size(), std::size_t(1));
        QCOMPARE(venue.sequencer.levels(0, Side::Sell, 10).at(0).price, d("105.00"));
        QCOMPARE(venue.sequencer.levels(7, Side::Sell, 10).size(), std::size_t(0));
    }
};

QTEST_APPLESS_MAIN(TestSequencer)
#include "tst_sequencer.moc"
