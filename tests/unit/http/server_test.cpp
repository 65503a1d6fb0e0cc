// The server end to end: routing, problems, headers, middleware, threading,
// lifecycle.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "http/problem.h"
#include "test_server.h"

namespace iv::http {
namespace {

using test::Fetch;
using test::FetchOptions;
using test::TestServer;
using json = nlohmann::json;

void EchoRoutes(Router& r) {
  r.Get("/api/v1/videos/{id}/file", [](Request& req) {
    json query = json::object();
    for (const auto& [k, v] : req.query) query[k] = v;
    return Response::Json(200, {{"id", req.PathParam("id")},
                                {"path", req.path},
                                {"query", query},
                                {"method", req.method},
                                {"route", req.route ? req.route->pattern : ""},
                                {"ip", req.remote_ip},
                                {"agent", req.headers.GetOr("user-agent", "")}});
  });
  r.Post("/echo", [](Request& req) { return Response::Text(201, req.body, "application/octet-stream"); });
  r.Get("/text", [](Request&) { return Response::Text(200, "hello"); });
  r.Delete("/text", [](Request&) { return Response::NoContent(); });
}

TEST(ServerTest, RoutesWithParamsAndQuery) {
  TestServer s({}, EchoRoutes);
  auto r = Fetch(s.Url("/api/v1/videos/ab%20c/file?limit=10&cursor=x%2By&q=a+b"),
                 {.headers = {"User-Agent: test-agent"}});
  ASSERT_EQ(r.code, CURLE_OK);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-type"), "application/json");
  auto body = json::parse(r.body);
  EXPECT_EQ(body["id"], "ab c");
  EXPECT_EQ(body["path"], "/api/v1/videos/ab c/file");
  EXPECT_EQ(body["query"]["limit"], "10");
  EXPECT_EQ(body["query"]["cursor"], "x+y");
  EXPECT_EQ(body["query"]["q"], "a b");
  EXPECT_EQ(body["route"], "/api/v1/videos/{id}/file");
  EXPECT_EQ(body["ip"], "127.0.0.1");
  EXPECT_EQ(body["agent"], "test-agent");

  auto echo = Fetch(s.Url("/echo"), {.method = "POST", .body = std::string("a\0b", 3)});
  EXPECT_EQ(echo.status, 201);
  EXPECT_EQ(echo.body, std::string("a\0b", 3));
  auto del = Fetch(s.Url("/text"), {.method = "DELETE"});
  EXPECT_EQ(del.status, 204);
  EXPECT_TRUE(del.body.empty());
}

TEST(ServerTest, NotFoundAndMethodNotAllowedAreProblems) {
  TestServer s({}, EchoRoutes);
  auto nf = Fetch(s.Url("/nope"));
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(nf.Header("content-type"), "application/problem+json");
  auto body = json::parse(nf.body);
  EXPECT_EQ(body["type"], "/problems/not-found");
  EXPECT_EQ(body["status"], 404);
  EXPECT_TRUE(body.contains("title"));
  EXPECT_TRUE(body.contains("detail"));

  auto na = Fetch(s.Url("/text"), {.method = "PUT", .body = "x"});
  EXPECT_EQ(na.status, 405);
  EXPECT_EQ(na.Header("content-type"), "application/problem+json");
  EXPECT_EQ(na.Header("allow"), "DELETE, GET, HEAD");
  EXPECT_EQ(json::parse(na.body)["type"], "/problems/method-not-allowed");

  auto bad = Fetch(s.Url("/api/v1/videos/%zz/file"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.Header("content-type"), "application/problem+json");
}

TEST(ServerTest, HeadSendsHeadersOnly) {
  TestServer s({}, EchoRoutes);
  auto r = Fetch(s.Url("/text"), {.method = "HEAD"});
  EXPECT_EQ(r.code, CURLE_OK);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-length"), "5");
  EXPECT_TRUE(r.body.empty());
  // The connection stays usable: a GET right after on a new handle works.
  EXPECT_EQ(Fetch(s.Url("/text")).body, "hello");
}

void ExpectSecurityHeaders(const test::Fetched& r) {
  EXPECT_EQ(r.Header("content-security-policy"),
            "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'");
  EXPECT_EQ(r.Header("x-content-type-options"), "nosniff");
  EXPECT_EQ(r.Header("referrer-policy"), "no-referrer");
  EXPECT_EQ(r.Header("cross-origin-opener-policy"), "same-origin");
  EXPECT_TRUE(r.HasHeader("x-request-id"));
  EXPECT_TRUE(r.HasHeader("date"));
  EXPECT_FALSE(r.HasHeader("server"));
}

TEST(ServerTest, SecurityHeadersOnEveryResponse) {
  TestServer s({}, [](Router& r) {
    EchoRoutes(r);
    r.Get("/own-csp", [](Request&) {
      Response resp = Response::Text(200, "<p>hi</p>", "text/html; charset=utf-8");
      resp.headers.Set("Content-Security-Policy", "default-src 'none'");
      resp.headers.Set("X-Evil", "a\r\nSet-Cookie: stolen=1");
      return resp;
    });
  });
  auto ok = Fetch(s.Url("/text"));
  ExpectSecurityHeaders(ok);
  EXPECT_FALSE(ok.HasHeader("strict-transport-security"));
  ExpectSecurityHeaders(Fetch(s.Url("/nope")));
  ExpectSecurityHeaders(Fetch(s.Url("/text"), {.method = "PATCH"}));

  auto own = Fetch(s.Url("/own-csp"));
  EXPECT_EQ(own.Header("content-security-policy"), "default-src 'none'");
  EXPECT_FALSE(own.HasHeader("x-evil"));
  EXPECT_FALSE(own.HasHeader("set-cookie"));

  TestServer tls({.behind_tls = true}, EchoRoutes);
  auto t = Fetch(tls.Url("/nope"));
  EXPECT_EQ(t.Header("strict-transport-security"), "max-age=31536000; includeSubDomains");
}

TEST(ServerTest, RequestIds) {
  TestServer s({}, EchoRoutes);
  auto a = Fetch(s.Url("/text"));
  auto b = Fetch(s.Url("/text"));
  std::regex hex("[0-9a-f]{32}");
  EXPECT_TRUE(std::regex_match(a.Header("x-request-id"), hex)) << a.Header("x-request-id");
  EXPECT_NE(a.Header("x-request-id"), b.Header("x-request-id"));
  EXPECT_EQ(Fetch(s.Url("/text"), {.headers = {"X-Request-Id: proxy-42.abc_DEF"}}).Header("x-request-id"),
            "proxy-42.abc_DEF");
  auto bad = Fetch(s.Url("/text"), {.headers = {"X-Request-Id: evil\"id;drop"}});
  EXPECT_TRUE(std::regex_match(bad.Header("x-request-id"), hex));
}

TEST(ServerTest, StatusMappingThroughTheServer) {
  TestServer s({}, [](Router& r) {
    r.Get("/fail/{code}", [](Request& req) -> Response {
      const std::string& c = req.PathParam("code");
      if (c == "rate") return ProblemFor(Status::RateLimited("slow down"), 12);
      if (c == "internal") return ProblemFor(Status::Internal("secret db password=hunter2"));
      if (c == "throw") throw std::runtime_error("boom in handler");
      if (c == "validation") return ValidationProblem({{"duration_s", "must be between 1 and 20"}});
      return ProblemFor(Status::NotFound("no video " + c));
    });
  });
  auto rate = Fetch(s.Url("/fail/rate"));
  EXPECT_EQ(rate.status, 429);
  EXPECT_EQ(rate.Header("retry-after"), "12");

  auto internal = Fetch(s.Url("/fail/internal"));
  EXPECT_EQ(internal.status, 500);
  EXPECT_EQ(internal.body.find("hunter2"), std::string::npos);
  EXPECT_EQ(json::parse(internal.body)["type"], "/problems/internal");
  EXPECT_TRUE(s.log().Contains("hunter2"));
  EXPECT_TRUE(s.log().Contains(internal.Header("x-request-id")));

  auto thrown = Fetch(s.Url("/fail/throw"));
  EXPECT_EQ(thrown.status, 500);
  EXPECT_EQ(thrown.body.find("boom"), std::string::npos);
  EXPECT_TRUE(s.log().Contains("boom in handler"));

  auto v = Fetch(s.Url("/fail/validation"));
  EXPECT_EQ(v.status, 422);
  EXPECT_EQ(json::parse(v.body)["errors"][0]["field"], "duration_s");

  auto nf = Fetch(s.Url("/fail/xyz"));
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(json::parse(nf.body)["detail"], "no video xyz");
}

TEST(ServerTest, MiddlewareChain) {
  std::mutex mu;
  std::vector<std::string> seen;
  Middleware auth;
  auth.name = "auth";
  auth.before = [](Request& req) -> std::optional<Response> {
    if (!req.route || req.route->HasTag("public")) return std::nullopt;
    if (req.headers.GetOr("Authorization", "") != "Bearer good")
      return ProblemFor(Status::Unauthenticated("missing or invalid credentials"));
    req.context["user"] = std::string("ada");
    return std::nullopt;
  };
  auth.after = [&](const Request& req, Response& resp) {
    std::lock_guard lock(mu);
    seen.push_back("auth-after " + std::to_string(resp.status));
  };
  Middleware usage;
  usage.name = "usage";
  usage.after = [&](const Request& req, Response& resp) {
    resp.headers.Set("X-Usage", "logged");
    std::lock_guard lock(mu);
    seen.push_back("usage-after " + std::string(req.route ? req.route->pattern : "-"));
  };
  TestServer s(
      {},
      [](Router& r) {
        r.Get("/public", [](Request&) { return Response::Text(200, "open"); }, {.tags = {"public"}});
        r.Get("/private", [](Request& req) {
          const std::string* user = req.Context<std::string>("user");
          return Response::Text(200, user ? *user : "nobody");
        });
      },
      {auth, usage});

  auto pub = Fetch(s.Url("/public"));
  EXPECT_EQ(pub.status, 200);
  EXPECT_EQ(pub.Header("x-usage"), "logged");
  auto denied = Fetch(s.Url("/private"));
  EXPECT_EQ(denied.status, 401);
  EXPECT_EQ(denied.Header("x-usage"), "logged");
  EXPECT_TRUE(denied.HasHeader("www-authenticate"));
  auto allowed = Fetch(s.Url("/private"), {.headers = {"Authorization: Bearer good"}});
  EXPECT_EQ(allowed.status, 200);
  EXPECT_EQ(allowed.body, "ada");
  auto nf = Fetch(s.Url("/missing"));
  EXPECT_EQ(nf.status, 404);  // no route: auth lets it through to the 404
  EXPECT_EQ(nf.Header("x-usage"), "logged");

  std::lock_guard lock(mu);
  // after-hooks run in reverse order: usage (registered last) first.
  ASSERT_EQ(seen.size(), 8u);
  EXPECT_EQ(seen[0], "usage-after /public");
  EXPECT_EQ(seen[1], "auth-after 200");
  EXPECT_EQ(seen[3], "auth-after 401");
  EXPECT_EQ(seen[6], "usage-after -");
}

TEST(ServerTest, SlowHandlerDoesNotBlockOthers) {
  std::promise<void> entered;
  TestServer s({.io_threads = 1, .worker_threads = 4}, [&](Router& r) {
    r.Get("/slow", [&](Request&) {
      entered.set_value();
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      return Response::Text(200, "slow");
    });
    r.Get("/fast", [](Request&) { return Response::Text(200, "fast"); });
  });
  auto slow = std::async(std::launch::async, [&] { return Fetch(s.Url("/slow")); });
  ASSERT_EQ(entered.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  auto fast = Fetch(s.Url("/fast"));
  EXPECT_EQ(fast.status, 200);
  EXPECT_LT(fast.seconds, 1.0);  // the slow one takes 1.5 s
  EXPECT_EQ(slow.get().body, "slow");
}

TEST(ServerTest, FullQueueAnswers503) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> entered{0};
  TestServer s({.worker_threads = 1, .max_queued_requests = 1}, [&](Router& r) {
    r.Get("/block", [&](Request&) {
      ++entered;
      released.wait();
      return Response::Text(200, "ok");
    });
  });
  auto first = std::async(std::launch::async, [&] { return Fetch(s.Url("/block")); });
  while (entered.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto second = std::async(std::launch::async, [&] { return Fetch(s.Url("/block")); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let it queue
  auto third = Fetch(s.Url("/block"));
  EXPECT_EQ(third.status, 503);
  EXPECT_EQ(third.Header("retry-after"), "1");
  EXPECT_EQ(third.Header("content-type"), "application/problem+json");
  release.set_value();
  EXPECT_EQ(first.get().status, 200);
  EXPECT_EQ(second.get().status, 200);
}

TEST(ServerTest, GracefulStopCompletesRequestInFlight) {
  std::promise<void> entered;
  std::atomic<bool> finished{false};
  TestServer s({}, [&](Router& r) {
    r.Get("/work", [&](Request&) {
      entered.set_value();
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      finished = true;
      return Response::Text(200, "done");
    });
  });
  const std::string url = s.Url("/work");
  auto client = std::async(std::launch::async, [&] { return Fetch(url); });
  ASSERT_EQ(entered.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  s.server().Stop();
  EXPECT_TRUE(finished.load());
  auto r = client.get();
  EXPECT_EQ(r.code, CURLE_OK);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "done");
  EXPECT_EQ(r.Header("connection"), "close");
  // No longer accepting.
  auto after = Fetch(url, {.timeout_ms = 2000});
  EXPECT_NE(after.code, CURLE_OK);
  s.server().Stop();  // idempotent
}

TEST(ServerTest, PortInUseIsAClearError) {
  TestServer first({}, EchoRoutes);
  Router router;
  Server second(ServerOptions{.port = first.port()}, router);
  Status st = second.Start();
  EXPECT_EQ(st.code(), StatusCode::kConflict);
  EXPECT_NE(st.message().find("in use"), std::string::npos) << st.message();
  EXPECT_EQ(second.port(), 0);

  Server bad_host(ServerOptions{.host = "not-an-address"}, router);
  EXPECT_EQ(bad_host.Start().code(), StatusCode::kInvalidArgument);
  Server bad_options(ServerOptions{.sse_keepalive = std::chrono::seconds(90)}, router);
  EXPECT_EQ(bad_options.Start().code(), StatusCode::kInvalidArgument);
}

TEST(ServerTest, ReportsRealPort) {
  TestServer s({}, EchoRoutes);
  EXPECT_NE(s.port(), 0);
  EXPECT_EQ(Fetch(s.Url("/text")).status, 200);
}

}  // namespace
}  // namespace iv::http
