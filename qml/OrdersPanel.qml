// The user's orders: open ones (cancel, amend in place: double-click a price or a quantity, Enter applies,
// Escape leaves it), the history and the fills, each as a table with a header; cancel all (after a
// confirmation, on every instrument or the selected one) and the CSV export to a path the trader can edit
// (by default ~/Documents/bourse-<orders|fills>-<time>.csv; the status line says where it went).
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Bourse.Models

Panel {
    id: panel

    readonly property OrdersModel openOrders: OrdersModel { view: "open" }
    readonly property OrdersModel history: OrdersModel { view: "history" }
    readonly property FillsModel fills: FillsModel {}
    readonly property int currentTab: tabs.currentIndex
    property string _message: ""
    property bool _failed: false

    function _say(message, failed) {
        panel._message = message
        panel._failed = failed
    }

    objectName: "ordersPanel"
    title: qsTr("Orders")

    tools: [
        Button {
            objectName: "ordersCancelAll"
            text: qsTr("Cancel all")
            flat: true
            enabled: Desk.canTrade && panel.openOrders.count > 0
            onClicked: cancelAllDialog.open()
            ToolTip.visible: hovered
            ToolTip.delay: Theme.toolTipDelay
            ToolTip.text: qsTr("Cancel your open orders, after a confirmation")
        },
        Button {
            objectName: "ordersExport"
            text: qsTr("Export CSV")
            flat: true
            onClicked: {
                exportPath.text = panel.currentTab === 2 ? panel.fills.defaultExportPath()
                                                         : panel.openOrders.defaultExportPath()
                exportDialog.open()
            }
            ToolTip.visible: hovered
            ToolTip.delay: Theme.toolTipDelay
            ToolTip.text: qsTr("Write this tab's rows to a CSV file (the API export's columns)")
        }
    ]

    Connections {
        target: panel.openOrders
        function onActionFailed(message) { panel._say(message, true) }
        function onDone(message) { panel._say(message, false) }
    }
    Connections {
        target: panel.history
        function onActionFailed(message) { panel._say(message, true) }
        function onDone(message) { panel._say(message, false) }
    }
    Connections {
        target: panel.fills
        function onActionFailed(message) { panel._say(message, true) }
        function onDone(message) { panel._say(message, false) }
    }

    // One cell of a table row: right-aligned mono for numbers.
    component Cell: Label {
        property bool number: false

        Layout.preferredWidth: Theme.unit * 5
        Layout.fillWidth: true
        horizontalAlignment: number ? Text.AlignRight : Text.AlignLeft
        font.family: number ? Theme.monoFamily : Qt.application.font.family
        color: Theme.text
        elide: Text.ElideRight
    }

    component HeaderCell: Cell {
        color: Theme.textMuted
        font.bold: true
    }

    // A price or quantity of an open order that a double-click turns into an editor.
    component AmendableCell: Item {
        id: amendable

        required property string value
        required property string orderId
        required property string part // "price" | "quantity"
        property bool editable: true

        Layout.preferredWidth: Theme.unit * 5
        Layout.fillWidth: true
        implicitHeight: Theme.rowHeight

        Cell {
            anchors.fill: parent
            visible: !editor.visible
            number: true
            text: amendable.value
            verticalAlignment: Text.AlignVCenter
            ToolTip.visible: tapArea.containsMouse && amendable.editable
            ToolTip.delay: Theme.toolTipDelay
            ToolTip.text: qsTr("Double-click to amend the %1").arg(amendable.part)

            MouseArea {
                id: tapArea

                anchors.fill: parent
                enabled: amendable.editable
                hoverEnabled: true
                onDoubleClicked: {
                    editor.text = amendable.value
                    editor.visible = true
                    editor.forceActiveFocus()
                    editor.selectAll()
                }
            }
        }
        TextField {
            id: editor

            objectName: amendable.part === "price" ? "amendPrice" : "amendQuantity"
            anchors.fill: parent
            visible: false
            font.family: Theme.monoFamily
            horizontalAlignment: TextInput.AlignRight
            ToolTip.visible: visible
            ToolTip.delay: Theme.toolTipDelay
            ToolTip.text: qsTr("New %1: Enter applies, Escape leaves it").arg(amendable.part)
            Keys.onReturnPressed: apply()
            Keys.onEnterPressed: apply()
            Keys.onEscapePressed: visible = false
            onActiveFocusChanged: if (!activeFocus) visible = false

            function apply() {
                if (amendable.part === "price")
                    panel.openOrders.amend(amendable.orderId, text, "")
                else
                    panel.openOrders.amend(amendable.orderId, "", text)
                visible = false
            }
        }
    }

    component OrderRow: Rectangle {
        id: row

        required property int index
        required property var model // for the "id" role: a QML property cannot be named id
        required property string symbol
        required property string side
        required property string type
        required property string price
        required property string quantity
        required property string filled
        required property string averagePrice
        required property string status
        required property string timeInForce
        required property string createdAt
        required property bool open

        width: ListView.view ? ListView.view.width : 0
        implicitHeight: Theme.rowHeight
        color: index % 2 ? Theme.surface : Theme.surfaceRaised

        RowLayout {
            anchors.fill: parent
            anchors.leftMargin: Theme.spacing
            anchors.rightMargin: Theme.spacing
            spacing: Theme.spacing

            Cell { text: row.createdAt; Layout.preferredWidth: Theme.unit * 9 }
            Cell { text: row.symbol }
            Cell {
                text: row.side
                color: row.side === "buy" ? Theme.buy : Theme.sell
            }
            Cell { text: row.type + " " + row.timeInForce }
            AmendableCell {
                value: row.price === "" ? qsTr("market") : row.price
                orderId: row.model.id
                part: "price"
                editable: row.open && row.type === "limit" && Desk.canTrade
            }
            AmendableCell {
                value: row.quantity
                orderId: row.model.id
                part: "quantity"
                editable: row.open && Desk.canTrade
            }
            Cell { text: row.filled; number: true }
            Cell { text: row.averagePrice; number: true }
            Cell { text: row.status.replace("_", " ") }
            Button {
                objectName: "orderCancel"
                Layout.preferredWidth: Theme.unit * 4
                visible: row.open
                enabled: Desk.canTrade
                flat: true
                text: qsTr("Cancel")
                onClicked: panel.openOrders.cancel(row.model.id)
                ToolTip.visible: hovered
                ToolTip.delay: Theme.toolTipDelay
                ToolTip.text: qsTr("Cancel order %1").arg(row.model.id)
            }
        }
    }

    component OrdersHeader: Rectangle {
        id: ordersHeader

        property bool withCancel: true

        implicitHeight: Theme.rowHeight
        color: Theme.surfaceRaised
        z: 2

        RowLayout {
            anchors.fill: parent
            anchors.leftMargin: Theme.spacing
            anchors.rightMargin: Theme.spacing
            spacing: Theme.spacing

            HeaderCell { text: qsTr("Time"); Layout.preferredWidth: Theme.unit * 9 }
            HeaderCell { text: qsTr("Symbol") }
            HeaderCell { text: qsTr("Side") }
            HeaderCell { text: qsTr("Type") }
            HeaderCell { text: qsTr("Price"); number: true }
            HeaderCell { text: qsTr("Quantity"); number: true }
            HeaderCell { text: qsTr("Filled"); number: true }
            HeaderCell { text: qsTr("Avg price"); number: true }
            HeaderCell { text: qsTr("Status") }
            Item { Layout.preferredWidth: Theme.unit * 4; visible: ordersHeader.withCancel }
        }
    }

    ColumnLayout {
        anchors.fill: parent
        spacing: 0

        TabBar {
            id: tabs

            objectName: "ordersTabs"
            Layout.fillWidth: true
            TabButton {
                objectName: "ordersOpenTab"
                text: qsTr("Open (%1)").arg(panel.openOrders.count)
                ToolTip.visible: hovered
                ToolTip.delay: Theme.toolTipDelay
                ToolTip.text: qsTr("Your orders that can still trade")
            }
            TabButton {
                objectName: "ordersHistoryTab"
                text: qsTr("History")
                ToolTip.visible: hovered
                ToolTip.delay: Theme.toolTipDelay
                ToolTip.text: qsTr("Your filled, cancelled and expired orders, newest first")
            }
            TabButton {
                objectName: "ordersFillsTab"
                text: qsTr("Fills")
                ToolTip.visible: hovered
                ToolTip.delay: Theme.toolTipDelay
                ToolTip.text: qsTr("Your trades, newest first")
            }
        }

        StackLayout {
            Layout.fillWidth: true
            Layout.fillHeight: true
            currentIndex: tabs.currentIndex

            ListView {
                id: openList

                objectName: "openOrdersList"
                clip: true
                model: panel.openOrders
                headerPositioning: ListView.OverlayHeader
                header: OrdersHeader { width: openList.width }
                delegate: OrderRow {}
                ScrollBar.vertical: ScrollBar {}

                Label {
                    anchors.centerIn: parent
                    visible: openList.count === 0
                    text: qsTr("No open orders")
                    color: Theme.textMuted
                }
            }
            ListView {
                id: historyList

                objectName: "historyList"
                clip: true
                model: panel.history
                headerPositioning: ListView.OverlayHeader
                header: OrdersHeader { width: historyList.width; withCancel: false }
                delegate: OrderRow {}
                ScrollBar.vertical: ScrollBar {}
                onAtYEndChanged: if (atYEnd && panel.history.canLoadMore) panel.history.loadMore()
            }
            ListView {
                id: fillsList

                objectName: "fillsList"
                clip: true
                model: panel.fills
                headerPositioning: ListView.OverlayHeader
                onAtYEndChanged: if (atYEnd && panel.fills.canLoadMore) panel.fills.loadMore()
                ScrollBar.vertical: ScrollBar {}
                header: Rectangle {
                    width: fillsList.width
                    implicitHeight: Theme.rowHeight
                    color: Theme.surfaceRaised
                    z: 2

                    RowLayout {
                        anchors.fill: parent
                        anchors.leftMargin: Theme.spacing
                        anchors.rightMargin: Theme.spacing
                        spacing: Theme.spacing

                        HeaderCell { text: qsTr("Time"); Layout.preferredWidth: Theme.unit * 9 }
                        HeaderCell { text: qsTr("Symbol") }
                        HeaderCell { text: qsTr("Side") }
                        HeaderCell { text: qsTr("Price"); number: true }
                        HeaderCell { text: qsTr("Quantity"); number: true }
                        HeaderCell { text: qsTr("Liquidity") }
                        HeaderCell { text: qsTr("Order"); number: true }
                        HeaderCell { text: qsTr("Trade"); number: true }
                    }
                }
                delegate: Rectangle {
                    id: fillRow

                    required property int index
                    required property string time
                    required property string symbol
                    required property string side
                    required property string price
                    required property string quantity
                    required property string liquidity
                    required property string orderId
                    required property string tradeId

                    width: fillsList.width
                    implicitHeight: Theme.rowHeight
                    color: index % 2 ? Theme.surface : Theme.surfaceRaised

                    RowLayout {
                        anchors.fill: parent
                        anchors.leftMargin: Theme.spacing
                        anchors.rightMargin: Theme.spacing
                        spacing: Theme.spacing

                        Cell { text: fillRow.time; Layout.preferredWidth: Theme.unit * 9 }
                        Cell { text: fillRow.symbol }
                        Cell { text: fillRow.side; color: fillRow.side === "buy" ? Theme.buy : Theme.sell }
                        Cell { text: fillRow.price; number: true }
                        Cell { text: fillRow.quantity; number: true }
                        Cell { text: fillRow.liquidity }
                        Cell { text: fillRow.orderId; number: true }
                        Cell { text: fillRow.tradeId; number: true }
                    }
                }
            }
        }

        Label {
            objectName: "ordersMessage"
            Layout.fillWidth: true
            Layout.margins: Theme.smallSpacing
            visible: panel._message !== ""
            text: panel._message
            color: panel._failed ? Theme.danger : Theme.ok
            elide: Text.ElideMiddle
        }
    }

    Dialog {
        id: cancelAllDialog

        objectName: "cancelAllDialog"
        anchors.centerIn: Overlay.overlay
        modal: true
        title: qsTr("Cancel open orders?")
        standardButtons: Dialog.Yes | Dialog.No
        onAccepted: panel.openOrders.cancelAll(onlySelected.checked ? Desk.selectedSymbol : "")

        ColumnLayout {
            spacing: Theme.spacing

            Label {
                text: onlySelected.checked ? qsTr("Every open order of yours on %1 will be cancelled.").arg(Desk.selectedSymbol)
                                           : qsTr("Every open order of yours, on every instrument, will be cancelled.")
                color: Theme.text
            }
            CheckBox {
                id: onlySelected

                objectName: "cancelAllSelectedOnly"
                text: qsTr("Only %1").arg(Desk.selectedSymbol)
                enabled: Desk.selectedSymbol !== ""
                ToolTip.visible: hovered
                ToolTip.delay: Theme.toolTipDelay
                ToolTip.text: qsTr("Leave the orders on other instruments alone")
            }
        }
    }

    Dialog {
        id: exportDialog

        objectName: "exportDialog"
        anchors.centerIn: Overlay.overlay
        width: Theme.formWidth * 1.5
        modal: true
        title: panel.currentTab === 2 ? qsTr("Export fills") : qsTr("Export orders")
        standardButtons: Dialog.Save | Dialog.Cancel
        onAccepted: {
            if (panel.currentTab === 0)
                panel.openOrders.exportCsv(exportPath.text)
            else if (panel.currentTab === 1)
                panel.history.exportCsv(exportPath.text)
            else
                panel.fills.exportCsv(exportPath.text)
        }

        ColumnLayout {
            anchors.fill: parent
            spacing: Theme.spacing

            Label {
                text: qsTr("Write to this file (every row of the tab, not only those loaded):")
                color: Theme.text
            }
            TextField {
                id: exportPath

                objectName: "exportPath"
                Layout.fillWidth: true
                selectByMouse: true
                onAccepted: exportDialog.accept()
                ToolTip.visible: hovered
                ToolTip.delay: Theme.toolTipDelay
                ToolTip.text: qsTr("A path; ~ is your home folder")
            }
        }
    }
}
