// RenderVideoFile: the whole "photo in, video file out" use case, shared by
// `imagevideo render` and (later) the service's workers.
//
// Decode once (shrunk while decoding to the resolution the camera can use),
// plan, then render frames on all cores while the encoder consumes them in
// order. Memory is bounded by the decoded source, its pyramid and a small
// window of frames in flight, whatever the input size.
//
// The video is written to a temporary file next to the output and renamed
// into place only when complete: on any failure or cancellation nothing is
// left at the output path (and a file already there is untouched).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "common/status.h"
#include "engine/render_settings.h"
#include "media/image_decoder.h"

namespace iv::app {

struct RenderRequest {
  std::string input_path;
  std::string output_path;
  engine::RenderSettings settings;
  media::DecodeLimits limits;
  // Threads for rendering and for the encoder; 0 = one per core. The same
  // value gives byte-identical output for the same input and settings.
  int threads = 0;
};

struct RenderSummary {
  std::string output_path;
  engine::VideoFormat format = engine::VideoFormat::kMp4;
  int width = 0;
  int height = 0;
  int fps = 0;
  int frames = 0;
  double duration_s = 0;
  std::uint64_t bytes = 0;
  double wall_s = 0;  // how long the render took
};

// Called from the calling thread with the fraction done, 0..1.
using ProgressFn = std::function<void(double fraction)>;

// Errors: kInvalidArgument (settings, output path), kNotFound,
// kUnsupportedMedia, kTooLarge (input), kCanceled (when *cancel became true),
// kInternal (encoder or other failures that are not the caller's).
Result<RenderSummary> RenderVideoFile(const RenderRequest& request, const ProgressFn& progress = nullptr,
                                      const std::atomic<bool>* cancel = nullptr);

}  // namespace iv::app
