#include "domain/account_service.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>

#include "domain/user_agent.h"
#include "domain/user_keys.h"

namespace iv::domain {

namespace {

// A UTF-8 string's length in code points (continuation bytes not counted).
std::size_t CodePoints(const std::string& s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool HasControl(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; });
}

std::string Trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// Deliberately simple: one '@', something before, a dotted domain after, no
// spaces. The verification mail is the real test of an address.
bool LooksLikeEmail(const std::string& e) {
  auto at = e.find('@');
  if (at == std::string::npos || at == 0 || e.find('@', at + 1) != std::string::npos) return false;
  std::string domain = e.substr(at + 1);
  auto dot = domain.find('.');
  return e.size() <= 254 && dot != std::string::npos && dot > 0 && dot + 1 < domain.size() &&
         e.find(' ') == std::string::npos && !HasControl(e);
}

std::string HashHex(const std::string& token) { return infra::Hex(infra::Sha256(token)); }

std::string RfcDate(std::int64_t unix_ms) {
  std::time_t t = unix_ms / 1000;
  std::tm utc{};
  gmtime_r(&t, &utc);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &utc);
  return buf;
}

std::string AssociatedData(const std::string& user_id, const char* field) { return "user:" + user_id + ":" + field; }

}  // namespace

AccountService::AccountService(AccountStore& store, const KeyRing& keys, const infra::Clock& clock,
                               AccountOptions options)
    : store_(store), keys_(keys), clock_(clock), options_(std::move(options)) {
  auto hash = infra::HashPassword(infra::RandomToken(), options_.password_policy);
  if (hash.ok()) dummy_hash_ = *hash;
}

std::int64_t AccountService::Now() const { return infra::ToUnixMillis(clock_.Now()); }

std::string AccountService::NormaliseEmail(const std::string& email) {
  std::string e = Trim(email);
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return std::tolower(c); });
  return e;
}

std::string AccountService::EmailIndex(const std::string& normalised_email) const {
  return infra::Hex(infra::HmacSha256(keys_.blind_index, normalised_email));
}

OutboxRecord AccountService::SealMail(const std::optional<std::string>& user_id, const std::string& to,
                                      const std::string& subject, const std::string& body) const {
  OutboxRecord m;
  m.id = infra::RandomId();
  m.user_id = user_id;
  m.created_at = Now();
  std::string message = "From: " + options_.mail_from + "\r\nTo: " + to + "\r\nSubject: " + subject +
                        "\r\nDate: " + RfcDate(m.created_at) + "\r\nMessage-ID: <" + m.id +
                        "@imagevideo>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                        "Content-Transfer-Encoding: 8bit\r\n\r\n" + body;
  m.sealed = infra::Base64(infra::Seal(keys_.outbox, message, "outbox:" + m.id));
  return m;
}

Result<UserView> AccountService::Register(const RegisterRequest& r) {
  std::vector<FieldError> errors;
  const std::string name = Trim(r.name);
  const std::string email = NormaliseEmail(r.email);
  if (name.empty() || CodePoints(name) > 100 || HasControl(name)) {
    errors.push_back({"name", "must be 1 to 100 characters"});
  }
  if (!LooksLikeEmail(email)) errors.push_back({"email", "is not an email address"});
  std::size_t pw = CodePoints(r.password);
  if (pw < 12 || pw > 128) errors.push_back({"password", "must be 12 to 128 characters"});
  if (!r.age_confirmed) errors.push_back({"age_confirmed", "you must be 13 or older to use this service"});
  if (r.policy_version != options_.policy_version) {
    errors.push_back({"policy_version", "must accept the current privacy policy (" + options_.policy_version + ")"});
  }
  if (!errors.empty()) return Status::Validation(std::move(errors));

  const std::string index = EmailIndex(email);
  IV_ASSIGN_OR_RETURN(auto existing, store_.FindUserByEmailIndex(index));
  const std::int64_t now = Now();
  // The password is hashed either way, so both answers take as long.
  IV_ASSIGN_OR_RETURN(std::string password_hash, infra::HashPassword(r.password, options_.password_policy));
  if (existing) {
    // Same answer as for a new account; the owner learns of the attempt.
    IV_RETURN_IF_ERROR(store_.EnqueueMail(
        SealMail(existing->id, email, "Someone tried to sign up with your address",
                 "Someone tried to create an imagevideo account with this address, which already has one.\r\n"
                 "If it was you, sign in at " + options_.public_url + "/login\r\n"
                 "If not, you can ignore this message.\r\n")));
    return UserView{infra::RandomId(), name, email, false, now};
  }

  UserRecord u;
  u.id = infra::RandomId();
  infra::Key dek = infra::RandomKey();
  u.dek_wrapped = WrapDataKey(keys_, u.id, dek);
  u.email_index = index;
  u.email_sealed = infra::Base64(infra::Seal(dek, email, AssociatedData(u.id, "email")));
  u.name_sealed = infra::Base64(infra::Seal(dek, name, AssociatedData(u.id, "name")));
  infra::Wipe(dek);
  u.password_hash = std::move(password_hash);
  u.policy_version = r.policy_version;
  u.policy_accepted_at = now;
  u.age_confirmed_at = now;
  u.created_at = now;

  const std::string token = infra::RandomToken();
  EmailTokenRecord t{HashHex(token), u.id, TokenPurpose::kVerifyEmail,
                     now + std::chrono::duration_cast<std::chrono::milliseconds>(options_.verify_token_ttl).count()};
  OutboxRecord mail = SealMail(u.id, email, "Confirm your email address",
                               "Hello " + name + ",\r\n\r\nplease confirm your address by opening this link:\r\n" +
                                   options_.public_url + "/verify?token=" + token +
                                   "\r\n\r\nIf you did not sign up for imagevideo, ignore this message; the account "
                                   "stays unusable without confirmation.\r\n");
  Status created = store_.CreateUser(u, t, mail);
  if (created.code() == StatusCode::kConflict) {
    // Another request registered the same address a moment ago.
    return UserView{infra::RandomId(), name, email, false, now};
  }
  IV_RETURN_IF_ERROR(created);
  return UserView{u.id, name, email, false, now};
}

Status AccountService::VerifyEmail(const std::string& token) {
  IV_ASSIGN_OR_RETURN(auto user_id, store_.TakeToken(HashHex(token), TokenPurpose::kVerifyEmail, Now()));
  if (!user_id) return Status::NotFound("this link is unknown, already used or expired");
  return store_.MarkEmailVerified(*user_id, Now());
}

Result<NewSession> AccountService::Login(const std::string& email, const std::string& password,
                                         const std::string& ip, const std::string& user_agent) {
  const std::int64_t now = Now();
  const std::int64_t hour_ago = now - 3'600'000;
  const std::string index = EmailIndex(NormaliseEmail(email));
  IV_ASSIGN_OR_RETURN(std::int64_t account_failures, store_.CountFailuresForAccount(index, hour_ago));
  IV_ASSIGN_OR_RETURN(std::int64_t ip_failures, store_.CountFailuresForIp(ip, hour_ago));
  if (account_failures >= options_.max_failures_per_account || ip_failures >= options_.max_failures_per_ip) {
    return Status::RateLimited("too many failed sign-ins; try again within the hour");
  }
  IV_ASSIGN_OR_RETURN(auto user, store_.FindUserByEmailIndex(index));
  // Verify against a throwaway hash for unknown addresses, so the answer
  // takes as long as for a real account.
  bool password_ok = infra::VerifyPassword(user ? user->password_hash : dummy_hash_, password);
  if (!user || !password_ok) {
    IV_RETURN_IF_ERROR(store_.RecordLoginFailure(index, ip, now));
    return Status::Unauthenticated("wrong email or password");
  }
  if (!user->email_verified_at) {
    return Status::PermissionDenied("confirm your email address first: follow the link in the mail we sent");
  }
  if (infra::PasswordNeedsRehash(user->password_hash, options_.password_policy)) {
    IV_ASSIGN_OR_RETURN(std::string rehashed, infra::HashPassword(password, options_.password_policy));
    IV_RETURN_IF_ERROR(store_.SetPasswordHash(user->id, rehashed));
  }
  // A new session every time: a token planted before sign-in (session
  // fixation) never becomes authenticated.
  NewSession out;
  out.token = infra::RandomToken();
  out.csrf_token = infra::RandomToken();
  out.session_id = infra::RandomId();
  SessionRecord s;
  s.id = out.session_id;
  s.token_hash = HashHex(out.token);
  s.user_id = user->id;
  s.csrf_token = out.csrf_token;
  s.created_at = now;
  s.last_seen_at = now;
  s.expires_at = now + std::chrono::duration_cast<std::chrono::milliseconds>(options_.absolute_timeout).count();
  s.device = ParseUserAgent(user_agent).Summary();
  IV_RETURN_IF_ERROR(store_.CreateSession(s));
  IV_ASSIGN_OR_RETURN(out.user, GetUser(user->id));
  return out;
}

Result<Authenticated> AccountService::Authenticate(const std::string& session_token) {
  if (session_token.empty()) return Status::Unauthenticated("sign in first");
  IV_ASSIGN_OR_RETURN(auto session, store_.FindSession(HashHex(session_token)));
  if (!session) return Status::Unauthenticated("sign in first");
  const std::int64_t now = Now();
  const std::int64_t idle = std::chrono::duration_cast<std::chrono::milliseconds>(options_.idle_timeout).count();
  if (now >= session->expires_at || now >= session->last_seen_at + idle) {
    IV_RETURN_IF_ERROR(store_.DeleteSession(session->id));
    return Status::Unauthenticated("your session has expired; sign in again");
  }
  // Writing on every request would make reads write; a minute's precision
  // is plenty for an idle timeout counted in days.
  if (now - session->last_seen_at > 60'000) IV_RETURN_IF_ERROR(store_.TouchSession(session->id, now));
  return Authenticated{session->user_id, session->id, session->csrf_token};
}

Status AccountService::Logout(const std::string& session_id) { return store_.DeleteSession(session_id); }

Result<UserView> AccountService::GetUser(const std::string& user_id) {
  IV_ASSIGN_OR_RETURN(auto user, store_.FindUser(user_id));
  if (!user) return Status::NotFound("no such user");
  IV_ASSIGN_OR_RETURN(infra::Key dek, UnwrapDataKey(keys_, *user));
  IV_ASSIGN_OR_RETURN(std::string email_sealed, infra::FromBase64(user->email_sealed));
  IV_ASSIGN_OR_RETURN(std::string name_sealed, infra::FromBase64(user->name_sealed));
  auto email = infra::Open(dek, email_sealed, AssociatedData(user->id, "email"));
  auto name = infra::Open(dek, name_sealed, AssociatedData(user->id, "name"));
  infra::Wipe(dek);
  IV_RETURN_IF_ERROR(email.status());
  IV_RETURN_IF_ERROR(name.status());
  return UserView{user->id, *name, *email, user->email_verified_at.has_value(), user->created_at};
}

Result<std::vector<SessionView>> AccountService::ListSessions(const std::string& user_id,
                                                              const std::string& current_session_id) {
  IV_ASSIGN_OR_RETURN(auto sessions, store_.ListSessions(user_id));
  std::vector<SessionView> out;
  for (const auto& s : sessions) {
    out.push_back({s.id, s.device, s.created_at, s.last_seen_at, s.id == current_session_id});
  }
  return out;
}

Status AccountService::RevokeSession(const std::string& user_id, const std::string& session_id) {
  IV_ASSIGN_OR_RETURN(auto sessions, store_.ListSessions(user_id));
  for (const auto& s : sessions) {
    if (s.id == session_id) return store_.DeleteSession(session_id);
  }
  return Status::NotFound("no such session");
}

}  // namespace iv::domain
