// The order ticket: side, type, time in force, post-only, price and quantity (arrow keys and the wheel step
// by tick and lot), what it costs and what is available, each check's message under the field at fault,
// and the submit button that says why it is disabled. The rules and the messages are OrderTicket's (C++),
// the API's own. Shortcuts: Ctrl+B buy, Ctrl+S sell (both still checked), F2 price, F3 quantity.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Bourse.Models

Panel {
    id: panel

    readonly property OrderTicket ticket: OrderTicket {}
    readonly property bool buying: ticket.side === "buy"
    property string _status: ""
    property bool _attempted: false // after a submit, an empty field's message shows too

    function _submit() {
        panel._attempted = true
        if (ticket.confirmBeforeSubmit && ticket.canSubmit)
            confirmDialog.open()
        else
            ticket.submit()
    }

    objectName: "ticket"
    title: ticket.symbol === "" ? qsTr("Order ticket") : qsTr("Order ticket · %1").arg(ticket.symbol)

    Connections {
        target: Desk
        function onTicketRequested(side, price) {
            panel.ticket.take(side, price)
            quantityField.forceActiveFocus()
        }
    }
    Connections {
        target: panel.ticket
        function onSubmitted(orderId, status) {
            panel._attempted = false
            panel._status = qsTr("Order %1 %2").arg(orderId).arg(status.replace("_", " "))
        }
        function onRejected(message) { panel._status = "" }
    }

    Flickable {
        id: scroller

        anchors.fill: parent
        contentWidth: width // vertical only: the form fits the panel's width
        contentHeight: form.implicitHeight + Theme.padding * 2
        clip: true
        boundsBehavior: Flickable.StopAtBounds

        ColumnLayout {
            id: form

            x: Theme.padding
            y: Theme.padding
            width: scroller.width - Theme.padding * 2
            spacing: Theme.spacing

            RowLayout {
                Layout.fillWidth: true
                spacing: 0

                Button {
                    id: buyButton

                    objectName: "ticketBuy"
                    Layout.fillWidth: true
                    text: qsTr("Buy")
                    checkable: true
                    checked: panel.buying
                    onClicked: panel.ticket.side = "buy"
                    palette.buttonText: Theme.buy
                    palette.brightText: Theme.textOnAccent // checked
                    background: Rectangle {
                        color: buyButton.checked ? Theme.buy : Theme.buyBackground
                        radius: Theme.radius
                    }
                    ToolTip.visible: hovered
                    ToolTip.delay: Theme.toolTipDelay
                    ToolTip.text: qsTr("A buy order (Ctrl+B submits one)")
                    KeyNavigation.right: sellButton
                    KeyNavigation.tab: sellButton
                }
                Button {
                    id: sellButton

                    objectName: "ticketSell"
                    Layout.fillWidth: true
                    text: qsTr("Sell")
                    checkable: true
                    checked: !panel.buying
                    onClicked: panel.ticket.side = "sell"
                    palette.buttonText: Theme.sell
                    palette.brightText: Theme.textOnAccent // checked
                    background: Rectangle {
                        color: sellButton.checked ? Theme.sell : Theme.sellBackground
                        radius: Theme.radius
                    }
                    ToolTip.visible: hovered
                    ToolTip.delay: Theme.toolTipDelay
                    ToolTip.text: qsTr("A sell order (Ctrl+S submits one)")
                    KeyNavigation.tab: limitButton
                }
            }

            RowLayout {
                Layout.fillWidth: true
                spacing: Theme.smallSpacing

                Button {
                    id: limitButton

                    objectName: "ticketLimit"
                    Layout.fillWidth: true
                    text: qsTr("Limit")
                    checkable: true
                    checked: panel.ticket.type === "limit"
                    flat: !checked
                    onClicked: panel.ticket.type = "limit"
                    ToolTip.visible: hovered
                    ToolTip.delay: Theme.toolTipDelay
                    ToolTip.text: qsTr("Trade at this price or better; the rest rests in the book")
                    KeyNavigation.tab: marketButton
                }
                Button {
                    id: marketButton

                    objectName: "ticketMarket"
                    Layout.fillWidth: true
                    text: qsTr("Market")
                    checkable: true
                    checked: panel.ticket.type === "market"
                    flat: !checked
                    onClicked: panel.ticket.type = "market"
                    ToolTip.visible: hovered
                    ToolTip.delay: Theme.toolTipDelay
                    ToolTip.text: qsTr("Trade now at the best prices in the book; what is left expires")
                    KeyNavigation.tab: tifBox
                }
            }

            RowLayout {
                Layout.fillWidth: true
                spacing: Theme.spacing

                ComboBox {
                    id: tifBox

                    objectName: "ticketTif"
                    Layout.fillWidth: true
                    model: [
                        { value: "gtc", text: qsTr("GTC · good till cancelled") },
                        { value: "ioc", text: qsTr("IOC · immediate or cancel") },
                        { value: "fok", text: qsTr("FOK · fill or kill") }
                    ]
                    textRole: "text"
                    valueRole: "value"
                    // Not indexOfValue(): evaluated before the model is set it gives -1, and nothing re-runs it.
                    currentIndex: ["gtc", "ioc", "fok"].indexOf(panel.ticket.timeInForce)
                    onActivated: panel.ticket.timeInForce = currentValue
                    ToolTip.visible: hovered
                    ToolTip.delay: Theme.toolTipDelay
                    ToolTip.text: qsTr("How long the order may wait for a match")
                    KeyNavigation.tab: postOnlyBox
                }
                CheckBox {
                    id: postOnlyBox

                    objectName: "ticketPostOnly"
                    text: qsTr("Post only")
                    checked: panel.ticket.postOnly
                    onToggled: panel.ticket.postOnly = checked
                    ToolTip.visible: hovered
                    ToolTip.delay: Theme.toolTipDelay
                    ToolTip.text: qsTr("Only ever add to the book: refused if it would match on arrival")
                    KeyNavigation.tab: priceField
                }
            }

            Label {
                text: qsTr("Price (%1)").arg(panel.ticket.quoteAsset)
                color: Theme.textMuted
            }
            TextField {
                id: priceField

                objectName: "ticketPrice"
                Layout.fillWidth: true
                enabled: panel.ticket.type === "limit"
                text: panel.ticket.price
                placeholderText: panel.ticket.type === "limit" ? qsTr("tick %1").arg(panel.ticket.tickSize)
                                                               : qsTr("market price")
                font.family: Theme.monoFamily
                horizontalAlignment: TextInput.AlignRight
                inputMethodHints: Qt.ImhFormattedNumbersOnly
                onTextEdited: panel.ticket.price = text
                onAccepted: panel._submit()
                Keys.onUpPressed: panel.ticket.stepPrice(1)
                Keys.onDownPressed: panel.ticket.stepPrice(-1)
                ToolTip.visible: hovered
                ToolTip.delay: Theme.toolTipDelay
                ToolTip.text: qsTr("Limit price, a multiple of %1. Up/Down or the wheel: one tick. F2 comes here.")
                              .arg(panel.ticket.tickSize)
                KeyNavigation.tab: quantityField

                WheelHandler {
                    onWheel: event => panel.ticket.stepPrice(event.angleDelta.y > 0 ? 1 : -1)
                }
            }
            Label {
                objectName: "ticketPriceError"
                Layout.fillWidth: true
                visible: panel.ticket.priceError !== "" && (priceField.text !== "" || panel._attempted)
                text: panel.ticket.priceError
                color: Theme.danger
                wrapMode: Text.WordWrap
            }

            Label {
                text: qsTr("Quantity (%1)").arg(panel.ticket.baseAsset)
                color: Theme.textMuted
            }
            TextField {
                id: quantityField

                objectName: "ticketQuantity"
                Layout.fillWidth: true
                text: panel.ticket.quantity
                placeholderText: qsTr("lot %1, at least %2").arg(panel.ticket.lotSize).arg(panel.ticket.minQuantity)
                font.family: Theme.monoFamily
                horizontalAlignment: TextInput.AlignRight
                inputMethodHints: Qt.ImhFormattedNumbersOnly
                onTextEdited: panel.ticket.quantity = text
                onAccepted: panel._submit()
                Keys.onUpPressed: panel.ticket.stepQuantity(1)
                Keys.onDownPressed: panel.ticket.stepQuantity(-1)
                ToolTip.visible: hovered
                ToolTip.delay: Theme.toolTipDelay
                ToolTip.text: qsTr("Quantity, a multiple of %1. Up/Down or the wheel: one lot. F3 comes here.")
                              .arg(panel.ticket.lotSize)
                KeyNavigation.tab: submitButton

                WheelHandler {
                    onWheel: event => panel.ticket.stepQuantity(event.angleDelta.y > 0 ? 1 : -1)
                }
            }
            Label {
                objectName: "ticketQuantityError"
                Layout.fillWidth: true
                visible: panel.ticket.quantityError !== "" && (quantityField.text !== "" || panel._attempted)
                text: panel.ticket.quantityError
                color: Theme.danger
                wrapMode: Text.WordWrap
            }

            GridLayout {
                Layout.fillWidth: true
                columns: 2
                columnSpacing: Theme.spacing
                rowSpacing: Theme.smallSpacing

                Label { text: qsTr("Total"); color: Theme.textMuted }
                Label {
                    objectName: "ticketNotional"
                    Layout.fillWidth: true
                    horizontalAlignment: Text.AlignRight
                    font.family: Theme.monoFamily
                    color: Theme.text
                    text: panel.ticket.notional === "" ? "—" : panel.ticket.notional + " " + panel.ticket.quoteAsset
                }
                Label { text: qsTr("Available"); color: Theme.textMuted }
                Label {
                    objectName: "ticketAvailable"
                    Layout.fillWidth: true
                    horizontalAlignment: Text.AlignRight
                    font.family: Theme.monoFamily
                    color: Theme.text
                    text: panel.ticket.available === "" ? "—"
                                                        : panel.ticket.available + " " + panel.ticket.availableAsset
                }
            }

            Label {
                objectName: "ticketError"
                Layout.fillWidth: true
                visible: panel.ticket.orderError !== ""
                text: panel.ticket.orderError
                color: panel.ticket.halted ? Theme.warning : Theme.danger
                wrapMode: Text.WordWrap
            }

            Button {
                id: submitButton

                objectName: "ticketSubmit"
                Layout.fillWidth: true
                text: panel.ticket.submitting ? qsTr("Sending…")
                                              : (panel.buying ? qsTr("Buy %1") : qsTr("Sell %1")).arg(panel.ticket.baseAsset)
                enabled: panel.ticket.canSubmit
                palette.buttonText: Theme.textOnAccent
                background: Rectangle {
                    color: panel.buying ? Theme.buy : Theme.sell
                    opacity: submitButton.enabled ? 1 : 0.4
                    radius: Theme.radius
                }
                onClicked: panel._submit()
                ToolTip.visible: hovered
                ToolTip.delay: Theme.toolTipDelay
                ToolTip.text: panel.ticket.canSubmit ? qsTr("Place the order (Enter in a field, Ctrl+B / Ctrl+S)")
                                                     : panel.ticket.reason
                KeyNavigation.tab: confirmBox
            }
            Label {
                objectName: "ticketReason"
                Layout.fillWidth: true
                visible: !panel.ticket.canSubmit && panel.ticket.reason !== "" && !panel.ticket.submitting
                text: panel.ticket.reason
                color: Theme.textMuted
                font.pointSize: Theme.smallFontSize
                wrapMode: Text.WordWrap
            }
            Label {
                objectName: "ticketStatus"
                Layout.fillWidth: true
                visible: panel._status !== ""
                text: panel._status
                color: Theme.ok
                wrapMode: Text.WordWrap
            }

            RowLayout {
                Layout.fillWidth: true
                spacing: Theme.spacing

                CheckBox {
                    id: confirmBox

                    objectName: "ticketConfirm"
                    text: qsTr("Confirm each order")
                    checked: panel.ticket.confirmBeforeSubmit
                    onToggled: panel.ticket.confirmBeforeSubmit = checked
                    ToolTip.visible: hovered
                    ToolTip.delay: Theme.toolTipDelay
                    ToolTip.text: qsTr("Ask before sending every order (kept between runs)")
                    KeyNavigation.tab: curlButton
                }
                Item { Layout.fillWidth: true }
                Button {
                    id: curlButton

                    objectName: "ticketCopyCurl"
                    text: qsTr("Copy as API call")
                    flat: true
                    onClicked: {
                        panel.ticket.copyAsCurl()
                        panel._status = qsTr("Copied: the token is $BOURSE_TOKEN")
                    }
                    ToolTip.visible: hovered
                    ToolTip.delay: Theme.toolTipDelay
                    ToolTip.text: qsTr("Copy this order as a curl command for the API (the token left as $BOURSE_TOKEN)")
                    KeyNavigation.tab: buyButton
                }
            }
        }
    }

    Dialog {
        id: confirmDialog

        objectName: "ticketConfirmDialog"
        anchors.centerIn: Overlay.overlay
        width: Theme.formWidth
        modal: true
        title: qsTr("Send this order?")
        standardButtons: Dialog.Ok | Dialog.Cancel
        onAccepted: panel.ticket.submit()

        Label {
            width: parent.width
            wrapMode: Text.WordWrap
            text: qsTr("%1 %2 %3 %4 at %5")
                      .arg(panel.ticket.side).arg(panel.ticket.quantity).arg(panel.ticket.baseAsset)
                      .arg(panel.ticket.type)
                      .arg(panel.ticket.type === "limit" ? panel.ticket.price + " " + panel.ticket.quoteAsset
                                                         : qsTr("the market"))
            color: Theme.text
        }
    }

    Shortcut {
        sequence: "Ctrl+B"
        onActivated: {
            panel.ticket.side = "buy"
            panel._submit()
        }
    }
    Shortcut {
        sequence: "Ctrl+S"
        onActivated: {
            panel.ticket.side = "sell"
            panel._submit()
        }
    }
    Shortcut {
        sequence: "F2"
        onActivated: priceField.forceActiveFocus()
    }
    Shortcut {
        sequence: "F3"
        onActivated: quantityField.forceActiveFocus()
    }
}
