// Status and Result<T>: the one error type of imagevideo.
//
// Every fallible operation returns a Status (or a Result<T> carrying either a
// value or a non-OK Status). Library errors (libvips, FFmpeg, OpenCV, SQL) are
// converted to a Status at the adapter that calls the library, so nothing above
// the adapters sees a foreign error type. One function maps a Status to a CLI
// exit code (ExitCodeFor); the HTTP layer will map it to problem+json.
//
// Codes are stable: they are written to logs and (later) sent over JSON, so
// never renumber them.
//
// Thread-safety: values are immutable after construction; safe to copy across
// threads.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace iv {

// A problem with one input field, named as the API names it ("duration_s"),
// so the HTTP layer can list it in a 422 problem and the CLI can map it to
// its flag.
struct FieldError {
  std::string field;
  std::string message;  // e.g. "must be between 1 and 20 (got 25)"
};

enum class StatusCode : int {
  kOk = 0,
  // The caller asked for something that cannot be done as asked: an option out
  // of range, a malformed file, an output path that cannot be written.
  kInvalidArgument = 1,
  kNotFound = 2,
  // The input is a real file but not a kind of media we read.
  kUnsupportedMedia = 3,
  // The input exceeds a configured limit (pixels, bytes, duration).
  kTooLarge = 4,
  kConflict = 5,
  kPermissionDenied = 6,
  kUnauthenticated = 7,
  kRateLimited = 8,
  // A bug or an environment failure the caller cannot fix by changing input.
  kInternal = 9,
  kCanceled = 10,
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) { return {StatusCode::kInvalidArgument, std::move(msg)}; }
  static Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status UnsupportedMedia(std::string msg) { return {StatusCode::kUnsupportedMedia, std::move(msg)}; }
  static Status TooLarge(std::string msg) { return {StatusCode::kTooLarge, std::move(msg)}; }
  static Status Conflict(std::string msg) { return {StatusCode::kConflict, std::move(msg)}; }
  static Status PermissionDenied(std::string msg) { return {StatusCode::kPermissionDenied, std::move(msg)}; }
  static Status Unauthenticated(std::string msg) { return {StatusCode::kUnauthenticated, std::move(msg)}; }
  static Status RateLimited(std::string msg) { return {StatusCode::kRateLimited, std::move(msg)}; }
  static Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }
  static Status Canceled(std::string msg) { return {StatusCode::kCanceled, std::move(msg)}; }
  // kInvalidArgument listing every problem with the input; the message joins
  // them as "field: message; field: message". Precondition: !errors.empty().
  static Status Validation(std::vector<FieldError> errors);

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  // One human-readable line, without a trailing newline. Empty when ok().
  const std::string& message() const { return message_; }
  // The per-field problems of a Validation status; empty otherwise.
  const std::vector<FieldError>& field_errors() const { return field_errors_; }

  // Returns a copy whose message is "<context>: <message>"; OK stays OK.
  Status WithContext(const std::string& context) const {
    if (ok()) return *this;
    Status s(code_, context + ": " + message_);
    s.field_errors_ = field_errors_;
    return s;
  }

 private:
  Status(StatusCode code, std::string msg) : code_(code), message_(std::move(msg)) {}

  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::vector<FieldError> field_errors_;
};

// Either a T or a non-OK Status. Constructing from an OK Status is a
// programming error and is turned into kInternal so it cannot pass silently.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status)                          // NOLINT: implicit by design
      : value_(status.ok() ? Status::Internal("Result constructed from an OK status") : std::move(status)) {}

  bool ok() const { return std::holds_alternative<T>(value_); }
  // Precondition for value(): ok().
  T& value() & { return std::get<T>(value_); }
  const T& value() const& { return std::get<T>(value_); }
  T&& value() && { return std::get<T>(std::move(value_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // OK when a value is held.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(value_); }

 private:
  std::variant<T, Status> value_;
};

// Exit code of a CLI command that ended with `status`: 0 success, 2 for
// anything the user can fix by changing the input or options, 1 for internal
// failures (see README "Exit codes").
int ExitCodeFor(const Status& status);

}  // namespace iv

// Propagates a non-OK Status from an expression returning Status.
#define IV_RETURN_IF_ERROR(expr)           \
  do {                                     \
    ::iv::Status iv_status_ = (expr);      \
    if (!iv_status_.ok()) return iv_status_; \
  } while (0)

#define IV_CONCAT_INNER(a, b) a##b
#define IV_CONCAT(a, b) IV_CONCAT_INNER(a, b)
// Declares `lhs` from a Result-returning expression, or returns its Status.
#define IV_ASSIGN_OR_RETURN(lhs, expr) IV_ASSIGN_OR_RETURN_IMPL(IV_CONCAT(iv_result_, __LINE__), lhs, expr)
#define IV_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()
