// Test support: a raw HTTP/1.1 client over a blocking QTcpSocket, for tests that must send exactly the
// bytes they mean (malformed requests, pipelining, slow clients), and a reader of what comes back. The
// server under test runs on another thread (ServerThread), so blocking here never stalls it.
#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QPair>
#include <QTcpSocket>
#include <QThread>

#include <functional>
#include <memory>
#include <optional>

namespace bourse::test {

// A blocking TCP connection to 127.0.0.1:port with TCP_NODELAY: its descriptor, or -1. receiveBuffer > 0
// sets SO_RCVBUF before connect(), when the window scale is agreed (set later, autotuning would already have
// grown the window the server sees).
int connectLoopback(quint16 port, int receiveBuffer = 0);

struct RawResponse
{
    int status = 0;
    QByteArray reason;
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body; // de-chunked

    QByteArray header(QByteArrayView name) const; // empty when absent
    bool hasHeader(QByteArrayView name) const;
};

class RawClient final
{
public:
    explicit RawClient(quint16 port, const QHostAddress &host = QHostAddress::LocalHost);
    bool isConnected() const;
    void send(QByteArrayView bytes);
    // Reads one response; none when the connection closed (or nothing came within timeoutMs).
    std::optional<RawResponse> read(int timeoutMs = 10'000);
    // True when the server closed the connection within timeoutMs (any bytes before that are dropped).
    bool waitForClose(int timeoutMs = 10'000);
    QTcpSocket &socket() { return *m_socket; }

private:
    bool fill(int timeoutMs); // reads more bytes; false on close or timeout
    std::unique_ptr<QTcpSocket> m_socket;
    QByteArray m_buffer;
};

// Runs `setup` on a new thread with an event loop, where the server under test lives, and `teardown`
// there before the thread ends.
class ServerThread final
{
public:
    ServerThread();
    ~ServerThread(); // stop()s
    void run(const std::function<void()> &work); // on the server thread, waiting for it
    void stop(const std::function<void()> &teardown = {});
    QThread *thread() const { return m_thread.get(); }

private:
    std::unique_ptr<QThread> m_thread;
    std::unique_ptr<QObject> m_context; // lives on the server thread
};

} // namespace bourse::test
