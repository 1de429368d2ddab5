#include "venue_server.h"

#include <QDateTime>

#include "accounts.h"
#include "journal_writer.h"
#include "server_log.h"

#include <QDateTime>
#include <QDir>
#include <QEventLoop>
#include <QFile>
#include <QSqlError>
#include <QSqlQuery>
#include <QTimer>

#include <fcntl.h>
#include <unistd.h>

namespace bourse::server {

namespace {

// Waits for a start-up job: the event loop is not serving anything yet, so blocking here is harmless.
template<typename T>
T await(QFuture<T> future)
{
    future.waitForFinished();
    return future.result();
}

// Writes `text` to `path` with mode 0600, replacing nothing: the file is new (O_EXCL) or this fails.
std::optional<QString> writePrivateFile(const QString &path, const QByteArray &text)
{
    const QByteArray name = QFile::encodeName(path);
    const int fd = ::open(name.constData(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return QStringLiteral("cannot write %1").arg(path);
    const ssize_t written = ::write(fd, text.constData(), std::size_t(text.size()));
    const bool ok = written == text.size() && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok)
        return QStringLiteral("cannot write %1").arg(path);
    return std::nullopt;
}

Expected<EngineFigures, QString> readFigures(QSqlDatabase &db)
{
    EngineFigures figures;
    QSqlQuery query(db);
    if (!query.exec(QStringLiteral(
            "SELECT (SELECT COALESCE(MAX(id), 0) FROM orders), (SELECT COALESCE(MAX(id), 0) FROM trades)"))
        || !query.next())
        return unexpected(sql::errorLine(query.lastError()));
    figures.orders = query.value(0).toULongLong();
    figures.trades = query.value(1).toULongLong();
    return figures;
}

} // namespace

VenueServer::VenueServer(Config config, EngineHost &engine, sql::JournalWriter *journal, QObject *parent)
    : QObject(parent)
    , m_config(std::move(config))
    , m_engine(engine)
    , m_journal(journal)
{}

VenueServer::~VenueServer()
{
    stop();
}

std::optional<QString> VenueServer::prepare(MarketState market)
{
    Expected<QByteArray, QString> secret = loadJwtSecret(m_config.dataDir, m_config.jwtSecret);
    if (!secret)
        return secret.error();
    m_signer = std::make_unique<JwtSigner>(std::move(secret.value()));
    sql::QueryPool::Options poolOptions;
    poolOptions.threads = m_config.queryThreads;
    m_queries = std::make_unique<sql::QueryPool>(sql::ConnectionFactory(m_config.database), poolOptions);
    m_queries->start();
    m_hasher = std::make_unique<PasswordHasher>(m_config.hashing);

    VenueService::Parts parts;
    parts.engine = &m_engine;
    parts.queries = m_queries.get();
    parts.hasher = m_hasher.get();
    parts.signer = m_signer.get();
    parts.databaseDriver = m_config.database.driver == sql::DatabaseUrl::Driver::Sqlite ? QStringLiteral("sqlite")
                                                                                        : QStringLiteral("postgresql");
    m_service = std::make_unique<VenueService>(parts);

    const auto users = await(m_queries->submit([](QSqlDatabase &db) { return sql::allUsers(db); }));
    if (!users)
        return QStringLiteral("cannot read the users: %1").arg(users.error().message);
    const auto rows = await(m_queries->submit([](QSqlDatabase &db) { return sql::loadSettings(db); }));
    if (!rows)
        return QStringLiteral("cannot read the settings: %1").arg(rows.error().message);
    QStringList skipped;
    VenueSettings settings = settingsFromRows(m_config.settingsDefaults, *rows, &skipped);
    for (const QString &key : std::as_const(skipped))
        qCWarning(lcServer).noquote() << "the stored setting" << key
                                      << "is not valid any more; using the value the venue starts with";
    for (const QString &line : overriddenFileLimits(m_config.settingsDefaults, settings))
        qCWarning(lcServer).noquote() << line;
    const auto figures = await(m_queries->submit([](QSqlDatabase &db) { return readFigures(db); }));
    if (!figures)
        return QStringLiteral("cannot read the venue's figures: %1").arg(figures.error().message);
    // Book seqs of this run start above any an earlier run reached: the start time in ms × 1000 grows by 10^6
    // a second, faster than any book's updates, and two runs never start in the same millisecond. JavaScript
    // clients still read them exactly (< 2^53 until the year 2255). A wall clock set back can break this.
    market.setBookSeqBase(std::uint64_t(QDateTime::currentMSecsSinceEpoch()) * 1'000);
    EngineFigures engineFigures = *figures;
    engineFigures.seq = market.lastSeq();
    engineFigures.openOrders = market.openOrderCount();
    // The open orders and balances as the recovered journal left them: the engine has not applied anything
    // new yet, so the projections and `market` describe the same moment.
    const auto open = await(m_queries->submit([](QSqlDatabase &db) { return sql::openOrders(db); }));
    if (!open)
        return QStringLiteral("cannot read the open orders: %1").arg(open.error().message);
    const auto balances = await(m_queries->submit([](QSqlDatabase &db) { return sql::allBalances(db); }));
    if (!balances)
        return QStringLiteral("cannot read the balances: %1").arg(balances.error().message);
    AccountState accounts;
    accounts.setInstruments(market.instruments());
    accounts.load(*open, *balances);
    accounts.setLastSeq(market.lastSeq());
    m_service->load(*users, settings, std::move(market), engineFigures, std::move(accounts));
    return bootstrapAdmin();
}

std::optional<QString> VenueServer::listen()
{
    const VenueSettings settings = m_service->settings();
    m_hub = std::make_unique<StreamHub>();
    m_hub->setMeters(StreamHub::Meters{
        &m_metrics.counter("stream_messages_total", "Messages queued to WebSocket and SSE subscribers"),
        &m_metrics.counter("stream_slow_consumer_drops_total", "Subscribers cut off for falling too far behind"),
        &m_metrics.histogram("stream_publish_lag_seconds",
                             "How long a published message waits before it is written to its subscribers"),
    });
    m_feeds = std::make_unique<StreamFeeds>(*m_service, *m_hub);
    m_api = std::make_unique<HttpApi>(*m_service, *m_feeds, m_metrics, m_config.version);
    auto edge = std::make_unique<HttpEdge>();
    const auto applyLimits = [edge = edge.get()](const VenueSettings &current) {
        EdgeLimits limits = edge->limits();
        limits.http.maxBodyBytes = current.maxBodyBytes;
        limits.idleTimeout = std::chrono::seconds(current.keepAliveIdleSeconds);
        limits.headerTimeout = std::chrono::seconds(current.headerTimeoutSeconds);
        edge->setLimits(limits);
    };
    applyLimits(settings);
    connect(m_service.get(), &VenueService::settingsChanged, edge.get(), applyLimits);
    if (std::optional<QString> error = edge->listenOn(m_config.address, m_config.port, m_config.tls))
        return error;
    m_edge = edge.release();
    m_api->serve(m_edge); // the server parents the edge
    m_gateway = std::make_unique<WsGateway>(*m_service, *m_feeds, m_metrics, m_edge->isTls());
    m_edge->setUpgradeGate(m_gateway.get());
    m_api->setWebSocketCount([gateway = m_gateway.get()] { return gateway->connectionCount(); });
    registerGauges();
    qCInfo(lcServer).noquote() << "listening on"
                               << (m_edge->isTls() ? "https://" : "http://") + m_config.address.toString() + u':'
                                      + QString::number(m_edge->port());
    return std::nullopt;
}

std::optional<QString> VenueServer::bootstrapAdmin()
{
    const auto exists = await(m_queries->submit([](QSqlDatabase &db) { return sql::hasAdmin(db); }));
    if (!exists)
        return QStringLiteral("cannot read the users: %1").arg(exists.error().message);
    if (*exists)
        return std::nullopt;
    if (m_config.firstAdminFromWindow && !m_config.adminPassword) {
        m_awaitingFirstAdmin = true;
        qCInfo(lcServer).noquote() << "no admin yet: the desktop window's first-run wizard creates one";
        return std::nullopt;
    }
    const QString username = m_config.adminUsername.value_or(QStringLiteral("admin"));
    QString password;
    if (m_config.adminPassword) {
        password = *m_config.adminPassword;
    } else {
        password = QString::fromLatin1(newTokenId() + newTokenId()).left(32);
        m_generatedPassword = password;
    }
    const QString length = QString::number(password.toUcs4().size());
    if (password.toUcs4().size() < 8 || password.toUcs4().size() > 128)
        return QStringLiteral("BOURSE_ADMIN_PASSWORD must be 8-128 characters (it has %1)").arg(length);
    const Expected<QString, PasswordHashError> hash = await(m_hasher->hash(password));
    if (!hash)
        return QStringLiteral("cannot hash the first admin's password");
    const sql::NewUser user{username, *hash, QStringLiteral("admin"), QStringLiteral("unlimited"), VenueService::now()};
    const auto created = await(m_queries->submit([user](QSqlDatabase &db) { return sql::createUser(db, user); }));
    if (!created)
        return QStringLiteral("cannot create the first admin: %1").arg(created.error().message);
    if (!created->has_value())
        return QStringLiteral("cannot create the first admin: the username %1 is taken by a user who is not an admin "
                              "(set BOURSE_ADMIN_USERNAME)")
            .arg(username);
    m_service->remember(**created);
    m_service->record(QStringLiteral("system"), QStringLiteral("admin_created"),
                      QStringLiteral("user:%1").arg((*created)->id), QByteArray(), QByteArray());
    if (!m_generatedPassword.isEmpty()) {
        const QString path = QDir(m_config.dataDir).filePath(QStringLiteral("initial-admin-password"));
        if (std::optional<QString> error = writePrivateFile(path, m_generatedPassword.toUtf8() + '\n'))
            qCWarning(lcServer).noquote() << *error;
        // Logged once, on purpose: a headless venue's operator has no other way to learn it.
        qCWarning(lcServer).noquote() << "created the first admin" << username << "with the generated password"
                                      << m_generatedPassword << "(also in" << path + u')';
    } else {
        qCInfo(lcServer).noquote() << "created the first admin" << username << "from BOURSE_ADMIN_USERNAME/PASSWORD";
    }
    return std::nullopt;
}

void VenueServer::registerGauges()
{
    VenueService *service = m_service.get();
    m_metrics.gaugeCallback("engine_orders_total", "Orders the engine has accepted",
                            [service] { return double(service->engineFigures().orders); });
    m_metrics.gaugeCallback("engine_trades_total", "Trades the engine has executed",
                            [service] { return double(service->engineFigures().trades); });
    m_metrics.gaugeCallback("engine_open_orders", "Orders resting in the books",
                            [service] { return double(service->engineFigures().openOrders); });
    m_metrics.gaugeCallback("engine_seq", "The last durable event sequence number",
                            [service] { return double(service->engineFigures().seq); });
    HttpEdge *edge = m_edge;
    m_metrics.gaugeCallback("http_connections", "Open HTTP connections",
                            [edge] { return double(edge->connectionCount()); });
    if (m_journal) {
        sql::JournalWriter *journal = m_journal;
        m_metrics.gaugeCallback("journal_lag_events", "Events handed to the journal and not yet durable",
                                [journal] { return double(journal->pendingEvents()); });
        Histogram &commits = m_metrics.histogram("db_commit_duration_seconds",
                                                 "Duration of the journal's group commits");
        // On the journal thread: the histogram and the service's window are both safe to feed from there.
        connect(
            m_journal, &sql::JournalWriter::committed, this,
            [&commits, service](sql::JournalPosition, int, qint64 microseconds) {
                commits.observeNanoseconds(microseconds * 1000);
                service->commitObserved(microseconds);
            },
            Qt::DirectConnection);
    } else {
        m_metrics.gauge("journal_lag_events", "Events handed to the journal and not yet durable");
        m_metrics.histogram("db_commit_duration_seconds", "Duration of the journal's group commits");
    }
}

void VenueServer::drain(std::chrono::milliseconds within, std::function<void()> done)
{
    if (!m_edge) {
        done();
        return;
    }
    m_api->setShuttingDown();
    m_gateway->shutdown();
    auto finished = std::make_shared<bool>(false);
    auto finish = [finished, done] {
        if (*finished)
            return;
        *finished = true;
        done();
    };
    connect(m_edge, &HttpEdge::drained, this, finish);
    QTimer::singleShot(within, this, finish);
    m_edge->drain();
}

void VenueServer::stop()
{
    if (m_hasher)
        m_hasher->stop();
    if (m_queries)
        m_queries->stop();
}

} // namespace bourse::server
