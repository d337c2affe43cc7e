// Median cut of a palette's sample: the same splits, means and order as src/gradient/median-cut.ts,
// integer for integer, so the addon and the JavaScript give the same palette. The sample is small
// (at most 100 px a side), so this runs on the calling thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace imgproc::palette {

struct Entry {
  int32_t r, g, b, count;
};

// Pixels with alpha below this count as transparent and are left out (OPAQUE_ALPHA in TypeScript).
constexpr int kOpaqueAlpha = 128;

// The palettes that medianCutSteps in median-cut.ts yields, in order: one per box count from
// `fewest` to `most`, or the last one reached when the pixels run out of colours to split; a
// single empty palette when no pixel is opaque.
std::vector<std::vector<Entry>> MedianCutSteps(const uint8_t* pixels, size_t bytes, int channels,
                                               int fewest, int most);

}  // namespace imgproc::palette
