// The signed-in window: a tool bar, the trading workspace (panels in split views whose sizes persist) or,
// for admins, the administration panel, and the status bar.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Bourse.Models

Rectangle {
    id: root

    color: Theme.window

    ColumnLayout {
        anchors.fill: parent
        spacing: 0

        ToolBar {
            Layout.fillWidth: true
            background: Rectangle { color: Theme.surface; border.color: Theme.border }

            RowLayout {
                anchors.fill: parent
                anchors.leftMargin: Theme.padding
                anchors.rightMargin: Theme.padding
                spacing: Theme.spacing

                Label {
                    text: "Bourse"
                    font.bold: true
                    font.pointSize: Theme.largeFontSize
                    color: Theme.accent
                }
                TabBar {
                    id: pages

                    objectName: "workspaceTabs"
                    background: null
                    TabButton {
                        objectName: "tradingTab"
                        text: qsTr("Trading")
                        width: implicitWidth
                        ToolTip.visible: hovered
                        ToolTip.delay: Theme.toolTipDelay
                        ToolTip.text: qsTr("The trading workspace (Ctrl+1)")
                    }
                    TabButton {
                        objectName: "adminTab"
                        text: qsTr("Administration")
                        width: implicitWidth
                        visible: Desk.isAdmin
                        enabled: Desk.isAdmin
                        ToolTip.visible: hovered
                        ToolTip.delay: Theme.toolTipDelay
                        ToolTip.text: qsTr("Users, instruments, limits and the venue's settings (Ctrl+2)")
                    }
                }
                Item { Layout.fillWidth: true }
                Label {
                    visible: !Desk.tradingAvailable
                    text: qsTr("Trading disabled: %1").arg(Desk.journalState)
                    color: Theme.danger
                    font.bold: true
                }
                Label {
                    text: qsTr("%1 · %2").arg(Desk.username).arg(Desk.role)
                    color: Theme.textMuted
                }
                ToolButton {
                    objectName: "themeSwitch"
                    text: Theme.dark ? qsTr("Light") : qsTr("Dark")
                    ToolTip.visible: hovered
                    ToolTip.delay: Theme.toolTipDelay
                    ToolTip.text: qsTr("Switch to the %1 theme").arg(Theme.dark ? qsTr("light") : qsTr("dark"))
                    onClicked: {
                        Theme.dark = !Theme.dark
                        Desk.setPreference("theme/dark", Theme.dark)
                    }
                }
                ToolButton {
                    objectName: "signOut"
                    text: qsTr("Sign out")
                    ToolTip.visible: hovered
                    ToolTip.delay: Theme.toolTipDelay
                    ToolTip.text: qsTr("End this session")
                    onClicked: Desk.signOut()
                }
            }
        }

        StackLayout {
            Layout.fillWidth: true
            Layout.fillHeight: true
            currentIndex: Desk.isAdmin ? pages.currentIndex : 0

            SplitView {
                id: columns

                objectName: "workspaceColumns"
                orientation: Qt.Horizontal
                Component.onCompleted: restoreState(Desk.preference("split/columns"))
                Component.onDestruction: Desk.setPreference("split/columns", saveState())

                WatchlistPanel {
                    SplitView.preferredWidth: Theme.panelMinimumWidth * 1.3
                    SplitView.minimumWidth: Theme.panelMinimumWidth
                }
                SplitView {
                    id: centre

                    orientation: Qt.Vertical
                    SplitView.fillWidth: true
                    Component.onCompleted: restoreState(Desk.preference("split/centre"))
                    Component.onDestruction: Desk.setPreference("split/centre", saveState())

                    ChartPanel {
                        SplitView.fillHeight: true
                        SplitView.minimumHeight: Theme.panelMinimumHeight
                    }
                    OrdersPanel {
                        SplitView.preferredHeight: Theme.unit * 14
                        SplitView.minimumHeight: Theme.panelMinimumHeight
                    }
                }
                SplitView {
                    id: market

                    orientation: Qt.Vertical
                    SplitView.preferredWidth: Theme.panelMinimumWidth * 1.5
                    SplitView.minimumWidth: Theme.panelMinimumWidth
                    Component.onCompleted: restoreState(Desk.preference("split/market"))
                    Component.onDestruction: Desk.setPreference("split/market", saveState())

                    LadderPanel {
                        SplitView.fillHeight: true
                        SplitView.minimumHeight: Theme.panelMinimumHeight
                    }
                    TapePanel {
                        SplitView.preferredHeight: Theme.unit * 14
                        SplitView.minimumHeight: Theme.panelMinimumHeight
                    }
                }
                SplitView {
                    id: account

                    orientation: Qt.Vertical
                    SplitView.preferredWidth: Theme.panelMinimumWidth * 1.6
                    SplitView.minimumWidth: Theme.panelMinimumWidth
                    Component.onCompleted: restoreState(Desk.preference("split/account"))
                    Component.onDestruction: Desk.setPreference("split/account", saveState())

                    TicketPanel {
                        SplitView.fillHeight: true
                        SplitView.minimumHeight: Theme.panelMinimumHeight
                    }
                    BalancesPanel {
                        SplitView.preferredHeight: Theme.unit * 10
                        SplitView.minimumHeight: Theme.panelMinimumHeight
                    }
                }
            }

            Loader {
                active: Desk.isAdmin
                sourceComponent: AdminPanel {}
            }
        }

        StatusBar {
            Layout.fillWidth: true
        }
    }

    Shortcut {
        sequence: "Ctrl+1"
        onActivated: pages.currentIndex = 0
    }
    Shortcut {
        sequence: "Ctrl+2"
        enabled: Desk.isAdmin
        onActivated: pages.currentIndex = 1
    }
}
