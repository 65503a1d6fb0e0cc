#include "infra/schema.h"

namespace iv::infra {

namespace {

// Version 1: accounts, sessions, email tokens, login throttling, the mail
// outbox and images. Written in the subset both engines accept.
constexpr const char* kV1 = R"sql(
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  email_index TEXT NOT NULL UNIQUE,
  email_sealed TEXT NOT NULL,
  name_sealed TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  dek_wrapped TEXT NOT NULL,
  policy_version TEXT NOT NULL,
  policy_accepted_at BIGINT NOT NULL,
  age_confirmed_at BIGINT NOT NULL,
  email_verified_at BIGINT,
  created_at BIGINT NOT NULL
);
CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  csrf_token TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  device TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE TABLE email_tokens (
  token_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  purpose TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at BIGINT
);
CREATE INDEX email_tokens_user ON email_tokens(user_id);
CREATE TABLE login_failures (
  id TEXT PRIMARY KEY,
  email_index TEXT NOT NULL,
  ip TEXT NOT NULL,
  at BIGINT NOT NULL
);
CREATE INDEX login_failures_account ON login_failures(email_index, at);
CREATE INDEX login_failures_ip ON login_failures(ip, at);
CREATE TABLE mail_outbox (
  id TEXT PRIMARY KEY,
  user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
  sealed TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  sent_at BIGINT
);
CREATE INDEX mail_outbox_pending ON mail_outbox(sent_at, created_at);
CREATE TABLE images (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  width INTEGER NOT NULL,
  height INTEGER NOT NULL,
  format TEXT NOT NULL,
  original_bytes BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX images_user ON images(user_id, created_at);
)sql";

// Version 2: videos, each carrying its render job's queue state (claimed by
// a worker with a lease that it renews; an expired lease puts the job back).
constexpr const char* kV2 = R"sql(
CREATE TABLE videos (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  image_id TEXT NOT NULL,
  settings TEXT NOT NULL,
  state TEXT NOT NULL,
  progress DOUBLE PRECISION NOT NULL,
  error_title TEXT,
  error_detail TEXT,
  file_bytes BIGINT,
  attempts INTEGER NOT NULL,
  lease_owner TEXT,
  lease_expires_at BIGINT,
  run_after BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  started_at BIGINT,
  finished_at BIGINT
);
CREATE INDEX videos_user ON videos(user_id, created_at);
CREATE INDEX videos_queue ON videos(state, run_after, created_at);
)sql";

}  // namespace

const std::vector<Migration>& SchemaMigrations() {
  static const std::vector<Migration> migrations = {
      {1, "accounts, sessions, outbox, images", kV1, kV1},
      {2, "videos and their render queue", kV2, kV2},
  };
  return migrations;
}

}  // namespace iv::infra
