#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "faults/catalog.h"
#include "forensics.h"
#include "scenarios/scenarios.h"

namespace pgchaos::scenarios {
namespace {

constexpr std::size_t kOutputHead = 400;

std::string head(const std::string& text) { return text.size() <= kOutputHead ? text : text.substr(0, kOutputHead) + "…"; }

// A fault's command and its whole output, beside the forensics: what the history keeps of it is only its words.
void save_command_output(const std::filesystem::path& file, const faults::FaultAction& action) {
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  std::ofstream out(file, std::ios::binary);
  out << "command: " << action.command << "\nexit status: " << action.result.exit_status << "\n--- stdout ---\n"
      << action.result.out << "\n--- stderr ---\n" << action.result.err << "\n";
}

history::Event fault_event(history::EventType type, std::int64_t id, const std::string& fault, const std::string& target) {
  history::Event e;
  e.type = type;
  e.op = id;
  e.fault = fault;
  e.target = target;
  return e;
}

// What an unhealthy cluster looks like, for the report: each member's state and the log tail of troubled ones
// (not after an interruption, which leaves no time for SSH round trips).
std::string describe_unhealthy(faults::ClusterContext& cluster, const faults::Topology& topology, const std::string& after,
                               const common::StopSource& stop) {
  std::string text = fmt::format("cluster not healthy after {}{}: {}", after,
                                 stop.interrupted() ? " (its wait cut short by the interruption)" : "",
                                 fmt::join(topology.problems, "; "));
  for (const auto& m : topology.members) {
    text += fmt::format("\n  {}: role {}, state {}, timeline {}{}", m.name, m.role.empty() ? "?" : m.role,
                        m.state.empty() ? "?" : m.state, m.timeline, m.error.empty() ? "" : ", " + m.error);
  }
  for (const auto& m : topology.members) {
    if (stop.interrupted()) break;
    if (m.name == topology.leader && topology.members.size() > 1 && m.error.empty()) continue;
    try {
      const auto tail = cluster.run("log-tail", m.name);
      text += fmt::format("\n--- {} log tail ---\n{}", m.name, tail.out.empty() ? tail.err : tail.out);
    } catch (const std::exception& error) {
      text += fmt::format("\n--- {} log tail unavailable: {}", m.name, error.what());
    }
  }
  return text;
}

// What a wait until `deadline` may still take: after an interruption no more than the stop budget allows.
std::chrono::milliseconds time_left(std::chrono::steady_clock::time_point deadline, const common::StopSource& stop) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return stop.wait_allowed(std::max(ms, std::chrono::milliseconds(0)));
}

// A reboot or crash command returns before the node goes down; health is judged only once it has. Any stop but
// an interruption waits too (a --duration ending mid-crash must not judge health before the crash took effect).
void wait_until_down(faults::ClusterContext& cluster, const std::string& targets, const common::StopSource& stop) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (time_left(deadline, stop).count() > 0) {
    const auto topology = cluster.topology();
    bool all_down = true;
    for (const auto& m : topology.members)
      if (("," + targets + ",").find("," + m.name + ",") != std::string::npos && m.error.empty()) all_down = false;
    if (all_down) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace

faults::Topology wait_healthy_after_heal(faults::ClusterContext& cluster, std::chrono::seconds timeout,
                                         const common::StopSource& stop) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  faults::Topology topology = cluster.topology();
  while (!topology.healthy() && time_left(deadline, stop).count() > 0) {
    // Not stop.sleep_for, which returns at once after a stop: the wait goes on within the budget.
    std::this_thread::sleep_for(std::min(time_left(deadline, stop), std::chrono::milliseconds(500)));
    topology = cluster.topology();
  }
  return topology;
}

faults::Topology wait_healthy(faults::ClusterContext& cluster, std::chrono::seconds timeout,
                              const common::StopSource* stop) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  faults::Topology topology = cluster.topology();
  while (!topology.healthy() && std::chrono::steady_clock::now() < deadline) {
    if (stop != nullptr ? !stop->sleep_for(std::chrono::milliseconds(500))
                        : (std::this_thread::sleep_for(std::chrono::milliseconds(500)), false))
      break;
    topology = cluster.topology();
  }
  return topology;
}

RunnerResult run_schedule(const Scenario& scenario, const std::vector<Action>& actions, faults::ClusterContext& cluster,
                          history::HistoryWriter& history, const common::StopSource& stop,
                          const ScheduleObserver& observer, const std::filesystem::path& forensics_root,
                          const std::function<std::vector<Action>(int round)>& next_round) {
  RunnerResult result;
  // Collected as each window closes: the logs still hold what happened in it.
  std::map<std::int64_t, std::int64_t> started_at_wall_us;
  std::map<std::int64_t, Action> started_actions;  // by index: what the observer hears of a fault's end
  std::string last_key_lines;
  std::vector<std::string> last_rejoins;  // how the nodes that changed timeline came back, of the last forensics
  std::vector<std::string> bug_signs;  // findings of the last forensics, recorded once the window's own are
  auto collect = [&](const std::string& label, std::int64_t since_wall_us) {
    if (forensics_root.empty()) return;
    last_rejoins.clear();
    if (stop.interrupted()) {  // SSH round trips to every node: no time for them after Ctrl-C
      if (observer.line) observer.line(fmt::format("{}: no forensics (interrupted)", label));
      return;
    }
    auto found = collect_forensics(cluster, forensics_root / label, since_wall_us);
    last_key_lines = std::move(found.key_lines);
    bug_signs = std::move(found.findings);
    last_rejoins = std::move(found.rejoins);
    for (const auto& rejoin : last_rejoins)
      if (observer.line) observer.line(fmt::format("{}: {}", label, rejoin));
  };
  // The schedule itself stops early; the waits for a healthy cluster after a heal run to their end, or after an
  // interruption within the stop budget.
  auto tell = [&](const std::string& text) {
    if (observer.line) observer.line(text);
  };
  auto tell_fault_started = [&](const Action& a, const std::string& text) {
    tell(text);
    if (observer.fault_started) observer.fault_started(a, text);
  };
  // A finding made after an interruption rests on a wait cut short: recorded as unconfirmed (the verdict unknown).
  auto record_finding = [&](const std::string& text) {
    history::Event e;
    e.type = history::EventType::finding;
    if (stop.interrupted()) e.state = "unconfirmed";
    e.message = text + (last_key_lines.empty() ? "" : "\n--- the log lines that matter (forensics) ---\n" + last_key_lines);
    history.stamp(e);
    history.append(e);
    result.findings.push_back(text);
    tell("finding: " + text.substr(0, text.find('\n')));
    if (observer.finding) observer.finding(text.substr(0, text.find('\n')));
  };
  // A sign of a bug seen in a window's forensics is a finding even when the cluster looks healthy: a node can
  // look like a healthy replica through an orphan postmaster. Each is recorded once.
  std::set<std::string> signs_recorded;
  auto record_bug_signs = [&] {
    for (auto& sign : bug_signs)
      if (signs_recorded.insert(sign.substr(0, sign.find('\n'))).second) record_finding(sign);
    bug_signs.clear();
  };

  std::vector<std::pair<std::int64_t, std::unique_ptr<faults::Fault>>> active;  // started, not yet healed
  auto heal = [&](std::int64_t id, faults::Fault& fault) {
    for (const auto& action : fault.heal(cluster)) {
      auto e = fault_event(history::EventType::fault_end, id, action.fault, action.target);
      e.exit_status = action.result.exit_status;
      e.message = head(action.command + (action.result.err.empty() ? "" : " | " + action.result.err));
      history.stamp(e);
      history.append(e);
    }
  };
  // The nodes the last forensics saw refuse the new timeline, for a finding of an unhealthy cluster.
  auto not_rejoined = [&] {
    std::string text;
    for (const auto& r : last_rejoins)
      if (r.find("did not rejoin") != std::string::npos) text += "\n" + r;
    return text;
  };
  std::int64_t last_closed_wall_us = 0;
  auto close_window = [&](std::int64_t id, const std::string& fault, const std::string& target, const std::string& note) {
    auto e = fault_event(history::EventType::fault_end, id, fault, target);
    e.message = note;
    history.stamp(e);
    history.append(e);
    last_closed_wall_us = e.wall_us;
  };

  // One action: start, hold, heal, wait for health. False when the schedule must stop.
  auto run_action = [&](const Action& a) -> bool {
    if (!stop.sleep_for(a.delay)) return false;
    auto fault = faults::make_fault(a.fault);
    auto start = fault_event(history::EventType::fault_start, a.index, a.fault, a.target.empty() ? "default" : a.target);
    start.limit_ms = a.max_unavailable.count();
    history.stamp(start);  // the window opens when the command is sent
    result.ran.push_back(a);
    try {
      const auto action = fault->start(cluster, a.target, a.choice);
      start.target = action.target;
      result.ran.back().resolved_node = action.target;
      result.ran.back().resolved_role = action.roles;
      start.exit_status = action.result.exit_status;
      ++result.faults_started;
      if (!forensics_root.empty()) save_command_output(forensics_root / fmt::format("fault-{}-command.txt", a.index), action);
      if (action.result.exit_status == -1 && fault->takes_nodes_down()) {
        // A reboot or crash may end the SSH session before the command's exit status: that is the fault working.
        start.exit_status = 0;
        start.message = head(action.command + " | (the session ended as the node went down)");
        tell_fault_started(a, fmt::format("fault {}: {} on {}", a.index, a.fault, action.target));
      } else if (action.result.exit_status == -1) {
        // The session dropped mid-command: the fault may or may not have taken effect. It is held and healed as
        // usual (over a new session), and recorded as unknown, never as a fault that took effect.
        ++result.faults_unknown;
        start.state = "unknown";
        start.message = head(action.command) + " | the SSH session ended before the command's exit status: whether the "
                                               "fault took effect is unknown" +
                        (action.result.err.empty() ? "" : " (" + head(action.result.err) + ")");
        tell_fault_started(a, fmt::format("fault {}: {} on {} OUTCOME UNKNOWN: the SSH session ended mid-command; it is "
                                          "healed over a new session",
                                          a.index, a.fault, action.target));
      } else if (action.result.exit_status == 0) {
        start.message = head(action.command + (action.result.err.empty() ? "" : " | " + action.result.err));
        tell_fault_started(a, fmt::format("fault {}: {} on {}", a.index, a.fault, action.target));
      } else {
        // Refused: the reason is the command's own words (Patroni's), not its topology table, which stays whole
        // in the forensics.
        ++result.faults_refused;
        const std::string reason = faults::failure_text(action.result);
        start.message = head(action.command) + " | " + head(reason);
        tell_fault_started(a, fmt::format("fault {}: {} on {} REFUSED (exit {}): {}", a.index, a.fault, action.target,
                                          action.result.exit_status, head(reason)));
      }
    } catch (const std::exception& error) {
      start.exit_status = -1;
      start.message = head(std::string("not started: ") + error.what());
      ++result.faults_failed;
      tell_fault_started(a, fmt::format("fault {}: {} not started: {}", a.index, a.fault, error.what()));
    }
    history.append(start);
    started_at_wall_us[a.index] = start.wall_us;
    started_actions[a.index] = a;
    if (start.exit_status == -1 && start.message.rfind("not started", 0) == 0) {
      close_window(a.index, a.fault, start.target, "");
      if (observer.fault_ended) observer.fault_ended(a);
      return true;
    }
    if (fault->takes_nodes_down()) wait_until_down(cluster, start.target, stop);
    active.emplace_back(a.index, std::move(fault));
    stop.sleep_for(a.duration);
    if (!a.heal) return true;  // left active on purpose: a later step or the final heal ends it
    heal(active.back().first, *active.back().second);
    if (a.wait_healthy) {
      const auto topology = wait_healthy_after_heal(cluster, scenario.healthy_timeout, stop);
      collect(fmt::format("fault-{}", a.index), start.wall_us);
      if (!topology.healthy())
        record_finding(describe_unhealthy(cluster, topology, fmt::format("fault {} ({} on {})", a.index, a.fault, start.target),
                                          stop) +
                       not_rejoined());
    } else {
      collect(fmt::format("fault-{}", a.index), start.wall_us);
    }
    record_bug_signs();
    // How each node that changed timeline came back (pg_rewind, a new base backup), kept with the fault's window.
    std::string rejoined;
    for (const auto& r : last_rejoins) rejoined += (rejoined.empty() ? "" : "; ") + r;
    // A full WAL disk that PostgreSQL never ran into is a result too: it writes into the segments it recycled before,
    // and needs new space only when those run out.
    if (a.fault == "fill-wal-disk" && !forensics_root.empty() && !stop.interrupted())
      for (std::size_t from = 0; from <= start.target.size();) {  // the target: nodes, comma-separated
        const auto comma = std::min(start.target.find(',', from), start.target.size());
        const std::string node = start.target.substr(from, comma - from);
        from = comma + 1;
        if (std::none_of(last_rejoins.begin(), last_rejoins.end(),
                         [&](const std::string& r) { return r.rfind(node + "'s PostgreSQL", 0) == 0; }))
          rejoined += (rejoined.empty() ? "" : "; ") + node +
                      "'s PostgreSQL logged no write refused for want of space (it went on in WAL segments it had)";
      }
    close_window(a.index, a.fault, start.target, rejoined);
    if (observer.fault_ended) observer.fault_ended(a);
    active.pop_back();
    return !stop.requested();
  };
  // Whatever is still active is undone, and the cluster must be healthy again. Its forensics cover what happened
  // since the last window closed (or the oldest still open began).
  auto heal_everything = [&](const std::string& label, const std::string& note, const std::string& after, bool wait) {
    std::int64_t since_wall_us = last_closed_wall_us;
    if (!active.empty()) since_wall_us = started_at_wall_us[active.front().first];
    for (auto& [id, fault] : active) {
      heal(id, *fault);
      close_window(id, fault->name(), "", note);
      if (observer.fault_ended) observer.fault_ended(started_actions[id]);
    }
    active.clear();
    if (!wait) return;
    const auto topology = wait_healthy_after_heal(cluster, scenario.healthy_timeout, stop);
    if (result.faults_started > 0) collect(label, since_wall_us);
    if (!topology.healthy()) record_finding(describe_unhealthy(cluster, topology, after, stop) + not_rejoined());
    record_bug_signs();
  };
  // Round 0 is `actions`; with `next_round`, the schedule runs again, round after round, until the stop; a round
  // ends as the schedule does, with nothing left active and a healthy cluster.
  bool going = true;
  for (const auto& a : actions)
    if (going) going = run_action(a);
  for (int round = 1; going && next_round; ++round) {
    // A cluster that did not recover is not tested further: the run ends with its finding (a soak then decides
    // between ending and rebuilding), rather than pile faults onto a broken cluster and blur the story.
    if (!result.findings.empty()) {
      tell(fmt::format("no round {}: the cluster did not recover in round {}", round, round - 1));
      break;
    }
    const auto more = next_round(round);
    if (more.empty() || stop.requested()) break;  // the final heal ends the last round
    if (!active.empty())
      heal_everything(fmt::format("round-{}", round - 1), fmt::format("healed at the end of round {}", round - 1),
                      fmt::format("the end of round {}", round - 1), true);
    for (const auto& a : more)
      if (going) going = run_action(a);
  }
  heal_everything("final-heal", "healed at the end", "the final heal", scenario.final_heal);
  return result;
}

}  // namespace pgchaos::scenarios
