#include "http/problem.h"

#include <nlohmann/json.hpp>

namespace iv::http {

namespace {

struct Mapping {
  int status;
  const char* slug;
  const char* title;
};

Mapping MappingFor(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument:
      return {400, "bad-request", "Bad request"};
    case StatusCode::kNotFound:
      return {404, "not-found", "Not found"};
    case StatusCode::kUnsupportedMedia:
      return {415, "unsupported-media", "Unsupported media type"};
    case StatusCode::kTooLarge:
      return {413, "too-large", "Content too large"};
    case StatusCode::kConflict:
      return {409, "conflict", "Conflict"};
    case StatusCode::kPermissionDenied:
      return {403, "forbidden", "Forbidden"};
    case StatusCode::kUnauthenticated:
      return {401, "unauthenticated", "Authentication required"};
    case StatusCode::kRateLimited:
      return {429, "rate-limited", "Too many requests"};
    case StatusCode::kCanceled:
      return {409, "canceled", "Canceled"};
    case StatusCode::kOk:
    case StatusCode::kInternal:
      break;
  }
  return {500, "internal", "Internal server error"};
}

}  // namespace

Response Problem(int status, std::string_view slug, std::string_view title, std::string_view detail) {
  nlohmann::json body = {{"type", "/problems/" + std::string(slug)},
                         {"title", std::string(title)},
                         {"status", status},
                         {"detail", std::string(detail)}};
  Response r;
  r.status = status;
  // Replace invalid UTF-8 rather than throw: details may quote user input.
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  r.headers.Set("Content-Type", kProblemContentType);
  r.headers.Set("Cache-Control", "no-store");
  return r;
}

int HttpStatusFor(StatusCode code) { return MappingFor(code).status; }

Response ProblemFor(const Status& status, int retry_after_s) {
  if (!status.field_errors().empty()) return ValidationProblem(status.field_errors());
  const Mapping m = MappingFor(status.code());
  if (m.status == 500) {
    Response r = Problem(500, m.slug, m.title,
                         "An internal error occurred. Quote the X-Request-Id when reporting it.");
    r.internal_note = status.ok() ? "ProblemFor called with an OK status" : status.message();
    return r;
  }
  Response r = Problem(m.status, m.slug, m.title, status.message());
  if (status.code() == StatusCode::kRateLimited) {
    r.headers.Set("Retry-After", std::to_string(retry_after_s > 0 ? retry_after_s : 1));
  } else if (status.code() == StatusCode::kUnauthenticated) {
    // RFC 9110 §15.5.2: a 401 carries a challenge. Browsers only prompt for
    // Basic/Digest, so this does not disturb the cookie flow.
    r.headers.Set("WWW-Authenticate", "Bearer realm=\"imagevideo\"");
  }
  return r;
}

Response ValidationProblem(const std::vector<FieldError>& errors, std::string_view detail) {
  Response r = Problem(422, "validation", "Validation failed", detail);
  nlohmann::json body = nlohmann::json::parse(r.body);
  nlohmann::json list = nlohmann::json::array();
  for (const auto& e : errors) list.push_back({{"field", e.field}, {"message", e.message}});
  body["errors"] = std::move(list);
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 422: return "Unprocessable Content";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
  }
}

}  // namespace iv::http
