// ImageStore: the rows describing uploaded images (the bytes live in the
// blob store, encrypted). Implemented by infra/sql_image_store.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace iv::domain {

struct ImageRecord {
  std::string id;
  std::string user_id;
  int width = 0;
  int height = 0;
  std::string format;  // of the original upload: "jpeg", "png", ...
  std::int64_t original_bytes = 0;
  std::int64_t created_at = 0;  // unix ms
};

// One page of a list, newest first; `next_cursor` continues it.
template <typename T>
struct Page {
  std::vector<T> items;
  std::optional<std::string> next_cursor;
};

class ImageStore {
 public:
  virtual ~ImageStore() = default;
  virtual Status Insert(const ImageRecord& image) = 0;
  // Only the owner's images are visible: another user's id is "not found".
  virtual Result<std::optional<ImageRecord>> Find(const std::string& user_id, const std::string& id) = 0;
  // Newest first; `cursor` is an opaque value from a previous page.
  virtual Result<Page<ImageRecord>> List(const std::string& user_id, int limit, const std::string& cursor) = 0;
  // True when a row was deleted.
  virtual Result<bool> Delete(const std::string& user_id, const std::string& id) = 0;
};

}  // namespace iv::domain
