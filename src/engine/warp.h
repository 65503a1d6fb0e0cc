// Private to the engine: resampling an 8-bit image through an affine map.
// Includes OpenCV, so only engine .cpp files include it.
#pragma once

#include <opencv2/core.hpp>

namespace iv::engine::internal {

// dst(x, y) = src(map * (x, y, 1)), in pixel-index coordinates (index i is
// the centre of pixel i). `src` and `dst` are 8-bit with 1 to 4 channels.
// Bilinear unless `bicubic`; outside the source, edge pixels are repeated,
// or zero when `zero_outside` (for compositing with a coverage channel).
//
// Axis-aligned maps (scale and translation only, every preset but handheld)
// on single-channel planes take a separable path that is about twice as
// fast as cv::warpAffine and positions samples to 1/256 pixel instead of
// OpenCV's 1/32.
void Warp(const cv::Mat& src, const cv::Matx23d& map, cv::Size size, bool bicubic, bool zero_outside,
          cv::Mat& dst);

}  // namespace iv::engine::internal
