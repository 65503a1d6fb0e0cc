// Database: a thin SQL layer directly over sqlite3 and libpq.
//
// One SQL text works on both engines when it sticks to the common subset
// (CREATE TABLE with INTEGER/BIGINT/TEXT/DOUBLE PRECISION columns, INSERT ...
// ON CONFLICT, RETURNING, ...); code that needs an engine-only feature (FOR
// UPDATE SKIP LOCKED) asks Connection::dialect().
//
// Parameters:
// - Placeholders are always written `?` (never $1, ?NNN or :name). The
//   PostgreSQL backend rewrites them to $1..$n, leaving a `?` inside a string
//   literal, quoted identifier, comment or dollar-quoted string untouched.
//   (PostgreSQL's jsonb `?` operators therefore cannot be used: call
//   jsonb_exists() instead.)
// - Values are always bound, never spliced into the SQL text.
// - On PostgreSQL an int64 parameter is sent as bigint and a double as double
//   precision; text and NULL are sent untyped so the server infers the type
//   from the context (text can fill a BIGINT or TIMESTAMP column). A function
//   whose argument is a 4-byte integer (substr, left, pg_terminate_backend)
//   does not accept a bigint: write CAST(? AS INTEGER), which SQLite accepts
//   too. Comparing an INTEGER column with a bigint uses its index. Booleans are
//   stored as INTEGER 0/1 in portable schemas: a bigint does not cast to
//   PostgreSQL's boolean.
// - Text may hold any UTF-8 but no NUL byte: PostgreSQL text cannot store one,
//   so both backends refuse such a parameter with kInvalidArgument (the same
//   contract everywhere). Binary data is stored as base64 text by callers.
//
// Results: every value comes back as NULL, int64, double or text. SQLite gives
// its storage class; PostgreSQL converts by column type: int2/int4/int8/oid and
// boolean (0/1) to int64, float4/float8 to double, numeric to int64 when it is
// integral and fits (SUM(bigint) is numeric there) else double, everything else
// as its text form.
//
// Errors: a unique or primary-key violation is kConflict (SQLite
// SQLITE_CONSTRAINT_UNIQUE/PRIMARYKEY, PostgreSQL SQLSTATE 23505); misuse of
// this API (wrong number of parameters, several statements in Exec, a NUL in
// text) is kInvalidArgument; every other failure is kInternal with the
// driver's message. Messages never contain bound values (they may be personal
// data): PostgreSQL's DETAIL (which repeats the key) is left out, and for data
// exceptions (SQLSTATE class 22, e.g. "invalid input syntax for type bigint:
// "<value>"") only the text before the value is kept.
//
// Thread-safety: a Database (the pool) is safe to use from any thread. A
// Connection is used by one thread at a time (the one holding its
// PooledConnection). Every PooledConnection must be released before its
// Database is destroyed.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace iv::infra {

enum class Dialect { kSqlite, kPostgres };

// "sqlite" or "postgres".
const char* DialectName(Dialect d);

// A value bound to or read from SQL: NULL, 64-bit integer, double, or text.
using SqlValue = std::variant<std::monostate, std::int64_t, double, std::string>;

// One result row. The typed getters return kInternal (naming the column
// index and the types) when the value has another type, is NULL where a value
// is required, or the index is past the end; they never throw.
struct Row {
  std::vector<SqlValue> values;

  std::size_t size() const { return values.size(); }
  // True for NULL, and for an index past the end.
  bool IsNull(std::size_t i) const;
  Result<std::int64_t> Int(std::size_t i) const;
  // An integer 0 or 1 as false/true.
  Result<bool> Bool(std::size_t i) const;
  // A double, or an integer widened to double.
  Result<double> Double(std::size_t i) const;
  Result<std::string> Text(std::size_t i) const;
  // As above, with NULL as std::nullopt.
  Result<std::optional<std::int64_t>> OptInt(std::size_t i) const;
  Result<std::optional<double>> OptDouble(std::size_t i) const;
  Result<std::optional<std::string>> OptText(std::size_t i) const;
};

// kWrite takes the write lock at BEGIN on SQLite (BEGIN IMMEDIATE), so a
// transaction that reads then writes never fails with SQLITE_BUSY on the
// upgrade; use it for any transaction that may write. kRead is a deferred
// BEGIN, for transactions that only read. Both are a plain BEGIN on
// PostgreSQL (READ COMMITTED).
enum class TxMode { kWrite, kRead };

class Database;

// One connection. Not thread-safe: one thread at a time.
class Connection {
 public:
  virtual ~Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // One statement whose result rows, if any, are ignored.
  virtual Status Exec(std::string_view sql, const std::vector<SqlValue>& params = {}) = 0;
  // One statement (SELECT, or anything with RETURNING) and its rows.
  virtual Result<std::vector<Row>> Query(std::string_view sql, const std::vector<SqlValue>& params = {}) = 0;
  // One INSERT/UPDATE/DELETE and the number of rows it changed: the check of
  // "claim" updates (UPDATE ... WHERE owner IS NULL) and optimistic
  // concurrency (UPDATE ... WHERE version = ?). 0 for a SELECT.
  virtual Result<std::int64_t> ExecCount(std::string_view sql, const std::vector<SqlValue>& params = {}) = 0;
  // Several statements separated by ';', without parameters (schema
  // migrations). Must not contain BEGIN/COMMIT.
  virtual Status ExecScript(std::string_view sql) = 0;

  // Transactions. Prefer the RAII Transaction below. Begin fails when a
  // transaction is already open (no nesting). Commit of a transaction that
  // PostgreSQL aborted after an error returns kInternal (it was rolled back).
  // Rollback without an open transaction is OK (does nothing).
  Status Begin(TxMode mode = TxMode::kWrite);
  Status Commit();
  Status Rollback();
  virtual bool in_transaction() const = 0;

  virtual Dialect dialect() const = 0;

 protected:
  Connection() = default;
  virtual Status DoBegin(TxMode mode) = 0;
  virtual Status DoCommit() = 0;
  virtual Status DoRollback() = 0;

 private:
  friend class ConnectionPool;
  // Called by the pool before handing the connection out: reconnects a
  // connection whose server went away (PostgreSQL).
  virtual Status Revalidate() { return Status::Ok(); }
};

// A transaction on one connection, rolled back on destruction unless
// committed. The connection must outlive it.
class Transaction {
 public:
  static Result<Transaction> Begin(Connection& conn, TxMode mode = TxMode::kWrite);
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  // After Commit or Rollback (successful or not) the transaction is over; a
  // failed Commit rolls back what is left.
  Status Commit();
  Status Rollback();
  Connection& connection() const { return *conn_; }
  Connection* operator->() const { return conn_; }

 private:
  explicit Transaction(Connection* conn) : conn_(conn) {}
  Connection* conn_;
  bool done_ = false;
};

class ConnectionPool;

// A connection borrowed from a Database; returns it on destruction (rolling
// back a transaction left open).
class PooledConnection {
 public:
  PooledConnection() = default;
  PooledConnection(PooledConnection&& other) noexcept;
  PooledConnection& operator=(PooledConnection&& other) noexcept;
  ~PooledConnection();

  Connection* get() const { return conn_.get(); }
  Connection* operator->() const { return conn_.get(); }
  Connection& operator*() const { return *conn_; }
  explicit operator bool() const { return conn_ != nullptr; }
  // Returns the connection to the pool now.
  void Release();

 private:
  friend class ConnectionPool;
  PooledConnection(ConnectionPool* pool, std::unique_ptr<Connection> conn) : pool_(pool), conn_(std::move(conn)) {}
  ConnectionPool* pool_ = nullptr;
  std::unique_ptr<Connection> conn_;
};

struct DatabaseOptions {
  // Connections in the pool; 0 picks the default: 4 for SQLite (writes
  // serialize anyway), 8 for PostgreSQL. Connections open lazily, except one
  // opened by Database::Open to check the URL.
  int pool_size = 0;
  // How long Acquire waits when every connection is busy.
  std::chrono::milliseconds acquire_timeout{10'000};
  // SQLite: how long a statement waits for another connection's write lock.
  std::chrono::milliseconds sqlite_busy_timeout{5'000};
  // PostgreSQL: connect timeout (unless the URL sets connect_timeout).
  std::chrono::seconds connect_timeout{10};
  // Prepared statements kept per SQLite connection, by SQL text.
  int statement_cache_size = 64;
};

// A pool of connections to one database. Thread-safe.
class Database {
 public:
  // url: "sqlite:///abs/path.db", "sqlite:relative/path.db" (resolved against
  // the working directory now), or "postgresql://user@host:port/db?..."
  // ("postgres://" too; any libpq URI parameter works; application_name
  // defaults to imagevideo). The SQLite file is created with mode 0600 when
  // missing; its directory must exist. ":memory:" is refused (each pooled
  // connection would see its own empty database). Error messages never repeat
  // the URL (it may hold a password).
  static Result<std::unique_ptr<Database>> Open(const std::string& url, const DatabaseOptions& options = {});

  virtual ~Database() = default;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // A connection for the calling thread; waits up to acquire_timeout when all
  // are busy (then kInternal).
  virtual Result<PooledConnection> Acquire() = 0;
  virtual Dialect dialect() const = 0;
  virtual int pool_size() const = 0;

 protected:
  Database() = default;
};

}  // namespace iv::infra
