// ErrorCode: the typed errors of the API (spec/API.md §2), and the one place where they, and the engine's
// reject reasons, become an HTTP status, a code name and a message for the client. Every route and the
// WebSocket answer through these functions; none picks a status of its own. Pure functions; any thread.
#pragma once

#include "decimal.h"
#include "sequencer.h"
#include "types.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QLatin1StringView>
#include <QString>
#include <QStringView>

#include <cstdint>

namespace bourse::server {

enum class ErrorCode : std::uint8_t {
    BadRequest,           // 400: the body is not JSON / not an object, a bad query string
    ValidationError,      // 400: a field is missing, of the wrong type, out of range, off tick/lot
    InsufficientBalance,  // 400: needs more than is available
    Unauthorized,         // 401
    Forbidden,            // 403
    NotFound,             // 404: unknown route, symbol, or an order that is not the caller's
    MethodNotAllowed,     // 405
    RequestTimeout,       // 408: the request did not arrive in time (the network edge)
    Conflict,             // 409: duplicate username, client_order_id reused with another payload
    OrderNotOpen,         // 409
    PostOnlyWouldTake,    // 409
    MarketHalted,         // 409
    PayloadTooLarge,      // 413
    UriTooLong,           // 414: the request line is over the limit (the network edge)
    UnsupportedMediaType, // 415
    RateLimited,          // 429
    HeadersTooLarge,      // 431: too many or too large header fields (the network edge)
    InternalError,        // 500
    NotImplemented,       // 501: a request method or transfer coding the server does not know
    ServiceUnavailable,   // 503
    HttpVersionNotSupported, // 505
};
// The codes after the spec's table (408, 414, 431, 501, 505) are answered by the network edge before a
// request reaches a route; the OpenAPI document lists them (spec §2 leaves them to the project).

int httpStatus(ErrorCode code);
// The name in error bodies: "VALIDATION_ERROR", ...
QLatin1StringView errorCodeName(ErrorCode code);

ErrorCode errorCodeFor(RejectReason reason);

// What INSUFFICIENT_BALANCE adds to its error body: "context":{"required":"..","available":".."}.
struct BalanceShortfall
{
    Decimal required;
    Decimal available;
};

// The one body shape of every error (spec §2):
// {"error":{"code":"..","message":"..","field":"..","request_id":"..","context":{..}}}, field and context
// only when given.
QByteArray errorBody(ErrorCode code, QStringView message, QByteArrayView requestId, QStringView field = {},
                     const BalanceShortfall *shortfall = nullptr);

// What a reject message may mention besides the reason. Everything is optional: a zero decimal or an
// empty string means "not known", and the message then says less.
struct RejectContext
{
    QString symbol; // the instrument the request named
    Decimal tickSize;
    Decimal lotSize;
    Decimal minQuantity;
    QString asset; // InsufficientBalance, UnknownAsset
    Decimal required;
    Decimal available;

    static RejectContext forInstrument(const InstrumentView &instrument);
};

// The client-facing message of a refused command: "price must be a multiple of 0.01". The field it blames
// is the engine's rejectField(reason).
QString rejectMessage(RejectReason reason, const RejectContext &context = {});

} // namespace bourse::server
