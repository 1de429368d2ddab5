// Kill switch: halt every instrument (or one) and cancel its resting orders, after a confirmation that says
// exactly that; then the result.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Bourse.Models

ColumnLayout {
    id: killPage

    readonly property string _target: scope.currentIndex <= 0 ? "" : scope.currentText

    spacing: Theme.spacing

    AdminInstrumentsModel { id: instruments }

    Label {
        text: qsTr("Halts trading and cancels every resting order. Instruments stay halted until resumed on the Instruments page.")
        color: Theme.textMuted
        wrapMode: Text.Wrap
        Layout.fillWidth: true
    }
    RowLayout {
        spacing: Theme.spacing

        ComboBox {
            id: scope

            objectName: "killScope"
            model: [qsTr("Every instrument")].concat(Desk.symbols)
            Layout.preferredWidth: Theme.formWidth * 0.6
            KeyNavigation.tab: killButton
            ToolTip.visible: hovered
            ToolTip.delay: Theme.toolTipDelay
            ToolTip.text: qsTr("What the kill switch halts")
        }
        Button {
            id: killButton

            objectName: "killButton"
            text: qsTr("Kill switch…")
            enabled: !instruments.busy
            palette.button: Theme.danger
            palette.buttonText: Theme.textOnAccent
            onClicked: confirm.open()
            ToolTip.visible: hovered
            ToolTip.delay: Theme.toolTipDelay
            ToolTip.text: qsTr("Asks for confirmation first")
        }
    }
    AdminError { objectName: "killError"; message: instruments.error; Layout.fillWidth: true }
    Label {
        objectName: "killResult"
        visible: instruments.error.length === 0 && instruments.message.length > 0
        text: instruments.message
        color: Theme.warning
        wrapMode: Text.Wrap
        Layout.fillWidth: true
    }
    Item { Layout.fillHeight: true }

    Dialog {
        id: confirm

        objectName: "killConfirm"
        title: qsTr("Kill switch")
        modal: true
        anchors.centerIn: parent
        width: Theme.formWidth
        standardButtons: Dialog.Cancel | Dialog.Ok
        onAccepted: instruments.killSwitch(killPage._target)

        Label {
            objectName: "killDescription"
            width: parent.width
            text: instruments.killSwitchDescription(killPage._target)
            wrapMode: Text.Wrap
            color: Theme.text
        }
    }
}
