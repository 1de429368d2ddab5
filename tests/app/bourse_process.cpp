#include "bourse_process.h"

#include <QDir>
#include <QTcpServer>

#include <csignal>
#include <sys/stat.h>

namespace bourse::test {

Bourse::Bourse(const QString &program, const QProcessEnvironment &environment, const QStringList &arguments,
               const QByteArray &input)
{
    m_process.setProgram(program);
    m_process.setArguments(arguments);
    m_process.setProcessEnvironment(environment);
    QObject::connect(&m_process, &QProcess::readyReadStandardError,
                     [this] { m_stderr += m_process.readAllStandardError(); });
    QObject::connect(&m_process, &QProcess::readyReadStandardOutput,
                     [this] { m_stdout += m_process.readAllStandardOutput(); });
    m_process.start();
    if (!input.isNull() && m_process.waitForStarted()) {
        m_process.write(input);
        m_process.closeWriteChannel();
    }
}

Bourse::~Bourse()
{
    if (m_process.state() != QProcess::NotRunning) {
        m_process.kill();
        m_process.waitForFinished(10'000);
    }
}

QByteArray Bourse::standardError()
{
    m_stderr += m_process.readAllStandardError();
    return m_stderr;
}

QByteArray Bourse::standardOutput()
{
    m_stdout += m_process.readAllStandardOutput();
    return m_stdout;
}

QByteArrayList Bourse::errorLines()
{
    QByteArrayList lines = standardError().split('\n');
    if (!lines.isEmpty() && lines.constLast().isEmpty())
        lines.removeLast();
    return lines;
}

void Bourse::signal(int signalNumber)
{
    ::kill(static_cast<pid_t>(m_process.processId()), signalNumber);
}

int Bourse::waitForExit(int milliseconds)
{
    if (m_process.state() != QProcess::NotRunning && !m_process.waitForFinished(milliseconds))
        return -1;
    standardError();
    standardOutput();
    return m_process.exitStatus() == QProcess::NormalExit ? m_process.exitCode() : -1;
}

quint16 freePort()
{
    QTcpServer server;
    if (!server.listen(QHostAddress::LocalHost, 0))
        return 0;
    return server.serverPort(); // closed again when `server` goes; nothing else should take it meanwhile
}

int modeOf(const QString &path)
{
    struct stat info;
    if (::stat(QFile::encodeName(path).constData(), &info) != 0)
        return -1;
    return static_cast<int>(info.st_mode & 07777);
}

QProcessEnvironment isolatedEnvironment(const QString &root)
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const QString &name : env.keys()) {
        if (name.startsWith(u"BOURSE_") || name == u"DISPLAY" || name == u"WAYLAND_DISPLAY"
            || name == u"QT_LOGGING_RULES") {
            env.remove(name);
        }
    }
    env.insert(QStringLiteral("HOME"), QDir(root).filePath(QStringLiteral("home")));
    env.insert(QStringLiteral("XDG_DATA_HOME"), QDir(root).filePath(QStringLiteral("xdg")));
    return env;
}

} // namespace bourse::test
