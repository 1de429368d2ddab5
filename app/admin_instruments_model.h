// AdminInstrumentsModel: the admin panel's Instruments and Kill switch pages — every instrument of the venue
// with its trading rules and status (from Desk::instruments(), reloaded when the venue's instruments
// change), and the admin's commands: add an instrument, halt or resume one, and the kill switch (halt every
// instrument, or one, and cancel its resting orders). Each command is parsed with the /admin/* routes' own
// RequestBody and sent to the same VenueService call, so a bad value gets the API's message. GUI thread.
#pragma once

#include "desk.h"

#include <QAbstractListModel>
#include <QtQml/qqmlregistration.h>

#include <vector>

namespace bourse::app {

class AdminInstrumentsModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT

    Q_PROPERTY(QString error READ error NOTIFY errorChanged)
    Q_PROPERTY(QString errorField READ errorField NOTIFY errorChanged)
    Q_PROPERTY(QString message READ message NOTIFY messageChanged)
    Q_PROPERTY(bool busy READ busy NOTIFY busyChanged)
    // The last kill switch's result: the symbols it halted and the orders it cancelled.
    Q_PROPERTY(QStringList lastHalted READ lastHalted NOTIFY killSwitchFinished)
    Q_PROPERTY(int lastCancelled READ lastCancelled NOTIFY killSwitchFinished)

public:
    enum Roles {
        SymbolRole = Qt::UserRole + 1,
        BaseRole,
        QuoteRole,
        TickSizeRole,
        LotSizeRole,
        MinQuantityRole,
        StatusRole, // "trading" | "halted"
        HaltedRole,
    };
    Q_ENUM(Roles)

    explicit AdminInstrumentsModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    QString error() const { return m_error; }
    QString errorField() const { return m_errorField; }
    QString message() const { return m_message; }
    bool busy() const { return m_busy; }
    QStringList lastHalted() const { return m_lastHalted; }
    int lastCancelled() const { return m_lastCancelled; }

    // Sizes as decimal strings, as typed ("0.01").
    Q_INVOKABLE void addInstrument(const QString &symbol, const QString &base, const QString &quote,
                                   const QString &tickSize, const QString &lotSize, const QString &minQuantity);
    Q_INVOKABLE void setHalted(const QString &symbol, bool halted);
    // symbol "": every instrument.
    Q_INVOKABLE void killSwitch(const QString &symbol);
    // What the kill switch will do, for its confirmation dialog.
    Q_INVOKABLE QString killSwitchDescription(const QString &symbol) const;

signals:
    void errorChanged();
    void messageChanged();
    void busyChanged();
    void succeeded(const QString &message);
    void failed(const QString &message, const QString &field);
    void killSwitchFinished();

private:
    void reload();
    void apply(const InstrumentView &view);
    void fail(const server::ServiceError &error);
    void succeed(const QString &message);
    void setBusy(bool busy);

    std::vector<InstrumentView> m_rows; // by id
    QString m_error;
    QString m_errorField;
    QString m_message;
    bool m_busy = false;
    QStringList m_lastHalted;
    int m_lastCancelled = 0;
};

} // namespace bourse::app
