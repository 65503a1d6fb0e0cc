// RenderSettings: everything a user chooses about how a photo moves and how
// the video is encoded, shared by the CLI (`imagevideo render`) and, later,
// the HTTP API (`POST /api/v1/videos`), so both validate the same way.
//
// Enum values are stored and sent over JSON by name (see settings_names.h);
// never rely on their numeric values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace iv::engine {

enum class CameraPreset { kStatic, kZoomIn, kZoomOut, kPanLeft, kPanRight, kPanUp, kPanDown, kKenBurns, kHandheld };
enum class Easing { kLinear, kEaseInOut, kEaseOut };
enum class Fit { kCover, kContain };
enum class VideoFormat { kMp4, kWebm, kGif };
enum class Quality { kDraft, kBalanced, kHigh };

// Output frame size: either a named height class ("1080p": the short side is
// 1080 px, the long side follows the aspect) or explicit pixels.
struct SizeSpec {
  int short_side = 1080;  // used when width/height are 0
  int width = 0;          // explicit size when both are > 0
  int height = 0;
  bool explicit_pixels() const { return width > 0 && height > 0; }
};

// Aspect ratio of the output frame; num == 0 means "same as the source".
struct AspectSpec {
  int num = 16;
  int den = 9;
  bool from_source() const { return num == 0; }
};

struct RenderSettings {
  CameraPreset camera = CameraPreset::kZoomIn;
  // 0..1: how strong the move is. 0 is a still frame, 1 the strongest move the
  // preset allows (see camera_path.h for what each preset does with it).
  double intensity = 0.5;
  Easing easing = Easing::kEaseInOut;
  double duration_s = 5.0;  // 1..20 seconds
  int fps = 30;             // 12..60 frames per second
  SizeSpec size;
  AspectSpec aspect;
  // cover: the frame is filled, the photo cropped. contain: the whole photo is
  // shown, the bars filled with a blurred, dimmed copy of it.
  Fit fit = Fit::kCover;
  VideoFormat format = VideoFormat::kMp4;
  Quality quality = Quality::kBalanced;
  // The camera returns to its first pose so the video loops without a seam.
  bool loop = false;
  // Varies the random parts of a move (handheld shake); same seed, same video.
  std::uint64_t seed = 0;
};

using iv::FieldError;

// Limits, written once here and used by the CLI, the API and the docs.
inline constexpr double kMinDurationS = 1.0;
inline constexpr double kMaxDurationS = 20.0;
inline constexpr int kMinFps = 12;
inline constexpr int kMaxFps = 60;
inline constexpr int kMinSide = 64;     // smallest output side in pixels
inline constexpr int kMaxSide = 4096;   // largest output side: 4K DCI width
inline constexpr int kMaxGifSide = 1080;  // GIFs beyond this are huge and slow

// All problems with `settings`, empty when they are valid.
std::vector<FieldError> Validate(const RenderSettings& settings);

// Output size in pixels for a source of src_w x src_h, rounded down to even
// numbers (yuv420p needs them). Precondition: Validate() passed.
struct FrameSize {
  int width = 0;
  int height = 0;
};
FrameSize ResolveFrameSize(const RenderSettings& settings, int src_w, int src_h);

// Number of frames the video will have.
int FrameCount(const RenderSettings& settings);

}  // namespace iv::engine
