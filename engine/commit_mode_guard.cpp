#include "commit_mode_guard.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <thread>

#include "backend/cluster_reader.h"
#include "history/run_directory.h"
#include "common/text.h"

namespace pgchaos::engine {

namespace {

// What is still missing for `wanted` to be in force: empty when Patroni's configuration and the primary agree.
std::string not_yet_in_force(const faults::ClusterContext& cluster, const faults::PatroniSyncSettings& wanted,
                             const std::vector<std::string>& dsns) {
  const auto config = faults::read_patroni_sync_settings(cluster);
  if (config.synchronous_mode != wanted.synchronous_mode || config.synchronous_mode_strict != wanted.synchronous_mode_strict)
    return "Patroni's /config has synchronous_mode " + std::string(config.synchronous_mode ? "true" : "false") +
           ", synchronous_mode_strict " + (config.synchronous_mode_strict ? "true" : "false");
  const auto primary = backend::read_primary_sync_settings(dsns);
  if (primary.synchronous_commit != wanted.synchronous_commit)
    return "the primary has synchronous_commit " + primary.synchronous_commit;
  // Patroni names the standby (or '*' when strict and none is left) only in the sync modes; a cluster without a
  // replica has none to name.
  if (wanted.synchronous_mode && primary.synchronous_standby_names.empty() &&
      (primary.replicas > 0 || wanted.synchronous_mode_strict))
    return "the primary has no synchronous_standby_names yet";
  if (!wanted.synchronous_mode && !primary.synchronous_standby_names.empty())
    return "the primary still has synchronous_standby_names '" + primary.synchronous_standby_names + "'";
  return "";
}

}  // namespace

CommitModeGuard::CommitModeGuard(faults::ClusterContext& cluster, std::optional<common::CommitSetting> setting,
                                 const std::vector<std::string>& dsns, const common::StopSource& stop)
    : cluster_(cluster), stop_(stop) {
  if (!setting) return;
  const auto previous = faults::read_patroni_sync_settings(cluster);
  const auto wanted = faults::patroni_sync_settings_for(*setting);
  faults::write_patroni_sync_settings(cluster, wanted);
  previous_ = previous;
  // Patroni applies it within a loop or two.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    std::string missing;
    try {
      missing = not_yet_in_force(cluster, wanted, dsns);
    } catch (const std::exception& error) {
      missing = error.what();
    }
    if (missing.empty()) break;
    if (std::chrono::steady_clock::now() > deadline)
      throw faults::FaultError("commit mode " + setting->text() + " did not take effect within 60 s: " + missing);
    if (!stop.sleep_for(std::chrono::milliseconds(500)))
      throw faults::FaultError("interrupted while the commit mode was being set");
  }
}

CommitModeGuard::~CommitModeGuard() {
  if (!previous_) return;
  const auto started = std::chrono::steady_clock::now();
  const auto retry_for = std::chrono::seconds(30);
  for (;;) {
    try {
      faults::write_patroni_sync_settings(cluster_, *previous_);
      return;
    } catch (const std::exception& error) {
      const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
      if (waited < retry_for && stop_.wait_allowed(retry_for - waited).count() > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        continue;
      }
      const std::string text = std::string("could not restore the previous commit settings: ") + error.what();
      if (auto log = spdlog::get("engine")) log->error(text);
      else std::fprintf(stderr, "pgchaos: %s\n", common::printable(text).c_str());
      return;
    }
  }
}

}  // namespace pgchaos::engine
