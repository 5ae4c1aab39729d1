// One run: set up, workload (with the fault schedule beside it), heal, snapshots, check, reports.
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "commit_mode_guard.h"
#include "faults/commit_settings.h"
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

// The cluster may still be settling after a fault: the primary is waited for, a minute at most. A Ctrl-C does not
// cut this short: an interrupted run is still checked.
void write_snapshots_patiently(const RunRequest& request, const backend::Workload& workload,
                               const history::RunDirectory& directory, spdlog::logger& log) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    try {
      return backend::write_snapshots(request.workload.dsns, request.nodes, std::chrono::seconds(30), workload, directory);
    } catch (const backend::BackendError& error) {
      if (std::chrono::steady_clock::now() > deadline) throw;
      log.warn("snapshot: {}; trying again", error.what());
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  }
}

// Every node must answer over SSH (host key verified, key accepted) and the cluster be healthy before anything
// starts.
void check_cluster_ready(faults::ClusterContext& cluster, const common::StopSource& stop) {
  for (const auto& node : cluster.nodes) {
    const auto answer = cluster.execute_on(node.name, faults::Command{{"true"}});
    if (answer.exit_status != 0)
      throw faults::FaultError("ssh to " + node.name + ": `true` exited " + std::to_string(answer.exit_status));
  }
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

}  // namespace

RunOutcome run(const RunRequest& request, history::RunDirectory& directory, common::StopSource& stop, const Say& say) {
  RunOutcome outcome;
  PhaseTimes phases;  // where the wall time goes, in pgchaos.log
  const FaultPlan* plan = request.faults ? &*request.faults : nullptr;
  std::optional<CommitModeGuard> commit_guard;
  std::string patroni_config;
  if (plan) {
    say(fmt::format("scenario {} (seed {}): waiting for a healthy cluster", plan->scenario.name, request.workload.seed));
    check_cluster_ready(*plan->cluster, stop);
    if (stop.requested()) {
      outcome.stop_reason = stop.reason();
      outcome.exit_code = ExitCode::interrupted;
      return outcome;  // nothing started, nothing to check
    }
    patroni_config = required_settings_in_force(*plan);
    commit_guard.emplace(*plan->cluster, plan->commit_mode, request.workload.dsns, stop);
  }
  const bank::BankWorkload bank_workload(request.bank, request.workload.seed);
  const std::int64_t run_id = backend::prepare_schema(request.workload, bank_workload);
  // Set for the run, or as the primary runs (its synchronous_commit read from it).
  common::CommitSetting commit_mode;
  if (plan && plan->commit_mode) {
    commit_mode = *plan->commit_mode;
  } else {
    const auto primary = backend::read_primary_commit_settings(request.workload.dsns);
    commit_mode.mode = backend::commit_mode_of(primary);
    commit_mode.level = primary.synchronous_commit;
    // Strictness is Patroni's alone: its configuration says (and without an answer the run is judged as sync).
    try {
      if (plan && commit_mode.mode == common::CommitMode::sync && faults::read_commit_settings(*plan->cluster).synchronous_mode_strict)
        commit_mode.mode = common::CommitMode::sync_strict;
    } catch (const std::exception&) {
    }
  }

  phases.lap("prepare");
  // From here on the run exists: its directory, its log, its history.
  directory.create();
  RunLog log(directory, request);
  const auto& w = request.workload;
  std::vector<std::string> masked_dsns, node_names;
  for (const auto& dsn : w.dsns) masked_dsns.push_back(backend::mask_password(dsn));
  for (const auto& n : request.nodes) node_names.push_back(fmt::format("{} {}:{}", n.name, n.host, n.port));
  log->info("run {} starts: seed {}, {} operations, {} threads, {} accounts, commit mode {}, scenario {}", run_id, w.seed,
            w.operations, w.threads, request.bank.accounts, commit_mode.text(), plan ? plan->scenario.name : "none");
  log->info("databases: {}; nodes: {}", fmt::join(masked_dsns, ", "),
            node_names.empty() ? "none configured" : fmt::format("{}", fmt::join(node_names, ", ")));
  // The configuration in force while the faults ran: with the commit mode set.
  if (plan && plan->commit_mode) {
    try {
      patroni_config = faults::read_dynamic_config(*plan->cluster);
    } catch (const std::exception& error) {
      log->warn("Patroni's configuration could not be read for run.json: {}", error.what());
    }
  }
  write_run_json(directory, request, run_id, commit_mode, patroni_config);
  if (plan) {
    common::write_file_atomically(directory.scenario(), plan->scenario.source);
    common::write_file_atomically(directory.schedule(), scenarios::schedule_json(plan->actions));
  }
  auto& history = directory.start_history(run_id, static_cast<std::int64_t>(w.seed), request.compress_history);
  // The cluster's story: the watcher observes every node, the probe measures true write unavailability.
  std::vector<watcher::WatchedNode> watched;
  if (request.watch_interval.count() > 0)  // 0: no watcher (--watch-interval off)
    for (const auto& n : request.nodes)
      watched.push_back({n.name, backend::conninfo_for(w.dsns.front(), n.host, n.port), n.rest_url});
  watcher::Watcher cluster_watcher(watched, history, {request.watch_interval, std::chrono::seconds(1)});
  // No DSN, no probe (--probe-interval off).
  watcher::WriteProbe write_probe(request.probe_interval.count() > 0 ? w.dsns : std::vector<std::string>{}, history,
                                  request.probe_interval);
  // The health check after each fault also asks PostgreSQL itself (every replica streaming from the leader).
  std::optional<TopologyOverride> confirmed_by_watcher;
  if (plan && !watched.empty())
    confirmed_by_watcher.emplace(*plan->cluster, [&cluster_watcher](faults::Topology topology) {
      if (topology.healthy())
        for (auto& problem : cluster_watcher.problems(topology.leader)) topology.problems.push_back(std::move(problem));
      return topology;
    });
  if (request.duration) stop.set_deadline(std::chrono::steady_clock::now() + *request.duration);
  if (plan)
    say(fmt::format("scenario {}: {} faults scheduled{}, {} commit mode, {} threads; run directory {}", plan->scenario.name,
                    plan->actions.size(), plan->cycle ? " a round, rounds until the run's end" : "",
                    commit_mode.text(), w.threads, directory.root().string()));
  else
    say(fmt::format("run {} (seed {}): {} operations on {} threads, {} accounts; run directory {}", run_id, w.seed,
                    w.operations, w.threads, request.bank.accounts, directory.root().string()));

  backend::WorkloadConfig workload = w;
  if (plan) workload.show_progress = false;  // fault lines are printed instead
  phases.lap("start");
  auto run_the_workload = [&] {
    try {
      outcome.stats = backend::run_workload(workload, bank_workload, run_id, history, stop);
      if (outcome.stats.operations_done) stop.request(StopReason::operations_done);
    } catch (const std::exception& error) {
      outcome.stats.fatal_error = error.what();
      stop.request(StopReason::harness_error);
    }
  };
  std::optional<std::string> schedule_error;
  scenarios::RunnerResult runner;
  if (!plan) {
    run_the_workload();
  } else {
    std::thread workload_thread(run_the_workload);
    try {
      runner = scenarios::run_schedule(plan->scenario, plan->actions, *plan->cluster, history, stop,
                                       [&](const std::string& line) {
                                         say("  " + line);
                                         log->info("{}", line.substr(0, line.find('\n')));
                                       },
                                       directory.root() / "forensics",
                                       plan->cycle ? [&](int round) {
                                         return scenarios::aimed_as_recorded(scenarios::schedule(plan->scenario, w.seed, round),
                                                                             plan->recorded, plan->replay_by);
                                       } : std::function<std::vector<scenarios::Action>(int)>());
      // The schedule as it ran: each target as resolved, so that a replay can aim at the same roles or nodes.
      common::write_file_atomically(directory.schedule(), scenarios::schedule_json(runner.ran));
      // A little load after the last heal shows the cluster taking writes again.
      stop.sleep_for(std::chrono::seconds(2));
      stop.request(StopReason::schedule_done);
    } catch (const std::exception& error) {
      schedule_error = error.what();
      log->error("the schedule stopped: {}", error.what());
      stop.request(StopReason::harness_error);
    }
    workload_thread.join();
  }
  phases.lap("workload");
  write_probe.stop();
  cluster_watcher.stop();
  confirmed_by_watcher.reset();
  outcome.stop_reason = stop.reason();
  if (outcome.stats.fatal_error) log->error("harness error: {}", *outcome.stats.fatal_error);
  directory.finish(outcome.stop_reason == StopReason::interrupted ? "interrupted"
                   : plan ? fmt::format("{}; {} faults started ({} refused), {} not", common::to_string(outcome.stop_reason),
                                        runner.faults_started, runner.faults_refused, runner.faults_failed)
                          : common::to_string(outcome.stop_reason));
  commit_guard.reset();  // the previous commit settings are back before the nodes are read
  for (const auto& line : summary_lines(outcome.stats, run_id, outcome.stop_reason)) say(line);
  log->info("workload ended ({}): {} ok, {} failed, {} unknown attempts", common::to_string(outcome.stop_reason),
            outcome.stats.ok, outcome.stats.fail, outcome.stats.unknown);

  phases.lap("stop");
  // Every node's snapshot goes into the run directory, and the verdict is computed from the directory alone,
  // exactly as `pgchaos check` computes it later.
  try {
    write_snapshots_patiently(request, bank_workload, directory, *log);
  } catch (const std::exception& error) {
    log->error("no snapshot of the primary: {}", error.what());
    throw backend::BackendError(fmt::format("no snapshot of the primary ({}); the history is kept: pgchaos check {} "
                                            "--resnapshot", error.what(), directory.root().string()));
  }
  phases.lap("snapshots");
  outcome.result = check_run_directory(directory, std::nullopt, say, &phases);
  log->info("run {} ended: {}", run_id, outcome.result.headline);
  log->info("phases: {}", phases.text());
  say("run directory: " + directory.root().string());

  if (outcome.stop_reason == StopReason::interrupted) outcome.exit_code = ExitCode::interrupted;
  else if (outcome.stats.fatal_error || schedule_error) outcome.exit_code = ExitCode::unknown_or_error;
  else outcome.exit_code = exit_code_of(outcome.result.verdict);
  if (outcome.stats.fatal_error) say("stopped by a harness error: " + *outcome.stats.fatal_error);
  if (schedule_error) say("the schedule stopped: " + *schedule_error);
  return outcome;
}

}  // namespace pgchaos::engine
