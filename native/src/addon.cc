// Node-API surface of imgproc_native (~380 lines: every export's argument reading sits together).
// JavaScript validates and shapes requests first; this file re-checks them, copies them into plain
// structs and queues an AsyncWorker: Execute() never touches Node-API and no CUDA call runs on the
// event loop thread.
#include <napi.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "cuda_engine.h"
#include "error.h"
#include "plan.h"
#include "palette/area_sample.h"
#include "palette/median_cut.h"
#include "process/exec.h"
#include "reference/reference.h"

#ifndef IMGPROC_VERSION
#define IMGPROC_VERSION "0.0.0"
#endif
#ifndef IMGPROC_CUDA_ARCHITECTURES
#define IMGPROC_CUDA_ARCHITECTURES ""
#endif

namespace imgproc {
namespace {

Napi::Error ToJsError(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error err = code == kErrInvalidArg ? Napi::TypeError::New(env, message) : Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  return err;
}

std::string Received(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsNumber()) return std::to_string(v.As<Napi::Number>().DoubleValue()) + " of type number";
  if (v.IsString()) return "\"" + v.As<Napi::String>().Utf8Value() + "\" of type string";
  return "a value of type " + std::string(v.IsObject() ? "object" : "other");
}

int ReadInt(const Napi::Object& obj, const char* key, const std::string& path) {
  const Napi::Value v = obj.Get(key);
  const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  if (!std::isfinite(d) || std::floor(d) != d || d < 0 || d > 2147483647.0) {
    throw InvalidArg("Expected integer for " + path + " but received " + Received(v));
  }
  return static_cast<int>(d);
}

Napi::Object ReadObject(const Napi::Value& v, const std::string& path) {
  if (!v.IsObject()) throw InvalidArg("Expected object for " + path + " but received " + Received(v));
  return v.As<Napi::Object>();
}

std::optional<Size> ReadOptionalSize(const Napi::Object& obj, const char* key, const std::string& path) {
  const Napi::Value v = obj.Get(key);
  if (v.IsUndefined() || v.IsNull()) return std::nullopt;
  const Napi::Object s = ReadObject(v, path);
  return Size{ReadInt(s, "width", path + ".width"), ReadInt(s, "height", path + ".height")};
}

ImageView ReadSource(const Napi::Value& v, Napi::Value* data) {
  const Napi::Object obj = ReadObject(v, "source");
  *data = obj.Get("data");
  if (!data->IsTypedArray() || data->As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw InvalidArg("Expected Buffer or Uint8Array for source.data but received " + Received(*data));
  }
  const auto bytes = data->As<Napi::Uint8Array>();
  ImageView view;
  view.data = bytes.Data();
  view.length = bytes.ByteLength();
  view.width = ReadInt(obj, "width", "source.width");
  view.height = ReadInt(obj, "height", "source.height");
  view.channels = ReadInt(obj, "channels", "source.channels");
  return view;
}

ResampleSpec ReadSpec(const Napi::Value& requestValue, const Napi::Value& optionsValue) {
  const Napi::Object request = ReadObject(requestValue, "request");
  ResampleSpec spec;
  spec.thumb = ReadOptionalSize(request, "thumb", "request.thumb");
  spec.lq = ReadOptionalSize(request, "lq", "request.lq");
  spec.sample = ReadOptionalSize(request, "sample", "request.sample");
  const Napi::Value widths = request.Get("widths");
  if (!widths.IsUndefined() && !widths.IsNull()) {
    if (!widths.IsArray()) throw InvalidArg("Expected array for request.widths but received " + Received(widths));
    const Napi::Array list = widths.As<Napi::Array>();
    if (list.Length() > kMaxWidths) {
      throw InvalidArg("Expected at most " + std::to_string(kMaxWidths) + " widths but received " +
                       std::to_string(list.Length()));
    }
    for (uint32_t i = 0; i < list.Length(); ++i) {
      const std::string path = "request.widths[" + std::to_string(i) + "]";
      const Napi::Object s = ReadObject(list.Get(i), path);
      spec.widths.push_back(Size{ReadInt(s, "width", path + ".width"), ReadInt(s, "height", path + ".height")});
    }
  }
  const Napi::Value blur = request.Get("blur");
  if (!blur.IsUndefined() && !blur.IsNull()) {
    const Napi::Object b = ReadObject(blur, "request.blur");
    spec.blur = ReadOptionalSize(b, "size", "request.blur.size");
    if (!spec.blur) throw InvalidArg("Expected object for request.blur.size but received undefined");
    const Napi::Value sigma = b.Get("sigma");
    if (!sigma.IsNumber()) throw InvalidArg("Expected number for request.blur.sigma but received " + Received(sigma));
    spec.sigma = sigma.As<Napi::Number>().FloatValue();
  }
  if (optionsValue.IsObject()) {
    const Napi::Value filter = optionsValue.As<Napi::Object>().Get("halveFilter");
    if (filter.IsString()) {
      const std::string f = filter.As<Napi::String>().Utf8Value();
      if (f != "box" && f != "nearest") {
        throw InvalidArg("Expected one of box, nearest for options.halveFilter but received \"" + f + "\"");
      }
      spec.halveFilter = f == "nearest" ? HalveFilter::kNearest : HalveFilter::kBox;
    } else if (!filter.IsUndefined()) {
      throw InvalidArg("Expected string for options.halveFilter but received " + Received(filter));
    }
  }
  return spec;
}

int ReadDevice(const Napi::Value& optionsValue) {
  if (!optionsValue.IsObject()) return 0;
  const Napi::Object options = optionsValue.As<Napi::Object>();
  if (options.Get("device").IsUndefined()) return 0;
  return ReadInt(options, "device", "options.device");
}

// An AsyncWorker settling a promise; failures reject with an Error carrying `code`.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  explicit PromiseWorker(Napi::Env env) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  virtual void Run() = 0;
  virtual Napi::Value Result(Napi::Env env) = 0;

  void Execute() override {
    try {
      Run();
    } catch (const NativeError& e) {
      code_ = e.code();
      SetError(e.what());
    } catch (const std::exception& e) {
      code_ = "ERR_NATIVE";
      SetError(e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(Result(Env())); }
  void OnError(const Napi::Error& e) override {
    deferred_.Reject(ToJsError(Env(), code_.empty() ? "ERR_NATIVE" : code_, e.Message()).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::string code_;
};

// Runs a plain function off the event loop and converts its result on it.
class TaskWorker : public PromiseWorker {
 public:
  TaskWorker(Napi::Env env, std::function<void()> run, std::function<Napi::Value(Napi::Env)> result)
      : PromiseWorker(env), run_(std::move(run)), result_(std::move(result)) {}

 protected:
  void Run() override { run_(); }
  Napi::Value Result(Napi::Env env) override { return result_(env); }

 private:
  std::function<void()> run_;
  std::function<Napi::Value(Napi::Env)> result_;
};

enum class Engine { kReference, kCuda };

class ResampleWorker : public PromiseWorker {
 public:
  ResampleWorker(Napi::Env env, Engine engine, int device, const ImageView& source, const Napi::Value& sourceData,
                 JobPlan plan)
      : PromiseWorker(env), engine_(engine), device_(device), source_(source), plan_(std::move(plan)) {
    sourceData_ = Napi::Persistent(sourceData.As<Napi::Object>());
    Napi::Object result = Napi::Object::New(env);
    if (plan_.thumbImage && plan_.returnThumb) outputs_.thumb = AddImage(env, result, "thumb", plan_.thumbImage->out);
    if (plan_.blur) outputs_.blur = AddImage(env, result, "blur", plan_.blur->size);
    if (plan_.lq) outputs_.lq = AddImage(env, result, "lq", plan_.lq->out);
    if (plan_.sample) outputs_.sample = AddImage(env, result, "sample", plan_.sample->out);
    if (!plan_.widths.empty()) {
      Napi::Array widths = Napi::Array::New(env, plan_.widths.size());
      for (size_t i = 0; i < plan_.widths.size(); ++i) {
        uint8_t* data = nullptr;
        widths.Set(static_cast<uint32_t>(i), MakeImage(env, plan_.widths[i].out, &data));
        outputs_.widths.push_back(data);
      }
      result.Set("widths", widths);
    }
    result_ = Napi::Persistent(result);
  }

 protected:
  void Run() override {
    if (engine_ == Engine::kCuda) {
      timings_ = CudaRunJob(device_, source_, plan_, outputs_);
    } else {
      reference::RunJob(source_, plan_, outputs_);
    }
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = result_.Value();
    if (engine_ == Engine::kCuda) {
      Napi::Object t = Napi::Object::New(env);
      t.Set("stagingMs", timings_.stagingMs);
      t.Set("uploadMs", timings_.uploadMs);
      t.Set("kernelsMs", timings_.kernelsMs);
      t.Set("downloadMs", timings_.downloadMs);
      t.Set("uploadBytes", static_cast<double>(timings_.uploadBytes));
      t.Set("downloadBytes", static_cast<double>(timings_.downloadBytes));
      result.Set("timings", t);
    }
    return result;
  }

 private:
  // Output buffers are made here, on the main thread; Execute() only writes their bytes.
  Napi::Object MakeImage(Napi::Env env, Size size, uint8_t** bytes) {
    auto data = Napi::Buffer<uint8_t>::New(env, ImageBytes(size, plan_.channels));
    Napi::Object image = Napi::Object::New(env);
    image.Set("data", data);
    image.Set("width", size.width);
    image.Set("height", size.height);
    image.Set("channels", plan_.channels);
    *bytes = data.Data();
    return image;
  }

  uint8_t* AddImage(Napi::Env env, Napi::Object& result, const char* key, Size size) {
    uint8_t* bytes = nullptr;
    result.Set(key, MakeImage(env, size, &bytes));
    return bytes;
  }

  Engine engine_;
  int device_;
  ImageView source_;
  JobPlan plan_;
  JobOutputs outputs_;
  JobTimings timings_;
  Napi::ObjectReference sourceData_;
  Napi::ObjectReference result_;
};

template <typename F>
Napi::Value Guarded(const Napi::CallbackInfo& info, F body) {
  try {
    return body();
  } catch (const NativeError& e) {
    throw ToJsError(info.Env(), e.code(), e.what());
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    // node-addon-api rethrows only Napi::Error; anything else escaping a callback aborts the process.
    throw ToJsError(info.Env(), "ERR_NATIVE", e.what());
  }
}

Napi::Value Resample(const Napi::CallbackInfo& info, Engine engine) {
  return Guarded(info, [&]() -> Napi::Value {
    Napi::Value data;
    const ImageView source = ReadSource(info[0], &data);
    const ResampleSpec spec = ReadSpec(info[1], info[2]);
    const int device = ReadDevice(info[2]);
    JobPlan plan = BuildPlan(source, spec);
    auto* worker = new ResampleWorker(info.Env(), engine, device, source, data, std::move(plan));
    worker->Queue();
    return worker->Promise();
  });
}

Napi::Value ReferenceResample(const Napi::CallbackInfo& info) { return Resample(info, Engine::kReference); }
Napi::Value CudaResample(const Napi::CallbackInfo& info) { return Resample(info, Engine::kCuda); }

Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("version", IMGPROC_VERSION);
#ifdef IMGPROC_WITH_CUDA
  out.Set("cuda", true);
  out.Set("cudaArchitectures", IMGPROC_CUDA_ARCHITECTURES);
  out.Set("cudaToolkitVersion", IMGPROC_CUDA_TOOLKIT_VERSION);
#else
  out.Set("cuda", false);
#endif
  out.Set("napiVersion", NAPI_VERSION);
#if defined(__GLIBC__)
  out.Set("glibc", true);
#else
  out.Set("glibc", false);
#endif
  return out;
}

// glibc's mallopt parameters; elsewhere unused, since SetMallocParameter sets nothing there.
#if defined(__GLIBC__)
constexpr int kMallocMmapThreshold = M_MMAP_THRESHOLD;
constexpr int kMallocArenaMax = M_ARENA_MAX;
#else
constexpr int kMallocMmapThreshold = 0;
constexpr int kMallocArenaMax = 0;
#endif

// One glibc malloc parameter from a JS integer named `name`: true where glibc took it, false
// where this is not glibc.
Napi::Value SetMallocParameter(const Napi::CallbackInfo& info, int param, const char* name) {
  return Guarded(info, [&]() -> Napi::Value {
    const Napi::Object o = Napi::Object::New(info.Env());
    o.Set(name, info[0]);
    const int value = ReadInt(o, name, name);
#if defined(__GLIBC__)
    return Napi::Boolean::New(info.Env(), mallopt(param, value) == 1);
#else
    (void)param;
    (void)value;
    return Napi::Boolean::New(info.Env(), false);
#endif
  });
}

// glibc raises its mmap threshold after each large block is freed (up to 32 MiB); image-sized
// blocks then come from per-thread arenas that keep their peak, and a long run's RSS climbs (12
// strips of 262144x64 at -j 1: 1.26 GB instead of 0.28 GB; npm run bench -- --memory). A fixed
// threshold sends blocks this large to mmap, returned to the system when freed.
Napi::Value SetMmapThreshold(const Napi::CallbackInfo& info) {
  return SetMallocParameter(info, kMallocMmapThreshold, "bytes");
}

// glibc makes up to 8 arenas per core, each a heap of its own; the libuv and libvips threads that
// handle images then spread image-sized blocks over many heaps, each touched fresh. As many arenas
// as cores keeps the RSS lower and the page faults (costly in a VM) at about a quarter fewer
// (npm run bench -- --overhead).
Napi::Value SetArenaMax(const Napi::CallbackInfo& info) {
  return SetMallocParameter(info, kMallocArenaMax, "arenas");
}

std::vector<std::string> ReadStrings(const Napi::Value& v, const std::string& path) {
  if (!v.IsArray()) throw InvalidArg("Expected array for " + path + " but received " + Received(v));
  const Napi::Array a = v.As<Napi::Array>();
  std::vector<std::string> out;
  for (uint32_t i = 0; i < a.Length(); i++) {
    const Napi::Value item = a.Get(i);
    if (!item.IsString()) {
      throw InvalidArg("Expected string for " + path + "[" + std::to_string(i) + "] but received " + Received(item));
    }
    out.push_back(item.As<Napi::String>().Utf8Value());
  }
  return out;
}

// exec(file, argv, env): this process replaced by `file` (execve), for bin/imgproc.cjs to start
// again with glibc tunables that take effect only at start. Returns the errno only if it failed.
Napi::Value Exec(const Napi::CallbackInfo& info) {
  return Guarded(info, [&]() -> Napi::Value {
    if (!info[0].IsString()) throw InvalidArg("Expected string for file but received " + Received(info[0]));
    const std::string file = info[0].As<Napi::String>().Utf8Value();
    const std::vector<std::string> argv = ReadStrings(info[1], "argv");
    const std::vector<std::string> env = ReadStrings(info[2], "env");
    return Napi::Number::New(info.Env(), process::Replace(file, argv, env));
  });
}

// medianCutSteps(pixels, channels, fewest, most): the palettes of src/gradient/median-cut.ts's
// medianCutSteps, flat: [palettes, then for each: entries, then r, g, b, count per entry]. On the
// calling thread: a palette's sample is at most 100 px a side, some tens of microseconds.
Napi::Value MedianCutSteps(const Napi::CallbackInfo& info) {
  return Guarded(info, [&]() -> Napi::Value {
    const Napi::Value data = info[0];
    if (!data.IsTypedArray() || data.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      throw InvalidArg("Expected Buffer or Uint8Array for pixels but received " + Received(data));
    }
    const Napi::Object args = Napi::Object::New(info.Env());
    args.Set("channels", info[1]);
    args.Set("fewest", info[2]);
    args.Set("most", info[3]);
    const int channels = ReadInt(args, "channels", "channels");
    const int fewest = ReadInt(args, "fewest", "fewest");
    const int most = ReadInt(args, "most", "most");
    const auto pixels = data.As<Napi::Uint8Array>();
    if ((channels != 3 && channels != 4) || pixels.ByteLength() % channels != 0 || most < 1) {
      throw InvalidArg("Expected whole 3- or 4-channel pixels and at least one colour");
    }
    const auto steps = palette::MedianCutSteps(pixels.Data(), pixels.ByteLength(), channels, fewest, most);
    size_t length = 1;
    for (const auto& step : steps) length += 1 + 4 * step.size();
    Napi::Int32Array out = Napi::Int32Array::New(info.Env(), length);
    size_t at = 0;
    out[at++] = static_cast<int32_t>(steps.size());
    for (const auto& step : steps) {
      out[at++] = static_cast<int32_t>(step.size());
      for (const palette::Entry& e : step) {
        out[at++] = e.r;
        out[at++] = e.g;
        out[at++] = e.b;
        out[at++] = e.count;
      }
    }
    return out;
  });
}

// areaSample(source, size): src/pipeline/sample.ts's areaSample, byte for byte. On the calling
// thread: its input is a thumbnail, some tens of microseconds.
Napi::Value AreaSample(const Napi::CallbackInfo& info) {
  return Guarded(info, [&]() -> Napi::Value {
    Napi::Value data;
    const ImageView source = ReadSource(info[0], &data);
    const Napi::Object size = ReadObject(info[1], "size");
    const int width = ReadInt(size, "width", "size.width");
    const int height = ReadInt(size, "height", "size.height");
    if (source.channels != 3 && source.channels != 4) {
      throw InvalidArg("Expected 3 or 4 for source.channels but received " + std::to_string(source.channels));
    }
    if (source.length != static_cast<size_t>(source.width) * source.height * source.channels) {
      throw InvalidArg("Expected source.data to hold width x height x channels bytes");
    }
    if (width < 1 || height < 1 || width > source.width || height > source.height) {
      throw InvalidArg("Expected a size from 1x1 to the source's, but received " + std::to_string(width) + "x" +
                       std::to_string(height));
    }
    auto out = Napi::Buffer<uint8_t>::New(info.Env(), static_cast<size_t>(width) * height * source.channels);
    palette::AreaSample(source.data, source.width, source.height, source.channels, width, height, out.Data());
    return out;
  });
}

Napi::Value CudaStatus(const Napi::CallbackInfo& info) {
  auto status = std::make_shared<CudaInfo>();
  auto* worker = new TaskWorker(
      info.Env(), [status] { *status = QueryCuda(); },
      [status](Napi::Env env) -> Napi::Value {
        Napi::Object out = Napi::Object::New(env);
        out.Set("compiled", status->compiled);
        out.Set("driverVersion", status->driverVersion);
        out.Set("runtimeVersion", status->runtimeVersion);
        Napi::Array devices = Napi::Array::New(env, status->devices.size());
        for (size_t i = 0; i < status->devices.size(); ++i) {
          const DeviceInfo& d = status->devices[i];
          Napi::Object o = Napi::Object::New(env);
          o.Set("index", d.index);
          o.Set("name", d.name);
          o.Set("computeCapability", std::to_string(d.major) + "." + std::to_string(d.minor));
          o.Set("totalMemory", static_cast<double>(d.totalMemory));
          o.Set("multiprocessors", d.multiprocessors);
          o.Set("memoryClockKHz", d.memoryClockKHz);
          o.Set("memoryBusWidthBits", d.memoryBusWidthBits);
          devices.Set(static_cast<uint32_t>(i), o);
        }
        out.Set("devices", devices);
        if (!status->error.empty()) out.Set("error", status->error);
        return out;
      });
  worker->Queue();
  return worker->Promise();
}

Napi::Value CudaReleaseDevice(const Napi::CallbackInfo& info) {
  return Guarded(info, [&]() -> Napi::Value {
    const int device = ReadDevice(info[0]);
    auto* worker = new TaskWorker(
        info.Env(), [device] { CudaRelease(device); }, [](Napi::Env env) { return env.Undefined(); });
    worker->Queue();
    return worker->Promise();
  });
}

Napi::Value CudaBench(const Napi::CallbackInfo& info) {
  return Guarded(info, [&]() -> Napi::Value {
    const Napi::Object o = ReadObject(info[0], "options");
    const int device = ReadDevice(o);
    const int width = ReadInt(o, "width", "options.width");
    const int height = ReadInt(o, "height", "options.height");
    const int channels = ReadInt(o, "channels", "options.channels");
    const int iterations = ReadInt(o, "iterations", "options.iterations");
    auto results = std::make_shared<std::vector<KernelTiming>>();
    auto* worker = new TaskWorker(
        info.Env(),
        [=] { *results = CudaBenchKernels(device, width, height, channels, iterations); },
        [results](Napi::Env env) -> Napi::Value {
          Napi::Array out = Napi::Array::New(env, results->size());
          for (size_t i = 0; i < results->size(); ++i) {
            Napi::Object r = Napi::Object::New(env);
            r.Set("name", (*results)[i].name);
            r.Set("ms", (*results)[i].ms);
            r.Set("bytes", (*results)[i].bytes);
            out.Set(static_cast<uint32_t>(i), r);
          }
          return out;
        });
    worker->Queue();
    return worker->Promise();
  });
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("buildInfo", Napi::Function::New(env, BuildInfo, "buildInfo"));
  exports.Set("referenceResample", Napi::Function::New(env, ReferenceResample, "referenceResample"));
  exports.Set("cudaResample", Napi::Function::New(env, CudaResample, "cudaResample"));
  exports.Set("cudaStatus", Napi::Function::New(env, CudaStatus, "cudaStatus"));
  exports.Set("cudaRelease", Napi::Function::New(env, CudaReleaseDevice, "cudaRelease"));
  exports.Set("cudaBenchKernels", Napi::Function::New(env, CudaBench, "cudaBenchKernels"));
  exports.Set("setMmapThreshold", Napi::Function::New(env, SetMmapThreshold, "setMmapThreshold"));
  exports.Set("setArenaMax", Napi::Function::New(env, SetArenaMax, "setArenaMax"));
  exports.Set("exec", Napi::Function::New(env, Exec, "exec"));
  exports.Set("medianCutSteps", Napi::Function::New(env, MedianCutSteps, "medianCutSteps"));
  exports.Set("areaSample", Napi::Function::New(env, AreaSample, "areaSample"));
  return exports;
}

}  // namespace
}  // namespace imgproc

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return imgproc::Init(env, exports); }

NODE_API_MODULE(imgproc_native, InitModule)
