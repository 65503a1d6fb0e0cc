#include "domain/video_service.h"

#include "domain/render_settings_json.h"
#include "engine/settings_names.h"
#include "infra/crypto.h"
#include "infra/encrypted_blobs.h"

namespace iv::domain {

const char* VideoStateName(VideoState s) {
  switch (s) {
    case VideoState::kQueued: return "queued";
    case VideoState::kRunning: return "running";
    case VideoState::kSucceeded: return "succeeded";
    case VideoState::kFailed: return "failed";
    case VideoState::kCanceled: return "canceled";
  }
  return "unknown";
}

VideoService::VideoService(VideoStore& store, ImageService& images, UserKeys& keys, infra::BlobStore& blobs,
                           const infra::Clock& clock, int max_active_per_user)
    : store_(store), images_(images), keys_(keys), blobs_(blobs), clock_(clock), max_active_(max_active_per_user) {}

std::string VideoService::FileKey(const std::string& user_id, const std::string& id) {
  return "u/" + user_id + "/videos/" + id;
}

Result<VideoView> VideoService::Create(const std::string& user_id, const nlohmann::json& request) {
  auto image_id = request.find("image_id");
  if (image_id == request.end() || !image_id->is_string()) {
    return Status::Validation({{"image_id", "is required: the id of one of your images"}});
  }
  IV_ASSIGN_OR_RETURN(engine::RenderSettings settings, SettingsFromJson(request));
  IV_RETURN_IF_ERROR(images_.Get(user_id, image_id->get<std::string>()).status());
  IV_ASSIGN_OR_RETURN(std::int64_t active, store_.CountActive(user_id));
  if (active >= max_active_) {
    return Status::RateLimited("you have " + std::to_string(active) +
                               " videos queued or rendering; wait for one to finish");
  }
  VideoRecord v;
  v.id = infra::RandomId();
  v.user_id = user_id;
  v.image_id = image_id->get<std::string>();
  v.settings_json = SettingsToJson(settings).dump();
  v.state = VideoState::kQueued;
  v.created_at = infra::ToUnixMillis(clock_.Now());
  IV_RETURN_IF_ERROR(store_.Insert(v));
  return Get(user_id, v.id);
}

Result<VideoView> VideoService::Get(const std::string& user_id, const std::string& id) {
  IV_ASSIGN_OR_RETURN(auto video, store_.Find(user_id, id));
  if (!video) return Status::NotFound("no such video");
  VideoView view{*video, std::nullopt};
  if (video->state == VideoState::kQueued) {
    IV_ASSIGN_OR_RETURN(std::int64_t position, store_.QueuePosition(*video));
    view.queue_position = position;
  }
  return view;
}

Result<Page<VideoRecord>> VideoService::List(const std::string& user_id, int limit, const std::string& cursor) {
  if (limit < 1 || limit > 100) return Status::Validation({{"limit", "must be between 1 and 100"}});
  return store_.List(user_id, limit, cursor);
}

Result<VideoView> VideoService::Cancel(const std::string& user_id, const std::string& id) {
  IV_ASSIGN_OR_RETURN(VideoView view, Get(user_id, id));
  IV_ASSIGN_OR_RETURN(bool canceled, store_.Cancel(user_id, id, infra::ToUnixMillis(clock_.Now())));
  if (!canceled) {
    return Status::Conflict(std::string("the video is already ") + VideoStateName(view.record.state));
  }
  return Get(user_id, id);
}

Status VideoService::Delete(const std::string& user_id, const std::string& id) {
  IV_ASSIGN_OR_RETURN(bool deleted, store_.Delete(user_id, id));
  if (!deleted) return Status::NotFound("no such video");
  // A worker still rendering it finds its lease gone and drops the result.
  return blobs_.Delete(FileKey(user_id, id));
}

Result<VideoFile> VideoService::OpenFile(const std::string& user_id, const std::string& id) {
  IV_ASSIGN_OR_RETURN(VideoView view, Get(user_id, id));
  if (view.record.state != VideoState::kSucceeded) return Status::NotFound("the video is not ready");
  IV_ASSIGN_OR_RETURN(engine::RenderSettings settings,
                      SettingsFromJson(nlohmann::json::parse(view.record.settings_json)));
  VideoFile file;
  file.extension = std::string(engine::Name(settings.format));
  file.content_type = settings.format == engine::VideoFormat::kGif    ? "image/gif"
                      : settings.format == engine::VideoFormat::kWebm ? "video/webm"
                                                                      : "video/mp4";
  IV_ASSIGN_OR_RETURN(infra::Key dek, keys_.DataKey(user_id));
  auto reader = infra::OpenEncrypted(blobs_, FileKey(user_id, id), dek);
  infra::Wipe(dek);
  IV_RETURN_IF_ERROR(reader.status());
  file.size = (*reader)->size();
  file.reader = std::move(*reader);
  return file;
}

}  // namespace iv::domain
