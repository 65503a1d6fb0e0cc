// FrameRenderer: draws the frames of a RenderPlan from a decoded photo.
//
// Each output pixel is sampled from the source at the exact (sub-pixel)
// position the plan gives, bilinear or bicubic. Frames come out as RGB
// (for GIF and tests) or straight as Y'CbCr 4:2:0 for the video encoders:
// the source is converted once, so no frame needs a colour conversion. Where the camera sees the
// source reduced (more than one source pixel per output pixel), sampling
// reads from a Gaussian pyramid level and blends two levels (trilinear), so
// fine detail does not alias into shimmer and no level switch pops.
// With fit=contain, areas outside the photo show a blurred, dimmed copy of
// it, and the photo's edge is anti-aliased.
//
// Thread-safety: after construction Render() may be called concurrently from
// any number of threads (it only reads shared state).
#pragma once

#include <memory>

#include "engine/image.h"
#include "engine/render_plan.h"

namespace iv::engine {

enum class PixelLayout { kRgb, kYuv420 };

class FrameRenderer {
 public:
  // `source` is RGB of plan.source_width x plan.source_height; it is copied
  // into the pyramid, so the caller may free it afterwards. `layout` says
  // which of the Render functions will be used.
  FrameRenderer(const Image& source, const RenderPlan& plan, PixelLayout layout = PixelLayout::kRgb);
  ~FrameRenderer();
  FrameRenderer(const FrameRenderer&) = delete;
  FrameRenderer& operator=(const FrameRenderer&) = delete;

  const RenderPlan& plan() const;

  PixelLayout layout() const;

  // Draws frame `index` (0 <= index < plan().frames.size()) into `out`, which
  // is (re)allocated to the frame size as RGB. Deterministic.
  // Precondition: layout() == kRgb.
  void Render(int index, Image* out) const;

  // The same frame as Y'CbCr 4:2:0 (see YuvFrame), sampled from a source
  // converted once. Precondition: layout() == kYuv420.
  void Render(int index, YuvFrame* out) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// OpenCV kernels parallelise internally by default; when whole frames are
// rendered in parallel that only adds contention and scheduling noise.
// Call once before rendering frames on several threads.
void UseSingleThreadedKernels();

}  // namespace iv::engine
