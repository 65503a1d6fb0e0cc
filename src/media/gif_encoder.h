// Private to iv_media: the GIF implementation behind VideoEncoder::Open()
// (see video_encoder.h for the contract and gif_encoder.cpp for how).
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "media/video_encoder.h"

namespace iv::media::internal {

// Precondition: `options` passed VideoEncoder::Open()'s validation and
// options.format is kGif.
Result<std::unique_ptr<VideoEncoder>> OpenGifEncoder(const std::string& path, const EncoderOptions& options);

}  // namespace iv::media::internal
