// BalancesModel: the signed-in user's balances for the balances panel, one row per asset (total,
// available, reserved, as GET /api/v1/account gives them): read with VenueService::balances, then kept
// current from each pulse with one dataChanged. GUI thread only.
#pragma once

#include "desk.h"

#include <QAbstractListModel>
#include <QtQml/qqmlregistration.h>

#include <vector>

namespace bourse::app {

class BalancesModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT

    Q_PROPERTY(int count READ count NOTIFY countChanged)

public:
    enum Roles {
        AssetRole = Qt::UserRole + 1,
        TotalRole,
        AvailableRole,
        ReservedRole,
    };
    Q_ENUM(Roles)

    explicit BalancesModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;
    int count() const { return int(m_rows.size()); }

    Q_INVOKABLE void reload();

signals:
    void countChanged();
    void actionFailed(const QString &message);

private:
    void onPulse(const MarketPulse &pulse);
    void apply(const std::vector<sql::BalanceRecord> &changes);

    Desk *m_desk = nullptr;
    std::vector<sql::BalanceRecord> m_rows; // by asset id
    std::vector<sql::BalanceRecord> m_pending; // pulses heard while the first read is on its way
    bool m_loading = false;
    quint64 m_generation = 0;
};

} // namespace bourse::app
