#include "engine/render_settings.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace iv::engine {

namespace {

std::string Fmt(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

}  // namespace

std::vector<FieldError> Validate(const RenderSettings& s) {
  std::vector<FieldError> errors;
  if (!(s.intensity >= 0.0 && s.intensity <= 1.0)) {
    errors.push_back({"intensity", "must be between 0 and 1 (got " + Fmt(s.intensity) + ")"});
  }
  if (!(s.duration_s >= kMinDurationS && s.duration_s <= kMaxDurationS)) {
    errors.push_back({"duration_s", "must be between " + Fmt(kMinDurationS) + " and " + Fmt(kMaxDurationS) +
                                        " seconds (got " + Fmt(s.duration_s) + ")"});
  }
  if (s.fps < kMinFps || s.fps > kMaxFps) {
    errors.push_back({"fps", "must be between " + std::to_string(kMinFps) + " and " + std::to_string(kMaxFps) +
                                 " (got " + std::to_string(s.fps) + ")"});
  }
  const int max_side = s.format == VideoFormat::kGif ? kMaxGifSide : kMaxSide;
  const std::string side_range = "between " + std::to_string(kMinSide) + " and " + std::to_string(max_side) +
                                 " pixels" + (s.format == VideoFormat::kGif ? " for GIF" : "");
  if (s.size.explicit_pixels()) {
    if (s.size.width < kMinSide || s.size.width > max_side || s.size.height < kMinSide ||
        s.size.height > max_side) {
      errors.push_back({"size", "width and height must be " + side_range + " (got " +
                                    std::to_string(s.size.width) + "x" + std::to_string(s.size.height) + ")"});
    }
  } else if (s.size.short_side < kMinSide || s.size.short_side > max_side) {
    errors.push_back({"size", "must be " + side_range + " (got " + std::to_string(s.size.short_side) + "p)"});
  }
  if (!s.aspect.from_source()) {
    if (s.aspect.num <= 0 || s.aspect.den <= 0) {
      errors.push_back({"aspect", "must be two positive numbers like 16:9"});
    } else {
      double r = static_cast<double>(s.aspect.num) / s.aspect.den;
      if (r < 0.25 || r > 4.0) errors.push_back({"aspect", "must be between 1:4 and 4:1"});
    }
  }
  return errors;
}

namespace {

int EvenFloor(double v) { return std::max(2, static_cast<int>(std::floor(v / 2.0)) * 2); }
int EvenRound(double v) { return std::max(2, static_cast<int>(std::lround(v / 2.0)) * 2); }

}  // namespace

FrameSize ResolveFrameSize(const RenderSettings& s, int src_w, int src_h) {
  if (s.size.explicit_pixels()) return {EvenFloor(s.size.width), EvenFloor(s.size.height)};
  double ratio = s.aspect.from_source() ? static_cast<double>(src_w) / src_h
                                        : static_cast<double>(s.aspect.num) / s.aspect.den;
  const int max_side = s.format == VideoFormat::kGif ? kMaxGifSide : kMaxSide;
  double short_side = s.size.short_side;
  double w = ratio >= 1.0 ? short_side * ratio : short_side;
  double h = ratio >= 1.0 ? short_side : short_side / ratio;
  // A very wide or tall aspect would push the long side past the limit: shrink
  // both sides together so the aspect is kept.
  double over = std::max(w, h) / max_side;
  if (over > 1.0) {
    w /= over;
    h /= over;
  }
  return {EvenRound(w), EvenRound(h)};
}

int FrameCount(const RenderSettings& s) { return std::max(1, static_cast<int>(std::lround(s.duration_s * s.fps))); }

}  // namespace iv::engine
