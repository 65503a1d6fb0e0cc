// /api/v1/videos*: render requests, their state, and the finished files.
#include "domain/render_settings_json.h"
#include "http/api.h"
#include "http/json_body.h"
#include "http/problem.h"
#include "http/range.h"
#include "infra/clock.h"

#include <condition_variable>
#include <mutex>
#include <thread>

namespace iv::http {

namespace {

nlohmann::json Time(const std::optional<std::int64_t>& ms) {
  if (!ms) return nullptr;
  return infra::ToRfc3339(infra::FromUnixMillis(*ms));
}

nlohmann::json VideoJson(const domain::VideoRecord& v, std::optional<std::int64_t> queue_position) {
  const bool done = v.state == domain::VideoState::kSucceeded;
  nlohmann::json error = nullptr;
  if (v.error_title) error = {{"title", *v.error_title}, {"detail", v.error_detail.value_or("")}};
  nlohmann::json settings = nlohmann::json::parse(v.settings_json, nullptr, false);
  settings["image_id"] = v.image_id;
  return {{"id", v.id},
          {"state", domain::VideoStateName(v.state)},
          {"progress", v.progress},
          {"queue_position", queue_position ? nlohmann::json(*queue_position) : nullptr},
          {"eta_s", nullptr},
          {"error", error},
          {"settings", settings},
          {"created_at", Time(v.created_at)},
          {"started_at", Time(v.started_at)},
          {"finished_at", Time(v.finished_at)},
          {"file_url", done ? nlohmann::json("/api/v1/videos/" + v.id + "/file") : nullptr},
          {"poster_url", nullptr},
          {"share", nullptr}};
}

bool Finished(domain::VideoState s) {
  return s == domain::VideoState::kSucceeded || s == domain::VideoState::kFailed ||
         s == domain::VideoState::kCanceled;
}

nlohmann::json ProgressJson(const domain::VideoView& v) {
  return {{"progress", v.record.progress},
          {"queue_position", v.queue_position ? nlohmann::json(*v.queue_position) : nullptr},
          {"eta_s", nullptr}};
}

}  // namespace

struct VideoEvents::State {
  struct Watch {
    std::string user_id, video_id;
    std::shared_ptr<SseStream> stream;
    nlohmann::json last_state, last_progress;
  };
  explicit State(domain::VideoService& v) : videos(v) {}
  domain::VideoService& videos;
  std::mutex mu;
  std::condition_variable wake;
  std::vector<Watch> watches;
  bool stopping = false;
  std::thread poller;

  // Sends what changed; false when the watch is over.
  bool Update(Watch& w) {
    if (w.stream->closed()) return false;
    auto video = videos.Get(w.user_id, w.video_id);
    if (!video.ok()) {  // deleted meanwhile
      w.stream->Send("done", "null");
      w.stream->Close();
      return false;
    }
    nlohmann::json resource = VideoJson(video->record, video->queue_position);
    nlohmann::json progress = ProgressJson(*video);
    if (resource["state"] != w.last_state) {
      w.stream->Send("state", resource.dump());
      w.last_state = resource["state"];
    }
    if (progress != w.last_progress) {
      w.stream->Send("progress", progress.dump());
      w.last_progress = progress;
    }
    if (Finished(video->record.state)) {
      w.stream->Send("done", resource.dump());
      w.stream->Close();
      return false;
    }
    return true;
  }

  void Loop() {
    std::unique_lock lock(mu);
    while (!stopping) {
      std::vector<Watch> current;
      current.swap(watches);
      lock.unlock();
      std::vector<Watch> keep;
      for (auto& w : current)
        if (Update(w)) keep.push_back(std::move(w));
      lock.lock();
      for (auto& w : keep) watches.push_back(std::move(w));
      wake.wait_for(lock, std::chrono::milliseconds(500), [&] { return stopping; });
    }
  }
};

VideoEvents::VideoEvents(domain::VideoService& videos) : state_(std::make_unique<State>(videos)) {
  state_->poller = std::thread([s = state_.get()] { s->Loop(); });
}

VideoEvents::~VideoEvents() { Stop(); }

void VideoEvents::Watch(const std::string& user_id, const std::string& video_id, std::shared_ptr<SseStream> stream) {
  State::Watch w{user_id, video_id, std::move(stream), nullptr, nullptr};
  if (!state_->Update(w)) return;  // the first events go out at once
  std::lock_guard lock(state_->mu);
  state_->watches.push_back(std::move(w));
}

void VideoEvents::Stop() {
  {
    std::lock_guard lock(state_->mu);
    if (state_->stopping) return;
    state_->stopping = true;
  }
  state_->wake.notify_all();
  if (state_->poller.joinable()) state_->poller.join();
  for (auto& w : state_->watches) w.stream->Close();
  state_->watches.clear();
}

void AddVideoRoutes(Router& router, domain::VideoService& videos, VideoEvents& events) {
  router.Get("/api/v1/videos/{id}/events", [&videos, &events](Request& req) {
    const std::string user_id = Caller(req).user_id, id = req.PathParam("id");
    auto video = videos.Get(user_id, id);
    if (!video.ok()) return ProblemFor(video.status());
    auto [response, stream] = Response::EventStream();
    events.Watch(user_id, id, stream);
    return response;
  });

  router.Post("/api/v1/videos", [&videos](Request& req) {
    std::vector<std::string_view> allowed{"image_id"};
    for (const auto& f : domain::SettingsFields()) allowed.push_back(f);
    auto body = ParseJsonObject(req, allowed);
    if (!body.ok()) return ProblemFor(body.status());
    auto video = videos.Create(Caller(req).user_id, *body);
    if (!video.ok()) return ProblemFor(video.status());
    Response r = Response::Json(202, VideoJson(video->record, video->queue_position));
    r.headers.Set("Location", "/api/v1/videos/" + video->record.id);
    return r;
  });

  router.Get("/api/v1/videos", [&videos](Request& req) {
    auto limit = LimitParam(req);
    if (!limit.ok()) return ProblemFor(limit.status());
    auto page = videos.List(Caller(req).user_id, *limit, req.Query("cursor").value_or(""));
    if (!page.ok()) return ProblemFor(page.status());
    nlohmann::json items = nlohmann::json::array();
    for (const auto& v : page->items) items.push_back(VideoJson(v, std::nullopt));
    return Response::Json(200, {{"items", items},
                                {"next_cursor", page->next_cursor ? nlohmann::json(*page->next_cursor) : nullptr}});
  });

  router.Get("/api/v1/videos/{id}", [&videos](Request& req) {
    auto video = videos.Get(Caller(req).user_id, req.PathParam("id"));
    if (!video.ok()) return ProblemFor(video.status());
    return Response::Json(200, VideoJson(video->record, video->queue_position));
  });

  router.Post("/api/v1/videos/{id}/cancel", [&videos](Request& req) {
    auto video = videos.Cancel(Caller(req).user_id, req.PathParam("id"));
    if (!video.ok()) return ProblemFor(video.status());
    return Response::Json(200, VideoJson(video->record, std::nullopt));
  });

  router.Add("DELETE", "/api/v1/videos/{id}", [&videos](Request& req) {
    Status s = videos.Delete(Caller(req).user_id, req.PathParam("id"));
    if (!s.ok()) return ProblemFor(s);
    return Response::NoContent();
  });

  router.Get("/api/v1/videos/{id}/file", [&videos](Request& req) {
    const std::string user_id = Caller(req).user_id, id = req.PathParam("id");
    auto probe = videos.OpenFile(user_id, id);
    if (!probe.ok()) return ProblemFor(probe.status());
    // A finished video never changes: its id is its ETag.
    Response r = ServeStoredFile(req, probe->size, probe->content_type, "\"" + id + "\"",
                                 [&videos, user_id, id]() -> Result<std::unique_ptr<infra::BlobReader>> {
                                   IV_ASSIGN_OR_RETURN(domain::VideoFile file, videos.OpenFile(user_id, id));
                                   return std::move(file.reader);
                                 });
    std::string name = "imagevideo-" + id + "." + probe->extension;
    r.headers.Set("Content-Disposition",
                  std::string(req.Query("download") ? "attachment" : "inline") + "; filename=\"" + name + "\"");
    return r;
  });
}

}  // namespace iv::http
