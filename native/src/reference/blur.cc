#include <vector>

#include "../channels.h"
#include "../pixel_math.h"
#include "reference.h"

namespace imgproc::reference {
namespace {

template <int C>
void BlurWith(const uint8_t* src, const BlurOp& op, uint8_t* dst) {
  const int w = op.size.width;
  const int h = op.size.height;
  const int r = op.radius;
  const float* g = op.weights.data();
  std::vector<float> tmp(static_cast<size_t>(w) * h * C);
  float px[C];
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      float acc[C] = {};
      for (int k = 0; k <= 2 * r; ++k) {
        const int sx = ClampIndex(x + k - r, w);
        LoadPremultiplied<C>(src + (static_cast<size_t>(y) * w + sx) * C, px);
        for (int c = 0; c < C; ++c) acc[c] += g[k] * px[c];
      }
      for (int c = 0; c < C; ++c) tmp[(static_cast<size_t>(y) * w + x) * C + c] = acc[c];
    }
  }
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      float acc[C] = {};
      for (int k = 0; k <= 2 * r; ++k) {
        const int sy = ClampIndex(y + k - r, h);
        const float* in = &tmp[(static_cast<size_t>(sy) * w + x) * C];
        for (int c = 0; c < C; ++c) acc[c] += g[k] * in[c];
      }
      StoreUnpremultiplied<C>(acc, dst + (static_cast<size_t>(y) * w + x) * C);
    }
  }
}

}  // namespace

void Blur(const uint8_t* src, const BlurOp& op, int channels, uint8_t* dst) {
  DispatchChannels(channels, [&](auto c) { BlurWith<decltype(c)::value>(src, op, dst); });
}

}  // namespace imgproc::reference
