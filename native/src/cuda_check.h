// CUDA_CHECK: every CUDA runtime call goes through it; a failure throws, never aborts the process.
#pragma once

#include <cuda_runtime_api.h>

#include <string>

#include "error.h"

namespace imgproc {

// Errors after which the context is unusable until the process exits.
inline bool IsStickyCudaError(cudaError_t err) {
  switch (err) {
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorAssert:
    case cudaErrorLaunchTimeout:
    case cudaErrorECCUncorrectable:
    case cudaErrorContextIsDestroyed:
    case cudaErrorDevicesUnavailable:
    case cudaErrorUnknown:
    // By value: older toolkits lack these names (Contained, TensorMemoryLeak, MpsClientTerminated, ExternalDevice).
    case static_cast<cudaError_t>(226):
    case static_cast<cudaError_t>(721):
    case static_cast<cudaError_t>(810):
    case static_cast<cudaError_t>(911):
      return true;
    default:
      return false;
  }
}

class CudaError : public NativeError {
 public:
  CudaError(cudaError_t err, const char* statement, const char* file, int line)
      : NativeError(CodeFor(err), Describe(err, statement, file, line)), error_(err) {}
  cudaError_t error() const { return error_; }
  bool sticky() const { return IsStickyCudaError(error_); }

 private:
  static const char* CodeFor(cudaError_t err) {
    if (IsStickyCudaError(err)) return kErrCudaSticky;
    if (err == cudaErrorMemoryAllocation) return kErrCudaOutOfMemory;
    if (err == cudaErrorNoDevice || err == cudaErrorInsufficientDriver) return kErrNoDevice;
    return kErrCuda;
  }
  static std::string Describe(cudaError_t err, const char* statement, const char* file, int line) {
    std::string base = file;
    const auto slash = base.find_last_of("/\\");
    if (slash != std::string::npos) base = base.substr(slash + 1);
    return std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err) + " (" + statement +
           " at " + base + ":" + std::to_string(line) + ")";
  }
  cudaError_t error_;
};

}  // namespace imgproc

// Clears a non-sticky error so that the next call does not report it again.
#define CUDA_CHECK(stmt)                                                 \
  do {                                                                   \
    const cudaError_t imgproc_err_ = (stmt);                             \
    if (imgproc_err_ != cudaSuccess) {                                   \
      (void)cudaGetLastError();                                          \
      throw ::imgproc::CudaError(imgproc_err_, #stmt, __FILE__, __LINE__); \
    }                                                                    \
  } while (0)
