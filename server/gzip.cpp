#include "gzip.h"

#include <QtGlobal>

#include <algorithm>
#include <climits>
#include <optional>

#define ZLIB_CONST // next_in as a pointer to const: the input is a view
#include <zlib.h>

namespace bourse::server {

namespace {

constexpr int kGzipWindowBits = 15 + 16; // the largest window, with a gzip header and trailer

// zlib counts in uInt: buffers beyond 4 GiB are fed in pieces.
uInt chunk(qsizetype left)
{
    return static_cast<uInt>(std::min<qsizetype>(left, qsizetype{UINT_MAX}));
}

} // namespace

QByteArray gzipCompress(QByteArrayView data, int level)
{
    Q_ASSERT(level >= Z_DEFAULT_COMPRESSION && level <= Z_BEST_COMPRESSION);
    z_stream stream{};
    if (deflateInit2(&stream, level, Z_DEFLATED, kGzipWindowBits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        qFatal("gzip: zlib could not start a deflate stream (out of memory?)");

    // deflateBound() covers the header and trailer too: one output buffer is enough.
    QByteArray out;
    out.resize(static_cast<qsizetype>(deflateBound(&stream, static_cast<uLong>(data.size()))));
    auto *const outBase = reinterpret_cast<Bytef *>(out.data());
    stream.next_in = reinterpret_cast<const Bytef *>(data.data());
    stream.next_out = outBase;
    qsizetype inLeft = data.size();

    int result = Z_OK;
    while (result != Z_STREAM_END) {
        if (stream.avail_in == 0 && inLeft > 0) {
            stream.avail_in = chunk(inLeft);
            inLeft -= stream.avail_in;
        }
        if (stream.avail_out == 0) {
            const qsizetype written = stream.next_out - outBase;
            if (written == out.size()) // deflateBound() makes this unreachable; growing keeps it harmless
                out.resize(out.size() + std::max<qsizetype>(out.size() / 2, 64));
            stream.next_out = reinterpret_cast<Bytef *>(out.data()) + written;
            stream.avail_out = chunk(out.size() - written);
        }
        result = deflate(&stream, inLeft == 0 ? Z_FINISH : Z_NO_FLUSH);
        // Z_BUF_ERROR only says that a call made no progress; the next one has room again.
        if (result != Z_OK && result != Z_STREAM_END && result != Z_BUF_ERROR)
            qFatal("gzip: deflate failed (%d)", result);
    }
    out.truncate(reinterpret_cast<char *>(stream.next_out) - out.data());
    deflateEnd(&stream);
    return out;
}

namespace {

bool isSpace(char c)
{
    return c == ' ' || c == '\t';
}

QByteArrayView trimmed(QByteArrayView text)
{
    while (!text.isEmpty() && isSpace(text.front()))
        text = text.sliced(1);
    while (!text.isEmpty() && isSpace(text.back()))
        text.chop(1);
    return text;
}

bool equalsIgnoringCase(QByteArrayView a, QByteArrayView b)
{
    return a.size() == b.size() && qstrnicmp(a.data(), b.data(), static_cast<size_t>(a.size())) == 0;
}

// A qvalue in thousandths: "0" ["." 0*3DIGIT] or "1" ["." 0*3"0"]; nullopt when malformed.
std::optional<int> parseQValue(QByteArrayView text)
{
    if (text.isEmpty() || (text.front() != '0' && text.front() != '1'))
        return std::nullopt;
    int thousandths = text.front() == '1' ? 1000 : 0;
    if (text.size() == 1)
        return thousandths;
    if (text.at(1) != '.' || text.size() > 5)
        return std::nullopt;
    int scale = 100;
    for (const char c : text.sliced(2)) {
        if (c < '0' || c > '9')
            return std::nullopt;
        thousandths += (c - '0') * scale;
        scale /= 10;
    }
    return thousandths <= 1000 ? std::optional<int>(thousandths) : std::nullopt;
}

// The weight of one list item's parameters ("q=0.5; foo=bar"): 1000 without a q, 0 for a malformed one.
int weightOf(QByteArrayView parameters)
{
    while (!parameters.isEmpty()) {
        const qsizetype semicolon = parameters.indexOf(';');
        const QByteArrayView parameter = trimmed(semicolon < 0 ? parameters : parameters.first(semicolon));
        parameters = semicolon < 0 ? QByteArrayView() : parameters.sliced(semicolon + 1);
        const qsizetype equals = parameter.indexOf('=');
        if (!equalsIgnoringCase(trimmed(equals < 0 ? parameter : parameter.first(equals)), "q"))
            continue;
        // "q" with no value is malformed like any other bad value.
        return parseQValue(equals < 0 ? QByteArrayView() : trimmed(parameter.sliced(equals + 1))).value_or(0);
    }
    return 1000;
}

} // namespace

bool acceptsGzip(QByteArrayView acceptEncoding)
{
    std::optional<int> gzipWeight; // the best of the "gzip" and "x-gzip" items
    std::optional<int> anyWeight;  // the best of the "*" items
    QByteArrayView rest = acceptEncoding;
    while (!rest.isEmpty()) {
        const qsizetype comma = rest.indexOf(',');
        const QByteArrayView item = comma < 0 ? rest : rest.first(comma);
        rest = comma < 0 ? QByteArrayView() : rest.sliced(comma + 1);

        const qsizetype semicolon = item.indexOf(';');
        const QByteArrayView coding = trimmed(semicolon < 0 ? item : item.first(semicolon));
        const int weight = semicolon < 0 ? 1000 : weightOf(item.sliced(semicolon + 1));
        std::optional<int> *slot = nullptr;
        if (equalsIgnoringCase(coding, "gzip") || equalsIgnoringCase(coding, "x-gzip"))
            slot = &gzipWeight;
        else if (coding == "*")
            slot = &anyWeight;
        if (slot != nullptr)
            *slot = std::max(slot->value_or(0), weight);
    }
    if (gzipWeight)
        return *gzipWeight > 0;
    return anyWeight.value_or(0) > 0;
}

} // namespace bourse::server
