#include <cstring>

#include "../channels.h"
#include "../pixel_math.h"
#include "reference.h"

namespace imgproc::reference {
namespace {

template <int C>
void HalveBox(const uint8_t* src, Size in, uint8_t* dst) {
  const int ow = in.width / 2;
  const int oh = in.height / 2;
  float p00[C], p10[C], p01[C], p11[C], acc[C];
  for (int y = 0; y < oh; ++y) {
    for (int x = 0; x < ow; ++x) {
      const uint8_t* top = src + (static_cast<size_t>(2 * y) * in.width + 2 * x) * C;
      const uint8_t* bottom = top + static_cast<size_t>(in.width) * C;
      LoadPremultiplied<C>(top, p00);
      LoadPremultiplied<C>(top + C, p10);
      LoadPremultiplied<C>(bottom, p01);
      LoadPremultiplied<C>(bottom + C, p11);
      for (int c = 0; c < C; ++c) acc[c] = (p00[c] + p10[c] + p01[c] + p11[c]) * 0.25f;
      StoreUnpremultiplied<C>(acc, dst + (static_cast<size_t>(y) * ow + x) * C);
    }
  }
}

}  // namespace

void Halve(const uint8_t* src, Size in, int channels, bool nearest, uint8_t* dst) {
  if (nearest) {
    const int ow = in.width / 2;
    const int oh = in.height / 2;
    for (int y = 0; y < oh; ++y) {
      for (int x = 0; x < ow; ++x) {
        std::memcpy(dst + (static_cast<size_t>(y) * ow + x) * channels,
                    src + (static_cast<size_t>(2 * y) * in.width + 2 * x) * channels, channels);
      }
    }
  } else {
    DispatchChannels(channels, [&](auto c) { HalveBox<decltype(c)::value>(src, in, dst); });
  }
}

}  // namespace imgproc::reference
