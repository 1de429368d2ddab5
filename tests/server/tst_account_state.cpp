// AccountState, the server's replica of every account's open orders and balances built from committed events:
// hand-made cases for every way an order and a balance change (the exact records, fills and balances a batch
// reports), re-delivered and overlapping batches, events about unknown orders, asset codes, load() from another
// state; and a seeded random stream run through the real Sequencer and journalled into SQLite's projections,
// fed to AccountState in random splits. After every batch its open orders and balances are compared with the
// engine's; now and then every record it reported with the orders row the journal wrote, its open orders and
// balances with sql::openOrders() and sql::allBalances(), and at the end every user's fills with
// sql::listFills(). Halfway a second state starts from the database, as the server does at start-up, and must
// report and hold exactly what the first does from then on.
//   BOURSE_ACCOUNT_SEED      the seed (printed at start; random when unset)
//   BOURSE_ACCOUNT_COMMANDS  commands per row of the randomized test (default 5,000)
#include "account_state.h"
#include "command_generator.h"
#include "connection.h"
#include "journal.h"
#include "journal_history.h"
#include "migrations.h"
#include "repositories.h"
#include "sequencer.h"

#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace bourse;
using bourse::server::AccountBalance;
using bourse::server::AccountChanges;
using bourse::server::AccountFill;
using bourse::server::AccountState;
using bourse::sql::OrderRecord;
using bourse::sql::OrderStatus;
using bourse::test::CommandGenerator;
using bourse::test::CommandMix;
using bourse::test::environmentNumber;

Q_DECLARE_METATYPE(std::vector<bourse::Command>)

namespace {

constexpr TimeNs kStart = 1'800'000'000'000'000'000;
constexpr TimeNs kSecond = 1'000'000'000;
constexpr AssetId kBtc = 0; // the assets of venue(), in the order the engine numbers them
constexpr AssetId kUsd = 1;
constexpr std::size_t kMaxBatch = 48;

Decimal d(const char *text)
{
    const auto parsed = Decimal::parse(text);
    if (!parsed)
        qFatal("bad decimal: %s", text);
    return *parsed;
}

Command at(CommandBody body, TimeNs offset = 0)
{
    return Command{kStart + offset, std::move(body)};
}

Command limit(AccountId account, Side side, const char *price, const char *quantity, TimeNs offset = 0,
              TimeInForce tif = TimeInForce::Gtc, SelfTradePrevention stp = SelfTradePrevention::ExpireTaker,
              const char *clientOrderId = "")
{
    PlaceOrder order;
    order.account = account;
    order.symbol = Symbol("BTC-USD");
    order.side = side;
    order.timeInForce = tif;
    order.stp = stp;
    order.price = d(price);
    order.quantity = d(quantity);
    order.clientOrderId = ClientOrderId(clientOrderId);
    return at(order, offset);
}

Command market(AccountId account, Side side, const char *quantity, TimeNs offset = 0)
{
    PlaceOrder order;
    order.account = account;
    order.symbol = Symbol("BTC-USD");
    order.side = side;
    order.type = OrderType::Market;
    order.quantity = d(quantity);
    return at(order, offset);
}

Command amend(OrderId order, const char *price, const char *quantity, TimeNs offset = 0)
{
    AmendOrder body;
    body.account = kAnyAccount;
    body.order = order;
    if (price)
        body.price = d(price);
    if (quantity)
        body.quantity = d(quantity);
    return at(body, offset);
}

Command cancel(OrderId order, TimeNs offset = 0)
{
    return at(CancelOrder{kAnyAccount, order}, offset);
}

// BTC-USD (id 0, tick 0.01, lot 0.001; assets BTC 0 and USD 1) and accounts 1-3 with 1,000,000 USD and 100 BTC.
std::vector<Command> venue(std::vector<Command> more = {})
{
    std::vector<Command> commands{
        at(AddInstrument{Symbol("BTC-USD"), AssetCode("BTC"), AssetCode("USD"), d("0.01"), d("0.001"), d("0.001")})};
    for (AccountId account = 1; account <= 3; ++account) {
        commands.push_back(at(Deposit{account, AssetCode("USD"), d("1000000")}));
        commands.push_back(at(Deposit{account, AssetCode("BTC"), d("100")}));
    }
    commands.insert(commands.end(), more.begin(), more.end());
    return commands;
}

std::vector<Event> runBatch(Sequencer &engine, const std::vector<Command> &commands)
{
    std::vector<Event> events;
    for (const Command &command : commands)
        engine.apply(command, events);
    return events;
}

std::vector<InstrumentView> instrumentsOf(const Sequencer &engine)
{
    std::vector<InstrumentView> out;
    for (InstrumentId id = 0; id < engine.instrumentCount(); ++id)
        out.push_back(*engine.instrument(id));
    return out;
}

QString text(std::string_view view)
{
    return QString::fromUtf8(view.data(), qsizetype(view.size()));
}

QString number(Decimal value)
{
    return QString::fromStdString(value.toString());
}

// --- text forms: every field, so that a comparison is field for field and a failure shows both sides ------

QString orderText(const OrderRecord &order)
{
    return QStringLiteral("#%1 user %2 instrument %3 cid '%4' %5 %6 %7%8 %9 price %10 quantity %11 filled %12 "
                          "notional %13 %14 created %15 updated %16 seq %17")
        .arg(order.id)
        .arg(order.user)
        .arg(order.instrument)
        .arg(order.clientOrderId, text(sideName(order.side)), text(orderTypeName(order.type)),
             text(timeInForceName(order.timeInForce)), order.postOnly ? QStringLiteral(" post-only") : QString(),
             text(stpName(order.stp)), order.price ? number(*order.price) : QStringLiteral("none"),
             number(order.quantity))
        .arg(number(order.filledQuantity), number(order.filledNotional),
             QLatin1String(sql::ProjectionUpdate::statusName(order.status)))
        .arg(order.createdAt)
        .arg(order.updatedAt)
        .arg(order.seq);
}

QString fillText(AccountId user, const sql::FillRecord &fill)
{
    return QStringLiteral("user %1 trade %2 order %3 instrument %4 %5 %6 %7 x %8 seq %9 time %10")
        .arg(user)
        .arg(fill.trade)
        .arg(fill.order)
        .arg(fill.instrument)
        .arg(text(sideName(fill.side)), sql::liquidityName(fill.liquidity), number(fill.price), number(fill.quantity))
        .arg(fill.seq)
        .arg(fill.time);
}

QString balanceText(AccountId user, const sql::BalanceRecord &balance)
{
    return QStringLiteral("user %1 asset %2 '%3' available %4 reserved %5")
        .arg(user)
        .arg(balance.asset)
        .arg(balance.assetCode, number(balance.available), number(balance.reserved));
}

QStringList changesText(const AccountChanges &changes)
{
    QStringList out;
    for (const OrderRecord &order : changes.orders)
        out << QStringLiteral("order ") + orderText(order);
    for (const AccountFill &fill : changes.fills)
        out << QStringLiteral("fill ") + fillText(fill.user, fill.fill);
    for (const AccountBalance &balance : changes.balances)
        out << QStringLiteral("balance %1 seq %2").arg(balanceText(balance.user, balance.balance)).arg(balance.seq);
    return out;
}

// A short form for the hand-made cases: id, status, filled / quantity, price.
QString brief(const OrderRecord &order)
{
    return QStringLiteral("#%1 %2 %3/%4 @%5")
        .arg(order.id)
        .arg(QLatin1String(sql::ProjectionUpdate::statusName(order.status)), number(order.filledQuantity),
             number(order.quantity), order.price ? number(*order.price) : QStringLiteral("market"));
}

QStringList briefs(const std::vector<OrderRecord> &orders)
{
    QStringList out;
    for (const OrderRecord &order : orders)
        out << brief(order);
    return out;
}

QStringList fillTexts(const std::vector<AccountFill> &fills)
{
    QStringList out;
    for (const AccountFill &fill : fills)
        out << QStringLiteral("user %1 #%2 %3 %4 %5x%6")
                   .arg(fill.user)
                   .arg(fill.fill.order)
                   .arg(text(sideName(fill.fill.side)), sql::liquidityName(fill.fill.liquidity),
                        number(fill.fill.price), number(fill.fill.quantity));
    return out;
}

QStringList balanceTexts(const std::vector<AccountBalance> &balances)
{
    QStringList out;
    for (const AccountBalance &balance : balances)
        out << QStringLiteral("user %1 %2 %3/%4")
                   .arg(balance.user)
                   .arg(balance.balance.assetCode, number(balance.balance.available), number(balance.balance.reserved));
    return out;
}

// Everything a state holds for these users: open orders and balances, in full.
QStringList stateText(const AccountState &state, const std::set<AccountId> &users)
{
    QStringList out;
    for (const AccountId user : users) {
        for (const OrderRecord &order : state.openOrders(user))
            out << orderText(order);
        for (const sql::BalanceRecord &balance : state.balances(user))
            out << balanceText(user, balance);
    }
    out << QStringLiteral("%1 open orders, last seq %2").arg(state.openOrderCount()).arg(state.lastSeq());
    return out;
}

// The state's open orders and balances against the engine's own; empty when they agree.
QString engineDifferences(const AccountState &state, const Sequencer &engine, const std::set<AccountId> &users)
{
    if (state.openOrderCount() != engine.openOrderCount())
        return QStringLiteral("%1 open orders, the engine has %2")
            .arg(state.openOrderCount())
            .arg(engine.openOrderCount());
    std::map<AssetId, QString> codes;
    std::map<AccountId, std::vector<OrderId>> byUser;
    std::map<std::pair<AccountId, InstrumentId>, std::vector<OrderId>> byUserInstrument;
    QString error;
    for (const InstrumentView &instrument : instrumentsOf(engine)) {
        codes[instrument.baseAsset] = text(instrument.base.view());
        codes[instrument.quoteAsset] = text(instrument.quote.view());
        for (const Side side : {Side::Buy, Side::Sell}) {
            engine.forEachOrder(instrument.id, side, [&](const OrderView &view) {
                byUser[view.account].push_back(view.id);
                byUserInstrument[{view.account, view.instrument}].push_back(view.id);
                const std::optional<OrderRecord> mine = state.openOrder(view.id);
                if (!error.isEmpty())
                    return;
                if (!mine) {
                    error = QStringLiteral("order %1 is open in the engine, not here").arg(view.id);
                    return;
                }
                const bool filled = view.remaining != view.quantity;
                if (mine->user != view.account || mine->instrument != view.instrument || mine->side != view.side
                    || mine->type != OrderType::Limit || mine->price != std::optional<Decimal>(view.price)
                    || mine->quantity != view.quantity || mine->remainingQuantity() != view.remaining
                    || mine->postOnly != view.postOnly || mine->stp != view.stp
                    || mine->clientOrderId != text(view.clientOrderId.view())
                    || mine->status != (filled ? OrderStatus::PartiallyFilled : OrderStatus::New)
                    || mine->filledNotional.isNegative() || (filled != mine->averagePrice().has_value())) {
                    error = QStringLiteral("order %1: here %2; the engine: user %3, %4 at %5, %6 of %7 left")
                                .arg(view.id)
                                .arg(orderText(*mine))
                                .arg(view.account)
                                .arg(text(sideName(view.side)), number(view.price), number(view.remaining),
                                     number(view.quantity));
                }
            });
        }
    }
    if (!error.isEmpty())
        return error;
    const auto ids = [](const std::vector<OrderRecord> &orders) {
        std::vector<OrderId> out;
        for (const OrderRecord &order : orders)
            out.push_back(order.id);
        return out;
    };
    for (const AccountId user : users) {
        std::vector<OrderId> expected = byUser[user];
        std::sort(expected.begin(), expected.end());
        if (ids(state.openOrders(user)) != expected)
            return QStringLiteral("user %1: other open orders than the engine's").arg(user);
        for (InstrumentId id = 0; id < engine.instrumentCount(); ++id) {
            std::vector<OrderId> onOne = byUserInstrument[{user, id}];
            std::sort(onOne.begin(), onOne.end());
            if (ids(state.openOrders(user, id)) != onOne)
                return QStringLiteral("user %1, instrument %2: other open orders than the engine's").arg(user).arg(id);
        }
        for (AssetId asset = 0; asset < engine.assetCount(); ++asset) {
            const BalanceView theirs = engine.balance(user, asset);
            const std::optional<sql::BalanceRecord> mine = state.balance(user, asset);
            const bool same = mine ? mine->available == theirs.available && mine->reserved == theirs.reserved
                                         && mine->assetCode == codes[asset]
                                   : theirs.available.isZero() && theirs.reserved.isZero();
            if (!same)
                return QStringLiteral("user %1, asset %2: here %3; the engine: %4 available, %5 reserved")
                    .arg(user)
                    .arg(asset)
                    .arg(mine ? balanceText(user, *mine) : QStringLiteral("none"), number(theirs.available),
                         number(theirs.reserved));
        }
        for (const sql::BalanceRecord &balance : state.balances(user)) {
            if (balance.asset >= engine.assetCount())
                return QStringLiteral("user %1 holds an asset the engine does not know: %2").arg(user).arg(balance.asset);
        }
    }
    return {};
}

// The users that events name (orders and balances), for the comparisons above.
void collectUsers(const std::vector<Event> &events, std::set<AccountId> &users)
{
    for (const Event &event : events) {
        if (const auto *accepted = std::get_if<OrderAccepted>(&event.body))
            users.insert(accepted->account);
        else if (const auto *balance = std::get_if<BalanceChanged>(&event.body))
            users.insert(balance->account);
    }
}

} // namespace

class TestAccountState : public QObject
{
    Q_OBJECT

private slots:
    void accepted();
    void fills();
    void closes_data();
    void closes();
    void amends();
    void selfTrade();
    void balancesAndAssetCodes();
    void redeliveryChangesNothing();
    void unknownOrdersAreSkipped();
    void loadThenApply();
    void randomizedAgainstEngineAndProjections_data();
    void randomizedAgainstEngineAndProjections();
};

void TestAccountState::accepted()
{
    Sequencer engine;
    AccountState state;
    QVERIFY(state.apply({}).empty());
    state.apply(runBatch(engine, venue()));
    const Seq before = engine.lastSeq();

    const AccountChanges changes = state.apply(
        runBatch(engine,
                 {limit(1, Side::Buy, "100", "2", kSecond, TimeInForce::Gtc, SelfTradePrevention::None, "my-1")}));
    QCOMPARE(changes.orders.size(), std::size_t(1));
    const OrderRecord &order = changes.orders.front();
    QCOMPARE(order.id, OrderId(1));
    QCOMPARE(order.user, AccountId(1));
    QCOMPARE(order.instrument, InstrumentId(0));
    QCOMPARE(order.clientOrderId, QStringLiteral("my-1"));
    QCOMPARE(order.side, Side::Buy);
    QCOMPARE(order.type, OrderType::Limit);
    QCOMPARE(order.timeInForce, TimeInForce::Gtc);
    QCOMPARE(order.postOnly, false);
    QCOMPARE(order.stp, SelfTradePrevention::None);
    QCOMPARE(order.price, std::optional<Decimal>(d("100")));
    QCOMPARE(order.quantity, d("2"));
    QCOMPARE(order.filledQuantity, Decimal());
    QCOMPARE(order.filledNotional, Decimal());
    QCOMPARE(order.status, OrderStatus::New);
    QCOMPARE(order.createdAt, kStart + kSecond);
    QCOMPARE(order.updatedAt, kStart + kSecond);
    QCOMPARE(order.seq, before + 1);
    QCOMPARE(order.averagePrice(), std::nullopt);
    QVERIFY(changes.fills.empty());
    // The reservation: 200 USD.
    QCOMPARE(balanceTexts(changes.balances), QStringList{"user 1 USD 999800/200"});
    QCOMPARE(changes.balances.front().balance.asset, kUsd);
    QCOMPARE(changes.balances.front().seq, before + 2);
    QVERIFY(!changes.empty());

    QCOMPARE(state.openOrderCount(), std::size_t(1));
    QCOMPARE(state.openOrders(1).size(), std::size_t(1));
    QCOMPARE(orderText(state.openOrders(1).front()), orderText(order));
    QCOMPARE(orderText(*state.openOrder(1)), orderText(order));
    QCOMPARE(state.openOrders(1, 0).size(), std::size_t(1));
    QVERIFY(state.openOrders(1, 1).empty());
    QVERIFY(state.openOrders(2).empty());
    QVERIFY(state.openOrders(77).empty());
    QVERIFY(!state.openOrder(2));
    QCOMPARE(state.lastSeq(), engine.lastSeq());

    // A market order carries no price.
    const AccountChanges marketChanges = state.apply(runBatch(engine, {market(2, Side::Buy, "1", 2 * kSecond)}));
    QVERIFY(!marketChanges.orders.empty());
    QCOMPARE(marketChanges.orders.front().type, OrderType::Market);
    QCOMPARE(marketChanges.orders.front().price, std::nullopt);
    QCOMPARE(marketChanges.orders.front().timeInForce, TimeInForce::Ioc);
    QCOMPARE(marketChanges.orders.front().status, OrderStatus::New);
}

void TestAccountState::fills()
{
    Sequencer engine;
    AccountState state;
    state.apply(runBatch(engine, venue({limit(2, Side::Sell, "100", "3"), limit(3, Side::Sell, "101", "1")})));
    const Seq before = engine.lastSeq();

    // A buy of 1 fills against order 1, which is left partly filled.
    AccountChanges changes = state.apply(runBatch(engine, {limit(1, Side::Buy, "100", "1", kSecond)}));
    QCOMPARE(briefs(changes.orders),
             (QStringList{"#3 new 0/1 @100", "#3 filled 1/1 @100", "#1 partially_filled 1/3 @100"}));
    QCOMPARE(fillTexts(changes.fills), (QStringList{"user 1 #3 buy taker 100x1", "user 2 #1 sell maker 100x1"}));
    const OrderRecord &maker = changes.orders[2];
    QCOMPARE(maker.filledNotional, d("100"));
    QCOMPARE(maker.averagePrice(), std::optional<Decimal>(d("100")));
    QCOMPARE(maker.remainingQuantity(), d("2"));
    QCOMPARE(maker.createdAt, kStart);
    QCOMPARE(maker.updatedAt, kStart + kSecond);
    QCOMPARE(maker.seq, before + 2); // accepted, then the trade
    QCOMPARE(changes.fills[0].fill.trade, TradeId(1));
    QCOMPARE(changes.fills[0].fill.seq, before + 2);
    QCOMPARE(changes.fills[0].fill.time, kStart + kSecond);
    QCOMPARE(changes.fills[1].fill.instrument, InstrumentId(0));
    QCOMPARE(changes.orders[1].seq, before + 2);
    QCOMPARE(orderText(*state.openOrder(1)), orderText(maker));
    QVERIFY(!state.openOrder(3)); // filled: reported, then forgotten
    QVERIFY(state.openOrders(1).empty());
    QCOMPARE(state.openOrderCount(), std::size_t(2));

    // A buy of 4 at 101 takes the rest of order 1 (2 at 100), then order 2 (1 at 101), and rests with 1 left: an
    // average of 100.33333333 so far (301 / 3, cut).
    changes = state.apply(runBatch(engine, {limit(1, Side::Buy, "101", "4", 2 * kSecond)}));
    QCOMPARE(briefs(changes.orders),
             (QStringList{"#4 new 0/4 @101", "#4 partially_filled 2/4 @101", "#1 filled 3/3 @100",
                          "#4 partially_filled 3/4 @101", "#2 filled 1/1 @101"}));
    QCOMPARE(changes.orders[2].filledNotional, d("300"));
    QCOMPARE(changes.orders[3].filledNotional, d("301"));
    QCOMPARE(changes.orders[3].averagePrice(), std::optional<Decimal>(d("100.33333333")));
    QCOMPARE(fillTexts(changes.fills), (QStringList{"user 1 #4 buy taker 100x2", "user 2 #1 sell maker 100x2",
                                                    "user 1 #4 buy taker 101x1", "user 3 #2 sell maker 101x1"}));
    QCOMPARE(briefs(state.openOrders(1)), QStringList{"#4 partially_filled 3/4 @101"});
    QVERIFY(state.openOrders(2).empty());
    QVERIFY(state.openOrders(3).empty());
    QCOMPARE(state.openOrderCount(), std::size_t(1));

    // A market sell fills the rest of order 4.
    changes = state.apply(runBatch(engine, {market(2, Side::Sell, "1", 3 * kSecond)}));
    QCOMPARE(briefs(changes.orders), (QStringList{"#5 new 0/1 @market", "#5 filled 1/1 @market", "#4 filled 4/4 @101"}));
    QCOMPARE(changes.orders[1].filledNotional, d("101"));
    QCOMPARE(changes.orders[2].filledNotional, d("402"));
    QCOMPARE(changes.orders[2].averagePrice(), std::optional<Decimal>(d("100.5")));
    QCOMPARE(state.openOrderCount(), std::size_t(0));
    const QString mismatch = engineDifferences(state, engine, {1, 2, 3});
    QVERIFY2(mismatch.isEmpty(), qPrintable(mismatch));
}

void TestAccountState::closes_data()
{
    QTest::addColumn<std::vector<Command>>("setup"); // after venue(), one batch
    QTest::addColumn<std::vector<Command>>("action");
    QTest::addColumn<QStringList>("orders"); // what the action reports
    QTest::addColumn<int>("open");           // open orders after it

    using Stp = SelfTradePrevention;
    const auto buy = Side::Buy;
    const auto sell = Side::Sell;
    QTest::newRow("cancel") << std::vector<Command>{limit(1, buy, "99", "1"), limit(1, buy, "98", "1")}
                            << std::vector<Command>{cancel(1)} << QStringList{"#1 cancelled 0/1 @99"} << 1;
    QTest::newRow("cancel a partly filled order")
        << std::vector<Command>{limit(1, buy, "99", "2"), limit(2, sell, "99", "0.5")}
        << std::vector<Command>{cancel(1)} << QStringList{"#1 cancelled 0.5/2 @99"} << 0;
    QTest::newRow("cancel twice: the second is refused")
        << std::vector<Command>{limit(1, buy, "99", "1")} << std::vector<Command>{cancel(1), cancel(1)}
        << QStringList{"#1 cancelled 0/1 @99"} << 0;
    QTest::newRow("ioc: a partial fill, the rest expires")
        << std::vector<Command>{limit(2, sell, "100", "1")}
        << std::vector<Command>{limit(1, buy, "101", "3", 0, TimeInForce::Ioc)}
        << QStringList{"#2 new 0/3 @101", "#2 partially_filled 1/3 @101", "#1 filled 1/1 @100", "#2 expired 1/3 @101"}
        << 0;
    QTest::newRow("fok cannot fill") << std::vector<Command>{limit(2, sell, "100", "1")}
                                     << std::vector<Command>{limit(1, buy, "100", "2", 0, TimeInForce::Fok)}
                                     << QStringList{"#2 new 0/2 @100", "#2 expired 0/2 @100"} << 1;
    QTest::newRow("market order on an empty book")
        << std::vector<Command>{} << std::vector<Command>{market(1, buy, "1")}
        << QStringList{"#1 new 0/1 @market", "#1 expired 0/1 @market"} << 0;
    QTest::newRow("stp expire_maker") << std::vector<Command>{limit(1, sell, "100", "1")}
                                      << std::vector<Command>{limit(1, buy, "100", "1", 0, TimeInForce::Gtc,
                                                                    Stp::ExpireMaker)}
                                      << QStringList{"#2 new 0/1 @100", "#1 expired 0/1 @100"} << 1;
    QTest::newRow("stp expire_both") << std::vector<Command>{limit(1, sell, "100", "1")}
                                     << std::vector<Command>{limit(1, buy, "100", "1", 0, TimeInForce::Gtc,
                                                                   Stp::ExpireBoth)}
                                     << QStringList{"#2 new 0/1 @100", "#1 expired 0/1 @100", "#2 expired 0/1 @100"}
                                     << 0;
    QTest::newRow("kill switch") << std::vector<Command>{limit(1, buy, "99", "1"), limit(2, sell, "101", "1")}
                                 << std::vector<Command>{at(
                                        SetInstrumentStatus{Symbol("BTC-USD"), InstrumentStatus::Halted, true})}
                                 << QStringList{"#1 cancelled 0/1 @99", "#2 cancelled 0/1 @101"} << 0;
    QTest::newRow("mass cancel of one account")
        << std::vector<Command>{limit(1, buy, "99", "1"), limit(2, buy, "99", "2"), limit(1, sell, "101", "1")}
        << std::vector<Command>{at(MassCancel{1, std::nullopt})}
        << QStringList{"#1 cancelled 0/1 @99", "#3 cancelled 0/1 @101"} << 1;
    QTest::newRow("accepted and cancelled in one batch")
        << std::vector<Command>{} << std::vector<Command>{limit(1, buy, "99", "1"), cancel(1)}
        << QStringList{"#1 new 0/1 @99", "#1 cancelled 0/1 @99"} << 0;
    QTest::newRow("filled, then cancelling it is refused")
        << std::vector<Command>{limit(2, sell, "100", "1")}
        << std::vector<Command>{limit(1, buy, "100", "1"), cancel(1), cancel(2)}
        << QStringList{"#2 new 0/1 @100", "#2 filled 1/1 @100", "#1 filled 1/1 @100"} << 0;
}

void TestAccountState::closes()
{
    QFETCH(std::vector<Command>, setup);
    QFETCH(std::vector<Command>, action);
    QFETCH(QStringList, orders);
    QFETCH(int, open);

    Sequencer engine;
    AccountState state;
    state.apply(runBatch(engine, venue(setup)));
    const AccountChanges changes = state.apply(runBatch(engine, action));
    QCOMPARE(briefs(changes.orders), orders);
    QCOMPARE(state.openOrderCount(), std::size_t(open));
    for (const OrderRecord &order : changes.orders) {
        QCOMPARE(order.updatedAt, kStart);
        if (!order.isOpen())
            QVERIFY(!state.openOrder(order.id));
    }
    QCOMPARE(state.lastSeq(), engine.lastSeq());
    const QString mismatch = engineDifferences(state, engine, {1, 2, 3});
    QVERIFY2(mismatch.isEmpty(), qPrintable(mismatch));
}

void TestAccountState::amends()
{
    Sequencer engine;
    AccountState state;
    // Order 1 buys 3 at 100 and trades 1 with order 2; order 3 rests at 99; order 4 sells 2 at 101.
    state.apply(runBatch(engine, venue({limit(1, Side::Buy, "100", "3"), limit(2, Side::Sell, "100", "1"),
                                        limit(3, Side::Buy, "99", "1"), limit(2, Side::Sell, "101", "2")})));
    QCOMPARE(briefs(state.openOrders(1)), QStringList{"#1 partially_filled 1/3 @100"});

    // Price and quantity (the new total) change; a partly filled order stays partly filled.
    AccountChanges changes = state.apply(runBatch(engine, {amend(1, "98", "5", kSecond)}));
    QCOMPARE(briefs(changes.orders), QStringList{"#1 partially_filled 1/5 @98"});
    QCOMPARE(changes.orders.front().remainingQuantity(), d("4"));
    QCOMPARE(changes.orders.front().filledNotional, d("100"));
    QCOMPARE(changes.orders.front().updatedAt, kStart + kSecond);
    QCOMPARE(changes.orders.front().createdAt, kStart);
    QCOMPARE(changes.orders.front().seq, engine.lastSeq() - 1); // the amendment, then the reservation's change
    QCOMPARE(orderText(*state.openOrder(1)), orderText(changes.orders.front()));

    // Only the quantity.
    changes = state.apply(runBatch(engine, {amend(1, nullptr, "2", 2 * kSecond)}));
    QCOMPARE(briefs(changes.orders), QStringList{"#1 partially_filled 1/2 @98"});

    // Re-priced to cross: the amendment, then the trade with order 3, which fills.
    changes = state.apply(runBatch(engine, {amend(4, "99", nullptr, 3 * kSecond)}));
    QCOMPARE(briefs(changes.orders),
             (QStringList{"#4 new 0/2 @99", "#4 partially_filled 1/2 @99", "#3 filled 1/1 @99"}));
    QCOMPARE(fillTexts(changes.fills), (QStringList{"user 2 #4 sell taker 99x1", "user 3 #3 buy maker 99x1"}));
    QVERIFY(!state.openOrder(3));

    // A refused amendment reports nothing.
    changes = state.apply(runBatch(engine, {amend(3, "97", nullptr, 4 * kSecond)}));
    QVERIFY(changes.orders.empty());
    const QString mismatch = engineDifferences(state, engine, {1, 2, 3});
    QVERIFY2(mismatch.isEmpty(), qPrintable(mismatch));
}

void TestAccountState::selfTrade()
{
    Sequencer engine;
    AccountState state;
    state.apply(runBatch(engine, venue({limit(1, Side::Sell, "100", "2")})));
    const AccountChanges changes = state.apply(
        runBatch(engine, {limit(1, Side::Buy, "100", "1", kSecond, TimeInForce::Gtc, SelfTradePrevention::None)}));
    // Two fills of one user: the taker's, then the maker's, as sql::listFills lists them.
    QCOMPARE(fillTexts(changes.fills), (QStringList{"user 1 #2 buy taker 100x1", "user 1 #1 sell maker 100x1"}));
    QCOMPARE(changes.fills[0].fill.trade, changes.fills[1].fill.trade);
    QCOMPARE(briefs(changes.orders),
             (QStringList{"#2 new 0/1 @100", "#2 filled 1/1 @100", "#1 partially_filled 1/2 @100"}));
    // One account on both sides: its BTC moved from reserved to available; its USD paid itself and is as before
    // the command, so no change is reported for it.
    QCOMPARE(balanceTexts(changes.balances), QStringList{"user 1 BTC 99/1"});
    QCOMPARE(briefs(state.openOrders(1)), QStringList{"#1 partially_filled 1/2 @100"});
}

void TestAccountState::balancesAndAssetCodes()
{
    Sequencer engine;
    AccountState state;
    const std::vector<Event> setup = runBatch(engine, venue());
    AccountChanges changes = state.apply(setup);
    QCOMPARE(balanceTexts(changes.balances),
             (QStringList{"user 1 USD 1000000/0", "user 1 BTC 100/0", "user 2 USD 1000000/0", "user 2 BTC 100/0",
                          "user 3 USD 1000000/0", "user 3 BTC 100/0"}));
    QVERIFY(changes.orders.empty());
    QVERIFY(changes.fills.empty());
    for (std::size_t i = 1; i < changes.balances.size(); ++i)
        QVERIFY(changes.balances[i - 1].seq < changes.balances[i].seq);
    QCOMPARE(state.assetCode(kBtc), QStringLiteral("BTC"));
    QCOMPARE(state.assetCode(kUsd), QStringLiteral("USD"));
    QCOMPARE(state.assetCode(7), QString());

    // By asset id, whatever order they came in.
    const std::vector<sql::BalanceRecord> held = state.balances(1);
    QCOMPARE(held.size(), std::size_t(2));
    QCOMPARE(balanceText(1, held[0]), QStringLiteral("user 1 asset 0 'BTC' available 100 reserved 0"));
    QCOMPARE(balanceText(1, held[1]), QStringLiteral("user 1 asset 1 'USD' available 1000000 reserved 0"));
    QCOMPARE(held[1].total(), d("1000000"));
    QVERIFY(state.balances(4).empty());
    QVERIFY(!state.balance(4, kBtc));

    // A withdrawal of everything leaves a zero balance, as the balances table does.
    changes = state.apply(runBatch(engine, {at(Withdraw{2, AssetCode("BTC"), d("100")})}));
    QCOMPARE(balanceTexts(changes.balances), QStringList{"user 2 BTC 0/0"});
    QCOMPARE(balanceText(2, *state.balance(2, kBtc)), QStringLiteral("user 2 asset 0 'BTC' available 0 reserved 0"));
    QCOMPARE(state.balances(2).size(), std::size_t(2));

    // A later instrument brings a new asset; its code comes with its InstrumentAdded.
    changes = state.apply(runBatch(engine, {at(AddInstrument{Symbol("ETH-BTC"), AssetCode("ETH"), AssetCode("BTC"),
                                                             d("0.0001"), d("0.01"), d("0.01")}),
                                            at(Deposit{3, AssetCode("ETH"), d("5")})}));
    QCOMPARE(balanceTexts(changes.balances), QStringList{"user 3 ETH 5/0"});
    QCOMPARE(changes.balances.front().balance.asset, AssetId(2));

    // A state that never saw the InstrumentAdded events has no codes until it is told the instruments.
    AccountState late;
    late.setLastSeq(3); // past the InstrumentAdded (seq 1) and the first deposit (2 and 3)
    changes = late.apply(setup);
    QCOMPARE(changes.balances.size(), std::size_t(5));
    QCOMPARE(changes.balances.front().balance.assetCode, QString());
    late.setInstruments(instrumentsOf(engine));
    QCOMPARE(late.balances(1).front().assetCode, QStringLiteral("BTC"));
    QCOMPARE(late.assetCode(2), QStringLiteral("ETH"));
    AccountState told;
    told.setInstruments(instrumentsOf(engine));
    told.setLastSeq(1);
    QCOMPARE(balanceTexts(told.apply(setup).balances).front(), QStringLiteral("user 1 USD 1000000/0"));
}

void TestAccountState::redeliveryChangesNothing()
{
    Sequencer engine;
    AccountState state;
    AccountState whole; // gets each batch once, in one piece
    const std::vector<Event> setup = runBatch(engine, venue({limit(2, Side::Sell, "100", "1")}));
    state.apply(setup);
    whole.apply(setup);
    const std::vector<Event> batch = runBatch(engine, {limit(1, Side::Buy, "100", "2"), cancel(2),
                                                       limit(3, Side::Sell, "99", "1")});
    const QStringList expected = changesText(whole.apply(batch));
    QVERIFY(expected.size() > 6);

    // In two overlapping parts: the overlap is not reported twice.
    const std::vector<Event> firstPart(batch.begin(), batch.begin() + std::ptrdiff_t(batch.size() / 2));
    const AccountChanges first = state.apply(firstPart);
    const AccountChanges second = state.apply(batch);
    AccountChanges joined = first;
    joined.orders.insert(joined.orders.end(), second.orders.begin(), second.orders.end());
    joined.fills.insert(joined.fills.end(), second.fills.begin(), second.fills.end());
    joined.balances.insert(joined.balances.end(), second.balances.begin(), second.balances.end());
    QCOMPARE(changesText(joined), expected);

    // The same batches again: nothing.
    const QStringList before = stateText(state, {1, 2, 3});
    QVERIFY(state.apply(batch).empty());
    QVERIFY(state.apply(setup).empty());
    QVERIFY(state.apply(firstPart).empty());
    QCOMPARE(stateText(state, {1, 2, 3}), before);
    QCOMPARE(stateText(state, {1, 2, 3}), stateText(whole, {1, 2, 3}));
    QCOMPARE(state.lastSeq(), engine.lastSeq());
}

void TestAccountState::unknownOrdersAreSkipped()
{
    // Events about orders this state never saw accepted: no order is reported or made up, nothing crashes, and a
    // trade's fills (which the event alone determines) are still reported.
    AccountState state;
    TradeExecuted trade;
    trade.trade = 9;
    trade.price = d("10");
    trade.quantity = d("1");
    trade.takerSide = Side::Sell;
    trade.makerOrder = 41;
    trade.takerOrder = 42;
    trade.makerAccount = 5;
    trade.takerAccount = 6;
    const std::vector<Event> events{
        Event{1, kStart, trade},
        Event{2, kStart, OrderCancelled{41, 5, 0, d("1"), CancelReason::Requested}},
        Event{3, kStart, OrderExpired{42, 6, 0, d("1"), ExpireReason::ImmediateOrCancel}},
        Event{4, kStart, OrderAmended{43, 5, 0, d("11"), d("2"), d("2"), false}},
        Event{5, kStart, InstrumentStatusChanged{3, InstrumentStatus::Halted}},
        Event{6, kStart, CommandRejected{}},
        Event{7, kStart, FundsDeposited{5, 0, d("1")}},
    };
    const AccountChanges changes = state.apply(events);
    QVERIFY(changes.orders.empty());
    QVERIFY(changes.balances.empty());
    QCOMPARE(fillTexts(changes.fills), (QStringList{"user 6 #42 sell taker 10x1", "user 5 #41 buy maker 10x1"}));
    QCOMPARE(state.openOrderCount(), std::size_t(0));
    QCOMPARE(state.lastSeq(), Seq(7));
    QVERIFY(state.openOrders(5).empty());
    QVERIFY(state.balances(5).empty());
}

void TestAccountState::loadThenApply()
{
    Sequencer engine;
    AccountState running;
    running.apply(runBatch(engine, venue({limit(1, Side::Buy, "100", "3", 0, TimeInForce::Gtc,
                                                SelfTradePrevention::ExpireTaker, "keep-1"),
                                          limit(2, Side::Sell, "100", "1", kSecond), limit(2, Side::Sell, "105", "2"),
                                          limit(3, Side::Buy, "99", "1"), market(3, Side::Buy, "0.5")})));
    // As the database would hand them over: every user's open orders and balance rows; the codes left empty
    // here, for the instruments to fill in.
    std::vector<OrderRecord> open;
    std::vector<std::pair<AccountId, sql::BalanceRecord>> balances;
    for (const AccountId user : {AccountId(1), AccountId(2), AccountId(3)}) {
        for (const OrderRecord &order : running.openOrders(user))
            open.push_back(order);
        for (sql::BalanceRecord balance : running.balances(user)) {
            balance.assetCode.clear();
            balances.emplace_back(user, balance);
        }
    }
    QCOMPARE(open.size(), std::size_t(3));
    OrderRecord closed = open.front(); // not open: ignored
    closed.id = 999;
    closed.status = OrderStatus::Cancelled;
    open.push_back(closed);

    AccountState loaded;
    loaded.load(open, balances);
    loaded.setInstruments(instrumentsOf(engine));
    loaded.setLastSeq(engine.lastSeq());
    QCOMPARE(stateText(loaded, {1, 2, 3}), stateText(running, {1, 2, 3}));
    QVERIFY(!loaded.openOrder(999));
    QVERIFY(loaded.apply(runBatch(engine, {})).empty());

    // The next batch changes both alike.
    const std::vector<Event> batch
        = runBatch(engine, {market(3, Side::Sell, "2", 2 * kSecond), amend(3, "104", nullptr, 2 * kSecond),
                            limit(1, Side::Buy, "105", "1", 3 * kSecond), cancel(4, 4 * kSecond)});
    const QStringList expected = changesText(running.apply(batch));
    QCOMPARE(changesText(loaded.apply(batch)), expected);
    QCOMPARE(stateText(loaded, {1, 2, 3}), stateText(running, {1, 2, 3}));
    const QString mismatch = engineDifferences(loaded, engine, {1, 2, 3});
    QVERIFY2(mismatch.isEmpty(), qPrintable(mismatch));

    // load() replaces what was held.
    loaded.load({}, {});
    QCOMPARE(loaded.openOrderCount(), std::size_t(0));
    QVERIFY(loaded.balances(1).empty());
    QCOMPARE(loaded.lastSeq(), engine.lastSeq());
}

void TestAccountState::randomizedAgainstEngineAndProjections_data()
{
    QTest::addColumn<QString>("mix");
    QTest::newRow("the default mix") << QString();
    QTest::newRow("takers: market, ioc, fok, stp") << QStringLiteral("market=30,ioc=30,fok=25,stpNone=40,stpBoth=30");
    QTest::newRow("amends and cancels") << QStringLiteral("amend=600,cancel=300,massCancel=20,status=10");
}

void TestAccountState::randomizedAgainstEngineAndProjections()
{
    QFETCH(QString, mix);
    std::string error;
    const std::optional<CommandMix> parsedMix = CommandMix::parse(mix.toStdString(), &error);
    QVERIFY2(parsedMix, error.c_str());
    const std::uint64_t randomSeed = std::random_device{}() ^ (std::uint64_t(std::random_device{}()) << 32);
    const std::uint64_t seed = environmentNumber("BOURSE_ACCOUNT_SEED", randomSeed);
    const std::uint64_t total = environmentNumber("BOURSE_ACCOUNT_COMMANDS", 5'000);
    qInfo().noquote() << QStringLiteral("seed %1, %2 commands (rerun with BOURSE_ACCOUNT_SEED=%1)").arg(seed).arg(total);
    const auto failure = [seed](Seq commands, const QString &what) {
        return QStringLiteral("seed %1, after %2 commands: %3").arg(seed).arg(commands).arg(what);
    };

    // The projections the journal writes, on SQLite.
    QTemporaryDir directory;
    QVERIFY(directory.isValid());
    const sql::DatabaseUrl url = sql::DatabaseUrl::sqlite(directory.filePath(QStringLiteral("venue.db")));
    auto connection = sql::ConnectionFactory(url).open(u"test");
    QVERIFY2(connection, connection ? "" : qPrintable(connection.error()));
    const auto migrations = sql::MigrationSet::builtIn(sql::DatabaseUrl::Driver::Sqlite);
    QVERIFY(migrations);
    const auto migrated = sql::applyMigrations(*connection, *migrations);
    QVERIFY2(migrated, migrated ? "" : qPrintable(migrated.error()));
    QSqlDatabase &db = connection->database();
    sql::JournalScratch scratch;
    std::vector<sql::JournalBatch> pending;

    CommandGenerator generator(seed, *parsedMix);
    std::mt19937_64 random(seed ^ 0x6163636f756e74ULL);
    Sequencer engine;
    Seq commandSeq = 0;
    AccountState state;
    std::optional<AccountState> restarted; // loaded from the database halfway, fed whole batches from then on
    std::set<AccountId> users;
    std::map<OrderId, OrderRecord> lastReported; // each order's latest record, from the changes
    std::set<OrderId> reportedSinceCheck;
    std::map<AccountId, QStringList> fillsSeen; // per user, in the order reported
    std::map<std::pair<AccountId, AssetId>, Seq> balanceSeqs;
    std::size_t batches = 0;
    std::size_t closedSeen = 0;
    std::size_t partialSeen = 0;
    std::size_t databaseChecks = 0;
    std::size_t redelivered = 0;

    std::vector<Event> commandEvents;
    while (commandSeq < total) {
        // One batch of commands, journalled.
        sql::JournalBatch &journal = pending.emplace_back();
        const std::size_t size = std::uniform_int_distribution<std::size_t>(1, kMaxBatch)(random);
        for (std::size_t i = 0; i < size && commandSeq < total; ++i) {
            test::journalCommand(engine, commandSeq, generator.next(), journal, commandEvents);
            generator.observe(commandEvents);
        }
        const std::vector<Event> batch = journal.events;
        ++batches;
        collectUsers(batch, users);

        // To the state in 1-4 parts cut anywhere (in the middle of a command too), a part now and then sent
        // again together with the next.
        AccountChanges changes;
        std::size_t from = 0;
        std::size_t previous = 0;
        while (from < batch.size()) {
            const std::size_t parts = std::uniform_int_distribution<std::size_t>(1, 4)(random);
            const std::size_t to = parts == 1
                                       ? batch.size()
                                       : std::uniform_int_distribution<std::size_t>(from + 1, batch.size())(random);
            const bool again = from > previous && random() % 4 == 0;
            redelivered += again ? 1U : 0U;
            const std::size_t start = again ? previous : from;
            AccountChanges part = state.apply(
                std::vector<Event>(batch.begin() + std::ptrdiff_t(start), batch.begin() + std::ptrdiff_t(to)));
            changes.orders.insert(changes.orders.end(), part.orders.begin(), part.orders.end());
            changes.fills.insert(changes.fills.end(), part.fills.begin(), part.fills.end());
            changes.balances.insert(changes.balances.end(), part.balances.begin(), part.balances.end());
            previous = from;
            from = to;
        }
        QCOMPARE(state.lastSeq(), engine.lastSeq());
        QVERIFY(state.apply(batch).empty());

        // What was reported: every order record once per change, fills per trade, balances per change.
        std::size_t trades = 0;
        std::size_t balanceEvents = 0;
        for (const Event &event : batch) {
            trades += std::holds_alternative<TradeExecuted>(event.body) ? 1U : 0U;
            balanceEvents += std::holds_alternative<BalanceChanged>(event.body) ? 1U : 0U;
        }
        QCOMPARE(changes.fills.size(), 2 * trades);
        QCOMPARE(changes.balances.size(), balanceEvents);
        Seq lastSeq = 0;
        for (const OrderRecord &order : changes.orders) {
            if (order.seq < lastSeq)
                QFAIL(qPrintable(failure(commandSeq, QStringLiteral("order records out of event order"))));
            lastSeq = order.seq;
            lastReported[order.id] = order;
            reportedSinceCheck.insert(order.id);
            closedSeen += order.isOpen() ? 0U : 1U;
            partialSeen += order.status == OrderStatus::PartiallyFilled ? 1U : 0U;
            if (!order.isOpen() && state.openOrder(order.id))
                QFAIL(qPrintable(failure(commandSeq, QStringLiteral("order %1 is closed but kept").arg(order.id))));
        }
        for (const AccountFill &fill : changes.fills)
            fillsSeen[fill.user] << fillText(fill.user, fill.fill);
        for (const AccountBalance &balance : changes.balances)
            balanceSeqs[{balance.user, balance.balance.asset}] = balance.seq;

        const QString mismatch = engineDifferences(state, engine, users);
        if (!mismatch.isEmpty())
            QFAIL(qPrintable(failure(commandSeq, mismatch)));

        // The copy that started from the database gets the whole batch at once and must report the same.
        if (restarted) {
            const QStringList mine = changesText(restarted->apply(batch));
            if (mine != changesText(changes))
                QFAIL(qPrintable(
                    failure(commandSeq, QStringLiteral("the restarted state reported:\n  %1\nthe first:\n  %2")
                                            .arg(mine.join(QStringLiteral("\n  ")),
                                                 changesText(changes).join(QStringLiteral("\n  "))))));
        }

        // Now and then (and at the end) commit the journal and hold everything against the projections.
        if (random() % 6 != 0 && commandSeq < total)
            continue;
        const auto written = sql::writeBatches(db, pending, scratch);
        QVERIFY2(written, written ? "" : qPrintable(written.error()));
        pending.clear();
        ++databaseChecks;
        for (const OrderId id : reportedSinceCheck) {
            const auto row = sql::findOrder(db, id);
            QVERIFY2(row, row ? "" : qPrintable(row.error()));
            if (!row->has_value())
                QFAIL(qPrintable(failure(commandSeq, QStringLiteral("order %1 is not in the database").arg(id))));
            const QString mine = orderText(lastReported.at(id));
            const QString theirs = orderText(**row);
            if (mine != theirs)
                QFAIL(qPrintable(
                    failure(commandSeq, QStringLiteral("reported %1\n  the orders row %2").arg(mine, theirs))));
        }
        reportedSinceCheck.clear();

        const auto openRows = sql::openOrders(db);
        QVERIFY2(openRows, openRows ? "" : qPrintable(openRows.error()));
        QStringList fromDatabase;
        for (const OrderRecord &order : *openRows)
            fromDatabase << orderText(order);
        std::vector<OrderRecord> held;
        for (const AccountId user : users) {
            const std::vector<OrderRecord> orders = state.openOrders(user);
            held.insert(held.end(), orders.begin(), orders.end());
        }
        std::sort(held.begin(), held.end(), [](const OrderRecord &a, const OrderRecord &b) { return a.id < b.id; });
        QStringList fromState;
        for (const OrderRecord &order : held)
            fromState << orderText(order);
        if (fromState != fromDatabase)
            QFAIL(qPrintable(failure(commandSeq, QStringLiteral("open orders:\n  here %1\n  the database %2")
                                                     .arg(fromState.join(QStringLiteral("\n       ")),
                                                          fromDatabase.join(QStringLiteral("\n       "))))));

        const auto balanceRows = sql::allBalances(db);
        QVERIFY2(balanceRows, balanceRows ? "" : qPrintable(balanceRows.error()));
        QStringList balancesFromDatabase;
        for (const auto &[user, balance] : *balanceRows)
            balancesFromDatabase << balanceText(user, balance);
        QStringList balancesFromState;
        for (const AccountId user : users) {
            for (const sql::BalanceRecord &balance : state.balances(user))
                balancesFromState << balanceText(user, balance);
        }
        if (balancesFromState != balancesFromDatabase)
            QFAIL(qPrintable(failure(commandSeq, QStringLiteral("balances:\n  here %1\n  the database %2")
                                                     .arg(balancesFromState.join(QStringLiteral("\n       ")),
                                                          balancesFromDatabase.join(QStringLiteral("\n       "))))));

        // Start-up, once halfway: a second state from the database, as the server makes it.
        if (!restarted && commandSeq >= total / 2) {
            restarted.emplace();
            restarted->load(*openRows, *balanceRows);
            restarted->setInstruments(instrumentsOf(engine));
            restarted->setLastSeq(engine.lastSeq());
            if (stateText(*restarted, users) != stateText(state, users))
                QFAIL(qPrintable(failure(commandSeq, QStringLiteral("the state loaded from the database differs"))));
        }
    }
    QVERIFY(restarted);
    QCOMPARE(stateText(*restarted, users), stateText(state, users));

    // Every user's fills, as the database lists them (newest first, the taker's before the maker's within a
    // trade), put in trade order.
    for (const AccountId user : users) {
        std::vector<sql::FillRecord> listed;
        for (std::int64_t page = 1;; ++page) {
            const auto result = sql::listFills(db, user, std::nullopt, sql::PageRequest::make(page, 1000).value());
            QVERIFY2(result, result ? "" : qPrintable(result.error()));
            listed.insert(listed.end(), result->rows.begin(), result->rows.end());
            if (result->rows.empty() || std::int64_t(listed.size()) >= result->total)
                break;
        }
        std::reverse(listed.begin(), listed.end());
        std::stable_sort(listed.begin(), listed.end(), [](const sql::FillRecord &a, const sql::FillRecord &b) {
            return std::pair{a.trade, a.liquidity != sql::Liquidity::Taker}
                   < std::pair{b.trade, b.liquidity != sql::Liquidity::Taker};
        });
        QStringList fromDatabase;
        for (const sql::FillRecord &fill : listed)
            fromDatabase << fillText(user, fill);
        if (fillsSeen[user] != fromDatabase)
            QFAIL(qPrintable(
                failure(commandSeq, QStringLiteral("user %1's fills differ from the database's").arg(user))));
    }
    // The balances' seqs are the rows' updated_seq.
    QSqlQuery seqs(db);
    QVERIFY(seqs.exec(QStringLiteral("SELECT user_id, asset_id, updated_seq FROM balances")));
    std::size_t rows = 0;
    while (seqs.next()) {
        ++rows;
        const std::pair<AccountId, AssetId> key{AccountId(seqs.value(0).toLongLong()),
                                                AssetId(seqs.value(1).toLongLong())};
        QCOMPARE(balanceSeqs[key], Seq(seqs.value(2).toLongLong()));
    }
    QCOMPARE(rows, balanceSeqs.size());

    qInfo("%zu batches, %zu orders reported, %zu closed and %zu partly filled records, %zu database checks, %zu "
          "parts sent again",
          batches, lastReported.size(), closedSeen, partialSeen, databaseChecks, redelivered);
    // The stream must have exercised what it is here for.
    QVERIFY(closedSeen > 100);
    QVERIFY(partialSeen > 20);
    QVERIFY(databaseChecks > 3);
}

QTEST_GUILESS_MAIN(TestAccountState)
#include "tst_account_state.moc"
