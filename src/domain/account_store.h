// AccountStore: what the account service keeps, as records, behind an
// interface so the service holds no SQL (infra/sql_account_store.cpp
// implements it for SQLite and PostgreSQL alike).
//
// Personal data arrives here already protected: name and email sealed with
// the user's data key, the email also as a keyed blind index for lookups,
// tokens as SHA-256 hashes. The store never sees a plaintext secret.
//
// Thread-safety: implementations are safe to use from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace iv::domain {

struct UserRecord {
  std::string id;
  std::string email_index;   // hex HMAC of the normalised email
  std::string email_sealed;  // base64 AEAD, user's data key, AD "user:<id>:email"
  std::string name_sealed;   // base64 AEAD, user's data key, AD "user:<id>:name"
  std::string password_hash; // Argon2id PHC string
  std::string dek_wrapped;   // base64, the data key wrapped by the master key
  std::string policy_version;
  std::int64_t policy_accepted_at = 0;  // unix ms
  std::int64_t age_confirmed_at = 0;
  std::optional<std::int64_t> email_verified_at;
  std::int64_t created_at = 0;
};

enum class TokenPurpose { kVerifyEmail, kResetPassword };

struct EmailTokenRecord {
  std::string token_hash;  // hex SHA-256 of the token in the link
  std::string user_id;
  TokenPurpose purpose = TokenPurpose::kVerifyEmail;
  std::int64_t expires_at = 0;
};

// A message waiting in the outbox, sealed as a whole (recipient included)
// with the outbox key, so the database never holds an address in clear.
struct OutboxRecord {
  std::string id;
  std::optional<std::string> user_id;  // deleted with the user
  std::string sealed;                  // base64 AEAD of the RFC 5322 message
  std::int64_t created_at = 0;
};

struct SessionRecord {
  std::string id;          // public id, for listing and revoking
  std::string token_hash;  // hex SHA-256 of the cookie value
  std::string user_id;
  std::string csrf_token;
  std::int64_t created_at = 0;
  std::int64_t last_seen_at = 0;
  std::int64_t expires_at = 0;  // absolute limit
  std::string device;           // "Firefox on Linux", from User-Agent
};

class AccountStore {
 public:
  virtual ~AccountStore() = default;

  // Creates the user, their verification token and the mail announcing it,
  // all or nothing. kConflict when the email index is taken.
  virtual Status CreateUser(const UserRecord& user, const EmailTokenRecord& token, const OutboxRecord& mail) = 0;
  virtual Result<std::optional<UserRecord>> FindUser(const std::string& id) = 0;
  virtual Result<std::optional<UserRecord>> FindUserByEmailIndex(const std::string& email_index) = 0;
  virtual Status SetPasswordHash(const std::string& user_id, const std::string& hash) = 0;

  // Stores a token (and the mail carrying it) for an existing user.
  virtual Status AddToken(const EmailTokenRecord& token, const OutboxRecord& mail) = 0;
  // Consumes a token: returns its user id once, if the token exists, has
  // this purpose and has not expired; never again afterwards.
  virtual Result<std::optional<std::string>> TakeToken(const std::string& token_hash, TokenPurpose purpose,
                                                       std::int64_t now) = 0;
  virtual Status MarkEmailVerified(const std::string& user_id, std::int64_t at) = 0;

  virtual Status CreateSession(const SessionRecord& session) = 0;
  virtual Result<std::optional<SessionRecord>> FindSession(const std::string& token_hash) = 0;
  virtual Status TouchSession(const std::string& session_id, std::int64_t at) = 0;
  virtual Status DeleteSession(const std::string& session_id) = 0;
  // Deletes every session of the user (password change, reset, deletion).
  virtual Status DeleteSessionsOf(const std::string& user_id) = 0;
  virtual Result<std::vector<SessionRecord>> ListSessions(const std::string& user_id) = 0;

  // Login throttling: failures are recorded per account (email index, even
  // for unknown addresses, so probing reveals nothing) and per IP.
  virtual Status RecordLoginFailure(const std::string& email_index, const std::string& ip, std::int64_t at) = 0;
  virtual Result<std::int64_t> CountFailuresForAccount(const std::string& email_index, std::int64_t since) = 0;
  virtual Result<std::int64_t> CountFailuresForIp(const std::string& ip, std::int64_t since) = 0;

  // Outbox: queueing a message on its own, the messages not yet delivered
  // (oldest first), and marking one sent.
  virtual Status EnqueueMail(const OutboxRecord& mail) = 0;
  virtual Result<std::vector<OutboxRecord>> PendingMail(int limit) = 0;
  virtual Status MarkMailSent(const std::string& id, std::int64_t at) = 0;
};

}  // namespace iv::domain
