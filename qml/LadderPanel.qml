// The depth ladder of the selected instrument: asks above (best ask nearest the middle), the spread and mid,
// bids below, each level with its size, running total and a depth bar; the user's own resting quantity in
// the Mine column. As many levels a side as fit the panel. A click fills the ticket with the side that
// takes the level: an ask → buy at its price, a bid → sell.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Bourse.Models

Panel {
    id: root

    readonly property int _mineWidth: Theme.unit * 4
    readonly property int _sizeWidth: Theme.unit * 4.8
    readonly property int _totalWidth: Theme.unit * 4.8
    // Levels per side that fit below the heading, with one row for the spread.
    readonly property int _fittingDepth: Math.max(1, Math.floor((ladder.height - Theme.rowHeight) / (2 * Theme.rowHeight)))

    objectName: "ladder"
    title: book.symbol.length > 0 ? qsTr("Order book · %1").arg(book.symbol) : qsTr("Order book")

    OrderBookModel {
        id: book

        depth: root._fittingDepth
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
                Layout.preferredWidth: root._mineWidth
                text: qsTr("Mine")
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
            Label {
                Layout.preferredWidth: root._totalWidth
                horizontalAlignment: Text.AlignRight
                text: qsTr("Total")
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
            id: ladder

            objectName: "ladderLevels"
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            interactive: false
            model: book

            delegate: Column {
                id: level

                required property int index
                required property string price
                required property string size
                required property string cumulative
                required property real depthRatio
                required property string side
                required property string ownSize
                required property bool isOwn
                required property bool blank
                required property string ticketSide

                readonly property bool _ask: side === "sell"

                width: ListView.view.width

                // Between the asks and the bids: the spread and the mid.
                Rectangle {
                    width: parent.width
                    height: Theme.rowHeight
                    visible: level.index === book.depth
                    color: Theme.surfaceRaised

                    RowLayout {
                        anchors.fill: parent
                        anchors.leftMargin: Theme.padding
                        anchors.rightMargin: Theme.padding
                        spacing: Theme.spacing

                        Label {
                            text: qsTr("Mid")
                            color: Theme.textMuted
                            font.pointSize: Theme.smallFontSize
                        }
                        Label {
                            objectName: "ladderMid"
                            Layout.fillWidth: true
                            text: book.mid.length > 0 ? book.mid : "—"
                            color: Theme.text
                            font.family: Theme.monoFamily
                            font.bold: true
                            elide: Text.ElideRight
                        }
                        Label {
                            objectName: "ladderSpread"
                            horizontalAlignment: Text.AlignRight
                            text: book.spread.length > 0 ? qsTr("Spread %1").arg(book.spread) : qsTr("No spread")
                            color: Theme.textMuted
                            font.family: Theme.monoFamily
                            font.pointSize: Theme.smallFontSize
                        }
                    }
                }

                ItemDelegate {
                    id: row

                    objectName: level.blank ? "" : "ladderRow-" + level.side + "-" + level.price
                    width: parent.width
                    height: Theme.rowHeight
                    topPadding: 0
                    bottomPadding: 0
                    leftPadding: Theme.padding
                    rightPadding: Theme.padding
                    enabled: !level.blank
                    focusPolicy: Qt.NoFocus
                    onClicked: Desk.fillTicket(level.ticketSide, level.price)
                    ToolTip.visible: hovered && !level.blank
                    ToolTip.delay: Theme.toolTipDelay
                    ToolTip.text: (level._ask ? qsTr("Buy at %1: fills the order ticket") : qsTr("Sell at %1: fills the order ticket")).arg(level.price)
                                  + (level.isOwn ? qsTr(" (%1 of it is yours)").arg(level.ownSize) : "")

                    background: Item {
                        Rectangle {
                            anchors.fill: parent
                            color: Theme.surfaceHover
                            visible: row.hovered
                        }
                        // The depth bar: the running total against the deepest shown total.
                        Rectangle {
                            anchors.right: parent.right
                            anchors.top: parent.top
                            anchors.bottom: parent.bottom
                            anchors.topMargin: Theme.borderWidth
                            width: level.depthRatio * parent.width
                            color: level._ask ? Theme.sellBackground : Theme.buyBackground
                            opacity: row.hovered ? 0.8 : 1
                        }
                        Rectangle {
                            width: Theme.focusWidth
                            height: parent.height
                            color: Theme.own
                            visible: level.isOwn
                        }
                    }

                    contentItem: RowLayout {
                        spacing: Theme.spacing

                        Label {
                            Layout.preferredWidth: root._mineWidth
                            text: level.ownSize
                            color: Theme.own
                            font.family: Theme.monoFamily
                            font.pointSize: Theme.smallFontSize
                            elide: Text.ElideRight
                        }
                        Label {
                            Layout.fillWidth: true
                            horizontalAlignment: Text.AlignRight
                            text: level.price
                            color: level._ask ? Theme.sell : Theme.buy
                            font.family: Theme.monoFamily
                            font.bold: level.isOwn
                            elide: Text.ElideLeft
                        }
                        Label {
                            Layout.preferredWidth: root._sizeWidth
                            horizontalAlignment: Text.AlignRight
                            text: level.size
                            color: Theme.text
                            font.family: Theme.monoFamily
                            elide: Text.ElideLeft
                        }
                        Label {
                            Layout.preferredWidth: root._totalWidth
                            horizontalAlignment: Text.AlignRight
                            text: level.cumulative
                            color: Theme.textMuted
                            font.family: Theme.monoFamily
                            elide: Text.ElideLeft
                        }
                    }
                }
            }

            Label {
                // Below the middle, where the spread row of an empty book is not.
                anchors.horizontalCenter: parent.horizontalCenter
                anchors.verticalCenter: parent.verticalCenter
                anchors.verticalCenterOffset: Theme.rowHeight * 2
                visible: ladder.count === 0 || (book.bestBid.length === 0 && book.bestAsk.length === 0)
                text: book.symbol.length === 0 ? qsTr("Select an instrument") : qsTr("No orders in the book")
                color: Theme.textMuted
            }
        }
    }
}
