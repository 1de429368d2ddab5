// Instruments: the list with status, add one, halt or resume one.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Bourse.Models

ColumnLayout {
    id: instrumentsPage

    spacing: Theme.spacing

    AdminInstrumentsModel { id: instruments }

    ListView {
        id: list

        objectName: "instrumentsList"
        Layout.fillWidth: true
        Layout.fillHeight: true
        clip: true
        model: instruments
        ScrollBar.vertical: ScrollBar {}

        delegate: ItemDelegate {
            id: instrumentRow

            required property string symbol
            required property string tickSize
            required property string lotSize
            required property string minQuantity
            required property bool halted

            width: ListView.view.width
            height: Theme.rowHeight * 1.3
            ToolTip.visible: hovered
            ToolTip.delay: Theme.toolTipDelay
            ToolTip.text: qsTr("%1: tick %2, lot %3, minimum %4").arg(symbol).arg(tickSize).arg(lotSize).arg(minQuantity)
            contentItem: RowLayout {
                spacing: Theme.spacing
                Label { text: instrumentRow.symbol; color: Theme.text; font.bold: true; Layout.preferredWidth: Theme.unit * 7 }
                Label { text: qsTr("tick %1").arg(instrumentRow.tickSize); color: Theme.textMuted; font.family: Theme.monoFamily }
                Label { text: qsTr("lot %1").arg(instrumentRow.lotSize); color: Theme.textMuted; font.family: Theme.monoFamily }
                Label { text: qsTr("min %1").arg(instrumentRow.minQuantity); color: Theme.textMuted; font.family: Theme.monoFamily }
                Item { Layout.fillWidth: true }
                Label {
                    text: instrumentRow.halted ? qsTr("halted") : qsTr("trading")
                    color: instrumentRow.halted ? Theme.danger : Theme.ok
                }
                Button {
                    objectName: "haltButton_" + instrumentRow.symbol
                    text: instrumentRow.halted ? qsTr("Resume") : qsTr("Halt")
                    enabled: !instruments.busy
                    onClicked: instruments.setHalted(instrumentRow.symbol, !instrumentRow.halted)
                    ToolTip.visible: hovered
                    ToolTip.delay: Theme.toolTipDelay
                    ToolTip.text: instrumentRow.halted ? qsTr("Let %1 trade again").arg(instrumentRow.symbol)
                                                       : qsTr("Stop trading in %1; resting orders stay").arg(instrumentRow.symbol)
                }
            }
        }
    }

    AdminError { objectName: "instrumentsError"; message: instruments.error; Layout.fillWidth: true }
    Label {
        visible: instruments.error.length === 0 && instruments.message.length > 0
        text: instruments.message
        color: Theme.ok
    }

    GroupBox {
        title: qsTr("New instrument")
        Layout.fillWidth: true

        RowLayout {
            anchors.fill: parent
            spacing: Theme.spacing

            TextField { id: symbol; objectName: "newSymbol"; placeholderText: qsTr("Symbol"); Layout.fillWidth: true; KeyNavigation.tab: base; ToolTip.visible: hovered; ToolTip.delay: Theme.toolTipDelay; ToolTip.text: qsTr("BTC-USD: A-Z, 0-9, '.', '_', '-'") }
            TextField { id: base; objectName: "newBase"; placeholderText: qsTr("Base"); Layout.fillWidth: true; KeyNavigation.tab: quote; ToolTip.visible: hovered; ToolTip.delay: Theme.toolTipDelay; ToolTip.text: qsTr("The asset bought and sold") }
            TextField { id: quote; objectName: "newQuote"; placeholderText: qsTr("Quote"); Layout.fillWidth: true; KeyNavigation.tab: tick; ToolTip.visible: hovered; ToolTip.delay: Theme.toolTipDelay; ToolTip.text: qsTr("The asset prices are in") }
            TextField { id: tick; objectName: "newTick"; placeholderText: qsTr("Tick size"); Layout.fillWidth: true; KeyNavigation.tab: lot; ToolTip.visible: hovered; ToolTip.delay: Theme.toolTipDelay; ToolTip.text: qsTr("Prices are multiples of this") }
            TextField { id: lot; objectName: "newLot"; placeholderText: qsTr("Lot size"); Layout.fillWidth: true; KeyNavigation.tab: minimum; ToolTip.visible: hovered; ToolTip.delay: Theme.toolTipDelay; ToolTip.text: qsTr("Quantities are multiples of this") }
            TextField { id: minimum; objectName: "newMinimum"; placeholderText: qsTr("Min quantity"); Layout.fillWidth: true; KeyNavigation.tab: addButton; ToolTip.visible: hovered; ToolTip.delay: Theme.toolTipDelay; ToolTip.text: qsTr("The smallest order, a multiple of the lot size") }
            Button {
                id: addButton

                objectName: "addInstrument"
                text: qsTr("Add")
                enabled: !instruments.busy
                onClicked: instruments.addInstrument(symbol.text, base.text, quote.text, tick.text, lot.text, minimum.text)
                ToolTip.visible: hovered
                ToolTip.delay: Theme.toolTipDelay
                ToolTip.text: qsTr("Add the instrument; it trades at once")
            }
        }
    }
}
