#include "http/router.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace iv::http {
namespace {

Handler Named(std::string name) {
  return [name](Request&) { return Response::Text(200, name); };
}

std::string RunHandler(const Router::Match& m) {
  Request req;
  return (*m.handler)(req).body;
}

TEST(RouterTest, MatchesLiteralAndParams) {
  Router r;
  r.Get("/api/v1/videos/{id}/file", Named("file"));
  r.Get("/api/v1/videos/{id}", Named("video"));
  auto m = r.Find("GET", "/api/v1/videos/abc123/file");
  ASSERT_EQ(m.outcome, Router::Outcome::kFound);
  EXPECT_EQ(RunHandler(m), "file");
  EXPECT_EQ(m.params.at("id"), "abc123");
  EXPECT_EQ(m.route->pattern, "/api/v1/videos/{id}/file");

  m = r.Find("GET", "/api/v1/videos/x%20y");
  ASSERT_EQ(m.outcome, Router::Outcome::kFound);
  EXPECT_EQ(m.params.at("id"), "x y");
}

TEST(RouterTest, EncodedSlashStaysInsideSegment) {
  Router r;
  r.Get("/files/{name}", Named("f"));
  auto m = r.Find("GET", "/files/a%2Fb");
  ASSERT_EQ(m.outcome, Router::Outcome::kFound);
  EXPECT_EQ(m.params.at("name"), "a/b");
}

TEST(RouterTest, LiteralBeatsParamBeatsRest) {
  Router r;
  r.Get("/static/{path...}", Named("rest"));
  r.Get("/static/{name}", Named("param"));
  r.Get("/static/index", Named("literal"));
  EXPECT_EQ(RunHandler(r.Find("GET", "/static/index")), "literal");
  EXPECT_EQ(RunHandler(r.Find("GET", "/static/app.js")), "param");
  auto m = r.Find("GET", "/static/assets/app.js");
  EXPECT_EQ(RunHandler(m), "rest");
  EXPECT_EQ(m.params.at("path"), "assets/app.js");
  EXPECT_EQ(r.Find("GET", "/static").outcome, Router::Outcome::kNotFound);
}

TEST(RouterTest, EmptySegmentDoesNotMatchParam) {
  Router r;
  r.Get("/videos/{id}", Named("v"));
  EXPECT_EQ(r.Find("GET", "/videos/").outcome, Router::Outcome::kNotFound);
  EXPECT_EQ(r.Find("GET", "/videos").outcome, Router::Outcome::kNotFound);
  EXPECT_EQ(r.Find("GET", "/videos/a/b").outcome, Router::Outcome::kNotFound);
}

TEST(RouterTest, MethodNotAllowedListsMethods) {
  Router r;
  r.Get("/videos/{id}", Named("get"));
  r.Delete("/videos/{id}", Named("del"));
  auto m = r.Find("POST", "/videos/1");
  ASSERT_EQ(m.outcome, Router::Outcome::kMethodNotAllowed);
  EXPECT_EQ(m.allowed, (std::vector<std::string>{"DELETE", "GET", "HEAD"}));
}

TEST(RouterTest, HeadUsesGetRoute) {
  Router r;
  r.Get("/x", Named("get"));
  auto m = r.Find("HEAD", "/x");
  ASSERT_EQ(m.outcome, Router::Outcome::kFound);
  EXPECT_EQ(RunHandler(m), "get");
  r.Add("head", "/x", Named("head"));
  EXPECT_EQ(RunHandler(r.Find("HEAD", "/x")), "head");
}

TEST(RouterTest, MethodIsCaseInsensitive) {
  Router r;
  r.Add("post", "/x", Named("p"));
  EXPECT_EQ(r.Find("POST", "/x").outcome, Router::Outcome::kFound);
  EXPECT_EQ(r.Routes().at(0).method, "POST");
}

TEST(RouterTest, BadPaths) {
  Router r;
  r.Get("/x/{id}", Named("x"));
  EXPECT_EQ(r.Find("GET", "x").outcome, Router::Outcome::kBadPath);
  EXPECT_EQ(r.Find("GET", "/x/%zz").outcome, Router::Outcome::kBadPath);
  EXPECT_EQ(r.Find("GET", "/x/%4").outcome, Router::Outcome::kBadPath);
  EXPECT_EQ(r.Find("GET", "/x/a%00b").outcome, Router::Outcome::kBadPath);
}

TEST(RouterTest, RejectsMalformedPatternsAndDuplicates) {
  Router r;
  EXPECT_THROW(r.Get("no-slash", Named("")), std::invalid_argument);
  EXPECT_THROW(r.Get("/a/{}", Named("")), std::invalid_argument);
  EXPECT_THROW(r.Get("/a/{x}/{x}", Named("")), std::invalid_argument);
  EXPECT_THROW(r.Get("/a/{p...}/b", Named("")), std::invalid_argument);
  EXPECT_THROW(r.Get("/a/b{x}", Named("")), std::invalid_argument);
  r.Get("/a", Named(""));
  EXPECT_THROW(r.Get("/a", Named("")), std::invalid_argument);
  EXPECT_NO_THROW(r.Post("/a", Named("")));
}

TEST(RouterTest, RouteTableListsMethodPatternAndOptions) {
  Router r;
  RouteOptions upload;
  upload.max_body_bytes = 26 << 20;
  upload.body_mode = BodyMode::kMultipart;
  upload.tags = {"auth"};
  r.Post("/api/v1/images", Named("i"), upload);
  r.Get("/api/v1/videos/{id}/file", Named("f"));
  auto routes = r.Routes();
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0].method, "POST");
  EXPECT_EQ(routes[0].pattern, "/api/v1/images");
  EXPECT_EQ(*routes[0].options.max_body_bytes, uint64_t{26} << 20);
  EXPECT_TRUE(routes[0].HasTag("auth"));
  EXPECT_FALSE(routes[1].HasTag("auth"));
  EXPECT_EQ(routes[1].pattern, "/api/v1/videos/{id}/file");
}

TEST(RouterTest, PercentDecodeAndQuery) {
  EXPECT_EQ(*PercentDecode("a%20b+c"), "a b+c");
  EXPECT_EQ(*PercentDecode("a%20b+c", true), "a b c");
  EXPECT_FALSE(PercentDecode("%").has_value());
  EXPECT_FALSE(PercentDecode("%g0").has_value());
  auto q = ParseQuery("limit=10&cursor=a%2Bb&flag&x=1+2&=bad&&y=");
  ASSERT_EQ(q.size(), 5u);
  EXPECT_EQ(q[0], (std::pair<std::string, std::string>{"limit", "10"}));
  EXPECT_EQ(q[1].second, "a+b");
  EXPECT_EQ(q[2], (std::pair<std::string, std::string>{"flag", ""}));
  EXPECT_EQ(q[3].second, "1 2");
  EXPECT_EQ(q[4], (std::pair<std::string, std::string>{"y", ""}));
}

TEST(HeadersTest, CaseInsensitive) {
  Headers h;
  h.Add("Content-Type", "a");
  h.Add("X-Multi", "1");
  h.Add("x-multi", "2");
  EXPECT_EQ(*h.Get("content-type"), "a");
  EXPECT_EQ(h.GetAll("X-MULTI"), (std::vector<std::string>{"1", "2"}));
  h.Set("X-Multi", "3");
  EXPECT_EQ(h.GetAll("x-multi"), (std::vector<std::string>{"3"}));
  h.SetDefault("content-TYPE", "b");
  EXPECT_EQ(*h.Get("Content-Type"), "a");
  h.Remove("CONTENT-type");
  EXPECT_FALSE(h.Has("Content-Type"));
}

}  // namespace
}  // namespace iv::http
