// The admin panel: the sections on the left, the chosen section's page on the right. Admins only (the
// Workspace shows it to them alone; every command is checked again by the venue).
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

Panel {
    id: adminPanel

    readonly property var _sections: [
        qsTr("Users"), qsTr("Instruments"), qsTr("Limits"), qsTr("Server"), qsTr("Kill switch"),
        qsTr("Audit log"), qsTr("Live stats")
    ]

    title: qsTr("Administration")

    RowLayout {
        anchors.fill: parent
        spacing: 0

        ListView {
            id: sections

            objectName: "adminSections"
            Layout.fillHeight: true
            Layout.preferredWidth: Theme.panelMinimumWidth * 0.7
            model: adminPanel._sections
            currentIndex: 0
            focus: true
            keyNavigationEnabled: true
            KeyNavigation.right: pages

            delegate: ItemDelegate {
                required property int index
                required property string modelData

                objectName: "adminSection" + index
                width: ListView.view.width
                height: Theme.rowHeight * 1.3
                text: modelData
                highlighted: ListView.isCurrentItem
                onClicked: sections.currentIndex = index
                ToolTip.visible: hovered
                ToolTip.delay: Theme.toolTipDelay
                ToolTip.text: qsTr("Show %1").arg(modelData)
            }
        }
        Rectangle {
            Layout.fillHeight: true
            Layout.preferredWidth: Theme.borderWidth
            color: Theme.border
        }
        StackLayout {
            id: pages

            Layout.fillWidth: true
            Layout.fillHeight: true
            Layout.margins: Theme.padding
            currentIndex: sections.currentIndex

            AdminUsersPage {}
            AdminInstrumentsPage {}
            AdminLimitsPage {}
            AdminServerPage {}
            AdminKillSwitchPage {}
            AdminAuditPage {}
            AdminStatsPage { active: pages.currentIndex === 6 && adminPanel.visible }
        }
    }
}
