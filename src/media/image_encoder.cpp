#include "media/image_encoder.h"

#include <vips/vips.h>

#include "media/image_decoder.h"

namespace iv::media {

Result<std::string> EncodeJpeg(const engine::Image& image, const JpegOptions& options) {
  if (image.empty() || image.channels != 3 || image.pixels.size() != image.stride() * image.height) {
    return Status::InvalidArgument("cannot encode an empty or non-RGB image");
  }
  IV_RETURN_IF_ERROR(InitMedia(nullptr));
  VipsImage* in = vips_image_new_from_memory(image.pixels.data(), image.pixels.size(), image.width, image.height, 3,
                                             VIPS_FORMAT_UCHAR);
  if (!in) {
    vips_error_clear();
    return Status::Internal("cannot wrap the image for JPEG encoding");
  }
  void* buf = nullptr;
  size_t len = 0;
  // "strip" drops every metadata block; no profile is attached.
  int rc = vips_jpegsave_buffer(in, &buf, &len, "Q", options.quality, "strip", TRUE, "optimize_coding", TRUE,
                                "subsample_mode", VIPS_FOREIGN_SUBSAMPLE_OFF, nullptr);
  g_object_unref(in);
  if (rc != 0) {
    vips_error_clear();
    return Status::Internal("JPEG encoding failed");
  }
  std::string bytes(static_cast<const char*>(buf), len);
  g_free(buf);
  return bytes;
}

}  // namespace iv::media
