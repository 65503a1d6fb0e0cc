// Image decoding through libvips' C API.
//
// Safety model:
//  - The file is opened once and every libvips step reads that one open file
//    (a VipsSource on the descriptor), so the format that was checked is the
//    format that gets decoded, and a path containing "[...]" is never parsed
//    as libvips load options.
//  - The format is sniffed from content (vips_foreign_find_load_source); only
//    the JPEG, PNG, WebP, TIFF and HEIF loaders are accepted. InitMedia also
//    blocks every other loader process-wide, so nothing inside libvips (e.g.
//    vips_thumbnail) can fall back to another one.
//  - Dimensions are checked on the lazily opened header before any pixel is
//    requested.
//  - Pixels are produced by a sequential pipeline straight into the output
//    buffer (vips_sink_disc); EXIF orientation is applied while copying, so no
//    stage needs random access to the whole image.
#include "media/image_decoder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string_view>
#include <utility>

#include <vips/vips.h>

namespace iv::media {

namespace {

constexpr const char* kNotSupported = ": not a supported image (JPEG, PNG, WebP, TIFF, HEIC or AVIF)";
constexpr const char* kDamaged = ": the image data is damaged or truncated";

// Owns one GObject reference (VipsImage, VipsSource, ...).
template <typename T>
class Ref {
 public:
  Ref() = default;
  explicit Ref(T* p) : p_(p) {}
  ~Ref() { reset(); }
  Ref(const Ref&) = delete;
  Ref& operator=(const Ref&) = delete;
  Ref(Ref&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  Ref& operator=(Ref&& o) noexcept {
    if (this != &o) {
      reset();
      p_ = std::exchange(o.p_, nullptr);
    }
    return *this;
  }

  T* get() const { return p_; }
  explicit operator bool() const { return p_ != nullptr; }
  void reset() {
    if (p_) g_object_unref(p_);
    p_ = nullptr;
  }
  // For libvips' `T** out` parameters: drops the current reference first.
  T** out() {
    reset();
    return &p_;
  }

 private:
  T* p_ = nullptr;
};

using ImageRef = Ref<VipsImage>;
using SourceRef = Ref<VipsSource>;

// The first line of libvips' error buffer, then clears the buffer. The buffer
// is process-wide in libvips 8.14, so this is only ever used as a hint.
std::string TakeVipsError() {
  std::string text = vips_error_buffer();
  vips_error_clear();
  auto nl = text.find('\n');
  if (nl != std::string::npos) text.resize(nl);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\r' || text.back() == '\t')) text.pop_back();
  return text;
}

Status NotSupported(const std::string& path) { return Status::UnsupportedMedia(path + kNotSupported); }
Status Damaged(const std::string& path) { return Status::UnsupportedMedia(path + kDamaged); }

void IgnoreLog(const gchar*, GLogLevelFlags, const gchar*, gpointer) {}

// ---------------------------------------------------------------------------
// Initialisation.

Status g_init_status;  // written once inside call_once
std::once_flag g_init_once;

void InitOnce(const char* argv0) {
  if (VIPS_INIT(argv0 && *argv0 ? argv0 : "imagevideo") != 0) {
    std::string why = TakeVipsError();
    g_init_status = Status::Internal("cannot start libvips" + (why.empty() ? std::string() : ": " + why));
    return;
  }
  // libvips (and the libraries under it: libjpeg, libtiff, libheif) report
  // recoverable oddities such as "unknown EXIF resolution unit" as GLib
  // warnings in the "VIPS" domain, printed on stderr. Real failures reach us
  // as return codes, so the warnings are dropped.
  g_log_set_handler(
      "VIPS",
      static_cast<GLogLevelFlags>(G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG),
      IgnoreLog, nullptr);
  vips_block_untrusted_set(TRUE);
  // Only the five accepted loader families stay usable. Blocking happens per
  // class and below, so block the base class first, then re-open ours.
  vips_operation_block_set("VipsForeignLoad", TRUE);
  for (const char* name : {"VipsForeignLoadJpeg", "VipsForeignLoadPng", "VipsForeignLoadWebp", "VipsForeignLoadTiff",
                           "VipsForeignLoadHeif"}) {
    vips_operation_block_set(name, FALSE);
  }
  // Each decode is of a new, untrusted file: caching operations only costs
  // memory and keeps files open.
  vips_cache_set_max(0);
}

// ---------------------------------------------------------------------------
// Opening and sniffing.

enum class Format { kJpeg, kPng, kWebp, kTiff, kHeif };

const char* FormatName(Format f) {
  switch (f) {
    case Format::kJpeg:
      return "jpeg";
    case Format::kPng:
      return "png";
    case Format::kWebp:
      return "webp";
    case Format::kTiff:
      return "tiff";
    case Format::kHeif:
      return "heif";
  }
  return "";
}

// Opens `path` read-only and wraps it in a VipsSource.
Result<SourceRef> OpenSource(const std::string& path) {
  if (path.empty()) return Status::InvalidArgument("no input file given");
  // O_NONBLOCK: opening a FIFO must not hang; it is refused below.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    int err = errno;
    switch (err) {
      case ENOENT:
      case ENOTDIR:
        return Status::NotFound(path + ": no such file");
      case EACCES:
      case EPERM:
        return Status::PermissionDenied(path + ": permission denied");
      default:
        return Status::InvalidArgument(path + ": cannot open: " + std::strerror(err));
    }
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return Status::InvalidArgument(path + ": cannot open: " + std::strerror(err));
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument(path + ": is a directory, not an image file");
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument(path + ": is not a regular file");
  }
  if (st.st_size == 0) {
    ::close(fd);
    return NotSupported(path);
  }
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);

  // The source takes its own duplicate of the descriptor.
  SourceRef source(vips_source_new_from_descriptor(fd));
  ::close(fd);
  if (!source) return Status::Internal(path + ": cannot read the file: " + TakeVipsError());
  return source;
}

Result<Format> Sniff(VipsSource* source, const std::string& path) {
  const char* loader = vips_foreign_find_load_source(source);
  if (!loader) {
    vips_error_clear();  // "not a known format" and similar
    return NotSupported(path);
  }
  std::string_view name(loader);
  if (name == "VipsForeignLoadJpegSource") return Format::kJpeg;
  if (name == "VipsForeignLoadPngSource") return Format::kPng;
  if (name == "VipsForeignLoadWebpSource") return Format::kWebp;
  if (name == "VipsForeignLoadTiffSource") return Format::kTiff;
  if (name == "VipsForeignLoadHeifSource") return Format::kHeif;
  return NotSupported(path);
}

// Opens the image lazily: only the header is read until pixels are requested.
Result<ImageRef> OpenImage(VipsSource* source, Format format, const std::string& path) {
  ImageRef image;
  const VipsAccess access = VIPS_ACCESS_SEQUENTIAL;
  const VipsFailOn fail_on = VIPS_FAIL_ON_ERROR;
  int rc = -1;
  switch (format) {
    case Format::kJpeg:
      rc = vips_jpegload_source(source, image.out(), "access", access, "fail_on", fail_on, nullptr);
      break;
    case Format::kPng:
      rc = vips_pngload_source(source, image.out(), "access", access, "fail_on", fail_on, nullptr);
      break;
    case Format::kWebp:
      rc = vips_webpload_source(source, image.out(), "access", access, "fail_on", fail_on, nullptr);
      break;
    case Format::kTiff:
      rc = vips_tiffload_source(source, image.out(), "access", access, "fail_on", fail_on, nullptr);
      break;
    case Format::kHeif:
      rc = vips_heifload_source(source, image.out(), "access", access, "fail_on", fail_on, nullptr);
      break;
  }
  if (rc != 0 || !image) {
    vips_error_clear();
    return Damaged(path);
  }
  return image;
}

std::string FormatPixelLimit(std::int64_t max_pixels) {
  char buf[64];
  if (max_pixels >= 1'000'000 && max_pixels % 1'000'000 == 0) {
    std::snprintf(buf, sizeof buf, "%" PRId64 " megapixels", max_pixels / 1'000'000);
  } else if (max_pixels >= 1'000'000) {
    std::snprintf(buf, sizeof buf, "%.1f megapixels", static_cast<double>(max_pixels) / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%" PRId64 " pixels", max_pixels);
  }
  return buf;
}

struct Opened {
  SourceRef source;
  ImageRef image;  // lazily loaded, header read
  Format format = Format::kJpeg;
  int orientation = 1;  // EXIF orientation, 1..8
  int width = 0;        // oriented
  int height = 0;       // oriented
};

// Opens, sniffs, reads the header and checks the limits.
Result<Opened> OpenChecked(const std::string& path, const DecodeLimits& limits) {
  IV_RETURN_IF_ERROR(InitMedia(nullptr));
  Opened o;
  IV_ASSIGN_OR_RETURN(o.source, OpenSource(path));
  IV_ASSIGN_OR_RETURN(o.format, Sniff(o.source.get(), path));
  IV_ASSIGN_OR_RETURN(o.image, OpenImage(o.source.get(), o.format, path));

  const int w = vips_image_get_width(o.image.get());
  const int h = vips_image_get_height(o.image.get());
  if (w <= 0 || h <= 0) return Damaged(path);
  o.orientation = vips_image_get_orientation(o.image.get());
  if (o.orientation < 1 || o.orientation > 8) o.orientation = 1;
  const bool swap = o.orientation >= 5;
  o.width = swap ? h : w;
  o.height = swap ? w : h;

  const std::int64_t pixels = static_cast<std::int64_t>(w) * h;
  if (limits.max_pixels > 0 && pixels > limits.max_pixels) {
    return Status::TooLarge(path + ": " + std::to_string(o.width) + "x" + std::to_string(o.height) +
                            " pixels is more than the limit of " + FormatPixelLimit(limits.max_pixels));
  }
  return o;
}

// ---------------------------------------------------------------------------
// Colour conversion to 8-bit, 3-band sRGB with alpha flattened onto grey.

double MaxAlpha(const VipsImage* image) {
  VipsBandFormat fmt = image->BandFmt;
  if (fmt == VIPS_FORMAT_USHORT) return 65535.0;
  if (fmt == VIPS_FORMAT_FLOAT || fmt == VIPS_FORMAT_DOUBLE) {
    return image->Type == VIPS_INTERPRETATION_scRGB ? 1.0 : 255.0;
  }
  return 255.0;
}

// Colour bands (no alpha) in any interpretation -> 3-band uchar sRGB.
// Returns false with the libvips error left in the buffer on failure.
bool ColourToSrgb8(VipsImage* in, ImageRef* out) {
  ImageRef cur(in);
  g_object_ref(in);

  // Fix interpretations that do not match the pixel layout, so that
  // vips_colourspace knows where it starts from.
  VipsInterpretation guessed = vips_image_guess_interpretation(cur.get());
  if (cur.get()->BandFmt == VIPS_FORMAT_USHORT) {
    // 16-bit data tagged as 8-bit sRGB or grey would be clipped, not scaled.
    if (guessed == VIPS_INTERPRETATION_sRGB) guessed = VIPS_INTERPRETATION_RGB16;
    if (guessed == VIPS_INTERPRETATION_B_W) guessed = VIPS_INTERPRETATION_GREY16;
  }
  if (guessed != cur.get()->Type) {
    ImageRef next;
    if (vips_copy(cur.get(), next.out(), "interpretation", guessed, nullptr)) return false;
    cur = std::move(next);
  }

  bool done = false;
  if (vips_image_get_typeof(cur.get(), VIPS_META_ICC_NAME)) {
    // An embedded profile describes the colours best. A broken or mismatched
    // profile is not fatal: fall back to the generic conversion below.
    ImageRef next;
    if (vips_icc_transform(cur.get(), next.out(), "srgb", "embedded", TRUE, "intent", VIPS_INTENT_RELATIVE, "depth", 8,
                           nullptr) == 0) {
      cur = std::move(next);
      done = true;
    } else {
      vips_error_clear();
    }
  }
  if (!done && cur.get()->Type != VIPS_INTERPRETATION_sRGB) {
    // CMYK without a profile goes through libvips' built-in CMYK profile;
    // grey, 16-bit and Lab inputs through its colour-space graph.
    ImageRef next;
    if (vips_colourspace(cur.get(), next.out(), VIPS_INTERPRETATION_sRGB, nullptr)) return false;
    cur = std::move(next);
  }
  if (cur.get()->BandFmt != VIPS_FORMAT_UCHAR) {
    ImageRef next;
    if (vips_cast(cur.get(), next.out(), VIPS_FORMAT_UCHAR, nullptr)) return false;
    cur = std::move(next);
  }
  const int bands = vips_image_get_bands(cur.get());
  if (bands == 1) {
    VipsImage* three[3] = {cur.get(), cur.get(), cur.get()};
    ImageRef next;
    if (vips_bandjoin(three, next.out(), 3, nullptr)) return false;
    cur = std::move(next);
  } else if (bands > 3) {
    ImageRef next;
    if (vips_extract_band(cur.get(), next.out(), 0, "n", 3, nullptr)) return false;
    cur = std::move(next);
  } else if (bands == 2) {
    ImageRef first;
    if (vips_extract_band(cur.get(), first.out(), 0, nullptr)) return false;
    VipsImage* three[3] = {first.get(), first.get(), first.get()};
    ImageRef next;
    if (vips_bandjoin(three, next.out(), 3, nullptr)) return false;
    cur = std::move(next);
  }
  *out = std::move(cur);
  return true;
}

// Any decoded image -> 3-band uchar sRGB, alpha flattened onto 128 grey.
bool ToSrgb8(VipsImage* in, ImageRef* out) {
  if (in->Coding != VIPS_CODING_NONE) {
    // Packed Lab (LABQ) or Radiance: let libvips unpack it.
    ImageRef decoded;
    if (vips_colourspace(in, decoded.out(), VIPS_INTERPRETATION_sRGB, nullptr)) return false;
    return ToSrgb8(decoded.get(), out);
  }
  const int bands = vips_image_get_bands(in);
  if (!vips_image_hasalpha(in) || bands < 2) return ColourToSrgb8(in, out);

  // The alpha band is handled apart from the colour bands: colour conversions
  // would otherwise cast (not scale) a 16-bit alpha down to 8 bits.
  ImageRef colour, alpha;
  if (vips_extract_band(in, colour.out(), 0, "n", bands - 1, nullptr)) return false;
  if (vips_extract_band(in, alpha.out(), bands - 1, nullptr)) return false;
  ImageRef rgb;
  if (!ColourToSrgb8(colour.get(), &rgb)) return false;

  const double max_alpha = MaxAlpha(in);
  ImageRef alpha8;
  if (alpha.get()->BandFmt == VIPS_FORMAT_UCHAR) {
    alpha8 = std::move(alpha);
  } else {
    ImageRef scaled;
    // +0.5 so that the cast (which truncates) rounds.
    if (vips_linear1(alpha.get(), scaled.out(), 255.0 / max_alpha, 0.5, nullptr)) return false;
    if (vips_cast(scaled.get(), alpha8.out(), VIPS_FORMAT_UCHAR, nullptr)) return false;
  }
  ImageRef rgba;
  if (vips_bandjoin2(rgb.get(), alpha8.get(), rgba.out(), nullptr)) return false;

  VipsArrayDouble* background = vips_array_double_newv(3, 128.0, 128.0, 128.0);
  ImageRef flat;
  int rc = vips_flatten(rgba.get(), flat.out(), "background", background, "max_alpha", 255.0, nullptr);
  vips_area_unref(VIPS_AREA(background));
  if (rc) return false;
  if (flat.get()->BandFmt != VIPS_FORMAT_UCHAR) {
    ImageRef next;
    if (vips_cast(flat.get(), next.out(), VIPS_FORMAT_UCHAR, nullptr)) return false;
    flat = std::move(next);
  }
  *out = std::move(flat);
  return true;
}

// ---------------------------------------------------------------------------
// Writing pixels into engine::Image with the EXIF orientation applied.

struct SinkTarget {
  engine::Image* out;
  int orientation;
  int src_w;
  int src_h;
};

// Where stored pixel (x, y) of a src_w x src_h image lands after `orientation`.
inline void Orient(int orientation, int x, int y, int w, int h, int* ox, int* oy) {
  switch (orientation) {
    case 2:  // mirror horizontally
      *ox = w - 1 - x, *oy = y;
      break;
    case 3:  // rotate 180
      *ox = w - 1 - x, *oy = h - 1 - y;
      break;
    case 4:  // mirror vertically
      *ox = x, *oy = h - 1 - y;
      break;
    case 5:  // transpose
      *ox = y, *oy = x;
      break;
    case 6:  // rotate 90 clockwise
      *ox = h - 1 - y, *oy = x;
      break;
    case 7:  // transverse
      *ox = h - 1 - y, *oy = w - 1 - x;
      break;
    case 8:  // rotate 90 counter-clockwise
      *ox = y, *oy = w - 1 - x;
      break;
    default:
      *ox = x, *oy = y;
      break;
  }
}

int WriteArea(VipsRegion* region, VipsRect* area, void* a) {
  auto* t = static_cast<SinkTarget*>(a);
  engine::Image& out = *t->out;
  const std::size_t row_bytes = static_cast<std::size_t>(area->width) * 3;
  for (int y = area->top; y < area->top + area->height; ++y) {
    const auto* src = reinterpret_cast<const std::uint8_t*>(VIPS_REGION_ADDR(region, area->left, y));
    if (t->orientation == 1) {
      std::memcpy(out.row(y) + static_cast<std::size_t>(area->left) * 3, src, row_bytes);
      continue;
    }
    for (int x = area->left; x < area->left + area->width; ++x, src += 3) {
      int ox, oy;
      Orient(t->orientation, x, y, t->src_w, t->src_h, &ox, &oy);
      std::uint8_t* dst = out.row(oy) + static_cast<std::size_t>(ox) * 3;
      dst[0] = src[0];
      dst[1] = src[1];
      dst[2] = src[2];
    }
  }
  return 0;
}

}  // namespace

Status InitMedia(const char* argv0) {
  std::call_once(g_init_once, InitOnce, argv0);
  return g_init_status;
}

Result<ImageHeader> ReadImageHeader(const std::string& path, const DecodeLimits& limits) {
  IV_ASSIGN_OR_RETURN(Opened o, OpenChecked(path, limits));
  ImageHeader header;
  header.width = o.width;
  header.height = o.height;
  header.format = FormatName(o.format);
  return header;
}

Result<engine::Image> DecodeImage(const std::string& path, const DecodeOptions& options) {
  IV_ASSIGN_OR_RETURN(Opened o, OpenChecked(path, options.limits));
  const bool swap = o.orientation >= 5;

  ImageRef decoded;
  if (options.target_width > 0 && options.target_width < o.width) {
    // Shrink while decoding (JPEG shrink-on-load, WebP/HEIF/TIFF equivalents,
    // then a high-quality reduce). Rotation stays ours, so the box is given
    // in stored orientation: the oriented width is the stored height when
    // the orientation swaps the axes.
    o.image.reset();  // release the header loader before re-reading the source
    const int box_w = swap ? VIPS_MAX_COORD : options.target_width;
    const int box_h = swap ? options.target_width : VIPS_MAX_COORD;
    // libvips 8.14's thumbnail_source does not hand its own "fail_on" to the
    // loader (a truncated JPEG would come back half grey), so it is also
    // given as a loader option string.
    if (vips_thumbnail_source(o.source.get(), decoded.out(), box_w, "height", box_h, "size", VIPS_SIZE_DOWN,
                              "no_rotate", TRUE, "fail_on", VIPS_FAIL_ON_ERROR, "option_string", "fail_on=error",
                              nullptr)) {
      vips_error_clear();
      return Damaged(path);
    }
  } else {
    decoded = std::move(o.image);
  }

  ImageRef srgb;
  if (!ToSrgb8(decoded.get(), &srgb)) {
    std::string why = TakeVipsError();
    return Status::UnsupportedMedia(path + ": cannot convert its colours to sRGB" +
                                    (why.empty() ? "" : " (" + why + ")"));
  }
  decoded.reset();

  const int w = vips_image_get_width(srgb.get());
  const int h = vips_image_get_height(srgb.get());
  if (vips_image_get_bands(srgb.get()) != 3 || srgb.get()->BandFmt != VIPS_FORMAT_UCHAR) {
    return Status::Internal(path + ": colour conversion did not give 8-bit RGB");
  }
  engine::Image out(swap ? h : w, swap ? w : h, 3);
  SinkTarget target{&out, o.orientation, w, h};
  if (vips_sink_disc(srgb.get(), WriteArea, &target) != 0) {
    // Pixel generation failing means the loader hit damaged or missing data
    // (fail_on=error turns truncation and decoder errors into failures).
    vips_error_clear();
    return Damaged(path);
  }
  return out;
}

}  // namespace iv::media
