// The randomized differential test: one seeded command stream applied in lockstep to the real Sequencer and
// to the naive ReferenceVenue, compared after every command (result, events, best prices, crossed books,
// asset supply) and in full (books, balances, state hash) every 10,000 commands and at the end.
//   BOURSE_DIFF_SEED      the seed (printed at start; random when unset)
//   BOURSE_DIFF_COMMANDS  how many commands (default 1,000,000)
//   BOURSE_DIFF_MIX       CommandMix overrides, e.g. "fok=0,amend=0", to look past a known divergence
#include "command_generator.h"
#include "reference_venue.h"
#include "sequencer.h"

#include <QTest>

#include <array>
#include <chrono>
#include <deque>
#include <limits>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>

using namespace bourse;
using bourse::test::CommandGenerator;
using bourse::test::environmentNumber;
using bourse::test::CommandMix;
using bourse::test::ReferenceVenue;

namespace {

constexpr std::size_t kCheckpointEvery = 10'000;
// The state hash alone, more often: it is the only view of which client order ids are remembered.
constexpr std::size_t kHashEvery = 97;
constexpr std::size_t kRecentCommands = 20;
constexpr AccountId kHighestAccountChecked = 12; // the generator uses 1-9; a few more catch strays

// --- formatting ------------------------------------------------------------------------------------------

std::string str(Decimal value)
{
    return value.toString();
}

template<std::size_t N>
std::string str(const FixedString<N> &text)
{
    return '"' + std::string(text.view()) + '"';
}

template<typename T>
std::string str(const std::optional<T> &value)
{
    return value ? str(*value) : std::string("none");
}

std::string toString(const Command &command)
{
    std::ostringstream out;
    out << "t=" << command.time << ' ';
    std::visit(
        [&out](const auto &c) {
            using T = std::decay_t<decltype(c)>;
            if constexpr (std::is_same_v<T, AddInstrument>) {
                out << "AddInstrument symbol=" << str(c.symbol) << " base=" << str(c.base) << " quote=" << str(c.quote)
                    << " tick=" << str(c.tickSize) << " lot=" << str(c.lotSize) << " min=" << str(c.minQuantity);
            } else if constexpr (std::is_same_v<T, SetInstrumentStatus>) {
                out << "SetInstrumentStatus symbol=" << str(c.symbol) << ' ' << instrumentStatusName(c.status)
                    << (c.cancelOpenOrders ? " cancelOpenOrders" : "");
            } else if constexpr (std::is_same_v<T, PlaceOrder>) {
                out << "PlaceOrder account=" << c.account << " symbol=" << str(c.symbol) << ' ' << sideName(c.side)
                    << ' ' << orderTypeName(c.type)
                    << " tif=" << (c.timeInForce ? timeInForceName(*c.timeInForce) : std::string_view("default"))
                    << (c.postOnly ? " postOnly" : "") << " stp=" << stpName(c.stp) << " price=" << str(c.price)
                    << " quantity=" << str(c.quantity) << " clientOrderId=" << str(c.clientOrderId);
            } else if constexpr (std::is_same_v<T, CancelOrder>) {
                out << "CancelOrder account=" << c.account << " order=" << c.order;
            } else if constexpr (std::is_same_v<T, AmendOrder>) {
                out << "AmendOrder account=" << c.account << " order=" << c.order << " price=" << str(c.price)
                    << " quantity=" << str(c.quantity);
            } else if constexpr (std::is_same_v<T, MassCancel>) {
                out << "MassCancel account=" << c.account << " symbol=" << str(c.symbol);
            } else if constexpr (std::is_same_v<T, Deposit>) {
                out << "Deposit account=" << c.account << " asset=" << str(c.asset) << " amount=" << str(c.amount);
            } else if constexpr (std::is_same_v<T, Withdraw>) {
                out << "Withdraw account=" << c.account << " asset=" << str(c.asset) << " amount=" << str(c.amount);
            }
        },
        command.body);
    return out.str();
}

std::string toString(const Event &event)
{
    std::ostringstream out;
    out << "seq=" << event.seq << " t=" << event.time << ' ';
    std::visit(
        [&out](const auto &e) {
            using T = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<T, InstrumentAdded>) {
                const InstrumentView &i = e.instrument;
                out << "InstrumentAdded instrument=" << i.id << " symbol=" << str(i.symbol) << " base=" << str(i.base)
                    << '#' << i.baseAsset << " quote=" << str(i.quote) << '#' << i.quoteAsset
                    << " tick=" << str(i.tickSize) << " lot=" << str(i.lotSize) << " min=" << str(i.minQuantity) << ' '
                    << instrumentStatusName(i.status);
            } else if constexpr (std::is_same_v<T, InstrumentStatusChanged>) {
                out << "InstrumentStatusChanged instrument=" << e.instrument << ' ' << instrumentStatusName(e.status);
            } else if constexpr (std::is_same_v<T, OrderAccepted>) {
                out << "OrderAccepted order=" << e.order << " account=" << e.account << " instrument=" << e.instrument
                    << ' ' << sideName(e.side) << ' ' << orderTypeName(e.type) << ' ' << timeInForceName(e.timeInForce)
                    << (e.postOnly ? " postOnly" : "") << " stp=" << stpName(e.stp) << " price=" << str(e.price)
                    << " quantity=" << str(e.quantity) << " clientOrderId=" << str(e.clientOrderId);
            } else if constexpr (std::is_same_v<T, OrderAmended>) {
                out << "OrderAmended order=" << e.order << " account=" << e.account << " instrument=" << e.instrument
                    << " price=" << str(e.price) << " quantity=" << str(e.quantity) << " remaining=" << str(e.remaining)
                    << (e.priorityKept ? " priorityKept" : " priorityLost");
            } else if constexpr (std::is_same_v<T, OrderCancelled>) {
                out << "OrderCancelled order=" << e.order << " account=" << e.account << " instrument=" << e.instrument
                    << " remaining=" << str(e.remaining) << ' ' << cancelReasonName(e.reason);
            } else if constexpr (std::is_same_v<T, OrderExpired>) {
                out << "OrderExpired order=" << e.order << " account=" << e.account << " instrument=" << e.instrument
                    << " remaining=" << str(e.remaining) << ' ' << expireReasonName(e.reason);
            } else if constexpr (std::is_same_v<T, TradeExecuted>) {
                out << "TradeExecuted trade=" << e.trade << " instrument=" << e.instrument << " price=" << str(e.price)
                    << " quantity=" << str(e.quantity) << " taker=" << sideName(e.takerSide)
                    << " maker=" << e.makerOrder << '/' << e.makerAccount << " left " << str(e.makerRemaining)
                    << " taker=" << e.takerOrder << '/' << e.takerAccount << " left " << str(e.takerRemaining);
            } else if constexpr (std::is_same_v<T, BalanceChanged>) {
                out << "BalanceChanged account=" << e.account << " asset=" << e.asset
                    << " available=" << str(e.available) << " reserved=" << str(e.reserved);
            } else if constexpr (std::is_same_v<T, FundsDeposited>) {
                out << "FundsDeposited account=" << e.account << " asset=" << e.asset << " amount=" << str(e.amount);
            } else if constexpr (std::is_same_v<T, FundsWithdrawn>) {
                out << "FundsWithdrawn account=" << e.account << " asset=" << e.asset << " amount=" << str(e.amount);
            } else if constexpr (std::is_same_v<T, CommandRejected>) {
                out << "CommandRejected " << commandName(e.command) << ' ' << rejectName(e.reason)
                    << " account=" << e.account << " order=" << e.order << " clientOrderId=" << str(e.clientOrderId)
                    << " asset=" << e.asset << " required=" << str(e.required) << " available=" << str(e.available);
            }
        },
        event.body);
    return out.str();
}

std::string toString(const CommandResult &result)
{
    static constexpr std::string_view kOutcomes[] = {"Applied", "Rejected", "Replayed"};
    std::ostringstream out;
    out << kOutcomes[static_cast<std::size_t>(result.outcome)] << " order=" << result.order << " seq=["
        << result.firstSeq << ',' << result.lastSeq << "] affected=" << result.affected;
    if (result.outcome == CommandResult::Outcome::Rejected)
        out << " reason=" << rejectName(result.reason) << " asset=" << result.asset
            << " required=" << str(result.required) << " available=" << str(result.available);
    return out.str();
}

std::string toString(const OrderView &order)
{
    std::ostringstream out;
    out << "order=" << order.id << " account=" << order.account << " instrument=" << order.instrument << ' '
        << sideName(order.side) << (order.postOnly ? " postOnly" : "") << " stp=" << stpName(order.stp)
        << " price=" << str(order.price) << " quantity=" << str(order.quantity) << " remaining=" << str(order.remaining)
        << " clientOrderId=" << str(order.clientOrderId);
    return out.str();
}

// --- comparing -------------------------------------------------------------------------------------------

// The fields the header gives a meaning: reason only for a rejection, the balance shortfall only for
// InsufficientBalance.
bool sameResult(const CommandResult &a, const CommandResult &b)
{
    if (a.outcome != b.outcome || a.order != b.order || a.firstSeq != b.firstSeq || a.lastSeq != b.lastSeq
        || a.affected != b.affected)
        return false;
    if (a.outcome != CommandResult::Outcome::Rejected)
        return true;
    if (a.reason != b.reason)
        return false;
    return a.reason != RejectReason::InsufficientBalance
           || (a.asset == b.asset && a.required == b.required && a.available == b.available);
}

bool sameOrder(const OrderView &a, const OrderView &b)
{
    return a.id == b.id && a.account == b.account && a.instrument == b.instrument && a.side == b.side
           && a.postOnly == b.postOnly && a.stp == b.stp && a.price == b.price && a.quantity == b.quantity
           && a.remaining == b.remaining && a.clientOrderId == b.clientOrderId;
}

bool sameInstrument(const InstrumentView &a, const InstrumentView &b)
{
    return a.id == b.id && a.symbol == b.symbol && a.base == b.base && a.quote == b.quote && a.baseAsset == b.baseAsset
           && a.quoteAsset == b.quoteAsset && a.tickSize == b.tickSize && a.lotSize == b.lotSize
           && a.minQuantity == b.minQuantity && a.status == b.status;
}

std::optional<Decimal> bestOf(const Sequencer &engine, InstrumentId instrument, Side side)
{
    const std::vector<LevelView> levels = engine.levels(instrument, side, 1);
    return levels.empty() ? std::nullopt : std::optional(levels.front().price);
}

// How often each branch was hit, to show (and check) that the stream reaches all of them.
struct Coverage
{
    std::array<std::size_t, 3> outcomes{};
    std::array<std::size_t, 32> rejects{};
    std::array<std::size_t, std::variant_size_v<EventBody>> events{};
    std::array<std::size_t, 4> expires{};
    std::array<std::size_t, 3> cancels{};
    std::array<std::size_t, 2> amendPriority{};
    std::size_t selfTrades = 0;
    std::size_t depthSamples = 0;
    std::size_t depthTotal = 0;
    std::size_t depthMax = 0;

    void sampleDepth(std::size_t openOrders)
    {
        ++depthSamples;
        depthTotal += openOrders;
        depthMax = std::max(depthMax, openOrders);
    }

    void count(const CommandResult &result, const std::vector<Event> &commandEvents)
    {
        ++outcomes[static_cast<std::size_t>(result.outcome)];
        if (result.outcome == CommandResult::Outcome::Rejected)
            ++rejects[static_cast<std::size_t>(result.reason)];
        for (const Event &event : commandEvents) {
            ++events[event.body.index()];
            if (const auto *e = std::get_if<OrderExpired>(&event.body))
                ++expires[static_cast<std::size_t>(e->reason)];
            else if (const auto *c = std::get_if<OrderCancelled>(&event.body))
                ++cancels[static_cast<std::size_t>(c->reason)];
            else if (const auto *a = std::get_if<OrderAmended>(&event.body))
                ++amendPriority[a->priorityKept ? 1 : 0];
            else if (const auto *t = std::get_if<TradeExecuted>(&event.body))
                selfTrades += t->makerAccount == t->takerAccount ? 1 : 0;
        }
    }

    // Every reject reason, expiry and cancel reason, both amend kinds, self-trades and replays.
    std::vector<std::string> missing() const
    {
        std::vector<std::string> gaps;
        for (std::size_t i = 0; i <= static_cast<std::size_t>(RejectReason::PrecisionTooFine); ++i) {
            if (rejects[i] == 0)
                gaps.push_back("reject " + std::string(rejectName(static_cast<RejectReason>(i))));
        }
        for (std::size_t i = 0; i < expires.size(); ++i) {
            if (expires[i] == 0)
                gaps.push_back("expiry " + std::string(expireReasonName(static_cast<ExpireReason>(i))));
        }
        for (std::size_t i = 0; i < cancels.size(); ++i) {
            if (cancels[i] == 0)
                gaps.push_back("cancel " + std::string(cancelReasonName(static_cast<CancelReason>(i))));
        }
        if (amendPriority[0] == 0 || amendPriority[1] == 0)
            gaps.emplace_back("amend keeping and losing priority");
        if (selfTrades == 0)
            gaps.emplace_back("self-trade with stp none");
        if (outcomes[static_cast<std::size_t>(CommandResult::Outcome::Replayed)] == 0)
            gaps.emplace_back("replayed client order id");
        return gaps;
    }

    std::string summary() const
    {
        std::ostringstream out;
        out << "applied " << outcomes[0] << ", rejected " << outcomes[1] << ", replayed " << outcomes[2] << "; trades "
            << events[6] << " (self " << selfTrades << "); expiries ioc/fok/stp/funds " << expires[0] << '/'
            << expires[1] << '/' << expires[2] << '/' << expires[3] << "; cancels requested/mass/kill " << cancels[0]
            << '/' << cancels[1] << '/' << cancels[2] << "; amends kept/moved " << amendPriority[1] << '/'
            << amendPriority[0] << "; open orders mean/max " << (depthSamples == 0 ? 0 : depthTotal / depthSamples)
            << '/' << depthMax << "\nrejects:";
        for (std::size_t i = 0; i <= static_cast<std::size_t>(RejectReason::PrecisionTooFine); ++i)
            out << ' ' << rejectName(static_cast<RejectReason>(i)) << '=' << rejects[i];
        return out.str();
    }
};

// One pass over the stream: the generator, the engine and the reference, stepped together.
class LockstepRun final
{
public:
    LockstepRun(std::uint64_t seed, const CommandMix &mix)
        : m_generator(seed, mix)
    {}

    std::size_t applied() const { return m_applied; }
    const Coverage &coverage() const { return m_coverage; }
    const Sequencer &engine() const { return m_engine; }
    const ReferenceVenue &reference() const { return m_reference; }

    // Applies the next command to both; returns what differs (empty when nothing does).
    std::string step()
    {
        Command command = m_generator.next();
        m_recent.emplace_back(m_applied, command);
        if (m_recent.size() > kRecentCommands)
            m_recent.pop_front();
        ++m_applied;

        m_engineEvents.clear();
        m_referenceEvents.clear();
        m_engineResult = m_engine.apply(command, m_engineEvents);
        m_referenceResult = m_reference.apply(command, m_referenceEvents);
        m_generator.observe(m_referenceEvents);
        m_coverage.count(m_referenceResult, m_referenceEvents);
        if (m_applied % 1'000 == 0)
            m_coverage.sampleDepth(m_reference.openOrderCount());
        for (const Event &event : m_referenceEvents) {
            if (const auto *deposited = std::get_if<FundsDeposited>(&event.body))
                m_netFunds[deposited->asset] += deposited->amount.raw();
            else if (const auto *withdrawn = std::get_if<FundsWithdrawn>(&event.body))
                m_netFunds[withdrawn->asset] -= withdrawn->amount.raw();
        }
        return quickDifference();
    }

    // What is compared after every command.
    std::string quickDifference() const
    {
        std::ostringstream out;
        if (!sameResult(m_engineResult, m_referenceResult))
            out << "result differs:\n  engine:    " << toString(m_engineResult)
                << "\n  reference: " << toString(m_referenceResult) << '\n';
        if (m_engineEvents != m_referenceEvents) {
            std::size_t i = 0;
            while (i < m_engineEvents.size() && i < m_referenceEvents.size()
                   && m_engineEvents[i] == m_referenceEvents[i])
                ++i;
            out << "events differ from event " << i << " of the command (engine has " << m_engineEvents.size()
                << ", reference " << m_referenceEvents.size() << ")\n";
        }
        if (m_engine.lastSeq() != m_reference.lastSeq() || m_engine.lastTime() != m_reference.lastTime())
            out << "lastSeq/lastTime differ: engine " << m_engine.lastSeq() << '/' << m_engine.lastTime()
                << ", reference " << m_reference.lastSeq() << '/' << m_reference.lastTime() << '\n';
        if (m_engine.instrumentCount() != m_reference.instrumentCount())
            out << "instrument count differs: engine " << m_engine.instrumentCount() << ", reference "
                << m_reference.instrumentCount() << '\n';
        for (InstrumentId id = 0; id < m_reference.instrumentCount(); ++id) {
            for (const Side side : {Side::Buy, Side::Sell}) {
                const std::optional<Decimal> engineBest = bestOf(m_engine, id, side);
                const std::optional<Decimal> referenceBest = m_reference.bestPrice(id, side);
                if (engineBest != referenceBest)
                    out << "best " << (side == Side::Buy ? "bid" : "ask") << " of instrument " << id
                        << " differs: engine " << str(engineBest) << ", reference " << str(referenceBest) << '\n';
            }
            const std::optional<Decimal> bid = bestOf(m_engine, id, Side::Buy);
            const std::optional<Decimal> ask = bestOf(m_engine, id, Side::Sell);
            if (bid && ask && !(*bid < *ask))
                out << "the engine's book of instrument " << id << " is crossed: bid " << str(bid) << " >= ask "
                    << str(ask) << '\n';
        }
        for (AssetId asset = 0; asset < m_reference.assetCount(); ++asset) {
            const auto net = m_netFunds.find(asset);
            const Decimal expected = Decimal::fromRaw(net == m_netFunds.end() ? 0 : net->second);
            if (m_engine.assetSupply(asset) != expected || m_reference.assetSupply(asset) != expected)
                out << "supply of asset " << asset << ": deposits - withdrawals = " << str(expected) << ", engine "
                    << str(m_engine.assetSupply(asset)) << ", reference " << str(m_reference.assetSupply(asset))
                    << '\n';
        }
        return out.str();
    }

    std::string hashDifference() const
    {
        if (m_engine.stateHash() == m_reference.stateHash())
            return {};
        std::ostringstream out;
        out << "stateHash differs: engine " << m_engine.stateHash() << ", reference " << m_reference.stateHash()
            << " (with books and balances equal, look at the next ids and the remembered client order ids)\n";
        return out.str();
    }

    // What is compared at checkpoints: the whole state.
    std::string fullDifference() const
    {
        std::ostringstream out;
        out << quickDifference();
        if (m_engine.assetCount() != m_reference.assetCount())
            out << "asset count differs: engine " << m_engine.assetCount() << ", reference " << m_reference.assetCount()
                << '\n';
        if (m_engine.openOrderCount() != m_reference.openOrderCount())
            out << "open order count differs: engine " << m_engine.openOrderCount() << ", reference "
                << m_reference.openOrderCount() << '\n';
        for (InstrumentId id = 0; id < m_reference.instrumentCount(); ++id) {
            const std::optional<InstrumentView> engineView = m_engine.instrument(id);
            const InstrumentView referenceView = *m_reference.instrument(id);
            if (!engineView || !sameInstrument(*engineView, referenceView))
                out << "instrument " << id << " differs\n";
            for (const Side side : {Side::Buy, Side::Sell}) {
                std::vector<OrderView> engineOrders;
                m_engine.forEachOrder(id, side, [&](const OrderView &order) { engineOrders.push_back(order); });
                const std::vector<OrderView> referenceOrders = m_reference.bookSide(id, side);
                for (std::size_t i = 0; i < std::max(engineOrders.size(), referenceOrders.size()); ++i) {
                    const bool both = i < engineOrders.size() && i < referenceOrders.size();
                    if (both && sameOrder(engineOrders[i], referenceOrders[i]))
                        continue;
                    out << "book " << id << ' ' << sideName(side) << " differs at position " << i
                        << ":\n  engine:    " << (i < engineOrders.size() ? toString(engineOrders[i]) : "(none)")
                        << "\n  reference: " << (i < referenceOrders.size() ? toString(referenceOrders[i]) : "(none)")
                        << '\n';
                    break;
                }
                for (const OrderView &order : referenceOrders) {
                    const std::optional<OrderView> looked = m_engine.order(order.id);
                    if (!looked || !sameOrder(*looked, order)) {
                        out << "engine.order(" << order.id << ") differs from the book\n";
                        break;
                    }
                }
                // Levels: price, total quantity and count, best first.
                const std::vector<LevelView> levels = m_engine.levels(id, side, std::numeric_limits<std::size_t>::max());
                std::vector<LevelView> expected;
                for (const OrderView &order : referenceOrders) {
                    if (expected.empty() || expected.back().price != order.price)
                        expected.push_back(LevelView{order.price, Decimal(), 0});
                    expected.back().quantity = Decimal::fromRaw(expected.back().quantity.raw() + order.remaining.raw());
                    ++expected.back().orders;
                }
                bool sameLevels = levels.size() == expected.size();
                for (std::size_t i = 0; sameLevels && i < levels.size(); ++i)
                    sameLevels = levels[i].price == expected[i].price && levels[i].quantity == expected[i].quantity
                                 && levels[i].orders == expected[i].orders;
                if (!sameLevels)
                    out << "levels of book " << id << ' ' << sideName(side) << " differ\n";
            }
        }
        for (AccountId account = 0; account <= kHighestAccountChecked; ++account) {
            for (AssetId asset = 0; asset < m_reference.assetCount(); ++asset) {
                const BalanceView engineBalance = m_engine.balance(account, asset);
                const BalanceView referenceBalance = m_reference.balance(account, asset);
                if (engineBalance.available != referenceBalance.available
                    || engineBalance.reserved != referenceBalance.reserved)
                    out << "balance " << account << '/' << asset << " differs: engine " << str(engineBalance.available)
                        << '/' << str(engineBalance.reserved) << ", reference " << str(referenceBalance.available)
                        << '/' << str(referenceBalance.reserved) << '\n';
            }
        }
        out << hashDifference();
        return out.str();
    }

    void dump(std::uint64_t seed, const QString &mix, const std::string &difference) const
    {
        const std::size_t failing = m_applied - 1;
        qInfo().noquote() << "DIVERGENCE with seed" << seed << "at command index" << failing << "(0-based)";
        qInfo().noquote() << QStringLiteral("shortest reproducing prefix: %1 commands").arg(failing + 1);
        qInfo().noquote() << "rerun: BOURSE_DIFF_SEED=" + QString::number(seed)
                                 + " BOURSE_DIFF_COMMANDS=" + QString::number(failing + 1)
                                 + (mix.isEmpty() ? QString() : " BOURSE_DIFF_MIX=" + mix);
        qInfo().noquote() << QString::fromStdString(difference);
        qInfo().noquote() << "last commands:";
        for (const auto &[index, command] : m_recent)
            qInfo().noquote() << QStringLiteral("  [%1] ").arg(index) + QString::fromStdString(toString(command));
        qInfo().noquote() << "engine:    " + QString::fromStdString(toString(m_engineResult));
        for (const Event &event : m_engineEvents)
            qInfo().noquote() << "  " + QString::fromStdString(toString(event));
        qInfo().noquote() << "reference: " + QString::fromStdString(toString(m_referenceResult));
        for (const Event &event : m_referenceEvents)
            qInfo().noquote() << "  " + QString::fromStdString(toString(event));
    }

private:
    CommandGenerator m_generator;
    Sequencer m_engine;
    ReferenceVenue m_reference;
    std::size_t m_applied = 0;
    std::deque<std::pair<std::size_t, Command>> m_recent;
    std::vector<Event> m_engineEvents;
    std::vector<Event> m_referenceEvents;
    CommandResult m_engineResult;
    CommandResult m_referenceResult;
    std::map<AssetId, std::int64_t> m_netFunds;
    Coverage m_coverage;
};

} // namespace

class TestDifferential : public QObject
{
    Q_OBJECT

private slots:
    void engineMatchesReference();
};

void TestDifferential::engineMatchesReference()
{
    const std::uint64_t seed = environmentNumber("BOURSE_DIFF_SEED",
                                                 std::random_device{}() ^ (std::uint64_t(std::random_device{}()) << 32));
    const std::size_t commands = environmentNumber("BOURSE_DIFF_COMMANDS", 1'000'000);
    const QString mixText = QString::fromLocal8Bit(qgetenv("BOURSE_DIFF_MIX"));
    std::string mixError;
    const std::optional<CommandMix> mix = CommandMix::parse(mixText.toStdString(), &mixError);
    if (!mix)
        QFAIL(qPrintable(QStringLiteral("BOURSE_DIFF_MIX: bad item '%1'").arg(QString::fromStdString(mixError))));
    qInfo().noquote() << QStringLiteral("seed %1, %2 commands%3 (rerun with BOURSE_DIFF_SEED=%1)")
                             .arg(seed)
                             .arg(commands)
                             .arg(mixText.isEmpty() ? QString() : ", mix " + mixText);

    const auto started = std::chrono::steady_clock::now();
    auto run = std::make_unique<LockstepRun>(seed, *mix);
    std::size_t lastGoodCheckpoint = 0;
    while (run->applied() < commands) {
        std::string difference = run->step();
        const bool full = run->applied() % kCheckpointEvery == 0 || run->applied() == commands;
        const bool checkpoint = full || run->applied() % kHashEvery == 0;
        if (difference.empty() && checkpoint) {
            difference = full ? run->fullDifference() : run->hashDifference();
            if (!difference.empty()) {
                // Found only at a checkpoint: replay from scratch, comparing everything after every command
                // since the last good checkpoint, to name the first command that diverged.
                const std::size_t found = run->applied();
                run = std::make_unique<LockstepRun>(seed, *mix);
                while (run->applied() < found) {
                    difference = run->step();
                    if (difference.empty() && run->applied() > lastGoodCheckpoint)
                        difference = run->fullDifference();
                    if (!difference.empty())
                        break;
                }
                if (difference.empty())
                    QFAIL("a full-state divergence did not reproduce on the replay: is a venue nondeterministic?");
            }
        }
        if (!difference.empty()) {
            run->dump(seed, mixText, difference);
            QFAIL(qPrintable(QStringLiteral("engine and reference diverge (seed %1, shortest reproducing prefix: "
                                            "%2 commands)")
                                 .arg(seed)
                                 .arg(run->applied())));
        }
        if (checkpoint)
            lastGoodCheckpoint = run->applied();
    }

    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    qInfo().noquote() << QStringLiteral("%1 commands in %2 s; %3 open orders at the end")
                             .arg(commands)
                             .arg(seconds, 0, 'f', 1)
                             .arg(run->reference().openOrderCount());
    qInfo().noquote() << QString::fromStdString(run->coverage().summary());
    // A long run with the default mix must have reached every branch; a reduced mix may skip some.
    if (commands >= 200'000 && mixText.isEmpty()) {
        const std::vector<std::string> missing = run->coverage().missing();
        std::string joined;
        for (const std::string &gap : missing)
            joined += (joined.empty() ? "" : ", ") + gap;
        QVERIFY2(missing.empty(),
                 qPrintable(QStringLiteral("the stream never reached: %1").arg(QString::fromStdString(joined))));
    }
}

QTEST_GUILESS_MAIN(TestDifferential)
#include "tst_differential.moc"
