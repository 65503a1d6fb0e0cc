// Encoding RGB frames into a video file through FFmpeg's libraries
// (libavcodec/libavformat/libswscale/libavfilter; never the ffmpeg program).
//
//   mp4:  H.264 (libx264), yuv420p, BT.709 colour tags, +faststart
//   webm: VP9 (libvpx-vp9), yuv420p, BT.709 colour tags
//   gif:  a palette generated from the video's own frames (palettegen) and
//         applied with ordered dithering (paletteuse), which stays stable from
//         frame to frame instead of crawling like error diffusion does
//
// Output is deterministic: the same frames and options give the same bytes
// (bit-exact muxing, no creation time, fixed encoder thread count).
//
// Usage: Open(), then for pass in [0, passes()): BeginPass(pass) and exactly
// frame_count WriteFrame() calls; then Finish(). GIF needs two passes (the
// palette is built from all frames first); mp4 and webm need one.
// If anything fails or the encoder is destroyed before Finish(), the partial
// file is left for the caller to remove (the caller writes to a temporary
// path and renames on success).
//
// Thread-safety: one encoder is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "engine/image.h"
#include "engine/render_settings.h"

namespace iv::media {

struct EncoderOptions {
  int width = 0;   // even, > 0
  int height = 0;  // even, > 0
  int fps = 30;
  int frame_count = 0;  // frames per pass
  engine::VideoFormat format = engine::VideoFormat::kMp4;
  // draft: x264 veryfast / CRF 26, VP9 cpu-used 8 / CRF 40
  // balanced: x264 medium / CRF 20, VP9 cpu-used 5 / CRF 33
  // high: x264 slow / CRF 17, VP9 cpu-used 2 / CRF 28
  engine::Quality quality = engine::Quality::kBalanced;
  // Encoder threads; 0 = one per core. Part of what makes output
  // reproducible: the same thread count gives the same bytes.
  int threads = 0;
};

// The x264 preset name and CRF used for a quality, so benchmarks can run a
// peer at exactly the same settings.
struct X264Params {
  const char* preset;
  int crf;
};
X264Params X264ParamsFor(engine::Quality quality);

class VideoEncoder {
 public:
  // Creates `path` (overwriting it) and prepares the encoder.
  // Errors: kInvalidArgument (bad options, cannot create the file: message
  // names the path and the OS reason), kInternal (codec missing or failing).
  static Result<std::unique_ptr<VideoEncoder>> Open(const std::string& path, const EncoderOptions& options);

  virtual ~VideoEncoder() = default;

  virtual int passes() const = 0;
  // Whether WriteFrame(YuvFrame) is accepted (mp4, webm): frames rendered
  // straight into Y'CbCr skip a colour conversion each.
  virtual bool accepts_yuv() const = 0;
  virtual Status BeginPass(int pass) = 0;
  // `frame` is RGB (3 channels) of exactly width x height. A frame of the
  // wrong shape is kInvalidArgument and leaves the encoder usable; any other
  // failure makes every later call fail with kInternal.
  virtual Status WriteFrame(const engine::Image& frame) = 0;
  // The same for a 4:2:0 frame in the layout YuvFrame documents.
  // Precondition: accepts_yuv().
  virtual Status WriteFrame(const engine::YuvFrame& frame) = 0;
  // Flushes the encoder and writes the trailer; the file is complete after.
  virtual Status Finish() = 0;
};

}  // namespace iv::media
