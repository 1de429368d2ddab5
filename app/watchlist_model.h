// WatchlistModel: the watchlist panel's rows — one per instrument (Desk::instruments()), with its last price
// (moved live by each pulse's trades) and its 24 h figures (VenueService::ticker, read at start and then at
// most once a second for the instruments that traded, and every instrument twice a minute as the window
// slides), narrowed by `filter`. select() makes a row Desk.selectedSymbol. GUI thread only.
#pragma once

#include "desk.h"

#include <QAbstractListModel>
#include <QTimer>
#include <QtQml/qqmlregistration.h>

#include <map>
#include <optional>
#include <set>
#include <vector>

namespace bourse::app {

// Not final: QML derives from what it creates.
class WatchlistModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT

    // Case-insensitive text matched against the symbol, the base and the quote asset; empty shows all.
    Q_PROPERTY(QString filter READ filter WRITE setFilter NOTIFY filterChanged)
    // The row of Desk.selectedSymbol among the rows shown; -1 when it is filtered out or unknown.
    Q_PROPERTY(int selectedRow READ selectedRow NOTIFY selectedRowChanged)
    Q_PROPERTY(int count READ count NOTIFY countChanged)

public:
    enum Roles {
        SymbolRole = Qt::UserRole + 1,
        BaseRole,
        QuoteRole,
        StatusRole,          // "trading" | "halted"
        LastPriceRole,       // decimal string; empty before the first trade
        Change24hRole,       // "+1.25%", "-0.40%", "0.00%"; empty without a trade in 24 h
        ChangeDirectionRole, // 1, 0, -1
        Volume24hRole,       // base quantity, decimal string
        TickSizeRole,
        LotSizeRole,
    };
    Q_ENUM(Roles)

    static constexpr int kTickerIntervalMilliseconds = 1000;
    static constexpr int kFullRefreshTicks = 30; // every instrument's figures every 30 s

    explicit WatchlistModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

    QString filter() const { return m_filter; }
    void setFilter(const QString &filter);
    int selectedRow() const;
    int count() const { return int(m_visible.size()); }

    // Makes the shown row `row` the desk's selected instrument; out of range: nothing happens.
    Q_INVOKABLE void select(int row);
    // The shown row of `symbol`; -1 when it is not shown.
    Q_INVOKABLE int rowOf(const QString &symbol) const;

signals:
    void filterChanged();
    void selectedRowChanged();
    void countChanged();

private:
    struct Entry
    {
        InstrumentView instrument;
        std::optional<Decimal> last;
        std::optional<Decimal> open; // the first price of the 24 h window
        Decimal volume;
    };

    void reloadInstruments();
    void applyPulse(const MarketPulse &pulse);
    void requestTickers(bool all);
    void applyTickers();
    bool matches(const Entry &entry) const;
    void rebuildVisible(); // m_visible from m_entries and m_filter, without signals
    // Emits one dataChanged over the shown rows of these entries (indexes into m_entries).
    void entriesChanged(const std::set<std::size_t> &entries);
    std::optional<std::size_t> entryOf(InstrumentId id) const;

    Desk *m_desk = nullptr; // the application's (Desk::instance()): outlives the window
    std::vector<Entry> m_entries;    // by instrument id order, as Desk::instruments()
    std::vector<std::size_t> m_visible; // the shown rows: indexes into m_entries
    QString m_filter;
    int m_lastSelectedRow = -1;

    QTimer m_tickerTimer;
    int m_ticks = 0;
    std::set<InstrumentId> m_traded; // traded since their last ticker read
    int m_tickersPending = 0;
    std::map<InstrumentId, sql::TickerFigures> m_tickerAnswers; // the round being read
    std::uint64_t m_generation = 0; // answers for an older instrument list are dropped
};

} // namespace bourse::app
