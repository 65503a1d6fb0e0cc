// HTTP Range and conditional GET for file downloads (RFC 9110 §13-14).
//
// ServeWithRanges answers a GET/HEAD for a resource of known size:
//  - If-None-Match matching the ETag          -> 304 Not Modified
//  - "Range: bytes=a-b" / "bytes=a-" / "bytes=-n" (one range; If-Range, when
//    sent, must equal the ETag)               -> 206 with Content-Range
//  - a range starting past the end, "bytes=-0", or any range of an empty
//    resource                                 -> 416 with Content-Range: bytes * /size
//  - no Range, several ranges, another unit or a malformed header
//                                             -> 200 with the whole body
// Every answer carries Accept-Ranges: bytes and the ETag. Bodies are
// streamed from the source (response.h BodyReader), so a decrypting reader
// can serve a large file without holding it in memory.
//
// Thread-safety: pure functions; the source's `open` must be callable from a
// worker thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "http/request.h"
#include "http/response.h"

namespace iv::http {

struct ByteRange {
  uint64_t first = 0;  // inclusive
  uint64_t last = 0;   // inclusive
  uint64_t length() const { return last - first + 1; }
};

struct RangeRequest {
  enum class Kind {
    kWhole,          // serve the full representation (200)
    kPartial,        // serve `range` (206)
    kUnsatisfiable,  // 416
  };
  Kind kind = Kind::kWhole;
  ByteRange range;
};

// Interprets a Range header value for a resource of `size` bytes.
RangeRequest ParseRange(std::string_view header, uint64_t size);

// True when an If-None-Match value matches `etag` (weak comparison, "*" matches).
bool IfNoneMatchMatches(std::string_view if_none_match, std::string_view etag);

struct RangeSource {
  uint64_t size = 0;
  std::string content_type = "application/octet-stream";
  // A strong validator, quotes included ("\"abc\""); empty = none (then no
  // 304 and If-Range never matches).
  std::string etag;
  // Returns a reader yielding exactly `length` bytes starting at `offset`.
  std::function<Result<BodyReader>(uint64_t offset, uint64_t length)> open;
};

// The response for `request` (GET or HEAD) to `source`, as described above.
// A failure of `open` becomes its problem response.
Response ServeWithRanges(const Request& request, const RangeSource& source);

// A RangeSource over a plain file: ETag from size and modification time,
// reads of `chunk_bytes`. kNotFound when the file does not exist.
Result<RangeSource> FileRangeSource(const std::filesystem::path& path, std::string content_type,
                                    size_t chunk_bytes = 64 * 1024);

}  // namespace iv::http
