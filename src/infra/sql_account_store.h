// AccountStore on the SQL layer; the same statements run on SQLite and
// PostgreSQL.
#pragma once

#include "domain/account_store.h"
#include "infra/database.h"

namespace iv::infra {

class SqlAccountStore final : public domain::AccountStore {
 public:
  explicit SqlAccountStore(Database& db) : db_(db) {}

  Status CreateUser(const domain::UserRecord& user, const domain::EmailTokenRecord& token,
                    const domain::OutboxRecord& mail) override;
  Result<std::optional<domain::UserRecord>> FindUser(const std::string& id) override;
  Result<std::optional<domain::UserRecord>> FindUserByEmailIndex(const std::string& email_index) override;
  Status SetPasswordHash(const std::string& user_id, const std::string& hash) override;
  Status AddToken(const domain::EmailTokenRecord& token, const domain::OutboxRecord& mail) override;
  Result<std::optional<std::string>> TakeToken(const std::string& token_hash, domain::TokenPurpose purpose,
                                               std::int64_t now) override;
  Status MarkEmailVerified(const std::string& user_id, std::int64_t at) override;
  Status CreateSession(const domain::SessionRecord& session) override;
  Result<std::optional<domain::SessionRecord>> FindSession(const std::string& token_hash) override;
  Status TouchSession(const std::string& session_id, std::int64_t at) override;
  Status DeleteSession(const std::string& session_id) override;
  Status DeleteSessionsOf(const std::string& user_id) override;
  Result<std::vector<domain::SessionRecord>> ListSessions(const std::string& user_id) override;
  Status RecordLoginFailure(const std::string& email_index, const std::string& ip, std::int64_t at) override;
  Result<std::int64_t> CountFailuresForAccount(const std::string& email_index, std::int64_t since) override;
  Result<std::int64_t> CountFailuresForIp(const std::string& ip, std::int64_t since) override;
  Status EnqueueMail(const domain::OutboxRecord& mail) override;
  Result<std::vector<domain::OutboxRecord>> PendingMail(int limit) override;
  Status MarkMailSent(const std::string& id, std::int64_t at) override;

 private:
  Database& db_;
};

}  // namespace iv::infra
