// The PostgreSQL backend over libpq: PQexecParams with text-format parameters
// and results (no server-side prepared statements, so a schema migration never
// meets a stale cached plan), values converted by result column type OID.
#include <libpq-fe.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "infra/database.h"
#include "infra/database_internal.h"

namespace iv::infra::internal {

namespace {

// Type OIDs from PostgreSQL's catalog (pg_type.dat); stable across versions.
constexpr Oid kBoolOid = 16;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kOidOid = 26;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

bool IsIdentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$' ||
         static_cast<unsigned char>(c) >= 0x80;
}

bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

std::string FormatDouble(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);  // shortest form that reads back exactly
  return std::string(buf, end);
}

SqlValue ConvertValue(Oid type, const char* text, int len) {
  const char* end = text + len;
  switch (type) {
    case kInt8Oid:
    case kInt4Oid:
    case kInt2Oid:
    case kOidOid: {
      std::int64_t v = 0;
      if (auto r = std::from_chars(text, end, v); r.ec == std::errc() && r.ptr == end) return v;
      break;
    }
    case kBoolOid:
      return std::int64_t{len > 0 && text[0] == 't' ? 1 : 0};
    case kFloat4Oid:
    case kFloat8Oid: {
      double v = 0;
      if (auto r = std::from_chars(text, end, v); r.ec == std::errc() && r.ptr == end) return v;
      break;
    }
    case kNumericOid: {
      if (std::memchr(text, '.', len) == nullptr && std::memchr(text, 'e', len) == nullptr &&
          std::memchr(text, 'N', len) == nullptr) {
        std::int64_t v = 0;
        if (auto r = std::from_chars(text, end, v); r.ec == std::errc() && r.ptr == end) return v;
      }
      double v = 0;
      if (auto r = std::from_chars(text, end, v); r.ec == std::errc() && r.ptr == end) return v;
      break;
    }
    default:
      break;
  }
  return std::string(text, len);
}

class PostgresConnection final : public Connection {
 public:
  explicit PostgresConnection(PGconn* conn) : conn_(conn) {}
  ~PostgresConnection() override { PQfinish(conn_); }

  Status Exec(std::string_view sql, const std::vector<SqlValue>& params) override {
    IV_ASSIGN_OR_RETURN(ResultPtr res, Run(sql, params));
    return Status::Ok();
  }

  Result<std::vector<Row>> Query(std::string_view sql, const std::vector<SqlValue>& params) override {
    IV_ASSIGN_OR_RETURN(ResultPtr res, Run(sql, params));
    const int nrows = PQntuples(res.get());
    const int ncols = PQnfields(res.get());
    std::vector<Oid> types(ncols);
    for (int c = 0; c < ncols; ++c) types[c] = PQftype(res.get(), c);
    std::vector<Row> rows(nrows);
    for (int r = 0; r < nrows; ++r) {
      rows[r].values.reserve(ncols);
      for (int c = 0; c < ncols; ++c) {
        if (PQgetisnull(res.get(), r, c)) {
          rows[r].values.emplace_back(std::monostate{});
        } else {
          rows[r].values.push_back(ConvertValue(types[c], PQgetvalue(res.get(), r, c), PQgetlength(res.get(), r, c)));
        }
      }
    }
    return rows;
  }

  Result<std::int64_t> ExecCount(std::string_view sql, const std::vector<SqlValue>& params) override {
    IV_ASSIGN_OR_RETURN(ResultPtr res, Run(sql, params));
    // Like SQLite: a SELECT changes nothing (libpq would give its row count).
    if (std::strncmp(PQcmdStatus(res.get()), "SELECT", 6) == 0) return std::int64_t{0};
    const char* n = PQcmdTuples(res.get());
    std::int64_t count = 0;
    if (n != nullptr && *n != '\0') std::from_chars(n, n + std::strlen(n), count);
    return count;
  }

  Status ExecScript(std::string_view sql) override {
    std::string text(sql);
    ResultPtr res(PQexec(conn_, text.c_str()), &PQclear);
    return Check(res.get(), sql);
  }

  bool in_transaction() const override {
    switch (PQtransactionStatus(conn_)) {
      case PQTRANS_INTRANS:
      case PQTRANS_INERROR:
      case PQTRANS_ACTIVE:
        return true;
      default:
        return false;
    }
  }

  Dialect dialect() const override { return Dialect::kPostgres; }

 protected:
  Status DoBegin(TxMode) override { return Simple("BEGIN"); }

  Status DoCommit() override {
    static const Status kAborted = Status::Internal(
        "PostgreSQL: the transaction was aborted by an earlier error and has been rolled back");
    if (PQtransactionStatus(conn_) == PQTRANS_INERROR) {
      (void)Simple("ROLLBACK");
      return kAborted;
    }
    ResultPtr res(PQexec(conn_, "COMMIT"), &PQclear);
    IV_RETURN_IF_ERROR(Check(res.get(), "COMMIT"));
    // COMMIT of an aborted transaction "succeeds" with the tag ROLLBACK.
    if (std::strcmp(PQcmdStatus(res.get()), "ROLLBACK") == 0) return kAborted;
    return Status::Ok();
  }

  Status DoRollback() override { return Simple("ROLLBACK"); }

 private:
  Status Revalidate() override {
    if (PQstatus(conn_) == CONNECTION_OK) return Status::Ok();
    PQreset(conn_);
    if (PQstatus(conn_) == CONNECTION_OK) return Status::Ok();
    return ConnectionError();
  }

  Status ConnectionError() const {
    std::string msg = PQerrorMessage(conn_);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return Status::Internal("PostgreSQL: " + msg);
  }

  Status Simple(const char* sql) {
    ResultPtr res(PQexec(conn_, sql), &PQclear);
    return Check(res.get(), sql);
  }

  Status Check(const PGresult* res, std::string_view sql) const {
    if (res != nullptr) {
      switch (PQresultStatus(res)) {
        case PGRES_COMMAND_OK:
        case PGRES_TUPLES_OK:
        case PGRES_EMPTY_QUERY:
          return Status::Ok();
        default:
          break;
      }
    }
    return Error(res, sql);
  }

  Status Error(const PGresult* res, std::string_view sql) const {
    const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
    const char* primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    if (primary == nullptr) {
      // Raised inside libpq (lost connection, protocol error): no fields and
      // no values in the text.
      return Status::Internal(ConnectionError().message() + " (in: " + Snippet(sql) + ")");
    }
    std::string code = state ? state : "";
    std::string msg = primary;
    if (code == "23505") return Status::Conflict("PostgreSQL: " + msg);  // DETAIL (the key) left out
    // Data exceptions quote the offending value after a colon:
    // invalid input syntax for type bigint: "<value>".
    if (code.rfind("22", 0) == 0) {
      if (auto colon = msg.find(':'); colon != std::string::npos) msg.resize(colon);
    }
    return Status::Internal("PostgreSQL: " + msg + " [SQLSTATE " + code + "] (in: " + Snippet(sql) + ")");
  }

  Result<ResultPtr> Run(std::string_view sql, const std::vector<SqlValue>& params) {
    IV_RETURN_IF_ERROR(CheckParams(params));
    PostgresSql rewritten = RewritePlaceholders(sql);
    if (rewritten.several_statements) {
      return Status::InvalidArgument("several SQL statements given to a one-statement call (use ExecScript): " +
                                     Snippet(sql));
    }
    if (rewritten.placeholders != params.size()) {
      return Status::InvalidArgument("SQL has " + std::to_string(rewritten.placeholders) + " placeholders but " +
                                     std::to_string(params.size()) + " parameters were given: " + Snippet(sql));
    }
    std::vector<std::string> texts(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    std::vector<Oid> types(params.size(), 0);
    for (std::size_t i = 0; i < params.size(); ++i) {
      const SqlValue& v = params[i];
      if (const auto* iv = std::get_if<std::int64_t>(&v)) {
        texts[i] = std::to_string(*iv);
        types[i] = kInt8Oid;
      } else if (const auto* dv = std::get_if<double>(&v)) {
        texts[i] = FormatDouble(*dv);
        types[i] = kFloat8Oid;
      } else if (const auto* sv = std::get_if<std::string>(&v)) {
        texts[i] = *sv;  // untyped: the server infers the type from the context
      } else {
        continue;  // NULL: values[i] stays nullptr
      }
      values[i] = texts[i].c_str();
    }
    ResultPtr res(PQexecParams(conn_, rewritten.sql.c_str(), static_cast<int>(params.size()), types.data(),
                               values.data(), nullptr, nullptr, 0),
                  &PQclear);
    IV_RETURN_IF_ERROR(Check(res.get(), sql));
    return res;
  }

  PGconn* conn_;
};

}  // namespace

PostgresSql RewritePlaceholders(std::string_view sql) {
  PostgresSql out;
  out.sql.reserve(sql.size() + 16);
  const std::size_t n = sql.size();
  std::size_t i = 0;
  bool after_semicolon = false;
  auto copy_to = [&](std::size_t end) {
    end = std::min(end, n);
    out.sql.append(sql.substr(i, end - i));
    i = end;
  };
  while (i < n) {
    const char c = sql[i];
    const bool comment = (c == '-' || c == '/') && i + 1 < n && sql[i + 1] == (c == '-' ? '-' : '*');
    if (after_semicolon && !IsSpace(c) && c != ';' && !comment) out.several_statements = true;
    if (c == '\'') {
      // E'...' strings allow backslash escapes.
      const bool escapes = i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') && (i < 2 || !IsIdentChar(sql[i - 2]));
      std::size_t j = i + 1;
      while (j < n) {
        if (escapes && sql[j] == '\\') {
          j += 2;
        } else if (sql[j] == '\'') {
          if (j + 1 < n && sql[j + 1] == '\'') {
            j += 2;
          } else {
            ++j;
            break;
          }
        } else {
          ++j;
        }
      }
      copy_to(j);
    } else if (c == '"') {
      std::size_t j = i + 1;
      while (j < n) {
        if (sql[j] == '"') {
          if (j + 1 < n && sql[j + 1] == '"') {
            j += 2;
          } else {
            ++j;
            break;
          }
        } else {
          ++j;
        }
      }
      copy_to(j);
    } else if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      std::size_t j = sql.find('\n', i);
      copy_to(j == std::string_view::npos ? n : j);
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      // Block comments nest in PostgreSQL.
      int depth = 1;
      std::size_t j = i + 2;
      while (j < n && depth > 0) {
        if (sql[j] == '/' && j + 1 < n && sql[j + 1] == '*') {
          ++depth;
          j += 2;
        } else if (sql[j] == '*' && j + 1 < n && sql[j + 1] == '/') {
          --depth;
          j += 2;
        } else {
          ++j;
        }
      }
      copy_to(j);
    } else if (c == '$' && (i == 0 || !IsIdentChar(sql[i - 1]))) {
      // Dollar quoting: $$...$$ or $tag$...$tag$ (a tag does not start with a digit).
      std::size_t j = i + 1;
      if (j < n && !(sql[j] >= '0' && sql[j] <= '9')) {
        while (j < n && sql[j] != '$' && IsIdentChar(sql[j])) ++j;
      }
      if (j < n && sql[j] == '$') {
        std::string_view tag = sql.substr(i, j - i + 1);
        std::size_t close = sql.find(tag, j + 1);
        copy_to(close == std::string_view::npos ? n : close + tag.size());
      } else {
        copy_to(i + 1);
      }
    } else if (c == '?') {
      ++out.placeholders;
      out.sql += '$';
      out.sql += std::to_string(out.placeholders);
      ++i;
    } else {
      if (c == ';') after_semicolon = true;
      out.sql += c;
      ++i;
    }
  }
  return out;
}

Result<std::unique_ptr<Connection>> OpenPostgresConnection(const std::string& url, const DatabaseOptions& options) {
  const std::string timeout = std::to_string(options.connect_timeout.count());
  // Earlier keywords are defaults the URL may override; client_encoding is
  // forced because results are read as UTF-8.
  const char* keys[] = {"application_name", "connect_timeout", "dbname", "client_encoding", nullptr};
  const char* values[] = {"imagevideo", timeout.c_str(), url.c_str(), "UTF8", nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (conn == nullptr) return Status::Internal("PostgreSQL: out of memory opening a connection");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(conn);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    PQfinish(conn);
    return Status::Internal("cannot connect to PostgreSQL: " + msg);
  }
  // Notices (e.g. "relation already exists, skipping") would go to stderr.
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<Connection>(std::make_unique<PostgresConnection>(conn));
}

}  // namespace iv::infra::internal
