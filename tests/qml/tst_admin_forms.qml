// The admin panel's forms against a real venue with a signed-in ADMIN session (the lead's harness starts
// it): every bad input shows the API's message inline and changes nothing; the kill switch asks first.
import QtQuick
import QtTest
import Bourse.Ui
import Bourse.Models

TestCase {
    id: testCase

    name: "AdminForms"
    when: windowShown
    visible: true // a TestCase is invisible by default, and so would be everything made in it
    width: 1400
    height: 900

    Component {
        id: usersPage
        AdminUsersPage { anchors.fill: parent }
    }
    Component {
        id: limitsPage
        AdminLimitsPage { anchors.fill: parent }
    }
    Component {
        id: instrumentsPage
        AdminInstrumentsPage { anchors.fill: parent }
    }
    Component {
        id: killPage
        AdminKillSwitchPage { anchors.fill: parent }
    }
    Component {
        id: serverPage
        AdminServerPage { anchors.fill: parent }
    }
    Component {
        id: panel
        AdminPanel { anchors.fill: parent }
    }

    function find(root, name) {
        const found = findChild(root, name);
        verify(found, "no " + name);
        return found;
    }

    function test_panelHasSevenSections() {
        const page = createTemporaryObject(panel, testCase);
        const sections = find(page, "adminSections");
        compare(sections.count, 7);
    }

    function test_duplicateUsernameShowsConflict() {
        const page = createTemporaryObject(usersPage, testCase);
        find(page, "newUsername").text = Desk.username; // the signed-in admin's own name: taken
        find(page, "newPassword").text = "some-password-1";
        mouseClick(find(page, "createUser"));
        const error = find(page, "usersError");
        tryCompare(error, "text", "username is taken", 10000);
        verify(error.visible);
    }

    function test_depositOfTextShowsTheApiMessage() {
        const page = createTemporaryObject(usersPage, testCase);
        const list = find(page, "usersList");
        tryVerify(() => list.count > 0, 10000);
        list.currentIndex = 0;
        find(page, "fundsAsset").text = "USD";
        find(page, "fundsAmount").text = "abc";
        mouseClick(find(page, "fundsDeposit"));
        tryCompare(find(page, "usersError"), "text", "amount must be a decimal number such as \"2000.50\"", 10000);
    }

    function test_negativeRateLimitIsRefused() {
        const page = createTemporaryObject(limitsPage, testCase);
        const field = find(page, "setting_rate_limits.pro.capacity");
        tryVerify(() => field.text.length > 0, 10000);
        const before = field.text;
        field.text = "-5";
        mouseClick(find(page, "settingsSave"));
        tryCompare(find(page, "settingsError"), "text",
                   "rate_limits.pro.capacity must be an integer from 1 to 1000000", 10000);
        // Nothing was saved: a fresh form shows the old value.
        const fresh = createTemporaryObject(limitsPage, testCase);
        tryCompare(find(fresh, "setting_rate_limits.pro.capacity"), "text", before, 10000);
    }

    function test_badCorsOriginIsRefused() {
        const page = createTemporaryObject(limitsPage, testCase);
        tryVerify(() => find(page, "setting_max_body_bytes").text.length > 0, 10000);
        find(page, "settingCorsOrigins").text = "http://x/path";
        mouseClick(find(page, "settingsSave"));
        tryCompare(find(page, "settingsError"), "text",
                   "cors_allowed_origins[0] must be an origin such as https://desk.example (scheme, host, optional port; no path)",
                   10000);
    }

    function test_badTickSizeIsRefused() {
        const page = createTemporaryObject(instrumentsPage, testCase);
        find(page, "newSymbol").text = "QML-USD";
        find(page, "newBase").text = "QML";
        find(page, "newQuote").text = "USD";
        find(page, "newTick").text = "tiny";
        find(page, "newLot").text = "1";
        find(page, "newMinimum").text = "1";
        mouseClick(find(page, "addInstrument"));
        tryCompare(find(page, "instrumentsError"), "text", "tick_size must be a decimal number such as \"2000.50\"", 10000);
        verify(Desk.symbols.indexOf("QML-USD") < 0);
    }

    function test_killSwitchAsksFirst() {
        const page = createTemporaryObject(killPage, testCase);
        mouseClick(find(page, "killButton"));
        const dialog = find(page, "killConfirm");
        tryCompare(dialog, "opened", true);
        verify(find(page, "killDescription").text.indexOf("Halt all") === 0);
        dialog.reject();
        tryCompare(dialog, "visible", false);
    }

    function test_malformedDatabaseUrl() {
        const page = createTemporaryObject(serverPage, testCase);
        find(page, "databaseUrlField").text = "postgresql://u:secret@db:notaport/venue";
        mouseClick(find(page, "databaseUrlTest"));
        const result = find(page, "databaseUrlResult");
        tryVerify(() => result.visible && result.text.length > 0, 10000);
        verify(result.text.indexOf("secret") < 0);
    }
}
