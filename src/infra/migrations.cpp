#include "infra/migrations.h"

#include <algorithm>
#include <chrono>
#include <set>

namespace iv::infra {

namespace {

constexpr char kCreateTable[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";

Status Validate(const std::vector<Migration>& migrations, Dialect dialect) {
  int previous = 0;
  for (const Migration& m : migrations) {
    const std::string label = "migration " + std::to_string(m.version) + " (" + m.name + ")";
    if (m.version <= previous) {
      return Status::InvalidArgument(label + ": versions must be positive and strictly increasing");
    }
    if (m.name.empty()) return Status::InvalidArgument(label + ": has no name");
    const std::string& sql = dialect == Dialect::kSqlite ? m.sqlite_sql : m.postgres_sql;
    if (sql.find_first_not_of(" \t\r\n;") == std::string::npos) {
      return Status::InvalidArgument(label + ": has no SQL for " + DialectName(dialect));
    }
    previous = m.version;
  }
  return Status::Ok();
}

std::int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Status Migrate(Database& db, const std::vector<Migration>& migrations, int* applied) {
  if (applied) *applied = 0;
  IV_RETURN_IF_ERROR(Validate(migrations, db.dialect()));
  const int newest_known = migrations.empty() ? 0 : migrations.back().version;
  IV_ASSIGN_OR_RETURN(PooledConnection conn, db.Acquire());
  while (true) {
    IV_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(*conn, TxMode::kWrite));
    if (conn->dialect() == Dialect::kPostgres) {
      IV_RETURN_IF_ERROR(conn->Exec("SELECT pg_advisory_xact_lock(?)", {kMigrationLockKey}));
    }
    IV_RETURN_IF_ERROR(conn->Exec(kCreateTable));
    IV_ASSIGN_OR_RETURN(std::vector<Row> rows, conn->Query("SELECT version FROM schema_migrations"));
    std::set<std::int64_t> done;
    for (const Row& row : rows) {
      IV_ASSIGN_OR_RETURN(std::int64_t v, row.Int(0));
      done.insert(v);
    }
    if (!done.empty() && *done.rbegin() > newest_known) {
      return Status::Conflict("the database schema is at version " + std::to_string(*done.rbegin()) +
                              ", newer than this imagevideo knows (" + std::to_string(newest_known) +
                              "); run the newer release or restore a backup that matches this one");
    }
    auto next = std::find_if(migrations.begin(), migrations.end(),
                             [&](const Migration& m) { return done.count(m.version) == 0; });
    if (next == migrations.end()) return tx.Commit();

    const std::string label = "migration " + std::to_string(next->version) + " (" + next->name + ")";
    const std::string& sql = conn->dialect() == Dialect::kSqlite ? next->sqlite_sql : next->postgres_sql;
    IV_RETURN_IF_ERROR(conn->ExecScript(sql).WithContext(label));
    IV_RETURN_IF_ERROR(conn->Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                                  {std::int64_t{next->version}, next->name, NowMillis()})
                           .WithContext(label));
    IV_RETURN_IF_ERROR(tx.Commit().WithContext(label));
    if (applied) ++*applied;
  }
}

Result<int> CurrentVersion(Database& db) {
  IV_ASSIGN_OR_RETURN(PooledConnection conn, db.Acquire());
  const char* exists_sql = conn->dialect() == Dialect::kSqlite
                               ? "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
                               : "SELECT to_regclass('schema_migrations') IS NOT NULL";
  IV_ASSIGN_OR_RETURN(std::vector<Row> exists, conn->Query(exists_sql));
  if (exists.empty()) return Status::Internal("schema_migrations lookup returned no row");
  IV_ASSIGN_OR_RETURN(std::int64_t present, exists[0].Int(0));
  if (present == 0) return 0;
  IV_ASSIGN_OR_RETURN(std::vector<Row> rows, conn->Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  if (rows.empty()) return Status::Internal("schema_migrations lookup returned no row");
  IV_ASSIGN_OR_RETURN(std::int64_t v, rows[0].Int(0));
  return static_cast<int>(v);
}

}  // namespace iv::infra
