// Runs every kernel path on the device and compares it with the C++ reference (max abs diff <= 2).
// Meant for `compute-sanitizer --tool memcheck`; exits 1 on a mismatch, 2 on a CUDA error.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "../src/cuda_engine.h"
#include "../src/error.h"
#include "../src/plan.h"
#include "../src/reference/reference.h"

using namespace imgproc;

namespace {

std::vector<uint8_t> MakeImage(Size s, int channels, unsigned seed) {
  std::vector<uint8_t> px(ImageBytes(s, channels));
  std::mt19937 rng(seed);
  for (int y = 0; y < s.height; ++y) {
    for (int x = 0; x < s.width; ++x) {
      uint8_t* p = &px[(static_cast<size_t>(y) * s.width + x) * channels];
      p[0] = static_cast<uint8_t>((x * 255) / std::max(1, s.width - 1));
      p[1] = static_cast<uint8_t>((y * 255) / std::max(1, s.height - 1));
      p[2] = static_cast<uint8_t>(rng() & 0xff);
      // Alpha: a hard-edged disc, fully transparent outside, noisy inside.
      if (channels == 4) {
        const int dx = x - s.width / 2, dy = y - s.height / 2;
        const bool inside = dx * dx + dy * dy < (s.width * s.width) / 9;
        p[3] = inside ? static_cast<uint8_t>(128 + (rng() & 0x7f)) : 0;
      }
    }
  }
  return px;
}

int Compare(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  int worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(static_cast<int>(a[i]) - b[i]));
  return worst;
}

struct Case {
  std::string name;
  Size source;
  int channels;
  ResampleSpec spec;
};

}  // namespace

int main() {
  std::vector<Case> cases;
  for (int c : {3, 4}) {
    const std::string tag = c == 4 ? " rgba" : " rgb";
    ResampleSpec all;
    all.thumb = Size{256, 193};
    all.blur = Size{256, 193};
    all.sigma = 6.0f;
    all.lq = Size{259, 195};
    all.sample = Size{32, 24};
    all.widths = {Size{200, 151}, Size{518, 390}};
    cases.push_back({"all outputs, halved lq" + tag, {518, 390}, c, all});
    ResampleSpec odd = all;
    odd.lq = Size{233, 175};
    odd.sigma = 20.0f;  // a radius too wide for the shared column tile
    cases.push_back({"odd lq, wide blur" + tag, {517, 389}, c, odd});
    ResampleSpec nearest;
    nearest.lq = Size{259, 195};
    nearest.halveFilter = HalveFilter::kNearest;
    cases.push_back({"nearest halve" + tag, {518, 390}, c, nearest});
    ResampleSpec blurOnly;
    blurOnly.blur = Size{40, 30};
    blurOnly.sigma = 1.5f;
    blurOnly.sample = Size{8, 6};
    cases.push_back({"blur without thumb" + tag, {1000, 750}, c, blurOnly});
    ResampleSpec tiny;
    tiny.thumb = Size{1, 1};
    tiny.blur = Size{1, 1};
    tiny.sigma = 3.0f;
    tiny.lq = Size{1, 1};
    cases.push_back({"one pixel" + tag, {2, 2}, c, tiny});
  }

  int failures = 0;
  unsigned seed = 1;
  for (const Case& k : cases) {
    const std::vector<uint8_t> px = MakeImage(k.source, k.channels, seed++);
    ImageView view{px.data(), px.size(), k.source.width, k.source.height, k.channels};
    try {
      const JobPlan plan = BuildPlan(view, k.spec);
      auto sized = [&](const std::optional<ResizeOp>& op) {
        return std::vector<uint8_t>(op ? ImageBytes(op->out, k.channels) : 0);
      };
      std::vector<uint8_t> gThumb = sized(plan.thumbImage), rThumb = gThumb;
      std::vector<uint8_t> gBlur(plan.blur ? ImageBytes(plan.blur->size, k.channels) : 0), rBlur = gBlur;
      std::vector<uint8_t> gLq = sized(plan.lq), rLq = gLq, gSample = sized(plan.sample), rSample = gSample;
      JobOutputs gpu{gThumb.data(), gBlur.data(), gLq.data(), gSample.data(), {}};
      JobOutputs ref{rThumb.data(), rBlur.data(), rLq.data(), rSample.data(), {}};
      std::vector<std::vector<uint8_t>> gWidths, rWidths;
      for (const ResizeOp& w : plan.widths) {
        gWidths.emplace_back(ImageBytes(w.out, k.channels));
        rWidths.emplace_back(ImageBytes(w.out, k.channels));
      }
      for (size_t i = 0; i < plan.widths.size(); ++i) {
        gpu.widths.push_back(gWidths[i].data());
        ref.widths.push_back(rWidths[i].data());
      }
      CudaRunJob(0, view, plan, gpu);
      reference::RunJob(view, plan, ref);
      int worst = std::max({Compare(gThumb, rThumb), Compare(gBlur, rBlur), Compare(gLq, rLq),
                            Compare(gSample, rSample)});
      for (size_t i = 0; i < gWidths.size(); ++i) worst = std::max(worst, Compare(gWidths[i], rWidths[i]));
      const bool ok = worst <= 2;
      std::printf("%s  %-32s max abs diff %d\n", ok ? "ok  " : "FAIL", k.name.c_str(), worst);
      if (!ok) ++failures;
    } catch (const NativeError& e) {
      std::printf("ERROR %s: %s (%s)\n", k.name.c_str(), e.what(), e.code().c_str());
      return 2;
    }
  }
  CudaRelease(0);
  std::printf("%d of %zu cases failed\n", failures, cases.size());
  return failures == 0 ? 0 : 1;
}
