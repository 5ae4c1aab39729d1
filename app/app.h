// The command line: option parsing and the subcommands. Nothing below app/ knows about flags or files of
// configuration; app/ turns them into the parts' own config structs.
#pragma once

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "backend/backend.h"

namespace pgchaos::app {

/// Bad input: a flag, a configuration value. The message names the flag, or the file, line and key.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// One `key = value` line of an INI file.
struct ConfigEntry {
  std::string section, key, value;
  int line = 0;
};
/// Reads the seed's INI format: [sections], `key = value`, `#`/`;` comments. Throws UsageError "file:line: ...".
std::vector<ConfigEntry> read_config_file(const std::filesystem::path& file);

/// A node of the cluster, from `[cluster] node.NAME = ssh=HOST:PORT postgres=HOST:PORT rest=URL key=value...`.
struct ClusterNode {
  std::string name;
  std::string ssh_host;
  int ssh_port = 22;
  std::string postgres_host;
  int postgres_port = 5432;
  std::string rest_url;
  std::vector<std::pair<std::string, std::string>> attributes;  ///< every key=value of the line, in order
};
/// The `[cluster]` section: the nodes and how to reach them (used by snapshots now, by faults later).
struct ClusterConfig {
  std::string scope = "main";
  std::vector<ClusterNode> nodes;
  std::vector<std::pair<std::string, std::string>> settings;  ///< the section's other keys (ssh_user, ssh_key, ...)
};
/// Reads `[cluster]` from a configuration file; throws UsageError "file:line: ..." for a malformed node line.
ClusterConfig read_cluster_config(const std::filesystem::path& file);

struct RunOptions {
  backend::WorkloadConfig workload;
  ClusterConfig cluster;
  std::optional<std::int64_t> max_lost;  ///< --max-lost
  std::filesystem::path output;       ///< the run directory
  std::string log_level = "info";
  int log_file_max_mb = 50, log_file_backups = 5;
  bool help_shown = false;            ///< --help was given and printed: nothing to run
};
/// Configuration file (--conf) first, then flags over it. Throws UsageError.
RunOptions parse_run_options(const std::vector<std::string>& args);

/// Seed DSNs `pq://user:pass@host:port/db` become libpq URIs; anything else is returned as it is.
std::string convert_seed_dsn(const std::string& dsn);

/// `pgchaos run ...`; returns the process exit code (0 valid, 1 invalid, 2 harness error, 130 interrupted).
int run_command(const std::vector<std::string>& args);

/// `pgchaos check RUN_DIR [--resnapshot] [--max-lost N] [--dsn ...]`: the verdict again, offline (or from fresh
/// snapshots), reports rewritten; exit 0 valid, 1 invalid, 2 unknown or error.
int check_command(const std::vector<std::string>& args);
/// `pgchaos report RUN_DIR`: the pages again; exit 0 unless they cannot be made.
int report_command(const std::vector<std::string>& args);

/// `pgchaos scenario NAME|FILE|--list|--replay RUN_DIR [--commit-mode async|sync] [--duration T] [run options]`.
int scenario_command(const std::vector<std::string>& args);

/// `pgchaos lab ...`: replaces the process with lab/lab.sh (found through $PGCHAOS_LAB_DIR or the build's
/// source tree); returns only on failure.
int lab_command(const std::vector<std::string>& args);

}  // namespace pgchaos::app
