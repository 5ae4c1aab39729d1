// One run: set up, workload (with the fault schedule beside it), heal, snapshots, check, reports.
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "commit_mode_guard.h"
#include "faults/patroni_sync.h"
#include "engine/engine.h"
#include "history/snapshots.h"
#include "run_log.h"
#include "run_record.h"
#include "watcher/watcher.h"
#include "common/files.h"

namespace pgchaos::engine {
namespace {

using common::StopReason;

std::vector<std::string> summary_lines(const backend::WorkloadStats& s, std::int64_t run_id, StopReason reason) {
  std::string errors;
  for (std::size_t i = 0; i < backend::kErrorKinds; ++i)
    if (s.errors[i] > 0)
      errors += fmt::format("{}{} {}", errors.empty() ? "" : ", ",
                            backend::to_string(static_cast<backend::ErrorKind>(i)), s.errors[i]);
  const double seconds = s.elapsed.count();
  return {
      fmt::format("run {} {} after {:.1f} s: {} ok, {:.1f} ops/s", run_id,
                  reason == StopReason::interrupted ? "INTERRUPTED" : fmt::format("finished ({})", common::to_string(reason)),
                  seconds, s.ok, seconds > 0 ? static_cast<double>(s.ok) / seconds : 0.0),
      fmt::format("  attempts: ok {}, fail {}, unknown {} (resolved by the workload: {} committed, {} not)", s.ok, s.fail,
                  s.unknown, s.resolved_committed, s.resolved_not_committed),
      fmt::format("  errors by class: {}", errors.empty() ? "none" : errors),
      fmt::format("  deadlocks {}, reconnects {}, host rotations {}",
                  s.errors[static_cast<std::size_t>(backend::ErrorKind::deadlock)], s.reconnects, s.rotations),
      fmt::format("  latency of acknowledged attempts: p50 {:.1f} ms, p99 {:.1f} ms", s.p50_ms, s.p99_ms),
  };
}

// "100 accounts" (the bank), or "list-append at serializable on 8 active keys".
std::string workload_text(const RunRequest& r) {
  if (r.workload_name == "append")
    return fmt::format("list-append at {} on {} active keys", r.append.isolation, r.append.active_keys);
  return fmt::format("{} accounts", r.bank.accounts);
}

// The cluster may still be settling after a fault: the primary is waited for, a minute at most, and the replicas
// half that to catch up. After Ctrl-C both waits fit in what is left of the stop budget (an interrupted run is
// still checked, with what could be read).
void write_snapshots_patiently(const RunRequest& request, const backend::Workload& workload,
                               const history::RunDirectory& directory, const common::StopSource& stop,
                               spdlog::logger& log) {
  const auto started = std::chrono::steady_clock::now();
  for (;;) {
    try {
      const auto catch_up = std::chrono::duration_cast<std::chrono::seconds>(stop.wait_allowed(std::chrono::seconds(30)));
      return backend::write_snapshots(request.workload.dsns, request.nodes, catch_up, workload, directory);
    } catch (const backend::BackendError& error) {
      const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
      if (stop.wait_allowed(std::chrono::seconds(60) - std::min(waited, std::chrono::milliseconds(60000))).count() == 0)
        throw;
      log.warn("snapshot: {}; trying again", error.what());
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  }
}

// Every node must answer over SSH (host key verified, key accepted), its REST API accept pgchaos's TLS settings and
// credentials, and the cluster be healthy before anything starts. A node merely unreachable is waited for (it may
// be recovering); wrong settings are not.
void check_cluster_ready(faults::ClusterContext& cluster, const common::StopSource& stop, spdlog::logger& log) {
  for (const auto& node : cluster.nodes) {
    const auto answer = cluster.execute_on(node.name, faults::Command{{"true"}});
    if (answer.exit_status != 0)
      throw faults::FaultError("ssh to " + node.name + ": `true` exited " + std::to_string(answer.exit_status));
    try {
      // The credentials are for PATCH /config (the commit mode): checked where Patroni checks them.
      if (node.rest.has_authentication()) rest::check_credentials(node.rest_url, node.rest);
      else rest::request(node.rest_url + "/patroni", node.rest);
    } catch (const rest::RestError& error) {
      if (error.misconfigured) throw faults::FaultError(fmt::format("REST API of {}: {}", node.name, error.what()));
    }
  }
  // What an earlier pgchaos left in effect (journalled, or seen on a node) refuses the run before it touches anything:
  // a cluster still partitioned or paused would be tested as if it were whole.
  faults::refuse_leftovers(cluster, [&log](const std::string& line) { log.warn("{}", line); });
  const auto before = scenarios::wait_healthy(cluster, std::chrono::seconds(90), &stop);
  if (!before.healthy() && !stop.requested())
    throw faults::FaultError(fmt::format("the cluster is not healthy before the scenario: {}", fmt::join(before.problems, "; ")));
}

// Puts a second opinion behind the cluster's topology for the length of a run, and takes it away again.
class TopologyOverride {
 public:
  TopologyOverride(faults::ClusterContext& cluster, std::function<faults::Topology(faults::Topology)> amend)
      : cluster_(cluster), original_(cluster.topology) {
    cluster_.topology = [read = original_, amend = std::move(amend)] { return amend(read()); };
  }
  ~TopologyOverride() { cluster_.topology = original_; }
  TopologyOverride(const TopologyOverride&) = delete;
  TopologyOverride& operator=(const TopologyOverride&) = delete;

 private:
  faults::ClusterContext& cluster_;
  std::function<faults::Topology()> original_;
};

// Patroni's dynamic configuration for run.json, after the scenario's required settings were found in it.
std::string required_settings_in_force(const FaultPlan& plan) {
  std::string config;
  try {
    config = faults::read_dynamic_config(*plan.cluster);
  } catch (const std::exception&) {
    if (plan.scenario.requires_settings.empty()) return "";  // only recorded: a cluster without it still runs
    throw;
  }
  for (const auto& [key, wanted] : plan.scenario.requires_settings) {
    const auto have = faults::config_value(config, key);
    if (!have || *have != wanted)
      throw faults::FaultError(fmt::format("scenario {} needs {} = {} in Patroni's configuration, and the cluster has {}{}",
                                           plan.scenario.name, key, wanted, have ? *have : "it unset",
                                           plan.scenario.setup.empty() ? "" : "; set it up with: " + plan.scenario.setup));
  }
  return config;
}

// One run going through its phases, in order: prepare (nothing exists yet), start (the run directory, its log,
// run.json, the history, the watcher and the probe), the workload with the schedule beside it, stop (every
// thread ended, the history closed, the commit settings back), then snapshots and the check.
class Run {
 public:
  Run(const RunRequest& request, history::RunDirectory& directory, common::StopSource& stop, const RunObserver& observer)
      : request_(request), w_(request.workload), directory_(directory), stop_(stop), observer_(observer),
        plan_(request.faults ? &*request.faults : nullptr), workload_(make_workload(request.workload_name, request)) {
    for (const char* name : kWorkloads)
      if (name != request.workload_name) other_workloads_.push_back(make_workload(name, request));
  }

  RunOutcome go() {
    if (!prepare()) return std::move(outcome_);  // interrupted before anything started: nothing to check
    phases_.lap("prepare");
    start();
    phases_.lap("start");
    run_workload_and_schedule();
    phases_.lap("workload");
    stop_everything();
    phases_.lap("stop");
    snapshot();
    phases_.lap("snapshots");
    check();
    return std::move(outcome_);
  }

 private:
  void say(const std::string& line) const {
    if (observer_.line) observer_.line(line);
  }

  // The cluster ready and set as the run wants it, the schema prepared, the commit setting known. False when a
  // stop came first.
  bool prepare() {
    if (plan_) {
      say(fmt::format("scenario {} (seed {}): waiting for a healthy cluster", plan_->scenario.name, w_.seed));
      check_cluster_ready(*plan_->cluster, stop_, **log_);
      if (plan_->cluster->journal) plan_->cluster->journal->set_run_directory(std::filesystem::absolute(directory_.root()).string());
      if (stop_.requested()) {
        outcome_.stop_reason = stop_.reason();
        outcome_.exit_code = ExitCode::interrupted;
        return false;
      }
      patroni_config_ = required_settings_in_force(*plan_);
      // What would stop a frozen Patroni's node from acting as primary: told with a split brain such a node causes.
      for (const auto& node : plan_->cluster->nodes) watchdog_[node.name] = faults::describe_watchdog(*plan_->cluster, node.name);
      commit_guard_.emplace(*plan_->cluster, plan_->commit_mode, w_.dsns, stop_);
    }
    std::vector<const backend::Workload*> others;
    for (const auto& w : other_workloads_) others.push_back(w.get());
    run_id_ = backend::prepare_schema(w_, *workload_, others);
    commit_setting_ = commit_setting_in_force();
    return true;
  }

  // Set for the run, or as the primary runs (its synchronous_commit read from it).
  common::CommitSetting commit_setting_in_force() const {
    if (plan_ && plan_->commit_mode) return *plan_->commit_mode;
    common::CommitSetting setting;
    const auto primary = backend::read_primary_sync_settings(w_.dsns);
    setting.mode = backend::commit_mode_of(primary);
    setting.level = primary.synchronous_commit;
    // Strictness is Patroni's alone: its configuration says (and without an answer the run is judged as sync).
    try {
      if (plan_ && setting.mode == common::CommitMode::sync &&
          faults::read_patroni_sync_settings(*plan_->cluster).synchronous_mode_strict)
        setting.mode = common::CommitMode::sync_strict;
    } catch (const std::exception&) {
    }
    return setting;
  }

  // From here on the run exists: its directory, its log, its history, the watcher and the probe.
  void start() {
    directory_.create();
    log_.emplace(directory_, request_);
    std::vector<std::string> masked_dsns, node_names;
    for (const auto& dsn : w_.dsns) masked_dsns.push_back(backend::mask_password(dsn));
    for (const auto& n : request_.nodes) node_names.push_back(fmt::format("{} {}:{}", n.name, n.host, n.port));
    (*log_)->info("run {} starts: seed {}, {}, {} threads, {}, commit mode {}, scenario {}", run_id_, w_.seed,
                  operations_text(w_.operations), w_.threads, workload_text(request_), commit_setting_.text(),
                  plan_ ? plan_->scenario.name : "none");
    (*log_)->info("databases: {}; nodes: {}", fmt::join(masked_dsns, ", "),
                  node_names.empty() ? "none configured" : fmt::format("{}", fmt::join(node_names, ", ")));
    // The configuration in force while the faults ran: with the commit mode set.
    if (plan_ && plan_->commit_mode) {
      try {
        patroni_config_ = faults::read_dynamic_config(*plan_->cluster);
      } catch (const std::exception& error) {
        (*log_)->warn("Patroni's configuration could not be read for run.json: {}", error.what());
      }
    }
    write_run_json(directory_, request_, run_id_, commit_setting_, patroni_config_, watchdog_);
    if (plan_) {
      common::write_file_atomically(directory_.scenario(), plan_->scenario.source);
      common::write_file_atomically(directory_.schedule(), scenarios::schedule_json(plan_->actions));
    }
    history_ = &directory_.start_history(run_id_, static_cast<std::int64_t>(w_.seed), request_.compress_history);
    // The cluster's story: the watcher observes every node, the probe measures true write unavailability.
    std::vector<watcher::WatchedNode> watched;
    if (request_.watch_interval.count() > 0)  // 0: no watcher (--watch-interval off)
      for (const auto& n : request_.nodes)
        watched.push_back({n.name, backend::conninfo_for(w_.dsns.front(), n.host, n.port), n.rest_url, request_.rest});
    watcher_.emplace(watched, *history_, watcher::WatcherOptions{request_.watch_interval, std::chrono::seconds(1)});
    // No DSN, no probe (--probe-interval off).
    probe_.emplace(request_.probe_interval.count() > 0 ? w_.dsns : std::vector<std::string>{}, *history_,
                   request_.probe_interval);
    // The health check after each fault also asks PostgreSQL itself (every replica streaming from the leader).
    if (plan_ && !watched.empty())
      confirmed_by_watcher_.emplace(*plan_->cluster, [this](faults::Topology topology) {
        if (topology.healthy())
          for (auto& problem : watcher_->problems(topology.leader)) topology.problems.push_back(std::move(problem));
        return topology;
      });
    if (request_.duration) stop_.set_deadline(std::chrono::steady_clock::now() + *request_.duration);
    if (plan_)
      say(fmt::format("scenario {}: {} faults scheduled{}, {} commit mode, {} threads; run directory {}",
                      plan_->scenario.name, plan_->actions.size(), plan_->cycle ? " a round, rounds until the run's end" : "",
                      commit_setting_.text(), w_.threads, directory_.root().string()));
    else
      say(fmt::format("run {} (seed {}): {} on {} threads, {}; run directory {}", run_id_, w_.seed,
                      operations_text(w_.operations), w_.threads, workload_text(request_), directory_.root().string()));
  }

  void run_the_workload() {
    backend::WorkloadConfig workload = w_;
    if (plan_) workload.show_progress = false;  // fault lines are printed instead
    try {
      // The list-append workload's reads from the replicas run beside the workers, until they stop.
      std::optional<append::ReplicaReaders> replica_readers;
      if (request_.workload_name == "append" && request_.append.replica_reads > 0)
        replica_readers.emplace(
            append::ReplicaReaders::Settings{
                w_.dsns.front(), request_.nodes,
                std::max(1, static_cast<int>(std::lround(w_.threads * request_.append.replica_reads))), run_id_,
                request_.append.active_keys},
            *history_, stop_);
      outcome_.stats = backend::run_workload(workload, *workload_, run_id_, *history_, stop_);
      if (outcome_.stats.operations_done) stop_.request(StopReason::operations_done);
    } catch (const std::exception& error) {
      outcome_.stats.fatal_error = error.what();
      stop_.request(StopReason::harness_error);
    }
  }

  // The workload, with the schedule beside it on this thread; a stop from either ends both.
  void run_workload_and_schedule() {
    if (!plan_) return run_the_workload();
    std::thread workload_thread([this] { run_the_workload(); });
    scenarios::ScheduleObserver schedule_observer = observer_;
    schedule_observer.line = [this](const std::string& line) {
      say("  " + line);
      (*log_)->info("{}", line.substr(0, line.find('\n')));
    };
    try {
      runner_ = scenarios::run_schedule(plan_->scenario, plan_->actions, *plan_->cluster, *history_, stop_,
                                        schedule_observer, directory_.root() / "forensics",
                                        plan_->cycle ? [this](int round) {
                                          return scenarios::aimed_as_recorded(scenarios::schedule(plan_->scenario, w_.seed, round),
                                                                              plan_->recorded, plan_->replay_by);
                                        } : std::function<std::vector<scenarios::Action>(int)>());
      // The schedule as it ran: each target as resolved, so that a replay can aim at the same roles or nodes.
      common::write_file_atomically(directory_.schedule(), scenarios::schedule_json(runner_.ran));
      // A little load after the last heal shows the cluster taking writes again.
      stop_.sleep_for(std::chrono::seconds(2));
      stop_.request(StopReason::schedule_done);
    } catch (const std::exception& error) {
      schedule_error_ = error.what();
      (*log_)->error("the schedule stopped: {}", error.what());
      stop_.request(StopReason::harness_error);
    }
    workload_thread.join();
  }

  // Every thread of the run ended, the history closed, the previous commit settings back, the summary told.
  void stop_everything() {
    probe_->stop();
    watcher_->stop();
    confirmed_by_watcher_.reset();
    outcome_.stop_reason = stop_.reason();
    if (outcome_.stats.fatal_error) (*log_)->error("harness error: {}", *outcome_.stats.fatal_error);
    directory_.finish(outcome_.stop_reason == StopReason::interrupted ? "interrupted"
                      : plan_ ? fmt::format("{}; {} faults started ({} refused, {} of unknown outcome), {} not",
                                            common::to_string(outcome_.stop_reason), runner_.faults_started,
                                            runner_.faults_refused, runner_.faults_unknown, runner_.faults_failed)
                              : common::to_string(outcome_.stop_reason));
    commit_guard_.reset();  // the previous commit settings are back before the nodes are read
    for (const auto& line : summary_lines(outcome_.stats, run_id_, outcome_.stop_reason)) say(line);
    (*log_)->info("workload ended ({}): {} ok, {} failed, {} unknown attempts", common::to_string(outcome_.stop_reason),
                  outcome_.stats.ok, outcome_.stats.fail, outcome_.stats.unknown);
  }

  // Every node's snapshot goes into the run directory. After an interruption a missing one is no error: the check
  // says what it lacks (no snapshot of the primary: verdict unknown) and `check --resnapshot` can read it later.
  void snapshot() {
    try {
      write_snapshots_patiently(request_, *make_workload(request_.workload_name, request_, run_id_), directory_, stop_, **log_);
    } catch (const std::exception& error) {
      (*log_)->error("no snapshot of the primary: {}", error.what());
      if (stop_.interrupted()) {
        say(fmt::format("no snapshot of the primary within the stop budget ({}); the verdict cannot be known: "
                        "pgchaos check {} --resnapshot reads the nodes again", error.what(), directory_.root().string()));
        return;
      }
      throw backend::BackendError(fmt::format("no snapshot of the primary ({}); the history is kept: pgchaos check {} "
                                              "--resnapshot", error.what(), directory_.root().string()));
    }
  }

  // The verdict from the directory alone, exactly as `pgchaos check` computes it later.
  void check() {
    outcome_.result = check_run_directory(directory_, std::nullopt, [this](const std::string& line) { say(line); }, &phases_);
    (*log_)->info("run {} ended: {}", run_id_, outcome_.result.headline);
    (*log_)->info("phases: {}", phases_.text());
    say("run directory: " + directory_.root().string());
    if (outcome_.stop_reason == StopReason::interrupted || stop_.interrupted()) outcome_.exit_code = ExitCode::interrupted;
    else if (outcome_.stats.fatal_error || schedule_error_) outcome_.exit_code = ExitCode::unknown_or_error;
    else outcome_.exit_code = exit_code_of(outcome_.result.verdict);
    if (outcome_.stats.fatal_error) say("stopped by a harness error: " + *outcome_.stats.fatal_error);
    if (schedule_error_) say("the schedule stopped: " + *schedule_error_);
  }

  const RunRequest& request_;
  const backend::WorkloadConfig& w_;
  history::RunDirectory& directory_;
  common::StopSource& stop_;
  const RunObserver& observer_;
  const FaultPlan* plan_;
  const std::unique_ptr<backend::Workload> workload_;
  std::vector<std::unique_ptr<backend::Workload>> other_workloads_;  // their tables are pgchaos's too
  RunOutcome outcome_;
  PhaseTimes phases_;  // where the wall time goes, in pgchaos.log
  std::optional<CommitModeGuard> commit_guard_;
  std::string patroni_config_;
  std::map<std::string, std::string> watchdog_;  // each node's Patroni watchdog, in words
  std::int64_t run_id_ = 0;
  common::CommitSetting commit_setting_;
  std::optional<RunLog> log_;
  history::HistoryWriter* history_ = nullptr;
  std::optional<watcher::Watcher> watcher_;
  std::optional<watcher::WriteProbe> probe_;
  std::optional<TopologyOverride> confirmed_by_watcher_;
  scenarios::RunnerResult runner_;
  std::optional<std::string> schedule_error_;
};

}  // namespace

std::string operations_text(std::int64_t operations) {
  return operations >= kNoOperationLimit ? "no operation limit" : fmt::format("{} operations", operations);
}

std::unique_ptr<backend::Workload> make_workload(const std::string& name, const RunRequest& request,
                                                 std::int64_t state_run) {
  if (name == "bank") return std::make_unique<bank::BankWorkload>(request.bank, request.workload.seed);
  if (name == "append") {
    auto options = request.append;
    options.state_run = state_run;
    options.prepared_statements = request.bank.prepared_statements;
    return std::make_unique<append::AppendWorkload>(options, request.workload.seed);
  }
  throw backend::BackendError("unknown workload " + name + ": bank or append");
}

RunOutcome run(const RunRequest& request, history::RunDirectory& directory, common::StopSource& stop,
               const RunObserver& observer) {
  return Run(request, directory, stop, observer).go();
}

}  // namespace pgchaos::engine
