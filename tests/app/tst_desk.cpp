// The Desk against a real venue: the first-run wizard, sign-in with the API's rules (bad credentials, the
// throttle, roles, a disabled account's session ending), and the market pulse — merged, at most one per frame,
// nothing lost.
#include "desk_fixture.h"

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTest>

using bourse::app::Desk;
using bourse::app::MarketPulse;
using bourse::test::DeskFixture;

Q_DECLARE_METATYPE(bourse::app::MarketPulse)

class tst_Desk final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void firstRunWizard();
    void signIn_data();
    void signIn();
    void loginThrottle();
    void roles();
    void disabledAccountEndsSession();
    void signOut();
    void pulseMergesBatches();
    void watchedBook();

private:
    static QByteArray order(const char *side, const char *price, const char *quantity, const char *symbol = "BTC-USD");
};

void tst_Desk::initTestCase()
{
    qRegisterMetaType<MarketPulse>();
}

QByteArray tst_Desk::order(const char *side, const char *price, const char *quantity, const char *symbol)
{
    return QStringLiteral(R"({"symbol":"%1","side":"%2","type":"limit","price":"%3","quantity":"%4"})")
        .arg(QLatin1StringView(symbol), QLatin1StringView(side), QLatin1StringView(price), QLatin1StringView(quantity))
        .toUtf8();
}

void tst_Desk::firstRunWizard()
{
    auto fixture = DeskFixture::start(DeskFixture::FirstAdmin::ByWizard);
    QVERIFY(fixture);
    Desk &desk = fixture->desk();
    QVERIFY(desk.ready());
    QVERIFY(desk.needsFirstAdmin());
    QSignalSpy failed(&desk, &Desk::signInFailed);

    // Bad input: each gets its message, and no admin exists afterwards.
    desk.createFirstAdmin(QStringLiteral("boss"), QStringLiteral("long-enough-1"), QStringLiteral("long-enough-2"));
    QCOMPARE(failed.size(), 1);
    QCOMPARE(failed.at(0).at(0).toString(), QStringLiteral("The two passwords differ"));
    QCOMPARE(failed.at(0).at(1).toString(), QStringLiteral("confirmation"));
    desk.createFirstAdmin(QStringLiteral("boss"), QStringLiteral("short"), QStringLiteral("short"));
    QTRY_COMPARE(failed.size(), 2);
    QCOMPARE(failed.at(1).at(0).toString(), QStringLiteral("password must be 8-128 characters"));
    QCOMPARE(failed.at(1).at(1).toString(), QStringLiteral("password"));
    desk.createFirstAdmin(QStringLiteral("x"), QStringLiteral("long-enough-1"), QStringLiteral("long-enough-1"));
    QTRY_COMPARE(failed.size(), 3);
    QCOMPARE(failed.at(2).at(1).toString(), QStringLiteral("username"));
    QVERIFY(desk.needsFirstAdmin());
    QVERIFY(!desk.signedIn());

    desk.createFirstAdmin(QStringLiteral("boss"), QStringLiteral("long-enough-1"), QStringLiteral("long-enough-1"));
    QTRY_VERIFY_WITH_TIMEOUT(desk.signedIn(), 15'000);
    QVERIFY(!desk.needsFirstAdmin());
    QVERIFY(desk.isAdmin());
    QCOMPARE(desk.username(), QStringLiteral("boss"));
    QCOMPARE(desk.role(), QStringLiteral("admin"));

    // The API knows the new admin too, and the wizard cannot make a second one.
    bourse::test::ApiClient api(fixture->port());
    QCOMPARE(api.login(QStringLiteral("boss"), QStringLiteral("long-enough-1")).status, 200);
    QCOMPARE(api.get("/admin/users").status, 200);
    std::optional<bourse::server::ServiceResult<bourse::sql::UserRecord>> second;
    desk.call<bourse::sql::UserRecord>(
        &desk,
        [](bourse::server::VenueService &service, const bourse::server::Caller &,
           bourse::server::Reply<bourse::sql::UserRecord> reply) {
            service.createFirstAdmin(QStringLiteral("mallory"), QStringLiteral("long-enough-1"), std::move(reply));
        },
        [&](bourse::server::ServiceResult<bourse::sql::UserRecord> result) { second = result; });
    QTRY_VERIFY(second.has_value());
    QVERIFY(!second->hasValue());
    QCOMPARE(second->error().code, bourse::server::ErrorCode::Conflict);
    QCOMPARE(second->error().message, QStringLiteral("the venue already has an admin"));
}

void tst_Desk::signIn_data()
{
    QTest::addColumn<QString>("username");
    QTest::addColumn<QString>("password");
    QTest::addColumn<QString>("error"); // empty: signed in
    QTest::addColumn<QString>("field");

    QTest::newRow("right password") << "alice" << QString::fromLatin1(DeskFixture::kTraderPassword) << "" << "";
    QTest::newRow("wrong password") << "alice" << "wrong-password-1" << "invalid username or password" << "";
    QTest::newRow("unknown user") << "nobody" << "whatever-password" << "invalid username or password" << "";
    QTest::newRow("empty username") << "" << "whatever-password" << "Enter your username" << "username";
    QTest::newRow("blank username") << "   " << "whatever-password" << "Enter your username" << "username";
    QTest::newRow("empty password") << "alice" << "" << "Enter your password" << "password";
}

void tst_Desk::signIn()
{
    QFETCH(QString, username);
    QFETCH(QString, password);
    QFETCH(QString, error);
    QFETCH(QString, field);
    auto fixture = DeskFixture::start();
    QVERIFY(fixture);
    QVERIFY(fixture->addUser(QStringLiteral("alice"), {}));
    Desk &desk = fixture->desk();
    QSignalSpy failed(&desk, &Desk::signInFailed);
    QSignalSpy session(&desk, &Desk::sessionChanged);
    desk.signIn(username, password);
    if (error.isEmpty()) {
        QTRY_VERIFY_WITH_TIMEOUT(desk.signedIn(), 15'000);
        QCOMPARE(desk.username(), username);
        QCOMPARE(desk.role(), QStringLiteral("trader"));
        QVERIFY(desk.canTrade());
        QVERIFY(!desk.isAdmin());
        QCOMPARE(desk.rememberedUsername(), username);
        QVERIFY(failed.isEmpty());
    } else {
        QTRY_COMPARE_WITH_TIMEOUT(failed.size(), 1, 15'000);
        QCOMPARE(failed.at(0).at(0).toString(), error);
        QCOMPARE(failed.at(0).at(1).toString(), field);
        QVERIFY(!desk.signedIn());
        QVERIFY(session.isEmpty());
        QVERIFY(!desk.busy());
    }
}

void tst_Desk::loginThrottle()
{
    // The API's throttle (10 failures in the window by default) holds for the window's sign-in as well: after
    // it, even the right password is refused.
    auto fixture = DeskFixture::start();
    QVERIFY(fixture);
    QVERIFY(fixture->addUser(QStringLiteral("bob"), {}));
    Desk &desk = fixture->desk();
    QSignalSpy failed(&desk, &Desk::signInFailed);
    for (int i = 1; i <= 10; ++i) {
        desk.signIn(QStringLiteral("bob"), QStringLiteral("wrong-password-1"));
        QTRY_COMPARE_WITH_TIMEOUT(failed.size(), i, 15'000);
        QCOMPARE(failed.last().at(0).toString(), QStringLiteral("invalid username or password"));
    }
    desk.signIn(QStringLiteral("bob"), QString::fromLatin1(DeskFixture::kTraderPassword));
    QTRY_COMPARE_WITH_TIMEOUT(failed.size(), 11, 15'000);
    QCOMPARE(failed.last().at(0).toString(), QStringLiteral("too many failed logins for this account; try again later"));
    QVERIFY(!desk.signedIn());
}

void tst_Desk::roles()
{
    auto fixture = DeskFixture::start();
    QVERIFY(fixture);
    QVERIFY(fixture->addUser(QStringLiteral("watcher"), {}, QStringLiteral("viewer")));
    Desk &desk = fixture->desk();
    QVERIFY(fixture->signIn(QStringLiteral("watcher")));
    QCOMPARE(desk.role(), QStringLiteral("viewer"));
    QVERIFY(!desk.canTrade());
    QVERIFY(!desk.isAdmin());
    // The service itself refuses an admin's call from anyone else, whatever the front end checked before.
    std::optional<bourse::server::ServiceResult<bourse::sql::UserRecord>> created;
    desk.call<bourse::sql::UserRecord>(
        &desk,
        [](bourse::server::VenueService &service, const bourse::server::Caller &caller,
           bourse::server::Reply<bourse::sql::UserRecord> reply) {
            service.createUser(caller, QStringLiteral("sneaky"), QStringLiteral("long-enough-1"),
                               bourse::server::Role::Admin, std::move(reply));
        },
        [&](bourse::server::ServiceResult<bourse::sql::UserRecord> result) { created = result; });
    QTRY_VERIFY(created.has_value());
    QVERIFY(!created->hasValue());
    QCOMPARE(created->error().code, bourse::server::ErrorCode::Forbidden);
    QCOMPARE(created->error().message, QStringLiteral("the viewer role may not do this"));
    desk.signOut();
    QVERIFY(!desk.signedIn());
    QVERIFY(fixture->signIn(QString::fromLatin1(bourse::test::TestVenue::kAdminUsername),
                            QString::fromLatin1(bourse::test::TestVenue::kAdminPassword)));
    QVERIFY(desk.isAdmin());
    QVERIFY(desk.canTrade());
}

void tst_Desk::disabledAccountEndsSession()
{
    auto fixture = DeskFixture::start();
    QVERIFY(fixture);
    const std::optional<qint64> carol = fixture->addUser(QStringLiteral("carol"), {});
    QVERIFY(carol);
    Desk &desk = fixture->desk();
    QVERIFY(fixture->signIn(QStringLiteral("carol")));
    QSignalSpy notices(&desk, &Desk::notice);
    const QByteArray path = "/admin/users/" + QByteArray::number(*carol);
    QCOMPARE(fixture->admin().request("PATCH", path, R"({"active":false})").status, 200);
    // The next call into the venue (here an empty one; in the window any, or the check every few seconds)
    // authenticates first and ends the session.
    std::optional<bourse::server::ServiceResult<bool>> answer;
    desk.call<bool>(
        &desk, [](bourse::server::VenueService &, const bourse::server::Caller &,
                  bourse::server::Reply<bool> reply) { reply(true); },
        [&](bourse::server::ServiceResult<bool> result) { answer = result; });
    QTRY_VERIFY(answer.has_value());
    QVERIFY(!answer->hasValue());
    QCOMPARE(answer->error().code, bourse::server::ErrorCode::Unauthorized);
    QTRY_VERIFY(!desk.signedIn());
    QVERIFY(!notices.isEmpty());
    QCOMPARE(notices.last().at(0).toString(), QStringLiteral("fault"));
    QCOMPARE(notices.last().at(2).toString(), QStringLiteral("the account is disabled or unknown"));

    // Signing in again is refused like the API refuses it.
    QSignalSpy failed(&desk, &Desk::signInFailed);
    desk.signIn(QStringLiteral("carol"), QString::fromLatin1(DeskFixture::kTraderPassword));
    QTRY_COMPARE_WITH_TIMEOUT(failed.size(), 1, 15'000);
    QVERIFY(!desk.signedIn());
}

void tst_Desk::signOut()
{
    auto fixture = DeskFixture::start();
    QVERIFY(fixture);
    QVERIFY(fixture->addUser(QStringLiteral("dave"), {}));
    Desk &desk = fixture->desk();
    QVERIFY(fixture->signIn(QStringLiteral("dave")));
    desk.signOut();
    QVERIFY(!desk.signedIn());
    QCOMPARE(desk.username(), QString());
    // A call now is refused before it reaches the venue.
    std::optional<bourse::server::ServiceResult<bool>> answer;
    desk.call<bool>(
        &desk, [](bourse::server::VenueService &, const bourse::server::Caller &,
                  bourse::server::Reply<bool> reply) { reply(true); },
        [&](bourse::server::ServiceResult<bool> result) { answer = result; });
    QTRY_VERIFY(answer.has_value());
    QVERIFY(!answer->hasValue());
    QCOMPARE(answer->error().message, QStringLiteral("not signed in"));
}

void tst_Desk::pulseMergesBatches()
{
    auto fixture = DeskFixture::start();
    QVERIFY(fixture);
    // Both at the unlimited rate tier: 400 orders in a row would pass the default tier's limit.
    for (const char *name : {"maker", "taker"}) {
        const std::optional<qint64> id = fixture->addUser(QLatin1StringView(name), {{"USD", "1000000"}, {"BTC", "100"}});
        QVERIFY(id);
        QCOMPARE(fixture->admin()
                     .request("PATCH", "/admin/users/" + QByteArray::number(*id), R"({"rate_limit_tier":"unlimited"})")
                     .status,
                 200);
    }
    Desk &desk = fixture->desk();
    QVERIFY(fixture->signIn(QStringLiteral("maker")));
    QSignalSpy pulses(&desk, &Desk::pulse);
    std::vector<qint64> pulseTimes;
    QElapsedTimer clock;
    clock.start();
    QObject::connect(&desk, &Desk::pulse, &desk, [&] { pulseTimes.push_back(clock.elapsed()); });

    // 200 resting asks by the signed-in maker, then 200 buys by another user that take them one by one.
    auto makerApi = fixture->client(QStringLiteral("maker"));
    auto takerApi = fixture->client(QStringLiteral("taker"));
    QVERIFY(makerApi && takerApi);
    constexpr int kOrders = 200;
    for (int i = 0; i < kOrders; ++i)
        QCOMPARE(makerApi->post("/api/v1/orders", order("sell", "100.00", "0.01")).status, 201);
    for (int i = 0; i < kOrders; ++i)
        QCOMPARE(takerApi->post("/api/v1/orders", order("buy", "100.00", "0.01")).status, 201);

    std::size_t trades = 0;
    std::size_t fills = 0;
    std::size_t orderUpdates = 0;
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            trades = fills = orderUpdates = 0;
            for (const QList<QVariant> &arguments : pulses) {
                const MarketPulse pulse = arguments.at(0).value<MarketPulse>();
                trades += pulse.trades.size();
                fills += pulse.fills.size();
                orderUpdates += pulse.orders.size();
            }
            return trades == kOrders;
        }(),
        20'000);
    // Nothing lost: every trade, every fill of the maker (one per trade), every change of the maker's orders
    // (accepted, then filled) — and none of the taker's orders, which are not the signed-in user's.
    QCOMPARE(fills, std::size_t(kOrders));
    QTRY_COMPARE(orderUpdates, std::size_t(2 * kOrders));
    // Merged: far fewer pulses than the 400 batches at least, and never two within a frame (the frame timer
    // is precise: it never fires early).
    QVERIFY2(pulses.size() < 2 * kOrders, qPrintable(QString::number(pulses.size())));
    for (std::size_t i = 1; i < pulseTimes.size(); ++i)
        QVERIFY2(pulseTimes[i] - pulseTimes[i - 1] >= 15, qPrintable(QString::number(pulseTimes[i] - pulseTimes[i - 1])));
}

void tst_Desk::watchedBook()
{
    auto fixture = DeskFixture::start();
    QVERIFY(fixture);
    QVERIFY(fixture->addUser(QStringLiteral("erin"), {{"USD", "1000000"}, {"BTC", "100"}, {"ETH", "100"}}));
    Desk &desk = fixture->desk();
    QCOMPARE(desk.selectedSymbol(), QStringLiteral("BTC-USD")); // the first instrument, until one is chosen
    QCOMPARE(desk.symbols(), (QStringList{"BTC-USD", "ETH-USD", "XAU-USD"}));
    QSignalSpy pulses(&desk, &Desk::pulse);
    auto api = fixture->client(QStringLiteral("erin"));
    QVERIFY(api);

    // A change to another book says which book changed, without its levels.
    QCOMPARE(api->post("/api/v1/orders", order("buy", "10.00", "1", "ETH-USD")).status, 201);
    QTRY_VERIFY(!pulses.isEmpty());
    MarketPulse pulse = pulses.last().at(0).value<MarketPulse>();
    QCOMPARE(pulse.changedBooks, (std::set<bourse::InstrumentId>{1}));
    QVERIFY(!pulse.watchedBook);

    desk.setSelectedSymbol(QStringLiteral("ETH-USD"));
    pulses.clear();
    QCOMPARE(api->post("/api/v1/orders", order("buy", "11.00", "2", "ETH-USD")).status, 201);
    QTRY_VERIFY(!pulses.isEmpty());
    pulse = pulses.last().at(0).value<MarketPulse>();
    QVERIFY(pulse.watchedBook);
    QCOMPARE(pulse.watchedBook->instrument, bourse::InstrumentId(1));
    QCOMPARE(pulse.watchedBook->bids.size(), std::size_t(2));
    QCOMPARE(pulse.watchedBook->bids[0].price.toString(2), std::string("11.00"));
    QCOMPARE(pulse.watchedBook->bids[0].quantity.toString(), std::string("2"));
    QCOMPARE(pulse.watchedBook->bids[1].price.toString(2), std::string("10.00"));
    QVERIFY(pulse.watchedBook->asks.empty());

    // An unknown symbol watches nothing, and nothing breaks.
    desk.setSelectedSymbol(QStringLiteral("NOPE-USD"));
    QVERIFY(!desk.selectedInstrument());
    pulses.clear();
    QCOMPARE(api->post("/api/v1/orders", order("buy", "12.00", "1", "ETH-USD")).status, 201);
    QTRY_VERIFY(!pulses.isEmpty());
    QVERIFY(!pulses.last().at(0).value<MarketPulse>().watchedBook);
}

QTEST_MAIN(tst_Desk)
#include "tst_desk.moc"
