// Internal to app/: what `run` and `scenario` share.
#pragma once

#include <string>
#include <vector>

#include "app/app.h"

namespace pgchaos::app {

/// SIGINT/SIGTERM request `stop` (a second Ctrl-C ends pgchaos at once) while the guard lives.
class InterruptGuard {
 public:
  explicit InterruptGuard(backend::StopFlag& stop);
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;
};

/// RUN_DIR/pgchaos.log (rotated as [log] says) and warnings on stderr, for the "app" and "backend" loggers.
void set_up_logging(const RunOptions& options);
std::vector<backend::NodeAddress> node_addresses(const ClusterConfig& cluster);
/// RUN_DIR/run.json: effective configuration (passwords masked), seed, commit mode, nodes, scenario.
void write_run_json(const RunOptions& options, std::int64_t run_id, const std::string& commit_mode,
                    const std::string& scenario);
/// The first and last lines of a history.
void record_run_started(history::HistoryWriter& history, std::int64_t run_id, std::uint64_t seed);
void record_run_finished(history::HistoryWriter& history, const std::string& how);
void print_summary(const backend::WorkloadStats& stats, std::int64_t run_id);
/// Snapshots of every node, waiting up to a minute for a writable primary (a cluster settling after a fault).
std::vector<history::Snapshot> take_snapshots_patiently(const RunOptions& options);

}  // namespace pgchaos::app
