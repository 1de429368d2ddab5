#include "ws_client.h"

#include <QElapsedTimer>
#include <QHostAddress>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QtEndian>


namespace bourse::test {

int WsFrame::closeCode() const
{
    if (payload.size() < 2)
        return 1005;
    return (int(quint8(payload[0])) << 8) | int(quint8(payload[1]));
}

QByteArray WsFrame::closeReason() const
{
    return payload.mid(2);
}

void applyLevels(BookSide &side, const QJsonArray &levels)
{
    for (const QJsonValue &level : levels) {
        const QString price = level.toArray().at(0).toString();
        const QString quantity = level.toArray().at(1).toString();
        if (QString(quantity).remove(u'0').remove(u'.').isEmpty()) // "0" removes the level
            side.remove(price);
        else
            side.insert(price, quantity);
    }
}

std::optional<SseReader::Event> SseReader::next(int timeoutMs)
{
    QElapsedTimer timer;
    timer.start();
    for (;;) {
        dechunk();
        const qsizetype end = m_events.indexOf("\n\n");
        if (end >= 0) {
            const QByteArray block = m_events.left(end);
            m_events.remove(0, end + 2);
            Event event;
            for (const QByteArray &line : block.split('\n')) {
                if (line.startsWith("id: "))
                    event.id = line.mid(4);
                else if (line.startsWith("event: "))
                    event.name = line.mid(7);
                else if (line.startsWith("data: "))
                    event.data = line.mid(6);
            }
            if (event.name.isEmpty())
                continue; // a comment (ping)
            return event;
        }
        if (ended || timer.elapsed() > timeoutMs || !m_socket.waitForReadyRead(int(timeoutMs - timer.elapsed())))
            return std::nullopt;
        m_raw += m_socket.readAll();
    }
}

void SseReader::dechunk()
{
    if (head.isEmpty()) {
        const qsizetype end = m_raw.indexOf("\r\n\r\n");
        if (end < 0)
            return;
        head = m_raw.left(end);
        m_raw.remove(0, end + 4);
    }
    for (;;) {
        const qsizetype line = m_raw.indexOf("\r\n");
        if (line < 0)
            return;
        bool ok = false;
        const qsizetype size = m_raw.left(line).toLongLong(&ok, 16);
        if (!ok || m_raw.size() < line + 2 + size + 2)
            return;
        if (size == 0)
            ended = true;
        m_events += m_raw.mid(line + 2, size);
        m_raw.remove(0, line + 2 + size + 2);
    }
}

RawWebSocket::RawWebSocket(quint16 port, int receiveBuffer)
{
    if (receiveBuffer <= 0) {
        m_socket.connectToHost(QHostAddress::LocalHost, port);
        m_socket.waitForConnected(10'000);
        return;
    }
    const int fd = connectLoopback(port, receiveBuffer);
    if (fd < 0)
        return;
    m_socket.setSocketDescriptor(fd);
    m_socket.setReadBufferSize(receiveBuffer); // and Qt must not read ahead either
}

int RawWebSocket::handshake(const QByteArrayList &headers, const QByteArray &target, const QByteArray &method)
{
    QByteArray key(16, '\0');
    QRandomGenerator::global()->fillRange(reinterpret_cast<quint32 *>(key.data()), 4);
    QByteArray request = method + ' ' + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    bool custom = false;
    for (const QByteArray &header : headers) {
        request += header + "\r\n";
        custom = custom || header.toLower().startsWith("sec-websocket-key") || header.toLower().startsWith("upgrade");
    }
    if (!custom) {
        request += "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key.toBase64()
                   + "\r\nSec-WebSocket-Version: 13\r\n";
    }
    request += "\r\n";
    m_socket.write(request);
    m_socket.flush();
    QElapsedTimer timer;
    timer.start();
    qsizetype end = -1;
    while ((end = m_in.indexOf("\r\n\r\n")) < 0) {
        if (!fill(int(10'000 - timer.elapsed())))
            return 0;
    }
    m_head = m_in.left(end);
    m_in.remove(0, end + 4);
    const int status = m_head.mid(9, 3).toInt();
    if (status != 101) {
        const qsizetype at = m_head.toLower().indexOf("content-length: ");
        const qsizetype length = at < 0 ? 0 : m_head.mid(at + 16, m_head.indexOf("\r\n", at) - at - 16).toLongLong();
        while (m_in.size() < length && fill(int(10'000 - timer.elapsed()))) {
        }
        m_body = m_in.left(length);
        m_in.remove(0, length);
    }
    return status;
}

void RawWebSocket::sendFrame(int opcode, const QByteArray &payload, bool fin)
{
    m_socket.write(RawWebSocket::frame(opcode, payload, fin));
    m_socket.flush();
}

QByteArray RawWebSocket::frame(int opcode, const QByteArray &payload, bool fin)
{
    QByteArray frame;
    frame.append(char((fin ? 0x80 : 0) | opcode));
    const qsizetype size = payload.size();
    if (size <= 125) {
        frame.append(char(0x80 | size));
    } else if (size <= 0xFFFF) {
        frame.append(char(0x80 | 126));
        const quint16 length = qToBigEndian(quint16(size));
        frame.append(reinterpret_cast<const char *>(&length), 2);
    } else {
        frame.append(char(0x80 | 127));
        const quint64 length = qToBigEndian(quint64(size));
        frame.append(reinterpret_cast<const char *>(&length), 8);
    }
    const quint32 maskValue = QRandomGenerator::global()->generate();
    const char *mask = reinterpret_cast<const char *>(&maskValue);
    frame.append(mask, 4);
    const qsizetype start = frame.size();
    frame.append(payload);
    for (qsizetype i = 0; i < size; ++i)
        frame[start + i] = char(frame[start + i] ^ mask[i % 4]);
    return frame;
}

bool RawWebSocket::fill(int timeoutMs)
{
    if (m_socket.bytesAvailable() == 0) {
        if (timeoutMs <= 0 || !m_socket.waitForReadyRead(timeoutMs))
            return false;
    }
    m_in += m_socket.readAll();
    return true;
}

std::optional<WsFrame> RawWebSocket::next(int timeoutMs)
{
    QElapsedTimer timer;
    timer.start();
    for (;;) {
        if (m_in.size() >= 2) {
            const int opcode = quint8(m_in[0]) & 0x0F;
            qint64 length = quint8(m_in[1]) & 0x7F;
            qsizetype header = 2;
            if (length == 126 && m_in.size() >= 4) {
                length = qFromBigEndian<quint16>(m_in.constData() + 2);
                header = 4;
            } else if (length == 127 && m_in.size() >= 10) {
                length = qint64(qFromBigEndian<quint64>(m_in.constData() + 2));
                header = 10;
            } else if (length >= 126) {
                header = -1; // the extended length is not all here yet
            }
            if (header > 0 && m_in.size() >= header + length) {
                WsFrame frame{opcode, m_in.mid(header, length)};
                m_in.remove(0, header + length);
                m_last = frame;
                return frame;
            }
        }
        const qint64 left = timeoutMs - timer.elapsed();
        if (left <= 0 || !fill(int(left))) {
            m_last.reset();
            return std::nullopt;
        }
    }
}

std::optional<QJsonObject> RawWebSocket::nextJson(int timeoutMs)
{
    QElapsedTimer timer;
    timer.start();
    for (;;) {
        const std::optional<WsFrame> frame = next(int(qMax<qint64>(0, timeoutMs - timer.elapsed())));
        if (!frame)
            return std::nullopt;
        if (frame->opcode == 9) {
            sendFrame(10, frame->payload);
            continue;
        }
        if (frame->opcode != 1)
            return std::nullopt;
        return QJsonDocument::fromJson(frame->payload).object();
    }
}

std::optional<WsFrame> RawWebSocket::nextClose(int timeoutMs, const std::function<void(const WsFrame &)> &each)
{
    QElapsedTimer timer;
    timer.start();
    for (;;) {
        std::optional<WsFrame> frame = next(int(qMax<qint64>(0, timeoutMs - timer.elapsed())));
        if (!frame)
            return std::nullopt;
        if (frame->opcode == 8)
            return frame;
        if (each)
            each(*frame);
    }
}

bool RawWebSocket::waitForClose(int timeoutMs)
{
    QElapsedTimer timer;
    timer.start();
    while (m_socket.state() == QAbstractSocket::ConnectedState) {
        if (timer.elapsed() > timeoutMs)
            return false;
        if (m_socket.waitForReadyRead(50))
            m_in += m_socket.readAll();
    }
    return true;
}

} // namespace bourse::test
