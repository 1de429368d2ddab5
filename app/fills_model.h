// FillsModel: the signed-in user's fills for the orders panel, newest first — VenueService::fills pages,
// with the fills each pulse brings put on top in one batch — and their CSV export (the columns are the
// fields of GET /api/v1/fills). GUI thread only.
#pragma once

#include "desk.h"

#include <QAbstractListModel>
#include <QtQml/qqmlregistration.h>

#include <set>
#include <tuple>
#include <vector>

namespace bourse::app {

class FillsModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT

    Q_PROPERTY(int count READ count NOTIFY countChanged)
    Q_PROPERTY(bool loading READ loading NOTIFY loadingChanged)
    Q_PROPERTY(bool canLoadMore READ canLoadMore NOTIFY loadingChanged)

public:
    enum Roles {
        TimeRole = Qt::UserRole + 1,
        SymbolRole,
        SideRole,
        PriceRole,
        QuantityRole,
        LiquidityRole,
        OrderIdRole,
        TradeIdRole,
    };
    Q_ENUM(Roles)

    static constexpr int kPageSize = 100;

    explicit FillsModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    int count() const { return int(m_rows.size()); }
    bool loading() const { return m_loading; }
    bool canLoadMore() const { return !m_loading && m_loadedFromPages < m_total; }

    Q_INVOKABLE void reload();
    Q_INVOKABLE void loadMore();
    // Every fill of the user (not only the loaded pages); an empty path: ~/Documents/bourse-fills-<time>.csv.
    Q_INVOKABLE void exportCsv(const QString &path = QString());
    Q_INVOKABLE QString defaultExportPath() const;

signals:
    void countChanged();
    void loadingChanged();
    void actionFailed(const QString &message);
    void done(const QString &message);

private:
    // A fill is one side of a trade: the same trade is two fills when the user was on both sides.
    using Key = std::tuple<TradeId, OrderId>;
    static Key keyOf(const sql::FillRecord &fill) { return {fill.trade, fill.order}; }
    void onPulse(const MarketPulse &pulse);
    void setLoading(bool loading);

    Desk *m_desk = nullptr;
    std::vector<sql::FillRecord> m_rows; // newest first
    std::set<Key> m_keys;
    std::vector<sql::FillRecord> m_pending; // pulses heard before the first page came
    std::int64_t m_total = 0;
    std::int64_t m_loadedFromPages = 0;
    std::int64_t m_nextPage = 1;
    bool m_loading = false;
    quint64 m_generation = 0;
};

} // namespace bourse::app
