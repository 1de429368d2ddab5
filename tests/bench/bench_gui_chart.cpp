// The candle chart's benchmark: the real ChartPanel (QtCharts in Qt Quick) in a window, 100,000 synthetic 1 m
// candles loaded into its CandleChartModel, timed from the load's start to the first frame swapped after it
// (the chart then shows the newest window of candles; the view and its QML were made and drawn once before,
// empty). Also the same from nothing (making the view included), and what refilling the chart's series with
// a window of 300 candles costs: the model's way (a move by one candle makes one set; a jump makes every set
// anew, in one QCandlestickSeries::append) against a QHCandlestickModelMapper over a table model of the
// window, reset per move.
// Runs on QT_QPA_PLATFORM=offscreen unless a platform is set (xvfb works too). Environment: BENCH_CANDLES
// (default 100000), BENCH_CHART_SCREENSHOT=<png> saves the window as measured.
// Prints `BENCH <name> <value> <unit>` lines. Not a test: figures, never pass/fail.
#include "bench_env.h"
#include "candle_chart_model.h"
#include "desk.h"

#include <QAbstractTableModel>
#include <QApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QMouseEvent>
#include <QQmlEngine>
#include <QQuickItem>
#include <QQuickView>
#include <QStandardPaths>
#include <QTimer>
#include <QtCharts/QCandlestickSet>
#include <QtCharts/QChart>
#include <QtCharts/QHCandlestickModelMapper>
#include <QtQml/qqmlextensionplugin.h>

#include <cstdio>
#include <memory>

Q_IMPORT_QML_PLUGIN(Bourse_ModelsPlugin)
Q_IMPORT_QML_PLUGIN(Bourse_UiPlugin)

using namespace bourse;
using namespace bourse::app;

namespace {

constexpr std::int64_t kMinute = 60;
constexpr int kRefills = 200;
constexpr int kMapperWindow = 300;

void bench(const char *name, double value, const char *unit)
{
    std::printf("BENCH %s %.*f %s\n", name, value >= 100 ? 0 : 2, value, unit);
    std::fflush(stdout);
}

double milliseconds(const QElapsedTimer &timer)
{
    return double(timer.nsecsElapsed()) / 1e6;
}

std::vector<sql::CandleRecord> history(std::size_t count)
{
    const TimeNs minute = kMinute * 1'000'000'000LL;
    const TimeNs now = QDateTime::currentMSecsSinceEpoch() * 1'000'000LL;
    return syntheticCandles(count, kMinute, now / minute * minute);
}

// Runs the event loop until `window` swaps a frame; false after 10 s without one.
bool nextFrame(QQuickWindow &window)
{
    QEventLoop loop;
    bool swapped = false;
    const QMetaObject::Connection connection = QObject::connect(&window, &QQuickWindow::frameSwapped, &loop, [&] {
        swapped = true;
        loop.quit();
    });
    QTimer::singleShot(10'000, &loop, &QEventLoop::quit);
    loop.exec();
    QObject::disconnect(connection);
    return swapped;
}

// Lets pending frames and events go by, so that the next frame swapped is caused by what comes next.
void settle(int ms)
{
    QEventLoop loop;
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    loop.exec();
}

std::unique_ptr<QQuickView> makeView(QQmlEngine &engine)
{
    auto view = std::make_unique<QQuickView>(&engine, nullptr);
    view->setResizeMode(QQuickView::SizeRootObjectToView);
    view->resize(1400, 800);
    view->setSource(QUrl(QStringLiteral("qrc:/qt/qml/Bourse/Ui/ChartPanel.qml")));
    if (view->status() != QQuickView::Ready) {
        for (const QQmlError &error : view->errors())
            std::fprintf(stderr, "%s\n", qPrintable(error.toString()));
        return nullptr;
    }
    return view;
}

CandleChartModel *modelOf(QQuickView &view)
{
    return view.rootObject() ? view.rootObject()->property("chartModel").value<CandleChartModel *>() : nullptr;
}

struct LoadTimes
{
    double firstFrameMs = 0; // the first frame swapped after the load (it may hold only the readout's change)
    double chartFrameMs = 0; // the last frame of the burst: the chart's own image, drawn a hop or two later
    int frames = 0;
};

// The load into a chart already on screen: from loadCandles() to the frames swapped after it. QtCharts draws
// the chart's scene into an image after queued hops of its own, so the frame that shows the candles is the
// last of the burst the load causes, not always the first: every frame within a second is recorded.
std::optional<LoadTimes> loadIntoShownChart(QQmlEngine &engine, std::size_t count, const QString &screenshot)
{
    std::unique_ptr<QQuickView> view = makeView(engine);
    if (!view)
        return std::nullopt;
    view->show();
    if (!nextFrame(*view))
        return std::nullopt;
    settle(300);
    CandleChartModel *model = modelOf(*view);
    if (!model)
        return std::nullopt;
    std::vector<sql::CandleRecord> candles = history(count);
    std::vector<double> swaps;
    QElapsedTimer timer;
    QObject::connect(view.get(), &QQuickWindow::frameSwapped, view.get(),
                     [&] { swaps.push_back(milliseconds(timer)); });
    timer.start();
    model->loadCandles(std::move(candles));
    settle(1000);
    if (swaps.empty() || model->count() != int(count) || model->windowCount() > CandleSeries::kMaxWindow)
        return std::nullopt;
    const LoadTimes times{swaps.front(), swaps.back(), int(swaps.size())};
    if (!screenshot.isEmpty()) {
        // The mouse over the chart: the crosshair and the readout of the candle under it.
        const QPointF at(view->width() * 0.6, view->height() * 0.5);
        QMouseEvent move(QEvent::MouseMove, at, view->mapToGlobal(at), Qt::NoButton, Qt::NoButton, Qt::NoModifier);
        QCoreApplication::sendEvent(view.get(), &move);
        settle(300);
        view->grabWindow().save(screenshot);
    }
    return times;
}

// From nothing: making the view (QML, the chart), loading, to the last frame of the burst that follows.
std::optional<double> coldStart(QQmlEngine &engine, std::size_t count)
{
    std::vector<sql::CandleRecord> candles = history(count);
    std::vector<double> swaps;
    QElapsedTimer timer;
    timer.start();
    std::unique_ptr<QQuickView> view = makeView(engine);
    CandleChartModel *model = view ? modelOf(*view) : nullptr;
    if (!model)
        return std::nullopt;
    QObject::connect(view.get(), &QQuickWindow::frameSwapped, view.get(),
                     [&] { swaps.push_back(milliseconds(timer)); });
    model->loadCandles(std::move(candles));
    view->show();
    settle(1000);
    if (swaps.empty())
        return std::nullopt;
    return swaps.back();
}

// The window's candles as a table, one row per candle: what a QHCandlestickModelMapper would map.
class WindowTable final : public QAbstractTableModel
{
public:
    explicit WindowTable(const CandleSeries &series)
        : m_series(series)
    {}
    void moveTo(int first)
    {
        beginResetModel();
        m_first = first;
        endResetModel();
    }
    int rowCount(const QModelIndex &parent) const override { return parent.isValid() ? 0 : kMapperWindow; }
    int columnCount(const QModelIndex &parent) const override { return parent.isValid() ? 0 : 5; }
    QVariant data(const QModelIndex &index, int role) const override
    {
        if (role != Qt::DisplayRole)
            return {};
        const sql::CandleRecord &candle = m_series.candles()[std::size_t(m_first + index.row())];
        const auto value = [](Decimal decimal) { return double(decimal.raw()) / double(Decimal::kOne); };
        switch (index.column()) {
        case 0:
            return double(candle.start / 1'000'000);
        case 1:
            return value(candle.open);
        case 2:
            return value(candle.high);
        case 3:
            return value(candle.low);
        default:
            return value(candle.close);
        }
    }

private:
    const CandleSeries &m_series;
    int m_first = 0;
};

struct RefillCosts
{
    double scrollUs = 0; // the model, the window moved by one candle: one set in, one out
    double appendUs = 0; // the model, the window moved to candles not shown: every set anew, in one append
    double mapperUs = 0; // a mapper over a table model of the window, reset per move
};

// Microseconds per refill of a 300-candle window: the model's feeding against a QHCandlestickModelMapper.
RefillCosts refillCosts()
{
    CandleSeries series;
    series.assign(history(10'000), kMinute);

    CandleChartModel model;
    model.loadCandles(history(10'000));
    model.setWindow(0, kMapperWindow);
    QChart appendChart;
    auto *appended = new QCandlestickSeries;
    appendChart.addSeries(appended);
    model.attach(appended, nullptr);
    RefillCosts costs;
    QElapsedTimer timer;
    timer.start();
    for (int i = 1; i <= kRefills; ++i)
        model.setWindow(i, kMapperWindow);
    costs.scrollUs = double(timer.nsecsElapsed()) / 1e3 / kRefills;
    timer.restart();
    for (int i = 1; i <= kRefills; ++i)
        model.setWindow((i % 2) * 5000, kMapperWindow);
    costs.appendUs = double(timer.nsecsElapsed()) / 1e3 / kRefills;

    QChart mapperChart;
    auto *mapped = new QCandlestickSeries;
    mapperChart.addSeries(mapped);
    WindowTable table(series);
    QHCandlestickModelMapper mapper;
    mapper.setTimestampColumn(0);
    mapper.setOpenColumn(1);
    mapper.setHighColumn(2);
    mapper.setLowColumn(3);
    mapper.setCloseColumn(4);
    mapper.setFirstSetRow(0);
    mapper.setLastSetRow(kMapperWindow - 1);
    mapper.setSeries(mapped);
    mapper.setModel(&table);
    timer.restart();
    for (int i = 1; i <= kRefills; ++i)
        table.moveTo(i);
    costs.mapperUs = double(timer.nsecsElapsed()) / 1e3 / kRefills;
    if (appended->count() != kMapperWindow || mapped->count() != kMapperWindow)
        std::fprintf(stderr, "refill: %lld and %lld sets, not %d\n", static_cast<long long>(appended->count()),
                     static_cast<long long>(mapped->count()), kMapperWindow);
    return costs;
}

} // namespace

int main(int argc, char *argv[])
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv); // QtCharts in QML needs a QApplication
    QStandardPaths::setTestModeEnabled(true); // the panel's preferences stay out of the user's settings
    const auto count = std::size_t(test::envInt("BENCH_CANDLES", 100'000));
    const QString screenshot = qEnvironmentVariable("BENCH_CHART_SCREENSHOT");

    Desk desk(nullptr); // no venue: the chart only shows what is loaded into it
    Desk::setInstance(&desk);
    QQmlEngine engine;
    engine.addImportPath(QStringLiteral("qrc:/qt/qml"));

    const std::optional<LoadTimes> load = loadIntoShownChart(engine, count, screenshot);
    const std::optional<double> cold = coldStart(engine, count);
    if (!load || !cold) {
        std::fprintf(stderr, "bench_gui_chart: the chart did not load or draw\n");
        return 1;
    }
    bench("gui_chart_load_100k_candles_ms", load->chartFrameMs, "ms");
    bench("gui_chart_load_100k_first_frame_ms", load->firstFrameMs, "ms");
    bench("gui_chart_load_100k_frames", load->frames, "frames");
    bench("gui_chart_view_and_load_100k_candles_ms", *cold, "ms");
    const RefillCosts costs = refillCosts();
    bench("gui_chart_scroll_300_by_one_us", costs.scrollUs, "us");
    bench("gui_chart_refill_300_append_us", costs.appendUs, "us");
    bench("gui_chart_refill_300_mapper_us", costs.mapperUs, "us");
    Desk::setInstance(nullptr);
    return 0;
}
