#include "http/problem.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace iv::http {
namespace {

struct Row {
  Status status;
  int http;
  std::string slug;
};

TEST(ProblemTest, StatusMappingTable) {
  const std::vector<Row> rows = {
      {Status::InvalidArgument("bad"), 400, "bad-request"},
      {Status::NotFound("gone"), 404, "not-found"},
      {Status::UnsupportedMedia("tiff"), 415, "unsupported-media"},
      {Status::TooLarge("big"), 413, "too-large"},
      {Status::Conflict("dup"), 409, "conflict"},
      {Status::PermissionDenied("no"), 403, "forbidden"},
      {Status::Unauthenticated("who"), 401, "unauthenticated"},
      {Status::RateLimited("slow down"), 429, "rate-limited"},
      {Status::Internal("db exploded at 10.0.0.5"), 500, "internal"},
      {Status::Canceled("canceled"), 409, "canceled"},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.slug);
    Response r = ProblemFor(row.status);
    EXPECT_EQ(r.status, row.http);
    EXPECT_EQ(HttpStatusFor(row.status.code()), row.http);
    EXPECT_EQ(*r.headers.Get("Content-Type"), "application/problem+json");
    auto body = nlohmann::json::parse(r.body);
    EXPECT_EQ(body["type"], "/problems/" + row.slug);
    EXPECT_EQ(body["status"], row.http);
    EXPECT_TRUE(body["title"].is_string());
    EXPECT_FALSE(body["title"].get<std::string>().empty());
    if (row.http == 500) {
      EXPECT_EQ(body["detail"].get<std::string>().find("10.0.0.5"), std::string::npos);
      EXPECT_EQ(r.body.find("exploded"), std::string::npos);
      EXPECT_EQ(r.internal_note, "db exploded at 10.0.0.5");
    } else {
      EXPECT_EQ(body["detail"], row.status.message());
      EXPECT_TRUE(r.internal_note.empty());
    }
  }
}

TEST(ProblemTest, RateLimitedHasRetryAfter) {
  EXPECT_EQ(*ProblemFor(Status::RateLimited("x")).headers.Get("Retry-After"), "60");
  EXPECT_EQ(*ProblemFor(Status::RateLimited("x"), 7).headers.Get("Retry-After"), "7");
}

TEST(ProblemTest, UnauthenticatedHasChallenge) {
  EXPECT_TRUE(ProblemFor(Status::Unauthenticated("x")).headers.Has("WWW-Authenticate"));
}

TEST(ProblemTest, OkStatusIsInternal) { EXPECT_EQ(ProblemFor(Status::Ok()).status, 500); }

TEST(ProblemTest, ValidationProblemListsErrors) {
  Response r = ValidationProblem({{"duration_s", "must be between 1 and 20"}, {"fps", "must be 24, 25 or 30"}});
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(*r.headers.Get("Content-Type"), "application/problem+json");
  auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["type"], "/problems/validation");
  EXPECT_EQ(body["status"], 422);
  ASSERT_EQ(body["errors"].size(), 2u);
  EXPECT_EQ(body["errors"][0]["field"], "duration_s");
  EXPECT_EQ(body["errors"][0]["message"], "must be between 1 and 20");
}

TEST(ProblemTest, ValidationStatusBecomes422) {
  Response r = ProblemFor(Status::Validation({{"fps", "must be 24, 25 or 30"}}));
  EXPECT_EQ(r.status, 422);
  auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["type"], "/problems/validation");
  EXPECT_EQ(body["errors"][0]["field"], "fps");
  // A plain invalid argument stays 400.
  EXPECT_EQ(ProblemFor(Status::InvalidArgument("not JSON")).status, 400);
}

TEST(ProblemTest, InvalidUtf8InDetailDoesNotThrow) {
  Response r = ProblemFor(Status::InvalidArgument(std::string("bad \xff byte")));
  EXPECT_NO_THROW({
    auto parsed = nlohmann::json::parse(r.body);
    (void)parsed;
  });
}

TEST(ProblemTest, ReasonPhrases) {
  EXPECT_EQ(ReasonPhrase(404), "Not Found");
  EXPECT_EQ(ReasonPhrase(416), "Range Not Satisfiable");
  EXPECT_EQ(ReasonPhrase(799), "Unknown");
}

}  // namespace
}  // namespace iv::http
