#include "engine/replay.h"

#include "common/files.h"

namespace pgchaos::engine {

std::optional<common::CommitSetting> Replay::commit_setting() const {
  if (run.commit.mode == common::CommitMode::single) return std::nullopt;
  return common::CommitSetting{run.commit.mode,
                               run.commit.level.empty() ? common::default_level(run.commit.mode) : run.commit.level};
}

Replay read_replay(const std::filesystem::path& run_directory) {
  const auto from = history::RunDirectory::open(run_directory);
  Replay replay;
  replay.directory = run_directory;
  replay.run = read_recorded_run(from);
  replay.scenario = scenarios::parse_scenario(common::read_text_file(from.scenario()), from.scenario().string());
  if (replay.scenario.name.empty()) replay.scenario.name = replay.run.scenario.value_or("replay");
  if (std::filesystem::exists(from.schedule()))
    replay.ran = scenarios::parse_schedule_json(common::read_text_file(from.schedule()), from.schedule().string());
  return replay;
}

void aim_as_replayed(FaultPlan& plan, const Replay& replay, scenarios::ReplayBy by) {
  plan.replay_by = by;
  plan.replay_of = replay.directory.string();
  plan.recorded = replay.ran;
  plan.actions = scenarios::aimed_as_recorded(plan.actions, plan.recorded, plan.replay_by);
}

}  // namespace pgchaos::engine
