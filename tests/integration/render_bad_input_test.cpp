// Bad input to `imagevideo render`: every case exits 2 with exactly one line
// on stderr and leaves nothing behind, not even a temporary file.
#include <sys/stat.h>

#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "support/test_support.h"

namespace iv {
namespace {

using test::RunImagevideo;
using test::TempDir;

int CountLines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

// Runs the command and checks the common promise; returns stderr.
std::string ExpectRefused(const TempDir& dir, const std::vector<std::string>& args,
                          const std::vector<std::string>& files_before, int exit_code = 2) {
  std::vector<std::string> argv{"render"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = RunImagevideo(argv);
  EXPECT_EQ(r.exit_code, exit_code) << r.err;
  EXPECT_EQ(CountLines(r.err), 1) << "exactly one line: " << r.err;
  EXPECT_EQ(r.err.rfind("imagevideo: ", 0), 0u) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(dir.list(), files_before) << "nothing left behind";
  return r.err;
}

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    good_ = dir_.file("good.png");
    test::WriteImage(good_, test::DrawDotChart(320, 200, 4, 3));
    out_ = dir_.file("out.mp4");
  }
  TempDir dir_;
  std::string good_, out_;
};

TEST_F(BadInput, MissingFile) {
  auto err = ExpectRefused(dir_, {dir_.file("nope.jpg"), "-o", out_}, {"good.png"});
  EXPECT_NE(err.find("nope.jpg"), std::string::npos) << err;
}

TEST_F(BadInput, TruncatedJpeg) {
  std::string full = dir_.file("full.jpg");
  test::WriteImage(full, test::DrawDotChart(640, 400, 6, 4));
  std::ifstream in(full, std::ios::binary);
  std::string bytes(std::istreambuf_iterator<char>(in), {});
  std::ofstream(dir_.file("cut.jpg"), std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  std::remove(full.c_str());
  auto err = ExpectRefused(dir_, {dir_.file("cut.jpg"), "-o", out_}, {"cut.jpg", "good.png"});
  EXPECT_NE(err.find("cut.jpg"), std::string::npos) << err;
}

TEST_F(BadInput, CorruptPng) {
  std::ifstream in(good_, std::ios::binary);
  std::string bytes(std::istreambuf_iterator<char>(in), {});
  for (size_t i = bytes.size() / 3; i < bytes.size() * 2 / 3; ++i) bytes[i] = static_cast<char>(bytes[i] ^ 0x5a);
  std::ofstream(dir_.file("bad.png"), std::ios::binary) << bytes;
  ExpectRefused(dir_, {dir_.file("bad.png"), "-o", out_}, {"bad.png", "good.png"});
}

TEST_F(BadInput, TextFileNamedJpg) {
  std::ofstream(dir_.file("notes.jpg")) << "this is not an image\n";
  auto err = ExpectRefused(dir_, {dir_.file("notes.jpg"), "-o", out_}, {"good.png", "notes.jpg"});
  EXPECT_NE(err.find("not a supported image"), std::string::npos) << err;
}

TEST_F(BadInput, ImageOverOneHundredMegapixels) {
  test::WritePngClaiming(dir_.file("huge.png"), 12000, 9000);  // 108 MP
  auto err = ExpectRefused(dir_, {dir_.file("huge.png"), "-o", out_}, {"good.png", "huge.png"});
  EXPECT_NE(err.find("100 megapixels"), std::string::npos) << err;
}

TEST_F(BadInput, DecompressionBomb) {
  test::WritePngClaiming(dir_.file("bomb.png"), 60000, 60000);
  auto r = RunImagevideo({"render", dir_.file("bomb.png"), "-o", out_});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(CountLines(r.err), 1) << r.err;
  EXPECT_LT(r.max_rss_kb, 200 * 1024) << "refused from the header, before allocating";
  EXPECT_EQ(dir_.list(), (std::vector<std::string>{"bomb.png", "good.png"}));
}

TEST_F(BadInput, MegapixelLimitIsConfigurable) {
  auto err = ExpectRefused(dir_, {good_, "-o", out_, "--max-megapixels", "0.01"}, {"good.png"});
  EXPECT_NE(err.find("more than the limit of 10000 pixels"), std::string::npos) << err;
}

TEST_F(BadInput, UnwritableOutputPath) {
  ExpectRefused(dir_, {good_, "-o", dir_.file("no/such/dir/out.mp4")}, {"good.png"});
  // A path below a regular file cannot be created, even by root.
  ExpectRefused(dir_, {good_, "-o", good_ + "/out.mp4"}, {"good.png"});
  // The output is a directory.
  ExpectRefused(dir_, {good_, "-o", dir_.path().string()}, {"good.png"});
}

TEST_F(BadInput, FailureLeavesAnExistingOutputAlone) {
  std::ofstream(out_) << "precious";
  ExpectRefused(dir_, {dir_.file("nope.png"), "-o", out_}, {"good.png", "out.mp4"});
  std::ifstream in(out_);
  std::string content(std::istreambuf_iterator<char>(in), {});
  EXPECT_EQ(content, "precious");
}

TEST_F(BadInput, OutOfRangeOptions) {
  struct Case {
    std::vector<std::string> args;
    const char* mentions;
  } cases[] = {
      {{"--duration", "0.5"}, "--duration"},
      {{"--duration", "21"}, "--duration"},
      {{"--fps", "5"}, "--fps"},
      {{"--fps", "61"}, "--fps"},
      {{"--intensity", "1.5"}, "--intensity"},
      {{"--intensity", "-0.1"}, "--intensity"},
      {{"--intensity", "nan"}, "--intensity"},
      {{"--camera", "spin"}, "--camera"},
      {{"--easing", "bounce"}, "--easing"},
      {{"--size", "10x10"}, "--size"},
      {{"--size", "huge"}, "--size"},
      {{"--aspect", "wide"}, "--aspect"},
      {{"--fit", "stretch"}, "--fit"},
      {{"--quality", "ultra"}, "--quality"},
      {{"--format", "avi"}, "--format"},
      {{"--format", "gif"}, "--format"},  // disagrees with out.mp4
      {{"--size", "640x360", "--aspect", "1:1"}, "--aspect"},
      {{"--fps", "abc"}, "--fps"},
      {{"--threads", "-1"}, "--threads"},
      {{"--bogus"}, "--bogus"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args{good_, "-o", out_};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto err = ExpectRefused(dir_, args, {"good.png"});
    EXPECT_NE(err.find(c.mentions), std::string::npos) << c.args[0] << ": " << err;
  }
  // No output extension and no --format.
  auto err = ExpectRefused(dir_, {good_, "-o", dir_.file("video")}, {"good.png"});
  EXPECT_NE(err.find("--format"), std::string::npos) << err;
  // Missing arguments.
  ExpectRefused(dir_, {good_}, {"good.png"});
}

TEST_F(BadInput, InterruptedRenderLeavesNothing) {
  // A long render, stopped with Ctrl-C shortly after it starts.
  auto r = RunImagevideo({"render", good_, "-o", out_, "--duration", "20", "--fps", "60", "--quality", "high"}, 700);
  EXPECT_EQ(r.exit_code, 130) << r.err;
  EXPECT_EQ(dir_.list(), (std::vector<std::string>{"good.png"}));
}

}  // namespace
}  // namespace iv
