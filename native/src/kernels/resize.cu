#include "../pixel_math.h"
#include "kernels.h"
#include "launch.cuh"

namespace imgproc::cuda {
namespace {

template <int C>
__global__ void ResizeHorizontalKernel(const uint8_t* __restrict__ src, int srcWidth, int rows, DeviceAxis ax,
                                       float* __restrict__ tmp) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= ax.outSize || y >= rows) return;
  const int start = ax.bounds[2 * x];
  const int count = ax.bounds[2 * x + 1];
  const float* w = ax.weights + static_cast<size_t>(x) * ax.taps;
  const uint8_t* row = src + (static_cast<size_t>(y) * srcWidth + start) * C;
  float acc[C] = {};
  float px[C];
  for (int k = 0; k < count; ++k) {
    LoadPremultiplied<C>(row + static_cast<size_t>(k) * C, px);
    const float wk = w[k];
#pragma unroll
    for (int c = 0; c < C; ++c) acc[c] += wk * px[c];
  }
  float* out = tmp + (static_cast<size_t>(y) * ax.outSize + x) * C;
#pragma unroll
  for (int c = 0; c < C; ++c) out[c] = acc[c];
}

template <int C>
__global__ void ResizeVerticalKernel(const float* __restrict__ tmp, int width, DeviceAxis ay,
                                     uint8_t* __restrict__ dst) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= width || y >= ay.outSize) return;
  const int start = ay.bounds[2 * y];
  const int count = ay.bounds[2 * y + 1];
  const float* w = ay.weights + static_cast<size_t>(y) * ay.taps;
  float acc[C] = {};
  for (int k = 0; k < count; ++k) {
    const float* in = tmp + (static_cast<size_t>(start + k) * width + x) * C;
    const float wk = w[k];
#pragma unroll
    for (int c = 0; c < C; ++c) acc[c] += wk * in[c];
  }
  StoreUnpremultiplied<C>(acc, dst + (static_cast<size_t>(y) * width + x) * C);
}

}  // namespace

void LaunchResizeHorizontal(const uint8_t* src, int srcWidth, int rows, int channels, DeviceAxis ax, float* tmp,
                            cudaStream_t stream) {
  const dim3 grid = GridFor(ax.outSize, rows);
  DispatchChannels(channels, [&](auto c) {
    ResizeHorizontalKernel<decltype(c)::value><<<grid, kBlock, 0, stream>>>(src, srcWidth, rows, ax, tmp);
  });
  CUDA_CHECK(cudaGetLastError());
}

void LaunchResizeVertical(const float* tmp, int width, int channels, DeviceAxis ay, uint8_t* dst,
                          cudaStream_t stream) {
  const dim3 grid = GridFor(width, ay.outSize);
  DispatchChannels(channels, [&](auto c) {
    ResizeVerticalKernel<decltype(c)::value><<<grid, kBlock, 0, stream>>>(tmp, width, ay, dst);
  });
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace imgproc::cuda
