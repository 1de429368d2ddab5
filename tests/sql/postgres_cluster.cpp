#include "postgres_cluster.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHostAddress>
#include <QProcess>
#include <QRandomGenerator>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTcpServer>

#include <csignal>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

namespace bourse::test {

namespace {

constexpr int kProgramTimeoutMs = 120'000;
constexpr int kStartAttempts = 5;

// A port nobody listens on right now. The server binds it a moment later; if someone else takes it in
// between, the start fails and is tried again with another port.
quint16 freePort()
{
    QTcpServer server;
    if (!server.listen(QHostAddress::LocalHost, 0))
        return 0;
    return server.serverPort();
}

QString randomPassword()
{
    QString password = QStringLiteral("pw-");
    for (int i = 0; i < 16; ++i)
        password += QChar(u"0123456789abcdef"[QRandomGenerator::global()->bounded(16)]);
    return password;
}

// The last lines of a text, one paragraph.
QString tail(const QString &text, int lines = 12)
{
    QStringList all = text.split(u'\n', Qt::SkipEmptyParts);
    if (all.size() > lines)
        all = all.mid(all.size() - lines);
    return all.join(QStringLiteral(" | "));
}

} // namespace

QString PostgresCluster::binaryDir()
{
    const QString configured = qEnvironmentVariable("BOURSE_POSTGRESQL_BIN");
    return configured.isEmpty() ? QStringLiteral("/usr/lib/postgresql/15/bin") : configured;
}

Expected<std::unique_ptr<PostgresCluster>, QString> PostgresCluster::create()
{
    std::unique_ptr<PostgresCluster> cluster(new PostgresCluster);
    if (std::optional<QString> error = cluster->initialize())
        return unexpected(*error);
    for (int attempt = 1;; ++attempt) {
        cluster->m_port = freePort();
        if (cluster->m_port == 0)
            return unexpected(QStringLiteral("cannot find a free port on 127.0.0.1"));
        const std::optional<QString> error = cluster->startOnce();
        if (!error)
            break;
        const bool portTaken = cluster->logTail().contains(QStringLiteral("could not bind"));
        if (!portTaken || attempt == kStartAttempts)
            return unexpected(*error);
    }
    return cluster;
}

std::optional<QString> PostgresCluster::initialize()
{
    for (const char *program : {"initdb", "pg_ctl", "postgres"}) {
        const QString path = binaryDir() + u'/' + QLatin1StringView(program);
        if (!QFileInfo(path).isExecutable()) {
            return QStringLiteral("PostgreSQL 15 is not installed (no %1); the storage tests need it and do not skip "
                                  "without it: run scripts/install-deps --test (or apt-get install postgresql-15), or "
                                  "name another bin directory in BOURSE_POSTGRESQL_BIN")
                .arg(path);
        }
    }
    m_dir = std::make_unique<QTemporaryDir>(QDir::tempPath() + QStringLiteral("/bourse-pg-XXXXXX"));
    if (!m_dir->isValid())
        return QStringLiteral("cannot create a temporary directory: ") + m_dir->errorString();
    m_password = randomPassword();

    if (::geteuid() == 0) {
        const passwd *account = ::getpwnam("postgres");
        if (!account) {
            return QStringLiteral("running as root, PostgreSQL must run as an unprivileged user, and there is no "
                                  "\"postgres\" user (Debian's postgresql package creates it)");
        }
        m_runAsUid = account->pw_uid;
        m_runAsGid = account->pw_gid;
        if (::chown(QFile::encodeName(m_dir->path()).constData(), account->pw_uid, account->pw_gid) != 0)
            return QStringLiteral("cannot hand %1 to the postgres user").arg(m_dir->path());
    }

    const QString passwordFile = m_dir->filePath(QStringLiteral("password"));
    {
        QFile file(passwordFile);
        if (!file.open(QIODevice::WriteOnly) || file.write(m_password.toUtf8() + '\n') < 0)
            return QStringLiteral("cannot write %1").arg(passwordFile);
        file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    }
    if (m_runAsUid && ::chown(QFile::encodeName(passwordFile).constData(), *m_runAsUid, m_runAsGid) != 0)
        return QStringLiteral("cannot hand %1 to the postgres user").arg(passwordFile);

    // TCP needs the password (what bourse does); the socket, in our own directory, trusts.
    if (std::optional<QString> error
        = run(QStringLiteral("initdb"),
              {QStringLiteral("--pgdata=") + dataDir(), QStringLiteral("--username=") + m_user,
               QStringLiteral("--pwfile=") + passwordFile, QStringLiteral("--auth-host=scram-sha-256"),
               QStringLiteral("--auth-local=trust"), QStringLiteral("--encoding=UTF8"), QStringLiteral("--locale=C")})) {
        return QStringLiteral("initdb failed: ") + *error;
    }
    QFile::remove(passwordFile);

    QFile config(dataDir() + QStringLiteral("/postgresql.conf"));
    if (!config.open(QIODevice::Append))
        return QStringLiteral("cannot append to %1").arg(config.fileName());
    // fsync, synchronous_commit and full_page_writes keep their defaults (on): durability is under test.
    const QString settings = QStringLiteral("\n# bourse tests\n"
                                            "listen_addresses = '127.0.0.1'\n"
                                            "unix_socket_directories = '%1'\n"
                                            "max_connections = 100\n"
                                            "log_min_messages = warning\n"
                                            "lc_messages = 'C'\n")
                                 .arg(m_dir->path());
    config.write(settings.toUtf8());
    return std::nullopt;
}

PostgresCluster::~PostgresCluster()
{
    if (!m_running)
        return;
    const std::optional<QString> error = run(QStringLiteral("pg_ctl"),
                                             {QStringLiteral("stop"), QStringLiteral("--pgdata=") + dataDir(),
                                              QStringLiteral("--mode=fast"), QStringLiteral("--wait")});
    if (!error)
        return;
    qWarning("PostgresCluster: %s", qPrintable(*error));
    // pg_ctl could not stop it: end the server we started, by the pid it wrote, before its files go.
    QFile pidFile(dataDir() + QStringLiteral("/postmaster.pid"));
    if (pidFile.open(QIODevice::ReadOnly)) {
        const pid_t pid = static_cast<pid_t>(pidFile.readLine().trimmed().toLongLong());
        if (pid > 0)
            ::kill(pid, SIGKILL);
    }
}

sql::DatabaseUrl PostgresCluster::url(const QString &database) const
{
    sql::DatabaseUrl url;
    url.driver = sql::DatabaseUrl::Driver::PostgreSql;
    url.user = m_user;
    url.password = m_password;
    url.host = QStringLiteral("127.0.0.1");
    url.port = m_port;
    url.databaseName = database;
    return url;
}

Expected<sql::DatabaseUrl, QString> PostgresCluster::createDatabase(const QString &templateName)
{
    const QString name = QStringLiteral("bourse_test_%1").arg(++m_databaseCount);
    const QString statement = templateName.isEmpty()
                                  ? QStringLiteral("CREATE DATABASE %1").arg(name)
                                  : QStringLiteral("CREATE DATABASE %1 TEMPLATE %2").arg(name, templateName);
    if (std::optional<QString> error = administer(statement))
        return unexpected(QStringLiteral("cannot create database %1: %2").arg(name, *error));
    return url(name);
}

std::optional<QString> PostgresCluster::administer(const QString &statement)
{
    const QString connectionName = QStringLiteral("bourse.test.cluster.%1").arg(++m_administrationCount);
    QString error;
    {
        QSqlDatabase database = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), connectionName);
        database.setHostName(QStringLiteral("127.0.0.1"));
        database.setPort(m_port);
        database.setUserName(m_user);
        database.setPassword(m_password);
        database.setDatabaseName(QStringLiteral("postgres"));
        if (!database.open()) {
            error = database.lastError().text();
        } else {
            QSqlQuery query(database);
            if (!query.exec(statement))
                error = query.lastError().text();
        }
        database.close();
    }
    QSqlDatabase::removeDatabase(connectionName);
    if (!error.isEmpty())
        return error.simplified();
    return std::nullopt;
}

std::optional<QString> PostgresCluster::stopImmediate()
{
    if (!m_running)
        return QStringLiteral("the server is not running");
    if (std::optional<QString> error = run(QStringLiteral("pg_ctl"),
                                           {QStringLiteral("stop"), QStringLiteral("--pgdata=") + dataDir(),
                                            QStringLiteral("--mode=immediate"), QStringLiteral("--wait")})) {
        return QStringLiteral("pg_ctl stop failed: ") + *error;
    }
    m_running = false;
    return std::nullopt;
}

std::optional<QString> PostgresCluster::start()
{
    if (m_running)
        return QStringLiteral("the server is already running");
    return startOnce();
}

std::optional<QString> PostgresCluster::startOnce()
{
    // --wait returns once the server accepts connections, so no test has to poll for it.
    if (std::optional<QString> error = run(QStringLiteral("pg_ctl"),
                                           {QStringLiteral("start"), QStringLiteral("--pgdata=") + dataDir(),
                                            QStringLiteral("--log=") + logFile(), QStringLiteral("--wait"),
                                            QStringLiteral("--timeout=60"),
                                            QStringLiteral("--options=-p %1").arg(m_port)})) {
        return QStringLiteral("pg_ctl start on port %1 failed: %2; server log: %3").arg(m_port).arg(*error, logTail());
    }
    m_running = true;
    return std::nullopt;
}

std::optional<QString> PostgresCluster::run(const QString &program, const QStringList &arguments)
{
    QProcess process;
    process.setProgram(binaryDir() + u'/' + program);
    process.setArguments(arguments);
    process.setWorkingDirectory(m_dir->path());
    process.setProcessChannelMode(QProcess::MergedChannels);
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    for (const QString &name : environment.keys()) {
        if (name.startsWith(u"PG") || name.startsWith(u"LC_") || name == u"LANG")
            environment.remove(name);
    }
    environment.insert(QStringLiteral("LC_ALL"), QStringLiteral("C"));
    environment.insert(QStringLiteral("HOME"), m_dir->path());
    process.setProcessEnvironment(environment);
    if (m_runAsUid) {
        const uid_t uid = *m_runAsUid;
        const gid_t gid = m_runAsGid;
        // In the child, between fork and exec: only async-signal-safe calls.
        process.setChildProcessModifier([uid, gid] {
            if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0)
                ::_exit(126);
        });
    }
    process.start();
    if (!process.waitForFinished(kProgramTimeoutMs)) {
        process.kill();
        process.waitForFinished();
        return QStringLiteral("%1 did not finish: %2").arg(program, process.errorString());
    }
    if (process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0) {
        return QStringLiteral("%1 exited with %2: %3")
            .arg(program)
            .arg(process.exitCode())
            .arg(tail(QString::fromLocal8Bit(process.readAll())));
    }
    return std::nullopt;
}

QString PostgresCluster::dataDir() const
{
    return m_dir->filePath(QStringLiteral("data"));
}

QString PostgresCluster::logFile() const
{
    return m_dir->filePath(QStringLiteral("server.log"));
}

QString PostgresCluster::logTail() const
{
    QFile file(logFile());
    if (!file.open(QIODevice::ReadOnly))
        return QStringLiteral("(no server log)");
    return tail(QString::fromLocal8Bit(file.readAll()));
}

} // namespace bourse::test
