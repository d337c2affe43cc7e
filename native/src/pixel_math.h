// Per-pixel math shared by the C++ reference and the CUDA kernels, so both round the same way.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define IMGPROC_HD __host__ __device__ __forceinline__
#else
#define IMGPROC_HD inline
#endif

namespace imgproc {

IMGPROC_HD float ClampF(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

IMGPROC_HD uint8_t RoundToByte(float v) {
  return static_cast<uint8_t>(static_cast<int>(ClampF(v, 0.0f, 255.0f) + 0.5f));
}

// Loads pixel `p` (C channels) as floats; with alpha (C == 4) the colour is premultiplied.
template <int C>
IMGPROC_HD void LoadPremultiplied(const uint8_t* p, float* out) {
  if (C == 4) {
    const float a = static_cast<float>(p[3]);
    const float k = a * (1.0f / 255.0f);
    out[0] = static_cast<float>(p[0]) * k;
    out[1] = static_cast<float>(p[1]) * k;
    out[2] = static_cast<float>(p[2]) * k;
    out[3] = a;
  } else {
    for (int c = 0; c < C; ++c) out[c] = static_cast<float>(p[c]);
  }
}

// Stores premultiplied floats as straight 8-bit; a pixel whose alpha rounds to 0 becomes 0,0,0,0.
template <int C>
IMGPROC_HD void StoreUnpremultiplied(const float* v, uint8_t* p) {
  if (C == 4) {
    const float a = ClampF(v[3], 0.0f, 255.0f);
    const uint8_t a8 = RoundToByte(a);
    if (a8 == 0) {
      p[0] = p[1] = p[2] = p[3] = 0;
      return;
    }
    const float k = 255.0f / a;
    p[0] = RoundToByte(v[0] * k);
    p[1] = RoundToByte(v[1] * k);
    p[2] = RoundToByte(v[2] * k);
    p[3] = a8;
  } else {
    for (int c = 0; c < C; ++c) p[c] = RoundToByte(v[c]);
  }
}

IMGPROC_HD int ClampIndex(int i, int n) { return i < 0 ? 0 : (i >= n ? n - 1 : i); }

}  // namespace imgproc
