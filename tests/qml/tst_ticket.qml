// The order ticket as a trader uses it: typing shows the API's message under the field at fault and the
// reason on the disabled button; Up/Down and the wheel step by tick and lot; a valid order goes out with a
// click or Ctrl+S; the ladder's click fills side and price; the confirmation dialog; the API call copy.
import QtQuick
import QtQuick.Controls
import QtTest
import Bourse.Ui
import Bourse.Models

TestCase {
    id: testCase

    name: "Ticket"
    when: windowShown
    visible: true // TestCase is invisible by default: the panels must be seen to be clicked
    width: 500
    height: 900

    Component {
        id: ticketComponent
        TicketPanel { anchors.fill: parent }
    }

    SignalSpy {
        id: submittedSpy
        signalName: "submitted"
    }
    SignalSpy {
        id: rejectedSpy
        signalName: "rejected"
    }

    function makeTicket() {
        const panel = createTemporaryObject(ticketComponent, testCase)
        verify(panel)
        panel.ticket.symbol = "BTC-USD"
        panel.ticket.side = "buy"
        panel.ticket.type = "limit"
        panel.ticket.confirmBeforeSubmit = false
        submittedSpy.target = panel.ticket
        rejectedSpy.target = panel.ticket
        submittedSpy.clear()
        rejectedSpy.clear()
        tryVerify(() => panel.ticket.available !== "", 5000, "the balance that pays is known")
        return panel
    }

    function typeInto(field, text) {
        field.forceActiveFocus()
        field.selectAll()
        keyClick(Qt.Key_Backspace)
        for (let i = 0; i < text.length; ++i)
            keyClick(text[i])
    }

    function test_offTickShownUnderThePrice() {
        const panel = makeTicket()
        const price = findChild(panel, "ticketPrice")
        const quantity = findChild(panel, "ticketQuantity")
        const submit = findChild(panel, "ticketSubmit")
        typeInto(price, "100.005")
        typeInto(quantity, "0.001")
        compare(panel.ticket.price, "100.005")
        const error = findChild(panel, "ticketPriceError")
        verify(error.visible)
        compare(error.text, "price must be a multiple of 0.01")
        verify(!submit.enabled)
        const reason = findChild(panel, "ticketReason")
        verify(reason.visible)
        compare(reason.text, "price must be a multiple of 0.01")
        typeInto(price, "100.01")
        verify(!error.visible)
        verify(submit.enabled)
        compare(submit.text, "Buy BTC")
        compare(findChild(panel, "ticketNotional").text, "0.10001 USD")
    }

    function test_quantityErrors_data() {
        return [
            { tag: "non-numeric", text: "abc", message: "quantity must be a decimal number such as \"2000.50\"" },
            { tag: "zero", text: "0", message: "quantity must be positive" },
            { tag: "off lot", text: "0.00015", message: "quantity must be a multiple of 0.0001" },
            { tag: "too many decimals", text: "0.000000001", message: "quantity has more than 8 decimal places" },
            { tag: "too large", text: "99999999999", message: "quantity is out of range" },
        ]
    }

    function test_quantityErrors(data) {
        const panel = makeTicket()
        typeInto(findChild(panel, "ticketPrice"), "100")
        typeInto(findChild(panel, "ticketQuantity"), data.text)
        const error = findChild(panel, "ticketQuantityError")
        verify(error.visible)
        compare(error.text, data.message)
        verify(!findChild(panel, "ticketSubmit").enabled)
        // Ctrl+B still checks: nothing is sent.
        keySequence("Ctrl+B")
        compare(rejectedSpy.count, 1)
        compare(rejectedSpy.signalArguments[0][0], data.message)
        compare(submittedSpy.count, 0)
    }

    function test_stepsByTickAndLot() {
        const panel = makeTicket()
        const price = findChild(panel, "ticketPrice")
        const quantity = findChild(panel, "ticketQuantity")
        typeInto(price, "100.00")
        keyClick(Qt.Key_Up)
        compare(price.text, "100.01")
        keyClick(Qt.Key_Down)
        keyClick(Qt.Key_Down)
        compare(price.text, "99.99")
        typeInto(quantity, "")
        keyClick(Qt.Key_Up)
        compare(quantity.text, "0.0001")
        keyClick(Qt.Key_Up)
        compare(quantity.text, "0.0002")
        mouseWheel(quantity, quantity.width / 2, quantity.height / 2, 0, 120)
        compare(quantity.text, "0.0003")
        mouseWheel(price, price.width / 2, price.height / 2, 0, -120)
        compare(price.text, "99.98")
        keyClick(Qt.Key_F2)
        verify(price.activeFocus)
        keyClick(Qt.Key_F3)
        verify(quantity.activeFocus)
    }

    function test_submitWithClickAndShortcut() {
        const panel = makeTicket()
        typeInto(findChild(panel, "ticketPrice"), "1.00")
        typeInto(findChild(panel, "ticketQuantity"), "0.0001")
        mouseClick(findChild(panel, "ticketSubmit"))
        tryCompare(submittedSpy, "count", 1, 5000)
        compare(submittedSpy.signalArguments[0][1], "new")
        compare(panel.ticket.quantity, "") // ready for the next one
        tryVerify(() => findChild(panel, "ticketStatus").visible)

        // A sell far above the market with Ctrl+S.
        typeInto(findChild(panel, "ticketPrice"), "9000000.00")
        typeInto(findChild(panel, "ticketQuantity"), "0.0001")
        keySequence("Ctrl+S")
        compare(panel.ticket.side, "sell")
        tryCompare(submittedSpy, "count", 2, 5000)
        compare(findChild(panel, "ticketSubmit").text, "Sell BTC")
    }

    function test_ladderClickFillsTheTicket() {
        const panel = makeTicket()
        panel.ticket.type = "market"
        Desk.fillTicket("sell", "123.45")
        compare(panel.ticket.side, "sell")
        compare(panel.ticket.type, "limit")
        compare(findChild(panel, "ticketPrice").text, "123.45")
        verify(findChild(panel, "ticketQuantity").activeFocus)
    }

    function test_marketOrderRules() {
        const panel = makeTicket()
        mouseClick(findChild(panel, "ticketMarket"))
        compare(panel.ticket.type, "market")
        compare(panel.ticket.timeInForce, "ioc")
        verify(!findChild(panel, "ticketPrice").enabled)
        panel.ticket.postOnly = true
        typeInto(findChild(panel, "ticketQuantity"), "0.0001")
        const error = findChild(panel, "ticketError")
        verify(error.visible)
        compare(error.text, "post_only needs a limit order with time_in_force gtc")
        panel.ticket.postOnly = false
    }

    function test_confirmationDialog() {
        const panel = makeTicket()
        panel.ticket.confirmBeforeSubmit = true
        compare(Desk.preference("ticket/confirm", false), true)
        typeInto(findChild(panel, "ticketPrice"), "1.00")
        typeInto(findChild(panel, "ticketQuantity"), "0.0001")
        mouseClick(findChild(panel, "ticketSubmit"))
        const dialog = findChild(panel, "ticketConfirmDialog")
        verify(dialog)
        tryVerify(() => dialog.opened)
        compare(submittedSpy.count, 0)
        dialog.accept()
        tryCompare(submittedSpy, "count", 1, 5000)
        panel.ticket.confirmBeforeSubmit = false
        compare(Desk.preference("ticket/confirm", true), false)
    }

    function test_copyAsApiCall() {
        const panel = makeTicket()
        typeInto(findChild(panel, "ticketPrice"), "2.50")
        typeInto(findChild(panel, "ticketQuantity"), "0.0002")
        const curl = panel.ticket.curlCommand()
        verify(curl.startsWith("curl -X POST " + Desk.listenAddress + "/api/v1/orders"))
        verify(curl.indexOf("Bearer $BOURSE_TOKEN") > 0)
        verify(curl.indexOf("\"price\":\"2.50\"") > 0)
        verify(curl.indexOf("\"quantity\":\"0.0002\"") > 0)
        mouseClick(findChild(panel, "ticketCopyCurl"))
        verify(findChild(panel, "ticketStatus").visible)
    }
}
