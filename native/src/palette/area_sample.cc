#include "area_sample.h"

#include <algorithm>
#include <vector>

namespace imgproc::palette {
namespace {

// How much of source pixel i falls in output pixel o, in units of 1/out of a source pixel: the
// source spans [i*out, (i+1)*out), the output [o*in, (o+1)*in). Each output's weights sum to `in`.
struct Span {
  int first;
  std::vector<uint64_t> weights;
};

std::vector<Span> Spans(int in, int out) {
  std::vector<Span> spans(static_cast<size_t>(out));
  for (int o = 0; o < out; ++o) {
    const int64_t lo = static_cast<int64_t>(o) * in;
    const int64_t hi = lo + in;
    Span& span = spans[static_cast<size_t>(o)];
    span.first = static_cast<int>(lo / out);
    for (int64_t i = span.first; i * out < hi; ++i) {
      const int64_t from = std::max(i * out, lo);
      const int64_t to = std::min((i + 1) * out, hi);
      span.weights.push_back(static_cast<uint64_t>(to - from));
    }
  }
  return spans;
}

// round(num / den), half up, for non-negative integers.
uint8_t Rounded(uint64_t num, uint64_t den) {
  return static_cast<uint8_t>((2 * num + den) / (2 * den));
}

}  // namespace

void AreaSample(const uint8_t* src, int width, int height, int channels, int outWidth, int outHeight,
                uint8_t* dst) {
  const std::vector<Span> columns = Spans(width, outWidth);
  const std::vector<Span> rows = Spans(height, outHeight);
  const uint64_t area = static_cast<uint64_t>(width) * static_cast<uint64_t>(height);
  const size_t stride = static_cast<size_t>(width) * static_cast<size_t>(channels);
  for (int oy = 0; oy < outHeight; ++oy) {
    const Span& row = rows[static_cast<size_t>(oy)];
    for (int ox = 0; ox < outWidth; ++ox) {
      const Span& column = columns[static_cast<size_t>(ox)];
      uint64_t sum[4] = {0, 0, 0, 0};
      for (size_t ky = 0; ky < row.weights.size(); ++ky) {
        const uint8_t* line = src + (static_cast<size_t>(row.first) + ky) * stride;
        for (size_t kx = 0; kx < column.weights.size(); ++kx) {
          const uint64_t w = row.weights[ky] * column.weights[kx];
          const uint8_t* p = line + (static_cast<size_t>(column.first) + kx) * static_cast<size_t>(channels);
          if (channels == 4) {
            const uint64_t wa = w * p[3];
            sum[0] += wa * p[0];
            sum[1] += wa * p[1];
            sum[2] += wa * p[2];
            sum[3] += wa;
          } else {
            sum[0] += w * p[0];
            sum[1] += w * p[1];
            sum[2] += w * p[2];
          }
        }
      }
      uint8_t* out = dst + (static_cast<size_t>(oy) * outWidth + ox) * static_cast<size_t>(channels);
      if (channels == 4) {
        for (int c = 0; c < 3; ++c) out[c] = sum[3] > 0 ? Rounded(sum[c], sum[3]) : 0;
        out[3] = Rounded(sum[3], area);
      } else {
        for (int c = 0; c < 3; ++c) out[c] = Rounded(sum[c], area);
      }
    }
  }
}

}  // namespace imgproc::palette
