#include "commit_mode_guard.h"

#include <spdlog/spdlog.h>

#include <cstdio>

#include "backend/cluster_reader.h"
#include "history/run_directory.h"

namespace pgchaos::engine {

CommitModeGuard::CommitModeGuard(faults::ClusterContext& cluster, std::optional<history::CommitMode> mode,
                                 const std::vector<std::string>& dsns, const history::StopSource& stop)
    : cluster_(cluster) {
  if (!mode) return;
  const auto previous = faults::read_commit_settings(cluster);
  faults::write_commit_settings(cluster, faults::commit_settings_for(*mode));
  previous_ = previous;
  // It took effect when the primary reports it (Patroni applies it within a loop or two). A cluster without a
  // replica reports "single" for async.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    const auto seen = backend::detect_commit_mode(dsns);
    if (seen == *mode || (*mode == history::CommitMode::async && seen == history::CommitMode::single)) break;
    if (std::chrono::steady_clock::now() > deadline)
      throw faults::FaultError(std::string("commit mode ") + history::to_string(*mode) +
                               " did not take effect within 60 s (the primary says " + history::to_string(seen) + ")");
    if (!stop.sleep_for(std::chrono::milliseconds(500)))
      throw faults::FaultError("interrupted while the commit mode was being set");
  }
}

CommitModeGuard::~CommitModeGuard() {
  if (!previous_) return;
  try {
    faults::write_commit_settings(cluster_, *previous_);
  } catch (const std::exception& error) {
    const std::string text = std::string("could not restore the previous commit settings: ") + error.what();
    if (auto log = spdlog::get("engine")) log->error(text);
    else std::fprintf(stderr, "pgchaos: %s\n", history::printable(text).c_str());
  }
}

}  // namespace pgchaos::engine
