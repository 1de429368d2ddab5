// First run: the database has no admin yet, so the person at the machine creates the venue's admin account.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Bourse.Models

Rectangle {
    id: root

    property string error: ""
    property string errorField: ""

    color: Theme.window

    Connections {
        target: Desk
        function onSignInFailed(message, field) {
            root.error = message
            root.errorField = field
        }
    }

    Pane {
        anchors.centerIn: parent
        width: Theme.formWidth
        padding: Theme.padding * 2
        background: Rectangle { color: Theme.surface; radius: Theme.radius; border.color: Theme.border }

        ColumnLayout {
            anchors.fill: parent
            spacing: Theme.spacing

            Label {
                text: qsTr("Welcome to Bourse")
                font.pointSize: Theme.titleFontSize
                color: Theme.text
            }
            Label {
                Layout.fillWidth: true
                wrapMode: Text.WordWrap
                color: Theme.textMuted
                text: qsTr("This venue has no administrator yet. Create the admin account: it manages users, "
                           + "instruments and the venue's settings.")
            }
            Label { text: qsTr("Admin username"); color: Theme.text }
            TextField {
                id: username

                objectName: "wizardUsername"
                Layout.fillWidth: true
                text: "admin"
                focus: true
                ToolTip.visible: hovered
                ToolTip.delay: Theme.toolTipDelay
                ToolTip.text: qsTr("3-32 characters: letters, digits, '.', '_' or '-'")
                KeyNavigation.tab: password
                onTextEdited: root.error = ""
            }
            Label { text: qsTr("Password"); color: Theme.text }
            TextField {
                id: password

                objectName: "wizardPassword"
                Layout.fillWidth: true
                echoMode: TextInput.Password
                placeholderText: qsTr("8 to 128 characters")
                ToolTip.visible: hovered
                ToolTip.delay: Theme.toolTipDelay
                ToolTip.text: qsTr("At least 8 characters")
                KeyNavigation.tab: confirmation
                onTextEdited: root.error = ""
            }
            Label { text: qsTr("Repeat the password"); color: Theme.text }
            TextField {
                id: confirmation

                objectName: "wizardConfirmation"
                Layout.fillWidth: true
                echoMode: TextInput.Password
                ToolTip.visible: hovered
                ToolTip.delay: Theme.toolTipDelay
                ToolTip.text: qsTr("The same password again")
                KeyNavigation.tab: create
                onTextEdited: root.error = ""
                onAccepted: create.clicked()
            }
            Label {
                Layout.fillWidth: true
                visible: root.error !== ""
                text: root.error
                color: Theme.danger
                wrapMode: Text.WordWrap
            }
            Button {
                id: create

                objectName: "wizardCreate"
                Layout.fillWidth: true
                text: Desk.busy ? qsTr("Creating…") : qsTr("Create admin and sign in")
                enabled: !Desk.busy && username.text.length > 0 && password.text.length > 0
                ToolTip.visible: hovered
                ToolTip.delay: Theme.toolTipDelay
                ToolTip.text: qsTr("Creates the account and signs you in")
                onClicked: Desk.createFirstAdmin(username.text, password.text, confirmation.text)
            }
        }
    }
}
