// The run engine: one run of pgchaos from start to verdict — workload, optional fault schedule, heal, a healthy
// cluster again, snapshots of every node, check, reports — below the command line, so that `run`, `scenario`
// and the commands that run many runs in one process (soak, matrix) share it. No global state: every run owns
// its threads, connections, sessions and log file, and gives them all back before run() returns.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backend/cluster_reader.h"
#include "backend/workload.h"
#include "workloads/append/append.h"
#include "workloads/bank/bank.h"
#include "checker/checker.h"
#include "faults/cluster.h"
#include "history/run_directory.h"
#include "rest/rest.h"
#include "common/stop_source.h"
#include "scenarios/scenarios.h"

namespace pgchaos::engine {

/// The process exit codes of pgchaos.
enum class ExitCode : int { valid = 0, invalid = 1, unknown_or_error = 2, interrupted = 130 };
ExitCode exit_code_of(checker::Verdict verdict) noexcept;

/// Faults on a schedule against a cluster (owned by the caller, used by one run at a time).
struct FaultPlan {
  scenarios::Scenario scenario;
  std::vector<scenarios::Action> actions;         ///< scenarios::schedule(scenario, workload seed)
  faults::ClusterContext* cluster = nullptr;
  std::optional<common::CommitSetting> commit_mode; ///< set for the run, the previous setting restored after
  /// A replay: the schedule as the replayed run resolved it, and how to aim at it (each round is aimed too).
  std::vector<scenarios::Action> recorded;
  scenarios::ReplayBy replay_by = scenarios::ReplayBy::role;
  std::string replay_of;                          ///< the replayed run directory, for run.json and the report
  std::map<std::string, std::string> lab_settings;  ///< the lab's nodes, dcs, timing, set (empty: not the lab)
  bool cycle = false;  ///< run the schedule again, round after round (scenarios::schedule's rounds), until the
                       ///< run's duration ends it
};

struct RunRequest {
  backend::WorkloadConfig workload;
  std::string workload_name = "bank";             ///< bank | append
  bank::BankOptions bank;                         ///< the bank workload's own settings
  append::AppendOptions append;                   ///< the list-append workload's
  std::vector<backend::NodeAddress> nodes;        ///< every node read at the end (the primary comes from the DSNs)
  rest::Settings rest;                            ///< how the watcher reaches the nodes' REST APIs
  std::optional<std::int64_t> max_lost;
  std::optional<std::chrono::milliseconds> duration;  ///< ends the run however far the operations got
  std::optional<std::chrono::milliseconds> max_unavailable;  ///< per fault, by the write probe
  std::chrono::milliseconds watch_interval{100};  ///< the watcher's look at each node (`nodes`); 0: no watcher
  std::chrono::milliseconds probe_interval{20};   ///< the write probe's; 0: no probe (--probe-interval off)
  bool compress_history = false;                  ///< history.jsonl.zst (zstd) instead of history.jsonl
  std::string log_level = "info";                 ///< of RUN_DIR/pgchaos.log
  std::size_t log_file_max_bytes = 50u << 20;
  std::size_t log_file_backups = 5;
  std::optional<FaultPlan> faults;
};

struct RunOutcome {
  ExitCode exit_code = ExitCode::unknown_or_error;
  common::StopReason stop_reason = common::StopReason::none;
  backend::WorkloadStats stats;
  checker::CheckResult result;
};

/// Lines for people (progress of the run, faults, the summary, the check); the caller decides where they go.
using Say = std::function<void(const std::string& line)>;

/// What a run tells while it runs: every line for people (`line`), and the schedule's events as types (a fault
/// started or ended, a finding) for a caller that follows them without reading the lines. Each callback optional.
struct RunObserver : scenarios::ScheduleObserver {
  RunObserver() = default;
  RunObserver(Say say) { line = std::move(say); }  // NOLINT: implicit, for a caller that wants only the lines
};

/// --operations without a number (the clock or the schedule ends the run): a count no run reaches.
inline constexpr std::int64_t kNoOperationLimit = 1'000'000'000'000;
/// "10000 operations", or "no operation limit".
std::string operations_text(std::int64_t operations);

/// Runs one run into `directory` (RunDirectory::for_new_run: nothing is created before the database answers).
/// `stop` ends it early from anywhere (Ctrl-C): the workload stops, the schedule heals what it started, and the
/// run is still snapshotted, checked and reported (exit code interrupted). Throws for harness errors before the
/// history starts (unreachable database, SSH refused, unhealthy cluster); after that, errors become the outcome.
RunOutcome run(const RunRequest& request, history::RunDirectory& directory, common::StopSource& stop,
               const RunObserver& observer);

/// What run.json recorded about a run.
struct RecordedRun {
  std::string run_json;
  std::int64_t run_id = 0, seed = 0;
  std::vector<std::string> dsns;                  ///< passwords masked
  std::vector<backend::NodeAddress> nodes;
  common::CommitSetting commit;                   ///< its level (synchronous_commit) empty: not recorded
  std::optional<std::int64_t> max_lost;
  std::optional<std::chrono::milliseconds> max_unavailable;
  std::optional<std::chrono::milliseconds> duration;
  std::optional<std::string> scenario;            ///< its name, for a scenario run
  std::map<std::string, std::string> watchdog;    ///< each node's Patroni watchdog, in words (a scenario run)
  bool cycle = false;
  std::string workload = "bank";                  ///< bank | append (older runs: bank)
  std::string isolation;                          ///< the list-append workload's isolation level
  int active_keys = 0, appends_per_key = 0;       ///< and its keys (0: not recorded)
  std::int64_t max_staleness_ms = 0;              ///< its replica reads' threshold (0: none)
};
/// The workloads pgchaos has, by name.
inline constexpr const char* kWorkloads[] = {"bank", "append"};
/// The workload `name` of a request (its options, its seed); for a run's snapshots, `state_run` is the run whose
/// state is read (the list-append workload reads one run's lists). Throws backend::BackendError for a bad option.
std::unique_ptr<backend::Workload> make_workload(const std::string& name, const RunRequest& request,
                                                 std::int64_t state_run = 0);
/// Reads run.json; throws common::FileError naming the file.
RecordedRun read_recorded_run(const history::RunDirectory& directory);

/// Where a command's wall time went: each phase and its seconds, in order.
class PhaseTimes {
 public:
  PhaseTimes();
  /// Ends the phase that began at the previous lap (or construction) and names it.
  void lap(std::string phase);
  /// "load history 1.20 s, snapshots 0.31 s, ... (total 1.80 s)".
  std::string text() const;
  const std::vector<std::pair<std::string, double>>& laps() const { return laps_; }

 private:
  std::chrono::steady_clock::time_point last_;
  std::vector<std::pair<std::string, double>> laps_;
};

/// The verdict from the run directory alone (history + snapshots), the three reports rewritten, the check
/// told through `say`; each step's time added to `times` when given. Throws common::FileError for an
/// unreadable history or snapshot.
checker::CheckResult check_run_directory(const history::RunDirectory& directory, std::optional<std::int64_t> max_lost,
                                         const Say& say, PhaseTimes* times = nullptr);
/// Replaces the directory's snapshots by fresh ones read from the recorded nodes through `dsns`.
void resnapshot(const history::RunDirectory& directory, const std::vector<std::string>& dsns);

}  // namespace pgchaos::engine
