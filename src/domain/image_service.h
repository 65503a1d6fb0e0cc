// ImageService: uploads, validated by decoding, stored encrypted.
//
// An upload is decoded with limits (bytes, megapixels, decompression bombs
// refused from the header) whatever its name or Content-Type claims; its
// pixels are re-encoded into a JPEG working copy that carries no metadata
// (EXIF, GPS, XMP, IPTC, ICC) and is what everything downstream uses. The
// original bytes are kept only for the owner's own export. Both are
// encrypted with the owner's data key; nothing is stored when any step fails.
//
// Thread-safety: safe to use from many threads. Decoding is CPU work: call
// from a worker thread.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "domain/image_store.h"
#include "domain/user_keys.h"
#include "infra/blob_store.h"
#include "infra/clock.h"

namespace iv::domain {

struct ImageLimits {
  std::int64_t max_bytes = 25 * 1024 * 1024;
  std::int64_t max_pixels = 50'000'000;
};

class ImageService {
 public:
  ImageService(ImageStore& store, UserKeys& keys, infra::BlobStore& blobs, const infra::Clock& clock,
               ImageLimits limits);

  // Takes the upload at `path` (a temporary file the caller removes).
  // Errors: kTooLarge (bytes or pixels), kUnsupportedMedia (not an image we
  // read, damaged), kInvalidArgument.
  Result<ImageRecord> Upload(const std::string& user_id, const std::string& path);
  Result<ImageRecord> Get(const std::string& user_id, const std::string& id);
  Result<Page<ImageRecord>> List(const std::string& user_id, int limit, const std::string& cursor);
  // The metadata-free working copy (JPEG), decrypting as it is read.
  Result<std::unique_ptr<infra::BlobReader>> OpenWorkingCopy(const std::string& user_id, const std::string& id);
  Status Delete(const std::string& user_id, const std::string& id);

  // Where the blobs of an image live.
  static std::string WorkingCopyKey(const std::string& user_id, const std::string& id);
  static std::string OriginalKey(const std::string& user_id, const std::string& id);

 private:
  ImageStore& store_;
  UserKeys& keys_;
  infra::BlobStore& blobs_;
  const infra::Clock& clock_;
  ImageLimits limits_;
};

}  // namespace iv::domain
