// Reading JSON request bodies the way API.md asks: malformed JSON is 400,
// unknown fields are rejected (so typos are caught, not ignored), and
// field-type problems are listed per field (422).
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "http/request.h"

namespace iv::http {

// The body as a JSON object whose keys are all in `allowed`.
// Errors: kInvalidArgument (not JSON, not an object) or a Validation status
// naming each unknown field.
Result<nlohmann::json> ParseJsonObject(const Request& req, const std::vector<std::string_view>& allowed);
inline Result<nlohmann::json> ParseJsonObject(const Request& req, std::initializer_list<std::string_view> allowed) {
  return ParseJsonObject(req, std::vector<std::string_view>(allowed));
}

// Typed field readers: absent -> nullopt; present with another type -> an
// entry in `errors` (and nullopt).
std::optional<std::string> StringField(const nlohmann::json& body, const char* name, std::vector<FieldError>* errors);
std::optional<bool> BoolField(const nlohmann::json& body, const char* name, std::vector<FieldError>* errors);

// The `limit` query parameter of a list: 1..100, default 20 (API.md).
Result<int> LimitParam(const Request& req);

}  // namespace iv::http
