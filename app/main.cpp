// bourse: the process entry point. Reads the options (exiting 2 on a bad one, before anything is written),
// opens the database and brings its schema up to date (exiting 2 when it cannot), sets up logging and the
// shutdown signals, and hands over to VenueProcess. Main thread.
#include "commands.h"
#include "log.h"
#include "options.h"
#include "shutdown_signals.h"
#include "venue_process.h"
#include "workstation.h"

#include <QApplication>
#include <QCoreApplication>
#include <QDir>
#include <QGuiApplication>
#include <QIcon>
#include <QMessageBox>
#include <QProcessEnvironment>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTcpSocket>
#include <QtQml/qqmlextensionplugin.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

// The QML modules are static libraries linked into bourse.
Q_IMPORT_QML_PLUGIN(Bourse_ModelsPlugin)
Q_IMPORT_QML_PLUGIN(Bourse_UiPlugin)

namespace {

constexpr int kExitBadUsage = 2;
constexpr int kExitFailure = 1;

// Whether an X server answers at `display` (":0", "unix:1.0", "host:10.0"): its socket accepts a connection.
// What went wrong, if not.
std::optional<QString> probeX11Display(const QString &display)
{
    static const QRegularExpression form(QStringLiteral(R"(^([^:]*):(\d+)(\.\d+)?$)"));
    const QRegularExpressionMatch match = form.match(display);
    if (!match.hasMatch())
        return QStringLiteral("DISPLAY=%1 is not a display name").arg(display);
    const QString host = match.captured(1);
    const int number = match.captured(2).toInt();
    int fd = -1;
    if (host.isEmpty() || host == u"unix") {
        fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        const QByteArray path = QByteArrayLiteral("/tmp/.X11-unix/X") + QByteArray::number(number);
        std::memcpy(address.sun_path, path.constData(), std::size_t(path.size()));
        if (fd >= 0
            && ::connect(fd, reinterpret_cast<const sockaddr *>(&address), socklen_t(sizeof(address))) == 0) {
            ::close(fd);
            return std::nullopt;
        }
    } else {
        QTcpSocket socket;
        socket.connectToHost(host, quint16(6000 + number));
        if (socket.waitForConnected(2000))
            return std::nullopt;
    }
    if (fd >= 0)
        ::close(fd);
    return QStringLiteral("no X server answers at DISPLAY=%1").arg(display);
}

} // namespace

int main(int argc, char *argv[])
{
    using namespace bourse::app;

    // A file-size limit (ulimit -f) must be a write error the journal reports and retries, like a full
    // disk, not a signal that kills the venue.
    std::signal(SIGXFSZ, SIG_IGN);

    // No organization name: on Linux QStandardPaths would put it between ~/.local/share and "bourse",
    // and the documented data dir is ~/.local/share/bourse.
    QCoreApplication::setApplicationName(QStringLiteral("bourse"));
    QCoreApplication::setApplicationVersion(bourseVersion());

    // The options decide which application object to make (a window needs QApplication: Qt Charts draws
    // with Qt Widgets' graphics view), so they are read before there is one.
    const QString defaultDataDir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    OptionsInput input;
    for (int i = 1; i < argc; ++i)
        input.arguments.append(QString::fromLocal8Bit(argv[i]));
    input.environment = QProcessEnvironment::systemEnvironment();
    input.defaultDataDir = defaultDataDir;
    input.workingDirectory = QDir::currentPath();
    const bourse::Expected<Invocation, QString> invocation = parseOptions(input);
    if (!invocation) {
        printLine(stderr, QStringLiteral("bourse: ") + invocation.error());
        return kExitBadUsage;
    }
    switch (invocation->action) {
    case Invocation::Action::Help: std::fputs(usageText(defaultDataDir).toUtf8().constData(), stdout); return 0;
    case Invocation::Action::Version: printLine(stdout, versionText()); return 0;
    case Invocation::Action::Run: break;
    default: {
        // An operations command: no window, no server; it acts on the venue's data and exits.
        const QCoreApplication app(argc, argv);
        installLogHandler(invocation->options.logFormat, invocation->options.logLevel);
        return runCommand(*invocation);
    }
    }
    Options options = invocation->options;
    // A DISPLAY that no X server answers would make Qt abort at start: say so and serve headless instead.
    std::optional<QString> displayProblem;
    if (!options.headless && qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY")) {
        displayProblem = probeX11Display(qEnvironmentVariable("DISPLAY"));
        options.headless = displayProblem.has_value();
    }
    const bool windowed = !options.headless;
    std::unique_ptr<QCoreApplication> app;
    if (windowed) {
        app = std::make_unique<QApplication>(argc, argv);
        // The window's icon, and the desktop entry (bourse.desktop) that Wayland compositors match it to.
        QGuiApplication::setWindowIcon(QIcon(QStringLiteral(":/bourse/icons/bourse-256.png")));
        QGuiApplication::setDesktopFileName(QStringLiteral("bourse"));
    } else {
        app = std::make_unique<QCoreApplication>(argc, argv);
    }
    installLogHandler(options.logFormat, options.logLevel);
    if (displayProblem)
        logWarning(lcApp(), "cannot open the display; running headless", {{"reason", *displayProblem}});

    // Every option has validated; from here on bourse may write.
    // Started from the desktop menu, nobody reads stderr: a venue that cannot start says so in a dialog too.
    const auto tellWindowUser = [windowed](const QString &problem) {
        if (windowed)
            QMessageBox::critical(nullptr, QStringLiteral("Bourse"),
                                  QStringLiteral("Bourse cannot start.\n\n%1").arg(problem));
    };
    bourse::Expected<OpenedVenue, StartFailure> opened = openVenue(options);
    if (!opened) {
        printLine(stderr, opened.error().line);
        tellWindowUser(opened.error().line);
        return opened.error().exitCode;
    }

    ShutdownSignals shutdownSignals;
    if (const std::optional<QString> error = shutdownSignals.install()) {
        logError(lcApp(), *error);
        return kExitFailure;
    }
    VenueProcess venue(options, std::move(opened.value()));
    std::unique_ptr<Workstation> workstation;
    if (windowed) {
        venue.setFirstAdminFromWindow(true);
        workstation = std::make_unique<Workstation>(venue);
        if (const std::optional<QString> error = workstation->show()) {
            logError(lcApp(), *error);
            return kExitFailure;
        }
    }
    QObject::connect(&shutdownSignals, &ShutdownSignals::shutdownRequested, &venue,
                     [&venue](int signalNumber) { venue.shutdown(signalName(signalNumber)); });
    // Queued: finished() may come before exec() has started the loop, and exit() would then be lost.
    QObject::connect(
        &venue, &VenueProcess::finished, app.get(),
        [&venue, tellWindowUser](int exitCode) {
            if (exitCode != 0 && !venue.failure().isEmpty())
                tellWindowUser(venue.failure());
            QCoreApplication::exit(exitCode);
        },
        Qt::QueuedConnection);
    venue.start();
    return QCoreApplication::exec();
}
