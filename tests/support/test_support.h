// Shared helpers for imagevideo's tests. Everything here works on a fresh
// clone: test images are drawn or come from tests/data, outside tools are the
// Debian packages that scripts/install-deps installs (ffmpeg, ffprobe).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

namespace iv::test {

// A fresh directory under the system temp dir, removed with its contents on
// destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  // Names of the entries in the directory, sorted.
  std::vector<std::string> list() const;

 private:
  std::filesystem::path path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
  long max_rss_kb = 0;  // peak resident memory of the child
};

// Runs argv (no shell) and captures its output. With interrupt_after_ms > 0
// the child gets SIGINT after that long (to test clean cancellation).
CommandResult Run(const std::vector<std::string>& argv, int interrupt_after_ms = 0);

// Runs the built `imagevideo` binary with the given arguments.
CommandResult RunImagevideo(const std::vector<std::string>& args, int interrupt_after_ms = 0);

// Path to a file committed under tests/data.
std::string TestData(const std::string& name);

// `ffprobe -show_streams -show_format` as JSON; throws via gtest failure and
// returns null JSON when ffprobe refuses the file.
nlohmann::json Probe(const std::string& video_path);

// All frames of a video decoded with the ffmpeg program as 8-bit BGR images.
std::vector<cv::Mat> DecodeFrames(const std::string& video_path);

// A synthetic photo: smooth colour gradients with a grid of dark Gaussian dots
// whose centres are known, good for measuring geometry and smoothness. With
// `flat`, the background is one grey, so a plain centroid is unbiased.
cv::Mat DrawDotChart(int width, int height, int dots_x, int dots_y, bool flat = false);

// A PNG whose header claims width x height but whose pixel data is a few
// bytes: what a decompression bomb or an oversized upload looks like before
// decoding.
void WritePngClaiming(const std::string& path, int width, int height);

// Writes `image` (BGR/BGRA/grey, 8 or 16 bit) to `path`; the format follows
// the extension. Extra params as for cv::imwrite.
void WriteImage(const std::string& path, const cv::Mat& image, const std::vector<int>& params = {});

}  // namespace iv::test
