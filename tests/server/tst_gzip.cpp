// Tests of the gzip compressor and the Accept-Encoding reading: what gzipCompress writes inflates back with
// plain zlib to the input (empty, small, 1 MiB of random bytes, 1 MiB of repetition, every level), and a
// table of header values against the decision.
#include "gzip.h"

#include <QTest>

#include <cstdint>
#include <random>
#include <zlib.h>

using namespace bourse::server;

namespace {

// Plain zlib's reading of a gzip member (15 + 32: the header detected); `ok` when it ends cleanly with no
// bytes left over.
QByteArray inflateAll(const QByteArray &compressed, bool *ok)
{
    *ok = false;
    z_stream stream{};
    if (inflateInit2(&stream, 15 + 32) != Z_OK)
        return {};
    QByteArray out;
    QByteArray buffer(64 * 1024, Qt::Uninitialized);
    stream.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(compressed.constData()));
    stream.avail_in = static_cast<uInt>(compressed.size());
    int result = Z_OK;
    while (result == Z_OK) {
        stream.next_out = reinterpret_cast<Bytef *>(buffer.data());
        stream.avail_out = static_cast<uInt>(buffer.size());
        result = inflate(&stream, Z_NO_FLUSH);
        out.append(buffer.constData(), buffer.size() - static_cast<qsizetype>(stream.avail_out));
    }
    *ok = result == Z_STREAM_END && stream.avail_in == 0;
    inflateEnd(&stream);
    return out;
}

QByteArray randomBytes(qsizetype size, std::uint32_t seed)
{
    std::mt19937 generator(seed);
    std::uniform_int_distribution<int> byte(0, 255);
    QByteArray bytes(size, Qt::Uninitialized);
    for (char &c : bytes)
        c = static_cast<char>(byte(generator));
    return bytes;
}

} // namespace

class tst_Gzip final : public QObject
{
    Q_OBJECT

private slots:
    void roundTrip_data();
    void roundTrip();
    void acceptsGzip_data();
    void acceptsGzip();
};

void tst_Gzip::roundTrip_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<int>("level");
    QTest::addColumn<qsizetype>("maxCompressedSize"); // -1: no expectation

    const QByteArray random = randomBytes(1024 * 1024, 20260101);
    const QByteArray repetitive = QByteArray("{\"price\":\"64000.00\",\"quantity\":\"1.5000\"},").repeated(26'000);
    QTest::newRow("empty") << QByteArray() << 6 << qsizetype{-1};
    QTest::newRow("one byte") << QByteArray("x") << 6 << qsizetype{-1};
    QTest::newRow("small") << QByteArray("{\"status\":\"ok\"}") << 6 << qsizetype{-1};
    QTest::newRow("zero bytes inside") << QByteArray("a\0b\0c", 5) << 6 << qsizetype{-1};
    QTest::newRow("1 MiB random") << random << 6 << qsizetype{-1};
    QTest::newRow("1 MiB random, level 1") << random << 1 << qsizetype{-1};
    QTest::newRow("1 MiB random, stored") << random << 0 << qsizetype{-1};
    QTest::newRow("1 MiB of one byte") << QByteArray(1024 * 1024, 'a') << 6 << qsizetype{4096};
    QTest::newRow("repetitive JSON") << repetitive << 6 << qsizetype{16 * 1024};
    QTest::newRow("repetitive JSON, level 9") << repetitive << 9 << qsizetype{16 * 1024};
    QTest::newRow("repetitive JSON, zlib's default") << repetitive << -1 << qsizetype{16 * 1024};
}

void tst_Gzip::roundTrip()
{
    QFETCH(QByteArray, input);
    QFETCH(int, level);
    QFETCH(qsizetype, maxCompressedSize);

    const QByteArray compressed = gzipCompress(input, level);
    QVERIFY(compressed.size() >= 18); // a 10-byte header and an 8-byte trailer at least
    QCOMPARE(static_cast<unsigned char>(compressed.at(0)), 0x1fu);
    QCOMPARE(static_cast<unsigned char>(compressed.at(1)), 0x8bu);
    QCOMPARE(static_cast<unsigned char>(compressed.at(2)), 8u); // deflate
    if (maxCompressedSize >= 0)
        QVERIFY2(compressed.size() <= maxCompressedSize, QByteArray::number(compressed.size()).constData());

    bool ok = false;
    const QByteArray inflated = inflateAll(compressed, &ok);
    QVERIFY(ok);
    QCOMPARE(inflated.size(), input.size());
    QVERIFY(inflated == input);
}

void tst_Gzip::acceptsGzip_data()
{
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<bool>("accepted");

    QTest::newRow("gzip") << QByteArray("gzip") << true;
    QTest::newRow("upper case") << QByteArray("GZIP") << true;
    QTest::newRow("mixed case") << QByteArray("GZip") << true;
    QTest::newRow("x-gzip") << QByteArray("x-gzip") << true;
    QTest::newRow("X-GZIP") << QByteArray("X-GZIP") << true;
    QTest::newRow("browser list") << QByteArray("gzip, deflate, br, zstd") << true;
    QTest::newRow("weighted second") << QByteArray("deflate, gzip;q=0.5") << true;
    QTest::newRow("q=1") << QByteArray("gzip;q=1") << true;
    QTest::newRow("q=1.000") << QByteArray("gzip;q=1.000") << true;
    QTest::newRow("q=1.") << QByteArray("gzip;q=1.") << true;
    QTest::newRow("q=0.001") << QByteArray("gzip;q=0.001") << true;
    QTest::newRow("Q upper case") << QByteArray("gzip;Q=0.5") << true;
    QTest::newRow("other parameter") << QByteArray("gzip;level=1") << true;
    QTest::newRow("other parameter, then q=0") << QByteArray("gzip;level=1;q=0") << false;
    QTest::newRow("spaces everywhere") << QByteArray("  deflate ,\tgzip ; q = 0.5 , br ") << true;
    QTest::newRow("empty items") << QByteArray(",, gzip ,,") << true;
    QTest::newRow("q=0") << QByteArray("gzip;q=0") << false;
    QTest::newRow("q=0.000 with space") << QByteArray("gzip; q=0.000") << false;
    QTest::newRow("q=0.") << QByteArray("gzip;q=0.") << false;
    QTest::newRow("x-gzip;q=0") << QByteArray("x-gzip;q=0") << false;
    QTest::newRow("star") << QByteArray("*") << true;
    QTest::newRow("star q=0") << QByteArray("*;q=0") << false;
    QTest::newRow("star low") << QByteArray("br, *;q=0.1") << true;
    QTest::newRow("star but gzip refused") << QByteArray("*, gzip;q=0") << false;
    QTest::newRow("gzip but star refused") << QByteArray("gzip, *;q=0") << true;
    QTest::newRow("identity") << QByteArray("identity") << false;
    QTest::newRow("identity, star refused") << QByteArray("identity, *;q=0") << false;
    QTest::newRow("empty") << QByteArray("") << false;
    QTest::newRow("whitespace") << QByteArray(" \t ") << false;
    QTest::newRow("deflate only") << QByteArray("deflate") << false;
    QTest::newRow("br only") << QByteArray("br;q=1.0") << false;
    QTest::newRow("longer name") << QByteArray("gzipped") << false;
    QTest::newRow("shorter name") << QByteArray("gzi") << false;
    QTest::newRow("q=abc") << QByteArray("gzip;q=abc") << false;
    QTest::newRow("q empty") << QByteArray("gzip;q=") << false;
    QTest::newRow("q without value") << QByteArray("gzip;q") << false;
    QTest::newRow("q=.5") << QByteArray("gzip;q=.5") << false;
    QTest::newRow("q=1.001") << QByteArray("gzip;q=1.001") << false;
    QTest::newRow("q=2") << QByteArray("gzip;q=2") << false;
    QTest::newRow("q=-1") << QByteArray("gzip;q=-1") << false;
    QTest::newRow("q=0.5000 (four decimals)") << QByteArray("gzip;q=0.5000") << false;
    QTest::newRow("q=0.5x") << QByteArray("gzip;q=0.5x") << false;
    QTest::newRow("malformed star") << QByteArray("*;q=x") << false;
    QTest::newRow("best of two gzip items") << QByteArray("gzip;q=0, x-gzip;q=0.3") << true;
    QTest::newRow("binary garbage") << QByteArray("\xff\x00gzip\x01", 7) << false;
}

void tst_Gzip::acceptsGzip()
{
    QFETCH(QByteArray, header);
    QFETCH(bool, accepted);
    QCOMPARE(bourse::server::acceptsGzip(header), accepted);
}

QTEST_GUILESS_MAIN(tst_Gzip)
#include "tst_gzip.moc"
