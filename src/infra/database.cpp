#include "infra/database.h"

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <utility>

#include "infra/database_internal.h"

namespace iv::infra {

const char* DialectName(Dialect d) { return d == Dialect::kSqlite ? "sqlite" : "postgres"; }

// ---------------------------------------------------------------- Row

namespace {

const char* TypeName(const SqlValue& v) {
  switch (v.index()) {
    case 0: return "NULL";
    case 1: return "integer";
    case 2: return "double";
    default: return "text";
  }
}

Status Mismatch(std::size_t i, const SqlValue& v, const char* wanted) {
  return Status::Internal("SQL result column " + std::to_string(i) + " is " + TypeName(v) + ", expected " + wanted);
}

Status OutOfRange(std::size_t i, std::size_t n) {
  return Status::Internal("SQL result column " + std::to_string(i) + " requested from a row of " + std::to_string(n) +
                          " columns");
}

}  // namespace

bool Row::IsNull(std::size_t i) const {
  return i >= values.size() || std::holds_alternative<std::monostate>(values[i]);
}

Result<std::int64_t> Row::Int(std::size_t i) const {
  if (i >= values.size()) return OutOfRange(i, values.size());
  if (const auto* v = std::get_if<std::int64_t>(&values[i])) return *v;
  return Mismatch(i, values[i], "integer");
}

Result<bool> Row::Bool(std::size_t i) const {
  IV_ASSIGN_OR_RETURN(std::int64_t v, Int(i));
  if (v != 0 && v != 1) return Status::Internal("SQL result column " + std::to_string(i) + " is not 0 or 1");
  return v == 1;
}

Result<double> Row::Double(std::size_t i) const {
  if (i >= values.size()) return OutOfRange(i, values.size());
  if (const auto* v = std::get_if<double>(&values[i])) return *v;
  if (const auto* v = std::get_if<std::int64_t>(&values[i])) return static_cast<double>(*v);
  return Mismatch(i, values[i], "double");
}

Result<std::string> Row::Text(std::size_t i) const {
  if (i >= values.size()) return OutOfRange(i, values.size());
  if (const auto* v = std::get_if<std::string>(&values[i])) return *v;
  return Mismatch(i, values[i], "text");
}

Result<std::optional<std::int64_t>> Row::OptInt(std::size_t i) const {
  if (i < values.size() && IsNull(i)) return std::optional<std::int64_t>();
  IV_ASSIGN_OR_RETURN(std::int64_t v, Int(i));
  return std::optional<std::int64_t>(v);
}

Result<std::optional<double>> Row::OptDouble(std::size_t i) const {
  if (i < values.size() && IsNull(i)) return std::optional<double>();
  IV_ASSIGN_OR_RETURN(double v, Double(i));
  return std::optional<double>(v);
}

Result<std::optional<std::string>> Row::OptText(std::size_t i) const {
  if (i < values.size() && IsNull(i)) return std::optional<std::string>();
  IV_ASSIGN_OR_RETURN(std::string v, Text(i));
  return std::optional<std::string>(std::move(v));
}

// ---------------------------------------------------------------- Connection

Status Connection::Begin(TxMode mode) {
  if (in_transaction()) return Status::Internal("a transaction is already open on this connection (no nesting)");
  return DoBegin(mode);
}

Status Connection::Commit() {
  if (!in_transaction()) return Status::Internal("COMMIT without an open transaction");
  return DoCommit();
}

Status Connection::Rollback() {
  if (!in_transaction()) return Status::Ok();
  return DoRollback();
}

// ---------------------------------------------------------------- Transaction

Result<Transaction> Transaction::Begin(Connection& conn, TxMode mode) {
  IV_RETURN_IF_ERROR(conn.Begin(mode));
  return Transaction(&conn);
}

Transaction::Transaction(Transaction&& other) noexcept : conn_(other.conn_), done_(other.done_) {
  other.done_ = true;
}

Transaction::~Transaction() {
  if (!done_) (void)conn_->Rollback();
}

Status Transaction::Commit() {
  if (done_) return Status::Internal("transaction already ended");
  done_ = true;
  Status s = conn_->Commit();
  if (!s.ok()) (void)conn_->Rollback();  // e.g. SQLite leaves it open after SQLITE_BUSY
  return s;
}

Status Transaction::Rollback() {
  if (done_) return Status::Ok();
  done_ = true;
  return conn_->Rollback();
}

// ---------------------------------------------------------------- pool

class ConnectionPool final : public Database {
 public:
  using Factory = std::function<Result<std::unique_ptr<Connection>>()>;

  ConnectionPool(Dialect dialect, int size, std::chrono::milliseconds timeout, Factory factory)
      : dialect_(dialect), size_(size), timeout_(timeout), factory_(std::move(factory)) {}

  Result<PooledConnection> Acquire() override {
    std::unique_ptr<Connection> conn;
    {
      std::unique_lock lock(mu_);
      const auto deadline = std::chrono::steady_clock::now() + timeout_;
      while (true) {
        if (!idle_.empty()) {
          conn = std::move(idle_.back());
          idle_.pop_back();
          break;
        }
        if (open_ < size_) {
          ++open_;
          lock.unlock();
          auto opened = factory_();
          if (!opened.ok()) {
            Forget();
            return opened.status();
          }
          conn = std::move(opened).value();
          break;
        }
        if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() && open_ >= size_) {
          return Status::Internal("timed out after " + std::to_string(timeout_.count()) +
                                  " ms waiting for a free database connection (pool of " + std::to_string(size_) +
                                  ")");
        }
      }
    }
    Status s = conn->Revalidate();
    if (!s.ok()) {
      conn.reset();
      Forget();
      return s.WithContext("database connection lost");
    }
    return PooledConnection(this, std::move(conn));
  }

  Dialect dialect() const override { return dialect_; }
  int pool_size() const override { return size_; }

  void Return(std::unique_ptr<Connection> conn) {
    if (conn->in_transaction() && !conn->Rollback().ok()) {
      conn.reset();  // not trustworthy any more; a fresh one opens on demand
      Forget();
      return;
    }
    {
      std::lock_guard lock(mu_);
      idle_.push_back(std::move(conn));  // LIFO: the warmest connection goes out next
    }
    cv_.notify_one();
  }

 private:
  void Forget() {
    {
      std::lock_guard lock(mu_);
      --open_;
    }
    cv_.notify_one();
  }

  const Dialect dialect_;
  const int size_;
  const std::chrono::milliseconds timeout_;
  const Factory factory_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
  int open_ = 0;  // idle + handed out + being opened
};

PooledConnection::PooledConnection(PooledConnection&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)), conn_(std::move(other.conn_)) {}

PooledConnection& PooledConnection::operator=(PooledConnection&& other) noexcept {
  if (this != &other) {
    Release();
    pool_ = std::exchange(other.pool_, nullptr);
    conn_ = std::move(other.conn_);
  }
  return *this;
}

PooledConnection::~PooledConnection() { Release(); }

void PooledConnection::Release() {
  if (conn_ && pool_) pool_->Return(std::move(conn_));
  conn_.reset();
  pool_ = nullptr;
}

// ---------------------------------------------------------------- Open

namespace {

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

}  // namespace

Result<std::unique_ptr<Database>> Database::Open(const std::string& url, const DatabaseOptions& options) {
  if (options.pool_size < 0) return Status::InvalidArgument("database pool size must not be negative");
  std::unique_ptr<ConnectionPool> pool;
  if (StartsWith(url, "sqlite:")) {
    std::string path;
    if (StartsWith(url, "sqlite://")) {
      path = url.substr(9);
      if (!StartsWith(path, "/")) {
        return Status::InvalidArgument(
            "SQLite URL must be sqlite:///absolute/path.db or sqlite:relative/path.db (no host)");
      }
    } else {
      path = url.substr(7);
    }
    if (path.empty()) return Status::InvalidArgument("SQLite URL has no file path");
    if (path == ":memory:" || StartsWith(path, "file:")) {
      return Status::InvalidArgument("SQLite URL must name a file (in-memory databases are not pooled)");
    }
    std::error_code ec;
    std::filesystem::path abs = std::filesystem::absolute(path, ec);
    if (ec) return Status::InvalidArgument("SQLite path cannot be resolved: " + ec.message());
    path = abs.lexically_normal().string();
    DatabaseOptions opts = options;
    int size = options.pool_size > 0 ? options.pool_size : 4;
    pool = std::make_unique<ConnectionPool>(Dialect::kSqlite, size, options.acquire_timeout,
                                            [path, opts] { return internal::OpenSqliteConnection(path, opts); });
  } else if (StartsWith(url, "postgresql://") || StartsWith(url, "postgres://")) {
    DatabaseOptions opts = options;
    int size = options.pool_size > 0 ? options.pool_size : 8;
    pool = std::make_unique<ConnectionPool>(Dialect::kPostgres, size, options.acquire_timeout,
                                            [url, opts] { return internal::OpenPostgresConnection(url, opts); });
  } else {
    // Never echo the URL: it may carry a password.
    std::string scheme = url.substr(0, std::min(url.find(':'), std::size_t{20}));
    return Status::InvalidArgument("unsupported database URL scheme '" + scheme +
                                   "' (use sqlite:///path.db or postgresql://user@host:port/db)");
  }
  // Open one connection now so a wrong URL, password or path fails at start-up.
  {
    auto first = pool->Acquire();
    if (!first.ok()) return first.status();
  }
  return std::unique_ptr<Database>(std::move(pool));
}

// ---------------------------------------------------------------- helpers

namespace internal {

Status CheckParams(const std::vector<SqlValue>& params) {
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (const auto* s = std::get_if<std::string>(&params[i]); s && s->find('\0') != std::string::npos) {
      return Status::InvalidArgument("SQL text parameter " + std::to_string(i + 1) +
                                     " contains a NUL byte (not storable in PostgreSQL text; store binary as base64)");
    }
  }
  return Status::Ok();
}

std::string Snippet(std::string_view sql) {
  std::string out;
  bool space = false;
  for (char c : sql) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
    if (out.size() >= 100) {
      out += "...";
      break;
    }
  }
  return out;
}

}  // namespace internal

}  // namespace iv::infra
