// Hand-checked scenarios for the ReferenceVenue alone, so that the reference the differential test trusts is
// itself held against numbers worked out on paper from the rules in engine/sequencer.h.
#include "reference_venue.h"

#include <QStringList>
#include <QTest>

#include <map>
#include <string>
#include <string_view>
#include <vector>

using namespace bourse;
using bourse::test::ReferenceVenue;

namespace {

// --- a tiny script language for the rows ---------------------------------------------------------------
//   [t=5s|t=25h|t=<ns>] add SYM BASE QUOTE TICK LOT MIN
//   dep|wd ACCOUNT ASSET AMOUNT
//   buy|sell ACCOUNT PRICE|mkt|- QUANTITY [gtc|ioc|fok] [post] [taker|maker|both|none] [market] [id=X] [sym=X]
//   cancel ACCOUNT ORDER        amend ACCOUNT ORDER PRICE|- QUANTITY|-
//   mass ACCOUNT [SYM]          halt SYM [kill]        resume SYM [kill]
// Orders go to BTC-USD unless sym= says otherwise.

std::vector<std::string> split(std::string_view text, char separator)
{
    std::vector<std::string> parts;
    std::string current;
    auto flush = [&] {
        const auto begin = current.find_first_not_of(' ');
        if (begin != std::string::npos)
            parts.push_back(current.substr(begin, current.find_last_not_of(' ') - begin + 1));
        current.clear();
    };
    for (const char c : text) {
        if (c == separator)
            flush();
        else
            current.push_back(c);
    }
    flush();
    return parts;
}

Decimal decimal(const std::string &text)
{
    const auto parsed = Decimal::parse(text);
    if (!parsed)
        qFatal("bad decimal in a scenario: %s", text.c_str());
    return *parsed;
}

std::uint64_t number(const std::string &text)
{
    return std::stoull(text);
}

TimeNs parseTime(const std::string &text)
{
    if (text.ends_with('h'))
        return std::stoll(text.substr(0, text.size() - 1)) * 3600 * 1'000'000'000;
    if (text.ends_with('s'))
        return std::stoll(text.substr(0, text.size() - 1)) * 1'000'000'000;
    return std::stoll(text);
}

Command parseCommand(const std::string &line)
{
    std::vector<std::string> tokens = split(line, ' ');
    Command command;
    if (!tokens.empty() && tokens.front().starts_with("t=")) {
        command.time = parseTime(tokens.front().substr(2));
        tokens.erase(tokens.begin());
    }
    if (tokens.empty())
        qFatal("empty command in a scenario");
    const std::string &verb = tokens[0];
    auto token = [&](std::size_t i) -> const std::string & {
        if (i >= tokens.size())
            qFatal("missing argument in: %s", line.c_str());
        return tokens[i];
    };

    if (verb == "add") {
        command.body = AddInstrument{Symbol(token(1)),  AssetCode(token(2)), AssetCode(token(3)),
                                     decimal(token(4)), decimal(token(5)),   decimal(token(6))};
    } else if (verb == "dep") {
        command.body = Deposit{number(token(1)), AssetCode(token(2)), decimal(token(3))};
    } else if (verb == "wd") {
        command.body = Withdraw{number(token(1)), AssetCode(token(2)), decimal(token(3))};
    } else if (verb == "buy" || verb == "sell") {
        PlaceOrder place;
        place.account = number(token(1));
        place.side = verb == "buy" ? Side::Buy : Side::Sell;
        place.symbol = Symbol("BTC-USD");
        if (token(2) == "mkt")
            place.type = OrderType::Market;
        else if (token(2) != "-")
            place.price = decimal(token(2));
        place.quantity = decimal(token(3));
        for (std::size_t i = 4; i < tokens.size(); ++i) {
            const std::string &option = tokens[i];
            if (option == "gtc")
                place.timeInForce = TimeInForce::Gtc;
            else if (option == "ioc")
                place.timeInForce = TimeInForce::Ioc;
            else if (option == "fok")
                place.timeInForce = TimeInForce::Fok;
            else if (option == "post")
                place.postOnly = true;
            else if (option == "taker")
                place.stp = SelfTradePrevention::ExpireTaker;
            else if (option == "maker")
                place.stp = SelfTradePrevention::ExpireMaker;
            else if (option == "both")
                place.stp = SelfTradePrevention::ExpireBoth;
            else if (option == "none")
                place.stp = SelfTradePrevention::None;
            else if (option == "market")
                place.type = OrderType::Market;
            else if (option.starts_with("id="))
                place.clientOrderId = ClientOrderId(option.substr(3));
            else if (option.starts_with("sym="))
                place.symbol = Symbol(option.substr(4));
            else
                qFatal("unknown order option: %s", option.c_str());
        }
        command.body = place;
    } else if (verb == "cancel") {
        command.body = CancelOrder{number(token(1)), number(token(2))};
    } else if (verb == "amend") {
        AmendOrder amend{number(token(1)), number(token(2)), std::nullopt, std::nullopt};
        if (token(3) != "-")
            amend.price = decimal(token(3));
        if (token(4) != "-")
            amend.quantity = decimal(token(4));
        command.body = amend;
    } else if (verb == "mass") {
        MassCancel mass{number(token(1)), std::nullopt};
        if (tokens.size() > 2)
            mass.symbol = Symbol(tokens[2]);
        command.body = mass;
    } else if (verb == "halt" || verb == "resume") {
        command.body = SetInstrumentStatus{Symbol(token(1)),
                                           verb == "halt" ? InstrumentStatus::Halted : InstrumentStatus::Trading,
                                           tokens.size() > 2 && tokens[2] == "kill"};
    } else {
        qFatal("unknown verb in a scenario: %s", verb.c_str());
    }
    return command;
}

// --- compact descriptions to compare against --------------------------------------------------------------

QString text(Decimal value)
{
    return QString::fromStdString(value.toString());
}

QString assetText(const ReferenceVenue &venue, AssetId asset)
{
    for (InstrumentId id = 0; id < venue.instrumentCount(); ++id) {
        const InstrumentView view = *venue.instrument(id);
        if (view.baseAsset == asset)
            return QString::fromLatin1(view.base.view());
        if (view.quoteAsset == asset)
            return QString::fromLatin1(view.quote.view());
    }
    return QString::number(asset);
}

QString describe(const ReferenceVenue &venue, const Event &event)
{
    const EventBody &body = event.body;
    if (const auto *e = std::get_if<InstrumentAdded>(&body))
        return QStringLiteral("instrument %1 %2")
            .arg(e->instrument.id)
            .arg(QString::fromLatin1(e->instrument.symbol.view()));
    if (const auto *e = std::get_if<InstrumentStatusChanged>(&body))
        return QStringLiteral("status %1 %2")
            .arg(e->instrument)
            .arg(e->status == InstrumentStatus::Halted ? "halted" : "trading");
    if (const auto *e = std::get_if<OrderAccepted>(&body))
        return QStringLiteral("accepted #%1").arg(e->order);
    if (const auto *e = std::get_if<OrderAmended>(&body))
        return QStringLiteral("amended #%1 %2x%3 left %4 %5")
            .arg(e->order)
            .arg(text(e->price), text(e->quantity), text(e->remaining), e->priorityKept ? "kept" : "moved");
    if (const auto *e = std::get_if<OrderCancelled>(&body)) {
        const char *reason = e->reason == CancelReason::Requested    ? "requested"
                             : e->reason == CancelReason::MassCancel ? "mass"
                                                                     : "kill";
        return QStringLiteral("cancelled #%1 %2 %3").arg(e->order).arg(reason, text(e->remaining));
    }
    if (const auto *e = std::get_if<OrderExpired>(&body)) {
        const char *reason = e->reason == ExpireReason::ImmediateOrCancel     ? "ioc"
                             : e->reason == ExpireReason::FillOrKill          ? "fok"
                             : e->reason == ExpireReason::SelfTradePrevention ? "stp"
                                                                              : "funds";
        return QStringLiteral("expired #%1 %2 %3").arg(e->order).arg(reason, text(e->remaining));
    }
    if (const auto *e = std::get_if<TradeExecuted>(&body))
        return QStringLiteral("trade #%1<-#%2 %3x%4 left %5/%6")
            .arg(e->makerOrder)
            .arg(e->takerOrder)
            .arg(text(e->price), text(e->quantity), text(e->makerRemaining), text(e->takerRemaining));
    if (const auto *e = std::get_if<BalanceChanged>(&body))
        return QStringLiteral("balance %1 %2 %3/%4")
            .arg(e->account)
            .arg(assetText(venue, e->asset), text(e->available), text(e->reserved));
    if (const auto *e = std::get_if<FundsDeposited>(&body))
        return QStringLiteral("deposited %1 %2 %3").arg(e->account).arg(assetText(venue, e->asset), text(e->amount));
    if (const auto *e = std::get_if<FundsWithdrawn>(&body))
        return QStringLiteral("withdrawn %1 %2 %3").arg(e->account).arg(assetText(venue, e->asset), text(e->amount));
    const auto &e = std::get<CommandRejected>(body);
    QString out = QStringLiteral("rejected %1").arg(QString::fromLatin1(rejectName(e.reason)));
    if (e.reason == RejectReason::InsufficientBalance)
        out += QStringLiteral(" %1 %2/%3").arg(assetText(venue, e.asset), text(e.required), text(e.available));
    return out;
}

QString describe(const CommandResult &result)
{
    switch (result.outcome) {
    case CommandResult::Outcome::Rejected: return QStringLiteral("rejected %1").arg(QString::fromLatin1(rejectName(result.reason)));
    case CommandResult::Outcome::Replayed: return QStringLiteral("replayed #%1").arg(result.order);
    case CommandResult::Outcome::Applied: break;
    }
    QString out = QStringLiteral("applied");
    if (result.order != 0)
        out += QStringLiteral(" #%1").arg(result.order);
    if (result.affected != 0)
        out += QStringLiteral(" affected=%1").arg(result.affected);
    return out;
}

QString describeBook(const ReferenceVenue &venue, InstrumentId instrument)
{
    QString out;
    for (const Side side : {Side::Buy, Side::Sell}) {
        out += side == Side::Buy ? QStringLiteral("bids") : QStringLiteral(" | asks");
        for (const OrderView &order : venue.bookSide(instrument, side))
            out += QStringLiteral(" #%1:%2@%3x%4")
                       .arg(order.id)
                       .arg(order.account)
                       .arg(text(order.price), text(order.remaining));
    }
    return out;
}

// What must hold after every command, whatever the scenario: events numbered as the result says, reserved
// balances that are exactly what the open orders hold, no crossed book.
void checkInvariants(const ReferenceVenue &venue, const CommandResult &result, const std::vector<Event> &events,
                     Seq seqBefore)
{
    if (events.empty()) {
        QCOMPARE(result.firstSeq, Seq(0));
        QCOMPARE(result.lastSeq, Seq(0));
    } else {
        QCOMPARE(result.firstSeq, seqBefore + 1);
        QCOMPARE(result.lastSeq, seqBefore + events.size());
        for (std::size_t i = 0; i < events.size(); ++i) {
            QCOMPARE(events[i].seq, seqBefore + 1 + i);
            QCOMPARE(events[i].time, venue.lastTime());
        }
    }
    if (result.outcome == CommandResult::Outcome::Rejected) {
        QCOMPARE(events.size(), std::size_t(1));
        QCOMPARE(std::get<CommandRejected>(events.front().body).reason, result.reason);
    }
    if (result.outcome == CommandResult::Outcome::Replayed)
        QVERIFY(events.empty());

    std::map<std::pair<AccountId, AssetId>, std::int64_t> held;
    for (InstrumentId id = 0; id < venue.instrumentCount(); ++id) {
        const InstrumentView view = *venue.instrument(id);
        for (const OrderView &order : venue.bookSide(id, Side::Buy))
            held[{order.account, view.quoteAsset}] += Decimal::checkedMul(order.price, order.remaining)->raw();
        for (const OrderView &order : venue.bookSide(id, Side::Sell))
            held[{order.account, view.baseAsset}] += order.remaining.raw();
        const std::optional<Decimal> bid = venue.bestPrice(id, Side::Buy);
        const std::optional<Decimal> ask = venue.bestPrice(id, Side::Sell);
        if (bid && ask)
            QVERIFY(*bid < *ask);
    }
    for (const auto &[account, asset] : venue.balanceKeys()) {
        const BalanceView balance = venue.balance(account, asset);
        QVERIFY(!balance.available.isNegative());
        const std::int64_t heldByOrders = held[{account, asset}];
        QCOMPARE(balance.reserved.raw(), heldByOrders);
    }
}

// Three funded accounts on BTC-USD (tick 1, lot 0.1, minimum 0.1): BTC is asset 0, USD asset 1.
const QString kFunded = QStringLiteral("add BTC-USD BTC USD 1 0.1 0.1;"
                                       "dep 1 USD 10000; dep 1 BTC 10; dep 2 USD 10000; dep 2 BTC 10;"
                                       "dep 3 USD 10000; dep 3 BTC 10");

QString funded(const QString &more)
{
    return more.isEmpty() ? kFunded : kFunded + QLatin1Char(';') + more;
}

QStringList lines(const QString &joined)
{
    return joined.isEmpty() ? QStringList() : joined.split(QLatin1Char(';'));
}

const QString kSameBook; // a null QString: the row does not check the book

} // namespace

class TestReference : public QObject
{
    Q_OBJECT

private slots:
    void scenarios_data();
    void scenarios();
    void timeNeverRunsBackwards();
    void stateHashFollowsState();
    void clientOrderIdsAreForgottenOnlyWhenClosedAndOld();
};

void TestReference::scenarios_data()
{
    QTest::addColumn<QString>("setup");   // commands, ';'-separated; each must succeed
    QTest::addColumn<QString>("command"); // the command under test
    QTest::addColumn<QString>("result");  // describe(CommandResult)
    QTest::addColumn<QStringList>("events");
    QTest::addColumn<QStringList>("balances"); // "ACCOUNT ASSET available/reserved" after the command
    QTest::addColumn<QString>("book");         // BTC-USD after the command; null: not checked

    // Matching.
    QTest::newRow("price-time priority")
        << funded("sell 2 101 1; sell 3 101 1; sell 3 100 0.5") << "buy 1 101 2"
        << "applied #4"
        << lines("accepted #4;trade #3<-#4 100x0.5 left 0/1.5;trade #1<-#4 101x1 left 0/0.5;"
                 "trade #2<-#4 101x0.5 left 0.5/0;balance 1 BTC 12/0;balance 1 USD 9798.5/0;balance 2 BTC 9/0;"
                 "balance 2 USD 10101/0;balance 3 BTC 8.5/0.5;balance 3 USD 10100.5/0")
        << lines("1 BTC 12/0;1 USD 9798.5/0;3 BTC 8.5/0.5") << "bids | asks #2:3@101x0.5";
    QTest::newRow("trade at the resting price refunds the buyer")
        << funded("sell 2 100 1") << "buy 1 105 1"
        << "applied #2"
        << lines("accepted #2;trade #1<-#2 100x1 left 0/0;balance 1 BTC 11/0;balance 1 USD 9900/0;"
                 "balance 2 BTC 9/0;balance 2 USD 10100/0")
        << lines("1 USD 9900/0;2 USD 10100/0") << "bids | asks";
    QTest::newRow("a sell taker trades at the bid")
        << funded("buy 1 100 1") << "sell 2 95 0.4"
        << "applied #2"
        << lines("accepted #2;trade #1<-#2 100x0.4 left 0.6/0;balance 1 BTC 10.4/0;balance 1 USD 9900/60;"
                 "balance 2 BTC 9.6/0;balance 2 USD 10040/0")
        << lines("1 USD 9900/60") << "bids #1:1@100x0.6 | asks";
    QTest::newRow("the rest of an ioc expires")
        << funded("sell 2 100 0.3") << "buy 1 101 1 ioc"
        << "applied #2"
        << lines("accepted #2;trade #1<-#2 100x0.3 left 0/0.7;expired #2 ioc 0.7;balance 1 BTC 10.3/0;"
                 "balance 1 USD 9970/0;balance 2 BTC 9.7/0;balance 2 USD 10030/0")
        << QStringList() << "bids | asks";
    QTest::newRow("a gtc rest waits at the back of its level")
        << funded("buy 3 100 1") << "buy 1 100 0.5"
        << "applied #2" << lines("accepted #2;balance 1 USD 9950/50") << lines("1 USD 9950/50")
        << "bids #1:3@100x1 #2:1@100x0.5 | asks";
    QTest::newRow("a market sell walks the bids")
        << funded("buy 1 100 0.5; buy 3 99 1") << "sell 2 mkt 2"
        << "applied #3"
        << lines("accepted #3;trade #1<-#3 100x0.5 left 0/1.5;trade #2<-#3 99x1 left 0/0.5;expired #3 ioc 0.5;"
                 "balance 1 BTC 10.5/0;balance 1 USD 9950/0;balance 2 BTC 8.5/0;balance 2 USD 10149/0;"
                 "balance 3 BTC 11/0;balance 3 USD 9901/0")
        << QStringList() << "bids | asks";

    // Fill or kill.
    QTest::newRow("fok that cannot fill changes nothing")
        << funded("sell 2 100 0.5; sell 3 101 0.4") << "buy 1 101 1 fok"
        << "applied #3" << lines("accepted #3;expired #3 fok 1") << lines("1 USD 10000/0")
        << "bids | asks #1:2@100x0.5 #2:3@101x0.4";
    QTest::newRow("fok fills across levels")
        << funded("sell 2 100 0.5; sell 3 101 0.4") << "buy 1 101 0.9 fok"
        << "applied #3"
        << lines("accepted #3;trade #1<-#3 100x0.5 left 0/0.4;trade #2<-#3 101x0.4 left 0/0;"
                 "balance 1 BTC 10.9/0;balance 1 USD 9909.6/0;balance 2 BTC 9.5/0;balance 2 USD 10050/0;"
                 "balance 3 BTC 9.6/0;balance 3 USD 10040.4/0")
        << QStringList() << "bids | asks";
    QTest::newRow("fok blocked by expire_taker")
        << funded("sell 1 100 0.5; sell 2 101 1") << "buy 1 101 1 fok taker"
        << "applied #3" << lines("accepted #3;expired #3 fok 1") << lines("1 BTC 9.5/0.5;1 USD 10000/0")
        << "bids | asks #1:1@100x0.5 #2:2@101x1";
    QTest::newRow("fok with expire_maker looks past its own orders")
        << funded("sell 1 100 0.5; sell 2 101 1") << "buy 1 101 1 fok maker"
        << "applied #3"
        << lines("accepted #3;expired #1 stp 0.5;trade #2<-#3 101x1 left 0/0;balance 1 BTC 11/0;"
                 "balance 1 USD 9899/0;balance 2 BTC 9/0;balance 2 USD 10101/0")
        << QStringList() << "bids | asks";
    QTest::newRow("fok with expire_maker still short")
        << funded("sell 1 100 0.5; sell 2 101 0.6") << "buy 1 101 1 fok maker"
        << "applied #3" << lines("accepted #3;expired #3 fok 1") << QStringList()
        << "bids | asks #1:1@100x0.5 #2:2@101x0.6";
    QTest::newRow("market fok limited by funds")
        << "add BTC-USD BTC USD 1 0.1 0.1; dep 1 USD 150; dep 2 BTC 10; sell 2 100 1; sell 2 120 1"
        << "buy 1 mkt 2 fok"
        << "applied #3" << lines("accepted #3;expired #3 fok 2") << lines("1 USD 150/0")
        << "bids | asks #1:2@100x1 #2:2@120x1";

    // Self-trade prevention: account 1 rests #2 between two other sellers at one price.
    const QString selfSetup = funded("sell 2 100 0.2; sell 1 100 0.5; sell 3 100 1");
    QTest::newRow("expire_taker stops the taker")
        << selfSetup << "buy 1 100 1 taker"
        << "applied #4"
        << lines("accepted #4;trade #1<-#4 100x0.2 left 0/0.8;expired #4 stp 0.8;balance 1 BTC 9.7/0.5;"
                 "balance 1 USD 9980/0;balance 2 BTC 9.8/0;balance 2 USD 10020/0")
        << QStringList() << "bids | asks #2:1@100x0.5 #3:3@100x1";
    QTest::newRow("expire_maker expires the maker and goes on")
        << selfSetup << "buy 1 100 1 maker"
        << "applied #4"
        << lines("accepted #4;trade #1<-#4 100x0.2 left 0/0.8;expired #2 stp 0.5;trade #3<-#4 100x0.8 left 0.2/0;"
                 "balance 1 BTC 11/0;balance 1 USD 9900/0;balance 2 BTC 9.8/0;balance 2 USD 10020/0;"
                 "balance 3 BTC 9/0.2;balance 3 USD 10080/0")
        << QStringList() << "bids | asks #3:3@100x0.2";
    QTest::newRow("expire_both expires both")
        << selfSetup << "buy 1 100 1 both"
        << "applied #4"
        << lines("accepted #4;trade #1<-#4 100x0.2 left 0/0.8;expired #2 stp 0.5;expired #4 stp 0.8;"
                 "balance 1 BTC 10.2/0;balance 1 USD 9980/0;balance 2 BTC 9.8/0;balance 2 USD 10020/0")
        << QStringList() << "bids | asks #3:3@100x1";
    QTest::newRow("stp none trades with itself")
        << selfSetup << "buy 1 100 1 none"
        << "applied #4"
        << lines("accepted #4;trade #1<-#4 100x0.2 left 0/0.8;trade #2<-#4 100x0.5 left 0/0.3;"
                 "trade #3<-#4 100x0.3 left 0.7/0;balance 1 BTC 10.5/0;balance 1 USD 9950/0;"
                 "balance 2 BTC 9.8/0;balance 2 USD 10020/0;balance 3 BTC 9/0.7;balance 3 USD 10030/0")
        << QStringList() << "bids | asks #3:3@100x0.7";

    // Market buys pay from available as they fill.
    QTest::newRow("market buy stops when funds run out")
        << "add BTC-USD BTC USD 1 0.1 0.1; dep 1 USD 150; dep 2 BTC 10; sell 2 100 1; sell 2 120 1"
        << "buy 1 mkt 2"
        << "applied #3"
        << lines("accepted #3;trade #1<-#3 100x1 left 0/1;trade #2<-#3 120x0.4 left 0.6/0.6;expired #3 funds 0.6;"
                 "balance 1 BTC 1.4/0;balance 1 USD 2/0;balance 2 BTC 8/0.6;balance 2 USD 148/0")
        << QStringList() << "bids | asks #2:2@120x0.6";
    QTest::newRow("market buy that cannot pay one lot")
        << "add BTC-USD BTC USD 1 0.1 0.1; dep 2 BTC 10; sell 2 100 1; dep 1 USD 5"
        << "buy 1 mkt 1"
        << "rejected insufficient_balance" << lines("rejected insufficient_balance USD 10/5") << QStringList()
        << kSameBook;
    QTest::newRow("market buy into an empty book")
        << "add BTC-USD BTC USD 1 0.1 0.1; dep 1 USD 100"
        << "buy 1 mkt 1"
        << "applied #1" << lines("accepted #1;expired #1 ioc 1") << lines("1 USD 100/0") << "bids | asks";

    // Amend.
    QTest::newRow("amend quantity down keeps priority")
        << funded("sell 2 100 1; sell 3 100 1") << "amend 2 1 - 0.5"
        << "applied #1" << lines("amended #1 100x0.5 left 0.5 kept;balance 2 BTC 9.5/0.5") << QStringList()
        << "bids | asks #1:2@100x0.5 #2:3@100x1";
    QTest::newRow("amend quantity up loses priority")
        << funded("sell 2 100 1; sell 3 100 1") << "amend 2 1 - 1.5"
        << "applied #1" << lines("amended #1 100x1.5 left 1.5 moved;balance 2 BTC 8.5/1.5") << QStringList()
        << "bids | asks #2:3@100x1 #1:2@100x1.5";
    QTest::newRow("amend to the same values keeps priority")
        << funded("sell 2 100 1; sell 3 100 1") << "amend 0 1 100 1"
        << "applied #1" << lines("amended #1 100x1 left 1 kept") << QStringList()
        << "bids | asks #1:2@100x1 #2:3@100x1";
    QTest::newRow("amend price goes to the back of the new level")
        << funded("sell 2 101 1; sell 3 100 1") << "amend 2 1 100 -"
        << "applied #1" << lines("amended #1 100x1 left 1 moved") << QStringList()
        << "bids | asks #2:3@100x1 #1:2@100x1";
    QTest::newRow("crossing amend matches")
        << funded("buy 1 99 1; sell 2 100 0.4") << "amend 1 1 101 -"
        << "applied #1"
        << lines("amended #1 101x1 left 1 moved;trade #2<-#1 100x0.4 left 0/0.6;balance 1 BTC 10.4/0;"
                 "balance 1 USD 9899.4/60.6;balance 2 BTC 9.6/0;balance 2 USD 10040/0")
        << QStringList() << "bids #1:1@101x0.6 | asks";
    QTest::newRow("crossing amend stopped by its own stp")
        << funded("buy 1 99 1; sell 1 100 0.4") << "amend 1 1 100 -"
        << "applied #1" << lines("amended #1 100x1 left 1 moved;expired #1 stp 1;balance 1 USD 10000/0")
        << QStringList() << "bids | asks #2:1@100x0.4";
    QTest::newRow("amend below what has filled")
        << funded("sell 2 100 1; buy 1 100 0.4") << "amend 2 1 - 0.4"
        << "rejected quantity_not_above_filled" << lines("rejected quantity_not_above_filled") << QStringList()
        << kSameBook;
    QTest::newRow("amend counts the filled part")
        << funded("sell 2 100 1; buy 1 100 0.4") << "amend 2 1 - 0.5"
        << "applied #1" << lines("amended #1 100x0.5 left 0.1 kept;balance 2 BTC 9.5/0.1") << QStringList()
        << "bids | asks #1:2@100x0.1";
    QTest::newRow("amend needs the extra reservation")
        << "add BTC-USD BTC USD 1 0.1 0.1; dep 1 USD 120; buy 1 100 1"
        << "amend 1 1 110 1.1"
        << "rejected insufficient_balance" << lines("rejected insufficient_balance USD 21/20") << QStringList()
        << kSameBook;
    QTest::newRow("amend of nothing") << funded("sell 2 100 1") << "amend 2 1 - -"
                                      << "rejected amend_changes_nothing" << lines("rejected amend_changes_nothing")
                                      << QStringList() << kSameBook;
    QTest::newRow("amend while halted") << funded("sell 2 100 1; halt BTC-USD") << "amend 2 1 0 -"
                                        << "rejected market_halted" << lines("rejected market_halted") << QStringList()
                                        << kSameBook;
    QTest::newRow("post-only amend that would cross")
        << funded("sell 2 100 1; buy 1 98 1 post") << "amend 1 2 100 -"
        << "rejected post_only_would_take" << lines("rejected post_only_would_take") << QStringList() << kSameBook;

    // Order entry checks, in their order.
    QTest::newRow("invalid account") << funded("") << "buy 0 100 1"
                                     << "rejected invalid_account" << lines("rejected invalid_account") << QStringList()
                                     << kSameBook;
    QTest::newRow("client order id invalid") << funded("") << "buy 1 100 1 id=a/b"
                                             << "rejected client_order_id_invalid"
                                             << lines("rejected client_order_id_invalid") << QStringList() << kSameBook;
    QTest::newRow("halted before a bad price")
        << funded("halt BTC-USD") << "buy 1 0 1"
        << "rejected market_halted" << lines("rejected market_halted") << QStringList() << kSameBook;
    QTest::newRow("unknown instrument") << funded("") << "buy 1 100 1 sym=NOPE"
                                        << "rejected unknown_instrument" << lines("rejected unknown_instrument")
                                        << QStringList() << kSameBook;
    QTest::newRow("limit without price") << funded("") << "buy 1 - 1"
                                         << "rejected price_required" << lines("rejected price_required")
                                         << QStringList() << kSameBook;
    QTest::newRow("market with price") << funded("") << "buy 1 100 1 market"
                                       << "rejected price_not_allowed" << lines("rejected price_not_allowed")
                                       << QStringList() << kSameBook;
    QTest::newRow("market gtc") << funded("") << "buy 1 mkt 1 gtc"
                                << "rejected time_in_force_invalid" << lines("rejected time_in_force_invalid")
                                << QStringList() << kSameBook;
    QTest::newRow("post-only ioc") << funded("") << "buy 1 99 1 ioc post"
                                   << "rejected post_only_invalid" << lines("rejected post_only_invalid")
                                   << QStringList() << kSameBook;
    QTest::newRow("price not positive") << funded("") << "sell 1 -1 0"
                                        << "rejected price_not_positive" << lines("rejected price_not_positive")
                                        << QStringList() << kSameBook;
    QTest::newRow("price off tick before quantity")
        << funded("") << "buy 1 100.5 0"
        << "rejected price_off_tick" << lines("rejected price_off_tick") << QStringList() << kSameBook;
    QTest::newRow("quantity not positive")
        << funded("") << "buy 1 100 0"
        << "rejected quantity_not_positive" << lines("rejected quantity_not_positive") << QStringList() << kSameBook;
    QTest::newRow("quantity off lot") << funded("") << "buy 1 100 0.15"
                                      << "rejected quantity_off_lot" << lines("rejected quantity_off_lot")
                                      << QStringList() << kSameBook;
    QTest::newRow("quantity below minimum")
        << funded("add ETH-USD ETH USD 0.5 0.1 0.5") << "buy 1 100 0.2 sym=ETH-USD"
        << "rejected quantity_below_minimum" << lines("rejected quantity_below_minimum") << QStringList() << kSameBook;
    QTest::newRow("notional overflow") << funded("") << "buy 1 90000000000 2"
                                       << "rejected notional_overflow" << lines("rejected notional_overflow")
                                       << QStringList() << kSameBook;
    QTest::newRow("limit buy short of quote")
        << "add BTC-USD BTC USD 1 0.1 0.1; dep 1 USD 50"
        << "buy 1 100 1"
        << "rejected insufficient_balance" << lines("rejected insufficient_balance USD 100/50") << QStringList()
        << kSameBook;
    QTest::newRow("sell short of base") << "add BTC-USD BTC USD 1 0.1 0.1; dep 1 USD 50"
                                        << "sell 1 100 1"
                                        << "rejected insufficient_balance"
                                        << lines("rejected insufficient_balance BTC 1/0") << QStringList() << kSameBook;
    QTest::newRow("post-only that would take")
        << funded("sell 2 100 1") << "buy 1 100 1 post"
        << "rejected post_only_would_take" << lines("rejected post_only_would_take") << QStringList() << kSameBook;
    QTest::newRow("post-only that rests") << funded("sell 2 100 1") << "buy 1 99 1 post"
                                          << "applied #2" << lines("accepted #2;balance 1 USD 9901/99") << QStringList()
                                          << "bids #2:1@99x1 | asks #1:2@100x1";

    // Client order ids.
    QTest::newRow("retry replays") << funded("buy 1 99 1 id=abc") << "buy 1 99 1 id=abc"
                                   << "replayed #1" << QStringList() << lines("1 USD 9901/99")
                                   << "bids #1:1@99x1 | asks";
    QTest::newRow("retry with the default spelled out") << funded("buy 1 99 1 id=abc") << "buy 1 99 1 gtc id=abc"
                                                        << "replayed #1" << QStringList() << QStringList() << kSameBook;
    QTest::newRow("retry while halted replays") << funded("buy 1 99 1 id=abc; halt BTC-USD") << "buy 1 99 1 id=abc"
                                                << "replayed #1" << QStringList() << QStringList() << kSameBook;
    QTest::newRow("retry after the fill replays") << funded("buy 1 99 1 id=abc; sell 2 99 1") << "buy 1 99 1 id=abc"
                                                  << "replayed #1" << QStringList() << QStringList() << "bids | asks";
    QTest::newRow("different payload") << funded("buy 1 99 1 id=abc") << "buy 1 99 2 id=abc"
                                       << "rejected client_order_id_reused" << lines("rejected client_order_id_reused")
                                       << QStringList() << kSameBook;
    QTest::newRow("same id, other account") << funded("buy 1 99 1 id=abc") << "buy 2 99 1 id=abc"
                                            << "applied #2" << lines("accepted #2;balance 2 USD 9901/99")
                                            << QStringList() << "bids #1:1@99x1 #2:2@99x1 | asks";
    QTest::newRow("remembered while open, however old")
        << funded("t=0 buy 1 99 1 id=abc") << "t=25h buy 1 99 2 id=abc"
        << "rejected client_order_id_reused" << lines("rejected client_order_id_reused") << QStringList() << kSameBook;
    QTest::newRow("remembered until 24 h after acceptance")
        << funded("t=0 buy 1 99 1 id=abc; t=1h cancel 1 1") << "t=86399999999999 buy 1 99 2 id=abc"
        << "rejected client_order_id_reused" << lines("rejected client_order_id_reused") << QStringList() << kSameBook;
    QTest::newRow("forgotten at 24 h once closed")
        << funded("t=0 buy 1 99 1 id=abc; t=1h cancel 1 1") << "t=24h buy 1 99 2 id=abc"
        << "applied #2" << lines("accepted #2;balance 1 USD 9802/198") << QStringList() << "bids #2:1@99x2 | asks";

    // Cancel and mass cancel.
    QTest::newRow("cancel of an id never issued")
        << funded("sell 2 100 1") << "cancel 2 2"
        << "rejected unknown_order" << lines("rejected unknown_order") << QStringList() << kSameBook;
    QTest::newRow("cancel of another account's order")
        << funded("sell 2 100 1") << "cancel 1 1"
        << "rejected unknown_order" << lines("rejected unknown_order") << QStringList() << kSameBook;
    QTest::newRow("cancel of a closed order")
        << funded("sell 2 100 1; cancel 2 1") << "cancel 1 1"
        << "rejected order_not_open" << lines("rejected order_not_open") << QStringList() << kSameBook;
    QTest::newRow("admin cancel while halted")
        << funded("sell 2 100 1; halt BTC-USD") << "cancel 0 1"
        << "applied #1" << lines("cancelled #1 requested 1;balance 2 BTC 10/0") << QStringList() << "bids | asks";
    const QString massSetup = funded("add ETH-USD ETH USD 1 0.1 0.1; dep 2 ETH 5; sell 2 100 1; buy 2 90 1;"
                                     "sell 3 101 1; sell 2 100 1 sym=ETH-USD");
    QTest::newRow("mass cancel of one account")
        << massSetup << "mass 2"
        << "applied affected=3"
        << lines("cancelled #1 mass 1;cancelled #2 mass 1;cancelled #4 mass 1;balance 2 BTC 10/0;"
                 "balance 2 USD 10000/0;balance 2 ETH 5/0")
        << QStringList() << "bids | asks #3:3@101x1";
    QTest::newRow("mass cancel of one instrument")
        << massSetup << "mass 0 BTC-USD"
        << "applied affected=3"
        << lines("cancelled #1 mass 1;cancelled #2 mass 1;cancelled #3 mass 1;balance 2 BTC 10/0;"
                 "balance 2 USD 10000/0;balance 3 BTC 10/0")
        << lines("2 ETH 4/1") << "bids | asks";
    QTest::newRow("mass cancel with nothing to cancel") << massSetup << "mass 1"
                                                        << "applied" << QStringList() << QStringList() << kSameBook;
    QTest::newRow("mass cancel of an unknown instrument")
        << massSetup << "mass 1 NOPE"
        << "rejected unknown_instrument" << lines("rejected unknown_instrument") << QStringList() << kSameBook;

    // Instrument status.
    QTest::newRow("kill switch") << funded("sell 2 100 1; buy 3 90 1") << "halt BTC-USD kill"
                                 << "applied affected=2"
                                 << lines("status 0 halted;cancelled #1 kill 1;cancelled #2 kill 1;"
                                          "balance 2 BTC 10/0;balance 3 USD 10000/0")
                                 << QStringList() << "bids | asks";
    QTest::newRow("status even when unchanged")
        << funded("sell 2 100 1") << "resume BTC-USD"
        << "applied" << lines("status 0 trading") << QStringList() << "bids | asks #1:2@100x1";
    QTest::newRow("status of an unknown instrument")
        << funded("") << "halt NOPE"
        << "rejected unknown_instrument" << lines("rejected unknown_instrument") << QStringList() << kSameBook;

    // Funds.
    QTest::newRow("deposit") << funded("") << "dep 4 USD 12.5"
                             << "applied" << lines("deposited 4 USD 12.5;balance 4 USD 12.5/0") << QStringList()
                             << kSameBook;
    QTest::newRow("withdraw") << funded("buy 1 100 10") << "wd 1 USD 9000"
                              << "applied" << lines("withdrawn 1 USD 9000;balance 1 USD 0/1000") << QStringList()
                              << kSameBook;
    QTest::newRow("withdraw beyond available")
        << funded("buy 1 100 10") << "wd 1 USD 9000.01"
        << "rejected insufficient_balance" << lines("rejected insufficient_balance USD 9000.01/9000") << QStringList()
        << kSameBook;
    QTest::newRow("deposit of an unknown asset")
        << funded("") << "dep 1 XYZ 1"
        << "rejected unknown_asset" << lines("rejected unknown_asset") << QStringList() << kSameBook;
    QTest::newRow("deposit of nothing") << funded("") << "dep 1 USD 0"
                                        << "rejected amount_not_positive" << lines("rejected amount_not_positive")
                                        << QStringList() << kSameBook;
    QTest::newRow("deposit to account 0")
        << funded("") << "dep 0 USD 1"
        << "rejected invalid_account" << lines("rejected invalid_account") << QStringList() << kSameBook;
    QTest::newRow("supply up to the limit")
        << "add BTC-USD BTC USD 1 0.1 0.1; dep 1 USD 92233720368.54775806"
        << "dep 2 USD 0.00000001"
        << "applied" << lines("deposited 2 USD 0.00000001;balance 2 USD 0.00000001/0") << QStringList() << kSameBook;
    QTest::newRow("supply past the limit")
        << "add BTC-USD BTC USD 1 0.1 0.1; dep 1 USD 92233720368.54775807"
        << "dep 2 USD 0.00000001"
        << "rejected supply_overflow" << lines("rejected supply_overflow") << QStringList() << kSameBook;

    // Instruments.
    QTest::newRow("lower-case symbol") << funded("") << "add btc-usd BTC USD 1 1 1"
                                       << "rejected symbol_invalid" << lines("rejected symbol_invalid") << QStringList()
                                       << kSameBook;
    QTest::newRow("symbol starting with a dash")
        << funded("") << "add -BTC BTC USD 1 1 1"
        << "rejected symbol_invalid" << lines("rejected symbol_invalid") << QStringList() << kSameBook;
    QTest::newRow("symbol checked before assets")
        << funded("") << "add bad a b 0 0 0"
        << "rejected symbol_invalid" << lines("rejected symbol_invalid") << QStringList() << kSameBook;
    QTest::newRow("same base and quote") << funded("") << "add X BTC BTC 1 1 1"
                                         << "rejected asset_invalid" << lines("rejected asset_invalid") << QStringList()
                                         << kSameBook;
    QTest::newRow("symbol taken") << funded("") << "add BTC-USD ETH USD 1 1 1"
                                  << "rejected instrument_exists" << lines("rejected instrument_exists")
                                  << QStringList() << kSameBook;
    QTest::newRow("zero tick") << funded("") << "add X A B 0 1 1"
                               << "rejected tick_size_invalid" << lines("rejected tick_size_invalid") << QStringList()
                               << kSameBook;
    QTest::newRow("zero lot") << funded("") << "add X A B 1 0 1"
                              << "rejected lot_size_invalid" << lines("rejected lot_size_invalid") << QStringList()
                              << kSameBook;
    QTest::newRow("minimum off lot") << funded("") << "add X A B 1 0.3 0.5"
                                     << "rejected min_quantity_invalid" << lines("rejected min_quantity_invalid")
                                     << QStringList() << kSameBook;
    QTest::newRow("precision too fine") << funded("") << "add X A B 0.00001 0.0001 0.0001"
                                        << "rejected precision_too_fine" << lines("rejected precision_too_fine")
                                        << QStringList() << kSameBook;
    QTest::newRow("new instrument, one new asset")
        << funded("") << "add ETH-BTC ETH BTC 0.00001 0.001 0.001"
        << "applied" << lines("instrument 1 ETH-BTC") << QStringList() << kSameBook;
}

void TestReference::scenarios()
{
    QFETCH(QString, setup);
    QFETCH(QString, command);
    QFETCH(QString, result);
    QFETCH(QStringList, events);
    QFETCH(QStringList, balances);
    QFETCH(QString, book);

    ReferenceVenue venue;
    std::vector<Event> out;
    for (const std::string &line : split(setup.toStdString(), ';')) {
        out.clear();
        const Seq before = venue.lastSeq();
        const CommandResult setupResult = venue.apply(parseCommand(line), out);
        if (!setupResult.ok())
            QFAIL(qPrintable(QStringLiteral("setup command '%1' was refused: %2")
                                 .arg(QString::fromStdString(line), describe(setupResult))));
        checkInvariants(venue, setupResult, out, before);
        if (QTest::currentTestFailed())
            return;
    }

    out.clear();
    const Seq before = venue.lastSeq();
    const CommandResult actual = venue.apply(parseCommand(command.toStdString()), out);
    checkInvariants(venue, actual, out, before);
    if (QTest::currentTestFailed())
        return;
    QStringList described;
    for (const Event &event : out)
        described << describe(venue, event);
    QCOMPARE(describe(actual), result);
    QCOMPARE(described, events);

    for (const QString &expected : balances) {
        const QStringList parts = expected.split(QLatin1Char(' '));
        QCOMPARE(parts.size(), 3);
        const std::optional<AssetId> asset = venue.findAsset(parts[1].toStdString());
        QVERIFY(asset);
        const BalanceView balance = venue.balance(parts[0].toULongLong(), *asset);
        QCOMPARE(QStringLiteral("%1/%2").arg(text(balance.available), text(balance.reserved)), parts[2]);
    }
    if (!book.isNull())
        QCOMPARE(describeBook(venue, 0), book);
}

void TestReference::timeNeverRunsBackwards()
{
    ReferenceVenue venue;
    std::vector<Event> out;
    venue.apply(parseCommand("t=5s add BTC-USD BTC USD 1 0.1 0.1"), out);
    venue.apply(parseCommand("t=3s dep 1 USD 1"), out);
    venue.apply(parseCommand("t=4s dep 1 XYZ 1"), out);
    venue.apply(parseCommand("t=7s dep 1 USD 1"), out);
    const std::vector<TimeNs> expected{5'000'000'000, 5'000'000'000, 5'000'000'000,
                                       5'000'000'000, 7'000'000'000, 7'000'000'000};
    QCOMPARE(out.size(), expected.size());
    for (std::size_t i = 0; i < out.size(); ++i) {
        QCOMPARE(out[i].seq, Seq(i + 1));
        QCOMPARE(out[i].time, expected[i]);
    }
    QCOMPARE(venue.lastTime(), TimeNs(7'000'000'000));
}

void TestReference::stateHashFollowsState()
{
    auto build = [](const QString &script) {
        auto venue = std::make_unique<ReferenceVenue>();
        std::vector<Event> out;
        for (const std::string &line : split(script.toStdString(), ';'))
            venue->apply(parseCommand(line), out);
        return venue;
    };
    const auto a = build(funded("sell 2 100 1; buy 1 99 1 id=x"));
    const auto b = build(funded("sell 2 100 1; buy 1 99 1 id=x"));
    QCOMPARE(a->stateHash(), b->stateHash());

    const QStringList differentTails{
        "sell 2 100 1; buy 1 99 1 id=y",         // client order id text
        "sell 2 100 1; buy 1 99 1",              // no client order id
        "sell 2 100 1; buy 1 98 1 id=x",         // price
        "sell 2 100 1; buy 3 99 1 id=x",         // account
        "sell 2 100 1; buy 1 99 1 id=x post",    // post-only
        "sell 2 100 1; buy 1 99 1 id=x maker",   // stp
        "sell 2 100 1; buy 1 99 1 id=x; halt X", // one more (rejected) event
    };
    for (const QString &tail : differentTails)
        QVERIFY2(build(funded(tail))->stateHash() != a->stateHash(), qPrintable(tail));
}

void TestReference::clientOrderIdsAreForgottenOnlyWhenClosedAndOld()
{
    ReferenceVenue venue;
    std::vector<Event> out;
    for (const std::string &line :
         split(funded("t=0 buy 1 99 1 id=a; t=0 buy 1 98 1 id=b; t=1h cancel 1 2").toStdString(), ';'))
        QVERIFY(venue.apply(parseCommand(line), out).ok());
    QCOMPARE(venue.rememberedClientOrderIdCount(), std::size_t(2));
    // Any command at 24 h forgets b (closed, old) but not a (open); a goes once it closes.
    venue.apply(parseCommand("t=24h dep 1 XYZ 1"), out);
    QCOMPARE(venue.rememberedClientOrderIdCount(), std::size_t(1));
    QVERIFY(venue.apply(parseCommand("t=1s cancel 1 1"), out).ok());
    QCOMPARE(venue.rememberedClientOrderIdCount(), std::size_t(0));
}

QTEST_GUILESS_MAIN(TestReference)
#include "tst_reference.moc"
