#include "orders_model.h"

#include "api_json.h"
#include "error_code.h"
#include "order_ticket.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QSaveFile>
#include <QStandardPaths>
#include <QUrl>

#include <algorithm>
#include <map>

namespace bourse::app {

namespace {

// Rows are kept id descending: the newest order first, as the API lists them.
bool newerFirst(const sql::OrderRecord &row, OrderId id)
{
    return row.id > id;
}

// Reads the export cursor's chunks one after another on the service's thread; the pending read keeps it.
class OrderExportJob final : public std::enable_shared_from_this<OrderExportJob>
{
public:
    OrderExportJob(server::VenueService &service, sql::OrderFilter filter, server::Reply<CsvExport> done)
        : m_service(service)
        , m_cursor(std::make_shared<sql::OrderExport>(filter))
        , m_done(std::move(done))
    {
        m_csv.bytes = server::csvHeader();
    }

    void next()
    {
        m_service.exportChunk(m_cursor, [self = shared_from_this()](
                                            server::ServiceResult<std::vector<sql::OrderRecord>> chunk) {
            self->take(std::move(chunk));
        });
    }

private:
    void take(server::ServiceResult<std::vector<sql::OrderRecord>> chunk)
    {
        if (!chunk) {
            m_done(unexpected(chunk.error()));
            return;
        }
        if (chunk->empty()) {
            m_done(std::move(m_csv));
            return;
        }
        for (const sql::OrderRecord &order : *chunk)
            m_csv.bytes.append(server::csvLine(order, m_service.market()));
        m_csv.rows += int(chunk->size());
        next();
    }

    server::VenueService &m_service;
    std::shared_ptr<sql::OrderExport> m_cursor;
    server::Reply<CsvExport> m_done;
    CsvExport m_csv;
};

} // namespace

void exportOrders(server::VenueService &service, const server::Caller &caller, sql::OrderFilter filter,
                  server::Reply<CsvExport> done)
{
    const server::ServiceResult<sql::OrderFilter> allowed = service.checkedOrderFilter(caller, filter);
    if (!allowed) {
        done(unexpected(allowed.error()));
        return;
    }
    std::make_shared<OrderExportJob>(service, *allowed, std::move(done))->next();
}

QString localTime(TimeNs time)
{
    // Today's as the time alone, which is what a narrow column has room for; older ones with their date.
    const QDateTime local = QDateTime::fromMSecsSinceEpoch(time / 1'000'000).toLocalTime();
    return local.date() == QDate::currentDate() ? local.toString(QStringLiteral("HH:mm:ss.zzz"))
                                                : local.toString(QStringLiteral("yyyy-MM-dd HH:mm"));
}

QString localPath(const QString &pathOrUrl)
{
    const QString path = pathOrUrl.trimmed();
    if (path.startsWith(QLatin1String("file:")))
        return QUrl(path).toLocalFile();
    if (path == QLatin1String("~") || path.startsWith(QLatin1String("~/")))
        return QDir::homePath() + path.mid(1);
    return path;
}

QString defaultCsvPath(const QString &prefix)
{
    QString folder = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
    if (folder.isEmpty())
        folder = QDir::homePath() + QStringLiteral("/Documents");
    return QStringLiteral("%1/%2-%3.csv")
        .arg(folder, prefix, QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss")));
}

QString writeCsv(const QString &path, const QByteArray &bytes)
{
    if (path.isEmpty())
        return QObject::tr("Choose a file to export to");
    QDir().mkpath(QFileInfo(path).absolutePath());
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit())
        return QObject::tr("Cannot write %1: %2").arg(path, file.errorString());
    return QString();
}

OrdersModel::OrdersModel(QObject *parent)
    : QAbstractListModel(parent)
    , m_desk(Desk::instance())
{
    if (!m_desk)
        return;
    connect(m_desk, &Desk::pulse, this, &OrdersModel::onPulse);
    connect(m_desk, &Desk::sessionChanged, this, &OrdersModel::reload);
    reload();
}

int OrdersModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QHash<int, QByteArray> OrdersModel::roleNames() const
{
    return {
        {IdRole, "id"},
        {SymbolRole, "symbol"},
        {SideRole, "side"},
        {TypeRole, "type"},
        {PriceRole, "price"},
        {QuantityRole, "quantity"},
        {FilledRole, "filled"},
        {RemainingRole, "remaining"},
        {AveragePriceRole, "averagePrice"},
        {StatusRole, "status"},
        {TimeInForceRole, "timeInForce"},
        {PostOnlyRole, "postOnly"},
        {CreatedAtRole, "createdAt"},
        {OpenRole, "open"},
    };
}

QVariant OrdersModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return QVariant();
    return value(m_rows[std::size_t(index.row())], role);
}

QVariant OrdersModel::value(const sql::OrderRecord &order, int role) const
{
    const std::optional<InstrumentView> instrument = m_desk ? m_desk->instrument(order.instrument) : std::nullopt;
    const server::Precision precision = server::precisionOf(instrument);
    const auto amount = [](Decimal value, int digits) { return QString::fromStdString(value.toString(digits)); };
    switch (role) {
    case IdRole: return QString::number(order.id);
    case SymbolRole: return instrument ? QString::fromUtf8(instrument->symbol.view()) : QString::number(order.instrument);
    case SideRole: return QString::fromUtf8(sideName(order.side));
    case TypeRole: return QString::fromUtf8(orderTypeName(order.type));
    case PriceRole: return order.price ? amount(*order.price, precision.price) : QString();
    case QuantityRole: return amount(order.quantity, precision.quantity);
    case FilledRole: return amount(order.filledQuantity, precision.quantity);
    case RemainingRole: return amount(order.remainingQuantity(), precision.quantity);
    case AveragePriceRole: {
        const std::optional<Decimal> average = order.averagePrice();
        return average ? amount(*average, precision.price) : QString();
    }
    case StatusRole: return QString::fromLatin1(sql::ProjectionUpdate::statusName(order.status));
    case TimeInForceRole: return QString::fromUtf8(timeInForceName(order.timeInForce));
    case PostOnlyRole: return order.postOnly;
    case CreatedAtRole: return localTime(order.createdAt);
    case OpenRole: return order.isOpen();
    default: return QVariant();
    }
}

void OrdersModel::setView(const QString &view)
{
    const bool history = view == QLatin1String("history");
    if (history == m_history || (!history && view != QLatin1String("open")))
        return;
    m_history = history;
    emit viewChanged();
    reload();
}

bool OrdersModel::belongs(const sql::OrderRecord &order) const
{
    return m_history ? !order.isOpen() : order.isOpen();
}

void OrdersModel::setLoading(bool loading)
{
    if (loading == m_loading)
        return;
    m_loading = loading;
    emit loadingChanged();
}

void OrdersModel::reload()
{
    const quint64 generation = ++m_generation;
    m_pending.clear();
    if (!m_rows.empty()) {
        beginResetModel();
        m_rows.clear();
        m_total = 0;
        endResetModel();
        emit countChanged();
    }
    m_nextPage = 1;
    const std::optional<AccountId> user = m_desk ? m_desk->userId() : std::nullopt;
    if (!user) {
        setLoading(false);
        return;
    }
    setLoading(true);
    if (!m_history) {
        // The venue's own account state: exactly the open orders as of its last durable batch.
        struct Snapshot
        {
            std::vector<sql::OrderRecord> orders;
            Seq seq = 0;
        };
        const AccountId who = *user;
        m_desk->inspect<Snapshot>(
            this,
            [who](server::VenueServer &venue) {
                const server::AccountState &accounts = venue.service().accounts();
                return Snapshot{accounts.openOrders(who), accounts.lastSeq()};
            },
            [this, generation](Snapshot snapshot) {
                if (generation != m_generation)
                    return;
                std::reverse(snapshot.orders.begin(), snapshot.orders.end());
                beginResetModel();
                m_rows = std::move(snapshot.orders);
                endResetModel();
                emit countChanged();
                // What pulses said meanwhile, where it is newer than the snapshot.
                std::vector<sql::OrderRecord> later;
                for (sql::OrderRecord &order : m_pending) {
                    if (order.seq > snapshot.seq)
                        later.push_back(std::move(order));
                }
                m_pending.clear();
                setLoading(false);
                apply(std::move(later));
            });
        return;
    }
    loadMore();
}

void OrdersModel::loadMore()
{
    if (!m_history || !m_desk || (m_loading && m_nextPage > 1) || (m_nextPage > 1 && !canLoadMore()))
        return;
    const Expected<sql::PageRequest, sql::PageRequest::Invalid> page = sql::PageRequest::make(m_nextPage, kPageSize);
    if (!page)
        return;
    setLoading(true);
    const quint64 generation = m_generation;
    const sql::PageRequest request = *page;
    m_desk->call<sql::Page<sql::OrderRecord>>(
        this,
        [request](server::VenueService &service, const server::Caller &caller,
                  server::Reply<sql::Page<sql::OrderRecord>> reply) {
            sql::OrderFilter filter;
            filter.status = sql::OrderStatusFilter::Closed;
            service.orders(caller, filter, request, std::move(reply));
        },
        [this, generation](server::ServiceResult<sql::Page<sql::OrderRecord>> result) {
            if (generation != m_generation)
                return;
            setLoading(false);
            if (!result) {
                emit actionFailed(result.error().message);
                return;
            }
            ++m_nextPage;
            m_total = result->total;
            // Older orders below what is shown; rows the pulses already put in are not repeated.
            std::vector<sql::OrderRecord> older;
            for (sql::OrderRecord &order : result->rows) {
                const auto at = std::lower_bound(m_rows.begin(), m_rows.end(), order.id, newerFirst);
                if (at == m_rows.end() || at->id != order.id)
                    older.push_back(std::move(order));
            }
            std::vector<sql::OrderRecord> pending = std::move(m_pending);
            m_pending.clear();
            older.insert(older.end(), std::make_move_iterator(pending.begin()), std::make_move_iterator(pending.end()));
            apply(std::move(older));
            emit loadingChanged(); // canLoadMore follows the total
        });
}

void OrdersModel::onPulse(const MarketPulse &pulse)
{
    if (pulse.orders.empty())
        return;
    if (m_loading && (!m_history || m_nextPage == 1)) {
        // The first snapshot is on its way: these are applied on top of it.
        m_pending.insert(m_pending.end(), pulse.orders.begin(), pulse.orders.end());
        return;
    }
    apply(pulse.orders);
}

void OrdersModel::apply(std::vector<sql::OrderRecord> changes)
{
    if (changes.empty())
        return;
    // The latest state of each order.
    std::map<OrderId, sql::OrderRecord, std::greater<>> latest;
    for (sql::OrderRecord &order : changes) {
        auto [at, inserted] = latest.try_emplace(order.id, order);
        if (!inserted && order.seq >= at->second.seq)
            at->second = std::move(order);
    }

    std::vector<OrderId> removed;
    std::vector<OrderId> updated;
    std::vector<sql::OrderRecord> added; // id descending
    for (auto &[id, order] : latest) {
        const auto at = std::lower_bound(m_rows.begin(), m_rows.end(), id, newerFirst);
        const bool present = at != m_rows.end() && at->id == id;
        if (present) {
            if (order.seq < at->seq)
                continue; // an older answer than what is shown
            if (belongs(order)) {
                *at = order;
                updated.push_back(id);
            } else {
                removed.push_back(id);
            }
        } else if (belongs(order)) {
            added.push_back(order);
        }
    }

    // Contiguous runs of rows, so that a burst costs a few signals, not one per order.
    const auto rowOf = [this](OrderId id) {
        return int(std::lower_bound(m_rows.begin(), m_rows.end(), id, newerFirst) - m_rows.begin());
    };
    std::vector<int> removedRows;
    for (const OrderId id : removed)
        removedRows.push_back(rowOf(id));
    std::sort(removedRows.begin(), removedRows.end(), std::greater<>());
    std::size_t runs = 0;
    for (std::size_t i = 0; i < removedRows.size(); ++i) {
        if (i == 0 || removedRows[i] != removedRows[i - 1] - 1)
            ++runs;
    }
    std::size_t insertRuns = 0;
    {
        int previous = -1;
        for (const sql::OrderRecord &order : added) {
            const int row = rowOf(order.id);
            if (row != previous)
                ++insertRuns;
            previous = row;
        }
    }
    const bool countChanges = !removed.empty() || !added.empty();
    if (runs + insertRuns > kMaxRuns) {
        // Scattered all over: one new snapshot is cheaper than many moves.
        beginResetModel();
        for (const int row : removedRows)
            m_rows.erase(m_rows.begin() + row);
        for (sql::OrderRecord &order : added)
            m_rows.insert(std::lower_bound(m_rows.begin(), m_rows.end(), order.id, newerFirst), std::move(order));
        if (m_history)
            m_total += std::int64_t(added.size());
        endResetModel();
        emit countChanged();
        return;
    }

    // Removals, from the bottom up, one signal per run.
    std::size_t i = 0;
    while (i < removedRows.size()) {
        std::size_t j = i;
        while (j + 1 < removedRows.size() && removedRows[j + 1] == removedRows[j] - 1)
            ++j;
        const int first = removedRows[j];
        const int last = removedRows[i];
        beginRemoveRows(QModelIndex(), first, last);
        m_rows.erase(m_rows.begin() + first, m_rows.begin() + last + 1);
        endRemoveRows();
        i = j + 1;
    }
    // Insertions, one signal per run of orders that land together.
    i = 0;
    while (i < added.size()) {
        const int row = rowOf(added[i].id);
        std::size_t j = i;
        while (j + 1 < added.size() && rowOf(added[j + 1].id) == row)
            ++j;
        beginInsertRows(QModelIndex(), row, row + int(j - i));
        m_rows.insert(m_rows.begin() + row, std::make_move_iterator(added.begin() + std::ptrdiff_t(i)),
                      std::make_move_iterator(added.begin() + std::ptrdiff_t(j + 1)));
        endInsertRows();
        i = j + 1;
    }
    if (m_history)
        m_total += std::int64_t(added.size());
    // One dataChanged over the range of the rows that changed in place.
    if (!updated.empty()) {
        int first = int(m_rows.size());
        int last = -1;
        for (const OrderId id : updated) {
            const int row = rowOf(id);
            first = std::min(first, row);
            last = std::max(last, row);
        }
        emit dataChanged(index(first), index(last));
    }
    if (countChanges)
        emit countChanged();
}

void OrdersModel::cancel(const QString &id)
{
    bool ok = false;
    const OrderId order = id.toULongLong(&ok);
    if (!ok || !m_desk) {
        emit actionFailed(QStringLiteral("order not found"));
        return;
    }
    m_desk->call<sql::OrderRecord>(
        this,
        [order](server::VenueService &service, const server::Caller &caller, server::Reply<sql::OrderRecord> reply) {
            service.cancelOrder(caller, order, std::move(reply));
        },
        [this](server::ServiceResult<sql::OrderRecord> result) {
            if (!result) {
                emit actionFailed(result.error().message);
                return;
            }
            apply({*result});
            emit done(tr("Cancelled order %1").arg(result->id));
        });
}

void OrdersModel::cancelAll(const QString &symbol)
{
    if (!m_desk)
        return;
    std::optional<InstrumentId> instrument;
    if (!symbol.isEmpty()) {
        const std::optional<InstrumentView> view = m_desk->instrument(symbol);
        if (!view) {
            server::RejectContext context;
            context.symbol = symbol;
            emit actionFailed(server::rejectMessage(RejectReason::UnknownInstrument, context));
            return;
        }
        instrument = view->id;
    }
    m_desk->call<server::CancelAllResult>(
        this,
        [instrument](server::VenueService &service, const server::Caller &caller,
                     server::Reply<server::CancelAllResult> reply) {
            service.cancelAll(caller, instrument, std::move(reply));
        },
        [this, symbol](server::ServiceResult<server::CancelAllResult> result) {
            if (!result) {
                emit actionFailed(result.error().message);
                return;
            }
            const int count = int(result->orders.size());
            emit done(symbol.isEmpty() ? tr("Cancelled %n open order(s) on every instrument", nullptr, count)
                                       : tr("Cancelled %n open order(s) on %1", nullptr, count).arg(symbol));
        });
}

void OrdersModel::amend(const QString &id, const QString &price, const QString &quantity)
{
    bool ok = false;
    const OrderId order = id.toULongLong(&ok);
    if (!ok || !m_desk) {
        emit actionFailed(QStringLiteral("order not found"));
        return;
    }
    // As PATCH /orders/{id} reads its body: each amount optional, at least one given.
    const TypedAmount newPrice = readAmount("price", price.trimmed(), false);
    const TypedAmount newQuantity = readAmount("quantity", quantity.trimmed(), false);
    QString error = !newPrice.error.isEmpty() ? newPrice.error : newQuantity.error;
    if (error.isEmpty() && !newPrice.value && !newQuantity.value)
        error = QStringLiteral("give price, quantity or both");
    if (!error.isEmpty()) {
        emit actionFailed(error);
        return;
    }
    const std::optional<Decimal> priceValue = newPrice.value;
    const std::optional<Decimal> quantityValue = newQuantity.value;
    m_desk->call<sql::OrderRecord>(
        this,
        [order, priceValue, quantityValue](server::VenueService &service, const server::Caller &caller,
                                           server::Reply<sql::OrderRecord> reply) {
            service.amendOrder(caller, order, priceValue, quantityValue, std::move(reply));
        },
        [this](server::ServiceResult<sql::OrderRecord> result) {
            if (!result) {
                emit actionFailed(result.error().message);
                return;
            }
            apply({*result});
            emit done(tr("Amended order %1").arg(result->id));
        });
}

QString OrdersModel::defaultExportPath() const
{
    return defaultCsvPath(QStringLiteral("bourse-orders"));
}

void OrdersModel::exportCsv(const QString &path)
{
    if (!m_desk)
        return;
    const QString file = path.trimmed().isEmpty() ? defaultExportPath() : localPath(path);
    const bool history = m_history;
    m_desk->call<CsvExport>(
        this,
        [history](server::VenueService &service, const server::Caller &caller, server::Reply<CsvExport> reply) {
            sql::OrderFilter filter;
            filter.status = history ? sql::OrderStatusFilter::Closed : sql::OrderStatusFilter::Open;
            exportOrders(service, caller, filter, std::move(reply));
        },
        [this, file](server::ServiceResult<CsvExport> result) {
            if (!result) {
                emit actionFailed(result.error().message);
                return;
            }
            const QString written = writeCsv(file, result->bytes);
            if (!written.isEmpty()) {
                emit actionFailed(written);
                return;
            }
            emit done(tr("Exported %n order(s) to %1", nullptr, result->rows).arg(file));
        });
}

} // namespace bourse::app
