// Router: maps (method, path) to a handler.
//
// Patterns are absolute paths whose segments are either literal text or a
// named parameter: "/api/v1/videos/{id}/file". A parameter matches exactly
// one non-empty segment; a last segment "{name...}" matches the rest of the
// path (one or more segments, '/' included), e.g. for static files.
// Segments are compared after percent-decoding, so "%2F" inside a segment
// does not split it. When several patterns match, the most specific wins:
// segment by segment, literal beats parameter beats rest-parameter
// ("/videos/new" beats "/videos/{id}").
//
// HEAD requests use the GET route of the path unless a HEAD route exists.
// A path matched by some route but not for the request's method gives
// kMethodNotAllowed with the allowed methods (the server answers 405 with an
// Allow header); no match gives kNotFound (404). Both answers are
// problem+json, produced by the server.
//
// Routes carry options read by the server before the handler runs (body
// size limit, how the body is delivered) and free-form tags read by
// middleware (e.g. "public" = no authentication needed).
//
// Thread-safety: register every route before Server::Start; afterwards the
// router is only read and may be used from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/request.h"
#include "http/response.h"

namespace iv::http {

using Handler = std::function<Response(Request&)>;

enum class BodyMode {
  kInMemory,   // Request::body
  kTempFile,   // Request::body_file: the whole body written to a temp file
  kMultipart,  // Request::form / Request::files (multipart/form-data only; else 415)
};

struct RouteOptions {
  // Largest accepted request body in bytes; unset = ServerOptions::max_body_bytes.
  // A larger Content-Length is answered 413 before the body is read.
  std::optional<uint64_t> max_body_bytes;
  BodyMode body_mode = BodyMode::kInMemory;
  // Labels for middleware, e.g. "public" or "no-csrf". Meaningless to the router.
  std::vector<std::string> tags;
};

struct RouteInfo {
  std::string method;   // upper case, e.g. "GET"
  std::string pattern;  // as registered
  RouteOptions options;

  bool HasTag(std::string_view tag) const {
    for (const auto& t : options.tags)
      if (t == tag) return true;
    return false;
  }
};

class Router {
 public:
  enum class Outcome { kFound, kNotFound, kMethodNotAllowed, kBadPath };

  struct Match {
    Outcome outcome = Outcome::kNotFound;
    const RouteInfo* route = nullptr;  // set when kFound
    const Handler* handler = nullptr;  // set when kFound
    std::map<std::string, std::string, std::less<>> params;
    std::vector<std::string> allowed;  // methods, when kMethodNotAllowed
  };

  Router() = default;
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Registers a route. `method` is an HTTP method token (case-insensitive;
  // stored upper case). Throws std::invalid_argument for a malformed pattern
  // (not starting with '/', empty or duplicate parameter names, "{x...}" not
  // last) or a duplicate (method, pattern): these are programming errors
  // that must fail at startup.
  Router& Add(std::string_view method, std::string_view pattern, Handler handler, RouteOptions options = {});
  Router& Get(std::string_view pattern, Handler h, RouteOptions o = {}) { return Add("GET", pattern, std::move(h), std::move(o)); }
  Router& Post(std::string_view pattern, Handler h, RouteOptions o = {}) { return Add("POST", pattern, std::move(h), std::move(o)); }
  Router& Put(std::string_view pattern, Handler h, RouteOptions o = {}) { return Add("PUT", pattern, std::move(h), std::move(o)); }
  Router& Patch(std::string_view pattern, Handler h, RouteOptions o = {}) { return Add("PATCH", pattern, std::move(h), std::move(o)); }
  Router& Delete(std::string_view pattern, Handler h, RouteOptions o = {}) { return Add("DELETE", pattern, std::move(h), std::move(o)); }

  // Finds the route for `method` and `raw_path` (the path as sent: still
  // percent-encoded, without query). kBadPath when the path is not absolute
  // or has invalid percent-encoding or an encoded NUL.
  Match Find(std::string_view method, std::string_view raw_path) const;

  // Every route in registration order, e.g. to compare with the OpenAPI document.
  std::vector<RouteInfo> Routes() const;

 private:
  struct Segment {
    enum Kind { kLiteral = 0, kParam = 1, kRest = 2 } kind;
    std::string text;  // literal text or parameter name
  };
  struct Route {
    RouteInfo info;
    std::vector<Segment> segments;
    Handler handler;
  };

  static bool MatchSegments(const Route& route, const std::vector<std::string>& segments,
                            std::map<std::string, std::string, std::less<>>* params);

  std::vector<Route> routes_;
};

// Percent-decodes `in` (RFC 3986 §2.1); with `plus_is_space`, '+' becomes ' '
// (application/x-www-form-urlencoded). nullopt for a malformed escape.
std::optional<std::string> PercentDecode(std::string_view in, bool plus_is_space = false);

// Splits "a=1&b=x%20y" into decoded pairs; malformed pairs are skipped.
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query);

}  // namespace iv::http
