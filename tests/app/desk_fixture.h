// DeskFixture: the desktop window's C++ side against a whole real venue, for the model tests, the Qt Quick
// tests and the window tests — a TestVenue (SQLite in a temp dir, the API on a free loopback port, on its own
// thread), a Desk attached to it as bourse attaches one, an admin API client to set up users and funds, and
// sign-in helpers. Test (main) thread only.
#pragma once

#include "desk.h"
#include "test_venue.h"

#include <QString>
#include <QTemporaryDir>

#include <memory>
#include <utility>
#include <vector>

namespace bourse::test {

class DeskFixture final
{
public:
    static constexpr const char *kTraderPassword = "trader-password-1";

    enum class FirstAdmin { Created, ByWizard };
    // Null, with a warning saying why, when the venue cannot start. ByWizard: the venue starts without an
    // admin (the Desk needsFirstAdmin) and admin() is unusable until one exists.
    static std::unique_ptr<DeskFixture> start(FirstAdmin firstAdmin = FirstAdmin::Created);
    ~DeskFixture(); // the Desk detaches, then the venue stops

    app::Desk &desk() { return *m_desk; }
    TestVenue &venue() { return *m_venue; }
    ApiClient &admin() { return *m_admin; }
    quint16 port() const { return m_venue->port(); }

    // Creates a user (role "trader" unless said) with deposits such as {{"USD", "100000"}, {"BTC", "10"}};
    // its id, or none.
    std::optional<qint64> addUser(const QString &username, const std::vector<std::pair<QString, QString>> &deposits,
                                  const QString &role = QStringLiteral("trader"));
    // Signs the Desk in and waits for the session (or the failure); whether it is signed in.
    bool signIn(const QString &username, const QString &password = QString::fromLatin1(kTraderPassword));
    // An API client logged in as that user.
    std::unique_ptr<ApiClient> client(const QString &username,
                                      const QString &password = QString::fromLatin1(kTraderPassword));

private:
    DeskFixture() = default;
    QTemporaryDir m_directory;
    std::unique_ptr<TestVenue> m_venue;
    std::unique_ptr<ApiClient> m_admin;
    QObject *m_context = nullptr; // lives on the venue's thread
    std::unique_ptr<app::Desk> m_desk;
};

} // namespace bourse::test
