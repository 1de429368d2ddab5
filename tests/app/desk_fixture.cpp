#include "desk_fixture.h"

#include "venue_server.h"

#include <QDir>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTest>

namespace bourse::test {

std::unique_ptr<DeskFixture> DeskFixture::start(FirstAdmin firstAdmin)
{
    // The window's preferences and remembered username go to a test location, not the user's.
    QStandardPaths::setTestModeEnabled(true);
    // Every run starts from the window's defaults, not from what an earlier run left (split sizes, theme).
    QSettings(QSettings::IniFormat, QSettings::UserScope, QStringLiteral("bourse"), QStringLiteral("window")).clear();
    std::unique_ptr<DeskFixture> fixture(new DeskFixture);
    if (!fixture->m_directory.isValid()) {
        qWarning("cannot create a temporary directory");
        return nullptr;
    }
    const QString dataDir = fixture->m_directory.filePath(QStringLiteral("data"));
    QDir().mkpath(dataDir);
    auto venue = TestVenue::start({sql::DatabaseUrl::sqlite(fixture->m_directory.filePath(QStringLiteral("bourse.db"))),
                                   dataDir, firstAdmin == FirstAdmin::ByWizard});
    if (!venue) {
        qWarning("%s", qPrintable(venue.error()));
        return nullptr;
    }
    fixture->m_venue = std::move(venue.value());
    if (firstAdmin == FirstAdmin::Created) {
        fixture->m_admin = adminClient(fixture->m_venue->port());
        if (!fixture->m_admin) {
            qWarning("the admin cannot log in");
            return nullptr;
        }
    }
    server::VenueServer *server = nullptr;
    fixture->m_venue->onServer([&](server::VenueServer &running) {
        server = &running;
        fixture->m_context = new QObject;
    });
    fixture->m_desk = std::make_unique<app::Desk>(nullptr);
    app::Desk::setInstance(fixture->m_desk.get());
    fixture->m_desk->attach(server, fixture->m_context,
                            QStringLiteral("http://127.0.0.1:%1").arg(fixture->m_venue->port()));
    return fixture;
}

DeskFixture::~DeskFixture()
{
    if (m_desk) {
        m_desk->detach();
        if (app::Desk::instance() == m_desk.get())
            app::Desk::setInstance(nullptr);
    }
    if (m_venue && m_context) {
        QObject *context = m_context;
        m_venue->onServer([context](server::VenueServer &) { delete context; });
    }
    m_desk.reset();
    m_admin.reset();
    m_venue.reset();
}

std::optional<qint64> DeskFixture::addUser(const QString &username,
                                           const std::vector<std::pair<QString, QString>> &deposits,
                                           const QString &role)
{
    const std::optional<qint64> id = m_admin->createUser(username, QString::fromLatin1(kTraderPassword), role);
    if (!id)
        return std::nullopt;
    for (const auto &[asset, amount] : deposits) {
        if (!m_admin->deposit(*id, asset, amount))
            return std::nullopt;
    }
    return id;
}

bool DeskFixture::signIn(const QString &username, const QString &password)
{
    QSignalSpy failed(m_desk.get(), &app::Desk::signInFailed);
    m_desk->signIn(username, password);
    if (!QTest::qWaitFor([&] { return m_desk->signedIn() || !failed.isEmpty(); }, 15'000))
        qWarning("sign-in: no answer within 15 s");
    if (!failed.isEmpty())
        qWarning("sign-in failed: %s", qPrintable(failed.constFirst().constFirst().toString()));
    return m_desk->signedIn();
}

std::unique_ptr<ApiClient> DeskFixture::client(const QString &username, const QString &password)
{
    auto api = std::make_unique<ApiClient>(m_venue->port());
    if (api->login(username, password).status != 200)
        return nullptr;
    return api;
}

} // namespace bourse::test
