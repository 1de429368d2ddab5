// The logging category of the server module ("bourse.server"). Any thread.
#pragma once

#include <QLoggingCategory>

namespace bourse::server {

Q_DECLARE_LOGGING_CATEGORY(lcServer)

} // namespace bourse::server
