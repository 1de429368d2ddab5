// VenueProcess: one running Bourse, wired together. It starts the engine, adds the default instruments,
// says in the log what runs (and what this build does not do yet), and takes everything down again on
// shutdown(). The storage, the HTTP server and the desktop window join it in later issues. Main thread.
#pragma once

#include "command.h"
#include "engine_host.h"
#include "options.h"

#include <QObject>

#include <optional>
#include <vector>

namespace bourse::app {

class VenueProcess final : public QObject
{
    Q_OBJECT

public:
    explicit VenueProcess(Options options, QObject *parent = nullptr);
    ~VenueProcess() override;

    // Returns at once; the engine reports back through the event loop.
    void start();
    // Stops the engine and then emits finished(0). Safe to call more than once, and before start().
    void shutdown(const QString &reason);

signals:
    void finished(int exitCode);

private:
    void onSeeded(const QList<EngineReply> &replies);
    void finish(int exitCode);

    Options m_options;
    EngineHost m_engine;
    bool m_finishing = false;
};

// The instruments an empty venue starts with (spec/API.md §1).
std::vector<AddInstrument> defaultInstruments();

// Creates the data dir (and its parents) if it is missing, the dir itself with mode 0700 since it will
// hold keys and the database. Returns what went wrong, if anything.
std::optional<QString> createDataDir(const QString &path);

} // namespace bourse::app
