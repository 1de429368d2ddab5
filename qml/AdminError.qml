// An admin form's inline error: the venue's message, in the danger colour; hidden when there is none.
import QtQuick
import QtQuick.Controls

Label {
    id: errorLabel

    property string message

    visible: message.length > 0
    text: message
    color: Theme.danger
    wrapMode: Text.Wrap
}
