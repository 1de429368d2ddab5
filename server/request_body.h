// RequestBody: reads the members of a request's JSON object for a route, with the API's rules and messages:
// unknown members are refused (so that a misspelt option, or "status"/"user_id"/"role" smuggled into a body,
// never passes silently), each member must have its type, amounts are exact Decimals from a string or a
// JSON number. The first problem is kept as a VALIDATION_ERROR naming the field; later reads then answer
// none. Plain value over a JsonValue; the thread of its document.
#pragma once

#include "json_reader.h"
#include "venue_service.h"

#include <initializer_list>
#include <optional>
#include <string_view>

namespace bourse::server {

class RequestBody final
{
public:
    // Refuses any member not in `known`.
    RequestBody(const JsonValue &object, std::initializer_list<std::string_view> known);

    // Each returns none when absent (a missing required member is an error) or when the member is bad.
    std::optional<QString> string(std::string_view name, bool required, int maxLength = 1024);
    std::optional<QByteArray> bytes(std::string_view name, bool required, int maxLength = 8192);
    std::optional<Decimal> decimal(std::string_view name, bool required);
    std::optional<bool> boolean(std::string_view name, bool required);
    std::optional<std::int64_t> integer(std::string_view name, bool required, std::int64_t min, std::int64_t max);
    // A string that must be one of the names `parse` accepts; `choices` for the message ("buy, sell").
    template<typename Parse>
    auto choice(std::string_view name, bool required, Parse parse, const char *choices)
        -> std::optional<typename std::invoke_result_t<Parse, std::string_view>::value_type>;

    bool has(std::string_view name) const { return m_object.member(name).has_value(); }
    bool ok() const { return !m_error; }
    const ServiceError &error() const { return *m_error; }
    // The first error wins; an empty field: no one member is at fault (the body omits "field").
    void setError(std::string_view field, QString message);

private:
    std::optional<JsonValue> member(std::string_view name, bool required);

    JsonValue m_object;
    std::optional<ServiceError> m_error;
};

template<typename Parse>
auto RequestBody::choice(std::string_view name, bool required, Parse parse, const char *choices)
    -> std::optional<typename std::invoke_result_t<Parse, std::string_view>::value_type>
{
    const std::optional<JsonValue> value = member(name, required);
    if (!value)
        return std::nullopt;
    if (value->isString()) {
        if (auto parsed = parse(value->string()))
            return parsed;
    }
    setError(name, QStringLiteral("%1 must be one of: %2")
                       .arg(QString::fromUtf8(name.data(), qsizetype(name.size())), QLatin1StringView(choices)));
    return std::nullopt;
}

} // namespace bourse::server
