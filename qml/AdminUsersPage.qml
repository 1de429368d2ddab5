// Users: the list (searched by username), create, role, enable/disable, deposit and withdraw.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Bourse.Models

ColumnLayout {
    id: usersPage

    readonly property int _selectedId: list.currentIndex >= 0 && list.currentItem ? list.currentItem.userId : 0

    spacing: Theme.spacing

    UsersModel { id: users }

    RowLayout {
        Layout.fillWidth: true
        spacing: Theme.spacing

        TextField {
            id: search

            objectName: "userSearch"
            Layout.fillWidth: true
            placeholderText: qsTr("Search by username")
            onTextChanged: users.filterText = text
            KeyNavigation.tab: list
            ToolTip.visible: hovered
            ToolTip.delay: Theme.toolTipDelay
            ToolTip.text: qsTr("Shows the users whose name contains this text (all users are loaded)")
        }
        Label {
            text: qsTr("%1 of %2").arg(list.count).arg(users.totalCount)
            color: Theme.textMuted
        }
        Button {
            objectName: "usersRefresh"
            text: qsTr("Refresh")
            onClicked: users.refresh()
            ToolTip.visible: hovered
            ToolTip.delay: Theme.toolTipDelay
            ToolTip.text: qsTr("Read the users again")
        }
    }

    ListView {
        id: list

        objectName: "usersList"
        Layout.fillWidth: true
        Layout.fillHeight: true
        clip: true
        model: users
        currentIndex: -1
        ScrollBar.vertical: ScrollBar {}

        delegate: ItemDelegate {
            id: userRow

            required property int index
            required property var userId
            required property string username
            required property string role
            required property bool active
            required property string tier

            width: ListView.view.width
            height: Theme.rowHeight
            highlighted: ListView.isCurrentItem
            onClicked: list.currentIndex = index
            ToolTip.visible: hovered
            ToolTip.delay: Theme.toolTipDelay
            ToolTip.text: qsTr("Select %1").arg(username)
            contentItem: RowLayout {
                spacing: Theme.spacing
                Label { text: userRow.username; color: Theme.text; Layout.fillWidth: true; elide: Text.ElideRight }
                Label { text: userRow.role; color: Theme.textMuted; Layout.preferredWidth: Theme.unit * 5 }
                Label { text: userRow.tier; color: Theme.textMuted; Layout.preferredWidth: Theme.unit * 5 }
                Label {
                    text: userRow.active ? qsTr("enabled") : qsTr("disabled")
                    color: userRow.active ? Theme.ok : Theme.danger
                    Layout.preferredWidth: Theme.unit * 5
                }
            }
        }
    }

    AdminError { objectName: "usersError"; message: users.error; Layout.fillWidth: true }
    Label {
        objectName: "usersMessage"
        visible: users.error.length === 0 && users.message.length > 0
        text: users.message
        color: Theme.ok
        Layout.fillWidth: true
        wrapMode: Text.Wrap
    }

    GroupBox {
        title: usersPage._selectedId > 0 ? qsTr("Selected: %1").arg(users.username(usersPage._selectedId))
                                         : qsTr("Select a user to change it")
        Layout.fillWidth: true
        enabled: usersPage._selectedId > 0

        GridLayout {
            anchors.fill: parent
            columns: 6
            columnSpacing: Theme.spacing

            ComboBox {
                id: roleBox

                objectName: "userRoleBox"
                model: ["viewer", "trader", "admin"]
                ToolTip.visible: hovered
                ToolTip.delay: Theme.toolTipDelay
                ToolTip.text: qsTr("The role to give the selected user")
            }
            Button {
                objectName: "userSetRole"
                text: qsTr("Set role")
                onClicked: users.setRole(usersPage._selectedId, roleBox.currentText)
                ToolTip.visible: hovered
                ToolTip.delay: Theme.toolTipDelay
                ToolTip.text: qsTr("Give the selected user this role")
            }
            Button {
                objectName: "userEnable"
                text: qsTr("Enable")
                onClicked: users.setActive(usersPage._selectedId, true)
                ToolTip.visible: hovered
                ToolTip.delay: Theme.toolTipDelay
                ToolTip.text: qsTr("Let the selected user sign in")
            }
            Button {
                objectName: "userDisable"
                text: qsTr("Disable")
                onClicked: users.setActive(usersPage._selectedId, false)
                ToolTip.visible: hovered
                ToolTip.delay: Theme.toolTipDelay
                ToolTip.text: qsTr("Stop the selected user from signing in; their sessions end")
            }
            Item { Layout.columnSpan: 2; Layout.fillWidth: true }

            TextField {
                id: asset

                objectName: "fundsAsset"
                placeholderText: qsTr("Asset (USD)")
                KeyNavigation.tab: amount
                ToolTip.visible: hovered
                ToolTip.delay: Theme.toolTipDelay
                ToolTip.text: qsTr("The asset to deposit or withdraw")
            }
            TextField {
                id: amount

                objectName: "fundsAmount"
                placeholderText: qsTr("Amount")
                font.family: Theme.monoFamily
                ToolTip.visible: hovered
                ToolTip.delay: Theme.toolTipDelay
                ToolTip.text: qsTr("A positive decimal amount")
            }
            Button {
                objectName: "fundsDeposit"
                text: qsTr("Deposit")
                onClicked: users.moveFunds(usersPage._selectedId, true, asset.text, amount.text)
                ToolTip.visible: hovered
                ToolTip.delay: Theme.toolTipDelay
                ToolTip.text: qsTr("Credit the amount to the selected user")
            }
            Button {
                objectName: "fundsWithdraw"
                text: qsTr("Withdraw")
                onClicked: users.moveFunds(usersPage._selectedId, false, asset.text, amount.text)
                ToolTip.visible: hovered
                ToolTip.delay: Theme.toolTipDelay
                ToolTip.text: qsTr("Debit the amount from the selected user's available balance")
            }
            Item { Layout.columnSpan: 2; Layout.fillWidth: true }
        }
    }

    GroupBox {
        title: qsTr("New user")
        Layout.fillWidth: true

        RowLayout {
            anchors.fill: parent
            spacing: Theme.spacing

            TextField {
                id: newName

                objectName: "newUsername"
                placeholderText: qsTr("Username")
                Layout.fillWidth: true
                KeyNavigation.tab: newPassword
                ToolTip.visible: hovered
                ToolTip.delay: Theme.toolTipDelay
                ToolTip.text: qsTr("The new user's name")
            }
            TextField {
                id: newPassword

                objectName: "newPassword"
                placeholderText: qsTr("Password")
                echoMode: TextInput.Password
                Layout.fillWidth: true
                KeyNavigation.tab: newRole
                ToolTip.visible: hovered
                ToolTip.delay: Theme.toolTipDelay
                ToolTip.text: qsTr("The new user's password")
            }
            ComboBox {
                id: newRole

                objectName: "newRole"
                model: ["trader", "viewer", "admin"]
                ToolTip.visible: hovered
                ToolTip.delay: Theme.toolTipDelay
                ToolTip.text: qsTr("The new user's role")
            }
            Button {
                objectName: "createUser"
                text: qsTr("Create")
                onClicked: users.createUser(newName.text, newPassword.text, newRole.currentText)
                ToolTip.visible: hovered
                ToolTip.delay: Theme.toolTipDelay
                ToolTip.text: qsTr("Create the user")
            }
        }
    }
}
