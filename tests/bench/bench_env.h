// Environment knobs of the benchmarks.
#pragma once

#include <QByteArray>
#include <QtGlobal>

namespace bourse::test {

// A positive integer from the environment; `fallback` when unset or not one.
inline int envInt(const char *name, int fallback)
{
    const QByteArray value = qgetenv(name);
    bool ok = false;
    const int number = value.toInt(&ok);
    return ok && number > 0 ? number : fallback;
}

} // namespace bourse::test
