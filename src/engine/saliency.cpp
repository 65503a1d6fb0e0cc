#include "engine/saliency.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/saliency.hpp>

namespace iv::engine {

namespace {

// Spectral residual works on a coarse image; 64 px is the size its paper
// uses, a little more keeps small subjects from vanishing.
constexpr int kAnalysisWidth = 128;
// Only the strongest part of the map counts, so a large textured background
// does not pull the point back to the middle.
constexpr double kTopFraction = 0.05;

}  // namespace

Point2 SalientPoint(const Image& image) {
  Point2 centre{0.5, 0.5};
  if (image.empty() || image.width < 8 || image.height < 8) return centre;
  cv::Mat src(image.height, image.width, image.channels == 4 ? CV_8UC4 : CV_8UC3,
              const_cast<std::uint8_t*>(image.pixels.data()), image.stride());
  int w = std::min(kAnalysisWidth, image.width);
  int h = std::max(1, static_cast<int>(std::lround(static_cast<double>(image.height) * w / image.width)));
  cv::Mat small;
  cv::resize(src, small, cv::Size(w, h), 0, 0, cv::INTER_AREA);

  auto detector = cv::saliency::StaticSaliencySpectralResidual::create();
  detector->setImageWidth(w);
  detector->setImageHeight(h);
  cv::Mat map;
  if (!detector->computeSaliency(small, map) || map.empty()) return centre;
  map.convertTo(map, CV_32F);
  cv::GaussianBlur(map, map, cv::Size(0, 0), 2.0);

  // Threshold at the (1 - kTopFraction) quantile, then take the weighted
  // centroid of what is above it.
  cv::Mat sorted = map.reshape(1, 1).clone();
  cv::sort(sorted, sorted, cv::SORT_ASCENDING);
  float threshold = sorted.at<float>(0, static_cast<int>(sorted.cols * (1.0 - kTopFraction)));
  double sum = 0, sx = 0, sy = 0;
  for (int y = 0; y < map.rows; ++y) {
    const float* row = map.ptr<float>(y);
    for (int x = 0; x < map.cols; ++x) {
      double v = row[x] - threshold;
      if (v <= 0) continue;
      sum += v;
      sx += v * (x + 0.5);
      sy += v * (y + 0.5);
    }
  }
  if (sum <= 0) return centre;
  return Point2{sx / sum / map.cols, sy / sum / map.rows};
}

}  // namespace iv::engine
