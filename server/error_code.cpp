#include "error_code.h"

#include "json_writer.h"

namespace bourse::server {

namespace {

QString text(const Decimal &value)
{
    return QString::fromStdString(value.toString());
}

QString quoted(const QString &value)
{
    return QLatin1Char('"') + value + QLatin1Char('"');
}

} // namespace

// No default in these switches: -Wswitch then names any enumerator a new code or reason forgets.
int httpStatus(ErrorCode code)
{
    switch (code) {
    case ErrorCode::BadRequest:
    case ErrorCode::ValidationError:
    case ErrorCode::InsufficientBalance: return 400;
    case ErrorCode::Unauthorized: return 401;
    case ErrorCode::Forbidden: return 403;
    case ErrorCode::NotFound: return 404;
    case ErrorCode::MethodNotAllowed: return 405;
    case ErrorCode::RequestTimeout: return 408;
    case ErrorCode::Conflict:
    case ErrorCode::OrderNotOpen:
    case ErrorCode::PostOnlyWouldTake:
    case ErrorCode::MarketHalted: return 409;
    case ErrorCode::PayloadTooLarge: return 413;
    case ErrorCode::UriTooLong: return 414;
    case ErrorCode::UnsupportedMediaType: return 415;
    case ErrorCode::RateLimited: return 429;
    case ErrorCode::HeadersTooLarge: return 431;
    case ErrorCode::InternalError: return 500;
    case ErrorCode::NotImplemented: return 501;
    case ErrorCode::ServiceUnavailable: return 503;
    case ErrorCode::HttpVersionNotSupported: return 505;
    }
    return 500; // not reached: the switch covers every code
}

QLatin1StringView errorCodeName(ErrorCode code)
{
    switch (code) {
    case ErrorCode::BadRequest: return QLatin1StringView("BAD_REQUEST");
    case ErrorCode::ValidationError: return QLatin1StringView("VALIDATION_ERROR");
    case ErrorCode::InsufficientBalance: return QLatin1StringView("INSUFFICIENT_BALANCE");
    case ErrorCode::Unauthorized: return QLatin1StringView("UNAUTHORIZED");
    case ErrorCode::Forbidden: return QLatin1StringView("FORBIDDEN");
    case ErrorCode::NotFound: return QLatin1StringView("NOT_FOUND");
    case ErrorCode::MethodNotAllowed: return QLatin1StringView("METHOD_NOT_ALLOWED");
    case ErrorCode::RequestTimeout: return QLatin1StringView("REQUEST_TIMEOUT");
    case ErrorCode::Conflict: return QLatin1StringView("CONFLICT");
    case ErrorCode::OrderNotOpen: return QLatin1StringView("ORDER_NOT_OPEN");
    case ErrorCode::PostOnlyWouldTake: return QLatin1StringView("POST_ONLY_WOULD_TAKE");
    case ErrorCode::MarketHalted: return QLatin1StringView("MARKET_HALTED");
    case ErrorCode::PayloadTooLarge: return QLatin1StringView("PAYLOAD_TOO_LARGE");
    case ErrorCode::UriTooLong: return QLatin1StringView("URI_TOO_LONG");
    case ErrorCode::UnsupportedMediaType: return QLatin1StringView("UNSUPPORTED_MEDIA_TYPE");
    case ErrorCode::RateLimited: return QLatin1StringView("RATE_LIMITED");
    case ErrorCode::HeadersTooLarge: return QLatin1StringView("HEADERS_TOO_LARGE");
    case ErrorCode::InternalError: return QLatin1StringView("INTERNAL_ERROR");
    case ErrorCode::NotImplemented: return QLatin1StringView("NOT_IMPLEMENTED");
    case ErrorCode::ServiceUnavailable: return QLatin1StringView("SERVICE_UNAVAILABLE");
    case ErrorCode::HttpVersionNotSupported: return QLatin1StringView("HTTP_VERSION_NOT_SUPPORTED");
    }
    return QLatin1StringView("INTERNAL_ERROR");
}

ErrorCode errorCodeFor(RejectReason reason)
{
    switch (reason) {
    case RejectReason::UnknownInstrument:
    case RejectReason::UnknownOrder: return ErrorCode::NotFound;
    case RejectReason::MarketHalted: return ErrorCode::MarketHalted;
    case RejectReason::InsufficientBalance: return ErrorCode::InsufficientBalance;
    case RejectReason::PostOnlyWouldTake: return ErrorCode::PostOnlyWouldTake;
    case RejectReason::OrderNotOpen: return ErrorCode::OrderNotOpen;
    case RejectReason::ClientOrderIdReused:
    case RejectReason::InstrumentExists: return ErrorCode::Conflict;
    case RejectReason::InvalidAccount:
    case RejectReason::PriceRequired:
    case RejectReason::PriceNotAllowed:
    case RejectReason::PriceNotPositive:
    case RejectReason::PriceOffTick:
    case RejectReason::QuantityNotPositive:
    case RejectReason::QuantityOffLot:
    case RejectReason::QuantityBelowMinimum:
    case RejectReason::NotionalOverflow:
    case RejectReason::TimeInForceInvalid:
    case RejectReason::PostOnlyInvalid:
    case RejectReason::ClientOrderIdInvalid:
    case RejectReason::AmendChangesNothing:
    case RejectReason::QuantityNotAboveFilled:
    case RejectReason::UnknownAsset:
    case RejectReason::AmountNotPositive:
    case RejectReason::SupplyOverflow:
    case RejectReason::SymbolInvalid:
    case RejectReason::AssetInvalid:
    case RejectReason::TickSizeInvalid:
    case RejectReason::LotSizeInvalid:
    case RejectReason::MinQuantityInvalid:
    case RejectReason::PrecisionTooFine: return ErrorCode::ValidationError;
    }
    return ErrorCode::InternalError;
}

RejectContext RejectContext::forInstrument(const InstrumentView &instrument)
{
    RejectContext context;
    context.symbol = QString::fromUtf8(instrument.symbol.view().data(),
                                       static_cast<qsizetype>(instrument.symbol.size()));
    context.tickSize = instrument.tickSize;
    context.lotSize = instrument.lotSize;
    context.minQuantity = instrument.minQuantity;
    return context;
}

QString rejectMessage(RejectReason reason, const RejectContext &context)
{
    const bool knowsSymbol = !context.symbol.isEmpty();
    switch (reason) {
    case RejectReason::UnknownInstrument:
        return knowsSymbol ? QStringLiteral("unknown symbol %1").arg(quoted(context.symbol))
                           : QStringLiteral("unknown symbol");
    case RejectReason::MarketHalted:
        return knowsSymbol ? QStringLiteral("trading is halted on %1").arg(context.symbol)
                           : QStringLiteral("trading is halted on this instrument");
    case RejectReason::InvalidAccount: return QStringLiteral("the request names no valid account");
    case RejectReason::PriceRequired: return QStringLiteral("price is required for a limit order");
    case RejectReason::PriceNotAllowed: return QStringLiteral("price must not be given for a market order");
    case RejectReason::PriceNotPositive: return QStringLiteral("price must be positive");
    case RejectReason::PriceOffTick:
        return context.tickSize.isPositive()
                   ? QStringLiteral("price must be a multiple of %1").arg(text(context.tickSize))
                   : QStringLiteral("price must be a multiple of the instrument's tick size");
    case RejectReason::QuantityNotPositive: return QStringLiteral("quantity must be positive");
    case RejectReason::QuantityOffLot:
        return context.lotSize.isPositive()
                   ? QStringLiteral("quantity must be a multiple of %1").arg(text(context.lotSize))
                   : QStringLiteral("quantity must be a multiple of the instrument's lot size");
    case RejectReason::QuantityBelowMinimum:
        return context.minQuantity.isPositive()
                   ? QStringLiteral("quantity must be at least %1").arg(text(context.minQuantity))
                   : QStringLiteral("quantity is below the instrument's minimum");
    case RejectReason::NotionalOverflow: return QStringLiteral("price times quantity is too large");
    case RejectReason::TimeInForceInvalid: return QStringLiteral("time_in_force must be ioc or fok for a market order");
    case RejectReason::PostOnlyInvalid: return QStringLiteral("post_only needs a limit order with time_in_force gtc");
    case RejectReason::ClientOrderIdInvalid:
        return QStringLiteral("client_order_id must be at most 64 characters of [A-Za-z0-9._:-]");
    case RejectReason::ClientOrderIdReused:
        return QStringLiteral("client_order_id is already in use for a different order");
    case RejectReason::InsufficientBalance: {
        const QString asset = context.asset.isEmpty() ? QString() : QLatin1Char(' ') + context.asset;
        if (context.required.isZero() && context.available.isZero())
            return QStringLiteral("insufficient balance");
        return QStringLiteral("insufficient balance: %1%2 required, %3%2 available")
            .arg(text(context.required), asset, text(context.available));
    }
    case RejectReason::PostOnlyWouldTake: return QStringLiteral("the post-only order would match on arrival");
    case RejectReason::UnknownOrder: return QStringLiteral("unknown order");
    case RejectReason::OrderNotOpen:
        return QStringLiteral("the order is no longer open (filled, cancelled or expired)");
    case RejectReason::AmendChangesNothing: return QStringLiteral("an amend needs a new price, a new quantity or both");
    case RejectReason::QuantityNotAboveFilled:
        return QStringLiteral("quantity must be above the quantity already filled");
    case RejectReason::UnknownAsset:
        return context.asset.isEmpty() ? QStringLiteral("unknown asset")
                                       : QStringLiteral("unknown asset %1").arg(quoted(context.asset));
    case RejectReason::AmountNotPositive: return QStringLiteral("amount must be positive");
    case RejectReason::SupplyOverflow:
        return QStringLiteral(
            "the deposit would take the asset's total supply past the largest amount Bourse can hold");
    case RejectReason::SymbolInvalid:
        return QStringLiteral("symbol must be 1-32 characters of [A-Z0-9._-], starting with a letter or digit");
    case RejectReason::AssetInvalid:
        return QStringLiteral("base and quote must be different asset codes of 1-16 characters of [A-Z0-9]");
    case RejectReason::InstrumentExists:
        return knowsSymbol ? QStringLiteral("symbol %1 already exists").arg(quoted(context.symbol))
                           : QStringLiteral("the symbol already exists");
    case RejectReason::TickSizeInvalid: return QStringLiteral("tick_size must be positive");
    case RejectReason::LotSizeInvalid: return QStringLiteral("lot_size must be positive");
    case RejectReason::MinQuantityInvalid:
        return QStringLiteral("min_quantity must be a positive multiple of lot_size");
    case RejectReason::PrecisionTooFine: return QStringLiteral("tick_size times lot_size must have at most 8 decimals");
    }
    return QStringLiteral("the request was refused");
}

QByteArray errorBody(ErrorCode code, QStringView message, QByteArrayView requestId, QStringView field,
                     const BalanceShortfall *shortfall)
{
    JsonWriter json;
    json.beginObject().key("error").beginObject();
    json.key("code").string(QByteArrayView(errorCodeName(code).data(), errorCodeName(code).size()));
    json.key("message").string(message);
    if (!field.isEmpty())
        json.key("field").string(field);
    json.key("request_id").string(requestId);
    if (shortfall) {
        json.key("context").beginObject();
        json.key("required").decimal(shortfall->required);
        json.key("available").decimal(shortfall->available);
        json.endObject();
    }
    json.endObject().endObject();
    return json.take();
}

} // namespace bourse::server
