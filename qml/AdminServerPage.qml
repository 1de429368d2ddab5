// Server: what the venue reads only at start-up, shown read-only with how to change it (applied on
// restart), and a test of another database URL that runs off the GUI thread.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Bourse.Models

ColumnLayout {
    id: serverPage

    spacing: Theme.spacing

    ServerSettingsView { id: server }

    Label {
        text: qsTr("These are read at start-up: a change applies on the next restart. Change them with the command line (--listen, --tls-cert, --tls-key, --database-url), the environment (BOURSE_LISTEN, BOURSE_DATABASE_URL...) or the keys listen, tls_cert, tls_key, database_url in %1.").arg(server.configFile)
        color: Theme.warning
        wrapMode: Text.Wrap
        Layout.fillWidth: true
    }
    GridLayout {
        columns: 2
        columnSpacing: Theme.spacing

        Label { text: qsTr("Listening on"); color: Theme.textMuted }
        Label { objectName: "serverListen"; text: server.listenAddress; color: Theme.text; font.family: Theme.monoFamily }
        Label { text: qsTr("TLS"); color: Theme.textMuted }
        Label { objectName: "serverTls"; text: server.tlsEnabled ? qsTr("on") : qsTr("off (plain HTTP)"); color: Theme.text }
        Label { text: qsTr("Database"); color: Theme.textMuted }
        Label { objectName: "serverDatabase"; text: server.databaseUrl; color: Theme.text; font.family: Theme.monoFamily }
        Label { text: qsTr("Data directory"); color: Theme.textMuted }
        Label { text: server.dataDir; color: Theme.text; font.family: Theme.monoFamily }
    }
    GroupBox {
        title: qsTr("Test a database URL")
        Layout.fillWidth: true

        ColumnLayout {
            anchors.fill: parent
            RowLayout {
                TextField {
                    id: url

                    objectName: "databaseUrlField"
                    Layout.fillWidth: true
                    placeholderText: "postgresql://user:password@host:5432/bourse"
                    font.family: Theme.monoFamily
                    KeyNavigation.tab: testButton
                    onAccepted: server.testDatabaseUrl(text)
                    ToolTip.visible: hovered
                    ToolTip.delay: Theme.toolTipDelay
                    ToolTip.text: qsTr("sqlite:<path> or postgresql://...; only tested, not saved")
                }
                Button {
                    id: testButton

                    objectName: "databaseUrlTest"
                    text: server.testing ? qsTr("Testing…") : qsTr("Test")
                    enabled: !server.testing
                    onClicked: server.testDatabaseUrl(url.text)
                    ToolTip.visible: hovered
                    ToolTip.delay: Theme.toolTipDelay
                    ToolTip.text: qsTr("Parse the URL and try to connect (in the background)")
                }
            }
            Label {
                objectName: "databaseUrlResult"
                visible: !server.testing && server.testMessage.length > 0
                text: server.testMessage
                color: server.testPassed ? Theme.ok : Theme.danger
                wrapMode: Text.Wrap
                Layout.fillWidth: true
            }
        }
    }
    Item { Layout.fillHeight: true }
}
