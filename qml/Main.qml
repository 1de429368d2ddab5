// The window: starting → first-run wizard (no admin yet) → sign-in → the workspace.
import QtQuick
import QtQuick.Controls
import Bourse.Models

ApplicationWindow {
    id: window

    width: Math.round(Theme.unit * 90)
    height: Math.round(Theme.unit * 56)
    minimumWidth: Math.round(Theme.unit * 50)
    minimumHeight: Math.round(Theme.unit * 32)
    visible: true
    title: Desk.signedIn ? qsTr("Bourse — %1").arg(Desk.username) : qsTr("Bourse")
    color: Theme.window

    palette {
        window: Theme.window
        windowText: Theme.text
        base: Theme.surface
        alternateBase: Theme.surfaceRaised
        text: Theme.text
        button: Theme.surfaceRaised
        buttonText: Theme.text
        highlight: Theme.accent
        highlightedText: Theme.text // on the selection (palette.light) and on selected text
        brightText: Theme.text // a checked button's text, and an unchecked tab button's
        placeholderText: Theme.textMuted
        mid: Theme.border
        dark: Theme.border
        light: Theme.selection // a highlighted (current) list item's background
        midlight: Theme.surfaceHover
        toolTipBase: Theme.surfaceRaised
        toolTipText: Theme.text
        link: Theme.accent
    }

    Component.onCompleted: Theme.dark = Desk.preference("theme/dark", true)

    Loader {
        id: page

        anchors.fill: parent
        sourceComponent: !Desk.ready ? starting
                         : Desk.needsFirstAdmin ? firstRun
                         : !Desk.signedIn ? signIn
                         : workspace
    }

    Component { id: starting; StartingPage {} }
    Component { id: firstRun; FirstRunPage {} }
    Component { id: signIn; LoginPage {} }
    Component { id: workspace; Workspace {} }

    Notifications {
        anchors.right: parent.right
        anchors.bottom: parent.bottom
        anchors.margins: Theme.padding
        anchors.bottomMargin: Theme.headerHeight + Theme.padding
    }
}
