// ServerSettingsView: the admin panel's Server page — the settings the venue reads only at start-up (listen
// address, TLS, database URL, data dir), shown as they are now (the database URL without its password), with
// the command-line options and config-file keys that change them at the next start; and a "Test" of another
// database URL: parsed as DatabaseUrl parses it, then connected to with the ConnectionFactory on a worker
// thread, never the GUI's. GUI thread.
#pragma once

#include "desk.h"

#include <QObject>
#include <QtQml/qqmlregistration.h>

namespace bourse::app {

class ServerSettingsView : public QObject
{
    Q_OBJECT
    QML_ELEMENT

    Q_PROPERTY(QString listenAddress READ listenAddress NOTIFY loaded)
    Q_PROPERTY(bool tlsEnabled READ tlsEnabled NOTIFY loaded)
    Q_PROPERTY(QString databaseUrl READ databaseUrl NOTIFY loaded)
    Q_PROPERTY(QString dataDir READ dataDir NOTIFY loaded)
    Q_PROPERTY(QString configFile READ configFile NOTIFY loaded)
    Q_PROPERTY(bool testing READ testing NOTIFY testingChanged)
    Q_PROPERTY(QString testMessage READ testMessage NOTIFY tested)
    Q_PROPERTY(bool testPassed READ testPassed NOTIFY tested)

public:
    explicit ServerSettingsView(QObject *parent = nullptr);
    ~ServerSettingsView() override;

    QString listenAddress() const { return m_listen; }
    bool tlsEnabled() const { return m_tls; }
    QString databaseUrl() const { return m_database; }
    QString dataDir() const { return m_dataDir; }
    QString configFile() const;
    bool testing() const { return m_testing; }
    QString testMessage() const { return m_testMessage; }
    bool testPassed() const { return m_testPassed; }

    Q_INVOKABLE void reload();
    // A malformed URL: the parser's message at once. Otherwise a connection is tried on a worker thread and
    // tested() follows with the connection's error or "connected". A SQLite file that does not exist is not
    // created: that is reported instead.
    Q_INVOKABLE void testDatabaseUrl(const QString &url);

signals:
    void loaded();
    void testingChanged();
    void tested();

private:
    void finishTest(bool passed, const QString &message);

    QString m_listen;
    bool m_tls = false;
    QString m_database;
    QString m_dataDir;
    bool m_testing = false;
    QString m_testMessage;
    bool m_testPassed = false;
};

} // namespace bourse::app
