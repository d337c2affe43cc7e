// Shared helpers for the kernel files.
#pragma once

#include <cuda_runtime.h>

#include "../channels.h"
#include "../cuda_check.h"

namespace imgproc::cuda {

// The launch shape of every one-thread-per-pixel kernel: a warp wide, so rows load coalesced.
constexpr dim3 kBlock{32, 8, 1};

inline unsigned DivUp(int n, int d) { return static_cast<unsigned>((n + d - 1) / d); }

// Enough kBlock tiles to cover width x height.
inline dim3 GridFor(int width, int height) {
  return dim3(DivUp(width, static_cast<int>(kBlock.x)), DivUp(height, static_cast<int>(kBlock.y)));
}

}  // namespace imgproc::cuda
