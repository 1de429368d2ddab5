// The OpenAPI document (resources/openapi.json) against the server that serves it: the routes it lists are
// exactly the routes the router has (method and pattern), GET /openapi.json serves it, GET /docs serves the
// page, and real responses of the main routes have the shapes the document gives (every required member
// present, no member it does not list, each of the documented JSON type).
#include "test_venue.h"
#include "venue_server.h"

#include <QFile>
#include <QJsonArray>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

using namespace bourse;
using namespace bourse::test;

namespace {

QJsonObject loadDocument()
{
    QFile file(QStringLiteral(BOURSE_SOURCE_DIR "/resources/openapi.json"));
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

} // namespace

class tst_OpenApi final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void routesMatchTheDocument();
    void documentAndDocsAreServed();
    void responsesMatchTheSchemas_data();
    void responsesMatchTheSchemas();

private:
    // Empty when `value` fits `schema`; else what does not, with its JSON path.
    QString mismatch(const QJsonValue &value, QJsonObject schema, const QString &path) const;
    QJsonObject resolve(QJsonObject schema) const;

    QJsonObject m_document;
    QTemporaryDir m_dir;
    std::unique_ptr<TestVenue> m_venue;
    std::unique_ptr<ApiClient> m_admin;
    qint64 m_orderId = 0;
};

void tst_OpenApi::initTestCase()
{
    m_document = loadDocument();
    QVERIFY(!m_document.isEmpty());
    QDir().mkpath(m_dir.filePath(QStringLiteral("data")));
    auto venue = TestVenue::start(
        {sql::DatabaseUrl::sqlite(m_dir.filePath(QStringLiteral("venue.db"))), m_dir.filePath(QStringLiteral("data"))});
    QVERIFY2(venue.hasValue(), qPrintable(venue.hasValue() ? QString() : venue.error()));
    m_venue = std::move(venue.value());
    m_admin = adminClient(m_venue->port());
    QVERIFY(m_admin);
    QVERIFY(m_admin->deposit(1, QStringLiteral("USD"), QStringLiteral("100000")));
    QVERIFY(m_admin->deposit(1, QStringLiteral("BTC"), QStringLiteral("10")));
    const ApiResponse sell
        = m_admin->post("/api/v1/orders",
                        R"({"symbol":"BTC-USD","side":"sell","type":"limit","price":"60000","quantity":"1"})");
    QCOMPARE(sell.status, 201);
    const ApiResponse buy = m_admin->post(
        "/api/v1/orders",
        R"({"symbol":"BTC-USD","side":"buy","type":"limit","price":"59000","quantity":"0.5","client_order_id":"x1"})");
    QCOMPARE(buy.status, 201);
    m_orderId = buy.object().value("id").toInteger();
    // A trade, so that fills, trades, candles and the ticker have rows: the admin's own orders would
    // self-trade-prevent, so a second user takes.
    const std::optional<qint64> taker = m_admin->createUser(QStringLiteral("taker"), QStringLiteral("taker-password"),
                                                            QStringLiteral("trader"));
    QVERIFY(taker && m_admin->deposit(*taker, QStringLiteral("USD"), QStringLiteral("100000")));
    ApiClient client(m_venue->port());
    QCOMPARE(client.login(QStringLiteral("taker"), QStringLiteral("taker-password")).status, 200);
    QCOMPARE(client.post("/api/v1/orders", R"({"symbol":"BTC-USD","side":"buy","type":"market","quantity":"0.25"})")
                 .status,
             201);
}

void tst_OpenApi::cleanupTestCase()
{
    m_admin.reset();
    m_venue.reset();
}

void tst_OpenApi::routesMatchTheDocument()
{
    QSet<QString> documented;
    const QJsonObject paths = m_document.value("paths").toObject();
    for (auto path = paths.begin(); path != paths.end(); ++path) {
        const QJsonObject item = path.value().toObject();
        for (auto operation = item.begin(); operation != item.end(); ++operation) {
            if (operation.key() == u"parameters" || operation.key() == u"summary" || operation.key() == u"description")
                continue;
            documented.insert(operation.key().toUpper() + u' ' + path.key());
        }
    }
    QStringList served;
    m_venue->onServer([&served](server::VenueServer &server) { served = server.api().routeList(); });
    const QSet<QString> routes(served.cbegin(), served.cend());
    QCOMPARE(routes.size(), served.size()); // no route twice
    const QSet<QString> undocumented = routes - documented;
    const QSet<QString> unserved = documented - routes;
    QVERIFY2(undocumented.isEmpty(), qPrintable(QStringList(undocumented.cbegin(), undocumented.cend()).join(u", ")));
    QVERIFY2(unserved.isEmpty(), qPrintable(QStringList(unserved.cbegin(), unserved.cend()).join(u", ")));
}

void tst_OpenApi::documentAndDocsAreServed()
{
    ApiClient anonymous(m_venue->port());
    const ApiResponse document = anonymous.get("/openapi.json");
    QCOMPARE(document.status, 200);
    QCOMPARE(document.object(), m_document);
    const ApiResponse docs = anonymous.get("/docs");
    QCOMPARE(docs.status, 200);
    QVERIFY(docs.raw.header("Content-Type").startsWith("text/html"));
    QVERIFY(docs.raw.body.contains("/openapi.json"));
    QVERIFY(!docs.raw.body.contains("http://")
            || !docs.raw.body.contains("<script src=\"http")); // nothing fetched from elsewhere
}

void tst_OpenApi::responsesMatchTheSchemas_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("path"); // as requested
    QTest::addColumn<QString>("pattern"); // as documented
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("status");

    QTest::newRow("health") << QByteArray("GET") << QByteArray("/health") << "/health" << QByteArray() << 200;
    QTest::newRow("time") << QByteArray("GET") << QByteArray("/api/v1/time") << "/api/v1/time" << QByteArray() << 200;
    QTest::newRow("instruments") << QByteArray("GET") << QByteArray("/api/v1/instruments") << "/api/v1/instruments"
                                 << QByteArray() << 200;
    QTest::newRow("orderbook") << QByteArray("GET") << QByteArray("/api/v1/orderbook/BTC-USD")
                               << "/api/v1/orderbook/{symbol}" << QByteArray() << 200;
    QTest::newRow("trades") << QByteArray("GET") << QByteArray("/api/v1/trades?symbol=BTC-USD") << "/api/v1/trades"
                            << QByteArray() << 200;
    QTest::newRow("trades of symbol") << QByteArray("GET") << QByteArray("/api/v1/trades/BTC-USD")
                                      << "/api/v1/trades/{symbol}" << QByteArray() << 200;
    QTest::newRow("candles") << QByteArray("GET") << QByteArray("/api/v1/candles/BTC-USD?interval=1m")
                             << "/api/v1/candles/{symbol}" << QByteArray() << 200;
    QTest::newRow("ticker") << QByteArray("GET") << QByteArray("/api/v1/ticker/BTC-USD") << "/api/v1/ticker/{symbol}"
                            << QByteArray() << 200;
    QTest::newRow("me") << QByteArray("GET") << QByteArray("/api/v1/me") << "/api/v1/me" << QByteArray() << 200;
    QTest::newRow("orders") << QByteArray("GET") << QByteArray("/api/v1/orders") << "/api/v1/orders" << QByteArray()
                            << 200;
    QTest::newRow("order") << QByteArray("GET") << QByteArray("/api/v1/orders/$ORDER") << "/api/v1/orders/{id}"
                           << QByteArray() << 200;
    QTest::newRow("new order") << QByteArray("POST") << QByteArray("/api/v1/orders") << "/api/v1/orders"
                               << QByteArray(
                                      R"({"symbol":"ETH-USD","side":"buy","type":"limit","price":"10","quantity":"1"})")
                               << 201;
    QTest::newRow("amend") << QByteArray("PATCH") << QByteArray("/api/v1/orders/$ORDER") << "/api/v1/orders/{id}"
                           << QByteArray(R"({"quantity":"0.4"})") << 200;
    QTest::newRow("cancel-after") << QByteArray("POST") << QByteArray("/api/v1/orders/cancel-after")
                                  << "/api/v1/orders/cancel-after" << QByteArray(R"({"timeout_s":0})") << 200;
    QTest::newRow("fills") << QByteArray("GET") << QByteArray("/api/v1/fills") << "/api/v1/fills" << QByteArray()
                           << 200;
    QTest::newRow("account") << QByteArray("GET") << QByteArray("/api/v1/account") << "/api/v1/account" << QByteArray()
                             << 200;
    QTest::newRow("users") << QByteArray("GET") << QByteArray("/admin/users") << "/admin/users" << QByteArray() << 200;
    QTest::newRow("settings") << QByteArray("GET") << QByteArray("/admin/settings") << "/admin/settings" << QByteArray()
                              << 200;
    QTest::newRow("stats") << QByteArray("GET") << QByteArray("/admin/system/stats") << "/admin/system/stats"
                           << QByteArray() << 200;
    QTest::newRow("audit") << QByteArray("GET") << QByteArray("/admin/audit") << "/admin/audit" << QByteArray() << 200;
    QTest::newRow("an error") << QByteArray("GET") << QByteArray("/api/v1/orderbook/NOPE")
                              << "/api/v1/orderbook/{symbol}" << QByteArray() << 404;
    QTest::newRow("cancel") << QByteArray("DELETE") << QByteArray("/api/v1/orders/$ORDER") << "/api/v1/orders/{id}"
                            << QByteArray() << 200;
    QTest::newRow("cancel all") << QByteArray("DELETE") << QByteArray("/api/v1/orders") << "/api/v1/orders"
                                << QByteArray() << 200;
}

void tst_OpenApi::responsesMatchTheSchemas()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, path);
    QFETCH(QString, pattern);
    QFETCH(QByteArray, body);
    QFETCH(int, status);
    path.replace("$ORDER", QByteArray::number(m_orderId));
    const ApiResponse response = m_admin->request(method, path, body);
    QCOMPARE(response.status, status);
    const QJsonObject operation = m_document.value("paths")
                                      .toObject()
                                      .value(pattern)
                                      .toObject()
                                      .value(QString::fromLatin1(method).toLower())
                                      .toObject();
    QVERIFY2(!operation.isEmpty(), "the operation is documented");
    QJsonObject documented = operation.value("responses").toObject().value(QString::number(status)).toObject();
    if (documented.contains("$ref"))
        documented = resolve(documented);
    const QJsonObject schema
        = documented.value("content").toObject().value("application/json").toObject().value("schema").toObject();
    QVERIFY2(!schema.isEmpty(), "the response has a documented JSON schema");
    const QJsonValue value = response.json.isArray() ? QJsonValue(response.json.array())
                                                     : QJsonValue(response.json.object());
    const QString problem = mismatch(value, schema, QStringLiteral("$"));
    QVERIFY2(problem.isEmpty(),
             qPrintable(problem + QStringLiteral("\n") + QString::fromUtf8(response.raw.body.left(800))));
}

QJsonObject tst_OpenApi::resolve(QJsonObject schema) const
{
    while (schema.contains("$ref")) {
        const QStringList parts = schema.value("$ref").toString().mid(2).split(u'/'); // "#/components/schemas/X"
        QJsonObject node = m_document;
        for (const QString &part : parts)
            node = node.value(part).toObject();
        schema = node;
    }
    return schema;
}

QString tst_OpenApi::mismatch(const QJsonValue &value, QJsonObject schema, const QString &path) const
{
    schema = resolve(schema);
    if (value.isNull())
        return schema.value("nullable").toBool() || schema.isEmpty()
                   ? QString()
                   : path + QStringLiteral(" is null but not nullable");
    if (schema.contains("allOf")) {
        // One object made of the parts: their members and required lists together.
        QJsonObject properties;
        QJsonArray required;
        for (const QJsonValue &part : schema.value("allOf").toArray()) {
            const QJsonObject resolved = resolve(part.toObject());
            const QJsonObject partProperties = resolved.value("properties").toObject();
            for (auto it = partProperties.begin(); it != partProperties.end(); ++it)
                properties.insert(it.key(), it.value());
            for (const QJsonValue &name : resolved.value("required").toArray())
                required.append(name);
        }
        schema.remove("allOf");
        schema.insert("type", QStringLiteral("object"));
        schema.insert("properties", properties);
        schema.insert("required", required);
    }
    if (schema.contains("oneOf") || schema.contains("anyOf")) {
        for (const QJsonValue &part : schema.value(schema.contains("oneOf") ? "oneOf" : "anyOf").toArray()) {
            if (mismatch(value, part.toObject(), path).isEmpty())
                return QString();
        }
        return path + QStringLiteral(" fits none of the alternatives");
    }
    const QString type = schema.value("type").toString();
    if (type == u"object" || schema.contains("properties")) {
        if (!value.isObject())
            return path + QStringLiteral(" is not an object");
        const QJsonObject object = value.toObject();
        const QJsonObject properties = schema.value("properties").toObject();
        for (const QJsonValue &required : schema.value("required").toArray()) {
            if (!object.contains(required.toString()))
                return path + u'.' + required.toString() + QStringLiteral(" is required but missing");
        }
        const bool open = schema.value("additionalProperties").isObject()
                          || schema.value("additionalProperties").toBool();
        for (auto it = object.begin(); it != object.end(); ++it) {
            if (!properties.contains(it.key())) {
                if (open)
                    continue;
                return path + u'.' + it.key() + QStringLiteral(" is not documented");
            }
            if (QString problem = mismatch(it.value(), properties.value(it.key()).toObject(), path + u'.' + it.key());
                !problem.isEmpty())
                return problem;
        }
        return QString();
    }
    if (type == u"array") {
        if (!value.isArray())
            return path + QStringLiteral(" is not an array");
        const QJsonArray array = value.toArray();
        for (qsizetype i = 0; i < array.size(); ++i) {
            if (QString problem = mismatch(array.at(i), schema.value("items").toObject(),
                                           path + QStringLiteral("[%1]").arg(i));
                !problem.isEmpty())
                return problem;
        }
        return QString();
    }
    if (type == u"string" && !value.isString())
        return path + QStringLiteral(" is not a string");
    if ((type == u"integer" || type == u"number") && !value.isDouble())
        return path + QStringLiteral(" is not a number");
    if (type == u"boolean" && !value.isBool())
        return path + QStringLiteral(" is not a boolean");
    if (schema.contains("enum") && !schema.value("enum").toArray().contains(value))
        return path + QStringLiteral(" is not one of the documented values");
    return QString();
}

QTEST_GUILESS_MAIN(tst_OpenApi)
#include "tst_openapi.moc"
