// HttpFramer: reads HTTP/1.1 requests (RFC 9112) off a connection's bytes, strictly and within limits,
// before anything else sees them. QHttpServer 6.4 accepts any size, never times out and has no answer for
// a malformed request, so the network edge (http_edge.h) runs every byte through this first and hands
// QHttpServer only whole, well-formed requests. What is refused here is refused with the status the RFC
// asks for (400, 413, 414, 431, 501, 505) and the connection then closes, since the framing after a bad
// request cannot be trusted (request smuggling: two Content-Lengths, Content-Length with chunked, bare LF).
// One framer per connection; it keeps no state between requests but what it has not consumed yet. Plain
// value; the connection's thread.
#pragma once

#include "error_code.h"

#include <QByteArray>
#include <QByteArrayView>

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace bourse::server {

struct HttpLimits
{
    qsizetype maxRequestLine = 64 * 1024; // the request line, CRLF excluded (414 beyond)
    qsizetype maxHeaderBytes = 64 * 1024; // every header line together, trailers included (431 beyond)
    int maxHeaderFields = 128;            // (431 beyond)
    qsizetype maxBodyBytes = 1024 * 1024; // after de-chunking (413 beyond)
};

// A complete request as the framer read it. Header names keep their case; look them up with header().
struct HttpRequestHead
{
    QByteArray method; // one of the methods RFC 9110 defines, in upper case
    QByteArray target; // origin-form ("/path?query") or "*" for OPTIONS
    int minorVersion = 1; // HTTP/1.minorVersion
    std::vector<std::pair<QByteArray, QByteArray>> headers; // in arrival order, values trimmed
    bool keepAlive = true;
    bool expectContinue = false;

    // The value of the first header with this name (case-insensitive); none when absent.
    std::optional<QByteArrayView> header(QByteArrayView name) const;
    // How many headers carry this name.
    int headerCount(QByteArrayView name) const;
    QByteArrayView path() const;  // the target up to '?'
    QByteArrayView query() const; // after '?', empty when none
};

// Whether a comma-separated header value (RFC 9110 §5.6.1) holds `token`, case-insensitively; an element
// "token/version" (an Upgrade protocol) counts as its token.
bool headerListHas(QByteArrayView list, QByteArrayView token);

struct HttpRequest
{
    HttpRequestHead head;
    QByteArray body;
};

struct HttpFramingError
{
    ErrorCode code = ErrorCode::BadRequest; // BadRequest, PayloadTooLarge, UriTooLong, HeadersTooLarge,
                                            // NotImplemented or HttpVersionNotSupported
    QByteArray message; // one line for the client: what was wrong, never an echo of their bytes
};

class HttpFramer final
{
public:
    enum class State : std::uint8_t {
        Idle,        // nothing of the next request has arrived
        ReadingHead, // some of a request line or its headers
        ReadingBody, // the head is complete, the body is not
        Failed,      // a framing error; the connection must close
    };

    struct Step
    {
        enum class Kind : std::uint8_t {
            NeedMore,     // nothing complete yet
            HeadComplete, // the head of a request with a body that is still coming (100-continue time)
            Request,      // a whole request; take() it
            Error,        // see error; the framer is Failed from now on
        };
        Kind kind = Kind::NeedMore;
        HttpFramingError error;
    };

    explicit HttpFramer(HttpLimits limits = {});

    void setLimits(const HttpLimits &limits) { m_limits = limits; }
    const HttpLimits &limits() const { return m_limits; }

    // Appends bytes that arrived. Call next() afterwards.
    void append(QByteArrayView bytes) { m_buffer.append(bytes); }
    // Reads as far as the buffered bytes allow. After Request, take() the request and call next() again:
    // a pipelining client may have sent the next request already.
    Step next();
    HttpRequest take();
    // Hands out the bytes buffered after the last taken request and forgets them (a connection that leaves
    // HTTP, such as a WebSocket upgrade, passes them on).
    QByteArray takeBuffered();

    State state() const { return m_state; }
    // Bytes buffered that no complete request has consumed yet.
    qsizetype buffered() const { return m_buffer.size() - m_offset; }
    // The head of the request being read, once HeadComplete has been returned.
    const HttpRequestHead &head() const { return m_request.head; }

private:
    Step fail(ErrorCode code, QByteArray message);
    Step readHead();
    Step finishHead();
    Step readBody();
    Step readChunked();
    // The next CRLF-terminated line from m_offset, without its CRLF; none while it is incomplete. A bare
    // LF or CR is an error.
    enum class LineResult : std::uint8_t { Complete, Incomplete, BareLineEnding };
    LineResult nextLine(QByteArrayView &line, qsizetype &consumed);
    void compact();

    HttpLimits m_limits;
    QByteArray m_buffer;
    qsizetype m_offset = 0; // bytes of m_buffer already consumed
    qsizetype m_lineScan = 0; // how far the current line has been searched for its end
    State m_state = State::Idle;
    HttpFramingError m_failure;

    HttpRequest m_request;
    qsizetype m_headBytes = 0;   // header (and trailer) bytes so far
    bool m_sawRequestLine = false;
    bool m_chunked = false;
    qsizetype m_contentLength = 0;
    // Chunked bodies: how much of the current chunk's data is still to come; -1 before a chunk-size line,
    // 0 while the CRLF after the data is awaited.
    qsizetype m_chunkRemaining = -1;
    bool m_inTrailers = false;
    bool m_headAnnounced = false;
    bool m_ready = false; // a whole request waits in m_request
};

} // namespace bourse::server
