// Private to the SQL layer (database.cpp, sqlite_database.cpp,
// postgres_database.cpp) and its tests; nothing else includes this.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "infra/database.h"

namespace iv::infra::internal {

// Opens one SQLite connection to `path` (absolute), creating the file with
// mode 0600 when missing, and applies the pragmas (WAL, foreign keys, busy
// timeout, synchronous=NORMAL).
Result<std::unique_ptr<Connection>> OpenSqliteConnection(const std::string& path, const DatabaseOptions& options);

// Opens one PostgreSQL connection to a libpq URI.
Result<std::unique_ptr<Connection>> OpenPostgresConnection(const std::string& url, const DatabaseOptions& options);

// `?` placeholders rewritten to $1..$n, skipping string literals ('...',
// E'...'), quoted identifiers, comments and dollar-quoted strings.
struct PostgresSql {
  std::string sql;
  std::size_t placeholders = 0;
  // A ';' outside literals followed by more SQL.
  bool several_statements = false;
};
PostgresSql RewritePlaceholders(std::string_view sql);

// kInvalidArgument when a text parameter holds a NUL byte (PostgreSQL cannot
// store one; SQLite refuses too so both behave alike).
Status CheckParams(const std::vector<SqlValue>& params);

// The start of a statement, for error messages ("... (in: SELECT id FROM
// jobs WHERE ...)"). SQL text holds placeholders, never values.
std::string Snippet(std::string_view sql);

}  // namespace iv::infra::internal
