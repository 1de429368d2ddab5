// Sign-in, with the API's rules: the role, a disabled account and the login throttle apply. The username
// of the last sign-in is remembered.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Bourse.Models

Rectangle {
    id: root

    property string error: ""

    color: Theme.window

    Connections {
        target: Desk
        function onSignInFailed(message, field) { root.error = message }
    }

    // Once, not as a binding: the password field when the username is remembered, else the username.
    Component.onCompleted: (username.text.length > 0 ? password : username).forceActiveFocus()

    Pane {
        anchors.centerIn: parent
        width: Theme.formWidth
        padding: Theme.padding * 2
        background: Rectangle { color: Theme.surface; radius: Theme.radius; border.color: Theme.border }

        ColumnLayout {
            anchors.fill: parent
            spacing: Theme.spacing

            Label {
                text: qsTr("Sign in to Bourse")
                font.pointSize: Theme.titleFontSize
                color: Theme.text
            }
            Label { text: qsTr("Username"); color: Theme.text }
            TextField {
                id: username

                objectName: "loginUsername"
                Layout.fillWidth: true
                text: Desk.rememberedUsername
                ToolTip.visible: hovered
                ToolTip.delay: Theme.toolTipDelay
                ToolTip.text: qsTr("Your Bourse username")
                KeyNavigation.tab: password
                onTextEdited: root.error = ""
                onAccepted: password.forceActiveFocus()
            }
            Label { text: qsTr("Password"); color: Theme.text }
            TextField {
                id: password

                objectName: "loginPassword"
                Layout.fillWidth: true
                echoMode: TextInput.Password
                ToolTip.visible: hovered
                ToolTip.delay: Theme.toolTipDelay
                ToolTip.text: qsTr("Your password")
                KeyNavigation.tab: signIn
                onTextEdited: root.error = ""
                onAccepted: signIn.clicked()
            }
            Label {
                objectName: "loginError"
                Layout.fillWidth: true
                visible: root.error !== ""
                text: root.error
                color: Theme.danger
                wrapMode: Text.WordWrap
            }
            Button {
                id: signIn

                objectName: "loginSubmit"
                Layout.fillWidth: true
                text: Desk.busy ? qsTr("Signing in…") : qsTr("Sign in")
                enabled: !Desk.busy
                ToolTip.visible: hovered
                ToolTip.delay: Theme.toolTipDelay
                ToolTip.text: qsTr("Sign in (Enter)")
                onClicked: Desk.signIn(username.text, password.text)
            }
            Label {
                Layout.fillWidth: true
                wrapMode: Text.WordWrap
                color: Theme.textMuted
                font.pointSize: Theme.smallFontSize
                text: qsTr("The API for bots and scripts: %1").arg(Desk.listenAddress)
            }
        }
    }
}
