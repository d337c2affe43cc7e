// Host launchers of the CUDA kernels. Each sizes its grid, launches on the caller's stream, checks
// the launch and returns: none of them synchronises.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace imgproc::cuda {

// One axis of resize weights in device memory (see ResizeAxis).
struct DeviceAxis {
  const int32_t* bounds;
  const float* weights;
  int taps;
  int outSize;
};

// src (srcWidth x rows, u8) -> tmp (ax.outSize x rows, premultiplied float)
void LaunchResizeHorizontal(const uint8_t* src, int srcWidth, int rows, int channels, DeviceAxis ax, float* tmp,
                            cudaStream_t stream);
// tmp (width x any, float) -> dst (width x ay.outSize, u8)
void LaunchResizeVertical(const float* tmp, int width, int channels, DeviceAxis ay, uint8_t* dst, cudaStream_t stream);

// Separable Gaussian with clamped borders; weights hold 2 * radius + 1 taps in device memory.
void LaunchBlurHorizontal(const uint8_t* src, int width, int height, int channels, const float* weights, int radius,
                          float* tmp, cudaStream_t stream);
void LaunchBlurVertical(const float* tmp, int width, int height, int channels, const float* weights, int radius,
                        uint8_t* dst, cudaStream_t stream);

// src (width x height) -> dst (width / 2 x height / 2)
void LaunchHalve(const uint8_t* src, int width, int height, int channels, bool nearest, uint8_t* dst,
                 cudaStream_t stream);

}  // namespace imgproc::cuda
