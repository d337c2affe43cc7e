// Shared helpers for the kernel files.
#pragma once

#include <cuda_runtime.h>

#include "../cuda_check.h"
#include "../error.h"

namespace imgproc::cuda {

inline unsigned DivUp(int n, int d) { return static_cast<unsigned>((n + d - 1) / d); }

inline void CheckChannels(int channels) {
  if (channels != 3 && channels != 4) throw InvalidArg("Expected 3 or 4 channels for a kernel launch");
}

}  // namespace imgproc::cuda
