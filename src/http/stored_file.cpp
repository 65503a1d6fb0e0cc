// Serving stored (encrypted) files: the shared download path of images and
// videos.
#include "http/api.h"
#include "http/range.h"

namespace iv::http {

namespace {

// Streams `length` bytes of a positioned blob reader, 64 KiB at a time.
BodyReader ReadBlobRange(std::shared_ptr<infra::BlobReader> reader, std::uint64_t length) {
  auto left = std::make_shared<std::uint64_t>(length);
  return [reader, left]() -> Result<std::string> {
    if (*left == 0) return std::string();
    std::string chunk(static_cast<size_t>(std::min<std::uint64_t>(*left, 64 * 1024)), '\0');
    IV_ASSIGN_OR_RETURN(size_t n, reader->Read(chunk.data(), chunk.size()));
    if (n == 0) return Status::Internal("blob ended early");
    chunk.resize(n);
    *left -= n;
    return chunk;
  };
}

}  // namespace

Response ServeStoredFile(const Request& req, std::uint64_t size, std::string content_type, std::string etag,
                         BlobOpener open) {
  RangeSource source;
  source.size = size;
  source.content_type = std::move(content_type);
  source.etag = std::move(etag);
  source.open = [open = std::move(open)](std::uint64_t offset, std::uint64_t length) -> Result<BodyReader> {
    IV_ASSIGN_OR_RETURN(auto reader, open());
    std::shared_ptr<infra::BlobReader> shared(std::move(reader));
    IV_RETURN_IF_ERROR(infra::SkipForward(*shared, offset));
    return ReadBlobRange(shared, length);
  };
  Response r = ServeWithRanges(req, source);
  r.headers.Set("Cache-Control", "private, max-age=31536000, immutable");
  return r;
}

}  // namespace iv::http
