// Workstation: the desktop window of one running bourse — the Desk the QML sees, the QML engine with the
// Bourse.Ui module, and their wiring to VenueProcess (serving/stopping, the journal's state). Closing the
// window shuts the venue down cleanly, like SIGTERM. GUI (main) thread.
#pragma once

#include "desk.h"
#include "venue_process.h"

#include <QObject>
#include <QQmlApplicationEngine>
#include <QQuickWindow>

#include <memory>
#include <optional>

namespace bourse::app {

class Workstation final : public QObject
{
    Q_OBJECT

public:
    explicit Workstation(VenueProcess &venue, QObject *parent = nullptr);
    ~Workstation() override;

    // Loads the window. The error, when it cannot (a QML error: a build defect), is one line.
    std::optional<QString> show();

    // The import path of the Bourse modules built into this executable, for any QQmlEngine.
    static void prepareEngine(QQmlEngine &engine);

    Desk &desk() { return m_desk; }
    // The window show() made; null before.
    QQuickWindow *window() const;

private:
    Desk m_desk{nullptr};
    std::unique_ptr<QQmlApplicationEngine> m_engine;
};

} // namespace bourse::app
