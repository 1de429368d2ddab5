// CommandGenerator: a seeded, reproducible stream of venue commands for the randomized engine tests
// (differential against the ReferenceVenue, replay between two Sequencers). It covers every command, every
// branch and every reject reason of engine/sequencer.h: few accounts so that orders meet their own, prices
// clustered round a moving mid so that books cross and rest, balances that sometimes run short, client order
// ids retried and reused across the 24 h retention, time that jumps and sometimes runs backwards.
// The stream is a function of the seed and of the events fed back through observe(); feed it the events of
// the same (deterministic) venue every run and a seed reproduces the same commands. Test thread only.
#pragma once

#include "event.h"

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace bourse::test {

// A whole number from the environment (a seed, a stream length), or `fallback` when it is unset. A value
// that is not a number stops the run with a message rather than silently testing something else.
std::uint64_t environmentNumber(const char *name, std::uint64_t fallback);

// How often each kind of command and order feature appears. Setting one to zero switches it off, which is
// how a second, different divergence is hunted down once the first is known.
struct CommandMix
{
    // Relative weights of the command kinds.
    int place = 600;
    int cancel = 90;
    int amend = 140;
    int massCancel = 3;
    int status = 2;
    int deposit = 80;
    int withdraw = 45;
    int addInstrument = 5;

    // Percentages among orders (market, ioc, fok, post-only are of placements; stp* of every order).
    int market = 12;
    int ioc = 12;
    int fok = 10;
    int postOnly = 8;
    int stpNone = 25;
    int stpMaker = 20;
    int stpBoth = 15;
    int clientId = 30;
    int retry = 4;   // resend an accepted order's exact payload
    int reuse = 2;   // its client order id with another payload
    int invalid = 6; // deliberately malformed commands of every kind

    // "name=value,name=value" over the field names above; nullopt names the first bad item.
    static std::optional<CommandMix> parse(std::string_view text, std::string *error = nullptr);
};

class CommandGenerator final
{
public:
    explicit CommandGenerator(std::uint64_t seed, CommandMix mix = {});

    Command next();
    // The events the venue gave for the last command: open orders, balances, supply and instruments are
    // tracked from them so that cancels, amends, withdrawals and retries hit real targets.
    void observe(const std::vector<Event> &events);

private:
    struct InstrumentSpec
    {
        std::string symbol;
        std::string base;
        std::string quote;
        std::int64_t tick = 0; // raw units
        std::int64_t lot = 0;
        std::int64_t minLots = 1;
        std::int64_t baseLots = 1; // a typical small order
        std::int64_t midTicks = 0; // moves as a random walk
        std::int64_t startMidTicks = 0;
        std::optional<InstrumentId> id; // once the venue added it
        bool halted = false;
    };
    struct TrackedOrder
    {
        AccountId account = 0;
        std::size_t spec = 0;
        Side side = Side::Buy;
        std::int64_t price = 0;
        std::int64_t quantity = 0;
        std::int64_t remaining = 0;
        bool postOnly = false;
    };
    struct Placement // an accepted order that carried a client order id
    {
        PlaceOrder command;
        TimeNs acceptedAt = 0;
    };
    struct Scheduled
    {
        std::uint64_t step = 0;
        CommandBody body;
    };

    // Randomness: portable arithmetic on mt19937_64 output, so a seed means the same stream everywhere.
    std::int64_t uniform(std::int64_t low, std::int64_t high);
    bool percent(int chance);
    bool permille(int chance);
    template<typename T>
    const T &pick(const std::vector<T> &items)
    {
        return items[static_cast<std::size_t>(uniform(0, static_cast<std::int64_t>(items.size()) - 1))];
    }

    TimeNs nextTime();
    void moveMids();
    CommandBody makePlace();
    CommandBody makeCancel();
    CommandBody makeAmend();
    CommandBody makeMassCancel();
    CommandBody makeStatus();
    CommandBody makeDeposit();
    CommandBody makeWithdraw();
    CommandBody makeAddInstrument();

    std::optional<std::size_t> randomTradedSpec();
    AccountId randomAccount();
    AccountId otherAccount(AccountId account);
    Symbol unknownSymbol();
    std::int64_t randomLots(const InstrumentSpec &spec);
    std::int64_t randomPrice(const InstrumentSpec &spec, Side side);
    SelfTradePrevention randomStp();
    ClientOrderId freshClientOrderId();
    std::optional<OrderId> randomOpenOrder();
    std::int64_t available(AccountId account, const std::string &asset) const;
    std::int64_t depositUnit(const std::string &asset) const;
    std::vector<std::string> knownAssets() const;
    void close(OrderId order);

    std::mt19937_64 m_random;
    CommandMix m_mix;
    std::uint64_t m_step = 0;
    TimeNs m_clock = 0;
    std::vector<InstrumentSpec> m_specs;
    std::deque<Scheduled> m_scheduled; // by step

    // What observe() learnt from the venue.
    std::map<std::string, AssetId> m_assetIds;
    std::unordered_map<OrderId, TrackedOrder> m_open;
    std::vector<OrderId> m_openIds; // the keys of m_open, for picking at random
    std::unordered_map<OrderId, std::size_t> m_openSlot;
    std::deque<std::pair<OrderId, AccountId>> m_recentlyClosed;
    OrderId m_maxOrderId = 0;
    std::map<std::pair<AccountId, AssetId>, std::int64_t> m_available;
    std::map<AssetId, std::int64_t> m_supply;
    std::deque<Placement> m_placements;
    std::optional<PlaceOrder> m_lastPlace;
    std::optional<TimeNs> m_forcedTime; // a command that must land on one instant
    std::uint64_t m_clientIdCounter = 0;
};

} // namespace bourse::test
