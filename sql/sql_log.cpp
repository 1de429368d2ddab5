#include "sql_log.h"

namespace bourse::sql {

Q_LOGGING_CATEGORY(lcSql, "bourse.sql")

} // namespace bourse::sql
