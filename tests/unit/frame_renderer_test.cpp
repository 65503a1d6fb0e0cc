#include "engine/frame_renderer.h"

#include <cmath>
#include <thread>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "engine/render_plan.h"
#include "support/test_support.h"

namespace iv::engine {
namespace {

Image ToImage(const cv::Mat& bgr) {
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  Image img(rgb.cols, rgb.rows, 3);
  for (int y = 0; y < rgb.rows; ++y) std::memcpy(img.row(y), rgb.ptr(y), img.stride());
  return img;
}

cv::Mat ToMat(const Image& img) {
  return cv::Mat(img.height, img.width, CV_8UC3, const_cast<uint8_t*>(img.pixels.data()), img.stride()).clone();
}

RenderSettings Settings(CameraPreset camera, int w, int h) {
  RenderSettings s;
  s.camera = camera;
  s.size = SizeSpec{0, w, h};
  s.duration_s = 1;
  s.fps = 30;
  return s;
}

// Intensity-weighted centroid of darkness in a window: the measured centre
// of one Gaussian dot of the chart, in continuous pixel coordinates.
cv::Point2d DotCentre(const cv::Mat& bgr, cv::Point2d guess, int radius) {
  cv::Mat grey;
  cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  cv::Rect win(static_cast<int>(std::lround(guess.x)) - radius, static_cast<int>(std::lround(guess.y)) - radius,
               2 * radius, 2 * radius);
  win &= cv::Rect(0, 0, grey.cols, grey.rows);
  // Background level: the brightest value in the window.
  double lo, hi;
  cv::minMaxLoc(grey(win), &lo, &hi);
  double sum = 0, sx = 0, sy = 0;
  for (int y = win.y; y < win.y + win.height; ++y) {
    for (int x = win.x; x < win.x + win.width; ++x) {
      double w = std::max(0.0, hi - grey.at<uchar>(y, x) - 2.0);
      sum += w;
      sx += w * (x + 0.5);
      sy += w * (y + 0.5);
    }
  }
  return {sx / sum, sy / sum};
}

TEST(FrameRenderer, IdentityPlanReproducesTheSource) {
  cv::Mat chart = test::DrawDotChart(320, 180, 4, 3);
  Image source = ToImage(chart);
  RenderPlan plan = BuildPlan(Settings(CameraPreset::kStatic, 320, 180), 320, 180, {0.5, 0.5});
  FrameRenderer renderer(source, plan);
  Image out;
  renderer.Render(0, &out);
  ASSERT_EQ(out.width, 320);
  ASSERT_EQ(out.height, 180);
  EXPECT_EQ(out.pixels, source.pixels);
}

TEST(FrameRenderer, DotsLandWhereThePlanSaysToSubPixelPrecision) {
  // A dot at source position p appears at output position A^-1 (p - t) for
  // every frame of a zoom; measured centroids must agree to well under a
  // pixel, or the camera would jitter.
  cv::Mat chart = test::DrawDotChart(1600, 900, 8, 5, /*flat=*/true);
  Image source = ToImage(chart);
  RenderSettings s = Settings(CameraPreset::kZoomIn, 800, 450);
  s.intensity = 1.0;
  RenderPlan plan = BuildPlan(s, 1600, 900, {0.5, 0.5});
  FrameRenderer renderer(source, plan);
  Image out;
  double worst = 0;
  for (int f : {0, 7, 15, 29}) {
    renderer.Render(f, &out);
    cv::Mat frame = ToMat(out);
    const Affine& m = plan.frames[f];
    double det = m.a * m.d - m.b * m.c;
    for (int j = 1; j < 4; ++j) {
      for (int i = 2; i < 6; ++i) {
        // Source dot centre in pixel-index coordinates.
        double sx = (i + 0.5) * 1600 / 8 - 0.5, sy = (j + 0.5) * 900 / 5 - 0.5;
        double ox = (m.d * (sx - m.tx) - m.b * (sy - m.ty)) / det;
        double oy = (-m.c * (sx - m.tx) + m.a * (sy - m.ty)) / det;
        cv::Point2d measured = DotCentre(frame, {ox + 0.5, oy + 0.5}, 45);
        worst = std::max(worst, std::hypot(measured.x - (ox + 0.5), measured.y - (oy + 0.5)));
      }
    }
  }
  EXPECT_LT(worst, 0.1) << "dot position error in output pixels";
}

TEST(FrameRenderer, FineDetailDoesNotAlias) {
  // One-pixel stripes seen 8x reduced must average to grey; sampling without
  // a prefilter turns them into bold moire bands.
  cv::Mat stripes(1440, 2560, CV_8UC3);
  for (int x = 0; x < stripes.cols; ++x) stripes.col(x).setTo(cv::Scalar::all(x % 2 ? 255 : 0));
  RenderPlan plan = BuildPlan(Settings(CameraPreset::kZoomIn, 320, 180), 2560, 1440, {0.5, 0.5});
  FrameRenderer renderer(ToImage(stripes), plan);
  Image out;
  for (int f : {0, 15, 29}) {
    renderer.Render(f, &out);
    cv::Scalar mean, stddev;
    cv::meanStdDev(ToMat(out), mean, stddev);
    EXPECT_NEAR(mean[0], 127.5, 3) << "frame " << f;
    EXPECT_LT(stddev[0], 6) << "frame " << f;
  }
}

TEST(FrameRenderer, ContainShowsTheWholePhotoOverABlurredBackdrop) {
  cv::Mat photo(400, 400, CV_8UC3, cv::Scalar(40, 200, 250));  // BGR: bright orange-yellow
  RenderSettings s = Settings(CameraPreset::kStatic, 640, 360);
  s.fit = Fit::kContain;
  RenderPlan plan = BuildPlan(s, 400, 400, {0.5, 0.5});
  FrameRenderer renderer(ToImage(photo), plan);
  Image out;
  renderer.Render(0, &out);
  cv::Mat frame = ToMat(out);  // RGB
  // The photo fills the middle 360x360 exactly...
  cv::Vec3b centre = frame.at<cv::Vec3b>(180, 320);
  EXPECT_EQ(centre, cv::Vec3b(250, 200, 40));
  // ...and the bars are a dimmed copy, not black and not the photo itself.
  cv::Vec3b bar = frame.at<cv::Vec3b>(180, 20);
  EXPECT_NEAR(bar[0], 250 * 0.45, 4);
  EXPECT_NEAR(bar[1], 200 * 0.45, 4);
  // The photo's edge blends, no black seam between photo and backdrop.
  for (int x = 136; x <= 144; ++x) {
    cv::Vec3b p = frame.at<cv::Vec3b>(180, x);
    EXPECT_GE(p[0], 250 * 0.45 - 4) << "x=" << x;
  }
}

TEST(FrameRenderer, RenderingIsDeterministicAcrossThreads) {
  cv::Mat chart = test::DrawDotChart(1200, 800, 6, 4);
  RenderSettings s = Settings(CameraPreset::kHandheld, 640, 360);
  s.intensity = 1;
  s.seed = 3;
  RenderPlan plan = BuildPlan(s, 1200, 800, {0.5, 0.5});
  FrameRenderer renderer(ToImage(chart), plan);
  std::vector<Image> a(plan.frames.size()), b(plan.frames.size());
  for (size_t i = 0; i < a.size(); ++i) renderer.Render(static_cast<int>(i), &a[i]);
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = t; i < b.size(); i += 3) renderer.Render(static_cast<int>(i), &b[i]);
    });
  }
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].pixels, b[i].pixels) << "frame " << i;
  EXPECT_NE(a[0].pixels, a[10].pixels);  // handheld moves
}

TEST(FrameRenderer, YuvFramesMatchRgbFramesConvertedWithBt709) {
  // The same frame rendered both ways: RGB converted with the BT.709
  // formula must agree with the Y'CbCr rendering (which converts the source
  // once instead).
  cv::Mat chart = test::DrawDotChart(1280, 720, 6, 4);
  for (auto camera : {CameraPreset::kZoomIn, CameraPreset::kHandheld}) {
    for (Fit fit : {Fit::kCover, Fit::kContain}) {
      RenderSettings s = Settings(camera, 640, 360);
      s.fit = fit;
      s.size = SizeSpec{0, 360, 360};
      RenderPlan plan = BuildPlan(s, 1280, 720, {0.5, 0.5});
      FrameRenderer rgb_renderer(ToImage(chart), plan, PixelLayout::kRgb);
      FrameRenderer yuv_renderer(ToImage(chart), plan, PixelLayout::kYuv420);
      Image rgb;
      YuvFrame yuv;
      rgb_renderer.Render(20, &rgb);
      yuv_renderer.Render(20, &yuv);
      ASSERT_EQ(yuv.width, 360);
      ASSERT_EQ(yuv.u.size(), 180u * 180u);
      double y_err = 0, c_err = 0;
      for (int y = 0; y < 360; ++y) {
        for (int x = 0; x < 360; ++x) {
          const uint8_t* p = rgb.row(y) + 3 * x;
          double luma = 0.2126 * p[0] + 0.7152 * p[1] + 0.0722 * p[2];
          y_err += std::abs(16 + 219 * luma / 255 - yuv.y[y * 360 + x]);
          if (x % 2 == 0 && y % 2 == 0) {
            double cb = 128 + 224 * (p[2] - luma) / 1.8556 / 255;
            c_err += std::abs(cb - yuv.u[(y / 2) * 180 + x / 2]);
          }
        }
      }
      EXPECT_LT(y_err / (360 * 360), 1.0) << "luma, camera " << static_cast<int>(camera);
      EXPECT_LT(c_err / (180 * 180), 2.0) << "chroma, camera " << static_cast<int>(camera);
    }
  }
}

}  // namespace
}  // namespace iv::engine
