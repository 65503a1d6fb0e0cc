// Keyset pagination cursors for lists ordered newest first: the cursor
// names the last item shown ("<created_at>.<id>", base64 so clients treat it
// as opaque), and the next page continues strictly after it, so rows added
// meanwhile neither repeat nor vanish.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "infra/database.h"

namespace iv::infra {

std::string MakePageCursor(std::int64_t created_at, const std::string& id);

// Appends " AND (created_at < ? OR (created_at = ? AND id < ?))" and its
// parameters for `cursor`; nothing for an empty cursor. A cursor that is not
// one of ours is a Validation error on field "cursor".
Status AppendCursorCondition(const std::string& cursor, std::string* sql, std::vector<SqlValue>* params);

}  // namespace iv::infra
