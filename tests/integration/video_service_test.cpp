// Render jobs through the service: request, queue, worker, download; cancel;
// and a crash in the middle of a render. On SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "support/postgres_server.h"
#include "support/service_harness.h"
#include "support/test_support.h"

namespace iv {
namespace {

namespace fs = std::filesystem;
using test::HttpClient;

std::string ReadBytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

enum class Backend { kSqlite, kPostgres };

class VideoServiceTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kPostgres) url_ = test::PostgresServer::Shared().CreateDatabase();
    ASSERT_TRUE(StartService());
  }

  // Short leases so a crashed worker's job comes back within seconds.
  bool StartService() {
    service_ = std::make_unique<test::ServiceProcess>(
        dir_.file("data"), url_,
        std::vector<std::string>{"IMAGEVIDEO_WORKERS_LEASE_MS=2000", "IMAGEVIDEO_WORKERS_RETRY_BACKOFF_MS=0",
                                 "IMAGEVIDEO_WORKERS_RENDER_THREADS=2"});
    return service_->Start();
  }

  HttpClient SignedIn(const std::string& email) { return test::SignedInClient(*service_, email); }

  std::string UploadPhoto(HttpClient& c) {
    auto r = c.PostFile("/api/v1/images", "file", "rocket.jpg", ReadBytes(test::TestData("rocket.jpg")));
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json().value("id", "");
  }

  // Polls until the video leaves queued/running (or `timeout` passes).
  nlohmann::json WaitFinished(HttpClient& c, const std::string& id, int timeout_s = 90) {
    nlohmann::json v;
    for (int i = 0; i < timeout_s * 5; ++i) {
      v = c.Get("/api/v1/videos/" + id).json();
      if (v.value("state", "") != "queued" && v.value("state", "") != "running") return v;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ADD_FAILURE() << "video " << id << " did not finish: " << v.dump();
    return v;
  }

  size_t FilesUnder(const std::string& sub) {
    size_t n = 0;
    fs::path p = fs::path(service_->data_dir()) / sub;
    if (!fs::exists(p)) return 0;
    for (const auto& e : fs::recursive_directory_iterator(p)) n += e.is_regular_file();
    return n;
  }

  test::TempDir dir_;
  std::string url_;
  std::unique_ptr<test::ServiceProcess> service_;
};

TEST_P(VideoServiceTest, RenderAndDownload) {
  HttpClient c = SignedIn("ada@example.com");
  std::string image = UploadPhoto(c);
  auto created = c.PostJson("/api/v1/videos", {{"image_id", image},
                                               {"camera", "ken-burns"},
                                               {"duration_s", 2},
                                               {"fps", 24},
                                               {"size", "480p"},
                                               {"format", "mp4"}});
  ASSERT_EQ(created.status, 202) << created.body;
  auto body = created.json();
  EXPECT_EQ(body["state"], "queued");
  EXPECT_EQ(body["settings"]["camera"], "ken-burns");
  std::string id = body["id"];
  auto done = WaitFinished(c, id);
  ASSERT_EQ(done["state"], "succeeded") << done.dump();
  EXPECT_DOUBLE_EQ(done["progress"].get<double>(), 1.0);

  auto file = c.Get("/api/v1/videos/" + id + "/file?download=1");
  ASSERT_EQ(file.status, 200);
  EXPECT_EQ(file.header("content-type"), "video/mp4");
  EXPECT_NE(file.header("content-disposition").find("attachment"), std::string::npos);
  test::TempDir out;
  std::ofstream(out.file("v.mp4"), std::ios::binary) << file.body;
  auto info = test::Probe(out.file("v.mp4"));
  EXPECT_EQ(info["streams"][0]["codec_name"], "h264");
  EXPECT_EQ(info["streams"][0]["nb_frames"], "48");
  auto part = c.Get("/api/v1/videos/" + id + "/file", {"Range: bytes=0-1023"});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, file.body.substr(0, 1024));

  // The stored video is encrypted.
  for (const auto& e : fs::recursive_directory_iterator(fs::path(service_->data_dir()) / "blobs")) {
    if (e.is_regular_file()) EXPECT_EQ(ReadBytes(e.path()).find("ftyp"), std::string::npos) << e.path();
  }
  // Someone else sees nothing.
  HttpClient bob = SignedIn("bob@example.com");
  EXPECT_EQ(bob.Get("/api/v1/videos/" + id).status, 404);
  EXPECT_EQ(bob.Get("/api/v1/videos/" + id + "/file").status, 404);
  EXPECT_EQ(bob.Delete("/api/v1/videos/" + id).status, 404);
  EXPECT_EQ(bob.PostJson("/api/v1/videos", {{"image_id", image}}).status, 404) << "not bob's photo";

  EXPECT_EQ(c.Get("/api/v1/videos").json()["items"].size(), 1u);
  EXPECT_EQ(c.Delete("/api/v1/videos/" + id).status, 204);
  EXPECT_EQ(c.Get("/api/v1/videos/" + id + "/file").status, 404);
  EXPECT_EQ(FilesUnder("blobs/u"), 2u) << "only the photo's two blobs remain";
}

TEST_P(VideoServiceTest, ProgressStreamsAsServerSentEvents) {
  HttpClient c = SignedIn("ada@example.com");
  std::string image = UploadPhoto(c);
  auto created = c.PostJson("/api/v1/videos", {{"image_id", image}, {"duration_s", 3}, {"size", "720p"}});
  ASSERT_EQ(created.status, 202);
  std::string id = created.json()["id"];
  // The stream ends by itself after the "done" event.
  auto events = c.Get("/api/v1/videos/" + id + "/events");
  ASSERT_EQ(events.status, 200);
  EXPECT_EQ(events.header("content-type").rfind("text/event-stream", 0), 0u) << events.header("content-type");
  EXPECT_NE(events.body.find("event: state"), std::string::npos) << events.body;
  EXPECT_NE(events.body.find("event: progress"), std::string::npos) << events.body;
  auto done = events.body.rfind("event: done\ndata: ");
  ASSERT_NE(done, std::string::npos) << events.body;
  auto resource = nlohmann::json::parse(events.body.substr(done + 18, events.body.find('\n', done + 18) - done - 18));
  EXPECT_EQ(resource["state"], "succeeded");
  // Someone else's video has no stream.
  HttpClient bob = SignedIn("bob@example.com");
  EXPECT_EQ(bob.Get("/api/v1/videos/" + id + "/events").status, 404);
}

TEST_P(VideoServiceTest, BadRequestsNameTheField) {
  HttpClient c = SignedIn("ada@example.com");
  std::string image = UploadPhoto(c);
  auto bad = c.PostJson("/api/v1/videos", {{"image_id", image}, {"duration_s", 50}});
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(bad.json()["errors"][0]["field"], "duration_s");
  auto typo = c.PostJson("/api/v1/videos", {{"image_id", image}, {"camra", "zoom-in"}});
  EXPECT_EQ(typo.status, 422);
  EXPECT_EQ(typo.json()["errors"][0]["field"], "camra");
  EXPECT_EQ(c.PostJson("/api/v1/videos", {{"camera", "zoom-in"}}).status, 422);
  EXPECT_EQ(c.PostJson("/api/v1/videos", {{"image_id", "nope"}}).status, 404);
  EXPECT_EQ(c.Get("/api/v1/videos").json()["items"].size(), 0u);
}

TEST_P(VideoServiceTest, CancelStopsTheRender) {
  HttpClient c = SignedIn("ada@example.com");
  std::string image = UploadPhoto(c);
  auto created = c.PostJson("/api/v1/videos", {{"image_id", image}, {"duration_s", 20}, {"fps", 60},
                                               {"size", "1080p"}, {"quality", "high"}});
  ASSERT_EQ(created.status, 202);
  std::string id = created.json()["id"];
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  auto canceled = c.PostJson("/api/v1/videos/" + id + "/cancel", nlohmann::json::object());
  EXPECT_EQ(canceled.status, 200) << canceled.body;
  EXPECT_EQ(canceled.json()["state"], "canceled");
  EXPECT_EQ(c.PostJson("/api/v1/videos/" + id + "/cancel", nlohmann::json::object()).status, 409);
  // The worker notices at its next heartbeat and leaves nothing behind.
  std::this_thread::sleep_for(std::chrono::milliseconds(3000));
  EXPECT_EQ(c.Get("/api/v1/videos/" + id).json()["state"], "canceled");
  EXPECT_EQ(FilesUnder("tmp"), 0u);
  EXPECT_EQ(FilesUnder("blobs/u"), 2u) << "no video blob";
}

TEST_P(VideoServiceTest, CrashMidRenderCompletesExactlyOnceAfterRestart) {
  HttpClient c = SignedIn("ada@example.com");
  std::string image = UploadPhoto(c);
  auto created = c.PostJson("/api/v1/videos", {{"image_id", image}, {"duration_s", 8}, {"size", "720p"}});
  ASSERT_EQ(created.status, 202);
  std::string id = created.json()["id"];
  // Wait until it renders, then kill the whole service.
  for (int i = 0; i < 100; ++i) {
    if (c.Get("/api/v1/videos/" + id).json().value("state", "") == "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  service_->Kill();
  ASSERT_TRUE(StartService());
  HttpClient again(service_->base_url());
  again.set_session_cookie(c.session_cookie());
  EXPECT_EQ(FilesUnder("tmp"), 0u) << "stray files of the killed render are gone";
  auto done = WaitFinished(again, id, 120);
  EXPECT_EQ(done["state"], "succeeded") << done.dump();
  EXPECT_EQ(FilesUnder("blobs/u"), 3u) << "photo (2 blobs) and exactly one video";
  EXPECT_EQ(again.Get("/api/v1/videos/" + id + "/file").status, 200);
  EXPECT_EQ(FilesUnder("tmp"), 0u);
}

TEST_P(VideoServiceTest, AWorkerProcessOfItsOwnTakesTheJobs) {
  // The web service renders nothing itself; `imagevideo worker` on the same
  // database and storage does.
  service_->Stop();
  service_ = std::make_unique<test::ServiceProcess>(dir_.file("data"), url_,
                                                    std::vector<std::string>{"IMAGEVIDEO_WORKERS_COUNT=0"});
  ASSERT_TRUE(service_->Start());
  HttpClient c = SignedIn("ada@example.com");
  std::string image = UploadPhoto(c);
  auto created = c.PostJson("/api/v1/videos", {{"image_id", image}, {"duration_s", 1}, {"size", "480p"}});
  ASSERT_EQ(created.status, 202);
  std::string id = created.json()["id"];
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(c.Get("/api/v1/videos/" + id).json()["state"], "queued") << "no worker in the web process";
  test::ServiceProcess worker(dir_.file("data"), url_, {}, "worker");
  ASSERT_TRUE(worker.Start());
  EXPECT_EQ(WaitFinished(c, id)["state"], "succeeded");
  EXPECT_EQ(worker.Stop(), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, VideoServiceTest, ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const auto& info) { return info.param == Backend::kSqlite ? "sqlite" : "postgres"; });

}  // namespace
}  // namespace iv
