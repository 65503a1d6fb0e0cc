// Streamed bodies, HTTP ranges and Server-Sent Events end to end.
#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "http/problem.h"
#include "http/range.h"
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

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 31 + i / 7) % 26);
  return s;
}

class RangeServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    small_ = Pattern(1000);
    large_ = Pattern(3 << 20);
    std::ofstream(temp_.file("small.bin"), std::ios::binary) << small_;
    std::ofstream(temp_.file("large.bin"), std::ios::binary) << large_;
    server_ = std::make_unique<TestServer>(ServerOptions{}, [this](Router& r) {
      r.Get("/files/{name}", [this](Request& req) {
        auto source = FileRangeSource(temp_.file(req.PathParam("name")), "application/octet-stream");
        if (!source.ok()) return ProblemFor(source.status());
        return ServeWithRanges(req, *source);
      });
    });
  }
  iv::test::TempDir temp_;
  std::string small_, large_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(RangeServerTest, WholeFile) {
  auto r = Fetch(server_->Url("/files/small.bin"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, small_);
  EXPECT_EQ(r.Header("accept-ranges"), "bytes");
  EXPECT_EQ(r.Header("content-length"), "1000");
  EXPECT_FALSE(r.Header("etag").empty());
  EXPECT_EQ(Fetch(server_->Url("/files/missing.bin")).status, 404);
}

TEST_F(RangeServerTest, FirstBytesSuffixAndOpenEnded) {
  auto first = Fetch(server_->Url("/files/small.bin"), {.headers = {"Range: bytes=0-9"}});
  EXPECT_EQ(first.status, 206);
  EXPECT_EQ(first.body, small_.substr(0, 10));
  EXPECT_EQ(first.Header("content-range"), "bytes 0-9/1000");
  EXPECT_EQ(first.Header("content-length"), "10");

  auto suffix = Fetch(server_->Url("/files/small.bin"), {.headers = {"Range: bytes=-10"}});
  EXPECT_EQ(suffix.status, 206);
  EXPECT_EQ(suffix.body, small_.substr(990));
  EXPECT_EQ(suffix.Header("content-range"), "bytes 990-999/1000");

  auto open = Fetch(server_->Url("/files/small.bin"), {.headers = {"Range: bytes=995-"}});
  EXPECT_EQ(open.status, 206);
  EXPECT_EQ(open.body, small_.substr(995));
  EXPECT_EQ(open.Header("content-range"), "bytes 995-999/1000");

  auto multi = Fetch(server_->Url("/files/small.bin"), {.headers = {"Range: bytes=0-1,5-6"}});
  EXPECT_EQ(multi.status, 200);
  EXPECT_EQ(multi.body, small_);
}

TEST_F(RangeServerTest, UnsatisfiableIs416) {
  auto r = Fetch(server_->Url("/files/small.bin"), {.headers = {"Range: bytes=5000-"}});
  EXPECT_EQ(r.status, 416);
  EXPECT_EQ(r.Header("content-range"), "bytes */1000");
  EXPECT_EQ(r.Header("content-type"), "application/problem+json");
}

TEST_F(RangeServerTest, EtagGives304) {
  auto r = Fetch(server_->Url("/files/small.bin"));
  const std::string etag = r.Header("etag");
  ASSERT_FALSE(etag.empty());
  auto again = Fetch(server_->Url("/files/small.bin"), {.headers = {"If-None-Match: " + etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(again.Header("etag"), etag);
  EXPECT_EQ(again.Header("content-length"), "1000");  // the representation's, not 0
  auto other = Fetch(server_->Url("/files/small.bin"), {.headers = {"If-None-Match: \"other\""}});
  EXPECT_EQ(other.status, 200);
}

TEST_F(RangeServerTest, LargeFileStreamsInChunks) {
  auto whole = Fetch(server_->Url("/files/large.bin"));
  EXPECT_EQ(whole.status, 200);
  EXPECT_EQ(whole.body.size(), large_.size());
  EXPECT_TRUE(whole.body == large_);
  auto middle = Fetch(server_->Url("/files/large.bin"), {.headers = {"Range: bytes=1000000-1999999"}});
  EXPECT_EQ(middle.status, 206);
  EXPECT_TRUE(middle.body == large_.substr(1000000, 1000000));
  auto head = Fetch(server_->Url("/files/large.bin"), {.method = "HEAD"});
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("content-length"), std::to_string(large_.size()));
  EXPECT_TRUE(head.body.empty());
}

TEST(StreamTest, ChunkedBodyOfUnknownLength) {
  TestServer s({}, [](Router& r) {
    r.Get("/gen", [](Request&) {
      auto n = std::make_shared<int>(0);
      return Response::Stream(200, "text/plain", std::nullopt, [n]() -> Result<std::string> {
        if (*n == 5) return std::string();
        return "chunk" + std::to_string((*n)++) + ";";
      });
    });
  });
  auto r = Fetch(s.Url("/gen"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "chunk0;chunk1;chunk2;chunk3;chunk4;");
  EXPECT_EQ(r.Header("transfer-encoding"), "chunked");
}

TEST(StreamTest, ReaderFailureCutsTheResponse) {
  TestServer s({}, [](Router& r) {
    auto failing = [](std::optional<uint64_t> length) {
      return [length](Request&) {
        auto n = std::make_shared<int>(0);
        return Response::Stream(200, "application/octet-stream", length, [n]() -> Result<std::string> {
          if ((*n)++ < 2) return std::string(64 * 1024, 'x');
          return Status::Internal("decryption failed: bad tag");
        });
      };
    };
    r.Get("/sized", failing(uint64_t{1} << 20));
    r.Get("/chunked", failing(std::nullopt));
    r.Get("/ping", [](Request&) { return Response::Text(200, "pong"); });
  });
  auto sized = Fetch(s.Url("/sized"), {.timeout_ms = 5000});
  EXPECT_NE(sized.code, CURLE_OK);
  EXPECT_LT(sized.seconds, 3.0);
  auto chunked = Fetch(s.Url("/chunked"), {.timeout_ms = 5000});
  EXPECT_NE(chunked.code, CURLE_OK);
  EXPECT_LT(chunked.seconds, 3.0);
  EXPECT_TRUE(s.log().Contains("decryption failed"));
  EXPECT_EQ(Fetch(s.Url("/ping")).body, "pong");
}

// ------------------------------------------------------------------ SSE

class SseTest : public ::testing::Test {
 protected:
  void Start(ServerOptions options = {}) {
    options.sse_keepalive = std::chrono::milliseconds(100);
    server_ = std::make_unique<TestServer>(options, [this](Router& r) {
      r.Get("/api/v1/videos/{id}/events", [this](Request& req) {
        auto [resp, stream] = Response::EventStream();
        // Sent before the server attached the stream: buffered.
        stream->Send("state", json{{"id", req.PathParam("id")}, {"state", "queued"}}.dump());
        streams_.set_value(stream);
        return resp;
      });
    });
  }
  int OpenEvents() {
    int fd = ConnectRaw(server_->port());
    EXPECT_TRUE(SendAll(fd, "GET /api/v1/videos/v1/events HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n\r\n"));
    return fd;
  }
  std::shared_ptr<SseStream> WaitStream() {
    auto f = streams_.get_future();
    EXPECT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    return f.get();
  }
  std::promise<std::shared_ptr<SseStream>> streams_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(SseTest, EventsFromAnotherThreadAndDisconnectIsNoticed) {
  Start();
  int fd = OpenEvents();
  std::shared_ptr<SseStream> stream = WaitStream();
  std::atomic<bool> on_close{false};
  stream->OnClose([&] { on_close = true; });

  std::thread producer([stream] {
    for (int i = 1; i <= 3; ++i) EXPECT_TRUE(stream->Send("progress", json{{"progress", i / 4.0}}.dump()));
  });
  producer.join();
  bool peer_closed = false;
  std::string got = ReceiveRaw(fd, 5000, &peer_closed, [](const std::string& s) {
    return s.find("\"progress\":0.75") != std::string::npos && s.find("\n: keep-alive\n\n") != std::string::npos;
  });
  EXPECT_FALSE(peer_closed) << got;
  EXPECT_NE(got.find("HTTP/1.1 200"), std::string::npos) << got;
  EXPECT_NE(got.find("text/event-stream"), std::string::npos);
  EXPECT_NE(got.find("event: state\ndata: {\"id\":\"v1\",\"state\":\"queued\"}\n\n"), std::string::npos) << got;
  EXPECT_NE(got.find("event: progress\ndata: {\"progress\":0.25}\n\n"), std::string::npos) << got;
  EXPECT_NE(got.find("event: progress\ndata: {\"progress\":0.75}\n\n"), std::string::npos) << got;
  EXPECT_LT(got.find("0.25"), got.find("0.5"));
  EXPECT_LT(got.find("0.5"), got.find("0.75"));
  EXPECT_NE(got.find(": keep-alive\n\n"), std::string::npos) << got;  // keep-alive comments flow
  EXPECT_FALSE(stream->closed());

  ::close(fd);  // the client goes away
  EXPECT_TRUE(stream->WaitClosed(std::chrono::seconds(3)));
  EXPECT_TRUE(on_close.load());
  EXPECT_FALSE(stream->Send("progress", "{}"));
  // The server is fine afterwards.
  EXPECT_EQ(Fetch(server_->Url("/nope")).status, 404);
}

TEST_F(SseTest, ProducerCloseEndsTheResponse) {
  Start();
  int fd = OpenEvents();
  std::shared_ptr<SseStream> stream = WaitStream();
  stream->Send("done", "{}");
  stream->Close();
  EXPECT_TRUE(stream->closed());
  bool closed = false;
  std::string got = ReceiveRaw(fd, 3000, &closed, [](const std::string& s) {
    return s.find("0\r\n\r\n") != std::string::npos;
  });
  ::close(fd);
  EXPECT_NE(got.find("event: done\ndata: {}\n\n"), std::string::npos);
  EXPECT_NE(got.find("0\r\n\r\n"), std::string::npos);  // final chunk
}

TEST_F(SseTest, ServerStopClosesStreams) {
  Start();
  int fd = OpenEvents();
  std::shared_ptr<SseStream> stream = WaitStream();
  std::atomic<bool> on_close{false};
  stream->OnClose([&] { on_close = true; });
  server_->server().Stop();
  EXPECT_TRUE(stream->closed());
  EXPECT_TRUE(on_close.load());
  bool closed = false;
  ReceiveRaw(fd, 3000, &closed);
  EXPECT_TRUE(closed);
  ::close(fd);
  EXPECT_FALSE(stream->Send("progress", "{}"));
}

TEST(SseStreamTest, FormatsMultilineDataAndStripsNewlinesFromNames) {
  class Capture : public SseSink {
   public:
    explicit Capture(std::string* out) : out_(out) {}
    void Write(std::string bytes, bool final, std::function<void(bool)> written) override {
      *out_ += bytes;
      if (final) *out_ += "<end>";
      written(true);
    }
    std::string* out_;
  };
  std::string out;
  auto stream = std::make_shared<SseStream>();
  EXPECT_TRUE(stream->Send("a\nb", "line1\nline2\r\nline3", "id\r1"));
  stream->Attach(std::make_unique<Capture>(&out));
  EXPECT_TRUE(stream->SendComment("ping"));
  stream->Close();
  EXPECT_EQ(out, "event: ab\nid: id1\ndata: line1\ndata: line2\ndata: line3\n\n: ping\n\n<end>");
  EXPECT_FALSE(stream->Send("x", "y"));
  bool called = false;
  stream->OnClose([&] { called = true; });  // already closed: runs at once
  EXPECT_TRUE(called);
}

TEST(SseStreamTest, UnattachedBufferIsBounded) {
  SseStream stream(100);
  EXPECT_TRUE(stream.Send("e", std::string(50, 'x')));
  EXPECT_FALSE(stream.Send("e", std::string(100, 'x')));
  EXPECT_TRUE(stream.closed());
}

}  // namespace
}  // namespace iv::http
