// Decoding untrusted image files into the engine's Image, through libvips.
//
// Only JPEG, PNG, WebP, TIFF and HEIF (HEIC/AVIF) are read; the format is
// found by content, never by file name. Dimensions are checked against the
// limits from the header, before any pixel is decoded, so a small file that
// claims 60000x60000 pixels is refused without allocating for it.
//
// Thread-safety: all functions may be called from any thread concurrently.
// InitMedia() runs on first use; calling it early reports a broken libvips
// installation before any work starts.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "engine/image.h"

namespace iv::media {

// Starts libvips (idempotent) and applies process-wide safety settings
// (untrusted loaders blocked, operation cache off).
Status InitMedia(const char* argv0);

struct DecodeLimits {
  // Largest accepted image, in pixels (width x height as stored in the file).
  std::int64_t max_pixels = 100'000'000;
};

struct ImageHeader {
  int width = 0;   // after EXIF orientation is applied
  int height = 0;  // after EXIF orientation is applied
  std::string format;  // "jpeg", "png", "webp", "tiff", "heif" (HEIC and AVIF)
};

// Reads only the header of `path`.
// Errors: kNotFound (no such file), kInvalidArgument (a directory or other
// non-regular file), kPermissionDenied (unreadable), kUnsupportedMedia (not
// an image of an accepted format, including text files and truncated
// headers), kTooLarge (over limits.max_pixels). Messages are one line and name
// the file. Pixel data is not read, so a file cut off after its header passes
// here and is refused by DecodeImage.
Result<ImageHeader> ReadImageHeader(const std::string& path, const DecodeLimits& limits);

struct DecodeOptions {
  DecodeLimits limits;
  // When > 0 and smaller than the oriented width, the image is shrunk while
  // decoding (JPEG shrink-on-load, then a high-quality reduce) to this width;
  // the height keeps the aspect ratio. Never enlarges.
  int target_width = 0;
};

// Decodes `path` fully: EXIF orientation applied, any colour space (grey,
// CMYK, 16-bit, ICC-tagged) converted to 8-bit sRGB, alpha flattened onto a
// neutral grey (128,128,128). Returns a 3-channel RGB Image.
// Errors: as ReadImageHeader, plus kUnsupportedMedia for truncated or corrupt
// pixel data (a damaged file is refused, never rendered half-grey).
Result<engine::Image> DecodeImage(const std::string& path, const DecodeOptions& options);

}  // namespace iv::media
