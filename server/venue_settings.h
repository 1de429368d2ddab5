// VenueSettings: the run-time settings of spec §6 (GET/PATCH /admin/settings): registration, CORS origins,
// body limit, keep-alive and header timeouts, the login throttle and the rate limit of each tier. A patch is
// validated whole before anything changes; the result is stored in the settings table (one row per
// top-level member, its value as JSON text) and applied without a restart. Plain values; any thread.
#pragma once

#include "error_code.h"
#include "expected.h"
#include "json_reader.h"
#include "rate_limiter.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace bourse::server {

enum class RateTier : std::uint8_t { Anonymous, Default, Pro, Unlimited };
QLatin1StringView rateTierName(RateTier tier); // "anonymous" | "default" | "pro" | "unlimited"
std::optional<RateTier> parseRateTier(std::string_view text);

struct VenueSettings
{
    bool registrationOpen = true;
    QStringList corsAllowedOrigins; // "https://desk.example"; empty: none
    int maxBodyBytes = 1024 * 1024;
    int keepAliveIdleSeconds = 15;
    int headerTimeoutSeconds = 10;
    int loginMaxFailures = 10;
    int loginWindowSeconds = 900;
    BucketLimit anonymous{60, 20};
    BucketLimit standard{120, 50}; // the "default" tier
    BucketLimit pro{1200, 500};

    // The bucket of a tier; Unlimited is capacity 0 (no limit).
    BucketLimit limitFor(RateTier tier) const;
    bool allowsOrigin(QByteArrayView origin) const;

    // {"registration_open":..,"cors_allowed_origins":[..],...,"rate_limits":{"anonymous":{..},..}}
    QByteArray toJson() const;
    // The rows of the settings table: top-level member name → its JSON text.
    std::vector<std::pair<QString, QString>> toRows() const;
    // The rows of the top-level members `patch` names, and only those: what an admin changed is stored, and
    // the rest keeps following the defaults the venue starts with (the config file's [limits]).
    std::vector<std::pair<QString, QString>> toRows(const JsonValue &patch) const;
};

// A refused patch: which member and why, for a VALIDATION_ERROR.
struct SettingsError
{
    QString field; // "rate_limits.pro.capacity"
    QString message;
    // When the value was all that was wrong, what it must be: "an integer from 1 to 1000000".
    QString expected{};
};

// `patch` applied to `current`: any subset of the members, nested objects included. Unknown members, wrong
// types and values out of range are refused, naming the member; nothing is half-applied.
Expected<VenueSettings, SettingsError> applySettingsPatch(const VenueSettings &current, const JsonValue &patch);

// Settings from the table's rows over `base`, the settings the venue starts with (the built-in defaults, or
// the config file's [limits]): a stored row is an admin's later decision and wins. A row that no longer
// parses is skipped and named in `skipped` (the venue still starts; the admin sees `base`'s value and can
// save again).
VenueSettings settingsFromRows(const VenueSettings &base, const std::vector<std::pair<QString, QString>> &rows,
                               QStringList *skipped = nullptr);

// A [limits] key of the config file: the run-time setting it gives a venue's start, named as the file names
// it, as PATCH /admin/settings' JSON names it ("rate_limits.pro.capacity"), and read from VenueSettings.
struct ConfigLimit
{
    QLatin1StringView key; // in [limits]
    std::string_view path; // in the settings JSON; its first part is the top-level member that holds it
    int (*value)(const VenueSettings &);

    std::string_view member() const { return path.substr(0, path.find('.')); }
};

// Every [limits] key, in the order the shipped config file documents them.
std::span<const ConfigLimit> configLimits();

// The config file's [limits] that stored rows override, one line per top-level member where `base` (the
// settings the venue starts with) differs from the built-in defaults and `settings` (settingsFromRows' result)
// differs from `base`, naming the [limits] keys the file changed and the stored value: "the config file's
// [limits] max_body_bytes is overridden by the value an admin saved (2048); change it in the admin panel".
// A venue whose admins saved every member before only the changed ones were stored warns this way at start.
QStringList overriddenFileLimits(const VenueSettings &base, const VenueSettings &settings);

} // namespace bourse::server
