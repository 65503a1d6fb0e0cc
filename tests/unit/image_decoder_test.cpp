// Tests for media/image_decoder: formats by content, colour conversion to
// 8-bit sRGB, alpha flattening, EXIF orientation, shrink-on-load, limits and
// refusal of damaged or foreign files.
//
// Inputs are drawn here and written with OpenCV; CMYK, HEIC/AVIF and the large
// JPEG are made with the `vips` command-line tool (the tests that need it skip
// when it is missing).
#include "media/image_decoder.h"

#include <sys/resource.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "support/test_support.h"

namespace iv::media {
namespace {

using iv::test::TempDir;
using iv::test::WriteImage;

const char* kNotSupportedTail = ": not a supported image (JPEG, PNG, WebP, TIFF, HEIC or AVIF)";
const char* kDamagedTail = ": the image data is damaged or truncated";

class ImageDecoderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(InitMedia("image_decoder_test").ok()); }
};

// ---------------------------------------------------------------------------
// Helpers.

// Decoded RGB image as an OpenCV BGR matrix, for comparisons.
cv::Mat ToBgr(const engine::Image& image) {
  EXPECT_EQ(image.channels, 3);
  EXPECT_EQ(image.pixels.size(), static_cast<size_t>(image.width) * image.height * 3);
  cv::Mat rgb(image.height, image.width, CV_8UC3, const_cast<std::uint8_t*>(image.pixels.data()));
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  return bgr;
}

cv::Vec3b RgbAt(const engine::Image& image, int x, int y) {
  const std::uint8_t* p = image.row(y) + static_cast<size_t>(x) * 3;
  return {p[0], p[1], p[2]};
}

double MeanAbsDiff(const cv::Mat& a, const cv::Mat& b) {
  EXPECT_EQ(a.size(), b.size());
  EXPECT_EQ(a.type(), b.type());
  if (a.size() != b.size() || a.type() != b.type()) return 1e9;
  cv::Mat diff;
  cv::absdiff(a, b, diff);
  cv::Scalar m = cv::mean(diff);
  return (m[0] + m[1] + m[2]) / 3.0;
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

bool HaveVipsCli() {
  static const bool have = iv::test::Run({"vips", "--version"}).exit_code == 0;
  return have;
}

// Runs the vips CLI; fails the test (and returns false) when it refuses.
bool Vips(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"vips"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = iv::test::Run(argv);
  EXPECT_EQ(r.exit_code, 0) << "vips failed: " << r.err;
  return r.exit_code == 0;
}

// Inserts an EXIF APP1 segment with only an Orientation tag right after the
// SOI marker of a JPEG.
std::string WithExifOrientation(const std::string& jpeg, int orientation) {
  const unsigned char tiff[] = {
      'M',  'M',
      0x00, 0x2A,
      0x00, 0x00,
      0x00, 0x08,  // big-endian TIFF header, IFD0 at 8
      0x00, 0x01,  // one entry
      0x01, 0x12,
      0x00, 0x03,
      0x00, 0x00,
      0x00, 0x01,  // Orientation, SHORT, count 1
      0x00, static_cast<unsigned char>(orientation),
      0x00, 0x00,
      0x00, 0x00,
      0x00, 0x00,  // no next IFD
  };
  std::string payload = std::string("Exif\0\0", 6) + std::string(reinterpret_cast<const char*>(tiff), sizeof tiff);
  const size_t length = payload.size() + 2;
  std::string app1;
  app1 += '\xFF';
  app1 += '\xE1';
  app1 += static_cast<char>(length >> 8);
  app1 += static_cast<char>(length & 0xFF);
  app1 += payload;
  EXPECT_EQ(jpeg.substr(0, 2), std::string("\xFF\xD8", 2));
  return jpeg.substr(0, 2) + app1 + jpeg.substr(2);
}

long MaxRssMiB() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024;
}

// Four flat quadrants (BGR colours: top-left, top-right, bottom-left,
// bottom-right), handy for orientation and colour tests. The default colours
// are red, green, blue and yellow.
cv::Mat Quadrants(int width, int height,
                  const std::array<cv::Scalar, 4>& colours = {cv::Scalar(40, 40, 220), cv::Scalar(40, 200, 40),
                                                              cv::Scalar(220, 40, 40), cv::Scalar(30, 220, 230)}) {
  cv::Mat img(height, width, CV_8UC3);
  const int w2 = width / 2, h2 = height / 2;
  img(cv::Rect(0, 0, w2, h2)).setTo(colours[0]);
  img(cv::Rect(w2, 0, width - w2, h2)).setTo(colours[1]);
  img(cv::Rect(0, h2, w2, height - h2)).setTo(colours[2]);
  img(cv::Rect(w2, h2, width - w2, height - h2)).setTo(colours[3]);
  return img;
}

void ExpectNear(cv::Vec3b got, cv::Vec3b want, int tolerance, const std::string& what) {
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(got[c], want[c], tolerance)
        << what << " channel " << c << " got (" << int(got[0]) << "," << int(got[1]) << "," << int(got[2]) << ") want ("
        << int(want[0]) << "," << int(want[1]) << "," << int(want[2]) << ")";
  }
}

void ExpectOneLine(const Status& s) {
  EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
  EXPECT_FALSE(s.message().empty());
}

// ---------------------------------------------------------------------------
// Formats.

TEST_F(ImageDecoderTest, InitMediaIsIdempotent) {
  EXPECT_TRUE(InitMedia("again").ok());
  EXPECT_TRUE(InitMedia(nullptr).ok());
}

struct FormatCase {
  const char* file;
  const char* format;
  double max_mean_error;  // lossy formats are allowed a little noise
};

TEST_F(ImageDecoderTest, ReadsJpegPngWebpTiff) {
  TempDir dir;
  cv::Mat chart = iv::test::DrawDotChart(160, 100, 4, 3);
  const FormatCase cases[] = {
      {"chart.jpg", "jpeg", 3.0},
      {"chart.png", "png", 0.0},
      {"chart.webp", "webp", 3.0},
      {"chart.tif", "tiff", 0.0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    const std::string path = dir.file(c.file);
    std::vector<int> params;
    if (std::string(c.file).ends_with(".jpg")) params = {cv::IMWRITE_JPEG_QUALITY, 95};
    WriteImage(path, chart, params);

    auto header = ReadImageHeader(path, {});
    ASSERT_TRUE(header.ok()) << header.status().message();
    EXPECT_EQ(header->width, 160);
    EXPECT_EQ(header->height, 100);
    EXPECT_EQ(header->format, c.format);

    auto image = DecodeImage(path, {});
    ASSERT_TRUE(image.ok()) << image.status().message();
    EXPECT_EQ(image->width, 160);
    EXPECT_EQ(image->height, 100);
    EXPECT_EQ(image->channels, 3);
    EXPECT_EQ(image->stride(), 160u * 3);
    EXPECT_LE(MeanAbsDiff(ToBgr(*image), chart), c.max_mean_error);
  }
}

TEST_F(ImageDecoderTest, FormatComesFromContentNotName) {
  TempDir dir;
  cv::Mat chart = iv::test::DrawDotChart(64, 48, 2, 2);
  WriteImage(dir.file("real.png"), chart);
  WriteImage(dir.file("real.jpg"), chart);
  std::filesystem::rename(dir.file("real.png"), dir.file("png-named.jpg"));
  std::filesystem::rename(dir.file("real.jpg"), dir.file("jpeg-named.webp"));

  auto png = ReadImageHeader(dir.file("png-named.jpg"), {});
  ASSERT_TRUE(png.ok()) << png.status().message();
  EXPECT_EQ(png->format, "png");
  auto jpeg = ReadImageHeader(dir.file("jpeg-named.webp"), {});
  ASSERT_TRUE(jpeg.ok()) << jpeg.status().message();
  EXPECT_EQ(jpeg->format, "jpeg");

  auto decoded = DecodeImage(dir.file("png-named.jpg"), {});
  ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  EXPECT_EQ(MeanAbsDiff(ToBgr(*decoded), chart), 0.0);
}

TEST_F(ImageDecoderTest, PathWithBracketsIsNotParsedAsLoaderOptions) {
  TempDir dir;
  cv::Mat chart = iv::test::DrawDotChart(64, 48, 2, 2);
  const std::string path = dir.file("photo[page=1,shrink=8].png");
  WriteImage(dir.file("plain.png"), chart);
  std::filesystem::rename(dir.file("plain.png"), path);
  auto decoded = DecodeImage(path, {});
  ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  EXPECT_EQ(decoded->width, 64);
  EXPECT_EQ(MeanAbsDiff(ToBgr(*decoded), chart), 0.0);
}

// ---------------------------------------------------------------------------
// Colour conversion.

TEST_F(ImageDecoderTest, GreyPngBecomesRgb) {
  TempDir dir;
  cv::Mat grey(30, 256, CV_8UC1);
  for (int y = 0; y < grey.rows; ++y)
    for (int x = 0; x < grey.cols; ++x) grey.at<uchar>(y, x) = static_cast<uchar>(x);
  WriteImage(dir.file("grey.png"), grey);

  auto image = DecodeImage(dir.file("grey.png"), {});
  ASSERT_TRUE(image.ok()) << image.status().message();
  ASSERT_EQ(image->width, 256);
  ASSERT_EQ(image->height, 30);
  for (int x : {0, 1, 77, 128, 254, 255}) {
    cv::Vec3b p = RgbAt(*image, x, 10);
    EXPECT_EQ(p, cv::Vec3b(x, x, x)) << "x=" << x;
  }
}

TEST_F(ImageDecoderTest, SixteenBitPngIsScaledTo8Bit) {
  TempDir dir;
  cv::Mat img(10, 30, CV_16UC3, cv::Scalar(0, 0, 0));
  img(cv::Rect(0, 0, 10, 10)).setTo(cv::Scalar(65535, 65535, 65535));
  img(cv::Rect(10, 0, 10, 10)).setTo(cv::Scalar(32768, 32768, 32768));
  // BGR order: blue 0, green 32768, red 65535.
  img(cv::Rect(20, 0, 10, 10)).setTo(cv::Scalar(0, 32768, 65535));
  WriteImage(dir.file("deep.png"), img);

  auto image = DecodeImage(dir.file("deep.png"), {});
  ASSERT_TRUE(image.ok()) << image.status().message();
  ExpectNear(RgbAt(*image, 5, 5), {255, 255, 255}, 0, "white");
  ExpectNear(RgbAt(*image, 15, 5), {128, 128, 128}, 1, "mid grey");
  ExpectNear(RgbAt(*image, 25, 5), {255, 128, 0}, 1, "orange");
}

TEST_F(ImageDecoderTest, AlphaIsFlattenedOntoMidGrey) {
  TempDir dir;
  cv::Mat bgra(10, 40, CV_8UC4, cv::Scalar(0, 0, 0, 0));
  bgra(cv::Rect(0, 0, 10, 10)).setTo(cv::Scalar(10, 20, 250, 0));       // fully transparent red
  bgra(cv::Rect(10, 0, 10, 10)).setTo(cv::Scalar(10, 20, 250, 255));    // opaque red
  bgra(cv::Rect(20, 0, 10, 10)).setTo(cv::Scalar(0, 0, 0, 255));        // opaque black
  bgra(cv::Rect(30, 0, 10, 10)).setTo(cv::Scalar(255, 255, 255, 128));  // half-transparent white
  WriteImage(dir.file("alpha.png"), bgra);

  auto image = DecodeImage(dir.file("alpha.png"), {});
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->channels, 3);
  ExpectNear(RgbAt(*image, 5, 5), {128, 128, 128}, 0, "transparent");
  ExpectNear(RgbAt(*image, 15, 5), {250, 20, 10}, 0, "opaque red");
  ExpectNear(RgbAt(*image, 25, 5), {0, 0, 0}, 0, "opaque black");
  ExpectNear(RgbAt(*image, 35, 5), {192, 192, 192}, 1, "half white");
}

TEST_F(ImageDecoderTest, SixteenBitAlphaIsScaledBeforeFlattening) {
  TempDir dir;
  cv::Mat bgra(10, 30, CV_16UC4, cv::Scalar(0, 0, 0, 0));
  bgra(cv::Rect(0, 0, 10, 10)).setTo(cv::Scalar(65535, 65535, 65535, 0));
  bgra(cv::Rect(10, 0, 10, 10)).setTo(cv::Scalar(65535, 65535, 65535, 65535));
  bgra(cv::Rect(20, 0, 10, 10)).setTo(cv::Scalar(65535, 65535, 65535, 32768));
  WriteImage(dir.file("alpha16.png"), bgra);

  auto image = DecodeImage(dir.file("alpha16.png"), {});
  ASSERT_TRUE(image.ok()) << image.status().message();
  ExpectNear(RgbAt(*image, 5, 5), {128, 128, 128}, 0, "transparent");
  ExpectNear(RgbAt(*image, 15, 5), {255, 255, 255}, 0, "opaque white");
  ExpectNear(RgbAt(*image, 25, 5), {192, 192, 192}, 1, "half white");
}

// CMYK JPEGs, as made by print workflows, with and without an embedded
// profile. Both must come back close to the sRGB colours they were made from.
TEST_F(ImageDecoderTest, CmykJpegBecomesSrgb) {
  if (!HaveVipsCli()) GTEST_SKIP() << "the vips command-line tool is needed to write CMYK JPEGs";
  TempDir dir;
  // Colours inside the CMYK print gamut (saturated screen primaries are not,
  // and would not survive the round trip whatever the decoder does).
  cv::Mat src = Quadrants(
      64, 48,
      {cv::Scalar(90, 120, 180), cv::Scalar(160, 130, 90), cv::Scalar(90, 150, 120), cv::Scalar(170, 190, 200)});
  WriteImage(dir.file("src.png"), src);
  // libvips' built-in "cmyk" profile is embedded by the conversion; strip
  // removes it again.
  ASSERT_TRUE(Vips({"colourspace", dir.file("src.png"), dir.file("cmyk-icc.jpg[Q=98]"), "cmyk"}));
  ASSERT_TRUE(Vips({"copy", dir.file("cmyk-icc.jpg"), dir.file("cmyk-plain.jpg[Q=98,strip]")}));

  for (const char* name : {"cmyk-icc.jpg", "cmyk-plain.jpg"}) {
    SCOPED_TRACE(name);
    auto interp = iv::test::Run({"vipsheader", "-f", "interpretation", dir.file(name)});
    ASSERT_NE(interp.out.find("CMYK"), std::string::npos) << "test input is not CMYK: " << interp.out;
    auto icc = iv::test::Run({"vipsheader", "-f", "icc-profile-data", dir.file(name)});
    EXPECT_EQ(icc.exit_code == 0, std::string(name) == "cmyk-icc.jpg") << "unexpected profile presence";

    auto image = DecodeImage(dir.file(name), {});
    ASSERT_TRUE(image.ok()) << image.status().message();
    ASSERT_EQ(image->width, 64);
    ASSERT_EQ(image->height, 48);
    cv::Mat bgr = ToBgr(*image);
    // Quadrant centres, away from JPEG edges.
    for (auto [x, y] : std::array<std::pair<int, int>, 4>{{{16, 12}, {48, 12}, {16, 36}, {48, 36}}}) {
      cv::Vec3b want = src.at<cv::Vec3b>(y, x), got = bgr.at<cv::Vec3b>(y, x);
      ExpectNear(got, want, 10, "quadrant at " + std::to_string(x) + "," + std::to_string(y) + " (BGR)");
    }
  }
}

// Layouts OpenCV cannot write: grey + alpha, 16-bit grey, 16-bit grey +
// alpha, Lab, XYZ and scRGB float TIFFs, CMYK + alpha TIFF.
TEST_F(ImageDecoderTest, OtherPixelLayoutsBecomeSrgb) {
  if (!HaveVipsCli()) GTEST_SKIP() << "the vips command-line tool is needed to write these layouts";
  TempDir dir;
  const cv::Vec3b rgb(200, 100, 50);
  WriteImage(dir.file("src.png"), cv::Mat(24, 32, CV_8UC3, cv::Scalar(rgb[2], rgb[1], rgb[0])));
  const std::string src = dir.file("src.png"), grey = dir.file("grey.png");
  ASSERT_TRUE(Vips({"colourspace", src, grey, "b-w"}));
  ASSERT_TRUE(Vips({"bandjoin_const", grey, dir.file("grey-alpha.png"), "255"}));
  ASSERT_TRUE(Vips({"colourspace", grey, dir.file("grey16.png"), "grey16"}));
  ASSERT_TRUE(Vips({"bandjoin_const", dir.file("grey16.png"), dir.file("grey16-alpha.png"), "65535"}));
  ASSERT_TRUE(Vips({"colourspace", src, dir.file("lab.tif"), "lab"}));
  ASSERT_TRUE(Vips({"colourspace", src, dir.file("xyz.tif"), "xyz"}));
  ASSERT_TRUE(Vips({"colourspace", src, dir.file("scrgb.tif"), "scrgb"}));
  ASSERT_TRUE(Vips({"colourspace", src, dir.file("rgb16.tif"), "rgb16"}));
  ASSERT_TRUE(Vips({"colourspace", src, dir.file("cmyk.tif"), "cmyk"}));
  ASSERT_TRUE(Vips({"bandjoin_const", dir.file("cmyk.tif"), dir.file("cmyk-alpha.tif"), "255"}));

  auto grey_image = DecodeImage(grey, {});
  ASSERT_TRUE(grey_image.ok()) << grey_image.status().message();
  const cv::Vec3b g = RgbAt(*grey_image, 16, 12);
  EXPECT_EQ(g[0], g[1]);
  EXPECT_EQ(g[1], g[2]);

  struct Case {
    const char* name;
    cv::Vec3b want;
    int tolerance;
  };
  const Case cases[] = {
      {"grey-alpha.png", g, 0}, {"grey16.png", g, 1},  {"grey16-alpha.png", g, 1},
      {"lab.tif", rgb, 1},      {"xyz.tif", rgb, 1},   {"scrgb.tif", rgb, 1},
      {"rgb16.tif", rgb, 1},    {"cmyk.tif", rgb, 10}, {"cmyk-alpha.tif", rgb, 10},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto image = DecodeImage(dir.file(c.name), {});
    ASSERT_TRUE(image.ok()) << image.status().message();
    ASSERT_EQ(image->width, 32);
    ASSERT_EQ(image->height, 24);
    ExpectNear(RgbAt(*image, 16, 12), c.want, c.tolerance, c.name);
  }
}

// ---------------------------------------------------------------------------
// EXIF orientation.

TEST_F(ImageDecoderTest, Orientation6SwapsSizeAndRotatesClockwise) {
  TempDir dir;
  cv::Mat src = Quadrants(120, 80);  // red top-left, green top-right, blue bottom-left
  std::vector<uchar> jpeg;
  cv::imencode(".jpg", src, jpeg, {cv::IMWRITE_JPEG_QUALITY, 95});
  WriteFile(dir.file("rot6.jpg"), WithExifOrientation(std::string(jpeg.begin(), jpeg.end()), 6));

  auto header = ReadImageHeader(dir.file("rot6.jpg"), {});
  ASSERT_TRUE(header.ok()) << header.status().message();
  EXPECT_EQ(header->width, 80);
  EXPECT_EQ(header->height, 120);

  auto image = DecodeImage(dir.file("rot6.jpg"), {});
  ASSERT_TRUE(image.ok()) << image.status().message();
  ASSERT_EQ(image->width, 80);
  ASSERT_EQ(image->height, 120);
  // Turned 90 degrees clockwise: the red top-left corner is now top-right,
  // blue (bottom-left) is top-left, green (top-right) is bottom-right.
  ExpectNear(RgbAt(*image, 70, 10), {220, 40, 40}, 12, "red at top-right");
  ExpectNear(RgbAt(*image, 10, 10), {40, 40, 220}, 12, "blue at top-left");
  ExpectNear(RgbAt(*image, 70, 110), {40, 200, 40}, 12, "green at bottom-right");
  ExpectNear(RgbAt(*image, 10, 110), {230, 220, 30}, 12, "yellow at bottom-left");
}

TEST_F(ImageDecoderTest, AllEightOrientationsMatchTheExifMeaning) {
  TempDir dir;
  cv::Mat src = iv::test::DrawDotChart(90, 60, 3, 2);
  src(cv::Rect(0, 0, 16, 8)).setTo(cv::Scalar(0, 0, 255));  // asymmetric marker
  std::vector<uchar> bytes;
  cv::imencode(".jpg", src, bytes, {cv::IMWRITE_JPEG_QUALITY, 90});
  const std::string jpeg(bytes.begin(), bytes.end());
  WriteFile(dir.file("o1-plain.jpg"), jpeg);
  auto plain = DecodeImage(dir.file("o1-plain.jpg"), {});
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  const cv::Mat stored = ToBgr(*plain);

  for (int o = 1; o <= 8; ++o) {
    SCOPED_TRACE("orientation " + std::to_string(o));
    const std::string path = dir.file("o" + std::to_string(o) + ".jpg");
    WriteFile(path, WithExifOrientation(jpeg, o));
    cv::Mat want;
    switch (o) {
      case 1:
        want = stored.clone();
        break;
      case 2:
        cv::flip(stored, want, 1);
        break;
      case 3:
        cv::rotate(stored, want, cv::ROTATE_180);
        break;
      case 4:
        cv::flip(stored, want, 0);
        break;
      case 5:
        cv::transpose(stored, want);
        break;
      case 6:
        cv::rotate(stored, want, cv::ROTATE_90_CLOCKWISE);
        break;
      case 7:
        cv::transpose(stored, want);
        cv::rotate(want, want, cv::ROTATE_180);
        break;
      case 8:
        cv::rotate(stored, want, cv::ROTATE_90_COUNTERCLOCKWISE);
        break;
    }
    auto header = ReadImageHeader(path, {});
    ASSERT_TRUE(header.ok()) << header.status().message();
    EXPECT_EQ(header->width, want.cols);
    EXPECT_EQ(header->height, want.rows);
    auto image = DecodeImage(path, {});
    ASSERT_TRUE(image.ok()) << image.status().message();
    EXPECT_EQ(MeanAbsDiff(ToBgr(*image), want), 0.0);
  }
}

TEST_F(ImageDecoderTest, TargetWidthAppliesToTheOrientedImage) {
  TempDir dir;
  cv::Mat src = Quadrants(300, 200);
  std::vector<uchar> jpeg;
  cv::imencode(".jpg", src, jpeg, {cv::IMWRITE_JPEG_QUALITY, 95});
  WriteFile(dir.file("rot6.jpg"), WithExifOrientation(std::string(jpeg.begin(), jpeg.end()), 6));

  DecodeOptions options;
  options.target_width = 100;  // oriented size is 200x300
  auto image = DecodeImage(dir.file("rot6.jpg"), options);
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->width, 100);
  EXPECT_EQ(image->height, 150);
  ExpectNear(RgbAt(*image, 90, 10), {220, 40, 40}, 14, "red at top-right");
  ExpectNear(RgbAt(*image, 10, 10), {40, 40, 220}, 14, "blue at top-left");
}

// ---------------------------------------------------------------------------
// HEIF.

TEST_F(ImageDecoderTest, ReadsHeicAndAvif) {
  if (!HaveVipsCli()) GTEST_SKIP() << "the vips command-line tool is needed to write HEIF files";
  TempDir dir;
  cv::Mat src = Quadrants(128, 96);
  WriteImage(dir.file("src.png"), src);
  int tested = 0;
  std::string skipped;
  for (auto [name, compression] :
       std::array<std::pair<const char*, const char*>, 2>{{{"q.avif", "av1"}, {"q.heic", "hevc"}}}) {
    SCOPED_TRACE(name);
    auto made = iv::test::Run(
        {"vips", "heifsave", dir.file("src.png"), dir.file(name), "--compression", compression, "--Q", "90"});
    if (made.exit_code != 0) {
      skipped += std::string(" ") + name + " (" + made.err.substr(0, made.err.find('\n')) + ")";
      continue;
    }
    ++tested;
    // libheif/libvips warn about nclx colour profiles on stderr; the decoder
    // must keep that quiet.
    testing::internal::CaptureStderr();
    auto header = ReadImageHeader(dir.file(name), {});
    auto image = DecodeImage(dir.file(name), {});
    std::string err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(err, "");
    ASSERT_TRUE(header.ok()) << header.status().message();
    EXPECT_EQ(header->format, "heif");
    EXPECT_EQ(header->width, 128);
    EXPECT_EQ(header->height, 96);
    ASSERT_TRUE(image.ok()) << image.status().message();
    ASSERT_EQ(image->width, 128);
    ASSERT_EQ(image->height, 96);
    cv::Mat bgr = ToBgr(*image);
    for (auto [x, y] : std::array<std::pair<int, int>, 4>{{{32, 24}, {96, 24}, {32, 72}, {96, 72}}}) {
      ExpectNear(bgr.at<cv::Vec3b>(y, x), src.at<cv::Vec3b>(y, x), 12, "BGR at " + std::to_string(x));
    }
    DecodeOptions small;
    small.target_width = 64;
    auto shrunk = DecodeImage(dir.file(name), small);
    ASSERT_TRUE(shrunk.ok()) << shrunk.status().message();
    EXPECT_EQ(shrunk->width, 64);
    EXPECT_EQ(shrunk->height, 48);
  }
  if (tested == 0) GTEST_SKIP() << "libvips here cannot write HEIF:" << skipped;
  if (!skipped.empty()) std::cout << "[ NOTE ] not tested:" << skipped << "\n";
}

// ---------------------------------------------------------------------------
// Refusals.

TEST_F(ImageDecoderTest, TruncatedJpegIsRefused) {
  TempDir dir;
  cv::Mat chart = iv::test::DrawDotChart(400, 300, 4, 3);
  std::vector<uchar> bytes;
  cv::imencode(".jpg", chart, bytes, {cv::IMWRITE_JPEG_QUALITY, 90});
  const std::string full(bytes.begin(), bytes.end());
  const std::string path = dir.file("half.jpg");
  WriteFile(path, full.substr(0, full.size() / 2));

  auto image = DecodeImage(path, {});
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().code(), StatusCode::kUnsupportedMedia);
  EXPECT_EQ(image.status().message(), path + kDamagedTail);

  // Also with shrink-on-load.
  DecodeOptions small;
  small.target_width = 100;
  auto shrunk = DecodeImage(path, small);
  ASSERT_FALSE(shrunk.ok());
  EXPECT_EQ(shrunk.status().code(), StatusCode::kUnsupportedMedia);
  EXPECT_EQ(shrunk.status().message(), path + kDamagedTail);

  // Cut inside the header: refused already by ReadImageHeader.
  const std::string stub = dir.file("stub.jpg");
  WriteFile(stub, full.substr(0, 40));
  auto header = ReadImageHeader(stub, {});
  ASSERT_FALSE(header.ok());
  EXPECT_EQ(header.status().code(), StatusCode::kUnsupportedMedia);
  ExpectOneLine(header.status());
}

TEST_F(ImageDecoderTest, TruncatedAndCorruptPngIsRefused) {
  TempDir dir;
  cv::Mat chart = iv::test::DrawDotChart(300, 200, 4, 3);
  std::vector<uchar> bytes;
  cv::imencode(".png", chart, bytes);
  const std::string full(bytes.begin(), bytes.end());

  WriteFile(dir.file("half.png"), full.substr(0, full.size() / 2));
  auto half = DecodeImage(dir.file("half.png"), {});
  ASSERT_FALSE(half.ok());
  EXPECT_EQ(half.status().code(), StatusCode::kUnsupportedMedia);
  EXPECT_EQ(half.status().message(), dir.file("half.png") + kDamagedTail);

  std::string corrupt = full;
  for (size_t i = full.size() / 2; i < full.size() / 2 + 64; ++i) corrupt[i] = static_cast<char>(corrupt[i] ^ 0x5A);
  WriteFile(dir.file("corrupt.png"), corrupt);
  auto bad = DecodeImage(dir.file("corrupt.png"), {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kUnsupportedMedia);
  ExpectOneLine(bad.status());
}

TEST_F(ImageDecoderTest, TextFileNamedJpgIsRefused) {
  TempDir dir;
  const std::string path = dir.file("x.jpg");
  WriteFile(path, "this is not a picture\nreally not\n");
  auto header = ReadImageHeader(path, {});
  ASSERT_FALSE(header.ok());
  EXPECT_EQ(header.status().code(), StatusCode::kUnsupportedMedia);
  EXPECT_EQ(header.status().message(), path + kNotSupportedTail);
  auto image = DecodeImage(path, {});
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().message(), path + kNotSupportedTail);
}

TEST_F(ImageDecoderTest, OtherFormatsAreRefused) {
  TempDir dir;
  // A 1x1 GIF89a.
  const std::string gif(
      "GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,"
      "\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00;",
      43);
  const std::string svg =
      "<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\">"
      "<rect width=\"10\" height=\"10\" fill=\"red\"/></svg>";
  const std::string pdf =
      "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj "
      "3 0 obj<</Type/Page/MediaBox[0 0 10 10]/Parent 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";
  const std::string ppm = std::string("P6\n2 2\n255\n") + std::string(12, '\x80');
  WriteFile(dir.file("a.gif"), gif);
  WriteFile(dir.file("b.svg"), svg);
  WriteFile(dir.file("svg-named.png"), svg);
  WriteFile(dir.file("c.pdf"), pdf);
  WriteFile(dir.file("d.ppm"), ppm);
  WriteImage(dir.file("e.bmp"), iv::test::DrawDotChart(16, 16, 1, 1));
  WriteFile(dir.file("empty.jpg"), "");

  for (const char* name : {"a.gif", "b.svg", "svg-named.png", "c.pdf", "d.ppm", "e.bmp", "empty.jpg"}) {
    SCOPED_TRACE(name);
    const std::string path = dir.file(name);
    auto header = ReadImageHeader(path, {});
    ASSERT_FALSE(header.ok());
    EXPECT_EQ(header.status().code(), StatusCode::kUnsupportedMedia);
    EXPECT_EQ(header.status().message(), path + kNotSupportedTail);
    auto image = DecodeImage(path, {});
    ASSERT_FALSE(image.ok());
    EXPECT_EQ(image.status().code(), StatusCode::kUnsupportedMedia);
  }
}

TEST_F(ImageDecoderTest, MissingFileIsNotFound) {
  TempDir dir;
  const std::string path = dir.file("nope.jpg");
  auto header = ReadImageHeader(path, {});
  ASSERT_FALSE(header.ok());
  EXPECT_EQ(header.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(header.status().message(), path + ": no such file");
  auto image = DecodeImage(path, {});
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(image.status().message(), path + ": no such file");
  auto in_missing_dir = ReadImageHeader(dir.file("no-dir/x.png"), {});
  EXPECT_EQ(in_missing_dir.status().code(), StatusCode::kNotFound);
}

TEST_F(ImageDecoderTest, DirectoryIsRefused) {
  TempDir dir;
  auto header = ReadImageHeader(dir.path().string(), {});
  ASSERT_FALSE(header.ok());
  EXPECT_EQ(header.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(header.status().message(), dir.path().string() + ": is a directory, not an image file");
  auto image = DecodeImage(dir.path().string(), {});
  EXPECT_EQ(image.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ImageDecoderTest, ImageOverThePixelLimitIsTooLarge) {
  TempDir dir;
  const std::string path = dir.file("forty.png");
  WriteImage(path, iv::test::DrawDotChart(40, 40, 2, 2));
  DecodeLimits limits;
  limits.max_pixels = 1000;
  auto header = ReadImageHeader(path, limits);
  ASSERT_FALSE(header.ok());
  EXPECT_EQ(header.status().code(), StatusCode::kTooLarge);
  EXPECT_EQ(header.status().message(), path + ": 40x40 pixels is more than the limit of 1000 pixels");

  DecodeOptions options;
  options.limits = limits;
  options.target_width = 10;  // shrinking does not lift the limit
  auto image = DecodeImage(path, options);
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().code(), StatusCode::kTooLarge);

  limits.max_pixels = 1600;  // exactly at the limit is fine
  EXPECT_TRUE(ReadImageHeader(path, limits).ok());
}

TEST_F(ImageDecoderTest, PngBombIsRefusedWithoutAllocating) {
  TempDir dir;
  const std::string path = dir.file("bomb.png");
  iv::test::WritePngClaiming(path, 60000, 60000);
  ASSERT_LT(std::filesystem::file_size(path), 200u);

  const long rss_before = MaxRssMiB();
  const auto t0 = std::chrono::steady_clock::now();
  auto header = ReadImageHeader(path, {});
  auto image = DecodeImage(path, {});
  DecodeOptions small;
  small.target_width = 100;
  auto shrunk = DecodeImage(path, small);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  ASSERT_FALSE(header.ok());
  EXPECT_EQ(header.status().code(), StatusCode::kTooLarge);
  EXPECT_EQ(header.status().message(), path + ": 60000x60000 pixels is more than the limit of 100 megapixels");
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().code(), StatusCode::kTooLarge);
  ASSERT_FALSE(shrunk.ok());
  EXPECT_EQ(shrunk.status().code(), StatusCode::kTooLarge);
  EXPECT_LT(seconds, 2.0);
  // 60000x60000 RGB would be 10 GB; nothing close may have been touched.
  EXPECT_LT(MaxRssMiB() - rss_before, 64) << "peak RSS grew while refusing a decompression bomb";
}

TEST_F(ImageDecoderTest, ErrorMessagesAreOneLineAndNameTheFile) {
  TempDir dir;
  WriteFile(dir.file("t.jpg"), "nope\nnope\n");
  std::vector<uchar> bytes;
  cv::imencode(".jpg", iv::test::DrawDotChart(200, 200, 2, 2), bytes);
  WriteFile(dir.file("cut.jpg"), std::string(bytes.begin(), bytes.begin() + bytes.size() / 3));
  for (const char* name : {"t.jpg", "cut.jpg", "missing.png"}) {
    const std::string path = dir.file(name);
    auto image = DecodeImage(path, {});
    ASSERT_FALSE(image.ok()) << name;
    ExpectOneLine(image.status());
    EXPECT_EQ(image.status().message().rfind(path + ": ", 0), 0u) << image.status().message();
  }
}

// ---------------------------------------------------------------------------
// Shrinking.

TEST_F(ImageDecoderTest, TargetWidthShrinksKeepingAspectAndNeverEnlarges) {
  TempDir dir;
  cv::Mat chart = iv::test::DrawDotChart(400, 300, 4, 3);
  for (const char* name : {"c.jpg", "c.png", "c.webp", "c.tif"}) {
    SCOPED_TRACE(name);
    const std::string path = dir.file(name);
    WriteImage(path, chart);

    DecodeOptions options;
    options.target_width = 100;
    auto small = DecodeImage(path, options);
    ASSERT_TRUE(small.ok()) << small.status().message();
    EXPECT_EQ(small->width, 100);
    EXPECT_EQ(small->height, 75);
    cv::Mat want;
    cv::resize(chart, want, cv::Size(100, 75), 0, 0, cv::INTER_AREA);
    EXPECT_LT(MeanAbsDiff(ToBgr(*small), want), 4.0);

    options.target_width = 333;  // odd ratio: height rounds
    auto odd = DecodeImage(path, options);
    ASSERT_TRUE(odd.ok()) << odd.status().message();
    EXPECT_EQ(odd->width, 333);
    EXPECT_NEAR(odd->height, 250, 1);

    for (int target : {400, 800, 0}) {
      options.target_width = target;
      auto same = DecodeImage(path, options);
      ASSERT_TRUE(same.ok()) << same.status().message();
      EXPECT_EQ(same->width, 400) << "target " << target;
      EXPECT_EQ(same->height, 300) << "target " << target;
    }
  }
}

TEST_F(ImageDecoderTest, ShrinkingKeepsAlphaFlattening) {
  TempDir dir;
  cv::Mat bgra(100, 200, CV_8UC4, cv::Scalar(0, 0, 255, 255));
  bgra(cv::Rect(100, 0, 100, 100)).setTo(cv::Scalar(0, 0, 0, 0));
  WriteImage(dir.file("a.png"), bgra);
  DecodeOptions options;
  options.target_width = 50;
  auto image = DecodeImage(dir.file("a.png"), options);
  ASSERT_TRUE(image.ok()) << image.status().message();
  ASSERT_EQ(image->width, 50);
  ASSERT_EQ(image->height, 25);
  ExpectNear(RgbAt(*image, 10, 12), {255, 0, 0}, 2, "opaque red");
  ExpectNear(RgbAt(*image, 40, 12), {128, 128, 128}, 2, "transparent");
}

// ---------------------------------------------------------------------------
// Real photos (tests/data).

TEST_F(ImageDecoderTest, DecodesTheSamplePhotosQuietly) {
  const std::string rocket = iv::test::TestData("rocket.jpg");
  const std::string coffee = iv::test::TestData("coffee.png");

  // rocket.jpg has an EXIF resolution unit that libvips warns about.
  testing::internal::CaptureStderr();
  auto header = ReadImageHeader(rocket, {});
  auto image = DecodeImage(rocket, {});
  DecodeOptions half;
  half.target_width = 320;
  auto small = DecodeImage(rocket, half);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");

  ASSERT_TRUE(header.ok()) << header.status().message();
  EXPECT_EQ(header->width, 640);
  EXPECT_EQ(header->height, 427);
  EXPECT_EQ(header->format, "jpeg");
  ASSERT_TRUE(image.ok()) << image.status().message();
  ASSERT_EQ(image->width, 640);
  ASSERT_EQ(image->height, 427);
  // rocket.jpg is tagged Adobe RGB (1998): its numbers are not sRGB, and the
  // decoder must convert them (OpenCV ignores the profile).
  cv::Mat raw = cv::imread(rocket, cv::IMREAD_COLOR);
  ASSERT_FALSE(raw.empty());
  const double change = MeanAbsDiff(ToBgr(*image), raw);
  EXPECT_GT(change, 3.0) << "the embedded Adobe RGB profile was ignored";
  EXPECT_LT(change, 10.0);
  if (HaveVipsCli()) {
    TempDir dir;
    ASSERT_TRUE(Vips({"icc_transform", rocket, dir.file("ref.png"), "srgb", "--embedded"}));
    cv::Mat reference = cv::imread(dir.file("ref.png"), cv::IMREAD_COLOR);
    EXPECT_LT(MeanAbsDiff(ToBgr(*image), reference), 0.5);
  }
  ASSERT_TRUE(small.ok()) << small.status().message();
  EXPECT_EQ(small->width, 320);
  EXPECT_NEAR(small->height, 214, 1);
  // The shrink path converts colours the same way as the full-size path.
  cv::Mat full_small;
  cv::resize(ToBgr(*image), full_small, cv::Size(small->width, small->height), 0, 0, cv::INTER_AREA);
  EXPECT_LT(MeanAbsDiff(ToBgr(*small), full_small), 2.5);

  auto cup = DecodeImage(coffee, {});
  ASSERT_TRUE(cup.ok()) << cup.status().message();
  cv::Mat cup_want = cv::imread(coffee, cv::IMREAD_COLOR);
  ASSERT_FALSE(cup_want.empty());
  EXPECT_EQ(MeanAbsDiff(ToBgr(*cup), cup_want), 0.0);
}

TEST_F(ImageDecoderTest, DecodesConcurrently) {
  TempDir dir;
  std::vector<cv::Mat> charts;
  for (int i = 0; i < 4; ++i) {
    charts.push_back(iv::test::DrawDotChart(200 + 10 * i, 150, 3, 2));
    WriteImage(dir.file("p" + std::to_string(i) + ".png"), charts.back());
  }
  std::vector<double> errors(4, -1);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      double worst = 0;
      for (int k = 0; k < 5; ++k) {
        auto image = DecodeImage(dir.file("p" + std::to_string(i) + ".png"), {});
        if (!image.ok() || image->width != charts[i].cols) {
          worst = 1e9;
          break;
        }
        cv::Mat rgb(image->height, image->width, CV_8UC3, image->pixels.data()), bgr, diff;
        cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
        cv::absdiff(bgr, charts[i], diff);
        worst = std::max(worst, cv::norm(diff, cv::NORM_INF));
      }
      errors[i] = worst;
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(errors[i], 0.0) << "thread " << i;
}

// A 48-megapixel JPEG shrunk to 2880 px must stream through shrink-on-load
// rather than decode the full 144 MB frame (plus copies).
TEST_F(ImageDecoderTest, LargeJpegShrinksWithLittleMemory) {
  if (!HaveVipsCli()) GTEST_SKIP() << "the vips command-line tool is needed to write a 48 MP JPEG";
  TempDir dir;
  const std::string grey = dir.file("grey.jpg"), path = dir.file("big.jpg");
  ASSERT_TRUE(Vips({"sines", grey, "8000", "6000", "--hfreq", "50", "--vfreq", "30"}));
  ASSERT_TRUE(Vips({"colourspace", grey, path + "[Q=90]", "srgb"}));

  auto header = ReadImageHeader(path, {});
  ASSERT_TRUE(header.ok()) << header.status().message();
  ASSERT_EQ(header->width, 8000);
  ASSERT_EQ(header->height, 6000);

  DecodeOptions options;
  options.target_width = 2880;
  const long rss_before = MaxRssMiB();
  auto image = DecodeImage(path, options);
  const long rss_after = MaxRssMiB();
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->width, 2880);
  EXPECT_EQ(image->height, 2160);
  // The output alone is 18 MB; decoding the full frame would need 144 MB
  // more, which would lift the high-water mark by well over 120 MiB.
  EXPECT_LT(rss_after, 600) << "peak RSS " << rss_after << " MiB (before: " << rss_before << " MiB)";
  EXPECT_LT(rss_after, rss_before + 120) << "peak RSS " << rss_after << " MiB (before: " << rss_before << " MiB)";
  std::cout << "[ NOTE ] 48 MP JPEG -> 2880 px: peak RSS " << rss_after << " MiB (was " << rss_before
            << " MiB before)\n";
}

}  // namespace
}  // namespace iv::media

