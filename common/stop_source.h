// The one stop of a run: Ctrl-C/SIGTERM, the end of --duration, the last operation, the end of the schedule or a
// harness error all request it, and everything that waits wakes at once. No thread polls for it.
#pragma once

#include <atomic>
#include <chrono>

namespace pgchaos::common {

enum class StopReason { none, interrupted, duration, operations_done, schedule_done, harness_error };
const char* to_string(StopReason reason) noexcept;

/// A latch with a reason: the first request wins and stays. Thread-safe; request() is async-signal-safe (an
/// atomic and a write() to a pipe), so a signal handler may call it. Waiters poll() that pipe.
class StopSource {
 public:
  StopSource();  ///< throws std::system_error when no pipe can be made
  /// A stop that also follows `parent` (which must outlive it): a request there (a soak's Ctrl-C) is a request
  /// here, with its reason; a request here leaves the parent alone (one epoch's end is not the soak's).
  explicit StopSource(const StopSource* parent);
  ~StopSource();
  StopSource(const StopSource&) = delete;
  StopSource& operator=(const StopSource&) = delete;

  void request(StopReason reason) noexcept;
  /// The run stops with reason `duration` at `deadline`: requested() turns true then and sleepers wake then.
  void set_deadline(std::chrono::steady_clock::time_point deadline) noexcept;
  bool requested() const noexcept;
  StopReason reason() const noexcept;

  // After Ctrl-C or SIGTERM the run still heals, snapshots and reports, but every wait on the way is bounded: by
  // what is left of the stop budget (counted from the first interruption), and by nothing after a second one.
  /// The wait budget after an interruption (15 s unless set).
  void set_stop_budget(std::chrono::milliseconds budget) noexcept;
  /// An interruption was requested, here or in the parent, even after another reason had stopped the run.
  bool interrupted() const noexcept;
  /// A second interruption: every wait left is skipped. Async-signal-safe.
  void hurry() noexcept;
  bool hurried() const noexcept;
  /// How long a wait that wants `wanted` may last now: all of it without an interruption; otherwise what is left
  /// of the stop budget (the parent's too), at most `wanted`, and nothing once hurried.
  std::chrono::milliseconds wait_allowed(std::chrono::milliseconds wanted) const noexcept;
  /// Sleeps up to `duration`; returns false as soon as a stop is requested (or was before).
  bool sleep_for(std::chrono::milliseconds duration) const noexcept;

 private:
  mutable std::atomic<int> reason_{0};
  std::atomic<std::int64_t> deadline_ns_{0};  // steady clock; 0: none
  std::atomic<std::int64_t> interrupted_at_ns_{0};  // steady clock; 0: never interrupted
  std::atomic<std::int64_t> budget_ms_{15000};
  std::atomic<bool> hurried_{false};
  int pipe_read_ = -1, pipe_write_ = -1;
  const StopSource* parent_ = nullptr;
  static_assert(std::atomic<int>::is_always_lock_free && std::atomic<std::int64_t>::is_always_lock_free);
};

}  // namespace pgchaos::common
