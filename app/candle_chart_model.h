// CandleChartModel: the candle chart of the Desk's selected instrument. It holds every candle of the chosen
// interval (the venue's history, up to the API's 1500 a read, then the live edge from each Desk::pulse's
// trades) in a CandleSeries, and feeds the chart only the visible window (at most CandleSeries::kMaxWindow
// candles): attach() hands it the ChartView's two CandlestickSeries (prices, and volume drawn as bars), and
// every change of the window replaces their sets in one append. Prices stay exact Decimals; doubles exist only
// in the sets drawn. GUI (main) thread.
#pragma once

#include "api_json.h"
#include "candle_series.h"
#include "market_tap.h"

#include <QDateTime>
#include <QObject>
#include <QTimer>
#include <QPointer>
#include <QVariantMap>
#include <QtQml/qqmlregistration.h>

#include <QtCharts/QCandlestickSeries>

namespace bourse::app {

class Desk;

// Not final: QML_ELEMENT types are derived from by the QML engine.
class CandleChartModel : public QObject
{
    Q_OBJECT
    QML_ELEMENT

    // "1m", "5m", "15m", "1h", "1d" (the API's names). Another name is refused with the API's message in
    // `error`, and the interval stays.
    Q_PROPERTY(QString interval READ interval WRITE setInterval NOTIFY intervalChanged)
    Q_PROPERTY(QStringList intervals READ intervals CONSTANT)
    Q_PROPERTY(QString symbol READ symbol NOTIFY symbolChanged)
    Q_PROPERTY(bool loading READ loading NOTIFY loadingChanged)
    Q_PROPERTY(QString error READ error NOTIFY errorChanged)
    Q_PROPERTY(int count READ count NOTIFY candlesChanged)
    Q_PROPERTY(QString lastPrice READ lastPrice NOTIFY candlesChanged)
    // The window, and the axes' ranges that show it (doubles for drawing only).
    Q_PROPERTY(int windowFirst READ windowFirst NOTIFY windowChanged)
    Q_PROPERTY(int windowCount READ windowCount NOTIFY windowChanged)
    Q_PROPERTY(bool followsLatest READ followsLatest NOTIFY windowChanged)
    Q_PROPERTY(QDateTime axisMin READ axisMin NOTIFY windowChanged)
    Q_PROPERTY(QDateTime axisMax READ axisMax NOTIFY windowChanged)
    Q_PROPERTY(double priceMin READ priceMin NOTIFY windowChanged)
    Q_PROPERTY(double priceMax READ priceMax NOTIFY windowChanged)
    Q_PROPERTY(double volumeMax READ volumeMax NOTIFY windowChanged)

public:
    explicit CandleChartModel(QObject *parent = nullptr);
    ~CandleChartModel() override;

    QString interval() const { return m_interval; }
    void setInterval(const QString &interval);
    static QStringList intervals();
    // The interval's length in seconds, none for a name the API does not know.
    static std::optional<std::int64_t> intervalSeconds(const QString &interval);
    QString symbol() const { return m_symbol; }
    bool loading() const { return m_loading; }
    QString error() const { return m_error; }
    int count() const { return m_series.size(); }
    QString lastPrice() const;
    int windowFirst() const { return m_series.windowFirst(); }
    int windowCount() const { return m_series.windowCount(); }
    bool followsLatest() const { return m_series.followsLatest(); }
    QDateTime axisMin() const { return m_axisMin; }
    QDateTime axisMax() const { return m_axisMax; }
    double priceMin() const { return m_priceMin; }
    double priceMax() const { return m_priceMax; }
    double volumeMax() const { return m_volumeMax; }

    // The chart's series: `prices` and `volumes` are CandlestickSeries; their increasing/decreasing colours
    // colour the sets (wicks too). Either may be null to stop feeding it.
    Q_INVOKABLE void attach(QObject *prices, QObject *volumes);
    Q_INVOKABLE void reload();
    // The window: clamped, never an error (CandleSeries::setWindow).
    Q_INVOKABLE void setWindow(int first, int count);
    Q_INVOKABLE void scroll(int candles);
    Q_INVOKABLE void zoom(double factor, double anchor);
    Q_INVOKABLE void showLatest();
    // The candle under `timeMs` (the time axis's value, ms since the epoch): time (local, for the readout),
    // start (RFC 3339 UTC, as the API writes it), open, high, low, close, volume and trades as strings. Empty
    // when no candle holds that time.
    Q_INVOKABLE QVariantMap readout(double timeMs) const;
    // The same for the candle at `index` (0 = the oldest); empty when out of range.
    Q_INVOKABLE QVariantMap readoutAt(int index) const;

    // ---- C++ (tests, benchmark)
    // A whole history of the current interval, oldest first, as if read from the venue: the window shows the
    // newest candles and the series are refilled.
    void loadCandles(std::vector<sql::CandleRecord> candles);
    const CandleSeries &series() const { return m_series; }

signals:
    void intervalChanged();
    void symbolChanged();
    void loadingChanged();
    void errorChanged();
    void candlesChanged();
    void windowChanged();

private:
    // One read of the history, and what the API's thread knew of the instrument's trades around it.
    struct History
    {
        std::vector<sql::CandleRecord> candles;
        TradeId lastTradeBefore = 0;
        TradeId lastTradeAfter = 0;
    };
    static constexpr int kReadAttempts = 3;

    void followSelection();
    void readHistory(int attempt);
    void onPulse(const MarketPulse &pulse);
    // The selected instrument's trades, in order; those the history holds (id <= m_lastTradeRead) are
    // skipped. One candlesChanged and at most one windowChanged for them all.
    void applyTrades(const std::vector<TapeTrade> &trades);
    void setLoading(bool loading);
    void setError(const QString &error);
    // All: the candles themselves changed (a new history, interval or instrument, new colours); Moved: only
    // the window did, and the candles still in it keep their sets.
    enum class Refill { All, Moved };
    // After the window or the candles changed: the axes' ranges, the series, one windowChanged.
    void windowMoved(Refill refill);
    void computeRanges();
    void fillSeries(Refill refill);
    // The drawn sets of candle `index`, when it is in the window, take its values again.
    void refreshSets(int index);
    QVariantMap describe(const sql::CandleRecord &candle) const;

    Desk *m_desk = nullptr; // the application's, outlives the window
    QString m_interval = QStringLiteral("1m");
    QString m_symbol;
    std::optional<InstrumentView> m_instrument;
    server::Precision m_precision{2, 4};
    CandleSeries m_series;
    bool m_loading = false;
    std::vector<TapeTrade> m_arrived; // the instrument's trades heard while the history is on its way
    TradeId m_lastTradeRead = 0;      // the newest trade the history holds
    std::uint64_t m_generation = 0;    // answers to an older read are dropped
    QString m_error;

    QDateTime m_axisMin;
    QDateTime m_axisMax;
    double m_priceMin = 0;
    double m_priceMax = 1;
    double m_volumeMax = 1;

    QPointer<QCandlestickSeries> m_prices;
    QPointer<QCandlestickSeries> m_volumes;
    // The sets the series hold, in the window's order, for the candles from m_shownFirst on.
    QList<QCandlestickSet *> m_priceSets;
    QList<QCandlestickSet *> m_volumeSets;
    int m_shownFirst = 0;
    // Live trades change the candles at once, but the chart redraws at most every kDrawMilliseconds: Qt
    // Charts paints the whole chart for any change, the dearest thing a busy market asks of the window.
    static constexpr int kDrawMilliseconds = 250;
    QTimer m_drawTimer;
    std::optional<int> m_redrawFrom; // the first candle whose sets are out of date
    bool m_redrawAppended = false;
    void drawLive();
};

} // namespace bourse::app
