// The operations commands of `bourse` (everything but running the venue): config check, backup, restore,
// verify and admin reset-password. Each acts on the venue its options name, prints what it did on stdout
// and what went wrong on stderr (one line, "bourse <command>: ..."), and returns the exit status: 0 done,
// 1 failed (a damaged journal or backup, a running venue in the way, an unknown user), 2 bad usage or a
// database that cannot be reached. Main thread of a short-lived process, with a QCoreApplication.
#pragma once

#include "expected.h"
#include "options.h"

#include <QString>

#include <cstdint>
#include <cstdio>

namespace bourse::app {

// Runs the command `invocation` names (not Run, Help or Version).
int runCommand(const Invocation &invocation);

// `text` and a newline on `stream` (stdout, stderr), flushed at once: what bourse says outside its log.
void printLine(FILE *stream, const QString &text);

struct PasswordReset
{
    std::int64_t userId = 0;
    QString username; // as the venue spells it
    bool active = true; // a disabled user stays disabled
};

// Sets the password of `username` (any case) on the venue `options` names, online: a running venue reads
// the hash from the database at each sign-in. The new hash and the revocation of every refresh token of the
// user commit together (sql::updateUser); an audit row with `actor` follows. Refused, changing nothing: a
// password that breaks the API's rule, an unknown user, a database whose schema is not this bourse's. The
// error is one line.
Expected<PasswordReset, QString> resetPassword(const Options &options, const QString &username, const QString &password,
                                               const QString &actor);

} // namespace bourse::app
