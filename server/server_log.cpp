#include "server_log.h"

namespace bourse::server {

Q_LOGGING_CATEGORY(lcServer, "bourse.server")

} // namespace bourse::server
