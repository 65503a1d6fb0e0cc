// EncodeJpeg: what uploads and posters are served as.
#include "media/image_encoder.h"

#include <cmath>
#include <fstream>

#include <gtest/gtest.h>

#include "media/image_decoder.h"
#include "support/test_support.h"

TEST(ImageEncoderTest, JpegRoundTripsWithoutMetadata) {
  iv::test::TempDir dir;
  // rocket.jpg carries EXIF and an Adobe RGB profile; re-encoded pixels
  // carry neither and decode to the same picture.
  std::string src = iv::test::TestData("rocket.jpg");
  std::ifstream in(src, std::ios::binary);
  std::string original(std::istreambuf_iterator<char>(in), {});
  ASSERT_NE(original.find("Exif"), std::string::npos);
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
