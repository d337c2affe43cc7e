#include "exec.h"

#include <cerrno>

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <unistd.h>
#endif

namespace imgproc::process {
namespace {

std::vector<char*> Pointers(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

int Replace(const std::string& file, const std::vector<std::string>& argv, const std::vector<std::string>& env) {
#if defined(__unix__) || defined(__APPLE__)
  // Node marks its standard streams close-on-exec; the program that replaces it writes to them.
  for (int fd = 0; fd <= 2; fd++) {
    const int flags = fcntl(fd, F_GETFD);
    if (flags >= 0 && (flags & FD_CLOEXEC)) fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
  }
  std::vector<char*> args = Pointers(argv);
  std::vector<char*> vars = Pointers(env);
  execve(file.c_str(), args.data(), vars.data());
  return errno;
#else
  (void)file;
  (void)argv;
  (void)env;
  return ENOSYS;
#endif
}

}  // namespace imgproc::process
