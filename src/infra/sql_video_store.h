// VideoStore on the SQL layer. Claims use FOR UPDATE SKIP LOCKED on
// PostgreSQL (many workers, no waiting on each other) and a single UPDATE
// inside SQLite's write lock.
#pragma once

#include "domain/video_store.h"
#include "infra/database.h"

namespace iv::infra {

class SqlVideoStore final : public domain::VideoStore {
 public:
  explicit SqlVideoStore(Database& db) : db_(db) {}
  Status Insert(const domain::VideoRecord& video) override;
  Result<std::optional<domain::VideoRecord>> Find(const std::string& user_id, const std::string& id) override;
  Result<domain::Page<domain::VideoRecord>> List(const std::string& user_id, int limit,
                                                 const std::string& cursor) override;
  Result<bool> Cancel(const std::string& user_id, const std::string& id, std::int64_t now) override;
  Result<bool> Delete(const std::string& user_id, const std::string& id) override;
  Result<std::int64_t> CountActive(const std::string& user_id) override;
  Result<std::int64_t> QueuePosition(const domain::VideoRecord& video) override;
  Result<std::optional<domain::VideoRecord>> Claim(const std::string& worker, std::int64_t now,
                                                   std::int64_t lease_ms) override;
  Result<bool> Heartbeat(const std::string& id, const std::string& worker, double progress, std::int64_t now,
                         std::int64_t lease_ms) override;
  Result<bool> Succeed(const std::string& id, const std::string& worker, std::int64_t file_bytes,
                       std::int64_t now) override;
  Result<bool> Fail(const std::string& id, const std::string& worker, const std::string& title,
                    const std::string& detail, std::int64_t now) override;
  Result<bool> Release(const std::string& id, const std::string& worker) override;
  Result<std::int64_t> RecoverExpired(std::int64_t now, std::int64_t backoff_ms, int max_attempts) override;

 private:
  Database& db_;
};

}  // namespace iv::infra
