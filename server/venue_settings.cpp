#include "venue_settings.h"

#include "json_writer.h"

#include <QRegularExpression>

#include <array>
#include <functional>

namespace bourse::server {

namespace {

constexpr int kMaxOrigins = 100;
constexpr int kMaxOriginLength = 255;

struct IntRange
{
    std::int64_t min;
    std::int64_t max;
};

constexpr IntRange kBodyRange{1024, 16 * 1024 * 1024};
constexpr IntRange kIdleRange{1, 3600};
constexpr IntRange kHeaderTimeoutRange{1, 300};
constexpr IntRange kFailuresRange{1, 1000};
constexpr IntRange kWindowRange{1, 86400};
constexpr IntRange kBucketRange{1, 1'000'000};

bool validOrigin(const QString &origin)
{
    static const QRegularExpression pattern(QStringLiteral("^https?://[^/?#\\s]+$"));
    return origin.size() <= kMaxOriginLength && pattern.match(origin).hasMatch();
}

void writeBucket(JsonWriter &json, std::string_view name, const BucketLimit &limit)
{
    json.key(name).beginObject();
    json.field("capacity", std::int64_t(limit.capacity));
    json.field("refill_per_second", std::int64_t(limit.refillPerSecond));
    json.endObject();
}

// Reads the members of one JSON object patch: every member must be known to `apply`, which returns an
// error or nothing.
using MemberHandler = std::function<std::optional<SettingsError>(std::string_view name, const JsonValue &value)>;

std::optional<SettingsError> forEachMember(const JsonValue &object, const QString &path, const MemberHandler &apply)
{
    if (!object.isObject())
        return SettingsError{path, QStringLiteral("%1 must be an object")
                                       .arg(path.isEmpty() ? QStringLiteral("the body") : path)};
    for (std::size_t i = 0; i < object.size(); ++i) {
        if (std::optional<SettingsError> error = apply(object.keyAt(i), object.at(i)))
            return error;
    }
    return std::nullopt;
}

QString joined(const QString &path, std::string_view name)
{
    const QString member = QString::fromUtf8(name.data(), qsizetype(name.size()));
    return path.isEmpty() ? member : path + u'.' + member;
}

SettingsError unknownMember(const QString &path, std::string_view name)
{
    const QString field = joined(path, name);
    return SettingsError{field, QStringLiteral("%1 is not a setting").arg(field)};
}

std::optional<SettingsError> readInt(const JsonValue &value, const QString &field, IntRange range, int &out)
{
    const Expected<std::int64_t, JsonIntegerError> number = value.isNumber()
                                                                ? value.integer(range.min, range.max)
                                                                : unexpected(JsonIntegerError::NotAnInteger);
    if (!number) {
        const QString expected = QStringLiteral("an integer from %1 to %2").arg(range.min).arg(range.max);
        return SettingsError{field, QStringLiteral("%1 must be %2").arg(field, expected), expected};
    }
    out = int(*number);
    return std::nullopt;
}

std::optional<SettingsError> readBucket(const JsonValue &value, const QString &path, BucketLimit &bucket)
{
    return forEachMember(value, path,
                         [&](std::string_view name, const JsonValue &member) -> std::optional<SettingsError> {
                             int number = 0;
                             if (name == "capacity") {
                                 if (auto error = readInt(member, joined(path, name), kBucketRange, number))
                                     return error;
                                 bucket.capacity = std::uint32_t(number);
                                 return std::nullopt;
                             }
                             if (name == "refill_per_second") {
                                 if (auto error = readInt(member, joined(path, name), kBucketRange, number))
                                     return error;
                                 bucket.refillPerSecond = std::uint32_t(number);
                                 return std::nullopt;
                             }
                             return unknownMember(path, name);
                         });
}

} // namespace

QLatin1StringView rateTierName(RateTier tier)
{
    switch (tier) {
    case RateTier::Anonymous: return QLatin1StringView("anonymous");
    case RateTier::Default: return QLatin1StringView("default");
    case RateTier::Pro: return QLatin1StringView("pro");
    case RateTier::Unlimited: return QLatin1StringView("unlimited");
    }
    return QLatin1StringView("default");
}

std::optional<RateTier> parseRateTier(std::string_view text)
{
    if (text == "default")
        return RateTier::Default;
    if (text == "pro")
        return RateTier::Pro;
    if (text == "unlimited")
        return RateTier::Unlimited;
    return std::nullopt; // "anonymous" is no user's tier
}

BucketLimit VenueSettings::limitFor(RateTier tier) const
{
    switch (tier) {
    case RateTier::Anonymous: return anonymous;
    case RateTier::Default: return standard;
    case RateTier::Pro: return pro;
    case RateTier::Unlimited: return BucketLimit{};
    }
    return standard;
}

bool VenueSettings::allowsOrigin(QByteArrayView origin) const
{
    if (origin.isEmpty())
        return false;
    const QString text = QString::fromUtf8(origin);
    return std::any_of(corsAllowedOrigins.cbegin(), corsAllowedOrigins.cend(),
                       [&](const QString &allowed) { return allowed.compare(text, Qt::CaseInsensitive) == 0; });
}

namespace {

constexpr std::array<std::string_view, 7> kMembers = {"registration_open", "cors_allowed_origins", "max_body_bytes",
                                                      "keep_alive_idle_s", "header_timeout_s",     "login_throttle",
                                                      "rate_limits"};

// The value of one top-level member, as toJson() and the settings table hold it.
void writeMember(JsonWriter &json, const VenueSettings &settings, std::string_view name)
{
    if (name == "registration_open") {
        json.boolean(settings.registrationOpen);
    } else if (name == "cors_allowed_origins") {
        json.beginArray();
        for (const QString &origin : settings.corsAllowedOrigins)
            json.string(origin);
        json.endArray();
    } else if (name == "max_body_bytes") {
        json.number(settings.maxBodyBytes);
    } else if (name == "keep_alive_idle_s") {
        json.number(settings.keepAliveIdleSeconds);
    } else if (name == "header_timeout_s") {
        json.number(settings.headerTimeoutSeconds);
    } else if (name == "login_throttle") {
        json.beginObject();
        json.field("max_failures", settings.loginMaxFailures);
        json.field("window_s", settings.loginWindowSeconds);
        json.endObject();
    } else {
        json.beginObject();
        writeBucket(json, "anonymous", settings.anonymous);
        writeBucket(json, "default", settings.standard);
        writeBucket(json, "pro", settings.pro);
        json.endObject();
    }
}

// One row of the settings table: the member's name and its JSON text.
std::pair<QString, QString> rowOf(const VenueSettings &settings, std::string_view name)
{
    JsonWriter json;
    writeMember(json, settings, name);
    return {QString::fromUtf8(name.data(), qsizetype(name.size())), QString::fromUtf8(json.take())};
}

} // namespace

QByteArray VenueSettings::toJson() const
{
    JsonWriter json;
    json.beginObject();
    for (std::string_view name : kMembers) {
        json.key(name);
        writeMember(json, *this, name);
    }
    json.endObject();
    return json.take();
}

std::vector<std::pair<QString, QString>> VenueSettings::toRows() const
{
    std::vector<std::pair<QString, QString>> rows;
    for (std::string_view name : kMembers)
        rows.push_back(rowOf(*this, name));
    return rows;
}

std::vector<std::pair<QString, QString>> VenueSettings::toRows(const JsonValue &patch) const
{
    std::vector<std::pair<QString, QString>> rows;
    if (!patch.isObject())
        return rows;
    for (std::string_view name : kMembers) {
        bool named = false;
        for (std::size_t i = 0; i < patch.size() && !named; ++i)
            named = patch.keyAt(i) == name;
        if (named)
            rows.push_back(rowOf(*this, name));
    }
    return rows;
}

namespace {

std::optional<SettingsError> applyMember(VenueSettings &next, std::string_view name, const JsonValue &value)
{
    const QString field = joined(QString(), name);
    if (name == "registration_open") {
        if (!value.isBoolean())
            return SettingsError{field, QStringLiteral("registration_open must be a boolean")};
        next.registrationOpen = value.boolean();
        return std::nullopt;
    }
    if (name == "cors_allowed_origins") {
        if (!value.isArray())
            return SettingsError{field, QStringLiteral("cors_allowed_origins must be an array of origins")};
        if (value.size() > std::size_t(kMaxOrigins))
            return SettingsError{field,
                                 QStringLiteral("cors_allowed_origins holds at most %1 origins").arg(kMaxOrigins)};
        QStringList origins;
        for (std::size_t i = 0; i < value.size(); ++i) {
            const JsonValue item = value.at(i);
            const QString origin = item.isString()
                                       ? QString::fromUtf8(item.string().data(), qsizetype(item.string().size()))
                                       : QString();
            if (!item.isString() || !validOrigin(origin))
                return SettingsError{field,
                                     QStringLiteral("cors_allowed_origins[%1] must be an origin such as "
                                                    "https://desk.example (scheme, host, optional port; no path)")
                                         .arg(i)};
            if (origins.contains(origin, Qt::CaseInsensitive))
                return SettingsError{field, QStringLiteral("cors_allowed_origins lists %1 twice").arg(origin)};
            origins.append(origin);
        }
        next.corsAllowedOrigins = origins;
        return std::nullopt;
    }
    if (name == "max_body_bytes")
        return readInt(value, field, kBodyRange, next.maxBodyBytes);
    if (name == "keep_alive_idle_s")
        return readInt(value, field, kIdleRange, next.keepAliveIdleSeconds);
    if (name == "header_timeout_s")
        return readInt(value, field, kHeaderTimeoutRange, next.headerTimeoutSeconds);
    if (name == "login_throttle") {
        return forEachMember(value, field,
                             [&](std::string_view member, const JsonValue &inner) -> std::optional<SettingsError> {
                                 if (member == "max_failures")
                                     return readInt(inner, joined(field, member), kFailuresRange, next.loginMaxFailures);
                                 if (member == "window_s")
                                     return readInt(inner, joined(field, member), kWindowRange, next.loginWindowSeconds);
                                 return unknownMember(field, member);
                             });
    }
    if (name == "rate_limits") {
        return forEachMember(value, field,
                             [&](std::string_view member, const JsonValue &inner) -> std::optional<SettingsError> {
                                 if (member == "anonymous")
                                     return readBucket(inner, joined(field, member), next.anonymous);
                                 if (member == "default")
                                     return readBucket(inner, joined(field, member), next.standard);
                                 if (member == "pro")
                                     return readBucket(inner, joined(field, member), next.pro);
                                 return unknownMember(field, member);
                             });
    }
    return unknownMember(QString(), name);
}

} // namespace

Expected<VenueSettings, SettingsError> applySettingsPatch(const VenueSettings &current, const JsonValue &patch)
{
    VenueSettings next = current;
    if (std::optional<SettingsError> error = forEachMember(patch, QString(),
                                                           [&](std::string_view name, const JsonValue &value) {
                                                               return applyMember(next, name, value);
                                                           }))
        return unexpected(*error);
    return next;
}

VenueSettings settingsFromRows(const VenueSettings &base, const std::vector<std::pair<QString, QString>> &rows,
                               QStringList *skipped)
{
    VenueSettings settings = base;
    for (const auto &[key, value] : rows) {
        const QByteArray text = value.toUtf8();
        const Expected<JsonDocument, JsonError> document = readJson(
            std::string_view(text.constData(), std::size_t(text.size())));
        const QByteArray name = key.toUtf8();
        bool ok = false;
        if (document) {
            VenueSettings next = settings;
            if (!applyMember(next, std::string_view(name.constData(), std::size_t(name.size())), document->root())) {
                settings = next;
                ok = true;
            }
        }
        if (!ok && skipped)
            skipped->append(key);
    }
    return settings;
}

namespace {

constexpr std::array kConfigLimits{
    ConfigLimit{QLatin1StringView("max_body_bytes"), "max_body_bytes",
                [](const VenueSettings &s) { return s.maxBodyBytes; }},
    ConfigLimit{QLatin1StringView("keep_alive_idle_seconds"), "keep_alive_idle_s",
                [](const VenueSettings &s) { return s.keepAliveIdleSeconds; }},
    ConfigLimit{QLatin1StringView("header_timeout_seconds"), "header_timeout_s",
                [](const VenueSettings &s) { return s.headerTimeoutSeconds; }},
    ConfigLimit{QLatin1StringView("login_max_failures"), "login_throttle.max_failures",
                [](const VenueSettings &s) { return s.loginMaxFailures; }},
    ConfigLimit{QLatin1StringView("login_window_seconds"), "login_throttle.window_s",
                [](const VenueSettings &s) { return s.loginWindowSeconds; }},
    ConfigLimit{QLatin1StringView("rate_anonymous_capacity"), "rate_limits.anonymous.capacity",
                [](const VenueSettings &s) { return int(s.anonymous.capacity); }},
    ConfigLimit{QLatin1StringView("rate_anonymous_per_second"), "rate_limits.anonymous.refill_per_second",
                [](const VenueSettings &s) { return int(s.anonymous.refillPerSecond); }},
    ConfigLimit{QLatin1StringView("rate_default_capacity"), "rate_limits.default.capacity",
                [](const VenueSettings &s) { return int(s.standard.capacity); }},
    ConfigLimit{QLatin1StringView("rate_default_per_second"), "rate_limits.default.refill_per_second",
                [](const VenueSettings &s) { return int(s.standard.refillPerSecond); }},
    ConfigLimit{QLatin1StringView("rate_pro_capacity"), "rate_limits.pro.capacity",
                [](const VenueSettings &s) { return int(s.pro.capacity); }},
    ConfigLimit{QLatin1StringView("rate_pro_per_second"), "rate_limits.pro.refill_per_second",
                [](const VenueSettings &s) { return int(s.pro.refillPerSecond); }},
};

} // namespace

std::span<const ConfigLimit> configLimits()
{
    return kConfigLimits;
}

QStringList overriddenFileLimits(const VenueSettings &base, const VenueSettings &settings)
{
    const VenueSettings defaults;
    QStringList lines;
    for (std::string_view member : kMembers) {
        if (rowOf(settings, member) == rowOf(base, member))
            continue; // no stored row changed it
        QStringList keys;
        for (const ConfigLimit &limit : kConfigLimits) {
            if (limit.member() == member && limit.value(base) != limit.value(defaults))
                keys.append(limit.key);
        }
        if (keys.isEmpty())
            continue; // the file left it at its default: nothing of the file's is lost
        // An object member is named: "(login_throttle {...})" says where in the admin panel it is.
        QString stored = rowOf(settings, member).second;
        if (stored.startsWith(u'{'))
            stored = QString::fromUtf8(member.data(), qsizetype(member.size())) + u' ' + stored;
        lines.append(QStringLiteral("the config file's [limits] %1 %2 overridden by the value an admin saved (%3); "
                                    "change %4 in the admin panel")
                         .arg(keys.join(QStringLiteral(", ")),
                              keys.size() == 1 ? QStringLiteral("is") : QStringLiteral("are"), stored,
                              keys.size() == 1 ? QStringLiteral("it") : QStringLiteral("them")));
    }
    return lines;
}

} // namespace bourse::server
