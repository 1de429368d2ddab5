// Placeholder until the admin panel lands.
import QtQuick

Panel {
    title: qsTr("Administration")
}
