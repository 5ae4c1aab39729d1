// Internal to app/: Ctrl-C and SIGTERM request the run's stop while the guard lives; a second one ends pgchaos
// at once. The one piece of process-wide state pgchaos has, as signals are process-wide.
#pragma once

#include "common/stop_source.h"

namespace pgchaos::app {

class InterruptGuard {
 public:
  explicit InterruptGuard(common::StopSource& stop);
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;
};

}  // namespace pgchaos::app
