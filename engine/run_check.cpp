// The verdict of a run directory, from its files alone: what `run` ends with and `pgchaos check` redoes.
#include <fmt/format.h>

#include "engine/engine.h"
#include "history/snapshots.h"
#include "reports/reports.h"
#include "common/files.h"

namespace pgchaos::engine {

ExitCode exit_code_of(checker::Verdict verdict) noexcept {
  switch (verdict) {
    case checker::Verdict::valid: return ExitCode::valid;
    case checker::Verdict::invalid: return ExitCode::invalid;
    case checker::Verdict::unknown: return ExitCode::unknown_or_error;
  }
  return ExitCode::unknown_or_error;
}

PhaseTimes::PhaseTimes() : last_(std::chrono::steady_clock::now()) {}

void PhaseTimes::lap(std::string phase) {
  const auto now = std::chrono::steady_clock::now();
  laps_.emplace_back(std::move(phase), std::chrono::duration<double>(now - last_).count());
  last_ = now;
}

std::string PhaseTimes::text() const {
  std::string out;
  double total = 0;
  for (const auto& [phase, seconds] : laps_) {
    out += fmt::format("{}{} {:.2f} s", out.empty() ? "" : ", ", phase, seconds);
    total += seconds;
  }
  return fmt::format("{} (total {:.2f} s)", out, total);
}

checker::CheckResult check_run_directory(const history::RunDirectory& directory, std::optional<std::int64_t> max_lost,
                                         const Say& say, PhaseTimes* times) {
  PhaseTimes own;
  PhaseTimes& clock = times ? *times : own;
  const RecordedRun run = read_recorded_run(directory);
  const auto history = history::load_run_history(directory.history());
  clock.lap("load history");
  // The ledgers as this run's indexes, never as rows: a night's three ledgers would be 40 bytes a row each.
  const auto snapshots = history::read_snapshots(directory, history.run_id);
  clock.lap("load snapshots");
  checker::CheckOptions options;
  options.commit = run.commit;
  options.max_lost = max_lost ? max_lost : run.max_lost;
  options.max_unavailable_ms = run.max_unavailable ? run.max_unavailable->count() : 0;
  options.watchdog = run.watchdog;
  std::optional<append::AppendInvariants> append_invariants;
  if (run.workload == "append")
    append_invariants.emplace(append::load_transactions(directory.history()), run.isolation, run.max_staleness_ms);
  const checker::StateInvariants& invariants =
      append_invariants ? static_cast<const checker::StateInvariants&>(*append_invariants) : bank::invariants();
  const auto result = checker::check(history, snapshots, options, invariants);
  clock.lap("check");

  reports::RunInfo info;
  info.directory = directory.root();
  info.run_json = run.run_json;
  info.run_id = run.run_id;
  info.seed = run.seed;
  info.time_zero_wall_us = history.start_wall_us;
  info.topology = reports::node_summaries(snapshots);
  // The log lines that matter, as the scenario runner picked them when each window closed.
  for (const auto& f : result.faults) {
    const auto file = directory.forensics(fmt::format("fault-{}", f.fault.id)) / "key-lines.txt";
    if (std::filesystem::exists(file)) info.forensics.emplace_back(fmt::format("fault {}", f.fault.id), common::read_text_file(file));
  }
  if (const auto file = directory.forensics("final-heal") / "key-lines.txt"; std::filesystem::exists(file))
    info.forensics.emplace_back("final heal", common::read_text_file(file));
  reports::write_reports(directory, info, result);
  clock.lap("reports");

  std::string primary = "none";
  if (!snapshots.empty()) {
    const auto& p = snapshots.front();
    primary = p.name == p.node || p.node.empty() ? p.name : p.name + " (" + p.node + ")";
  }
  say(fmt::format("check ({} commit mode{}; primary {}):", result.commit.text(),
                  history.torn_tail ? "; the history's last line was torn and skipped" : "", primary));
  for (const auto& line : reports::console_lines(result)) say(line);
  if (run.workload == "bank")
    say(fmt::format("  seed formula sum(balance) - (accounts x 100 + operations) = {:.2f}",
                    static_cast<double>(result.original_formula_cents) / 100));
  for (const auto& f : result.faults)
    if (!f.story.empty()) say(fmt::format("  fault {} ({} on {}): {}", f.fault.id, f.fault.fault, f.fault.target, f.story));
  for (const auto& b : result.split_brains) say("  " + b.text);
  say("verdict: " + result.headline);
  say(fmt::format("reports: {} {} {}", directory.report_html().string(), directory.report_json().string(),
                  directory.junit().string()));
  return result;
}

void resnapshot(const history::RunDirectory& directory, const std::vector<std::string>& dsns) {
  const RecordedRun run = read_recorded_run(directory);
  RunRequest request;  // the workload reads state only: its defaults do
  request.workload.seed = static_cast<std::uint64_t>(run.seed);
  if (!run.isolation.empty()) request.append.isolation = run.isolation;
  const auto workload = make_workload(run.workload, request, run.run_id);
  backend::write_snapshots(dsns, run.nodes, std::chrono::seconds(30), *workload, directory);
}

}  // namespace pgchaos::engine
