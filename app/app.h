// The command line: options and configuration files turned into the engine's RunRequest, and the subcommands.
// Nothing below app/ knows about flags or configuration files.
#pragma once

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/matrix.h"
#include "engine/soak.h"

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
/// Reads pg_cluster_backend's INI format: [sections], `key = value`, `#`/`;` comments. Throws UsageError "file:line: ...".
std::vector<ConfigEntry> read_config_file(const std::filesystem::path& file);
/// The same from text; `origin` names it in errors.
std::vector<ConfigEntry> parse_config_text(const std::string& text, const std::string& origin);

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
/// The `[cluster]` section: the nodes and how to reach them.
struct ClusterConfig {
  std::string scope = "main";
  std::vector<ClusterNode> nodes;
  std::vector<std::pair<std::string, std::string>> settings;  ///< the section's other keys (ssh_user, ssh_key, ...)
  rest::Settings rest;  ///< rest_ca_file, rest_cert_file, rest_key_file, rest_user and the password
  std::string setting(const std::string& key, const std::string& fallback = "") const;
};
/// Reads `[cluster]` from a configuration file; throws UsageError "file:line: ..." for a malformed node line.
ClusterConfig read_cluster_config(const std::filesystem::path& file);

/// Everything `run` and `scenario` take, validated: nothing in it is checked later against the cluster.
struct RunOptions {
  engine::RunRequest request;
  ClusterConfig cluster;
  std::optional<std::filesystem::path> conf;
  std::filesystem::path output;       ///< the run directory
  bool help_shown = false;            ///< --help was given and printed: nothing to run
  std::chrono::milliseconds stop_timeout{15000};  ///< the waits after Ctrl-C or SIGTERM, in all (--stop-timeout)
  // `scenario` only
  bool list_scenarios = false;
  std::vector<std::filesystem::path> scenario_path;  ///< where scenario names are looked up
  bool accept_new_host_keys = false;
};
/// `pgchaos run` options: the configuration file (--conf) first, then flags over it. Throws UsageError.
RunOptions parse_run_options(const std::vector<std::string>& args);
/// `pgchaos scenario` options: run's options plus the scenario, commit mode, replay; the scenario is loaded and
/// scheduled, the cluster configuration checked. Throws UsageError.
RunOptions parse_scenario_options(const std::vector<std::string>& args);

/// Everything `soak` takes, validated.
struct SoakOptions {
  RunOptions run;                     ///< the epochs' common options (--conf and run's flags; --duration is the soak's)
  engine::SoakRequest request;        ///< without the cluster (build_cluster_context) and the replay command
  std::filesystem::path output;       ///< the soak directory
  bool rebuild_lab = false;
  bool help_shown = false;
};
/// Everything `matrix` takes, validated.
struct MatrixOptions {
  RunOptions run;                     ///< --conf and run's flags
  engine::MatrixRequest request;      ///< without the cluster (build_cluster_context)
  std::filesystem::path output;       ///< the matrix directory
  bool rebuild_lab = false;
  bool help_shown = false;
};
/// `pgchaos matrix` options. Throws UsageError.
MatrixOptions parse_matrix_options(const std::vector<std::string>& args);

/// `pgchaos soak` options. Throws UsageError.
SoakOptions parse_soak_options(const std::vector<std::string>& args);

/// pgchaos's data: the variable when set ($PGCHAOS_LAB_DIR, $PGCHAOS_SCENARIO_DIR); else installed beside the binary
/// (BIN/../share/pgchaos/lab and .../scenarios, as the package puts them); else the source tree it was built from.
std::filesystem::path lab_directory();
std::filesystem::path scenario_library();
/// Where a scenario name is looked up, in order: each --scenario-dir, each directory of $PGCHAOS_SCENARIO_PATH
/// (colon-separated), then the library. A directory that does not exist is a UsageError naming its origin.
std::vector<std::filesystem::path> scenario_search_path(const std::vector<std::string>& scenario_dirs);

/// Seed DSNs `pq://user:pass@host:port/db` become libpq URIs; anything else is returned as it is.
std::string convert_pg_cluster_dsn(const std::string& dsn);

/// The cluster as the fault catalog needs it: nodes, an SSH Remote each, command templates, settings.
void build_cluster_context(const RunOptions& options, faults::ClusterContext& cluster);

/// The subcommands. Each returns the exit code; errors are thrown (UsageError for bad input) and printed by main.
engine::ExitCode run_command(const std::vector<std::string>& args);
engine::ExitCode scenario_command(const std::vector<std::string>& args);
/// `pgchaos check RUN_DIR [--resnapshot] [--max-lost N] [--dsn ...]`.
engine::ExitCode check_command(const std::vector<std::string>& args);
/// `pgchaos export RUN_DIR --format jepsen`.
engine::ExitCode export_command(const std::vector<std::string>& args);
/// `pgchaos soak --conf FILE --duration T [--epoch T] [--scenarios A,B] ...`.
engine::ExitCode soak_command(const std::vector<std::string>& args);
/// `pgchaos matrix SCENARIO --conf FILE [--modes async,sync,sync-strict] ...`.
engine::ExitCode matrix_command(const std::vector<std::string>& args);
/// `pgchaos trend DIR... [--output DIR] [--margin F] [--min-nights N] [--fail-on-regression]`.
engine::ExitCode trend_command(const std::vector<std::string>& args);
/// `pgchaos heal --conf FILE [--all] [--force] [--timeout T]`: undoes the journalled faults (and with --all every
/// fault the catalog sees in effect on a node), waits for a healthy cluster, says what it did node by node.
engine::ExitCode heal_command(const std::vector<std::string>& args);
/// `pgchaos report RUN_DIR`.
engine::ExitCode report_command(const std::vector<std::string>& args);
/// Runs lab/lab.sh with `args` as a child process and returns its exit status (-1: it did not exit).
int run_lab_script(const std::vector<std::string>& args);
/// The lab in `state` down and up again as it was set up (timing, DCS, nodes, --set); throws std::runtime_error
/// when it does not come up.
void rebuild_lab(const std::filesystem::path& state);
/// `pgchaos lab ...`: replaces the process with lab/lab.sh; returns only on failure.
engine::ExitCode lab_command(const std::vector<std::string>& args);

}  // namespace pgchaos::app
