// VideoService: render requests, their state, and the finished files.
//
// A request names one of the caller's images and the render settings; it is
// validated in full (unknown image -> 404, each bad setting named -> 422)
// before anything is stored, and queued for a worker (render_worker.h). A
// user has at most `max_active_per_user` videos queued or running (429
// beyond). Finished videos are stored encrypted with the owner's data key.
//
// Thread-safety: safe to use from many threads.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "domain/image_service.h"
#include "domain/video_store.h"

namespace iv::domain {

struct VideoView {
  VideoRecord record;
  std::optional<std::int64_t> queue_position;  // while queued
};

struct VideoFile {
  std::unique_ptr<infra::BlobReader> reader;
  std::uint64_t size = 0;
  std::string content_type;  // video/mp4, video/webm, image/gif
  std::string extension;     // mp4, webm, gif
};

class VideoService {
 public:
  VideoService(VideoStore& store, ImageService& images, UserKeys& keys, infra::BlobStore& blobs,
               const infra::Clock& clock, int max_active_per_user = 3);

  // `request` is the POST body: image_id plus settings (SettingsFields()).
  Result<VideoView> Create(const std::string& user_id, const nlohmann::json& request);
  Result<VideoView> Get(const std::string& user_id, const std::string& id);
  Result<Page<VideoRecord>> List(const std::string& user_id, int limit, const std::string& cursor);
  // kConflict when the video already finished.
  Result<VideoView> Cancel(const std::string& user_id, const std::string& id);
  Status Delete(const std::string& user_id, const std::string& id);
  // kNotFound until the video succeeded.
  Result<VideoFile> OpenFile(const std::string& user_id, const std::string& id);

  static std::string FileKey(const std::string& user_id, const std::string& id);

 private:
  VideoStore& store_;
  ImageService& images_;
  UserKeys& keys_;
  infra::BlobStore& blobs_;
  const infra::Clock& clock_;
  int max_active_;
};

}  // namespace iv::domain
