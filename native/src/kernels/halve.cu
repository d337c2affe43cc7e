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
  CheckChannels(channels);
  const dim3 block(32, 8);
  const dim3 grid(DivUp(width / 2, 32), DivUp(height / 2, 8));
  if (nearest) {
    if (channels == 4) {
      HalveNearestKernel<4><<<grid, block, 0, stream>>>(src, width, height, dst);
    } else {
      HalveNearestKernel<3><<<grid, block, 0, stream>>>(src, width, height, dst);
    }
  } else if (channels == 4) {
    HalveBoxKernel<4><<<grid, block, 0, stream>>>(src, width, height, dst);
  } else {
    HalveBoxKernel<3><<<grid, block, 0, stream>>>(src, width, height, dst);
  }
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace imgproc::cuda
