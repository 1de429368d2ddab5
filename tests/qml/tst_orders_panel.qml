// The orders panel: an order placed shows in the open tab, a double-click amends its price in place (Enter
// applies, Escape leaves it), the row's Cancel button and "Cancel all" (after its confirmation) take orders
// away and the history shows them; the export writes where the dialog says and tells where.
import QtQuick
import QtQuick.Controls
import QtTest
import Bourse.Ui
import Bourse.Models

TestCase {
    id: testCase

    name: "OrdersPanel"
    when: windowShown
    visible: true // TestCase is invisible by default: the panels must be seen to be clicked
    width: 1200
    height: 600

    Component {
        id: panelComponent
        OrdersPanel { anchors.fill: parent }
    }
    Component {
        id: ticketComponent
        OrderTicket {}
    }

    function place(ticket, price) {
        ticket.symbol = "ETH-USD"
        ticket.side = "buy"
        ticket.type = "limit"
        ticket.price = price
        ticket.quantity = "0.01"
        tryVerify(() => ticket.canSubmit, 5000, ticket.reason)
        ticket.submit()
        tryVerify(() => !ticket.submitting, 5000)
    }

    function rowWithPrice(list, price) {
        for (let i = 0; i < list.count; ++i) {
            const item = list.itemAtIndex(i)
            if (item && item.price === price)
                return item
        }
        return null
    }

    function test_amendCancelAndCancelAll() {
        const panel = createTemporaryObject(panelComponent, testCase)
        verify(panel)
        const ticket = createTemporaryObject(ticketComponent, testCase)
        const list = findChild(panel, "openOrdersList")
        tryVerify(() => !panel.openOrders.loading, 5000)
        const before = panel.openOrders.count
        place(ticket, "3.00")
        place(ticket, "4.00")
        tryCompare(panel.openOrders, "count", before + 2, 5000)
        tryVerify(() => rowWithPrice(list, "3.00") !== null, 5000)

        // Amend: double-click the price, type, Enter.
        let row = rowWithPrice(list, "3.00")
        const editor = findChild(row, "amendPrice")
        verify(editor && !editor.visible)
        const priceCell = editor.parent
        mouseDoubleClickSequence(priceCell, priceCell.width / 2, priceCell.height / 2)
        tryVerify(() => editor.visible)
        editor.selectAll()
        keyClick(Qt.Key_Backspace)
        keyClick("3"); keyClick("."); keyClick("5")
        keyClick(Qt.Key_Return)
        verify(!editor.visible)
        tryVerify(() => rowWithPrice(list, "3.50") !== null, 5000)
        tryVerify(() => findChild(panel, "ordersMessage").text.startsWith("Amended order"), 5000)

        // Escape leaves it as it was.
        row = rowWithPrice(list, "4.00")
        const quantityEditor = findChild(row, "amendQuantity")
        const quantityCell = quantityEditor.parent
        mouseDoubleClickSequence(quantityCell, quantityCell.width / 2, quantityCell.height / 2)
        tryVerify(() => quantityEditor.visible)
        keyClick("9")
        keyClick(Qt.Key_Escape)
        verify(!quantityEditor.visible)
        compare(row.quantity, "0.010")

        // A bad amend gets the API's message.
        panel.openOrders.amend(row.model.id, "4.001", "")
        tryCompare(findChild(panel, "ordersMessage"), "text", "price must be a multiple of 0.01", 5000)

        // The row's Cancel button.
        const count = panel.openOrders.count
        mouseClick(findChild(row, "orderCancel"))
        tryCompare(panel.openOrders, "count", count - 1, 5000)
        tryVerify(() => findChild(panel, "ordersMessage").text.startsWith("Cancelled order"), 5000)

        // Cancel all, after the confirmation, on the selected instrument only.
        Desk.selectedSymbol = "ETH-USD"
        mouseClick(findChild(panel, "ordersCancelAll"))
        const dialog = findChild(panel, "cancelAllDialog")
        tryVerify(() => dialog.opened)
        findChild(panel, "cancelAllSelectedOnly").checked = true
        dialog.accept()
        tryVerify(() => findChild(panel, "ordersMessage").text.indexOf("on ETH-USD") > 0, 5000)
        tryVerify(() => rowWithPrice(list, "3.50") === null, 5000)

        // The history has them.
        mouseClick(findChild(panel, "ordersHistoryTab"))
        const history = findChild(panel, "historyList")
        tryVerify(() => history.visible && rowWithPrice(history, "3.50") !== null, 5000)
        compare(rowWithPrice(history, "3.50").status, "cancelled")
    }

    function test_exportSaysWhere() {
        const panel = createTemporaryObject(panelComponent, testCase)
        mouseClick(findChild(panel, "ordersExport"))
        const dialog = findChild(panel, "exportDialog")
        tryVerify(() => dialog.opened)
        const path = findChild(panel, "exportPath")
        verify(path.text.indexOf("bourse-orders-") >= 0)
        path.text = "/tmp/bourse-qml-test-orders-" + Date.now() + ".csv"
        const target = path.text
        dialog.accept()
        tryVerify(() => findChild(panel, "ordersMessage").text.endsWith(target), 5000)
    }
}
