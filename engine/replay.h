// A recorded run run again: its scenario, seed and schedule as it ran, read from its run directory, and the fault
// plan aimed as that run resolved its targets (by role or by node), round after round.
#pragma once

#include <filesystem>
#include <optional>
#include <vector>

#include "engine/engine.h"

namespace pgchaos::engine {

struct Replay {
  std::filesystem::path directory;              ///< the replayed run directory
  RecordedRun run;                              ///< its run.json
  scenarios::Scenario scenario;                 ///< its scenario.json (named as run.json names it)
  std::vector<scenarios::Action> ran;           ///< its schedule.json as it ran; empty for a run from before
                                                ///< schedules were recorded (it replays as drawn)
  /// The commit setting the run had, to set again; none for a single server (nothing to set).
  std::optional<common::CommitSetting> commit_setting() const;
};

/// Reads a run directory for a replay. Throws common::FileError (a file missing or unreadable) or
/// scenarios::ScenarioError (a scenario or schedule that does not parse), each naming the file.
Replay read_replay(const std::filesystem::path& run_directory);

/// Aims `plan` (its scenario and actions drawn with the replayed seed) as the replayed run resolved its targets:
/// sets recorded, replay_by and replay_of, and re-aims the actions (the engine re-aims each later round).
void aim_as_replayed(FaultPlan& plan, const Replay& replay, scenarios::ReplayBy by);

}  // namespace pgchaos::engine
