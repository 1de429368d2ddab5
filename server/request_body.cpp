#include "request_body.h"

namespace bourse::server {

namespace {

QString name(std::string_view text)
{
    return QString::fromUtf8(text.data(), qsizetype(text.size()));
}

} // namespace

RequestBody::RequestBody(const JsonValue &object, std::initializer_list<std::string_view> known)
    : m_object(object)
{
    for (std::size_t i = 0; i < object.size(); ++i) {
        const std::string_view key = object.keyAt(i);
        if (std::find(known.begin(), known.end(), key) == known.end()) {
            setError(key, QStringLiteral("%1 is not a field of this request").arg(name(key)));
            return;
        }
    }
}

void RequestBody::setError(std::string_view field, QString message)
{
    if (!m_error)
        m_error = ServiceError::of(ErrorCode::ValidationError, std::move(message), name(field));
}

std::optional<JsonValue> RequestBody::member(std::string_view field, bool required)
{
    if (m_error)
        return std::nullopt;
    std::optional<JsonValue> value = m_object.member(field);
    if (!value || value->isNull()) {
        if (required)
            setError(field, QStringLiteral("%1 is required").arg(name(field)));
        return std::nullopt;
    }
    return value;
}

std::optional<QString> RequestBody::string(std::string_view field, bool required, int maxLength)
{
    const std::optional<QByteArray> raw = bytes(field, required, maxLength * 4);
    if (!raw)
        return std::nullopt;
    QString text = QString::fromUtf8(*raw);
    if (text.size() > maxLength) {
        setError(field, QStringLiteral("%1 is longer than %2 characters").arg(name(field)).arg(maxLength));
        return std::nullopt;
    }
    return text;
}

std::optional<QByteArray> RequestBody::bytes(std::string_view field, bool required, int maxLength)
{
    const std::optional<JsonValue> value = member(field, required);
    if (!value)
        return std::nullopt;
    if (!value->isString()) {
        setError(field,
                 QStringLiteral("%1 must be a string, not %2").arg(name(field), QLatin1StringView(value->typeName())));
        return std::nullopt;
    }
    const std::string_view text = value->string();
    if (text.size() > std::size_t(maxLength)) {
        setError(field, QStringLiteral("%1 is too long").arg(name(field)));
        return std::nullopt;
    }
    return QByteArray(text.data(), qsizetype(text.size()));
}

std::optional<Decimal> RequestBody::decimal(std::string_view field, bool required)
{
    const std::optional<JsonValue> value = member(field, required);
    if (!value)
        return std::nullopt;
    if (!value->isString() && !value->isNumber()) {
        setError(field, QStringLiteral("%1 must be a decimal string or a number, not %2")
                            .arg(name(field), QLatin1StringView(value->typeName())));
        return std::nullopt;
    }
    const Expected<Decimal, DecimalError> parsed = value->decimal();
    if (!parsed) {
        switch (parsed.error()) {
        case DecimalError::TooManyDecimals:
            setError(field, QStringLiteral("%1 has more than 8 decimal places").arg(name(field)));
            break;
        case DecimalError::OutOfRange: setError(field, QStringLiteral("%1 is out of range").arg(name(field))); break;
        case DecimalError::Empty:
        case DecimalError::Syntax:
            setError(field, QStringLiteral("%1 must be a decimal number such as \"2000.50\"").arg(name(field)));
            break;
        }
        return std::nullopt;
    }
    return *parsed;
}

std::optional<bool> RequestBody::boolean(std::string_view field, bool required)
{
    const std::optional<JsonValue> value = member(field, required);
    if (!value)
        return std::nullopt;
    if (!value->isBoolean()) {
        setError(field, QStringLiteral("%1 must be true or false").arg(name(field)));
        return std::nullopt;
    }
    return value->boolean();
}

std::optional<std::int64_t> RequestBody::integer(std::string_view field, bool required, std::int64_t min,
                                                 std::int64_t max)
{
    const std::optional<JsonValue> value = member(field, required);
    if (!value)
        return std::nullopt;
    const Expected<std::int64_t, JsonIntegerError> number = value->isNumber()
                                                                ? value->integer(min, max)
                                                                : unexpected(JsonIntegerError::NotAnInteger);
    if (!number) {
        setError(field, QStringLiteral("%1 must be an integer from %2 to %3").arg(name(field)).arg(min).arg(max));
        return std::nullopt;
    }
    return *number;
}

} // namespace bourse::server
