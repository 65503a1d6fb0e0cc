#include "http/range.h"

#include <gtest/gtest.h>

namespace iv::http {
namespace {

using Kind = RangeRequest::Kind;

TEST(RangeTest, ParsesSingleRanges) {
  auto r = ParseRange("bytes=0-9", 100);
  ASSERT_EQ(r.kind, Kind::kPartial);
  EXPECT_EQ(r.range.first, 0u);
  EXPECT_EQ(r.range.last, 9u);
  EXPECT_EQ(r.range.length(), 10u);

  r = ParseRange("bytes=-10", 100);  // suffix
  ASSERT_EQ(r.kind, Kind::kPartial);
  EXPECT_EQ(r.range.first, 90u);
  EXPECT_EQ(r.range.last, 99u);

  r = ParseRange("bytes=95-", 100);  // open-ended
  ASSERT_EQ(r.kind, Kind::kPartial);
  EXPECT_EQ(r.range.first, 95u);
  EXPECT_EQ(r.range.last, 99u);

  r = ParseRange("bytes=50-1000", 100);  // clamped
  EXPECT_EQ(r.range.last, 99u);
  r = ParseRange("bytes=-1000", 100);  // suffix longer than the file
  EXPECT_EQ(r.range.first, 0u);
  r = ParseRange(" Bytes=1-2 ", 100);
  ASSERT_EQ(r.kind, Kind::kPartial);
  EXPECT_EQ(r.range.first, 1u);
}

TEST(RangeTest, Unsatisfiable) {
  EXPECT_EQ(ParseRange("bytes=100-", 100).kind, Kind::kUnsatisfiable);
  EXPECT_EQ(ParseRange("bytes=200-300", 100).kind, Kind::kUnsatisfiable);
  EXPECT_EQ(ParseRange("bytes=-0", 100).kind, Kind::kUnsatisfiable);
  EXPECT_EQ(ParseRange("bytes=0-", 0).kind, Kind::kUnsatisfiable);
}

TEST(RangeTest, IgnoredMeansWhole) {
  EXPECT_EQ(ParseRange("bytes=0-1,5-6", 100).kind, Kind::kWhole);  // several ranges
  EXPECT_EQ(ParseRange("items=0-1", 100).kind, Kind::kWhole);
  EXPECT_EQ(ParseRange("bytes=5-1", 100).kind, Kind::kWhole);
  EXPECT_EQ(ParseRange("bytes=a-b", 100).kind, Kind::kWhole);
  EXPECT_EQ(ParseRange("bytes=-", 100).kind, Kind::kWhole);
  EXPECT_EQ(ParseRange("bytes=99999999999999999999999-", 100).kind, Kind::kWhole);
  EXPECT_EQ(ParseRange("", 100).kind, Kind::kWhole);
}

TEST(RangeTest, IfNoneMatch) {
  EXPECT_TRUE(IfNoneMatchMatches("\"abc\"", "\"abc\""));
  EXPECT_TRUE(IfNoneMatchMatches("W/\"abc\"", "\"abc\""));
  EXPECT_TRUE(IfNoneMatchMatches("\"x\", \"abc\"", "\"abc\""));
  EXPECT_TRUE(IfNoneMatchMatches("*", "\"abc\""));
  EXPECT_FALSE(IfNoneMatchMatches("\"abd\"", "\"abc\""));
  EXPECT_FALSE(IfNoneMatchMatches("\"abc\"", ""));
}

RangeSource MemorySource(const std::string& data) {
  RangeSource s;
  s.size = data.size();
  s.etag = "\"v1\"";
  s.content_type = "video/mp4";
  s.open = [data](uint64_t offset, uint64_t length) -> Result<BodyReader> {
    auto done = std::make_shared<bool>(false);
    return BodyReader([data, offset, length, done]() -> Result<std::string> {
      if (*done) return std::string();
      *done = true;
      return data.substr(offset, length);
    });
  };
  return s;
}

std::string Drain(Response& r) {
  std::string out;
  while (true) {
    auto chunk = r.reader();
    if (!chunk.ok() || chunk->empty()) break;
    out += *chunk;
  }
  return out;
}

TEST(RangeTest, ServeWithRangesShapes) {
  RangeSource src = MemorySource("0123456789");
  Request req;
  req.method = "GET";
  Response r = ServeWithRanges(req, src);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(*r.content_length, 10u);
  EXPECT_EQ(*r.headers.Get("Accept-Ranges"), "bytes");
  EXPECT_EQ(*r.headers.Get("ETag"), "\"v1\"");
  EXPECT_EQ(Drain(r), "0123456789");

  req.headers.Set("Range", "bytes=2-4");
  r = ServeWithRanges(req, src);
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(*r.headers.Get("Content-Range"), "bytes 2-4/10");
  EXPECT_EQ(Drain(r), "234");

  req.headers.Set("If-Range", "\"old\"");  // changed since: whole body
  r = ServeWithRanges(req, src);
  EXPECT_EQ(r.status, 200);
  req.headers.Set("If-Range", "\"v1\"");
  EXPECT_EQ(ServeWithRanges(req, src).status, 206);

  req.headers.Set("Range", "bytes=10-");
  r = ServeWithRanges(req, src);
  EXPECT_EQ(r.status, 416);
  EXPECT_EQ(*r.headers.Get("Content-Range"), "bytes */10");

  req.headers.Set("If-None-Match", "\"v1\"");
  r = ServeWithRanges(req, src);
  EXPECT_EQ(r.status, 304);
  EXPECT_FALSE(r.streamed());
}

TEST(RangeTest, OpenFailureBecomesProblem) {
  RangeSource src;
  src.size = 5;
  src.open = [](uint64_t, uint64_t) -> Result<BodyReader> { return Status::NotFound("blob missing"); };
  Request req;
  req.method = "GET";
  EXPECT_EQ(ServeWithRanges(req, src).status, 404);
}

TEST(RangeTest, FileSourceMissing) {
  EXPECT_EQ(FileRangeSource("/nonexistent/file", "video/mp4").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace iv::http
