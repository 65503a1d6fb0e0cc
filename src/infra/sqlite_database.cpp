// The SQLite backend: one sqlite3 handle per Connection, opened NOMUTEX (the
// pool gives a connection to one thread at a time), WAL mode, foreign keys on,
// busy timeout, synchronous=NORMAL, and a small LRU cache of prepared
// statements keyed by SQL text.
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <list>
#include <string>
#include <unordered_map>
#include <utility>

#include "infra/database.h"
#include "infra/database_internal.h"

namespace iv::infra::internal {

namespace {

bool OnlySeparators(const char* p) {
  for (; *p; ++p) {
    if (*p != ' ' && *p != '\n' && *p != '\t' && *p != '\r' && *p != ';') return false;
  }
  return true;
}

class SqliteConnection final : public Connection {
 public:
  SqliteConnection(sqlite3* db, int cache_size) : db_(db), cache_size_(cache_size > 0 ? cache_size : 1) {}

  ~SqliteConnection() override {
    for (auto& [sql, stmt] : lru_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  Status Exec(std::string_view sql, const std::vector<SqlValue>& params) override {
    return Run(sql, params, nullptr, nullptr);
  }

  Result<std::vector<Row>> Query(std::string_view sql, const std::vector<SqlValue>& params) override {
    std::vector<Row> rows;
    IV_RETURN_IF_ERROR(Run(sql, params, &rows, nullptr));
    return rows;
  }

  Result<std::int64_t> ExecCount(std::string_view sql, const std::vector<SqlValue>& params) override {
    std::int64_t changes = 0;
    IV_RETURN_IF_ERROR(Run(sql, params, nullptr, &changes));
    return changes;
  }

  Status ExecScript(std::string_view sql) override {
    std::string text(sql);
    int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return Error(sql);
    return Status::Ok();
  }

  bool in_transaction() const override { return sqlite3_get_autocommit(db_) == 0; }
  Dialect dialect() const override { return Dialect::kSqlite; }

 protected:
  Status DoBegin(TxMode mode) override {
    return Run(mode == TxMode::kWrite ? "BEGIN IMMEDIATE" : "BEGIN", {}, nullptr, nullptr);
  }
  Status DoCommit() override { return Run("COMMIT", {}, nullptr, nullptr); }
  Status DoRollback() override { return Run("ROLLBACK", {}, nullptr, nullptr); }

 private:
  Status Error(std::string_view sql) {
    const int ext = sqlite3_extended_errcode(db_);
    std::string msg = sqlite3_errmsg(db_);
    if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY) {
      return Status::Conflict("SQLite: " + msg);
    }
    return Status::Internal("SQLite: " + msg + " (in: " + Snippet(sql) + ")");
  }

  Result<sqlite3_stmt*> Prepare(std::string_view sql) {
    std::string key(sql);
    if (auto it = index_.find(key); it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      return it->second->second;
    }
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v3(db_, key.c_str(), static_cast<int>(key.size() + 1), SQLITE_PREPARE_PERSISTENT, &stmt,
                                &tail);
    if (rc != SQLITE_OK) return Error(sql);
    if (stmt == nullptr) return Status::InvalidArgument("empty SQL statement");
    if (tail != nullptr && !OnlySeparators(tail)) {
      sqlite3_finalize(stmt);
      return Status::InvalidArgument("several SQL statements given to a one-statement call (use ExecScript): " +
                                     Snippet(sql));
    }
    lru_.emplace_front(key, stmt);
    index_.emplace(std::move(key), lru_.begin());
    while (lru_.size() > static_cast<std::size_t>(cache_size_)) {
      sqlite3_finalize(lru_.back().second);
      index_.erase(lru_.back().first);
      lru_.pop_back();
    }
    return stmt;
  }

  Status Run(std::string_view sql, const std::vector<SqlValue>& params, std::vector<Row>* rows,
             std::int64_t* changes) {
    IV_RETURN_IF_ERROR(CheckParams(params));
    IV_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql));
    struct ResetGuard {
      sqlite3_stmt* s;
      ~ResetGuard() {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
      }
    } guard{stmt};

    const int n = sqlite3_bind_parameter_count(stmt);
    if (static_cast<std::size_t>(n) != params.size()) {
      return Status::InvalidArgument("SQL has " + std::to_string(n) + " placeholders but " +
                                     std::to_string(params.size()) + " parameters were given: " + Snippet(sql));
    }
    for (int i = 1; i <= n; ++i) {
      if (sqlite3_bind_parameter_name(stmt, i) != nullptr) {
        return Status::InvalidArgument("only ? placeholders are supported (portable to PostgreSQL): " + Snippet(sql));
      }
      const SqlValue& v = params[i - 1];
      int rc = SQLITE_OK;
      if (const auto* iv = std::get_if<std::int64_t>(&v)) {
        rc = sqlite3_bind_int64(stmt, i, *iv);
      } else if (const auto* dv = std::get_if<double>(&v)) {
        rc = sqlite3_bind_double(stmt, i, *dv);
      } else if (const auto* sv = std::get_if<std::string>(&v)) {
        // SQLITE_STATIC: the parameters outlive the statement's use; the
        // guard clears the bindings before returning.
        rc = sqlite3_bind_text64(stmt, i, sv->data(), sv->size(), SQLITE_STATIC, SQLITE_UTF8);
      } else {
        rc = sqlite3_bind_null(stmt, i);
      }
      if (rc != SQLITE_OK) return Error(sql);
    }

    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      if (rows == nullptr) continue;
      const int cols = sqlite3_column_count(stmt);
      Row row;
      row.values.reserve(cols);
      for (int c = 0; c < cols; ++c) {
        switch (sqlite3_column_type(stmt, c)) {
          case SQLITE_INTEGER:
            row.values.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(stmt, c)));
            break;
          case SQLITE_FLOAT:
            row.values.emplace_back(sqlite3_column_double(stmt, c));
            break;
          case SQLITE_TEXT: {
            const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
            row.values.emplace_back(std::string(p ? p : "", sqlite3_column_bytes(stmt, c)));
            break;
          }
          case SQLITE_BLOB: {
            const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt, c));
            row.values.emplace_back(std::string(p ? p : "", p ? sqlite3_column_bytes(stmt, c) : 0));
            break;
          }
          default:
            row.values.emplace_back(std::monostate{});
        }
      }
      rows->push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) return Error(sql);
    if (changes != nullptr) *changes = sqlite3_stmt_readonly(stmt) ? 0 : sqlite3_changes64(db_);
    return Status::Ok();
  }

  sqlite3* db_;
  const int cache_size_;
  std::list<std::pair<std::string, sqlite3_stmt*>> lru_;  // most recently used first
  std::unordered_map<std::string, std::list<std::pair<std::string, sqlite3_stmt*>>::iterator> index_;
};

}  // namespace

Result<std::unique_ptr<Connection>> OpenSqliteConnection(const std::string& path, const DatabaseOptions& options) {
  // Create the file ourselves so it is private from the first byte (SQLite
  // gives its -wal and -shm files the same mode). An existing file keeps its
  // mode: that is the operator's choice.
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::Internal("cannot open SQLite database file " + path + ": " + std::strerror(errno));
  }
  ::close(fd);

  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return Status::Internal("cannot open SQLite database " + path + ": " + msg);
  }
  sqlite3_extended_result_codes(db, 1);
  auto conn = std::make_unique<SqliteConnection>(db, options.statement_cache_size);
  // The busy timeout first: switching to WAL needs a lock another connection
  // may hold for a moment.
  IV_RETURN_IF_ERROR(
      conn->Exec("PRAGMA busy_timeout=" + std::to_string(options.sqlite_busy_timeout.count()), {}));
  IV_ASSIGN_OR_RETURN(auto mode, conn->Query("PRAGMA journal_mode=WAL", {}));
  if (mode.empty() || mode[0].values.empty() || !std::holds_alternative<std::string>(mode[0].values[0]) ||
      std::get<std::string>(mode[0].values[0]) != "wal") {
    return Status::Internal("SQLite database " + path +
                            " cannot use WAL journal mode (is it on a network file system?)");
  }
  IV_RETURN_IF_ERROR(conn->Exec("PRAGMA foreign_keys=ON", {}));
  IV_RETURN_IF_ERROR(conn->Exec("PRAGMA synchronous=NORMAL", {}));
  return std::unique_ptr<Connection>(std::move(conn));
}

}  // namespace iv::infra::internal
