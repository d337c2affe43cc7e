// WebP decoding straight through libwebp, scaled on decode: no libvips pipeline in between.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace imgproc {

inline constexpr const char* kErrDecode = "ERR_DECODE";
inline constexpr const char* kErrNoWebp = "ERR_NO_WEBP";

// libwebp's decoder version ("1.2.4"), or empty when the addon was built without libwebp.
std::string WebpDecoderVersion();

// Decodes the first frame of an opaque still WebP to packed 8-bit RGB at exactly width x height
// (libwebp's area-averaging rescaler when smaller than the file). `out` holds width*height*3 bytes.
// Throws NativeError: kErrDecode for a broken or unsuitable file, kErrNoWebp without libwebp.
void DecodeWebpRgb(const uint8_t* data, size_t size, int width, int height, uint8_t* out);

}  // namespace imgproc
