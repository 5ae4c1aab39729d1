// The compact view of a run's history that the checker works on: 24-byte attempts, for millions of operations.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "history/events.h"

namespace pgchaos::history {

enum class Outcome : std::uint8_t { pending, ok, fail, unknown };
/// One attempt of one operation: 24 bytes.
struct Attempt {
  std::int64_t op = 0;
  std::int64_t invoke_ns = 0;    ///< monotonic, since the run started
  std::uint32_t latency_us = 0;  ///< invoke to completion
  std::uint16_t attempt = 0;
  Outcome outcome = Outcome::pending;  ///< pending: no completion recorded (a killed or interrupted run)
};
/// A fault as the history recorded it (fault_start / fault_end events with the same id).
struct FaultRecord {
  std::int64_t id = 0;
  std::string fault, target, message;
  std::int64_t start_ns = 0, end_ns = -1;  ///< end_ns -1: never healed in the history
  int exit_status = 0;
};
struct RunHistory {
  std::int64_t run_id = 0, seed = 0, start_wall_us = 0;
  std::int64_t end_ns = 0;            ///< time of the last event
  std::vector<Attempt> attempts;      ///< in invoke order of each worker, workers interleaved by time
  std::vector<FaultRecord> faults;
  std::vector<std::string> findings;  ///< messages of finding events
  bool torn_tail = false;
  bool finished = false;              ///< a run_finished event closes the history
};
/// Reads history.jsonl into the compact view (about 0.3 µs a line). Throws HistoryError "file:line: ..." for a
/// bad line that is not the last, or a completion without its invoke.
RunHistory load_run_history(const std::filesystem::path& file);

}  // namespace pgchaos::history
