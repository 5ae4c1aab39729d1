// The commit-mode matrix: one scenario with one seed run once per commit mode (engine::run each, in
// MATRIX_DIR/<mode>), side by side in matrix.json / matrix.html (reports/matrix_report.h), each mode judged against
// what Patroni promises for it.
#pragma once

#include <filesystem>
#include <functional>
#include <vector>

#include "engine/engine.h"
#include "reports/matrix_report.h"

namespace pgchaos::engine {

struct MatrixRequest {
  RunRequest base;                              ///< faults set: the scenario, its schedule, the cluster
  std::vector<common::CommitSetting> modes;    ///< in order; each is set for its run and restored after
  /// Patroni's failsafe_mode: each mode runs once per value, in order (set through PATCH /config before the run, the
  /// cluster's own value put back after the matrix); empty: as the cluster has it, one run per mode.
  std::vector<bool> failsafe;
  /// Set (the lab's --rebuild-lab): a cluster not healthy before a mode's run (a split brain left by the one
  /// before) is rebuilt, and the mode runs with the returned request; unset, each mode meets the cluster as it is
  /// (and its column says so when the run is refused).
  std::function<RunRequest()> rebuild_cluster;
};

struct MatrixOutcome {
  ExitCode exit_code = ExitCode::unknown_or_error;  ///< the worst of the runs' (a broken guarantee is invalid)
  reports::MatrixReport report;
};

/// Runs the scenario under each mode into `matrix_dir` (refused unless new or empty). The first mode's run
/// resolves the targets; the others aim at the same roles (a replay by role), so every mode meets the same faults.
/// Each run starts from empty pgchaos tables. A mode whose run fails to start (its commit mode does not take
/// effect) is a column with the error, and the matrix goes on; Ctrl-C ends it after the current run's check.
MatrixOutcome matrix(const MatrixRequest& request, const std::filesystem::path& matrix_dir, common::StopSource& stop,
                     const Say& say);

/// A mode's directory name: sync:remote_write -> sync-remote_write (with --failsafe: sync-remote_write-failsafe-on).
std::string mode_directory(const common::CommitSetting& mode);

}  // namespace pgchaos::engine
