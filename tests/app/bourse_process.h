// Test support: the built `bourse` run as a process (Bourse), with everything it wrote so far, and the small
// things tests of the real binary need: a free loopback port, a file's mode, an environment cleared of the
// caller's BOURSE_* settings and display. Test thread only.
#pragma once

#include <QByteArray>
#include <QByteArrayList>
#include <QProcess>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

namespace bourse::test {

class Bourse final
{
public:
    // Starts `program` (the bourse binary) with `arguments`; `input`, when given, is written to its stdin,
    // which is then closed (without it stdin stays open and empty).
    Bourse(const QString &program, const QProcessEnvironment &environment, const QStringList &arguments,
           const QByteArray &input = QByteArray());
    ~Bourse(); // kills it if it still runs
    Bourse(const Bourse &) = delete;
    Bourse &operator=(const Bourse &) = delete;

    QProcess &process() { return m_process; }
    QByteArray standardError();
    QByteArray standardOutput();
    QByteArrayList errorLines(); // stderr split into lines, without the empty last one
    void signal(int signalNumber);
    // Waits up to `milliseconds` for it to end; its exit code, or -1 when it did not end normally in time.
    int waitForExit(int milliseconds);

private:
    QProcess m_process;
    QByteArray m_stderr;
    QByteArray m_stdout;
};

// A loopback port that was free a moment ago.
quint16 freePort();
// The permission bits of a file (07777), or -1.
int modeOf(const QString &path);
// The system environment without BOURSE_*, DISPLAY, WAYLAND_DISPLAY and QT_LOGGING_RULES, with HOME and
// XDG_DATA_HOME under `root`, so a test never touches the user's own data dir.
QProcessEnvironment isolatedEnvironment(const QString &root);

} // namespace bourse::test
