// ShutdownSignals: turns SIGINT and SIGTERM into a Qt signal on the main thread. The POSIX handler does
// nothing but write() the signal number into a pipe (the self-pipe trick); a QSocketNotifier reads it in
// the event loop, where logging and stopping threads are safe. After the first signal the default
// dispositions come back, so a second SIGINT or SIGTERM ends a stuck shutdown at once. One per process;
// main thread.
#pragma once

#include <QLatin1StringView>
#include <QObject>
#include <QSocketNotifier>
#include <QString>

#include <memory>
#include <optional>

namespace bourse::app {

class ShutdownSignals final : public QObject
{
    Q_OBJECT

public:
    explicit ShutdownSignals(QObject *parent = nullptr);
    ~ShutdownSignals() override; // restores the default dispositions

    // Returns what failed, if anything.
    std::optional<QString> install();

signals:
    void shutdownRequested(int signalNumber);

private:
    void readPipe();

    int m_readFd = -1;
    int m_writeFd = -1;
    std::unique_ptr<QSocketNotifier> m_notifier;
    bool m_requested = false;
};

// "SIGINT", "SIGTERM", or "signal <n>".
QString signalName(int signalNumber);

} // namespace bourse::app
