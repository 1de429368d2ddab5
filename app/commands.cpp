#include "commands.h"

#include "accounts.h"
#include "backup.h"
#include "connection.h"
#include "password_hasher.h"
#include "venue_service.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QLocale>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>

#include <termios.h>
#include <unistd.h>

namespace bourse::app {

namespace {

constexpr int kExitDone = 0;
constexpr int kExitFailed = 1;
constexpr int kExitBadUsage = 2;

// "bourse backup: ..." on stderr; the status to exit with.
int fail(Invocation::Action action, const QString &message, int status = kExitFailed)
{
    printLine(stderr, QStringLiteral("bourse %1: %2").arg(commandName(action), message));
    return status;
}

QString sizeText(qint64 bytes)
{
    return QLocale::c().formattedDataSize(bytes, 1, QLocale::DataSizeTraditionalFormat);
}

QString secondsText(qint64 milliseconds)
{
    return QString::number(double(milliseconds) / 1000.0, 'f', milliseconds < 10'000 ? 2 : 1) + QStringLiteral(" s");
}

int configCheck(const Invocation &invocation)
{
    const QStringList problems = checkConfigFile(invocation.operand, QDir::currentPath());
    if (problems.isEmpty()) {
        printLine(stdout, QStringLiteral("%1: valid").arg(invocation.operand));
        return kExitDone;
    }
    for (const QString &problem : problems)
        printLine(stderr, problem);
    printLine(stderr, QStringLiteral("bourse config check: %1: %2 problem%3")
                      .arg(invocation.operand)
                      .arg(problems.size())
                      .arg(problems.size() == 1 ? QString() : QStringLiteral("s")));
    return kExitFailed;
}

int backup(const Invocation &invocation)
{
    const Expected<BackupReport, OperationError> report = backupVenue(invocation.options, invocation.operand);
    if (!report)
        return fail(invocation.action, report.error().message, report.error().exitCode);
    const BackupManifest &manifest = report->manifest;
    printLine(stdout, QStringLiteral("backed up %1 to %2").arg(invocation.options.database.toString(), report->directory));
    for (const BackupFile &file : manifest.files)
        printLine(stdout, QStringLiteral("  %1  %2  sha256 %3").arg(file.name, -22).arg(sizeText(file.bytes), 10).arg(file.sha256));
    printLine(stdout, QStringLiteral("  journal: command %1, event %2, state hash %3 (replayed and checked)")
                      .arg(manifest.journal.commandSeq)
                      .arg(manifest.journal.eventSeq)
                      .arg(sql::formatStateHash(manifest.stateHash)));
    printLine(stdout, QStringLiteral("  took %1").arg(secondsText(report->milliseconds)));
    return kExitDone;
}

int restore(const Invocation &invocation)
{
    const Expected<RestoreReport, OperationError> report = restoreVenue(invocation.options, invocation.operand);
    if (!report)
        return fail(invocation.action, report.error().message, report.error().exitCode);
    const BackupManifest &manifest = report->manifest;
    printLine(stdout, QStringLiteral("restored %1 (made %2 by bourse %3) into %4")
                      .arg(invocation.operand, manifest.createdAt.toString(Qt::ISODate), manifest.bourseVersion,
                           report->database));
    printLine(stdout, QStringLiteral("  journal: command %1, event %2, state hash %3 (replayed and checked)")
                      .arg(manifest.journal.commandSeq)
                      .arg(manifest.journal.eventSeq)
                      .arg(sql::formatStateHash(manifest.stateHash)));
    if (report->schemaFrom != report->schemaTo)
        printLine(stdout, QStringLiteral("  schema migrated from version %1 to %2").arg(report->schemaFrom).arg(report->schemaTo));
    for (const QString &path : report->installed)
        printLine(stdout, QStringLiteral("  installed %1").arg(path));
    for (const QString &path : report->keptAside)
        printLine(stdout, QStringLiteral("  kept aside %1").arg(path));
    if (!report->configInBackup.isEmpty())
        printLine(stdout, QStringLiteral("  the backup's config file was not installed; compare it with yours: %1")
                          .arg(report->configInBackup));
    printLine(stdout, QStringLiteral("  took %1").arg(secondsText(report->milliseconds)));
    return kExitDone;
}

int verify(const Invocation &invocation)
{
    Expected<sql::Connection, OperationError> connection = openVenueDatabase(invocation.options, u"verify");
    if (!connection)
        return fail(invocation.action, connection.error().message, connection.error().exitCode);
    const QString database = invocation.options.database.toString();
    const Expected<sql::VerifyReport, QString> report = sql::verifyJournal(connection->database());
    if (!report && sql::isReadFailure(report.error()))
        return fail(invocation.action,
                    QStringLiteral("%1: %2; nothing was found damaged, but the check did not finish: run it again")
                        .arg(database, report.error()),
                    kExitBadUsage);
    if (!report)
        return fail(invocation.action,
                    QStringLiteral("%1: %2; the venue's data is damaged: restore it from a backup taken before the "
                                   "damage (bourse restore)")
                        .arg(database, report.error()));
    printLine(stdout, QStringLiteral("%1: sound").arg(database));
    printLine(stdout, QStringLiteral("  journal    %1 commands replayed from the first, %2 events and %3 snapshots checked")
                      .arg(report->commands)
                      .arg(report->events)
                      .arg(report->snapshots));
    printLine(stdout, QStringLiteral("  ends at    command %1, event %2, state hash %3")
                      .arg(report->position.commandSeq)
                      .arg(report->position.eventSeq)
                      .arg(sql::formatStateHash(report->stateHash)));
    printLine(stdout, QStringLiteral("  matches    %1 open orders, %2 balances of %3 accounts and %4 trades in the tables")
                      .arg(report->openOrders)
                      .arg(report->balanceRows)
                      .arg(report->accounts)
                      .arg(report->trades));
    printLine(stdout, QStringLiteral("  took       %1").arg(secondsText(report->elapsed.count())));
    return kExitDone;
}

// The terminal as it was before a password prompt turned echo off, for the signal handler below.
termios g_terminalBeforePrompt{};

// Ctrl-C (or a kill) at a silent prompt must not leave the shell without echo: the terminal is put back,
// then the signal does what it would have done. Only async-signal-safe calls.
extern "C" void restoreTerminalAndRaise(int signalNumber)
{
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_terminalBeforePrompt);
    std::signal(signalNumber, SIG_DFL);
    std::raise(signalNumber);
}

// The new password: asked twice on a terminal (without echo), else the first line of stdin.
Expected<QString, QString> readNewPassword(const QString &username)
{
    const auto readLine = [](bool echo) -> std::optional<QString> {
        termios saved{};
        const bool terminal = ::isatty(STDIN_FILENO) && ::tcgetattr(STDIN_FILENO, &saved) == 0;
        if (terminal && !echo) {
            g_terminalBeforePrompt = saved;
            for (const int signalNumber : {SIGINT, SIGTERM, SIGHUP, SIGQUIT})
                std::signal(signalNumber, restoreTerminalAndRaise);
            termios quiet = saved;
            quiet.c_lflag &= ~tcflag_t(ECHO);
            ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        }
        std::string line;
        const bool read = static_cast<bool>(std::getline(std::cin, line));
        if (terminal && !echo) {
            ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
            for (const int signalNumber : {SIGINT, SIGTERM, SIGHUP, SIGQUIT})
                std::signal(signalNumber, SIG_DFL);
            std::fputc('\n', stderr);
        }
        if (!read)
            return std::nullopt;
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        return QString::fromUtf8(line.data(), static_cast<qsizetype>(line.size()));
    };
    if (!::isatty(STDIN_FILENO)) {
        const std::optional<QString> password = readLine(true);
        if (!password)
            return unexpected(QStringLiteral("no password on stdin (give it as one line)"));
        return *password;
    }
    std::fputs(QStringLiteral("New password for %1: ").arg(username).toUtf8().constData(), stderr);
    const std::optional<QString> first = readLine(false);
    if (!first)
        return unexpected(QStringLiteral("no password given"));
    if (std::optional<QString> problem = server::passwordProblem(*first))
        return unexpected(*problem);
    std::fputs("Again: ", stderr);
    const std::optional<QString> second = readLine(false);
    if (!second || *second != *first)
        return unexpected(QStringLiteral("the two passwords differ; nothing changed"));
    return *first;
}

int resetPasswordCommand(const Invocation &invocation)
{
    // Checked before a password is asked for: a typo in the username should not cost a prompt.
    {
        Expected<sql::Connection, OperationError> connection = openVenueDatabase(invocation.options, u"admin");
        if (!connection)
            return fail(invocation.action, connection.error().message, connection.error().exitCode);
        const auto user = sql::findUserByName(connection->database(), invocation.operand);
        if (!user)
            return fail(invocation.action, user.error());
        if (!*user)
            return fail(invocation.action, QStringLiteral("no user named \"%1\"").arg(invocation.operand));
    }
    const Expected<QString, QString> password = readNewPassword(invocation.operand);
    if (!password)
        return fail(invocation.action, password.error());
    const QString osUser = qEnvironmentVariable("SUDO_USER", qEnvironmentVariable("USER"));
    const Expected<PasswordReset, QString> reset =
        resetPassword(invocation.options, invocation.operand, *password,
                      QStringLiteral("command line") + (osUser.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(osUser)));
    if (!reset)
        return fail(invocation.action, reset.error());
    printLine(stdout, QStringLiteral("the password of %1 is set; the user's sessions have ended").arg(reset->username));
    if (!reset->active)
        printLine(stdout, QStringLiteral("note: %1 is disabled; an admin can enable the account").arg(reset->username));
    return kExitDone;
}

} // namespace

Expected<PasswordReset, QString> resetPassword(const Options &options, const QString &username, const QString &password,
                                               const QString &actor)
{
    if (std::optional<QString> problem = server::passwordProblem(password))
        return unexpected(*problem);
    Expected<sql::Connection, OperationError> connection = openVenueDatabase(options, u"admin");
    if (!connection)
        return unexpected(connection.error().message);
    QSqlDatabase &db = connection->database();
    const auto user = sql::findUserByName(db, username);
    if (!user)
        return unexpected(user.error());
    if (!*user)
        return unexpected(QStringLiteral("no user named \"%1\"").arg(username));

    // The venue's own hashing: Argon2id with its production parameters.
    server::PasswordHasher hasher;
    auto hashing = hasher.hash(password);
    hashing.waitForFinished();
    const Expected<QString, server::PasswordHashError> hash = hashing.result();
    if (!hash)
        return unexpected(QStringLiteral("cannot hash the password"));

    sql::UserChanges changes;
    changes.passwordHash = *hash;
    const TimeNs now = server::VenueService::now();
    const auto updated = sql::updateUser(db, (*user)->user.id, changes, now);
    if (!updated)
        return unexpected(updated.error());
    if (!*updated)
        return unexpected(QStringLiteral("no user named \"%1\"").arg(username));
    if (const auto audited = sql::appendAudit(db, sql::NewAuditEntry{now, actor, QStringLiteral("password_reset"),
                                                                     QStringLiteral("user:%1").arg((*updated)->id),
                                                                     QString(), QString()});
        !audited)
        return unexpected(QStringLiteral("the password is set, but the audit log could not record it: ") + audited.error());
    return PasswordReset{static_cast<std::int64_t>((*updated)->id), (*updated)->username, (*updated)->active};
}

void printLine(FILE *stream, const QString &text)
{
    const QByteArray bytes = text.toUtf8() + '\n';
    std::fwrite(bytes.constData(), 1, static_cast<std::size_t>(bytes.size()), stream);
    std::fflush(stream);
}

int runCommand(const Invocation &invocation)
{
    switch (invocation.action) {
    case Invocation::Action::ConfigCheck: return configCheck(invocation);
    case Invocation::Action::Backup: return backup(invocation);
    case Invocation::Action::Restore: return restore(invocation);
    case Invocation::Action::Verify: return verify(invocation);
    case Invocation::Action::ResetPassword: return resetPasswordCommand(invocation);
    case Invocation::Action::Run:
    case Invocation::Action::Help:
    case Invocation::Action::Version: break;
    }
    return fail(invocation.action, QStringLiteral("not a command"), kExitBadUsage);
}

} // namespace bourse::app
