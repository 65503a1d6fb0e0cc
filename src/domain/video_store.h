// VideoStore: videos and the queue of their render jobs, one row each.
//
// Queue rules, enforced by the store's statements so that several workers
// (threads or machines) on one database agree:
//  - a job is claimed by one worker at a time, with a lease it renews
//    (Heartbeat); a job whose lease expired (its worker died) is queued
//    again, after a backoff, or failed for good after `max_attempts`;
//  - a job completes exactly once: only the current lease holder can finish
//    it, and only while it is running (a canceled or re-claimed job cannot).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"
#include "domain/image_store.h"

namespace iv::domain {

enum class VideoState { kQueued, kRunning, kSucceeded, kFailed, kCanceled };
const char* VideoStateName(VideoState s);

struct VideoRecord {
  std::string id;
  std::string user_id;
  std::string image_id;
  std::string settings_json;  // engine::RenderSettings as the API writes them
  VideoState state = VideoState::kQueued;
  double progress = 0;
  std::optional<std::string> error_title, error_detail;
  std::optional<std::int64_t> file_bytes;
  int attempts = 0;
  std::int64_t created_at = 0;
  std::optional<std::int64_t> started_at, finished_at;
};

class VideoStore {
 public:
  virtual ~VideoStore() = default;
  virtual Status Insert(const VideoRecord& video) = 0;
  virtual Result<std::optional<VideoRecord>> Find(const std::string& user_id, const std::string& id) = 0;
  virtual Result<Page<VideoRecord>> List(const std::string& user_id, int limit, const std::string& cursor) = 0;
  // Queued or running -> canceled; false when it was in another state.
  virtual Result<bool> Cancel(const std::string& user_id, const std::string& id, std::int64_t now) = 0;
  virtual Result<bool> Delete(const std::string& user_id, const std::string& id) = 0;
  // Jobs of the user that are queued or running.
  virtual Result<std::int64_t> CountActive(const std::string& user_id) = 0;
  // Queued jobs created before this one (0 = next).
  virtual Result<std::int64_t> QueuePosition(const VideoRecord& video) = 0;

  // Worker side. Claims the oldest runnable job for `worker`.
  virtual Result<std::optional<VideoRecord>> Claim(const std::string& worker, std::int64_t now,
                                                   std::int64_t lease_ms) = 0;
  // Renews the lease and records progress; false when the worker no longer
  // holds the job (canceled, or its lease expired and another took it).
  virtual Result<bool> Heartbeat(const std::string& id, const std::string& worker, double progress,
                                 std::int64_t now, std::int64_t lease_ms) = 0;
  // Running -> succeeded; false (and nothing changed) when not held.
  virtual Result<bool> Succeed(const std::string& id, const std::string& worker, std::int64_t file_bytes,
                               std::int64_t now) = 0;
  // Running -> failed (a problem with the input: no retry).
  virtual Result<bool> Fail(const std::string& id, const std::string& worker, const std::string& title,
                            const std::string& detail, std::int64_t now) = 0;
  // Running -> queued at once (a worker shutting down hands its job back).
  virtual Result<bool> Release(const std::string& id, const std::string& worker) = 0;
  // Requeues jobs whose lease expired before `now` (run again after
  // `backoff_ms` x attempts), or fails those that used `max_attempts`.
  // Returns how many jobs it touched.
  virtual Result<std::int64_t> RecoverExpired(std::int64_t now, std::int64_t backoff_ms, int max_attempts) = 0;
};

}  // namespace iv::domain
