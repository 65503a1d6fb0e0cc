#include "app/render_command.h"

#include <csignal>
#include <cstdio>
#include <map>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "app/progress_bar.h"
#include "app/render_video.h"
#include "engine/settings_names.h"

namespace iv::app {

namespace {

std::atomic<bool> g_interrupted{false};

extern "C" void OnInterrupt(int) { g_interrupted.store(true); }

// Options as typed; names are parsed and checked after CLI11 is done so all
// messages come from one place and look alike.
struct RenderOptions {
  std::string input;
  std::string output;
  std::string camera = "zoom-in";
  double intensity = 0.5;
  std::string easing = "ease-in-out";
  double duration_s = 5.0;
  int fps = 30;
  std::string size = "1080p";
  std::string aspect = "16:9";
  std::string fit = "cover";
  std::optional<std::string> format;
  std::string quality = "balanced";
  bool loop = false;
  std::uint64_t seed = 0;
  int threads = 0;
  double max_megapixels = 100;
  bool json = false;
};

// API field name -> CLI flag, for errors from engine::Validate.
const std::map<std::string, std::string> kFlagForField = {
    {"intensity", "--intensity"}, {"duration_s", "--duration"}, {"fps", "--fps"},
    {"size", "--size"},           {"aspect", "--aspect"},
};

template <typename E>
Status ParseName(const std::string& flag, const std::string& value, E* out, const std::string& accepted) {
  if (engine::Parse(value, out)) return Status::Ok();
  return Status::InvalidArgument(flag + ": unknown value '" + value + "' (use " + accepted + ")");
}

Result<engine::RenderSettings> ToSettings(const RenderOptions& o, bool aspect_given) {
  engine::RenderSettings s;
  IV_RETURN_IF_ERROR(ParseName("--camera", o.camera, &s.camera, engine::CameraNames()));
  IV_RETURN_IF_ERROR(ParseName("--easing", o.easing, &s.easing, engine::EasingNames()));
  IV_RETURN_IF_ERROR(ParseName("--fit", o.fit, &s.fit, engine::FitNames()));
  IV_RETURN_IF_ERROR(ParseName("--quality", o.quality, &s.quality, engine::QualityNames()));
  if (!engine::ParseSize(o.size, &s.size)) {
    return Status::InvalidArgument("--size: unknown value '" + o.size + "' (use 480p | 720p | 1080p | 4k | WxH)");
  }
  if (!engine::ParseAspect(o.aspect, &s.aspect)) {
    return Status::InvalidArgument("--aspect: unknown value '" + o.aspect +
                                   "' (use 16:9 | 9:16 | 1:1 | 4:5 | 21:9 | source | N:M)");
  }
  if (aspect_given && s.size.explicit_pixels()) {
    return Status::InvalidArgument("--aspect: cannot be combined with an explicit --size WxH, which sets the aspect");
  }
  engine::VideoFormat from_extension;
  bool known_extension = engine::FormatFromPath(o.output, &from_extension);
  if (o.format) {
    IV_RETURN_IF_ERROR(ParseName("--format", *o.format, &s.format, engine::FormatNames()));
    if (known_extension && from_extension != s.format) {
      return Status::InvalidArgument("--format " + *o.format + " does not match the extension of " + o.output);
    }
  } else if (known_extension) {
    s.format = from_extension;
  } else {
    return Status::InvalidArgument("cannot tell the video format from '" + o.output + "': name it .mp4, .webm or .gif, or use --format");
  }
  s.intensity = o.intensity;
  s.duration_s = o.duration_s;
  s.fps = o.fps;
  s.loop = o.loop;
  s.seed = o.seed;
  if (auto errors = engine::Validate(s); !errors.empty()) {
    const auto& e = errors.front();
    auto flag = kFlagForField.find(e.field);
    return Status::InvalidArgument((flag != kFlagForField.end() ? flag->second : e.field) + ": " + e.message);
  }
  return s;
}

void PrintSummary(const RenderSummary& s) {
  nlohmann::json j = {
      {"output", s.output_path}, {"format", engine::Name(s.format)},
      {"width", s.width},        {"height", s.height},
      {"fps", s.fps},            {"frames", s.frames},
      {"duration_s", s.duration_s}, {"bytes", s.bytes},
      {"seconds", std::round(s.wall_s * 1000) / 1000},
  };
  std::printf("%s\n", j.dump().c_str());
}

class RenderCommand : public Command {
 public:
  explicit RenderCommand(CLI::App& app) {
    cmd_ = app.add_subcommand("render", "Render a photo into a video file");
    cmd_->add_option("INPUT", o_.input, "Photo: JPEG, PNG, WebP, TIFF, HEIC or AVIF")->required();
    cmd_->add_option("-o,--output", o_.output, "Video file to write (.mp4, .webm or .gif)")->required();
    cmd_->add_option("--camera", o_.camera, "Camera move: " + engine::CameraNames())->capture_default_str();
    cmd_->add_option("--intensity", o_.intensity, "Strength of the move, 0..1")->capture_default_str();
    cmd_->add_option("--easing", o_.easing, "Speed curve: " + engine::EasingNames())->capture_default_str();
    cmd_->add_option("--duration", o_.duration_s, "Length in seconds, 1..20")->capture_default_str();
    cmd_->add_option("--fps", o_.fps, "Frames per second, 12..60")->capture_default_str();
    cmd_->add_option("--size", o_.size, "Frame size: 480p | 720p | 1080p | 4k | WxH")->capture_default_str();
    aspect_ = cmd_->add_option("--aspect", o_.aspect, "Frame aspect: 16:9 | 9:16 | 1:1 | 4:5 | 21:9 | source")
                  ->capture_default_str();
    cmd_->add_option("--fit", o_.fit, "cover (fill the frame) | contain (whole photo, blurred bars)")
        ->capture_default_str();
    cmd_->add_option("--format", o_.format, "mp4 | webm | gif (default: from the output's extension)");
    cmd_->add_option("--quality", o_.quality, "Encoding: " + engine::QualityNames())->capture_default_str();
    cmd_->add_flag("--loop", o_.loop, "Return to the first frame so the video loops seamlessly");
    cmd_->add_option("--seed", o_.seed, "Seed for the random parts of a move (handheld)")->capture_default_str();
    cmd_->add_option("--threads", o_.threads, "Threads for rendering and encoding (0 = all cores)")
        ->capture_default_str();
    cmd_->add_option("--max-megapixels", o_.max_megapixels, "Refuse larger photos")->capture_default_str();
    cmd_->add_flag("--json", o_.json, "Print a JSON summary (frames, seconds, bytes) on stdout");
  }

  bool Selected() const override { return cmd_->parsed(); }

  int Run() override {
    auto settings = ToSettings(o_, aspect_->count() > 0);
    if (!settings.ok()) return Fail(settings.status());
    if (o_.threads < 0 || o_.threads > 256) return Fail(Status::InvalidArgument("--threads: must be between 0 and 256"));
    if (!(o_.max_megapixels > 0)) return Fail(Status::InvalidArgument("--max-megapixels: must be positive"));

    RenderRequest request;
    request.input_path = o_.input;
    request.output_path = o_.output;
    request.settings = *settings;
    request.threads = o_.threads;
    request.limits.max_pixels = static_cast<std::int64_t>(o_.max_megapixels * 1e6);

    // Ctrl-C cancels cleanly: the temporary file is removed on the way out.
    std::signal(SIGINT, OnInterrupt);
    std::signal(SIGTERM, OnInterrupt);
    ProgressBar bar(true);
    auto result = RenderVideoFile(request, [&](double f) { bar.Update(f); }, &g_interrupted);
    bar.Finish();
    if (!result.ok()) return Fail(result.status());
    if (o_.json) PrintSummary(*result);
    return 0;
  }

 private:
  static int Fail(const Status& status) {
    PrintError(status.message().c_str());
    return ExitCodeFor(status);
  }

  CLI::App* cmd_ = nullptr;
  CLI::Option* aspect_ = nullptr;
  RenderOptions o_;
};

}  // namespace

void PrintError(const char* message) { std::fprintf(stderr, "imagevideo: %s\n", message); }

std::unique_ptr<Command> AddRenderCommand(CLI::App& app) { return std::make_unique<RenderCommand>(app); }

}  // namespace iv::app
