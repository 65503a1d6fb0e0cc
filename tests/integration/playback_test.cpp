// The videos imagevideo writes play in a real browser: Debian's Chromium,
// headless, loads each format and reports what it decoded.
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "support/test_support.h"

namespace iv {
namespace {

using test::TempDir;

// What Chromium reports for `media` (a <video> or an <img>) in the page's
// title once it has loaded, or the error it hit.
std::string LoadInChromium(const TempDir& dir, const std::string& file, bool is_video) {
  std::string page = dir.file("page.html");
  std::ofstream html(page);
  if (is_video) {
    html << "<!doctype html><video id=m muted preload=auto src=\"" << file << "\"></video><script>\n"
         << "const m = document.getElementById('m');\n"
         << "m.addEventListener('loadeddata', () => { document.title = 'ok ' + m.readyState + ' ' + m.duration + ' ' +"
            " m.videoWidth + 'x' + m.videoHeight; });\n"
         << "m.addEventListener('error', () => { document.title = 'error ' + (m.error && m.error.code); });\n"
         << "</script>\n";
  } else {
    html << "<!doctype html><img id=m src=\"" << file << "\"><script>\n"
         << "const m = document.getElementById('m');\n"
         << "m.addEventListener('load', () => { document.title = 'ok 4 0 ' + m.naturalWidth + 'x' + m.naturalHeight; });\n"
         << "m.addEventListener('error', () => { document.title = 'error'; });\n"
         << "</script>\n";
  }
  html.close();
  auto r = test::Run({"chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--disable-component-update", "--disable-sync", "--no-first-run", "--mute-audio",
                      "--user-data-dir=" + dir.file("profile"), "--virtual-time-budget=15000", "--dump-dom",
                      "file://" + page});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::smatch m;
  if (std::regex_search(r.out, m, std::regex("<title>([^<]*)</title>"))) return m[1];
  return "no result: " + r.out.substr(0, 200);
}

class Playback : public ::testing::TestWithParam<const char*> {};

TEST_P(Playback, ChromiumDecodesTheVideo) {
  TempDir dir;
  std::string ext = GetParam();
  std::string in = dir.file("photo.png"), out = dir.file("clip." + ext);
  test::WriteImage(in, test::DrawDotChart(640, 400, 6, 4));
  auto r = test::RunImagevideo({"render", in, "-o", out, "--size", "320x180", "--duration", "2", "--fps", "24",
                                "--camera", "ken-burns"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string result = LoadInChromium(dir, "clip." + ext, ext != "gif");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(result, m, std::regex(R"(ok (\d) ([0-9.]+) (\d+)x(\d+))"))) << result;
  EXPECT_GE(std::stoi(m[1]), 2) << "readyState: a frame is decoded";
  if (ext != "gif") EXPECT_NEAR(std::stod(m[2]), 2.0, 0.05) << "duration";
  EXPECT_EQ(m[3], "320");
  EXPECT_EQ(m[4], "180");
}

INSTANTIATE_TEST_SUITE_P(Render, Playback, ::testing::Values("mp4", "webm", "gif"));

}  // namespace
}  // namespace iv
