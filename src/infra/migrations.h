// Schema migrations: numbered SQL scripts, one per engine, applied in order and
// recorded in schema_migrations(version INTEGER PRIMARY KEY, name TEXT,
// applied_at BIGINT unix milliseconds).
//
// Each pending migration runs in its own transaction together with its
// schema_migrations row, so a failing migration leaves nothing behind and the
// next start retries it. Several processes may migrate at once: on PostgreSQL
// every migration transaction first takes pg_advisory_xact_lock (key
// kMigrationLockKey) and re-reads the applied versions; on SQLite BEGIN
// IMMEDIATE serializes them. A database that already has a version newer than
// the newest one given is refused with kConflict (an older binary must not
// run against a newer schema).
//
// Migration SQL may hold several statements separated by ';' but no
// BEGIN/COMMIT (SQLite: nothing that cannot run inside a transaction, e.g.
// VACUUM; PRAGMA foreign_keys is a no-op there).
//
// Thread-safety: safe to call from several threads/processes at once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "infra/database.h"

namespace iv::infra {

struct Migration {
  int version;  // > 0, strictly increasing in the list
  std::string name;
  std::string sqlite_sql;
  std::string postgres_sql;
};

// The advisory lock key migrations take on PostgreSQL ("ivmigrat").
inline constexpr std::int64_t kMigrationLockKey = 0x6976'6d69'6772'6174;

// Applies the pending migrations in order. `applied`, when given, receives how
// many this call applied. kInvalidArgument for a malformed list, kConflict for
// a database newer than the list, kInternal (with the migration's version and
// name) when a migration fails.
Status Migrate(Database& db, const std::vector<Migration>& migrations, int* applied = nullptr);

// The highest applied version; 0 for a database never migrated.
Result<int> CurrentVersion(Database& db);

}  // namespace iv::infra
