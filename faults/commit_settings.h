// The commit mode in Patroni's dynamic configuration: read, written, restored.
#pragma once

#include <string>

#include "faults/cluster.h"
#include "history/commit_mode.h"

namespace pgchaos::faults {

struct CommitSettings {
  bool synchronous_mode = false;
  bool synchronous_mode_strict = false;
  std::string synchronous_commit;  ///< empty: not set in Patroni's dynamic configuration
};
/// Reads the dynamic configuration (GET /config of the leader).
CommitSettings read_commit_settings(const ClusterContext& cluster);
/// PATCH /config with these settings.
void write_commit_settings(const ClusterContext& cluster, const CommitSettings& settings);
/// What a commit mode means in Patroni's terms: synchronous_mode (and _strict for sync-strict) with the setting's
/// synchronous_commit level (remote_apply for the sync modes, local for async unless the setting names one).
CommitSettings commit_settings_for(const history::CommitSetting& setting);

}  // namespace pgchaos::faults
