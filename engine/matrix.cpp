// The commit-mode matrix: the same faults under each mode, one run each, reported side by side.
#include "engine/matrix.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <thread>

#include "faults/patroni_sync.h"
#include "run_record.h"
#include "common/files.h"

namespace pgchaos::engine {

std::string mode_directory(const common::CommitSetting& mode) {
  auto name = mode.text();
  std::replace(name.begin(), name.end(), ':', '-');
  return name;
}

namespace {

// One run of the matrix: a commit mode, and failsafe_mode when --failsafe asked for it.
struct Cell {
  common::CommitSetting mode;
  std::optional<bool> failsafe;
  std::string label() const { return mode.text() + (failsafe ? (*failsafe ? " failsafe on" : " failsafe off") : ""); }
  std::string directory() const {
    return mode_directory(mode) + (failsafe ? (*failsafe ? "-failsafe-on" : "-failsafe-off") : "");
  }
};

// Sets failsafe_mode for a run and waits (10 s at most) until Patroni's configuration says so; puts the cluster's own
// value back when the matrix ends, whatever ended it.
class FailsafeGuard {
 public:
  FailsafeGuard(const faults::ClusterContext* cluster, bool active, const Say& say) : cluster_(cluster), say_(say) {
    if (!active || cluster_ == nullptr) return;
    const auto value = faults::config_value(faults::read_dynamic_config(*cluster_), "failsafe_mode");
    previous_ = value ? std::optional<bool>(*value == "true") : std::nullopt;
    armed_ = true;
  }
  ~FailsafeGuard() {
    if (!armed_) return;
    try {
      faults::write_failsafe_mode(*cluster_, previous_);
    } catch (const std::exception& error) {
      say_(std::string("matrix: failsafe_mode could not be put back: ") + error.what());
    }
  }
  FailsafeGuard(const FailsafeGuard&) = delete;
  FailsafeGuard& operator=(const FailsafeGuard&) = delete;
  void cluster_is(const faults::ClusterContext* cluster) { cluster_ = cluster; }

  static void set(const faults::ClusterContext& cluster, bool failsafe) {
    faults::write_failsafe_mode(cluster, failsafe);
    const std::string wanted = failsafe ? "true" : "false";
    for (int i = 0; i < 20; ++i) {
      if (faults::config_value(faults::read_dynamic_config(cluster), "failsafe_mode").value_or("false") == wanted) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    throw faults::FaultError("failsafe_mode did not become " + wanted + " in Patroni's configuration within 10 s");
  }

 private:
  const faults::ClusterContext* cluster_;
  const Say& say_;
  std::optional<bool> previous_;
  bool armed_ = false;
};

}  // namespace

MatrixOutcome matrix(const MatrixRequest& request, const std::filesystem::path& matrix_dir, common::StopSource& stop,
                     const Say& say) {
  create_empty_directory(matrix_dir, "matrix");
  MatrixOutcome outcome;
  auto& report = outcome.report;
  report.scenario = request.base.faults->scenario.name;
  report.seed = request.base.workload.seed;
  report.started_at = utc_now();
  std::vector<Cell> cells;
  for (const auto& m : request.modes) {
    if (request.failsafe.empty()) cells.push_back({m, std::nullopt});
    for (const bool failsafe : request.failsafe) cells.push_back({m, failsafe});
  }
  for (const auto& cell : cells) report.modes.push_back(cell.label());
  reports::write_matrix_reports(matrix_dir, report);
  FailsafeGuard failsafe_guard(request.base.faults->cluster, !request.failsafe.empty(), say);

  int worst = 0;
  std::vector<scenarios::Action> resolved;  // the first run's schedule as it ran
  RunRequest current = request.base;  // the cluster as the next mode meets it (rebuilt or not)
  for (const auto& cell : cells) {
    const auto& mode = cell.mode;
    if (stop.requested()) break;
    // A cluster left broken (a split brain never heals) would refuse the mode: the lab is rebuilt first when
    // asked to.
    if (request.rebuild_cluster) {
      const auto topology = scenarios::wait_healthy(*current.faults->cluster, std::chrono::seconds(30), &stop);
      if (stop.requested()) break;
      if (!topology.healthy()) {
        say(fmt::format("matrix: the cluster is not healthy {} ({}): rebuilding the lab",
                        report.columns.empty() ? "before the first mode" : "after " + report.columns.back().mode,
                        fmt::join(topology.problems, "; ")));
        try {
          current = request.rebuild_cluster();
          failsafe_guard.cluster_is(current.faults->cluster);
        } catch (const std::exception& error) {
          say(std::string("matrix: the lab could not be rebuilt: ") + error.what());
        }
      }
    }
    RunRequest run_request = current;
    run_request.workload.reset = true;  // each mode's run starts from empty tables
    auto& plan = *run_request.faults;
    plan.commit_mode = mode;
    if (!resolved.empty()) {
      plan.recorded = resolved;
      plan.replay_by = scenarios::ReplayBy::role;
      plan.actions = scenarios::aimed_as_recorded(plan.actions, resolved, plan.replay_by);
    }
    reports::RunSummary base;
    base.index = static_cast<int>(report.columns.size()) + 1;
    base.directory = cell.directory();
    base.scenario = plan.scenario.name;
    base.seed = run_request.workload.seed;
    base.commit_mode = mode;
    say(fmt::format("matrix: {} under {} (seed {})", plan.scenario.name, cell.label(), base.seed));
    auto directory = history::RunDirectory::for_new_run(matrix_dir / base.directory);
    reports::MatrixColumn column;
    int exit_code = static_cast<int>(ExitCode::unknown_or_error);
    try {
      common::StopSource run_stop(&stop);
      if (cell.failsafe) FailsafeGuard::set(*plan.cluster, *cell.failsafe);
      const auto run = engine::run(run_request, directory, run_stop, say);
      column = reports::matrix_column(cell.label(), run.result, base);
      exit_code = static_cast<int>(run.exit_code);
      if (run.stats.fatal_error) column.run.error = *run.stats.fatal_error;
      if (resolved.empty() && std::filesystem::exists(directory.schedule()))
        resolved = scenarios::parse_schedule_json(common::read_text_file(directory.schedule()), directory.schedule().string());
    } catch (const std::exception& error) {
      column.mode = cell.label();
      column.run = base;
      column.run.error = error.what();
      column.run.headline = std::string("no verdict: ") + error.what();
      column.guarantee = {cell.label() + ": not run", false, true, {}, ""};
    }
    column.failsafe = cell.failsafe;
    column.run.exit_code = exit_code;
    worst = exit_code == static_cast<int>(ExitCode::interrupted) || worst == static_cast<int>(ExitCode::interrupted)
                ? static_cast<int>(ExitCode::interrupted)
                : std::max(worst, exit_code);
    const auto& g = column.guarantee;
    say(fmt::format("matrix: {}: {}{}", cell.label(), column.run.headline,
                    g.judged ? (g.kept ? " · promise kept" : " · GUARANTEE BROKEN: " + g.broken) : ""));
    report.columns.push_back(std::move(column));
    reports::write_matrix_reports(matrix_dir, report);
  }
  report.status = stop.requested() ? reports::MatrixStatus::interrupted : reports::MatrixStatus::completed;
  reports::write_matrix_reports(matrix_dir, report);
  // A broken guarantee fails the matrix whatever else happened.
  const auto broken = report.broken();
  if (!broken.empty() && worst != static_cast<int>(ExitCode::interrupted)) worst = static_cast<int>(ExitCode::invalid);
  outcome.exit_code = static_cast<ExitCode>(worst);
  for (const auto& b : broken) say("matrix: guarantee broken in " + b);
  say(fmt::format("matrix {}: {} modes · {}", reports::to_string(report.status), report.columns.size(), (matrix_dir / "matrix.html").string()));
  return outcome;
}

}  // namespace pgchaos::engine
