// AccountService: sign-up, email verification, sign-in and sessions.
//
// Privacy and security rules live here, whatever the caller (HTTP, CLI):
// - Nothing is stored for someone who does not confirm being 13 or older or
//   does not accept the current policy version (validation runs first).
// - Name and email are sealed with the user's own data key; the email is
//   found through a keyed blind index; passwords are Argon2id.
// - Registering an address that already has an account answers exactly as a
//   new sign-up does (and mails the owner), so the form cannot be used to
//   find out who has an account. Sign-in answers "wrong email or password"
//   for both unknown addresses and wrong passwords, in comparable time.
// - At most `max_failures_per_account` failed sign-ins per hour for one
//   account, `max_failures_per_ip` for one IP address (kRateLimited).
// - Session tokens and email tokens are stored only as SHA-256 hashes.
//
// Slow work (password hashing) runs on the caller's thread: never call from
// an I/O thread. Thread-safety: safe to use from many threads.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "domain/account_store.h"
#include "domain/key_ring.h"
#include "infra/clock.h"
#include "infra/crypto.h"

namespace iv::domain {

struct AccountOptions {
  std::string policy_version = "2026-11-29";
  // Where links in mails point: "<public_url>/verify?token=...".
  std::string public_url = "http://127.0.0.1:8080";
  std::string mail_from = "imagevideo <no-reply@localhost>";
  infra::PasswordPolicy password_policy;
  std::chrono::hours verify_token_ttl{48};
  std::chrono::hours idle_timeout{24 * 7};
  std::chrono::hours absolute_timeout{24 * 30};
  int max_failures_per_account = 100;  // per hour (issue: at most 100)
  int max_failures_per_ip = 300;       // per hour
};

struct RegisterRequest {
  std::string name;
  std::string email;
  std::string password;
  bool age_confirmed = false;
  std::string policy_version;
};

struct UserView {
  std::string id;
  std::string name;
  std::string email;
  bool email_verified = false;
  std::int64_t created_at = 0;  // unix ms
};

struct NewSession {
  std::string token;  // goes into the cookie; never stored
  std::string csrf_token;
  std::string session_id;
  UserView user;
};

struct Authenticated {
  std::string user_id;
  std::string session_id;
  std::string csrf_token;
};

struct SessionView {
  std::string id;
  std::string device;
  std::int64_t created_at = 0;
  std::int64_t last_seen_at = 0;
  bool current = false;
};

class AccountService {
 public:
  AccountService(AccountStore& store, const KeyRing& keys, const infra::Clock& clock, AccountOptions options);

  // kInvalidArgument (Validation, with field errors) for bad input; nothing
  // is stored then.
  Result<UserView> Register(const RegisterRequest& request);
  // kNotFound for an unknown, used or expired token.
  Status VerifyEmail(const std::string& token);
  // kUnauthenticated for a wrong email or password, kPermissionDenied while
  // the email is not verified, kRateLimited when throttled.
  Result<NewSession> Login(const std::string& email, const std::string& password, const std::string& ip,
                           const std::string& user_agent);
  // kUnauthenticated when the token is unknown or its session timed out.
  Result<Authenticated> Authenticate(const std::string& session_token);
  Status Logout(const std::string& session_id);
  Result<UserView> GetUser(const std::string& user_id);
  Result<std::vector<SessionView>> ListSessions(const std::string& user_id, const std::string& current_session_id);
  // kNotFound when the session is not one of the user's.
  Status RevokeSession(const std::string& user_id, const std::string& session_id);

  // The normalised form of an address, as the blind index sees it.
  static std::string NormaliseEmail(const std::string& email);

 private:
  std::string EmailIndex(const std::string& normalised_email) const;
  OutboxRecord SealMail(const std::optional<std::string>& user_id, const std::string& to, const std::string& subject,
                        const std::string& body) const;
  std::int64_t Now() const;

  AccountStore& store_;
  KeyRing keys_;
  const infra::Clock& clock_;
  AccountOptions options_;
  std::string dummy_hash_;  // verified against for unknown emails (timing)
};

}  // namespace iv::domain
