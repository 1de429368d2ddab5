// Live stats: requests per second, the journal's commit p99, connections and the journal's lag, sampled
// every second while shown, the last two minutes drawn.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Bourse.Models

ColumnLayout {
    id: statsPage

    property bool active: false

    spacing: Theme.padding

    ServerStats {
        id: stats

        active: statsPage.active
    }

    AdminSparkline {
        objectName: "statsRequests"
        Layout.fillWidth: true
        title: qsTr("Requests per second")
        valueText: stats.requestsPerSecond.toFixed(1)
        values: stats.requestsHistory
        capacity: stats.historySeconds
    }
    AdminSparkline {
        objectName: "statsLatency"
        Layout.fillWidth: true
        title: qsTr("Journal commit p99 (ms)")
        valueText: stats.commitP99Ms.toFixed(2)
        values: stats.latencyHistory
        capacity: stats.historySeconds
        lineColor: Theme.warning
    }
    AdminSparkline {
        objectName: "statsConnections"
        Layout.fillWidth: true
        title: qsTr("HTTP connections (WebSockets %1, SSE %2)").arg(stats.webSockets).arg(stats.sseStreams)
        valueText: String(stats.httpConnections)
        values: stats.connectionsHistory
        capacity: stats.historySeconds
        lineColor: Theme.buy
    }
    AdminSparkline {
        objectName: "statsLag"
        Layout.fillWidth: true
        title: qsTr("Journal lag (events not yet durable)")
        valueText: String(stats.pendingEvents)
        values: stats.lagHistory
        capacity: stats.historySeconds
        lineColor: Theme.sell
    }
    Label {
        text: qsTr("Open orders %1 · up %2 s").arg(stats.openOrders).arg(stats.uptimeSeconds)
        color: Theme.textMuted
    }
    Item { Layout.fillHeight: true }
}
