// The soak: back-to-back epochs for hours, each one complete scenario run (engine::run) in SOAK_DIR/epoch-NNNN with
// its own seed, checked and reported as a run is, with bounded disk and memory, and the soak's own report
// (reports/soak_report.h) rewritten after every epoch, so that a soak killed at any moment still has one.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "reports/soak_report.h"

namespace pgchaos::engine {

enum class Keep { all, invalid };  ///< invalid: a valid epoch keeps its reports, not its history and snapshots

struct SoakRequest {
  RunRequest base;                             ///< every epoch's run (faults->cluster set; seed, duration, schedule
                                               ///< and reset are the soak's to choose)
  std::vector<scenarios::Scenario> scenarios;  ///< each epoch's drawn from these by the soak's seed
  std::chrono::milliseconds duration{0}, epoch{0};
  std::uint64_t seed = 0;
  Keep keep = Keep::invalid;
  std::vector<std::string> replay_command;     ///< argv, e.g. pgchaos scenario --conf FILE --replay; the epoch's
                                               ///< directory is added and the whole quoted as faults::Command does
  /// Set (the lab's --rebuild-lab): a cluster unhealthy between epochs is rebuilt and the soak goes on with the
  /// returned request; unset, the finding ends the soak. May throw (the soak then ends).
  std::function<RunRequest()> rebuild_cluster;
  /// Called every second from a thread of the soak with the progress line (epoch k of n, elapsed / total,
  /// operations, lost so far by cause, the current fault); the caller decides where it goes. Optional.
  std::function<void(const std::string& line)> progress;
};

/// Epoch k's seed and scenario index: the soak's seed decides both, so an epoch replays alone.
std::uint64_t epoch_seed(std::uint64_t soak_seed, int epoch);
std::size_t epoch_scenario(std::uint64_t soak_seed, int epoch, std::size_t scenarios);

struct SoakOutcome {
  ExitCode exit_code = ExitCode::unknown_or_error;  ///< 0 all valid, 1 any invalid, 2 unknown/harness, 130 Ctrl-C
  reports::SoakReport report;
};

/// Runs epochs into `soak_dir` (refused unless new or empty) until `duration` has passed or `stop` (Ctrl-C:
/// the current epoch is healed, checked and reported, then the soak report is written). Between epochs the cluster
/// must be healthy; otherwise a finding with forensics (SOAK_DIR/between-NNNN) ends the soak or, with
/// rebuild_cluster, the cluster is rebuilt. Throws only before the first epoch (bad directory).
SoakOutcome soak(SoakRequest request, const std::filesystem::path& soak_dir, common::StopSource& stop, const Say& say);

}  // namespace pgchaos::engine
