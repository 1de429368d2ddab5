// Clients of the event streams for the tests, blocking, on the test thread:
// - RawWebSocket: a WebSocket client on a plain QTcpSocket, so that a test can send what no well-behaved
//   client sends (binary frames, 200 KiB messages, bursts, no pongs) and see every frame the server writes,
//   close frames included. Frames it sends are masked (RFC 6455 §5.3).
// - SseReader: the events of a server-sent event stream, one at a time, from its chunked response.
// - BookSide / applyLevels: a book side rebuilt from a snapshot's or an update's levels.
#pragma once

#include "raw_http.h"

#include <QByteArray>
#include <QJsonArray>
#include <QJsonObject>
#include <QMap>
#include <QTcpSocket>

#include <functional>
#include <optional>

namespace bourse::test {

// price → quantity, one side of a book.
using BookSide = QMap<QString, QString>;
// Applies [[price, quantity], ...]; quantity "0" removes the level.
void applyLevels(BookSide &side, const QJsonArray &levels);

class SseReader final
{
public:
    explicit SseReader(QTcpSocket &socket)
        : m_socket(socket)
    {}

    struct Event
    {
        QByteArray id;
        QByteArray name;
        QByteArray data;
    };
    // The next event (comments skipped); none on timeout or at the end of the stream.
    std::optional<Event> next(int timeoutMs = 10'000);

    QByteArray head; // the response's head, once it came
    bool ended = false; // the zero chunk came

private:
    void dechunk();

    QTcpSocket &m_socket;
    QByteArray m_raw;
    QByteArray m_events;
};

struct WsFrame
{
    int opcode = 0; // 1 text, 2 binary, 8 close, 9 ping, 10 pong
    QByteArray payload;

    int closeCode() const; // for a close frame; 1005 when it has none
    QByteArray closeReason() const;
};

class RawWebSocket final
{
public:
    // receiveBuffer > 0: SO_RCVBUF set before connecting (a client that can hold little).
    explicit RawWebSocket(quint16 port, int receiveBuffer = 0);

    // Sends the upgrade request and reads the answer's head (and its body when it is not 101). Returns the
    // status; headers and body stay in head()/body().
    int handshake(const QByteArrayList &headers = {}, const QByteArray &target = "/ws",
                  const QByteArray &method = "GET");
    const QByteArray &head() const { return m_head; }
    const QByteArray &body() const { return m_body; }

    void sendFrame(int opcode, const QByteArray &payload, bool fin = true);
    // A client frame (masked), for clients on other sockets.
    static QByteArray frame(int opcode, const QByteArray &payload, bool fin = true);
    void sendText(const QByteArray &text) { sendFrame(1, text); }
    // The next frame; none when nothing came within the timeout or the connection closed first.
    std::optional<WsFrame> next(int timeoutMs = 10'000);
    // The next text message as JSON, answering pings on the way; none on timeout, close or a non-text frame
    // (then lastFrame() says which).
    std::optional<QJsonObject> nextJson(int timeoutMs = 10'000);
    // Reads up to the server's close frame, handing every other frame to `each`; none when the connection
    // ended without one or the time ran out.
    std::optional<WsFrame> nextClose(int timeoutMs = 10'000, const std::function<void(const WsFrame &)> &each = {});
    const std::optional<WsFrame> &lastFrame() const { return m_last; }
    // Reads until the server closes the connection; true when it did within the timeout.
    bool waitForClose(int timeoutMs = 10'000);

    QTcpSocket &socket() { return m_socket; }
    bool isConnected() const { return m_socket.state() == QAbstractSocket::ConnectedState; }

private:
    bool fill(int timeoutMs);

    QTcpSocket m_socket;
    QByteArray m_in;
    QByteArray m_head;
    QByteArray m_body;
    std::optional<WsFrame> m_last;
};

} // namespace bourse::test
