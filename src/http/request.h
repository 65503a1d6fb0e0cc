// Request: what a handler sees of one HTTP request, and Headers, the
// case-insensitive field list shared with Response.
//
// The server fills a Request on a worker thread after the whole request has
// been received and checked against the limits of its route (see server.h);
// handlers and middleware get it by reference and may change it (middleware
// stores what it learned, e.g. the authenticated user, in `context`).
//
// Ownership: a Request owns its body and, for upload routes, the temporary
// files its parts were written to (shared, see UploadedFile). It lives until
// the handler and the after-hooks have run; it is destroyed before the
// response is written, so a client that has read the response can rely on
// the temporary files being gone.
//
// Thread-safety: none; one request is handled by one thread at a time.
#pragma once

#include <any>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace iv::http {

// ASCII case-insensitive comparison (HTTP field names and tokens, RFC 9110 §5.1).
inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// An ordered list of header fields with case-insensitive name lookup. Names
// keep the spelling they were added with.
class Headers {
 public:
  using Entry = std::pair<std::string, std::string>;

  // The first value of `name`, or nullopt when absent.
  std::optional<std::string> Get(std::string_view name) const {
    for (const auto& [n, v] : entries_)
      if (EqualsIgnoreCase(n, name)) return v;
    return std::nullopt;
  }
  std::string GetOr(std::string_view name, std::string fallback) const {
    auto v = Get(name);
    return v ? *v : std::move(fallback);
  }
  bool Has(std::string_view name) const { return Get(name).has_value(); }
  // All values of `name`, in order.
  std::vector<std::string> GetAll(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto& [n, v] : entries_)
      if (EqualsIgnoreCase(n, name)) out.push_back(v);
    return out;
  }
  // Appends a field, keeping existing ones of the same name.
  void Add(std::string name, std::string value) { entries_.emplace_back(std::move(name), std::move(value)); }
  // Replaces every field named `name` by one with `value`.
  void Set(std::string name, std::string value) {
    Remove(name);
    Add(std::move(name), std::move(value));
  }
  // Adds the field only when no field of that name exists yet.
  void SetDefault(std::string name, std::string value) {
    if (!Has(name)) Add(std::move(name), std::move(value));
  }
  void Remove(std::string_view name) {
    std::erase_if(entries_, [&](const Entry& e) { return EqualsIgnoreCase(e.first, name); });
  }
  const std::vector<Entry>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }

 private:
  std::vector<Entry> entries_;
};

class TempFile;   // multipart.h: a 0600 file removed on destruction
struct RouteInfo;  // router.h: method, pattern and options of a route

// A non-file field of a multipart/form-data body.
struct FormField {
  std::string name;
  std::string value;
};

// A file part of a multipart/form-data body, already written to a temporary
// file in the server's temp dir (mode 0600, random name). The file is removed
// when the last UploadedFile copy referring to it is destroyed, normally with
// the Request; a handler that needs the bytes later must copy them (e.g.
// into the blob store) before returning.
struct UploadedFile {
  std::string field_name;
  // For display only: the base name of what the client sent, with path
  // components and control characters removed (see SanitizeFilename). Never
  // use it to build a storage path.
  std::string filename;
  // As claimed by the client; untrusted (validate by decoding).
  std::string content_type;
  uint64_t size = 0;
  std::shared_ptr<TempFile> file;

  const std::filesystem::path& path() const;  // defined in multipart.cpp
};

struct Request {
  std::string method;  // as sent, e.g. "GET"; "HEAD" requests are routed to GET handlers
  std::string target;  // the raw request-target (path and query), for logs
  std::string path;    // percent-decoded path without the query
  // Decoded query parameters in order ('+' is a space, as in HTML forms).
  std::vector<std::pair<std::string, std::string>> query;
  Headers headers;
  std::string remote_ip;   // peer address of the TCP connection
  std::string request_id;  // also sent back as X-Request-Id
  // Values of the route's {name} segments, percent-decoded.
  std::map<std::string, std::string, std::less<>> path_params;
  // The matched route, or nullptr when none matched (before-hooks see that;
  // the handler never does).
  const RouteInfo* route = nullptr;

  // Body, depending on the route's BodyMode (router.h):
  //  kInMemory: `body` holds it.
  //  kTempFile: `body_file` holds it (body is empty).
  //  kMultipart: `form` and `files` hold the parts (body is empty).
  std::string body;
  std::shared_ptr<TempFile> body_file;
  std::vector<FormField> form;
  std::vector<UploadedFile> files;

  // Set by middleware for later middleware and handlers, e.g. "user".
  std::map<std::string, std::any, std::less<>> context;
  std::chrono::steady_clock::time_point received_at{};

  // First query value of `name`, or nullopt.
  std::optional<std::string> Query(std::string_view name) const {
    for (const auto& [k, v] : query)
      if (k == name) return v;
    return std::nullopt;
  }
  // The value of path parameter `name`; empty when the route has none.
  const std::string& PathParam(std::string_view name) const {
    static const std::string kEmpty;
    auto it = path_params.find(name);
    return it == path_params.end() ? kEmpty : it->second;
  }
  std::optional<std::string> Header(std::string_view name) const { return headers.Get(name); }
  // The first uploaded file of form field `field_name`, or nullptr.
  const UploadedFile* File(std::string_view field_name) const {
    for (const auto& f : files)
      if (f.field_name == field_name) return &f;
    return nullptr;
  }
  std::optional<std::string> FormValue(std::string_view name) const {
    for (const auto& f : form)
      if (f.name == name) return f.value;
    return std::nullopt;
  }
  // The context value `key` if it holds a T, else nullptr.
  template <typename T>
  const T* Context(std::string_view key) const {
    auto it = context.find(key);
    return it == context.end() ? nullptr : std::any_cast<T>(&it->second);
  }
};

}  // namespace iv::http
