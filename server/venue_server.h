// VenueServer: the API side of one venue, composed — the query pool, the password hasher, the JWT signer, the
// metrics, the VenueService, and the HTTP API behind its guarded edge. Given a running EngineHost (and its
// journal), start() loads the users and the settings, creates the first admin on an empty database (spec
// §1), and listens; stop() drains: no new connections, in-flight requests finish, then everything closes.
// The app and the HTTP tests build it the same way. Created, started and stopped on one thread, which then
// serves HTTP (the "http" thread in bourse).
#pragma once

#include "database_url.h"
#include "http_api.h"
#include "http_edge.h"
#include "market_state.h"
#include "metrics.h"
#include "password_hasher.h"
#include "query_pool.h"
#include "stream_feeds.h"
#include "stream_hub.h"
#include "venue_service.h"
#include "ws_gateway.h"

#include <QHostAddress>
#include <QObject>
#include <QSslConfiguration>

#include <memory>
#include <optional>

namespace bourse::sql {
class JournalWriter;
}

namespace bourse::server {

class VenueServer final : public QObject
{
    Q_OBJECT

public:
    struct Config
    {
        sql::DatabaseUrl database;
        QHostAddress address = QHostAddress::LocalHost;
        quint16 port = 8080;                  // 0: any free port
        QString dataDir;                      // jwt.key and initial-admin-password live here
        std::optional<QByteArray> jwtSecret;  // BOURSE_JWT_SECRET
        std::optional<QString> adminUsername; // BOURSE_ADMIN_USERNAME
        std::optional<QString> adminPassword; // BOURSE_ADMIN_PASSWORD
        // The desktop window's first-run wizard creates the first admin: on an empty database start() then
        // creates none (unless BOURSE_ADMIN_PASSWORD is set) and awaitingFirstAdmin() says so.
        bool firstAdminFromWindow = false;
        PasswordHasher::Options hashing;
        std::optional<QSslConfiguration> tls;
        QString version;
        int queryThreads = sql::QueryPool::Options::defaultThreads();
        // The run-time settings the venue starts with (the config file's [limits]); the ones an admin saved in
        // the database win over them.
        VenueSettings settingsDefaults;
    };

    VenueServer(Config config, EngineHost &engine, sql::JournalWriter *journal, QObject *parent = nullptr);
    ~VenueServer() override;

    // `market`: the recovered engine's market (MarketState::fromEngine), taken before the engine started.
    // prepare() loads users and settings and builds the service, which from then on follows the engine's
    // batches: call it before the engine applies anything new. listen() opens the port. The errors are one
    // line for the log.
    std::optional<QString> prepare(MarketState market);
    std::optional<QString> listen();
    std::optional<QString> start(MarketState market)
    {
        if (std::optional<QString> error = prepare(std::move(market)))
            return error;
        return listen();
    }
    // Graceful: stops accepting, lets in-flight requests finish for up to `within`, then calls `done`.
    void drain(std::chrono::milliseconds within, std::function<void()> done);
    // Stops the hasher and the query pool (after drain()).
    void stop();

    quint16 port() const { return m_edge ? m_edge->port() : 0; }
    VenueService &service() { return *m_service; }
    MetricsRegistry &metrics() { return m_metrics; }
    HttpApi &api() { return *m_api; }
    WsGateway &webSockets() { return *m_gateway; }
    StreamHub &streamHub() { return *m_hub; }
    StreamFeeds &streamFeeds() { return *m_feeds; }
    // The database had no admin at start and the window's wizard is to create one (Config).
    bool awaitingFirstAdmin() const { return m_awaitingFirstAdmin; }
    void firstAdminCreated() { m_awaitingFirstAdmin = false; }
    // Open connections right now: HTTP (WebSockets and SSE streams included) and WebSockets alone.
    int httpConnections() const { return m_edge ? m_edge->connectionCount() : 0; }
    // The first admin's generated password, when start() made one (also logged once and written to
    // <dataDir>/initial-admin-password).
    const QString &generatedAdminPassword() const { return m_generatedPassword; }
    // What it was started with, and its journal writer (none in some tests): for the admin panel's figures.
    const Config &config() const { return m_config; }
    sql::JournalWriter *journal() const { return m_journal; }

private:
    std::optional<QString> bootstrapAdmin();
    void registerGauges();

    Config m_config;
    EngineHost &m_engine;
    sql::JournalWriter *m_journal;
    MetricsRegistry m_metrics;
    std::unique_ptr<sql::QueryPool> m_queries;
    std::unique_ptr<PasswordHasher> m_hasher;
    std::unique_ptr<JwtSigner> m_signer;
    std::unique_ptr<VenueService> m_service;
    std::unique_ptr<StreamHub> m_hub;     // outlives every outbox: declared before what holds them
    std::unique_ptr<StreamFeeds> m_feeds;
    std::unique_ptr<HttpApi> m_api; // owns the edge once serving
    std::unique_ptr<WsGateway> m_gateway; // its sessions write to the edge's sockets: destroyed before it
    HttpEdge *m_edge = nullptr;
    QString m_generatedPassword;
    bool m_awaitingFirstAdmin = false;
};

} // namespace bourse::server
