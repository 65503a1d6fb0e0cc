// Image: an 8-bit interleaved pixel buffer owned by value.
//
// The engine's only pixel type. Channels are RGB (3) or RGBA (4) in that
// order, sRGB-encoded, rows stored top to bottom without padding
// (stride == width * channels). Keeping the type this plain lets the engine's
// public headers stay free of OpenCV, libvips and FFmpeg; implementations wrap
// the buffer without copying where they need a library view.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace iv::engine {

struct Image {
  int width = 0;
  int height = 0;
  int channels = 3;
  std::vector<std::uint8_t> pixels;  // width * height * channels bytes

  Image() = default;
  Image(int w, int h, int c) : width(w), height(h), channels(c), pixels(static_cast<std::size_t>(w) * h * c) {}

  bool empty() const { return width <= 0 || height <= 0; }
  std::size_t stride() const { return static_cast<std::size_t>(width) * channels; }
  std::uint8_t* row(int y) { return pixels.data() + static_cast<std::size_t>(y) * stride(); }
  const std::uint8_t* row(int y) const { return pixels.data() + static_cast<std::size_t>(y) * stride(); }
};

}  // namespace iv::engine

namespace iv::engine {

// A frame as video encoders take it: Y'CbCr 4:2:0, BT.709 coefficients,
// limited range (Y 16..235, Cb/Cr 16..240), chroma sited "left" (on even
// luma columns, between two luma rows), as H.264 and VP9 assume by default.
// Rendering straight into this saves a colour conversion per frame.
struct YuvFrame {
  int width = 0;   // even
  int height = 0;  // even
  std::vector<std::uint8_t> y;  // width x height
  std::vector<std::uint8_t> u;  // width/2 x height/2 (Cb)
  std::vector<std::uint8_t> v;  // width/2 x height/2 (Cr)

  YuvFrame() = default;
  YuvFrame(int w, int h)
      : width(w),
        height(h),
        y(static_cast<std::size_t>(w) * h),
        u(static_cast<std::size_t>(w / 2) * (h / 2)),
        v(static_cast<std::size_t>(w / 2) * (h / 2)) {}
};

}  // namespace iv::engine
