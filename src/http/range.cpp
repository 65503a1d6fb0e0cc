#include "http/range.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>

#include "http/problem.h"

namespace iv::http {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool ParseUint(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// Weak comparison (RFC 9110 §8.8.3.2): W/ prefixes are ignored.
std::string_view Opaque(std::string_view tag) {
  tag = Trim(tag);
  if (tag.size() >= 2 && (tag[0] == 'W' || tag[0] == 'w') && tag[1] == '/') tag.remove_prefix(2);
  return tag;
}

}  // namespace

RangeRequest ParseRange(std::string_view header, uint64_t size) {
  RangeRequest whole;  // kWhole
  header = Trim(header);
  constexpr std::string_view kPrefix = "bytes=";
  if (header.size() < kPrefix.size() || !EqualsIgnoreCase(header.substr(0, kPrefix.size()), kPrefix)) return whole;
  std::string_view spec = Trim(header.substr(kPrefix.size()));
  // Several ranges would need multipart/byteranges; serving the whole
  // representation instead is allowed (RFC 9110 §14.2).
  if (spec.find(',') != std::string_view::npos) return whole;
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return whole;
  std::string_view a = Trim(spec.substr(0, dash));
  std::string_view b = Trim(spec.substr(dash + 1));
  RangeRequest out;
  out.kind = RangeRequest::Kind::kPartial;
  if (a.empty()) {  // suffix: the last n bytes
    uint64_t n = 0;
    if (!ParseUint(b, &n)) return whole;
    if (n == 0 || size == 0) return {RangeRequest::Kind::kUnsatisfiable, {}};
    out.range = {n >= size ? 0 : size - n, size - 1};
    return out;
  }
  uint64_t first = 0;
  if (!ParseUint(a, &first)) return whole;
  uint64_t last = 0;
  if (b.empty()) {
    last = size == 0 ? 0 : size - 1;
  } else {
    if (!ParseUint(b, &last)) return whole;
    if (last < first) return whole;  // syntactically invalid: ignore the header
  }
  if (first >= size) return {RangeRequest::Kind::kUnsatisfiable, {}};
  if (last >= size) last = size - 1;
  out.range = {first, last};
  return out;
}

bool IfNoneMatchMatches(std::string_view if_none_match, std::string_view etag) {
  if (Trim(if_none_match) == "*") return !etag.empty();
  if (etag.empty()) return false;
  std::string_view want = Opaque(etag);
  size_t start = 0;
  while (start <= if_none_match.size()) {
    size_t end = if_none_match.find(',', start);
    if (end == std::string_view::npos) end = if_none_match.size();
    if (Opaque(if_none_match.substr(start, end - start)) == want) return true;
    start = end + 1;
  }
  return false;
}

Response ServeWithRanges(const Request& request, const RangeSource& source) {
  auto common = [&](Response& r) {
    r.headers.Set("Accept-Ranges", "bytes");
    if (!source.etag.empty()) r.headers.Set("ETag", source.etag);
  };
  if (auto inm = request.headers.Get("If-None-Match"); inm && IfNoneMatchMatches(*inm, source.etag)) {
    Response r;
    r.status = 304;
    // RFC 9110 §8.6: a 304 may carry Content-Length only if it equals the
    // 200's; the server sends this instead of its default of 0.
    r.content_length = source.size;
    common(r);
    return r;
  }
  RangeRequest range;
  if (auto header = request.headers.Get("Range")) {
    bool use_range = true;
    if (auto if_range = request.headers.Get("If-Range")) {
      // Strong comparison (RFC 9110 §13.1.5); a date validator never matches
      // because we only issue ETags.
      std::string_view tag = Trim(*if_range);
      use_range = !source.etag.empty() && tag == source.etag && tag.substr(0, 2) != "W/";
    }
    if (use_range) range = ParseRange(*header, source.size);
  }
  if (range.kind == RangeRequest::Kind::kUnsatisfiable) {
    Response r = Problem(416, "range-not-satisfiable", "Range not satisfiable",
                         "The requested range starts beyond the end of the resource.");
    common(r);
    r.headers.Set("Content-Range", "bytes */" + std::to_string(source.size));
    return r;
  }
  uint64_t offset = 0;
  uint64_t length = source.size;
  int status = 200;
  if (range.kind == RangeRequest::Kind::kPartial) {
    offset = range.range.first;
    length = range.range.length();
    status = 206;
  }
  BodyReader reader;
  if (request.method == "HEAD") {
    // The server sends no body for HEAD; no need to open the source.
    reader = [] { return Result<std::string>(std::string()); };
  } else if (length == 0) {
    reader = [] { return Result<std::string>(std::string()); };
  } else {
    if (!source.open) return ProblemFor(Status::Internal("RangeSource without open()"));
    Result<BodyReader> opened = source.open(offset, length);
    if (!opened.ok()) return ProblemFor(opened.status());
    reader = std::move(opened).value();
  }
  Response r = Response::Stream(status, source.content_type, length, std::move(reader));
  common(r);
  if (status == 206)
    r.headers.Set("Content-Range", "bytes " + std::to_string(range.range.first) + "-" +
                                       std::to_string(range.range.last) + "/" + std::to_string(source.size));
  return r;
}

Result<RangeSource> FileRangeSource(const std::filesystem::path& path, std::string content_type,
                                    size_t chunk_bytes) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::NotFound("no such file: " + path.string());
    return Status::Internal("cannot stat " + path.string() + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return Status::NotFound("not a regular file: " + path.string());
  RangeSource source;
  source.size = static_cast<uint64_t>(st.st_size);
  source.content_type = std::move(content_type);
  char etag[64];
  std::snprintf(etag, sizeof etag, "\"%llx-%llx\"", static_cast<unsigned long long>(st.st_size),
                static_cast<unsigned long long>(st.st_mtim.tv_sec) * 1000000000ull +
                    static_cast<unsigned long long>(st.st_mtim.tv_nsec));
  source.etag = etag;
  if (chunk_bytes == 0) chunk_bytes = 64 * 1024;
  source.open = [path, chunk_bytes](uint64_t offset, uint64_t length) -> Result<BodyReader> {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::Internal("cannot open " + path.string() + ": " + std::strerror(errno));
    // The descriptor closes when the last copy of the reader goes away.
    auto fd_holder = std::shared_ptr<int>(new int(fd), [](int* p) {
      ::close(*p);
      delete p;
    });
    auto next = std::make_shared<uint64_t>(offset);
    const uint64_t end = offset + length;
    return BodyReader([fd_holder, next, end, chunk_bytes, path]() -> Result<std::string> {
      if (*next >= end) return std::string();
      std::string chunk(static_cast<size_t>(std::min<uint64_t>(chunk_bytes, end - *next)), '\0');
      ssize_t n;
      do {
        n = ::pread(*fd_holder, chunk.data(), chunk.size(), static_cast<off_t>(*next));
      } while (n < 0 && errno == EINTR);
      if (n < 0) return Status::Internal("cannot read " + path.string() + ": " + std::strerror(errno));
      if (n == 0) return Status::Internal("file shrank while being served: " + path.string());
      chunk.resize(static_cast<size_t>(n));
      *next += static_cast<uint64_t>(n);
      return chunk;
    });
  };
  return source;
}

}  // namespace iv::http
