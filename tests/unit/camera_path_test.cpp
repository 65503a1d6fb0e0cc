#include "engine/camera_path.h"

#include <cmath>

#include <gtest/gtest.h>

#include "engine/render_plan.h"

namespace iv::engine {
namespace {

const CameraPreset kAllPresets[] = {CameraPreset::kStatic,   CameraPreset::kZoomIn,  CameraPreset::kZoomOut,
                                    CameraPreset::kPanLeft,  CameraPreset::kPanRight, CameraPreset::kPanUp,
                                    CameraPreset::kPanDown,  CameraPreset::kKenBurns, CameraPreset::kHandheld};

RenderSettings With(CameraPreset camera, double intensity = 0.5) {
  RenderSettings s;
  s.camera = camera;
  s.intensity = intensity;
  return s;
}

// True when the rotated view rectangle of `p` lies inside the canvas.
bool ViewInside(const CameraStage& st, const CameraPose& p) {
  double vw = st.base_w / p.zoom / 2, vh = st.base_h / p.zoom / 2;
  for (int sx : {-1, 1}) {
    for (int sy : {-1, 1}) {
      double x = p.cx + std::cos(p.rotation) * sx * vw - std::sin(p.rotation) * sy * vh;
      double y = p.cy + std::sin(p.rotation) * sx * vw + std::cos(p.rotation) * sy * vh;
      if (x < st.canvas_x - 1e-6 || x > st.canvas_x + st.canvas_w + 1e-6) return false;
      if (y < st.canvas_y - 1e-6 || y > st.canvas_y + st.canvas_h + 1e-6) return false;
    }
  }
  return true;
}

TEST(CameraStage, CoverCropsToTheFrameAspect) {
  CameraStage st = MakeStage(Fit::kCover, 2560, 1600, 16.0 / 9);
  EXPECT_DOUBLE_EQ(st.base_w, 2560);
  EXPECT_DOUBLE_EQ(st.base_h, 1440);
  st = MakeStage(Fit::kCover, 2560, 1600, 9.0 / 16);
  EXPECT_DOUBLE_EQ(st.base_h, 1600);
  EXPECT_DOUBLE_EQ(st.base_w, 900);
}

TEST(CameraStage, ContainSurroundsThePhoto) {
  CameraStage st = MakeStage(Fit::kContain, 1000, 1000, 16.0 / 9);
  EXPECT_DOUBLE_EQ(st.canvas_h, 1000);
  EXPECT_NEAR(st.canvas_w, 1777.78, 0.01);
  EXPECT_NEAR(st.canvas_x, -388.89, 0.01);
  EXPECT_DOUBLE_EQ(st.canvas_y, 0);
}

TEST(CameraPath, ZoomInReachesTheRequestedZoomExactly) {
  RenderSettings s = With(CameraPreset::kZoomIn, 0.5);
  CameraPath path(s, MakeStage(Fit::kCover, 2560, 1600, 16.0 / 9), {0.5, 0.5});
  ASSERT_EQ(path.frame_count(), 150);
  EXPECT_DOUBLE_EQ(path.pose(0).zoom, 1.0);
  EXPECT_DOUBLE_EQ(path.pose(149).zoom, 1.25);
  EXPECT_DOUBLE_EQ(CameraPath::PresetZoom(CameraPreset::kZoomIn, 0.5), 1.25);
  for (int i = 1; i < 150; ++i) EXPECT_GT(path.pose(i).zoom, path.pose(i - 1).zoom);
}

TEST(CameraPath, LinearZoomHasAConstantRatePerFrame) {
  // Log-space interpolation: every frame scales by the same factor, which is
  // what reads as a steady zoom.
  RenderSettings s = With(CameraPreset::kZoomIn, 1.0);
  s.easing = Easing::kLinear;
  CameraPath path(s, MakeStage(Fit::kCover, 1920, 1080, 16.0 / 9), {0.5, 0.5});
  double ratio = path.pose(1).zoom / path.pose(0).zoom;
  for (int i = 2; i < path.frame_count(); ++i) EXPECT_NEAR(path.pose(i).zoom / path.pose(i - 1).zoom, ratio, 1e-12);
}

TEST(CameraPath, ZoomOutIsZoomInReversed) {
  CameraStage st = MakeStage(Fit::kCover, 1920, 1080, 16.0 / 9);
  CameraPath in(With(CameraPreset::kZoomIn), st, {0.5, 0.5});
  CameraPath out(With(CameraPreset::kZoomOut), st, {0.5, 0.5});
  int n = in.frame_count();
  for (int i = 0; i < n; ++i) EXPECT_NEAR(out.pose(i).zoom, in.pose(n - 1 - i).zoom, 1e-12);
}

TEST(CameraPath, PansMoveTheViewTheRightWay) {
  CameraStage st = MakeStage(Fit::kCover, 2560, 1600, 16.0 / 9);
  auto first_last = [&](CameraPreset p) {
    CameraPath path(With(p), st, {0.5, 0.5});
    return std::make_pair(path.pose(0), path.pose(path.frame_count() - 1));
  };
  auto [l0, l1] = first_last(CameraPreset::kPanLeft);
  EXPECT_LT(l1.cx, l0.cx - 100);
  EXPECT_DOUBLE_EQ(l1.cy, l0.cy);
  auto [r0, r1] = first_last(CameraPreset::kPanRight);
  EXPECT_GT(r1.cx, r0.cx + 100);
  auto [u0, u1] = first_last(CameraPreset::kPanUp);
  EXPECT_LT(u1.cy, u0.cy - 50);
  EXPECT_DOUBLE_EQ(u1.cx, u0.cx);
  auto [d0, d1] = first_last(CameraPreset::kPanDown);
  EXPECT_GT(d1.cy, d0.cy + 50);
}

TEST(CameraPath, EveryPresetStaysInsideThePhotoInCoverMode) {
  for (double aspect : {16.0 / 9, 9.0 / 16, 1.0, 21.0 / 9}) {
    for (auto [w, h] : {std::pair{2560, 1600}, std::pair{1000, 3000}, std::pair{640, 640}}) {
      CameraStage st = MakeStage(Fit::kCover, w, h, aspect);
      for (CameraPreset preset : kAllPresets) {
        for (bool loop : {false, true}) {
          RenderSettings s = With(preset, 1.0);
          s.loop = loop;
          s.seed = 7;
          CameraPath path(s, st, {0.9, 0.1});
          for (int i = 0; i < path.frame_count(); ++i) {
            ASSERT_TRUE(ViewInside(st, path.pose(i))) << static_cast<int>(preset) << " frame " << i << " " << w
                                                      << "x" << h << " aspect " << aspect;
          }
        }
      }
    }
  }
}

TEST(CameraPath, ZeroIntensityIsStill) {
  CameraStage st = MakeStage(Fit::kCover, 2560, 1600, 16.0 / 9);
  for (CameraPreset preset : kAllPresets) {
    CameraPath path(With(preset, 0.0), st, {0.2, 0.2});
    for (int i = 0; i < path.frame_count(); ++i) {
      EXPECT_DOUBLE_EQ(path.pose(i).zoom, 1.0);
      EXPECT_DOUBLE_EQ(path.pose(i).cx, 1280);
      EXPECT_DOUBLE_EQ(path.pose(i).cy, 800);
      EXPECT_DOUBLE_EQ(path.pose(i).rotation, 0.0);
    }
  }
}

TEST(CameraPath, LoopReturnsToTheStartSmoothly) {
  CameraStage st = MakeStage(Fit::kCover, 2560, 1600, 16.0 / 9);
  for (CameraPreset preset : {CameraPreset::kZoomIn, CameraPreset::kPanLeft, CameraPreset::kKenBurns,
                              CameraPreset::kHandheld}) {
    RenderSettings s = With(preset, 1.0);
    s.loop = true;
    CameraPath path(s, st, {0.8, 0.3});
    int n = path.frame_count();
    // The step from the last frame back to the first is no bigger than the
    // largest step inside the video: there is no seam.
    auto step = [&](const CameraPose& a, const CameraPose& b) {
      return std::abs(a.cx - b.cx) + std::abs(a.cy - b.cy) + 1000 * std::abs(std::log(a.zoom / b.zoom)) +
             1000 * std::abs(a.rotation - b.rotation);
    };
    double largest = 0;
    for (int i = 1; i < n; ++i) largest = std::max(largest, step(path.pose(i - 1), path.pose(i)));
    EXPECT_GT(largest, 0);
    EXPECT_LE(step(path.pose(n - 1), path.pose(0)), largest * 1.0001) << static_cast<int>(preset);
  }
}

TEST(CameraPath, KenBurnsDriftsTowardTheSalientPoint) {
  CameraStage st = MakeStage(Fit::kCover, 2560, 1600, 16.0 / 9);
  CameraPath path(With(CameraPreset::kKenBurns), st, {0.8, 0.2});
  const CameraPose& end = path.pose(path.frame_count() - 1);
  EXPECT_GT(end.cx, 1280 + 100);
  EXPECT_LT(end.cy, 800 - 50);
  EXPECT_DOUBLE_EQ(end.zoom, 1.25);
}

TEST(CameraPath, HandheldIsSeededAndGentle) {
  CameraStage st = MakeStage(Fit::kCover, 1920, 1080, 16.0 / 9);
  RenderSettings s = With(CameraPreset::kHandheld, 1.0);
  s.seed = 1;
  CameraPath a(s, st, {0.5, 0.5}), a2(s, st, {0.5, 0.5});
  s.seed = 2;
  CameraPath b(s, st, {0.5, 0.5});
  double max_step = 0, diff = 0;
  for (int i = 0; i < a.frame_count(); ++i) {
    EXPECT_EQ(a.pose(i).cx, a2.pose(i).cx);
    EXPECT_EQ(a.pose(i).rotation, a2.pose(i).rotation);
    diff += std::abs(a.pose(i).cx - b.pose(i).cx);
    EXPECT_LE(std::abs(a.pose(i).rotation), 0.8 * M_PI / 180 + 1e-12);
    if (i > 0) max_step = std::max(max_step, std::hypot(a.pose(i).cx - a.pose(i - 1).cx, a.pose(i).cy - a.pose(i - 1).cy));
  }
  EXPECT_GT(diff, 10);        // another seed, another shake
  EXPECT_LT(max_step, 3.0);   // gentle: a few pixels per frame at most
  EXPECT_GT(max_step, 0.05);  // but it does move
}

TEST(RenderPlan, DecodeWidthMatchesTheTightestView) {
  RenderSettings s = With(CameraPreset::kZoomIn, 0.5);  // 1080p, 16:9, zoom 1.25
  // 8000x6000 photo: base view 8000 wide, at 1.25x the view is 6400 source
  // pixels for 1920 output pixels, so 8000 * 1920 * 1.25 / 8000 = 2400.
  EXPECT_EQ(DecodeWidthFor(s, 8000, 6000), 2400);
  // A photo smaller than that is decoded as it is.
  EXPECT_EQ(DecodeWidthFor(s, 1280, 720), 1280);
}

TEST(RenderPlan, IdentityWhenSourceMatchesTheFrame) {
  RenderSettings s = With(CameraPreset::kStatic);
  s.size = SizeSpec{0, 320, 180};
  RenderPlan plan = BuildPlan(s, 320, 180, {0.5, 0.5});
  ASSERT_EQ(plan.frames.size(), 150u);
  const Affine& m = plan.frames[0];
  EXPECT_NEAR(m.a, 1, 1e-12);
  EXPECT_NEAR(m.b, 0, 1e-12);
  EXPECT_NEAR(m.tx, 0, 1e-12);
  EXPECT_NEAR(m.c, 0, 1e-12);
  EXPECT_NEAR(m.d, 1, 1e-12);
  EXPECT_NEAR(m.ty, 0, 1e-12);
}

}  // namespace
}  // namespace iv::engine
