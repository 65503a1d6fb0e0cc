// Tests of media::VideoEncoder. The files are checked with the ffprobe and
// ffmpeg programs as independent judges of what players will see.
#include "media/video_encoder.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include "support/test_support.h"

namespace {

using iv::StatusCode;
using iv::engine::Image;
using iv::engine::Quality;
using iv::engine::VideoFormat;
using iv::media::EncoderOptions;
using iv::media::VideoEncoder;
using iv::test::TempDir;

EncoderOptions Options(VideoFormat format, int width = 320, int height = 240, int fps = 30, int frames = 30) {
  EncoderOptions o;
  o.width = width;
  o.height = height;
  o.fps = fps;
  o.frame_count = frames;
  o.format = format;
  o.quality = Quality::kBalanced;
  o.threads = 2;
  return o;
}

// Smooth RGB gradients that slide by `shift` pixels, like a slow pan.
Image Gradient(int width, int height, int shift = 0) {
  Image img(width, height, 3);
  for (int y = 0; y < height; ++y) {
    uint8_t* p = img.row(y);
    for (int x = 0; x < width; ++x) {
      int xs = x + shift;
      p[3 * x + 0] = static_cast<uint8_t>(30 + 190 * xs / (width + 64));
      p[3 * x + 1] = static_cast<uint8_t>(40 + 170 * y / height);
      p[3 * x + 2] = static_cast<uint8_t>(200 - 150 * (xs + y) / (width + height + 64));
    }
  }
  return img;
}

// Vertical bands of pure red, green, blue, dark and light grey. The greys
// catch full/limited range mix-ups, which leave mid grey nearly unchanged.
constexpr int kPatchCount = 5;
const uint8_t kPatchColours[kPatchCount][3] = {
    {255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {48, 48, 48}, {208, 208, 208}};

Image ColourPatches(int width, int height) {
  Image img(width, height, 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const uint8_t* c = kPatchColours[x * kPatchCount / width];
      std::copy(c, c + 3, img.row(y) + 3 * x);
    }
  }
  return img;
}

// Runs every pass of an encoder over frame_at(0..frame_count-1).
iv::Status Encode(const std::string& path, const EncoderOptions& options, const std::function<Image(int)>& frame_at) {
  auto opened = VideoEncoder::Open(path, options);
  if (!opened.ok()) return opened.status();
  VideoEncoder& encoder = **opened;
  for (int pass = 0; pass < encoder.passes(); ++pass) {
    IV_RETURN_IF_ERROR(encoder.BeginPass(pass));
    for (int i = 0; i < options.frame_count; ++i) IV_RETURN_IF_ERROR(encoder.WriteFrame(frame_at(i)));
  }
  return encoder.Finish();
}

iv::Status EncodePanningGradient(const std::string& path, const EncoderOptions& options) {
  return Encode(path, options, [&](int i) { return Gradient(options.width, options.height, i); });
}

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

int CountFrames(const std::string& path) {
  auto r = iv::test::Run({"ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                          "stream=nb_read_frames", "-of", "default=nokey=1:noprint_wrappers=1", path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return std::atoi(r.out.c_str());
}

double Duration(const nlohmann::json& info) { return std::stod(info["format"]["duration"].get<std::string>()); }

// Mean absolute difference over all channels between a decoded BGR frame and
// an RGB image.
double MeanAbsError(const cv::Mat& bgr, const Image& rgb) {
  double sum = 0;
  for (int y = 0; y < rgb.height; ++y) {
    const uint8_t* p = rgb.row(y);
    const auto* q = bgr.ptr<cv::Vec3b>(y);
    for (int x = 0; x < rgb.width; ++x) {
      for (int c = 0; c < 3; ++c) sum += std::abs(int(p[3 * x + c]) - int(q[x][2 - c]));
    }
  }
  return sum / (3.0 * rgb.width * rgb.height);
}

// Checks codec, size, pixel format, frame count and duration of a 30-frame
// 320x240 file.
void ExpectStream(const std::string& path, const EncoderOptions& o, const std::string& codec) {
  nlohmann::json info = iv::test::Probe(path);
  ASSERT_FALSE(info.is_null());
  ASSERT_EQ(info["streams"].size(), 1u);
  const auto& s = info["streams"][0];
  EXPECT_EQ(s["codec_name"], codec);
  EXPECT_EQ(s["width"], o.width);
  EXPECT_EQ(s["height"], o.height);
  if (codec != "gif") {
    EXPECT_EQ(s["pix_fmt"], "yuv420p");
  }
  EXPECT_NEAR(Duration(info), double(o.frame_count) / o.fps, 1.0 / o.fps);
  EXPECT_EQ(CountFrames(path), o.frame_count);
}

TEST(X264ParamsTest, PresetAndCrfPerQuality) {
  auto draft = iv::media::X264ParamsFor(Quality::kDraft);
  auto balanced = iv::media::X264ParamsFor(Quality::kBalanced);
  auto high = iv::media::X264ParamsFor(Quality::kHigh);
  EXPECT_STREQ(draft.preset, "veryfast");
  EXPECT_EQ(draft.crf, 26);
  EXPECT_STREQ(balanced.preset, "medium");
  EXPECT_EQ(balanced.crf, 20);
  EXPECT_STREQ(high.preset, "slow");
  EXPECT_EQ(high.crf, 17);
}

TEST(VideoEncoderTest, Mp4IsH264HighWithBt709TagsAndExactLength) {
  TempDir dir;
  auto o = Options(VideoFormat::kMp4);
  std::string path = dir.file("out.mp4");
  ASSERT_TRUE(EncodePanningGradient(path, o).ok());
  ExpectStream(path, o, "h264");
  nlohmann::json info = iv::test::Probe(path);
  const auto& s = info["streams"][0];
  EXPECT_EQ(s["profile"], "High");
  EXPECT_EQ(s["nb_frames"], "30");
  EXPECT_EQ(s["color_primaries"], "bt709");
  EXPECT_EQ(s["color_transfer"], "bt709");
  EXPECT_EQ(s["color_space"], "bt709");
  EXPECT_EQ(s["color_range"], "tv");
  EXPECT_EQ(s["avg_frame_rate"], "30/1");
  EXPECT_DOUBLE_EQ(Duration(info), 1.0);
  EXPECT_FALSE(info["format"].contains("tags") && info["format"]["tags"].contains("creation_time"));
}

TEST(VideoEncoderTest, WebmIsVp9WithBt709Tags) {
  TempDir dir;
  auto o = Options(VideoFormat::kWebm);
  std::string path = dir.file("out.webm");
  ASSERT_TRUE(EncodePanningGradient(path, o).ok());
  ExpectStream(path, o, "vp9");
  nlohmann::json info = iv::test::Probe(path);
  const auto& s = info["streams"][0];
  EXPECT_EQ(s["color_primaries"], "bt709");
  EXPECT_EQ(s["color_transfer"], "bt709");
  EXPECT_EQ(s["color_space"], "bt709");
  EXPECT_EQ(s["color_range"], "tv");
}

// Frame delays in centiseconds, as the GIF demuxer reads them.
std::vector<int> GifDelays(const std::string& path) {
  auto r = iv::test::Run({"ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=duration", "-of",
                          "default=nokey=1:noprint_wrappers=1", path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<int> delays;
  std::istringstream in(r.out);
  for (int d; in >> d;) delays.push_back(d);
  return delays;
}

TEST(VideoEncoderTest, GifAt30FpsLastsFrameCountOverFps) {
  TempDir dir;
  auto o = Options(VideoFormat::kGif);
  std::string path = dir.file("out.gif");
  ASSERT_TRUE(EncodePanningGradient(path, o).ok());
  ExpectStream(path, o, "gif");
  EXPECT_NEAR(Duration(iv::test::Probe(path)), 1.0, 1e-6);
  // Rounded timestamps, not one rounded delay: 3,4,3, 3,4,3, ... = 100 cs.
  std::vector<int> expected;
  for (int i = 0; i < 10; ++i) expected.insert(expected.end(), {3, 4, 3});
  EXPECT_EQ(GifDelays(path), expected);
}

TEST(VideoEncoderTest, GifAt24FpsLastsFrameCountOverFps) {
  TempDir dir;
  auto o = Options(VideoFormat::kGif, 320, 240, 24, 20);
  std::string path = dir.file("out.gif");
  ASSERT_TRUE(EncodePanningGradient(path, o).ok());
  ExpectStream(path, o, "gif");
  // 20 / 24 s = 83.3 cs, rounded to whole centiseconds.
  EXPECT_NEAR(Duration(iv::test::Probe(path)), 0.83, 1e-6);
  std::vector<int> delays = GifDelays(path);
  ASSERT_EQ(delays.size(), 20u);
  for (int d : delays) EXPECT_TRUE(d == 4 || d == 5) << d;
}

TEST(VideoEncoderTest, GifLoopsForever) {
  TempDir dir;
  auto o = Options(VideoFormat::kGif, 64, 48, 30, 3);
  std::string path = dir.file("out.gif");
  ASSERT_TRUE(EncodePanningGradient(path, o).ok());
  std::string bytes = ReadBytes(path);
  // NETSCAPE2.0 application extension with loop count 0 = forever.
  size_t at = bytes.find("NETSCAPE2.0");
  ASSERT_NE(at, std::string::npos);
  ASSERT_GE(bytes.size(), at + 16);
  EXPECT_EQ(bytes[at + 11], 3);
  EXPECT_EQ(bytes[at + 12], 1);
  EXPECT_EQ(bytes[at + 13], 0);
  EXPECT_EQ(bytes[at + 14], 0);
}

TEST(VideoEncoderTest, Mp4DecodesCloseToTheInput) {
  TempDir dir;
  auto o = Options(VideoFormat::kMp4, 320, 240, 30, 10);
  std::string path = dir.file("out.mp4");
  ASSERT_TRUE(EncodePanningGradient(path, o).ok());
  auto frames = iv::test::DecodeFrames(path);
  ASSERT_EQ(frames.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_LT(MeanAbsError(frames[i], Gradient(320, 240, i)), 4.0) << "frame " << i;
}

TEST(VideoEncoderTest, WebmAndGifDecodeCloseToTheInput) {
  for (VideoFormat format : {VideoFormat::kWebm, VideoFormat::kGif}) {
    TempDir dir;
    auto o = Options(format, 320, 240, 30, 10);
    std::string path = dir.file(format == VideoFormat::kGif ? "out.gif" : "out.webm");
    ASSERT_TRUE(EncodePanningGradient(path, o).ok());
    auto frames = iv::test::DecodeFrames(path);
    ASSERT_EQ(frames.size(), 10u) << path;
    for (int i = 0; i < 10; ++i) EXPECT_LT(MeanAbsError(frames[i], Gradient(320, 240, i)), 4.0) << path << " frame " << i;
  }
}

// Pure primaries come back as themselves: this fails if the RGB -> YUV matrix
// does not match the colour tags (BT.601 vs BT.709), or if ranges are mixed.
TEST(VideoEncoderTest, PrimaryColoursSurviveEveryFormat) {
  for (VideoFormat format : {VideoFormat::kMp4, VideoFormat::kWebm, VideoFormat::kGif}) {
    TempDir dir;
    auto o = Options(format, 320, 240, 30, 5);
    std::string path = dir.file(format == VideoFormat::kMp4 ? "out.mp4" : format == VideoFormat::kWebm ? "out.webm" : "out.gif");
    Image patches = ColourPatches(o.width, o.height);
    ASSERT_TRUE(Encode(path, o, [&](int) { return patches; }).ok());
    auto frames = iv::test::DecodeFrames(path);
    ASSERT_EQ(frames.size(), 5u) << path;
    const cv::Mat& last = frames.back();
    const int band_width = o.width / kPatchCount;
    for (int band = 0; band < kPatchCount; ++band) {
      // The middle of the band, away from edges where chroma is shared.
      cv::Rect inner(band * band_width + 16, 40, band_width - 32, 160);
      cv::Scalar mean = cv::mean(last(inner));
      for (int c = 0; c < 3; ++c) {
        EXPECT_NEAR(mean[2 - c], kPatchColours[band][c], 6.0) << path << " band " << band << " channel " << c;
      }
    }
  }
}

TEST(VideoEncoderTest, SameFramesGiveIdenticalBytes) {
  for (VideoFormat format : {VideoFormat::kMp4, VideoFormat::kWebm, VideoFormat::kGif}) {
    TempDir dir;
    auto o = Options(format, 320, 240, 30, 12);
    ASSERT_TRUE(EncodePanningGradient(dir.file("a"), o).ok());
    ASSERT_TRUE(EncodePanningGradient(dir.file("b"), o).ok());
    std::string a = ReadBytes(dir.file("a")), b = ReadBytes(dir.file("b"));
    EXPECT_GT(a.size(), 1000u);
    EXPECT_TRUE(a == b) << "format " << static_cast<int>(format) << " differs between runs";
  }
}

TEST(VideoEncoderTest, MissingDirectoryIsInvalidArgumentAndCreatesNothing) {
  TempDir dir;
  std::string path = dir.file("missing/out.mp4");
  auto opened = VideoEncoder::Open(path, Options(VideoFormat::kMp4));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(opened.status().message(), "cannot write " + path + ": No such file or directory");
  EXPECT_TRUE(dir.list().empty());
}

TEST(VideoEncoderTest, ReadOnlyDirectoryIsInvalidArgument) {
  if (geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  TempDir dir;
  ASSERT_EQ(chmod(dir.path().c_str(), 0500), 0);
  for (VideoFormat format : {VideoFormat::kMp4, VideoFormat::kWebm, VideoFormat::kGif}) {
    std::string path = dir.file("out");
    auto opened = VideoEncoder::Open(path, Options(format));
    ASSERT_FALSE(opened.ok());
    EXPECT_EQ(opened.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(opened.status().message(), "cannot write " + path + ": Permission denied");
  }
  chmod(dir.path().c_str(), 0700);
  EXPECT_TRUE(dir.list().empty());
}

TEST(VideoEncoderTest, BadOptionsAreInvalidArgument) {
  TempDir dir;
  std::vector<EncoderOptions> bad = {Options(VideoFormat::kMp4, 321, 240), Options(VideoFormat::kMp4, 320, 0),
                                     Options(VideoFormat::kWebm, -2, 240), Options(VideoFormat::kMp4, 320, 240, 0),
                                     Options(VideoFormat::kGif, 320, 240, 30, 0)};
  for (const auto& o : bad) {
    auto opened = VideoEncoder::Open(dir.file("out"), o);
    ASSERT_FALSE(opened.ok());
    EXPECT_EQ(opened.status().code(), StatusCode::kInvalidArgument) << opened.status().message();
  }
  EXPECT_TRUE(dir.list().empty());
}

TEST(VideoEncoderTest, WrongFrameSizeOrChannelsIsInvalidArgument) {
  for (VideoFormat format : {VideoFormat::kMp4, VideoFormat::kGif}) {
    TempDir dir;
    auto o = Options(format, 320, 240, 30, 2);
    auto opened = VideoEncoder::Open(dir.file("out"), o);
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    VideoEncoder& encoder = **opened;
    ASSERT_TRUE(encoder.BeginPass(0).ok());
    EXPECT_EQ(encoder.WriteFrame(Image(322, 240, 3)).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(encoder.WriteFrame(Image(320, 240, 4)).code(), StatusCode::kInvalidArgument);
    // A rejected frame does not spoil the encoder.
    for (int pass = 0; pass < encoder.passes(); ++pass) {
      if (pass > 0) {
        ASSERT_TRUE(encoder.BeginPass(pass).ok());
      }
      for (int i = 0; i < 2; ++i) ASSERT_TRUE(encoder.WriteFrame(Gradient(320, 240, i)).ok());
    }
    EXPECT_TRUE(encoder.Finish().ok());
  }
}

TEST(VideoEncoderTest, CallsOutOfOrderAreInternal) {
  TempDir dir;
  auto opened = VideoEncoder::Open(dir.file("out.mp4"), Options(VideoFormat::kMp4, 320, 240, 30, 2));
  ASSERT_TRUE(opened.ok());
  VideoEncoder& mp4 = **opened;
  EXPECT_EQ(mp4.passes(), 1);
  EXPECT_EQ(mp4.WriteFrame(Gradient(320, 240)).code(), StatusCode::kInternal);
  EXPECT_EQ(mp4.BeginPass(1).code(), StatusCode::kInternal);
  EXPECT_EQ(mp4.Finish().code(), StatusCode::kInternal);

  auto gif_opened = VideoEncoder::Open(dir.file("out.gif"), Options(VideoFormat::kGif, 320, 240, 30, 2));
  ASSERT_TRUE(gif_opened.ok());
  VideoEncoder& gif = **gif_opened;
  EXPECT_EQ(gif.passes(), 2);
  ASSERT_TRUE(gif.BeginPass(0).ok());
  ASSERT_TRUE(gif.WriteFrame(Gradient(320, 240)).ok());
  EXPECT_EQ(gif.BeginPass(1).code(), StatusCode::kInternal);  // one frame short
}

TEST(VideoEncoderTest, Mp4At1080p) {
  TempDir dir;
  auto o = Options(VideoFormat::kMp4, 1920, 1080, 30, 3);
  o.threads = 0;
  std::string path = dir.file("out.mp4");
  ASSERT_TRUE(EncodePanningGradient(path, o).ok());
  nlohmann::json info = iv::test::Probe(path);
  ASSERT_FALSE(info.is_null());
  EXPECT_EQ(info["streams"][0]["width"], 1920);
  EXPECT_EQ(info["streams"][0]["height"], 1080);
  EXPECT_EQ(info["streams"][0]["nb_frames"], "3");
  auto frames = iv::test::DecodeFrames(path);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_LT(MeanAbsError(frames[2], Gradient(1920, 1080, 2)), 4.0);
}

}  // namespace

namespace {

// BT.709 limited-range Y'CbCr of an sRGB colour, as YuvFrame documents it.
void Ycbcr709(double r, double g, double b, int* y, int* cb, int* cr) {
  double yy = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  *y = static_cast<int>(std::lround(16 + 219 * yy / 255));
  *cb = static_cast<int>(std::lround(128 + 224 * (b - yy) / 1.8556 / 255));
  *cr = static_cast<int>(std::lround(128 + 224 * (r - yy) / 1.5748 / 255));
}

}  // namespace

TEST(VideoEncoderTest, YuvFramesKeepTheirColours) {
  // Frames rendered straight into Y'CbCr go to the encoder untouched; a
  // player reading the BT.709 tags shows the intended colours.
  TempDir dir;
  for (VideoFormat format : {VideoFormat::kMp4, VideoFormat::kWebm}) {
    EncoderOptions o;
    o.width = 64;
    o.height = 64;
    o.fps = 24;
    o.frame_count = 6;
    o.format = format;
    std::string path = dir.file(format == VideoFormat::kMp4 ? "c.mp4" : "c.webm");
    auto opened = VideoEncoder::Open(path, o);
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    VideoEncoder& encoder = **opened;
    ASSERT_TRUE(encoder.accepts_yuv());
    ASSERT_TRUE(encoder.BeginPass(0).ok());
    // Left half pure red, right half pure blue.
    iv::engine::YuvFrame frame(64, 64);
    int ry, rcb, rcr, by, bcb, bcr;
    Ycbcr709(255, 0, 0, &ry, &rcb, &rcr);
    Ycbcr709(0, 0, 255, &by, &bcb, &bcr);
    for (int y = 0; y < 64; ++y)
      for (int x = 0; x < 64; ++x) frame.y[y * 64 + x] = static_cast<uint8_t>(x < 32 ? ry : by);
    for (int y = 0; y < 32; ++y) {
      for (int x = 0; x < 32; ++x) {
        frame.u[y * 32 + x] = static_cast<uint8_t>(x < 16 ? rcb : bcb);
        frame.v[y * 32 + x] = static_cast<uint8_t>(x < 16 ? rcr : bcr);
      }
    }
    for (int i = 0; i < o.frame_count; ++i) ASSERT_TRUE(encoder.WriteFrame(frame).ok());
    ASSERT_TRUE(encoder.Finish().ok());
    auto frames = iv::test::DecodeFrames(path);
    ASSERT_EQ(frames.size(), 6u);
    cv::Vec3b red = frames[3].at<cv::Vec3b>(32, 8), blue = frames[3].at<cv::Vec3b>(32, 56);  // BGR
    EXPECT_NEAR(red[2], 255, 6);
    EXPECT_NEAR(red[1], 0, 6);
    EXPECT_NEAR(red[0], 0, 6);
    EXPECT_NEAR(blue[0], 255, 6);
    EXPECT_NEAR(blue[1], 0, 6);
    EXPECT_NEAR(blue[2], 0, 6);
  }
}

TEST(VideoEncoderTest, GifTakesOnlyRgbFrames) {
  TempDir dir;
  EncoderOptions o;
  o.width = 64;
  o.height = 64;
  o.frame_count = 2;
  o.format = VideoFormat::kGif;
  auto opened = VideoEncoder::Open(dir.file("a.gif"), o);
  ASSERT_TRUE(opened.ok());
  EXPECT_FALSE((*opened)->accepts_yuv());
  ASSERT_TRUE((*opened)->BeginPass(0).ok());
  EXPECT_EQ((*opened)->WriteFrame(iv::engine::YuvFrame(64, 64)).code(), StatusCode::kInvalidArgument);
}
