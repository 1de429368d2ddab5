#include "admin_instruments_model.h"

#include "admin_request.h"
#include "request_body.h"

namespace bourse::app {

namespace {

using server::Caller;
using server::Reply;
using server::ServiceResult;
using server::VenueService;

QString text(std::string_view view)
{
    return QString::fromUtf8(view.data(), qsizetype(view.size()));
}

QString decimalText(Decimal value)
{
    return QString::fromStdString(value.toString());
}

std::string_view viewOf(const QByteArray &bytes)
{
    return std::string_view(bytes.constData(), std::size_t(bytes.size()));
}

} // namespace

AdminInstrumentsModel::AdminInstrumentsModel(QObject *parent)
    : QAbstractListModel(parent)
{
    if (Desk *desk = Desk::instance()) {
        connect(desk, &Desk::instrumentsChanged, this, &AdminInstrumentsModel::reload);
        m_rows = desk->instruments();
    }
}

int AdminInstrumentsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QVariant AdminInstrumentsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const InstrumentView &view = m_rows[std::size_t(index.row())];
    switch (role) {
    case Qt::DisplayRole:
    case SymbolRole: return text(view.symbol.view());
    case BaseRole: return text(view.base.view());
    case QuoteRole: return text(view.quote.view());
    case TickSizeRole: return decimalText(view.tickSize);
    case LotSizeRole: return decimalText(view.lotSize);
    case MinQuantityRole: return decimalText(view.minQuantity);
    case StatusRole: return text(instrumentStatusName(view.status));
    case HaltedRole: return view.status == InstrumentStatus::Halted;
    default: return {};
    }
}

QHash<int, QByteArray> AdminInstrumentsModel::roleNames() const
{
    return {{SymbolRole, "symbol"},     {BaseRole, "base"},       {QuoteRole, "quote"},
            {TickSizeRole, "tickSize"}, {LotSizeRole, "lotSize"}, {MinQuantityRole, "minQuantity"},
            {StatusRole, "status"},     {HaltedRole, "halted"}};
}

void AdminInstrumentsModel::reload()
{
    const std::vector<InstrumentView> &next = Desk::instance()->instruments();
    // Instruments are only ever added: the rows kept change in place, new ones come in one batch.
    const std::size_t common = std::min(next.size(), m_rows.size());
    bool prefixSame = true;
    for (std::size_t i = 0; i < common && prefixSame; ++i)
        prefixSame = next[i].id == m_rows[i].id;
    if (!prefixSame || next.size() < m_rows.size()) {
        beginResetModel();
        m_rows = next;
        endResetModel();
        return;
    }
    int first = -1;
    int last = -1;
    for (std::size_t i = 0; i < common; ++i) {
        if (next[i] == m_rows[i])
            continue;
        m_rows[i] = next[i];
        if (first < 0)
            first = int(i);
        last = int(i);
    }
    if (first >= 0)
        emit dataChanged(index(first), index(last));
    if (next.size() > m_rows.size()) {
        beginInsertRows(QModelIndex(), int(m_rows.size()), int(next.size()) - 1);
        m_rows.insert(m_rows.end(), next.begin() + std::ptrdiff_t(m_rows.size()), next.end());
        endInsertRows();
    }
}

void AdminInstrumentsModel::apply(const InstrumentView &view)
{
    for (std::size_t i = 0; i < m_rows.size(); ++i) {
        if (m_rows[i].id != view.id)
            continue;
        if (!(m_rows[i] == view)) {
            m_rows[i] = view;
            emit dataChanged(index(int(i)), index(int(i)));
        }
        return;
    }
    beginInsertRows(QModelIndex(), int(m_rows.size()), int(m_rows.size()));
    m_rows.push_back(view);
    endInsertRows();
}

void AdminInstrumentsModel::setBusy(bool busy)
{
    if (busy == m_busy)
        return;
    m_busy = busy;
    emit busyChanged();
}

void AdminInstrumentsModel::fail(const server::ServiceError &error)
{
    setBusy(false);
    m_error = error.message;
    m_errorField = error.field;
    emit errorChanged();
    emit failed(error.message, error.field);
}

void AdminInstrumentsModel::succeed(const QString &message)
{
    setBusy(false);
    if (!m_error.isEmpty() || !m_errorField.isEmpty()) {
        m_error.clear();
        m_errorField.clear();
        emit errorChanged();
    }
    m_message = message;
    emit messageChanged();
    emit succeeded(message);
}

void AdminInstrumentsModel::addInstrument(const QString &symbol, const QString &base, const QString &quote,
                                          const QString &tickSize, const QString &lotSize, const QString &minQuantity)
{
    // POST /admin/instruments' reading of its body.
    const server::JsonDocument document = formBody({{"symbol", symbol},
                                                    {"base", base},
                                                    {"quote", quote},
                                                    {"tick_size", tickSize},
                                                    {"lot_size", lotSize},
                                                    {"min_quantity", minQuantity}});
    server::RequestBody body(document.root(), {"symbol", "base", "quote", "tick_size", "lot_size", "min_quantity"});
    const std::optional<QByteArray> name = body.bytes("symbol", true, 32);
    const std::optional<QByteArray> baseCode = body.bytes("base", true, 16);
    const std::optional<QByteArray> quoteCode = body.bytes("quote", true, 16);
    const std::optional<Decimal> tick = body.decimal("tick_size", true);
    const std::optional<Decimal> lot = body.decimal("lot_size", true);
    const std::optional<Decimal> minimum = body.decimal("min_quantity", true);
    if (!body.ok()) {
        fail(body.error());
        return;
    }
    const AddInstrument add{Symbol(viewOf(*name)),
                            AssetCode(viewOf(*baseCode)),
                            AssetCode(viewOf(*quoteCode)),
                            *tick,
                            *lot,
                            *minimum};
    setBusy(true);
    Desk::instance()->call<InstrumentView>(this,
                                           adminOnly<InstrumentView>([add](VenueService &service, const Caller &caller,
                                                                           Reply<InstrumentView> reply) {
                                               service.addInstrument(caller, add, std::move(reply));
                                           }),
                                           [this](ServiceResult<InstrumentView> result) {
                                               if (!result) {
                                                   fail(result.error());
                                                   return;
                                               }
                                               apply(*result);
                                               succeed(tr("Added %1").arg(text(result->symbol.view())));
                                           });
}

void AdminInstrumentsModel::setHalted(const QString &symbol, bool halted)
{
    const InstrumentStatus status = halted ? InstrumentStatus::Halted : InstrumentStatus::Trading;
    setBusy(true);
    Desk::instance()->call<InstrumentView>(this,
                                           adminOnly<InstrumentView>([symbol, status](VenueService &service,
                                                                                      const Caller &caller,
                                                                                      Reply<InstrumentView> reply) {
                                               service.setInstrumentStatus(caller, symbol, status, std::move(reply));
                                           }),
                                           [this](ServiceResult<InstrumentView> result) {
                                               if (!result) {
                                                   fail(result.error());
                                                   return;
                                               }
                                               apply(*result);
                                               succeed(result->status == InstrumentStatus::Halted
                                                           ? tr("%1 halted").arg(text(result->symbol.view()))
                                                           : tr("%1 trading").arg(text(result->symbol.view())));
                                           });
}

QString AdminInstrumentsModel::killSwitchDescription(const QString &symbol) const
{
    if (symbol.isEmpty())
        return tr("Halt all %n instrument(s) and cancel every resting order in them. Trading stays halted "
                  "until each instrument is resumed.",
                  nullptr, int(m_rows.size()));
    return tr("Halt %1 and cancel every resting order in it. Trading in %1 stays halted until it is resumed.")
        .arg(symbol);
}

void AdminInstrumentsModel::killSwitch(const QString &symbol)
{
    // POST /admin/kill-switch's reading of its body: "symbol" optional, at most 32 characters.
    std::optional<QString> target;
    if (!symbol.isEmpty()) {
        const server::JsonDocument document = formBody({{"symbol", symbol}});
        server::RequestBody body(document.root(), {"symbol"});
        target = body.string("symbol", false, 32);
        if (!body.ok()) {
            fail(body.error());
            return;
        }
    }
    setBusy(true);
    Desk::instance()->call<server::KillSwitchResult>(
        this,
        adminOnly<server::KillSwitchResult>(
            [target](VenueService &service, const Caller &caller, Reply<server::KillSwitchResult> reply) {
                service.killSwitch(caller, target, std::move(reply));
            }),
        [this](ServiceResult<server::KillSwitchResult> result) {
            if (!result) {
                fail(result.error());
                return;
            }
            m_lastHalted = QStringList(result->halted.begin(), result->halted.end());
            m_lastCancelled = int(result->cancelled);
            emit killSwitchFinished();
            succeed(tr("Halted %1; cancelled %n order(s)", nullptr, m_lastCancelled)
                        .arg(m_lastHalted.isEmpty() ? tr("nothing") : m_lastHalted.join(QStringLiteral(", "))));
        });
}

} // namespace bourse::app
