#include "common/stop_source.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace pgchaos::common {
namespace {

std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

const char* to_string(StopReason reason) noexcept {
  switch (reason) {
    case StopReason::none: return "none";
    case StopReason::interrupted: return "interrupted";
    case StopReason::duration: return "duration reached";
    case StopReason::operations_done: return "operations done";
    case StopReason::schedule_done: return "schedule done";
    case StopReason::harness_error: return "harness error";
  }
  return "?";
}

StopSource::StopSource() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
  pipe_read_ = fds[0];
  pipe_write_ = fds[1];
}

StopSource::StopSource(const StopSource* parent) : StopSource() { parent_ = parent; }

StopSource::~StopSource() {
  ::close(pipe_read_);
  ::close(pipe_write_);
}

void StopSource::request(StopReason reason) noexcept {
  if (reason == StopReason::interrupted) {
    std::int64_t never = 0;
    interrupted_at_ns_.compare_exchange_strong(never, now_ns());  // the budget counts from the first one
  }
  int expected = 0;
  if (reason_.compare_exchange_strong(expected, static_cast<int>(reason))) {
    // The byte is never read: the pipe stays readable, so every present and future poll() returns at once.
    const char byte = 1;
    [[maybe_unused]] const auto written = ::write(pipe_write_, &byte, 1);
  }
}

void StopSource::set_deadline(std::chrono::steady_clock::time_point deadline) noexcept {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count();
  deadline_ns_.store(ns > 0 ? ns : 1);
}

bool StopSource::requested() const noexcept {
  if (reason_.load(std::memory_order_relaxed) != 0) return true;
  if (parent_ != nullptr && parent_->requested()) {
    const_cast<StopSource*>(this)->request(parent_->reason());
    return true;
  }
  const auto deadline = deadline_ns_.load(std::memory_order_relaxed);
  if (deadline != 0 && now_ns() >= deadline) {
    const_cast<StopSource*>(this)->request(StopReason::duration);
    return true;
  }
  return false;
}

StopReason StopSource::reason() const noexcept {
  requested();  // a passed deadline becomes the reason
  return static_cast<StopReason>(reason_.load());
}

void StopSource::set_stop_budget(std::chrono::milliseconds budget) noexcept { budget_ms_.store(budget.count()); }

bool StopSource::interrupted() const noexcept {
  return interrupted_at_ns_.load() != 0 || (parent_ != nullptr && parent_->interrupted());
}

void StopSource::hurry() noexcept {
  hurried_.store(true);
  request(StopReason::interrupted);  // wakes every sleeper, if nothing had yet
}

bool StopSource::hurried() const noexcept { return hurried_.load() || (parent_ != nullptr && parent_->hurried()); }

std::chrono::milliseconds StopSource::wait_allowed(std::chrono::milliseconds wanted) const noexcept {
  if (hurried()) return std::chrono::milliseconds(0);
  if (parent_ != nullptr) wanted = parent_->wait_allowed(wanted);
  const auto since = interrupted_at_ns_.load();
  if (since == 0) return wanted;
  const auto left_ms = (since + budget_ms_.load() * 1'000'000 - now_ns()) / 1'000'000;
  return std::chrono::milliseconds(std::clamp<std::int64_t>(left_ms, 0, wanted.count()));
}

bool StopSource::sleep_for(std::chrono::milliseconds duration) const noexcept {
  const std::int64_t end = now_ns() + duration.count() * 1'000'000;
  while (!requested()) {
    std::int64_t wake = end;
    if (const auto deadline = deadline_ns_.load(); deadline != 0 && deadline < wake) wake = deadline;
    const std::int64_t left_ns = wake - now_ns();
    if (left_ns <= 0) return !requested();
    pollfd fds[2] = {{pipe_read_, POLLIN, 0}, {parent_ != nullptr ? parent_->pipe_read_ : -1, POLLIN, 0}};
    ::poll(fds, parent_ != nullptr ? 2 : 1, static_cast<int>((left_ns + 999'999) / 1'000'000));  // EINTR: looks again
  }
  return false;
}

}  // namespace pgchaos::common
