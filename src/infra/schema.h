// The product's database schema, as versioned migrations (see migrations.h).
// Versions are never edited once released: a change is a new migration.
//
// Conventions: ids are random text (crypto.h RandomId); times are BIGINT
// milliseconds since the Unix epoch; binary data (sealed columns) is base64
// text; booleans are INTEGER 0/1. Every row that belongs to a user references
// users(id) ON DELETE CASCADE, so deleting a user cannot leave rows behind.
#pragma once

#include <vector>

#include "infra/migrations.h"

namespace iv::infra {

const std::vector<Migration>& SchemaMigrations();

}  // namespace iv::infra
