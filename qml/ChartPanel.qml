// The candle chart of the selected instrument: candles and volume bars of one interval, the last candle live.
// The model holds the whole history and feeds the chart only the visible window: the wheel zooms around the
// cursor, a drag scrolls, the keys do both (←/→, +/−, End); a crosshair follows the mouse with the candle's
// open, high, low, close and volume.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import QtCharts
import Bourse.Models

Panel {
    id: root

    readonly property alias chartModel: candles
    readonly property var _shown: crosshair.hovering ? crosshair.readout : candles.latestReadout

    title: candles.symbol === "" ? qsTr("Chart") : qsTr("Chart · %1 · %2").arg(candles.symbol).arg(candles.interval)

    tools: [
        Repeater {
            model: candles.intervals

            Button {
                id: intervalButton

                required property string modelData

                objectName: "interval" + modelData
                text: modelData
                flat: true
                checkable: true
                checked: candles.interval === modelData
                implicitHeight: Theme.controlHeight
                focusPolicy: Qt.StrongFocus
                ToolTip.visible: hovered
                ToolTip.delay: Theme.toolTipDelay
                ToolTip.text: qsTr("Candles of %1").arg(modelData)
                onClicked: candles.interval = modelData
            }
        },
        Button {
            objectName: "chartLatest"
            text: qsTr("Latest")
            flat: true
            enabled: !candles.followsLatest
            implicitHeight: Theme.controlHeight
            ToolTip.visible: hovered
            ToolTip.delay: Theme.toolTipDelay
            ToolTip.text: qsTr("Show the latest candles (End)")
            onClicked: candles.showLatest()
        }
    ]

    CandleChartModel {
        id: candles

        // The readout when the mouse is elsewhere: the newest candle, live.
        readonly property var latestReadout: count > 0 && lastPrice !== "" ? readoutAt(count - 1) : ({})

        Component.onCompleted: interval = Desk.preference("chart/interval", "1m")
        onIntervalChanged: Desk.setPreference("chart/interval", interval)
    }

    ChartView {
        id: view

        objectName: "chartView"
        anchors.fill: parent
        antialiasing: true
        legend.visible: false
        backgroundColor: Theme.surface
        plotAreaColor: Theme.surface
        backgroundRoundness: 0
        dropShadowEnabled: false
        animationOptions: ChartView.NoAnimation
        margins.top: Theme.spacing * 3
        margins.bottom: 0
        margins.left: 0
        margins.right: 0

        DateTimeAxis {
            id: timeAxis

            min: candles.axisMin
            max: candles.axisMax
            format: candles.interval === "1d" ? "yyyy-MM-dd" : "MM-dd HH:mm"
            tickCount: Math.max(2, Math.min(8, Math.floor(view.plotArea.width / (Theme.unit * 7))))
            labelsColor: Theme.textMuted
            labelsFont.pointSize: Theme.smallFontSize
            gridLineColor: Theme.chartGrid
            color: Theme.border
        }
        ValueAxis {
            id: priceAxis

            min: candles.priceMin
            max: candles.priceMax
            tickCount: Math.max(2, Math.min(10, Math.floor(view.plotArea.height / (Theme.unit * 3))))
            labelsColor: Theme.textMuted
            labelsFont.pointSize: Theme.smallFontSize
            gridLineColor: Theme.chartGrid
            minorGridVisible: false
            color: Theme.border
        }
        ValueAxis {
            id: volumeAxis

            min: 0
            max: candles.volumeMax
            visible: false
        }
        CandlestickSeries {
            id: volumes

            axisX: timeAxis
            axisYRight: volumeAxis
            increasingColor: Theme.buyBackground
            decreasingColor: Theme.sellBackground
            bodyOutlineVisible: false
            capsVisible: false
            bodyWidth: 0.7
        }
        CandlestickSeries {
            id: prices

            axisX: timeAxis
            axisY: priceAxis
            increasingColor: Theme.buy
            decreasingColor: Theme.sell
            bodyOutlineVisible: false
            capsVisible: false
            bodyWidth: 0.7
        }

        Component.onCompleted: candles.attach(prices, volumes)
    }

    MouseArea {
        id: crosshair

        readonly property bool hovering: containsMouse && inPlot
        readonly property bool inPlot: mouseX >= view.plotArea.x && mouseX <= view.plotArea.x + view.plotArea.width
                                       && mouseY >= view.plotArea.y && mouseY <= view.plotArea.y + view.plotArea.height
        readonly property var readout: {
            // Re-read when the window or the live candle changes under a still mouse.
            candles.windowFirst; candles.lastPrice; candles.count
            return hovering ? candles.readout(view.mapToValue(Qt.point(mouseX, mouseY), prices).x) : ({})
        }
        property real _pressX: 0
        property int _pressFirst: 0

        objectName: "chartArea"
        anchors.fill: view
        hoverEnabled: true
        focus: true
        activeFocusOnTab: true
        cursorShape: pressed ? Qt.ClosedHandCursor : Qt.CrossCursor
        ToolTip.visible: false
        ToolTip.delay: Theme.toolTipDelay
        ToolTip.text: qsTr("Wheel: zoom · drag: scroll · ←/→ +/− End")

        onPressed: mouse => {
            forceActiveFocus()
            _pressX = mouse.x
            _pressFirst = candles.windowFirst
        }
        onPositionChanged: mouse => {
            if (!pressed || view.plotArea.width <= 0)
                return
            const perPixel = candles.windowCount / view.plotArea.width
            candles.setWindow(_pressFirst - Math.round((mouse.x - _pressX) * perPixel), candles.windowCount)
        }
        onWheel: wheel => {
            if (view.plotArea.width <= 0 || wheel.angleDelta.y === 0)
                return
            const anchor = (wheel.x - view.plotArea.x) / view.plotArea.width
            candles.zoom(wheel.angleDelta.y > 0 ? 0.8 : 1.25, anchor)
        }
        Keys.onPressed: event => {
            const step = Math.max(1, Math.round(candles.windowCount / 10))
            if (event.key === Qt.Key_Left)
                candles.scroll(-step)
            else if (event.key === Qt.Key_Right)
                candles.scroll(step)
            else if (event.key === Qt.Key_Plus || event.key === Qt.Key_Equal)
                candles.zoom(0.8, 1)
            else if (event.key === Qt.Key_Minus)
                candles.zoom(1.25, 1)
            else if (event.key === Qt.Key_End)
                candles.showLatest()
            else
                return
            event.accepted = true
        }

        Rectangle {
            objectName: "crosshairVertical"
            visible: crosshair.hovering
            x: crosshair.mouseX
            y: view.plotArea.y
            width: Theme.borderWidth
            height: view.plotArea.height
            color: Theme.textMuted
        }
        Rectangle {
            objectName: "crosshairHorizontal"
            visible: crosshair.hovering
            x: view.plotArea.x
            y: crosshair.mouseY
            width: view.plotArea.width
            height: Theme.borderWidth
            color: Theme.textMuted
        }
    }

    Label {
        id: readoutLabel

        objectName: "chartReadout"
        x: view.plotArea.x
        y: Theme.smallSpacing
        width: view.plotArea.width
        elide: Text.ElideRight
        color: Theme.textMuted
        font.family: Theme.monoFamily
        font.pointSize: Theme.smallFontSize
        visible: root._shown.open !== undefined
        text: visible ? qsTr("%1  O %2  H %3  L %4  C %5  V %6")
                        .arg(root._shown.time).arg(root._shown.open).arg(root._shown.high)
                        .arg(root._shown.low).arg(root._shown.close).arg(root._shown.volume)
                      : ""
    }

    Label {
        objectName: "chartStatus"
        anchors.centerIn: parent
        visible: text !== ""
        color: candles.error !== "" ? Theme.danger : Theme.textMuted
        text: candles.error !== "" ? candles.error
              : candles.loading && candles.count === 0 ? qsTr("Loading…")
              : candles.count === 0 && candles.symbol !== "" ? qsTr("No trades yet in %1").arg(candles.symbol)
              : ""
    }
}
