// The CUDA side of the addon, free of Node-API: device queries, one job per image, the kernel bench.
// Built from cuda_engine.cc with CUDA, or from cuda_stub.cc without it.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "plan.h"

namespace imgproc {

struct DeviceInfo {
  int index = 0;
  std::string name;
  int major = 0;
  int minor = 0;
  size_t totalMemory = 0;
  int multiprocessors = 0;
  int memoryClockKHz = 0;
  int memoryBusWidthBits = 0;
};

struct CudaInfo {
  bool compiled = false;
  int driverVersion = 0;
  int runtimeVersion = 0;
  std::vector<DeviceInfo> devices;
  // Why no device answers, when none does.
  std::string error;
};

struct JobTimings {
  double stagingMs = 0;  // host copies into and out of pinned memory
  double uploadMs = 0;
  double kernelsMs = 0;
  double downloadMs = 0;
  size_t uploadBytes = 0;
  size_t downloadBytes = 0;
};

struct KernelTiming {
  std::string name;
  double ms = 0;
  double bytes = 0;  // compulsory traffic: every input byte read once, every output byte written once
};

// Never throws.
CudaInfo QueryCuda();

// Uploads once, runs every kernel the plan asks for on the device's stream, downloads once and
// synchronises once. Throws NativeError (CudaError for CUDA failures). Thread-safe: jobs on one
// device run one at a time.
JobTimings CudaRunJob(int device, const ImageView& source, const JobPlan& plan, const JobOutputs& outputs);

// Frees the device's reusable staging and device buffers (they grow again on the next job).
void CudaRelease(int device);

// Times each kernel on a synthetic width x height image, averaged over `iterations` launches.
std::vector<KernelTiming> CudaBenchKernels(int device, int width, int height, int channels, int iterations);

}  // namespace imgproc
