// Polling instead of sleeping as synchronisation in the tests: the one helper.
#pragma once

#include <chrono>
#include <thread>

namespace pgchaos::testing {

/// Polls until `done()` holds or the deadline passes, every `every`; returns whether it held.
template <typename Condition>
bool eventually(Condition done, std::chrono::seconds deadline, std::chrono::milliseconds every = std::chrono::milliseconds(500)) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(every);
  }
  return true;
}

}  // namespace pgchaos::testing
