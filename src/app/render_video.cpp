#include "app/render_video.h"

#include <fcntl.h>
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>

#include "app/frame_pipeline.h"
#include "engine/frame_renderer.h"
#include "engine/render_plan.h"
#include "engine/saliency.h"
#include "engine/settings_names.h"
#include "media/video_encoder.h"

namespace iv::app {

namespace {

namespace fs = std::filesystem;

// A temporary file beside the output (same filesystem, so the final rename
// is atomic), removed on destruction unless committed.
class TempOutput {
 public:
  static Result<TempOutput> Create(const std::string& output_path) {
    fs::path out(output_path);
    if (out.filename().empty()) return Status::InvalidArgument("cannot write " + output_path + ": not a file name");
    std::error_code ec;
    if (fs::is_directory(out, ec)) return Status::InvalidArgument("cannot write " + output_path + ": is a directory");
    fs::path dir = out.parent_path().empty() ? fs::path(".") : out.parent_path();
    std::string tmpl = (dir / ("." + out.filename().string() + ".XXXXXX")).string();
    int fd = mkstemp(tmpl.data());
    if (fd < 0) return Status::InvalidArgument("cannot write " + output_path + ": " + std::strerror(errno));
    close(fd);
    return TempOutput(tmpl, output_path);
  }

  TempOutput(TempOutput&& other) noexcept : path_(std::move(other.path_)), final_(std::move(other.final_)) {
    other.path_.clear();
  }
  TempOutput(const TempOutput&) = delete;
  TempOutput& operator=(const TempOutput&) = delete;
  ~TempOutput() {
    if (!path_.empty()) unlink(path_.c_str());
  }

  const std::string& path() const { return path_; }

  Status Commit() {
    // mkstemp creates 0600; a finished video gets the usual mode of a new
    // file (reading umask would mean changing it, which races with threads).
    chmod(path_.c_str(), 0644);
    if (std::rename(path_.c_str(), final_.c_str()) != 0) {
      return Status::InvalidArgument("cannot write " + final_ + ": " + std::strerror(errno));
    }
    path_.clear();
    return Status::Ok();
  }

 private:
  TempOutput(std::string path, std::string final_path) : path_(std::move(path)), final_(std::move(final_path)) {}
  std::string path_;
  std::string final_;
};

int ResolveThreads(int requested) {
  if (requested > 0) return requested;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

}  // namespace

Result<RenderSummary> RenderVideoFile(const RenderRequest& request, const ProgressFn& progress,
                                      const std::atomic<bool>* cancel) {
  const auto started = std::chrono::steady_clock::now();
  const engine::RenderSettings& settings = request.settings;
  if (auto errors = engine::Validate(settings); !errors.empty()) {
    return Status::InvalidArgument(errors.front().field + " " + errors.front().message);
  }
  const int threads = ResolveThreads(request.threads);

  IV_ASSIGN_OR_RETURN(media::ImageHeader header, media::ReadImageHeader(request.input_path, request.limits));
  IV_ASSIGN_OR_RETURN(TempOutput temp, TempOutput::Create(request.output_path));

  media::DecodeOptions decode;
  decode.limits = request.limits;
  decode.target_width = engine::DecodeWidthFor(settings, header.width, header.height);
  IV_ASSIGN_OR_RETURN(engine::Image source, media::DecodeImage(request.input_path, decode));

  engine::Point2 salient{0.5, 0.5};
  if (settings.camera == engine::CameraPreset::kKenBurns) salient = engine::SalientPoint(source);
  engine::RenderPlan plan = engine::BuildPlan(settings, source.width, source.height, salient);
  // mp4 and webm take Y'CbCr frames straight from the renderer; GIF's
  // palette is built from RGB.
  const auto layout = settings.format == engine::VideoFormat::kGif ? engine::PixelLayout::kRgb
                                                                   : engine::PixelLayout::kYuv420;
  engine::UseSingleThreadedKernels();  // frames are rendered in parallel instead
  const engine::FrameRenderer renderer(source, plan, layout);
  // The renderer holds its own copy. Give the decoded photo and the
  // decoder's scratch memory back before the encoder allocates its
  // lookahead (hundreds of MB for x264 at 1080p): that keeps peak memory low.
  source = engine::Image();
  malloc_trim(0);

  media::EncoderOptions encoder_options;
  encoder_options.width = plan.frame.width;
  encoder_options.height = plan.frame.height;
  encoder_options.fps = settings.fps;
  encoder_options.frame_count = static_cast<int>(plan.frames.size());
  encoder_options.format = settings.format;
  encoder_options.quality = settings.quality;
  encoder_options.threads = threads;
  IV_ASSIGN_OR_RETURN(auto encoder, media::VideoEncoder::Open(temp.path(), encoder_options));
  if (layout == engine::PixelLayout::kYuv420 && !encoder->accepts_yuv()) {
    return Status::Internal("the encoder for " + std::string(engine::Name(settings.format)) + " takes no YUV frames");
  }

  const int passes = encoder->passes();
  const double total = static_cast<double>(passes) * encoder_options.frame_count;
  for (int pass = 0; pass < passes; ++pass) {
    IV_RETURN_IF_ERROR(encoder->BeginPass(pass));
    auto consume = [&](const auto& frame, int index) {
      Status s = encoder->WriteFrame(frame);
      if (progress) progress((pass * encoder_options.frame_count + index + 1) / total);
      return s;
    };
    if (renderer.layout() == engine::PixelLayout::kYuv420) {
      IV_RETURN_IF_ERROR(RunFramePipeline<engine::YuvFrame>(renderer, threads, consume, cancel));
    } else {
      IV_RETURN_IF_ERROR(RunFramePipeline<engine::Image>(renderer, threads, consume, cancel));
    }
  }
  IV_RETURN_IF_ERROR(encoder->Finish());
  encoder.reset();  // closes the file before it is renamed
  IV_RETURN_IF_ERROR(temp.Commit());

  RenderSummary summary;
  summary.output_path = request.output_path;
  summary.format = settings.format;
  summary.width = plan.frame.width;
  summary.height = plan.frame.height;
  summary.fps = settings.fps;
  summary.frames = encoder_options.frame_count;
  summary.duration_s = static_cast<double>(summary.frames) / settings.fps;
  std::error_code ec;
  summary.bytes = fs::file_size(request.output_path, ec);
  summary.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return summary;
}

}  // namespace iv::app
