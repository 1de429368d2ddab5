// The watchlist: every instrument with its last price, 24 h change and volume; the search field narrows it,
// a click or Up/Down selects (Desk.selectedSymbol), which the ladder, tape, chart and ticket follow.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Bourse.Models

Panel {
    id: root

    readonly property bool _showVolume: width > Theme.unit * 19
    readonly property int _lastWidth: Theme.unit * 5.5
    readonly property int _changeWidth: Theme.unit * 4.2
    readonly property int _volumeWidth: Theme.unit * 4.8

    title: qsTr("Watchlist")

    WatchlistModel {
        id: watchlist

        filter: search.text
    }

    ColumnLayout {
        anchors.fill: parent
        spacing: 0

        TextField {
            id: search

            objectName: "watchlistSearch"
            Layout.fillWidth: true
            Layout.margins: Theme.smallSpacing
            implicitHeight: Theme.controlHeight
            placeholderText: qsTr("Search symbol or asset")
            selectByMouse: true
            ToolTip.visible: hovered
            ToolTip.delay: Theme.toolTipDelay
            ToolTip.text: qsTr("Type to filter the instruments by symbol, base or quote asset; Down moves to the list")
            KeyNavigation.down: list
            KeyNavigation.tab: list
            Keys.onReturnPressed: {
                if (list.count > 0)
                    watchlist.select(0)
                list.forceActiveFocus()
            }
        }

        // The column headings, aligned with the rows below.
        RowLayout {
            Layout.fillWidth: true
            Layout.leftMargin: Theme.padding
            Layout.rightMargin: Theme.padding
            Layout.preferredHeight: Theme.rowHeight
            spacing: Theme.spacing

            Label {
                Layout.fillWidth: true
                text: qsTr("Symbol")
                color: Theme.textMuted
                font.pointSize: Theme.smallFontSize
            }
            Label {
                Layout.preferredWidth: root._lastWidth
                horizontalAlignment: Text.AlignRight
                text: qsTr("Last")
                color: Theme.textMuted
                font.pointSize: Theme.smallFontSize
            }
            Label {
                Layout.preferredWidth: root._changeWidth
                horizontalAlignment: Text.AlignRight
                text: qsTr("24h")
                color: Theme.textMuted
                font.pointSize: Theme.smallFontSize
            }
            Label {
                Layout.preferredWidth: root._volumeWidth
                visible: root._showVolume
                horizontalAlignment: Text.AlignRight
                text: qsTr("Volume")
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
            id: list

            objectName: "watchlistList"
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            model: watchlist
            currentIndex: watchlist.selectedRow
            activeFocusOnTab: true
            boundsBehavior: Flickable.StopAtBounds
            highlightMoveDuration: Theme.animationDuration
            ScrollBar.vertical: ScrollBar { policy: ScrollBar.AsNeeded }
            Keys.onUpPressed: event => {
                if (currentIndex > 0)
                    watchlist.select(currentIndex - 1)
                else
                    search.forceActiveFocus()
            }
            Keys.onDownPressed: watchlist.select(Math.min(count - 1, currentIndex + 1))

            delegate: ItemDelegate {
                id: row

                required property int index
                required property string symbol
                required property string base
                required property string quote
                required property string status
                required property string lastPrice
                required property string change24h
                required property int changeDirection
                required property string volume24h

                readonly property bool _selected: ListView.isCurrentItem
                readonly property bool _halted: status === "halted"

                width: ListView.view.width
                height: Theme.rowHeight
                topPadding: 0
                bottomPadding: 0
                leftPadding: Theme.padding
                rightPadding: Theme.padding
                focusPolicy: Qt.NoFocus
                onClicked: {
                    watchlist.select(index)
                    list.forceActiveFocus()
                }
                ToolTip.visible: hovered
                ToolTip.delay: Theme.toolTipDelay
                ToolTip.text: _halted ? qsTr("%1 (%2/%3) is halted: no orders are matched").arg(symbol).arg(base).arg(quote)
                                      : qsTr("%1: %2 priced in %3. Click to trade it").arg(symbol).arg(base).arg(quote)

                background: Rectangle {
                    color: row._selected ? Theme.selection : Theme.surfaceHover
                    visible: row._selected || row.hovered

                    Rectangle {
                        width: Theme.focusWidth
                        height: parent.height
                        color: Theme.accent
                        visible: row._selected && list.activeFocus
                    }
                }

                contentItem: RowLayout {
                    spacing: Theme.spacing

                    Label {
                        Layout.fillWidth: true
                        text: row.symbol
                        color: row._halted ? Theme.textMuted : Theme.text
                        font.bold: row._selected
                        elide: Text.ElideRight
                    }
                    Label {
                        Layout.preferredWidth: root._lastWidth
                        horizontalAlignment: Text.AlignRight
                        text: row.lastPrice.length > 0 ? row.lastPrice : "—"
                        color: row.lastPrice.length > 0 ? Theme.text : Theme.textMuted
                        font.family: Theme.monoFamily
                        elide: Text.ElideLeft
                    }
                    Label {
                        Layout.preferredWidth: root._changeWidth
                        horizontalAlignment: Text.AlignRight
                        // A halted instrument says so where its change would be.
                        text: row._halted ? qsTr("halted") : row.change24h.length > 0 ? row.change24h : "—"
                        color: row._halted ? Theme.warning
                               : row.changeDirection > 0 ? Theme.buy : row.changeDirection < 0 ? Theme.sell : Theme.textMuted
                        font.family: row._halted ? Qt.application.font.family : Theme.monoFamily
                        font.bold: row._halted
                        elide: Text.ElideLeft
                    }
                    Label {
                        Layout.preferredWidth: root._volumeWidth
                        visible: root._showVolume
                        horizontalAlignment: Text.AlignRight
                        text: row.volume24h
                        color: Theme.textMuted
                        font.family: Theme.monoFamily
                        elide: Text.ElideLeft
                    }
                }
            }

            Label {
                anchors.centerIn: parent
                visible: list.count === 0
                text: search.text.length > 0 ? qsTr("No instrument matches “%1”").arg(search.text) : qsTr("No instruments")
                color: Theme.textMuted
            }
        }
    }
}
