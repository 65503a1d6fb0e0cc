#include "infra/page_cursor.h"

#include "infra/crypto.h"

namespace iv::infra {

std::string MakePageCursor(std::int64_t created_at, const std::string& id) {
  return Base64(std::to_string(created_at) + "." + id);
}

Status AppendCursorCondition(const std::string& cursor, std::string* sql, std::vector<SqlValue>* params) {
  if (cursor.empty()) return Status::Ok();
  Status bad = Status::Validation({{"cursor", "is not a cursor from this list"}});
  auto raw = FromBase64(cursor);
  if (!raw.ok()) return bad;
  auto dot = raw->find('.');
  if (dot == std::string::npos || dot == 0) return bad;
  std::int64_t at = 0;
  try {
    size_t used = 0;
    at = std::stoll(raw->substr(0, dot), &used);
    if (used != dot) return bad;
  } catch (...) {
    return bad;
  }
  *sql += " AND (created_at < ? OR (created_at = ? AND id < ?))";
  params->insert(params->end(), {at, at, raw->substr(dot + 1)});
  return Status::Ok();
}

}  // namespace iv::infra
