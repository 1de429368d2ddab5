// gzip for HTTP responses (spec/API.md §2: responses over 1 KiB are compressed when the request accepts
// gzip): the compressor, and the reading of an Accept-Encoding header that decides whether to use it. Pure
// functions; any thread.
#pragma once

#include <QByteArray>
#include <QByteArrayView>

namespace bourse::server {

// Only bodies larger than this are compressed (spec: "over 1 KiB"): below it, the gzip framing and the CPU
// cost more than they save.
inline constexpr qsizetype kGzipMinimumBytes = 1024;

// A complete RFC 1952 gzip member of `data`, compressed in one go at zlib's `level` (-1 for zlib's
// default, 0-9). It cannot fail on data in memory: a bad level is a bug (Q_ASSERT), and zlib running out
// of memory ends the program as any other allocation failure in Qt does.
QByteArray gzipCompress(QByteArrayView data, int level = 6);

// Whether an Accept-Encoding value (RFC 9110 §12.5.3) admits gzip: "gzip" or "x-gzip" with q > 0, or, when
// neither is named, "*" with q > 0. Codings are case-insensitive, whitespace around items and parameters is
// tolerated, and an item with a malformed q value counts as q=0. An empty value admits nothing but identity.
bool acceptsGzip(QByteArrayView acceptEncoding);

} // namespace bourse::server
