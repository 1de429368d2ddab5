// OrderBookModel: the depth ladder of Desk.selectedSymbol — `depth` ask rows (the highest price on top, the
// best ask nearest the middle) then `depth` bid rows (the best bid first), with running totals from the
// spread outwards, the depth bar's fraction and the signed-in user's own resting quantity at each price.
// GUI thread only.
//
// The row count is fixed at 2 × depth while an instrument is selected (0 when none is, or the symbol is
// unknown): a side with fewer levels than `depth` shows blank rows (price "", `blank` true) at its far end,
// so a new book top changes rows in place — diffed against the rows shown, one dataChanged per contiguous run
// of changed rows — and rows are only inserted or removed by a reset (another instrument, another depth).
//
// Source: MarketTap::bookTop and the user's open orders (AccountState::openOrders) read through
// Desk::inspect when the selection, the session or the depth changes; then each pulse's watchedBook (newer
// book seq only) and the user's orders on this instrument.
//
// Clicks: the panel calls Desk.fillTicket(side, price) with the side that TAKES the clicked level — an ask
// row fills the ticket with "buy" at its price (you click an offer to lift it), a bid row with "sell" (you
// click a bid to hit it). The model exposes `ticketSide` per row for that.
#pragma once

#include "desk.h"

#include <QAbstractListModel>
#include <QtQml/qqmlregistration.h>

#include <map>
#include <optional>
#include <vector>

namespace bourse::app {

// Not final: QML derives from what it creates.
class OrderBookModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT

    // Levels shown per side: 15 by default, clamped to 1..MarketTap::kBookDepth (200); 0 or less gives 1.
    Q_PROPERTY(int depth READ depth WRITE setDepth NOTIFY depthChanged)
    // Decimal strings; empty when a side is empty (spread and mid need both).
    Q_PROPERTY(QString bestBid READ bestBid NOTIFY topChanged)
    Q_PROPERTY(QString bestAsk READ bestAsk NOTIFY topChanged)
    Q_PROPERTY(QString spread READ spread NOTIFY topChanged)
    Q_PROPERTY(QString mid READ mid NOTIFY topChanged)
    Q_PROPERTY(QString maxCumulative READ maxCumulative NOTIFY topChanged)
    Q_PROPERTY(QString symbol READ symbol NOTIFY symbolChanged)

public:
    enum Roles {
        PriceRole = Qt::UserRole + 1, // decimal string, "" on a blank row
        SizeRole,                     // the level's resting quantity
        CumulativeRole,               // running total from the spread to this level
        DepthRatioRole,               // cumulative / maxCumulative: a display fraction 0..1 for the bar, not money
        SideRole,                     // "sell" for the ask rows, "buy" for the bid rows
        OwnSizeRole,                  // the user's resting quantity at this price; "" when none
        IsOwnRole,
        BlankRole,                    // no level here (a side shorter than depth)
        TicketSideRole,               // what a click fills the ticket with: "buy" on asks, "sell" on bids
    };
    Q_ENUM(Roles)

    static constexpr int kDefaultDepth = 15;

    explicit OrderBookModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

    int depth() const { return m_depth; }
    void setDepth(int depth);
    QString bestBid() const;
    QString bestAsk() const;
    QString spread() const;
    QString mid() const;
    QString maxCumulative() const;
    QString symbol() const;

signals:
    void depthChanged();
    void topChanged();
    void symbolChanged();

private:
    struct Row
    {
        friend bool operator==(const Row &, const Row &) = default;
        bool blank = true;
        Side side = Side::Sell;
        Decimal price;
        Decimal size;
        Decimal cumulative;
        double depthRatio = 0.0;
        Decimal ownSize;
    };

    void reload();                             // a new snapshot of the selected book: reset
    void applyPulse(const MarketPulse &pulse); // in place: diff
    std::vector<Row> buildRows() const;
    void showRows(std::vector<Row> rows); // diffs against m_rows, one dataChanged per changed run
    Decimal ownAt(Side side, Decimal price) const;
    QString text(Decimal value, bool price) const;

    Desk *m_desk = nullptr; // the application's (Desk::instance()): outlives the window
    int m_depth = kDefaultDepth;
    std::optional<InstrumentView> m_instrument; // the selected one, when known
    BookTop m_book;
    std::map<OrderId, sql::OrderRecord> m_ownOrders; // the user's open orders on m_instrument
    Seq m_ordersSeq = 0; // the accounts' seq the snapshot of m_ownOrders was read at
    std::vector<Row> m_rows;
    Decimal m_maxCumulative;
    std::uint64_t m_generation = 0; // snapshots asked for before the last reload() are dropped
};

} // namespace bourse::app
