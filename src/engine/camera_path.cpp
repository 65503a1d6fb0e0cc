#include "engine/camera_path.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>

#include "engine/easing.h"

namespace iv::engine {

namespace {

// Tuning of the presets; see the table in camera_path.h.
constexpr double kZoomPerIntensity = 0.5;
constexpr double kPanZoomPerIntensity = 0.25;
constexpr double kPanMaxViewsPerIntensity = 2.0;
constexpr double kShakeOffsetPerIntensity = 0.015;  // fraction of the view
constexpr double kShakeRotationPerIntensity = 0.8 * std::numbers::pi / 180.0;
// Handheld shake is three sines per axis, near these frequencies (Hz): slow
// sway, a quicker wobble, a faint tremor, weighted like 1/f noise so the
// motion looks like a person holding a camera rather than a vibration.
constexpr double kShakeHz[3] = {0.25, 0.45, 0.8};
constexpr double kShakeWeight[3] = {1.0, 0.45, 0.2};

// SplitMix64: tiny, portable, and the same on every platform (std::
// distributions are implementation-defined, which would break determinism).
class SeededRandom {
 public:
  explicit SeededRandom(std::uint64_t seed) : state_(seed) {}
  double Uniform() {  // [0, 1)
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return static_cast<double>(z >> 11) * 0x1.0p-53;
  }

 private:
  std::uint64_t state_;
};

// A smooth periodic signal in [-1, 1] with period `period_s`: whole cycles
// only, so a video of that length loops without a seam.
class Shake {
 public:
  Shake(SeededRandom& rng, double period_s) : period_s_(period_s) {
    for (int j = 0; j < 3; ++j) {
      double hz = kShakeHz[j] * (0.7 + 0.6 * rng.Uniform());
      cycles_[j] = std::max(1.0, std::round(hz * period_s));
      phase_[j] = 2.0 * std::numbers::pi * rng.Uniform();
    }
  }
  double At(double time_s) const {
    double sum = 0, weights = 0;
    for (int j = 0; j < 3; ++j) {
      sum += kShakeWeight[j] * std::sin(2.0 * std::numbers::pi * cycles_[j] * time_s / period_s_ + phase_[j]);
      weights += kShakeWeight[j];
    }
    return sum / weights;
  }

 private:
  double period_s_;
  double cycles_[3] = {};
  double phase_[3] = {};
};

// Half the axis-aligned extent of the view rectangle at `pose`.
void HalfExtents(const CameraStage& st, const CameraPose& pose, double* hx, double* hy) {
  double vw = st.base_w / pose.zoom, vh = st.base_h / pose.zoom;
  double c = std::abs(std::cos(pose.rotation)), s = std::abs(std::sin(pose.rotation));
  *hx = (vw * c + vh * s) / 2;
  *hy = (vw * s + vh * c) / 2;
}

// Keeps the view inside the canvas (no bars appear in cover mode). Presets
// are designed to stay inside; this only guards rounding and extreme aspects.
void ClampToCanvas(const CameraStage& st, CameraPose* pose) {
  double hx, hy;
  HalfExtents(st, *pose, &hx, &hy);
  if (2 * hx <= st.canvas_w) pose->cx = std::clamp(pose->cx, st.canvas_x + hx, st.canvas_x + st.canvas_w - hx);
  if (2 * hy <= st.canvas_h) pose->cy = std::clamp(pose->cy, st.canvas_y + hy, st.canvas_y + st.canvas_h - hy);
}

// Smallest zoom that keeps a view shaken by `offset` (fraction of the view)
// and turned by up to `angle` inside the base view.
double ZoomForShake(const CameraStage& st, double offset, double angle) {
  double c = std::cos(angle), s = std::sin(angle);
  double zx = (st.base_w * c + st.base_h * s) / (st.base_w * (1 - 2 * offset));
  double zy = (st.base_w * s + st.base_h * c) / (st.base_h * (1 - 2 * offset));
  return std::max({1.0, zx, zy});
}

}  // namespace

CameraStage MakeStage(Fit fit, double src_w, double src_h, double frame_aspect) {
  CameraStage st;
  st.source_w = src_w;
  st.source_h = src_h;
  bool wider = src_w / src_h > frame_aspect;
  if (fit == Fit::kCover) {
    st.canvas_w = src_w;
    st.canvas_h = src_h;
    st.base_w = wider ? src_h * frame_aspect : src_w;
    st.base_h = wider ? src_h : src_w / frame_aspect;
  } else {
    st.canvas_w = wider ? src_w : src_h * frame_aspect;
    st.canvas_h = wider ? src_w / frame_aspect : src_h;
    st.canvas_x = (src_w - st.canvas_w) / 2;
    st.canvas_y = (src_h - st.canvas_h) / 2;
    st.base_w = st.canvas_w;
    st.base_h = st.canvas_h;
  }
  return st;
}

double CameraPath::PresetZoom(CameraPreset camera, double intensity) {
  switch (camera) {
    case CameraPreset::kZoomIn:
    case CameraPreset::kZoomOut:
    case CameraPreset::kKenBurns:
      return 1.0 + kZoomPerIntensity * intensity;
    default:
      return 1.0;
  }
}

CameraPath::CameraPath(const RenderSettings& settings, const CameraStage& st, Point2 salient) {
  const int n = FrameCount(settings);
  const double intensity = settings.intensity;
  const double cx0 = st.canvas_x + st.canvas_w / 2, cy0 = st.canvas_y + st.canvas_h / 2;
  const double zoom_max = PresetZoom(settings.camera, intensity);
  const double pan_zoom = 1.0 + kPanZoomPerIntensity * intensity;
  const double shake_offset = kShakeOffsetPerIntensity * intensity;
  const double shake_angle = kShakeRotationPerIntensity * intensity;
  const double shake_zoom = ZoomForShake(st, shake_offset, shake_angle);

  // Ken Burns target: the salient point, pulled in so the final view fits.
  double target_x = cx0, target_y = cy0;
  if (settings.camera == CameraPreset::kKenBurns) {
    double end_hw = st.base_w / zoom_max / 2, end_hh = st.base_h / zoom_max / 2;
    target_x = std::clamp(salient.x * st.source_w, st.canvas_x + end_hw,
                          st.canvas_x + st.canvas_w - end_hw);
    target_y = std::clamp(salient.y * st.source_h, st.canvas_y + end_hh,
                          st.canvas_y + st.canvas_h - end_hh);
    // The drift grows with intensity like the zoom does, so intensity 0 is
    // a still frame here too; from 0.5 on it reaches the target.
    double reach = std::min(1.0, 2.0 * intensity);
    target_x = cx0 + (target_x - cx0) * reach;
    target_y = cy0 + (target_y - cy0) * reach;
  }

  // Pan travel along x (pan-left/right) or y (pan-up/down).
  const double pan_room_x = st.canvas_w - st.base_w / pan_zoom;
  const double pan_room_y = st.canvas_h - st.base_h / pan_zoom;
  const double travel_x = std::min(pan_room_x, kPanMaxViewsPerIntensity * intensity * st.base_w / pan_zoom);
  const double travel_y = std::min(pan_room_y, kPanMaxViewsPerIntensity * intensity * st.base_h / pan_zoom);

  SeededRandom rng(settings.seed);
  const double period_s = static_cast<double>(n) / settings.fps;
  Shake shake_x(rng, period_s), shake_y(rng, period_s), shake_r(rng, period_s);

  poses_.reserve(n);
  for (int i = 0; i < n; ++i) {
    // Progress through the move: first frame 0, last frame 1; a loop goes
    // out and back, and its frame n would equal frame 0.
    double t = settings.loop ? static_cast<double>(i) / n : (n > 1 ? static_cast<double>(i) / (n - 1) : 0.0);
    double u = settings.loop ? 1.0 - std::abs(1.0 - 2.0 * t) : t;
    double e = Ease(settings.easing, u);
    double time_s = static_cast<double>(i) / settings.fps;

    CameraPose p{cx0, cy0, 1.0, 0.0};
    switch (settings.camera) {
      case CameraPreset::kStatic:
        break;
      case CameraPreset::kZoomIn:
        p.zoom = std::pow(zoom_max, e);
        break;
      case CameraPreset::kZoomOut:
        p.zoom = std::pow(zoom_max, 1.0 - e);
        break;
      case CameraPreset::kPanLeft:
        p.zoom = pan_zoom;
        p.cx = cx0 + travel_x / 2 - travel_x * e;
        break;
      case CameraPreset::kPanRight:
        p.zoom = pan_zoom;
        p.cx = cx0 - travel_x / 2 + travel_x * e;
        break;
      case CameraPreset::kPanUp:
        p.zoom = pan_zoom;
        p.cy = cy0 + travel_y / 2 - travel_y * e;
        break;
      case CameraPreset::kPanDown:
        p.zoom = pan_zoom;
        p.cy = cy0 - travel_y / 2 + travel_y * e;
        break;
      case CameraPreset::kKenBurns:
        p.zoom = std::pow(zoom_max, e);
        p.cx = cx0 + (target_x - cx0) * e;
        p.cy = cy0 + (target_y - cy0) * e;
        break;
      case CameraPreset::kHandheld:
        p.zoom = shake_zoom;
        p.cx = cx0 + shake_offset * st.base_w * shake_x.At(time_s);
        p.cy = cy0 + shake_offset * st.base_h * shake_y.At(time_s);
        p.rotation = shake_angle * shake_r.At(time_s);
        break;
    }
    ClampToCanvas(st, &p);
    max_zoom_ = std::max(max_zoom_, p.zoom);
    poses_.push_back(p);
  }
}

}  // namespace iv::engine
