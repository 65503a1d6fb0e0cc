#include "engine/warp.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include <opencv2/imgproc.hpp>

namespace iv::engine::internal {

namespace {

// Fixed-point weights in 1/256: a vertical blend of two 8-bit pixels fits in
// 16 bits, and the horizontal blend of those in 32.
constexpr int kWeightBits = 8;
constexpr int kOne = 1 << kWeightBits;

// Where output index i samples along one axis: the left/top neighbour
// `first` (the other is first + 1) and the weight of the other. At the
// edges the weight is 0, which repeats the edge pixel.
struct Taps {
  std::vector<int> first;
  std::vector<std::uint32_t> weight;
};

Taps MakeTaps(int count, double scale, double offset, int limit) {
  Taps t;
  t.first.resize(count);
  t.weight.resize(count);
  for (int i = 0; i < count; ++i) {
    double pos = scale * i + offset;
    double base = std::floor(pos);
    int w = static_cast<int>(std::lround((pos - base) * kOne));
    int i0 = static_cast<int>(base);
    if (w == kOne) {
      ++i0;
      w = 0;
    }
    if (i0 < 0) i0 = 0, w = 0;
    if (i0 >= limit - 1) i0 = limit - 1, w = 0;
    t.first[i] = i0;
    t.weight[i] = static_cast<std::uint32_t>(w);
  }
  return t;
}

// Bilinear, separable: blend the two source rows an output row needs
// (vectorises well), then gather along the row with precomputed taps.
void WarpAxisAligned(const cv::Mat& src, const cv::Matx23d& map, cv::Size size, cv::Mat& dst) {
  dst.create(size, CV_8UC1);
  const Taps xs = MakeTaps(size.width, map(0, 0), map(0, 2), src.cols);
  const Taps ys = MakeTaps(size.height, map(1, 1), map(1, 2), src.rows);
  const int x_begin = *std::min_element(xs.first.begin(), xs.first.end());
  const int x_end = std::min(src.cols, *std::max_element(xs.first.begin(), xs.first.end()) + 2);
  const int n = x_end - x_begin;
  // One spare element past the end so `first + 1` is always readable (its
  // weight is 0 at the right edge).
  std::vector<std::uint16_t> blended(n + 1, 0);
  for (int y = 0; y < size.height; ++y) {
    const int row1 = std::min(ys.first[y] + 1, src.rows - 1);
    const std::uint8_t* r0 = src.ptr<std::uint8_t>(ys.first[y]) + x_begin;
    const std::uint8_t* r1 = src.ptr<std::uint8_t>(row1) + x_begin;
    const std::uint16_t wy = static_cast<std::uint16_t>(ys.weight[y]);
    const std::uint16_t wy0 = static_cast<std::uint16_t>(kOne - wy);
    std::uint16_t* b = blended.data();
    for (int k = 0; k < n; ++k) b[k] = static_cast<std::uint16_t>(r0[k] * wy0 + r1[k] * wy);
    std::uint8_t* out = dst.ptr<std::uint8_t>(y);
    const int* first = xs.first.data();
    const std::uint32_t* wx = xs.weight.data();
    const std::uint16_t* row = b - x_begin;
    for (int x = 0; x < size.width; ++x) {
      const std::uint16_t* p = row + first[x];
      std::uint32_t v = p[0] * (kOne - wx[x]) + p[1] * wx[x];
      out[x] = static_cast<std::uint8_t>((v + (1u << (2 * kWeightBits - 1))) >> (2 * kWeightBits));
    }
  }
}

}  // namespace

void Warp(const cv::Mat& src, const cv::Matx23d& map, cv::Size size, bool bicubic, bool zero_outside,
          cv::Mat& dst) {
  const bool axis_aligned = map(0, 1) == 0.0 && map(1, 0) == 0.0;
  if (axis_aligned && !bicubic && !zero_outside && src.type() == CV_8UC1) {
    WarpAxisAligned(src, map, size, dst);
    return;
  }
  cv::warpAffine(src, dst, map, size, (bicubic ? cv::INTER_CUBIC : cv::INTER_LINEAR) | cv::WARP_INVERSE_MAP,
                 zero_outside ? cv::BORDER_CONSTANT : cv::BORDER_REPLICATE, cv::Scalar::all(0));
}

}  // namespace iv::engine::internal
