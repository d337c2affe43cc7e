#include <cstring>
#include <vector>

#include "../channels.h"
#include "../pixel_math.h"
#include "reference.h"

namespace imgproc::reference {
namespace {

template <int C>
void ResizeHorizontal(const uint8_t* src, int srcWidth, int rows, const ResizeAxis& ax, float* tmp) {
  float px[C];
  for (int y = 0; y < rows; ++y) {
    for (int x = 0; x < ax.outSize; ++x) {
      const int start = ax.bounds[2 * x];
      const int count = ax.bounds[2 * x + 1];
      const float* w = &ax.weights[static_cast<size_t>(x) * ax.taps];
      float acc[C] = {};
      const uint8_t* row = src + (static_cast<size_t>(y) * srcWidth + start) * C;
      for (int k = 0; k < count; ++k) {
        LoadPremultiplied<C>(row + static_cast<size_t>(k) * C, px);
        for (int c = 0; c < C; ++c) acc[c] += w[k] * px[c];
      }
      float* out = tmp + (static_cast<size_t>(y) * ax.outSize + x) * C;
      for (int c = 0; c < C; ++c) out[c] = acc[c];
    }
  }
}

template <int C>
void ResizeVertical(const float* tmp, int width, const ResizeAxis& ay, uint8_t* dst) {
  for (int y = 0; y < ay.outSize; ++y) {
    const int start = ay.bounds[2 * y];
    const int count = ay.bounds[2 * y + 1];
    const float* w = &ay.weights[static_cast<size_t>(y) * ay.taps];
    for (int x = 0; x < width; ++x) {
      float acc[C] = {};
      for (int k = 0; k < count; ++k) {
        const float* in = tmp + (static_cast<size_t>(start + k) * width + x) * C;
        for (int c = 0; c < C; ++c) acc[c] += w[k] * in[c];
      }
      StoreUnpremultiplied<C>(acc, dst + (static_cast<size_t>(y) * width + x) * C);
    }
  }
}

template <int C>
void ResizeWith(const uint8_t* src, const ResizeOp& op, uint8_t* dst) {
  std::vector<float> tmp(static_cast<size_t>(op.out.width) * op.in.height * C);
  ResizeHorizontal<C>(src, op.in.width, op.in.height, op.x, tmp.data());
  ResizeVertical<C>(tmp.data(), op.out.width, op.y, dst);
}

}  // namespace

void Resize(const uint8_t* src, const ResizeOp& op, int channels, uint8_t* dst) {
  switch (op.mode) {
    case ResizeMode::kCopy:
      std::memcpy(dst, src, ImageBytes(op.in, channels));
      return;
    case ResizeMode::kHalveBox:
    case ResizeMode::kHalveNearest:
      Halve(src, op.in, channels, op.mode == ResizeMode::kHalveNearest, dst);
      return;
    case ResizeMode::kResize:
      DispatchChannels(channels, [&](auto c) { ResizeWith<decltype(c)::value>(src, op, dst); });
      return;
  }
}

}  // namespace imgproc::reference
