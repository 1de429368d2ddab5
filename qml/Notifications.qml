// Notifications for fills, rejects and faults, newest at the bottom; each fades after a while, faults stay
// until dismissed.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Bourse.Models

Column {
    id: root

    width: Theme.notificationWidth
    spacing: Theme.spacing

    ListModel { id: items }

    Connections {
        target: Desk
        function onNotice(kind, title, text) {
            items.append({ kind: kind, title: title, body: text })
            if (items.count > 5)
                items.remove(0)
        }
    }

    Repeater {
        model: items

        delegate: Rectangle {
            id: card

            required property int index
            required property string kind
            required property string title
            required property string body

            width: root.width
            height: column.implicitHeight + Theme.padding * 2
            radius: Theme.radius
            color: Theme.surfaceRaised
            border.color: kind === "fault" || kind === "reject" ? Theme.danger
                          : kind === "fill" ? Theme.buy : Theme.border

            ColumnLayout {
                id: column

                anchors.fill: parent
                anchors.margins: Theme.padding
                spacing: Theme.smallSpacing

                Label { text: card.title; font.bold: true; color: Theme.text }
                Label {
                    Layout.fillWidth: true
                    text: card.body
                    color: Theme.textMuted
                    wrapMode: Text.WordWrap
                }
            }
            MouseArea {
                anchors.fill: parent
                onClicked: items.remove(card.index)
                ToolTip.visible: containsMouse
                ToolTip.delay: Theme.toolTipDelay
                ToolTip.text: qsTr("Dismiss")
                hoverEnabled: true
            }
            Timer {
                running: card.kind !== "fault"
                interval: Theme.notificationTimeout
                onTriggered: items.remove(card.index)
            }
        }
    }
}
