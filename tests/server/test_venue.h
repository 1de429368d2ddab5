// TestVenue: a whole venue for the API tests, in the test process — a migrated database (SQLite or a private
// PostgreSQL, from TestDatabases), the journal writer, the engine host, the default instruments, and the
// VenueServer listening on a free loopback port — all on a ServerThread, so that the test thread can talk to
// it with blocking raw sockets. ApiClient is a small JSON client over RawClient for the table-driven tests.
// Test thread only.
#pragma once

#include "database_url.h"
#include "expected.h"
#include "raw_http.h"
#include "venue_settings.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QSslConfiguration>
#include <QString>

#include <memory>
#include <optional>

namespace bourse::server {
class VenueServer;
}

namespace bourse::test {
class TestDatabases;
}

namespace bourse::test {

class TestVenue final
{
public:
    static constexpr const char *kAdminUsername = "admin";
    static constexpr const char *kAdminPassword = "admin-password-1";

    struct Options
    {
        sql::DatabaseUrl database;
        QString dataDir;
        // No first admin at start: the desktop window's wizard is to create one (VenueServer::Config).
        bool firstAdminFromWindow = false;
        // The run-time settings it starts with, as a config file's [limits] gives them (VenueServer::Config).
        server::VenueSettings settingsDefaults{};
    };

    // Starts the venue, over HTTPS when `tls` is given; the error says what failed.
    static Expected<std::unique_ptr<TestVenue>, QString> start(const Options &options,
                                                               std::optional<QSslConfiguration> tls = std::nullopt);
    // A self-signed certificate for localhost and its key, made in `dir` by the openssl command (installed
    // with ca-certificates), as a server configuration; the error says why not.
    static Expected<QSslConfiguration, QString> selfSignedTls(const QString &dir);
    // A venue on a fresh database of `databases` with a data dir of its own under `parentDir`; null (and a
    // warning saying why) when it cannot start.
    static std::unique_ptr<TestVenue> startFresh(TestDatabases &databases, sql::DatabaseUrl::Driver driver,
                                                 const QString &parentDir);
    ~TestVenue(); // stops it: the server drains, then engine and journal stop

    quint16 port() const { return m_port; }
    // Runs `work` on the server thread with the VenueServer (for checks of state no route shows).
    void onServer(const std::function<void(server::VenueServer &)> &work);

private:
    TestVenue() = default;
    struct Parts;
    std::unique_ptr<Parts> m_parts;
    std::unique_ptr<ServerThread> m_thread;
    quint16 m_port = 0;
};

// One HTTP exchange's result, with the body parsed as JSON when it is JSON.
struct ApiResponse
{
    int status = 0;
    RawResponse raw;
    QJsonDocument json;

    QJsonObject object() const { return json.object(); }
    QString errorCode() const
    {
        return json.object().value(QStringLiteral("error")).toObject().value(QStringLiteral("code")).toString();
    }
    QString errorField() const
    {
        return json.object().value(QStringLiteral("error")).toObject().value(QStringLiteral("field")).toString();
    }
};

class ApiClient final
{
public:
    explicit ApiClient(quint16 port);

    void setToken(QByteArray accessToken) { m_token = std::move(accessToken); }
    const QByteArray &token() const { return m_token; }

    // A request with a JSON body (Content-Type application/json) unless `contentType` says otherwise;
    // extra headers as "Name: value" lines. A fresh connection is made when the last one closed.
    ApiResponse request(QByteArrayView method, QByteArrayView path, const QByteArray &body = {},
                        const QByteArrayList &headers = {}, QByteArrayView contentType = "application/json");
    ApiResponse get(QByteArrayView path) { return request("GET", path); }
    ApiResponse post(QByteArrayView path, const QByteArray &body) { return request("POST", path, body); }

    // Logs in and keeps the access token; the whole login response.
    ApiResponse login(const QString &username, const QString &password);
    // Creates a user through the admin API (the client must hold an admin's token), then returns its id.
    std::optional<qint64> createUser(const QString &username, const QString &password, const QString &role);
    bool deposit(qint64 user, const QString &asset, const QString &amount);

private:
    quint16 m_port;
    std::unique_ptr<RawClient> m_client;
    QByteArray m_token;
};

// A client logged in as the test venue's admin.
std::unique_ptr<ApiClient> adminClient(quint16 port);

} // namespace bourse::test
