#include "engine/render_plan.h"

#include <algorithm>
#include <cmath>

namespace iv::engine {

namespace {

double FrameAspect(const FrameSize& f) { return static_cast<double>(f.width) / f.height; }

Affine AffineFor(const CameraStage& st, const CameraPose& pose, const FrameSize& frame) {
  // Source pixels per output pixel. base_w / base_h equals the frame aspect,
  // so the scale is the same on both axes.
  double s = st.base_w / pose.zoom / frame.width;
  double cs = std::cos(pose.rotation) * s, sn = std::sin(pose.rotation) * s;
  Affine m;
  m.a = cs;
  m.b = -sn;
  m.c = sn;
  m.d = cs;
  // Output index x has continuous position x + 0.5; measured from the frame
  // centre that is x + 0.5 - W/2. The source index is continuous - 0.5.
  double ox = 0.5 - frame.width / 2.0, oy = 0.5 - frame.height / 2.0;
  m.tx = pose.cx - 0.5 + m.a * ox + m.b * oy;
  m.ty = pose.cy - 0.5 + m.c * ox + m.d * oy;
  return m;
}

}  // namespace

double Affine::Scale() const { return std::sqrt(std::abs(a * d - b * c)); }

RenderPlan BuildPlan(const RenderSettings& settings, int src_w, int src_h, Point2 salient) {
  RenderPlan plan;
  plan.frame = ResolveFrameSize(settings, src_w, src_h);
  plan.fps = settings.fps;
  plan.source_width = src_w;
  plan.source_height = src_h;
  plan.fit = settings.fit;
  plan.bicubic = settings.quality == Quality::kHigh;
  CameraStage stage = MakeStage(settings.fit, src_w, src_h, FrameAspect(plan.frame));
  CameraPath path(settings, stage, salient);
  plan.frames.reserve(path.frame_count());
  for (const CameraPose& pose : path.poses()) plan.frames.push_back(AffineFor(stage, pose, plan.frame));
  return plan;
}

int DecodeWidthFor(const RenderSettings& settings, int src_w, int src_h) {
  FrameSize frame = ResolveFrameSize(settings, src_w, src_h);
  CameraStage stage = MakeStage(settings.fit, src_w, src_h, FrameAspect(frame));
  CameraPath path(settings, stage, Point2{0.5, 0.5});
  // Output pixels per source pixel at the tightest view.
  double k = frame.width * path.max_zoom() / stage.base_w;
  if (k >= 1.0) return src_w;
  return std::max(1, static_cast<int>(std::ceil(src_w * k)));
}

}  // namespace iv::engine
