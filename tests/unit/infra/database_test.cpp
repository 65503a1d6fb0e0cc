// The SQL layer's contract, run against both backends: SQLite in a temp dir
// and PostgreSQL in a throwaway cluster (one per test process, one database
// per test).
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "infra/database.h"
#include "infra/database_internal.h"
#include "infra/migrations.h"
#include "support/postgres_server.h"
#include "support/test_support.h"

namespace iv::infra {
namespace {

using test::PostgresServer;
using test::TempDir;

#define DB_ASSERT_OK(expr)                                  \
  do {                                                      \
    ::iv::Status db_status_ = (expr);                       \
    ASSERT_TRUE(db_status_.ok()) << db_status_.message();   \
  } while (0)
#define DB_EXPECT_OK(expr)                                  \
  do {                                                      \
    ::iv::Status db_status_ = (expr);                       \
    EXPECT_TRUE(db_status_.ok()) << db_status_.message();   \
  } while (0)

// Unwraps a Result in a test, failing (and throwing, which gtest reports) when
// it holds an error.
template <typename T>
T Must(Result<T> r, const char* what = "") {
  if (!r.ok()) {
    ADD_FAILURE() << what << ": " << r.status().message();
    throw std::runtime_error(r.status().message());
  }
  return std::move(r).value();
}

class DatabaseContract : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    url_ = sqlite() ? "sqlite://" + dir_.file("test.db") : PostgresServer::Shared().CreateDatabase();
  }

  bool sqlite() const { return GetParam() == Dialect::kSqlite; }

  std::unique_ptr<Database> OpenDb(const DatabaseOptions& options = {}) {
    return Must(Database::Open(url_, options), "Database::Open");
  }

  static PooledConnection Conn(Database& db) { return Must(db.Acquire(), "Acquire"); }

  static std::vector<Row> Rows(Connection& c, std::string_view sql, const std::vector<SqlValue>& params = {}) {
    return Must(c.Query(sql, params), std::string(sql).c_str());
  }

  static std::int64_t Count(Connection& c, const std::string& table) {
    return Must(Rows(c, "SELECT COUNT(*) FROM " + table).at(0).Int(0));
  }

  TempDir dir_;
  std::string url_;
};

TEST_P(DatabaseContract, ReportsItsDialectAndDefaultPoolSize) {
  auto db = OpenDb();
  EXPECT_EQ(db->dialect(), GetParam());
  EXPECT_EQ(db->pool_size(), sqlite() ? 4 : 8);
  auto c = Conn(*db);
  EXPECT_EQ(c->dialect(), GetParam());
}

TEST_P(DatabaseContract, RoundTripsEveryValueType) {
  auto db = OpenDb();
  auto c = Conn(*db);
  DB_ASSERT_OK(c->Exec("CREATE TABLE vals (id INTEGER PRIMARY KEY, i BIGINT, d DOUBLE PRECISION, t TEXT)"));
  const std::int64_t big = std::int64_t{1} << 62;
  const std::int64_t min = std::numeric_limits<std::int64_t>::min();
  const std::int64_t max = std::numeric_limits<std::int64_t>::max();
  const std::string unicode = "Grüße, 世界 🎬 ✓";
  const std::string quoted = "it's \"quoted\" \\ back\tslash\nnewline";
  const std::vector<std::vector<SqlValue>> rows = {
      {std::int64_t{1}, big, 0.1, unicode},
      {std::int64_t{2}, min, -1.5e300, std::string()},
      {std::int64_t{3}, max, 3.0, quoted},
      {std::int64_t{4}, std::monostate{}, std::monostate{}, std::monostate{}},
  };
  for (const auto& r : rows) DB_ASSERT_OK(c->Exec("INSERT INTO vals (id, i, d, t) VALUES (?, ?, ?, ?)", r));

  auto got = Rows(*c, "SELECT id, i, d, t FROM vals ORDER BY id");
  ASSERT_EQ(got.size(), rows.size());
  for (std::size_t r = 0; r < rows.size(); ++r) {
    ASSERT_EQ(got[r].size(), 4u);
    for (std::size_t col = 0; col < 4; ++col) {
      EXPECT_EQ(got[r].values[col], rows[r][col]) << "row " << r << " column " << col;
    }
  }
  EXPECT_EQ(Must(got[0].Int(1)), big);
  EXPECT_EQ(Must(got[0].Text(3)), unicode);
  EXPECT_TRUE(got[3].IsNull(1));
  EXPECT_EQ(Must(got[3].OptText(3)), std::nullopt);
  EXPECT_EQ(Must(got[0].OptText(3)), std::optional<std::string>(unicode));

  // A bare parameter comes back with the type it was bound as.
  auto echo = Rows(*c, "SELECT ?, ?, ?, ?", {big, 2.5, unicode, std::monostate{}});
  ASSERT_EQ(echo.size(), 1u);
  EXPECT_EQ(echo[0].values[0], SqlValue(big));
  EXPECT_EQ(echo[0].values[1], SqlValue(2.5));
  EXPECT_EQ(echo[0].values[2], SqlValue(unicode));
  EXPECT_TRUE(echo[0].IsNull(3));
}

TEST_P(DatabaseContract, TextWithANulByteIsRefusedOnBothBackends) {
  auto db = OpenDb();
  auto c = Conn(*db);
  DB_ASSERT_OK(c->Exec("CREATE TABLE t (v TEXT)"));
  Status s = c->Exec("INSERT INTO t (v) VALUES (?)", {std::string("a\0b", 3)});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.message();
  EXPECT_EQ(Count(*c, "t"), 0);
}

TEST_P(DatabaseContract, QuestionMarksInsideLiteralsAndCommentsAreNotPlaceholders) {
  auto db = OpenDb();
  auto c = Conn(*db);
  auto rows = Rows(*c,
                   "SELECT 'what? ''really?''' || ?, ? /* a ? in a comment */ -- and ? here\n"
                   ", 'end?'",
                   {std::string("!"), std::int64_t{7}});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(Must(rows[0].Text(0)), "what? 'really?'!");
  EXPECT_EQ(Must(rows[0].Int(1)), 7);
  EXPECT_EQ(Must(rows[0].Text(2)), "end?");

  DB_ASSERT_OK(c->Exec("CREATE TABLE q (\"a?b\" TEXT)"));
  DB_ASSERT_OK(c->Exec("INSERT INTO q (\"a?b\") VALUES (?)", {std::string("x?")}));
  auto q = Rows(*c, "SELECT \"a?b\" FROM q WHERE \"a?b\" = ?", {std::string("x?")});
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(Must(q[0].Text(0)), "x?");
}

TEST_P(DatabaseContract, MisuseIsInvalidArgument) {
  auto db = OpenDb();
  auto c = Conn(*db);
  EXPECT_EQ(c->Query("SELECT ?", {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c->Exec("SELECT 1", {std::int64_t{1}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c->Exec("SELECT :name", {std::int64_t{1}}).code(), StatusCode::kInvalidArgument);
  // Several statements need ExecScript.
  EXPECT_EQ(c->Exec("CREATE TABLE a (x INTEGER); CREATE TABLE b (x INTEGER)").code(), StatusCode::kInvalidArgument);
  DB_ASSERT_OK(c->Exec("CREATE TABLE a (x INTEGER);  "));  // a trailing ';' is fine
  DB_ASSERT_OK(c->ExecScript("CREATE TABLE b (x INTEGER); CREATE TABLE c (x INTEGER);"));
  EXPECT_EQ(Count(*c, "b") + Count(*c, "c"), 0);
}

TEST_P(DatabaseContract, UniqueViolationIsConflictAndDoesNotQuoteTheValue) {
  auto db = OpenDb();
  auto c = Conn(*db);
  DB_ASSERT_OK(c->Exec("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT UNIQUE)"));
  DB_ASSERT_OK(c->Exec("INSERT INTO users (id, email) VALUES (?, ?)", {std::int64_t{1}, std::string("alice@example.com")}));
  Status dup = c->Exec("INSERT INTO users (id, email) VALUES (?, ?)", {std::int64_t{2}, std::string("alice@example.com")});
  EXPECT_EQ(dup.code(), StatusCode::kConflict) << dup.message();
  EXPECT_EQ(dup.message().find("alice"), std::string::npos) << dup.message();
  Status pk = c->Exec("INSERT INTO users (id, email) VALUES (?, ?)", {std::int64_t{1}, std::string("bob@example.com")});
  EXPECT_EQ(pk.code(), StatusCode::kConflict) << pk.message();
  EXPECT_EQ(pk.message().find("bob"), std::string::npos) << pk.message();
  // ExecCount and Query map it the same way.
  EXPECT_EQ(c->ExecCount("INSERT INTO users (id, email) VALUES (?, ?)", {std::int64_t{1}, std::string("x")})
                .status()
                .code(),
            StatusCode::kConflict);
  EXPECT_EQ(c->Query("INSERT INTO users (id, email) VALUES (?, ?) RETURNING id", {std::int64_t{1}, std::string("x")})
                .status()
                .code(),
            StatusCode::kConflict);
  EXPECT_EQ(Count(*c, "users"), 1);
}

TEST_P(DatabaseContract, OtherFailuresAreInternalWithTheDriverMessage) {
  auto db = OpenDb();
  auto c = Conn(*db);
  Status s = c->Exec("SELECT * FROM no_such_table");
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(s.message().find("no_such_table"), std::string::npos) << s.message();
  DB_ASSERT_OK(c->Exec("CREATE TABLE n (i BIGINT NOT NULL)"));
  Status null = c->Exec("INSERT INTO n (i) VALUES (?)", {std::monostate{}});
  EXPECT_EQ(null.code(), StatusCode::kInternal) << null.message();
  if (!sqlite()) {
    // PostgreSQL quotes a value it cannot parse; the message must not.
    Status bad = c->Exec("INSERT INTO n (i) VALUES (?)", {std::string("secret-personal-data")});
    EXPECT_EQ(bad.code(), StatusCode::kInternal);
    EXPECT_EQ(bad.message().find("secret"), std::string::npos) << bad.message();
    EXPECT_NE(bad.message().find("22P02"), std::string::npos) << bad.message();
  }
}

TEST_P(DatabaseContract, TransactionsCommitAndRollBack) {
  auto db = OpenDb();
  auto c = Conn(*db);
  auto other = Conn(*db);
  DB_ASSERT_OK(c->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY)"));

  DB_ASSERT_OK(c->Begin());
  EXPECT_TRUE(c->in_transaction());
  EXPECT_FALSE(c->Begin().ok());  // no nesting
  DB_ASSERT_OK(c->Exec("INSERT INTO t (id) VALUES (1)"));
  EXPECT_EQ(Count(*other, "t"), 0);  // not visible before commit
  DB_ASSERT_OK(c->Commit());
  EXPECT_FALSE(c->in_transaction());
  EXPECT_EQ(Count(*other, "t"), 1);
  EXPECT_FALSE(c->Commit().ok());  // nothing open
  DB_EXPECT_OK(c->Rollback());     // nothing open: a no-op

  DB_ASSERT_OK(c->Begin(TxMode::kRead));
  DB_ASSERT_OK(c->Exec("INSERT INTO t (id) VALUES (2)"));
  DB_ASSERT_OK(c->Rollback());
  EXPECT_EQ(Count(*c, "t"), 1);

  {
    auto tx = Must(Transaction::Begin(*c));
    DB_ASSERT_OK(tx->Exec("INSERT INTO t (id) VALUES (3)"));
  }  // not committed: rolled back here
  EXPECT_FALSE(c->in_transaction());
  EXPECT_EQ(Count(*c, "t"), 1);

  {
    auto tx = Must(Transaction::Begin(*c));
    DB_ASSERT_OK(tx->Exec("INSERT INTO t (id) VALUES (4)"));
    DB_ASSERT_OK(tx.Commit());
  }
  EXPECT_EQ(Count(*other, "t"), 2);
}

TEST_P(DatabaseContract, AfterAFailedStatementATransactionCanBeRolledBack) {
  auto db = OpenDb();
  auto c = Conn(*db);
  DB_ASSERT_OK(c->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY)"));
  DB_ASSERT_OK(c->Exec("INSERT INTO t (id) VALUES (1)"));
  {
    auto tx = Must(Transaction::Begin(*c));
    DB_ASSERT_OK(tx->Exec("INSERT INTO t (id) VALUES (2)"));
    EXPECT_EQ(tx->Exec("INSERT INTO t (id) VALUES (1)").code(), StatusCode::kConflict);
    if (!sqlite()) {
      // PostgreSQL aborts the whole transaction: Commit says so.
      Status commit = tx.Commit();
      EXPECT_EQ(commit.code(), StatusCode::kInternal);
      EXPECT_NE(commit.message().find("rolled back"), std::string::npos) << commit.message();
    }
  }
  EXPECT_FALSE(c->in_transaction());
  EXPECT_EQ(Count(*c, "t"), 1);
  DB_EXPECT_OK(c->Exec("INSERT INTO t (id) VALUES (5)"));  // the connection is usable again
}

TEST_P(DatabaseContract, AConnectionReturnedMidTransactionIsRolledBack) {
  DatabaseOptions options;
  options.pool_size = 1;
  auto db = OpenDb(options);
  {
    auto c = Conn(*db);
    DB_ASSERT_OK(c->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY)"));
    DB_ASSERT_OK(c->Begin());
    DB_ASSERT_OK(c->Exec("INSERT INTO t (id) VALUES (1)"));
  }
  auto c = Conn(*db);
  EXPECT_FALSE(c->in_transaction());
  EXPECT_EQ(Count(*c, "t"), 0);
}

TEST_P(DatabaseContract, ClaimUpdateSucceedsOnceThenAffectsNoRow) {
  auto db = OpenDb();
  auto c = Conn(*db);
  DB_ASSERT_OK(c->Exec("CREATE TABLE jobs (id INTEGER PRIMARY KEY, owner TEXT)"));
  DB_ASSERT_OK(c->Exec("INSERT INTO jobs (id) VALUES (1), (2), (3)"));
  const char* claim = "UPDATE jobs SET owner = ? WHERE id = ? AND owner IS NULL";
  EXPECT_EQ(Must(c->ExecCount(claim, {std::string("w1"), std::int64_t{1}})), 1);
  EXPECT_EQ(Must(c->ExecCount(claim, {std::string("w2"), std::int64_t{1}})), 0);
  EXPECT_EQ(Must(Rows(*c, "SELECT owner FROM jobs WHERE id = 1").at(0).Text(0)), "w1");
  EXPECT_EQ(Must(c->ExecCount("UPDATE jobs SET owner = ? WHERE owner IS NULL", {std::string("w3")})), 2);
  EXPECT_EQ(Must(c->ExecCount("DELETE FROM jobs WHERE id > ?", {std::int64_t{10}})), 0);
  EXPECT_EQ(Must(c->ExecCount("SELECT id FROM jobs")), 0);
}

TEST_P(DatabaseContract, ConcurrentClaimsGiveEachJobToExactlyOneWorker) {
  auto db = OpenDb();
  {
    auto c = Conn(*db);
    DB_ASSERT_OK(c->Exec("CREATE TABLE jobs (id INTEGER PRIMARY KEY, owner TEXT)"));
    for (int i = 1; i <= 20; ++i) DB_ASSERT_OK(c->Exec("INSERT INTO jobs (id) VALUES (?)", {std::int64_t{i}}));
  }
  std::atomic<int> claimed{0}, failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      auto c = db->Acquire();
      if (!c.ok()) {
        ++failures;
        return;
      }
      for (int i = 1; i <= 20; ++i) {
        auto n = (*c)->ExecCount("UPDATE jobs SET owner = ? WHERE id = ? AND owner IS NULL",
                                 {"w" + std::to_string(w), std::int64_t{i}});
        if (!n.ok()) {
          ++failures;
        } else {
          claimed += static_cast<int>(*n);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(claimed.load(), 20);
  auto c = Conn(*db);
  EXPECT_EQ(Must(Rows(*c, "SELECT COUNT(*) FROM jobs WHERE owner IS NULL").at(0).Int(0)), 0);
}

TEST_P(DatabaseContract, SkipLockedHandsTwoWorkersDifferentRows) {
  if (sqlite()) GTEST_SKIP() << "FOR UPDATE SKIP LOCKED is PostgreSQL only (SQLite serializes writers)";
  auto db = OpenDb();
  auto a = Conn(*db);
  auto b = Conn(*db);
  DB_ASSERT_OK(a->Exec("CREATE TABLE jobs (id INTEGER PRIMARY KEY, owner TEXT)"));
  DB_ASSERT_OK(a->Exec("INSERT INTO jobs (id) VALUES (1), (2), (3)"));
  const char* next = "SELECT id FROM jobs WHERE owner IS NULL ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED";
  auto ta = Must(Transaction::Begin(*a));
  auto tb = Must(Transaction::Begin(*b));
  auto ra = Rows(*a, next);
  auto rb = Rows(*b, next);
  ASSERT_EQ(ra.size(), 1u);
  ASSERT_EQ(rb.size(), 1u);
  EXPECT_EQ(Must(ra[0].Int(0)), 1);
  EXPECT_EQ(Must(rb[0].Int(0)), 2);
  DB_ASSERT_OK(a->Exec("UPDATE jobs SET owner = 'a' WHERE id = ?", {Must(ra[0].Int(0))}));
  DB_ASSERT_OK(b->Exec("UPDATE jobs SET owner = 'b' WHERE id = ?", {Must(rb[0].Int(0))}));
  DB_ASSERT_OK(ta.Commit());
  DB_ASSERT_OK(tb.Commit());
  EXPECT_EQ(Must(Rows(*a, "SELECT COUNT(*) FROM jobs WHERE owner IS NOT NULL").at(0).Int(0)), 2);
}

TEST_P(DatabaseContract, InsertReturningAndAggregatesComeBackTyped) {
  auto db = OpenDb();
  auto c = Conn(*db);
  DB_ASSERT_OK(c->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, n BIGINT, name TEXT)"));
  auto ret = Rows(*c, "INSERT INTO t (id, n, name) VALUES (?, ?, ?) RETURNING id, name",
                  {std::int64_t{7}, std::int64_t{1} << 40, std::string("seven")});
  ASSERT_EQ(ret.size(), 1u);
  EXPECT_EQ(Must(ret[0].Int(0)), 7);
  EXPECT_EQ(Must(ret[0].Text(1)), "seven");
  DB_ASSERT_OK(c->Exec("INSERT INTO t (id, n, name) VALUES (8, 3, NULL)"));
  // PostgreSQL: COUNT is bigint, SUM(bigint) numeric, IS NULL boolean, AVG numeric.
  auto agg = Rows(*c, "SELECT COUNT(*), SUM(n), MAX(name) IS NULL, AVG(n), MAX(n) FROM t WHERE id > ?",
                  {std::int64_t{0}});
  ASSERT_EQ(agg.size(), 1u);
  EXPECT_EQ(Must(agg[0].Int(0)), 2);
  EXPECT_EQ(Must(agg[0].Int(1)), (std::int64_t{1} << 40) + 3);
  EXPECT_EQ(Must(agg[0].Bool(2)), false);
  EXPECT_DOUBLE_EQ(Must(agg[0].Double(3)), ((std::int64_t{1} << 40) + 3) / 2.0);
  EXPECT_EQ(Must(agg[0].Int(4)), std::int64_t{1} << 40);
  auto none = Rows(*c, "SELECT MAX(n) FROM t WHERE id < 0");
  EXPECT_EQ(Must(none[0].OptInt(0)), std::nullopt);
}

TEST_P(DatabaseContract, RowGettersReportTypeMismatches) {
  auto db = OpenDb();
  auto c = Conn(*db);
  auto rows = Rows(*c, "SELECT ?, ?, ?, ?", {std::int64_t{1}, std::string("x"), std::monostate{}, 1.5});
  const Row& r = rows.at(0);
  EXPECT_EQ(r.Int(1).status().code(), StatusCode::kInternal);
  EXPECT_EQ(r.Text(0).status().code(), StatusCode::kInternal);
  EXPECT_EQ(r.Int(2).status().code(), StatusCode::kInternal);  // NULL where a value is required
  EXPECT_EQ(r.Int(3).status().code(), StatusCode::kInternal);  // no silent truncation
  EXPECT_EQ(r.Int(9).status().code(), StatusCode::kInternal);
  EXPECT_TRUE(r.IsNull(9));
  EXPECT_EQ(Must(r.OptInt(2)), std::nullopt);
  EXPECT_EQ(r.OptInt(1).status().code(), StatusCode::kInternal);
  EXPECT_DOUBLE_EQ(Must(r.Double(0)), 1.0);  // integers widen
  EXPECT_DOUBLE_EQ(Must(r.Double(3)), 1.5);
  EXPECT_EQ(r.Bool(1).status().code(), StatusCode::kInternal);
  EXPECT_NE(r.Int(1).status().message().find("column 1 is text"), std::string::npos) << r.Int(1).status().message();
}

TEST_P(DatabaseContract, AcquireBlocksUntilAConnectionIsReturned) {
  DatabaseOptions options;
  options.pool_size = 2;
  options.acquire_timeout = std::chrono::milliseconds(5000);
  auto db = OpenDb(options);
  auto a = Conn(*db);
  auto b = Conn(*db);
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    a.Release();
  });
  const auto start = std::chrono::steady_clock::now();
  auto c = db->Acquire();
  const auto waited = std::chrono::steady_clock::now() - start;
  releaser.join();
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_GE(waited, std::chrono::milliseconds(150));
  EXPECT_LT(waited, std::chrono::milliseconds(4000));
  DB_EXPECT_OK((*c)->Exec("SELECT 1"));
}

TEST_P(DatabaseContract, AcquireTimesOutWhenThePoolStaysBusy) {
  DatabaseOptions options;
  options.pool_size = 1;
  options.acquire_timeout = std::chrono::milliseconds(200);
  auto db = OpenDb(options);
  auto a = Conn(*db);
  const auto start = std::chrono::steady_clock::now();
  auto b = db->Acquire();
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kInternal);
  EXPECT_NE(b.status().message().find("timed out"), std::string::npos) << b.status().message();
  EXPECT_GE(waited, std::chrono::milliseconds(180));
  a.Release();
  EXPECT_TRUE(db->Acquire().ok());
}

TEST_P(DatabaseContract, ParallelReadModifyWriteTransactionsAllSucceed) {
  auto db = OpenDb();
  {
    auto c = Conn(*db);
    DB_ASSERT_OK(c->Exec("CREATE TABLE counter (id INTEGER PRIMARY KEY, n BIGINT NOT NULL)"));
    DB_ASSERT_OK(c->Exec("INSERT INTO counter (id, n) VALUES (1, 0)"));
    DB_ASSERT_OK(c->Exec("CREATE TABLE events (id INTEGER PRIMARY KEY, who TEXT)"));
  }
  // SQLite: BEGIN IMMEDIATE makes the read-then-write safe and SQLITE_BUSY
  // never surfaces; PostgreSQL needs the row lock.
  const std::string read = std::string("SELECT n FROM counter WHERE id = 1") + (sqlite() ? "" : " FOR UPDATE");
  constexpr int kThreads = 4, kIterations = 50;
  std::atomic<int> failures{0};
  std::string first_error;
  std::mutex error_mu;
  auto fail = [&](const Status& s) {
    ++failures;
    std::lock_guard lock(error_mu);
    if (first_error.empty()) first_error = s.message();
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIterations; ++i) {
        auto c = db->Acquire();
        if (!c.ok()) return fail(c.status());
        auto tx = Transaction::Begin(**c, TxMode::kWrite);
        if (!tx.ok()) return fail(tx.status());
        auto rows = (*c)->Query(read);
        if (!rows.ok()) return fail(rows.status());
        std::int64_t n = std::get<std::int64_t>(rows->at(0).values[0]);
        if (Status s = (*c)->Exec("UPDATE counter SET n = ? WHERE id = 1", {n + 1}); !s.ok()) return fail(s);
        if (Status s = (*c)->Exec("INSERT INTO events (id, who) VALUES (?, ?)",
                                  {std::int64_t{t * 1000 + i}, "thread " + std::to_string(t)});
            !s.ok()) {
          return fail(s);
        }
        if (Status s = tx->Commit(); !s.ok()) return fail(s);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0) << first_error;
  auto c = Conn(*db);
  EXPECT_EQ(Must(Rows(*c, "SELECT n FROM counter WHERE id = 1").at(0).Int(0)), kThreads * kIterations);
  EXPECT_EQ(Count(*c, "events"), kThreads * kIterations);
}

TEST_P(DatabaseContract, StatementCacheEvictionKeepsStatementsWorking) {
  DatabaseOptions options;
  options.statement_cache_size = 3;
  auto db = OpenDb(options);
  auto c = Conn(*db);
  for (int round = 0; round < 3; ++round) {
    for (int k = 0; k < 10; ++k) {
      auto rows = Rows(*c, "SELECT ? + " + std::to_string(k), {std::int64_t{round}});
      EXPECT_EQ(Must(rows.at(0).Int(0)), round + k);
    }
  }
}

// ---------------------------------------------------------------- migrations

std::vector<Migration> ExampleMigrations() {
  return {
      {1, "create items", "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
       "CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT NOT NULL)"},
      {2, "add size",
       "ALTER TABLE items ADD COLUMN size BIGINT; INSERT INTO items (id, name, size) VALUES (1, 'first', 10);",
       "ALTER TABLE items ADD COLUMN size BIGINT; INSERT INTO items (id, name, size) VALUES (1, 'first', 10);"},
  };
}

TEST_P(DatabaseContract, MigrationsApplyOnceInOrderAndReRunsAreNoOps) {
  auto db = OpenDb();
  EXPECT_EQ(Must(CurrentVersion(*db)), 0);
  int applied = -1;
  DB_ASSERT_OK(Migrate(*db, ExampleMigrations(), &applied));
  EXPECT_EQ(applied, 2);
  EXPECT_EQ(Must(CurrentVersion(*db)), 2);
  DB_ASSERT_OK(Migrate(*db, ExampleMigrations(), &applied));
  EXPECT_EQ(applied, 0);
  auto c = Conn(*db);
  EXPECT_EQ(Count(*c, "items"), 1);
  auto recorded = Rows(*c, "SELECT version, name, applied_at FROM schema_migrations ORDER BY version");
  ASSERT_EQ(recorded.size(), 2u);
  EXPECT_EQ(Must(recorded[1].Int(0)), 2);
  EXPECT_EQ(Must(recorded[1].Text(1)), "add size");
  EXPECT_GT(Must(recorded[1].Int(2)), 1'600'000'000'000);  // unix milliseconds

  auto more = ExampleMigrations();
  more.push_back({3, "add index", "CREATE INDEX items_name ON items (name)", "CREATE INDEX items_name ON items (name)"});
  DB_ASSERT_OK(Migrate(*db, more, &applied));
  EXPECT_EQ(applied, 1);
  EXPECT_EQ(Must(CurrentVersion(*db)), 3);
}

TEST_P(DatabaseContract, MigrationsRefuseADatabaseNewerThanTheBinary) {
  auto db = OpenDb();
  auto more = ExampleMigrations();
  more.push_back({3, "later", "CREATE TABLE later (x INTEGER)", "CREATE TABLE later (x INTEGER)"});
  DB_ASSERT_OK(Migrate(*db, more));
  Status s = Migrate(*db, ExampleMigrations());
  EXPECT_EQ(s.code(), StatusCode::kConflict);
  EXPECT_NE(s.message().find("version 3"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("newer"), std::string::npos) << s.message();
  EXPECT_EQ(Must(CurrentVersion(*db)), 3);
}

TEST_P(DatabaseContract, AFailingMigrationLeavesNothingBehind) {
  auto db = OpenDb();
  auto list = ExampleMigrations();
  list[1].sqlite_sql = list[1].postgres_sql = "CREATE TABLE half (x INTEGER); THIS IS NOT SQL";
  Status s = Migrate(*db, list);
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(s.message().find("migration 2 (add size)"), std::string::npos) << s.message();
  EXPECT_EQ(Must(CurrentVersion(*db)), 1);
  auto c = Conn(*db);
  EXPECT_FALSE(c->Query("SELECT * FROM half").ok());
  c.Release();
  DB_ASSERT_OK(Migrate(*db, ExampleMigrations()));
  EXPECT_EQ(Must(CurrentVersion(*db)), 2);
}

TEST_P(DatabaseContract, MalformedMigrationListsAreRefused) {
  auto db = OpenDb();
  auto list = ExampleMigrations();
  list[1].version = 1;
  EXPECT_EQ(Migrate(*db, list).code(), StatusCode::kInvalidArgument);
  list = ExampleMigrations();
  (sqlite() ? list[0].sqlite_sql : list[0].postgres_sql).clear();
  EXPECT_EQ(Migrate(*db, list).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Must(CurrentVersion(*db)), 0);
}

TEST_P(DatabaseContract, ConcurrentMigratorsApplyEachMigrationExactlyOnce) {
  // Each "node" has its own pool; every migration logs itself in a table, so
  // a migration applied twice shows as a second log row (or a failure).
  std::vector<Migration> list = {
      {1, "log table", "CREATE TABLE migration_log (version INTEGER NOT NULL)",
       "CREATE TABLE migration_log (version INTEGER NOT NULL)"},
  };
  for (int v = 2; v <= 6; ++v) {
    std::string sql = "CREATE TABLE t" + std::to_string(v) + " (x INTEGER); INSERT INTO migration_log (version) VALUES (" +
                      std::to_string(v) + ")";
    list.push_back({v, "step " + std::to_string(v), sql, sql});
  }
  constexpr int kNodes = 4;
  std::vector<std::unique_ptr<Database>> nodes;
  for (int i = 0; i < kNodes; ++i) nodes.push_back(OpenDb());
  std::vector<Status> results(kNodes);
  std::vector<int> applied(kNodes, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < kNodes; ++i) {
    threads.emplace_back([&, i] { results[i] = Migrate(*nodes[i], list, &applied[i]); });
  }
  for (auto& t : threads) t.join();
  int total = 0;
  for (int i = 0; i < kNodes; ++i) {
    EXPECT_TRUE(results[i].ok()) << "node " << i << ": " << results[i].message();
    total += applied[i];
  }
  EXPECT_EQ(total, 6);
  auto c = Conn(*nodes[0]);
  EXPECT_EQ(Count(*c, "migration_log"), 5);
  EXPECT_EQ(Count(*c, "schema_migrations"), 6);
  EXPECT_EQ(Must(CurrentVersion(*nodes[0])), 6);
}

INSTANTIATE_TEST_SUITE_P(Backends, DatabaseContract, ::testing::Values(Dialect::kSqlite, Dialect::kPostgres),
                         [](const ::testing::TestParamInfo<Dialect>& info) { return DialectName(info.param); });

// ---------------------------------------------------------------- SQLite only

TEST(SqliteDatabase, FileIsPrivateAndUsesWalWithTheConfiguredPragmas) {
  TempDir dir;
  const std::string path = dir.file("private.db");
  auto db = Must(Database::Open("sqlite://" + path));
  auto c = Must(db->Acquire());
  DB_ASSERT_OK(c->Exec("CREATE TABLE t (x INTEGER)"));
  DB_ASSERT_OK(c->Exec("INSERT INTO t (x) VALUES (1)"));
  for (const std::string& file : {path, path + "-wal", path + "-shm"}) {
    struct stat st {};
    ASSERT_EQ(stat(file.c_str(), &st), 0) << file;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << file;
  }
  EXPECT_EQ(Must(Must(c->Query("PRAGMA journal_mode")).at(0).Text(0)), "wal");
  EXPECT_EQ(Must(Must(c->Query("PRAGMA foreign_keys")).at(0).Int(0)), 1);
  EXPECT_EQ(Must(Must(c->Query("PRAGMA busy_timeout")).at(0).Int(0)), 5000);
  EXPECT_EQ(Must(Must(c->Query("PRAGMA synchronous")).at(0).Int(0)), 1);  // NORMAL
}

TEST(SqliteDatabase, ForeignKeysAreEnforced) {
  TempDir dir;
  auto db = Must(Database::Open("sqlite://" + dir.file("fk.db")));
  auto c = Must(db->Acquire());
  DB_ASSERT_OK(c->ExecScript(
      "CREATE TABLE parent (id INTEGER PRIMARY KEY);"
      "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent (id));"));
  EXPECT_EQ(c->Exec("INSERT INTO child (id, parent_id) VALUES (1, 42)").code(), StatusCode::kInternal);
}

TEST(SqliteDatabase, UrlForms) {
  TempDir dir;
  // sqlite:relative/path is resolved against the working directory at Open.
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  auto rel = Database::Open("sqlite:relative.db");
  std::filesystem::current_path(cwd);
  ASSERT_TRUE(rel.ok()) << rel.status().message();
  EXPECT_TRUE(std::filesystem::exists(dir.file("relative.db")));
  DB_EXPECT_OK(Must((*rel)->Acquire())->Exec("SELECT 1"));

  EXPECT_TRUE(Database::Open("sqlite:" + dir.file("plain.db")).ok());
  EXPECT_EQ(Database::Open("sqlite:").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Database::Open("sqlite::memory:").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Database::Open("sqlite://host/x.db").status().code(), StatusCode::kInvalidArgument);
  auto missing_dir = Database::Open("sqlite://" + dir.file("no/such/dir.db"));
  EXPECT_EQ(missing_dir.status().code(), StatusCode::kInternal);
  auto other = Database::Open("mysql://root:hunter2@localhost/db");
  EXPECT_EQ(other.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(other.status().message().find("hunter2"), std::string::npos) << other.status().message();
}

// ---------------------------------------------------------------- PostgreSQL only

TEST(PostgresDatabase, PlaceholderRewriting) {
  using internal::RewritePlaceholders;
  auto r = RewritePlaceholders("SELECT ?, '?', E'\\'?', \"?\", $$?$$, $tag$ ? $tag$, ? -- ?\n, /* ? /* ? */ ? */ ?");
  EXPECT_EQ(r.sql, "SELECT $1, '?', E'\\'?', \"?\", $$?$$, $tag$ ? $tag$, $2 -- ?\n, /* ? /* ? */ ? */ $3");
  EXPECT_EQ(r.placeholders, 3u);
  EXPECT_FALSE(r.several_statements);
  EXPECT_EQ(RewritePlaceholders("SELECT 'it''s ?' || ?").sql, "SELECT 'it''s ?' || $1");
  EXPECT_EQ(RewritePlaceholders("SELECT a$b, ?").sql, "SELECT a$b, $1");
  EXPECT_TRUE(RewritePlaceholders("SELECT 1; SELECT 2").several_statements);
  EXPECT_FALSE(RewritePlaceholders("SELECT ';'; -- done\n").several_statements);
}

TEST(PostgresDatabase, SetsApplicationName) {
  auto db = Must(Database::Open(PostgresServer::Shared().CreateDatabase()));
  auto c = Must(db->Acquire());
  EXPECT_EQ(Must(Must(c->Query("SELECT current_setting('application_name')")).at(0).Text(0)), "imagevideo");
}

TEST(PostgresDatabase, ReconnectsAPooledConnectionTheServerDropped) {
  const std::string url = PostgresServer::Shared().CreateDatabase();
  DatabaseOptions options;
  options.pool_size = 1;
  auto db = Must(Database::Open(url, options));
  auto admin = Must(Database::Open(url));
  std::int64_t pid = 0;
  {
    auto c = Must(db->Acquire());
    pid = Must(Must(c->Query("SELECT pg_backend_pid()")).at(0).Int(0));
  }
  {
    auto a = Must(admin->Acquire());
    // pg_terminate_backend takes an int4: an int64 parameter needs a cast.
    DB_ASSERT_OK(a->Exec("SELECT pg_terminate_backend(CAST(? AS INTEGER))", {pid}));
  }
  // The first use after the server dropped the connection fails (libpq only
  // learns of it then); the next Acquire reconnects.
  bool failed = false;
  for (int i = 0; i < 100 && !failed; ++i) {
    auto c = Must(db->Acquire());
    failed = !c->Exec("SELECT 1").ok();
    if (!failed) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(failed);
  auto c = Must(db->Acquire());
  auto again = c->Query("SELECT pg_backend_pid()");
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_NE(Must(again->at(0).Int(0)), pid);
}

TEST(PostgresDatabase, ConnectionFailuresDoNotRevealThePassword) {
  auto r = Database::Open("postgresql://imagevideo:hunter2@127.0.0.1:1/nothing?connect_timeout=2");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  EXPECT_EQ(r.status().message().find("hunter2"), std::string::npos) << r.status().message();
}

TEST(PostgresDatabase, PostgresSchemeAliasWorks) {
  std::string url = PostgresServer::Shared().CreateDatabase();
  ASSERT_EQ(url.rfind("postgresql://", 0), 0u);
  url.replace(0, std::string("postgresql").size(), "postgres");
  auto db = Database::Open(url);
  ASSERT_TRUE(db.ok()) << db.status().message();
  EXPECT_EQ((*db)->dialect(), Dialect::kPostgres);
}

}  // namespace
}  // namespace iv::infra
