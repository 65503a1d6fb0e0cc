#include "http/multipart.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

namespace iv::http {

const std::filesystem::path& UploadedFile::path() const {
  static const std::filesystem::path kEmpty;
  return file ? file->path() : kEmpty;
}

// ---------------------------------------------------------------- TempFile

namespace {

std::string RandomHex(size_t bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::random_device rd;  // getrandom(2) on Linux
  std::string out;
  out.reserve(bytes * 2);
  for (size_t i = 0; i < bytes; i += 4) {
    uint32_t v = rd();
    for (size_t j = 0; j < 4 && i + j < bytes; ++j) {
      out.push_back(kHex[(v >> 4) & 0xf]);
      out.push_back(kHex[v & 0xf]);
      v >>= 8;
    }
  }
  return out;
}

}  // namespace

Result<std::shared_ptr<TempFile>> TempFile::Create(const std::filesystem::path& dir, std::string_view prefix) {
  for (int attempt = 0; attempt < 4; ++attempt) {
    std::filesystem::path path = dir / (std::string(prefix) + RandomHex(16));
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) return std::shared_ptr<TempFile>(new TempFile(std::move(path), fd));
    if (errno != EEXIST)
      return Status::Internal("cannot create temporary file in " + dir.string() + ": " + std::strerror(errno));
  }
  return Status::Internal("cannot create a unique temporary file in " + dir.string());
}

TempFile::~TempFile() {
  if (fd_ >= 0) ::close(fd_);
  ::unlink(path_.c_str());
}

Status TempFile::Append(std::string_view bytes) {
  if (fd_ < 0) return Status::Internal("temporary file already finished: " + path_.string());
  while (!bytes.empty()) {
    ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Internal("cannot write temporary file " + path_.string() + ": " + std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
    size_ += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

Status TempFile::Finish() {
  if (fd_ < 0) return Status::Ok();
  int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) return Status::Internal("cannot close temporary file " + path_.string() + ": " + std::strerror(errno));
  return Status::Ok();
}

// ---------------------------------------------------------------- parsing

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Parses `value; k1=v1; k2="v 2"` into the leading token and parameters
// (names lower-cased). Quoted values: '\"' is an escaped quote; other
// backslashes are kept, as browsers do not escape them (WHATWG HTML
// "multipart/form-data encoding algorithm" percent-encodes '"' instead).
struct HeaderValue {
  std::string token;
  std::vector<std::pair<std::string, std::string>> params;
  std::optional<std::string> Param(std::string_view name) const {
    for (const auto& [k, v] : params)
      if (k == name) return v;
    return std::nullopt;
  }
};

HeaderValue ParseHeaderValue(std::string_view in) {
  HeaderValue out;
  size_t i = in.find(';');
  out.token = Lower(Trim(in.substr(0, i)));
  while (i != std::string_view::npos && i < in.size()) {
    ++i;  // skip ';'
    size_t eq = in.find('=', i);
    size_t semi = in.find(';', i);
    if (eq == std::string_view::npos || (semi != std::string_view::npos && semi < eq)) {
      i = semi;
      continue;
    }
    std::string name = Lower(Trim(in.substr(i, eq - i)));
    size_t v = eq + 1;
    while (v < in.size() && (in[v] == ' ' || in[v] == '\t')) ++v;
    std::string value;
    if (v < in.size() && in[v] == '"') {
      ++v;
      while (v < in.size() && in[v] != '"') {
        if (in[v] == '\\' && v + 1 < in.size() && in[v + 1] == '"') ++v;
        value.push_back(in[v]);
        ++v;
      }
      i = in.find(';', v);
    } else {
      size_t end = in.find(';', v);
      value = std::string(Trim(in.substr(v, end == std::string_view::npos ? std::string_view::npos : end - v)));
      i = end;
    }
    out.params.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

bool IsBoundaryChar(char c) {
  // RFC 2046 §5.1.1 bchars.
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         std::strchr("'()+_,-./:=? ", c) != nullptr;
}

}  // namespace

Result<std::string> MultipartBoundary(std::string_view content_type) {
  HeaderValue v = ParseHeaderValue(content_type);
  if (v.token != "multipart/form-data")
    return Status::UnsupportedMedia("expected a multipart/form-data body, got '" + v.token + "'");
  auto boundary = v.Param("boundary");
  if (!boundary || boundary->empty() || boundary->size() > 70 || boundary->back() == ' ')
    return Status::InvalidArgument("multipart/form-data without a valid boundary");
  for (char c : *boundary)
    if (!IsBoundaryChar(c)) return Status::InvalidArgument("multipart boundary has an invalid character");
  return *boundary;
}

Result<std::vector<MultipartPart>> ParseMultipart(std::string_view body, std::string_view boundary,
                                                  const MultipartLimits& limits) {
  const std::string delimiter = "--" + std::string(boundary);
  const std::string crlf_delimiter = "\r\n" + delimiter;
  auto malformed = [](const std::string& why) { return Status::InvalidArgument("malformed multipart body: " + why); };

  // The first delimiter may follow a preamble (RFC 2046 §5.1.1).
  size_t pos;
  if (body.substr(0, delimiter.size()) == delimiter) {
    pos = 0;
  } else {
    size_t found = body.find(crlf_delimiter);
    if (found == std::string_view::npos) return malformed("no boundary found");
    pos = found + 2;
  }

  std::vector<MultipartPart> parts;
  while (true) {
    size_t p = pos + delimiter.size();
    if (body.substr(p, 2) == "--") break;  // close delimiter; the epilogue is ignored
    while (p < body.size() && (body[p] == ' ' || body[p] == '\t')) ++p;  // transport padding
    if (body.substr(p, 2) != "\r\n") return malformed("boundary not followed by CRLF");
    p += 2;
    if (parts.size() >= limits.max_parts)
      return Status::InvalidArgument("multipart body has more than " + std::to_string(limits.max_parts) + " parts");

    // Header block, ending with an empty line.
    std::string_view header_block;
    size_t content_start;
    if (body.substr(p, 2) == "\r\n") {
      content_start = p + 2;
    } else {
      size_t end = body.substr(p, limits.max_part_header_bytes + 4).find("\r\n\r\n");
      if (end == std::string_view::npos) {
        if (body.size() - p > limits.max_part_header_bytes) return malformed("part header too large");
        return malformed("truncated part header");
      }
      header_block = body.substr(p, end);
      content_start = p + end + 4;
    }
    size_t content_end = body.find(crlf_delimiter, content_start);
    if (content_end == std::string_view::npos) return malformed("truncated part (no closing boundary)");

    MultipartPart part;
    part.content_type = "text/plain";
    bool has_disposition = false;
    size_t line_start = 0;
    while (line_start <= header_block.size() && !header_block.empty()) {
      size_t line_end = header_block.find("\r\n", line_start);
      std::string_view line = header_block.substr(
          line_start, line_end == std::string_view::npos ? std::string_view::npos : line_end - line_start);
      size_t colon = line.find(':');
      if (colon == std::string_view::npos) return malformed("part header line without ':'");
      std::string name = Lower(Trim(line.substr(0, colon)));
      std::string_view value = Trim(line.substr(colon + 1));
      if (name == "content-disposition") {
        HeaderValue cd = ParseHeaderValue(value);
        if (cd.token != "form-data") return malformed("part disposition is not form-data");
        auto field = cd.Param("name");
        if (!field) return malformed("part without a name");
        part.name = *field;
        part.filename = cd.Param("filename");
        has_disposition = true;
      } else if (name == "content-type") {
        part.content_type = std::string(value);
      }
      if (line_end == std::string_view::npos) break;
      line_start = line_end + 2;
    }
    if (!has_disposition) return malformed("part without Content-Disposition");
    part.data = body.substr(content_start, content_end - content_start);
    if (!part.filename && part.data.size() > limits.max_field_bytes)
      return Status::TooLarge("form field '" + part.name + "' is larger than " +
                              std::to_string(limits.max_field_bytes) + " bytes");
    parts.push_back(std::move(part));
    pos = content_end + 2;
  }
  return parts;
}

std::string SanitizeFilename(std::string_view raw) {
  size_t slash = raw.find_last_of("/\\");
  if (slash != std::string_view::npos) raw.remove_prefix(slash + 1);
  std::string out;
  for (char c : raw) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) continue;
    out.push_back(c);
  }
  if (out.size() > 255) {
    size_t cut = 255;
    // Do not split a UTF-8 sequence: back up over continuation bytes.
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  if (out.find_first_not_of(". ") == std::string::npos) return "upload";
  return out;
}

Result<MultipartForm> ParseMultipartToFiles(std::string_view body, std::string_view content_type,
                                            const std::filesystem::path& temp_dir, const MultipartLimits& limits) {
  IV_ASSIGN_OR_RETURN(std::string boundary, MultipartBoundary(content_type));
  IV_ASSIGN_OR_RETURN(std::vector<MultipartPart> parts, ParseMultipart(body, boundary, limits));
  MultipartForm form;  // on an early return its TempFiles are removed
  for (auto& part : parts) {
    if (!part.filename) {
      form.fields.push_back({std::move(part.name), std::string(part.data)});
      continue;
    }
    IV_ASSIGN_OR_RETURN(std::shared_ptr<TempFile> file, TempFile::Create(temp_dir));
    IV_RETURN_IF_ERROR(file->Append(part.data));
    IV_RETURN_IF_ERROR(file->Finish());
    UploadedFile uploaded;
    uploaded.field_name = std::move(part.name);
    uploaded.filename = SanitizeFilename(*part.filename);
    uploaded.content_type = std::move(part.content_type);
    uploaded.size = file->size();
    uploaded.file = std::move(file);
    form.files.push_back(std::move(uploaded));
  }
  return form;
}

}  // namespace iv::http
