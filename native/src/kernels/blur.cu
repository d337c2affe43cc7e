#include "../pixel_math.h"
#include "kernels.h"
#include "launch.cuh"

namespace imgproc::cuda {
namespace {

constexpr int kRowThreads = 128;                    // horizontal pass: one row segment per block
constexpr int kColumns = static_cast<int>(kBlock.x);         // vertical pass: a kBlock-wide strip ...
constexpr int kColumnThreadsY = static_cast<int>(kBlock.y);  // ... worked by one kBlock of threads ...
constexpr int kRowsPerBlock = 32;                   // ... producing 32 output rows
constexpr size_t kMaxSharedBytes = 48 * 1024;

// Shared tiles are planar (one plane per channel) so that neighbouring threads hit distinct banks.
template <int C>
__global__ void BlurHorizontalKernel(const uint8_t* __restrict__ src, int width, int height,
                                     const float* __restrict__ weights, int radius, float* __restrict__ tmp) {
  extern __shared__ float shared[];
  const int tileWidth = kRowThreads + 2 * radius;
  float* tile = shared;
  float* g = shared + C * tileWidth;
  const int y = blockIdx.y;
  const int x0 = blockIdx.x * kRowThreads;
  const int taps = 2 * radius + 1;
  for (int i = threadIdx.x; i < taps; i += kRowThreads) g[i] = weights[i];
  float px[C];
  const uint8_t* row = src + static_cast<size_t>(y) * width * C;
  for (int i = threadIdx.x; i < tileWidth; i += kRowThreads) {
    const int sx = ClampIndex(x0 - radius + i, width);
    LoadPremultiplied<C>(row + static_cast<size_t>(sx) * C, px);
#pragma unroll
    for (int c = 0; c < C; ++c) tile[c * tileWidth + i] = px[c];
  }
  __syncthreads();
  const int x = x0 + threadIdx.x;
  if (x >= width || y >= height) return;
  float acc[C] = {};
  for (int k = 0; k < taps; ++k) {
    const float gk = g[k];
#pragma unroll
    for (int c = 0; c < C; ++c) acc[c] += gk * tile[c * tileWidth + threadIdx.x + k];
  }
  float* out = tmp + (static_cast<size_t>(y) * width + x) * C;
#pragma unroll
  for (int c = 0; c < C; ++c) out[c] = acc[c];
}

template <int C>
__global__ void BlurVerticalTiledKernel(const float* __restrict__ tmp, int width, int height,
                                        const float* __restrict__ weights, int radius, uint8_t* __restrict__ dst) {
  extern __shared__ float shared[];
  const int tileRows = kRowsPerBlock + 2 * radius;
  float* tile = shared;
  float* g = shared + C * tileRows * kColumns;
  const int tx = threadIdx.x;
  const int ty = threadIdx.y;
  const int x = blockIdx.x * kColumns + tx;
  const int y0 = blockIdx.y * kRowsPerBlock;
  const int taps = 2 * radius + 1;
  for (int i = ty * kColumns + tx; i < taps; i += kColumns * kColumnThreadsY) g[i] = weights[i];
  for (int i = ty; i < tileRows; i += kColumnThreadsY) {
    const int sy = ClampIndex(y0 - radius + i, height);
    const float* in = tmp + (static_cast<size_t>(sy) * width + (x < width ? x : width - 1)) * C;
#pragma unroll
    for (int c = 0; c < C; ++c) tile[(c * tileRows + i) * kColumns + tx] = in[c];
  }
  __syncthreads();
  if (x >= width) return;
  for (int oy = ty; oy < kRowsPerBlock; oy += kColumnThreadsY) {
    const int y = y0 + oy;
    if (y >= height) break;
    float acc[C] = {};
    for (int k = 0; k < taps; ++k) {
      const float gk = g[k];
#pragma unroll
      for (int c = 0; c < C; ++c) acc[c] += gk * tile[(c * tileRows + oy + k) * kColumns + tx];
    }
    StoreUnpremultiplied<C>(acc, dst + (static_cast<size_t>(y) * width + x) * C);
  }
}

// For radii whose column tile would not fit in shared memory: the same sum straight from global memory.
template <int C>
__global__ void BlurVerticalDirectKernel(const float* __restrict__ tmp, int width, int height,
                                         const float* __restrict__ weights, int radius, uint8_t* __restrict__ dst) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= width || y >= height) return;
  float acc[C] = {};
  for (int k = 0; k <= 2 * radius; ++k) {
    const int sy = ClampIndex(y + k - radius, height);
    const float* in = tmp + (static_cast<size_t>(sy) * width + x) * C;
    const float gk = weights[k];
#pragma unroll
    for (int c = 0; c < C; ++c) acc[c] += gk * in[c];
  }
  StoreUnpremultiplied<C>(acc, dst + (static_cast<size_t>(y) * width + x) * C);
}

size_t HorizontalSharedBytes(int channels, int radius) {
  return (static_cast<size_t>(channels) * (kRowThreads + 2 * radius) + 2 * radius + 1) * sizeof(float);
}

size_t VerticalSharedBytes(int channels, int radius) {
  return (static_cast<size_t>(channels) * (kRowsPerBlock + 2 * radius) * kColumns + 2 * radius + 1) * sizeof(float);
}

}  // namespace

void LaunchBlurHorizontal(const uint8_t* src, int width, int height, int channels, const float* weights, int radius,
                          float* tmp, cudaStream_t stream) {
  const size_t shared = HorizontalSharedBytes(channels, radius);
  if (radius < 1 || shared > kMaxSharedBytes) throw InvalidArg("Blur radius out of range for the row tile");
  const dim3 grid(DivUp(width, kRowThreads), static_cast<unsigned>(height));
  DispatchChannels(channels, [&](auto c) {
    BlurHorizontalKernel<decltype(c)::value>
        <<<grid, kRowThreads, shared, stream>>>(src, width, height, weights, radius, tmp);
  });
  CUDA_CHECK(cudaGetLastError());
}

void LaunchBlurVertical(const float* tmp, int width, int height, int channels, const float* weights, int radius,
                        uint8_t* dst, cudaStream_t stream) {
  const size_t shared = VerticalSharedBytes(channels, radius);
  DispatchChannels(channels, [&](auto c) {
    constexpr int C = decltype(c)::value;
    if (shared <= kMaxSharedBytes) {
      const dim3 grid(DivUp(width, kColumns), DivUp(height, kRowsPerBlock));
      BlurVerticalTiledKernel<C><<<grid, kBlock, shared, stream>>>(tmp, width, height, weights, radius, dst);
    } else {
      BlurVerticalDirectKernel<C><<<GridFor(width, height), kBlock, 0, stream>>>(tmp, width, height, weights, radius,
                                                                               dst);
    }
  });
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace imgproc::cuda
