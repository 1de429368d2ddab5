// The signed-in user's balances: per asset the total, what is available and what open orders reserve,
// exact decimals from BalancesModel, right-aligned in a mono font.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Bourse.Models

Panel {
    id: panel

    readonly property BalancesModel balances: BalancesModel {}

    objectName: "balancesPanel"
    title: qsTr("Balances")

    component Cell: Label {
        property bool number: true

        Layout.preferredWidth: Theme.unit * 5
        Layout.fillWidth: true
        horizontalAlignment: number ? Text.AlignRight : Text.AlignLeft
        font.family: number ? Theme.monoFamily : Qt.application.font.family
        color: Theme.text
        elide: Text.ElideLeft
    }

    ListView {
        id: list

        objectName: "balancesList"
        anchors.fill: parent
        clip: true
        model: panel.balances
        headerPositioning: ListView.OverlayHeader
        ScrollBar.vertical: ScrollBar {}

        header: Rectangle {
            width: list.width
            implicitHeight: Theme.rowHeight
            color: Theme.surfaceRaised
            z: 2

            RowLayout {
                anchors.fill: parent
                anchors.leftMargin: Theme.padding
                anchors.rightMargin: Theme.padding
                spacing: Theme.spacing

                Cell { text: qsTr("Asset"); number: false; color: Theme.textMuted; font.bold: true }
                Cell { text: qsTr("Total"); color: Theme.textMuted; font.bold: true; font.family: Qt.application.font.family }
                Cell { text: qsTr("Available"); color: Theme.textMuted; font.bold: true; font.family: Qt.application.font.family }
                Cell { text: qsTr("Reserved"); color: Theme.textMuted; font.bold: true; font.family: Qt.application.font.family }
            }
        }

        delegate: Rectangle {
            id: row

            required property int index
            required property string asset
            required property string total
            required property string available
            required property string reserved

            width: list.width
            implicitHeight: Theme.rowHeight
            color: index % 2 ? Theme.surface : Theme.surfaceRaised

            ToolTip.visible: hover.hovered
            ToolTip.delay: Theme.toolTipDelay
            ToolTip.text: qsTr("%1: %2 in all, %3 free to use, %4 held by open orders")
                              .arg(row.asset).arg(row.total).arg(row.available).arg(row.reserved)

            HoverHandler { id: hover }

            RowLayout {
                anchors.fill: parent
                anchors.leftMargin: Theme.padding
                anchors.rightMargin: Theme.padding
                spacing: Theme.spacing

                Cell { text: row.asset; number: false; font.bold: true }
                Cell { text: row.total }
                Cell { text: row.available }
                Cell { text: row.reserved; color: row.reserved === "0" ? Theme.textMuted : Theme.warning }
            }
        }

        Label {
            anchors.centerIn: parent
            visible: list.count === 0
            text: Desk.signedIn ? qsTr("No balances yet") : qsTr("Sign in to see your balances")
            color: Theme.textMuted
        }
    }
}
