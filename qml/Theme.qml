// Every colour and size of the window. Dark by default; `dark = false` for the light theme. Sizes follow
// the system font, so the whole window scales with it.
pragma Singleton
import QtQuick

QtObject {
    id: theme

    property bool dark: true

    readonly property FontMetrics metrics: FontMetrics { font: Qt.application.font }
    readonly property real unit: Math.max(12, metrics.height)

    // ---- sizes
    readonly property int spacing: Math.round(unit * 0.5)
    readonly property int smallSpacing: Math.round(unit * 0.25)
    readonly property int padding: Math.round(unit * 0.75)
    readonly property int radius: Math.round(unit * 0.3)
    readonly property int rowHeight: Math.round(unit * 1.55)
    readonly property int headerHeight: Math.round(unit * 2.2)
    readonly property int controlHeight: Math.round(unit * 2.0)
    readonly property int borderWidth: 1
    readonly property int focusWidth: 2
    readonly property int iconSize: Math.round(unit * 1.1)
    readonly property int panelMinimumWidth: Math.round(unit * 14)
    readonly property int panelMinimumHeight: Math.round(unit * 8)
    readonly property int formWidth: Math.round(unit * 22)
    readonly property int notificationWidth: Math.round(unit * 22)
    readonly property int notificationTimeout: 6000
    readonly property int animationDuration: 120
    readonly property int toolTipDelay: 600 // ms of hovering before a tooltip shows

    // ---- type
    readonly property real fontSize: Qt.application.font.pointSize > 0 ? Qt.application.font.pointSize : 10
    readonly property real smallFontSize: fontSize * 0.87
    readonly property real largeFontSize: fontSize * 1.3
    readonly property real titleFontSize: fontSize * 1.8
    readonly property string monoFamily: "monospace"

    // ---- colours
    readonly property color window: dark ? "#0e1117" : "#f3f5f8"
    readonly property color surface: dark ? "#161b22" : "#ffffff"
    readonly property color surfaceRaised: dark ? "#1f2630" : "#eef1f5"
    readonly property color surfaceHover: dark ? "#27303c" : "#e3e8ef"
    readonly property color border: dark ? "#2b3440" : "#d5dbe3"
    readonly property color text: dark ? "#e6edf3" : "#1b2430"
    readonly property color textMuted: dark ? "#8b96a5" : "#5d6b7c"
    readonly property color textOnAccent: "#ffffff"
    readonly property color accent: dark ? "#3d8bfd" : "#1f6feb"
    readonly property color focus: dark ? "#79b8ff" : "#0b5cd5"
    readonly property color buy: dark ? "#2ebd85" : "#0e9f6e"
    readonly property color sell: dark ? "#f6465d" : "#d9304a"
    readonly property color buyBackground: dark ? "#14352a" : "#dcf5ea"
    readonly property color sellBackground: dark ? "#3d1a21" : "#fbe1e5"
    readonly property color warning: dark ? "#e3b341" : "#b7791f"
    readonly property color danger: dark ? "#f85149" : "#cf222e"
    readonly property color ok: dark ? "#3fb950" : "#1a7f37"
    readonly property color own: dark ? "#d2a8ff" : "#8250df"
    readonly property color selection: dark ? "#1f3a5f" : "#cfe2ff"
    readonly property color shadow: dark ? "#80000000" : "#40000000"
    readonly property color chartGrid: dark ? "#222a35" : "#e4e8ee"
}
