// Encoding the engine's RGB images as files to serve: the sanitised working
// copy of an upload and video poster frames.
//
// Only pixels go in: the output carries no EXIF, GPS, XMP or IPTC metadata
// and no ICC profile (the pixels are sRGB, which is what a file without a
// profile means).
//
// Thread-safety: may be called from any thread.
#pragma once

#include <string>

#include "common/status.h"
#include "engine/image.h"

namespace iv::media {

struct JpegOptions {
  // 92 keeps re-encoding losses below what people notice on photos
  // (libvips' and ImageMagick's "high quality" range starts around 90).
  int quality = 92;
};

// The JPEG bytes of `image` (RGB). Errors: kInvalidArgument for an empty or
// non-RGB image, kInternal if libvips fails.
Result<std::string> EncodeJpeg(const engine::Image& image, const JpegOptions& options = {});

}  // namespace iv::media
