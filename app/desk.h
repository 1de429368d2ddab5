// Desk: the desktop window's one handle on the venue. QML sees it as the singleton `Desk` (session,
// selected instrument, status bar figures); the view models use its C++ side to call VenueService on the
// API's thread with the signed-in user's Caller — the same validated calls the HTTP routes make, in
// process — and to hear the venue through MarketTap, one merged `pulse` per display frame at most.
//
// The session follows the API's rules because it is an API login: signIn() is VenueService::login (the
// role, a disabled account and the login throttle apply), every call first authenticates the session's
// access token (a disabled account or a revoked login ends the session at its next call, and a check every
// few seconds), and the token is refreshed before it expires.
//
// Threads: created and used on the GUI (main) thread. attach() hands it the running VenueServer, which lives
// on the API's thread; everything Desk does there goes through queued calls, and every answer comes back
// queued to this thread.
#pragma once

#include "market_tap.h"
#include "venue_server.h"

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <QtQml/qqmlregistration.h>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

class QQmlEngine;
class QJSEngine;
class QQuickWindow;

namespace bourse::app {

class Desk final : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_SINGLETON

    Q_PROPERTY(bool ready READ ready NOTIFY readyChanged)
    Q_PROPERTY(bool needsFirstAdmin READ needsFirstAdmin NOTIFY needsFirstAdminChanged)
    Q_PROPERTY(bool busy READ busy NOTIFY busyChanged)
    Q_PROPERTY(bool signedIn READ signedIn NOTIFY sessionChanged)
    Q_PROPERTY(QString username READ username NOTIFY sessionChanged)
    Q_PROPERTY(QString role READ role NOTIFY sessionChanged)
    Q_PROPERTY(bool isAdmin READ isAdmin NOTIFY sessionChanged)
    Q_PROPERTY(bool canTrade READ canTrade NOTIFY sessionChanged)
    Q_PROPERTY(QString rememberedUsername READ rememberedUsername NOTIFY rememberedUsernameChanged)
    Q_PROPERTY(QString selectedSymbol READ selectedSymbol WRITE setSelectedSymbol NOTIFY selectedSymbolChanged)
    Q_PROPERTY(QStringList symbols READ symbols NOTIFY instrumentsChanged)
    Q_PROPERTY(QString listenAddress READ listenAddress NOTIFY readyChanged)
    Q_PROPERTY(QString docsUrl READ docsUrl NOTIFY readyChanged)
    Q_PROPERTY(int httpConnections READ httpConnections NOTIFY statsChanged)
    Q_PROPERTY(int webSockets READ webSockets NOTIFY statsChanged)
    Q_PROPERTY(bool tradingAvailable READ tradingAvailable NOTIFY journalChanged)
    Q_PROPERTY(QString journalState READ journalState NOTIFY journalChanged)

public:
    // No default constructor: QML must take the application's Desk from create(), not make its own.
    explicit Desk(QObject *parent);
    ~Desk() override;

    // QML_SINGLETON: the Desk the application made (instance()), owned by C++.
    static Desk *create(QQmlEngine *qmlEngine, QJSEngine *jsEngine);
    static Desk *instance();
    static void setInstance(Desk *desk);

    // ---- wiring (C++)
    // The running venue: `server` lives on `context`'s thread and stays valid until detach(). `address` is
    // the API's base URL for the status bar ("http://127.0.0.1:8080").
    void attach(server::VenueServer *server, QObject *context, QString address);
    // Before the server goes away: stops every call into it. Calls already on their way are dropped.
    void detach();
    void setJournalAvailable(bool available, const QString &reason);
    // The window whose frames pace the pulse: with one, a pulse is taken as a frame begins (afterAnimating),
    // so that the models change once per frame and in time for it; without one (or while it is not
    // exposed), at most once per 16 ms by a timer.
    void setFrameWindow(QQuickWindow *window);

    // ---- QML
    bool ready() const { return m_server != nullptr; }
    bool needsFirstAdmin() const { return m_needsFirstAdmin; }
    bool busy() const { return m_busy; }
    bool signedIn() const { return m_session.has_value(); }
    QString username() const { return m_session ? m_session->username : QString(); }
    QString role() const;
    bool isAdmin() const { return m_session && m_session->role == server::Role::Admin; }
    bool canTrade() const { return m_session && m_session->role != server::Role::Viewer; }
    QString rememberedUsername() const { return m_rememberedUsername; }
    QString selectedSymbol() const { return m_selectedSymbol; }
    void setSelectedSymbol(const QString &symbol);
    QStringList symbols() const;
    QString listenAddress() const { return m_address; }
    QString docsUrl() const { return m_address.isEmpty() ? QString() : m_address + QStringLiteral("/docs"); }
    int httpConnections() const { return m_httpConnections; }
    int webSockets() const { return m_webSockets; }
    bool tradingAvailable() const { return m_journalAvailable; }
    QString journalState() const { return m_journalState; }

    Q_INVOKABLE void signIn(const QString &username, const QString &password);
    Q_INVOKABLE void createFirstAdmin(const QString &username, const QString &password, const QString &confirmation);
    Q_INVOKABLE void signOut();
    Q_INVOKABLE void copyText(const QString &text) const;
    // The window's own preferences (theme, split sizes, ticket options), kept between runs.
    Q_INVOKABLE QVariant preference(const QString &key, const QVariant &fallback = QVariant()) const;
    Q_INVOKABLE void setPreference(const QString &key, const QVariant &value);
    Q_INVOKABLE void openUrl(const QString &url) const;
    // The depth ladder's click: asks the order ticket to take this side ("buy" | "sell") and price (a decimal
    // string). The ticket hears ticketRequested().
    Q_INVOKABLE void fillTicket(const QString &side, const QString &price) { emit ticketRequested(side, price); }
    // A notification from a panel (the ticket's rejection by the venue, say): kind as for notice().
    void notify(const QString &kind, const QString &title, const QString &text) { emit notice(kind, title, text); }

    // ---- view models (C++, GUI thread)
    std::optional<AccountId> userId() const
    {
        return m_session ? std::optional<AccountId>(m_session->user) : std::nullopt;
    }
    // Every instrument, by id, as of the last pulse that changed them.
    const std::vector<InstrumentView> &instruments() const { return m_instruments; }
    std::optional<InstrumentView> instrument(const QString &symbol) const;
    std::optional<InstrumentView> instrument(InstrumentId id) const;
    std::optional<InstrumentView> selectedInstrument() const { return instrument(m_selectedSymbol); }

    // Runs `work` on the API's thread with the session's Caller (authenticated now; an anonymous Caller when
    // nobody is signed in and `anonymous` allows it). `work` answers through the Reply it is given, on the
    // API's thread; `done` then runs on this thread, unless `receiver` is gone by then. A session that no
    // longer authenticates ends, and `done` gets the UNAUTHORIZED error.
    template<typename T>
    using Work = std::function<void(server::VenueService &, const server::Caller &, server::Reply<T>)>;
    template<typename T>
    void call(QObject *receiver, Work<T> work, std::function<void(server::ServiceResult<T>)> done,
              bool anonymous = false);
    // Runs `work` on the API's thread with the server itself (no caller: figures, market snapshots); `done`
    // gets its result here, unless `receiver` is gone.
    template<typename T>
    void inspect(QObject *receiver, std::function<T(server::VenueServer &)> work, std::function<void(T)> done);

    // The API's thread, for the tests and benchmarks that drive the venue directly.
    QObject *serverContext() const { return m_context; }

signals:
    void readyChanged();
    void needsFirstAdminChanged();
    void busyChanged();
    void sessionChanged();
    void rememberedUsernameChanged();
    void selectedSymbolChanged();
    void instrumentsChanged();
    void statsChanged();
    void journalChanged();
    // A sign-in, or the wizard, failed; `field` names the field at fault when one is.
    void signInFailed(const QString &message, const QString &field);
    void ticketRequested(const QString &side, const QString &price);
    // For the notifications: kind is "fill", "reject", "fault" or "info".
    void notice(const QString &kind, const QString &title, const QString &text);
    // C++: what changed in the venue since the last pulse (at most one per display frame).
    void pulse(const bourse::app::MarketPulse &pulse);

private:
    struct Session
    {
        AccountId user = 0;
        QString username;
        server::Role role = server::Role::Viewer;
        QByteArray accessToken;
        QByteArray refreshToken;
    };

    void post(std::function<void()> work) const; // onto the API's thread
    // Where answers from the API's thread go: the Desk while it exists. Answers can come after the Desk is
    // gone (a read that completes late); they then find no Desk and are dropped.
    struct Mailbox
    {
        std::mutex mutex;
        Desk *desk = nullptr; // guarded by mutex
    };
    // Back onto the Desk's thread, from any thread; dropped when the Desk, or `receiver`, is gone by then.
    static void deliver(const std::shared_ptr<Mailbox> &mailbox, const QPointer<QObject> &receiver,
                        std::function<void()> done);
    void schedulePulse();
    void takePulse();
    void reloadInstruments();
    void refreshStats();
    void refreshTokens();
    void checkSession();
    void startSession(const server::TokenPair &tokens, const QString &username);
    void endSession(const QString &reason);
    void setBusy(bool busy);
    QByteArray nextRequestId();

    std::shared_ptr<Mailbox> m_mailbox = std::make_shared<Mailbox>();
    server::VenueServer *m_server = nullptr; // lives on m_context's thread
    QPointer<QObject> m_context;
    MarketTap *m_tap = nullptr; // created, used and deleted on m_context's thread
    QString m_address;
    bool m_needsFirstAdmin = false;
    bool m_busy = false;
    std::optional<Session> m_session;
    std::uint64_t m_sessionEpoch = 0; // answers for an ended session are dropped
    QString m_rememberedUsername;
    QString m_selectedSymbol;
    std::vector<InstrumentView> m_instruments;
    int m_httpConnections = 0;
    int m_webSockets = 0;
    bool m_journalAvailable = true;
    QString m_journalState;
    quint64 m_requests = 0;

    QPointer<QQuickWindow> m_frameWindow;
    QTimer m_frame;        // single shot: the next pulse, at most one per frame (or the fallback with a window)
    QElapsedTimer m_sinceLastPulse;
    bool m_pulsePending = false;
    QTimer m_statsTimer;   // the status bar's figures, every second
    QTimer m_sessionTimer; // checks the session every few seconds and refreshes its token in time
    QElapsedTimer m_sinceTokens;
};

// ---- templates

template<typename T>
void Desk::call(QObject *receiver, Work<T> work, std::function<void(server::ServiceResult<T>)> done, bool anonymous)
{
    const QPointer<QObject> guard(receiver);
    const std::shared_ptr<Mailbox> mailbox = m_mailbox;
    const auto fail = [mailbox, guard, done](server::ServiceError error) {
        deliver(mailbox, guard, [done, error] { done(bourse::unexpected(error)); });
    };
    if (!m_server) {
        fail(server::ServiceError::of(server::ErrorCode::ServiceUnavailable, QStringLiteral("the venue is not running")));
        return;
    }
    if (!m_session && !anonymous) {
        fail(server::ServiceError::of(server::ErrorCode::Unauthorized, QStringLiteral("not signed in")));
        return;
    }
    const QByteArray token = m_session ? m_session->accessToken : QByteArray();
    const QByteArray requestId = nextRequestId();
    const std::uint64_t epoch = m_sessionEpoch;
    server::VenueServer *venue = m_server;
    const QPointer<QObject> self(this);
    // On the API's thread nothing here touches the Desk itself: only the mailbox, which says whether the
    // Desk still exists, and what runs back on the Desk's thread once it is delivered there.
    post([this, mailbox, self, venue, token, requestId, epoch, work, guard, done] {
        server::VenueService &service = venue->service();
        server::Caller caller;
        caller.requestId = requestId;
        caller.peer = QStringLiteral("desktop");
        if (!token.isEmpty()) {
            server::ServiceResult<server::Caller> authenticated = service.authenticate(token, requestId);
            if (!authenticated) {
                const server::ServiceError error = authenticated.error();
                deliver(mailbox, self, [this, epoch, error] {
                    if (epoch == m_sessionEpoch)
                        endSession(error.message);
                });
                deliver(mailbox, guard, [done, error] { done(bourse::unexpected(error)); });
                return;
            }
            caller = *authenticated;
            caller.peer = QStringLiteral("desktop");
        }
        work(service, caller, [mailbox, guard, done](server::ServiceResult<T> result) {
            deliver(mailbox, guard, [done, result = std::move(result)] { done(result); });
        });
    });
}

template<typename T>
void Desk::inspect(QObject *receiver, std::function<T(server::VenueServer &)> work, std::function<void(T)> done)
{
    if (!m_server)
        return;
    server::VenueServer *venue = m_server;
    const QPointer<QObject> guard(receiver);
    const std::shared_ptr<Mailbox> mailbox = m_mailbox;
    post([mailbox, venue, work, guard, done] {
        T value = work(*venue);
        deliver(mailbox, guard, [done, value = std::move(value)] { done(value); });
    });
}

} // namespace bourse::app
