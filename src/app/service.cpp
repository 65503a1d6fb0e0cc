#include "app/service.h"

#include "app/render_worker.h"

#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>

#include "domain/account_service.h"
#include "domain/image_service.h"
#include "domain/mail_delivery.h"
#include "domain/user_keys.h"
#include "domain/video_service.h"
#include "http/api.h"
#include "http/server.h"
#include "infra/blob_store.h"
#include "infra/database.h"
#include "infra/file_mail_transport.h"
#include "infra/key_store.h"
#include "infra/schema.h"
#include "infra/sql_account_store.h"
#include "infra/sql_image_store.h"
#include "infra/sql_video_store.h"

namespace iv::app {

namespace fs = std::filesystem;

// Everything the service owns, in construction order (destroyed in reverse).
struct Service::Parts {
  Config config;
  Role role = Role::kServe;
  infra::SystemClock clock;
  std::unique_ptr<infra::Database> db;
  domain::KeyRing keys;
  std::unique_ptr<infra::LocalBlobStore> blobs;
  std::unique_ptr<infra::SqlAccountStore> account_store;
  std::unique_ptr<infra::SqlImageStore> image_store;
  std::unique_ptr<domain::UserKeys> user_keys;
  std::unique_ptr<domain::AccountService> accounts;
  std::unique_ptr<domain::ImageService> images;
  std::unique_ptr<infra::SqlVideoStore> video_store;
  std::unique_ptr<domain::VideoService> videos;
  std::unique_ptr<RenderWorkers> workers;
  std::unique_ptr<http::VideoEvents> video_events;
  std::unique_ptr<infra::FileMailTransport> mail;
  std::unique_ptr<http::Router> router;
  std::unique_ptr<http::Server> server;

  // Mail delivery runs on its own thread, a round every second.
  std::thread mailer;
  std::mutex mu;
  std::condition_variable wake;
  bool stopping = false;

  void DeliverMail() {
    auto sent = domain::DeliverPendingMail(*account_store, keys, *mail, clock);
    if (!sent.ok()) std::fprintf(stderr, "imagevideo: mail delivery: %s\n", sent.status().message().c_str());
  }
};

namespace {

Status MakePrivateDir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::InvalidArgument("cannot create " + dir + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
  return Status::Ok();
}

Result<std::unique_ptr<infra::Database>> OpenMigrated(const Config& config, int* applied) {
  IV_RETURN_IF_ERROR(MakePrivateDir(config.data_dir));
  IV_ASSIGN_OR_RETURN(auto db, infra::Database::Open(config.database_url));
  IV_RETURN_IF_ERROR(infra::Migrate(*db, infra::SchemaMigrations(), applied));
  return db;
}

}  // namespace

Status MigrateDatabase(const Config& config, int* applied) { return OpenMigrated(config, applied).status(); }

Result<std::unique_ptr<Service>> Service::Create(const Config& config, Role role) {
  auto p = std::make_unique<Parts>();
  p->config = config;
  p->role = role;
  IV_ASSIGN_OR_RETURN(p->db, OpenMigrated(config, nullptr));
  infra::Key master;
  if (!config.master_key_hex.empty()) {
    IV_ASSIGN_OR_RETURN(master, infra::MasterKeyFromHex(config.master_key_hex));
  } else {
    IV_ASSIGN_OR_RETURN(master, infra::LoadOrCreateMasterKey(config.master_key_file));
  }
  p->keys = domain::KeyRing::FromMaster(master);
  infra::Wipe(master);

  const std::string blob_dir = (fs::path(config.data_dir) / "blobs").string();
  IV_RETURN_IF_ERROR(MakePrivateDir(blob_dir));
  p->blobs = std::make_unique<infra::LocalBlobStore>(blob_dir);
  IV_RETURN_IF_ERROR(p->blobs->CleanupTemporaryFiles());
  p->account_store = std::make_unique<infra::SqlAccountStore>(*p->db);
  p->image_store = std::make_unique<infra::SqlImageStore>(*p->db);
  p->user_keys = std::make_unique<domain::UserKeys>(*p->account_store, p->keys);

  domain::AccountOptions account_options;
  account_options.policy_version = config.policy_version;
  account_options.public_url = config.public_url;
  account_options.mail_from = config.mail_from;
  p->accounts = std::make_unique<domain::AccountService>(*p->account_store, p->keys, p->clock, account_options);
  domain::ImageLimits limits;
  limits.max_bytes = config.upload_max_bytes;
  limits.max_pixels = static_cast<std::int64_t>(config.upload_max_megapixels * 1e6);
  p->images = std::make_unique<domain::ImageService>(*p->image_store, *p->user_keys, *p->blobs, p->clock, limits);
  p->video_store = std::make_unique<infra::SqlVideoStore>(*p->db);
  p->videos = std::make_unique<domain::VideoService>(*p->video_store, *p->images, *p->user_keys, *p->blobs,
                                                     p->clock, config.max_active_videos_per_user);
  WorkerOptions worker_options;
  worker_options.count = config.worker_count;
  worker_options.render_threads = config.render_threads;
  worker_options.temp_dir = (fs::path(config.data_dir) / "tmp").string();
  worker_options.lease_ms = config.lease_ms;
  worker_options.retry_backoff_ms = config.retry_backoff_ms;
  p->workers = std::make_unique<RenderWorkers>(*p->video_store, *p->user_keys, *p->blobs, p->clock, worker_options);
  p->mail = std::make_unique<infra::FileMailTransport>((fs::path(config.data_dir) / "mail").string());

  p->router = std::make_unique<http::Router>();
  infra::Database* db = p->db.get();
  http::AddHealthRoutes(*p->router, [db]() -> Status {
    IV_ASSIGN_OR_RETURN(infra::PooledConnection c, db->Acquire());
    return c->Query("SELECT 1").status();
  });
  http::AddAccountRoutes(*p->router, *p->accounts);
  http::ApiOptions api;
  api.upload_max_bytes = static_cast<std::uint64_t>(config.upload_max_bytes);
  http::AddImageRoutes(*p->router, *p->images, api);
  p->video_events = std::make_unique<http::VideoEvents>(*p->videos);
  http::AddVideoRoutes(*p->router, *p->videos, *p->video_events);

  http::ServerOptions server_options;
  server_options.host = config.listen_host;
  server_options.port = static_cast<std::uint16_t>(config.listen_port);
  server_options.io_threads = static_cast<size_t>(config.io_threads);
  server_options.worker_threads = static_cast<size_t>(config.handler_threads);
  server_options.behind_tls = config.behind_tls;
  // Uploads and renders in progress keep their files here; whatever a
  // crashed process left behind belongs to no request any more.
  const std::string tmp_dir = (fs::path(config.data_dir) / "tmp").string();
  IV_RETURN_IF_ERROR(MakePrivateDir(tmp_dir));
  for (const auto& e : fs::directory_iterator(tmp_dir)) {
    std::error_code ec;
    fs::remove_all(e.path(), ec);
  }
  server_options.temp_dir = tmp_dir;
  p->server = std::make_unique<http::Server>(server_options, *p->router,
                                             std::vector<http::Middleware>{http::AuthMiddleware(*p->accounts)});
  return std::unique_ptr<Service>(new Service(std::move(p)));
}

Service::Service(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

Service::~Service() { Stop(); }

Status Service::Start() {
  parts_->workers->Start();
  if (parts_->role == Role::kWorkerOnly) return Status::Ok();
  IV_RETURN_IF_ERROR(parts_->server->Start());
  Parts* p = parts_.get();
  p->mailer = std::thread([p] {
    std::unique_lock lock(p->mu);
    while (!p->stopping) {
      lock.unlock();
      p->DeliverMail();
      lock.lock();
      p->wake.wait_for(lock, std::chrono::seconds(1));
    }
  });
  return Status::Ok();
}

int Service::port() const { return parts_->role == Role::kServe ? parts_->server->port() : 0; }

void Service::Stop() {
  if (!parts_) return;
  parts_->video_events->Stop();  // closes live streams so the server can drain
  parts_->server->Stop();
  parts_->workers->Stop();  // renders in progress go back to the queue
  {
    std::lock_guard lock(parts_->mu);
    parts_->stopping = true;
  }
  parts_->wake.notify_all();
  if (parts_->mailer.joinable()) {
    parts_->mailer.join();
    parts_->DeliverMail();  // what the last requests queued
  }
}

}  // namespace iv::app
