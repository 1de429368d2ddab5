#include "http_framer.h"

#include <cstring>
#include <limits>

namespace bourse::server {

namespace {

constexpr qsizetype kMaxChunkLine = 4096; // a chunk-size line with its extensions

bool isTokenChar(char c)
{
    // RFC 9110 §5.6.2 tchar
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

bool isToken(QByteArrayView text)
{
    if (text.isEmpty())
        return false;
    for (char c : text) {
        if (!isTokenChar(c))
            return false;
    }
    return true;
}

bool isKnownMethod(QByteArrayView method)
{
    static constexpr const char *kMethods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};
    for (const char *known : kMethods) {
        if (method == QByteArrayView(known))
            return true;
    }
    return false;
}

QByteArrayView trimmed(QByteArrayView text)
{
    qsizetype begin = 0;
    qsizetype end = text.size();
    while (begin < end && (text[begin] == ' ' || text[begin] == '\t'))
        ++begin;
    while (end > begin && (text[end - 1] == ' ' || text[end - 1] == '\t'))
        --end;
    return text.sliced(begin, end - begin);
}

bool equalsIgnoringCase(QByteArrayView a, QByteArrayView b)
{
    return a.compare(b, Qt::CaseInsensitive) == 0;
}

// Calls visit(element) for each non-empty element of a comma-separated list (RFC 9110 §5.6.1).
template<typename Visit>
void forEachListElement(QByteArrayView value, Visit visit)
{
    qsizetype start = 0;
    while (start <= value.size()) {
        qsizetype comma = value.indexOf(',', start);
        if (comma < 0)
            comma = value.size();
        const QByteArrayView element = trimmed(value.sliced(start, comma - start));
        if (!element.isEmpty())
            visit(element);
        start = comma + 1;
    }
}

// A header value may hold visible characters, spaces, tabs and obs-text, nothing else.
bool isValidFieldValue(QByteArrayView value)
{
    for (char c : value) {
        const auto byte = static_cast<unsigned char>(c);
        if ((byte < 0x20 && byte != '\t') || byte == 0x7F)
            return false;
    }
    return true;
}

} // namespace

std::optional<QByteArrayView> HttpRequestHead::header(QByteArrayView name) const
{
    for (const auto &[key, value] : headers) {
        if (equalsIgnoringCase(key, name))
            return QByteArrayView(value);
    }
    return std::nullopt;
}

int HttpRequestHead::headerCount(QByteArrayView name) const
{
    int count = 0;
    for (const auto &entry : headers) {
        if (equalsIgnoringCase(entry.first, name))
            ++count;
    }
    return count;
}

QByteArrayView HttpRequestHead::path() const
{
    const qsizetype question = target.indexOf('?');
    return question < 0 ? QByteArrayView(target) : QByteArrayView(target).first(question);
}

QByteArrayView HttpRequestHead::query() const
{
    const qsizetype question = target.indexOf('?');
    return question < 0 ? QByteArrayView() : QByteArrayView(target).sliced(question + 1);
}

HttpFramer::HttpFramer(HttpLimits limits)
    : m_limits(limits)
{}

HttpFramer::Step HttpFramer::fail(ErrorCode code, QByteArray message)
{
    m_state = State::Failed;
    m_failure = HttpFramingError{code, std::move(message)};
    return Step{Step::Kind::Error, m_failure};
}

HttpFramer::LineResult HttpFramer::nextLine(QByteArrayView &line, qsizetype &consumed)
{
    const char *data = m_buffer.constData();
    const qsizetype end = m_buffer.size();
    qsizetype scan = qMax(m_lineScan, m_offset);
    while (scan < end) {
        const char c = data[scan];
        if (c == '\n')
            return LineResult::BareLineEnding;
        if (c == '\r') {
            if (scan + 1 >= end) {
                m_lineScan = scan; // look at this CR again once its successor is here
                return LineResult::Incomplete;
            }
            if (data[scan + 1] != '\n')
                return LineResult::BareLineEnding;
            line = QByteArrayView(data + m_offset, scan - m_offset);
            consumed = scan + 2 - m_offset;
            m_lineScan = 0;
            return LineResult::Complete;
        }
        ++scan;
    }
    m_lineScan = scan; // a slow client's next byte does not make us rescan what we have seen
    return LineResult::Incomplete;
}

void HttpFramer::compact()
{
    if (m_offset == 0)
        return;
    if (m_offset == m_buffer.size()) {
        m_buffer.clear();
    } else if (m_offset > 64 * 1024 || m_offset * 2 > m_buffer.size()) {
        m_buffer.remove(0, m_offset);
    } else {
        return;
    }
    m_lineScan = m_lineScan > m_offset ? m_lineScan - m_offset : 0;
    m_offset = 0;
}

HttpFramer::Step HttpFramer::next()
{
    if (m_state == State::Failed)
        return Step{Step::Kind::Error, m_failure};
    if (m_ready)
        return Step{Step::Kind::Request, {}};
    compact();
    if (m_state == State::Idle || m_state == State::ReadingHead) {
        const Step step = readHead();
        if (step.kind != Step::Kind::NeedMore || m_state != State::ReadingBody)
            return step;
    }
    if (m_state == State::ReadingBody) {
        const Step step = m_chunked ? readChunked() : readBody();
        if (step.kind == Step::Kind::NeedMore && !m_headAnnounced) {
            m_headAnnounced = true;
            return Step{Step::Kind::HeadComplete, {}};
        }
        return step;
    }
    return Step{};
}

HttpFramer::Step HttpFramer::readHead()
{
    for (;;) {
        QByteArrayView line;
        qsizetype consumed = 0;
        const LineResult result = nextLine(line, consumed);
        if (result == LineResult::BareLineEnding)
            return fail(ErrorCode::BadRequest, "line endings must be CRLF");
        if (result == LineResult::Incomplete) {
            const qsizetype partial = m_buffer.size() - m_offset;
            if (partial > 0)
                m_state = State::ReadingHead;
            if (!m_sawRequestLine && partial > m_limits.maxRequestLine + 1) // + its CR, perhaps
                return fail(ErrorCode::UriTooLong, "the request line is too long");
            if (m_sawRequestLine && m_headBytes + partial > m_limits.maxHeaderBytes)
                return fail(ErrorCode::HeadersTooLarge, "the request headers are too large");
            return Step{};
        }
        m_offset += consumed;
        m_state = State::ReadingHead;

        if (!m_sawRequestLine) {
            // RFC 9112 §2.2: empty lines before a request line are ignored.
            if (line.isEmpty()) {
                m_state = State::Idle;
                continue;
            }
            if (line.size() > m_limits.maxRequestLine)
                return fail(ErrorCode::UriTooLong, "the request line is too long");
            const qsizetype firstSpace = line.indexOf(' ');
            const qsizetype lastSpace = line.lastIndexOf(' ');
            if (firstSpace <= 0 || lastSpace == firstSpace)
                return fail(ErrorCode::BadRequest, "malformed request line");
            const QByteArrayView method = line.first(firstSpace);
            const QByteArrayView target = line.sliced(firstSpace + 1, lastSpace - firstSpace - 1);
            const QByteArrayView version = line.sliced(lastSpace + 1);
            if (!isToken(method))
                return fail(ErrorCode::BadRequest, "malformed request method");
            if (target.isEmpty())
                return fail(ErrorCode::BadRequest, "malformed request target");
            for (char c : target) {
                const auto byte = static_cast<unsigned char>(c);
                if (byte <= 0x20 || byte >= 0x7F)
                    return fail(ErrorCode::BadRequest, "malformed request target");
            }
            if (version == "HTTP/1.1") {
                m_request.head.minorVersion = 1;
            } else if (version == "HTTP/1.0") {
                m_request.head.minorVersion = 0;
            } else if (version.size() == 8 && version.startsWith("HTTP/") && version[5] >= '0' && version[5] <= '9'
                       && version[6] == '.' && version[7] >= '0' && version[7] <= '9') {
                return fail(ErrorCode::HttpVersionNotSupported, "only HTTP/1.0 and HTTP/1.1 are supported");
            } else {
                return fail(ErrorCode::BadRequest, "malformed HTTP version");
            }
            if (!isKnownMethod(method))
                return fail(ErrorCode::NotImplemented, "unknown request method");
            QByteArrayView originForm = target;
            if (target.startsWith("http://") || target.startsWith("https://")) {
                // absolute-form (RFC 9112 §3.2.2): what matters here is the path.
                const qsizetype authority = target.indexOf("//") + 2;
                const qsizetype slash = target.indexOf('/', authority);
                const qsizetype question = target.indexOf('?', authority);
                if (slash >= 0 && (question < 0 || slash < question))
                    originForm = target.sliced(slash);
                else if (question >= 0)
                    originForm = QByteArrayView(); // "/?query" below
                else
                    originForm = QByteArrayView("/");
                if (originForm.isEmpty()) {
                    m_request.head.target = "/" + target.sliced(question).toByteArray();
                }
            } else if (target == "*") {
                if (method != "OPTIONS")
                    return fail(ErrorCode::BadRequest, "the target * is only for OPTIONS");
            } else if (!target.startsWith('/')) {
                return fail(ErrorCode::BadRequest, "malformed request target");
            }
            m_request.head.method = method.toByteArray();
            if (m_request.head.target.isEmpty())
                m_request.head.target = originForm.toByteArray();
            m_sawRequestLine = true;
            continue;
        }

        m_headBytes += consumed;
        if (m_headBytes > m_limits.maxHeaderBytes)
            return fail(ErrorCode::HeadersTooLarge, "the request headers are too large");
        if (line.isEmpty())
            return finishHead();
        if (line.front() == ' ' || line.front() == '\t')
            return fail(ErrorCode::BadRequest, "folded header lines are not allowed");
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0 || !isToken(line.first(colon)))
            return fail(ErrorCode::BadRequest, "malformed header field");
        const QByteArrayView value = trimmed(line.sliced(colon + 1));
        if (!isValidFieldValue(value))
            return fail(ErrorCode::BadRequest, "a header value holds a control character");
        if (static_cast<int>(m_request.head.headers.size()) >= m_limits.maxHeaderFields)
            return fail(ErrorCode::HeadersTooLarge, "too many header fields");
        m_request.head.headers.emplace_back(line.first(colon).toByteArray(), value.toByteArray());
    }
}

HttpFramer::Step HttpFramer::finishHead()
{
    HttpRequestHead &head = m_request.head;
    if (head.minorVersion == 1 && head.headerCount("host") != 1)
        return fail(ErrorCode::BadRequest, "an HTTP/1.1 request needs exactly one Host header");

    bool hasTransferEncoding = false;
    bool chunkedLast = false;
    bool otherCoding = false;
    std::optional<qsizetype> contentLength;
    bool contentLengthInvalid = false;
    bool contentLengthTooLarge = false;
    bool close = head.minorVersion == 0;
    for (const auto &[name, value] : head.headers) {
        if (equalsIgnoringCase(name, "transfer-encoding")) {
            hasTransferEncoding = true;
            forEachListElement(value, [&](QByteArrayView coding) {
                if (chunkedLast)
                    otherCoding = true; // anything after chunked, chunked twice included
                if (equalsIgnoringCase(coding, "chunked"))
                    chunkedLast = true;
                else
                    otherCoding = true;
            });
        } else if (equalsIgnoringCase(name, "content-length")) {
            // A list of identical values is one value (RFC 9112 §6.3); anything else is ambiguous framing.
            bool sawElement = false;
            forEachListElement(value, [&](QByteArrayView element) {
                sawElement = true;
                qsizetype parsed = 0;
                for (char c : element) {
                    if (c < '0' || c > '9') {
                        contentLengthInvalid = true;
                        return;
                    }
                    if (parsed > (std::numeric_limits<qsizetype>::max() - 9) / 10) {
                        contentLengthTooLarge = true;
                        return;
                    }
                    parsed = parsed * 10 + (c - '0');
                }
                if (contentLength && *contentLength != parsed)
                    contentLengthInvalid = true;
                contentLength = parsed;
            });
            if (!sawElement)
                contentLengthInvalid = true;
        } else if (equalsIgnoringCase(name, "connection")) {
            forEachListElement(value, [&](QByteArrayView option) {
                if (equalsIgnoringCase(option, "close"))
                    close = true;
                else if (equalsIgnoringCase(option, "keep-alive") && head.minorVersion == 0)
                    close = false;
            });
        } else if (equalsIgnoringCase(name, "expect")) {
            if (equalsIgnoringCase(value, "100-continue"))
                head.expectContinue = true;
        }
    }
    head.keepAlive = !close;

    if (hasTransferEncoding) {
        if (head.minorVersion == 0)
            return fail(ErrorCode::BadRequest, "Transfer-Encoding is not allowed in HTTP/1.0");
        if (contentLength || contentLengthInvalid || contentLengthTooLarge)
            return fail(ErrorCode::BadRequest, "Content-Length and Transfer-Encoding together are not allowed");
        if (!chunkedLast && !otherCoding)
            return fail(ErrorCode::BadRequest, "malformed Transfer-Encoding");
        if (otherCoding)
            return fail(ErrorCode::NotImplemented, "only the chunked transfer coding is supported");
        m_chunked = true;
        m_chunkRemaining = -1;
        m_state = State::ReadingBody;
        return Step{};
    }
    if (contentLengthInvalid)
        return fail(ErrorCode::BadRequest, "malformed or conflicting Content-Length");
    if (contentLengthTooLarge || (contentLength && *contentLength > m_limits.maxBodyBytes))
        return fail(ErrorCode::PayloadTooLarge, "the request body is too large");
    m_contentLength = contentLength.value_or(0);
    if (m_contentLength == 0) {
        head.expectContinue = false;
        m_ready = true;
        m_state = State::Idle;
        return Step{Step::Kind::Request, {}};
    }
    m_state = State::ReadingBody;
    return Step{};
}

HttpFramer::Step HttpFramer::readBody()
{
    if (m_buffer.size() - m_offset < m_contentLength)
        return Step{};
    m_request.body = m_buffer.mid(m_offset, m_contentLength);
    m_offset += m_contentLength;
    m_ready = true;
    m_state = State::Idle;
    return Step{Step::Kind::Request, {}};
}

HttpFramer::Step HttpFramer::readChunked()
{
    for (;;) {
        if (m_inTrailers) {
            QByteArrayView line;
            qsizetype consumed = 0;
            const LineResult result = nextLine(line, consumed);
            if (result == LineResult::BareLineEnding)
                return fail(ErrorCode::BadRequest, "line endings must be CRLF");
            if (result == LineResult::Incomplete) {
                if (m_headBytes + (m_buffer.size() - m_offset) > m_limits.maxHeaderBytes)
                    return fail(ErrorCode::HeadersTooLarge, "the request trailers are too large");
                return Step{};
            }
            m_offset += consumed;
            m_headBytes += consumed;
            if (m_headBytes > m_limits.maxHeaderBytes)
                return fail(ErrorCode::HeadersTooLarge, "the request trailers are too large");
            if (line.isEmpty()) {
                m_ready = true;
                m_state = State::Idle;
                return Step{Step::Kind::Request, {}};
            }
            const qsizetype colon = line.indexOf(':');
            if (colon <= 0 || !isToken(line.first(colon)) || !isValidFieldValue(line.sliced(colon + 1)))
                return fail(ErrorCode::BadRequest, "malformed trailer field");
            continue; // trailers are read and dropped: nothing here needs them
        }
        if (m_chunkRemaining < 0) {
            QByteArrayView line;
            qsizetype consumed = 0;
            const LineResult result = nextLine(line, consumed);
            if (result == LineResult::BareLineEnding)
                return fail(ErrorCode::BadRequest, "line endings must be CRLF");
            if (result == LineResult::Incomplete) {
                if (m_buffer.size() - m_offset > kMaxChunkLine)
                    return fail(ErrorCode::BadRequest, "malformed chunk size");
                return Step{};
            }
            if (line.size() > kMaxChunkLine)
                return fail(ErrorCode::BadRequest, "malformed chunk size");
            m_offset += consumed;
            qsizetype digits = 0;
            qsizetype size = 0;
            while (digits < line.size()) {
                const char c = line[digits];
                int value = -1;
                if (c >= '0' && c <= '9')
                    value = c - '0';
                else if (c >= 'a' && c <= 'f')
                    value = c - 'a' + 10;
                else if (c >= 'A' && c <= 'F')
                    value = c - 'A' + 10;
                if (value < 0)
                    break;
                if (digits >= 15)
                    return fail(ErrorCode::BadRequest, "malformed chunk size");
                size = size * 16 + value;
                ++digits;
            }
            if (digits == 0)
                return fail(ErrorCode::BadRequest, "malformed chunk size");
            const QByteArrayView rest = trimmed(line.sliced(digits));
            if (!rest.isEmpty() && rest.front() != ';')
                return fail(ErrorCode::BadRequest, "malformed chunk size");
            if (!isValidFieldValue(rest))
                return fail(ErrorCode::BadRequest, "malformed chunk extension");
            if (size == 0) {
                m_inTrailers = true;
                continue;
            }
            if (size > m_limits.maxBodyBytes - m_request.body.size())
                return fail(ErrorCode::PayloadTooLarge, "the request body is too large");
            m_chunkRemaining = size;
            continue;
        }
        if (m_chunkRemaining > 0) {
            const qsizetype available = qMin(m_chunkRemaining, m_buffer.size() - m_offset);
            if (available == 0)
                return Step{};
            m_request.body.append(m_buffer.constData() + m_offset, available);
            m_offset += available;
            m_chunkRemaining -= available;
            if (m_chunkRemaining > 0)
                return Step{};
        }
        // The CRLF after a chunk's data.
        if (m_buffer.size() - m_offset < 2)
            return Step{};
        if (m_buffer[m_offset] != '\r' || m_buffer[m_offset + 1] != '\n')
            return fail(ErrorCode::BadRequest, "a chunk's data must end with CRLF");
        m_offset += 2;
        m_chunkRemaining = -1;
    }
}

bool headerListHas(QByteArrayView list, QByteArrayView token)
{
    while (!list.isEmpty()) {
        const qsizetype comma = list.indexOf(',');
        QByteArrayView item = (comma < 0 ? list : list.first(comma)).trimmed();
        list = comma < 0 ? QByteArrayView() : list.sliced(comma + 1);
        if (const qsizetype slash = item.indexOf('/'); slash >= 0)
            item = item.first(slash).trimmed();
        if (item.compare(token, Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

QByteArray HttpFramer::takeBuffered()
{
    QByteArray rest = m_buffer.sliced(m_offset);
    m_buffer.clear();
    m_offset = 0;
    m_lineScan = 0;
    return rest;
}

HttpRequest HttpFramer::take()
{
    HttpRequest request = std::move(m_request);
    m_request = HttpRequest{};
    m_ready = false;
    m_headBytes = 0;
    m_sawRequestLine = false;
    m_chunked = false;
    m_contentLength = 0;
    m_chunkRemaining = -1;
    m_inTrailers = false;
    m_headAnnounced = false;
    m_state = State::Idle;
    compact();
    return request;
}

} // namespace bourse::server
