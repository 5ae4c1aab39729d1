// Internal to engine/: the commit mode set for a run and the previous configuration put back, whatever happens.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "faults/patroni_sync.h"
#include "common/stop_source.h"

namespace pgchaos::engine {

class CommitModeGuard {
 public:
  /// Sets `setting` through Patroni's PATCH /config (unless nullopt) and waits up to 60 s until Patroni's
  /// configuration says so and the primary reached through `dsns` runs with it (synchronous_commit at the level,
  /// synchronous_standby_names set for the sync modes, empty for async). Throws faults::FaultError when it does
  /// not take effect.
  CommitModeGuard(faults::ClusterContext& cluster, std::optional<common::CommitSetting> setting,
                  const std::vector<std::string>& dsns, const common::StopSource& stop);
  /// Restores the previous settings, trying again for up to 30 s while Patroni refuses (a 409 while its DCS has no
  /// quorum after a partition), within the stop budget after an interruption; a failure is logged, never thrown.
  ~CommitModeGuard();
  CommitModeGuard(const CommitModeGuard&) = delete;
  CommitModeGuard& operator=(const CommitModeGuard&) = delete;

 private:
  faults::ClusterContext& cluster_;
  const common::StopSource& stop_;
  std::optional<faults::PatroniSyncSettings> previous_;
};

}  // namespace pgchaos::engine
