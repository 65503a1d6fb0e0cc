#include "domain/render_settings_json.h"

#include "engine/settings_names.h"

namespace iv::domain {

namespace {

// Reads a named enum field; an unknown name is reported with the choices.
template <typename E>
void ReadName(const nlohmann::json& body, const char* field, E* out, const std::string& choices,
              std::vector<FieldError>* errors) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return;
  if (!it->is_string() || !engine::Parse(it->get<std::string>(), out)) {
    errors->push_back({field, "must be one of " + choices});
  }
}

template <typename T>
void ReadNumber(const nlohmann::json& body, const char* field, T* out, std::vector<FieldError>* errors) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return;
  if (!it->is_number() || (std::is_integral_v<T> && !it->is_number_integer()) ||
      (std::is_unsigned_v<T> && !it->is_number_unsigned())) {
    errors->push_back({field, std::is_unsigned_v<T>   ? "must be a whole number from 0"
                              : std::is_integral_v<T> ? "must be a whole number"
                                                      : "must be a number"});
    return;
  }
  *out = it->get<T>();
}

}  // namespace

const std::vector<std::string>& SettingsFields() {
  static const std::vector<std::string> fields = {"camera", "intensity", "easing",  "duration_s", "fps",
                                                  "size",   "aspect",    "fit",     "format",     "quality",
                                                  "loop",   "seed"};
  return fields;
}

Result<engine::RenderSettings> SettingsFromJson(const nlohmann::json& body) {
  engine::RenderSettings s;
  std::vector<FieldError> errors;
  ReadName(body, "camera", &s.camera, engine::CameraNames(), &errors);
  ReadName(body, "easing", &s.easing, engine::EasingNames(), &errors);
  ReadName(body, "fit", &s.fit, engine::FitNames(), &errors);
  ReadName(body, "format", &s.format, engine::FormatNames(), &errors);
  ReadName(body, "quality", &s.quality, engine::QualityNames(), &errors);
  ReadNumber(body, "intensity", &s.intensity, &errors);
  ReadNumber(body, "duration_s", &s.duration_s, &errors);
  ReadNumber(body, "fps", &s.fps, &errors);
  ReadNumber(body, "seed", &s.seed, &errors);
  if (auto it = body.find("size"); it != body.end() && !it->is_null()) {
    if (!it->is_string() || !engine::ParseSize(it->get<std::string>(), &s.size)) {
      errors.push_back({"size", "must be 480p, 720p, 1080p, 1440p, 4k or WxH"});
    }
  }
  if (auto it = body.find("aspect"); it != body.end() && !it->is_null()) {
    if (!it->is_string() || !engine::ParseAspect(it->get<std::string>(), &s.aspect)) {
      errors.push_back({"aspect", "must be like 16:9, or source"});
    }
  }
  if (auto it = body.find("loop"); it != body.end() && !it->is_null()) {
    if (!it->is_boolean()) errors.push_back({"loop", "must be true or false"});
    else s.loop = it->get<bool>();
  }
  if (errors.empty()) errors = engine::Validate(s);
  if (!errors.empty()) return Status::Validation(std::move(errors));
  return s;
}

nlohmann::json SettingsToJson(const engine::RenderSettings& s) {
  return {{"camera", engine::Name(s.camera)},   {"intensity", s.intensity},
          {"easing", engine::Name(s.easing)},   {"duration_s", s.duration_s},
          {"fps", s.fps},                       {"size", engine::SizeName(s.size)},
          {"aspect", engine::AspectName(s.aspect)}, {"fit", engine::Name(s.fit)},
          {"format", engine::Name(s.format)},   {"quality", engine::Name(s.quality)},
          {"loop", s.loop},                     {"seed", s.seed}};
}

}  // namespace iv::domain
