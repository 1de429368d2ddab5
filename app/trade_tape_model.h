// TradeTapeModel: time & sales of Desk.selectedSymbol, newest on top — the newest 100 trades from
// VenueService::trades when the selection changes (a reset), then each pulse's trades of that instrument
// inserted at row 0 in one batch, at most kMaxRows kept (the oldest removed in one batch). GUI thread only.
#pragma once

#include "desk.h"

#include <QAbstractListModel>
#include <QtQml/qqmlregistration.h>

#include <deque>
#include <optional>
#include <vector>

namespace bourse::app {

// Not final: QML derives from what it creates.
class TradeTapeModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT

    Q_PROPERTY(int count READ count NOTIFY countChanged)
    Q_PROPERTY(bool loading READ loading NOTIFY loadingChanged)

public:
    enum Roles {
        TimeRole = Qt::UserRole + 1, // "HH:mm:ss.zzz", local time
        PriceRole,                   // decimal string
        SizeRole,                    // decimal string
        SideRole,                    // the taker's side: "buy" | "sell"
        TradeIdRole,                 // the trade's id (a number)
    };
    Q_ENUM(Roles)

    static constexpr int kInitialRows = 100;
    static constexpr std::size_t kMaxRows = 500;

    explicit TradeTapeModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

    int count() const { return int(m_rows.size()); }
    bool loading() const { return m_loading; }

signals:
    void countChanged();
    void loadingChanged();

private:
    struct Row
    {
        TradeId id = 0;
        Decimal price;
        Decimal quantity;
        Side takerSide = Side::Buy;
        TimeNs time = 0;
    };

    void reload();
    void applyPulse(const MarketPulse &pulse);
    // Puts these trades (oldest first, any instrument, any age) on top of the rows: the selected
    // instrument's that are newer than the newest row, one insert, then one removal of the excess.
    void prepend(const std::vector<TapeTrade> &trades);
    void setLoading(bool loading);

    Desk *m_desk = nullptr; // the application's (Desk::instance()): outlives the window
    std::optional<InstrumentView> m_instrument;
    std::deque<Row> m_rows; // newest first
    TradeId m_newest = 0;   // trades up to this id are shown (or older than the first page)
    bool m_loading = false;
    std::vector<TapeTrade> m_held; // the pulses' trades while the first page is on its way
    std::uint64_t m_generation = 0;
};

} // namespace bourse::app
