// The commit mode in Patroni's dynamic configuration: read, written, restored.
#pragma once

#include <string>

#include "faults/cluster.h"
#include "history/commit_mode.h"

namespace pgchaos::faults {

struct CommitSettings {
  bool synchronous_mode = false;
  std::string synchronous_commit;  ///< empty: not set in Patroni's dynamic configuration
};
/// Reads the dynamic configuration (GET /config of the leader).
CommitSettings read_commit_settings(const ClusterContext& cluster);
/// PATCH /config with these settings.
void write_commit_settings(const ClusterContext& cluster, const CommitSettings& settings);
/// What a commit mode means in Patroni's terms: sync = synchronous_mode true + synchronous_commit remote_apply;
/// async (and single) = false + local.
CommitSettings commit_settings_for(history::CommitMode mode);

}  // namespace pgchaos::faults
