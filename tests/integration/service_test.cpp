// The web service end to end: the real `imagevideo serve` on a free loopback
// port, driven over HTTP, on SQLite and on PostgreSQL.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/postgres_server.h"
#include "support/service_harness.h"
#include "support/test_support.h"

namespace iv {
namespace {

namespace fs = std::filesystem;
using test::HttpClient;
using test::HttpResponse;

std::string ReadBytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

enum class Backend { kSqlite, kPostgres };

class ServiceTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string url;
    if (GetParam() == Backend::kPostgres) url = test::PostgresServer::Shared().CreateDatabase();
    service_ = std::make_unique<test::ServiceProcess>(dir_.file("data"), url);
    ASSERT_TRUE(service_->Start());
  }

  HttpClient Client() { return HttpClient(service_->base_url()); }

  HttpClient SignedIn(const std::string& email) { return test::SignedInClient(*service_, email); }

  std::string Upload(HttpClient& c) {
    auto r = c.PostFile("/api/v1/images", "file", "rocket.jpg", ReadBytes(test::TestData("rocket.jpg")), "image/jpeg");
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json().value("id", "");
  }

  size_t BlobCount() {
    size_t n = 0;
    fs::path blobs = fs::path(service_->data_dir()) / "blobs";
    for (const auto& e : fs::recursive_directory_iterator(blobs)) n += e.is_regular_file();
    return n;
  }

  test::TempDir dir_;
  std::unique_ptr<test::ServiceProcess> service_;
};

TEST_P(ServiceTest, HealthAndReadiness) {
  HttpClient c = Client();
  EXPECT_EQ(c.Get("/healthz").status, 200);
  EXPECT_EQ(c.Get("/readyz").status, 200);
  auto r = c.Get("/healthz");
  EXPECT_EQ(r.header("x-content-type-options"), "nosniff");
  EXPECT_NE(r.header("content-security-policy").find("frame-ancestors 'none'"), std::string::npos);
}

TEST_P(ServiceTest, SignUpVerifySignInUploadDownloadDelete) {
  HttpClient c = SignedIn("ada@example.com");
  auto me = c.Get("/api/v1/me");
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.json()["user"]["email"], "ada@example.com");
  EXPECT_EQ(me.json()["user"]["email_verified"], true);

  std::string id = Upload(c);
  ASSERT_FALSE(id.empty());
  auto list = c.Get("/api/v1/images?limit=10");
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(list.json()["items"].size(), 1u);
  EXPECT_EQ(list.json()["items"][0]["width"], 640);

  auto whole = c.Get("/api/v1/images/" + id + "/file");
  ASSERT_EQ(whole.status, 200);
  EXPECT_EQ(whole.header("content-type"), "image/jpeg");
  EXPECT_EQ(whole.body.substr(0, 3), "\xFF\xD8\xFF");
  EXPECT_EQ(whole.body.find("ICC_PROFILE"), std::string::npos) << "metadata stripped";
  auto part = c.Get("/api/v1/images/" + id + "/file", {"Range: bytes=100-199"});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, whole.body.substr(100, 100));
  auto etag = whole.header("etag");
  EXPECT_EQ(c.Get("/api/v1/images/" + id + "/file", {"If-None-Match: " + etag}).status, 304);

  // Nothing on disk holds image bytes or the address in clear.
  for (const auto& e : fs::recursive_directory_iterator(fs::path(service_->data_dir()) / "blobs")) {
    if (!e.is_regular_file()) continue;
    std::string bytes = ReadBytes(e.path());
    EXPECT_EQ(bytes.find("\xFF\xD8\xFF"), std::string::npos) << e.path();
    EXPECT_EQ(bytes.find("\x89PNG"), std::string::npos) << e.path();
  }
  if (GetParam() == Backend::kSqlite) {
    std::string db = ReadBytes(fs::path(service_->data_dir()) / "imagevideo.db") +
                     ReadBytes(fs::path(service_->data_dir()) / "imagevideo.db-wal");
    EXPECT_EQ(db.find("ada@example.com"), std::string::npos);
  }

  EXPECT_EQ(c.Delete("/api/v1/images/" + id).status, 204);
  EXPECT_EQ(c.Get("/api/v1/images/" + id).status, 404);
  EXPECT_EQ(BlobCount(), 0u);

  EXPECT_EQ(c.PostJson("/api/v1/auth/logout", nlohmann::json::object()).status, 204);
  EXPECT_EQ(c.Get("/api/v1/me").status, 401);
}

TEST_P(ServiceTest, EveryPrivateRouteNeedsCredentialsAndHidesOtherUsersThings) {
  HttpClient ada = SignedIn("ada@example.com");
  HttpClient bob = SignedIn("bob@example.com");
  std::string id = Upload(ada);
  HttpClient anonymous = Client();
  struct Call {
    std::string method, path;
  };
  std::vector<Call> private_calls = {
      {"GET", "/api/v1/me"},           {"GET", "/api/v1/me/sessions"}, {"GET", "/api/v1/images"},
      {"GET", "/api/v1/images/" + id}, {"GET", "/api/v1/images/" + id + "/file"},
      {"DELETE", "/api/v1/images/" + id}, {"DELETE", "/api/v1/me/sessions/x"},
      {"POST", "/api/v1/auth/logout"},
  };
  for (const auto& call : private_calls) {
    auto r = call.method == "GET" ? anonymous.Get(call.path)
             : call.method == "DELETE" ? anonymous.Delete(call.path)
                                       : anonymous.PostJson(call.path, nlohmann::json::object());
    EXPECT_EQ(r.status, 401) << call.method << " " << call.path;
    EXPECT_EQ(r.header("content-type"), "application/problem+json") << call.path;
  }
  // Another user's image answers exactly like one that does not exist.
  for (const std::string& path : {"/api/v1/images/" + id, "/api/v1/images/" + id + "/file"}) {
    EXPECT_EQ(bob.Get(path).status, 404) << path;
  }
  EXPECT_EQ(bob.Delete("/api/v1/images/" + id).status, 404);
  EXPECT_EQ(bob.Get("/api/v1/images").json()["items"].size(), 0u);
  EXPECT_EQ(ada.Get("/api/v1/images/" + id).status, 200) << "still there";
}

TEST_P(ServiceTest, CookieWritesNeedTheCsrfToken) {
  HttpClient c = SignedIn("ada@example.com");
  c.forget_csrf();
  auto r = c.PostFile("/api/v1/images", "file", "rocket.jpg", ReadBytes(test::TestData("rocket.jpg")));
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(BlobCount(), 0u);
}

TEST_P(ServiceTest, BadUploadsAnswerProblemsAndStoreNothing) {
  HttpClient c = SignedIn("ada@example.com");
  std::string full = ReadBytes(test::TestData("rocket.jpg"));
  test::TempDir tmp;
  test::WritePngClaiming(tmp.file("bomb.png"), 60000, 60000);
  struct Case {
    std::string name, filename, bytes;
    long status;
  } cases[] = {
      {"bomb", "bomb.png", ReadBytes(tmp.file("bomb.png")), 413},
      {"truncated", "cut.jpg", full.substr(0, full.size() / 2), 415},
      {"pdf named png", "doc.png", "%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n", 415},
      {"traversal name", "../../../../tmp/evil.jpg", "not an image at all", 415},
      {"empty", "empty.jpg", "", 415},
  };
  for (const auto& k : cases) {
    auto r = c.PostFile("/api/v1/images", "file", k.filename, k.bytes);
    EXPECT_EQ(r.status, k.status) << k.name << ": " << r.body;
    EXPECT_EQ(r.header("content-type"), "application/problem+json") << k.name;
  }
  EXPECT_FALSE(fs::exists("/tmp/evil.jpg"));
  // Over the 25 MB limit: refused from the Content-Length, before the body
  // is sent (clients that wait for "100 Continue" get the 413 cleanly; see
  // the notes on lingering close for those that do not).
  auto big = c.PostFile("/api/v1/images", "file", "big.jpg", std::string(26 * 1024 * 1024, 'x'),
                        "application/octet-stream", {"Expect: 100-continue"});
  EXPECT_EQ(big.status, 413) << big.body;
  // No file part.
  EXPECT_EQ(c.PostRaw("/api/v1/images", "--b--\r\n", "multipart/form-data; boundary=b").status / 100, 4);
  EXPECT_EQ(BlobCount(), 0u);
  EXPECT_EQ(c.Get("/api/v1/images").json()["items"].size(), 0u);
  // Nothing left in the upload temp folder either.
  size_t temp_files = 0;
  for (const auto& e : fs::directory_iterator(fs::path(service_->data_dir()) / "tmp")) temp_files += e.is_regular_file();
  EXPECT_EQ(temp_files, 0u);
}

TEST_P(ServiceTest, BadJsonAnswersProblems) {
  HttpClient c = Client();
  auto malformed = c.PostRaw("/api/v1/auth/register", "{\"name\": ", "application/json");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(malformed.header("content-type"), "application/problem+json");
  auto unknown = c.PostJson("/api/v1/auth/register", {{"name", "A"}, {"emial", "typo@example.com"}});
  EXPECT_EQ(unknown.status, 422);
  EXPECT_EQ(unknown.json()["errors"][0]["field"], "emial");
  auto child = c.PostJson("/api/v1/auth/register", {{"name", "Kid"},
                                                    {"email", "kid@example.com"},
                                                    {"password", "correct horse battery"},
                                                    {"age_confirmed", false},
                                                    {"policy_version", "2026-11-29"}});
  EXPECT_EQ(child.status, 422);
  EXPECT_EQ(child.json()["errors"][0]["field"], "age_confirmed");
  auto wrong = c.PostJson("/api/v1/auth/login", {{"email", "nobody@example.com"}, {"password", "whatever12345"}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(c.Get("/api/v1/nope").status, 404);
  EXPECT_EQ(c.Delete("/healthz").status, 405);
}

TEST_P(ServiceTest, SessionsCanBeListedAndRevoked) {
  HttpClient a = SignedIn("ada@example.com");
  HttpClient b = Client();
  ASSERT_TRUE(b.Login("ada@example.com", "correct horse battery"));
  EXPECT_NE(a.session_cookie(), b.session_cookie()) << "a new session at every sign-in";
  auto list = a.Get("/api/v1/me/sessions");
  ASSERT_EQ(list.json()["items"].size(), 2u) << list.body;
  std::string other;
  const nlohmann::json sessions = list.json();
  for (const auto& s : sessions["items"])
    if (!s["current"].get<bool>()) other = s["id"];
  ASSERT_FALSE(other.empty()) << list.body;
  EXPECT_EQ(a.Delete("/api/v1/me/sessions/" + other).status, 204) << list.body;
  EXPECT_EQ(b.Get("/api/v1/me").status, 401);
  EXPECT_EQ(a.Get("/api/v1/me").status, 200);
}

TEST_P(ServiceTest, StopsGracefully) { EXPECT_EQ(service_->Stop(), 0); }

INSTANTIATE_TEST_SUITE_P(Backends, ServiceTest, ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const auto& info) { return info.param == Backend::kSqlite ? "sqlite" : "postgres"; });

}  // namespace
}  // namespace iv
