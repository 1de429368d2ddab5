#include "candle_series.h"

#include <cmath>
#include <random>

namespace bourse::app {

void CandleSeries::assign(std::vector<sql::CandleRecord> candles, std::int64_t intervalSeconds)
{
    m_candles = std::move(candles);
    m_intervalSeconds = intervalSeconds;
    setWindow(size(), m_wanted); // clamped: the newest candles
}

void CandleSeries::clear(std::int64_t intervalSeconds)
{
    assign({}, intervalSeconds);
}

TimeNs CandleSeries::intervalStart(TimeNs time) const
{
    const TimeNs width = intervalNanos();
    TimeNs start = time / width * width;
    if (start > time)
        start -= width; // floor, not truncation, as the projection does
    return start;
}

CandleSeries::TradeEffect CandleSeries::applyTrade(TimeNs time, Decimal price, Decimal quantity)
{
    const TimeNs start = intervalStart(time);
    if (!m_candles.empty() && start < m_candles.back().start)
        return TradeEffect::Ignored;
    if (!m_candles.empty() && start == m_candles.back().start) {
        sql::CandleRecord &last = m_candles.back();
        last.high = std::max(last.high, price);
        last.low = std::min(last.low, price);
        last.close = price;
        // A volume past Decimal's range cannot come from the engine (its balances are Decimals too).
        last.volume = Decimal::checkedAdd(last.volume, quantity).value_or(last.volume);
        ++last.trades;
        return TradeEffect::Updated;
    }
    const bool following = followsLatest();
    m_candles.push_back(sql::CandleRecord{start, price, price, price, price, quantity, 1});
    if (following)
        setWindow(size(), m_wanted);
    return TradeEffect::Appended;
}

bool CandleSeries::setWindow(int first, int count)
{
    const int wanted = std::clamp(count, kMinWindow, kMaxWindow);
    const int shown = std::min(wanted, size());
    const int clampedFirst = std::clamp(first, 0, size() - shown);
    if (wanted == m_wanted && clampedFirst == m_first)
        return false;
    m_wanted = wanted;
    m_first = clampedFirst;
    return true;
}

bool CandleSeries::zoom(double factor, double anchor)
{
    if (!std::isfinite(factor) || factor <= 0)
        return false;
    anchor = std::isfinite(anchor) ? std::clamp(anchor, 0.0, 1.0) : 0.5;
    const double anchored = m_first + anchor * windowCount();
    const double scaled = std::clamp(std::round(m_wanted * factor), double(kMinWindow), double(kMaxWindow));
    const int wanted = int(scaled);
    const int shown = std::min(wanted, size());
    return setWindow(int(std::lround(anchored - anchor * shown)), wanted);
}

int CandleSeries::indexAt(TimeNs time) const
{
    const auto after = std::upper_bound(m_candles.cbegin(), m_candles.cend(), time,
                                        [](TimeNs at, const sql::CandleRecord &candle) { return at < candle.start; });
    if (after == m_candles.cbegin())
        return -1;
    const auto candle = std::prev(after);
    if (time >= candle->start + intervalNanos())
        return -1;
    return int(candle - m_candles.cbegin());
}

std::vector<sql::CandleRecord> syntheticCandles(std::size_t count, std::int64_t intervalSeconds, TimeNs lastStart,
                                                std::uint32_t seed)
{
    constexpr std::int64_t kCent = Decimal::kOne / 100;
    constexpr std::int64_t kLot = Decimal::kOne / 10'000;
    std::mt19937 random(seed);
    const auto between = [&random](std::int64_t low, std::int64_t high) {
        return std::uniform_int_distribution<std::int64_t>(low, high)(random);
    };
    std::vector<sql::CandleRecord> candles;
    candles.reserve(count);
    const TimeNs width = intervalSeconds * 1'000'000'000LL;
    std::int64_t close = 10'000; // cents
    for (std::size_t i = 0; i < count; ++i) {
        const std::int64_t open = close;
        close = std::max<std::int64_t>(100, open + between(-50, 50));
        const std::int64_t high = std::max(open, close) + between(0, 30);
        const std::int64_t low = std::max<std::int64_t>(1, std::min(open, close) - between(0, 30));
        const TimeNs start = lastStart - TimeNs(count - 1 - i) * width;
        candles.push_back(sql::CandleRecord{start, Decimal::fromRaw(open * kCent), Decimal::fromRaw(high * kCent),
                                            Decimal::fromRaw(low * kCent), Decimal::fromRaw(close * kCent),
                                            Decimal::fromRaw(between(1, 100'000) * kLot), between(1, 50)});
    }
    return candles;
}

} // namespace bourse::app
