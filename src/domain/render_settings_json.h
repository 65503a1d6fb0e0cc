// RenderSettings as JSON, the way POST /api/v1/videos takes them and the
// video resource shows them ("camera": "zoom-in", "duration_s": 5, ...).
// Every field but image_id is optional and defaults as in the CLI.
#pragma once

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "engine/render_settings.h"

namespace iv::domain {

// The settings fields a request may carry (besides image_id).
const std::vector<std::string>& SettingsFields();

// A Validation status names each bad field with the API's field names.
Result<engine::RenderSettings> SettingsFromJson(const nlohmann::json& body);
nlohmann::json SettingsToJson(const engine::RenderSettings& settings);

}  // namespace iv::domain
