// The Qt Quick Test runner for tests/qml/tst_*.qml: a real venue with the Desk attached (DeskFixture), signed in
// as the venue's admin with funds, and a `TestVenue` singleton (module Bourse.Test) through which a test acts as
// another trader over the real API. QApplication, as in bourse: Qt Charts needs it.
#include "desk_fixture.h"

#include <QApplication>
#include <QJsonArray>
#include <QJsonObject>
#include <QQmlEngine>
#include <QtQml/qqmlextensionplugin.h>
#include <QtQuickTest/quicktest.h>

#include <map>
#include <memory>

Q_IMPORT_QML_PLUGIN(Bourse_ModelsPlugin)
Q_IMPORT_QML_PLUGIN(Bourse_UiPlugin)

namespace {

using bourse::test::DeskFixture;

// What a QML test may ask of the venue besides the window's own calls.
class VenueHelper final : public QObject
{
    Q_OBJECT

public:
    explicit VenueHelper(DeskFixture &fixture)
        : m_fixture(fixture)
    {}

    // Creates a funded trader (once per name); whether it exists.
    Q_INVOKABLE bool addTrader(const QString &name)
    {
        if (m_clients.contains(name))
            return true;
        if (!m_fixture.addUser(name, {{"USD", "10000000"}, {"BTC", "1000"}, {"ETH", "1000"}, {"XAU", "1000"}}))
            return false;
        std::unique_ptr<bourse::test::ApiClient> client = m_fixture.client(name);
        if (!client)
            return false;
        m_fixture.admin().request("PATCH", "/admin/users/" + QByteArray::number(userId(name)),
                                  R"({"rate_limit_tier":"unlimited"})");
        m_clients.emplace(name, std::move(client));
        return true;
    }
    // Places a limit order as that trader; the order's id, or -1 with a warning.
    Q_INVOKABLE qint64 placeOrder(const QString &trader, const QString &symbol, const QString &side,
                                  const QString &price, const QString &quantity)
    {
        if (!addTrader(trader))
            return -1;
        const QByteArray body = QStringLiteral(R"({"symbol":"%1","side":"%2","type":"limit","price":"%3","quantity":"%4"})")
                                    .arg(symbol, side, price, quantity)
                                    .toUtf8();
        const bourse::test::ApiResponse response = m_clients.at(trader)->post("/api/v1/orders", body);
        if (response.status != 201) {
            qWarning("placeOrder: %d %s", response.status, response.raw.body.constData());
            return -1;
        }
        return response.object().value(QStringLiteral("id")).toInteger(-1);
    }
    // The HTTP status of a request by the venue's admin, for checks the window cannot make itself.
    Q_INVOKABLE int adminRequest(const QString &method, const QString &path, const QString &body)
    {
        return m_fixture.admin().request(method.toUtf8(), path.toUtf8(), body.toUtf8()).status;
    }
    Q_INVOKABLE QString adminGet(const QString &path)
    {
        return QString::fromUtf8(m_fixture.admin().get(path.toUtf8()).raw.body);
    }

private:
    qint64 userId(const QString &name)
    {
        const QJsonArray users = m_fixture.admin().get("/admin/users?page_size=200").object()
                                     .value(QStringLiteral("items")).toArray();
        for (const QJsonValue &user : users) {
            if (user.toObject().value(QStringLiteral("username")).toString() == name)
                return user.toObject().value(QStringLiteral("id")).toInteger();
        }
        return 0;
    }

    DeskFixture &m_fixture;
    std::map<QString, std::unique_ptr<bourse::test::ApiClient>> m_clients;
};

class Setup final : public QObject
{
    Q_OBJECT

public slots:
    void applicationAvailable()
    {
        m_fixture = DeskFixture::start();
        if (!m_fixture)
            qFatal("tst_qml: the venue did not start");
        const QString admin = QString::fromLatin1(bourse::test::TestVenue::kAdminUsername);
        for (const auto &[asset, amount] : {std::pair{"USD", "1000000"}, std::pair{"BTC", "100"}, std::pair{"ETH", "100"}})
            m_fixture->admin().deposit(1, QLatin1StringView(asset), QLatin1StringView(amount));
        if (!m_fixture->signIn(admin, QString::fromLatin1(bourse::test::TestVenue::kAdminPassword)))
            qFatal("tst_qml: the admin cannot sign in");
        m_helper = std::make_unique<VenueHelper>(*m_fixture);
    }
    void qmlEngineAvailable(QQmlEngine *engine)
    {
        engine->addImportPath(QStringLiteral("qrc:/qt/qml"));
        qmlRegisterSingletonInstance("Bourse.Test", 1, 0, "TestVenue", m_helper.get());
    }
    void cleanupTestCase()
    {
        m_helper.reset();
        m_fixture.reset();
    }

private:
    std::unique_ptr<DeskFixture> m_fixture;
    std::unique_ptr<VenueHelper> m_helper;
};

} // namespace

int main(int argc, char **argv)
{
    // quick_test_main makes a QGuiApplication only when there is no application yet.
    QApplication application(argc, argv);
    Setup setup;
    return quick_test_main_with_setup(argc, argv, "bourse_qml", QUICK_TEST_SOURCE_DIR, &setup);
}

#include "tst_qml.moc"
