// Time & sales of the selected instrument, newest on top: the time, the price coloured by the taker's side
// (green: a buyer lifted an offer, red: a seller hit a bid) and the size.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Bourse.Models

Panel {
    id: root

    readonly property int _timeWidth: Theme.unit * 6.5
    readonly property int _sizeWidth: Theme.unit * 5

    title: qsTr("Trades")

    TradeTapeModel {
        id: tape
    }

    ColumnLayout {
        anchors.fill: parent
        spacing: 0

        RowLayout {
            Layout.fillWidth: true
            Layout.leftMargin: Theme.padding
            Layout.rightMargin: Theme.padding
            Layout.preferredHeight: Theme.rowHeight
            spacing: Theme.spacing

            Label {
                Layout.preferredWidth: root._timeWidth
                text: qsTr("Time")
                color: Theme.textMuted
                font.pointSize: Theme.smallFontSize
            }
            Label {
                Layout.fillWidth: true
                horizontalAlignment: Text.AlignRight
                text: qsTr("Price")
                color: Theme.textMuted
                font.pointSize: Theme.smallFontSize
            }
            Label {
                Layout.preferredWidth: root._sizeWidth
                horizontalAlignment: Text.AlignRight
                text: qsTr("Size")
                color: Theme.textMuted
                font.pointSize: Theme.smallFontSize
            }
        }

        Rectangle {
            Layout.fillWidth: true
            Layout.preferredHeight: Theme.borderWidth
            color: Theme.border
        }

        ListView {
            id: trades

            objectName: "tapeList"
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            model: tape
            activeFocusOnTab: true
            boundsBehavior: Flickable.StopAtBounds
            ScrollBar.vertical: ScrollBar { policy: ScrollBar.AsNeeded }

            delegate: Item {
                id: trade

                required property string time
                required property string price
                required property string size
                required property string side

                width: ListView.view.width
                height: Theme.rowHeight

                HoverHandler {
                    id: hover
                }
                ToolTip.visible: hover.hovered
                ToolTip.delay: Theme.toolTipDelay
                ToolTip.text: (trade.side === "buy" ? qsTr("A buyer took %1 at %2") : qsTr("A seller gave %1 at %2"))
                              .arg(trade.size).arg(trade.price)

                Rectangle {
                    anchors.fill: parent
                    color: Theme.surfaceHover
                    visible: hover.hovered
                }

                RowLayout {
                    anchors.fill: parent
                    anchors.leftMargin: Theme.padding
                    anchors.rightMargin: Theme.padding
                    spacing: Theme.spacing

                    Label {
                        Layout.preferredWidth: root._timeWidth
                        text: trade.time
                        color: Theme.textMuted
                        font.family: Theme.monoFamily
                        font.pointSize: Theme.smallFontSize
                        elide: Text.ElideRight
                    }
                    Label {
                        Layout.fillWidth: true
                        horizontalAlignment: Text.AlignRight
                        text: trade.price
                        color: trade.side === "buy" ? Theme.buy : Theme.sell
                        font.family: Theme.monoFamily
                        elide: Text.ElideLeft
                    }
                    Label {
                        Layout.preferredWidth: root._sizeWidth
                        horizontalAlignment: Text.AlignRight
                        text: trade.size
                        color: Theme.text
                        font.family: Theme.monoFamily
                        elide: Text.ElideLeft
                    }
                }
            }

            Label {
                anchors.centerIn: parent
                visible: trades.count === 0
                text: tape.loading ? qsTr("Loading…") : Desk.selectedSymbol.length > 0 ? qsTr("No trades yet") : qsTr("Select an instrument")
                color: Theme.textMuted
            }
        }
    }
}
