#include "command_generator.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "sequencer.h"

#include <algorithm>
#include <limits>
#include <utility>

namespace bourse::test {

std::uint64_t environmentNumber(const char *name, std::uint64_t fallback)
{
    const char *value = std::getenv(name);
    if (!value || !*value)
        return fallback;
    char *end = nullptr;
    errno = 0;
    const unsigned long long number = std::strtoull(value, &end, 10);
    if (errno != 0 || *end != '\0' || *value == '-') {
        std::fprintf(stderr, "%s is not a number: %s\n", name, value);
        std::abort();
    }
    return number;
}

namespace {

constexpr std::int64_t kOne = Decimal::kOne;
constexpr std::int64_t kMaxUnits = std::numeric_limits<std::int64_t>::max();
constexpr TimeNs kSecond = 1'000'000'000;
constexpr TimeNs kStart = 1'700'000'000 * kSecond;

constexpr AccountId kFundedAccounts = 8;
constexpr AccountId kUnfundedAccount = kFundedAccounts + 1; // places orders, never gets a deposit
constexpr std::size_t kLateInstrument = 3;                  // added only once the stream is under way

Decimal raw(std::int64_t units)
{
    return Decimal::fromRaw(units);
}

} // namespace

std::optional<CommandMix> CommandMix::parse(std::string_view text, std::string *error)
{
    static const std::pair<std::string_view, int CommandMix::*> kFields[] = {
        {"place", &CommandMix::place},       {"cancel", &CommandMix::cancel},
        {"amend", &CommandMix::amend},       {"massCancel", &CommandMix::massCancel},
        {"status", &CommandMix::status},     {"deposit", &CommandMix::deposit},
        {"withdraw", &CommandMix::withdraw}, {"addInstrument", &CommandMix::addInstrument},
        {"market", &CommandMix::market},     {"ioc", &CommandMix::ioc},
        {"fok", &CommandMix::fok},           {"postOnly", &CommandMix::postOnly},
        {"stpNone", &CommandMix::stpNone},   {"stpMaker", &CommandMix::stpMaker},
        {"stpBoth", &CommandMix::stpBoth},   {"clientId", &CommandMix::clientId},
        {"retry", &CommandMix::retry},       {"reuse", &CommandMix::reuse},
        {"invalid", &CommandMix::invalid},
    };
    CommandMix mix;
    while (!text.empty()) {
        const std::size_t comma = text.find(',');
        const std::string_view item = text.substr(0, comma);
        text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
        const std::size_t equals = item.find('=');
        const auto field = std::find_if(std::begin(kFields), std::end(kFields), [&](const auto &entry) {
            return equals != std::string_view::npos && entry.first == item.substr(0, equals);
        });
        int value = 0;
        bool numeric = equals != std::string_view::npos && equals + 1 < item.size();
        for (std::size_t i = equals + 1; numeric && i < item.size(); ++i) {
            numeric = item[i] >= '0' && item[i] <= '9' && value < 100'000;
            value = value * 10 + (item[i] - '0');
        }
        if (field == std::end(kFields) || !numeric) {
            if (error)
                *error = std::string(item);
            return std::nullopt;
        }
        mix.*(field->second) = value;
    }
    return mix;
}

CommandGenerator::CommandGenerator(std::uint64_t seed, CommandMix mix)
    : m_random(seed)
    , m_mix(mix)
    , m_clock(kStart)
{
    // Tick, lot and minimum differ per instrument; ETH-BTC's tick × lot is exactly the finest allowed.
    m_specs = {
        {"BTC-USD", "BTC", "USD", kOne / 100, kOne / 10'000, 5, 10, 3'000'000, 3'000'000, {}, false},
        {"ETH-BTC", "ETH", "BTC", kOne / 100'000, kOne / 1'000, 1, 100, 6'500, 6'500, {}, false},
        {"DOGE-USD", "DOGE", "USD", kOne / 100'000, kOne, 10, 100, 8'000, 8'000, {}, false},
        {"SOL.USD_1", "SOL", "USD", kOne / 1'000, kOne / 100, 10, 10, 20'000, 20'000, {}, false},
    };

    auto schedule = [this](std::uint64_t step, CommandBody body) {
        m_scheduled.push_back(Scheduled{step, std::move(body)});
    };
    std::uint64_t step = 1;
    for (std::size_t i = 0; i < kLateInstrument; ++i) {
        const InstrumentSpec &spec = m_specs[i];
        schedule(step++, AddInstrument{Symbol(spec.symbol), AssetCode(spec.base), AssetCode(spec.quote), raw(spec.tick),
                                       raw(spec.lot), raw(spec.lot * spec.minLots)});
    }
    for (AccountId account = 1; account <= kFundedAccounts; ++account) {
        for (const char *asset : {"BTC", "USD", "ETH", "DOGE"})
            schedule(step++, Deposit{account, AssetCode(asset), raw(depositUnit(asset) * uniform(2, 6))});
    }
    const InstrumentSpec &late = m_specs[kLateInstrument];
    schedule(static_cast<std::uint64_t>(uniform(500, 5'000)),
             AddInstrument{Symbol(late.symbol), AssetCode(late.base), AssetCode(late.quote), raw(late.tick),
                           raw(late.lot), raw(late.lot * late.minLots)});
}

// --- randomness ------------------------------------------------------------------------------------------

std::int64_t CommandGenerator::uniform(std::int64_t low, std::int64_t high)
{
    if (high <= low)
        return low;
    const auto span = static_cast<std::uint64_t>(high - low) + 1;
    return low + static_cast<std::int64_t>(m_random() % span);
}

bool CommandGenerator::percent(int chance)
{
    return uniform(0, 99) < chance;
}

bool CommandGenerator::permille(int chance)
{
    return uniform(0, 999) < chance;
}

// --- the stream ------------------------------------------------------------------------------------------

Command CommandGenerator::next()
{
    ++m_step;
    moveMids();
    Command command;
    m_forcedTime.reset();

    const auto due = std::find_if(m_scheduled.begin(), m_scheduled.end(),
                                  [this](const Scheduled &scheduled) { return scheduled.step <= m_step; });
    if (due != m_scheduled.end()) {
        command.body = due->body;
        m_scheduled.erase(due);
    } else {
        const int weights[] = {m_mix.place,  m_mix.cancel,  m_mix.amend,    m_mix.massCancel,
                               m_mix.status, m_mix.deposit, m_mix.withdraw, m_mix.addInstrument};
        int total = 0;
        for (const int weight : weights)
            total += std::max(weight, 0);
        std::int64_t roll = uniform(0, std::max(total, 1) - 1);
        std::size_t kind = 0;
        while (kind + 1 < std::size(weights) && roll >= std::max(weights[kind], 0)) {
            roll -= std::max(weights[kind], 0);
            ++kind;
        }
        switch (kind) {
        case 0: command.body = makePlace(); break;
        case 1: command.body = makeCancel(); break;
        case 2: command.body = makeAmend(); break;
        case 3: command.body = makeMassCancel(); break;
        case 4: command.body = makeStatus(); break;
        case 5: command.body = makeDeposit(); break;
        case 6: command.body = makeWithdraw(); break;
        default: command.body = makeAddInstrument(); break;
        }
    }
    if (m_forcedTime) {
        m_clock = std::max(m_clock, *m_forcedTime);
        command.time = *m_forcedTime;
    } else {
        command.time = nextTime();
    }
    m_lastPlace.reset();
    if (const auto *place = std::get_if<PlaceOrder>(&command.body))
        m_lastPlace = *place;
    return command;
}

TimeNs CommandGenerator::nextTime()
{
    const std::int64_t roll = uniform(0, 9'999);
    if (roll < 5) {
        // Past the retention window, give or take a few seconds.
        m_clock += kClientOrderIdRetention + uniform(-5, 5) * kSecond;
    } else if (roll < 300) {
        m_clock += uniform(0, 60 * kSecond);
    } else if (roll < 2'000) {
        // The same instant as the command before.
    } else {
        m_clock += uniform(1, kSecond / 5);
    }
    if (permille(10))
        return m_clock - uniform(1, 10 * kSecond); // a clock that ran backwards: the venue keeps its own
    if (permille(1))
        return -uniform(0, 1'000);
    return m_clock;
}

void CommandGenerator::moveMids()
{
    for (InstrumentSpec &spec : m_specs) {
        if (!percent(5))
            continue;
        spec.midTicks += percent(50) ? 1 : -1;
        spec.midTicks = std::clamp(spec.midTicks, spec.startMidTicks / 2, spec.startMidTicks * 2);
    }
}

// --- orders ----------------------------------------------------------------------------------------------

CommandBody CommandGenerator::makePlace()
{
    // A retry of an accepted order's exact payload, or its client order id with another payload.
    if (!m_placements.empty() && (percent(m_mix.retry) || percent(m_mix.reuse))) {
        const Placement &placement
            = m_placements[static_cast<std::size_t>(uniform(0, static_cast<std::int64_t>(m_placements.size()) - 1))];
        PlaceOrder place = placement.command;
        // Now and then exactly at the edge of its retention: a nanosecond before, at, or after 24 h.
        const TimeNs edge = placement.acceptedAt + kClientOrderIdRetention + uniform(-1, 1);
        if (percent(3) && edge >= m_clock)
            m_forcedTime = edge;
        if (percent(std::max(m_mix.retry, 0) * 100 / std::max(m_mix.retry + m_mix.reuse, 1))) {
            // The same payload, sometimes with the default time in force spelled out or left out.
            const TimeInForce byDefault = place.type == OrderType::Limit ? TimeInForce::Gtc : TimeInForce::Ioc;
            if (percent(30)) {
                if (!place.timeInForce)
                    place.timeInForce = byDefault;
                else if (*place.timeInForce == byDefault)
                    place.timeInForce.reset();
            }
            return place;
        }
        switch (uniform(0, 5)) {
        case 0: place.quantity = Decimal::fromRaw(place.quantity.raw() * 2); break;
        case 1: place.side = opposite(place.side); break;
        case 2: place.postOnly = !place.postOnly; break;
        case 3:
            place.stp = place.stp == SelfTradePrevention::None ? SelfTradePrevention::ExpireBoth
                                                               : SelfTradePrevention::None;
            break;
        case 4: place.account = otherAccount(place.account); break; // ids are per account: a new order
        default:
            if (place.price)
                place.price = Decimal::fromRaw(place.price->raw() * 2);
            else
                place.timeInForce = TimeInForce::Fok;
            break;
        }
        return place;
    }

    PlaceOrder place;
    const std::optional<std::size_t> specIndex = randomTradedSpec();
    if (!specIndex) {
        place.account = randomAccount();
        place.symbol = unknownSymbol();
        place.price = Decimal::fromInteger(1);
        place.quantity = Decimal::fromInteger(1);
        return place;
    }
    const InstrumentSpec &spec = m_specs[*specIndex];
    place.account = permille(20) ? kUnfundedAccount : randomAccount();
    place.symbol = Symbol(spec.symbol);
    place.side = percent(50) ? Side::Buy : Side::Sell;
    place.type = percent(m_mix.market) ? OrderType::Market : OrderType::Limit;
    if (!percent(50)) {
        const std::int64_t roll = uniform(0, 99);
        if (roll < m_mix.ioc)
            place.timeInForce = TimeInForce::Ioc;
        else if (roll < m_mix.ioc + m_mix.fok)
            place.timeInForce = TimeInForce::Fok;
        else if (place.type == OrderType::Limit)
            place.timeInForce = TimeInForce::Gtc;
    }
    place.stp = randomStp();
    if (place.type == OrderType::Limit) {
        place.price = Decimal::fromRaw(randomPrice(spec, place.side));
        place.postOnly = percent(m_mix.postOnly) && place.timeInForce.value_or(TimeInForce::Gtc) == TimeInForce::Gtc;
    }
    place.quantity = Decimal::fromRaw(randomLots(spec) * spec.lot);
    if (percent(m_mix.clientId))
        place.clientOrderId = freshClientOrderId();

    if (!percent(m_mix.invalid))
        return place;
    switch (uniform(0, 15)) {
    case 0: place.account = 0; break;
    case 1: place.clientOrderId = ClientOrderId(pick(std::vector<std::string>{"no spaces", "a/b", "x#1", "é"})); break;
    case 2: place.symbol = unknownSymbol(); break;
    case 3:
        place.type = OrderType::Limit;
        place.price.reset();
        break;
    case 4:
        place.type = OrderType::Market;
        place.price = Decimal::fromRaw(randomPrice(spec, place.side));
        break;
    case 5:
        place.type = OrderType::Market;
        place.price.reset();
        place.timeInForce = TimeInForce::Gtc;
        break;
    case 6:
        place.postOnly = true;
        if (place.type == OrderType::Limit)
            place.timeInForce = percent(50) ? TimeInForce::Ioc : TimeInForce::Fok;
        break;
    case 7:
        if (place.type == OrderType::Limit)
            place.price = Decimal::fromRaw(-spec.tick * uniform(0, 3));
        break;
    case 8:
        if (place.type == OrderType::Limit)
            place.price = Decimal::fromRaw(place.price->raw() + uniform(1, spec.tick - 1));
        break;
    case 9: place.quantity = Decimal::fromRaw(-spec.lot * uniform(0, 3)); break;
    case 10: place.quantity = Decimal::fromRaw(place.quantity.raw() + uniform(1, spec.lot - 1)); break;
    case 11:
        place.quantity = Decimal::fromRaw(spec.lot * uniform(1, std::max<std::int64_t>(spec.minLots - 1, 1)));
        break;
    case 12:
        // price × quantity beyond the representable range.
        place.type = OrderType::Limit;
        place.timeInForce.reset();
        place.price = Decimal::fromRaw((kMaxUnits / 2 / spec.tick) * spec.tick);
        place.quantity = Decimal::fromRaw(spec.lot * spec.minLots * uniform(100, 10'000));
        break;
    case 13: place.quantity = Decimal::fromRaw(randomLots(spec) * spec.lot * 10'000); break;
    case 14:
        // Post-only priced through the mid: usually it would take.
        place.type = OrderType::Limit;
        place.timeInForce.reset();
        place.postOnly = true;
        place.price = Decimal::fromRaw((spec.midTicks + (place.side == Side::Buy ? 1 : -1) * uniform(5, 30))
                                       * spec.tick);
        break;
    default: place.account = kUnfundedAccount; break;
    }
    return place;
}

CommandBody CommandGenerator::makeCancel()
{
    CancelOrder cancel;
    const std::int64_t roll = uniform(0, 99);
    if (roll < 75 && !m_openIds.empty()) {
        cancel.order = *randomOpenOrder();
        const AccountId owner = m_open.at(cancel.order).account;
        const std::int64_t who = uniform(0, 99);
        cancel.account = who < 80 ? owner : who < 90 ? kAnyAccount : otherAccount(owner);
    } else if (roll < 88 && !m_recentlyClosed.empty()) {
        const auto &[order, owner] = m_recentlyClosed[static_cast<std::size_t>(
            uniform(0, static_cast<std::int64_t>(m_recentlyClosed.size()) - 1))];
        cancel.order = order;
        cancel.account = percent(80) ? owner : kAnyAccount;
    } else {
        cancel.order = percent(20) ? 0 : m_maxOrderId + static_cast<OrderId>(uniform(1, 5));
        cancel.account = randomAccount();
    }
    return cancel;
}

CommandBody CommandGenerator::makeAmend()
{
    AmendOrder amend;
    const std::int64_t roll = uniform(0, 99);
    if (roll >= 85 || m_openIds.empty()) {
        if (roll < 92 && !m_recentlyClosed.empty()) {
            const auto &[order, owner] = m_recentlyClosed[static_cast<std::size_t>(
                uniform(0, static_cast<std::int64_t>(m_recentlyClosed.size()) - 1))];
            amend.order = order;
            amend.account = owner;
        } else {
            amend.order = percent(20) ? 0 : m_maxOrderId + static_cast<OrderId>(uniform(1, 5));
            amend.account = randomAccount();
        }
        amend.quantity = Decimal::fromInteger(1);
        return amend;
    }

    amend.order = *randomOpenOrder();
    const TrackedOrder &order = m_open.at(amend.order);
    const InstrumentSpec &spec = m_specs[order.spec];
    const std::int64_t who = uniform(0, 99);
    amend.account = who < 85 ? order.account : who < 93 ? kAnyAccount : otherAccount(order.account);

    const std::int64_t filledLots = (order.quantity - order.remaining) / spec.lot;
    const std::int64_t lots = order.quantity / spec.lot;
    const std::int64_t floorLots = std::max(filledLots + 1, spec.minLots);
    auto priceAt = [&](std::int64_t ticks) { return Decimal::fromRaw(std::max<std::int64_t>(ticks, 1) * spec.tick); };
    const std::int64_t priceTicks = order.price / spec.tick;
    const std::int64_t toward = order.side == Side::Buy ? 1 : -1;

    switch (uniform(0, 11)) {
    case 0: amend.price = priceAt(priceTicks + uniform(1, 5)); break;
    case 1: amend.price = priceAt(priceTicks - uniform(1, 5)); break;
    case 2: amend.quantity = Decimal::fromRaw(spec.lot * uniform(floorLots, std::max(floorLots, lots - 1))); break;
    case 3: amend.quantity = Decimal::fromRaw(spec.lot * (lots + uniform(1, spec.baseLots * 5))); break;
    case 4:
        amend.price = priceAt(priceTicks + uniform(-5, 5));
        amend.quantity = Decimal::fromRaw(spec.lot * uniform(floorLots, lots + spec.baseLots * 3));
        break;
    case 5:
    case 6:
        // Through the mid: usually it crosses and trades (or would take, for a post-only order).
        amend.price = priceAt(spec.midTicks + toward * uniform(0, 25));
        if (percent(30))
            amend.quantity = Decimal::fromRaw(spec.lot * uniform(floorLots, lots + spec.baseLots));
        break;
    case 7:
        // The values it already has: accepted, priority kept.
        if (percent(50))
            amend.price = Decimal::fromRaw(order.price);
        if (percent(50) || !amend.price)
            amend.quantity = Decimal::fromRaw(order.quantity);
        break;
    default:
        if (!percent(m_mix.invalid * 5)) {
            amend.price = priceAt(priceTicks + uniform(-2, 2));
            break;
        }
        switch (uniform(0, 9)) {
        case 0: break; // neither price nor quantity
        case 1: amend.price = Decimal::fromRaw(-spec.tick * uniform(0, 2)); break;
        case 2: amend.price = Decimal::fromRaw(order.price + uniform(1, spec.tick - 1)); break;
        case 3: amend.quantity = Decimal::fromRaw(-spec.lot * uniform(0, 2)); break;
        case 4: amend.quantity = Decimal::fromRaw(order.quantity + uniform(1, spec.lot - 1)); break;
        case 5:
            amend.quantity = Decimal::fromRaw(
                spec.lot * uniform(std::max<std::int64_t>(filledLots, 1), std::max<std::int64_t>(filledLots, 1)));
            break;
        case 6:
            amend.quantity = Decimal::fromRaw(spec.lot
                                              * uniform(filledLots + 1, std::max(filledLots + 1, spec.minLots - 1)));
            break;
        case 7: amend.price = Decimal::fromRaw((kMaxUnits / 2 / spec.tick) * spec.tick); break;
        case 8: amend.quantity = Decimal::fromRaw(order.quantity * 10'000); break;
        default: amend.price = priceAt(spec.midTicks + toward * uniform(1, 10)); break;
        }
        break;
    }
    return amend;
}

CommandBody CommandGenerator::makeMassCancel()
{
    MassCancel mass;
    mass.account = percent(5) ? kAnyAccount : randomAccount();
    const std::int64_t roll = uniform(0, 99);
    if (roll < 5) {
        mass.symbol = unknownSymbol();
    } else if (roll < 60) {
        if (const std::optional<std::size_t> spec = randomTradedSpec())
            mass.symbol = Symbol(m_specs[*spec].symbol);
    }
    return mass;
}

CommandBody CommandGenerator::makeStatus()
{
    SetInstrumentStatus status;
    const std::optional<std::size_t> specIndex = randomTradedSpec();
    if (!specIndex || percent(5)) {
        status.symbol = unknownSymbol();
        return status;
    }
    InstrumentSpec &spec = m_specs[*specIndex];
    status.symbol = Symbol(spec.symbol);
    if (spec.halted || percent(20)) {
        // Unchanged, or an early resume of a halt (its scheduled resume then finds it trading).
        status.status = InstrumentStatus::Trading;
        status.cancelOpenOrders = percent(10);
        return status;
    }
    status.status = InstrumentStatus::Halted;
    status.cancelOpenOrders = percent(10);
    m_scheduled.push_back(Scheduled{m_step + static_cast<std::uint64_t>(uniform(10, 150)),
                                    SetInstrumentStatus{status.symbol, InstrumentStatus::Trading, percent(10)}});
    return status;
}

// --- funds -----------------------------------------------------------------------------------------------

CommandBody CommandGenerator::makeDeposit()
{
    Deposit deposit;
    deposit.account = randomAccount();
    const std::vector<std::string> assets = knownAssets();
    deposit.asset = AssetCode(pick(assets));
    const std::string asset(deposit.asset.view());
    const std::int64_t unit = depositUnit(asset);
    const std::int64_t have = available(deposit.account, asset);
    deposit.amount = Decimal::fromRaw(have < unit ? unit * uniform(1, 3) : uniform(1, unit / 2));

    if (percent(m_mix.invalid)) {
        switch (uniform(0, 4)) {
        case 0: deposit.account = 0; break;
        case 1: deposit.asset = AssetCode(pick(std::vector<std::string>{"XYZ", "SOL", "usd", ""})); break;
        case 2: deposit.amount = Decimal::fromRaw(-uniform(0, unit)); break;
        default: {
            // Past INT64_MAX units of supply, by one unit or by a mile.
            const auto found = m_assetIds.find(asset);
            const std::int64_t supply = found == m_assetIds.end() ? 0 : m_supply[found->second];
            deposit.amount = Decimal::fromRaw(percent(50) && supply > 0 ? kMaxUnits - supply + 1 : kMaxUnits);
            break;
        }
        }
    }
    return deposit;
}

CommandBody CommandGenerator::makeWithdraw()
{
    Withdraw withdraw;
    withdraw.account = randomAccount();
    const std::vector<std::string> assets = knownAssets();
    withdraw.asset = AssetCode(pick(assets));
    const std::string asset(withdraw.asset.view());
    const std::int64_t unit = depositUnit(asset);
    const std::int64_t have = available(withdraw.account, asset);
    const std::int64_t roll = uniform(0, 99);
    if (have <= 0)
        withdraw.amount = Decimal::fromRaw(uniform(1, unit));
    else if (roll < 60)
        withdraw.amount = Decimal::fromRaw(uniform(1, have > 3 * unit ? have : std::max<std::int64_t>(have / 4, 1)));
    else if (roll < 80)
        withdraw.amount = Decimal::fromRaw(have);
    else
        withdraw.amount = Decimal::fromRaw(have + uniform(1, unit)); // more than is available

    if (percent(m_mix.invalid)) {
        switch (uniform(0, 2)) {
        case 0: withdraw.account = 0; break;
        case 1: withdraw.asset = AssetCode(pick(std::vector<std::string>{"XYZ", "SOL", "btc"})); break;
        default: withdraw.amount = Decimal::fromRaw(-uniform(0, unit)); break;
        }
    }
    return withdraw;
}

// --- instruments -----------------------------------------------------------------------------------------

CommandBody CommandGenerator::makeAddInstrument()
{
    AddInstrument add{Symbol("NEW-X"), AssetCode("NEWA"), AssetCode("NEWB"),
                      raw(kOne / 100), raw(kOne / 100),   raw(kOne / 100)};
    switch (uniform(0, 8)) {
    case 0: add.symbol = Symbol(pick(std::vector<std::string>{"", "btc-usd", "-ABC", "A B", "AB/C", ".X"})); break;
    case 1: add.base = AssetCode(pick(std::vector<std::string>{"", "newa", "NEW-A", "NEWB"})); break;
    case 2: add.quote = AssetCode(pick(std::vector<std::string>{"", "B.C", "NEWA"})); break;
    case 3: add.symbol = Symbol(m_specs[static_cast<std::size_t>(uniform(0, 2))].symbol); break;
    case 4: add.tickSize = Decimal::fromRaw(-uniform(0, kOne)); break;
    case 5: add.lotSize = Decimal::fromRaw(-uniform(0, kOne)); break;
    case 6:
        add.minQuantity = percent(50) ? Decimal::fromRaw(-uniform(0, kOne))
                                      : Decimal::fromRaw(add.lotSize.raw() * 3 / 2);
        break;
    case 7:
        add.tickSize = Decimal::fromRaw(uniform(1, 999));
        add.lotSize = Decimal::fromRaw(uniform(1, 99'999));
        add.minQuantity = add.lotSize;
        if (Decimal::checkedMul(add.tickSize, add.lotSize)) // exact after all: make it too fine
            add.tickSize = Decimal::fromRaw(1);
        break;
    default:
        // The late instrument before its time, or once more after it: added, or already there.
        add.symbol = Symbol(m_specs[kLateInstrument].symbol);
        add.base = AssetCode(m_specs[kLateInstrument].base);
        add.quote = AssetCode(m_specs[kLateInstrument].quote);
        add.tickSize = raw(m_specs[kLateInstrument].tick);
        add.lotSize = raw(m_specs[kLateInstrument].lot);
        add.minQuantity = raw(m_specs[kLateInstrument].lot * m_specs[kLateInstrument].minLots);
        break;
    }
    return add;
}

// --- helpers ---------------------------------------------------------------------------------------------

std::optional<std::size_t> CommandGenerator::randomTradedSpec()
{
    std::vector<std::size_t> added;
    for (std::size_t i = 0; i < m_specs.size(); ++i) {
        if (m_specs[i].id)
            added.push_back(i);
    }
    if (added.empty() || permille(15))
        return std::nullopt;
    return pick(added);
}

AccountId CommandGenerator::randomAccount()
{
    return static_cast<AccountId>(uniform(1, static_cast<std::int64_t>(kFundedAccounts)));
}

AccountId CommandGenerator::otherAccount(AccountId account)
{
    const AccountId other = randomAccount();
    return other == account ? other % kFundedAccounts + 1 : other;
}

Symbol CommandGenerator::unknownSymbol()
{
    return Symbol(pick(std::vector<std::string>{"NOPE-USD", "BTC-EUR", "btc-usd", ""}));
}

std::int64_t CommandGenerator::randomLots(const InstrumentSpec &spec)
{
    const std::int64_t roll = uniform(0, 99);
    const std::int64_t scale = roll < 60 ? uniform(1, 10) : roll < 90 ? uniform(10, 100) : uniform(100, 1'000);
    return std::max(spec.minLots, spec.baseLots * scale / 10 + uniform(0, spec.baseLots));
}

std::int64_t CommandGenerator::randomPrice(const InstrumentSpec &spec, Side side)
{
    // Mostly passive (on the own side of the mid, bunched near it so levels hold several orders), some
    // aggressive through the mid, a few far out.
    const std::int64_t roll = uniform(0, 99);
    std::int64_t away = 0;
    if (roll < 75)
        away = uniform(0, 15) + uniform(0, 15);
    else if (roll < 97)
        away = -uniform(0, 20);
    else
        away = uniform(-500, 500);
    const std::int64_t ticks = side == Side::Buy ? spec.midTicks - away : spec.midTicks + away;
    return std::max<std::int64_t>(ticks, 1) * spec.tick;
}

SelfTradePrevention CommandGenerator::randomStp()
{
    const std::int64_t roll = uniform(0, 99);
    if (roll < m_mix.stpNone)
        return SelfTradePrevention::None;
    if (roll < m_mix.stpNone + m_mix.stpMaker)
        return SelfTradePrevention::ExpireMaker;
    if (roll < m_mix.stpNone + m_mix.stpMaker + m_mix.stpBoth)
        return SelfTradePrevention::ExpireBoth;
    return SelfTradePrevention::ExpireTaker;
}

ClientOrderId CommandGenerator::freshClientOrderId()
{
    static constexpr std::string_view kPrefixes[] = {"c-", "bot.", "k:", "ord_", "X"};
    std::string id(kPrefixes[static_cast<std::size_t>(uniform(0, 4))]);
    std::uint64_t counter = ++m_clientIdCounter;
    static constexpr std::string_view kDigits = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    do {
        id.push_back(kDigits[counter % kDigits.size()]);
        counter /= kDigits.size();
    } while (counter > 0);
    if (percent(2))
        id.resize(ClientOrderId::capacity, '_'); // the longest id there can be
    return ClientOrderId(id);
}

std::optional<OrderId> CommandGenerator::randomOpenOrder()
{
    if (m_openIds.empty())
        return std::nullopt;
    return pick(m_openIds);
}

std::int64_t CommandGenerator::available(AccountId account, const std::string &asset) const
{
    const auto id = m_assetIds.find(asset);
    if (id == m_assetIds.end())
        return 0;
    const auto found = m_available.find({account, id->second});
    return found == m_available.end() ? 0 : found->second;
}

std::int64_t CommandGenerator::depositUnit(const std::string &asset) const
{
    if (asset == "USD")
        return 30'000 * kOne;
    if (asset == "BTC")
        return kOne;
    if (asset == "ETH")
        return 20 * kOne;
    if (asset == "DOGE")
        return 200'000 * kOne;
    return 500 * kOne;
}

std::vector<std::string> CommandGenerator::knownAssets() const
{
    std::vector<std::string> assets;
    for (const auto &entry : m_assetIds)
        assets.push_back(entry.first);
    if (assets.empty())
        assets.emplace_back("USD");
    return assets;
}

void CommandGenerator::close(OrderId order)
{
    const auto found = m_open.find(order);
    if (found == m_open.end())
        return;
    m_recentlyClosed.emplace_back(order, found->second.account);
    if (m_recentlyClosed.size() > 64)
        m_recentlyClosed.pop_front();
    m_open.erase(found);
    const std::size_t slot = m_openSlot.at(order);
    m_openSlot.erase(order);
    if (slot + 1 != m_openIds.size()) {
        m_openIds[slot] = m_openIds.back();
        m_openSlot[m_openIds[slot]] = slot;
    }
    m_openIds.pop_back();
}

void CommandGenerator::observe(const std::vector<Event> &events)
{
    for (const Event &event : events) {
        const EventBody &body = event.body;
        if (const auto *addedEvent = std::get_if<InstrumentAdded>(&body)) {
            const InstrumentView &added = addedEvent->instrument;
            for (InstrumentSpec &spec : m_specs) {
                if (spec.symbol == added.symbol.view())
                    spec.id = added.id;
            }
            m_assetIds[std::string(added.base.view())] = added.baseAsset;
            m_assetIds[std::string(added.quote.view())] = added.quoteAsset;
        } else if (const auto *status = std::get_if<InstrumentStatusChanged>(&body)) {
            for (InstrumentSpec &spec : m_specs) {
                if (spec.id == status->instrument)
                    spec.halted = status->status == InstrumentStatus::Halted;
            }
        } else if (const auto *accepted = std::get_if<OrderAccepted>(&body)) {
            std::size_t specIndex = 0;
            while (specIndex + 1 < m_specs.size() && m_specs[specIndex].id != accepted->instrument)
                ++specIndex;
            m_open[accepted->order] = TrackedOrder{accepted->account,        specIndex,
                                                   accepted->side,           accepted->price.raw(),
                                                   accepted->quantity.raw(), accepted->quantity.raw(),
                                                   accepted->postOnly};
            m_openSlot[accepted->order] = m_openIds.size();
            m_openIds.push_back(accepted->order);
            m_maxOrderId = std::max(m_maxOrderId, accepted->order);
            if (!accepted->clientOrderId.empty() && m_lastPlace) {
                m_placements.push_back(Placement{*m_lastPlace, event.time});
                if (m_placements.size() > 256)
                    m_placements.pop_front();
            }
        } else if (const auto *amended = std::get_if<OrderAmended>(&body)) {
            if (const auto found = m_open.find(amended->order); found != m_open.end()) {
                found->second.price = amended->price.raw();
                found->second.quantity = amended->quantity.raw();
                found->second.remaining = amended->remaining.raw();
            }
        } else if (const auto *trade = std::get_if<TradeExecuted>(&body)) {
            for (const auto &[order, remaining] : {std::pair(trade->makerOrder, trade->makerRemaining),
                                                   std::pair(trade->takerOrder, trade->takerRemaining)}) {
                if (const auto found = m_open.find(order); found != m_open.end()) {
                    found->second.remaining = remaining.raw();
                    if (remaining.isZero())
                        close(order);
                }
            }
        } else if (const auto *cancelled = std::get_if<OrderCancelled>(&body)) {
            close(cancelled->order);
        } else if (const auto *expired = std::get_if<OrderExpired>(&body)) {
            close(expired->order);
        } else if (const auto *balance = std::get_if<BalanceChanged>(&body)) {
            m_available[{balance->account, balance->asset}] = balance->available.raw();
        } else if (const auto *deposited = std::get_if<FundsDeposited>(&body)) {
            m_supply[deposited->asset] += deposited->amount.raw();
        } else if (const auto *withdrawn = std::get_if<FundsWithdrawn>(&body)) {
            m_supply[withdrawn->asset] -= withdrawn->amount.raw();
        }
    }
}

} // namespace bourse::test
