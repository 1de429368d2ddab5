// The admin panel's form fields as the JSON body of the matching /admin/* request, so that the panel reads
// them with the routes' own RequestBody (server/request_body.h) and every bad value gets the API's message.
// Plain functions; any thread.
#pragma once

#include "desk.h"
#include "json_reader.h"
#include "json_writer.h"
#include "venue_service.h"

#include <QString>

#include <initializer_list>
#include <string_view>
#include <utility>

namespace bourse::app {

// {"name": "text", ...}: every field as a JSON string, the way a client posts amounts and names.
inline server::JsonDocument formBody(std::initializer_list<std::pair<std::string_view, QString>> fields)
{
    server::JsonWriter json;
    json.beginObject();
    for (const auto &[name, value] : fields)
        json.field(name, value);
    json.endObject();
    const QByteArray bytes = json.take();
    // The writer's output is valid JSON by construction.
    return std::move(server::readJson(std::string_view(bytes.constData(), std::size_t(bytes.size()))).value());
}

inline server::ServiceError adminValidationError(QString message, QString field = {})
{
    return server::ServiceError::of(server::ErrorCode::ValidationError, std::move(message), std::move(field));
}

// The /admin/* routes' gate: the router refuses a non-admin before any route reads its body, with this
// message (server/http_api.cpp); the service checks the role again, but not for every call (createUser also
// serves registration). Every admin command of the panel runs through it, on the API's thread, with the
// Caller the session's token stands for now.
template<typename T>
Desk::Work<T> adminOnly(Desk::Work<T> work)
{
    return
        [work = std::move(work)](server::VenueService &service, const server::Caller &caller, server::Reply<T> reply) {
            if (!caller.isAdmin()) {
                reply(unexpected(server::ServiceError::of(server::ErrorCode::Forbidden,
                                                          QStringLiteral("the %1 role may not use this route")
                                                              .arg(server::roleName(caller.role)))));
                return;
            }
            work(service, caller, std::move(reply));
        };
}

} // namespace bourse::app
