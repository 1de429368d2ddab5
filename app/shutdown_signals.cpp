#include "shutdown_signals.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace bourse::app {

namespace {

// The pipe's write end, read by the handler; -1 when no ShutdownSignals is installed.
volatile std::sig_atomic_t s_writeFd = -1;

extern "C" void onShutdownSignal(int signalNumber)
{
    // write() is async-signal-safe; errno is put back because the interrupted code may be about to read it.
    const int savedErrno = errno;
    const auto byte = static_cast<unsigned char>(signalNumber);
    [[maybe_unused]] const ssize_t written = ::write(s_writeFd, &byte, 1);
    errno = savedErrno;
}

void setDisposition(int signalNumber, void (*handler)(int))
{
    struct sigaction action;
    std::memset(&action, 0, sizeof action);
    action.sa_handler = handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    ::sigaction(signalNumber, &action, nullptr);
}

void restoreDefaults()
{
    setDisposition(SIGINT, SIG_DFL);
    setDisposition(SIGTERM, SIG_DFL);
}

} // namespace

ShutdownSignals::ShutdownSignals(QObject *parent)
    : QObject(parent)
{}

ShutdownSignals::~ShutdownSignals()
{
    if (m_writeFd >= 0) {
        restoreDefaults();
        s_writeFd = -1;
    }
    m_notifier.reset();
    if (m_readFd >= 0)
        ::close(m_readFd);
    if (m_writeFd >= 0)
        ::close(m_writeFd);
}

std::optional<QString> ShutdownSignals::install()
{
    if (m_writeFd >= 0)
        return std::nullopt;
    int fds[2];
    // Non-blocking: a flood of signals must never block the handler on a full pipe.
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
        return QStringLiteral("cannot create the signal pipe: %1").arg(QString::fromLocal8Bit(std::strerror(errno)));
    m_readFd = fds[0];
    m_writeFd = fds[1];
    s_writeFd = m_writeFd;
    m_notifier = std::make_unique<QSocketNotifier>(m_readFd, QSocketNotifier::Read);
    connect(m_notifier.get(), &QSocketNotifier::activated, this, &ShutdownSignals::readPipe);
    setDisposition(SIGINT, onShutdownSignal);
    setDisposition(SIGTERM, onShutdownSignal);
    return std::nullopt;
}

void ShutdownSignals::readPipe()
{
    unsigned char bytes[16];
    ssize_t count = 0;
    int first = 0;
    while ((count = ::read(m_readFd, bytes, sizeof bytes)) > 0 || (count < 0 && errno == EINTR)) {
        if (count > 0 && first == 0)
            first = bytes[0];
    }
    if (first == 0 || m_requested)
        return;
    m_requested = true;
    restoreDefaults();
    emit shutdownRequested(first);
}

QString signalName(int signalNumber)
{
    switch (signalNumber) {
    case SIGINT: return QStringLiteral("SIGINT");
    case SIGTERM: return QStringLiteral("SIGTERM");
    default: return QStringLiteral("signal %1").arg(signalNumber);
    }
}

} // namespace bourse::app
