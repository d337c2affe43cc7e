// Turns a runtime channel count into the compile-time C of a kernel or reference loop, so each
// launcher has one call instead of an `if` per channel count.
#pragma once

#include <string>
#include <type_traits>

#include "error.h"

namespace imgproc {

template <int C>
using Channels = std::integral_constant<int, C>;

// Calls f(Channels<3>{}) or f(Channels<4>{}); inside f, `decltype(c)::value` is the template argument.
template <typename F>
void DispatchChannels(int channels, F&& f) {
  switch (channels) {
    case 3:
      f(Channels<3>{});
      return;
    case 4:
      f(Channels<4>{});
      return;
    default:
      throw InvalidArg("Expected 3 or 4 channels but received " + std::to_string(channels));
  }
}

}  // namespace imgproc
