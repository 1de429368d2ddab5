// CandleSeries: every candle of one instrument and interval, oldest first, in one compact vector (56 bytes a
// candle: 100,000 of them are 5.6 MB), with the live edge — a trade updates the last candle or opens the next
// one — and the visible window (first index, count) the chart draws, clamped to what exists. Exact Decimal
// throughout; nothing here knows about drawing. A plain value; used on the GUI thread by CandleChartModel.
#pragma once

#include "repositories.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace bourse::app {

class CandleSeries final
{
public:
    // The window never shows fewer candles than this (when there are that many), nor more than kMaxWindow:
    // only the window goes into the chart, so a long history costs the chart nothing.
    static constexpr int kMinWindow = 10;
    static constexpr int kMaxWindow = 400;
    static constexpr int kDefaultWindow = 120;

    enum class TradeEffect { Ignored, Updated, Appended };

    std::int64_t intervalSeconds() const { return m_intervalSeconds; }
    const std::vector<sql::CandleRecord> &candles() const { return m_candles; }
    int size() const { return int(m_candles.size()); }
    bool empty() const { return m_candles.empty(); }

    // A whole new history (oldest first) of `intervalSeconds` candles. The window keeps its width and shows the
    // newest candles.
    void assign(std::vector<sql::CandleRecord> candles, std::int64_t intervalSeconds);
    void clear(std::int64_t intervalSeconds);

    // One trade at `time`: into the last candle when it falls in that candle's interval, a new candle when it
    // falls in a later one; a trade older than the last candle's start (already in the history) is ignored.
    // When the window showed the newest candle it still does after a new candle.
    TradeEffect applyTrade(TimeNs time, Decimal price, Decimal quantity);

    // The start of the interval holding `time` (floor, like the candles projection).
    TimeNs intervalStart(TimeNs time) const;
    TimeNs intervalNanos() const { return m_intervalSeconds * 1'000'000'000LL; }

    // ---- the window
    int windowFirst() const { return m_first; }
    int windowCount() const { return std::min(m_wanted, size()); }
    bool followsLatest() const { return m_first + windowCount() >= size(); }
    // Clamped: count to kMinWindow..kMaxWindow (and to what exists), first to 0..size()-count. Whether it moved.
    bool setWindow(int first, int count);
    bool scroll(int candles) { return setWindow(m_first + candles, m_wanted); }
    // Scales the width by `factor` (< 1 zooms in) keeping the candle at `anchor` (0 left edge .. 1 right edge)
    // where it is. A factor that is not a positive finite number changes nothing.
    bool zoom(double factor, double anchor);
    // The index of the candle whose interval holds `time`, -1 when none does.
    int indexAt(TimeNs time) const;

private:
    std::int64_t m_intervalSeconds = 60;
    std::vector<sql::CandleRecord> m_candles;
    int m_first = 0;
    int m_wanted = kDefaultWindow; // the width; the window shows min(m_wanted, size()) candles
};

// A synthetic history for the tests and the benchmark: `count` candles of `intervalSeconds` ending with the
// one starting at `lastStart`, a seeded random walk around 100 with exact 2-digit prices and 4-digit volumes.
std::vector<sql::CandleRecord> syntheticCandles(std::size_t count, std::int64_t intervalSeconds, TimeNs lastStart,
                                                std::uint32_t seed = 1);

} // namespace bourse::app
