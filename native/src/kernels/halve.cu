#include "../pixel_math.h"
#include "kernels.h"
#include "launch.cuh"

namespace imgproc::cuda {
namespace {

template <int C>
__global__ void HalveBoxKernel(const uint8_t* __restrict__ src, int width, int height, uint8_t* __restrict__ dst) {
  const int ow = width / 2;
  const int oh = height / 2;
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= ow || y >= oh) return;
  const uint8_t* top = src + (static_cast<size_t>(2 * y) * width + 2 * x) * C;
  const uint8_t* bottom = top + static_cast<size_t>(width) * C;
  float p00[C], p10[C], p01[C], p11[C], acc[C];
  LoadPremultiplied<C>(top, p00);
  LoadPremultiplied<C>(top + C, p10);
  LoadPremultiplied<C>(bottom, p01);
  LoadPremultiplied<C>(bottom + C, p11);
#pragma unroll
  for (int c = 0; c < C; ++c) acc[c] = (p00[c] + p10[c] + p01[c] + p11[c]) * 0.25f;
  StoreUnpremultiplied<C>(acc, dst + (static_cast<size_t>(y) * ow + x) * C);
}

template <int C>
__global__ void HalveNearestKernel(const uint8_t* __restrict__ src, int width, int height,
                                   uint8_t* __restrict__ dst) {
  const int ow = width / 2;
  const int oh = height / 2;
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= ow || y >= oh) return;
  const uint8_t* in = src + (static_cast<size_t>(2 * y) * width + 2 * x) * C;
  uint8_t* out = dst + (static_cast<size_t>(y) * ow + x) * C;
#pragma unroll
  for (int c = 0; c < C; ++c) out[c] = in[c];
}

}  // namespace

void LaunchHalve(const uint8_t* src, int width, int height, int channels, bool nearest, uint8_t* dst,
                 cudaStream_t stream) {
  const dim3 grid = GridFor(width / 2, height / 2);
  DispatchChannels(channels, [&](auto c) {
    constexpr int C = decltype(c)::value;
    if (nearest) {
      HalveNearestKernel<C><<<grid, kBlock, 0, stream>>>(src, width, height, dst);
    } else {
      HalveBoxKernel<C><<<grid, kBlock, 0, stream>>>(src, width, height, dst);
    }
  });
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace imgproc::cuda
