// EncodeJpeg: what uploads and posters are served as.
#include "media/image_encoder.h"

#include <cmath>
#include <fstream>

#include <gtest/gtest.h>

#include "media/image_decoder.h"
#include "support/test_support.h"

TEST(ImageEncoderTest, JpegRoundTripsWithoutMetadata) {
  iv::test::TempDir dir;
  // rocket.jpg carries an Adobe RGB profile; add EXIF and XMP blocks (with a
  // GPS marker) right after its start-of-image marker. Re-encoded pixels
  // carry none of them and decode to the same picture.
  std::ifstream in(iv::test::TestData("rocket.jpg"), std::ios::binary);
  std::string original(std::istreambuf_iterator<char>(in), {});
  auto app1 = [](const std::string& payload) {
    size_t n = payload.size() + 2;
    return std::string("\xFF\xE1", 2) + static_cast<char>(n >> 8) + static_cast<char>(n & 0xFF) + payload;
  };
  std::string exif = std::string("Exif\0\0II*\0\x08\0\0\0\0\0\0\0\0\0", 20);
  std::string xmp = std::string("http://ns.adobe.com/xap/1.0/\0", 29) +
                    "<x:xmpmeta><exif:GPSLatitude>51,30.0N</exif:GPSLatitude></x:xmpmeta>";
  original.insert(2, app1(exif) + app1(xmp));
  std::string src = dir.file("tagged.jpg");
  std::ofstream(src, std::ios::binary) << original;
  ASSERT_NE(original.find("ICC_PROFILE"), std::string::npos);
  auto decoded = iv::media::DecodeImage(src, {});
  ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  auto jpeg = iv::media::EncodeJpeg(*decoded);
  ASSERT_TRUE(jpeg.ok()) << jpeg.status().message();
  const std::string& bytes = *jpeg;
  ASSERT_GT(bytes.size(), 100u);
  EXPECT_EQ(static_cast<unsigned char>(bytes[0]), 0xFF);
  EXPECT_EQ(static_cast<unsigned char>(bytes[1]), 0xD8);
  EXPECT_EQ(bytes.find("Exif"), std::string::npos);
  EXPECT_EQ(bytes.find("GPS"), std::string::npos);
  EXPECT_EQ(bytes.find("http://ns.adobe.com/xap"), std::string::npos);
  EXPECT_EQ(bytes.find("ICC_PROFILE"), std::string::npos);
  std::string out = dir.file("out.jpg");
  std::ofstream(out, std::ios::binary) << bytes;
  auto again = iv::media::DecodeImage(out, {});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->width, decoded->width);
  EXPECT_EQ(again->height, decoded->height);
  double err = 0;
  for (size_t i = 0; i < again->pixels.size(); ++i) err += std::abs(again->pixels[i] - decoded->pixels[i]);
  EXPECT_LT(err / again->pixels.size(), 2.0);
}

TEST(ImageEncoderTest, RefusesAnEmptyImage) {
  EXPECT_EQ(iv::media::EncodeJpeg(iv::engine::Image()).status().code(), iv::StatusCode::kInvalidArgument);
}
