// ErrorCode: the typed errors of the API (spec/API.md §2), and the one place where they, and the engine's
// reject reasons, become an HTTP status, a code name and a message for the client. Every route and the
// WebSocket answer through these functions; none picks a status of its own. Pure functions; any thread.
#pragma once

#include "decimal.h"
#include "sequencer.h"
#include "types.h"

#include <QLatin1StringView>
#include <QString>

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
    Conflict,             // 409: duplicate username, client_order_id reused with another payload
    OrderNotOpen,         // 409
    PostOnlyWouldTake,    // 409
    MarketHalted,         // 409
    PayloadTooLarge,      // 413
    UnsupportedMediaType, // 415
    RateLimited,          // 429
    InternalError,        // 500
    ServiceUnavailable,   // 503
};

int httpStatus(ErrorCode code);
// The name in error bodies: "VALIDATION_ERROR", ...
QLatin1StringView errorCodeName(ErrorCode code);

ErrorCode errorCodeFor(RejectReason reason);

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
