// OrdersModel: the signed-in user's orders for the orders panel, newest first — view "open" (the open
// orders, read from the venue's account state and kept current from each pulse, one batch per pulse) or
// "history" (closed orders, VenueService::orders pages, with orders that close meanwhile put on top) — and
// the commands on them: cancel, cancel all, amend, the CSV export with the API export's columns.
// GUI thread only.
#pragma once

#include "desk.h"

#include <QAbstractListModel>
#include <QtQml/qqmlregistration.h>

#include <vector>

namespace bourse::app {

// ---- what the orders and fills models share

// A CSV file's bytes as an export made them, and how many rows they hold.
struct CsvExport
{
    QByteArray bytes;
    int rows = 0;
};
// The user's orders through the filter, every one, as GET /orders/export.csv writes them (its header, its
// lines): read chunk by chunk on the API's thread with the service's export cursor.
void exportOrders(server::VenueService &service, const server::Caller &caller, sql::OrderFilter filter,
                  server::Reply<CsvExport> done);
// In the machine's time zone: "10:00:00.123" today, "2026-11-21 10:00" before.
QString localTime(TimeNs time);
// A path typed or a file: URL → a local path; "~/" is the home directory.
QString localPath(const QString &pathOrUrl);
// ~/Documents/<prefix>-<yyyyMMdd-HHmmss>.csv (the folder is made when missing).
QString defaultCsvPath(const QString &prefix);
// Writes the file whole or not at all; the reason when it could not.
QString writeCsv(const QString &path, const QByteArray &bytes);

class OrdersModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT

    Q_PROPERTY(QString view READ view WRITE setView NOTIFY viewChanged)
    Q_PROPERTY(int count READ count NOTIFY countChanged)
    Q_PROPERTY(bool loading READ loading NOTIFY loadingChanged)
    Q_PROPERTY(bool canLoadMore READ canLoadMore NOTIFY loadingChanged)

public:
    enum Roles {
        IdRole = Qt::UserRole + 1,
        SymbolRole,
        SideRole,
        TypeRole,
        PriceRole,
        QuantityRole,
        FilledRole,
        RemainingRole,
        AveragePriceRole,
        StatusRole,
        TimeInForceRole,
        PostOnlyRole,
        CreatedAtRole,
        OpenRole,
    };
    Q_ENUM(Roles)

    static constexpr int kPageSize = 100;

    explicit OrdersModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    QString view() const { return m_history ? QStringLiteral("history") : QStringLiteral("open"); }
    void setView(const QString &view);
    int count() const { return int(m_rows.size()); }
    bool loading() const { return m_loading; }
    bool canLoadMore() const { return m_history && !m_loading && std::int64_t(m_rows.size()) < m_total; }

    // Reads the view again from the venue (a whole new snapshot).
    Q_INVOKABLE void reload();
    // History: the next page of older orders.
    Q_INVOKABLE void loadMore();
    Q_INVOKABLE void cancel(const QString &id);
    // Every open order of the user, or only those on `symbol` when one is given; done() says which.
    Q_INVOKABLE void cancelAll(const QString &symbol = QString());
    // Empty text leaves that part of the order as it is.
    Q_INVOKABLE void amend(const QString &id, const QString &price, const QString &quantity);
    // Writes this view's orders (all of them, not only the loaded pages) as the API's CSV export does; an
    // empty path: ~/Documents/bourse-orders-<timestamp>.csv. done() names the file.
    Q_INVOKABLE void exportCsv(const QString &path = QString());
    Q_INVOKABLE QString defaultExportPath() const;

signals:
    void viewChanged();
    void countChanged();
    void loadingChanged();
    // A command the venue refused, with the API's message.
    void actionFailed(const QString &message);
    // A command that went through, in words for the status line.
    void done(const QString &message);

private:
    void onPulse(const MarketPulse &pulse);
    // Applies orders whose state changed (each the newest of its id) as one batch of row changes.
    void apply(std::vector<sql::OrderRecord> changes);
    void setLoading(bool loading);
    bool belongs(const sql::OrderRecord &order) const; // in this view
    QVariant value(const sql::OrderRecord &order, int role) const;

    Desk *m_desk = nullptr;
    bool m_history = false;
    // More runs of rows than this changing in one pulse: a reset instead of a signal per run.
    static constexpr std::size_t kMaxRuns = 8;

    std::vector<sql::OrderRecord> m_rows;    // id descending
    std::vector<sql::OrderRecord> m_pending; // pulses heard while the first snapshot is on its way
    std::int64_t m_total = 0;             // history: the listing's size at the last page read
    std::int64_t m_nextPage = 1;
    bool m_loading = false;
    quint64 m_generation = 0; // answers to an earlier reload are dropped
};

} // namespace bourse::app
