// What slow, idle, oversized or hostile clients can do to the server, and
// uploads.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "http/multipart.h"
#include "support/test_support.h"
#include "test_server.h"

namespace iv::http {
namespace {

using test::ConnectRaw;
using test::Fetch;
using test::ReceiveRaw;
using test::SendAll;
using test::TestServer;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void SmallRoutes(Router& r) {
  r.Get("/ping", [](Request&) { return Response::Text(200, "pong"); });
  r.Post("/small", [](Request& req) { return Response::Text(200, std::to_string(req.body.size())); },
         {.max_body_bytes = 1000});
  r.Post("/json", [](Request& req) { return Response::Text(200, std::to_string(req.body.size())); });
}

TEST(ServerLimitsTest, HugeContentLengthIsRejectedBeforeTheBodyIsRead) {
  TestServer s({}, SmallRoutes);
  int fd = ConnectRaw(s.port());
  ASSERT_GE(fd, 0);
  const auto start = Clock::now();
  ASSERT_TRUE(SendAll(fd,
                      "POST /json HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                      "Content-Length: 1073741824\r\n\r\n" +
                          std::string(1000, 'x')));
  bool closed = false;
  std::string resp = ReceiveRaw(fd, 5000, &closed);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  ::close(fd);
  EXPECT_EQ(resp.rfind("HTTP/1.1 413", 0), 0u) << resp;
  EXPECT_NE(Lower(resp).find("connection: close"), std::string::npos);
  EXPECT_NE(resp.find("application/problem+json"), std::string::npos);
  EXPECT_NE(resp.find("/problems/too-large"), std::string::npos);
  EXPECT_TRUE(closed);
  EXPECT_LT(seconds, 2.0);
  EXPECT_EQ(Fetch(s.Url("/ping")).body, "pong");  // the server is fine
}

TEST(ServerLimitsTest, PerRouteBodyLimits) {
  TestServer s({}, SmallRoutes);
  EXPECT_EQ(Fetch(s.Url("/small"), {.method = "POST", .body = std::string(1000, 'a')}).body, "1000");
  auto over = Fetch(s.Url("/small"), {.method = "POST", .body = std::string(5000, 'a')});
  EXPECT_EQ(over.status, 413);
  EXPECT_EQ(over.Header("content-type"), "application/problem+json");
  // The default limit (1 MiB) still allows 5000 bytes elsewhere.
  EXPECT_EQ(Fetch(s.Url("/json"), {.method = "POST", .body = std::string(5000, 'a')}).body, "5000");
}

TEST(ServerLimitsTest, ChunkedBodyOverTheRouteLimit) {
  TestServer s({}, SmallRoutes);
  auto over = Fetch(s.Url("/small"), {.method = "POST",
                                      .body = std::string(5000, 'a'),
                                      .headers = {"Transfer-Encoding: chunked"}});
  EXPECT_EQ(over.status, 413);
  auto ok = Fetch(s.Url("/small"),
                  {.method = "POST", .body = std::string(500, 'a'), .headers = {"Transfer-Encoding: chunked"}});
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "500");
  // Over the largest limit of any route RESTinio drops the connection.
  auto huge = Fetch(s.Url("/json"), {.method = "POST",
                                     .body = std::string(3 << 20, 'a'),
                                     .headers = {"Transfer-Encoding: chunked"}});
  EXPECT_NE(huge.status, 200);
}

TEST(ServerLimitsTest, SlowlorisIsCutOffByTheReadTimeout) {
  TestServer s({.read_timeout = std::chrono::milliseconds(1000)}, SmallRoutes);
  int fd = ConnectRaw(s.port());
  ASSERT_GE(fd, 0);
  const std::string request = "GET /ping HTTP/1.1\r\nHost: t\r\nX-Padding: " + std::string(200, 'p') + "\r\n\r\n";
  const auto start = Clock::now();
  bool closed = false;
  for (size_t i = 0; i < request.size() && !closed; ++i) {
    if (::send(fd, &request[i], 1, MSG_NOSIGNAL) != 1) {
      closed = true;
      break;
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) {
      char buf[256];
      if (::recv(fd, buf, sizeof buf, 0) <= 0) closed = true;
    }
    if (Clock::now() - start > std::chrono::seconds(6)) break;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  ::close(fd);
  EXPECT_TRUE(closed);
  EXPECT_GT(seconds, 0.8);
  EXPECT_LT(seconds, 3.0);
  EXPECT_EQ(Fetch(s.Url("/ping")).body, "pong");
}

TEST(ServerLimitsTest, OversizedHeadersCloseTheConnection) {
  TestServer s({.max_header_bytes = 8192}, SmallRoutes);
  int fd = ConnectRaw(s.port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, "GET /ping HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n"));
  bool closed = false;
  std::string resp = ReceiveRaw(fd, 3000, &closed);
  ::close(fd);
  EXPECT_TRUE(closed);
  EXPECT_EQ(resp.find("200 OK"), std::string::npos);
  // Many small fields add up too.
  fd = ConnectRaw(s.port());
  std::string many = "GET /ping HTTP/1.1\r\nHost: t\r\n";
  for (int i = 0; i < 300; ++i) many += "X-F" + std::to_string(i) + ": " + std::string(50, 'b') + "\r\n";
  ASSERT_TRUE(SendAll(fd, many + "\r\n"));
  resp = ReceiveRaw(fd, 3000, &closed);
  ::close(fd);
  EXPECT_TRUE(closed);
  EXPECT_EQ(resp.find("200 OK"), std::string::npos);
  // So do fields that are each small and few, but large together (the
  // total is http_parser's limit, set from max_header_bytes).
  fd = ConnectRaw(s.port());
  std::string wide = "GET /ping HTTP/1.1\r\nHost: t\r\n";
  for (int i = 0; i < 40; ++i) wide += "X-W" + std::to_string(i) + ": " + std::string(400, 'w') + "\r\n";
  ASSERT_TRUE(SendAll(fd, wide + "\r\n"));
  resp = ReceiveRaw(fd, 3000, &closed);
  ::close(fd);
  EXPECT_TRUE(closed);
  EXPECT_EQ(resp.find("200 OK"), std::string::npos);
  // A normal request with a 4 KiB header is fine.
  EXPECT_EQ(Fetch(s.Url("/ping"), {.headers = {"X-Ok: " + std::string(4096, 'c')}}).body, "pong");
}

TEST(ServerLimitsTest, ThousandIdleKeepAliveConnectionsDoNotBlockNewRequests) {
  TestServer s({.io_threads = 2}, SmallRoutes);
  std::vector<int> fds;
  for (int i = 0; i < 1000; ++i) {
    int fd = ConnectRaw(s.port());
    ASSERT_GE(fd, 0) << "connection " << i;
    fds.push_back(fd);
  }
  // Half of them complete a request and then sit idle with keep-alive.
  for (size_t i = 0; i < fds.size(); i += 2)
    ASSERT_TRUE(SendAll(fds[i], "GET /ping HTTP/1.1\r\nHost: t\r\n\r\n"));
  for (size_t i = 0; i < fds.size(); i += 2) {
    std::string r = ReceiveRaw(fds[i], 5000, nullptr,
                               [](const std::string& got) { return got.find("pong") != std::string::npos; });
    ASSERT_NE(r.find("pong"), std::string::npos) << "connection " << i;
  }
  auto fresh = Fetch(s.Url("/ping"));
  EXPECT_EQ(fresh.status, 200);
  EXPECT_LT(fresh.seconds, 2.0);
  // And an idle keep-alive connection is still usable.
  ASSERT_TRUE(SendAll(fds[0], "GET /ping HTTP/1.1\r\nHost: t\r\n\r\n"));
  std::string again =
      ReceiveRaw(fds[0], 3000, nullptr, [](const std::string& got) { return got.find("pong") != std::string::npos; });
  EXPECT_NE(again.find("pong"), std::string::npos);
  for (int fd : fds) ::close(fd);
}

TEST(ServerLimitsTest, MaxConnectionsRefusesTheExcess) {
  TestServer s({.max_connections = 5}, SmallRoutes);
  std::vector<int> fds;
  for (int i = 0; i < 5; ++i) {
    fds.push_back(ConnectRaw(s.port()));
    ASSERT_TRUE(SendAll(fds.back(), "GET /ping HTTP/1.1\r\nHost: t\r\n\r\n"));
    std::string r = ReceiveRaw(fds.back(), 3000, nullptr,
                               [](const std::string& got) { return got.find("pong") != std::string::npos; });
    ASSERT_NE(r.find("pong"), std::string::npos);
  }
  // The sixth is closed without an answer.
  int extra = ConnectRaw(s.port());
  ASSERT_GE(extra, 0);
  SendAll(extra, "GET /ping HTTP/1.1\r\nHost: t\r\n\r\n");
  bool closed = false;
  std::string r = ReceiveRaw(extra, 3000, &closed);
  ::close(extra);
  EXPECT_TRUE(closed);
  EXPECT_EQ(r.find("pong"), std::string::npos);
  // Once one closes, there is room again.
  ::close(fds.back());
  fds.pop_back();
  bool served = false;
  for (int attempt = 0; attempt < 50 && !served; ++attempt) {
    served = Fetch(s.Url("/ping"), {.timeout_ms = 1000}).body == "pong";
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(served);
  for (int fd : fds) ::close(fd);
}

struct UploadSpec {
  const std::string* data;
  const char* filename;
};

curl_mime* BuildUpload(CURL* curl, void* arg) {
  auto* spec = static_cast<UploadSpec*>(arg);
  curl_mime* mime = curl_mime_init(curl);
  curl_mimepart* title = curl_mime_addpart(mime);
  curl_mime_name(title, "title");
  curl_mime_data(title, "My photo", CURL_ZERO_TERMINATED);
  curl_mimepart* file = curl_mime_addpart(mime);
  curl_mime_name(file, "file");
  curl_mime_data(file, spec->data->data(), spec->data->size());
  curl_mime_filename(file, spec->filename);
  curl_mime_type(file, "image/png");
  return mime;
}

TEST(ServerLimitsTest, MultipartUploadGoesToATempFileThatIsRemovedAfterwards) {
  iv::test::TempDir temp;
  std::string payload(5 << 20, '\0');
  std::mt19937 rng(42);
  for (auto& c : payload) c = static_cast<char>(rng());
  std::string seen_path;
  TestServer s({.temp_dir = temp.path()}, [&](Router& r) {
    r.Post(
        "/api/v1/images",
        [&](Request& req) {
          const UploadedFile* f = req.File("file");
          if (!f) return Response::Text(400, "no file");
          seen_path = f->path().string();
          return Response::Json(201, {{"bytes", f->size},
                                      {"filename", f->filename},
                                      {"content_type", f->content_type},
                                      {"same", ReadFile(f->path()) == payload},
                                      {"body_in_memory", req.body.size()},
                                      {"title", req.FormValue("title").value_or("")},
                                      {"temp_files", temp.list().size()}});
        },
        {.max_body_bytes = (25 << 20) + (64 << 10), .body_mode = BodyMode::kMultipart});
  });
  UploadSpec spec{&payload, "../../etc/passwd"};
  auto r = Fetch(s.Url("/api/v1/images"), {.method = "POST", .mime_builder = BuildUpload, .mime_arg = &spec});
  ASSERT_EQ(r.status, 201) << r.body;
  auto body = json::parse(r.body);
  EXPECT_EQ(body["bytes"], payload.size());
  EXPECT_EQ(body["same"], true);
  EXPECT_EQ(body["filename"], "passwd");  // display name only
  EXPECT_EQ(body["content_type"], "image/png");
  EXPECT_EQ(body["body_in_memory"], 0);
  EXPECT_EQ(body["title"], "My photo");
  EXPECT_EQ(body["temp_files"], 1);
  // The bytes went to a file we named, inside the temp dir.
  std::filesystem::path p(seen_path);
  EXPECT_EQ(p.parent_path(), temp.path());
  EXPECT_EQ(p.filename().string().find("passwd"), std::string::npos);
  // Gone once the client has its answer.
  EXPECT_FALSE(std::filesystem::exists(p));
  EXPECT_TRUE(temp.list().empty());
}

TEST(ServerLimitsTest, UploadRouteRejectsOtherBodies) {
  iv::test::TempDir temp;
  TestServer s({.temp_dir = temp.path()}, [](Router& r) {
    r.Post("/up", [](Request&) { return Response::NoContent(); }, {.body_mode = BodyMode::kMultipart});
  });
  auto json_body = Fetch(s.Url("/up"), {.method = "POST", .body = "{}", .headers = {"Content-Type: application/json"}});
  EXPECT_EQ(json_body.status, 415);
  auto broken = Fetch(s.Url("/up"), {.method = "POST",
                                     .body = "--B\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\ntrunc",
                                     .headers = {"Content-Type: multipart/form-data; boundary=B"}});
  EXPECT_EQ(broken.status, 400);
  EXPECT_EQ(broken.Header("content-type"), "application/problem+json");
  EXPECT_TRUE(temp.list().empty());
}

TEST(ServerLimitsTest, TempFileBodyMode) {
  iv::test::TempDir temp;
  std::string path;
  TestServer s({.temp_dir = temp.path()}, [&](Router& r) {
    r.Put(
        "/raw",
        [&](Request& req) {
          path = req.body_file->path().string();
          return Response::Text(200, ReadFile(req.body_file->path()));
        },
        {.max_body_bytes = 4 << 20, .body_mode = BodyMode::kTempFile});
  });
  std::string data(2 << 20, 'z');
  auto r = Fetch(s.Url("/raw"), {.method = "PUT", .body = data});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, data);
  EXPECT_FALSE(path.empty());
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace iv::http
