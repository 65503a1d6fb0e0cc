// /api/v1/videos*: render requests, their state, and the finished files.
#include "domain/render_settings_json.h"
#include "http/api.h"
#include "http/json_body.h"
#include "http/problem.h"
#include "http/range.h"
#include "infra/clock.h"

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

}  // namespace

void AddVideoRoutes(Router& router, domain::VideoService& videos) {
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
    RangeSource source;
    source.size = probe->size;
    source.content_type = probe->content_type;
    source.etag = "\"" + id + "\"";  // a finished video never changes
    source.open = [&videos, user_id, id](std::uint64_t offset, std::uint64_t length) -> Result<BodyReader> {
      IV_ASSIGN_OR_RETURN(domain::VideoFile file, videos.OpenFile(user_id, id));
      std::shared_ptr<infra::BlobReader> shared(std::move(file.reader));
      IV_RETURN_IF_ERROR(infra::SkipForward(*shared, offset));
      return ReadBlobRange(shared, length);
    };
    Response r = ServeWithRanges(req, source);
    std::string name = "imagevideo-" + id + "." + probe->extension;
    r.headers.Set("Content-Disposition",
                  std::string(req.Query("download") ? "attachment" : "inline") + "; filename=\"" + name + "\"");
    r.headers.Set("Cache-Control", "private, max-age=31536000, immutable");
    return r;
  });
}

}  // namespace iv::http
