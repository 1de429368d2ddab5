// The real window, as a person sees it: bourse's own VenueProcess and Workstation (everything main() does
// but read argv) on a display — xvfb-run in CI — driven with real mouse and key events on the QQuickWindow:
// the first-run wizard, the workspace, an order placed from the ticket and seen in the ladder and the open
// orders, the admin pages; a screenshot of each, in both themes, saved into the build folder
// (<build>/screenshots) to be looked at.
#include "options.h"
#include "venue_process.h"
#include "workstation.h"

#include <QDir>
#include <QProcessEnvironment>
#include <QQuickItem>
#include <QQuickWindow>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QtQml/qqmlextensionplugin.h>

#include <memory>

Q_IMPORT_QML_PLUGIN(Bourse_ModelsPlugin)
Q_IMPORT_QML_PLUGIN(Bourse_UiPlugin)

using namespace bourse::app;

class tst_Window final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void firstRunWizard();
    void workspace();
    void orderFromTicket();
    void ladderClickFillsTicket();
    void adminPages();
    void signOutAndIn();
    void cleanupTestCase();

private:
    QQuickItem *item(const QString &name) const;
    QQuickItem *waitForItem(const QString &name) const;
    void click(QQuickItem *target) const;
    void type(QQuickItem *field, const QString &text) const;
    void screenshot(const QString &name) const;
    void setTheme(bool dark) const;

    QTemporaryDir m_dir;
    std::unique_ptr<VenueProcess> m_venue;
    std::unique_ptr<Workstation> m_workstation;
    QQuickWindow *m_window = nullptr;
    QString m_shots;
    bool m_finished = false;
};

namespace {

constexpr int kTimeoutMs = 20'000;

quint16 freePort()
{
    QTcpServer probe;
    return probe.listen(QHostAddress::LocalHost) ? probe.serverPort() : quint16(0);
}

QQuickItem *findItem(QQuickItem *root, const QString &name)
{
    if (!root)
        return nullptr;
    if (root->objectName() == name && root->isVisible())
        return root;
    const QList<QQuickItem *> children = root->childItems();
    for (QQuickItem *child : children) {
        if (QQuickItem *found = findItem(child, name))
            return found;
    }
    return nullptr;
}

} // namespace

void tst_Window::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    // Every run starts from the window's defaults, not from what an earlier run left (split sizes, theme).
    QSettings(QSettings::IniFormat, QSettings::UserScope, QStringLiteral("bourse"), QStringLiteral("window")).clear();
    QVERIFY(m_dir.isValid());
    m_shots = QStringLiteral(BOURSE_SCREENSHOT_DIR);
    QVERIFY(QDir().mkpath(m_shots));
    OptionsInput input;
    input.arguments = {QStringLiteral("--data-dir"), m_dir.filePath(QStringLiteral("data")), QStringLiteral("--listen"),
                       QStringLiteral("127.0.0.1:%1").arg(freePort())};
    input.environment = QProcessEnvironment::systemEnvironment();
    input.environment.remove(QStringLiteral("BOURSE_ADMIN_PASSWORD"));
    input.environment.insert(QStringLiteral("DISPLAY"), qEnvironmentVariable("DISPLAY", QStringLiteral(":0")));
    input.defaultDataDir = m_dir.filePath(QStringLiteral("default"));
    input.workingDirectory = m_dir.path();
    const auto invocation = parseOptions(input);
    QVERIFY2(invocation, qPrintable(invocation ? QString() : invocation.error()));
    bourse::Expected<OpenedVenue, StartFailure> opened = openVenue(invocation->options);
    QVERIFY2(opened, qPrintable(opened ? QString() : opened.error().line));
    m_venue = std::make_unique<VenueProcess>(invocation->options, std::move(opened.value()));
    m_venue->setFirstAdminFromWindow(true);
    connect(m_venue.get(), &VenueProcess::finished, this, [this] { m_finished = true; });
    m_workstation = std::make_unique<Workstation>(*m_venue);
    const std::optional<QString> shown = m_workstation->show();
    QVERIFY2(!shown, qPrintable(shown.value_or(QString())));
    m_window = m_workstation->window();
    QVERIFY(m_window);
    m_window->resize(1500, 940);
    QVERIFY(QTest::qWaitForWindowExposed(m_window));
    m_venue->start();
    QTRY_VERIFY_WITH_TIMEOUT(m_workstation->desk().ready(), kTimeoutMs);
}

void tst_Window::cleanupTestCase()
{
    if (!m_venue)
        return;
    // In bourse closing the window stops the venue (QGuiApplication::lastWindowClosed, which Qt emits only
    // inside exec(), so not here): the same shutdown.
    m_venue->shutdown(QStringLiteral("test finished"));
    QTRY_VERIFY_WITH_TIMEOUT(m_finished, kTimeoutMs);
    m_workstation.reset();
    m_venue.reset();
}

QQuickItem *tst_Window::item(const QString &name) const
{
    return findItem(m_window->contentItem(), name);
}

QQuickItem *tst_Window::waitForItem(const QString &name) const
{
    QQuickItem *found = nullptr;
    if (!QTest::qWaitFor([&] { return (found = item(name)) != nullptr; }, kTimeoutMs))
        qWarning("no visible item named %s", qPrintable(name));
    return found;
}

void tst_Window::click(QQuickItem *target) const
{
    QVERIFY(target);
    const QPointF centre = target->mapToScene(QPointF(target->width() / 2, target->height() / 2));
    QTest::mouseClick(m_window, Qt::LeftButton, Qt::NoModifier, centre.toPoint());
}

void tst_Window::type(QQuickItem *field, const QString &text) const
{
    click(field);
    QTRY_VERIFY(field->hasActiveFocus());
    QTest::keyClick(m_window, Qt::Key_A, Qt::ControlModifier);
    QTest::keyClick(m_window, Qt::Key_Backspace);
    for (const QChar character : text) // QTest::keyClicks takes widgets only
        QTest::keyClick(m_window, character.toLatin1());
}

void tst_Window::screenshot(const QString &name) const
{
    // The pointer out of the way (no hover, no tooltip), and a moment for what the last input changed to
    // be drawn.
    QTest::mouseMove(m_window, QPoint(m_window->width() - 2, m_window->height() / 2));
    QTest::qWait(200);
    const QImage image = m_window->grabWindow();
    QVERIFY(!image.isNull());
    QVERIFY(image.save(QDir(m_shots).filePath(name + QStringLiteral(".png"))));
}

void tst_Window::setTheme(bool dark) const
{
    QQuickItem *button = waitForItem(QStringLiteral("themeSwitch"));
    QVERIFY(button);
    const bool current = m_workstation->desk().preference(QStringLiteral("theme/dark"), true).toBool();
    if (current != dark)
        click(button);
    QTRY_COMPARE(m_workstation->desk().preference(QStringLiteral("theme/dark"), true).toBool(), dark);
}

void tst_Window::firstRunWizard()
{
    Desk &desk = m_workstation->desk();
    QVERIFY(desk.needsFirstAdmin());
    QQuickItem *username = waitForItem(QStringLiteral("wizardUsername"));
    QVERIFY(username);
    screenshot(QStringLiteral("01-first-run-wizard"));
    type(username, QStringLiteral("boss"));
    type(item(QStringLiteral("wizardPassword")), QStringLiteral("boss-password-1"));
    // A mistyped confirmation is refused, and says why.
    type(item(QStringLiteral("wizardConfirmation")), QStringLiteral("boss-password-2"));
    click(item(QStringLiteral("wizardCreate")));
    QVERIFY(!desk.signedIn());
    QVERIFY(desk.needsFirstAdmin());
    screenshot(QStringLiteral("02-first-run-wizard-mismatch"));
    type(item(QStringLiteral("wizardConfirmation")), QStringLiteral("boss-password-1"));
    QTest::keyClick(m_window, Qt::Key_Return);
    QTRY_VERIFY_WITH_TIMEOUT(desk.signedIn(), kTimeoutMs);
    QVERIFY(desk.isAdmin());
    QCOMPARE(desk.username(), QStringLiteral("boss"));
}

void tst_Window::workspace()
{
    QVERIFY(waitForItem(QStringLiteral("workspaceColumns")));
    setTheme(true);
    screenshot(QStringLiteral("10-workspace-dark"));
    setTheme(false);
    screenshot(QStringLiteral("11-workspace-light"));
    setTheme(true);
}

void tst_Window::orderFromTicket()
{
    Desk &desk = m_workstation->desk();
    // Funds for the admin, through the admin's own service call (what the admin panel's deposit does).
    std::optional<bourse::server::ServiceResult<std::vector<bourse::sql::BalanceRecord>>> funded;
    const bourse::AccountId me = desk.userId().value_or(0);
    desk.call<std::vector<bourse::sql::BalanceRecord>>(
        &desk,
        [me](bourse::server::VenueService &service, const bourse::server::Caller &caller,
             bourse::server::Reply<std::vector<bourse::sql::BalanceRecord>> reply) {
            service.moveFunds(caller, me, true, QStringLiteral("USD"), bourse::Decimal::fromInteger(1'000'000),
                              std::move(reply));
        },
        [&](auto result) { funded = result; });
    QTRY_VERIFY(funded.has_value());
    QVERIFY(funded->hasValue());

    QQuickItem *price = waitForItem(QStringLiteral("ticketPrice"));
    QQuickItem *quantity = waitForItem(QStringLiteral("ticketQuantity"));
    QQuickItem *submit = waitForItem(QStringLiteral("ticketSubmit"));
    QVERIFY(price && quantity && submit);
    // An off-tick price keeps submit disabled.
    type(price, QStringLiteral("100.005"));
    type(quantity, QStringLiteral("0.5"));
    QTRY_VERIFY(!submit->property("enabled").toBool());
    screenshot(QStringLiteral("20-ticket-off-tick"));
    type(price, QStringLiteral("100.00"));
    QTRY_VERIFY(submit->property("enabled").toBool());
    click(submit);
    // The order rests: the ladder shows it as the user's own, the open orders list it.
    QQuickItem *ladder = waitForItem(QStringLiteral("ladder"));
    QVERIFY(ladder);
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            std::optional<std::vector<bourse::sql::OrderRecord>> open;
            desk.inspect<std::vector<bourse::sql::OrderRecord>>(
                &desk, [me](bourse::server::VenueServer &venue) { return venue.service().accounts().openOrders(me); },
                [&](std::vector<bourse::sql::OrderRecord> orders) { open = std::move(orders); });
            if (!QTest::qWaitFor([&] { return open.has_value(); }, kTimeoutMs))
                return false;
            return open->size() == 1 && open->front().price && open->front().price->toString(2) == "100.00";
        }(),
        kTimeoutMs);
    screenshot(QStringLiteral("21-order-resting-dark"));
    setTheme(false);
    screenshot(QStringLiteral("22-order-resting-light"));
    setTheme(true);
}

void tst_Window::ladderClickFillsTicket()
{
    // The bid at 100.00 (the order resting from orderFromTicket): a click there offers a sell at its price.
    QSignalSpy requested(&m_workstation->desk(), &Desk::ticketRequested);
    QQuickItem *row = waitForItem(QStringLiteral("ladderRow-buy-100.00"));
    QVERIFY(row);
    click(row);
    QTRY_COMPARE(requested.size(), 1);
    QCOMPARE(requested.at(0).at(0).toString(), QStringLiteral("sell"));
    QCOMPARE(requested.at(0).at(1).toString(), QStringLiteral("100.00"));
    QQuickItem *price = item(QStringLiteral("ticketPrice"));
    QVERIFY(price);
    QTRY_COMPARE(price->property("text").toString(), QStringLiteral("100.00"));
}

void tst_Window::adminPages()
{
    QQuickItem *tabs = waitForItem(QStringLiteral("workspaceTabs"));
    QVERIFY(tabs);
    QQuickItem *adminTab = item(QStringLiteral("adminTab"));
    QVERIFY(adminTab);
    click(adminTab);
    QTRY_VERIFY(waitForItem(QStringLiteral("adminSections")));
    // Every section the panel lists, in both themes.
    for (const bool dark : {true, false}) {
        setTheme(dark);
        click(item(QStringLiteral("adminTab")));
        for (int section = 0;; ++section) {
            QQuickItem *button = item(QStringLiteral("adminSection%1").arg(section));
            if (!button)
                break;
            click(button);
            screenshot(QStringLiteral("3%1-admin-%2-%3")
                           .arg(section)
                           .arg(button->property("text").toString().toLower().replace(u' ', u'-'))
                           .arg(dark ? u"dark" : u"light"));
        }
    }
    setTheme(true);
    click(item(QStringLiteral("tradingTab")));
    QTRY_VERIFY(item(QStringLiteral("workspaceColumns")));
}

void tst_Window::signOutAndIn()
{
    Desk &desk = m_workstation->desk();
    click(waitForItem(QStringLiteral("signOut")));
    QTRY_VERIFY(!desk.signedIn());
    QQuickItem *username = waitForItem(QStringLiteral("loginUsername"));
    QVERIFY(username);
    // The username of the last sign-in is remembered.
    QCOMPARE(username->property("text").toString(), QStringLiteral("boss"));
    type(item(QStringLiteral("loginPassword")), QStringLiteral("wrong-password-1"));
    QTest::keyClick(m_window, Qt::Key_Return);
    QQuickItem *error = waitForItem(QStringLiteral("loginError"));
    QVERIFY(error);
    QTRY_COMPARE(error->property("text").toString(), QStringLiteral("invalid username or password"));
    screenshot(QStringLiteral("40-sign-in-refused"));
    type(item(QStringLiteral("loginPassword")), QStringLiteral("boss-password-1"));
    QTest::keyClick(m_window, Qt::Key_Return);
    QTRY_VERIFY_WITH_TIMEOUT(desk.signedIn(), kTimeoutMs);
}

QTEST_MAIN(tst_Window)
#include "tst_window.moc"
