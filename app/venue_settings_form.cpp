#include "venue_settings_form.h"

#include "admin_request.h"
#include "json_reader.h"
#include "json_writer.h"

#include <QRegularExpression>

#include <map>

namespace bourse::app {

namespace {

void putBucket(QVariantMap &values, const QString &tier, const server::BucketLimit &limit)
{
    values.insert(QStringLiteral("rate_limits.%1.capacity").arg(tier), int(limit.capacity));
    values.insert(QStringLiteral("rate_limits.%1.refill_per_second").arg(tier), int(limit.refillPerSecond));
}

// A path's members nested as the patch's objects: {"rate_limits": {"pro": {"capacity": ...}}}.
struct PatchNode
{
    std::map<QString, PatchNode> members; // in key order; the settings do not care about order
    QVariant value;                       // a leaf's value
};

void writeValue(server::JsonWriter &json, const QVariant &value)
{
    static const QRegularExpression integer(QStringLiteral("^-?(0|[1-9][0-9]*)$"));
    switch (value.typeId()) {
    case QMetaType::Bool: json.boolean(value.toBool()); return;
    case QMetaType::Int:
    case QMetaType::LongLong:
    case QMetaType::UInt:
    case QMetaType::ULongLong: json.number(std::int64_t(value.toLongLong())); return;
    case QMetaType::Double: {
        const double number = value.toDouble();
        if (number == double(qint64(number)))
            json.number(std::int64_t(number));
        else
            json.raw(QByteArray::number(number));
        return;
    }
    case QMetaType::QStringList:
    case QMetaType::QVariantList:
        json.beginArray();
        for (const QVariant &item : value.toList())
            json.string(item.toString());
        json.endArray();
        return;
    default: break;
    }
    // Text as typed: an integer goes as a JSON number, anything else as a string, which the settings then
    // refuse with their own message ("... must be an integer from 1 to 1000000").
    const QString text = value.toString().trimmed();
    if (integer.match(text).hasMatch() && text.size() <= 18)
        json.raw(text.toUtf8());
    else
        json.string(text);
}

void writeNode(server::JsonWriter &json, const PatchNode &node)
{
    if (node.members.empty()) {
        writeValue(json, node.value);
        return;
    }
    json.beginObject();
    for (const auto &[name, member] : node.members) {
        const QByteArray key = name.toUtf8();
        json.key(std::string_view(key.constData(), std::size_t(key.size())));
        writeNode(json, member);
    }
    json.endObject();
}

} // namespace

VenueSettingsForm::VenueSettingsForm(QObject *parent)
    : QObject(parent)
{
    reload();
}

void VenueSettingsForm::show(const server::VenueSettings &settings)
{
    QVariantMap values;
    values.insert(QStringLiteral("registration_open"), settings.registrationOpen);
    values.insert(QStringLiteral("cors_allowed_origins"), settings.corsAllowedOrigins);
    values.insert(QStringLiteral("max_body_bytes"), settings.maxBodyBytes);
    values.insert(QStringLiteral("keep_alive_idle_s"), settings.keepAliveIdleSeconds);
    values.insert(QStringLiteral("header_timeout_s"), settings.headerTimeoutSeconds);
    values.insert(QStringLiteral("login_throttle.max_failures"), settings.loginMaxFailures);
    values.insert(QStringLiteral("login_throttle.window_s"), settings.loginWindowSeconds);
    putBucket(values, QStringLiteral("anonymous"), settings.anonymous);
    putBucket(values, QStringLiteral("default"), settings.standard);
    putBucket(values, QStringLiteral("pro"), settings.pro);
    if (values == m_values)
        return;
    m_values = values;
    emit valuesChanged();
}

void VenueSettingsForm::setBusy(bool busy)
{
    if (busy == m_busy)
        return;
    m_busy = busy;
    emit busyChanged();
}

void VenueSettingsForm::setError(const QString &message, const QString &field)
{
    if (message == m_error && field == m_errorField)
        return;
    m_error = message;
    m_errorField = field;
    emit errorChanged();
}

void VenueSettingsForm::reload()
{
    Desk *desk = Desk::instance();
    if (!desk)
        return;
    desk->inspect<server::VenueSettings>(
        this, [](server::VenueServer &venue) { return venue.service().currentSettings(); },
        [this](server::VenueSettings settings) { show(settings); });
}

QByteArray VenueSettingsForm::patchJson(const QVariantMap &changes)
{
    PatchNode root;
    for (auto it = changes.cbegin(); it != changes.cend(); ++it) {
        PatchNode *node = &root;
        for (const QString &part : it.key().split(u'.'))
            node = &node->members[part];
        node->value = it.value();
    }
    server::JsonWriter json;
    if (root.members.empty()) {
        json.beginObject();
        json.endObject();
    } else {
        writeNode(json, root);
    }
    return json.take();
}

void VenueSettingsForm::save(const QVariantMap &changes)
{
    Desk *desk = Desk::instance();
    if (!desk || m_busy)
        return;
    const QByteArray patch = patchJson(changes);
    setBusy(true);
    desk->call<server::VenueSettings>(
        this,
        // As for the route, the role is checked before the patch is read.
        adminOnly<server::VenueSettings>([patch](server::VenueService &service, const server::Caller &caller,
                                                 server::Reply<server::VenueSettings> reply) {
            // PATCH /admin/settings: the same reading and validation of the patch, then the same call.
            const Expected<server::JsonDocument, server::JsonError> document = server::readJson(
                std::string_view(patch.constData(), std::size_t(patch.size())));
            if (!document) {
                reply(unexpected(server::ServiceError::of(server::ErrorCode::BadRequest,
                                                          QString::fromStdString(document.error().message))));
                return;
            }
            const Expected<server::VenueSettings, server::SettingsError> next
                = server::applySettingsPatch(service.currentSettings(), document->root());
            if (!next) {
                reply(unexpected(server::ServiceError::of(server::ErrorCode::ValidationError, next.error().message,
                                                          next.error().field)));
                return;
            }
            service.updateSettings(caller, *next, patch, std::move(reply));
        }),
        [this](server::ServiceResult<server::VenueSettings> result) {
            setBusy(false);
            if (!result) {
                setError(result.error().message, result.error().field);
                emit failed(result.error().message, result.error().field);
                return;
            }
            setError(QString(), QString());
            show(*result);
            emit saved();
        });
}

} // namespace bourse::app
