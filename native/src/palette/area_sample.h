// The palette's sample: an image reduced by the mean of the area each output pixel covers, alpha
// weighted, in integers, so that the addon and src/pipeline/sample.ts give the same bytes.
#pragma once

#include <cstdint>

namespace imgproc::palette {

// `src` (width x height x channels, 3 or 4, straight alpha) reduced to outWidth x outHeight, each
// no larger than the source's, into `dst`. Each output pixel is the mean of the source area it
// covers, partly covered pixels weighted by their share; with alpha, colours are weighted by it
// (a transparent pixel's colour does not bleed) and an area with no alpha at all is 0, 0, 0, 0.
// Every mean is rounded half up.
void AreaSample(const uint8_t* src, int width, int height, int channels, int outWidth, int outHeight,
                uint8_t* dst);

}  // namespace imgproc::palette
