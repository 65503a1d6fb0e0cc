#include "engine/settings_names.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <utility>

namespace iv::engine {

namespace {

template <typename E, std::size_t N>
using Table = std::array<std::pair<E, std::string_view>, N>;

constexpr Table<CameraPreset, 9> kCameras{{
    {CameraPreset::kStatic, "static"},
    {CameraPreset::kZoomIn, "zoom-in"},
    {CameraPreset::kZoomOut, "zoom-out"},
    {CameraPreset::kPanLeft, "pan-left"},
    {CameraPreset::kPanRight, "pan-right"},
    {CameraPreset::kPanUp, "pan-up"},
    {CameraPreset::kPanDown, "pan-down"},
    {CameraPreset::kKenBurns, "ken-burns"},
    {CameraPreset::kHandheld, "handheld"},
}};
constexpr Table<Easing, 3> kEasings{{
    {Easing::kLinear, "linear"},
    {Easing::kEaseInOut, "ease-in-out"},
    {Easing::kEaseOut, "ease-out"},
}};
constexpr Table<Fit, 2> kFits{{{Fit::kCover, "cover"}, {Fit::kContain, "contain"}}};
constexpr Table<VideoFormat, 3> kFormats{{
    {VideoFormat::kMp4, "mp4"},
    {VideoFormat::kWebm, "webm"},
    {VideoFormat::kGif, "gif"},
}};
constexpr Table<Quality, 3> kQualities{{
    {Quality::kDraft, "draft"},
    {Quality::kBalanced, "balanced"},
    {Quality::kHigh, "high"},
}};

template <typename E, std::size_t N>
std::string_view NameIn(const Table<E, N>& table, E v) {
  for (const auto& [value, name] : table)
    if (value == v) return name;
  return "?";
}

template <typename E, std::size_t N>
bool ParseIn(const Table<E, N>& table, std::string_view s, E* out) {
  for (const auto& [value, name] : table) {
    if (name == s) {
      *out = value;
      return true;
    }
  }
  return false;
}

template <typename E, std::size_t N>
std::string NamesIn(const Table<E, N>& table) {
  std::string all;
  for (const auto& [value, name] : table) {
    if (!all.empty()) all += " | ";
    all += name;
  }
  return all;
}

// Parses "<int><sep><int>" with both numbers positive.
bool ParsePair(std::string_view s, char sep, int* a, int* b) {
  auto pos = s.find(sep);
  if (pos == std::string_view::npos) return false;
  auto left = s.substr(0, pos), right = s.substr(pos + 1);
  auto r1 = std::from_chars(left.data(), left.data() + left.size(), *a);
  auto r2 = std::from_chars(right.data(), right.data() + right.size(), *b);
  return r1.ec == std::errc() && r1.ptr == left.data() + left.size() && r2.ec == std::errc() &&
         r2.ptr == right.data() + right.size() && *a > 0 && *b > 0;
}

}  // namespace

std::string_view Name(CameraPreset v) { return NameIn(kCameras, v); }
std::string_view Name(Easing v) { return NameIn(kEasings, v); }
std::string_view Name(Fit v) { return NameIn(kFits, v); }
std::string_view Name(VideoFormat v) { return NameIn(kFormats, v); }
std::string_view Name(Quality v) { return NameIn(kQualities, v); }

bool Parse(std::string_view s, CameraPreset* out) { return ParseIn(kCameras, s, out); }
bool Parse(std::string_view s, Easing* out) { return ParseIn(kEasings, s, out); }
bool Parse(std::string_view s, Fit* out) { return ParseIn(kFits, s, out); }
bool Parse(std::string_view s, VideoFormat* out) { return ParseIn(kFormats, s, out); }
bool Parse(std::string_view s, Quality* out) { return ParseIn(kQualities, s, out); }

std::string CameraNames() { return NamesIn(kCameras); }
std::string EasingNames() { return NamesIn(kEasings); }
std::string FitNames() { return NamesIn(kFits); }
std::string FormatNames() { return NamesIn(kFormats); }
std::string QualityNames() { return NamesIn(kQualities); }

bool ParseSize(std::string_view s, SizeSpec* out) {
  static constexpr std::pair<std::string_view, int> kNamed[] = {
      {"480p", 480}, {"720p", 720}, {"1080p", 1080}, {"1440p", 1440}, {"4k", 2160}, {"2160p", 2160}};
  for (const auto& [name, side] : kNamed) {
    if (s == name) {
      *out = SizeSpec{side, 0, 0};
      return true;
    }
  }
  int w = 0, h = 0;
  if (!ParsePair(s, 'x', &w, &h)) return false;
  *out = SizeSpec{0, w, h};
  return true;
}

bool ParseAspect(std::string_view s, AspectSpec* out) {
  if (s == "source") {
    *out = AspectSpec{0, 0};
    return true;
  }
  int n = 0, d = 0;
  if (!ParsePair(s, ':', &n, &d)) return false;
  *out = AspectSpec{n, d};
  return true;
}

std::string SizeName(const SizeSpec& v) {
  if (v.explicit_pixels()) return std::to_string(v.width) + "x" + std::to_string(v.height);
  if (v.short_side == 2160) return "4k";
  return std::to_string(v.short_side) + "p";
}

std::string AspectName(const AspectSpec& v) {
  if (v.from_source()) return "source";
  return std::to_string(v.num) + ":" + std::to_string(v.den);
}

bool FormatFromPath(std::string_view path, VideoFormat* out) {
  auto dot = path.rfind('.');
  if (dot == std::string_view::npos || path.find('/', dot) != std::string_view::npos) return false;
  std::string ext(path.substr(dot + 1));
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == "m4v") ext = "mp4";
  return Parse(ext, out);
}

}  // namespace iv::engine
