// Private to iv_media: the pieces video_encoder.cpp (mp4, webm) and
// gif_encoder.cpp (gif) share. Implemented in video_encoder.cpp. Not part of
// any public header, so FFmpeg's headers stay inside the media library.
#pragma once

#include <functional>
#include <memory>
#include <string>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

#include "common/status.h"
#include "engine/image.h"
#include "media/video_encoder.h"

namespace iv::media::internal {

// ---- RAII for FFmpeg objects ------------------------------------------------

struct FormatContextDeleter {
  void operator()(AVFormatContext* ctx) const {
    if (ctx->pb && !(ctx->oformat->flags & AVFMT_NOFILE)) avio_closep(&ctx->pb);
    avformat_free_context(ctx);
  }
};
struct CodecContextDeleter {
  void operator()(AVCodecContext* ctx) const { avcodec_free_context(&ctx); }
};
struct FrameDeleter {
  void operator()(AVFrame* frame) const { av_frame_free(&frame); }
};
struct PacketDeleter {
  void operator()(AVPacket* packet) const { av_packet_free(&packet); }
};
using FormatContextPtr = std::unique_ptr<AVFormatContext, FormatContextDeleter>;
using CodecContextPtr = std::unique_ptr<AVCodecContext, CodecContextDeleter>;
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;
using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;

// ---- Errors -----------------------------------------------------------------

// av_strerror's text for an FFmpeg error code (strerror's for AVERROR(errno)).
std::string AvErrorText(int err);
// kInternal "<what>: <av_strerror text>".
Status AvInternal(const std::string& what, int err);

// ---- Codecs and muxing --------------------------------------------------------

// options.threads, with 0 meaning one per core.
int ResolveThreads(int threads);

Result<CodecContextPtr> AllocCodec(const AVCodec* codec);

// Runs on each packet, in codec time base, before it is written.
using PacketFix = std::function<void(AVPacket&)>;

// One video stream written to one file. Nothing touches the disk before
// Open(), which the encoders call once their codec has opened.
class OutputFile {
 public:
  // Prepares a bit-exact muxer of `format_name` ("mp4", "webm", "gif").
  Status Create(const std::string& path, const char* format_name);

  // Whether the codec must put its headers in extradata (AV_CODEC_FLAG_GLOBAL_HEADER).
  bool wants_global_header() const;

  // Adds the stream `codec` produces, creates the file and writes the header.
  // `muxer_options` (private muxer options such as movflags) is consumed.
  // A file that cannot be created is kInvalidArgument naming path and reason.
  Status Open(const AVCodecContext* codec, AVRational frame_rate, AVDictionary* muxer_options);

  // Moves every packet `codec` has ready into the file.
  Status WritePackets(AVCodecContext* codec, const PacketFix& fix);

  // Signals end of stream to `codec` and writes what it still held.
  Status FlushEncoder(AVCodecContext* codec, const PacketFix& fix);

  // Writes the trailer and closes the file; errors here (a full disk) count.
  Status Close();

 private:
  std::string path_;
  FormatContextPtr ctx_;
  PacketPtr packet_;
  AVStream* stream_ = nullptr;  // owned by ctx_
};

// ---- Call order -------------------------------------------------------------

// Enforces Open -> (BeginPass, frame_count x WriteFrame)* -> Finish and checks
// each frame, so implementations only see valid calls. After any failure the
// encoder refuses further work: its state is no longer trustworthy.
class EncoderBase : public VideoEncoder {
 public:
  EncoderBase(const EncoderOptions& options, int passes) : options_(options), passes_(passes) {}

  int passes() const final { return passes_; }
  bool accepts_yuv() const override { return false; }
  Status BeginPass(int pass) final;
  Status WriteFrame(const engine::Image& frame) final;
  Status WriteFrame(const engine::YuvFrame& frame) final;
  Status Finish() final;

 protected:
  // Called once per pass, after the previous pass got all its frames.
  virtual Status OnBeginPass(int pass) = 0;
  // `frame` is RGB of the configured size; `index` counts from 0 in each pass.
  virtual Status OnFrame(const engine::Image& frame, int index) = 0;
  // The same for a 4:2:0 frame; only called when accepts_yuv().
  virtual Status OnFrame(const engine::YuvFrame& frame, int index) {
    return Status::Internal("this encoder takes RGB frames");
  }
  // Called once, after the last pass got all its frames.
  virtual Status OnFinish() = 0;

  const EncoderOptions options_;

 private:
  Status CheckUsable() const;
  Status CheckPassComplete() const;
  // Checks shared by both WriteFrame()s; `shape_ok` says the frame has the
  // configured size and layout, `shape` describes it for the error.
  Status CheckFrame(bool shape_ok, const std::string& shape) const;
  Status Track(Status status);

  const int passes_;
  int pass_ = -1;
  int frames_ = 0;  // frames written in the current pass
  bool finished_ = false;
  bool failed_ = false;
};

}  // namespace iv::media::internal
