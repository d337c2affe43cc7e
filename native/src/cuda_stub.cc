// Stands in for the CUDA engine when the addon is built without nvcc.
#include "cuda_engine.h"
#include "error.h"

namespace imgproc {
namespace {

[[noreturn]] void NotBuilt() {
  throw NativeError(kErrNoCuda, "this imgproc_native build has no CUDA kernels (nvcc was not found at build time)");
}

}  // namespace

CudaInfo QueryCuda() {
  CudaInfo info;
  info.error = "built without CUDA (nvcc was not found at build time)";
  return info;
}

JobTimings CudaRunJob(int, const ImageView&, const JobPlan&, const JobOutputs&) { NotBuilt(); }

void CudaRelease(int) {}

std::vector<KernelTiming> CudaBenchKernels(int, int, int, int, int) { NotBuilt(); }

}  // namespace imgproc
