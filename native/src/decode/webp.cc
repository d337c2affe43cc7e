#include "webp.h"

#include "../error.h"

#ifdef IMGPROC_WITH_WEBP
#include <webp/decode.h>
#endif

namespace imgproc {

#ifdef IMGPROC_WITH_WEBP

std::string WebpDecoderVersion() {
  const int v = WebPGetDecoderVersion();
  return std::to_string((v >> 16) & 0xff) + "." + std::to_string((v >> 8) & 0xff) + "." + std::to_string(v & 0xff);
}

namespace {

const char* StatusText(VP8StatusCode status) {
  switch (status) {
    case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
    case VP8_STATUS_INVALID_PARAM: return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR: return "bitstream error";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "unsupported feature";
    case VP8_STATUS_NOT_ENOUGH_DATA: return "not enough data (truncated)";
    default: return "decoding failed";
  }
}

// Frees libwebp's decoder state however DecodeWebpRgb leaves.
struct ConfigGuard {
  WebPDecoderConfig* config;
  ~ConfigGuard() { WebPFreeDecBuffer(&config->output); }
};

}  // namespace

void DecodeWebpRgb(const uint8_t* data, size_t size, int width, int height, uint8_t* out) {
  if (width <= 0 || height <= 0) throw InvalidArg("WebP output size must be positive");
  WebPDecoderConfig config;
  if (!WebPInitDecoderConfig(&config)) throw NativeError(kErrNoWebp, "libwebp version mismatch");
  ConfigGuard guard{&config};
  VP8StatusCode status = WebPGetFeatures(data, size, &config.input);
  if (status != VP8_STATUS_OK) throw NativeError(kErrDecode, std::string("WebP: ") + StatusText(status));
  if (config.input.has_animation) throw NativeError(kErrDecode, "WebP: animated files take the libvips path");
  if (config.input.has_alpha) throw NativeError(kErrDecode, "WebP: files with alpha take the libvips path");
  if (width > config.input.width || height > config.input.height) {
    throw InvalidArg("WebP output size must not exceed the file's own size");
  }
  if (width != config.input.width || height != config.input.height) {
    config.options.use_scaling = 1;
    config.options.scaled_width = width;
    config.options.scaled_height = height;
  }
  config.output.colorspace = MODE_RGB;
  config.output.is_external_memory = 1;
  config.output.u.RGBA.rgba = out;
  config.output.u.RGBA.stride = width * 3;
  config.output.u.RGBA.size = static_cast<size_t>(width) * static_cast<size_t>(height) * 3;
  status = WebPDecode(data, size, &config);
  if (status != VP8_STATUS_OK) throw NativeError(kErrDecode, std::string("WebP: ") + StatusText(status));
}

#else

std::string WebpDecoderVersion() { return ""; }

void DecodeWebpRgb(const uint8_t*, size_t, int, int, uint8_t*) {
  throw NativeError(kErrNoWebp, "imgproc_native was built without libwebp");
}

#endif

}  // namespace imgproc
