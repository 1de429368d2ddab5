// The status bar: where the API listens (click copies it; a link opens /docs), its connected clients, and
// whether the journal can write.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Bourse.Models

Rectangle {
    implicitHeight: Theme.headerHeight
    color: Theme.surface
    border.color: Theme.border

    RowLayout {
        anchors.fill: parent
        anchors.leftMargin: Theme.padding
        anchors.rightMargin: Theme.padding
        spacing: Theme.padding * 2

        Label {
            id: address

            objectName: "statusAddress"
            text: qsTr("API %1").arg(Desk.listenAddress)
            color: copied.running ? Theme.ok : Theme.text
            ToolTip.visible: addressArea.containsMouse
            ToolTip.delay: Theme.toolTipDelay
            ToolTip.text: copied.running ? qsTr("Copied") : qsTr("Click to copy the API's address")

            MouseArea {
                id: addressArea

                anchors.fill: parent
                hoverEnabled: true
                cursorShape: Qt.PointingHandCursor
                onClicked: {
                    Desk.copyText(Desk.listenAddress)
                    copied.restart()
                }
            }
            Timer { id: copied; interval: 1500 }
        }
        Label {
            objectName: "statusDocs"
            text: "<a href=\"%1\">%2</a>".arg(Desk.docsUrl).arg(qsTr("API docs"))
            textFormat: Text.StyledText
            linkColor: Theme.accent
            onLinkActivated: link => Desk.openUrl(link)
            ToolTip.visible: docsArea.containsMouse
            ToolTip.delay: Theme.toolTipDelay
            ToolTip.text: Desk.docsUrl

            HoverHandler { id: docsArea; property bool containsMouse: hovered }
        }
        Label {
            objectName: "statusClients"
            text: qsTr("%1 HTTP · %2 WebSocket").arg(Desk.httpConnections).arg(Desk.webSockets)
            color: Theme.textMuted
            ToolTip.visible: clientsArea.hovered
            ToolTip.delay: Theme.toolTipDelay
            ToolTip.text: qsTr("Open API connections: all HTTP (streams included), and WebSockets")

            HoverHandler { id: clientsArea }
        }
        Item { Layout.fillWidth: true }
        Label {
            objectName: "statusJournal"
            text: Desk.tradingAvailable ? qsTr("Journal: writing") : qsTr("Journal: cannot write — trading disabled")
            color: Desk.tradingAvailable ? Theme.ok : Theme.danger
            ToolTip.visible: journalArea.hovered
            ToolTip.delay: Theme.toolTipDelay
            ToolTip.text: Desk.tradingAvailable ? qsTr("Every accepted order is durable before it is confirmed")
                                                : Desk.journalState

            HoverHandler { id: journalArea }
        }
    }
}
