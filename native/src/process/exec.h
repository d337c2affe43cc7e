// Replacing the running process with another program (execve): the same process id, so a
// supervisor's signals and a `kill` still reach it.
#pragma once

#include <string>
#include <vector>

namespace imgproc::process {

// Runs `file` in place of this process with `argv` and exactly the environment `env` ("NAME=value"
// entries), standard input, output and error kept open. Returns only when that failed, with the
// errno (ENOSYS where there is no execve).
int Replace(const std::string& file, const std::vector<std::string>& argv, const std::vector<std::string>& env);

}  // namespace imgproc::process
