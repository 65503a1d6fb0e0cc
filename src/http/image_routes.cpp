// /api/v1/images*: upload, list, fetch, download, delete.
#include "http/api.h"
#include "http/json_body.h"
#include "http/problem.h"
#include "http/range.h"
#include "infra/clock.h"

namespace iv::http {

namespace {

nlohmann::json ImageJson(const domain::ImageRecord& i) {
  return {{"id", i.id},
          {"width", i.width},
          {"height", i.height},
          {"format", i.format},
          {"bytes", i.original_bytes},
          {"created_at", infra::ToRfc3339(infra::FromUnixMillis(i.created_at))},
          {"file_url", "/api/v1/images/" + i.id + "/file"}};
}

}  // namespace

void AddImageRoutes(Router& router, domain::ImageService& images, const ApiOptions& options) {
  RouteOptions upload;
  upload.body_mode = BodyMode::kMultipart;
  // Room for the multipart framing around the largest accepted file.
  upload.max_body_bytes = options.upload_max_bytes + 64 * 1024;
  router.Post(
      "/api/v1/images",
      [&images](Request& req) {
        const UploadedFile* file = req.File("file");
        if (!file) return ProblemFor(Status::Validation({{"file", "send the photo as a form part named \"file\""}}));
        auto image = images.Upload(Caller(req).user_id, file->path().string());
        if (!image.ok()) return ProblemFor(image.status());
        Response r = Response::Json(201, ImageJson(*image));
        r.headers.Set("Location", "/api/v1/images/" + image->id);
        return r;
      },
      upload);

  router.Get("/api/v1/images", [&images](Request& req) {
    auto limit = LimitParam(req);
    if (!limit.ok()) return ProblemFor(limit.status());
    auto page = images.List(Caller(req).user_id, *limit, req.Query("cursor").value_or(""));
    if (!page.ok()) return ProblemFor(page.status());
    nlohmann::json items = nlohmann::json::array();
    for (const auto& i : page->items) items.push_back(ImageJson(i));
    return Response::Json(200, {{"items", items},
                                {"next_cursor", page->next_cursor ? nlohmann::json(*page->next_cursor) : nullptr}});
  });

  router.Get("/api/v1/images/{id}", [&images](Request& req) {
    auto image = images.Get(Caller(req).user_id, req.PathParam("id"));
    if (!image.ok()) return ProblemFor(image.status());
    return Response::Json(200, ImageJson(*image));
  });

  router.Get("/api/v1/images/{id}/file", [&images](Request& req) {
    const std::string user_id = Caller(req).user_id, id = req.PathParam("id");
    auto probe = images.OpenWorkingCopy(user_id, id);
    if (!probe.ok()) return ProblemFor(probe.status());
    // An image never changes once uploaded: its id is its ETag.
    Response r = ServeStoredFile(req, (*probe)->size(), "image/jpeg", "\"" + id + "\"",
                                 [&images, user_id, id] { return images.OpenWorkingCopy(user_id, id); });
    r.headers.Set("Content-Disposition", "inline; filename=\"" + id + ".jpg\"");
    return r;
  });

  router.Add("DELETE", "/api/v1/images/{id}", [&images](Request& req) {
    Status s = images.Delete(Caller(req).user_id, req.PathParam("id"));
    if (!s.ok()) return ProblemFor(s);
    return Response::NoContent();
  });
}

}  // namespace iv::http
