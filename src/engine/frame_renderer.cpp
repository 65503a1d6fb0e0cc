#include "engine/frame_renderer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "engine/warp.h"

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

// RGB (0..255) -> Y'CbCr, BT.709 coefficients (Kr 0.2126, Kb 0.0722),
// limited range: Y = 16 + 219 Y', C = 128 + 224 C' (ITU-R BT.709-6 table 4).
const cv::Matx34f kRgbToYcbcr709 = [] {
  const double kr = 0.2126, kb = 0.0722, kg = 1 - kr - kb;
  const double y = 219.0 / 255, c = 224.0 / 255;
  return cv::Matx34f(y * kr, y * kg, y * kb, 16,                                      //
                     c * -kr / (2 * (1 - kb)), c * -kg / (2 * (1 - kb)), c * 0.5, 128,  //
                     c * 0.5, c * -kg / (2 * (1 - kr)), c * -kb / (2 * (1 - kr)), 128);
}();

cv::Mat Wrap(const Image& image) {
  return cv::Mat(image.height, image.width, CV_8UC(image.channels), const_cast<std::uint8_t*>(image.pixels.data()),
                 image.stride());
}

cv::Mat Wrap(std::vector<std::uint8_t>& plane, int width, int height) {
  return cv::Mat(height, width, CV_8UC1, plane.data());
}

// Pyramid level of detail for a footprint of `scale` source pixels per
// output pixel.
double LevelOfDetail(double scale) { return std::max(0.0, std::log2(std::max(scale, 1e-9)) + kLodBias); }

// levels[0] is an image; each next level is cv::pyrDown of the one before,
// whose pixel j is centred on pixel 2j of its parent, so level-L coordinates
// are level-0 coordinates divided by 2^L.
using Pyramid = std::vector<cv::Mat>;

Pyramid BuildPyramid(cv::Mat base, int extra_levels) {
  Pyramid p{std::move(base)};
  for (int l = 1; l <= extra_levels && p.back().cols >= 2 && p.back().rows >= 2; ++l) {
    cv::Mat next;
    cv::pyrDown(p.back(), next);
    p.push_back(std::move(next));
  }
  return p;
}

// Samples `pyramid` through `m` (output index -> level-0 index) into `dst`,
// blending the two levels around the footprint's level of detail.
void Sample(const Pyramid& pyramid, const Affine& m, cv::Size size, bool bicubic, bool zero_outside, cv::Mat& dst) {
  double lod = LevelOfDetail(m.Scale());
  int last = static_cast<int>(pyramid.size()) - 1;
  int level = std::min(static_cast<int>(std::floor(lod)), last);
  double weight = level < last ? lod - level : 0.0;
  auto warp = [&](int l, cv::Mat& out) {
    double k = std::ldexp(1.0, -l);  // level-0 pixels -> level-l pixels
    cv::Matx23d map(m.a * k, m.b * k, m.tx * k, m.c * k, m.d * k, m.ty * k);
    internal::Warp(pyramid[l], map, size, bicubic, zero_outside, out);
  };
  warp(level, dst);
  if (weight > kMinLevelWeight) {
    cv::Mat coarser;
    warp(level + 1, coarser);
    cv::addWeighted(dst, 1.0 - weight, coarser, weight, 0.0, dst);
  }
}

// The map for the chroma planes: output chroma sample (i, j) sits on luma
// position (2i, 2j + 0.5) ("left" siting), and the chroma pyramid's level 0
// is half resolution (its pixel j on luma pixel 2j).
Affine ChromaAffine(const Affine& m) {
  Affine c = m;
  c.tx = (m.tx + m.b * 0.5) / 2;
  c.ty = (m.ty + m.d * 0.5) / 2;
  return c;
}

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

// Premultiplied "over": fg already carries coverage `alpha` (it is zero
// outside the photo), so out = fg + bg * (1 - alpha).
void Over(const cv::Mat& fg, const cv::Mat& alpha, const cv::Mat& bg, cv::Mat& out) {
  const int channels = fg.channels();
  for (int y = 0; y < fg.rows; ++y) {
    const std::uint8_t* f = fg.ptr<std::uint8_t>(y);
    const std::uint8_t* a = alpha.ptr<std::uint8_t>(y);
    const std::uint8_t* b = bg.ptr<std::uint8_t>(y);
    std::uint8_t* o = out.ptr<std::uint8_t>(y);
    for (int x = 0; x < fg.cols; ++x) {
      int inv = 255 - a[x];
      for (int c = 0; c < channels; ++c) {
        int i = x * channels + c;
        o[i] = cv::saturate_cast<std::uint8_t>(f[i] + (b[i] * inv + 127) / 255);
      }
    }
  }
}

}  // namespace

struct FrameRenderer::Impl {
  RenderPlan plan;
  PixelLayout layout = PixelLayout::kRgb;
  bool contain = false;
  // kRgb: rgb. kYuv420: luma, cb, cr (chroma at half resolution).
  Pyramid rgb, luma, cb, cr;
  // contain only: coverage of the photo (255 inside) at luma and chroma
  // resolution, and the backdrop in the output layout.
  Pyramid alpha, alpha_chroma;
  cv::Mat background, background_cb, background_cr;
};

FrameRenderer::FrameRenderer(const Image& source, const RenderPlan& plan, PixelLayout layout)
    : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  s.plan = plan;
  s.layout = layout;
  s.contain = plan.fit == Fit::kContain;
  const cv::Mat rgb = Wrap(source);
  double max_lod = 0;
  for (const Affine& m : plan.frames) max_lod = std::max(max_lod, LevelOfDetail(m.Scale()));
  // One level beyond the coarsest needed, for the trilinear blend.
  const int extra = static_cast<int>(std::ceil(max_lod));

  cv::Mat background_rgb;
  if (s.contain) {
    background_rgb = MakeBackground(rgb, plan.frame);
    cv::Mat opaque(rgb.size(), CV_8UC1, cv::Scalar(255));
    s.alpha = BuildPyramid(opaque, extra);
  }
  if (layout == PixelLayout::kRgb) {
    s.rgb = BuildPyramid(rgb.clone(), extra);
    s.background = background_rgb;
    return;
  }
  cv::Mat ycc, planes[3];
  cv::transform(rgb, ycc, kRgbToYcbcr709);
  cv::split(ycc, planes);
  cv::Mat cb_half, cr_half;
  cv::pyrDown(planes[1], cb_half);
  cv::pyrDown(planes[2], cr_half);
  s.luma = BuildPyramid(planes[0], extra);
  s.cb = BuildPyramid(cb_half, extra);
  s.cr = BuildPyramid(cr_half, extra);
  if (s.contain) {
    cv::Mat opaque(cb_half.size(), CV_8UC1, cv::Scalar(255));
    s.alpha_chroma = BuildPyramid(opaque, extra);
    cv::Mat bg_ycc, bg[3];
    cv::transform(background_rgb, bg_ycc, kRgbToYcbcr709);
    cv::split(bg_ycc, bg);
    s.background = bg[0];
    cv::Size half(plan.frame.width / 2, plan.frame.height / 2);
    cv::resize(bg[1], s.background_cb, half, 0, 0, cv::INTER_AREA);
    cv::resize(bg[2], s.background_cr, half, 0, 0, cv::INTER_AREA);
  }
}

FrameRenderer::~FrameRenderer() = default;

const RenderPlan& FrameRenderer::plan() const { return impl_->plan; }

PixelLayout FrameRenderer::layout() const { return impl_->layout; }

void FrameRenderer::Render(int index, Image* out) const {
  const Impl& s = *impl_;
  if (s.layout != PixelLayout::kRgb) throw std::logic_error("FrameRenderer: RGB frame from a YUV renderer");
  const Affine& m = s.plan.frames.at(index);
  const cv::Size size(s.plan.frame.width, s.plan.frame.height);
  // Reuse the caller's buffer across frames and sample straight into it.
  if (out->width != size.width || out->height != size.height || out->channels != 3) {
    *out = Image(size.width, size.height, 3);
  }
  cv::Mat dst = Wrap(*out);
  if (!s.contain) {
    Sample(s.rgb, m, size, s.plan.bicubic, false, dst);
    return;
  }
  cv::Mat fg, alpha;
  Sample(s.rgb, m, size, s.plan.bicubic, true, fg);
  Sample(s.alpha, m, size, false, true, alpha);
  Over(fg, alpha, s.background, dst);
}

void FrameRenderer::Render(int index, YuvFrame* out) const {
  const Impl& s = *impl_;
  if (s.layout != PixelLayout::kYuv420) throw std::logic_error("FrameRenderer: YUV frame from an RGB renderer");
  const Affine& m = s.plan.frames.at(index);
  const Affine mc = ChromaAffine(m);
  const cv::Size size(s.plan.frame.width, s.plan.frame.height);
  const cv::Size half(size.width / 2, size.height / 2);
  if (out->width != size.width || out->height != size.height) *out = YuvFrame(size.width, size.height);
  cv::Mat y = Wrap(out->y, size.width, size.height);
  cv::Mat u = Wrap(out->u, half.width, half.height);
  cv::Mat v = Wrap(out->v, half.width, half.height);
  if (!s.contain) {
    Sample(s.luma, m, size, s.plan.bicubic, false, y);
    Sample(s.cb, mc, half, s.plan.bicubic, false, u);
    Sample(s.cr, mc, half, s.plan.bicubic, false, v);
    return;
  }
  cv::Mat fg, alpha;
  Sample(s.alpha, m, size, false, true, alpha);
  Sample(s.luma, m, size, s.plan.bicubic, true, fg);
  Over(fg, alpha, s.background, y);
  Sample(s.alpha_chroma, mc, half, false, true, alpha);
  Sample(s.cb, mc, half, s.plan.bicubic, true, fg);
  Over(fg, alpha, s.background_cb, u);
  Sample(s.cr, mc, half, s.plan.bicubic, true, fg);
  Over(fg, alpha, s.background_cr, v);
}

void UseSingleThreadedKernels() { cv::setNumThreads(1); }

}  // namespace iv::engine
