// Image codecs: JPEG through libjpeg-turbo's TurboJPEG API, PNG through libpng. Only the
// version-stable parts of both libraries are used (TurboJPEG 2.x API, which 3.x still ships;
// libpng 1.6), and only at::empty / permute / contiguous from libtorch, so this file builds
// against Debian's libtorch 1.13 and any CUDA libtorch 2.x alike.
//
// Decoders return uint8 tensors [H,W,C] (or [C,H,W]); 16-bit PNG samples come back as int32
// (torch 1.13 has no uint16). Encoders take contiguous-able CPU tensors [H,W,C] and return the
// file's bytes as a 1-d uint8 tensor. Errors name the cause (truncated, corrupt, unsupported);
// the caller adds the file path.
#include "rn_common.h"

#ifdef RN_WITHOUT_CODECS
// Built where libjpeg-turbo or libpng (headers) were missing: every codec call reports that.
namespace {
[[noreturn]] void no_codecs() {
  throw std::runtime_error(
      "this libreproduce_native.so was built without JPEG/PNG codecs; install libturbojpeg0-dev and libpng-dev "
      "and rebuild it (dotnet fsi build.fsx native)");
}
}  // namespace
RN_API int32_t rn_built_with_codecs() { return 0; }
RN_API int32_t rn_image_info(const uint8_t*, int64_t, int32_t*, int32_t*, int32_t*, int32_t*, int32_t*) { RN_GUARD(no_codecs()) }
RN_API int32_t rn_jpeg_decode(const uint8_t*, int64_t, int32_t, int32_t, int32_t, int32_t, int32_t, void**) { RN_GUARD(no_codecs()) }
RN_API int32_t rn_jpeg_encode(void*, int32_t, int32_t, void**) { RN_GUARD(no_codecs()) }
RN_API int32_t rn_png_decode(const uint8_t*, int64_t, int32_t, int32_t, void**) { RN_GUARD(no_codecs()) }
RN_API int32_t rn_png_encode(void*, int32_t, void**) { RN_GUARD(no_codecs()) }
#else
#include <png.h>
#include <turbojpeg.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <vector>

namespace {

constexpr int32_t kFormatJpeg = 1;
constexpr int32_t kFormatPng = 2;
constexpr int64_t kMaxSide = 65535;  // JPEG's own limit; also bounds PNG allocations

bool is_jpeg(const uint8_t* d, int64_t n) { return n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF; }
bool is_png(const uint8_t* d, int64_t n) { return n >= 8 && png_sig_cmp(d, 0, 8) == 0; }
// A complete JPEG ends with the EOI marker FF D9 (trailing zero padding tolerated); used to tell a
// truncated file from a corrupt one when libjpeg fails.
bool has_jpeg_eoi(const uint8_t* d, int64_t n) {
  while (n > 2 && d[n - 1] == 0) --n;
  return n >= 4 && d[n - 2] == 0xFF && d[n - 1] == 0xD9;
}

void check_data(const uint8_t* data, int64_t n) {
  if (data == nullptr || n <= 0) throw std::invalid_argument("empty image data (0 bytes)");
}

at::Tensor to_layout(at::Tensor hwc, int32_t chw) {
  return chw ? hwc.permute({2, 0, 1}).contiguous() : hwc;
}

// The CPU, contiguous [H,W,C] form of an image tensor to encode, with its checks.
at::Tensor encode_input(void* image, const char* codec) {
  auto t = rn::T(image).detach();
  if (t.dim() != 3)
    throw std::invalid_argument(std::string(codec) + " encode: expected an [H,W,C] image, got shape " +
                                c10::str(t.sizes()));
  if (t.size(0) < 1 || t.size(1) < 1 || t.size(0) > kMaxSide || t.size(1) > kMaxSide)
    throw std::invalid_argument(std::string(codec) + " encode: image size " + c10::str(t.sizes()) +
                                " is outside 1..65535 per side");
  if (!t.device().is_cpu()) t = t.to(c10::Device(c10::DeviceType::CPU));
  return t.contiguous();
}

at::Tensor bytes_tensor(const uint8_t* p, size_t n) {
  auto out = at::empty({static_cast<int64_t>(n)}, at::TensorOptions().dtype(at::kByte));
  if (n > 0) std::memcpy(out.data_ptr<uint8_t>(), p, n);
  return out;
}

// ---- JPEG ---------------------------------------------------------------------------------------

// One TurboJPEG handle per thread and direction (handles are not thread-safe; creating one per
// call costs more than the header parse of a small image).
struct TjHandles {
  tjhandle dec = nullptr;
  tjhandle enc = nullptr;
  ~TjHandles() {
    if (dec) tjDestroy(dec);
    if (enc) tjDestroy(enc);
  }
};
thread_local TjHandles g_tj;

tjhandle decoder() {
  if (!g_tj.dec && !(g_tj.dec = tjInitDecompress()))
    throw std::runtime_error(std::string("JPEG: cannot create a TurboJPEG decompressor: ") + tjGetErrorStr2(nullptr));
  return g_tj.dec;
}

tjhandle encoder() {
  if (!g_tj.enc && !(g_tj.enc = tjInitCompress()))
    throw std::runtime_error(std::string("JPEG: cannot create a TurboJPEG compressor: ") + tjGetErrorStr2(nullptr));
  return g_tj.enc;
}

struct JpegHeader {
  int width = 0, height = 0, subsamp = 0, colorspace = 0;
};

// Reads the header. TurboJPEG 2.x reports libjpeg warnings (e.g. extraneous bytes before a marker)
// as a failed call with TJERR_WARNING after filling in the header; those pass unless strict.
JpegHeader jpeg_header(const uint8_t* data, int64_t n, bool strict) {
  check_data(data, n);
  if (!is_jpeg(data, n)) throw std::invalid_argument("not a JPEG file (no SOI marker FF D8 FF at the start)");
  JpegHeader h;
  auto tj = decoder();
  if (tjDecompressHeader3(tj, data, static_cast<unsigned long>(n), &h.width, &h.height, &h.subsamp, &h.colorspace) != 0) {
    bool warning = tjGetErrorCode(tj) == TJERR_WARNING;
    std::string msg = tjGetErrorStr2(tj);
    if (!warning || strict || h.width < 1 || h.height < 1) {
      if (!has_jpeg_eoi(data, n)) throw std::invalid_argument("truncated JPEG (no end-of-image marker): " + msg);
      throw std::invalid_argument(std::string(warning ? "corrupt JPEG header data: " : "corrupt JPEG header: ") + msg);
    }
  }
  if (h.width < 1 || h.height < 1) throw std::invalid_argument("corrupt JPEG header: zero image size");
  return h;
}

// The DCT-domain scaling factor (≤ 1) giving the smallest image that is still at least
// min_h × min_w; 1/1 when no reduction keeps both sides large enough (or none is asked for).
tjscalingfactor pick_scale(int width, int height, int32_t min_h, int32_t min_w) {
  tjscalingfactor best{1, 1};
  if (min_h <= 0 && min_w <= 0) return best;
  int count = 0;
  tjscalingfactor* sf = tjGetScalingFactors(&count);
  if (sf == nullptr) return best;
  int64_t best_px = static_cast<int64_t>(width) * height;
  for (int i = 0; i < count; ++i) {
    if (sf[i].num > sf[i].denom) continue;  // never upscale
    int w = TJSCALED(width, sf[i]), h = TJSCALED(height, sf[i]);
    if (w < min_w || h < min_h) continue;
    int64_t px = static_cast<int64_t>(w) * h;
    if (px < best_px) {
      best_px = px;
      best = sf[i];
    }
  }
  return best;
}

// PIL's CMYK→RGB for Adobe (inverted) CMYK JPEGs: channel = C'·K'/255 with rounding.
inline uint8_t muldiv255(int a, int b) {
  int t = a * b + 128;
  return static_cast<uint8_t>(((t >> 8) + t) >> 8);
}

at::Tensor jpeg_decode(const uint8_t* data, int64_t n, int32_t channels, int32_t min_h, int32_t min_w,
                       int32_t strict) {
  if (channels != 0 && channels != 1 && channels != 3)
    throw std::invalid_argument("JPEG decode: channels must be 0 (as stored), 1 (gray) or 3 (RGB), not " + std::to_string(channels));
  auto h = jpeg_header(data, n, strict != 0);
  if (channels == 0) channels = h.colorspace == TJCS_GRAY ? 1 : 3;
  auto sf = pick_scale(h.width, h.height, min_h, min_w);
  int w = TJSCALED(h.width, sf), ht = TJSCALED(h.height, sf);
  bool cmyk = h.colorspace == TJCS_CMYK || h.colorspace == TJCS_YCCK;
  int pf = cmyk ? TJPF_CMYK : (channels == 3 ? TJPF_RGB : TJPF_GRAY);
  int px_size = cmyk ? 4 : channels;
  auto raw = at::empty({ht, w, px_size}, at::TensorOptions().dtype(at::kByte));
  auto tj = decoder();
  int flags = strict ? TJFLAG_STOPONWARNING : 0;
  if (tjDecompress2(tj, data, static_cast<unsigned long>(n), raw.data_ptr<uint8_t>(), w, 0, ht, pf, flags) != 0) {
    std::string msg = tjGetErrorStr2(tj);
    bool warning = tjGetErrorCode(tj) == TJERR_WARNING;
    // libjpeg's JWRN_JPEG_EOF: the data ended before the image did (the rest was filled in grey).
    // That is a truncated file and always an error; other warnings (extraneous bytes, ...) are
    // errors only in strict mode, as with PIL.
    if (msg.find("Premature end") != std::string::npos) throw std::invalid_argument("truncated JPEG: " + msg);
    if (!has_jpeg_eoi(data, n)) throw std::invalid_argument("truncated JPEG (no end-of-image marker): " + msg);
    if (!warning || strict) throw std::invalid_argument(std::string(warning ? "corrupt JPEG data: " : "corrupt JPEG: ") + msg);
  }
  if (!cmyk) return raw;
  auto out = at::empty({ht, w, channels}, at::TensorOptions().dtype(at::kByte));
  const uint8_t* s = raw.data_ptr<uint8_t>();
  uint8_t* d = out.data_ptr<uint8_t>();
  int64_t npx = static_cast<int64_t>(ht) * w;
  for (int64_t i = 0; i < npx; ++i, s += 4) {
    uint8_t r = muldiv255(s[0], s[3]), g = muldiv255(s[1], s[3]), b = muldiv255(s[2], s[3]);
    if (channels == 3) {
      *d++ = r;
      *d++ = g;
      *d++ = b;
    } else {  // ITU-R 601-2 luma, as PIL's "L" conversion: (R·299 + G·587 + B·114) / 1000
      *d++ = static_cast<uint8_t>((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16);
    }
  }
  return out;
}

at::Tensor jpeg_encode(void* image, int32_t quality, int32_t subsamp) {
  auto t = encode_input(image, "JPEG");
  if (t.scalar_type() != at::kByte)
    throw std::invalid_argument("JPEG encode: expected uint8 pixels, got " + std::string(c10::toString(t.scalar_type())));
  int c = static_cast<int>(t.size(2));
  if (c != 1 && c != 3) throw std::invalid_argument("JPEG encode: expected 1 or 3 channels, got " + std::to_string(c));
  if (quality < 1 || quality > 100) throw std::invalid_argument("JPEG encode: quality " + std::to_string(quality) + " is outside 1..100");
  int samp;
  switch (subsamp) {
    case 444: samp = TJSAMP_444; break;
    case 422: samp = TJSAMP_422; break;
    case 420: samp = TJSAMP_420; break;
    default: throw std::invalid_argument("JPEG encode: chroma subsampling must be 444, 422 or 420, not " + std::to_string(subsamp));
  }
  if (c == 1) samp = TJSAMP_GRAY;
  auto tj = encoder();
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  int w = static_cast<int>(t.size(1)), h = static_cast<int>(t.size(0));
  if (tjCompress2(tj, t.data_ptr<uint8_t>(), w, 0, h, c == 1 ? TJPF_GRAY : TJPF_RGB, &buf, &size, samp, quality,
                  TJFLAG_ACCURATEDCT) != 0) {
    std::string msg = tjGetErrorStr2(tj);
    if (buf) tjFree(buf);
    throw std::runtime_error("JPEG encode failed: " + msg);
  }
  at::Tensor out;
  try {
    out = bytes_tensor(buf, size);
  } catch (...) {
    tjFree(buf);
    throw;
  }
  tjFree(buf);
  return out;
}

// ---- PNG ----------------------------------------------------------------------------------------
// libpng reports errors by longjmp. The functions that call setjmp below hold only trivially
// destructible locals, so no C++ destructor is ever skipped; every C++ object they touch lives
// in the caller's frame, which the jump never leaves.

enum PngMode : int32_t { kUnchanged = 0, kGray = 1, kRgb = 2, kRgba = 3 };

struct PngIo {
  png_structp png = nullptr;
  png_infop info = nullptr;
  const uint8_t* data = nullptr;
  size_t size = 0, pos = 0;
  std::vector<uint8_t>* sink = nullptr;  // encoder output
  char error[256] = {0};
};

void png_on_error(png_structp png, png_const_charp msg) {
  auto* io = static_cast<PngIo*>(png_get_error_ptr(png));
  std::snprintf(io->error, sizeof io->error, "%s", msg ? msg : "unknown libpng error");
  png_longjmp(png, 1);
}

void png_on_warning(png_structp, png_const_charp) {}  // ancillary-chunk problems do not fail a decode

void png_read_mem(png_structp png, png_bytep out, png_size_t n) {
  auto* io = static_cast<PngIo*>(png_get_io_ptr(png));
  if (n > io->size - io->pos) {
    std::snprintf(io->error, sizeof io->error, "truncated PNG: data ends after %zu bytes", io->size);
    png_longjmp(png, 1);
  }
  std::memcpy(out, io->data + io->pos, n);
  io->pos += n;
}

void png_write_mem(png_structp png, png_bytep in, png_size_t n) {
  auto* io = static_cast<PngIo*>(png_get_io_ptr(png));
  bool failed = false;
  try {
    io->sink->insert(io->sink->end(), in, in + n);
  } catch (...) {
    failed = true;
  }
  if (failed) png_error(png, "out of memory while writing PNG");
}

void png_flush_mem(png_structp) {}

struct PngShape {
  uint32_t width = 0, height = 0;
  int channels = 0, bit_depth = 0, color_type = 0, src_channels = 0, src_bit_depth = 0;
  size_t rowbytes = 0;
};

// Reads the header and sets up the transforms for `mode` (mode < 0: header only, no transforms).
// Returns 0 on success, 1 after a libpng error (message in io->error).
int png_begin_read(PngIo* io, int32_t mode, PngShape* s) {
  if (setjmp(png_jmpbuf(io->png))) return 1;
  png_set_read_fn(io->png, io, png_read_mem);
  png_set_user_limits(io->png, kMaxSide, kMaxSide);
  png_read_info(io->png, io->info);
  s->width = png_get_image_width(io->png, io->info);
  s->height = png_get_image_height(io->png, io->info);
  s->src_bit_depth = png_get_bit_depth(io->png, io->info);
  s->src_channels = png_get_channels(io->png, io->info);
  int ct = png_get_color_type(io->png, io->info);
  s->color_type = ct;
  if (mode < 0) return 0;
  bool palette = ct == PNG_COLOR_TYPE_PALETTE;
  bool has_alpha = (ct & PNG_COLOR_MASK_ALPHA) != 0 || (palette && png_get_valid(io->png, io->info, PNG_INFO_tRNS));
  bool color = (ct & PNG_COLOR_MASK_COLOR) != 0;
  if (palette) png_set_palette_to_rgb(io->png);
  if (palette && has_alpha) png_set_tRNS_to_alpha(io->png);
  if (!color && s->src_bit_depth < 8) png_set_expand_gray_1_2_4_to_8(io->png);
  if (mode != kUnchanged && s->src_bit_depth == 16) png_set_scale_16(io->png);
  switch (mode) {
    case kGray:
      if (has_alpha) png_set_strip_alpha(io->png);
      if (color || palette) png_set_rgb_to_gray_fixed(io->png, 1, -1, -1);
      break;
    case kRgb:
      if (has_alpha) png_set_strip_alpha(io->png);
      if (!color && !palette) png_set_gray_to_rgb(io->png);
      break;
    case kRgba:
      if (!color && !palette) png_set_gray_to_rgb(io->png);
      if (!has_alpha) png_set_add_alpha(io->png, s->src_bit_depth == 16 ? 0xFFFF : 0xFF, PNG_FILLER_AFTER);
      break;
    default:
      break;
  }
  png_set_interlace_handling(io->png);
  png_read_update_info(io->png, io->info);
  s->channels = png_get_channels(io->png, io->info);
  s->bit_depth = png_get_bit_depth(io->png, io->info);
  s->rowbytes = png_get_rowbytes(io->png, io->info);
  return 0;
}

int png_read_rows(PngIo* io, png_bytep* rows) {
  if (setjmp(png_jmpbuf(io->png))) return 1;
  png_read_image(io->png, rows);
  png_read_end(io->png, nullptr);
  return 0;
}

struct PngReader {
  PngIo io;
  explicit PngReader(const uint8_t* data, int64_t n) {
    check_data(data, n);
    if (!is_png(data, n)) throw std::invalid_argument("not a PNG file (bad 8-byte signature)");
    io.data = data;
    io.size = static_cast<size_t>(n);
    io.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &io, png_on_error, png_on_warning);
    if (!io.png) throw std::runtime_error("PNG: cannot create a libpng read struct");
    io.info = png_create_info_struct(io.png);
    if (!io.info) {
      png_destroy_read_struct(&io.png, nullptr, nullptr);
      throw std::runtime_error("PNG: cannot create a libpng info struct");
    }
  }
  ~PngReader() { png_destroy_read_struct(&io.png, &io.info, nullptr); }
  PngReader(const PngReader&) = delete;
  PngReader& operator=(const PngReader&) = delete;

  [[noreturn]] void fail(const char* stage) const {
    std::string msg = io.error;
    if (msg.rfind("truncated", 0) == 0) throw std::invalid_argument(msg);
    throw std::invalid_argument(std::string("corrupt PNG ") + stage + ": " + msg);
  }
};

at::Tensor png_decode(const uint8_t* data, int64_t n, int32_t mode, int32_t chw) {
  if (mode < kUnchanged || mode > kRgba)
    throw std::invalid_argument("PNG decode: mode must be 0 (unchanged), 1 (gray), 2 (RGB) or 3 (RGBA), not " + std::to_string(mode));
  PngReader r(data, n);
  PngShape s;
  if (png_begin_read(&r.io, mode, &s) != 0) r.fail("header");
  int64_t h = s.height, w = s.width, c = s.channels;
  std::vector<uint8_t> buf(static_cast<size_t>(h) * s.rowbytes);
  std::vector<png_bytep> rows(static_cast<size_t>(h));
  for (int64_t y = 0; y < h; ++y) rows[y] = buf.data() + y * s.rowbytes;
  if (png_read_rows(&r.io, rows.data()) != 0) r.fail("data");
  at::Tensor out;
  if (s.bit_depth == 16) {
    // PNG stores 16-bit samples big-endian; assemble them explicitly (host-endian independent).
    out = at::empty({h, w, c}, at::TensorOptions().dtype(at::kInt));
    int32_t* d = out.data_ptr<int32_t>();
    for (int64_t y = 0; y < h; ++y) {
      const uint8_t* p = rows[y];
      for (int64_t i = 0; i < w * c; ++i) *d++ = (static_cast<int32_t>(p[2 * i]) << 8) | p[2 * i + 1];
    }
  } else {
    if (s.bit_depth != 8) throw std::invalid_argument("PNG decode: unexpected bit depth " + std::to_string(s.bit_depth) + " after expansion");
    out = at::empty({h, w, c}, at::TensorOptions().dtype(at::kByte));
    uint8_t* d = out.data_ptr<uint8_t>();
    for (int64_t y = 0; y < h; ++y) std::memcpy(d + y * w * c, rows[y], static_cast<size_t>(w * c));
  }
  return to_layout(out, chw);
}

int png_write_all(PngIo* io, uint32_t w, uint32_t h, int bit_depth, int color_type, int level, png_bytep* rows) {
  if (setjmp(png_jmpbuf(io->png))) return 1;
  png_set_write_fn(io->png, io, png_write_mem, png_flush_mem);
  png_set_IHDR(io->png, io->info, w, h, bit_depth, color_type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level(io->png, level);
  png_write_info(io->png, io->info);
  png_write_image(io->png, rows);
  png_write_end(io->png, nullptr);
  return 0;
}

at::Tensor png_encode(void* image, int32_t level) {
  auto t = encode_input(image, "PNG");
  int64_t h = t.size(0), w = t.size(1), c = t.size(2);
  if (c < 1 || c > 4) throw std::invalid_argument("PNG encode: expected 1 to 4 channels, got " + std::to_string(c));
  if (level < 0 || level > 9) throw std::invalid_argument("PNG encode: compression level " + std::to_string(level) + " is outside 0..9");
  int bit_depth;
  std::vector<uint8_t> pixels;
  if (t.scalar_type() == at::kByte) {
    bit_depth = 8;
    pixels.assign(t.data_ptr<uint8_t>(), t.data_ptr<uint8_t>() + h * w * c);
  } else if (t.scalar_type() == at::kInt || t.scalar_type() == at::kLong || t.scalar_type() == at::kShort) {
    // 16-bit samples given as wider integers; written big-endian as PNG requires.
    bit_depth = 16;
    auto v = t.to(at::kLong);
    const int64_t* p = v.data_ptr<int64_t>();
    pixels.resize(static_cast<size_t>(h * w * c * 2));
    for (int64_t i = 0; i < h * w * c; ++i) {
      if (p[i] < 0 || p[i] > 65535)
        throw std::invalid_argument("PNG encode: 16-bit sample " + std::to_string(p[i]) + " at flat index " +
                                    std::to_string(i) + " is outside 0..65535");
      pixels[2 * i] = static_cast<uint8_t>(p[i] >> 8);
      pixels[2 * i + 1] = static_cast<uint8_t>(p[i] & 0xFF);
    }
  } else {
    throw std::invalid_argument("PNG encode: expected uint8 (8-bit) or int16/int32/int64 (16-bit) samples, got " +
                                std::string(c10::toString(t.scalar_type())));
  }
  static const int kColor[] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
  size_t rowbytes = static_cast<size_t>(w * c * (bit_depth / 8));
  std::vector<png_bytep> rows(static_cast<size_t>(h));
  for (int64_t y = 0; y < h; ++y) rows[y] = pixels.data() + y * rowbytes;
  std::vector<uint8_t> sink;
  sink.reserve(rowbytes * h / 2 + 1024);
  PngIo io;
  io.sink = &sink;
  io.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &io, png_on_error, png_on_warning);
  if (!io.png) throw std::runtime_error("PNG: cannot create a libpng write struct");
  io.info = png_create_info_struct(io.png);
  int rc = io.info ? png_write_all(&io, static_cast<uint32_t>(w), static_cast<uint32_t>(h), bit_depth,
                                   kColor[c], level, rows.data())
                   : 1;
  png_destroy_write_struct(&io.png, &io.info);
  if (rc != 0) throw std::runtime_error(std::string("PNG encode failed: ") + (io.error[0] ? io.error : "no info struct"));
  return bytes_tensor(sink.data(), sink.size());
}

}  // namespace

RN_API int32_t rn_built_with_codecs() { return 1; }

// Header facts without decoding pixels. format: 1 JPEG, 2 PNG. channels: as stored (JPEG: 1 gray,
// 3 colour, 4 CMYK/YCCK; PNG: 1..4, palette counts as 3); bit_depth: 8 (JPEG) or the PNG's.
RN_API int32_t rn_image_info(const uint8_t* data, int64_t n, int32_t* format, int32_t* height, int32_t* width,
                             int32_t* channels, int32_t* bit_depth) {
  RN_GUARD({
    check_data(data, n);
    if (is_jpeg(data, n)) {
      auto h = jpeg_header(data, n, false);
      *format = kFormatJpeg;
      *height = h.height;
      *width = h.width;
      *channels = h.colorspace == TJCS_GRAY ? 1 : (h.colorspace == TJCS_CMYK || h.colorspace == TJCS_YCCK) ? 4 : 3;
      *bit_depth = 8;
    } else if (is_png(data, n)) {
      PngReader r(data, n);
      PngShape s;
      if (png_begin_read(&r.io, -1, &s) != 0) r.fail("header");
      *format = kFormatPng;
      *height = static_cast<int32_t>(s.height);
      *width = static_cast<int32_t>(s.width);
      *channels = s.color_type == PNG_COLOR_TYPE_PALETTE ? 3 : s.src_channels;
      *bit_depth = s.src_bit_depth;
    } else {
      throw std::invalid_argument("unknown image format (neither a JPEG nor a PNG signature)");
    }
  })
}

// JPEG → uint8 [H,W,C] (chw = 0) or [C,H,W] (chw = 1); channels 3 (RGB), 1 (gray) or 0 (1 for gray
// files, else 3). With min_h or
// min_w > 0 the decoder scales in the DCT domain by the factor (≤ 1, from tjGetScalingFactors) that
// gives the smallest image still ≥ min_h × min_w. A truncated file is always an error; other libjpeg
// warnings only when strict ≠ 0.
RN_API int32_t rn_jpeg_decode(const uint8_t* data, int64_t n, int32_t channels, int32_t min_h, int32_t min_w,
                              int32_t chw, int32_t strict, void** out) {
  RN_GUARD({ *out = rn::new_handle(to_layout(jpeg_decode(data, n, channels, min_h, min_w, strict), chw)); })
}

// uint8 [H,W,C] (C = 1 or 3) → JPEG bytes (1-d uint8 tensor). subsamp: 444, 422 or 420 (ignored for gray).
RN_API int32_t rn_jpeg_encode(void* image, int32_t quality, int32_t subsamp, void** out) {
  RN_GUARD({ *out = rn::new_handle(jpeg_encode(image, quality, subsamp)); })
}

// PNG → [H,W,C] (chw = 0) or [C,H,W]. mode 0 keeps the stored channels (palette → RGB, or RGBA with
// tRNS; gray below 8 bits → 8 bits) and bit depth (16-bit → int32 values 0..65535); modes 1/2/3
// convert to 8-bit gray / RGB / RGBA (uint8).
RN_API int32_t rn_png_decode(const uint8_t* data, int64_t n, int32_t mode, int32_t chw, void** out) {
  RN_GUARD({ *out = rn::new_handle(png_decode(data, n, mode, chw)); })
}

// [H,W,C] (C = 1..4: gray, gray+alpha, RGB, RGBA) → PNG bytes. uint8 gives 8-bit samples;
// int16/int32/int64 give 16-bit samples (each must be in 0..65535). level: zlib 0..9.
RN_API int32_t rn_png_encode(void* image, int32_t level, void** out) {
  RN_GUARD({ *out = rn::new_handle(png_encode(image, level)); })
}
#endif  // RN_WITHOUT_CODECS
