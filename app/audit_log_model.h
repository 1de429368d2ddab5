// AuditLogModel: the admin panel's Audit log page — one page of the audit log at a time (VenueService::audit,
// newest first), filtered by the actor or action text typed (the page's rows whose actor, action or target
// contain it). GUI thread.
#pragma once

#include "desk.h"

#include <QAbstractListModel>
#include <QtQml/qqmlregistration.h>

#include <vector>

namespace bourse::app {

class AuditLogModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT

    Q_PROPERTY(QString filterText READ filterText WRITE setFilterText NOTIFY filterTextChanged)
    Q_PROPERTY(int page READ page NOTIFY pageChanged)
    Q_PROPERTY(int pageCount READ pageCount NOTIFY pageChanged)
    Q_PROPERTY(qint64 total READ total NOTIFY pageChanged)
    Q_PROPERTY(bool loading READ loading NOTIFY loadingChanged)
    Q_PROPERTY(QString error READ error NOTIFY errorChanged)

public:
    enum Roles {
        EntryIdRole = Qt::UserRole + 1,
        AtRole,      // ISO 8601, UTC
        ActorRole,
        ActionRole,
        TargetRole,
        DetailsRole, // JSON text
        RequestIdRole,
    };
    Q_ENUM(Roles)

    static constexpr int kPageSize = 100;

    explicit AuditLogModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    QString filterText() const { return m_filter; }
    void setFilterText(const QString &text);
    int page() const { return int(m_page); }
    int pageCount() const;
    qint64 total() const { return m_total; }
    bool loading() const { return m_loading; }
    QString error() const { return m_error; }

    // Page 1 is the newest.
    Q_INVOKABLE void load(int page);
    Q_INVOKABLE void refresh() { load(int(m_page)); }
    Q_INVOKABLE void nextPage() { load(int(m_page) + 1); }
    Q_INVOKABLE void previousPage() { load(int(m_page) - 1); }

signals:
    void filterTextChanged();
    void pageChanged();
    void loadingChanged();
    void errorChanged();
    void failed(const QString &message, const QString &field);

private:
    void rebuild();
    bool matches(const sql::AuditRecord &entry) const;

    std::vector<sql::AuditRecord> m_entries; // the page, newest first
    std::vector<std::size_t> m_rows;         // those that match the filter
    QString m_filter;
    std::int64_t m_page = 1;
    qint64 m_total = 0;
    bool m_loading = false;
    std::uint64_t m_generation = 0;
    QString m_error;
};

} // namespace bourse::app
