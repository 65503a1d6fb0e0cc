// GIF encoding in two passes through libavfilter:
//   pass 0  frames -> palettegen -> one 256-colour palette for the whole video
//   pass 1  frames + palette -> paletteuse (ordered dithering) -> GIF encoder
// A palette made from the video's own frames beats a fixed one by far; Bayer
// dithering gives the same pattern wherever a colour stays put, so still
// areas do not shimmer the way error diffusion makes them.
//
// Frames move through the graphs one at a time in time base 1/fps (pts =
// index), so they never collide and memory does not grow with the video's
// length. The GIF's own centisecond timestamps are set when encoding.
#include "media/gif_encoder.h"

#include <cmath>
#include <string>

extern "C" {
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/pixdesc.h>
}

#include "media/encoder_internal.h"

namespace iv::media::internal {
namespace {

using engine::Image;

struct GraphDeleter {
  void operator()(AVFilterGraph* graph) const { avfilter_graph_free(&graph); }
};
using GraphPtr = std::unique_ptr<AVFilterGraph, GraphDeleter>;

Result<AVFilterContext*> AddFilter(AVFilterGraph* graph, const char* filter_name, const char* instance,
                                   const std::string& args) {
  const AVFilter* filter = avfilter_get_by_name(filter_name);
  if (!filter) return Status::Internal(std::string("filter ") + filter_name + " is not available");
  AVFilterContext* ctx = nullptr;
  int ret = avfilter_graph_create_filter(&ctx, filter, instance, args.empty() ? nullptr : args.c_str(), nullptr, graph);
  if (ret < 0) return AvInternal(std::string("cannot create filter ") + filter_name, ret);
  return ctx;
}

Status Link(AVFilterContext* from, AVFilterContext* to, unsigned to_pad = 0) {
  int ret = avfilter_link(from, 0, to, to_pad);
  if (ret < 0) return AvInternal("cannot link filters", ret);
  return Status::Ok();
}

// Arguments of a "buffer" source of frames in the given shape.
std::string BufferArgs(int width, int height, AVPixelFormat format, AVRational time_base) {
  return "video_size=" + std::to_string(width) + "x" + std::to_string(height) + ":pix_fmt=" +
         av_get_pix_fmt_name(format) + ":time_base=" + std::to_string(time_base.num) + "/" +
         std::to_string(time_base.den) + ":pixel_aspect=1/1";
}

class GifEncoder final : public EncoderBase {
 public:
  explicit GifEncoder(const EncoderOptions& options) : EncoderBase(options, /*passes=*/2) {}

  Status Init(const std::string& path) {
    IV_RETURN_IF_ERROR(out_.Create(path, "gif"));
    const AVCodec* encoder = avcodec_find_encoder(AV_CODEC_ID_GIF);
    if (!encoder) return Status::Internal("the GIF encoder is not available");
    IV_ASSIGN_OR_RETURN(codec_, AllocCodec(encoder));
    AVCodecContext* c = codec_.get();
    c->width = options_.width;
    c->height = options_.height;
    c->pix_fmt = AV_PIX_FMT_PAL8;
    c->time_base = AVRational{1, 100};  // GIF delays are in centiseconds
    c->sample_aspect_ratio = AVRational{1, 1};
    c->thread_count = 1;  // the GIF encoder has no threading
    c->flags |= AV_CODEC_FLAG_BITEXACT;
    int ret = avcodec_open2(c, encoder, nullptr);
    if (ret < 0) return AvInternal("cannot open the GIF encoder", ret);

    input_.reset(av_frame_alloc());
    filtered_.reset(av_frame_alloc());
    if (!input_ || !filtered_) return Status::Internal("out of memory");

    AVDictionary* muxer_options = nullptr;
    av_dict_set(&muxer_options, "loop", "0", 0);  // loop forever
    // The muxer repeats the previous delay for the last frame unless told;
    // with alternating delays that could make the GIF a centisecond long.
    const int n = options_.frame_count;
    av_dict_set_int(&muxer_options, "final_delay", GifPts(n) - GifPts(n - 1), 0);
    return out_.Open(c, AVRational{options_.fps, 1}, muxer_options);
  }

 private:
  // Centisecond timestamp of frame i. Rounding each one, rather than using
  // one rounded delay, makes delays alternate (3,4,3 at 30 fps) so that the
  // total stays frame_count / fps.
  int64_t GifPts(int i) const { return std::llround(i * 100.0 / options_.fps); }

  Status OnBeginPass(int pass) override {
    if (pass == 0) return BuildPaletteGen();
    IV_ASSIGN_OR_RETURN(FramePtr palette, TakePalette());
    return BuildPaletteUse(palette.get());
  }

  Status OnFrame(const Image& frame, int index) override {
    IV_RETURN_IF_ERROR(Push(frame, index));
    return Pull();
  }

  Status OnFinish() override {
    int ret = av_buffersrc_add_frame(source_, nullptr);  // end of stream
    if (ret < 0) return AvInternal("cannot end the paletteuse input", ret);
    IV_RETURN_IF_ERROR(Pull());
    IV_RETURN_IF_ERROR(out_.FlushEncoder(codec_.get(), [this](AVPacket& p) { FixPacket(p); }));
    return out_.Close();
  }

  Status NewGraph() {
    graph_.reset(avfilter_graph_alloc());
    if (!graph_) return Status::Internal("out of memory");
    graph_->nb_threads = 1;  // neither palette filter is threaded
    return Status::Ok();
  }

  // Pass 0: frames -> palettegen -> sink. palettegen only accumulates a
  // colour histogram and emits the palette at end of stream. The graph
  // inserts the conversion from RGB24 to the BGRA that palettegen takes.
  Status BuildPaletteGen() {
    IV_RETURN_IF_ERROR(NewGraph());
    AVFilterGraph* g = graph_.get();
    IV_ASSIGN_OR_RETURN(source_, AddFilter(g, "buffer", "in", FrameSourceArgs()));
    IV_ASSIGN_OR_RETURN(AVFilterContext * gen,
                        AddFilter(g, "palettegen", "palettegen", "max_colors=256:reserve_transparent=0:stats_mode=full"));
    IV_ASSIGN_OR_RETURN(sink_, AddFilter(g, "buffersink", "out", ""));
    IV_RETURN_IF_ERROR(Link(source_, gen));
    IV_RETURN_IF_ERROR(Link(gen, sink_));
    return ConfigureGraph();
  }

  // End of pass 0: ends the stream and takes the 16x16 palette image.
  Result<FramePtr> TakePalette() {
    int ret = av_buffersrc_add_frame(source_, nullptr);
    if (ret < 0) return AvInternal("cannot end the palettegen input", ret);
    FramePtr palette(av_frame_alloc());
    if (!palette) return Status::Internal("out of memory");
    ret = av_buffersink_get_frame(sink_, palette.get());
    if (ret < 0) return AvInternal("palettegen produced no palette", ret);
    graph_.reset();
    return palette;
  }

  // Pass 1: frames -> paletteuse(palette) -> sink. The palette is fed once and
  // its input closed; paletteuse keeps using it for every later frame.
  Status BuildPaletteUse(AVFrame* palette) {
    IV_RETURN_IF_ERROR(NewGraph());
    AVFilterGraph* g = graph_.get();
    IV_ASSIGN_OR_RETURN(source_, AddFilter(g, "buffer", "in", FrameSourceArgs()));
    const auto palette_format = static_cast<AVPixelFormat>(palette->format);
    IV_ASSIGN_OR_RETURN(
        AVFilterContext * palette_source,
        AddFilter(g, "buffer", "palette", BufferArgs(palette->width, palette->height, palette_format, FrameTimeBase())));
    IV_ASSIGN_OR_RETURN(AVFilterContext * use, AddFilter(g, "paletteuse", "paletteuse", "dither=bayer:bayer_scale=2"));
    IV_ASSIGN_OR_RETURN(sink_, AddFilter(g, "buffersink", "out", ""));
    IV_RETURN_IF_ERROR(Link(source_, use, 0));
    IV_RETURN_IF_ERROR(Link(palette_source, use, 1));
    IV_RETURN_IF_ERROR(Link(use, sink_));
    IV_RETURN_IF_ERROR(ConfigureGraph());

    palette->pts = 0;
    int ret = av_buffersrc_add_frame(palette_source, palette);
    if (ret >= 0) ret = av_buffersrc_add_frame(palette_source, nullptr);
    if (ret < 0) return AvInternal("cannot feed the palette", ret);
    return Status::Ok();
  }

  Status ConfigureGraph() {
    int ret = avfilter_graph_config(graph_.get(), nullptr);
    if (ret < 0) return AvInternal("cannot configure the GIF filters", ret);
    return Status::Ok();
  }

  AVRational FrameTimeBase() const { return AVRational{1, options_.fps}; }
  std::string FrameSourceArgs() const {
    return BufferArgs(options_.width, options_.height, AV_PIX_FMT_RGB24, FrameTimeBase());
  }

  // Hands `frame` to the graph. The AVFrame only borrows the image's pixels;
  // the buffer source copies them because the frame is not reference counted.
  Status Push(const Image& frame, int index) {
    input_->format = AV_PIX_FMT_RGB24;
    input_->width = frame.width;
    input_->height = frame.height;
    input_->data[0] = const_cast<uint8_t*>(frame.pixels.data());
    input_->linesize[0] = static_cast<int>(frame.stride());
    input_->pts = index;
    int ret = av_buffersrc_add_frame_flags(source_, input_.get(), AV_BUFFERSRC_FLAG_KEEP_REF);
    av_frame_unref(input_.get());
    if (ret < 0) return AvInternal("cannot feed a frame to the GIF filters", ret);
    return Status::Ok();
  }

  // Takes whatever the graph has ready: nothing in pass 0 (palettegen waits
  // for the end), and in pass 1 each frame, encoded as it comes out.
  Status Pull() {
    while (true) {
      int ret = av_buffersink_get_frame(sink_, filtered_.get());
      if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return Status::Ok();
      if (ret < 0) return AvInternal("GIF filtering failed", ret);
      Status status = EncodeFiltered();
      av_frame_unref(filtered_.get());
      IV_RETURN_IF_ERROR(status);
    }
  }

  Status EncodeFiltered() {
    if (filtered_->format != AV_PIX_FMT_PAL8) return Status::Internal("paletteuse did not produce PAL8");
    filtered_->pts = GifPts(encoded_++);
    int ret = avcodec_send_frame(codec_.get(), filtered_.get());
    if (ret < 0) return AvInternal("GIF encoding failed", ret);
    return out_.WritePackets(codec_.get(), [this](AVPacket& p) { FixPacket(p); });
  }

  // The GIF encoder has no delay: packet k is frame k. The muxer takes each
  // delay from the next packet's pts (the last from final_delay); durations
  // are set too so that nothing downstream has to guess.
  void FixPacket(AVPacket& packet) {
    packet.pts = packet.dts = GifPts(written_);
    packet.duration = GifPts(written_ + 1) - GifPts(written_);
    ++written_;
  }

  OutputFile out_;
  CodecContextPtr codec_;
  GraphPtr graph_;
  AVFilterContext* source_ = nullptr;  // owned by graph_
  AVFilterContext* sink_ = nullptr;    // owned by graph_
  FramePtr input_;
  FramePtr filtered_;
  int encoded_ = 0;  // frames sent to the encoder
  int written_ = 0;  // packets written
};

}  // namespace

Result<std::unique_ptr<VideoEncoder>> OpenGifEncoder(const std::string& path, const EncoderOptions& options) {
  auto encoder = std::make_unique<GifEncoder>(options);
  IV_RETURN_IF_ERROR(encoder->Init(path));
  return std::unique_ptr<VideoEncoder>(std::move(encoder));
}

}  // namespace iv::media::internal
