// The order ticket and the account models against a whole real venue (DeskFixture): every bad input the
// ticket refuses gets the API's own message and sends nothing; an order placed from the ticket reaches the
// open orders and the balances; the engine's refusals, an amend of an order that filled meanwhile, cancel
// and cancel-all; and a burst of orders and fills costs the models a few signals, not one per event. Every
// model runs under QAbstractItemModelTester.
#include "balances_model.h"
#include "desk_fixture.h"
#include "fills_model.h"
#include "order_ticket.h"
#include "orders_model.h"

#include <QAbstractItemModelTester>
#include <QFile>
#include <QJsonArray>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using bourse::app::BalancesModel;
using bourse::app::Desk;
using bourse::app::FillsModel;
using bourse::app::OrdersModel;
using bourse::app::OrderTicket;
using bourse::test::ApiClient;
using bourse::test::DeskFixture;

namespace {

constexpr auto Fatal = QAbstractItemModelTester::FailureReportingMode::Fatal;

// The model's rows as role name → text, for comparisons.
QString cell(const QAbstractItemModel &model, int row, const QByteArray &role)
{
    const int key = model.roleNames().key(role, -1);
    return model.data(model.index(row, 0), key).toString();
}

int rowOf(const QAbstractItemModel &model, const QByteArray &role, const QString &value)
{
    for (int row = 0; row < model.rowCount(); ++row) {
        if (cell(model, row, role) == value)
            return row;
    }
    return -1;
}

} // namespace

class TicketModelsTest final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void validation_data();
    void validation();
    void stepsAndCurl();
    void submitReachesOpenOrders();
    void engineRejectionShown();
    void journalDownDisablesTrading();
    void haltedWhileOpen();
    void amendOfFilledOrder();
    void cancelAndCancelAll();
    void burstsAreBatched();
    void exportCsv();
    void viewerCannotSubmit();

private:
    // Alice's orders of every status, as the API counts them.
    qint64 ordersPlaced();
    void placeAs(ApiClient &client, const QString &symbol, const QString &side, const QString &price,
                 const QString &quantity);

    std::unique_ptr<DeskFixture> m_fixture;
    std::unique_ptr<ApiClient> m_alice;
    std::unique_ptr<ApiClient> m_bob; // the other side of alice's trades
    std::unique_ptr<OrderTicket> m_ticket;
    std::unique_ptr<OrdersModel> m_open;
    std::unique_ptr<OrdersModel> m_history;
    std::unique_ptr<FillsModel> m_fills;
    std::unique_ptr<BalancesModel> m_balances;
    std::vector<std::unique_ptr<QAbstractItemModelTester>> m_testers;
};

void TicketModelsTest::initTestCase()
{
    m_fixture = DeskFixture::start();
    QVERIFY(m_fixture);
    ApiClient &admin = m_fixture->admin();
    // An instrument whose minimum is above its lot, and one that is halted.
    QCOMPARE(admin.post("/admin/instruments", R"({"symbol":"TST-USD","base":"TST","quote":"USD","tick_size":"0.5",)"
                                              R"("lot_size":"0.1","min_quantity":"1"})")
                 .status,
             201);
    QCOMPARE(admin.post("/admin/instruments", R"({"symbol":"HLT-USD","base":"HLT","quote":"USD","tick_size":"0.01",)"
                                              R"("lot_size":"1","min_quantity":"1"})")
                 .status,
             201);
    QCOMPARE(admin.request("PATCH", "/admin/instruments/HLT-USD", R"({"status":"halted"})").status, 200);
    QVERIFY(m_fixture->addUser(QStringLiteral("alice"), {{"USD", "1000"}, {"BTC", "1"}}));
    QVERIFY(m_fixture->addUser(QStringLiteral("bob"), {{"USD", "1000000"}, {"BTC", "100"}}));
    QVERIFY(m_fixture->addUser(QStringLiteral("vera"), {{"USD", "1000"}}, QStringLiteral("viewer")));
    m_alice = m_fixture->client(QStringLiteral("alice"));
    m_bob = m_fixture->client(QStringLiteral("bob"));
    QVERIFY(m_alice && m_bob);
    QVERIFY(m_fixture->signIn(QStringLiteral("alice")));
    QTRY_VERIFY(m_fixture->desk().instrument(QStringLiteral("HLT-USD"))
                && m_fixture->desk().instrument(QStringLiteral("HLT-USD"))->status == bourse::InstrumentStatus::Halted);

    m_ticket = std::make_unique<OrderTicket>();
    m_open = std::make_unique<OrdersModel>();
    m_history = std::make_unique<OrdersModel>();
    m_history->setView(QStringLiteral("history"));
    m_fills = std::make_unique<FillsModel>();
    m_balances = std::make_unique<BalancesModel>();
    for (QAbstractItemModel *model : std::initializer_list<QAbstractItemModel *>{m_open.get(), m_history.get(),
                                                                                 m_fills.get(), m_balances.get()})
        m_testers.push_back(std::make_unique<QAbstractItemModelTester>(model, Fatal));
    QTRY_COMPARE(m_balances->rowCount(), 2);
    QCOMPARE(cell(*m_balances, rowOf(*m_balances, "asset", "USD"), "available"), QStringLiteral("1000"));
}

void TicketModelsTest::cleanupTestCase()
{
    m_testers.clear();
    m_ticket.reset();
    m_open.reset();
    m_history.reset();
    m_fills.reset();
    m_balances.reset();
    m_alice.reset();
    m_bob.reset();
    m_fixture.reset();
}

qint64 TicketModelsTest::ordersPlaced()
{
    return m_alice->get("/api/v1/orders?status=all").object().value(QStringLiteral("total")).toInteger(-1);
}

void TicketModelsTest::placeAs(ApiClient &client, const QString &symbol, const QString &side, const QString &price,
                               const QString &quantity)
{
    const QByteArray body = QStringLiteral(R"({"symbol":"%1","side":"%2","type":"limit","price":"%3","quantity":"%4"})")
                                .arg(symbol, side, price, quantity)
                                .toUtf8();
    const auto response = client.post("/api/v1/orders", body);
    QVERIFY2(response.status == 201, response.raw.body.constData());
}

void TicketModelsTest::validation_data()
{
    // Each bad input, the field the ticket blames ("order": the form as a whole) and the API's message.
    QTest::addColumn<QString>("symbol");
    QTest::addColumn<QString>("side");
    QTest::addColumn<QString>("type");
    QTest::addColumn<bool>("postOnly");
    QTest::addColumn<QString>("price");
    QTest::addColumn<QString>("quantity");
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("message");

    const QString btc = QStringLiteral("BTC-USD");
    const QString buy = QStringLiteral("buy");
    const QString limit = QStringLiteral("limit");
    const QString market = QStringLiteral("market");
    QTest::newRow("empty price") << btc << buy << limit << false << "" << "0.1" << "price"
                                 << "price is required for a limit order";
    QTest::newRow("empty quantity") << btc << buy << limit << false << "100" << "" << "quantity"
                                    << "quantity is required";
    QTest::newRow("blank quantity") << btc << buy << limit << false << "100" << "   " << "quantity"
                                    << "quantity is required";
    QTest::newRow("non-numeric price") << btc << buy << limit << false << "abc" << "0.1" << "price"
                                       << "price must be a decimal number such as \"2000.50\"";
    QTest::newRow("non-numeric quantity") << btc << buy << limit << false << "100" << "1,5" << "quantity"
                                          << "quantity must be a decimal number such as \"2000.50\"";
    QTest::newRow("negative price") << btc << buy << limit << false << "-5" << "0.1" << "price"
                                    << "price must be positive";
    QTest::newRow("zero price") << btc << buy << limit << false << "0" << "0.1" << "price" << "price must be positive";
    QTest::newRow("negative quantity") << btc << buy << limit << false << "100" << "-1" << "quantity"
                                       << "quantity must be positive";
    QTest::newRow("zero quantity") << btc << buy << limit << false << "100" << "0" << "quantity"
                                   << "quantity must be positive";
    QTest::newRow("off tick") << btc << buy << limit << false << "100.005" << "0.1" << "price"
                              << "price must be a multiple of 0.01";
    QTest::newRow("off lot") << btc << buy << limit << false << "100" << "0.00015" << "quantity"
                             << "quantity must be a multiple of 0.0001";
    QTest::newRow("below minimum") << "TST-USD" << buy << limit << false << "10" << "0.5" << "quantity"
                                   << "quantity must be at least 1";
    QTest::newRow("too many decimals") << btc << buy << limit << false << "1.000000001" << "0.1" << "price"
                                       << "price has more than 8 decimal places";
    QTest::newRow("price too large") << btc << buy << limit << false << "100000000000" << "0.1" << "price"
                                     << "price is out of range";
    QTest::newRow("quantity too large") << btc << buy << limit << false << "100" << "1e12" << "quantity"
                                        << "quantity is out of range";
    QTest::newRow("notional too large") << btc << buy << limit << false << "90000000000" << "2" << "quantity"
                                        << "price times quantity is too large";
    QTest::newRow("market with a price") << btc << buy << market << false << "100" << "0.1" << "price"
                                         << "price must not be given for a market order";
    QTest::newRow("post-only market") << btc << buy << market << true << "" << "0.1" << "order"
                                      << "post_only needs a limit order with time_in_force gtc";
    QTest::newRow("buy not covered") << btc << buy << limit << false << "20000" << "0.1" << "order"
                                     << "insufficient balance: 2000 USD required, 1000 USD available";
    QTest::newRow("sell not covered") << btc << "sell" << limit << false << "100" << "2" << "order"
                                      << "insufficient balance: 2 BTC required, 1 BTC available";
    QTest::newRow("halted") << "HLT-USD" << buy << limit << false << "1" << "1" << "order"
                            << "trading is halted on HLT-USD";
}

void TicketModelsTest::validation()
{
    QFETCH(QString, symbol);
    QFETCH(QString, side);
    QFETCH(QString, type);
    QFETCH(bool, postOnly);
    QFETCH(QString, price);
    QFETCH(QString, quantity);
    QFETCH(QString, field);
    QFETCH(QString, message);

    OrderTicket &ticket = *m_ticket;
    ticket.setSymbol(symbol);
    ticket.setSide(side);
    ticket.setType(type);
    ticket.setPostOnly(postOnly);
    ticket.setPrice(price);
    ticket.setQuantity(quantity);
    QTRY_VERIFY(!ticket.available().isEmpty()); // the balance that pays is known
    const qint64 before = ordersPlaced();

    const QString shown = field == QLatin1String("price")      ? ticket.priceError()
                          : field == QLatin1String("quantity") ? ticket.quantityError()
                                                               : ticket.orderError();
    QCOMPARE(shown, message);
    QCOMPARE(ticket.reason(), message);
    QVERIFY(!ticket.canSubmit());

    QSignalSpy submitted(&ticket, &OrderTicket::submitted);
    QSignalSpy rejected(&ticket, &OrderTicket::rejected);
    ticket.submit();
    QCOMPARE(rejected.count(), 1);
    QCOMPARE(rejected.constFirst().constFirst().toString(), message);
    QVERIFY(!ticket.submitting());
    QVERIFY(submitted.isEmpty());
    QCOMPARE(ordersPlaced(), before); // nothing reached the venue

    ticket.setPostOnly(false);
    ticket.setType(QStringLiteral("limit"));
}

void TicketModelsTest::stepsAndCurl()
{
    OrderTicket &ticket = *m_ticket;
    ticket.setSymbol(QStringLiteral("ETH-USD")); // an empty book: the price starts at one tick
    ticket.setSide(QStringLiteral("buy"));
    ticket.setPrice(QString());
    ticket.setQuantity(QString());
    ticket.stepPrice(1);
    QCOMPARE(ticket.price(), QStringLiteral("0.01"));
    ticket.stepPrice(3);
    QCOMPARE(ticket.price(), QStringLiteral("0.04"));
    ticket.stepPrice(-10);
    QCOMPARE(ticket.price(), QStringLiteral("0.01")); // never below one tick
    ticket.setPrice(QStringLiteral("1.005"));
    ticket.stepPrice(1);
    QCOMPARE(ticket.price(), QStringLiteral("1.01")); // onto the grid
    ticket.setPrice(QStringLiteral("1.005"));
    ticket.stepPrice(-1);
    QCOMPARE(ticket.price(), QStringLiteral("1.00"));
    ticket.stepQuantity(1);
    QCOMPARE(ticket.quantity(), QStringLiteral("0.001"));
    ticket.stepQuantity(2);
    QCOMPARE(ticket.quantity(), QStringLiteral("0.003"));
    QCOMPARE(ticket.notional(), QStringLiteral("0.003"));
    ticket.setSymbol(QStringLiteral("TST-USD"));
    ticket.setQuantity(QString());
    ticket.stepQuantity(1);
    QCOMPARE(ticket.quantity(), QStringLiteral("1.0")); // the minimum, not one lot below it

    ticket.setSymbol(QStringLiteral("ETH-USD"));
    ticket.setPrice(QStringLiteral("1.5"));
    ticket.setQuantity(QStringLiteral("0.002"));
    ticket.setTimeInForce(QStringLiteral("ioc"));
    const QString expected = QStringLiteral(
        "curl -X POST http://127.0.0.1:%1/api/v1/orders -H \"Authorization: Bearer $BOURSE_TOKEN\" "
        "-H 'Content-Type: application/json' -d '{\"symbol\":\"ETH-USD\",\"side\":\"buy\",\"type\":\"limit\","
        "\"price\":\"1.5\",\"quantity\":\"0.002\",\"time_in_force\":\"ioc\",\"post_only\":false}'")
                                 .arg(m_fixture->port());
    QCOMPARE(ticket.curlCommand(), expected);
    ticket.setTimeInForce(QStringLiteral("gtc"));
    // The ladder's click.
    ticket.setType(QStringLiteral("market"));
    QCOMPARE(ticket.timeInForce(), QStringLiteral("ioc"));
    ticket.take(QStringLiteral("sell"), QStringLiteral("2.50"));
    QCOMPARE(ticket.side(), QStringLiteral("sell"));
    QCOMPARE(ticket.type(), QStringLiteral("limit"));
    QCOMPARE(ticket.timeInForce(), QStringLiteral("gtc"));
    QCOMPARE(ticket.price(), QStringLiteral("2.50"));
}

void TicketModelsTest::submitReachesOpenOrders()
{
    OrderTicket &ticket = *m_ticket;
    ticket.setSymbol(QStringLiteral("BTC-USD"));
    ticket.setSide(QStringLiteral("buy"));
    ticket.setType(QStringLiteral("limit"));
    ticket.setPrice(QStringLiteral("100"));
    ticket.setQuantity(QStringLiteral("0.5"));
    QTRY_COMPARE(ticket.available(), QStringLiteral("1000.00"));
    QCOMPARE(ticket.notional(), QStringLiteral("50.00"));
    QCOMPARE(ticket.reason(), QString());
    QVERIFY(ticket.canSubmit());

    QSignalSpy submitted(&ticket, &OrderTicket::submitted);
    ticket.submit();
    QVERIFY(ticket.submitting());
    QTRY_COMPARE(submitted.count(), 1);
    const QString id = submitted.constFirst().at(0).toString();
    QCOMPARE(submitted.constFirst().at(1).toString(), QStringLiteral("new"));
    QCOMPARE(ticket.quantity(), QString()); // ready for the next order, at the same price
    QCOMPARE(ticket.price(), QStringLiteral("100"));

    QTRY_COMPARE(m_open->rowCount(), 1);
    QCOMPARE(cell(*m_open, 0, "id"), id);
    QCOMPARE(cell(*m_open, 0, "symbol"), QStringLiteral("BTC-USD"));
    QCOMPARE(cell(*m_open, 0, "side"), QStringLiteral("buy"));
    QCOMPARE(cell(*m_open, 0, "price"), QStringLiteral("100.00"));
    QCOMPARE(cell(*m_open, 0, "quantity"), QStringLiteral("0.5000"));
    QCOMPARE(cell(*m_open, 0, "remaining"), QStringLiteral("0.5000"));
    QCOMPARE(cell(*m_open, 0, "status"), QStringLiteral("new"));
    QVERIFY(!cell(*m_open, 0, "createdAt").isEmpty());
    // The balances: 50 USD reserved out of 1000.
    const int usd = rowOf(*m_balances, "asset", "USD");
    QTRY_COMPARE(cell(*m_balances, usd, "reserved"), QStringLiteral("50"));
    QCOMPARE(cell(*m_balances, usd, "available"), QStringLiteral("950"));
    QCOMPARE(cell(*m_balances, usd, "total"), QStringLiteral("1000"));
    QTRY_COMPARE(ticket.available(), QStringLiteral("950.00"));
}

void TicketModelsTest::journalDownDisablesTrading()
{
    // What VenueProcess reports when the journal cannot write (the database down, the disk full): the ticket
    // refuses with the service's own words, says so, and sends nothing; trading comes back with the journal.
    OrderTicket &ticket = *m_ticket;
    Desk &desk = m_fixture->desk();
    ticket.setSymbol(QStringLiteral("BTC-USD"));
    ticket.setSide(QStringLiteral("buy"));
    ticket.setType(QStringLiteral("limit"));
    ticket.setPostOnly(false);
    ticket.setPrice(QStringLiteral("10"));
    ticket.setQuantity(QStringLiteral("0.1"));
    QVERIFY2(ticket.canSubmit(), qPrintable(ticket.reason()));
    QSignalSpy notices(&desk, &Desk::notice);
    desk.setJournalAvailable(false, QStringLiteral("disk full"));
    QVERIFY(!desk.tradingAvailable());
    QCOMPARE(desk.journalState(), QStringLiteral("disk full"));
    QCOMPARE(notices.count(), 1);
    QCOMPARE(notices.at(0).at(0).toString(), QStringLiteral("fault"));
    QCOMPARE(notices.at(0).at(1).toString(), QStringLiteral("Trading disabled"));
    QVERIFY(!ticket.canSubmit());
    QCOMPARE(ticket.orderError(), QStringLiteral("the database is unavailable; nothing was accepted"));
    const qint64 before = ordersPlaced();
    QSignalSpy rejected(&ticket, &OrderTicket::rejected);
    ticket.submit();
    QCOMPARE(rejected.count(), 1);
    QCOMPARE(ordersPlaced(), before);
    desk.setJournalAvailable(true, QString());
    QVERIFY(desk.tradingAvailable());
    QCOMPARE(notices.count(), 2);
    QCOMPARE(notices.at(1).at(1).toString(), QStringLiteral("Trading enabled"));
    QVERIFY2(ticket.canSubmit(), qPrintable(ticket.reason()));
}

void TicketModelsTest::haltedWhileOpen()
{
    // The ticket is filled in and valid; an admin halts the instrument: the ticket says so at once (from the
    // pulse) and sends nothing; resumed, it may submit again.
    OrderTicket &ticket = *m_ticket;
    ticket.setSymbol(QStringLiteral("BTC-USD"));
    ticket.setSide(QStringLiteral("buy"));
    ticket.setType(QStringLiteral("limit"));
    ticket.setPostOnly(false);
    ticket.setPrice(QStringLiteral("10"));
    ticket.setQuantity(QStringLiteral("0.1"));
    QVERIFY2(ticket.canSubmit(), qPrintable(ticket.reason()));
    ApiClient &admin = m_fixture->admin();
    QCOMPARE(admin.request("PATCH", "/admin/instruments/BTC-USD", R"({"status":"halted"})").status, 200);
    QTRY_VERIFY(!ticket.canSubmit());
    QCOMPARE(ticket.orderError(), QStringLiteral("trading is halted on BTC-USD"));
    const qint64 before = ordersPlaced();
    ticket.submit();
    QCOMPARE(ordersPlaced(), before);
    QCOMPARE(admin.request("PATCH", "/admin/instruments/BTC-USD", R"({"status":"trading"})").status, 200);
    QTRY_VERIFY2(ticket.canSubmit(), qPrintable(ticket.reason()));
}

void TicketModelsTest::engineRejectionShown()
{
    placeAs(*m_bob, QStringLiteral("BTC-USD"), QStringLiteral("sell"), QStringLiteral("200"), QStringLiteral("0.1"));
    OrderTicket &ticket = *m_ticket;
    ticket.setSymbol(QStringLiteral("BTC-USD"));
    ticket.setSide(QStringLiteral("buy"));
    ticket.setPostOnly(true);
    ticket.setPrice(QStringLiteral("200"));
    ticket.setQuantity(QStringLiteral("0.1"));
    QVERIFY(ticket.canSubmit()); // only the engine knows the book for sure
    const qint64 before = ordersPlaced();
    QSignalSpy rejected(&ticket, &OrderTicket::rejected);
    QSignalSpy notices(Desk::instance(), &Desk::notice);
    ticket.submit();
    QTRY_COMPARE(rejected.count(), 1);
    QCOMPARE(rejected.constFirst().constFirst().toString(), QStringLiteral("the post-only order would match on arrival"));
    // Also a notification, with the venue's reason.
    QCOMPARE(notices.count(), 1);
    QCOMPARE(notices.constFirst().at(0).toString(), QStringLiteral("reject"));
    QCOMPARE(notices.constFirst().at(2).toString(), QStringLiteral("the post-only order would match on arrival"));
    QCOMPARE(ticket.orderError(), QStringLiteral("the post-only order would match on arrival"));
    QCOMPARE(ordersPlaced(), before);
    ticket.setPostOnly(false); // an edit: the venue's answer no longer applies
    QCOMPARE(ticket.orderError(), QString());
}

void TicketModelsTest::amendOfFilledOrder()
{
    placeAs(*m_alice, QStringLiteral("BTC-USD"), QStringLiteral("buy"), QStringLiteral("150"), QStringLiteral("0.1"));
    QTRY_COMPARE(m_open->rowCount(), 2);
    const QString id = cell(*m_open, 0, "id");
    QCOMPARE(cell(*m_open, 0, "price"), QStringLiteral("150.00"));
    // An amend that goes through.
    QSignalSpy done(m_open.get(), &OrdersModel::done);
    QSignalSpy failed(m_open.get(), &OrdersModel::actionFailed);
    m_open->amend(id, QString(), QStringLiteral("0.2"));
    QTRY_COMPARE(done.count(), 1);
    QTRY_COMPARE(cell(*m_open, 0, "quantity"), QStringLiteral("0.2000"));
    // Bad amends get PATCH's messages.
    m_open->amend(id, QString(), QString());
    QCOMPARE(failed.takeFirst().constFirst().toString(), QStringLiteral("give price, quantity or both"));
    m_open->amend(id, QStringLiteral("1.001"), QString());
    QTRY_COMPARE(failed.count(), 1);
    QCOMPARE(failed.takeFirst().constFirst().toString(), QStringLiteral("price must be a multiple of 0.01"));

    // Bob sells into it before alice's amend arrives: the amend finds it filled.
    placeAs(*m_bob, QStringLiteral("BTC-USD"), QStringLiteral("sell"), QStringLiteral("150"), QStringLiteral("0.2"));
    m_open->amend(id, QStringLiteral("151"), QString());
    QTRY_COMPARE(failed.count(), 1);
    QCOMPARE(failed.constFirst().constFirst().toString(),
             QStringLiteral("the order is no longer open (filled, cancelled or expired)"));
    // The row followed the pulse: gone from the open orders, filled in the history, and the fill is listed.
    QTRY_COMPARE(m_open->rowCount(), 1);
    QVERIFY(rowOf(*m_open, "id", id) < 0);
    QTRY_VERIFY(rowOf(*m_history, "id", id) >= 0);
    const int row = rowOf(*m_history, "id", id);
    QCOMPARE(cell(*m_history, row, "status"), QStringLiteral("filled"));
    QCOMPARE(cell(*m_history, row, "filled"), QStringLiteral("0.2000"));
    QCOMPARE(cell(*m_history, row, "averagePrice"), QStringLiteral("150.00"));
    QTRY_VERIFY(rowOf(*m_fills, "orderId", id) >= 0);
    const int fill = rowOf(*m_fills, "orderId", id);
    QCOMPARE(cell(*m_fills, fill, "liquidity"), QStringLiteral("maker"));
    QCOMPARE(cell(*m_fills, fill, "price"), QStringLiteral("150.00"));
    QCOMPARE(cell(*m_fills, fill, "quantity"), QStringLiteral("0.2000"));
    const int btc = rowOf(*m_balances, "asset", "BTC");
    QTRY_COMPARE(cell(*m_balances, btc, "available"), QStringLiteral("1.2"));
}

void TicketModelsTest::cancelAndCancelAll()
{
    placeAs(*m_alice, QStringLiteral("BTC-USD"), QStringLiteral("buy"), QStringLiteral("90"), QStringLiteral("0.1"));
    placeAs(*m_alice, QStringLiteral("ETH-USD"), QStringLiteral("buy"), QStringLiteral("10"), QStringLiteral("0.1"));
    placeAs(*m_alice, QStringLiteral("ETH-USD"), QStringLiteral("buy"), QStringLiteral("11"), QStringLiteral("0.1"));
    QTRY_COMPARE(m_open->rowCount(), 4);
    QSignalSpy done(m_open.get(), &OrdersModel::done);
    QSignalSpy failed(m_open.get(), &OrdersModel::actionFailed);

    const QString first = cell(*m_open, 0, "id");
    m_open->cancel(first);
    QTRY_COMPARE(done.count(), 1);
    QCOMPARE(done.takeFirst().constFirst().toString(), QStringLiteral("Cancelled order %1").arg(first));
    QTRY_COMPARE(m_open->rowCount(), 3);
    QTRY_VERIFY(rowOf(*m_history, "id", first) >= 0);
    QCOMPARE(cell(*m_history, rowOf(*m_history, "id", first), "status"), QStringLiteral("cancelled"));
    // Again: it is no longer open.
    m_open->cancel(first);
    QTRY_COMPARE(failed.count(), 1);
    QCOMPARE(failed.takeFirst().constFirst().toString(), QStringLiteral("the order is not open"));

    m_open->cancelAll(QStringLiteral("BTC-USD"));
    QTRY_COMPARE(done.count(), 1);
    QCOMPARE(done.takeFirst().constFirst().toString(), QStringLiteral("Cancelled 2 open order(s) on BTC-USD"));
    QTRY_COMPARE(m_open->rowCount(), 1);
    QCOMPARE(cell(*m_open, 0, "symbol"), QStringLiteral("ETH-USD"));
    m_open->cancelAll();
    QTRY_COMPARE(done.count(), 1);
    QCOMPARE(done.takeFirst().constFirst().toString(), QStringLiteral("Cancelled 1 open order(s) on every instrument"));
    QTRY_COMPARE(m_open->rowCount(), 0);
    // Nothing is reserved any more.
    const int usd = rowOf(*m_balances, "asset", "USD");
    QTRY_COMPARE(cell(*m_balances, usd, "reserved"), QStringLiteral("0"));
    QCOMPARE(cell(*m_balances, usd, "available"), cell(*m_balances, usd, "total"));
}

void TicketModelsTest::burstsAreBatched()
{
    // The test thread is the GUI thread: while it places orders over blocking HTTP, no pulse is taken, so
    // the whole burst reaches the models as one pulse — as a busy market does within one frame.
    constexpr int kOrders = 40;
    QSignalSpy inserted(m_open.get(), &QAbstractItemModel::rowsInserted);
    QSignalSpy reset(m_open.get(), &QAbstractItemModel::modelReset);
    QSignalSpy balanceChanges(m_balances.get(), &QAbstractItemModel::dataChanged);
    for (int i = 0; i < kOrders; ++i)
        placeAs(*m_alice, QStringLiteral("BTC-USD"), QStringLiteral("buy"), QString::number(50 + i),
                QStringLiteral("0.01"));
    QTRY_COMPARE(m_open->rowCount(), kOrders);
    QVERIFY2(inserted.count() + reset.count() <= 2, qPrintable(QString::number(inserted.count())));
    QVERIFY2(balanceChanges.count() <= 2, qPrintable(QString::number(balanceChanges.count())));
    QCOMPARE(cell(*m_open, 0, "price"), QStringLiteral("89.00")); // newest first

    // One market sell fills them all: kOrders fills in one batch.
    QSignalSpy fillsInserted(m_fills.get(), &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(m_open.get(), &QAbstractItemModel::rowsRemoved);
    QSignalSpy historyInserted(m_history.get(), &QAbstractItemModel::rowsInserted);
    const int fillsBefore = m_fills->rowCount();
    const int historyBefore = m_history->rowCount();
    const auto response = m_bob->post("/api/v1/orders",
                                      R"({"symbol":"BTC-USD","side":"sell","type":"market","quantity":"0.4"})");
    QCOMPARE(response.status, 201);
    QTRY_COMPARE(m_fills->rowCount(), fillsBefore + kOrders);
    QTRY_COMPARE(m_open->rowCount(), 0);
    QTRY_COMPARE(m_history->rowCount(), historyBefore + kOrders);
    QVERIFY2(fillsInserted.count() <= 2, qPrintable(QString::number(fillsInserted.count())));
    QVERIFY2(removed.count() <= 2, qPrintable(QString::number(removed.count())));
    QVERIFY2(historyInserted.count() <= 4, qPrintable(QString::number(historyInserted.count())));
    // The best bid filled first, so it is the oldest of the new fills: the newest is on top.
    QCOMPARE(cell(*m_fills, 0, "price"), QStringLiteral("50.00"));
}

void TicketModelsTest::exportCsv()
{
    QTemporaryDir directory;
    QVERIFY(directory.isValid());
    placeAs(*m_alice, QStringLiteral("BTC-USD"), QStringLiteral("buy"), QStringLiteral("42"), QStringLiteral("0.01"));
    QTRY_COMPARE(m_open->rowCount(), 1);
    QSignalSpy done(m_open.get(), &OrdersModel::done);
    const QString openPath = directory.filePath(QStringLiteral("open.csv"));
    m_open->exportCsv(openPath);
    QTRY_COMPARE(done.count(), 1);
    QCOMPARE(done.constFirst().constFirst().toString(), QStringLiteral("Exported 1 order(s) to %1").arg(openPath));
    QFile open(openPath);
    QVERIFY(open.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = open.readAll().split('\n');
    QCOMPARE(lines.value(0), QByteArray("id,client_order_id,symbol,side,type,time_in_force,price,quantity,"
                                        "filled_quantity,average_price,status,created_at,updated_at\r"));
    QVERIFY(lines.value(1).startsWith(cell(*m_open, 0, "id").toUtf8() + ",,BTC-USD,buy,limit,gtc,42.00,0.0100,0.0000,,new,"));

    QSignalSpy fillsDone(m_fills.get(), &FillsModel::done);
    const QString fillsPath = directory.filePath(QStringLiteral("fills.csv"));
    m_fills->exportCsv(fillsPath);
    QTRY_COMPARE(fillsDone.count(), 1);
    QFile fills(fillsPath);
    QVERIFY(fills.open(QIODevice::ReadOnly));
    const QList<QByteArray> fillLines = fills.readAll().split('\n');
    QCOMPARE(fillLines.value(0), QByteArray("trade_id,order_id,symbol,side,price,quantity,liquidity,timestamp\r"));
    QCOMPARE(fillLines.size() - 2, m_fills->rowCount()); // the header, the rows, and the empty end
    QVERIFY(m_history->defaultExportPath().contains(QLatin1String("bourse-orders-")));
    m_open->cancelAll();
    QTRY_COMPARE(m_open->rowCount(), 0);
}

void TicketModelsTest::viewerCannotSubmit()
{
    m_fixture->desk().signOut();
    QTRY_VERIFY(!m_fixture->desk().signedIn());
    QTRY_COMPARE(m_balances->rowCount(), 0);
    QVERIFY(m_fixture->signIn(QStringLiteral("vera")));
    OrderTicket &ticket = *m_ticket;
    ticket.setSymbol(QStringLiteral("BTC-USD"));
    ticket.setSide(QStringLiteral("buy"));
    ticket.setPrice(QStringLiteral("100"));
    ticket.setQuantity(QStringLiteral("0.1"));
    QTRY_COMPARE(ticket.orderError(), QStringLiteral("the viewer role may not do this"));
    QVERIFY(!ticket.canSubmit());
    QSignalSpy rejected(&ticket, &OrderTicket::rejected);
    ticket.submit();
    QCOMPARE(rejected.count(), 1);
    QCOMPARE(rejected.constFirst().constFirst().toString(), QStringLiteral("the viewer role may not do this"));
    QTRY_COMPARE(m_balances->rowCount(), 1); // the viewer's own account
}

QTEST_MAIN(TicketModelsTest)

#include "tst_ticket_models.moc"
