// What the video looks like, measured on decoded output: the zoom reaches
// the requested factor, the camera moves without jitter, a loop has no seam,
// and memory stays bounded for a big photo.
#include <cmath>
#include <numeric>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "engine/camera_path.h"
#include "support/test_support.h"

namespace iv {
namespace {

using test::RunImagevideo;
using test::TempDir;

// Centroids of the dark blobs of a frame (the dots of DrawDotChart), found
// by thresholding and refined as darkness-weighted centres.
std::vector<cv::Point2d> FindDots(const cv::Mat& bgr) {
  cv::Mat grey, mask, labels, stats, centroids;
  cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  cv::Mat background;
  cv::blur(grey, background, cv::Size(61, 61));
  mask = grey < background - 25;
  int n = cv::connectedComponentsWithStats(mask, labels, stats, centroids);
  std::vector<cv::Point2d> dots;
  for (int i = 1; i < n; ++i) {
    cv::Rect box(stats.at<int>(i, 0), stats.at<int>(i, 1), stats.at<int>(i, 2), stats.at<int>(i, 3));
    if (stats.at<int>(i, cv::CC_STAT_AREA) < 12) continue;
    // Skip dots cut by the frame edge: their centroid is biased.
    if (box.x <= 1 || box.y <= 1 || box.br().x >= bgr.cols - 1 || box.br().y >= bgr.rows - 1) continue;
    box.x -= box.width / 2;
    box.y -= box.height / 2;
    box.width *= 2;
    box.height *= 2;
    box &= cv::Rect(0, 0, grey.cols, grey.rows);
    double sum = 0, sx = 0, sy = 0;
    for (int y = box.y; y < box.br().y; ++y) {
      for (int x = box.x; x < box.br().x; ++x) {
        double w = std::max(0.0, background.at<uchar>(y, x) - grey.at<uchar>(y, x) - 4.0);
        sum += w;
        sx += w * (x + 0.5);
        sy += w * (y + 0.5);
      }
    }
    if (sum > 0) dots.push_back({sx / sum, sy / sum});
  }
  return dots;
}

cv::Point2d Nearest(const std::vector<cv::Point2d>& dots, cv::Point2d p) {
  cv::Point2d best = dots.at(0);
  for (const auto& d : dots)
    if (cv::norm(d - p) < cv::norm(best - p)) best = d;
  return best;
}

std::string RenderChart(const TempDir& dir, const std::vector<std::string>& extra) {
  std::string in = dir.file("chart.png"), out = dir.file("out.mp4");
  test::WriteImage(in, test::DrawDotChart(1920, 1080, 12, 7));
  std::vector<std::string> args{"render", in, "-o", out, "--size", "960x540", "--quality", "high"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = RunImagevideo(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return out;
}

TEST(RenderQuality, ZoomReachesTheRequestedFactorWithinOnePercent) {
  TempDir dir;
  const double intensity = 0.8;
  std::string out = RenderChart(dir, {"--camera", "zoom-in", "--intensity", "0.8", "--duration", "2"});
  auto frames = test::DecodeFrames(out);
  ASSERT_EQ(frames.size(), 60u);
  auto first = FindDots(frames.front()), last = FindDots(frames.back());
  ASSERT_GE(first.size(), 20u);
  ASSERT_GE(last.size(), 8u);
  // Zooming about the centre: every dot of the last frame is a dot of the
  // first frame moved away from the centre by the zoom factor.
  cv::Point2d centre(480, 270);
  std::vector<double> ratios;
  for (const auto& d : last) {
    if (cv::norm(d - centre) < 100) continue;  // too close for a precise ratio
    cv::Point2d predicted = centre + (d - centre) * (1.0 / 1.4);
    cv::Point2d before = Nearest(first, predicted);
    ratios.push_back(cv::norm(d - centre) / cv::norm(before - centre));
  }
  ASSERT_GE(ratios.size(), 6u);
  double mean = std::accumulate(ratios.begin(), ratios.end(), 0.0) / ratios.size();
  double requested = engine::CameraPath::PresetZoom(engine::CameraPreset::kZoomIn, intensity);
  EXPECT_DOUBLE_EQ(requested, 1.4);
  EXPECT_NEAR(mean / requested, 1.0, 0.01) << "measured zoom " << mean;
}

// Jitter as ../shared/tools/motion_metrics.py defines it: RMS of the second
// difference of positions from frame to frame, in output pixels; here of
// tracked dots rather than an affine fit.
double Jitter(const std::vector<cv::Mat>& frames) {
  auto start = FindDots(frames.front());
  double sum = 0;
  int count = 0;
  for (const auto& dot : start) {
    std::vector<cv::Point2d> track{dot};
    for (size_t f = 1; f < frames.size(); ++f) {
      auto dots = FindDots(frames[f]);
      if (dots.empty()) break;
      cv::Point2d velocity = track.size() > 1 ? track.back() - track[track.size() - 2] : cv::Point2d(0, 0);
      cv::Point2d next = Nearest(dots, track.back() + velocity);
      if (cv::norm(next - (track.back() + velocity)) > 3) break;  // lost (left the frame)
      track.push_back(next);
    }
    for (size_t i = 2; i < track.size(); ++i) {
      cv::Point2d dd = track[i] - 2 * track[i - 1] + track[i - 2];
      sum += dd.dot(dd);
      ++count;
    }
  }
  EXPECT_GT(count, 200) << "enough tracked positions to judge";
  return std::sqrt(sum / std::max(1, count));
}

TEST(RenderQuality, ZoomIsSmooth) {
  TempDir dir;
  std::string out = RenderChart(dir, {"--camera", "zoom-in", "--easing", "linear", "--duration", "2"});
  double jitter = Jitter(test::DecodeFrames(out));
  EXPECT_LT(jitter, 0.12) << "px";
}

TEST(RenderQuality, SlowPanIsSmooth) {
  // Slow moves expose integer rounding most: a whole-pixel sampler moves in
  // visible steps here.
  TempDir dir;
  std::string out = RenderChart(dir, {"--camera", "pan-right", "--intensity", "0.15", "--easing", "linear",
                                      "--duration", "2"});
  double jitter = Jitter(test::DecodeFrames(out));
  EXPECT_LT(jitter, 0.12) << "px";
}

TEST(RenderQuality, LoopHasNoSeam) {
  TempDir dir;
  std::string out = RenderChart(dir, {"--camera", "zoom-in", "--loop", "--duration", "2"});
  auto frames = test::DecodeFrames(out);
  ASSERT_EQ(frames.size(), 60u);
  auto diff = [](const cv::Mat& a, const cv::Mat& b) { return cv::norm(a, b, cv::NORM_L1) / a.total(); };
  std::vector<double> steps;
  for (size_t i = 1; i < frames.size(); ++i) steps.push_back(diff(frames[i - 1], frames[i]));
  std::sort(steps.begin(), steps.end());
  double seam = diff(frames.back(), frames.front());
  EXPECT_LE(seam, 1.5 * steps[steps.size() / 2]) << "seam " << seam << " median step " << steps[steps.size() / 2];
}

TEST(RenderQuality, ContainKeepsTheWholePhotoInView) {
  TempDir dir;
  std::string in = dir.file("tall.png"), out = dir.file("out.mp4");
  test::WriteImage(in, test::DrawDotChart(400, 800, 2, 4));
  auto r = RunImagevideo({"render", in, "-o", out, "--camera", "static", "--fit", "contain", "--size", "640x360",
                          "--duration", "1", "--fps", "12"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto frames = test::DecodeFrames(out);
  ASSERT_FALSE(frames.empty());
  EXPECT_EQ(FindDots(frames[0]).size(), 8u) << "all eight dots of the photo are visible";
}

TEST(RenderQuality, BigPhotoStaysUnder600MegabytesOfMemory) {
  // 48 megapixels to 1080p: decoded shrunk, so peak memory stays low.
  TempDir dir;
  std::string in = dir.file("big.jpg"), out = dir.file("out.mp4");
  test::WriteImage(in, test::DrawDotChart(8000, 6000, 40, 30), {cv::IMWRITE_JPEG_QUALITY, 90});
  // Default (balanced) quality over more frames than x264's 40-frame
  // lookahead, so the encoder's memory is fully counted.
  auto r = RunImagevideo({"render", in, "-o", out, "--size", "1080p", "--duration", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(r.max_rss_kb, 600 * 1024) << "peak RSS in kB";
  auto info = test::Probe(out);
  EXPECT_EQ(info["streams"][0]["width"], 1920);
}

}  // namespace
}  // namespace iv
