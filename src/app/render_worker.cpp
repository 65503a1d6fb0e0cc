#include "app/render_worker.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/render_video.h"
#include "domain/render_settings_json.h"
#include "engine/settings_names.h"
#include "infra/crypto.h"
#include "infra/encrypted_blobs.h"

namespace iv::app {

namespace fs = std::filesystem;

struct RenderWorkers::State {
  State(domain::VideoStore& v, domain::UserKeys& k, infra::BlobStore& b, const infra::Clock& c, WorkerOptions o)
      : videos(v), keys(k), blobs(b), clock(c), options(std::move(o)) {}

  domain::VideoStore& videos;
  domain::UserKeys& keys;
  infra::BlobStore& blobs;
  const infra::Clock& clock;
  WorkerOptions options;
  std::string instance = infra::RandomId();  // names this process's leases
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::condition_variable wake;
  std::vector<std::thread> threads;

  std::int64_t Now() const { return infra::ToUnixMillis(clock.Now()); }
  void Log(const std::string& line) const { std::fprintf(stderr, "imagevideo: worker: %s\n", line.c_str()); }

  void Loop(int index) {
    const std::string worker = instance + "/" + std::to_string(index);
    while (!stopping.load()) {
      if (auto r = videos.RecoverExpired(Now(), options.retry_backoff_ms, options.max_attempts); !r.ok()) {
        Log(r.status().message());
      }
      auto job = videos.Claim(worker, Now(), options.lease_ms);
      if (!job.ok()) Log(job.status().message());
      if (job.ok() && job->has_value()) {
        Run(worker, **job);
        continue;
      }
      std::unique_lock lock(mu);
      wake.wait_for(lock, std::chrono::milliseconds(500), [&] { return stopping.load(); });
    }
  }

  void Run(const std::string& worker, const domain::VideoRecord& job) {
    const std::string base = (fs::path(options.temp_dir) / ("job-" + job.id)).string();
    const std::string input = base + ".jpg";
    auto settings = domain::SettingsFromJson(nlohmann::json::parse(job.settings_json, nullptr, false));
    const std::string output = base + "." + (settings.ok() ? std::string(engine::Name(settings->format)) : "mp4");
    Status outcome = Render(worker, job, settings, input, output);
    ::unlink(input.c_str());
    ::unlink(output.c_str());
    if (outcome.ok() || outcome.code() == StatusCode::kCanceled) return;
    if (outcome.code() == StatusCode::kInternal) {
      // Not the user's fault: leave the lease to expire, so the job is
      // retried with backoff (and failed after max_attempts).
      Log("video " + job.id + ": " + outcome.message());
      return;
    }
    (void)videos.Fail(job.id, worker, "Rendering failed", outcome.message(), Now());
  }

  Status Render(const std::string& worker, const domain::VideoRecord& job,
                const Result<engine::RenderSettings>& settings, const std::string& input, const std::string& output) {
    IV_RETURN_IF_ERROR(settings.status());
    IV_ASSIGN_OR_RETURN(infra::Key dek, keys.DataKey(job.user_id));
    struct WipeOnExit {
      infra::Key& key;
      ~WipeOnExit() { infra::Wipe(key); }
    } wipe{dek};
    Status decrypted =
        infra::DecryptToFile(blobs, domain::ImageService::WorkingCopyKey(job.user_id, job.image_id), dek, input);
    if (decrypted.code() == StatusCode::kNotFound) {
      return Status::InvalidArgument("the photo of this video was deleted");
    }
    IV_RETURN_IF_ERROR(decrypted);

    RenderRequest request;
    request.input_path = input;
    request.output_path = output;
    request.settings = *settings;
    request.threads = options.render_threads;
    std::atomic<bool> cancel{false};
    auto last_beat = std::chrono::steady_clock::now();
    auto progress = [&](double fraction) {
      if (stopping.load()) cancel = true;
      auto now = std::chrono::steady_clock::now();
      if (now - last_beat < std::chrono::seconds(1)) return;
      last_beat = now;
      auto held = videos.Heartbeat(job.id, worker, fraction, Now(), options.lease_ms);
      if (held.ok() && !*held) cancel = true;  // canceled, deleted, or taken over
    };
    auto summary = RenderVideoFile(request, progress, &cancel);
    if (!summary.ok()) {
      if (summary.status().code() == StatusCode::kCanceled && stopping.load()) {
        (void)videos.Release(job.id, worker);  // another worker, or the next start, takes it
      }
      return summary.status();
    }
    const std::string key = domain::VideoService::FileKey(job.user_id, job.id);
    IV_RETURN_IF_ERROR(infra::EncryptFile(blobs, key, dek, output));
    IV_ASSIGN_OR_RETURN(bool done, videos.Succeed(job.id, worker, static_cast<std::int64_t>(summary->bytes), Now()));
    if (!done) {
      // Canceled or deleted while rendering: the file has no owner.
      (void)blobs.Delete(key);
      return Status::Canceled("the video was canceled");
    }
    return Status::Ok();
  }
};

RenderWorkers::RenderWorkers(domain::VideoStore& videos, domain::UserKeys& keys, infra::BlobStore& blobs,
                             const infra::Clock& clock, WorkerOptions options)
    : state_(std::make_unique<State>(videos, keys, blobs, clock, std::move(options))) {}

RenderWorkers::~RenderWorkers() { Stop(); }

void RenderWorkers::Start() {
  for (int i = 0; i < state_->options.count; ++i) state_->threads.emplace_back([this, i] { state_->Loop(i); });
}

void RenderWorkers::Stop() {
  state_->stopping = true;
  state_->wake.notify_all();
  for (auto& t : state_->threads) t.join();
  state_->threads.clear();
}

}  // namespace iv::app
