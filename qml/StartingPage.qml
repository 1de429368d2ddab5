// Shown while the venue recovers its journal and opens the API.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

Rectangle {
    color: Theme.window

    ColumnLayout {
        anchors.centerIn: parent
        spacing: Theme.padding

        BusyIndicator {
            Layout.alignment: Qt.AlignHCenter
            running: true
        }
        Label {
            Layout.alignment: Qt.AlignHCenter
            text: qsTr("Starting the venue…")
            color: Theme.textMuted
            font.pointSize: Theme.largeFontSize
        }
    }
}
