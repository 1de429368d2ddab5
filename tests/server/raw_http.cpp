#include "raw_http.h"

#include <QDeadlineTimer>
#include <QMetaObject>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace bourse::test {

int connectLoopback(quint16 port, int receiveBuffer)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (receiveBuffer > 0)
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0) {
        ::close(fd);
        return -1;
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

QByteArray RawResponse::header(QByteArrayView name) const
{
    for (const auto &[key, value] : headers) {
        if (key.compare(name, Qt::CaseInsensitive) == 0)
            return value;
    }
    return {};
}

bool RawResponse::hasHeader(QByteArrayView name) const
{
    for (const auto &entry : headers) {
        if (entry.first.compare(name, Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

RawClient::RawClient(quint16 port, const QHostAddress &host)
    : m_socket(std::make_unique<QTcpSocket>())
{
    m_socket->connectToHost(host, port);
    m_socket->waitForConnected(5000);
}

bool RawClient::isConnected() const
{
    return m_socket->state() == QAbstractSocket::ConnectedState;
}

void RawClient::send(QByteArrayView bytes)
{
    m_socket->write(bytes.data(), bytes.size());
    m_socket->waitForBytesWritten(5000);
}

bool RawClient::fill(int timeoutMs)
{
    if (m_socket->bytesAvailable() == 0 && !m_socket->waitForReadyRead(timeoutMs))
        return false;
    m_buffer.append(m_socket->readAll());
    return true;
}

std::optional<RawResponse> RawClient::read(int timeoutMs)
{
    const QDeadlineTimer deadline(timeoutMs);
    qsizetype headEnd = -1;
    while ((headEnd = m_buffer.indexOf("\r\n\r\n")) < 0) {
        if (!fill(int(qMax<qint64>(1, deadline.remainingTime()))))
            return std::nullopt;
    }
    RawResponse response;
    const QList<QByteArray> lines = m_buffer.left(headEnd).split('\n');
    const QByteArray statusLine = lines.value(0).trimmed();
    response.status = statusLine.mid(9, 3).toInt();
    response.reason = statusLine.mid(13);
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines[i].trimmed();
        const qsizetype colon = line.indexOf(':');
        if (colon > 0)
            response.headers.append({line.left(colon).trimmed(), line.mid(colon + 1).trimmed()});
    }
    m_buffer.remove(0, headEnd + 4);
    if (response.status == 100) // an interim answer; the caller reads again for the final one
        return response;
    if (response.header("transfer-encoding").compare("chunked", Qt::CaseInsensitive) == 0) {
        for (;;) {
            qsizetype lineEnd = -1;
            while ((lineEnd = m_buffer.indexOf("\r\n")) < 0) {
                if (!fill(int(qMax<qint64>(1, deadline.remainingTime()))))
                    return std::nullopt;
            }
            bool ok = false;
            const qsizetype size = m_buffer.left(lineEnd).split(';').value(0).trimmed().toLongLong(&ok, 16);
            if (!ok)
                return std::nullopt;
            while (m_buffer.size() < lineEnd + 2 + size + 2) {
                if (!fill(int(qMax<qint64>(1, deadline.remainingTime()))))
                    return std::nullopt;
            }
            response.body.append(m_buffer.mid(lineEnd + 2, size));
            m_buffer.remove(0, lineEnd + 2 + size + 2);
            if (size == 0)
                return response;
        }
    }
    const qsizetype length = response.header("content-length").toLongLong();
    while (m_buffer.size() < length) {
        if (!fill(int(qMax<qint64>(1, deadline.remainingTime()))))
            return std::nullopt;
    }
    response.body = m_buffer.left(length);
    m_buffer.remove(0, length);
    return response;
}

bool RawClient::waitForClose(int timeoutMs)
{
    const QDeadlineTimer deadline(timeoutMs);
    while (m_socket->state() == QAbstractSocket::ConnectedState && !deadline.hasExpired()) {
        m_socket->waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime())));
        m_buffer.append(m_socket->readAll());
        if (m_socket->state() != QAbstractSocket::ConnectedState)
            break;
    }
    return m_socket->state() != QAbstractSocket::ConnectedState;
}

ServerThread::ServerThread()
    : m_thread(std::make_unique<QThread>())
{
    m_thread->setObjectName(QStringLiteral("server"));
    m_thread->start();
    m_context = std::make_unique<QObject>();
    m_context->moveToThread(m_thread.get());
}

ServerThread::~ServerThread()
{
    stop();
}

void ServerThread::run(const std::function<void()> &work)
{
    QMetaObject::invokeMethod(m_context.get(), work, Qt::BlockingQueuedConnection);
}

void ServerThread::stop(const std::function<void()> &teardown)
{
    if (!m_thread)
        return;
    if (teardown)
        run(teardown);
    QObject *context = m_context.release();
    QMetaObject::invokeMethod(context, [context] { delete context; }, Qt::BlockingQueuedConnection);
    m_thread->quit();
    m_thread->wait();
    m_thread.reset();
}

} // namespace bourse::test
