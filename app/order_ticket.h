// OrderTicket: the order entry form's state and rules for QML. It holds what the trader typed (as text),
// checks it as the API would — the same messages, from the same functions (RequestBody for the typed
// amounts, rejectMessage for the engine's order checks) — and places the order through
// VenueService::placeOrder. What it cannot know for sure (post-only that would take, a balance that moved)
// the engine answers, and that answer is shown too. GUI thread only.
#pragma once

#include "decimal.h"
#include "desk.h"

#include <QObject>
#include <QString>
#include <QtQml/qqmlregistration.h>

#include <optional>

namespace bourse::app {

// A decimal amount the trader typed, read with the API's own rules and messages (RequestBody::decimal):
// "price has more than 8 decimal places", "quantity is required", ... Empty text is an absent member.
// A value (or none when absent), or the message.
struct TypedAmount
{
    std::optional<Decimal> value;
    QString error;
};
TypedAmount readAmount(const char *field, const QString &text, bool required);

class OrderTicket : public QObject
{
    Q_OBJECT
    QML_ELEMENT

    Q_PROPERTY(QString symbol READ symbol WRITE setSymbol NOTIFY symbolChanged)
    Q_PROPERTY(QString side READ side WRITE setSide NOTIFY formChanged)
    Q_PROPERTY(QString type READ type WRITE setType NOTIFY formChanged)
    Q_PROPERTY(QString timeInForce READ timeInForce WRITE setTimeInForce NOTIFY formChanged)
    Q_PROPERTY(bool postOnly READ postOnly WRITE setPostOnly NOTIFY formChanged)
    Q_PROPERTY(QString price READ price WRITE setPrice NOTIFY formChanged)
    Q_PROPERTY(QString quantity READ quantity WRITE setQuantity NOTIFY formChanged)
    Q_PROPERTY(bool confirmBeforeSubmit READ confirmBeforeSubmit WRITE setConfirmBeforeSubmit NOTIFY
                   confirmBeforeSubmitChanged)
    Q_PROPERTY(QString tickSize READ tickSize NOTIFY symbolChanged)
    Q_PROPERTY(QString lotSize READ lotSize NOTIFY symbolChanged)
    Q_PROPERTY(QString minQuantity READ minQuantity NOTIFY symbolChanged)
    Q_PROPERTY(QString baseAsset READ baseAsset NOTIFY symbolChanged)
    Q_PROPERTY(QString quoteAsset READ quoteAsset NOTIFY symbolChanged)
    Q_PROPERTY(QString notional READ notional NOTIFY stateChanged)
    Q_PROPERTY(QString available READ available NOTIFY stateChanged)
    Q_PROPERTY(QString availableAsset READ availableAsset NOTIFY stateChanged)
    Q_PROPERTY(QString priceError READ priceError NOTIFY stateChanged)
    Q_PROPERTY(QString quantityError READ quantityError NOTIFY stateChanged)
    Q_PROPERTY(QString orderError READ orderError NOTIFY stateChanged)
    Q_PROPERTY(QString reason READ reason NOTIFY stateChanged)
    Q_PROPERTY(bool canSubmit READ canSubmit NOTIFY stateChanged)
    Q_PROPERTY(bool submitting READ submitting NOTIFY stateChanged)
    Q_PROPERTY(bool halted READ halted NOTIFY stateChanged)

public:
    explicit OrderTicket(QObject *parent = nullptr);

    QString symbol() const { return m_symbol; }
    void setSymbol(const QString &symbol);
    QString side() const { return m_side; }
    void setSide(const QString &side);
    QString type() const { return m_type; }
    void setType(const QString &type);
    QString timeInForce() const { return m_timeInForce; }
    void setTimeInForce(const QString &timeInForce);
    bool postOnly() const { return m_postOnly; }
    void setPostOnly(bool postOnly);
    QString price() const { return m_price; }
    void setPrice(const QString &price);
    QString quantity() const { return m_quantity; }
    void setQuantity(const QString &quantity);
    bool confirmBeforeSubmit() const { return m_confirm; }
    void setConfirmBeforeSubmit(bool confirm);

    QString tickSize() const;
    QString lotSize() const;
    QString minQuantity() const;
    QString baseAsset() const;
    QString quoteAsset() const;
    QString notional() const { return m_notional; }
    QString available() const;
    QString availableAsset() const { return m_side == QLatin1String("sell") ? baseAsset() : quoteAsset(); }
    QString priceError() const { return m_priceError; }
    QString quantityError() const { return m_quantityError; }
    // The order-level reason: local checks first, else what the venue last answered.
    QString orderError() const { return m_orderError.isEmpty() ? m_venueError : m_orderError; }
    // Why the order cannot be sent now: the first of the errors above; empty when it can.
    QString reason() const;
    bool canSubmit() const { return reason().isEmpty() && !m_submitting; }
    bool submitting() const { return m_submitting; }
    bool halted() const { return m_instrument && m_instrument->status == InstrumentStatus::Halted; }

    // The arrow keys and the mouse wheel: ± whole ticks / lots, onto the grid. From an empty field the
    // price starts at the best bid (buy) or ask (sell), the quantity at one lot (or the minimum).
    Q_INVOKABLE void stepPrice(int ticks);
    Q_INVOKABLE void stepQuantity(int lots);
    // The ladder's click: a side and a price.
    Q_INVOKABLE void take(const QString &side, const QString &price);
    // Places the order when the checks pass; otherwise emits rejected() with the reason and sends nothing.
    Q_INVOKABLE void submit();
    // The same order as an API call, for a script: the token is left as $BOURSE_TOKEN.
    Q_INVOKABLE QString curlCommand() const;
    Q_INVOKABLE void copyAsCurl() const;

signals:
    void symbolChanged();
    void formChanged();
    void stateChanged();
    void confirmBeforeSubmitChanged();
    void submitted(const QString &orderId, const QString &status);
    void rejected(const QString &message);

private:
    void loadInstrument();
    void refreshMarket(); // balances and the best prices, read on the API's thread
    void onPulse(const MarketPulse &pulse);
    void edited();        // the form changed: the venue's last answer no longer applies
    void validate();
    QString priceText() const { return m_price.trimmed(); }
    QString quantityText() const { return m_quantity.trimmed(); }
    std::optional<PlaceOrder> order() const;

    Desk *m_desk = nullptr;
    QString m_symbol;
    QString m_side = QStringLiteral("buy");
    QString m_type = QStringLiteral("limit");
    QString m_timeInForce = QStringLiteral("gtc");
    bool m_postOnly = false;
    QString m_price;
    QString m_quantity;
    bool m_confirm = false;

    std::optional<InstrumentView> m_instrument;
    std::optional<Decimal> m_baseAvailable;
    std::optional<Decimal> m_quoteAvailable;
    std::optional<Decimal> m_bestBid;
    std::optional<Decimal> m_bestAsk;

    QString m_notional;
    QString m_priceError;
    QString m_quantityError;
    QString m_orderError;
    bool m_orderErrorFirst = true; // a role, symbol, halt or option error: before the fields' own
    QString m_venueError;
    bool m_submitting = false;
};

} // namespace bourse::app
