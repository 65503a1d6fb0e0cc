// RenderPlan: everything needed to draw each frame, as plain data built
// without I/O: the frame size and, per frame, the affine map from output
// pixels to source pixels. Building a plan is cheap and deterministic; the
// FrameRenderer executes it.
#pragma once

#include <vector>

#include "engine/camera_path.h"
#include "engine/render_settings.h"

namespace iv::engine {

// Maps an output pixel index (x, y) to a source pixel index:
//   sx = a*x + b*y + tx,  sy = c*x + d*y + ty
// Pixel indices address pixel centres (index i is centred at continuous
// coordinate i + 0.5), so the map is exact to sub-pixel precision.
struct Affine {
  double a = 1, b = 0, tx = 0;
  double c = 0, d = 1, ty = 0;
  // Source pixels per output pixel (the sampling footprint): > 1 means the
  // source is being reduced and must be prefiltered.
  double Scale() const;
};

struct RenderPlan {
  FrameSize frame;
  int fps = 30;
  int source_width = 0;   // the decoded source the plan is for
  int source_height = 0;
  Fit fit = Fit::kCover;
  // Bicubic instead of bilinear sampling (quality "high").
  bool bicubic = false;
  std::vector<Affine> frames;
};

// Plans a video of `settings` for a decoded source of src_w x src_h.
// `salient` as for CameraPath. Precondition: Validate(settings) is empty.
RenderPlan BuildPlan(const RenderSettings& settings, int src_w, int src_h, Point2 salient);

// Width at which to decode a source of src_w x src_h so that the most
// zoomed-in frame samples it at about one source pixel per output pixel:
// more resolution would be thrown away by the prefilter, less would blur.
// Returns src_w when the source is not larger than that.
int DecodeWidthFor(const RenderSettings& settings, int src_w, int src_h);

}  // namespace iv::engine
