#include "infra/sql_video_store.h"

#include "infra/page_cursor.h"

namespace iv::infra {

namespace {

using domain::VideoRecord;
using domain::VideoState;

constexpr const char* kColumns =
    "id, user_id, image_id, settings, state, progress, error_title, error_detail, file_bytes, attempts, created_at, "
    "started_at, finished_at";

Result<VideoState> StateFrom(const std::string& s) {
  for (VideoState v : {VideoState::kQueued, VideoState::kRunning, VideoState::kSucceeded, VideoState::kFailed,
                       VideoState::kCanceled}) {
    if (s == domain::VideoStateName(v)) return v;
  }
  return Status::Internal("unknown video state in the database");
}

Result<VideoRecord> VideoFrom(const Row& r) {
  VideoRecord v;
  IV_ASSIGN_OR_RETURN(v.id, r.Text(0));
  IV_ASSIGN_OR_RETURN(v.user_id, r.Text(1));
  IV_ASSIGN_OR_RETURN(v.image_id, r.Text(2));
  IV_ASSIGN_OR_RETURN(v.settings_json, r.Text(3));
  IV_ASSIGN_OR_RETURN(std::string state, r.Text(4));
  IV_ASSIGN_OR_RETURN(v.state, StateFrom(state));
  IV_ASSIGN_OR_RETURN(v.progress, r.Double(5));
  IV_ASSIGN_OR_RETURN(v.error_title, r.OptText(6));
  IV_ASSIGN_OR_RETURN(v.error_detail, r.OptText(7));
  IV_ASSIGN_OR_RETURN(v.file_bytes, r.OptInt(8));
  IV_ASSIGN_OR_RETURN(std::int64_t attempts, r.Int(9));
  v.attempts = static_cast<int>(attempts);
  IV_ASSIGN_OR_RETURN(v.created_at, r.Int(10));
  IV_ASSIGN_OR_RETURN(v.started_at, r.OptInt(11));
  IV_ASSIGN_OR_RETURN(v.finished_at, r.OptInt(12));
  return v;
}

Result<std::vector<VideoRecord>> VideosFrom(const std::vector<Row>& rows) {
  std::vector<VideoRecord> out;
  for (const Row& r : rows) {
    IV_ASSIGN_OR_RETURN(VideoRecord v, VideoFrom(r));
    out.push_back(std::move(v));
  }
  return out;
}

Result<std::int64_t> Changed(Database& db, std::string_view sql, const std::vector<SqlValue>& params) {
  IV_ASSIGN_OR_RETURN(PooledConnection c, db.Acquire());
  return c->ExecCount(sql, params);
}

std::string Name(VideoState s) { return domain::VideoStateName(s); }

}  // namespace

Status SqlVideoStore::Insert(const VideoRecord& v) {
  IV_ASSIGN_OR_RETURN(PooledConnection c, db_.Acquire());
  return c->Exec("INSERT INTO videos (id, user_id, image_id, settings, state, progress, attempts, run_after, "
                 "created_at) VALUES (?, ?, ?, ?, ?, 0, 0, ?, ?)",
                 {v.id, v.user_id, v.image_id, v.settings_json, Name(v.state), v.created_at, v.created_at});
}

Result<std::optional<VideoRecord>> SqlVideoStore::Find(const std::string& user_id, const std::string& id) {
  IV_ASSIGN_OR_RETURN(PooledConnection c, db_.Acquire());
  IV_ASSIGN_OR_RETURN(auto rows, c->Query(std::string("SELECT ") + kColumns +
                                              " FROM videos WHERE id = ? AND user_id = ?",
                                          {id, user_id}));
  if (rows.empty()) return std::optional<VideoRecord>();
  IV_ASSIGN_OR_RETURN(VideoRecord v, VideoFrom(rows[0]));
  return std::optional<VideoRecord>(std::move(v));
}

Result<domain::Page<VideoRecord>> SqlVideoStore::List(const std::string& user_id, int limit,
                                                      const std::string& cursor) {
  IV_ASSIGN_OR_RETURN(PooledConnection c, db_.Acquire());
  std::string sql = std::string("SELECT ") + kColumns + " FROM videos WHERE user_id = ?";
  std::vector<SqlValue> params{user_id};
  IV_RETURN_IF_ERROR(AppendCursorCondition(cursor, &sql, &params));
  sql += " ORDER BY created_at DESC, id DESC LIMIT ?";
  params.push_back(std::int64_t{limit + 1});
  IV_ASSIGN_OR_RETURN(auto rows, c->Query(sql, params));
  IV_ASSIGN_OR_RETURN(auto videos, VideosFrom(rows));
  domain::Page<VideoRecord> page;
  for (size_t i = 0; i < videos.size() && static_cast<int>(i) < limit; ++i) page.items.push_back(videos[i]);
  if (static_cast<int>(videos.size()) > limit) {
    page.next_cursor = MakePageCursor(page.items.back().created_at, page.items.back().id);
  }
  return page;
}

Result<bool> SqlVideoStore::Cancel(const std::string& user_id, const std::string& id, std::int64_t now) {
  IV_ASSIGN_OR_RETURN(std::int64_t n,
                      Changed(db_, "UPDATE videos SET state = 'canceled', finished_at = ?, lease_owner = NULL "
                                   "WHERE id = ? AND user_id = ? AND state IN ('queued', 'running')",
                              {now, id, user_id}));
  return n > 0;
}

Result<bool> SqlVideoStore::Delete(const std::string& user_id, const std::string& id) {
  IV_ASSIGN_OR_RETURN(std::int64_t n, Changed(db_, "DELETE FROM videos WHERE id = ? AND user_id = ?", {id, user_id}));
  return n > 0;
}

Result<std::int64_t> SqlVideoStore::CountActive(const std::string& user_id) {
  IV_ASSIGN_OR_RETURN(PooledConnection c, db_.Acquire());
  IV_ASSIGN_OR_RETURN(auto rows, c->Query("SELECT COUNT(*) FROM videos WHERE user_id = ? AND state IN ('queued', "
                                          "'running')",
                                          {user_id}));
  return rows.at(0).Int(0);
}

Result<std::int64_t> SqlVideoStore::QueuePosition(const VideoRecord& v) {
  IV_ASSIGN_OR_RETURN(PooledConnection c, db_.Acquire());
  IV_ASSIGN_OR_RETURN(auto rows, c->Query("SELECT COUNT(*) FROM videos WHERE state = 'queued' AND (created_at < ? OR "
                                          "(created_at = ? AND id < ?))",
                                          {v.created_at, v.created_at, v.id}));
  return rows.at(0).Int(0);
}

Result<std::optional<VideoRecord>> SqlVideoStore::Claim(const std::string& worker, std::int64_t now,
                                                        std::int64_t lease_ms) {
  IV_ASSIGN_OR_RETURN(PooledConnection c, db_.Acquire());
  IV_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(*c));
  // PostgreSQL: concurrent claimers skip rows another has locked instead of
  // waiting for it. SQLite: the write transaction serializes claimers.
  const char* lock = c->dialect() == Dialect::kPostgres ? " FOR UPDATE SKIP LOCKED" : "";
  IV_ASSIGN_OR_RETURN(auto rows,
                      c->Query(std::string("UPDATE videos SET state = 'running', lease_owner = ?, lease_expires_at = "
                                           "?, attempts = attempts + 1, started_at = COALESCE(started_at, ?) WHERE "
                                           "id = (SELECT id FROM videos WHERE state = 'queued' AND run_after <= ? "
                                           "ORDER BY created_at, id LIMIT 1") +
                                   lock + ") AND state = 'queued' RETURNING " + kColumns,
                               {worker, now + lease_ms, now, now}));
  IV_RETURN_IF_ERROR(tx.Commit());
  if (rows.empty()) return std::optional<VideoRecord>();
  IV_ASSIGN_OR_RETURN(VideoRecord v, VideoFrom(rows[0]));
  return std::optional<VideoRecord>(std::move(v));
}

Result<bool> SqlVideoStore::Heartbeat(const std::string& id, const std::string& worker, double progress,
                                      std::int64_t now, std::int64_t lease_ms) {
  IV_ASSIGN_OR_RETURN(std::int64_t n, Changed(db_,
                                              "UPDATE videos SET progress = ?, lease_expires_at = ? WHERE id = ? AND "
                                              "lease_owner = ? AND state = 'running'",
                                              {progress, now + lease_ms, id, worker}));
  return n > 0;
}

Result<bool> SqlVideoStore::Succeed(const std::string& id, const std::string& worker, std::int64_t file_bytes,
                                    std::int64_t now) {
  IV_ASSIGN_OR_RETURN(std::int64_t n,
                      Changed(db_,
                              "UPDATE videos SET state = 'succeeded', progress = 1, file_bytes = ?, finished_at = ?, "
                              "lease_owner = NULL, lease_expires_at = NULL WHERE id = ? AND lease_owner = ? AND "
                              "state = 'running'",
                              {file_bytes, now, id, worker}));
  return n > 0;
}

Result<bool> SqlVideoStore::Fail(const std::string& id, const std::string& worker, const std::string& title,
                                 const std::string& detail, std::int64_t now) {
  IV_ASSIGN_OR_RETURN(std::int64_t n,
                      Changed(db_,
                              "UPDATE videos SET state = 'failed', error_title = ?, error_detail = ?, finished_at = "
                              "?, lease_owner = NULL, lease_expires_at = NULL WHERE id = ? AND lease_owner = ? AND "
                              "state = 'running'",
                              {title, detail, now, id, worker}));
  return n > 0;
}

Result<bool> SqlVideoStore::Release(const std::string& id, const std::string& worker) {
  IV_ASSIGN_OR_RETURN(std::int64_t n, Changed(db_,
                                              "UPDATE videos SET state = 'queued', progress = 0, lease_owner = NULL, "
                                              "lease_expires_at = NULL, attempts = attempts - 1 WHERE id = ? AND "
                                              "lease_owner = ? AND state = 'running'",
                                              {id, worker}));
  return n > 0;
}

Result<std::int64_t> SqlVideoStore::RecoverExpired(std::int64_t now, std::int64_t backoff_ms, int max_attempts) {
  IV_ASSIGN_OR_RETURN(PooledConnection c, db_.Acquire());
  IV_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(*c));
  IV_ASSIGN_OR_RETURN(std::int64_t dead,
                      c->ExecCount("UPDATE videos SET state = 'failed', error_title = 'Rendering failed', "
                                   "error_detail = 'the render stopped several times; try other settings', "
                                   "finished_at = ?, lease_owner = NULL, lease_expires_at = NULL WHERE state = "
                                   "'running' AND lease_expires_at < ? AND attempts >= ?",
                                   {now, now, std::int64_t{max_attempts}}));
  IV_ASSIGN_OR_RETURN(std::int64_t requeued,
                      c->ExecCount("UPDATE videos SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL, "
                                   "progress = 0, run_after = ? + ? * attempts WHERE state = 'running' AND "
                                   "lease_expires_at < ?",
                                   {now, backoff_ms, now}));
  IV_RETURN_IF_ERROR(tx.Commit());
  return dead + requeued;
}

}  // namespace iv::infra
