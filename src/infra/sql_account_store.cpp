#include "infra/sql_account_store.h"

#include "infra/crypto.h"

namespace iv::infra {

namespace {

using domain::EmailTokenRecord;
using domain::OutboxRecord;
using domain::SessionRecord;
using domain::TokenPurpose;
using domain::UserRecord;

const char* PurposeName(TokenPurpose p) { return p == TokenPurpose::kVerifyEmail ? "verify-email" : "reset-password"; }

SqlValue Opt(const std::optional<std::string>& v) { return v ? SqlValue(*v) : SqlValue(); }

constexpr const char* kUserColumns =
    "id, email_index, email_sealed, name_sealed, password_hash, dek_wrapped, policy_version, policy_accepted_at, "
    "age_confirmed_at, email_verified_at, created_at";

Result<UserRecord> UserFrom(const Row& r) {
  UserRecord u;
  IV_ASSIGN_OR_RETURN(u.id, r.Text(0));
  IV_ASSIGN_OR_RETURN(u.email_index, r.Text(1));
  IV_ASSIGN_OR_RETURN(u.email_sealed, r.Text(2));
  IV_ASSIGN_OR_RETURN(u.name_sealed, r.Text(3));
  IV_ASSIGN_OR_RETURN(u.password_hash, r.Text(4));
  IV_ASSIGN_OR_RETURN(u.dek_wrapped, r.Text(5));
  IV_ASSIGN_OR_RETURN(u.policy_version, r.Text(6));
  IV_ASSIGN_OR_RETURN(u.policy_accepted_at, r.Int(7));
  IV_ASSIGN_OR_RETURN(u.age_confirmed_at, r.Int(8));
  IV_ASSIGN_OR_RETURN(u.email_verified_at, r.OptInt(9));
  IV_ASSIGN_OR_RETURN(u.created_at, r.Int(10));
  return u;
}

constexpr const char* kSessionColumns =
    "id, token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, device";

Result<SessionRecord> SessionFrom(const Row& r) {
  SessionRecord s;
  IV_ASSIGN_OR_RETURN(s.id, r.Text(0));
  IV_ASSIGN_OR_RETURN(s.token_hash, r.Text(1));
  IV_ASSIGN_OR_RETURN(s.user_id, r.Text(2));
  IV_ASSIGN_OR_RETURN(s.csrf_token, r.Text(3));
  IV_ASSIGN_OR_RETURN(s.created_at, r.Int(4));
  IV_ASSIGN_OR_RETURN(s.last_seen_at, r.Int(5));
  IV_ASSIGN_OR_RETURN(s.expires_at, r.Int(6));
  IV_ASSIGN_OR_RETURN(s.device, r.Text(7));
  return s;
}

Status InsertToken(Connection& c, const EmailTokenRecord& t) {
  return c.Exec("INSERT INTO email_tokens (token_hash, user_id, purpose, expires_at) VALUES (?, ?, ?, ?)",
                {t.token_hash, t.user_id, std::string(PurposeName(t.purpose)), t.expires_at});
}

Status InsertMail(Connection& c, const OutboxRecord& m) {
  return c.Exec("INSERT INTO mail_outbox (id, user_id, sealed, created_at) VALUES (?, ?, ?, ?)",
                {m.id, Opt(m.user_id), m.sealed, m.created_at});
}

Result<std::optional<UserRecord>> OneUser(Database& db, const std::string& where, const std::string& value) {
  IV_ASSIGN_OR_RETURN(PooledConnection c, db.Acquire());
  IV_ASSIGN_OR_RETURN(auto rows,
                      c->Query(std::string("SELECT ") + kUserColumns + " FROM users WHERE " + where + " = ?", {value}));
  if (rows.empty()) return std::optional<UserRecord>();
  IV_ASSIGN_OR_RETURN(UserRecord u, UserFrom(rows[0]));
  return std::optional<UserRecord>(std::move(u));
}

// Runs one statement on a pooled connection.
Status ExecOne(Database& db, std::string_view sql, const std::vector<SqlValue>& params) {
  IV_ASSIGN_OR_RETURN(PooledConnection c, db.Acquire());
  return c->Exec(sql, params);
}

Result<std::int64_t> CountOne(Database& db, std::string_view sql, const std::vector<SqlValue>& params) {
  IV_ASSIGN_OR_RETURN(PooledConnection c, db.Acquire());
  IV_ASSIGN_OR_RETURN(auto rows, c->Query(sql, params));
  if (rows.empty()) return std::int64_t{0};
  return rows[0].Int(0);
}

}  // namespace

Status SqlAccountStore::CreateUser(const UserRecord& u, const EmailTokenRecord& token, const OutboxRecord& mail) {
  IV_ASSIGN_OR_RETURN(PooledConnection c, db_.Acquire());
  IV_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(*c));
  IV_RETURN_IF_ERROR(tx->Exec(std::string("INSERT INTO users (") + kUserColumns +
                                  ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                              {u.id, u.email_index, u.email_sealed, u.name_sealed, u.password_hash, u.dek_wrapped,
                               u.policy_version, u.policy_accepted_at, u.age_confirmed_at,
                               u.email_verified_at ? SqlValue(*u.email_verified_at) : SqlValue(), u.created_at}));
  IV_RETURN_IF_ERROR(InsertToken(*c, token));
  IV_RETURN_IF_ERROR(InsertMail(*c, mail));
  return tx.Commit();
}

Result<std::optional<UserRecord>> SqlAccountStore::FindUser(const std::string& id) { return OneUser(db_, "id", id); }

Result<std::optional<UserRecord>> SqlAccountStore::FindUserByEmailIndex(const std::string& email_index) {
  return OneUser(db_, "email_index", email_index);
}

Status SqlAccountStore::SetPasswordHash(const std::string& user_id, const std::string& hash) {
  return ExecOne(db_, "UPDATE users SET password_hash = ? WHERE id = ?", {hash, user_id});
}

Status SqlAccountStore::AddToken(const EmailTokenRecord& token, const OutboxRecord& mail) {
  IV_ASSIGN_OR_RETURN(PooledConnection c, db_.Acquire());
  IV_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(*c));
  IV_RETURN_IF_ERROR(InsertToken(*c, token));
  IV_RETURN_IF_ERROR(InsertMail(*c, mail));
  return tx.Commit();
}

Result<std::optional<std::string>> SqlAccountStore::TakeToken(const std::string& token_hash, TokenPurpose purpose,
                                                              std::int64_t now) {
  IV_ASSIGN_OR_RETURN(PooledConnection c, db_.Acquire());
  IV_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(*c));
  // The claim is the UPDATE: only one caller can move used_at off NULL.
  IV_ASSIGN_OR_RETURN(std::int64_t changed,
                      c->ExecCount("UPDATE email_tokens SET used_at = ? WHERE token_hash = ? AND purpose = ? AND "
                                   "used_at IS NULL AND expires_at > ?",
                                   {now, token_hash, std::string(PurposeName(purpose)), now}));
  if (changed == 0) return std::optional<std::string>();
  IV_ASSIGN_OR_RETURN(auto rows, c->Query("SELECT user_id FROM email_tokens WHERE token_hash = ?", {token_hash}));
  IV_RETURN_IF_ERROR(tx.Commit());
  if (rows.empty()) return std::optional<std::string>();
  IV_ASSIGN_OR_RETURN(std::string user_id, rows[0].Text(0));
  return std::optional<std::string>(std::move(user_id));
}

Status SqlAccountStore::MarkEmailVerified(const std::string& user_id, std::int64_t at) {
  return ExecOne(db_, "UPDATE users SET email_verified_at = ? WHERE id = ? AND email_verified_at IS NULL",
                 {at, user_id});
}

Status SqlAccountStore::CreateSession(const SessionRecord& s) {
  return ExecOne(db_, std::string("INSERT INTO sessions (") + kSessionColumns + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 {s.id, s.token_hash, s.user_id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at, s.device});
}

Result<std::optional<SessionRecord>> SqlAccountStore::FindSession(const std::string& token_hash) {
  IV_ASSIGN_OR_RETURN(PooledConnection c, db_.Acquire());
  IV_ASSIGN_OR_RETURN(auto rows, c->Query(std::string("SELECT ") + kSessionColumns +
                                              " FROM sessions WHERE token_hash = ?",
                                          {token_hash}));
  if (rows.empty()) return std::optional<SessionRecord>();
  IV_ASSIGN_OR_RETURN(SessionRecord s, SessionFrom(rows[0]));
  return std::optional<SessionRecord>(std::move(s));
}

Status SqlAccountStore::TouchSession(const std::string& session_id, std::int64_t at) {
  return ExecOne(db_, "UPDATE sessions SET last_seen_at = ? WHERE id = ?", {at, session_id});
}

Status SqlAccountStore::DeleteSession(const std::string& session_id) {
  return ExecOne(db_, "DELETE FROM sessions WHERE id = ?", {session_id});
}

Status SqlAccountStore::DeleteSessionsOf(const std::string& user_id) {
  return ExecOne(db_, "DELETE FROM sessions WHERE user_id = ?", {user_id});
}

Result<std::vector<SessionRecord>> SqlAccountStore::ListSessions(const std::string& user_id) {
  IV_ASSIGN_OR_RETURN(PooledConnection c, db_.Acquire());
  IV_ASSIGN_OR_RETURN(auto rows, c->Query(std::string("SELECT ") + kSessionColumns +
                                              " FROM sessions WHERE user_id = ? ORDER BY created_at DESC",
                                          {user_id}));
  std::vector<SessionRecord> out;
  for (const Row& r : rows) {
    IV_ASSIGN_OR_RETURN(SessionRecord s, SessionFrom(r));
    out.push_back(std::move(s));
  }
  return out;
}

Status SqlAccountStore::RecordLoginFailure(const std::string& email_index, const std::string& ip, std::int64_t at) {
  return ExecOne(db_, "INSERT INTO login_failures (id, email_index, ip, at) VALUES (?, ?, ?, ?)",
                 {RandomId(), email_index, ip, at});
}

Result<std::int64_t> SqlAccountStore::CountFailuresForAccount(const std::string& email_index, std::int64_t since) {
  return CountOne(db_, "SELECT COUNT(*) FROM login_failures WHERE email_index = ? AND at >= ?", {email_index, since});
}

Result<std::int64_t> SqlAccountStore::CountFailuresForIp(const std::string& ip, std::int64_t since) {
  return CountOne(db_, "SELECT COUNT(*) FROM login_failures WHERE ip = ? AND at >= ?", {ip, since});
}

Status SqlAccountStore::EnqueueMail(const OutboxRecord& mail) {
  IV_ASSIGN_OR_RETURN(PooledConnection c, db_.Acquire());
  return InsertMail(*c, mail);
}

Result<std::vector<OutboxRecord>> SqlAccountStore::PendingMail(int limit) {
  IV_ASSIGN_OR_RETURN(PooledConnection c, db_.Acquire());
  IV_ASSIGN_OR_RETURN(auto rows, c->Query("SELECT id, user_id, sealed, created_at FROM mail_outbox WHERE sent_at IS "
                                          "NULL ORDER BY created_at LIMIT ?",
                                          {std::int64_t{limit}}));
  std::vector<OutboxRecord> out;
  for (const Row& r : rows) {
    OutboxRecord m;
    IV_ASSIGN_OR_RETURN(m.id, r.Text(0));
    IV_ASSIGN_OR_RETURN(m.user_id, r.OptText(1));
    IV_ASSIGN_OR_RETURN(m.sealed, r.Text(2));
    IV_ASSIGN_OR_RETURN(m.created_at, r.Int(3));
    out.push_back(std::move(m));
  }
  return out;
}

Status SqlAccountStore::MarkMailSent(const std::string& id, std::int64_t at) {
  return ExecOne(db_, "UPDATE mail_outbox SET sent_at = ? WHERE id = ?", {at, id});
}

}  // namespace iv::infra
