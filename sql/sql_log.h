// The logging category of the sql module ("bourse.sql"). Any thread.
#pragma once

#include <QLoggingCategory>

namespace bourse::sql {

Q_DECLARE_LOGGING_CATEGORY(lcSql)

} // namespace bourse::sql
