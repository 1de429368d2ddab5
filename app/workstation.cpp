#include "workstation.h"

#include "log.h"

#include <QGuiApplication>
#include <QQuickStyle>
#include <QUrl>

namespace bourse::app {

Workstation::Workstation(VenueProcess &venue, QObject *parent)
    : QObject(parent)
{
    Desk::setInstance(&m_desk);
    connect(&venue, &VenueProcess::serving, &m_desk, &Desk::attach);
    // Direct: the server is still there, and goes once this returns.
    connect(&venue, &VenueProcess::stopping, &m_desk, &Desk::detach, Qt::DirectConnection);
    connect(&venue, &VenueProcess::journalAvailability, &m_desk, &Desk::setJournalAvailable);
    // The window is the venue's front door: closing it stops the venue the way SIGTERM does.
    QGuiApplication::setQuitOnLastWindowClosed(false);
    connect(qGuiApp, &QGuiApplication::lastWindowClosed, &venue,
            [&venue] { venue.shutdown(QStringLiteral("window closed")); });
}

Workstation::~Workstation()
{
    m_engine.reset();
    Desk::setInstance(nullptr);
}

void Workstation::prepareEngine(QQmlEngine &engine)
{
    engine.addImportPath(QStringLiteral("qrc:/qt/qml"));
}

QQuickWindow *Workstation::window() const
{
    if (!m_engine || m_engine->rootObjects().isEmpty())
        return nullptr;
    return qobject_cast<QQuickWindow *>(m_engine->rootObjects().constFirst());
}

std::optional<QString> Workstation::show()
{
    QQuickStyle::setStyle(QStringLiteral("Basic"));
    m_engine = std::make_unique<QQmlApplicationEngine>();
    prepareEngine(*m_engine);
    connect(m_engine.get(), &QQmlApplicationEngine::warnings, this, [](const QList<QQmlError> &warnings) {
        for (const QQmlError &warning : warnings)
            logWarning(lcApp(), "QML", {{"message", warning.toString()}});
    });
    // Qt 6.4 has no loadFromModule(): the module's files are at its resource prefix.
    m_engine->load(QUrl(QStringLiteral("qrc:/qt/qml/Bourse/Ui/Main.qml")));
    if (m_engine->rootObjects().isEmpty())
        return QStringLiteral("the window's QML did not load (see the warnings above)");
    m_desk.setFrameWindow(window());
    return std::nullopt;
}

} // namespace bourse::app
