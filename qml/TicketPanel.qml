// Placeholder until this panel lands.
import QtQuick

Panel {
    title: "TicketPanel"
}
