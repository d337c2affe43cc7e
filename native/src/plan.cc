#include "plan.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "error.h"

namespace imgproc {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kLanczosSupport = 3.0;

double Sinc(double x) {
  if (x == 0.0) return 1.0;
  x *= kPi;
  return std::sin(x) / x;
}

double Lanczos3(double x) {
  if (x > -kLanczosSupport && x < kLanczosSupport) return Sinc(x) * Sinc(x / kLanczosSupport);
  return 0.0;
}

std::string Describe(Size s) { return std::to_string(s.width) + "x" + std::to_string(s.height); }

void CheckSize(const char* what, Size s) {
  if (s.width < 1 || s.height < 1 || s.width > kMaxDimension || s.height > kMaxDimension) {
    throw InvalidArg(std::string("Expected ") + what + " between 1x1 and " + std::to_string(kMaxDimension) + "x" +
                     std::to_string(kMaxDimension) + " but received " + Describe(s));
  }
  if (static_cast<double>(s.width) * s.height > kMaxPixels) {
    throw InvalidArg(std::string("Expected ") + what + " of at most 2^30 pixels but received " + Describe(s));
  }
}

ResizeOp MakeResize(Size in, Size out, bool allowHalve, HalveFilter halveFilter) {
  ResizeOp op;
  op.in = in;
  op.out = out;
  if (in == out) {
    op.mode = ResizeMode::kCopy;
  } else if (allowHalve && out.width * 2 == in.width && out.height * 2 == in.height) {
    op.mode = halveFilter == HalveFilter::kNearest ? ResizeMode::kHalveNearest : ResizeMode::kHalveBox;
  } else {
    op.mode = ResizeMode::kResize;
    op.x = BuildResizeAxis(in.width, out.width);
    op.y = BuildResizeAxis(in.height, out.height);
  }
  return op;
}

}  // namespace

ResizeAxis BuildResizeAxis(int inSize, int outSize) {
  ResizeAxis axis;
  axis.inSize = inSize;
  axis.outSize = outSize;
  const double scale = static_cast<double>(inSize) / outSize;
  const double filterScale = std::max(scale, 1.0);
  const double support = kLanczosSupport * filterScale;
  const int maxTaps = static_cast<int>(std::ceil(support)) * 2 + 1;

  std::vector<double> w(static_cast<size_t>(maxTaps));
  std::vector<int32_t> starts(static_cast<size_t>(outSize));
  std::vector<int32_t> counts(static_cast<size_t>(outSize));
  std::vector<double> all(static_cast<size_t>(outSize) * maxTaps, 0.0);
  int taps = 1;
  for (int i = 0; i < outSize; ++i) {
    const double center = (i + 0.5) * scale;
    const int lo = std::max(static_cast<int>(center - support + 0.5), 0);
    const int hi = std::min(static_cast<int>(center + support + 0.5), inSize);
    const int count = std::min(std::max(hi - lo, 1), maxTaps);
    double sum = 0.0;
    for (int k = 0; k < count; ++k) {
      w[k] = Lanczos3((k + lo - center + 0.5) / filterScale);
      sum += w[k];
    }
    for (int k = 0; k < count; ++k) all[static_cast<size_t>(i) * maxTaps + k] = sum != 0.0 ? w[k] / sum : 0.0;
    starts[i] = std::min(lo, inSize - 1);
    counts[i] = count;
    taps = std::max(taps, count);
  }

  axis.taps = taps;
  axis.bounds.resize(static_cast<size_t>(outSize) * 2);
  axis.weights.assign(static_cast<size_t>(outSize) * taps, 0.0f);
  for (int i = 0; i < outSize; ++i) {
    axis.bounds[2 * i] = starts[i];
    axis.bounds[2 * i + 1] = counts[i];
    for (int k = 0; k < counts[i]; ++k) {
      axis.weights[static_cast<size_t>(i) * taps + k] = static_cast<float>(all[static_cast<size_t>(i) * maxTaps + k]);
    }
  }
  return axis;
}

std::vector<float> GaussianWeights(float sigma, int* radius) {
  const int r = std::max(1, static_cast<int>(std::ceil(3.0 * sigma)));
  std::vector<double> w(static_cast<size_t>(2 * r + 1));
  double sum = 0.0;
  for (int i = -r; i <= r; ++i) {
    w[i + r] = std::exp(-(static_cast<double>(i) * i) / (2.0 * sigma * sigma));
    sum += w[i + r];
  }
  std::vector<float> out(w.size());
  for (size_t i = 0; i < w.size(); ++i) out[i] = static_cast<float>(w[i] / sum);
  *radius = r;
  return out;
}

JobPlan BuildPlan(const ImageView& source, const ResampleSpec& spec) {
  if (source.channels != 3 && source.channels != 4) {
    throw InvalidArg("Expected 3 or 4 for channels but received " + std::to_string(source.channels));
  }
  const Size src{source.width, source.height};
  CheckSize("source size", src);
  const size_t expected = ImageBytes(src, source.channels);
  if (source.data == nullptr || source.length != expected) {
    throw InvalidArg("Expected " + std::to_string(expected) + " bytes of pixel data for " + Describe(src) + "x" +
                     std::to_string(source.channels) + " but received " + std::to_string(source.length));
  }
  if (spec.thumb) CheckSize("thumb size", *spec.thumb);
  if (spec.blur) {
    CheckSize("blur size", *spec.blur);
    if (spec.thumb && !(*spec.thumb == *spec.blur)) {
      throw InvalidArg("Expected blur size equal to thumb size (" + Describe(*spec.thumb) + ") but received " +
                       Describe(*spec.blur));
    }
    if (!(std::isfinite(spec.sigma) && spec.sigma > 0.0f && spec.sigma <= kMaxSigma)) {
      throw InvalidArg("Expected sigma in (0, " + std::to_string(static_cast<int>(kMaxSigma)) + "] but received " +
                       std::to_string(spec.sigma));
    }
  }
  if (spec.lq) CheckSize("lq size", *spec.lq);
  if (spec.sample) CheckSize("sample size", *spec.sample);
  if (spec.widths.size() > kMaxWidths) {
    throw InvalidArg("Expected at most " + std::to_string(kMaxWidths) + " widths but received " +
                     std::to_string(spec.widths.size()));
  }
  for (size_t i = 0; i < spec.widths.size(); ++i) {
    CheckSize(("widths[" + std::to_string(i) + "] size").c_str(), spec.widths[i]);
  }

  JobPlan plan;
  plan.channels = source.channels;
  plan.source = src;
  const std::optional<Size> thumbSize = spec.thumb ? spec.thumb : spec.blur;
  if (thumbSize) {
    plan.thumbImage = MakeResize(src, *thumbSize, false, spec.halveFilter);
    plan.returnThumb = spec.thumb.has_value();
  }
  if (spec.blur) {
    BlurOp blur;
    blur.size = *spec.blur;
    blur.weights = GaussianWeights(spec.sigma, &blur.radius);
    plan.blur = std::move(blur);
  }
  if (spec.lq) plan.lq = MakeResize(src, *spec.lq, true, spec.halveFilter);
  if (spec.sample) {
    plan.sampleFromThumb = thumbSize.has_value();
    plan.sample = MakeResize(plan.sampleFromThumb ? *thumbSize : src, *spec.sample, false, spec.halveFilter);
  }
  for (const Size& w : spec.widths) plan.widths.push_back(MakeResize(src, w, false, spec.halveFilter));
  return plan;
}

}  // namespace imgproc
