// ImageStore on the SQL layer (SQLite and PostgreSQL alike).
#pragma once

#include "domain/image_store.h"
#include "infra/database.h"

namespace iv::infra {

class SqlImageStore final : public domain::ImageStore {
 public:
  explicit SqlImageStore(Database& db) : db_(db) {}
  Status Insert(const domain::ImageRecord& image) override;
  Result<std::optional<domain::ImageRecord>> Find(const std::string& user_id, const std::string& id) override;
  Result<domain::Page<domain::ImageRecord>> List(const std::string& user_id, int limit,
                                                 const std::string& cursor) override;
  Result<bool> Delete(const std::string& user_id, const std::string& id) override;

 private:
  Database& db_;
};

}  // namespace iv::infra
