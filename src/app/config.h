// Config: how an operator sets up `imagevideo serve` and `worker`.
//
// Read from a TOML file (default ./imagevideo.toml when present, or --config
// FILE), then overridden by environment variables named
// IMAGEVIDEO_<SECTION>_<KEY> in upper case (IMAGEVIDEO_SERVER_LISTEN,
// IMAGEVIDEO_STORAGE_DATABASE_URL, ...), so containers need no file.
// Unknown keys are errors: a typo must not silently fall back to a default.
// docs/configuration.md lists every key.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace iv::app {

struct Config {
  // [server]
  std::string listen_host = "127.0.0.1";
  int listen_port = 8080;
  std::string public_url;  // default http://<listen>
  int io_threads = 2;
  int handler_threads = 8;
  bool behind_tls = false;  // sets Secure cookies and HSTS

  // [storage]
  std::string data_dir = "data";
  std::string database_url;     // default sqlite:<data_dir>/imagevideo.db
  std::string master_key_file;  // default <data_dir>/master.key
  std::string master_key_hex;   // [storage] master_key, usually from the env

  // [limits]
  std::int64_t upload_max_bytes = 25 * 1024 * 1024;
  double upload_max_megapixels = 50;

  // [accounts]
  std::string policy_version = "2026-11-29";

  // [workers]
  int worker_count = 1;     // in-process render workers; 0 = none
  int render_threads = 0;   // threads per render; 0 = one per core
  int max_active_videos_per_user = 3;
  // A render job's lease: renewed about every second while it runs; a job
  // whose worker died is retried once it expires, after a backoff that grows
  // with each attempt.
  std::int64_t lease_ms = 30'000;
  std::int64_t retry_backoff_ms = 10'000;

  // [mail]
  std::string mail_from = "imagevideo <no-reply@localhost>";
};

// Loads `path` (may be empty: defaults plus environment) and applies the
// environment. kInvalidArgument names the key and what is wrong with it.
Result<Config> LoadConfig(const std::string& path);

}  // namespace iv::app
