// `imagevideo render` end to end: the real binary, real files, and ffprobe
// as the outside judge of what it writes.
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace iv {
namespace {

using test::RunImagevideo;
using test::TempDir;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A small textured photo drawn for the test.
std::string DrawPhoto(const TempDir& dir, const std::string& name = "photo.png", int w = 800, int h = 500) {
  std::string path = dir.file(name);
  test::WriteImage(path, test::DrawDotChart(w, h, 8, 5));
  return path;
}

double StreamDuration(const nlohmann::json& info) {
  const auto& stream = info["streams"][0];
  if (stream.contains("duration")) return std::stod(stream["duration"].get<std::string>());
  return std::stod(info["format"]["duration"].get<std::string>());
}

class EveryPreset : public ::testing::TestWithParam<const char*> {};

TEST_P(EveryPreset, GivesTheRightFrameCountSizeAndDuration) {
  TempDir dir;
  std::string in = DrawPhoto(dir), out = dir.file("out.mp4");
  auto r = RunImagevideo({"render", in, "-o", out, "--camera", GetParam(), "--size", "320x180", "--duration", "2",
                          "--fps", "24", "--quality", "draft"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "") << "quiet when stderr is not a terminal";
  auto info = test::Probe(out);
  ASSERT_FALSE(info.is_null());
  const auto& v = info["streams"][0];
  EXPECT_EQ(v["codec_name"], "h264");
  EXPECT_EQ(v["width"], 320);
  EXPECT_EQ(v["height"], 180);
  EXPECT_EQ(v["pix_fmt"], "yuv420p");
  EXPECT_EQ(v["nb_frames"], "48");
  EXPECT_EQ(v["r_frame_rate"], "24/1");
  EXPECT_NEAR(StreamDuration(info), 2.0, 1.0 / 24);
  EXPECT_EQ(test::DecodeFrames(out).size(), 48u);
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"out.mp4", "photo.png"})) << "no temporary file left";
}

INSTANTIATE_TEST_SUITE_P(Render, EveryPreset,
                         ::testing::Values("static", "zoom-in", "zoom-out", "pan-left", "pan-right", "pan-up",
                                           "pan-down", "ken-burns", "handheld"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::erase(name, '-');
                           return name;
                         });

TEST(RenderCli, Mp4IsTaggedBt709AndStartsFast) {
  TempDir dir;
  std::string in = DrawPhoto(dir), out = dir.file("clip.mp4");
  auto r = RunImagevideo({"render", in, "-o", out, "--size", "480p", "--duration", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto info = test::Probe(out);
  const auto& v = info["streams"][0];
  EXPECT_EQ(v["width"], 854);
  EXPECT_EQ(v["height"], 480);
  EXPECT_EQ(v["color_space"], "bt709");
  EXPECT_EQ(v["color_primaries"], "bt709");
  EXPECT_EQ(v["color_transfer"], "bt709");
  // faststart: the index (moov) comes before the media data (mdat).
  std::string bytes = ReadFile(out);
  EXPECT_LT(bytes.find("moov"), bytes.find("mdat"));
}

TEST(RenderCli, WebmAndGifFromTheExtension) {
  TempDir dir;
  std::string in = DrawPhoto(dir);
  for (auto [name, codec] : {std::pair{"clip.webm", "vp9"}, std::pair{"clip.gif", "gif"}}) {
    std::string out = dir.file(name);
    auto r = RunImagevideo({"render", in, "-o", out, "--size", "320x180", "--duration", "2", "--fps", "15",
                            "--camera", "pan-right", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto info = test::Probe(out);
    ASSERT_FALSE(info.is_null());
    EXPECT_EQ(info["streams"][0]["codec_name"], codec);
    EXPECT_NEAR(StreamDuration(info), 2.0, 0.07) << name;
    EXPECT_EQ(test::DecodeFrames(out).size(), 30u) << name;
    auto summary = nlohmann::json::parse(r.out);
    EXPECT_EQ(summary["frames"], 30);
    EXPECT_EQ(summary["format"], std::string(name).substr(5));
  }
}

TEST(RenderCli, JsonSummary) {
  TempDir dir;
  std::string in = DrawPhoto(dir), out = dir.file("out.mp4");
  auto r = RunImagevideo({"render", in, "-o", out, "--size", "320x180", "--duration", "1", "--fps", "30", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["frames"], 30);
  EXPECT_EQ(j["width"], 320);
  EXPECT_EQ(j["height"], 180);
  EXPECT_DOUBLE_EQ(j["duration_s"].get<double>(), 1.0);
  EXPECT_EQ(j["bytes"].get<std::uint64_t>(), ReadFile(out).size());
  EXPECT_GT(j["seconds"].get<double>(), 0);
  EXPECT_EQ(j["output"], out);
}

TEST(RenderCli, AspectFitAndSizeOptions) {
  TempDir dir;
  std::string in = DrawPhoto(dir, "photo.png", 600, 400);
  struct Case {
    std::vector<std::string> args;
    int w, h;
  } cases[] = {
      {{"--size", "480p", "--aspect", "9:16"}, 480, 854},
      {{"--size", "480p", "--aspect", "1:1", "--fit", "contain"}, 480, 480},
      {{"--size", "480p", "--aspect", "source"}, 720, 480},
      {{"--size", "480p", "--aspect", "4:5"}, 480, 600},
      {{"--size", "480p", "--aspect", "21:9"}, 1120, 480},
  };
  for (const auto& c : cases) {
    std::string out = dir.file("out.mp4");
    std::vector<std::string> args{"render", in, "-o", out, "--duration", "1", "--fps", "12", "--quality", "draft"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto r = RunImagevideo(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto info = test::Probe(out);
    EXPECT_EQ(info["streams"][0]["width"], c.w) << c.args[3];
    EXPECT_EQ(info["streams"][0]["height"], c.h) << c.args[3];
  }
}

TEST(RenderCli, SameInputSameBytes) {
  TempDir dir;
  std::string in = DrawPhoto(dir);
  for (const char* ext : {"mp4", "webm", "gif"}) {
    std::string a = dir.file(std::string("a.") + ext), b = dir.file(std::string("b.") + ext);
    for (const auto& out : {a, b}) {
      auto r = RunImagevideo({"render", in, "-o", out, "--camera", "handheld", "--seed", "42", "--size", "320x180",
                              "--duration", "1", "--fps", "15"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    EXPECT_EQ(ReadFile(a), ReadFile(b)) << ext;
  }
  // ...and another seed gives another video.
  std::string c = dir.file("c.mp4");
  ASSERT_EQ(RunImagevideo({"render", in, "-o", c, "--camera", "handheld", "--seed", "43", "--size", "320x180",
                           "--duration", "1", "--fps", "15"})
                .exit_code,
            0);
  EXPECT_NE(ReadFile(dir.file("a.mp4")), ReadFile(c));
}

TEST(RenderCli, ReadsEveryStillFormat) {
  TempDir dir;
  cv::Mat photo = test::DrawDotChart(640, 400, 6, 4);
  for (const char* name : {"p.jpg", "p.png", "p.webp", "p.tif"}) {
    test::WriteImage(dir.file(name), photo);
    std::string out = dir.file(std::string(name) + ".mp4");
    auto r = RunImagevideo({"render", dir.file(name), "-o", out, "--size", "320x180", "--duration", "1", "--fps", "12"});
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
  }
  // A committed public-domain photo too.
  std::string out = dir.file("rocket.mp4");
  auto r = RunImagevideo({"render", test::TestData("rocket.jpg"), "-o", out, "--camera", "ken-burns", "--size", "480p",
                          "--duration", "1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(RenderCli, OverwritesAnExistingOutputOnlyOnSuccess) {
  TempDir dir;
  std::string in = DrawPhoto(dir), out = dir.file("out.mp4");
  std::ofstream(out) << "old";
  auto r = RunImagevideo({"render", in, "-o", out, "--size", "320x180", "--duration", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(ReadFile(out), "old");
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"out.mp4", "photo.png"}));
}

TEST(RenderCli, HelpAndVersion) {
  auto help = RunImagevideo({"render", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--camera"), std::string::npos);
  EXPECT_NE(help.out.find("ken-burns"), std::string::npos);
  auto version = RunImagevideo({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  auto none = RunImagevideo({});
  EXPECT_EQ(none.exit_code, 2);
}

}  // namespace
}  // namespace iv
