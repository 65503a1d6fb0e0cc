// Status -> HTTP: the one place that maps an iv::Status to an RFC 9457
// problem+json response.
//
// Body: {"type": "/problems/<slug>", "title": "...", "status": N, "detail": "..."}
// with Content-Type application/problem+json (API.md "Errors").
//
//   kInvalidArgument  400 bad-request        kPermissionDenied 403 forbidden
//   kNotFound         404 not-found          kUnauthenticated  401 unauthenticated (+ WWW-Authenticate)
//   kUnsupportedMedia 415 unsupported-media  kRateLimited      429 rate-limited (+ Retry-After)
//   kTooLarge         413 too-large          kInternal         500 internal (generic detail)
//   kConflict         409 conflict           kCanceled         409 canceled
// Validation failures (Status::Validation, or ValidationProblem directly) are
// 422 with an "errors": [{"field", "message"}] list.
//
// For kInternal the client gets a generic detail; the real message goes to
// Response::internal_note, which the server logs with the request id and
// never sends.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "http/response.h"

namespace iv::http {

inline constexpr char kProblemContentType[] = "application/problem+json";
// Retry-After for a kRateLimited status when the caller does not know better
// (the rate-limit middleware passes its real window instead).
inline constexpr int kDefaultRetryAfterSeconds = 60;

// {field, message}: the field as the API names it ("duration_s").
using FieldError = ::iv::FieldError;

// A problem response with the given parts. `slug` becomes "/problems/<slug>".
Response Problem(int status, std::string_view slug, std::string_view title, std::string_view detail);

// The problem response for a non-OK `status` (table above). A validation
// status (Status::Validation, i.e. with field_errors()) becomes the 422 of
// ValidationProblem. An OK status is a programming error and yields a 500.
Response ProblemFor(const Status& status, int retry_after_s = kDefaultRetryAfterSeconds);

// 422 validation problem listing each field error.
Response ValidationProblem(const std::vector<FieldError>& errors,
                           std::string_view detail = "The request has invalid fields.");

// The HTTP status ProblemFor uses for `code`.
int HttpStatusFor(StatusCode code);

// The standard reason phrase of an HTTP status ("Not Found"); "Unknown" for
// codes this server never sends.
std::string_view ReasonPhrase(int status);

}  // namespace iv::http
