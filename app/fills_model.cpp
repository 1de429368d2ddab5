#include "fills_model.h"

#include "api_json.h"
#include "orders_model.h"

#include <algorithm>

namespace bourse::app {

namespace {

QByteArray fillsCsvHeader()
{
    return QByteArrayLiteral("trade_id,order_id,symbol,side,price,quantity,liquidity,timestamp\r\n");
}

QByteArray fillsCsvLine(const sql::FillRecord &fill, const server::MarketState &market)
{
    const std::optional<InstrumentView> instrument = market.instrument(fill.instrument);
    const server::Precision precision = server::precisionOf(instrument);
    QByteArray line;
    line.append(QByteArray::number(fill.trade)).append(',');
    line.append(QByteArray::number(fill.order)).append(',');
    if (instrument)
        line.append(instrument->symbol.view().data(), qsizetype(instrument->symbol.size()));
    line.append(',');
    line.append(sideName(fill.side).data()).append(',');
    line.append(fill.price.toString(precision.price).c_str()).append(',');
    line.append(fill.quantity.toString(precision.quantity).c_str()).append(',');
    line.append(sql::liquidityName(fill.liquidity).data()).append(',');
    line.append(server::rfc3339(fill.time)).append("\r\n");
    return line;
}

// Reads every page of the user's fills, one after another, on the service's thread.
class FillExportJob final : public std::enable_shared_from_this<FillExportJob>
{
public:
    FillExportJob(server::VenueService &service, server::Caller caller, server::Reply<CsvExport> done)
        : m_service(service)
        , m_caller(std::move(caller))
        , m_done(std::move(done))
    {
        m_csv.bytes = fillsCsvHeader();
    }

    void next()
    {
        const auto page = sql::PageRequest::make(m_page, sql::PageRequest::kMaxSize);
        if (!page) {
            m_done(std::move(m_csv));
            return;
        }
        m_service.fills(m_caller, std::nullopt, *page,
                        [self = shared_from_this()](server::ServiceResult<sql::Page<sql::FillRecord>> rows) {
                            self->take(std::move(rows));
                        });
    }

private:
    void take(server::ServiceResult<sql::Page<sql::FillRecord>> rows)
    {
        if (!rows) {
            m_done(unexpected(rows.error()));
            return;
        }
        for (const sql::FillRecord &fill : rows->rows)
            m_csv.bytes.append(fillsCsvLine(fill, m_service.market()));
        m_csv.rows += int(rows->rows.size());
        if (rows->rows.empty() || std::int64_t(m_csv.rows) >= rows->total) {
            m_done(std::move(m_csv));
            return;
        }
        ++m_page;
        next();
    }

    server::VenueService &m_service;
    server::Caller m_caller;
    server::Reply<CsvExport> m_done;
    CsvExport m_csv;
    std::int64_t m_page = 1;
};

} // namespace

FillsModel::FillsModel(QObject *parent)
    : QAbstractListModel(parent)
    , m_desk(Desk::instance())
{
    if (!m_desk)
        return;
    connect(m_desk, &Desk::pulse, this, &FillsModel::onPulse);
    connect(m_desk, &Desk::sessionChanged, this, &FillsModel::reload);
    reload();
}

int FillsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QHash<int, QByteArray> FillsModel::roleNames() const
{
    return {
        {TimeRole, "time"},         {SymbolRole, "symbol"},       {SideRole, "side"},
        {PriceRole, "price"},       {QuantityRole, "quantity"},   {LiquidityRole, "liquidity"},
        {OrderIdRole, "orderId"},   {TradeIdRole, "tradeId"},
    };
}

QVariant FillsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return QVariant();
    const sql::FillRecord &fill = m_rows[std::size_t(index.row())];
    const std::optional<InstrumentView> instrument = m_desk ? m_desk->instrument(fill.instrument) : std::nullopt;
    const server::Precision precision = server::precisionOf(instrument);
    switch (role) {
    case TimeRole: return localTime(fill.time);
    case SymbolRole: return instrument ? QString::fromUtf8(instrument->symbol.view()) : QString::number(fill.instrument);
    case SideRole: return QString::fromUtf8(sideName(fill.side));
    case PriceRole: return QString::fromStdString(fill.price.toString(precision.price));
    case QuantityRole: return QString::fromStdString(fill.quantity.toString(precision.quantity));
    case LiquidityRole: return QString(sql::liquidityName(fill.liquidity));
    case OrderIdRole: return QString::number(fill.order);
    case TradeIdRole: return QString::number(fill.trade);
    default: return QVariant();
    }
}

void FillsModel::setLoading(bool loading)
{
    if (loading == m_loading)
        return;
    m_loading = loading;
    emit loadingChanged();
}

void FillsModel::reload()
{
    ++m_generation;
    m_pending.clear();
    if (!m_rows.empty()) {
        beginResetModel();
        m_rows.clear();
        m_keys.clear();
        endResetModel();
        emit countChanged();
    }
    m_total = 0;
    m_loadedFromPages = 0;
    m_nextPage = 1;
    setLoading(false);
    if (m_desk && m_desk->signedIn())
        loadMore();
}

void FillsModel::loadMore()
{
    if (!m_desk || m_loading || (m_nextPage > 1 && !canLoadMore()))
        return;
    const auto page = sql::PageRequest::make(m_nextPage, kPageSize);
    if (!page)
        return;
    setLoading(true);
    const quint64 generation = m_generation;
    const sql::PageRequest request = *page;
    m_desk->call<sql::Page<sql::FillRecord>>(
        this,
        [request](server::VenueService &service, const server::Caller &caller,
                  server::Reply<sql::Page<sql::FillRecord>> reply) {
            service.fills(caller, std::nullopt, request, std::move(reply));
        },
        [this, generation](server::ServiceResult<sql::Page<sql::FillRecord>> result) {
            if (generation != m_generation)
                return;
            if (!result) {
                setLoading(false);
                emit actionFailed(result.error().message);
                return;
            }
            ++m_nextPage;
            m_total = result->total;
            m_loadedFromPages += std::int64_t(result->rows.size());
            // Older fills below what is shown, without the ones a pulse already brought.
            std::vector<sql::FillRecord> older;
            for (sql::FillRecord &fill : result->rows) {
                if (m_keys.insert(keyOf(fill)).second)
                    older.push_back(std::move(fill));
            }
            if (!older.empty()) {
                const int first = int(m_rows.size());
                beginInsertRows(QModelIndex(), first, first + int(older.size()) - 1);
                m_rows.insert(m_rows.end(), std::make_move_iterator(older.begin()), std::make_move_iterator(older.end()));
                endInsertRows();
                emit countChanged();
            }
            setLoading(false);
            if (!m_pending.empty()) {
                MarketPulse later;
                later.fills = std::move(m_pending);
                m_pending.clear();
                onPulse(later);
            }
        });
}

void FillsModel::onPulse(const MarketPulse &pulse)
{
    if (pulse.fills.empty())
        return;
    if (m_loading && m_nextPage == 1) {
        m_pending.insert(m_pending.end(), pulse.fills.begin(), pulse.fills.end());
        return;
    }
    // The pulse has them oldest first; on top, newest first, in one insertion.
    std::vector<sql::FillRecord> newer;
    for (auto it = pulse.fills.rbegin(); it != pulse.fills.rend(); ++it) {
        if (m_keys.insert(keyOf(*it)).second)
            newer.push_back(*it);
    }
    if (newer.empty())
        return;
    beginInsertRows(QModelIndex(), 0, int(newer.size()) - 1);
    m_rows.insert(m_rows.begin(), std::make_move_iterator(newer.begin()), std::make_move_iterator(newer.end()));
    endInsertRows();
    m_total += std::int64_t(newer.size());
    m_loadedFromPages += std::int64_t(newer.size()); // the next page's offset moves down as much
    emit countChanged();
}

QString FillsModel::defaultExportPath() const
{
    return defaultCsvPath(QStringLiteral("bourse-fills"));
}

void FillsModel::exportCsv(const QString &path)
{
    if (!m_desk)
        return;
    const QString file = path.trimmed().isEmpty() ? defaultExportPath() : localPath(path);
    m_desk->call<CsvExport>(
        this,
        [](server::VenueService &service, const server::Caller &caller, server::Reply<CsvExport> reply) {
            std::make_shared<FillExportJob>(service, caller, std::move(reply))->next();
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
            emit done(tr("Exported %n fill(s) to %1", nullptr, result->rows).arg(file));
        });
}

} // namespace bourse::app
