#include "test_venue.h"

#include "connection.h"
#include "engine_host.h"
#include "journal.h"
#include "journal_writer.h"
#include "migrations.h"
#include "test_databases.h"
#include "venue_server.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QSslCertificate>
#include <QSslKey>
#include <QEventLoop>
#include <QJsonArray>
#include <QTest>

#include <chrono>

namespace bourse::test {

struct TestVenue::Parts
{
    std::unique_ptr<sql::JournalWriter> journal;
    std::unique_ptr<server::EngineHost> engine;
    std::unique_ptr<server::VenueServer> server;
};

namespace {

TimeNs now()
{
    using namespace std::chrono;
    return duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count();
}

AddInstrument instrument(const char *symbol, const char *base, const char *quote, const char *tick, const char *lot)
{
    return AddInstrument{Symbol(symbol),
                         AssetCode(base),
                         AssetCode(quote),
                         Decimal::parse(tick).valueOr(Decimal()),
                         Decimal::parse(lot).valueOr(Decimal()),
                         Decimal::parse(lot).valueOr(Decimal())};
}

} // namespace

Expected<QSslConfiguration, QString> TestVenue::selfSignedTls(const QString &dir)
{
    const QString certificatePath = QDir(dir).filePath(QStringLiteral("tls.crt"));
    const QString keyPath = QDir(dir).filePath(QStringLiteral("tls.key"));
    QProcess openssl;
    openssl.start(QStringLiteral("openssl"),
                  {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"),
                   QStringLiteral("rsa:2048"), QStringLiteral("-nodes"), QStringLiteral("-days"), QStringLiteral("1"),
                   QStringLiteral("-subj"), QStringLiteral("/CN=localhost"), QStringLiteral("-keyout"), keyPath,
                   QStringLiteral("-out"), certificatePath});
    if (!openssl.waitForFinished(60'000) || openssl.exitCode() != 0)
        return unexpected(QStringLiteral("openssl req failed: ") + QString::fromLocal8Bit(openssl.readAllStandardError()));
    QFile certificateFile(certificatePath);
    QFile keyFile(keyPath);
    if (!certificateFile.open(QIODevice::ReadOnly) || !keyFile.open(QIODevice::ReadOnly))
        return unexpected(QStringLiteral("cannot read the certificate or the key openssl wrote"));
    const QList<QSslCertificate> chain = QSslCertificate::fromData(certificateFile.readAll(), QSsl::Pem);
    if (chain.size() != 1)
        return unexpected(QStringLiteral("openssl wrote %1 certificates, not 1").arg(chain.size()));
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.setLocalCertificateChain(chain);
    tls.setPrivateKey(QSslKey(keyFile.readAll(), QSsl::Rsa, QSsl::Pem));
    return tls;
}

std::unique_ptr<TestVenue> TestVenue::startFresh(TestDatabases &databases, sql::DatabaseUrl::Driver driver,
                                                 const QString &parentDir)
{
    const auto url = databases.fresh(driver);
    if (!url) {
        qWarning("%s", qPrintable(url.error()));
        return nullptr;
    }
    static int count = 0;
    const QString dataDir = QDir(parentDir).filePath(QStringLiteral("venue%1").arg(++count));
    QDir().mkpath(dataDir);
    auto venue = start({*url, dataDir});
    if (!venue) {
        qWarning("%s", qPrintable(venue.error()));
        return nullptr;
    }
    return std::move(venue.value());
}

Expected<std::unique_ptr<TestVenue>, QString> TestVenue::start(const Options &options,
                                                               std::optional<QSslConfiguration> tls)
{
    std::unique_ptr<TestVenue> venue(new TestVenue);
    venue->m_parts = std::make_unique<Parts>();
    venue->m_thread = std::make_unique<ServerThread>();
    QString error;
    Parts &parts = *venue->m_parts;
    venue->m_thread->run([&] {
        const sql::ConnectionFactory factory(options.database);
        Expected<sql::Connection, QString> connection = factory.open(u"startup");
        if (!connection) {
            error = connection.error();
            return;
        }
        const auto migrations = sql::MigrationSet::builtIn(options.database.driver);
        if (!migrations || !sql::applyMigrations(*connection, *migrations)) {
            error = QStringLiteral("migration failed");
            return;
        }
        Expected<sql::Recovered, QString> recovered = sql::recoverJournal(connection->database());
        if (!recovered) {
            error = recovered.error();
            return;
        }
        server::MarketState market = recovered->engine ? server::MarketState::fromEngine(*recovered->engine)
                                                       : server::MarketState();
        parts.journal = std::make_unique<sql::JournalWriter>(factory);
        parts.engine = std::make_unique<server::EngineHost>(server::EngineHost::Setup{std::move(recovered->engine),
                                                                                      recovered->position.commandSeq,
                                                                                      parts.journal.get(), 100'000});
        server::VenueServer::Config config;
        config.database = options.database;
        config.address = QHostAddress::LocalHost;
        config.port = 0;
        config.dataDir = options.dataDir;
        config.jwtSecret = QByteArray(40, 'k');
        config.firstAdminFromWindow = options.firstAdminFromWindow;
        if (!options.firstAdminFromWindow) {
            config.adminUsername = QString::fromLatin1(kAdminUsername);
            config.adminPassword = QString::fromLatin1(kAdminPassword);
        }
        config.hashing.parameters = {256, 1, 1}; // tests hash weakly to stay fast
        config.hashing.allowWeakParametersForTests = true;
        config.version = QStringLiteral("0.1.0-test");
        config.tls = tls;
        config.settingsDefaults = options.settingsDefaults;
        parts.server = std::make_unique<server::VenueServer>(config, *parts.engine, parts.journal.get());
        if (std::optional<QString> failed = parts.server->prepare(std::move(market))) {
            error = *failed;
            return;
        }
        parts.journal->start();
        parts.engine->start();
        if (recovered->position.commandSeq == 0) {
            for (const AddInstrument &add : {instrument("BTC-USD", "BTC", "USD", "0.01", "0.0001"),
                                             instrument("ETH-USD", "ETH", "USD", "0.01", "0.001"),
                                             instrument("XAU-USD", "XAU", "USD", "0.01", "0.01")}) {
                QFuture<server::EngineReply> reply = parts.engine->submit(Command{now(), add});
                reply.waitForFinished();
            }
            // The batches reach the service through queued signals: let them in before serving.
            QTRY_COMPARE_WITH_TIMEOUT(parts.server->service().market().instrumentCount(), std::size_t(3), 10'000);
        }
        if (std::optional<QString> failed = parts.server->listen()) {
            error = *failed;
            return;
        }
        venue->m_port = parts.server->port();
    });
    if (!error.isEmpty())
        return unexpected(error);
    return venue;
}

TestVenue::~TestVenue()
{
    m_thread->stop([this] {
        Parts &parts = *m_parts;
        if (parts.server) {
            bool drained = false;
            parts.server->drain(std::chrono::seconds(5), [&drained] { drained = true; });
            QTRY_VERIFY_WITH_TIMEOUT(drained, 10'000);
        }
        if (parts.engine)
            parts.engine->stop();
        if (parts.journal)
            parts.journal->stop();
        parts.server.reset();
        parts.engine.reset();
        parts.journal.reset();
    });
}

void TestVenue::onServer(const std::function<void(server::VenueServer &)> &work)
{
    m_thread->run([this, &work] { work(*m_parts->server); });
}

ApiClient::ApiClient(quint16 port)
    : m_port(port)
{}

ApiResponse ApiClient::request(QByteArrayView method, QByteArrayView path, const QByteArray &body,
                               const QByteArrayList &headers, QByteArrayView contentType)
{
    ApiResponse response;
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (!m_client || !m_client->isConnected())
            m_client = std::make_unique<RawClient>(m_port);
        QByteArray bytes = method.toByteArray() + ' ' + path.toByteArray() + " HTTP/1.1\r\nHost: test\r\n";
        if (!m_token.isEmpty())
            bytes += "Authorization: Bearer " + m_token + "\r\n";
        for (const QByteArray &header : headers)
            bytes += header + "\r\n";
        if (!body.isEmpty() || method == "POST" || method == "PATCH") {
            if (!contentType.isEmpty())
                bytes += "Content-Type: " + contentType.toByteArray() + "\r\n";
            bytes += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
        }
        bytes += "\r\n" + body;
        m_client->send(bytes);
        std::optional<RawResponse> raw = m_client->read();
        if (!raw) {
            // Closed under us (a keep-alive connection the server had just closed): once more on a fresh
            // connection. A request that timed out is never sent again: it may have happened.
            const bool closed = !m_client->isConnected();
            m_client.reset();
            if (closed && attempt == 0)
                continue;
            return response;
        }
        response.status = raw->status;
        response.raw = *raw;
        response.json = QJsonDocument::fromJson(raw->body);
        if (raw->header("Connection").toLower() == "close")
            m_client.reset();
        return response;
    }
    return response;
}

ApiResponse ApiClient::login(const QString &username, const QString &password)
{
    const QByteArray body
        = QJsonDocument(QJsonObject{{"username", username}, {"password", password}}).toJson(QJsonDocument::Compact);
    const QByteArray saved = m_token;
    m_token.clear();
    ApiResponse response = post("/auth/login", body);
    m_token = response.status == 200 ? response.object().value(QStringLiteral("access_token")).toString().toUtf8()
                                     : saved;
    return response;
}

std::optional<qint64> ApiClient::createUser(const QString &username, const QString &password, const QString &role)
{
    const QByteArray body = QJsonDocument(QJsonObject{{"username", username}, {"password", password}, {"role", role}})
                                .toJson(QJsonDocument::Compact);
    const ApiResponse response = post("/admin/users", body);
    if (response.status != 201)
        return std::nullopt;
    return response.object().value(QStringLiteral("id")).toInteger();
}

bool ApiClient::deposit(qint64 user, const QString &asset, const QString &amount)
{
    const QByteArray body
        = QJsonDocument(QJsonObject{{"asset", asset}, {"amount", amount}}).toJson(QJsonDocument::Compact);
    return post("/admin/users/" + QByteArray::number(user) + "/deposits", body).status == 201;
}

std::unique_ptr<ApiClient> adminClient(quint16 port)
{
    auto client = std::make_unique<ApiClient>(port);
    if (client->login(QString::fromLatin1(TestVenue::kAdminUsername), QString::fromLatin1(TestVenue::kAdminPassword)).status
        != 200)
        return nullptr;
    return client;
}

} // namespace bourse::test
