// Internal to app/: a run directory's verdict, shared by `run`, `check` and `report`.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "app/app.h"
#include "checker/checker.h"

namespace pgchaos::app {

/// What run.json recorded about a run.
struct RecordedRun {
  std::filesystem::path directory;
  std::string run_json;
  std::int64_t run_id = 0, seed = 0;
  std::vector<std::string> dsns;           ///< passwords masked
  std::vector<backend::NodeAddress> nodes;
  checker::CommitMode commit_mode = checker::CommitMode::async;
  std::optional<std::int64_t> max_lost;
};
/// Reads RUN_DIR/run.json; throws UsageError naming the file.
RecordedRun read_recorded_run(const std::filesystem::path& directory);

/// Loads history and snapshots from the directory, checks, writes the three reports, prints the verdict.
checker::CheckResult check_and_report(const RecordedRun& run, std::optional<std::int64_t> max_lost);

/// Takes fresh snapshots of the recorded nodes and replaces the directory's snapshot files.
void resnapshot(const RecordedRun& run, const std::vector<std::string>& dsns);

/// Exit code of a verdict: 0 valid, 1 invalid, 2 unknown.
int exit_code(checker::Verdict verdict);

/// A masked DSN made usable again by dropping its password (libpq then uses PGPASSWORD or ~/.pgpass).
std::string without_masked_password(const std::string& dsn);

}  // namespace pgchaos::app
