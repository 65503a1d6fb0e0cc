#include "support/test_support.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <zlib.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <stdexcept>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

extern char** environ;

namespace iv::test {

namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "iv-test-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
  fs::remove_all(path_, ec);
}

std::vector<std::string> TempDir::list() const {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(path_)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

CommandResult Run(const std::vector<std::string>& argv, int interrupt_after_ms) {
  int out_pipe[2], err_pipe[2];
  if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
  posix_spawn_file_actions_addclose(&actions, err_pipe[0]);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  CommandResult result;
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    result.err = "cannot start " + argv[0];
    return result;
  }
  // Read both pipes together so neither can fill up and block the child.
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_count = 2;
  char buf[65536];
  auto started = std::chrono::steady_clock::now();
  bool interrupted = false;
  while (open_count > 0) {
    int timeout = -1;
    if (interrupt_after_ms > 0 && !interrupted) {
      auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
      timeout = std::max(0, interrupt_after_ms - static_cast<int>(elapsed.count()));
      if (timeout == 0) {
        kill(pid, SIGINT);
        interrupted = true;
        continue;
      }
    }
    if (poll(fds, 2, timeout) < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_count;
      }
    }
  }
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  result.max_rss_kb = usage.ru_maxrss;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

CommandResult RunImagevideo(const std::vector<std::string>& args, int interrupt_after_ms) {
  std::vector<std::string> argv{IV_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv, interrupt_after_ms);
}

std::string TestData(const std::string& name) { return std::string(IV_TEST_DATA) + "/" + name; }

nlohmann::json Probe(const std::string& video_path) {
  auto r = Run({"ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", video_path});
  EXPECT_EQ(r.exit_code, 0) << "ffprobe refused " << video_path << ": " << r.err;
  EXPECT_EQ(r.err, "") << "ffprobe complained about " << video_path;
  if (r.exit_code != 0) return nullptr;
  return nlohmann::json::parse(r.out);
}

std::vector<cv::Mat> DecodeFrames(const std::string& video_path) {
  nlohmann::json info = Probe(video_path);
  std::vector<cv::Mat> frames;
  if (info.is_null()) return frames;
  int w = info["streams"][0]["width"], h = info["streams"][0]["height"];
  auto r = Run({"ffmpeg", "-v", "error", "-i", video_path, "-f", "rawvideo", "-pix_fmt", "bgr24", "-"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  size_t frame_bytes = static_cast<size_t>(w) * h * 3;
  for (size_t off = 0; off + frame_bytes <= r.out.size(); off += frame_bytes) {
    cv::Mat f(h, w, CV_8UC3);
    std::memcpy(f.data, r.out.data() + off, frame_bytes);
    frames.push_back(f);
  }
  return frames;
}

cv::Mat DrawDotChart(int width, int height, int dots_x, int dots_y, bool flat) {
  cv::Mat img(height, width, CV_8UC3);
  for (int y = 0; y < height; ++y) {
    auto* p = img.ptr<cv::Vec3b>(y);
    for (int x = 0; x < width; ++x) {
      p[x] = flat ? cv::Vec3b(200, 200, 200)
                  : cv::Vec3b(static_cast<uchar>(150 + 60 * x / width), static_cast<uchar>(170 + 50 * y / height), 200);
    }
  }
  double sigma = std::min(width / dots_x, height / dots_y) * 0.12;
  for (int j = 0; j < dots_y; ++j) {
    for (int i = 0; i < dots_x; ++i) {
      double cx = (i + 0.5) * width / dots_x, cy = (j + 0.5) * height / dots_y;
      int r = static_cast<int>(std::ceil(sigma * 4));
      for (int y = std::max(0, static_cast<int>(cy) - r); y < std::min(height, static_cast<int>(cy) + r + 1); ++y) {
        auto* p = img.ptr<cv::Vec3b>(y);
        for (int x = std::max(0, static_cast<int>(cx) - r); x < std::min(width, static_cast<int>(cx) + r + 1); ++x) {
          double d2 = (x + 0.5 - cx) * (x + 0.5 - cx) + (y + 0.5 - cy) * (y + 0.5 - cy);
          double k = std::exp(-d2 / (2 * sigma * sigma));
          for (int c = 0; c < 3; ++c) p[x][c] = static_cast<uchar>(std::lround(p[x][c] * (1 - 0.85 * k)));
        }
      }
    }
  }
  return img;
}

void WritePngClaiming(const std::string& path, int width, int height) {
  std::string png("\x89PNG\r\n\x1a\n", 8);
  auto chunk = [&](const char* type, const std::string& data) {
    auto be32 = [&](uint32_t v) {
      for (int shift = 24; shift >= 0; shift -= 8) png.push_back(static_cast<char>((v >> shift) & 0xff));
    };
    be32(static_cast<uint32_t>(data.size()));
    std::string body = std::string(type, 4) + data;
    png += body;
    be32(static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()))));
  };
  std::string ihdr;
  for (uint32_t v : {static_cast<uint32_t>(width), static_cast<uint32_t>(height)}) {
    for (int shift = 24; shift >= 0; shift -= 8) ihdr.push_back(static_cast<char>((v >> shift) & 0xff));
  }
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit RGB, deflate, no filter, no interlace
  chunk("IHDR", ihdr);
  // A few compressed bytes of zeros: the start of a valid image stream.
  std::string zeros(1024, '\0');
  uLongf packed_size = compressBound(zeros.size());
  std::string packed(packed_size, '\0');
  compress(reinterpret_cast<Bytef*>(packed.data()), &packed_size, reinterpret_cast<const Bytef*>(zeros.data()),
           zeros.size());
  packed.resize(packed_size);
  chunk("IDAT", packed);
  chunk("IEND", "");
  std::ofstream(path, std::ios::binary) << png;
}

void WriteImage(const std::string& path, const cv::Mat& image, const std::vector<int>& params) {
  if (!cv::imwrite(path, image, params)) throw std::runtime_error("cannot write " + path);
}

}  // namespace iv::test
