// Internal to app/: Ctrl-C and SIGTERM request the run's stop while the guard lives, and bound the waits that
// follow by the stop budget; a second one skips those waits, a third ends pgchaos at once. The one piece of
// process-wide state pgchaos has, as signals are process-wide.
#pragma once

#include "common/stop_source.h"

namespace pgchaos::app {

class InterruptGuard {
 public:
  InterruptGuard(common::StopSource& stop, std::chrono::milliseconds stop_budget);
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;
};

}  // namespace pgchaos::app
