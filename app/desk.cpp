#include "desk.h"

#include <QClipboard>
#include <QDesktopServices>
#include <QGuiApplication>
#include <QQmlEngine>
#include <QQuickWindow>
#include <QSettings>
#include <QUrl>

namespace bourse::app {

namespace {

Desk *g_instance = nullptr;

// The display's frame: the window never hears the venue more often than this.
constexpr int kFrameMilliseconds = 16;
// With a window pacing the pulse: taken anyway after this long without a frame (a covered window), so that
// the account and the orders stay current.
constexpr int kFrameFallbackMilliseconds = 100;
constexpr int kStatsMilliseconds = 1000;
constexpr int kSessionCheckMilliseconds = 5000;
// Refreshed well before the access token's 15 minutes are up.
constexpr qint64 kRefreshAfterMilliseconds = (server::JwtSigner::kAccessLifetimeSeconds - 120) * 1000;

const QString kUsernameKey = QStringLiteral("session/username");

// ~/.config/bourse/window.ini: the window's own state, apart from the venue's configuration.
QSettings windowSettings()
{
    return QSettings(QSettings::IniFormat, QSettings::UserScope, QStringLiteral("bourse"), QStringLiteral("window"));
}

} // namespace

Desk::Desk(QObject *parent)
    : QObject(parent)
{
    m_frame.setSingleShot(true);
    m_frame.setTimerType(Qt::PreciseTimer); // never early: at most one pulse per frame
    connect(&m_frame, &QTimer::timeout, this, &Desk::takePulse);
    m_statsTimer.setInterval(kStatsMilliseconds);
    connect(&m_statsTimer, &QTimer::timeout, this, &Desk::refreshStats);
    m_sessionTimer.setInterval(kSessionCheckMilliseconds);
    connect(&m_sessionTimer, &QTimer::timeout, this, &Desk::checkSession);
    m_rememberedUsername = windowSettings().value(kUsernameKey).toString();
    m_mailbox->desk = this;
    m_sinceLastPulse.start();
}

Desk::~Desk()
{
    detach();
    {
        const std::lock_guard lock(m_mailbox->mutex);
        m_mailbox->desk = nullptr;
    }
    if (g_instance == this)
        g_instance = nullptr;
}

Desk *Desk::create(QQmlEngine *, QJSEngine *)
{
    Q_ASSERT(g_instance);
    QJSEngine::setObjectOwnership(g_instance, QJSEngine::CppOwnership);
    return g_instance;
}

Desk *Desk::instance()
{
    return g_instance;
}

void Desk::setInstance(Desk *desk)
{
    g_instance = desk;
}

void Desk::post(std::function<void()> work) const
{
    if (m_context)
        QMetaObject::invokeMethod(m_context.data(), std::move(work), Qt::QueuedConnection);
}

void Desk::deliver(const std::shared_ptr<Mailbox> &mailbox, const QPointer<QObject> &receiver,
                   std::function<void()> done)
{
    // Posted while the lock is held, so that the Desk cannot go between the check and the post; a posted
    // call that the Desk's end overtakes is discarded with it.
    const std::lock_guard lock(mailbox->mutex);
    if (!mailbox->desk)
        return;
    QMetaObject::invokeMethod(
        mailbox->desk,
        [receiver, done = std::move(done)] {
            if (receiver)
                done();
        },
        Qt::QueuedConnection);
}

void Desk::attach(server::VenueServer *server, QObject *context, QString address)
{
    detach();
    m_server = server;
    m_context = context;
    m_address = std::move(address);
    bool awaitingAdmin = false;
    // The tap is made on the API's thread, where the batches are announced; until this returns nothing is
    // missed that the first instrument list below does not already hold.
    QMetaObject::invokeMethod(
        context,
        [this, server, &awaitingAdmin] {
            // The tap calls back on the API's thread; the Desk outlives it (detach() deletes it first).
            m_tap = new MarketTap(server->service(), [this] {
                QMetaObject::invokeMethod(this, &Desk::schedulePulse, Qt::QueuedConnection);
            });
            m_instruments = server->service().market().instruments();
            awaitingAdmin = server->awaitingFirstAdmin();
        },
        Qt::BlockingQueuedConnection);
    m_needsFirstAdmin = awaitingAdmin;
    if (m_selectedSymbol.isEmpty() && !m_instruments.empty())
        setSelectedSymbol(QString::fromUtf8(m_instruments.front().symbol.view()));
    else if (const std::optional<InstrumentView> selected = selectedInstrument())
        m_tap->setWatchedInstrument(selected->id);
    m_statsTimer.start();
    emit instrumentsChanged();
    emit needsFirstAdminChanged();
    emit readyChanged();
    refreshStats();
}

void Desk::detach()
{
    if (!m_server)
        return;
    m_statsTimer.stop();
    m_frame.stop();
    MarketTap *tap = std::exchange(m_tap, nullptr);
    if (m_context) {
        QMetaObject::invokeMethod(
            m_context.data(), [tap] { delete tap; }, Qt::BlockingQueuedConnection);
    }
    m_server = nullptr;
    m_context = nullptr;
    emit readyChanged();
}

void Desk::setJournalAvailable(bool available, const QString &reason)
{
    const QString state = available ? QString() : reason;
    if (available == m_journalAvailable && state == m_journalState)
        return;
    const bool was = m_journalAvailable;
    m_journalAvailable = available;
    m_journalState = state;
    emit journalChanged();
    if (was && !available)
        emit notice(QStringLiteral("fault"), tr("Trading disabled"),
                    tr("The database cannot be written (%1). No order is accepted until it can.").arg(reason));
    else if (!was && available)
        emit notice(QStringLiteral("info"), tr("Trading enabled"), tr("The database is writable again."));
}

QString Desk::role() const
{
    return m_session ? QString(server::roleName(m_session->role)) : QString();
}

void Desk::setSelectedSymbol(const QString &symbol)
{
    if (symbol == m_selectedSymbol)
        return;
    m_selectedSymbol = symbol;
    if (m_tap) {
        const std::optional<InstrumentView> selected = instrument(symbol);
        m_tap->setWatchedInstrument(selected ? std::int64_t(selected->id) : -1);
    }
    emit selectedSymbolChanged();
}

QStringList Desk::symbols() const
{
    QStringList list;
    list.reserve(qsizetype(m_instruments.size()));
    for (const InstrumentView &view : m_instruments)
        list.append(QString::fromUtf8(view.symbol.view()));
    return list;
}

std::optional<InstrumentView> Desk::instrument(const QString &symbol) const
{
    const QByteArray wanted = symbol.toUtf8();
    for (const InstrumentView &view : m_instruments) {
        if (view.symbol.view() == std::string_view(wanted.constData(), std::size_t(wanted.size())))
            return view;
    }
    return std::nullopt;
}

std::optional<InstrumentView> Desk::instrument(InstrumentId id) const
{
    if (id < m_instruments.size() && m_instruments[id].id == id)
        return m_instruments[id];
    for (const InstrumentView &view : m_instruments) {
        if (view.id == id)
            return view;
    }
    return std::nullopt;
}

QByteArray Desk::nextRequestId()
{
    return QByteArrayLiteral("desktop-") + QByteArray::number(++m_requests);
}

void Desk::setFrameWindow(QQuickWindow *window)
{
    if (m_frameWindow)
        disconnect(m_frameWindow, nullptr, this, nullptr);
    m_frameWindow = window;
    if (!window)
        return;
    // The GUI thread, as a frame begins and before its polish and sync: what changes here is in this frame.
    connect(window, &QQuickWindow::afterAnimating, this, [this] {
        if (m_pulsePending)
            takePulse();
    });
}

void Desk::schedulePulse()
{
    // Once per burst: the pulse is taken when the next frame begins, and everything until then merges.
    if (m_pulsePending)
        return;
    m_pulsePending = true;
    if (m_frameWindow && m_frameWindow->isExposed()) {
        m_frameWindow->update();
        m_frame.start(kFrameFallbackMilliseconds);
        return;
    }
    m_frame.start(int(std::max<qint64>(0, kFrameMilliseconds - m_sinceLastPulse.elapsed())));
}

void Desk::takePulse()
{
    m_pulsePending = false;
    m_frame.stop();
    if (!m_tap)
        return;
    m_sinceLastPulse.restart();
    MarketPulse changes = m_tap->take();
    if (changes.empty())
        return;
    if (changes.instrumentsChanged)
        reloadInstruments();
    if (m_session) {
        for (const sql::OrderRecord &order : changes.orders) {
            if (order.status == sql::OrderStatus::Expired && order.filledQuantity.raw() == 0)
                emit notice(QStringLiteral("reject"), tr("Order expired"),
                            tr("Order %1 expired without a fill").arg(order.id));
        }
        for (const sql::FillRecord &fill : changes.fills) {
            const std::optional<InstrumentView> view = instrument(fill.instrument);
            emit notice(QStringLiteral("fill"), tr("Filled"),
                        tr("%1 %2 %3 @ %4")
                            .arg(fill.side == Side::Buy ? tr("Bought") : tr("Sold"),
                                 QString::fromStdString(fill.quantity.toString()),
                                 view ? QString::fromUtf8(view->symbol.view()) : QString::number(fill.instrument),
                                 QString::fromStdString(fill.price.toString())));
        }
    }
    emit pulse(changes);
}

void Desk::reloadInstruments()
{
    inspect<std::vector<InstrumentView>>(
        this, [](server::VenueServer &venue) { return venue.service().market().instruments(); },
        [this](std::vector<InstrumentView> instruments) {
            m_instruments = std::move(instruments);
            if (m_tap) {
                const std::optional<InstrumentView> selected = selectedInstrument();
                m_tap->setWatchedInstrument(selected ? std::int64_t(selected->id) : -1);
            }
            emit instrumentsChanged();
        });
}

void Desk::refreshStats()
{
    struct Figures
    {
        int http = 0;
        int webSockets = 0;
    };
    inspect<Figures>(
        this,
        [](server::VenueServer &venue) { return Figures{venue.httpConnections(), venue.webSockets().connectionCount()}; },
        [this](Figures figures) {
            if (figures.http == m_httpConnections && figures.webSockets == m_webSockets)
                return;
            m_httpConnections = figures.http;
            m_webSockets = figures.webSockets;
            emit statsChanged();
        });
}

void Desk::setBusy(bool busy)
{
    if (busy == m_busy)
        return;
    m_busy = busy;
    emit busyChanged();
}

void Desk::signIn(const QString &username, const QString &password)
{
    if (m_busy)
        return;
    if (username.trimmed().isEmpty()) {
        emit signInFailed(tr("Enter your username"), QStringLiteral("username"));
        return;
    }
    if (password.isEmpty()) {
        emit signInFailed(tr("Enter your password"), QStringLiteral("password"));
        return;
    }
    setBusy(true);
    call<server::TokenPair>(
        this,
        [username, password](server::VenueService &service, const server::Caller &caller,
                             server::Reply<server::TokenPair> reply) {
            service.login(caller, username, password, std::move(reply));
        },
        [this, username](server::ServiceResult<server::TokenPair> result) {
            if (!result) {
                setBusy(false);
                emit signInFailed(result.error().message, result.error().field);
                return;
            }
            startSession(*result, username);
        },
        true);
}

void Desk::startSession(const server::TokenPair &tokens, const QString &username)
{
    // The token says who signed in; the directory says with which role, as for every API request.
    const QByteArray access = tokens.accessToken;
    const QByteArray requestId = nextRequestId();
    inspect<server::ServiceResult<server::Caller>>(
        this,
        [access, requestId](server::VenueServer &venue) { return venue.service().authenticate(access, requestId); },
        [this, tokens, username](server::ServiceResult<server::Caller> caller) {
            setBusy(false);
            if (!caller) {
                emit signInFailed(caller.error().message, QString());
                return;
            }
            ++m_sessionEpoch;
            m_session = Session{caller->user, caller->username, caller->role, tokens.accessToken, tokens.refreshToken};
            m_sinceTokens.start();
            m_sessionTimer.start();
            if (m_tap)
                m_tap->setUser(caller->user);
            if (m_rememberedUsername != username) {
                m_rememberedUsername = username;
                windowSettings().setValue(kUsernameKey, username);
                emit rememberedUsernameChanged();
            }
            emit sessionChanged();
        });
}

void Desk::createFirstAdmin(const QString &username, const QString &password, const QString &confirmation)
{
    if (m_busy || !m_needsFirstAdmin)
        return;
    if (password != confirmation) {
        emit signInFailed(tr("The two passwords differ"), QStringLiteral("confirmation"));
        return;
    }
    setBusy(true);
    call<sql::UserRecord>(
        this,
        [username, password](server::VenueService &service, const server::Caller &,
                             server::Reply<sql::UserRecord> reply) {
            service.createFirstAdmin(username, password, std::move(reply));
        },
        [this, username, password](server::ServiceResult<sql::UserRecord> result) {
            if (!result) {
                setBusy(false);
                if (result.error().code == server::ErrorCode::Conflict && result.error().field.isEmpty()) {
                    // Someone made an admin meanwhile: the wizard is over; sign in instead.
                    m_needsFirstAdmin = false;
                    emit needsFirstAdminChanged();
                }
                emit signInFailed(result.error().message, result.error().field);
                return;
            }
            m_needsFirstAdmin = false;
            inspect<bool>(
                this,
                [](server::VenueServer &venue) {
                    venue.firstAdminCreated();
                    return true;
                },
                [](bool) {});
            emit needsFirstAdminChanged();
            setBusy(false);
            signIn(username, password);
        },
        true);
}

void Desk::signOut()
{
    if (!m_session)
        return;
    const QByteArray refresh = m_session->refreshToken;
    call<bool>(
        this,
        [refresh](server::VenueService &service, const server::Caller &caller, server::Reply<bool> reply) {
            service.logout(caller, refresh, std::move(reply));
        },
        [](server::ServiceResult<bool>) {});
    endSession(QString());
}

void Desk::endSession(const QString &reason)
{
    if (!m_session)
        return;
    m_session.reset();
    ++m_sessionEpoch;
    m_sessionTimer.stop();
    if (m_tap)
        m_tap->setUser(0);
    if (!reason.isEmpty())
        emit notice(QStringLiteral("fault"), tr("Signed out"), reason);
    emit sessionChanged();
}

void Desk::checkSession()
{
    if (!m_session)
        return;
    if (m_sinceTokens.elapsed() >= kRefreshAfterMilliseconds) {
        refreshTokens();
        return;
    }
    // Any call authenticates first: a disabled account or a revoked login ends the session there.
    call<bool>(
        this, [](server::VenueService &, const server::Caller &, server::Reply<bool> reply) { reply(true); },
        [](server::ServiceResult<bool>) {});
}

void Desk::refreshTokens()
{
    const QByteArray refresh = m_session->refreshToken;
    const std::uint64_t epoch = m_sessionEpoch;
    m_sinceTokens.restart();
    call<server::TokenPair>(
        this,
        [refresh](server::VenueService &service, const server::Caller &caller,
                  server::Reply<server::TokenPair> reply) { service.refresh(caller, refresh, std::move(reply)); },
        [this, epoch](server::ServiceResult<server::TokenPair> result) {
            if (epoch != m_sessionEpoch || !m_session)
                return;
            if (!result) {
                endSession(result.error().message);
                return;
            }
            m_session->accessToken = result->accessToken;
            m_session->refreshToken = result->refreshToken;
        },
        true);
}

void Desk::copyText(const QString &text) const
{
    if (QClipboard *clipboard = QGuiApplication::clipboard())
        clipboard->setText(text);
}

QVariant Desk::preference(const QString &key, const QVariant &fallback) const
{
    const QVariant value = windowSettings().value(QStringLiteral("window/") + key, fallback);
    // QSettings gives strings back for what it wrote as bools; the caller's fallback says the type.
    if (fallback.isValid() && value.typeId() != fallback.typeId() && value.canConvert(fallback.metaType())) {
        QVariant converted = value;
        converted.convert(fallback.metaType());
        return converted;
    }
    return value;
}

void Desk::setPreference(const QString &key, const QVariant &value)
{
    windowSettings().setValue(QStringLiteral("window/") + key, value);
}

void Desk::openUrl(const QString &url) const
{
    QDesktopServices::openUrl(QUrl(url));
}

} // namespace bourse::app
