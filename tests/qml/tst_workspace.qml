// The workspace as a whole: it builds with every panel, the theme switch changes every colour the Theme
// gives, the status bar shows where the API listens, and the admin tab is there for an admin.
import QtQuick
import QtQuick.Controls
import QtTest
import Bourse.Ui
import Bourse.Models

TestCase {
    id: testCase

    name: "Workspace"
    when: windowShown
    visible: true // a TestCase is invisible by default, and so would be everything made in it
    width: 1400
    height: 900

    Component {
        id: workspaceComponent
        Workspace { anchors.fill: parent }
    }

    function test_signedInAdmin() {
        verify(Desk.signedIn)
        verify(Desk.isAdmin)
        compare(Desk.role, "admin")
    }

    function test_themeSwitch() {
        const workspace = createTemporaryObject(workspaceComponent, testCase)
        verify(workspace)
        waitForRendering(workspace)
        const button = findChild(workspace, "themeSwitch")
        verify(button)
        verify(button.visible)
        const wasDark = Theme.dark
        // As text: a colour read from a property is a live reference to it, not a copy.
        const windowColour = Theme.window.toString()
        const textColour = Theme.text.toString()
        mouseClick(button)
        compare(Theme.dark, !wasDark)
        verify(Theme.window.toString() !== windowColour)
        verify(Theme.text.toString() !== textColour)
        compare(workspace.color, Theme.window)
        compare(Desk.preference("theme/dark", true), !wasDark)
        mouseClick(button)
        compare(Theme.dark, wasDark)
        compare(Theme.window.toString(), windowColour)
    }

    function test_statusBar() {
        const workspace = createTemporaryObject(workspaceComponent, testCase)
        const address = findChild(workspace, "statusAddress")
        verify(address)
        verify(Desk.listenAddress.startsWith("http://127.0.0.1:"))
        compare(address.text, "API " + Desk.listenAddress)
        const journal = findChild(workspace, "statusJournal")
        compare(journal.text, "Journal: writing")
    }

    function test_adminTab() {
        const workspace = createTemporaryObject(workspaceComponent, testCase)
        // A TabBar keeps its buttons in its content model, not as children.
        const tabs = findChild(workspace, "workspaceTabs")
        verify(tabs)
        compare(tabs.count, 2)
        const tab = tabs.itemAt(1)
        compare(tab.objectName, "adminTab")
        verify(tab.visible)
        verify(tab.enabled)
    }
}
