// One file (~460 lines): the device context, the job layout and the launches share private state.
#include "cuda_engine.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <random>

#include "cuda_check.h"
#include "error.h"
#include "kernels/kernels.h"

namespace imgproc {
namespace {

constexpr size_t kAlign = 256;
constexpr size_t kGrowStep = size_t{1} << 20;

size_t AlignUp(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

// Reused, grow-only buffers and the stream of one device. Leaked on purpose: freeing CUDA memory
// from static destructors at process exit races the driver's own teardown.
struct DeviceContext {
  std::mutex mutex;
  bool ready = false;
  std::string stickyError;
  cudaStream_t stream = nullptr;
  cudaEvent_t events[4] = {};
  uint8_t* pinned = nullptr;
  size_t pinnedCapacity = 0;
  uint8_t* device = nullptr;
  size_t deviceCapacity = 0;
};

DeviceContext& ContextFor(int device) {
  static std::mutex registryMutex;
  static auto* registry = new std::map<int, DeviceContext*>();
  std::lock_guard<std::mutex> lock(registryMutex);
  auto it = registry->find(device);
  if (it == registry->end()) it = registry->emplace(device, new DeviceContext()).first;
  return *it->second;
}

size_t Grown(size_t needed, size_t current) {
  const size_t want = std::max(needed, current + current / 2);
  return (want + kGrowStep - 1) / kGrowStep * kGrowStep;
}

void EnsureCapacity(DeviceContext& ctx, size_t pinnedBytes, size_t deviceBytes) {
  if (pinnedBytes > ctx.pinnedCapacity) {
    const size_t bytes = Grown(pinnedBytes, ctx.pinnedCapacity);
    if (ctx.pinned != nullptr) CUDA_CHECK(cudaFreeHost(ctx.pinned));
    ctx.pinned = nullptr;
    ctx.pinnedCapacity = 0;
    CUDA_CHECK(cudaMallocHost(reinterpret_cast<void**>(&ctx.pinned), bytes));
    ctx.pinnedCapacity = bytes;
  }
  if (deviceBytes > ctx.deviceCapacity) {
    const size_t bytes = Grown(deviceBytes, ctx.deviceCapacity);
    if (ctx.device != nullptr) CUDA_CHECK(cudaFree(ctx.device));
    ctx.device = nullptr;
    ctx.deviceCapacity = 0;
    CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&ctx.device), bytes));
    ctx.deviceCapacity = bytes;
  }
}

void SelectDevice(int device) {
  int count = 0;
  CUDA_CHECK(cudaGetDeviceCount(&count));
  if (device < 0 || device >= count) {
    throw NativeError(kErrNoDevice, "no CUDA device " + std::to_string(device) + " (this machine has " +
                                        std::to_string(count) + ")");
  }
  CUDA_CHECK(cudaSetDevice(device));
}

void Prepare(DeviceContext& ctx) {
  if (ctx.ready) return;
  // After a partial failure, keep what was created rather than leak it on the retry.
  if (ctx.stream == nullptr) CUDA_CHECK(cudaStreamCreateWithFlags(&ctx.stream, cudaStreamNonBlocking));
  for (auto& ev : ctx.events) {
    if (ev == nullptr) CUDA_CHECK(cudaEventCreate(&ev));
  }
  ctx.ready = true;
}

// Where each piece of a job lives: the upload region [source | tables] starts at 0 in both pinned
// and device memory; the download region holds every returned output back to back.
struct ResizeTables {
  size_t xBounds = 0, xWeights = 0, yBounds = 0, yWeights = 0;
};

struct JobLayout {
  std::vector<uint8_t> tables;
  size_t tablesOffset = 0;
  size_t uploadBytes = 0;
  ResizeTables thumb, lq, sample;
  std::vector<ResizeTables> widths;
  size_t blurWeights = 0;
  size_t downloadBase = 0;
  size_t downloadBytes = 0;
  size_t thumbOut = 0, blurOut = 0, lqOut = 0, sampleOut = 0;  // absolute device offsets
  std::vector<size_t> widthsOut;                               // likewise, 0 for a same-size copy
  size_t thumbScratch = 0;
  size_t tmp = 0;
  size_t deviceBytes = 0;
};

template <typename T>
size_t AppendTable(std::vector<uint8_t>& blob, const std::vector<T>& values) {
  const size_t at = AlignUp(blob.size());
  blob.resize(at + values.size() * sizeof(T));
  std::memcpy(blob.data() + at, values.data(), values.size() * sizeof(T));
  return at;
}

ResizeTables AppendResize(std::vector<uint8_t>& blob, const ResizeOp& op) {
  ResizeTables t;
  if (op.mode != ResizeMode::kResize) return t;
  t.xBounds = AppendTable(blob, op.x.bounds);
  t.xWeights = AppendTable(blob, op.x.weights);
  t.yBounds = AppendTable(blob, op.y.bounds);
  t.yWeights = AppendTable(blob, op.y.weights);
  return t;
}

ResizeTables AppendResize(std::vector<uint8_t>& blob, const std::optional<ResizeOp>& op) {
  return op ? AppendResize(blob, *op) : ResizeTables{};
}

size_t TmpBytes(const ResizeOp& op, int channels) {
  if (op.mode != ResizeMode::kResize) return 0;
  return static_cast<size_t>(op.out.width) * op.in.height * channels * sizeof(float);
}

size_t TmpBytes(const std::optional<ResizeOp>& op, int channels) { return op ? TmpBytes(*op, channels) : 0; }

JobLayout PlanLayout(const JobPlan& plan) {
  const int c = plan.channels;
  JobLayout l;
  l.thumb = AppendResize(l.tables, plan.thumbImage);
  l.lq = AppendResize(l.tables, plan.lq);
  l.sample = AppendResize(l.tables, plan.sample);
  for (const ResizeOp& w : plan.widths) l.widths.push_back(AppendResize(l.tables, w));
  if (plan.blur) l.blurWeights = AppendTable(l.tables, plan.blur->weights);

  l.tablesOffset = AlignUp(ImageBytes(plan.source, c));
  l.uploadBytes = l.tablesOffset + l.tables.size();
  l.downloadBase = AlignUp(l.uploadBytes);
  size_t at = l.downloadBase;
  auto take = [&at](size_t bytes) {
    const size_t here = at;
    at = AlignUp(at + bytes);
    return here;
  };
  if (plan.thumbImage && plan.returnThumb) l.thumbOut = take(ImageBytes(plan.thumbImage->out, c));
  if (plan.blur) l.blurOut = take(ImageBytes(plan.blur->size, c));
  if (plan.lq && plan.lq->mode != ResizeMode::kCopy) l.lqOut = take(ImageBytes(plan.lq->out, c));
  if (plan.sample) l.sampleOut = take(ImageBytes(plan.sample->out, c));
  for (const ResizeOp& w : plan.widths) l.widthsOut.push_back(w.mode == ResizeMode::kCopy ? 0 : take(ImageBytes(w.out, c)));
  l.downloadBytes = at - l.downloadBase;
  if (plan.thumbImage && !plan.returnThumb) l.thumbScratch = take(ImageBytes(plan.thumbImage->out, c));
  size_t tmpBytes = std::max({TmpBytes(plan.thumbImage, c), TmpBytes(plan.lq, c), TmpBytes(plan.sample, c)});
  if (plan.blur) tmpBytes = std::max(tmpBytes, ImageBytes(plan.blur->size, c) * sizeof(float));
  for (const ResizeOp& w : plan.widths) tmpBytes = std::max(tmpBytes, TmpBytes(w, c));
  l.tmp = take(tmpBytes);
  l.deviceBytes = at;
  return l;
}

void RunResize(uint8_t* base, const ResizeOp& op, const ResizeTables& t, int channels, const uint8_t* src,
               uint8_t* dst, float* tmp, cudaStream_t stream) {
  switch (op.mode) {
    case ResizeMode::kCopy:
      CUDA_CHECK(cudaMemcpyAsync(dst, src, ImageBytes(op.in, channels), cudaMemcpyDeviceToDevice, stream));
      return;
    case ResizeMode::kHalveBox:
    case ResizeMode::kHalveNearest:
      cuda::LaunchHalve(src, op.in.width, op.in.height, channels, op.mode == ResizeMode::kHalveNearest, dst, stream);
      return;
    case ResizeMode::kResize: {
      const uint8_t* tables = base;
      const cuda::DeviceAxis ax{reinterpret_cast<const int32_t*>(tables + t.xBounds),
                                reinterpret_cast<const float*>(tables + t.xWeights), op.x.taps, op.x.outSize};
      const cuda::DeviceAxis ay{reinterpret_cast<const int32_t*>(tables + t.yBounds),
                                reinterpret_cast<const float*>(tables + t.yWeights), op.y.taps, op.y.outSize};
      cuda::LaunchResizeHorizontal(src, op.in.width, op.in.height, channels, ax, tmp, stream);
      cuda::LaunchResizeVertical(tmp, op.out.width, channels, ay, dst, stream);
      return;
    }
  }
}

double Elapsed(cudaEvent_t from, cudaEvent_t to) {
  float ms = 0;
  CUDA_CHECK(cudaEventElapsedTime(&ms, from, to));
  return ms;
}

double MsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

JobTimings RunOnDevice(DeviceContext& ctx, const ImageView& source, const JobPlan& plan, const JobOutputs& out) {
  const int c = plan.channels;
  const JobLayout l = PlanLayout(plan);
  EnsureCapacity(ctx, std::max(l.uploadBytes, l.downloadBytes), l.deviceBytes);

  JobTimings timings;
  timings.uploadBytes = l.uploadBytes;
  timings.downloadBytes = l.downloadBytes;
  auto staging = std::chrono::steady_clock::now();
  std::memcpy(ctx.pinned, source.data, source.length);
  if (!l.tables.empty()) std::memcpy(ctx.pinned + l.tablesOffset, l.tables.data(), l.tables.size());
  timings.stagingMs = MsSince(staging);

  uint8_t* d = ctx.device;
  cudaStream_t s = ctx.stream;
  uint8_t* tables = d + l.tablesOffset;
  float* tmp = reinterpret_cast<float*>(d + l.tmp);
  CUDA_CHECK(cudaEventRecord(ctx.events[0], s));
  CUDA_CHECK(cudaMemcpyAsync(d, ctx.pinned, l.uploadBytes, cudaMemcpyHostToDevice, s));
  CUDA_CHECK(cudaEventRecord(ctx.events[1], s));

  const uint8_t* thumb = nullptr;
  if (plan.thumbImage) {
    uint8_t* dst = d + (plan.returnThumb ? l.thumbOut : l.thumbScratch);
    RunResize(tables, *plan.thumbImage, l.thumb, c, d, dst, tmp, s);
    thumb = dst;
  }
  if (plan.blur) {
    const BlurOp& b = *plan.blur;
    const float* g = reinterpret_cast<const float*>(tables + l.blurWeights);
    cuda::LaunchBlurHorizontal(thumb, b.size.width, b.size.height, c, g, b.radius, tmp, s);
    cuda::LaunchBlurVertical(tmp, b.size.width, b.size.height, c, g, b.radius, d + l.blurOut, s);
  }
  if (plan.lq && plan.lq->mode != ResizeMode::kCopy) RunResize(tables, *plan.lq, l.lq, c, d, d + l.lqOut, tmp, s);
  if (plan.sample) {
    RunResize(tables, *plan.sample, l.sample, c, plan.sampleFromThumb ? thumb : d, d + l.sampleOut, tmp, s);
  }
  for (size_t i = 0; i < plan.widths.size(); ++i) {
    if (plan.widths[i].mode != ResizeMode::kCopy) {
      RunResize(tables, plan.widths[i], l.widths[i], c, d, d + l.widthsOut[i], tmp, s);
    }
  }
  CUDA_CHECK(cudaEventRecord(ctx.events[2], s));
  if (l.downloadBytes > 0) {
    CUDA_CHECK(cudaMemcpyAsync(ctx.pinned, d + l.downloadBase, l.downloadBytes, cudaMemcpyDeviceToHost, s));
  }
  CUDA_CHECK(cudaEventRecord(ctx.events[3], s));
  CUDA_CHECK(cudaStreamSynchronize(s));
  timings.uploadMs = Elapsed(ctx.events[0], ctx.events[1]);
  timings.kernelsMs = Elapsed(ctx.events[1], ctx.events[2]);
  timings.downloadMs = Elapsed(ctx.events[2], ctx.events[3]);

  staging = std::chrono::steady_clock::now();
  // The download region landed at the start of the pinned buffer.
  auto host = [&](size_t deviceOffset) { return ctx.pinned + (deviceOffset - l.downloadBase); };
  if (plan.thumbImage && plan.returnThumb) {
    std::memcpy(out.thumb, host(l.thumbOut), ImageBytes(plan.thumbImage->out, c));
  }
  if (plan.blur) std::memcpy(out.blur, host(l.blurOut), ImageBytes(plan.blur->size, c));
  if (plan.lq) {
    // A same-size lq is the decoded image itself: no device round trip.
    const uint8_t* from = plan.lq->mode == ResizeMode::kCopy ? source.data : host(l.lqOut);
    std::memcpy(out.lq, from, ImageBytes(plan.lq->out, c));
  }
  if (plan.sample) std::memcpy(out.sample, host(l.sampleOut), ImageBytes(plan.sample->out, c));
  for (size_t i = 0; i < plan.widths.size(); ++i) {
    const ResizeOp& w = plan.widths[i];
    std::memcpy(out.widths[i], w.mode == ResizeMode::kCopy ? source.data : host(l.widthsOut[i]), ImageBytes(w.out, c));
  }
  timings.stagingMs += MsSince(staging);
  return timings;
}

// After a failed job: let work already queued finish before the next job reuses the staging buffer.
void Drain(DeviceContext& ctx) {
  if (ctx.ready && cudaStreamSynchronize(ctx.stream) != cudaSuccess) (void)cudaGetLastError();
}

// Frees device allocations even when a benchmark step throws.
struct DeviceAllocations {
  std::vector<void*> pointers;
  ~DeviceAllocations() {
    for (void* p : pointers) cudaFree(p);
  }
  template <typename T>
  T* Alloc(size_t count) {
    void* p = nullptr;
    CUDA_CHECK(cudaMalloc(&p, count * sizeof(T)));
    pointers.push_back(p);
    return static_cast<T*>(p);
  }
};

}  // namespace

CudaInfo QueryCuda() {
  CudaInfo info;
  info.compiled = true;
  cudaDriverGetVersion(&info.driverVersion);
  cudaRuntimeGetVersion(&info.runtimeVersion);
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    (void)cudaGetLastError();
    info.error = info.driverVersion == 0 ? std::string("no NVIDIA driver is installed (libcuda.so.1 not found)")
                                         : std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err);
    return info;
  }
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) {
      (void)cudaGetLastError();
      continue;
    }
    DeviceInfo d;
    d.index = i;
    d.name = prop.name;
    d.major = prop.major;
    d.minor = prop.minor;
    d.totalMemory = prop.totalGlobalMem;
    d.multiprocessors = prop.multiProcessorCount;
    cudaDeviceGetAttribute(&d.memoryClockKHz, cudaDevAttrMemoryClockRate, i);
    cudaDeviceGetAttribute(&d.memoryBusWidthBits, cudaDevAttrGlobalMemoryBusWidth, i);
    (void)cudaGetLastError();
    info.devices.push_back(std::move(d));
  }
  if (info.devices.empty()) info.error = "no CUDA device answered";
  return info;
}

JobTimings CudaRunJob(int device, const ImageView& source, const JobPlan& plan, const JobOutputs& outputs) {
  DeviceContext& ctx = ContextFor(device);
  std::lock_guard<std::mutex> lock(ctx.mutex);
  if (!ctx.stickyError.empty()) {
    throw NativeError(kErrCudaSticky, "the CUDA context of device " + std::to_string(device) +
                                          " is unusable after an earlier error: " + ctx.stickyError);
  }
  try {
    SelectDevice(device);
    Prepare(ctx);
    return RunOnDevice(ctx, source, plan, outputs);
  } catch (const CudaError& e) {
    if (e.sticky()) ctx.stickyError = e.what();
    Drain(ctx);
    throw;
  } catch (...) {
    Drain(ctx);
    throw;
  }
}

void CudaRelease(int device) {
  DeviceContext& ctx = ContextFor(device);
  std::lock_guard<std::mutex> lock(ctx.mutex);
  if (!ctx.stickyError.empty()) return;
  SelectDevice(device);
  if (ctx.pinned != nullptr) CUDA_CHECK(cudaFreeHost(ctx.pinned));
  ctx.pinned = nullptr;
  ctx.pinnedCapacity = 0;
  if (ctx.device != nullptr) CUDA_CHECK(cudaFree(ctx.device));
  ctx.device = nullptr;
  ctx.deviceCapacity = 0;
}

std::vector<KernelTiming> CudaBenchKernels(int device, int width, int height, int channels, int iterations) {
  if (channels != 3 && channels != 4) throw InvalidArg("Expected 3 or 4 channels for the kernel bench");
  if (width < 2 || height < 2 || width > kMaxDimension || height > kMaxDimension || iterations < 1) {
    throw InvalidArg("Expected a bench image of at least 2x2 and at least one iteration");
  }
  DeviceContext& ctx = ContextFor(device);
  std::lock_guard<std::mutex> lock(ctx.mutex);
  if (!ctx.stickyError.empty()) throw NativeError(kErrCudaSticky, ctx.stickyError);
  SelectDevice(device);
  Prepare(ctx);
  cudaStream_t s = ctx.stream;
  const int c = channels;
  const Size src{width, height};
  const size_t srcBytes = ImageBytes(src, c);

  DeviceAllocations mem;
  uint8_t* dSrc = mem.Alloc<uint8_t>(srcBytes);
  uint8_t* dDst = mem.Alloc<uint8_t>(srcBytes);
  float* dTmp = mem.Alloc<float>(srcBytes);
  std::vector<uint8_t> noise(srcBytes);
  std::mt19937 rng(42);
  for (auto& v : noise) v = static_cast<uint8_t>(rng() & 0xff);
  CUDA_CHECK(cudaMemcpy(dSrc, noise.data(), srcBytes, cudaMemcpyHostToDevice));

  auto upload = [&mem](const auto& values) {
    using T = typename std::decay_t<decltype(values)>::value_type;
    T* p = mem.Alloc<T>(values.size());
    CUDA_CHECK(cudaMemcpy(p, values.data(), values.size() * sizeof(T), cudaMemcpyHostToDevice));
    return p;
  };
  auto axis = [&upload](const ResizeAxis& a) {
    return cuda::DeviceAxis{upload(a.bounds), upload(a.weights), a.taps, a.outSize};
  };

  std::vector<KernelTiming> results;
  auto time = [&](const std::string& name, double bytes, const auto& launch) {
    launch();  // warm-up
    CUDA_CHECK(cudaEventRecord(ctx.events[0], s));
    for (int i = 0; i < iterations; ++i) launch();
    CUDA_CHECK(cudaEventRecord(ctx.events[1], s));
    CUDA_CHECK(cudaEventSynchronize(ctx.events[1]));
    results.push_back({name, Elapsed(ctx.events[0], ctx.events[1]) / iterations, bytes});
  };

  const double u8 = static_cast<double>(c);
  const double f32 = static_cast<double>(c) * sizeof(float);
  const double pixels = static_cast<double>(width) * height;

  const int thumbW = std::min(256, width);
  const int thumbH = std::max(1, static_cast<int>(static_cast<double>(height) * thumbW / width + 0.5));
  const ResizeAxis tx = BuildResizeAxis(width, thumbW);
  const ResizeAxis ty = BuildResizeAxis(height, thumbH);
  const cuda::DeviceAxis dtx = axis(tx), dty = axis(ty);
  time("resize.horizontal " + std::to_string(width) + "->" + std::to_string(thumbW), pixels * u8 +
       static_cast<double>(thumbW) * height * f32, [&] {
    cuda::LaunchResizeHorizontal(dSrc, width, height, c, dtx, dTmp, s);
  });
  time("resize.vertical " + std::to_string(height) + "->" + std::to_string(thumbH),
       static_cast<double>(thumbW) * height * f32 + static_cast<double>(thumbW) * thumbH * u8,
       [&] { cuda::LaunchResizeVertical(dTmp, thumbW, c, dty, dDst, s); });

  // A non-half lq (0.45x) exercises the resize at a small scale factor.
  const int lqW = std::max(1, static_cast<int>(width * 0.45)), lqH = std::max(1, static_cast<int>(height * 0.45));
  const ResizeAxis lx = BuildResizeAxis(width, lqW);
  const ResizeAxis ly = BuildResizeAxis(height, lqH);
  const cuda::DeviceAxis dlx = axis(lx), dly = axis(ly);
  time("resize.horizontal " + std::to_string(width) + "->" + std::to_string(lqW),
       pixels * u8 + static_cast<double>(lqW) * height * f32,
       [&] { cuda::LaunchResizeHorizontal(dSrc, width, height, c, dlx, dTmp, s); });
  time("resize.vertical " + std::to_string(height) + "->" + std::to_string(lqH),
       static_cast<double>(lqW) * height * f32 + static_cast<double>(lqW) * lqH * u8,
       [&] { cuda::LaunchResizeVertical(dTmp, lqW, c, dly, dDst, s); });

  const double halveBytes = pixels * u8 + static_cast<double>(width / 2) * (height / 2) * u8;
  time("halve.box", halveBytes, [&] { cuda::LaunchHalve(dSrc, width, height, c, false, dDst, s); });
  time("halve.nearest", halveBytes, [&] { cuda::LaunchHalve(dSrc, width, height, c, true, dDst, s); });

  int radius = 0;
  const std::vector<float> g = GaussianWeights(6.0f, &radius);
  const float* dg = upload(g);
  time("blur.horizontal sigma=6", pixels * u8 + pixels * f32,
       [&] { cuda::LaunchBlurHorizontal(dSrc, width, height, c, dg, radius, dTmp, s); });
  time("blur.vertical sigma=6", pixels * f32 + pixels * u8,
       [&] { cuda::LaunchBlurVertical(dTmp, width, height, c, dg, radius, dDst, s); });
  CUDA_CHECK(cudaStreamSynchronize(s));
  return results;
}

}  // namespace imgproc
