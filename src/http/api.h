// The JSON API (API.md): routes per resource and the middleware they rely
// on. Handlers only parse, call one domain service and map the result;
// authentication and CSRF live in the middleware.
//
// Route tags read by the middleware:
//   "public"   no authentication
//   "no-csrf"  a cookie-authenticated write without the CSRF header is fine
//              (only sign-in and sign-up, which have no session yet)
#pragma once

#include <functional>
#include <string>

#include "domain/account_service.h"
#include "domain/image_service.h"
#include "domain/video_service.h"
#include "http/request.h"
#include "http/response.h"
#include "http/router.h"
#include "http/server.h"

namespace iv::http {

inline constexpr char kSessionCookie[] = "__Host-session";

struct ApiOptions {
  // Largest upload, as configured; the route's body limit adds room for the
  // multipart framing.
  std::uint64_t upload_max_bytes = 25 * 1024 * 1024;
};

// The authenticated caller, set by AuthMiddleware; present in every handler
// of a non-public route.
const domain::Authenticated& Caller(const Request& req);

// Authenticates requests to non-public routes from the session cookie
// (401 without one) and checks the X-CSRF-Token header on cookie-
// authenticated writes (403 when it is missing or wrong).
Middleware AuthMiddleware(domain::AccountService& accounts);

// GET /healthz (the process answers) and GET /readyz (`ready` says whether
// its dependencies answer too).
void AddHealthRoutes(Router& router, std::function<Status()> ready);
void AddAccountRoutes(Router& router, domain::AccountService& accounts);
void AddImageRoutes(Router& router, domain::ImageService& images, const ApiOptions& options);
class VideoEvents;
// `events` serves GET /api/v1/videos/{id}/events; it must outlive the server.
void AddVideoRoutes(Router& router, domain::VideoService& videos, VideoEvents& events);

// Live progress of videos as Server-Sent Events. The state is read from the
// database (every 500 ms, one thread for all streams), not from the worker's
// memory, so it works whichever node renders the video. Events: "state"
// (the video resource) first and on every state change, "progress"
// ({progress, queue_position, eta_s}) when those move, and a final "done"
// (the resource) when the video finished, failed or was canceled; then the
// stream closes.
class VideoEvents {
 public:
  explicit VideoEvents(domain::VideoService& videos);
  ~VideoEvents();  // Stop()
  void Watch(const std::string& user_id, const std::string& video_id, std::shared_ptr<SseStream> stream);
  // Ends the polling thread and closes every stream.
  void Stop();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Serves a stored, never-changing file (a decrypting blob reader from
// `open`, `size` bytes) with Range, ETag and long private caching. `open` is
// called again for each response body, so it must re-check access.
using BlobOpener = std::function<Result<std::unique_ptr<infra::BlobReader>>()>;
Response ServeStoredFile(const Request& req, std::uint64_t size, std::string content_type, std::string etag,
                         BlobOpener open);

// JSON shapes shared by several routes.
nlohmann::json UserJson(const domain::UserView& user);

}  // namespace iv::http
