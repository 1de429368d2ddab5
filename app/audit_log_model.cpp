#include "audit_log_model.h"

#include "admin_request.h"

#include <QDateTime>

namespace bourse::app {

AuditLogModel::AuditLogModel(QObject *parent)
    : QAbstractListModel(parent)
{
    if (Desk *desk = Desk::instance()) {
        connect(desk, &Desk::sessionChanged, this, [this] {
            if (Desk::instance()->isAdmin())
                load(1);
        });
        if (desk->isAdmin())
            load(1);
    }
}

int AuditLogModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QVariant AuditLogModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const sql::AuditRecord &entry = m_entries[m_rows[std::size_t(index.row())]];
    switch (role) {
    case EntryIdRole: return qint64(entry.id);
    case AtRole: return QDateTime::fromMSecsSinceEpoch(entry.at / 1'000'000, Qt::UTC).toString(Qt::ISODateWithMs);
    case Qt::DisplayRole:
    case ActionRole: return entry.action;
    case ActorRole: return entry.actor;
    case TargetRole: return entry.target;
    case DetailsRole: return entry.details;
    case RequestIdRole: return entry.requestId;
    default: return {};
    }
}

QHash<int, QByteArray> AuditLogModel::roleNames() const
{
    return {{EntryIdRole, "entryId"}, {AtRole, "at"},           {ActorRole, "actor"},        {ActionRole, "auditAction"},
            {TargetRole, "target"},   {DetailsRole, "details"}, {RequestIdRole, "requestId"}};
}

int AuditLogModel::pageCount() const
{
    return int(std::max<qint64>(1, (m_total + kPageSize - 1) / kPageSize));
}

void AuditLogModel::setFilterText(const QString &text)
{
    if (text == m_filter)
        return;
    m_filter = text;
    emit filterTextChanged();
    rebuild();
}

bool AuditLogModel::matches(const sql::AuditRecord &entry) const
{
    return m_filter.isEmpty() || entry.actor.contains(m_filter, Qt::CaseInsensitive)
           || entry.action.contains(m_filter, Qt::CaseInsensitive)
           || entry.target.contains(m_filter, Qt::CaseInsensitive);
}

void AuditLogModel::rebuild()
{
    beginResetModel();
    m_rows.clear();
    for (std::size_t i = 0; i < m_entries.size(); ++i) {
        if (matches(m_entries[i]))
            m_rows.push_back(i);
    }
    endResetModel();
}

void AuditLogModel::load(int page)
{
    Desk *desk = Desk::instance();
    if (!desk)
        return;
    const std::int64_t wanted = std::clamp<std::int64_t>(page, 1, pageCount());
    const sql::PageRequest request = sql::PageRequest::make(wanted, kPageSize).value();
    const std::uint64_t generation = ++m_generation;
    m_loading = true;
    emit loadingChanged();
    desk->call<sql::Page<sql::AuditRecord>>(this,
                                            adminOnly<sql::Page<sql::AuditRecord>>(
                                                [request](server::VenueService &service, const server::Caller &caller,
                                                          server::Reply<sql::Page<sql::AuditRecord>> reply) {
                                                    service.audit(caller, request, std::move(reply));
                                                }),
                                            [this,
                                             generation](server::ServiceResult<sql::Page<sql::AuditRecord>> result) {
                                                if (generation != m_generation)
                                                    return;
                                                m_loading = false;
                                                emit loadingChanged();
                                                if (!result) {
                                                    m_error = result.error().message;
                                                    emit errorChanged();
                                                    emit failed(result.error().message, result.error().field);
                                                    return;
                                                }
                                                if (!m_error.isEmpty()) {
                                                    m_error.clear();
                                                    emit errorChanged();
                                                }
                                                m_entries = std::move(result->rows);
                                                m_page = result->page;
                                                m_total = result->total;
                                                rebuild();
                                                emit pageChanged();
                                            });
}

} // namespace bourse::app
