// The admin panel's models against a real venue (DeskFixture): each under QAbstractItemModelTester; every
// bad admin input gets the message the HTTP API gives for the same input (asked of the API in the same
// test) and changes nothing; a non-admin session is refused (FORBIDDEN) by every command.
#include "admin_instruments_model.h"
#include "audit_log_model.h"
#include "desk_fixture.h"
#include "server_settings_view.h"
#include "server_stats.h"
#include "users_model.h"
#include "venue_settings_form.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

using namespace bourse;
using bourse::test::DeskFixture;
using bourse::test::TestVenue;

namespace {

constexpr int kTimeout = 15'000;

// The failure a command reported: its message and field, or an empty pair when it succeeded instead.
struct Outcome
{
    QString message;
    QString field;
};

template<typename Model>
Outcome outcomeOf(Model &model, const std::function<void()> &command)
{
    QSignalSpy failed(&model, &Model::failed);
    QSignalSpy succeeded(&model, &Model::succeeded);
    command();
    if (!QTest::qWaitFor([&] { return !failed.isEmpty() || !succeeded.isEmpty(); }, kTimeout))
        return {QStringLiteral("(no answer)"), {}};
    if (failed.isEmpty())
        return {};
    return {failed.constFirst().at(0).toString(), failed.constFirst().at(1).toString()};
}

} // namespace

class TstAdminModels final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();

    void usersListAndFilter();
    void createUser();
    void badUserInput_data();
    void badUserInput();
    void depositAndWithdraw();
    void badSettings_data();
    void badSettings();
    void saveSettings();
    void addInstrument();
    void haltResumeRoundTrip();
    void killSwitch();
    void auditLog();
    void databaseUrlTest();
    void liveStats();
    void nonAdminIsRefused();

private:
    // What the HTTP API answers for the same request: the error's message (empty when it succeeded).
    QString apiError(QByteArrayView method, const QByteArray &path, const QByteArray &body);
    void signInAdmin();

    std::unique_ptr<DeskFixture> m_fixture;
    qint64 m_alice = 0;
};

void TstAdminModels::initTestCase()
{
    m_fixture = DeskFixture::start();
    QVERIFY(m_fixture);
    const std::optional<qint64> alice = m_fixture->addUser(QStringLiteral("alice"), {{"USD", "1000"}});
    QVERIFY(alice);
    m_alice = *alice;
    QVERIFY(m_fixture->addUser(QStringLiteral("bob"), {}));
    signInAdmin();
}

void TstAdminModels::signInAdmin()
{
    QVERIFY(m_fixture->signIn(QString::fromLatin1(TestVenue::kAdminUsername),
                              QString::fromLatin1(TestVenue::kAdminPassword)));
    QVERIFY(m_fixture->desk().isAdmin());
}

void TstAdminModels::cleanupTestCase()
{
    m_fixture.reset();
}

QString TstAdminModels::apiError(QByteArrayView method, const QByteArray &path, const QByteArray &body)
{
    const test::ApiResponse response = m_fixture->admin().request(method, path, body);
    if (response.status >= 200 && response.status < 300)
        return {};
    return response.object().value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString();
}

void TstAdminModels::usersListAndFilter()
{
    app::UsersModel users;
    QAbstractItemModelTester tester(&users, QAbstractItemModelTester::FailureReportingMode::Fatal);
    QTRY_COMPARE_WITH_TIMEOUT(users.rowCount(), 3, kTimeout); // admin, alice, bob
    QCOMPARE(users.totalCount(), 3);
    users.setFilterText(QStringLiteral("LIC"));
    QCOMPARE(users.rowCount(), 1);
    QCOMPARE(users.data(users.index(0), app::UsersModel::UsernameRole).toString(), QStringLiteral("alice"));
    QCOMPARE(users.data(users.index(0), app::UsersModel::RoleRole).toString(), QStringLiteral("trader"));
    users.setFilterText(QString());
    QCOMPARE(users.rowCount(), 3);
}

void TstAdminModels::createUser()
{
    app::UsersModel users;
    QAbstractItemModelTester tester(&users, QAbstractItemModelTester::FailureReportingMode::Fatal);
    QTRY_COMPARE_WITH_TIMEOUT(users.rowCount(), 3, kTimeout);
    users.setFilterText(QStringLiteral("car"));
    const Outcome created = outcomeOf(users, [&] {
        users.createUser(QStringLiteral("carol"), QStringLiteral("carol-password-1"), QStringLiteral("viewer"));
    });
    QCOMPARE(created.message, QString());
    QCOMPARE(users.rowCount(), 1); // shown at once, filter and all
    QCOMPARE(users.data(users.index(0), app::UsersModel::RoleRole).toString(), QStringLiteral("viewer"));
    QCOMPARE(users.totalCount(), 4);

    // A fresh listing agrees with what the model inserted.
    app::UsersModel again;
    QTRY_COMPARE_WITH_TIMEOUT(again.rowCount(), 4, kTimeout);
    QCOMPARE(again.data(again.index(0), app::UsersModel::UsernameRole).toString(), QStringLiteral("carol"));

    // Change role, disable, enable: each applied in place.
    const qint64 carol = users.data(users.index(0), app::UsersModel::UserIdRole).toLongLong();
    QCOMPARE(outcomeOf(users, [&] { users.setRole(carol, QStringLiteral("trader")); }).message, QString());
    QCOMPARE(users.data(users.index(0), app::UsersModel::RoleRole).toString(), QStringLiteral("trader"));
    QCOMPARE(outcomeOf(users, [&] { users.setActive(carol, false); }).message, QString());
    QCOMPARE(users.data(users.index(0), app::UsersModel::ActiveRole).toBool(), false);
    QCOMPARE(outcomeOf(users, [&] { users.setActive(carol, true); }).message, QString());
    QCOMPARE(users.data(users.index(0), app::UsersModel::ActiveRole).toBool(), true);
}

void TstAdminModels::badUserInput_data()
{
    // command: create | role | deposit | withdraw; a, b, c: its arguments; the API request that gives the
    // same error; and the message both must give.
    QTest::addColumn<QString>("command");
    QTest::addColumn<QString>("a");
    QTest::addColumn<QString>("b");
    QTest::addColumn<QString>("c");
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("message");
    QTest::addColumn<QString>("field");

    // A taken username: CONFLICT.
    QTest::newRow("duplicate username") << "create"
                                        << "alice"
                                        << "alice-password-2"
                                        << "trader" << QByteArray("POST") << QByteArray("/admin/users")
                                        << QByteArray(
                                               R"({"username":"alice","password":"alice-password-2","role":"trader"})")
                                        << "username is taken"
                                        << "username";
    // A role that is none of the three: VALIDATION_ERROR naming the choices.
    QTest::newRow("bad role on create") << "create"
                                        << "dave"
                                        << "dave-password-1"
                                        << "boss" << QByteArray("POST") << QByteArray("/admin/users")
                                        << QByteArray(
                                               R"({"username":"dave","password":"dave-password-1","role":"boss"})")
                                        << "role must be one of: viewer, trader, admin"
                                        << "role";
    QTest::newRow("bad role change") << "role"
                                     << "boss"
                                     << ""
                                     << "" << QByteArray("PATCH") << QByteArray("/admin/users/{alice}")
                                     << QByteArray(R"({"role":"boss"})") << "role must be one of: viewer, trader, admin"
                                     << "role";
    // Amounts: a negative one is the engine's refusal, text is the body reader's.
    QTest::newRow("deposit -5") << "deposit"
                                << "USD"
                                << "-5"
                                << "" << QByteArray("POST") << QByteArray("/admin/users/{alice}/deposits")
                                << QByteArray(R"({"asset":"USD","amount":"-5"})") << ""
                                << "amount";
    QTest::newRow("deposit abc") << "deposit"
                                 << "USD"
                                 << "abc"
                                 << "" << QByteArray("POST") << QByteArray("/admin/users/{alice}/deposits")
                                 << QByteArray(R"({"asset":"USD","amount":"abc"})")
                                 << "amount must be a decimal number such as \"2000.50\""
                                 << "amount";
    QTest::newRow("deposit of an unknown asset")
        << "deposit"
        << "ZZZ"
        << "5"
        << "" << QByteArray("POST") << QByteArray("/admin/users/{alice}/deposits")
        << QByteArray(R"({"asset":"ZZZ","amount":"5"})") << ""
        << "";
    QTest::newRow("withdrawal over the balance")
        << "withdraw"
        << "USD"
        << "5000"
        << "" << QByteArray("POST") << QByteArray("/admin/users/{alice}/withdrawals")
        << QByteArray(R"({"asset":"USD","amount":"5000"})") << ""
        << "";
}

void TstAdminModels::badUserInput()
{
    QFETCH(QString, command);
    QFETCH(QString, a);
    QFETCH(QString, b);
    QFETCH(QString, c);
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, path);
    QFETCH(QByteArray, body);
    QFETCH(QString, message);
    QFETCH(QString, field);

    app::UsersModel users;
    QAbstractItemModelTester tester(&users, QAbstractItemModelTester::FailureReportingMode::Fatal);
    QTRY_VERIFY_WITH_TIMEOUT(users.totalCount() >= 3, kTimeout);
    const int before = users.totalCount();
    const Outcome outcome = outcomeOf(users, [&] {
        if (command == u"create")
            users.createUser(a, b, c);
        else if (command == u"role")
            users.setRole(m_alice, a);
        else
            users.moveFunds(m_alice, command == u"deposit", a, b);
    });
    QVERIFY2(!outcome.message.isEmpty(), "the bad input was accepted");
    // The very message the API gives for the same request (which, being bad, changes nothing there either).
    path.replace("{alice}", QByteArray::number(m_alice));
    QCOMPARE(outcome.message, apiError(method, path, body));
    if (!message.isEmpty())
        QCOMPARE(outcome.message, message);
    if (!field.isEmpty())
        QCOMPARE(outcome.field, field);
    QCOMPARE(users.error(), outcome.message);

    // Nothing changed: the same users, alice still a trader with her 1000 USD.
    app::UsersModel after;
    QTRY_COMPARE_WITH_TIMEOUT(after.totalCount(), before, kTimeout);
    after.setFilterText(QStringLiteral("alice"));
    QCOMPARE(after.data(after.index(0), app::UsersModel::RoleRole).toString(), QStringLiteral("trader"));
    const Outcome zero = outcomeOf(users, [&] { users.moveFunds(m_alice, true, QStringLiteral("USD"), "0.5"); });
    QCOMPARE(zero.message, QString());
    QVERIFY2(users.message().endsWith(QStringLiteral("balance 1000.5")), qPrintable(users.message()));
    QCOMPARE(outcomeOf(users, [&] { users.moveFunds(m_alice, false, QStringLiteral("USD"), "0.5"); }).message,
             QString());
}

void TstAdminModels::depositAndWithdraw()
{
    app::UsersModel users;
    QTRY_VERIFY_WITH_TIMEOUT(users.totalCount() >= 3, kTimeout);
    QCOMPARE(outcomeOf(users, [&] { users.moveFunds(m_alice, true, QStringLiteral("BTC"), "2.5"); }).message, QString());
    QVERIFY2(users.message().contains(QStringLiteral("balance 2.5")), qPrintable(users.message()));
    QCOMPARE(outcomeOf(users, [&] { users.moveFunds(m_alice, false, QStringLiteral("BTC"), "2.5"); }).message,
             QString());
    QVERIFY2(users.message().contains(QStringLiteral("balance 0")), qPrintable(users.message()));
}

void TstAdminModels::badSettings_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<QVariant>("value");
    QTest::addColumn<QByteArray>("patch"); // what PATCH /admin/settings gets for the same
    QTest::addColumn<QString>("field");

    // Each: VALIDATION_ERROR naming the member, the settings' own message.
    QTest::newRow("negative rate limit") << "rate_limits.pro.capacity" << QVariant(QStringLiteral("-5"))
                                         << QByteArray(R"({"rate_limits":{"pro":{"capacity":-5}}})")
                                         << "rate_limits.pro.capacity";
    QTest::newRow("rate limit as text") << "rate_limits.default.refill_per_second" << QVariant(QStringLiteral("lots"))
                                        << QByteArray(R"({"rate_limits":{"default":{"refill_per_second":"lots"}}})")
                                        << "rate_limits.default.refill_per_second";
    QTest::newRow("zero login failures") << "login_throttle.max_failures" << QVariant(QStringLiteral("0"))
                                         << QByteArray(R"({"login_throttle":{"max_failures":0}})")
                                         << "login_throttle.max_failures";
    QTest::newRow("CORS origin not-a-url")
        << "cors_allowed_origins" << QVariant(QStringList{QStringLiteral("not-a-url")})
        << QByteArray(R"({"cors_allowed_origins":["not-a-url"]})") << "cors_allowed_origins";
    QTest::newRow("CORS origin with a path")
        << "cors_allowed_origins"
        << QVariant(QStringList{QStringLiteral("https://desk.example"), QStringLiteral("http://x/path")})
        << QByteArray(R"({"cors_allowed_origins":["https://desk.example","http://x/path"]})") << "cors_allowed_origins";
}

void TstAdminModels::badSettings()
{
    QFETCH(QString, path);
    QFETCH(QVariant, value);
    QFETCH(QByteArray, patch);
    QFETCH(QString, field);

    app::VenueSettingsForm form;
    QTRY_VERIFY_WITH_TIMEOUT(!form.values().isEmpty(), kTimeout);
    const QVariantMap before = form.values();
    QCOMPARE(app::VenueSettingsForm::patchJson({{path, value}}), patch);
    QSignalSpy failed(&form, &app::VenueSettingsForm::failed);
    QSignalSpy saved(&form, &app::VenueSettingsForm::saved);
    form.save({{path, value}});
    QTRY_VERIFY_WITH_TIMEOUT(!failed.isEmpty() || !saved.isEmpty(), kTimeout);
    QVERIFY(saved.isEmpty());
    QCOMPARE(failed.constFirst().at(0).toString(), apiError("PATCH", "/admin/settings", patch));
    QCOMPARE(failed.constFirst().at(1).toString(), field);
    QCOMPARE(form.errorField(), field);

    // Nothing changed, in the service either.
    app::VenueSettingsForm fresh;
    QTRY_COMPARE_WITH_TIMEOUT(fresh.values(), before, kTimeout);
}

void TstAdminModels::saveSettings()
{
    app::VenueSettingsForm form;
    QTRY_VERIFY_WITH_TIMEOUT(!form.values().isEmpty(), kTimeout);
    QSignalSpy saved(&form, &app::VenueSettingsForm::saved);
    form.save({{QStringLiteral("rate_limits.pro.capacity"), QStringLiteral("1500")},
               {QStringLiteral("registration_open"), false},
               {QStringLiteral("cors_allowed_origins"), QStringList{QStringLiteral("https://desk.example:8443")}}});
    QTRY_COMPARE_WITH_TIMEOUT(saved.size(), 1, kTimeout);
    QCOMPARE(form.error(), QString());
    QCOMPARE(form.values().value(QStringLiteral("rate_limits.pro.capacity")).toInt(), 1500);
    QCOMPARE(form.values().value(QStringLiteral("registration_open")).toBool(), false);
    // The API sees the same settings.
    const test::ApiResponse settings = m_fixture->admin().get("/admin/settings");
    QCOMPARE(settings.object().value(QStringLiteral("registration_open")).toBool(true), false);
    QCOMPARE(settings.object()
                 .value(QStringLiteral("rate_limits"))
                 .toObject()
                 .value(QStringLiteral("pro"))
                 .toObject()
                 .value(QStringLiteral("capacity"))
                 .toInt(),
             1500);
    form.save({{QStringLiteral("registration_open"), true}, {QStringLiteral("cors_allowed_origins"), QStringList()}});
    QTRY_COMPARE_WITH_TIMEOUT(saved.size(), 2, kTimeout);
}

void TstAdminModels::addInstrument()
{
    app::AdminInstrumentsModel instruments;
    QAbstractItemModelTester tester(&instruments, QAbstractItemModelTester::FailureReportingMode::Fatal);
    const int before = instruments.rowCount();
    QVERIFY(before >= 1);
    // A bad tick size: the body reader's message, as POST /admin/instruments gives it.
    const Outcome bad = outcomeOf(instruments,
                                  [&] { instruments.addInstrument("SOL-USD", "SOL", "USD", "tiny", "0.1", "0.1"); });
    QCOMPARE(bad.message, apiError("POST", "/admin/instruments",
                                   R"({"symbol":"SOL-USD","base":"SOL","quote":"USD","tick_size":"tiny",)"
                                   R"("lot_size":"0.1","min_quantity":"0.1"})"));
    QCOMPARE(bad.field, QStringLiteral("tick_size"));
    QCOMPARE(instruments.rowCount(), before);
    // An existing symbol: CONFLICT from the service.
    const Outcome taken = outcomeOf(instruments, [&] {
        instruments.addInstrument("BTC-USD", "BTC", "USD", "0.01", "0.0001", "0.0001");
    });
    QCOMPARE(taken.message, apiError("POST", "/admin/instruments",
                                     R"({"symbol":"BTC-USD","base":"BTC","quote":"USD","tick_size":"0.01",)"
                                     R"("lot_size":"0.0001","min_quantity":"0.0001"})"));
    QCOMPARE(instruments.rowCount(), before);

    QCOMPARE(outcomeOf(instruments, [&] { instruments.addInstrument("SOL-USD", "SOL", "USD", "0.01", "0.1", "0.1"); })
                 .message,
             QString());
    QCOMPARE(instruments.rowCount(), before + 1);
    const QModelIndex last = instruments.index(before);
    QCOMPARE(instruments.data(last, app::AdminInstrumentsModel::SymbolRole).toString(), QStringLiteral("SOL-USD"));
    QCOMPARE(instruments.data(last, app::AdminInstrumentsModel::LotSizeRole).toString(), QStringLiteral("0.1"));
    // The Desk hears of it too; the model then stays as it is.
    QTRY_VERIFY_WITH_TIMEOUT(m_fixture->desk().symbols().contains(QStringLiteral("SOL-USD")), kTimeout);
    QCOMPARE(instruments.rowCount(), before + 1);
}

void TstAdminModels::haltResumeRoundTrip()
{
    app::AdminInstrumentsModel instruments;
    QAbstractItemModelTester tester(&instruments, QAbstractItemModelTester::FailureReportingMode::Fatal);
    int row = -1;
    for (int i = 0; i < instruments.rowCount(); ++i) {
        if (instruments.data(instruments.index(i), app::AdminInstrumentsModel::SymbolRole).toString() == u"ETH-USD")
            row = i;
    }
    QVERIFY(row >= 0);
    QCOMPARE(outcomeOf(instruments, [&] { instruments.setHalted(QStringLiteral("ETH-USD"), true); }).message, QString());
    QCOMPARE(instruments.data(instruments.index(row), app::AdminInstrumentsModel::StatusRole).toString(),
             QStringLiteral("halted"));
    QTRY_COMPARE_WITH_TIMEOUT(m_fixture->desk().instrument(QStringLiteral("ETH-USD"))->status, InstrumentStatus::Halted,
                              kTimeout);
    QCOMPARE(outcomeOf(instruments, [&] { instruments.setHalted(QStringLiteral("ETH-USD"), false); }).message,
             QString());
    QCOMPARE(instruments.data(instruments.index(row), app::AdminInstrumentsModel::HaltedRole).toBool(), false);
    QTRY_COMPARE_WITH_TIMEOUT(m_fixture->desk().instrument(QStringLiteral("ETH-USD"))->status,
                              InstrumentStatus::Trading, kTimeout);
    // An unknown symbol: NOT_FOUND, as PATCH /admin/instruments/{symbol} answers.
    const Outcome unknown = outcomeOf(instruments, [&] { instruments.setHalted(QStringLiteral("NOPE-USD"), true); });
    QCOMPARE(unknown.message, apiError("PATCH", "/admin/instruments/NOPE-USD", R"({"status":"halted"})"));
}

void TstAdminModels::killSwitch()
{
    // alice rests one buy order in BTC-USD.
    std::unique_ptr<test::ApiClient> alice = m_fixture->client(QStringLiteral("alice"));
    QVERIFY(alice);
    const test::ApiResponse order
        = alice->post("/api/v1/orders", R"({"symbol":"BTC-USD","side":"buy","type":"limit","price":"100","quantity":"1"})");
    QVERIFY2(order.status == 201, order.raw.body.constData());

    app::AdminInstrumentsModel instruments;
    QAbstractItemModelTester tester(&instruments, QAbstractItemModelTester::FailureReportingMode::Fatal);
    QVERIFY(instruments.killSwitchDescription(QStringLiteral("BTC-USD")).contains(QStringLiteral("Halt BTC-USD")));
    QVERIFY(instruments.killSwitchDescription(QString()).contains(QStringLiteral("all")));
    QSignalSpy finished(&instruments, &app::AdminInstrumentsModel::killSwitchFinished);
    QCOMPARE(outcomeOf(instruments, [&] { instruments.killSwitch(QStringLiteral("BTC-USD")); }).message, QString());
    QCOMPARE(finished.size(), 1);
    QCOMPARE(instruments.lastHalted(), QStringList{QStringLiteral("BTC-USD")});
    QCOMPARE(instruments.lastCancelled(), 1);
    QTRY_COMPARE_WITH_TIMEOUT(m_fixture->desk().instrument(QStringLiteral("BTC-USD"))->status, InstrumentStatus::Halted,
                              kTimeout);
    // Unknown symbol: the service's NOT_FOUND.
    const Outcome unknown = outcomeOf(instruments, [&] { instruments.killSwitch(QStringLiteral("NOPE-USD")); });
    QCOMPARE(unknown.message, apiError("POST", "/admin/kill-switch", R"({"symbol":"NOPE-USD"})"));
    QCOMPARE(outcomeOf(instruments, [&] { instruments.setHalted(QStringLiteral("BTC-USD"), false); }).message,
             QString());
}

void TstAdminModels::auditLog()
{
    app::AuditLogModel audit;
    QAbstractItemModelTester tester(&audit, QAbstractItemModelTester::FailureReportingMode::Fatal);
    QTRY_VERIFY_WITH_TIMEOUT(audit.rowCount() > 0, kTimeout);
    QCOMPARE(audit.page(), 1);
    // Newest first: the last thing done was resuming BTC-USD after the kill switch (logins aside).
    audit.setFilterText(QStringLiteral("instrument"));
    QVERIFY(audit.rowCount() > 0);
    QCOMPARE(audit.data(audit.index(0), app::AuditLogModel::ActionRole).toString(),
             QStringLiteral("instrument_status_changed"));
    audit.setFilterText(QString());
    for (int row = 1; row < audit.rowCount(); ++row) {
        QVERIFY(audit.data(audit.index(row - 1), app::AuditLogModel::AtRole).toString()
                >= audit.data(audit.index(row), app::AuditLogModel::AtRole).toString());
    }
    audit.setFilterText(QStringLiteral("kill"));
    QCOMPARE(audit.rowCount(), 1);
    QCOMPARE(audit.data(audit.index(0), app::AuditLogModel::TargetRole).toString(),
             QStringLiteral("instrument:BTC-USD"));
    audit.setFilterText(QStringLiteral("admin")); // the actor
    QVERIFY(audit.rowCount() > 1);
    audit.setFilterText(QString());
    QCOMPARE(audit.pageCount(), 1);
    QSignalSpy page(&audit, &app::AuditLogModel::pageChanged);
    audit.nextPage(); // past the last page: stays on it
    QTRY_COMPARE_WITH_TIMEOUT(page.size(), 1, kTimeout);
    QCOMPARE(audit.page(), 1);
}

void TstAdminModels::databaseUrlTest()
{
    app::ServerSettingsView view;
    QSignalSpy loaded(&view, &app::ServerSettingsView::loaded);
    QTRY_COMPARE_WITH_TIMEOUT(loaded.size(), 1, kTimeout);
    QVERIFY(view.databaseUrl().startsWith(QStringLiteral("sqlite:")));
    QVERIFY(!view.listenAddress().isEmpty());
    QVERIFY(view.configFile().endsWith(QStringLiteral("bourse.toml")));

    QSignalSpy tested(&view, &app::ServerSettingsView::tested);
    // Malformed: the parser's own message, at once.
    const QString malformed = QStringLiteral("postgresql://u:secret@db:notaport/venue");
    view.testDatabaseUrl(malformed);
    QCOMPARE(tested.size(), 1);
    QCOMPARE(view.testPassed(), false);
    QCOMPARE(view.testMessage(), sql::DatabaseUrl::parse(malformed).error());
    QVERIFY(!view.testMessage().contains(QStringLiteral("secret")));

    // Unreachable: the connection's error, from the worker thread; the GUI thread keeps running meanwhile.
    view.testDatabaseUrl(QStringLiteral("postgresql://u:secret@127.0.0.1:1/venue?connect_timeout=2"));
    QVERIFY(view.testing());
    QTRY_COMPARE_WITH_TIMEOUT(tested.size(), 2, kTimeout);
    QCOMPARE(view.testPassed(), false);
    QVERIFY(!view.testMessage().isEmpty());
    QVERIFY2(!view.testMessage().contains(QStringLiteral("secret")), qPrintable(view.testMessage()));

    // The venue's own database connects.
    view.testDatabaseUrl(view.databaseUrl());
    QTRY_COMPARE_WITH_TIMEOUT(tested.size(), 3, kTimeout);
    QVERIFY2(view.testPassed(), qPrintable(view.testMessage()));
}

void TstAdminModels::liveStats()
{
    app::ServerStats stats;
    QSignalSpy sampled(&stats, &app::ServerStats::sampled);
    const auto sampleOnce = [&] {
        const qsizetype before = sampled.size();
        stats.sample();
        return QTest::qWaitFor([&] { return sampled.size() > before; }, kTimeout);
    };
    QVERIFY(sampleOnce());
    for (int i = 0; i < 5; ++i)
        QCOMPARE(m_fixture->admin().get("/admin/settings").status, 200);
    // The rate is over the time between two samples, which may be very short here: sampled until it shows
    // the five requests.
    // (A loop, not QTRY_VERIFY: that evaluates its expression once more at the end, and sampling again would
    // see no new request.)
    bool counted = false;
    for (int attempt = 0; attempt < 100 && !counted; ++attempt) {
        QVERIFY(sampleOnce());
        counted = stats.requestsPerSecond() > 0;
        if (!counted)
            QTest::qWait(10);
    }
    QVERIFY(counted);
    QVERIFY(stats.sampleCount() >= 2);
    QCOMPARE(stats.requestsHistory().size(), stats.sampleCount());
    QVERIFY(stats.httpConnections() >= 1); // the admin client's
    QVERIFY(stats.uptimeSeconds() >= 0);
    // The history keeps the last kHistorySeconds samples.
    for (int i = 0; i < app::ServerStats::kHistorySeconds + 5; ++i)
        QVERIFY(sampleOnce());
    QCOMPARE(stats.lagHistory().size(), app::ServerStats::kHistorySeconds);
}

void TstAdminModels::nonAdminIsRefused()
{
    app::UsersModel users;
    app::AdminInstrumentsModel instruments;
    app::AuditLogModel audit;
    app::VenueSettingsForm form;
    m_fixture->desk().signOut();
    QVERIFY(m_fixture->signIn(QStringLiteral("alice")));
    // What the API's router answers a trader on every /admin/* route.
    const QString forbidden = QStringLiteral("the trader role may not use this route");

    QCOMPARE(outcomeOf(users, [&] { users.refresh(); }).message, forbidden);
    QCOMPARE(outcomeOf(users,
                       [&] {
                           users.createUser(QStringLiteral("eve"), QStringLiteral("eve-password-1"),
                                            QStringLiteral("admin"));
                       })
                 .message,
             forbidden);
    QCOMPARE(outcomeOf(users, [&] { users.setRole(m_alice, QStringLiteral("admin")); }).message, forbidden);
    QCOMPARE(outcomeOf(users, [&] { users.setActive(m_alice, false); }).message, forbidden);
    QCOMPARE(outcomeOf(users, [&] { users.moveFunds(m_alice, true, QStringLiteral("USD"), "1000000"); }).message,
             forbidden);
    QCOMPARE(outcomeOf(instruments, [&] { instruments.addInstrument("ADA-USD", "ADA", "USD", "0.01", "1", "1"); })
                 .message,
             forbidden);
    QCOMPARE(outcomeOf(instruments, [&] { instruments.setHalted(QStringLiteral("BTC-USD"), true); }).message, forbidden);
    QCOMPARE(outcomeOf(instruments, [&] { instruments.killSwitch(QString()); }).message, forbidden);

    QSignalSpy auditFailed(&audit, &app::AuditLogModel::failed);
    audit.load(1);
    QTRY_COMPARE_WITH_TIMEOUT(auditFailed.size(), 1, kTimeout);
    QCOMPARE(auditFailed.constFirst().at(0).toString(), forbidden);

    QSignalSpy settingsFailed(&form, &app::VenueSettingsForm::failed);
    form.save({{QStringLiteral("registration_open"), false}});
    QTRY_COMPARE_WITH_TIMEOUT(settingsFailed.size(), 1, kTimeout);
    QCOMPARE(settingsFailed.constFirst().at(0).toString(), forbidden);
    // An invalid patch from a non-admin is FORBIDDEN too, as the router answers before reading the body.
    form.save({{QStringLiteral("max_body_bytes"), QStringLiteral("-1")}});
    QTRY_COMPARE_WITH_TIMEOUT(settingsFailed.size(), 2, kTimeout);
    QCOMPARE(settingsFailed.at(1).at(0).toString(), forbidden);

    // Nothing changed: BTC-USD trades, registration is open.
    QCOMPARE(m_fixture->desk().instrument(QStringLiteral("BTC-USD"))->status, InstrumentStatus::Trading);
    const test::ApiResponse settings = m_fixture->admin().get("/admin/settings");
    QCOMPARE(settings.object().value(QStringLiteral("registration_open")).toBool(false), true);
    m_fixture->desk().signOut();
    signInAdmin();
}

QTEST_MAIN(TstAdminModels)
#include "tst_admin_models.moc"
