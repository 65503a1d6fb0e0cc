#include "engine/frame_renderer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace iv::engine {

namespace {

// Level-of-detail bias in octaves, as in GPU texture sampling: a negative
// bias picks a sharper level than the footprint alone would. Half an octave
// keeps detail crisp while bilinear taps still cover the footprint
// (footprints up to 1.41 source pixels per output pixel read full
// resolution).
constexpr double kLodBias = -0.5;
// Below this weight the second pyramid level cannot change an 8-bit value.
constexpr double kMinLevelWeight = 1.0 / 512;
// Contain background: the photo at 1/kBackgroundShrink of the frame size,
// blurred by kBackgroundBlurSigma (in those small pixels) and dimmed so the
// photo in front stays the subject.
constexpr int kBackgroundShrink = 8;
constexpr double kBackgroundBlurSigma = 4.0;
constexpr double kBackgroundBrightness = 0.45;

cv::Mat Wrap(const Image& image) {
  return cv::Mat(image.height, image.width, CV_8UC(image.channels), const_cast<std::uint8_t*>(image.pixels.data()),
                 image.stride());
}

// Pyramid level of detail for a footprint of `scale` source pixels per
// output pixel.
double LevelOfDetail(double scale) { return std::max(0.0, std::log2(std::max(scale, 1e-9)) + kLodBias); }

// The blurred, dimmed backdrop behind a contained photo: the photo as if
// covered into the frame, very soft.
cv::Mat MakeBackground(const cv::Mat& rgb, const FrameSize& frame) {
  double frame_aspect = static_cast<double>(frame.width) / frame.height;
  double src_aspect = static_cast<double>(rgb.cols) / rgb.rows;
  cv::Rect crop = src_aspect > frame_aspect
                      ? cv::Rect((rgb.cols - static_cast<int>(rgb.rows * frame_aspect)) / 2, 0,
                                 static_cast<int>(rgb.rows * frame_aspect), rgb.rows)
                      : cv::Rect(0, (rgb.rows - static_cast<int>(rgb.cols / frame_aspect)) / 2, rgb.cols,
                                 static_cast<int>(rgb.cols / frame_aspect));
  crop &= cv::Rect(0, 0, rgb.cols, rgb.rows);
  cv::Size small_size(std::max(1, frame.width / kBackgroundShrink), std::max(1, frame.height / kBackgroundShrink));
  cv::Mat small, big;
  cv::resize(rgb(crop), small, small_size, 0, 0, cv::INTER_AREA);
  cv::GaussianBlur(small, small, cv::Size(0, 0), kBackgroundBlurSigma, 0, cv::BORDER_REFLECT);
  small.convertTo(small, CV_8UC3, kBackgroundBrightness);
  cv::resize(small, big, cv::Size(frame.width, frame.height), 0, 0, cv::INTER_CUBIC);
  return big;
}

}  // namespace

struct FrameRenderer::Impl {
  RenderPlan plan;
  // levels[0] is the source; each next level is cv::pyrDown of the one
  // before, whose pixel j is centred on pixel 2j of its parent, so level L
  // coordinates are level-0 coordinates divided by 2^L.
  std::vector<cv::Mat> levels;
  cv::Mat background;  // contain only: RGB, frame size
  bool contain = false;
};

FrameRenderer::FrameRenderer(const Image& source, const RenderPlan& plan) : impl_(std::make_unique<Impl>()) {
  impl_->plan = plan;
  impl_->contain = plan.fit == Fit::kContain;
  cv::Mat rgb = Wrap(source);
  cv::Mat level0;
  if (impl_->contain) {
    // RGBA with opaque alpha; sampling outside gives (0,0,0,0), so edge
    // pixels come out premultiplied and composite without a fringe.
    cv::cvtColor(rgb, level0, cv::COLOR_RGB2RGBA);
    impl_->background = MakeBackground(rgb, plan.frame);
  } else {
    level0 = rgb.clone();
  }
  double max_lod = 0;
  for (const Affine& m : plan.frames) max_lod = std::max(max_lod, LevelOfDetail(m.Scale()));
  impl_->levels.push_back(std::move(level0));
  // One level beyond the coarsest needed, for the trilinear blend.
  int needed = static_cast<int>(std::ceil(max_lod));
  for (int l = 1; l <= needed; ++l) {
    const cv::Mat& prev = impl_->levels.back();
    if (prev.cols < 2 || prev.rows < 2) break;
    cv::Mat next;
    cv::pyrDown(prev, next);
    impl_->levels.push_back(std::move(next));
  }
}

FrameRenderer::~FrameRenderer() = default;

const RenderPlan& FrameRenderer::plan() const { return impl_->plan; }

void FrameRenderer::Render(int index, Image* out) const {
  const RenderPlan& plan = impl_->plan;
  const Affine& m = plan.frames.at(index);
  const cv::Size size(plan.frame.width, plan.frame.height);
  const int interpolation = (plan.bicubic ? cv::INTER_CUBIC : cv::INTER_LINEAR) | cv::WARP_INVERSE_MAP;
  const int border = impl_->contain ? cv::BORDER_CONSTANT : cv::BORDER_REPLICATE;

  double lod = LevelOfDetail(m.Scale());
  int last = static_cast<int>(impl_->levels.size()) - 1;
  int level = std::min(static_cast<int>(std::floor(lod)), last);
  double weight = level < last ? lod - level : 0.0;

  auto warp = [&](int l, cv::Mat& dst) {
    double k = std::ldexp(1.0, -l);  // level-0 pixels -> level-l pixels
    cv::Matx23d map(m.a * k, m.b * k, m.tx * k, m.c * k, m.d * k, m.ty * k);
    cv::warpAffine(impl_->levels[l], dst, map, size, interpolation, border, cv::Scalar::all(0));
  };

  // Reuse the caller's buffer across frames; in cover mode warp straight
  // into it.
  if (out->width != size.width || out->height != size.height || out->channels != 3) {
    *out = Image(size.width, size.height, 3);
  }
  cv::Mat dst = Wrap(*out);
  cv::Mat sampled = impl_->contain ? cv::Mat() : dst;
  warp(level, sampled);
  if (weight > kMinLevelWeight) {
    cv::Mat coarser;
    warp(level + 1, coarser);
    cv::addWeighted(sampled, 1.0 - weight, coarser, weight, 0.0, sampled);
  }
  if (!impl_->contain) return;

  // Premultiplied "over": photo + background * (1 - alpha).
  for (int y = 0; y < size.height; ++y) {
    const cv::Vec4b* fg = sampled.ptr<cv::Vec4b>(y);
    const cv::Vec3b* bg = impl_->background.ptr<cv::Vec3b>(y);
    cv::Vec3b* o = dst.ptr<cv::Vec3b>(y);
    for (int x = 0; x < size.width; ++x) {
      int inv = 255 - fg[x][3];
      for (int c = 0; c < 3; ++c) o[x][c] = cv::saturate_cast<std::uint8_t>(fg[x][c] + (bg[x][c] * inv + 127) / 255);
    }
  }
}

void UseSingleThreadedKernels() { cv::setNumThreads(1); }

}  // namespace iv::engine
