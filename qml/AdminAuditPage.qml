// Audit log: newest first, a page at a time, filtered by actor or action.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Bourse.Models

ColumnLayout {
    id: auditPage

    spacing: Theme.spacing

    AuditLogModel { id: audit }

    RowLayout {
        Layout.fillWidth: true
        spacing: Theme.spacing

        TextField {
            objectName: "auditFilter"
            Layout.fillWidth: true
            placeholderText: qsTr("Filter by actor or action")
            onTextChanged: audit.filterText = text
            ToolTip.visible: hovered
            ToolTip.delay: Theme.toolTipDelay
            ToolTip.text: qsTr("Shows this page's entries whose actor, action or target contain the text")
        }
        Button {
            objectName: "auditPrevious"
            text: qsTr("Newer")
            enabled: audit.page > 1
            onClicked: audit.previousPage()
            ToolTip.visible: hovered
            ToolTip.delay: Theme.toolTipDelay
            ToolTip.text: qsTr("The previous, newer page")
        }
        Label { text: qsTr("page %1 of %2").arg(audit.page).arg(audit.pageCount); color: Theme.textMuted }
        Button {
            objectName: "auditNext"
            text: qsTr("Older")
            enabled: audit.page < audit.pageCount
            onClicked: audit.nextPage()
            ToolTip.visible: hovered
            ToolTip.delay: Theme.toolTipDelay
            ToolTip.text: qsTr("The next, older page")
        }
        Button {
            objectName: "auditRefresh"
            text: qsTr("Refresh")
            onClicked: audit.refresh()
            ToolTip.visible: hovered
            ToolTip.delay: Theme.toolTipDelay
            ToolTip.text: qsTr("Read this page again")
        }
    }
    AdminError { message: audit.error; Layout.fillWidth: true }
    ListView {
        objectName: "auditList"
        Layout.fillWidth: true
        Layout.fillHeight: true
        clip: true
        model: audit
        ScrollBar.vertical: ScrollBar {}

        delegate: ItemDelegate {
            id: entry

            required property string at
            required property string actor
            required property string auditAction // not "action": every button has a FINAL one
            required property string target
            required property string details

            width: ListView.view.width
            height: Theme.rowHeight
            ToolTip.visible: hovered && details.length > 0
            ToolTip.delay: Theme.toolTipDelay
            ToolTip.text: details
            contentItem: RowLayout {
                spacing: Theme.spacing
                Label { text: entry.at; color: Theme.textMuted; font.family: Theme.monoFamily; Layout.preferredWidth: Theme.unit * 13 }
                Label { text: entry.actor; color: Theme.text; Layout.preferredWidth: Theme.unit * 6; elide: Text.ElideRight }
                Label { text: entry.auditAction; color: Theme.accent; Layout.preferredWidth: Theme.unit * 10 }
                Label { text: entry.target; color: Theme.text; Layout.fillWidth: true; elide: Text.ElideRight }
            }
        }
    }
}
