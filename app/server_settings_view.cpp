#include "server_settings_view.h"

#include "connection.h"
#include "database_url.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QPointer>
#include <QThread>

namespace bourse::app {

ServerSettingsView::ServerSettingsView(QObject *parent)
    : QObject(parent)
{
    reload();
}

// A test still connecting finishes on its own thread; its answer then finds no one (QPointer) and is dropped.
ServerSettingsView::~ServerSettingsView() = default;

QString ServerSettingsView::configFile() const
{
    return m_dataDir.isEmpty() ? QString() : QDir(m_dataDir).filePath(QStringLiteral("bourse.toml"));
}

void ServerSettingsView::reload()
{
    Desk *desk = Desk::instance();
    if (!desk)
        return;
    struct Figures
    {
        QString database;
        QString dataDir;
        bool tls = false;
    };
    desk->inspect<Figures>(
        this,
        [](server::VenueServer &venue) {
            const server::VenueServer::Config &config = venue.config();
            return Figures{config.database.toString(), config.dataDir, config.tls.has_value()};
        },
        [this](Figures figures) {
            m_database = figures.database;
            m_dataDir = figures.dataDir;
            m_tls = figures.tls;
            m_listen = Desk::instance() ? Desk::instance()->listenAddress() : QString();
            emit loaded();
        });
}

void ServerSettingsView::finishTest(bool passed, const QString &message)
{
    m_testPassed = passed;
    m_testMessage = message;
    m_testing = false;
    emit tested();
    emit testingChanged();
}

void ServerSettingsView::testDatabaseUrl(const QString &url)
{
    if (m_testing)
        return;
    const Expected<sql::DatabaseUrl, QString> parsed = sql::DatabaseUrl::parse(url.trimmed());
    if (!parsed) {
        finishTest(false, parsed.error());
        return;
    }
    const sql::DatabaseUrl target = *parsed;
    if (target.driver == sql::DatabaseUrl::Driver::Sqlite && !QFileInfo::exists(target.path)) {
        finishTest(false, tr("%1: no database file there (a test does not create one)").arg(target.toString()));
        return;
    }
    m_testing = true;
    m_testMessage.clear();
    emit testingChanged();
    const QPointer<ServerSettingsView> self(this);
    // Connecting may take the whole connect timeout: on a thread of its own, never the GUI's.
    QThread *worker = QThread::create([self, target] {
        bool passed = false;
        QString message;
        {
            // Opened and closed here, on the thread that opened it.
            const sql::ConnectionFactory factory(target);
            const Expected<sql::Connection, QString> connection = factory.open(QStringLiteral("admin-test"));
            passed = connection.hasValue();
            message = passed ? QObject::tr("%1: connected").arg(target.toString()) : connection.error();
        }
        QMetaObject::invokeMethod(
            QCoreApplication::instance(),
            [self, passed, message] {
                if (self)
                    self->finishTest(passed, message);
            },
            Qt::QueuedConnection);
    });
    worker->setObjectName(QStringLiteral("database-test"));
    connect(worker, &QThread::finished, worker, &QObject::deleteLater);
    worker->start();
}

} // namespace bourse::app
