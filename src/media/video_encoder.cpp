// VideoEncoder on FFmpeg's libraries. Open() picks one of two implementations:
//   YuvEncoder (here)             mp4 (libx264) and webm (libvpx-vp9): RGB is
//                                 converted to yuv420p with libswscale, one pass.
//   GifEncoder (gif_encoder.cpp)  two passes through libavfilter's palettegen
//                                 and paletteuse.
// Both build on EncoderBase (call order) and OutputFile (muxing), declared in
// encoder_internal.h and implemented here.
#include "media/video_encoder.h"

#include <mutex>
#include <string>
#include <thread>
#include <utility>

extern "C" {
#include <libavutil/imgutils.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

#include "media/encoder_internal.h"
#include "media/gif_encoder.h"

namespace iv::media {
namespace internal {

// ---- Errors and small helpers ----------------------------------------------

std::string AvErrorText(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(err, buf, sizeof buf);
  return buf;
}

Status AvInternal(const std::string& what, int err) { return Status::Internal(what + ": " + AvErrorText(err)); }

int ResolveThreads(int threads) {
  if (threads > 0) return threads;
  unsigned cores = std::thread::hardware_concurrency();
  return cores > 0 ? static_cast<int>(cores) : 1;
}

Result<CodecContextPtr> AllocCodec(const AVCodec* codec) {
  CodecContextPtr ctx(avcodec_alloc_context3(codec));
  if (!ctx) return Status::Internal("out of memory");
  return ctx;
}

// ---- OutputFile ---------------------------------------------------------------

namespace {
struct DictDeleter {
  void operator()(AVDictionary* dict) const { av_dict_free(&dict); }
};
}  // namespace

Status OutputFile::Create(const std::string& path, const char* format_name) {
  path_ = path;
  AVFormatContext* ctx = nullptr;
  int ret = avformat_alloc_output_context2(&ctx, nullptr, format_name, path.c_str());
  if (ret < 0) return AvInternal(std::string("no ") + format_name + " muxer", ret);
  ctx_.reset(ctx);
  // Bit-exact muxing leaves out the library version string and any creation
  // time, which would otherwise make identical videos differ in bytes.
  ctx_->flags |= AVFMT_FLAG_BITEXACT;
  packet_.reset(av_packet_alloc());
  if (!packet_) return Status::Internal("out of memory");
  return Status::Ok();
}

bool OutputFile::wants_global_header() const { return ctx_->oformat->flags & AVFMT_GLOBALHEADER; }

Status OutputFile::Open(const AVCodecContext* codec, AVRational frame_rate, AVDictionary* muxer_options) {
  std::unique_ptr<AVDictionary, DictDeleter> options(muxer_options);
  stream_ = avformat_new_stream(ctx_.get(), nullptr);
  if (!stream_) return Status::Internal("cannot add a stream");
  int ret = avcodec_parameters_from_context(stream_->codecpar, codec);
  if (ret < 0) return AvInternal("cannot copy codec parameters", ret);
  stream_->time_base = codec->time_base;  // a hint; the muxer may pick another
  stream_->avg_frame_rate = frame_rate;
  stream_->r_frame_rate = frame_rate;

  ret = avio_open(&ctx_->pb, path_.c_str(), AVIO_FLAG_WRITE);
  if (ret < 0) {
    // The file protocol returns AVERROR(errno), which av_strerror turns into
    // strerror's text ("No such file or directory").
    return Status::InvalidArgument("cannot write " + path_ + ": " + AvErrorText(ret));
  }
  AVDictionary* opts = options.release();
  ret = avformat_write_header(ctx_.get(), &opts);
  options.reset(opts);  // what the muxer did not take
  if (ret < 0) return AvInternal("cannot write the " + std::string(ctx_->oformat->name) + " header", ret);
  if (const AVDictionaryEntry* left = av_dict_get(options.get(), "", nullptr, AV_DICT_IGNORE_SUFFIX)) {
    return Status::Internal(std::string("muxer option not recognised: ") + left->key);
  }
  return Status::Ok();
}

Status OutputFile::WritePackets(AVCodecContext* codec, const PacketFix& fix) {
  while (true) {
    int ret = avcodec_receive_packet(codec, packet_.get());
    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return Status::Ok();
    if (ret < 0) return AvInternal("encoding failed", ret);
    fix(*packet_);
    av_packet_rescale_ts(packet_.get(), codec->time_base, stream_->time_base);
    packet_->stream_index = stream_->index;
    ret = av_interleaved_write_frame(ctx_.get(), packet_.get());  // takes the packet's data
    if (ret < 0) return AvInternal("cannot write to " + path_, ret);
  }
}

Status OutputFile::FlushEncoder(AVCodecContext* codec, const PacketFix& fix) {
  int ret = avcodec_send_frame(codec, nullptr);
  if (ret < 0) return AvInternal("cannot flush the encoder", ret);
  return WritePackets(codec, fix);
}

Status OutputFile::Close() {
  int ret = av_write_trailer(ctx_.get());
  if (ret < 0) return AvInternal("cannot finish " + path_, ret);
  ret = avio_closep(&ctx_->pb);
  if (ret < 0) return AvInternal("cannot close " + path_, ret);
  return Status::Ok();
}

// ---- EncoderBase ----------------------------------------------------------------

Status EncoderBase::BeginPass(int pass) {
  IV_RETURN_IF_ERROR(CheckUsable());
  if (pass != pass_ + 1 || pass >= passes_) {
    return Status::Internal("BeginPass(" + std::to_string(pass) + ") out of order");
  }
  IV_RETURN_IF_ERROR(CheckPassComplete());
  pass_ = pass;
  frames_ = 0;
  return Track(OnBeginPass(pass));
}

Status EncoderBase::CheckFrame(bool shape_ok, const std::string& shape) const {
  IV_RETURN_IF_ERROR(CheckUsable());
  if (pass_ < 0) return Status::Internal("WriteFrame before BeginPass");
  if (frames_ >= options_.frame_count) {
    return Status::Internal("more than " + std::to_string(options_.frame_count) + " frames in pass " +
                            std::to_string(pass_));
  }
  // A wrong frame is the caller's mistake, not the encoder's: it is rejected
  // without touching the encoder, which stays usable.
  if (!shape_ok) {
    return Status::InvalidArgument("frame is " + shape + ", expected " + std::to_string(options_.width) + "x" +
                                   std::to_string(options_.height));
  }
  return Status::Ok();
}

Status EncoderBase::WriteFrame(const engine::Image& frame) {
  const bool shape_ok = frame.width == options_.width && frame.height == options_.height && frame.channels == 3 &&
                        frame.pixels.size() == frame.stride() * static_cast<size_t>(frame.height);
  IV_RETURN_IF_ERROR(CheckFrame(shape_ok, std::to_string(frame.width) + "x" + std::to_string(frame.height) + " with " +
                                              std::to_string(frame.channels) + " channels"));
  IV_RETURN_IF_ERROR(Track(OnFrame(frame, frames_)));
  ++frames_;
  return Status::Ok();
}

Status EncoderBase::WriteFrame(const engine::YuvFrame& frame) {
  if (!accepts_yuv()) return Status::InvalidArgument("this format takes RGB frames");
  const size_t luma = static_cast<size_t>(options_.width) * options_.height;
  const bool shape_ok = frame.width == options_.width && frame.height == options_.height && frame.y.size() == luma &&
                        frame.u.size() == luma / 4 && frame.v.size() == luma / 4;
  IV_RETURN_IF_ERROR(CheckFrame(shape_ok, std::to_string(frame.width) + "x" + std::to_string(frame.height) + " YUV"));
  IV_RETURN_IF_ERROR(Track(OnFrame(frame, frames_)));
  ++frames_;
  return Status::Ok();
}

Status EncoderBase::Finish() {
  IV_RETURN_IF_ERROR(CheckUsable());
  if (pass_ != passes_ - 1) return Status::Internal("Finish before the last pass");
  IV_RETURN_IF_ERROR(CheckPassComplete());
  IV_RETURN_IF_ERROR(Track(OnFinish()));
  finished_ = true;
  return Status::Ok();
}

Status EncoderBase::CheckUsable() const {
  if (failed_) return Status::Internal("encoder used after a failure");
  if (finished_) return Status::Internal("encoder used after Finish");
  return Status::Ok();
}

Status EncoderBase::CheckPassComplete() const {
  if (pass_ >= 0 && frames_ != options_.frame_count) {
    return Status::Internal("pass " + std::to_string(pass_) + " ended after " + std::to_string(frames_) + " of " +
                            std::to_string(options_.frame_count) + " frames");
  }
  return Status::Ok();
}

Status EncoderBase::Track(Status status) {
  if (!status.ok()) failed_ = true;
  return status;
}

}  // namespace internal

namespace {

using engine::Image;
using engine::Quality;
using engine::VideoFormat;
using internal::AvInternal;
using internal::CodecContextPtr;
using internal::FramePtr;
using internal::OutputFile;

struct SwsDeleter {
  void operator()(SwsContext* sws) const { sws_freeContext(sws); }
};
using SwsPtr = std::unique_ptr<SwsContext, SwsDeleter>;

// FFmpeg prints to stderr by default; the CLI must print exactly one line on
// failure, so FFmpeg stays quiet and every error comes back as a Status.
void SilenceFfmpegLogging() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_level(AV_LOG_QUIET); });
}

Status ValidateOptions(const EncoderOptions& o) {
  auto bad = [](const std::string& what) { return Status::InvalidArgument("video encoder: " + what); };
  if (o.width <= 0 || o.height <= 0 || o.width % 2 != 0 || o.height % 2 != 0) {
    return bad("frame size must be positive and even (got " + std::to_string(o.width) + "x" +
               std::to_string(o.height) + ")");
  }
  if (o.fps <= 0) return bad("fps must be positive (got " + std::to_string(o.fps) + ")");
  // GIF timestamps are centiseconds; beyond 100 fps two frames would share one.
  if (o.format == VideoFormat::kGif && o.fps > 100) {
    return bad("GIF fps must be at most 100 (got " + std::to_string(o.fps) + ")");
  }
  if (o.frame_count <= 0) return bad("frame count must be positive (got " + std::to_string(o.frame_count) + ")");
  if (o.threads < 0) return bad("threads must not be negative (got " + std::to_string(o.threads) + ")");
  return Status::Ok();
}

// ---- Codec settings -------------------------------------------------------------

struct Vp9Params {
  int cpu_used;
  int crf;
};

Vp9Params Vp9ParamsFor(Quality quality) {
  switch (quality) {
    case Quality::kDraft:
      return {8, 40};
    case Quality::kHigh:
      return {2, 28};
    case Quality::kBalanced:
      break;
  }
  return {5, 33};
}

Status SetPrivateOption(AVCodecContext* codec, const char* name, const std::string& value) {
  int ret = av_opt_set(codec->priv_data, name, value.c_str(), 0);
  if (ret < 0) return AvInternal(std::string("encoder option ") + name + "=" + value, ret);
  return Status::Ok();
}

Status ConfigureX264(AVCodecContext* codec, Quality quality) {
  X264Params params = X264ParamsFor(quality);
  IV_RETURN_IF_ERROR(SetPrivateOption(codec, "preset", params.preset));
  IV_RETURN_IF_ERROR(SetPrivateOption(codec, "crf", std::to_string(params.crf)));
  return SetPrivateOption(codec, "profile", "high");
}

Status ConfigureVp9(AVCodecContext* codec, Quality quality) {
  Vp9Params params = Vp9ParamsFor(quality);
  codec->bit_rate = 0;  // with crf: constant quality, no bitrate target
  IV_RETURN_IF_ERROR(SetPrivateOption(codec, "crf", std::to_string(params.crf)));
  IV_RETURN_IF_ERROR(SetPrivateOption(codec, "deadline", "good"));
  IV_RETURN_IF_ERROR(SetPrivateOption(codec, "cpu-used", std::to_string(params.cpu_used)));
  return SetPrivateOption(codec, "row-mt", "1");
}

// Size, timing and the BT.709 limited-range tags that MakeRgbToYuv matches.
void DescribeYuvStream(AVCodecContext* c, const EncoderOptions& o) {
  c->width = o.width;
  c->height = o.height;
  c->pix_fmt = AV_PIX_FMT_YUV420P;
  c->time_base = AVRational{1, o.fps};  // pts = frame index
  c->framerate = AVRational{o.fps, 1};
  c->sample_aspect_ratio = AVRational{1, 1};
  c->color_primaries = AVCOL_PRI_BT709;
  c->color_trc = AVCOL_TRC_BT709;
  c->colorspace = AVCOL_SPC_BT709;
  c->color_range = AVCOL_RANGE_MPEG;
  c->chroma_sample_location = AVCHROMA_LOC_LEFT;
  // A fixed thread count is part of what makes the output reproducible.
  c->thread_count = internal::ResolveThreads(o.threads);
  c->flags |= AV_CODEC_FLAG_BITEXACT;
}

// RGB (full-range sRGB) -> yuv420p with BT.709 coefficients and limited
// range, matching the tags we write; swscale's default is BT.601, which
// players would show with shifted hues. Chroma is sited "left" (H.264's
// default, the tag we write): on the even luma column, between two rows.
// Full-resolution chroma input avoids swscale's 2-pixel averaging shortcut,
// accurate rounding keeps flat colours exact, and bit-exact mode makes the
// result the same on every CPU, not just from run to run.
Result<SwsPtr> MakeRgbToYuv(int width, int height) {
  SwsPtr sws(sws_alloc_context());
  if (!sws) return Status::Internal("out of memory");
  const int64_t flags = SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INP | SWS_BITEXACT;
  const std::pair<const char*, int64_t> settings[] = {
      {"srcw", width},      {"srch", height},     {"src_format", AV_PIX_FMT_RGB24},   {"src_range", 1},
      {"dstw", width},      {"dsth", height},     {"dst_format", AV_PIX_FMT_YUV420P}, {"dst_range", 0},
      {"sws_flags", flags}, {"dst_h_chr_pos", 0}, {"dst_v_chr_pos", 128},
  };
  for (const auto& [name, value] : settings) {
    int ret = av_opt_set_int(sws.get(), name, value, 0);
    if (ret < 0) return AvInternal(std::string("swscale option ") + name, ret);
  }
  int ret = sws_init_context(sws.get(), nullptr, nullptr);
  if (ret < 0) return AvInternal("cannot set up RGB to YUV conversion", ret);
  const int* bt709 = sws_getCoefficients(SWS_CS_ITU709);
  ret = sws_setColorspaceDetails(sws.get(), bt709, /*srcRange=*/1, bt709, /*dstRange=*/0, /*brightness=*/0,
                                 /*contrast=*/1 << 16, /*saturation=*/1 << 16);
  if (ret < 0) return AvInternal("cannot select BT.709 conversion", ret);
  return sws;
}

// ---- mp4 / webm -------------------------------------------------------------------

class YuvEncoder final : public internal::EncoderBase {
 public:
  explicit YuvEncoder(const EncoderOptions& options) : EncoderBase(options, /*passes=*/1) {}

  Status Init(const std::string& path) {
    const bool mp4 = options_.format == VideoFormat::kMp4;
    const char* encoder_name = mp4 ? "libx264" : "libvpx-vp9";
    IV_RETURN_IF_ERROR(out_.Create(path, mp4 ? "mp4" : "webm"));
    const AVCodec* encoder = avcodec_find_encoder_by_name(encoder_name);
    if (!encoder) return Status::Internal(std::string("encoder ") + encoder_name + " is not available");
    IV_ASSIGN_OR_RETURN(codec_, internal::AllocCodec(encoder));
    AVCodecContext* c = codec_.get();
    DescribeYuvStream(c, options_);
    if (out_.wants_global_header()) c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    IV_RETURN_IF_ERROR(mp4 ? ConfigureX264(c, options_.quality) : ConfigureVp9(c, options_.quality));
    int ret = avcodec_open2(c, encoder, nullptr);
    if (ret < 0) return AvInternal(std::string("cannot open ") + encoder_name, ret);

    IV_ASSIGN_OR_RETURN(sws_, MakeRgbToYuv(options_.width, options_.height));
    IV_RETURN_IF_ERROR(AllocYuvFrame());

    AVDictionary* muxer_options = nullptr;
    // moov before mdat: players can start before the whole file has arrived.
    if (mp4) av_dict_set(&muxer_options, "movflags", "+faststart", 0);
    return out_.Open(c, c->framerate, muxer_options);
  }

 private:
  Status AllocYuvFrame() {
    yuv_.reset(av_frame_alloc());
    if (!yuv_) return Status::Internal("out of memory");
    yuv_->format = AV_PIX_FMT_YUV420P;
    yuv_->width = options_.width;
    yuv_->height = options_.height;
    int ret = av_frame_get_buffer(yuv_.get(), 0);
    if (ret < 0) return AvInternal("cannot allocate a frame", ret);
    return Status::Ok();
  }

  Status OnBeginPass(int) override { return Status::Ok(); }

  bool accepts_yuv() const override { return true; }

  Status OnFrame(const Image& frame, int index) override {
    IV_RETURN_IF_ERROR(MakeWritable());
    const uint8_t* src[] = {frame.pixels.data()};
    const int src_stride[] = {static_cast<int>(frame.stride())};
    int ret = sws_scale(sws_.get(), src, src_stride, 0, frame.height, yuv_->data, yuv_->linesize);
    if (ret < 0) return AvInternal("RGB to YUV conversion failed", ret);
    return Send(index);
  }

  Status OnFrame(const engine::YuvFrame& frame, int index) override {
    IV_RETURN_IF_ERROR(MakeWritable());
    const int w = frame.width, h = frame.height;
    av_image_copy_plane(yuv_->data[0], yuv_->linesize[0], frame.y.data(), w, w, h);
    av_image_copy_plane(yuv_->data[1], yuv_->linesize[1], frame.u.data(), w / 2, w / 2, h / 2);
    av_image_copy_plane(yuv_->data[2], yuv_->linesize[2], frame.v.data(), w / 2, w / 2, h / 2);
    return Send(index);
  }

  Status MakeWritable() {
    // The encoder may still hold a reference to the previous frame's buffer.
    int ret = av_frame_make_writable(yuv_.get());
    if (ret < 0) return AvInternal("cannot allocate a frame", ret);
    return Status::Ok();
  }

  Status Send(int index) {
    yuv_->pts = index;
    int ret = avcodec_send_frame(codec_.get(), yuv_.get());
    if (ret < 0) return AvInternal("encoding failed", ret);
    return out_.WritePackets(codec_.get(), FixDuration);
  }

  Status OnFinish() override {
    IV_RETURN_IF_ERROR(out_.FlushEncoder(codec_.get(), FixDuration));
    return out_.Close();
  }

  // Every frame lasts one tick of 1/fps. Encoders with a delay do not always
  // say so, and the muxer needs the last frame's duration, or the file comes
  // out one frame short.
  static void FixDuration(AVPacket& packet) {
    if (packet.duration <= 0) packet.duration = 1;
  }

  OutputFile out_;
  CodecContextPtr codec_;
  SwsPtr sws_;
  FramePtr yuv_;
};

}  // namespace

X264Params X264ParamsFor(engine::Quality quality) {
  switch (quality) {
    case Quality::kDraft:
      return {"veryfast", 26};
    case Quality::kHigh:
      return {"slow", 17};
    case Quality::kBalanced:
      break;
  }
  return {"medium", 20};
}

Result<std::unique_ptr<VideoEncoder>> VideoEncoder::Open(const std::string& path, const EncoderOptions& options) {
  SilenceFfmpegLogging();
  IV_RETURN_IF_ERROR(ValidateOptions(options));
  switch (options.format) {
    case VideoFormat::kMp4:
    case VideoFormat::kWebm: {
      auto encoder = std::make_unique<YuvEncoder>(options);
      IV_RETURN_IF_ERROR(encoder->Init(path));
      return std::unique_ptr<VideoEncoder>(std::move(encoder));
    }
    case VideoFormat::kGif:
      return internal::OpenGifEncoder(path, options);
  }
  return Status::InvalidArgument("video encoder: unknown format");
}

}  // namespace iv::media
