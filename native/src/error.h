// Errors that cross into JavaScript as Error objects carrying a `code`.
#pragma once

#include <stdexcept>
#include <string>

namespace imgproc {

inline constexpr const char* kErrInvalidArg = "ERR_INVALID_ARG";
inline constexpr const char* kErrCuda = "ERR_CUDA";
inline constexpr const char* kErrCudaSticky = "ERR_CUDA_STICKY";
inline constexpr const char* kErrCudaOutOfMemory = "ERR_CUDA_OOM";
inline constexpr const char* kErrNoCuda = "ERR_NO_CUDA";
inline constexpr const char* kErrNoDevice = "ERR_NO_DEVICE";

class NativeError : public std::runtime_error {
 public:
  NativeError(std::string code, const std::string& message)
      : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

inline NativeError InvalidArg(const std::string& message) { return NativeError(kErrInvalidArg, message); }

}  // namespace imgproc
