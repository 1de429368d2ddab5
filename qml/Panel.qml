// A titled panel of the workspace: a header with the title and optional tools, the content below.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

Rectangle {
    id: panel

    property string title
    property alias tools: toolRow.data
    default property alias content: body.data

    color: Theme.surface
    border.color: Theme.border
    border.width: Theme.borderWidth
    radius: Theme.radius
    clip: true

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: Theme.borderWidth
        spacing: 0

        Rectangle {
            Layout.fillWidth: true
            Layout.preferredHeight: Theme.headerHeight
            color: Theme.surfaceRaised

            RowLayout {
                anchors.fill: parent
                anchors.leftMargin: Theme.padding
                anchors.rightMargin: Theme.smallSpacing
                spacing: Theme.spacing

                Label {
                    text: panel.title
                    color: Theme.text
                    font.bold: true
                    elide: Text.ElideRight
                    Layout.fillWidth: true
                }
                RowLayout {
                    id: toolRow
                    spacing: Theme.smallSpacing
                }
            }
        }
        Item {
            id: body

            Layout.fillWidth: true
            Layout.fillHeight: true
        }
    }
}
