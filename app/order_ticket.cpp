#include "order_ticket.h"

#include "api_json.h"
#include "error_code.h"
#include "json_reader.h"
#include "json_writer.h"
#include "request_body.h"

namespace bourse::app {

namespace {

const QString kConfirmKey = QStringLiteral("ticket/confirm");

QString text(Decimal value, int minFractionDigits = 0)
{
    return QString::fromStdString(value.toString(minFractionDigits));
}

QString refusal(RejectReason reason, const server::RejectContext &context)
{
    return server::rejectMessage(reason, context);
}

// Floors `value` onto the grid of `step` (a positive Decimal).
Decimal floorToStep(Decimal value, Decimal step)
{
    std::int64_t rest = value.raw() % step.raw();
    if (rest < 0)
        rest += step.raw();
    return Decimal::fromRaw(value.raw() - rest);
}

// value + steps × step, on the grid and never below `floor`; none on overflow. From a value off the grid
// the first step up lands on the next grid point and the first step down on the one below.
std::optional<Decimal> stepped(Decimal value, int steps, Decimal step, Decimal floor)
{
    Decimal base = floorToStep(value, step);
    if (base != value && steps < 0)
        ++steps; // flooring already went one step down
    const std::optional<Decimal> delta = Decimal::checkedMul(Decimal::fromInteger(steps), step);
    if (!delta)
        return std::nullopt;
    const std::optional<Decimal> next = Decimal::checkedAdd(base, *delta);
    if (!next)
        return std::nullopt;
    return std::max(*next, floor);
}

} // namespace

TypedAmount readAmount(const char *field, const QString &typed, bool required)
{
    // The typed text goes through the API's own body reader as the JSON string a client would send, so
    // that every message is the API's.
    server::JsonWriter json;
    json.beginObject();
    if (!typed.isEmpty())
        json.key(field).string(typed);
    json.endObject();
    const QByteArray bytes = json.take();
    const auto document = server::readJson(std::string_view(bytes.constData(), std::size_t(bytes.size())));
    if (!document)
        return {std::nullopt, QString::fromStdString(document.error().message)};
    server::RequestBody body(document->root(), {std::string_view(field)});
    std::optional<Decimal> value = body.decimal(field, required);
    if (!body.ok())
        return {std::nullopt, body.error().message};
    return {value, QString()};
}

OrderTicket::OrderTicket(QObject *parent)
    : QObject(parent)
    , m_desk(Desk::instance())
{
    if (!m_desk)
        return;
    m_confirm = m_desk->preference(kConfirmKey, false).toBool();
    m_symbol = m_desk->selectedSymbol();
    connect(m_desk, &Desk::selectedSymbolChanged, this, [this] { setSymbol(m_desk->selectedSymbol()); });
    connect(m_desk, &Desk::instrumentsChanged, this, &OrderTicket::loadInstrument);
    connect(m_desk, &Desk::sessionChanged, this, [this] {
        refreshMarket();
        validate();
    });
    connect(m_desk, &Desk::journalChanged, this, &OrderTicket::validate);
    connect(m_desk, &Desk::pulse, this, &OrderTicket::onPulse);
    loadInstrument();
}

void OrderTicket::setSymbol(const QString &symbol)
{
    if (symbol == m_symbol)
        return;
    m_symbol = symbol;
    m_venueError.clear();
    loadInstrument();
}

void OrderTicket::loadInstrument()
{
    const std::optional<InstrumentView> before = m_instrument;
    m_instrument = m_desk ? m_desk->instrument(m_symbol) : std::nullopt;
    const bool sameBook = before && m_instrument && before->id == m_instrument->id;
    if (!sameBook) {
        m_baseAvailable.reset();
        m_quoteAvailable.reset();
        m_bestBid.reset();
        m_bestAsk.reset();
        refreshMarket();
    }
    emit symbolChanged();
    validate();
}

void OrderTicket::refreshMarket()
{
    if (!m_desk || !m_instrument)
        return;
    struct Figures
    {
        InstrumentId instrument = 0;
        std::optional<Decimal> base;
        std::optional<Decimal> quote;
        std::optional<Decimal> bestBid;
        std::optional<Decimal> bestAsk;
    };
    const InstrumentView instrument = *m_instrument;
    const std::optional<AccountId> user = m_desk->userId();
    m_desk->inspect<Figures>(
        this,
        [instrument, user](server::VenueServer &venue) {
            const server::VenueService &service = venue.service();
            Figures figures;
            figures.instrument = instrument.id;
            if (user) {
                const auto balanceOf = [&](AssetId asset) {
                    const std::optional<sql::BalanceRecord> balance = service.accounts().balance(*user, asset);
                    return balance ? balance->available : Decimal();
                };
                figures.base = balanceOf(instrument.baseAsset);
                figures.quote = balanceOf(instrument.quoteAsset);
            }
            if (const auto bid = service.market().bestBid(instrument.id))
                figures.bestBid = bid->price;
            if (const auto ask = service.market().bestAsk(instrument.id))
                figures.bestAsk = ask->price;
            return figures;
        },
        [this](Figures figures) {
            if (!m_instrument || m_instrument->id != figures.instrument)
                return; // the ticket moved on to another instrument meanwhile
            m_baseAvailable = figures.base;
            m_quoteAvailable = figures.quote;
            m_bestBid = figures.bestBid;
            m_bestAsk = figures.bestAsk;
            validate();
        });
}

void OrderTicket::onPulse(const MarketPulse &pulse)
{
    if (!m_instrument)
        return;
    bool changed = false;
    for (const sql::BalanceRecord &balance : pulse.balances) {
        if (balance.asset == m_instrument->baseAsset) {
            m_baseAvailable = balance.available;
            changed = true;
        } else if (balance.asset == m_instrument->quoteAsset) {
            m_quoteAvailable = balance.available;
            changed = true;
        }
    }
    if (pulse.watchedBook && pulse.watchedBook->instrument == m_instrument->id) {
        const BookTop &top = *pulse.watchedBook;
        m_bestBid = top.bids.empty() ? std::nullopt : std::optional<Decimal>(top.bids.front().price);
        m_bestAsk = top.asks.empty() ? std::nullopt : std::optional<Decimal>(top.asks.front().price);
        changed = true;
    } else if (pulse.changedBooks.count(m_instrument->id)) {
        refreshMarket();
    }
    if (changed)
        validate();
}

void OrderTicket::setSide(const QString &side)
{
    if (side == m_side || !parseSide(side.toStdString()))
        return;
    m_side = side;
    edited();
}

void OrderTicket::setType(const QString &type)
{
    if (type == m_type || !parseOrderType(type.toStdString()))
        return;
    m_type = type;
    // A market order cannot rest: gtc becomes ioc (the API's default for market), and back.
    if (type == QLatin1String("market") && m_timeInForce == QLatin1String("gtc"))
        m_timeInForce = QStringLiteral("ioc");
    else if (type == QLatin1String("limit") && m_timeInForce == QLatin1String("ioc"))
        m_timeInForce = QStringLiteral("gtc");
    edited();
}

void OrderTicket::setTimeInForce(const QString &timeInForce)
{
    if (timeInForce == m_timeInForce || !parseTimeInForce(timeInForce.toStdString()))
        return;
    m_timeInForce = timeInForce;
    edited();
}

void OrderTicket::setPostOnly(bool postOnly)
{
    if (postOnly == m_postOnly)
        return;
    m_postOnly = postOnly;
    edited();
}

void OrderTicket::setPrice(const QString &price)
{
    if (price == m_price)
        return;
    m_price = price;
    edited();
}

void OrderTicket::setQuantity(const QString &quantity)
{
    if (quantity == m_quantity)
        return;
    m_quantity = quantity;
    edited();
}

void OrderTicket::setConfirmBeforeSubmit(bool confirm)
{
    if (confirm == m_confirm)
        return;
    m_confirm = confirm;
    if (m_desk)
        m_desk->setPreference(kConfirmKey, confirm);
    emit confirmBeforeSubmitChanged();
}

void OrderTicket::edited()
{
    m_venueError.clear();
    emit formChanged();
    validate();
}

QString OrderTicket::tickSize() const
{
    return m_instrument ? text(m_instrument->tickSize) : QString();
}

QString OrderTicket::lotSize() const
{
    return m_instrument ? text(m_instrument->lotSize) : QString();
}

QString OrderTicket::minQuantity() const
{
    return m_instrument ? text(m_instrument->minQuantity) : QString();
}

QString OrderTicket::baseAsset() const
{
    return m_instrument ? QString::fromUtf8(m_instrument->base.view()) : QString();
}

QString OrderTicket::quoteAsset() const
{
    return m_instrument ? QString::fromUtf8(m_instrument->quote.view()) : QString();
}

QString OrderTicket::available() const
{
    const std::optional<Decimal> &balance = m_side == QLatin1String("sell") ? m_baseAvailable : m_quoteAvailable;
    if (!balance || !m_instrument)
        return QString();
    const int digits = server::fractionDigits(m_side == QLatin1String("sell") ? m_instrument->lotSize
                                                                               : m_instrument->tickSize);
    return text(*balance, digits);
}

QString OrderTicket::reason() const
{
    // In the order the API answers: who may trade and on what, then the body's fields, then the balance.
    if (!m_orderError.isEmpty() && m_orderErrorFirst)
        return m_orderError;
    if (!m_priceError.isEmpty())
        return m_priceError;
    if (!m_quantityError.isEmpty())
        return m_quantityError;
    return m_orderError;
}

void OrderTicket::validate()
{
    m_priceError.clear();
    m_quantityError.clear();
    m_orderError.clear();
    m_orderErrorFirst = true;
    m_notional.clear();

    const bool isLimit = m_type == QLatin1String("limit");
    const TypedAmount price = readAmount("price", priceText(), false);
    const TypedAmount quantity = readAmount("quantity", quantityText(), true);
    m_priceError = price.error;
    m_quantityError = quantity.error;

    server::RejectContext context;
    context.symbol = m_symbol;
    if (!m_desk || !m_desk->signedIn())
        m_orderError = QStringLiteral("authentication required");
    else if (!m_desk->canTrade())
        m_orderError = QStringLiteral("the %1 role may not do this").arg(m_desk->role());
    else if (!m_desk->tradingAvailable())
        m_orderError = QStringLiteral("the database is unavailable; nothing was accepted"); // the service's words
    else if (m_symbol.isEmpty())
        m_orderError = QStringLiteral("symbol is required");
    else if (!m_instrument)
        m_orderError = refusal(RejectReason::UnknownInstrument, context);
    if (m_instrument)
        context = server::RejectContext::forInstrument(*m_instrument);
    if (m_orderError.isEmpty() && halted())
        m_orderError = refusal(RejectReason::MarketHalted, context);

    // The engine's order checks, each against the field it blames.
    if (m_priceError.isEmpty()) {
        if (isLimit && !price.value)
            m_priceError = refusal(RejectReason::PriceRequired, context);
        else if (!isLimit && price.value)
            m_priceError = refusal(RejectReason::PriceNotAllowed, context);
    }
    if (m_orderError.isEmpty()) {
        if (!isLimit && m_timeInForce == QLatin1String("gtc"))
            m_orderError = refusal(RejectReason::TimeInForceInvalid, context);
        else if (m_postOnly && (!isLimit || m_timeInForce != QLatin1String("gtc")))
            m_orderError = refusal(RejectReason::PostOnlyInvalid, context);
    }
    if (m_instrument) {
        if (m_priceError.isEmpty() && price.value) {
            if (!price.value->isPositive())
                m_priceError = refusal(RejectReason::PriceNotPositive, context);
            else if (price.value->raw() % m_instrument->tickSize.raw() != 0)
                m_priceError = refusal(RejectReason::PriceOffTick, context);
        }
        if (m_quantityError.isEmpty() && quantity.value) {
            if (!quantity.value->isPositive())
                m_quantityError = refusal(RejectReason::QuantityNotPositive, context);
            else if (quantity.value->raw() % m_instrument->lotSize.raw() != 0)
                m_quantityError = refusal(RejectReason::QuantityOffLot, context);
            else if (*quantity.value < m_instrument->minQuantity)
                m_quantityError = refusal(RejectReason::QuantityBelowMinimum, context);
        }
    }

    if (m_instrument && m_priceError.isEmpty() && m_quantityError.isEmpty() && quantity.value) {
        std::optional<Decimal> notional;
        if (isLimit && price.value) {
            notional = Decimal::checkedMul(*price.value, *quantity.value);
            if (!notional)
                m_quantityError = refusal(RejectReason::NotionalOverflow, context);
            else
                m_notional = text(*notional, server::fractionDigits(m_instrument->tickSize));
        }
        // The balance that pays, as the engine checks it; the engine answers again if it moved meanwhile.
        if (m_orderError.isEmpty() && m_quantityError.isEmpty()) {
            const bool buy = m_side == QLatin1String("buy");
            std::optional<Decimal> required;
            std::optional<Decimal> have = buy ? m_quoteAvailable : m_baseAvailable;
            if (buy && isLimit)
                required = notional;
            else if (!buy)
                required = quantity.value;
            else if (m_bestAsk)
                required = Decimal::checkedMul(*m_bestAsk, m_instrument->lotSize); // one lot at the best ask
            if (required && have && *required > *have) {
                context.asset = buy ? quoteAsset() : baseAsset();
                context.required = *required;
                context.available = *have;
                m_orderError = refusal(RejectReason::InsufficientBalance, context);
                m_orderErrorFirst = false;
            }
        }
    }
    emit stateChanged();
}

std::optional<PlaceOrder> OrderTicket::order() const
{
    if (!m_instrument || !m_desk || !m_desk->userId())
        return std::nullopt;
    const TypedAmount price = readAmount("price", priceText(), false);
    const TypedAmount quantity = readAmount("quantity", quantityText(), true);
    if (!quantity.value)
        return std::nullopt;
    PlaceOrder order;
    order.account = *m_desk->userId();
    order.symbol = m_instrument->symbol;
    order.side = parseSide(m_side.toStdString()).value_or(Side::Buy);
    order.type = parseOrderType(m_type.toStdString()).value_or(OrderType::Limit);
    order.timeInForce = parseTimeInForce(m_timeInForce.toStdString());
    order.postOnly = m_postOnly;
    order.price = price.value;
    order.quantity = *quantity.value;
    return order;
}

void OrderTicket::submit()
{
    if (m_submitting)
        return;
    validate();
    const QString why = reason();
    const std::optional<PlaceOrder> placing = why.isEmpty() ? order() : std::nullopt;
    if (!placing) {
        emit rejected(why.isEmpty() ? QStringLiteral("authentication required") : why);
        return;
    }
    m_submitting = true;
    m_venueError.clear();
    emit stateChanged();
    const PlaceOrder sent = *placing;
    m_desk->call<server::PlacedOrder>(
        this,
        [sent](server::VenueService &service, const server::Caller &caller, server::Reply<server::PlacedOrder> reply) {
            service.placeOrder(caller, sent, std::move(reply));
        },
        [this](server::ServiceResult<server::PlacedOrder> result) {
            m_submitting = false;
            if (!result) {
                m_venueError = result.error().message;
                emit stateChanged();
                emit rejected(m_venueError);
                // The venue refused what passed every inline check (the book moved, the balance changed):
                // said under the ticket and as a notification.
                m_desk->notify(QStringLiteral("reject"), tr("Order rejected"), m_venueError);
                return;
            }
            // Ready for the next order at the same price: the quantity is cleared so that a second press
            // does not send the same order again by accident.
            m_quantity.clear();
            emit formChanged();
            validate();
            emit submitted(QString::number(result->order.id),
                           QString::fromLatin1(sql::ProjectionUpdate::statusName(result->order.status)));
        });
}

void OrderTicket::stepPrice(int ticks)
{
    if (!m_instrument)
        return;
    const Decimal tick = m_instrument->tickSize;
    const TypedAmount typed = readAmount("price", priceText(), false);
    std::optional<Decimal> next;
    if (typed.value && typed.error.isEmpty() && typed.value->isPositive()) {
        next = stepped(*typed.value, ticks, tick, tick);
    } else {
        // From nothing: join the book on our side, else take the other side's best, else one tick.
        const bool buy = m_side == QLatin1String("buy");
        next = buy ? (m_bestBid ? m_bestBid : m_bestAsk) : (m_bestAsk ? m_bestAsk : m_bestBid);
        if (!next)
            next = tick;
    }
    if (next)
        setPrice(text(*next, server::fractionDigits(tick)));
}

void OrderTicket::stepQuantity(int lots)
{
    if (!m_instrument)
        return;
    const Decimal lot = m_instrument->lotSize;
    const Decimal smallest = std::max(lot, m_instrument->minQuantity);
    const TypedAmount typed = readAmount("quantity", quantityText(), false);
    std::optional<Decimal> next;
    if (typed.value && typed.error.isEmpty() && typed.value->isPositive())
        next = stepped(*typed.value, lots, lot, smallest);
    else
        next = smallest;
    if (next)
        setQuantity(text(*next, server::fractionDigits(lot)));
}

void OrderTicket::take(const QString &side, const QString &price)
{
    setSide(side);
    setType(QStringLiteral("limit"));
    setPrice(price);
}

QString OrderTicket::curlCommand() const
{
    server::JsonWriter json;
    json.beginObject();
    json.field("symbol", m_symbol);
    json.field("side", m_side);
    json.field("type", m_type);
    if (!priceText().isEmpty())
        json.field("price", priceText());
    json.field("quantity", quantityText());
    json.field("time_in_force", m_timeInForce);
    json.key("post_only").boolean(m_postOnly);
    json.endObject();
    // Single quotes keep the body as it is for the shell; a quote inside it is closed, escaped, reopened.
    QString body = QString::fromUtf8(json.take());
    body.replace(QLatin1Char('\''), QStringLiteral("'\\''"));
    const QString address = m_desk ? m_desk->listenAddress() : QString();
    // The token header in double quotes, so that the shell puts the caller's $BOURSE_TOKEN in.
    return QStringLiteral("curl -X POST %1/api/v1/orders -H \"Authorization: Bearer $BOURSE_TOKEN\" "
                          "-H 'Content-Type: application/json' -d '%2'")
        .arg(address, body);
}

void OrderTicket::copyAsCurl() const
{
    if (m_desk)
        m_desk->copyText(curlCommand());
}

} // namespace bourse::app
