// The logging categories of the server module ("bourse.server", and the access log). Any thread.
#pragma once

#include <QLoggingCategory>

namespace bourse::server {

Q_DECLARE_LOGGING_CATEGORY(lcServer)
// One line per HTTP request (method, route pattern, status, duration, request id, user): "bourse.access".
Q_DECLARE_LOGGING_CATEGORY(lcAccess)

} // namespace bourse::server
