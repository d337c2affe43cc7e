// What one image's job computes, validated and with every filter table precomputed on the host.
// The C++ reference and the CUDA engine both execute a JobPlan, so they share the same weights.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace imgproc {

inline constexpr int kMaxDimension = 65535;
inline constexpr double kMaxPixels = 1024.0 * 1024.0 * 1024.0;
inline constexpr float kMaxSigma = 100.0f;
inline constexpr size_t kMaxWidths = 32;

struct Size {
  int width = 0;
  int height = 0;
  bool operator==(const Size& o) const { return width == o.width && height == o.height; }
};

struct ImageView {
  const uint8_t* data = nullptr;
  size_t length = 0;
  int width = 0;
  int height = 0;
  int channels = 0;
};

enum class HalveFilter { kBox, kNearest };

// The addon's request, as JavaScript sent it.
struct ResampleSpec {
  std::optional<Size> thumb;
  std::optional<Size> blur;
  float sigma = 0.0f;
  std::optional<Size> lq;
  std::optional<Size> sample;
  // Responsive widths, each resized from the source (sizes from the pipeline's dimension function).
  std::vector<Size> widths;
  HalveFilter halveFilter = HalveFilter::kBox;
};

// Filter weights along one axis: output i reads `count[i]` inputs from `start[i]`,
// weighted by weights[i * taps + k].
struct ResizeAxis {
  int inSize = 0;
  int outSize = 0;
  int taps = 0;
  std::vector<int32_t> bounds;  // start, count interleaved
  std::vector<float> weights;
};

enum class ResizeMode { kCopy, kResize, kHalveBox, kHalveNearest };

struct ResizeOp {
  ResizeMode mode = ResizeMode::kCopy;
  Size in;
  Size out;
  ResizeAxis x;
  ResizeAxis y;
};

struct BlurOp {
  Size size;
  int radius = 0;
  std::vector<float> weights;  // 2 * radius + 1 taps, centre at [radius]
};

struct JobPlan {
  int channels = 0;
  Size source;
  // The thumb-sized image: made when thumb, blur or a thumb-derived sample needs it.
  std::optional<ResizeOp> thumbImage;
  bool returnThumb = false;
  std::optional<BlurOp> blur;
  std::optional<ResizeOp> lq;
  std::optional<ResizeOp> sample;
  // The sample is reduced from the thumb when there is one (it is tiny either way).
  bool sampleFromThumb = false;
  std::vector<ResizeOp> widths;
};

// Caller-owned destinations, each sized width * height * channels of its output.
struct JobOutputs {
  uint8_t* thumb = nullptr;
  uint8_t* blur = nullptr;
  uint8_t* lq = nullptr;
  uint8_t* sample = nullptr;
  std::vector<uint8_t*> widths;  // one per plan.widths
};

// Throws NativeError(ERR_INVALID_ARG) on any invalid channel count, size, sigma or length.
JobPlan BuildPlan(const ImageView& source, const ResampleSpec& spec);

// Antialiased (support grows with the scale factor) Lanczos-3 weights, as Pillow computes them.
ResizeAxis BuildResizeAxis(int inSize, int outSize);
std::vector<float> GaussianWeights(float sigma, int* radius);

inline size_t ImageBytes(Size s, int channels) {
  return static_cast<size_t>(s.width) * static_cast<size_t>(s.height) * static_cast<size_t>(channels);
}

}  // namespace imgproc
