// Names of the RenderSettings enums as they appear on the command line, in
// JSON and in the docs ("zoom-in", "ease-in-out", "1080p", "16:9").
// Parsing returns false on an unknown name; the caller reports the error with
// the list of accepted names from the *Names() functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/render_settings.h"

namespace iv::engine {

std::string_view Name(CameraPreset v);
std::string_view Name(Easing v);
std::string_view Name(Fit v);
std::string_view Name(VideoFormat v);
std::string_view Name(Quality v);

bool Parse(std::string_view s, CameraPreset* out);
bool Parse(std::string_view s, Easing* out);
bool Parse(std::string_view s, Fit* out);
bool Parse(std::string_view s, VideoFormat* out);
bool Parse(std::string_view s, Quality* out);
// "480p", "720p", "1080p", "4k", or "WxH" (e.g. "1280x720").
bool ParseSize(std::string_view s, SizeSpec* out);
// "16:9", "9:16", "1:1", "4:5", "21:9", "source", or any "N:M".
bool ParseAspect(std::string_view s, AspectSpec* out);
std::string SizeName(const SizeSpec& v);
std::string AspectName(const AspectSpec& v);

// Accepted names, for error messages and help texts: "a | b | c".
std::string CameraNames();
std::string EasingNames();
std::string FitNames();
std::string FormatNames();
std::string QualityNames();

// The format a file name implies by its extension (".mp4", ".webm", ".gif",
// case-insensitive); false when the extension says nothing we know.
bool FormatFromPath(std::string_view path, VideoFormat* out);

}  // namespace iv::engine
