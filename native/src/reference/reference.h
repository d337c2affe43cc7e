// The plain C++ reference of every kernel: same weights, same accumulation order, same rounding.
#pragma once

#include <cstdint>

#include "../plan.h"

namespace imgproc::reference {

// Antialiased resize: horizontal pass into premultiplied floats, then vertical pass to bytes.
void Resize(const uint8_t* src, const ResizeOp& op, int channels, uint8_t* dst);
// Separable Gaussian blur with clamped borders.
void Blur(const uint8_t* src, const BlurOp& op, int channels, uint8_t* dst);
// 2x downscale: 2x2 box (premultiplied) or the top-left pixel of each 2x2 block.
void Halve(const uint8_t* src, Size in, int channels, bool nearest, uint8_t* dst);

// Runs a whole job the way the CUDA engine does.
void RunJob(const ImageView& source, const JobPlan& plan, const JobOutputs& outputs);

}  // namespace imgproc::reference
