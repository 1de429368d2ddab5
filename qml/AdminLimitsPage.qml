// Limits: rate limits per tier, the login throttle, registration, CORS origins, body size and timeouts —
// the venue's run-time settings, saved with the same validation as PATCH /admin/settings.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Bourse.Models

ScrollView {
    id: limitsPage

    readonly property var _numbers: [
        ["rate_limits.anonymous.capacity", qsTr("Anonymous: burst")],
        ["rate_limits.anonymous.refill_per_second", qsTr("Anonymous: per second")],
        ["rate_limits.default.capacity", qsTr("Default tier: burst")],
        ["rate_limits.default.refill_per_second", qsTr("Default tier: per second")],
        ["rate_limits.pro.capacity", qsTr("Pro tier: burst")],
        ["rate_limits.pro.refill_per_second", qsTr("Pro tier: per second")],
        ["login_throttle.max_failures", qsTr("Login failures before lockout")],
        ["login_throttle.window_s", qsTr("Login throttle window (s)")],
        ["max_body_bytes", qsTr("Largest request body (bytes)")],
        ["keep_alive_idle_s", qsTr("Keep-alive idle timeout (s)")],
        ["header_timeout_s", qsTr("Header timeout (s)")]
    ]

    function _save() {
        const changes = {};
        for (let i = 0; i < numbers.count; ++i) {
            const field = numbers.itemAt(i);
            changes[field.path] = field.text;
        }
        changes["registration_open"] = registration.checked;
        changes["cors_allowed_origins"] = origins.text.split("\n").map(s => s.trim()).filter(s => s.length > 0);
        settings.save(changes);
    }

    clip: true

    VenueSettingsForm { id: settings }

    ColumnLayout {
        width: limitsPage.availableWidth
        spacing: Theme.spacing

        GridLayout {
            columns: 2
            columnSpacing: Theme.spacing

            Repeater {
                id: numbers

                model: limitsPage._numbers
                delegate: TextField {
                    required property var modelData
                    readonly property string path: modelData[0]

                    objectName: "setting_" + path
                    Layout.row: index
                    Layout.column: 1
                    text: settings.values[path] !== undefined ? String(settings.values[path]) : ""
                    color: settings.errorField === path ? Theme.danger : Theme.text
                    font.family: Theme.monoFamily
                    ToolTip.visible: hovered
                    ToolTip.delay: Theme.toolTipDelay
                    ToolTip.text: modelData[1]
                    required property int index
                }
            }
            Repeater {
                model: limitsPage._numbers
                delegate: Label {
                    required property var modelData
                    required property int index

                    Layout.row: index
                    Layout.column: 0
                    text: modelData[1]
                    color: Theme.text
                }
            }
        }
        CheckBox {
            id: registration

            objectName: "settingRegistrationOpen"
            text: qsTr("Registration open (anyone may create an account through the API)")
            checked: settings.values["registration_open"] === true
            ToolTip.visible: hovered
            ToolTip.delay: Theme.toolTipDelay
            ToolTip.text: qsTr("Whether POST /auth/register accepts new accounts")
        }
        Label { text: qsTr("CORS allowed origins, one a line (https://desk.example)"); color: Theme.text }
        TextArea {
            id: origins

            objectName: "settingCorsOrigins"
            Layout.fillWidth: true
            Layout.preferredHeight: Theme.rowHeight * 4
            text: (settings.values["cors_allowed_origins"] || []).join("\n")
            font.family: Theme.monoFamily
            placeholderText: qsTr("none: only the venue's own origin")
            // The Basic style draws no box around a TextArea.
            background: Rectangle {
                color: Theme.surface
                border.color: origins.activeFocus ? Theme.focus : Theme.border
                border.width: origins.activeFocus ? Theme.focusWidth : Theme.borderWidth
                radius: Theme.radius
            }
            ToolTip.visible: hovered
            ToolTip.delay: Theme.toolTipDelay
            ToolTip.text: qsTr("Browsers on these origins may call the API")
        }
        AdminError { objectName: "settingsError"; message: settings.error; Layout.fillWidth: true }
        RowLayout {
            spacing: Theme.spacing
            Button {
                objectName: "settingsSave"
                text: qsTr("Save")
                enabled: !settings.busy
                onClicked: limitsPage._save()
                ToolTip.visible: hovered
                ToolTip.delay: Theme.toolTipDelay
                ToolTip.text: qsTr("Apply now; nothing changes if a value is refused")
            }
            Button {
                objectName: "settingsReload"
                text: qsTr("Revert")
                onClicked: settings.reload()
                ToolTip.visible: hovered
                ToolTip.delay: Theme.toolTipDelay
                ToolTip.text: qsTr("Show the venue's current settings again")
            }
        }
    }
}
