// Tests of the one place where typed errors become HTTP: every ErrorCode's status and name (spec/API.md §2),
// every engine RejectReason's code, and the client messages built from an instrument's rules.
#include "error_code.h"

#include <QRegularExpression>
#include <QSet>
#include <QTest>

#include <utility>
#include <vector>

using namespace bourse;
using namespace bourse::server;

namespace {

constexpr int kRejectReasonCount = static_cast<int>(RejectReason::PrecisionTooFine) + 1;
constexpr int kErrorCodeCount = static_cast<int>(ErrorCode::HttpVersionNotSupported) + 1;

Decimal decimal(std::string_view text)
{
    return Decimal::parse(text).valueOr(Decimal());
}

QByteArray rowName(RejectReason reason)
{
    const std::string_view name = rejectName(reason);
    return QByteArray(name.data(), static_cast<qsizetype>(name.size()));
}

// spec/API.md §2 and the issue: which API error each engine refusal is.
std::vector<std::pair<RejectReason, ErrorCode>> expectedCodes()
{
    return {
        {RejectReason::UnknownInstrument, ErrorCode::NotFound},
        {RejectReason::MarketHalted, ErrorCode::MarketHalted},
        {RejectReason::InvalidAccount, ErrorCode::ValidationError},
        {RejectReason::PriceRequired, ErrorCode::ValidationError},
        {RejectReason::PriceNotAllowed, ErrorCode::ValidationError},
        {RejectReason::PriceNotPositive, ErrorCode::ValidationError},
        {RejectReason::PriceOffTick, ErrorCode::ValidationError},
        {RejectReason::QuantityNotPositive, ErrorCode::ValidationError},
        {RejectReason::QuantityOffLot, ErrorCode::ValidationError},
        {RejectReason::QuantityBelowMinimum, ErrorCode::ValidationError},
        {RejectReason::NotionalOverflow, ErrorCode::ValidationError},
        {RejectReason::TimeInForceInvalid, ErrorCode::ValidationError},
        {RejectReason::PostOnlyInvalid, ErrorCode::ValidationError},
        {RejectReason::ClientOrderIdInvalid, ErrorCode::ValidationError},
        {RejectReason::ClientOrderIdReused, ErrorCode::Conflict},
        {RejectReason::InsufficientBalance, ErrorCode::InsufficientBalance},
        {RejectReason::PostOnlyWouldTake, ErrorCode::PostOnlyWouldTake},
        {RejectReason::UnknownOrder, ErrorCode::NotFound},
        {RejectReason::OrderNotOpen, ErrorCode::OrderNotOpen},
        {RejectReason::AmendChangesNothing, ErrorCode::ValidationError},
        {RejectReason::QuantityNotAboveFilled, ErrorCode::ValidationError},
        {RejectReason::UnknownAsset, ErrorCode::ValidationError},
        {RejectReason::AmountNotPositive, ErrorCode::ValidationError},
        {RejectReason::SupplyOverflow, ErrorCode::ValidationError},
        {RejectReason::SymbolInvalid, ErrorCode::ValidationError},
        {RejectReason::AssetInvalid, ErrorCode::ValidationError},
        {RejectReason::InstrumentExists, ErrorCode::Conflict},
        {RejectReason::TickSizeInvalid, ErrorCode::ValidationError},
        {RejectReason::LotSizeInvalid, ErrorCode::ValidationError},
        {RejectReason::MinQuantityInvalid, ErrorCode::ValidationError},
        {RejectReason::PrecisionTooFine, ErrorCode::ValidationError},
    };
}

} // namespace

class tst_ErrorCode final : public QObject
{
    Q_OBJECT

private slots:
    void statusAndName_data();
    void statusAndName();
    void namesAreDistinct();
    void rejectReasonCode_data();
    void rejectReasonCode();
    void everyRejectReasonHasAMessage();
    void rejectMessage_data();
    void rejectMessage();
    void contextFromInstrument();
};

void tst_ErrorCode::statusAndName_data()
{
    QTest::addColumn<ErrorCode>("code");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("name");

    // The table of spec/API.md §2, row by row.
    QTest::newRow("BAD_REQUEST") << ErrorCode::BadRequest << 400 << "BAD_REQUEST";
    QTest::newRow("VALIDATION_ERROR") << ErrorCode::ValidationError << 400 << "VALIDATION_ERROR";
    QTest::newRow("INSUFFICIENT_BALANCE") << ErrorCode::InsufficientBalance << 400 << "INSUFFICIENT_BALANCE";
    QTest::newRow("UNAUTHORIZED") << ErrorCode::Unauthorized << 401 << "UNAUTHORIZED";
    QTest::newRow("FORBIDDEN") << ErrorCode::Forbidden << 403 << "FORBIDDEN";
    QTest::newRow("NOT_FOUND") << ErrorCode::NotFound << 404 << "NOT_FOUND";
    QTest::newRow("METHOD_NOT_ALLOWED") << ErrorCode::MethodNotAllowed << 405 << "METHOD_NOT_ALLOWED";
    QTest::newRow("CONFLICT") << ErrorCode::Conflict << 409 << "CONFLICT";
    QTest::newRow("ORDER_NOT_OPEN") << ErrorCode::OrderNotOpen << 409 << "ORDER_NOT_OPEN";
    QTest::newRow("POST_ONLY_WOULD_TAKE") << ErrorCode::PostOnlyWouldTake << 409 << "POST_ONLY_WOULD_TAKE";
    QTest::newRow("MARKET_HALTED") << ErrorCode::MarketHalted << 409 << "MARKET_HALTED";
    QTest::newRow("PAYLOAD_TOO_LARGE") << ErrorCode::PayloadTooLarge << 413 << "PAYLOAD_TOO_LARGE";
    QTest::newRow("UNSUPPORTED_MEDIA_TYPE") << ErrorCode::UnsupportedMediaType << 415 << "UNSUPPORTED_MEDIA_TYPE";
    QTest::newRow("RATE_LIMITED") << ErrorCode::RateLimited << 429 << "RATE_LIMITED";
    QTest::newRow("INTERNAL_ERROR") << ErrorCode::InternalError << 500 << "INTERNAL_ERROR";
    QTest::newRow("SERVICE_UNAVAILABLE") << ErrorCode::ServiceUnavailable << 503 << "SERVICE_UNAVAILABLE";
    // The network edge's answers, which the spec's table leaves to the project.
    QTest::newRow("REQUEST_TIMEOUT") << ErrorCode::RequestTimeout << 408 << "REQUEST_TIMEOUT";
    QTest::newRow("URI_TOO_LONG") << ErrorCode::UriTooLong << 414 << "URI_TOO_LONG";
    QTest::newRow("HEADERS_TOO_LARGE") << ErrorCode::HeadersTooLarge << 431 << "HEADERS_TOO_LARGE";
    QTest::newRow("NOT_IMPLEMENTED") << ErrorCode::NotImplemented << 501 << "NOT_IMPLEMENTED";
    QTest::newRow("HTTP_VERSION_NOT_SUPPORTED") << ErrorCode::HttpVersionNotSupported << 505
                                                << "HTTP_VERSION_NOT_SUPPORTED";
}

void tst_ErrorCode::statusAndName()
{
    QFETCH(ErrorCode, code);
    QFETCH(int, status);
    QFETCH(QString, name);

    QCOMPARE(httpStatus(code), status);
    QCOMPARE(QString(errorCodeName(code)), name);
}

void tst_ErrorCode::namesAreDistinct()
{
    static const QRegularExpression kShape(QStringLiteral("^[A-Z]+(_[A-Z]+)*$"));
    QSet<QString> names;
    for (int i = 0; i < kErrorCodeCount; ++i) {
        const QString name = errorCodeName(static_cast<ErrorCode>(i));
        QVERIFY2(kShape.match(name).hasMatch(), qPrintable(name));
        names.insert(name);
        const int status = httpStatus(static_cast<ErrorCode>(i));
        QVERIFY(status >= 400 && status <= 599);
    }
    QCOMPARE(names.size(), kErrorCodeCount);
}

void tst_ErrorCode::rejectReasonCode_data()
{
    QTest::addColumn<RejectReason>("reason");
    QTest::addColumn<ErrorCode>("code");

    for (const auto &[reason, code] : expectedCodes())
        QTest::newRow(rowName(reason)) << reason << code;
}

void tst_ErrorCode::rejectReasonCode()
{
    QFETCH(RejectReason, reason);
    QFETCH(ErrorCode, code);
    QCOMPARE(errorCodeFor(reason), code);
}

void tst_ErrorCode::everyRejectReasonHasAMessage()
{
    // The expected table must name every reason the engine has, once: a new reason fails here until it is
    // given its code on purpose.
    QSet<int> named;
    for (const auto &[reason, code] : expectedCodes())
        named.insert(static_cast<int>(reason));
    QCOMPARE(named.size(), kRejectReasonCount);
    QCOMPARE(static_cast<int>(expectedCodes().size()), kRejectReasonCount);

    for (int i = 0; i < kRejectReasonCount; ++i) {
        const auto reason = static_cast<RejectReason>(i);
        QVERIFY2(!rejectName(reason).empty(), qPrintable(QString::number(i)));
        const QString message = bourse::server::rejectMessage(reason);
        QVERIFY2(!message.isEmpty() && !message.contains(u'\n'), rowName(reason).constData());
        const int status = httpStatus(errorCodeFor(reason));
        QVERIFY2(status == 400 || status == 404 || status == 409, rowName(reason).constData());
    }
}

void tst_ErrorCode::rejectMessage_data()
{
    QTest::addColumn<RejectReason>("reason");
    QTest::addColumn<QString>("symbol");
    QTest::addColumn<QString>("tick");
    QTest::addColumn<QString>("lot");
    QTest::addColumn<QString>("minimum");
    QTest::addColumn<QString>("asset");
    QTest::addColumn<QString>("required");
    QTest::addColumn<QString>("available");
    QTest::addColumn<QString>("message");

    const auto row = [](const char *name, RejectReason reason, const char *symbol, const char *tick, const char *lot,
                        const char *minimum, const char *asset, const char *required, const char *available,
                        const char *message) {
        QTest::newRow(name) << reason << symbol << tick << lot << minimum << asset << required << available << message;
    };
    row("price off tick", RejectReason::PriceOffTick, "BTC-USD", "0.01", "0.0001", "0.0001", "", "0", "0",
        "price must be a multiple of 0.01");
    row("price off tick, rules unknown", RejectReason::PriceOffTick, "", "0", "0", "0", "", "0", "0",
        "price must be a multiple of the instrument's tick size");
    row("quantity off lot", RejectReason::QuantityOffLot, "BTC-USD", "0.01", "0.0001", "0.0001", "", "0", "0",
        "quantity must be a multiple of 0.0001");
    row("quantity off lot, rules unknown", RejectReason::QuantityOffLot, "", "0", "0", "0", "", "0", "0",
        "quantity must be a multiple of the instrument's lot size");
    row("quantity below minimum", RejectReason::QuantityBelowMinimum, "ETH-USD", "0.01", "0.001", "0.005", "", "0", "0",
        "quantity must be at least 0.005");
    row("quantity below minimum, rules unknown", RejectReason::QuantityBelowMinimum, "", "0", "0", "0", "", "0", "0",
        "quantity is below the instrument's minimum");
    row("insufficient balance", RejectReason::InsufficientBalance, "BTC-USD", "0.01", "0.0001", "0.0001", "USD",
        "100.50", "50", "insufficient balance: 100.5 USD required, 50 USD available");
    row("insufficient balance, no asset", RejectReason::InsufficientBalance, "", "0", "0", "0", "", "0.3", "0.1",
        "insufficient balance: 0.3 required, 0.1 available");
    row("insufficient balance, no amounts", RejectReason::InsufficientBalance, "", "0", "0", "0", "", "0", "0",
        "insufficient balance");
    row("unknown symbol", RejectReason::UnknownInstrument, "DOGE-USD", "0", "0", "0", "", "0", "0",
        "unknown symbol \"DOGE-USD\"");
    row("unknown symbol, none given", RejectReason::UnknownInstrument, "", "0", "0", "0", "", "0", "0",
        "unknown symbol");
    row("halted", RejectReason::MarketHalted, "XAU-USD", "0.01", "0.01", "0.01", "", "0", "0",
        "trading is halted on XAU-USD");
    row("instrument exists", RejectReason::InstrumentExists, "BTC-USD", "0", "0", "0", "", "0", "0",
        "symbol \"BTC-USD\" already exists");
    row("unknown asset", RejectReason::UnknownAsset, "", "0", "0", "0", "DOGE", "0", "0", "unknown asset \"DOGE\"");
    row("post-only would take", RejectReason::PostOnlyWouldTake, "BTC-USD", "0.01", "0.0001", "0.0001", "", "0", "0",
        "the post-only order would match on arrival");
    row("order not open", RejectReason::OrderNotOpen, "", "0", "0", "0", "", "0", "0",
        "the order is no longer open (filled, cancelled or expired)");
}

void tst_ErrorCode::rejectMessage()
{
    QFETCH(RejectReason, reason);
    QFETCH(QString, symbol);
    QFETCH(QString, tick);
    QFETCH(QString, lot);
    QFETCH(QString, minimum);
    QFETCH(QString, asset);
    QFETCH(QString, required);
    QFETCH(QString, available);
    QFETCH(QString, message);

    RejectContext context;
    context.symbol = symbol;
    context.tickSize = decimal(tick.toStdString());
    context.lotSize = decimal(lot.toStdString());
    context.minQuantity = decimal(minimum.toStdString());
    context.asset = asset;
    context.required = decimal(required.toStdString());
    context.available = decimal(available.toStdString());
    QCOMPARE(bourse::server::rejectMessage(reason, context), message);
}

void tst_ErrorCode::contextFromInstrument()
{
    InstrumentView view;
    view.symbol = Symbol("ETH-USD");
    view.tickSize = decimal("0.01");
    view.lotSize = decimal("0.001");
    view.minQuantity = decimal("0.002");
    const RejectContext context = RejectContext::forInstrument(view);
    QCOMPARE(context.symbol, QStringLiteral("ETH-USD"));
    QCOMPARE(bourse::server::rejectMessage(RejectReason::QuantityOffLot, context),
             QStringLiteral("quantity must be a multiple of 0.001"));
    QCOMPARE(bourse::server::rejectMessage(RejectReason::QuantityBelowMinimum, context),
             QStringLiteral("quantity must be at least 0.002"));
    QCOMPARE(bourse::server::rejectMessage(RejectReason::PriceOffTick, context),
             QStringLiteral("price must be a multiple of 0.01"));
}

QTEST_GUILESS_MAIN(tst_ErrorCode)
#include "tst_error_code.moc"
