// Scenarios are data (scenarios/library/*.json): steps of faults with targets and timing, and a final heal.
// The scheduler draws every random choice from one seed, so the same seed replays the same run.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "faults/cluster.h"
#include "history/events.h"
#include "common/stop_source.h"

namespace pgchaos::scenarios {

/// A scenario file that cannot be used; the message names the file and the field.
struct ScenarioError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Step {
  std::string fault;                  ///< a catalog name, or "any" (drawn from `choices`, default every fault)
  std::vector<std::string> choices;   ///< for "any"
  std::string target;                 ///< primary | replica | random | all | NODE; empty: the fault's default
  std::chrono::milliseconds delay_min{0}, delay_max{0};  ///< before the fault starts
  std::chrono::milliseconds duration{0};                 ///< fault active before its heal
  int repeat = 1;
  bool wait_healthy = true;           ///< after the heal, wait for a healthy cluster before the next step
  bool heal = true;                   ///< false: leave it active (a later step, or the final heal, undoes it)
  std::chrono::milliseconds max_unavailable{0};  ///< the probe's unavailability allowed for this fault, 0: --max-unavailable
};
struct Scenario {
  std::string name, description;
  std::vector<Step> steps;
  bool final_heal = true;
  std::chrono::seconds healthy_timeout{120};
  /// Settings of Patroni's dynamic configuration the scenario needs (dotted path -> value as text, e.g.
  /// postgresql.parameters.wal_sender_timeout -> 60s); a run refuses to start on a cluster without them.
  std::map<std::string, std::string> requires_settings;
  std::string setup;                  ///< how to get a cluster with them (e.g. the lab command), for the refusal
  std::string source;                 ///< the file's text, kept for replay
};

/// Parses a scenario's JSON. `origin` names it in errors ("file: steps[2].delay: ...").
Scenario parse_scenario(const std::string& json_text, const std::string& origin);
/// A name looked up as NAME.json in each directory of `search_path` in order (the first found wins: a user's own
/// directory before the library replaces a scenario of the same name), or a path to a file (a name with a '/' or
/// ending in .json). Throws ScenarioError.
Scenario load_scenario(const std::string& name_or_file, const std::vector<std::filesystem::path>& search_path);
/// One scenario of a search path, as `scenario --list` shows it.
struct ScenarioEntry {
  std::string name, description;
  std::filesystem::path directory;  ///< where it was found
};
/// Every scenario of the search path, sorted by name; a name shadowed by an earlier directory is listed once.
std::vector<ScenarioEntry> list_scenarios(const std::vector<std::filesystem::path>& search_path);

/// One fault action as scheduled from the seed.
struct Action {
  int index = 0;
  std::string fault, target;
  std::chrono::milliseconds delay{0}, duration{0};
  std::uint64_t choice = 0;  ///< picks among candidate targets at run time
  bool wait_healthy = true;
  bool heal = true;
  std::chrono::milliseconds max_unavailable{0};
  std::string resolved_node, resolved_role;  ///< once it ran: the target as resolved (comma-separated for "all")
};
/// Round `round` of the schedule (0: the scenario once; a cycled run goes on with 1, 2, ...): every draw comes from
/// the seed alone, rounds drawn in order from one generator, indices counting on across rounds.
std::vector<Action> schedule(const Scenario& scenario, std::uint64_t seed, int round = 0);

/// Runs a schedule against the cluster, recording fault_start / fault_end / finding events in `history`.
/// Stops early when `stop` is requested; always heals what it started (the final heal) and waits for a
/// healthy cluster. A cluster that does not get healthy is recorded as a finding (members, states and each
/// troubled node's log tail), never thrown.
struct RunnerResult {
  int faults_started = 0, faults_failed = 0, faults_refused = 0;
  int faults_unknown = 0;  ///< started, but the SSH session ended before the command's exit status
  std::vector<std::string> findings;
  std::vector<Action> ran;  ///< every action that ran (rounds too), its target as resolved
};

/// schedule.json: the actions as scheduled (written before the run) or as they ran (rewritten after it, with
/// "resolved_node" and "resolved_role" each).
std::string schedule_json(const std::vector<Action>& actions);
/// Reads schedule.json back; throws ScenarioError naming `origin`.
std::vector<Action> parse_schedule_json(const std::string& json_text, const std::string& origin);

/// How a replay aims its faults: at the role each target had (a replica, the primary), or at the very node.
enum class ReplayBy { role, node };
/// `actions` aimed as `ran` (a recorded schedule) resolved them, matched by index; an action `ran` does not hold
/// keeps its target. "all" stays "all".
std::vector<Action> aimed_as_recorded(std::vector<Action> actions, const std::vector<Action>& ran, ReplayBy by);
/// What a schedule tells while it runs, each callback optional: every line for people, and the events a caller
/// follows without reading those lines (a soak's progress line). Called from the schedule's thread.
struct ScheduleObserver {
  std::function<void(const std::string& line)> line;
  /// A fault began, was refused, or could not be started; `line` says which, as told to `line` too.
  std::function<void(const Action& action, const std::string& line)> fault_started;
  std::function<void(const Action& action)> fault_ended;  ///< its window closed (healed, or never started)
  std::function<void(const std::string& finding)> finding;  ///< its first line
};
/// With `forensics_root` set, each closing window's forensics go to forensics_root/fault-N (the final heal's to
/// forensics_root/final-heal), and a finding quotes the log lines that matter. With `next_round`, the actions run
/// again as next_round(1), next_round(2), ... until `stop` (an empty round, or a finding, ends the schedule too).
RunnerResult run_schedule(const Scenario& scenario, const std::vector<Action>& actions, faults::ClusterContext& cluster,
                          history::HistoryWriter& history, const common::StopSource& stop,
                          const ScheduleObserver& observer = {},
                          const std::filesystem::path& forensics_root = {},
                          const std::function<std::vector<Action>(int round)>& next_round = nullptr);

/// What a window's forensics found: the log lines that matter, and the signs of a bug that are findings on their
/// own (Patroni 3.0.2's double demote; more than one postmaster for a node's data directory, or one running in a
/// removed directory), each naming the node and quoting its evidence.
struct Forensics {
  std::string key_lines;
  std::vector<std::string> findings;
  /// What Patroni did, node by node, in its own words: about the DCS (dcs_evidence), and how each node that changed
  /// timeline came back (rejoin_evidence) or did not; kept with the window's end in the history.
  std::vector<std::string> rejoins;
};
/// Saves every node's /history, /cluster, logs (template `forensic-logs`), pg_controldata (`controldata`) and
/// running postmasters (`postmasters`) into `dir`, and returns (and saves as key-lines.txt) the log lines that
/// matter since `since_wall_us`, with the findings. Never throws for a node that does not answer: what could not
/// be collected says why in its file.
Forensics collect_forensics(faults::ClusterContext& cluster, const std::filesystem::path& dir, std::int64_t since_wall_us);

/// Waits for a healthy cluster (until `timeout`, or a stop when `stop` is given); returns the last topology seen.
faults::Topology wait_healthy(faults::ClusterContext& cluster, std::chrono::seconds timeout,
                              const common::StopSource* stop = nullptr);
/// After a heal: a stop does not end the wait (the cluster is to be left healthy), but after an interruption it
/// lasts no longer than what is left of the stop budget (StopSource::wait_allowed).
faults::Topology wait_healthy_after_heal(faults::ClusterContext& cluster, std::chrono::seconds timeout,
                                         const common::StopSource& stop);

}  // namespace pgchaos::scenarios
