#include "server_log.h"

namespace bourse::server {

Q_LOGGING_CATEGORY(lcServer, "bourse.server")
Q_LOGGING_CATEGORY(lcAccess, "bourse.access")

} // namespace bourse::server
