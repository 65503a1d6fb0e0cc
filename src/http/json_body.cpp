#include "http/json_body.h"

#include <algorithm>

namespace iv::http {

Result<nlohmann::json> ParseJsonObject(const Request& req, const std::vector<std::string_view>& allowed) {
  nlohmann::json body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return Status::InvalidArgument("the request body is not valid JSON");
  if (!body.is_object()) return Status::InvalidArgument("the request body must be a JSON object");
  std::vector<FieldError> unknown;
  for (const auto& [key, value] : body.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      unknown.push_back({key, "is not a field of this request"});
    }
  }
  if (!unknown.empty()) return Status::Validation(std::move(unknown));
  return body;
}

std::optional<std::string> StringField(const nlohmann::json& body, const char* name, std::vector<FieldError>* errors) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) {
    errors->push_back({name, "must be a string"});
    return std::nullopt;
  }
  return it->get<std::string>();
}

std::optional<bool> BoolField(const nlohmann::json& body, const char* name, std::vector<FieldError>* errors) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) {
    errors->push_back({name, "must be true or false"});
    return std::nullopt;
  }
  return it->get<bool>();
}

Result<int> LimitParam(const Request& req) {
  auto v = req.Query("limit");
  if (!v) return 20;
  try {
    size_t used = 0;
    int n = std::stoi(*v, &used);
    if (used == v->size() && n >= 1 && n <= 100) return n;
  } catch (...) {
  }
  return Status::Validation({{"limit", "must be a whole number from 1 to 100"}});
}

}  // namespace iv::http
