// The commit mode in Patroni's dynamic configuration: read, written, restored.
#pragma once

#include <optional>
#include <string>

#include "faults/cluster.h"
#include "common/commit_setting.h"

namespace pgchaos::faults {

/// Patroni's synchronous replication settings in its dynamic configuration (what a commit mode sets there).
struct PatroniSyncSettings {
  bool synchronous_mode = false;
  bool synchronous_mode_strict = false;
  std::string synchronous_commit;  ///< empty: not set in Patroni's dynamic configuration
};
/// Reads the dynamic configuration (GET /config of the leader).
PatroniSyncSettings read_patroni_sync_settings(const ClusterContext& cluster);
/// Patroni's dynamic configuration as the leader's GET /config gives it (JSON text).
std::string read_dynamic_config(const ClusterContext& cluster);
/// A setting of that configuration by dotted path (postgresql.parameters.wal_sender_timeout) as text (strings as
/// they are, numbers and booleans as JSON writes them); nullopt when it is not set.
std::optional<std::string> config_value(const std::string& config_json, const std::string& dotted_path);
/// PATCH /config with these settings.
void write_patroni_sync_settings(const ClusterContext& cluster, const PatroniSyncSettings& settings);
/// PATCH /config with failsafe_mode (nullopt: removed, Patroni's default, off).
void write_failsafe_mode(const ClusterContext& cluster, std::optional<bool> failsafe);
/// What a commit mode means in Patroni's terms: synchronous_mode (and _strict for sync-strict) with the setting's
/// synchronous_commit level (remote_apply for the sync modes, local for async unless the setting names one).
PatroniSyncSettings patroni_sync_settings_for(const common::CommitSetting& setting);

}  // namespace pgchaos::faults
