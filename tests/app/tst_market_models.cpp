// The workspace's market models against a real venue, each under QAbstractItemModelTester: the watchlist
// (filter, live last price, 24 h change, a halted instrument), the depth ladder (exact rows, own orders, the
// diff and its batching under 200 quick orders, depth bounds) and the tape (newest first, the first page,
// capped at 500). Bad input: an unknown symbol empties the ladder and the tape (the watchlist keeps its rows
// and selects none); a depth of 0 or less is clamped to 1, more than 200 to 200.
#include "desk_fixture.h"
#include "order_book_model.h"
#include "trade_tape_model.h"
#include "watchlist_model.h"

#include <QAbstractItemModelTester>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTest>

using bourse::app::Desk;
using bourse::app::MarketPulse;
using bourse::app::OrderBookModel;
using bourse::app::TradeTapeModel;
using bourse::app::WatchlistModel;
using bourse::test::DeskFixture;
namespace server = bourse::server;

namespace {

constexpr auto kFatal = QAbstractItemModelTester::FailureReportingMode::Fatal;

bourse::Decimal dec(const char *text)
{
    return bourse::Decimal::parse(text).valueOr(bourse::Decimal());
}

QString str(const QAbstractItemModel &model, int row, int role)
{
    return model.data(model.index(row, 0), role).toString();
}

} // namespace

class tst_MarketModels final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void watchlistRowsAndFilter_data();
    void watchlistRowsAndFilter();
    void watchlistSelects();
    void ladderRows();
    void ladderDiffIsBatched();
    void ladderDepthBounds_data();
    void ladderDepthBounds();
    void tapeNewestFirstAndCapped();
    void watchlistLivePriceAndChange();
    void haltedInstrument();
    void unknownSymbol();

private:
    // Places a limit order as the Desk's user; waits for the answer, and says whether it was accepted.
    bool place(const char *symbol, bourse::Side side, const char *price, const char *quantity);
    // Starts one without waiting; `answered` counts the answers.
    void placeAsync(const char *symbol, bourse::Side side, const char *price, const char *quantity, int &answered);
    QByteArray order(const char *side, const char *price, const char *quantity, const char *symbol);

    std::unique_ptr<DeskFixture> m_fixture;
    std::unique_ptr<bourse::test::ApiClient> m_maker; // another trader, over HTTP
    std::vector<bourse::OrderId> m_deskOrders;
};

void tst_MarketModels::initTestCase()
{
    m_fixture = DeskFixture::start();
    QVERIFY(m_fixture);
    QVERIFY(m_fixture->addUser(QStringLiteral("desker"), {{"USD", "10000000"}, {"BTC", "1000"}, {"ETH", "1000"},
                                                          {"XAU", "1000"}}));
    QVERIFY(m_fixture->addUser(QStringLiteral("maker"), {{"USD", "10000000"}, {"BTC", "1000"}, {"ETH", "1000"},
                                                         {"XAU", "100000"}}));
    QVERIFY(m_fixture->signIn(QStringLiteral("desker")));
    m_maker = m_fixture->client(QStringLiteral("maker"));
    QVERIFY(m_maker);
}

void tst_MarketModels::cleanupTestCase()
{
    m_maker.reset();
    m_fixture.reset();
}

QByteArray tst_MarketModels::order(const char *side, const char *price, const char *quantity, const char *symbol)
{
    return QStringLiteral(R"({"symbol":"%1","side":"%2","type":"limit","price":"%3","quantity":"%4"})")
        .arg(QLatin1StringView(symbol), QLatin1StringView(side), QLatin1StringView(price), QLatin1StringView(quantity))
        .toUtf8();
}

void tst_MarketModels::placeAsync(const char *symbol, bourse::Side side, const char *price, const char *quantity,
                                  int &answered)
{
    bourse::PlaceOrder command;
    command.symbol = bourse::Symbol(std::string_view(symbol));
    command.side = side;
    command.type = bourse::OrderType::Limit;
    command.price = dec(price);
    command.quantity = dec(quantity);
    m_fixture->desk().call<server::PlacedOrder>(
        this,
        [command](server::VenueService &service, const server::Caller &caller, server::Reply<server::PlacedOrder> reply) {
            service.placeOrder(caller, command, std::move(reply));
        },
        [this, &answered](server::ServiceResult<server::PlacedOrder> result) {
            ++answered;
            if (result)
                m_deskOrders.push_back(result->order.id);
            else
                qWarning("order refused: %s", qPrintable(result.error().message));
        });
}

bool tst_MarketModels::place(const char *symbol, bourse::Side side, const char *price, const char *quantity)
{
    int answered = 0;
    const std::size_t before = m_deskOrders.size();
    placeAsync(symbol, side, price, quantity, answered);
    return QTest::qWaitFor([&] { return answered == 1; }, 10'000) && m_deskOrders.size() == before + 1;
}

void tst_MarketModels::watchlistRowsAndFilter_data()
{
    QTest::addColumn<QString>("filter");
    QTest::addColumn<QStringList>("symbols");
    QTest::newRow("none") << QString() << QStringList{"BTC-USD", "ETH-USD", "XAU-USD"};
    QTest::newRow("symbol, any case") << QStringLiteral("eTh") << QStringList{"ETH-USD"};
    QTest::newRow("quote asset") << QStringLiteral("usd") << QStringList{"BTC-USD", "ETH-USD", "XAU-USD"};
    QTest::newRow("base asset") << QStringLiteral("xau") << QStringList{"XAU-USD"};
    QTest::newRow("spaces around") << QStringLiteral("  btc ") << QStringList{"BTC-USD"};
    QTest::newRow("no match: no rows") << QStringLiteral("DOGE") << QStringList{};
}

void tst_MarketModels::watchlistRowsAndFilter()
{
    QFETCH(QString, filter);
    QFETCH(QStringList, symbols);
    WatchlistModel model;
    QAbstractItemModelTester tester(&model, kFatal);
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(str(model, 0, WatchlistModel::StatusRole), QStringLiteral("trading"));
    QCOMPARE(str(model, 0, WatchlistModel::TickSizeRole), QStringLiteral("0.01"));
    QCOMPARE(str(model, 0, WatchlistModel::LotSizeRole), QStringLiteral("0.0001"));
    QCOMPARE(str(model, 0, WatchlistModel::BaseRole), QStringLiteral("BTC"));
    QCOMPARE(str(model, 0, WatchlistModel::QuoteRole), QStringLiteral("USD"));
    model.setFilter(filter);
    QStringList shown;
    for (int row = 0; row < model.rowCount(); ++row)
        shown << str(model, row, WatchlistModel::SymbolRole);
    QCOMPARE(shown, symbols);
    QCOMPARE(model.count(), int(symbols.size()));
}

void tst_MarketModels::watchlistSelects()
{
    Desk &desk = m_fixture->desk();
    WatchlistModel model;
    QAbstractItemModelTester tester(&model, kFatal);
    QSignalSpy selected(&model, &WatchlistModel::selectedRowChanged);
    model.select(1);
    QCOMPARE(desk.selectedSymbol(), QStringLiteral("ETH-USD"));
    QCOMPARE(model.selectedRow(), 1);
    QVERIFY(!selected.isEmpty());
    // Bad input: a row out of range selects nothing new.
    model.select(7);
    model.select(-1);
    QCOMPARE(desk.selectedSymbol(), QStringLiteral("ETH-USD"));
    // Filtered out: no row is selected, the desk keeps its symbol.
    model.setFilter(QStringLiteral("btc"));
    QCOMPARE(model.selectedRow(), -1);
    model.select(0);
    QCOMPARE(desk.selectedSymbol(), QStringLiteral("BTC-USD"));
    QCOMPARE(model.selectedRow(), 0);
    QCOMPARE(model.rowOf(QStringLiteral("ETH-USD")), -1);
}

void tst_MarketModels::ladderRows()
{
    Desk &desk = m_fixture->desk();
    desk.setSelectedSymbol(QStringLiteral("ETH-USD"));
    OrderBookModel ladder;
    QAbstractItemModelTester tester(&ladder, kFatal);
    ladder.setDepth(3);
    QCOMPARE(ladder.rowCount(), 6);
    QCOMPARE(ladder.symbol(), QStringLiteral("ETH-USD"));
    QCOMPARE(ladder.bestBid(), QString()); // an empty book
    QCOMPARE(ladder.spread(), QString());

    QVERIFY(place("ETH-USD", bourse::Side::Sell, "2001", "1.5"));
    const bourse::OrderId bestAskOrder = m_deskOrders.back();
    QVERIFY(place("ETH-USD", bourse::Side::Sell, "2002", "2"));
    QVERIFY(place("ETH-USD", bourse::Side::Buy, "1999", "4"));
    QVERIFY(place("ETH-USD", bourse::Side::Buy, "1998", "6"));
    QTRY_COMPARE(ladder.bestBid(), QStringLiteral("1999.00"));
    QTRY_COMPARE(str(ladder, 4, OrderBookModel::PriceRole), QStringLiteral("1998.00"));

    // Asks with the highest on top and a blank far row; bids best first; totals from the spread outwards.
    const QStringList prices{"", "2002.00", "2001.00", "1999.00", "1998.00", ""};
    const QStringList sizes{"", "2.000", "1.500", "4.000", "6.000", ""};
    const QStringList totals{"", "3.500", "1.500", "4.000", "10.000", ""};
    const QStringList sides{"sell", "sell", "sell", "buy", "buy", "buy"};
    for (int row = 0; row < 6; ++row) {
        QCOMPARE(str(ladder, row, OrderBookModel::PriceRole), prices[row]);
        QCOMPARE(str(ladder, row, OrderBookModel::SizeRole), sizes[row]);
        QCOMPARE(str(ladder, row, OrderBookModel::CumulativeRole), totals[row]);
        QCOMPARE(str(ladder, row, OrderBookModel::SideRole), sides[row]);
        QCOMPARE(ladder.data(ladder.index(row), OrderBookModel::BlankRole).toBool(), prices[row].isEmpty());
        // Every level is the desk user's own.
        QCOMPARE(str(ladder, row, OrderBookModel::OwnSizeRole), sizes[row]);
        QCOMPARE(ladder.data(ladder.index(row), OrderBookModel::IsOwnRole).toBool(), !prices[row].isEmpty());
    }
    QCOMPARE(str(ladder, 1, OrderBookModel::TicketSideRole), QStringLiteral("buy"));
    QCOMPARE(str(ladder, 3, OrderBookModel::TicketSideRole), QStringLiteral("sell"));
    QCOMPARE(ladder.data(ladder.index(4), OrderBookModel::DepthRatioRole).toDouble(), 1.0);
    QCOMPARE(ladder.data(ladder.index(1), OrderBookModel::DepthRatioRole).toDouble(), 0.35);
    QCOMPARE(ladder.bestAsk(), QStringLiteral("2001.00"));
    QCOMPARE(ladder.spread(), QStringLiteral("2.00"));
    QCOMPARE(ladder.mid(), QStringLiteral("2000.00"));
    QCOMPARE(ladder.maxCumulative(), QStringLiteral("10.000"));

    // Another trader adds to the second ask: that one row changes, in one signal, and it is partly own.
    QSignalSpy changed(&ladder, &QAbstractItemModel::dataChanged);
    QSignalSpy inserted(&ladder, &QAbstractItemModel::rowsInserted);
    QCOMPARE(m_maker->post("/api/v1/orders", order("sell", "2002", "1", "ETH-USD")).status, 201);
    QTRY_COMPARE(str(ladder, 1, OrderBookModel::SizeRole), QStringLiteral("3.000"));
    QCOMPARE(changed.size(), 1);
    QCOMPARE(changed.at(0).at(0).toModelIndex().row(), 1);
    QCOMPARE(changed.at(0).at(1).toModelIndex().row(), 1);
    QCOMPARE(inserted.size(), 0);
    QCOMPARE(str(ladder, 1, OrderBookModel::CumulativeRole), QStringLiteral("4.500"));
    QCOMPARE(str(ladder, 1, OrderBookModel::OwnSizeRole), QStringLiteral("2.000"));

    // The desk user cancels the best ask: the other ask moves next to the spread, own marks follow.
    std::optional<server::ServiceResult<bourse::sql::OrderRecord>> cancelled;
    desk.call<bourse::sql::OrderRecord>(
        this,
        [bestAskOrder](server::VenueService &service, const server::Caller &caller,
                       server::Reply<bourse::sql::OrderRecord> reply) {
            service.cancelOrder(caller, bestAskOrder, std::move(reply));
        },
        [&](server::ServiceResult<bourse::sql::OrderRecord> result) { cancelled = result; });
    QTRY_VERIFY(cancelled.has_value());
    QVERIFY(cancelled->hasValue());
    QTRY_COMPARE(ladder.bestAsk(), QStringLiteral("2002.00"));
    QCOMPARE(str(ladder, 2, OrderBookModel::PriceRole), QStringLiteral("2002.00"));
    QCOMPARE(str(ladder, 2, OrderBookModel::CumulativeRole), QStringLiteral("3.000"));
    QCOMPARE(str(ladder, 2, OrderBookModel::OwnSizeRole), QStringLiteral("2.000"));
    QCOMPARE(str(ladder, 1, OrderBookModel::PriceRole), QString());
    QCOMPARE(str(ladder, 1, OrderBookModel::OwnSizeRole), QString());
    QCOMPARE(ladder.spread(), QStringLiteral("3.00"));
    QCOMPARE(ladder.mid(), QStringLiteral("2000.50"));
    QCOMPARE(inserted.size(), 0);

    // A ladder made later reads the same book and own orders at once.
    OrderBookModel later;
    QAbstractItemModelTester laterTester(&later, kFatal);
    QCOMPARE(later.rowCount(), 2 * OrderBookModel::kDefaultDepth);
    QTRY_COMPARE(later.bestAsk(), QStringLiteral("2002.00"));
    const int bestAskRow = OrderBookModel::kDefaultDepth - 1;
    QCOMPARE(str(later, bestAskRow, OrderBookModel::PriceRole), QStringLiteral("2002.00"));
    QCOMPARE(str(later, bestAskRow, OrderBookModel::OwnSizeRole), QStringLiteral("2.000"));
    QCOMPARE(str(later, bestAskRow + 2, OrderBookModel::PriceRole), QStringLiteral("1998.00"));
}

void tst_MarketModels::ladderDiffIsBatched()
{
    Desk &desk = m_fixture->desk();
    desk.setSelectedSymbol(QStringLiteral("BTC-USD"));
    OrderBookModel ladder;
    QAbstractItemModelTester tester(&ladder, kFatal);
    QCOMPARE(ladder.rowCount(), 30);
    QSignalSpy changed(&ladder, &QAbstractItemModel::dataChanged);
    QSignalSpy inserted(&ladder, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&ladder, &QAbstractItemModel::rowsRemoved);
    QSignalSpy reset(&ladder, &QAbstractItemModel::modelReset);
    int pulses = 0;
    const QMetaObject::Connection counting
        = connect(&desk, &Desk::pulse, this, [&pulses](const MarketPulse &pulse) { pulses += pulse.watchedBook ? 1 : 0; });

    // 200 orders at once on 40 levels a side, none crossing.
    constexpr int kOrders = 200;
    int answered = 0;
    std::vector<QByteArray> prices;
    for (int i = 0; i < kOrders; ++i) {
        const bool buy = i % 2 == 0;
        const int level = (i / 2) % 40;
        prices.push_back(QByteArray::number(buy ? 100 - level : 200 + level) + ".00");
        placeAsync("BTC-USD", buy ? bourse::Side::Buy : bourse::Side::Sell, prices.back().constData(), "0.0100",
                   answered);
    }
    QTRY_COMPARE_WITH_TIMEOUT(answered, kOrders, 30'000);
    // Each level got 2 or 3 orders of 0.01: the deepest shown level (15th) is 86.00 on the bid side.
    QTRY_COMPARE(str(ladder, 29, OrderBookModel::PriceRole), QStringLiteral("86.00"));
    QTRY_COMPARE(str(ladder, 15, OrderBookModel::SizeRole), QStringLiteral("0.0300"));
    QCOMPARE(str(ladder, 15, OrderBookModel::PriceRole), QStringLiteral("100.00"));
    QCOMPARE(str(ladder, 14, OrderBookModel::PriceRole), QStringLiteral("200.00"));
    QCOMPARE(str(ladder, 0, OrderBookModel::PriceRole), QStringLiteral("214.00"));
    QCOMPARE(str(ladder, 29, OrderBookModel::CumulativeRole), QStringLiteral("0.4500"));
    QCOMPARE(str(ladder, 14, OrderBookModel::OwnSizeRole), QStringLiteral("0.0300"));
    disconnect(counting);

    qInfo("%d orders: %d pulses with the book, %lld dataChanged", kOrders, pulses, qlonglong(changed.size()));
    // Fixed depth: rows change in place, never inserted, removed or reset.
    QCOMPARE(inserted.size(), 0);
    QCOMPARE(removed.size(), 0);
    QCOMPARE(reset.size(), 0);
    // Batched: one pulse gives at most the two runs of a ladder (asks, bids); the pulses are far fewer than
    // the orders, since the desk takes at most one per display frame.
    QVERIFY(pulses >= 1);
    QVERIFY2(changed.size() <= 2 * pulses, qPrintable(QStringLiteral("%1 > 2 × %2").arg(changed.size()).arg(pulses)));
    QVERIFY2(pulses < kOrders / 4, qPrintable(QString::number(pulses)));
}

void tst_MarketModels::ladderDepthBounds_data()
{
    QTest::addColumn<int>("depth");
    QTest::addColumn<int>("expected");
    QTest::newRow("default") << 15 << 15;
    QTest::newRow("one") << 1 << 1;
    QTest::newRow("zero: clamped to 1") << 0 << 1;
    QTest::newRow("negative: clamped to 1") << -5 << 1;
    QTest::newRow("the tap's 200") << 200 << 200;
    QTest::newRow("beyond: clamped to 200") << 1000 << 200;
}

void tst_MarketModels::ladderDepthBounds()
{
    QFETCH(int, depth);
    QFETCH(int, expected);
    m_fixture->desk().setSelectedSymbol(QStringLiteral("BTC-USD"));
    OrderBookModel ladder;
    QAbstractItemModelTester tester(&ladder, kFatal);
    QTRY_COMPARE(ladder.bestBid(), QStringLiteral("100.00"));
    ladder.setDepth(depth);
    QCOMPARE(ladder.depth(), expected);
    QCOMPARE(ladder.rowCount(), 2 * expected);
    // Nearest the middle: the best ask, then the best bid, whatever the depth.
    QCOMPARE(str(ladder, expected - 1, OrderBookModel::PriceRole), QStringLiteral("200.00"));
    QCOMPARE(str(ladder, expected, OrderBookModel::PriceRole), QStringLiteral("100.00"));
}

void tst_MarketModels::tapeNewestFirstAndCapped()
{
    Desk &desk = m_fixture->desk();
    desk.setSelectedSymbol(QStringLiteral("XAU-USD"));
    TradeTapeModel tape;
    QAbstractItemModelTester tester(&tape, kFatal);
    QTRY_VERIFY(!tape.loading());
    QCOMPARE(tape.rowCount(), 0);

    // The maker rests an offer; the desk user lifts all of it in 520 trades, 130 at a time.
    QCOMPARE(m_maker->post("/api/v1/orders", order("sell", "1900", "5.2", "XAU-USD")).status, 201);
    QSignalSpy inserted(&tape, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&tape, &QAbstractItemModel::rowsRemoved);
    int pulses = 0;
    const QMetaObject::Connection counting = connect(&desk, &Desk::pulse, this, [&pulses](const MarketPulse &pulse) {
        pulses += pulse.trades.empty() ? 0 : 1;
    });
    for (int round = 0; round < 4; ++round) {
        int answered = 0;
        for (int i = 0; i < 130; ++i)
            placeAsync("XAU-USD", bourse::Side::Buy, "1900", "0.01", answered);
        QTRY_COMPARE_WITH_TIMEOUT(answered, 130, 30'000);
        QTRY_COMPARE(tape.rowCount(), std::min(500, 130 * (round + 1)));
    }
    disconnect(counting);
    QCOMPARE(tape.rowCount(), 500);
    // One insert per pulse with trades, and the oldest went in batches, not one by one.
    QVERIFY2(inserted.size() <= pulses, qPrintable(QStringLiteral("%1 > %2").arg(inserted.size()).arg(pulses)));
    QVERIFY(removed.size() >= 1 && removed.size() <= inserted.size());

    const QRegularExpression time(QStringLiteral(R"(^\d\d:\d\d:\d\d\.\d\d\d$)"));
    for (int row = 0; row < tape.rowCount(); ++row) {
        if (row > 0)
            QVERIFY(tape.data(tape.index(row - 1), TradeTapeModel::TradeIdRole).toLongLong()
                    > tape.data(tape.index(row), TradeTapeModel::TradeIdRole).toLongLong());
        QVERIFY(time.match(str(tape, row, TradeTapeModel::TimeRole)).hasMatch());
    }
    QCOMPARE(str(tape, 0, TradeTapeModel::PriceRole), QStringLiteral("1900.00"));
    QCOMPARE(str(tape, 0, TradeTapeModel::SizeRole), QStringLiteral("0.01"));
    QCOMPARE(str(tape, 0, TradeTapeModel::SideRole), QStringLiteral("buy")); // the taker bought
    const qint64 newest = tape.data(tape.index(0), TradeTapeModel::TradeIdRole).toLongLong();
    QCOMPARE(tape.data(tape.index(499), TradeTapeModel::TradeIdRole).toLongLong(), newest - 499);

    // A new selection resets; coming back reads the newest 100 from the trades.
    QSignalSpy resets(&tape, &QAbstractItemModel::modelReset);
    desk.setSelectedSymbol(QStringLiteral("ETH-USD"));
    QCOMPARE(tape.rowCount(), 0);
    desk.setSelectedSymbol(QStringLiteral("XAU-USD"));
    QTRY_COMPARE(tape.rowCount(), 100);
    QVERIFY(resets.size() >= 2);
    QCOMPARE(tape.data(tape.index(0), TradeTapeModel::TradeIdRole).toLongLong(), newest);
    QCOMPARE(tape.data(tape.index(99), TradeTapeModel::TradeIdRole).toLongLong(), newest - 99);
    QCOMPARE(str(tape, 99, TradeTapeModel::SideRole), QStringLiteral("buy"));
}

void tst_MarketModels::watchlistLivePriceAndChange()
{
    WatchlistModel model;
    QAbstractItemModelTester tester(&model, kFatal);
    const int xau = model.rowOf(QStringLiteral("XAU-USD"));
    const int btc = model.rowOf(QStringLiteral("BTC-USD"));
    QVERIFY(xau >= 0 && btc >= 0);
    // From the ticker at start: the tape test's trades.
    QTRY_COMPARE(str(model, xau, WatchlistModel::LastPriceRole), QStringLiteral("1900.00"));
    QTRY_COMPARE(str(model, xau, WatchlistModel::Volume24hRole), QStringLiteral("5.20"));
    QCOMPARE(str(model, xau, WatchlistModel::Change24hRole), QStringLiteral("0.00%"));
    QCOMPARE(model.data(model.index(xau), WatchlistModel::ChangeDirectionRole).toInt(), 0);
    QCOMPARE(str(model, btc, WatchlistModel::LastPriceRole), QString()); // never traded
    QCOMPARE(str(model, btc, WatchlistModel::Change24hRole), QString());

    // A trade 1 % higher: the last price moves with the pulse, the change follows.
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    QCOMPARE(m_maker->post("/api/v1/orders", order("sell", "1919", "1", "XAU-USD")).status, 201);
    QVERIFY(place("XAU-USD", bourse::Side::Buy, "1919", "0.5"));
    QTRY_COMPARE(str(model, xau, WatchlistModel::LastPriceRole), QStringLiteral("1919.00"));
    QCOMPARE(str(model, xau, WatchlistModel::Change24hRole), QStringLiteral("+1.00%"));
    QCOMPARE(model.data(model.index(xau), WatchlistModel::ChangeDirectionRole).toInt(), 1);
    QVERIFY(!changed.isEmpty());
    QTRY_COMPARE(str(model, xau, WatchlistModel::Volume24hRole), QStringLiteral("5.70")); // the next ticker read

    // And lower than the open: negative.
    QCOMPARE(m_maker->post("/api/v1/orders", order("buy", "1880.95", "1", "XAU-USD")).status, 201);
    QVERIFY(place("XAU-USD", bourse::Side::Sell, "1880.95", "0.25"));
    QTRY_COMPARE(str(model, xau, WatchlistModel::LastPriceRole), QStringLiteral("1880.95"));
    QCOMPARE(str(model, xau, WatchlistModel::Change24hRole), QStringLiteral("-1.00%"));
    QCOMPARE(model.data(model.index(xau), WatchlistModel::ChangeDirectionRole).toInt(), -1);
}

void tst_MarketModels::haltedInstrument()
{
    WatchlistModel model;
    QAbstractItemModelTester tester(&model, kFatal);
    const int xau = model.rowOf(QStringLiteral("XAU-USD"));
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    // An admin halts it over the API; the row stays and says so.
    QCOMPARE(m_fixture->admin()
                 .request("PATCH", "/admin/instruments/XAU-USD", R"({"status":"halted"})")
                 .status,
             200);
    QTRY_COMPARE(str(model, xau, WatchlistModel::StatusRole), QStringLiteral("halted"));
    QCOMPARE(reset.size(), 0);
    QVERIFY(!changed.isEmpty());
    QCOMPARE(str(model, model.rowOf(QStringLiteral("BTC-USD")), WatchlistModel::StatusRole), QStringLiteral("trading"));
    QCOMPARE(m_fixture->admin()
                 .request("PATCH", "/admin/instruments/XAU-USD", R"({"status":"trading"})")
                 .status,
             200);
    QTRY_COMPARE(str(model, xau, WatchlistModel::StatusRole), QStringLiteral("trading"));
}

void tst_MarketModels::unknownSymbol()
{
    Desk &desk = m_fixture->desk();
    desk.setSelectedSymbol(QStringLiteral("BTC-USD"));
    WatchlistModel watchlist;
    OrderBookModel ladder;
    TradeTapeModel tape;
    QAbstractItemModelTester watchlistTester(&watchlist, kFatal);
    QAbstractItemModelTester ladderTester(&ladder, kFatal);
    QAbstractItemModelTester tapeTester(&tape, kFatal);
    QTRY_COMPARE(ladder.bestBid(), QStringLiteral("100.00"));

    // Bad input: a symbol the venue does not list — the ladder and the tape empty, nothing selected.
    desk.setSelectedSymbol(QStringLiteral("NOPE-USD"));
    QCOMPARE(ladder.rowCount(), 0);
    QCOMPARE(ladder.bestBid(), QString());
    QCOMPARE(ladder.bestAsk(), QString());
    QCOMPARE(ladder.spread(), QString());
    QCOMPARE(ladder.mid(), QString());
    QCOMPARE(ladder.maxCumulative(), QString());
    QCOMPARE(ladder.symbol(), QString());
    QCOMPARE(tape.rowCount(), 0);
    QVERIFY(!tape.loading());
    QCOMPARE(watchlist.rowCount(), 3);
    QCOMPARE(watchlist.selectedRow(), -1);
    // The market moves meanwhile: still nothing shown, nothing breaks.
    int pulses = 0;
    const QMetaObject::Connection counting
        = connect(&desk, &Desk::pulse, this, [&pulses](const MarketPulse &) { ++pulses; });
    QVERIFY(place("BTC-USD", bourse::Side::Buy, "99", "0.01"));
    QTRY_VERIFY(pulses > 0); // the order's pulse came, and changed nothing
    disconnect(counting);
    QCOMPARE(ladder.rowCount(), 0);
    QCOMPARE(tape.rowCount(), 0);
    ladder.setDepth(5);
    QCOMPARE(ladder.rowCount(), 0);
    // An empty symbol too.
    desk.setSelectedSymbol(QString());
    QCOMPARE(ladder.rowCount(), 0);
    // Back to a real one: the ladder fills again.
    desk.setSelectedSymbol(QStringLiteral("BTC-USD"));
    QCOMPARE(ladder.rowCount(), 10);
    QTRY_COMPARE(ladder.bestBid(), QStringLiteral("100.00"));
    QCOMPARE(watchlist.selectedRow(), 0);
}

QTEST_GUILESS_MAIN(tst_MarketModels)
#include "tst_market_models.moc"
