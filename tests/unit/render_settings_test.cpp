#include "engine/render_settings.h"

#include <cmath>

#include <gtest/gtest.h>

#include "engine/easing.h"
#include "engine/settings_names.h"

namespace iv::engine {
namespace {

TEST(RenderSettings, DefaultsAreValid) { EXPECT_TRUE(Validate(RenderSettings{}).empty()); }

TEST(RenderSettings, OutOfRangeValuesNameTheirField) {
  RenderSettings s;
  s.duration_s = 25;
  s.fps = 5;
  s.intensity = 1.5;
  auto errors = Validate(s);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].field, "intensity");
  EXPECT_EQ(errors[1].field, "duration_s");
  EXPECT_NE(errors[1].message.find("between 1 and 20"), std::string::npos) << errors[1].message;
  EXPECT_EQ(errors[2].field, "fps");
}

TEST(RenderSettings, NaNIsRejected) {
  RenderSettings s;
  s.intensity = std::nan("");
  s.duration_s = std::nan("");
  EXPECT_EQ(Validate(s).size(), 2u);
}

TEST(RenderSettings, SizeLimits) {
  RenderSettings s;
  s.size = SizeSpec{0, 8000, 1000};
  EXPECT_EQ(Validate(s).at(0).field, "size");
  s.size = SizeSpec{2160, 0, 0};
  s.format = VideoFormat::kGif;
  EXPECT_EQ(Validate(s).at(0).field, "size");  // 4k GIF is refused
  s.format = VideoFormat::kMp4;
  EXPECT_TRUE(Validate(s).empty());
}

TEST(RenderSettings, FrameSizes) {
  RenderSettings s;
  auto size = [&](const char* spec, const char* aspect, int sw = 4000, int sh = 3000) {
    EXPECT_TRUE(ParseSize(spec, &s.size));
    EXPECT_TRUE(ParseAspect(aspect, &s.aspect));
    FrameSize f = ResolveFrameSize(s, sw, sh);
    return std::to_string(f.width) + "x" + std::to_string(f.height);
  };
  EXPECT_EQ(size("1080p", "16:9"), "1920x1080");
  EXPECT_EQ(size("720p", "16:9"), "1280x720");
  EXPECT_EQ(size("480p", "16:9"), "854x480");  // 853.3 rounded to even
  EXPECT_EQ(size("4k", "16:9"), "3840x2160");
  EXPECT_EQ(size("1080p", "9:16"), "1080x1920");
  EXPECT_EQ(size("1080p", "1:1"), "1080x1080");
  EXPECT_EQ(size("1080p", "4:5"), "1080x1350");
  EXPECT_EQ(size("1080p", "21:9"), "2520x1080");
  EXPECT_EQ(size("1080p", "source"), "1440x1080");
  EXPECT_EQ(size("4k", "21:9"), "4096x1756");  // long side capped, aspect kept
  EXPECT_EQ(size("1001x601", "16:9"), "1000x600");  // even for yuv420p
}

TEST(RenderSettings, FrameCount) {
  RenderSettings s;
  EXPECT_EQ(FrameCount(s), 150);
  s.duration_s = 2.5;
  s.fps = 24;
  EXPECT_EQ(FrameCount(s), 60);
}

TEST(SettingsNames, RoundTrip) {
  for (auto c : {CameraPreset::kStatic, CameraPreset::kZoomIn, CameraPreset::kZoomOut, CameraPreset::kPanLeft,
                 CameraPreset::kPanRight, CameraPreset::kPanUp, CameraPreset::kPanDown, CameraPreset::kKenBurns,
                 CameraPreset::kHandheld}) {
    CameraPreset back;
    ASSERT_TRUE(Parse(Name(c), &back)) << Name(c);
    EXPECT_EQ(back, c);
  }
  Easing e;
  EXPECT_TRUE(Parse("ease-in-out", &e));
  EXPECT_FALSE(Parse("ease-sideways", &e));
  EXPECT_EQ(CameraNames(), "static | zoom-in | zoom-out | pan-left | pan-right | pan-up | pan-down | ken-burns | handheld");
}

TEST(SettingsNames, SizesAndAspects) {
  SizeSpec size;
  EXPECT_TRUE(ParseSize("4k", &size));
  EXPECT_EQ(size.short_side, 2160);
  EXPECT_TRUE(ParseSize("640x360", &size));
  EXPECT_EQ(size.width, 640);
  EXPECT_EQ(SizeName(size), "640x360");
  EXPECT_FALSE(ParseSize("640x", &size));
  EXPECT_FALSE(ParseSize("-640x360", &size));
  EXPECT_FALSE(ParseSize("big", &size));
  AspectSpec aspect;
  EXPECT_TRUE(ParseAspect("source", &aspect));
  EXPECT_TRUE(aspect.from_source());
  EXPECT_FALSE(ParseAspect("16/9", &aspect));
  EXPECT_FALSE(ParseAspect("0:9", &aspect));
}

TEST(SettingsNames, FormatFromExtension) {
  VideoFormat f;
  EXPECT_TRUE(FormatFromPath("out/clip.MP4", &f));
  EXPECT_EQ(f, VideoFormat::kMp4);
  EXPECT_TRUE(FormatFromPath("a.gif", &f));
  EXPECT_EQ(f, VideoFormat::kGif);
  EXPECT_FALSE(FormatFromPath("a.avi", &f));
  EXPECT_FALSE(FormatFromPath("dir.v1/clip", &f));
}

TEST(Easing, EndpointsAndMonotonic) {
  for (auto easing : {Easing::kLinear, Easing::kEaseInOut, Easing::kEaseOut}) {
    EXPECT_DOUBLE_EQ(Ease(easing, 0.0), 0.0);
    EXPECT_DOUBLE_EQ(Ease(easing, 1.0), 1.0);
    double prev = 0;
    for (int i = 1; i <= 100; ++i) {
      double v = Ease(easing, i / 100.0);
      EXPECT_GE(v, prev);
      prev = v;
    }
  }
  EXPECT_NEAR(Ease(Easing::kEaseInOut, 0.5), 0.5, 1e-12);
  EXPECT_LT(Ease(Easing::kEaseInOut, 0.1), 0.1);  // starts slowly
  EXPECT_GT(Ease(Easing::kEaseOut, 0.1), 0.1);    // starts fast
}

}  // namespace
}  // namespace iv::engine
