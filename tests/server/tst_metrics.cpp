// Tests of the Prometheus registry: the exact text of a small registry, escaping, number spelling, the
// same object for the same name and labels, histogram buckets on and between their bounds, and exact
// sums of concurrent updates from 4 threads.
#include "metrics.h"

#include <QTest>

#include <cmath>
#include <cstdint>
#include <limits>
#include <thread>
#include <vector>

using namespace bourse::server;

class tst_Metrics final : public QObject
{
    Q_OBJECT

private slots:
    void renderSmallRegistry();
    void labelValueEscaping_data();
    void labelValueEscaping();
    void helpEscaping();
    void numberSpelling_data();
    void numberSpelling();
    void integerValues();
    void sameNameAndLabelsIsSameObject();
    void callbackRegisteredAgainReplaces();
    void histogramBuckets_data();
    void histogramBuckets();
    void defaultBounds();
    void concurrentUpdates();
};

void tst_Metrics::renderSmallRegistry()
{
    MetricsRegistry registry;
    registry
        .counter("http_requests_total", "HTTP requests served.",
                 {{"route", "/health"}, {"method", "GET"}, {"status", "200"}})
        .add(3);
    registry
        .counter("http_requests_total", "HTTP requests served.",
                 {{"method", "POST"}, {"route", "/api/v1/orders"}, {"status", "201"}})
        .add();
    registry.gauge("ws_connections", "Open WebSocket connections.").set(2);
    registry.gaugeCallback("journal_lag_events", "Events accepted but not yet durable.", [] { return 12.0; });
    registry.gaugeCallback("engine_load", "Share of the engine thread's time spent busy.", [] { return 0.25; },
                           {{"engine", "main"}});
    registry.gauge("engine_load", "Share of the engine thread's time spent busy.", {{"engine", "aux"}}).set(-1);
    Histogram &latency = registry.histogram("http_request_duration_seconds", "Request latency.", {{"route", "/health"}},
                                            {0.001, 0.01, 0.1});
    latency.observeNanoseconds(500'000);       // below the first bound
    latency.observeNanoseconds(1'000'000);     // on it
    latency.observeNanoseconds(5'000'000);     // between two bounds
    latency.observeNanoseconds(2'000'000'000); // above every bound

    const QByteArray expected = "# HELP engine_load Share of the engine thread's time spent busy.\n"
                                "# TYPE engine_load gauge\n"
                                "engine_load{engine=\"aux\"} -1\n"
                                "engine_load{engine=\"main\"} 0.25\n"
                                "# HELP http_request_duration_seconds Request latency.\n"
                                "# TYPE http_request_duration_seconds histogram\n"
                                "http_request_duration_seconds_bucket{route=\"/health\",le=\"0.001\"} 2\n"
                                "http_request_duration_seconds_bucket{route=\"/health\",le=\"0.01\"} 3\n"
                                "http_request_duration_seconds_bucket{route=\"/health\",le=\"0.1\"} 3\n"
                                "http_request_duration_seconds_bucket{route=\"/health\",le=\"+Inf\"} 4\n"
                                "http_request_duration_seconds_sum{route=\"/health\"} 2.0065\n"
                                "http_request_duration_seconds_count{route=\"/health\"} 4\n"
                                "# HELP http_requests_total HTTP requests served.\n"
                                "# TYPE http_requests_total counter\n"
                                "http_requests_total{method=\"GET\",route=\"/health\",status=\"200\"} 3\n"
                                "http_requests_total{method=\"POST\",route=\"/api/v1/orders\",status=\"201\"} 1\n"
                                "# HELP journal_lag_events Events accepted but not yet durable.\n"
                                "# TYPE journal_lag_events gauge\n"
                                "journal_lag_events 12\n"
                                "# HELP ws_connections Open WebSocket connections.\n"
                                "# TYPE ws_connections gauge\n"
                                "ws_connections 2\n";
    QCOMPARE(registry.render(), expected);
}

void tst_Metrics::labelValueEscaping_data()
{
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<QByteArray>("rendered");

    QTest::newRow("plain") << QByteArray("/api/v1/orders/{id}") << QByteArray(R"(/api/v1/orders/{id})");
    QTest::newRow("backslash") << QByteArray(R"(C:\temp)") << QByteArray(R"(C:\\temp)");
    QTest::newRow("double quote") << QByteArray(R"(say "hi")") << QByteArray(R"(say \"hi\")");
    QTest::newRow("newline") << QByteArray("one\ntwo") << QByteArray(R"(one\ntwo)");
    QTest::newRow("all three") << QByteArray("\\\"\n") << QByteArray(R"(\\\"\n)");
    QTest::newRow("escape-like text") << QByteArray(R"(\n)") << QByteArray(R"(\\n)");
    QTest::newRow("tab and UTF-8 stay") << QByteArray("a\tb €") << QByteArray("a\tb €");
    QTest::newRow("empty") << QByteArray() << QByteArray();
}

void tst_Metrics::labelValueEscaping()
{
    QFETCH(QByteArray, value);
    QFETCH(QByteArray, rendered);
    MetricsRegistry registry;
    registry.counter("requests_total", "Requests.", {{"path", value}}).add(7);
    const QByteArray expected = "# HELP requests_total Requests.\n"
                                "# TYPE requests_total counter\n"
                                "requests_total{path=\""
                                + rendered + "\"} 7\n";
    QCOMPARE(registry.render(), expected);
}

void tst_Metrics::helpEscaping()
{
    MetricsRegistry registry;
    registry.gauge("odd_help", "A \\ backslash, \"quotes\" as they are,\nand a newline.").set(1);
    QCOMPARE(registry.render(), QByteArray(R"(# HELP odd_help A \\ backslash, "quotes" as they are,\nand a newline.
# TYPE odd_help gauge
odd_help 1
)"));
}

void tst_Metrics::numberSpelling_data()
{
    QTest::addColumn<double>("value");
    QTest::addColumn<QByteArray>("spelled");

    QTest::newRow("zero") << 0.0 << QByteArray("0");
    QTest::newRow("negative zero") << -0.0 << QByteArray("-0");
    QTest::newRow("integer") << 123456789.0 << QByteArray("123456789");
    QTest::newRow("negative") << -42.0 << QByteArray("-42");
    QTest::newRow("half") << 1.5 << QByteArray("1.5");
    QTest::newRow("a tenth") << 0.1 << QByteArray("0.1");
    QTest::newRow("a third") << 1.0 / 3.0 << QByteArray("0.3333333333333333");
    QTest::newRow("a bound") << 0.0005 << QByteArray("0.0005");
    QTest::newRow("smallest plain") << 0.0001 << QByteArray("0.0001");
    QTest::newRow("largest exponent form") << 0.00009 << QByteArray("9e-05");
    QTest::newRow("tiny") << 1e-9 << QByteArray("1e-09");
    QTest::newRow("tiny with digits") << -1.25e-7 << QByteArray("-1.25e-07");
    QTest::newRow("largest plain") << 1e20 << QByteArray("100000000000000000000");
    QTest::newRow("huge") << 1e21 << QByteArray("1e+21");
    QTest::newRow("largest") << std::numeric_limits<double>::max() << QByteArray("1.7976931348623157e+308");
    QTest::newRow("+Inf") << std::numeric_limits<double>::infinity() << QByteArray("+Inf");
    QTest::newRow("-Inf") << -std::numeric_limits<double>::infinity() << QByteArray("-Inf");
    QTest::newRow("NaN") << std::numeric_limits<double>::quiet_NaN() << QByteArray("NaN");
}

void tst_Metrics::numberSpelling()
{
    QFETCH(double, value);
    QFETCH(QByteArray, spelled);
    MetricsRegistry registry;
    registry.gaugeCallback("value", "A value.", [value] { return value; });
    QCOMPARE(registry.render(), "# HELP value A value.\n# TYPE value gauge\nvalue " + spelled + '\n');
    // The spelling reads back as the same double.
    if (std::isfinite(value))
        QCOMPARE(spelled.toDouble(), value);
}

void tst_Metrics::integerValues()
{
    MetricsRegistry registry;
    registry.counter("big_total", "Big.").add(std::numeric_limits<std::uint64_t>::max());
    registry.gauge("low", "Low.").set(std::numeric_limits<std::int64_t>::min());
    QCOMPARE(registry.render(), QByteArray("# HELP big_total Big.\n# TYPE big_total counter\n"
                                           "big_total 18446744073709551615\n"
                                           "# HELP low Low.\n# TYPE low gauge\nlow -9223372036854775808\n"));
}

void tst_Metrics::sameNameAndLabelsIsSameObject()
{
    MetricsRegistry registry;
    Counter &first = registry.counter("orders_total", "Orders.", {{"side", "buy"}, {"type", "limit"}});
    Counter &again = registry.counter("orders_total", "Other help is ignored.", {{"side", "buy"}, {"type", "limit"}});
    Counter &reordered = registry.counter("orders_total", "Orders.", {{"type", "limit"}, {"side", "buy"}});
    Counter &otherValue = registry.counter("orders_total", "Orders.", {{"side", "sell"}, {"type", "limit"}});
    Counter &noLabels = registry.counter("orders_total", "Orders.");
    QCOMPARE(&again, &first);
    QCOMPARE(&reordered, &first);
    QVERIFY(&otherValue != &first);
    QVERIFY(&noLabels != &first);
    QCOMPARE(&registry.counter("orders_total", "Orders."), &noLabels);

    Gauge &gauge = registry.gauge("open_orders", "Open orders.", {{"symbol", "BTC-USD"}});
    QCOMPARE(&registry.gauge("open_orders", "Open orders.", {{"symbol", "BTC-USD"}}), &gauge);
    Histogram &histogram = registry.histogram("commit_seconds", "Commits.");
    QCOMPARE(&registry.histogram("commit_seconds", "Commits."), &histogram);

    // References survive many later registrations (the storage does not move).
    first.add(5);
    for (int i = 0; i < 1000; ++i)
        registry.counter("orders_total", "Orders.", {{"side", QByteArray::number(i)}}).add();
    QCOMPARE(first.value(), std::uint64_t{5});
    QCOMPARE(registry.counter("orders_total", "Orders.", {{"side", "buy"}, {"type", "limit"}}).value(),
             std::uint64_t{5});
    QVERIFY(registry.render().startsWith("# HELP commit_seconds Commits.\n"));
    QVERIFY(registry.render().contains("\n# HELP orders_total Orders.\n")); // the first help stays
}

void tst_Metrics::callbackRegisteredAgainReplaces()
{
    MetricsRegistry registry;
    registry.gaugeCallback("sse_connections", "Open SSE streams.", [] { return 1.0; });
    registry.gaugeCallback("sse_connections", "Open SSE streams.", [] { return 2.0; });
    QCOMPARE(registry.render(), QByteArray("# HELP sse_connections Open SSE streams.\n"
                                           "# TYPE sse_connections gauge\nsse_connections 2\n"));
}

void tst_Metrics::histogramBuckets_data()
{
    QTest::addColumn<QList<qint64>>("observations");
    QTest::addColumn<QList<quint64>>("cumulative");
    QTest::addColumn<QByteArray>("sum");

    // Bounds 1 ms, 10 ms, 100 ms.
    QTest::newRow("none") << QList<qint64>{} << QList<quint64>{0, 0, 0, 0} << QByteArray("0");
    QTest::newRow("on each bound") << QList<qint64>{1'000'000, 10'000'000, 100'000'000} << QList<quint64>{1, 2, 3, 3}
                                   << QByteArray("0.111");
    QTest::newRow("a nanosecond above each bound")
        << QList<qint64>{1'000'001, 10'000'001, 100'000'001} << QList<quint64>{0, 1, 2, 3} << QByteArray("0.111000003");
    QTest::newRow("between the bounds") << QList<qint64>{0, 500'000, 2'000'000, 50'000'000, 5'000'000'000}
                                        << QList<quint64>{2, 3, 4, 5} << QByteArray("5.0525");
    QTest::newRow("whole seconds") << QList<qint64>{3'000'000'000, 4'000'000'000} << QList<quint64>{0, 0, 0, 2}
                                   << QByteArray("7");
    QTest::newRow("negative counts as zero")
        << QList<qint64>{-5, 1} << QList<quint64>{2, 2, 2, 2} << QByteArray("0.000000001");
}

void tst_Metrics::histogramBuckets()
{
    QFETCH(QList<qint64>, observations);
    QFETCH(QList<quint64>, cumulative);
    QFETCH(QByteArray, sum);

    MetricsRegistry registry;
    Histogram &histogram = registry.histogram("db_commit_duration_seconds", "Commit latency.", {}, {0.001, 0.01, 0.1});
    for (const qint64 ns : observations)
        histogram.observeNanoseconds(ns);

    const std::vector<std::uint64_t> counts = histogram.cumulativeCounts();
    QCOMPARE(QList<quint64>(counts.begin(), counts.end()), cumulative);
    QCOMPARE(histogram.count(), cumulative.back());

    const QByteArray total = QByteArray::number(cumulative.back());
    const QByteArray expected = "# HELP db_commit_duration_seconds Commit latency.\n"
                                "# TYPE db_commit_duration_seconds histogram\n"
                                "db_commit_duration_seconds_bucket{le=\"0.001\"} "
                                + QByteArray::number(cumulative[0])
                                + "\ndb_commit_duration_seconds_bucket{le=\"0.01\"} "
                                + QByteArray::number(cumulative[1]) + "\ndb_commit_duration_seconds_bucket{le=\"0.1\"} "
                                + QByteArray::number(cumulative[2])
                                + "\ndb_commit_duration_seconds_bucket{le=\"+Inf\"} " + total
                                + "\ndb_commit_duration_seconds_sum " + sum + "\ndb_commit_duration_seconds_count "
                                + total + '\n';
    QCOMPARE(registry.render(), expected);
}

void tst_Metrics::defaultBounds()
{
    MetricsRegistry registry;
    Histogram &histogram = registry.histogram("http_request_duration_seconds", "Latency.", {{"route", "/x"}});
    histogram.observeNanoseconds(500'000);        // 0.5 ms: the first bound
    histogram.observeNanoseconds(10'000'000'000); // 10 s: the last bound
    const QByteArray text = registry.render();
    const QList<QByteArray> les{"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
                                "0.25",   "0.5",   "1",      "2.5",   "5",    "10",    "+Inf"};
    for (qsizetype i = 0; i < les.size(); ++i) {
        const QByteArray count = i < les.size() - 2 ? "1" : "2"; // all but "10" and "+Inf" hold the first
        const QByteArray line = "http_request_duration_seconds_bucket{route=\"/x\",le=\"" + les[i] + "\"} " + count;
        QVERIFY2(text.contains(line + '\n'), line.constData());
    }
    QVERIFY(text.contains("http_request_duration_seconds_sum{route=\"/x\"} 10.0005\n"));
    QCOMPARE(text.count("_bucket"), les.size());
}

void tst_Metrics::concurrentUpdates()
{
    constexpr int kThreads = 4;
    constexpr int kPerThread = 200'000;
    MetricsRegistry registry;
    Histogram &histogram = registry.histogram("work_seconds", "Work.", {}, {0.000001, 0.001});
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&registry, &histogram] {
            // Each thread looks the series up itself, as the I/O threads do, and keeps the reference.
            Counter &counter = registry.counter("ops_total", "Operations.", {{"kind", "test"}});
            Gauge &gauge = registry.gauge("level", "Level.");
            for (int i = 0; i < kPerThread; ++i) {
                counter.add();
                gauge.add(i % 2 == 0 ? 3 : -1);
                histogram.observeNanoseconds(i % 3 == 0 ? 500 : 2'000'000);
                if (i % 10'000 == 0)
                    (void) registry.render(); // a scrape meanwhile
            }
        });
    }
    for (std::thread &thread : threads)
        thread.join();

    constexpr std::uint64_t kTotal = std::uint64_t{kThreads} * kPerThread;
    QCOMPARE(registry.counter("ops_total", "Operations.", {{"kind", "test"}}).value(), kTotal);
    QCOMPARE(registry.gauge("level", "Level.").value(), std::int64_t{kThreads} * (kPerThread / 2) * 2);
    const std::uint64_t small = std::uint64_t{kThreads} * ((kPerThread + 2) / 3);
    const std::vector<std::uint64_t> counts = histogram.cumulativeCounts();
    QCOMPARE(counts[0], small);
    QCOMPARE(counts[1], small);
    QCOMPARE(counts[2], kTotal);
    QCOMPARE(histogram.sumNanoseconds(), static_cast<std::int64_t>(small * 500 + (kTotal - small) * 2'000'000));
}

QTEST_GUILESS_MAIN(tst_Metrics)
#include "tst_metrics.moc"
