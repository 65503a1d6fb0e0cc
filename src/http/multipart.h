// multipart/form-data (RFC 7578) parsing, and temporary files for uploads.
//
// Memory bound, honestly: RESTinio 0.6 hands a request to the server only
// once its whole body has been received, and keeps that body in one
// std::string (see server.h "Limits"). So an upload is in memory once, up to
// its route's max_body_bytes, while it is received. The server then parses
// it here *without copying* (parts are views into the body), writes each
// file part to a TempFile and frees the body before the handler runs; the
// handler sees paths, not bytes. Peak memory per upload is therefore about
// one body, never two.
//
// A part's filename is used for display only (SanitizeFilename); temp files
// get random names in the configured temp dir, so a name such as
// "../../etc/passwd" can never choose where bytes are written.
//
// Thread-safety: pure functions; a TempFile is used by one thread at a time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "http/request.h"

namespace iv::http {

// A file created with mode 0600 under a random name (O_CREAT|O_EXCL, so never
// an existing file or a symlink planted in its place), removed when the
// object is destroyed.
class TempFile {
 public:
  // Creates "<dir>/<prefix><32 hex digits>". Fails with kInternal when the
  // directory is missing or not writable.
  static Result<std::shared_ptr<TempFile>> Create(const std::filesystem::path& dir,
                                                  std::string_view prefix = "iv-upload-");
  ~TempFile();
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // Appends `bytes`. kInternal on a write error (e.g. disk full).
  Status Append(std::string_view bytes);
  // Closes the file for writing; later Appends fail. Idempotent.
  Status Finish();
  uint64_t size() const { return size_; }

 private:
  TempFile(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::filesystem::path path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

struct MultipartLimits {
  size_t max_parts = 32;
  // Header block of one part (Content-Disposition, Content-Type).
  size_t max_part_header_bytes = 8 * 1024;
  // A non-file part's value; file parts are bounded by the body limit only.
  size_t max_field_bytes = 64 * 1024;
};

struct MultipartPart {
  std::string name;                     // form field name
  std::optional<std::string> filename;  // raw, as sent; set for file parts (may be empty)
  std::string content_type;             // as sent; "text/plain" when absent
  std::string_view data;                // view into the parsed body
};

// The boundary parameter of a "multipart/form-data; boundary=..." header.
// kUnsupportedMedia when the type is not multipart/form-data; kInvalidArgument
// when the boundary is missing or malformed (RFC 2046 §5.1.1: 1-70 chars).
Result<std::string> MultipartBoundary(std::string_view content_type);

// Splits `body` into parts. Views in the result point into `body`.
// kInvalidArgument for a malformed or truncated body, too many parts, an
// oversized part header or a part without a name; kTooLarge for a non-file
// value over the limit.
Result<std::vector<MultipartPart>> ParseMultipart(std::string_view body, std::string_view boundary,
                                                  const MultipartLimits& limits = {});

// A client-sent filename made safe to display: the last path component (after
// '/' or '\'), control characters removed, at most 255 bytes (cut at a UTF-8
// boundary); "upload" when nothing is left or only dots remain.
std::string SanitizeFilename(std::string_view raw);

struct MultipartForm {
  std::vector<FormField> fields;
  std::vector<UploadedFile> files;
};

// Parses `body` (with its Content-Type header value) and writes each file
// part to a new TempFile in `temp_dir`. On failure no temp file is left.
Result<MultipartForm> ParseMultipartToFiles(std::string_view body, std::string_view content_type,
                                            const std::filesystem::path& temp_dir,
                                            const MultipartLimits& limits = {});

}  // namespace iv::http
