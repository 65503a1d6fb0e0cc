// RenderWorkers: threads that take render jobs from the queue and run them.
//
// Each job: claim with a lease -> decrypt the photo's working copy into a
// private temp file -> RenderVideoFile (renewing the lease with progress
// about every second; a canceled or deleted video stops the render) ->
// encrypt the result into the blob store -> mark it succeeded (exactly once:
// only the lease holder can). Bad input fails the job with the renderer's
// message; anything else leaves it for the lease to expire, so it is retried
// with backoff and failed after a few attempts. Temp files never outlive the
// job. Every worker also requeues jobs whose worker died (expired leases).
//
// Used by `serve` (in-process pool) and, later, `imagevideo worker`.
#pragma once

#include <memory>
#include <string>

#include "domain/image_service.h"
#include "domain/user_keys.h"
#include "domain/video_service.h"
#include "domain/video_store.h"
#include "infra/blob_store.h"
#include "infra/clock.h"

namespace iv::app {

struct WorkerOptions {
  int count = 1;                 // worker threads; 0 = none
  int render_threads = 0;        // threads per render; 0 = one per core
  std::string temp_dir;          // private (0700) folder for inputs/outputs
  std::int64_t lease_ms = 30'000;
  std::int64_t retry_backoff_ms = 10'000;
  int max_attempts = 3;
};

class RenderWorkers {
 public:
  RenderWorkers(domain::VideoStore& videos, domain::UserKeys& keys, infra::BlobStore& blobs,
                const infra::Clock& clock, WorkerOptions options);
  ~RenderWorkers();  // Stop()

  void Start();
  // Stops taking jobs; renders in progress are interrupted and their jobs
  // handed back to the queue for another worker (or the next start).
  void Stop();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace iv::app
