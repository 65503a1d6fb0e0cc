#include "domain/image_service.h"

#include <filesystem>

#include "infra/crypto.h"
#include "infra/encrypted_blobs.h"
#include "media/image_decoder.h"
#include "media/image_encoder.h"

namespace iv::domain {

namespace {

// Deletes the blobs of an upload that did not make it into the database.
class BlobCleanup {
 public:
  explicit BlobCleanup(infra::BlobStore& blobs) : blobs_(blobs) {}
  ~BlobCleanup() {
    for (const auto& key : keys_) (void)blobs_.Delete(key);
  }
  void Add(std::string key) { keys_.push_back(std::move(key)); }
  void Keep() { keys_.clear(); }

 private:
  infra::BlobStore& blobs_;
  std::vector<std::string> keys_;
};

Status WriteEncrypted(infra::BlobStore& blobs, const std::string& key, const infra::Key& dek,
                      const std::string& bytes) {
  IV_ASSIGN_OR_RETURN(auto writer, infra::CreateEncrypted(blobs, key, dek));
  IV_RETURN_IF_ERROR(writer->Write(bytes));
  return writer->Commit();
}

}  // namespace

ImageService::ImageService(ImageStore& store, UserKeys& keys, infra::BlobStore& blobs, const infra::Clock& clock,
                           ImageLimits limits)
    : store_(store), keys_(keys), blobs_(blobs), clock_(clock), limits_(limits) {}

std::string ImageService::WorkingCopyKey(const std::string& user_id, const std::string& id) {
  return "u/" + user_id + "/images/" + id + ".jpg";
}

std::string ImageService::OriginalKey(const std::string& user_id, const std::string& id) {
  return "u/" + user_id + "/images/" + id + ".orig";
}

Result<ImageRecord> ImageService::Upload(const std::string& user_id, const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return Status::InvalidArgument("no file was uploaded");
  if (static_cast<std::int64_t>(size) > limits_.max_bytes) {
    return Status::TooLarge("the file is larger than the limit of " + std::to_string(limits_.max_bytes / 1048576) +
                            " MB");
  }
  if (size == 0) return Status::UnsupportedMedia("the file is empty");

  // Decoding is the validation; messages name the upload, not a server path.
  media::DecodeOptions decode;
  decode.limits.max_pixels = limits_.max_pixels;
  auto header = media::ReadImageHeader(path, decode.limits);
  auto describe = [&](const Status& s) {
    std::string m = s.message();
    if (m.rfind(path, 0) == 0) m = "the upload" + m.substr(path.size());
    if (s.code() == StatusCode::kTooLarge) return Status::TooLarge(m);
    if (s.code() == StatusCode::kInternal) return Status::Internal(m);
    return Status::UnsupportedMedia(m);
  };
  if (!header.ok()) return describe(header.status());
  auto pixels = media::DecodeImage(path, decode);
  if (!pixels.ok()) return describe(pixels.status());
  IV_ASSIGN_OR_RETURN(std::string working, media::EncodeJpeg(*pixels));

  ImageRecord image;
  image.id = infra::RandomId();
  image.user_id = user_id;
  image.width = pixels->width;
  image.height = pixels->height;
  image.format = header->format;
  image.original_bytes = static_cast<std::int64_t>(size);
  image.created_at = infra::ToUnixMillis(clock_.Now());

  IV_ASSIGN_OR_RETURN(infra::Key dek, keys_.DataKey(user_id));
  BlobCleanup cleanup(blobs_);
  cleanup.Add(WorkingCopyKey(user_id, image.id));
  cleanup.Add(OriginalKey(user_id, image.id));
  Status stored = WriteEncrypted(blobs_, WorkingCopyKey(user_id, image.id), dek, working);
  if (stored.ok()) stored = infra::EncryptFile(blobs_, OriginalKey(user_id, image.id), dek, path);
  infra::Wipe(dek);
  IV_RETURN_IF_ERROR(stored);
  IV_RETURN_IF_ERROR(store_.Insert(image));
  cleanup.Keep();
  return image;
}

Result<ImageRecord> ImageService::Get(const std::string& user_id, const std::string& id) {
  IV_ASSIGN_OR_RETURN(auto image, store_.Find(user_id, id));
  if (!image) return Status::NotFound("no such image");
  return *image;
}

Result<Page<ImageRecord>> ImageService::List(const std::string& user_id, int limit, const std::string& cursor) {
  if (limit < 1 || limit > 100) return Status::Validation({{"limit", "must be between 1 and 100"}});
  return store_.List(user_id, limit, cursor);
}

Result<std::unique_ptr<infra::BlobReader>> ImageService::OpenWorkingCopy(const std::string& user_id,
                                                                         const std::string& id) {
  IV_RETURN_IF_ERROR(Get(user_id, id).status());
  IV_ASSIGN_OR_RETURN(infra::Key dek, keys_.DataKey(user_id));
  auto reader = infra::OpenEncrypted(blobs_, WorkingCopyKey(user_id, id), dek);
  infra::Wipe(dek);
  return reader;
}

Status ImageService::Delete(const std::string& user_id, const std::string& id) {
  IV_ASSIGN_OR_RETURN(bool deleted, store_.Delete(user_id, id));
  if (!deleted) return Status::NotFound("no such image");
  IV_RETURN_IF_ERROR(blobs_.Delete(WorkingCopyKey(user_id, id)));
  return blobs_.Delete(OriginalKey(user_id, id));
}

}  // namespace iv::domain
