#include "infra/sql_image_store.h"

#include "infra/page_cursor.h"

namespace iv::infra {

namespace {

constexpr const char* kColumns = "id, user_id, width, height, format, original_bytes, created_at";

Result<domain::ImageRecord> ImageFrom(const Row& r) {
  domain::ImageRecord i;
  IV_ASSIGN_OR_RETURN(i.id, r.Text(0));
  IV_ASSIGN_OR_RETURN(i.user_id, r.Text(1));
  IV_ASSIGN_OR_RETURN(std::int64_t w, r.Int(2));
  IV_ASSIGN_OR_RETURN(std::int64_t h, r.Int(3));
  i.width = static_cast<int>(w);
  i.height = static_cast<int>(h);
  IV_ASSIGN_OR_RETURN(i.format, r.Text(4));
  IV_ASSIGN_OR_RETURN(i.original_bytes, r.Int(5));
  IV_ASSIGN_OR_RETURN(i.created_at, r.Int(6));
  return i;
}

}  // namespace

Status SqlImageStore::Insert(const domain::ImageRecord& i) {
  IV_ASSIGN_OR_RETURN(PooledConnection c, db_.Acquire());
  return c->Exec(std::string("INSERT INTO images (") + kColumns + ") VALUES (?, ?, ?, ?, ?, ?, ?)",
                 {i.id, i.user_id, std::int64_t{i.width}, std::int64_t{i.height}, i.format, i.original_bytes,
                  i.created_at});
}

Result<std::optional<domain::ImageRecord>> SqlImageStore::Find(const std::string& user_id, const std::string& id) {
  IV_ASSIGN_OR_RETURN(PooledConnection c, db_.Acquire());
  IV_ASSIGN_OR_RETURN(auto rows, c->Query(std::string("SELECT ") + kColumns +
                                              " FROM images WHERE id = ? AND user_id = ?",
                                          {id, user_id}));
  if (rows.empty()) return std::optional<domain::ImageRecord>();
  IV_ASSIGN_OR_RETURN(auto image, ImageFrom(rows[0]));
  return std::optional<domain::ImageRecord>(std::move(image));
}

Result<domain::Page<domain::ImageRecord>> SqlImageStore::List(const std::string& user_id, int limit,
                                                              const std::string& cursor) {
  IV_ASSIGN_OR_RETURN(PooledConnection c, db_.Acquire());
  std::string sql = std::string("SELECT ") + kColumns + " FROM images WHERE user_id = ?";
  std::vector<SqlValue> params{user_id};
  IV_RETURN_IF_ERROR(AppendCursorCondition(cursor, &sql, &params));
  sql += " ORDER BY created_at DESC, id DESC LIMIT ?";
  params.push_back(std::int64_t{limit + 1});  // one more tells whether a next page exists
  IV_ASSIGN_OR_RETURN(auto rows, c->Query(sql, params));
  domain::Page<domain::ImageRecord> page;
  for (size_t i = 0; i < rows.size() && static_cast<int>(i) < limit; ++i) {
    IV_ASSIGN_OR_RETURN(auto image, ImageFrom(rows[i]));
    page.items.push_back(std::move(image));
  }
  if (static_cast<int>(rows.size()) > limit) {
    page.next_cursor = MakePageCursor(page.items.back().created_at, page.items.back().id);
  }
  return page;
}

Result<bool> SqlImageStore::Delete(const std::string& user_id, const std::string& id) {
  IV_ASSIGN_OR_RETURN(PooledConnection c, db_.Acquire());
  IV_ASSIGN_OR_RETURN(std::int64_t n, c->ExecCount("DELETE FROM images WHERE id = ? AND user_id = ?", {id, user_id}));
  return n > 0;
}

}  // namespace iv::infra
