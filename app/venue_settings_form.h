// VenueSettingsForm: the admin panel's Limits page — the venue's run-time settings (server/venue_settings.h:
// rate limits per tier, the login throttle, registration, CORS origins, body size and timeouts) as the form
// shows them, and save(), which sends the changed fields as the patch PATCH /admin/settings would get: the
// same applySettingsPatch() validation, then VenueService::updateSettings. A bad value gets the API's message
// and changes nothing. GUI thread.
#pragma once

#include "desk.h"

#include <QObject>
#include <QVariantMap>
#include <QtQml/qqmlregistration.h>

namespace bourse::app {

class VenueSettingsForm : public QObject
{
    Q_OBJECT
    QML_ELEMENT

    // Every setting by its API path: "registration_open" (bool), "cors_allowed_origins" (list of strings),
    // "max_body_bytes", "keep_alive_idle_s", "header_timeout_s", "login_throttle.max_failures",
    // "login_throttle.window_s", "rate_limits.<anonymous|default|pro>.<capacity|refill_per_second>" (ints).
    Q_PROPERTY(QVariantMap values READ values NOTIFY valuesChanged)
    Q_PROPERTY(bool busy READ busy NOTIFY busyChanged)
    Q_PROPERTY(QString error READ error NOTIFY errorChanged)
    Q_PROPERTY(QString errorField READ errorField NOTIFY errorChanged)

public:
    explicit VenueSettingsForm(QObject *parent = nullptr);

    QVariantMap values() const { return m_values; }
    bool busy() const { return m_busy; }
    QString error() const { return m_error; }
    QString errorField() const { return m_errorField; }

    Q_INVOKABLE void reload();
    // `changes`: API paths as in `values` to what the form holds — a bool, a list of strings, or the text of
    // a number as typed ("120", "-5"). Only these members are patched.
    Q_INVOKABLE void save(const QVariantMap &changes);

    // The patch body save() sends for `changes` (for the tests and the audit log's details).
    static QByteArray patchJson(const QVariantMap &changes);

signals:
    void valuesChanged();
    void busyChanged();
    void errorChanged();
    void saved();
    void failed(const QString &message, const QString &field);

private:
    void show(const server::VenueSettings &settings);
    void setBusy(bool busy);
    void setError(const QString &message, const QString &field);

    QVariantMap m_values;
    bool m_busy = false;
    QString m_error;
    QString m_errorField;
};

} // namespace bourse::app
