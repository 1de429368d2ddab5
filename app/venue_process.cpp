#include "venue_process.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QFuture>
#include <QHostAddress>
#include <QProcessEnvironment>
#include <QSslCertificate>
#include <QSslKey>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace bourse::app {

namespace {

TimeNs now()
{
    using namespace std::chrono;
    return duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count();
}

AddInstrument instrument(std::string_view symbol, std::string_view base, std::string_view quote, std::string_view tick,
                         std::string_view lot, std::string_view minimum)
{
    // The literals below are valid decimals; valueOr keeps a typo from being undefined behaviour, and the
    // engine then refuses the zero with a clear reason at start-up.
    return AddInstrument{Symbol(symbol),
                         AssetCode(base),
                         AssetCode(quote),
                         Decimal::parse(tick).valueOr(Decimal()),
                         Decimal::parse(lot).valueOr(Decimal()),
                         Decimal::parse(minimum).valueOr(Decimal())};
}

} // namespace

std::vector<AddInstrument> defaultInstruments()
{
    return {
        instrument("BTC-USD", "BTC", "USD", "0.01", "0.0001", "0.0001"),
        instrument("ETH-USD", "ETH", "USD", "0.01", "0.001", "0.001"),
        instrument("XAU-USD", "XAU", "USD", "0.01", "0.01", "0.01"),
    };
}

std::optional<QString> createDataDir(const QString &path)
{
    if (QFileInfo(path).isDir())
        return std::nullopt;
    const QString parent = QFileInfo(path).absolutePath();
    if (!QDir().mkpath(parent))
        return QStringLiteral("cannot create \"%1\"").arg(parent);
    if (::mkdir(QFile::encodeName(path).constData(), S_IRWXU) != 0 && !(errno == EEXIST && QFileInfo(path).isDir()))
        return QStringLiteral("cannot create \"%1\": %2").arg(path, QString::fromLocal8Bit(std::strerror(errno)));
    return std::nullopt;
}

Expected<sql::MigrationReport, QString> migrateDatabase(sql::Connection &connection)
{
    const Expected<sql::MigrationSet, QString> migrations = sql::MigrationSet::builtIn(connection.driver());
    if (!migrations)
        return unexpected(connection.description() + QStringLiteral(": ") + migrations.error());
    Expected<sql::MigrationReport, QString> report = sql::applyMigrations(connection, *migrations);
    if (!report)
        return unexpected(connection.description() + QStringLiteral(": ") + report.error());
    return report;
}

Expected<OpenedVenue, StartFailure> openVenue(const Options &options)
{
    const sql::ConnectionFactory databases(options.database);
    std::optional<sql::Connection> startup; // the calling thread's; closed once recovery is done
    const auto connect = [&]() -> std::optional<QString> {
        Expected<sql::Connection, QString> connection = databases.open(u"startup");
        if (!connection)
            return connection.error();
        startup.emplace(std::move(connection.value()));
        return std::nullopt;
    };
    const auto databaseFailure = [](const QString &error) {
        return unexpected(StartFailure{QStringLiteral("bourse: database: ") + error, 2});
    };
    const bool sqlite = options.database.driver == sql::DatabaseUrl::Driver::Sqlite;
    if (!sqlite) {
        if (const std::optional<QString> error = connect())
            return databaseFailure(*error);
    }
    if (const std::optional<QString> error = createDataDir(options.dataDir))
        return unexpected(StartFailure{QStringLiteral("bourse: data dir: ") + *error, 2});
    OpenedVenue opened;
    if (sqlite) {
        if (const std::optional<QString> error = connect())
            return databaseFailure(*error);
        // One bourse per SQLite database, or two writers would interleave their journals. flock(2) is
        // independent of SQLite's own fcntl locks, and the kernel drops it with the process however that
        // ends.
        const int lock = ::open(QFile::encodeName(options.database.path).constData(), O_RDONLY | O_CLOEXEC);
        if (lock < 0 || ::flock(lock, LOCK_EX | LOCK_NB) != 0) {
            if (lock >= 0)
                ::close(lock);
            return databaseFailure(options.database.toString()
                                   + QStringLiteral(": another bourse process is using this database"));
        }
        opened.sqliteLock = std::shared_ptr<int>(new int(lock), [](int *descriptor) {
            ::close(*descriptor);
            delete descriptor;
        });
    }
    Expected<sql::MigrationReport, QString> schema = migrateDatabase(*startup);
    if (!schema)
        return databaseFailure(schema.error());
    opened.schema = std::move(schema.value());
    // Recovery reads the journal only once no other session can still be writing it (journal.h).
    if (const std::optional<QString> error = sql::lockJournal(startup->database(), std::chrono::seconds(30)))
        return databaseFailure(error.value());
    // Recovery: the latest snapshot and the journal after it, replayed and checked, before anything serves.
    QElapsedTimer recoveryTimer;
    recoveryTimer.start();
    Expected<sql::Recovered, QString> recovered = sql::recoverJournal(startup->database());
    if (!recovered)
        return unexpected(StartFailure{QStringLiteral("bourse: journal: ") + recovered.error(), 1});
    opened.recovered = std::move(recovered.value());
    opened.recoveryMilliseconds = recoveryTimer.elapsed();
    return opened;
}

VenueProcess::VenueProcess(Options options, OpenedVenue opened, QObject *parent)
    : QObject(parent)
    , m_options(std::move(options))
    , m_schema(std::move(opened.schema))
    , m_replayedCommands(opened.recovered.replayedCommands)
    , m_recoveredCommandSeq(opened.recovered.position.commandSeq)
    , m_snapshotCommandSeq(opened.recovered.snapshotCommandSeq)
    , m_recoveryMilliseconds(opened.recoveryMilliseconds)
    , m_newVenue(opened.recovered.position.commandSeq == 0)
    , m_recoveredMarket(opened.recovered.engine ? server::MarketState::fromEngine(*opened.recovered.engine)
                                                : server::MarketState())
    , m_journal(sql::ConnectionFactory(m_options.database))
    , m_engine(EngineHost::Setup{std::move(opened.recovered.engine), opened.recovered.position.commandSeq, &m_journal,
                                 m_options.snapshotEvery})
    , m_sqliteLock(std::move(opened.sqliteLock))
{}

VenueProcess::~VenueProcess()
{
    stopEngineAndJournal();
}

void VenueProcess::stopEngineAndJournal()
{
    // The engine hands its last batches to the journal; the journal then writes them and releases their
    // replies. In this order, or replies would be lost. The API goes last, on its thread, after the replies
    // already posted to it there.
    if (m_serverThread)
        emit stopping();
    m_engine.stop();
    m_journal.stop();
    if (m_serverThread) {
        onServerThread([this] {
            if (m_server)
                m_server->stop();
            m_server.reset();
        });
        m_serverThread->quit();
        m_serverThread->wait();
        m_serverThread.reset();
        m_serverContext = nullptr; // deleted with the thread's end (deleteLater on finished)
    }
}

void VenueProcess::onServerThread(const std::function<void()> &work)
{
    QMetaObject::invokeMethod(m_serverContext, work, Qt::BlockingQueuedConnection);
}

bool VenueProcess::prepareServer()
{
    const QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    const auto variable = [&](const char *name) -> std::optional<QString> {
        if (!environment.contains(QLatin1StringView(name)))
            return std::nullopt;
        return environment.value(QLatin1StringView(name));
    };
    server::VenueServer::Config config;
    config.database = m_options.database;
    config.address = QHostAddress(m_options.listen.host);
    if (config.address.isNull())
        config.address = m_options.listen.host == u"localhost" ? QHostAddress(QHostAddress::LocalHost)
                                                               : QHostAddress(QHostAddress::Any);
    config.port = m_options.listen.port;
    config.dataDir = m_options.dataDir;
    if (const std::optional<QString> secret = variable("BOURSE_JWT_SECRET"))
        config.jwtSecret = secret->toUtf8();
    config.adminUsername = variable("BOURSE_ADMIN_USERNAME");
    config.adminPassword = variable("BOURSE_ADMIN_PASSWORD");
    config.version = bourseVersion();
    config.settingsDefaults = m_options.settingsDefaults; // the config file's [limits]
    config.firstAdminFromWindow = m_firstAdminFromWindow;
    if (!m_options.tlsCertificate.isEmpty()) {
        QFile certificate(m_options.tlsCertificate);
        QFile key(m_options.tlsKey);
        if (!certificate.open(QIODevice::ReadOnly) || !key.open(QIODevice::ReadOnly)) {
            logError(lcApp(), "cannot read the TLS certificate or key");
            return false;
        }
        const QByteArray keyBytes = key.readAll();
        QSslKey privateKey(keyBytes, QSsl::Rsa, QSsl::Pem);
        if (privateKey.isNull())
            privateKey = QSslKey(keyBytes, QSsl::Ec, QSsl::Pem);
        const QList<QSslCertificate> chain = QSslCertificate::fromData(certificate.readAll(), QSsl::Pem);
        QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
        tls.setLocalCertificateChain(chain);
        tls.setPrivateKey(privateKey);
        tls.setProtocol(QSsl::TlsV1_2OrLater);
        config.tls = tls;
    }
    m_serverThread = std::make_unique<QThread>();
    m_serverThread->setObjectName(QStringLiteral("http"));
    m_serverContext = new QObject;
    m_serverContext->moveToThread(m_serverThread.get());
    connect(m_serverThread.get(), &QThread::finished, m_serverContext, &QObject::deleteLater);
    m_serverThread->start();
    std::optional<QString> error;
    onServerThread([&] {
        // Created on its thread, so that the service, the HTTP objects and their timers live there.
        m_server = std::make_unique<server::VenueServer>(config, m_engine, &m_journal);
        error = m_server->prepare(std::move(m_recoveredMarket));
    });
    if (error) {
        logError(lcApp(), "the API cannot start", {{"reason", *error}});
        m_failure = QStringLiteral("the API cannot start: ") + *error;
        return false;
    }
    return true;
}

bool VenueProcess::startServer()
{
    std::optional<QString> error;
    onServerThread([&] { error = m_server->listen(); });
    if (error) {
        logError(lcApp(), "the API cannot start", {{"reason", *error}});
        m_failure = QStringLiteral("the API cannot start: ") + *error;
        return false;
    }
    const QString address = QStringLiteral("%1://%2:%3")
                                .arg(m_options.tlsCertificate.isEmpty() ? u"http" : u"https", m_options.listen.host)
                                .arg(m_server->port());
    logInfo(lcApp(), "serving the API",
            {{"listen", QStringLiteral("%1:%2").arg(m_options.listen.host).arg(m_server->port())},
             {"docs", address + QStringLiteral("/docs")}});
    emit serving(m_server.get(), m_serverContext, address);
    return true;
}

void VenueProcess::start()
{
    logInfo(lcApp(), "bourse starting",
            {{"version", bourseVersion()},
             {"pid", QCoreApplication::applicationPid()},
             {"data_dir", m_options.dataDir},
             {"database", m_options.database.toString()},
             {"config", m_options.configFile.isEmpty() ? QStringLiteral("none") : m_options.configFile},
             {"listen", m_options.listen.toString()},
             {"log_level", logLevelName(m_options.logLevel)}});
    if (m_options.headless && !m_options.headlessRequested && qEnvironmentVariableIsEmpty("DISPLAY")
        && qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY")) {
        logInfo(lcApp(), "no display (DISPLAY and WAYLAND_DISPLAY are unset); running headless");
    }
    logInfo(lcApp(), "database ready",
            {{"database", m_options.database.toString()},
             {"schema_version", m_schema.toVersion},
             {"migrated_from", m_schema.fromVersion},
             {"applied", m_schema.applied.isEmpty() ? QStringLiteral("none") : m_schema.applied.join(u',')}});
    logInfo(lcApp(), "journal recovered",
            {{"commands", qint64(m_recoveredCommandSeq)},
             {"replayed", qint64(m_replayedCommands)},
             {"snapshot_command", qint64(m_snapshotCommandSeq)},
             {"milliseconds", m_recoveryMilliseconds}});
    // From the journal thread, queued here: one line when writing starts failing, one when it works again
    // (the sql log has every retry).
    connect(&m_journal, &sql::JournalWriter::unavailable, this, [this](const QString &reason) {
        if (m_journalFailing)
            return;
        m_journalFailing = true;
        emit journalAvailability(false, reason);
        logError(lcApp(), "the journal cannot write; refusing new commands until it can",
                 {{"reason", reason}, {"pending_events", qint64(m_journal.pendingEvents())}});
    });
    connect(&m_journal, &sql::JournalWriter::available, this, [this] {
        if (!m_journalFailing)
            return;
        m_journalFailing = false;
        emit journalAvailability(true, QString());
        logInfo(lcApp(), "the journal writes again; accepting commands");
    });

    // The service follows the engine's batches from the first one on: it is prepared before the engine runs.
    if (!prepareServer()) {
        finish(2);
        return;
    }
    m_journal.start();
    m_engine.start();
    if (!m_newVenue) {
        if (!startServer())
            finish(2);
        return;
    }
    QList<QFuture<EngineReply>> futures;
    for (const AddInstrument &add : defaultInstruments())
        futures.append(m_engine.submit(Command{now(), add}));
    QtFuture::whenAll(futures.begin(), futures.end()).then(this, [this](const QList<QFuture<EngineReply>> &done) {
        QList<EngineReply> replies;
        for (const QFuture<EngineReply> &future : done)
            replies.append(future.result());
        onSeeded(replies);
    });
}

void VenueProcess::onSeeded(const QList<EngineReply> &replies)
{
    if (m_finishing)
        return;
    int added = 0;
    for (const EngineReply &reply : replies) {
        if (reply.status != EngineReply::Status::Applied) {
            logError(lcApp(), reply.status == EngineReply::Status::Unavailable
                                  ? "the journal could not write the default instruments"
                                  : "the engine stopped before it could add the default instruments");
            finish(1);
            return;
        }
        if (!reply.result.ok()) {
            logError(lcApp(), "the engine refused a default instrument", {{"reason", rejectName(reply.result.reason)}});
            finish(1);
            return;
        }
        for (const Event &event : reply.events) {
            const auto *addedEvent = std::get_if<InstrumentAdded>(&event.body);
            if (!addedEvent)
                continue;
            ++added;
            logInfo(lcApp(), "instrument added",
                    {{"id", addedEvent->instrument.id},
                     {"symbol", addedEvent->instrument.symbol.view()},
                     {"base", addedEvent->instrument.base.view()},
                     {"quote", addedEvent->instrument.quote.view()},
                     {"tick_size", addedEvent->instrument.tickSize},
                     {"lot_size", addedEvent->instrument.lotSize},
                     {"min_quantity", addedEvent->instrument.minQuantity}});
        }
    }
    logInfo(lcApp(), "new venue ready", {{"instruments", added}});
    // The API opens once the venue has its instruments.
    if (!startServer())
        finish(2);
}

void VenueProcess::shutdown(const QString &reason)
{
    if (m_finishing)
        return;
    logInfo(lcApp(), "shutting down", {{"reason", reason}});
    m_finishing = true;
    if (!m_server) {
        finish(0);
        return;
    }
    // Spec §1: stop accepting, finish in-flight requests, flush everything durable, exit 0 within 10 s. The
    // drain runs on the API's thread; finishing (which waits for that thread) back on this one.
    QMetaObject::invokeMethod(m_serverContext, [this] {
        m_server->drain(std::chrono::seconds(7),
                        [this] { QMetaObject::invokeMethod(this, [this] { finish(0); }, Qt::QueuedConnection); });
    });
}

void VenueProcess::finish(int exitCode)
{
    if (m_finished)
        return;
    m_finished = true;
    m_finishing = true;
    stopEngineAndJournal();
    logInfo(lcApp(), "stopped", {{"exit_code", exitCode}});
    emit finished(exitCode);
}

} // namespace bourse::app
