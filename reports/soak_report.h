// The reports of many runs: a soak's (soak.json, soak.html, junit.xml with one test case per epoch) and a trend's
// across nights (trend.json, trend.html). Data in, files out: the engine fills a SoakReport as epochs end,
// `pgchaos trend` reads soak.json and report.json files back (docs/soak-schema.md).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "checker/checker.h"

namespace pgchaos::reports {

/// Lost ops per cause, as every soak and trend page counts them.
using LostByCause = std::vector<std::pair<std::string, std::int64_t>>;

/// One fault's write unavailability in seconds (-1: not measured; probe -2: writes never resumed).
struct FaultUnavailability {
  std::string fault;
  double probe_s = -1, workload_s = -1;
  bool refused = false;
};

struct EpochSummary {
  int index = 0;
  std::string directory;                 ///< relative to the soak directory, e.g. epoch-0003
  std::string scenario, commit_mode, verdict = "unknown", headline, started_at, error;
  std::uint64_t seed = 0;
  int exit_code = 2;
  double duration_s = 0, ops_per_s = 0;
  std::int64_t operations = 0, lost = 0, in_doubt = 0;  ///< acknowledged ops; lost acknowledged; unknown attempts
  int faults = 0, faults_refused = 0;
  LostByCause lost_by_cause;  ///< every cause, 0 included
  std::vector<FaultUnavailability> unavailability;
  std::string replay;                    ///< the command that runs this epoch again, alone
  std::string kept = "all";              ///< all, or report (a valid epoch's history and snapshots dropped)
  std::int64_t rss_bytes = 0, disk_bytes = 0;  ///< pgchaos's memory after the epoch; the soak directory's size
  double worst_unavailable_s() const;    ///< the longest probe outage (workload's without a probe), -1 none
};

struct SoakReport {
  std::string started_at, ended_at;
  std::string status = "running";        ///< running, completed, interrupted, cluster unhealthy, harness error
  std::string verdict = "unknown";       ///< valid (every epoch valid), invalid (any invalid, or a finding), unknown
  std::uint64_t seed = 0;
  std::vector<std::string> scenarios;
  std::string commit_mode, keep;
  double planned_s = 0, epoch_s = 0, elapsed_s = 0;
  std::vector<EpochSummary> epochs;
  std::vector<std::string> findings;     ///< the cluster between epochs (with where its forensics are)
  LostByCause lost_by_cause() const;  ///< summed over the epochs
};

/// What a run's check says in an epoch's (or a matrix column's) terms: verdict, counts, losses by cause, each
/// fault's unavailability; the rest of `base` (index, directory, seed, ...) kept.
EpochSummary summarize_run(const checker::CheckResult& r, EpochSummary base);

/// Adds `more` into `sum`, cause by cause (a cause new to `sum` is appended).
void add_causes(LostByCause& sum, const LostByCause& more);
/// "async-lag 12, split-brain 3": the causes that lost anything, or `none`.
std::string causes_text(const LostByCause& causes, const std::string& none = "none");

std::string soak_json(const SoakReport& soak);
std::string soak_html(const SoakReport& soak);
/// One test case per epoch, named scenario + seed; a failure's message holds the replay command.
std::string soak_junit(const SoakReport& soak);
/// Writes soak.json, soak.html and junit.xml into `dir`, each whole. Throws ReportError.
void write_soak_reports(const std::filesystem::path& dir, const SoakReport& soak);
/// Reads soak.json back. Throws ReportError naming `origin`.
SoakReport parse_soak_json(const std::string& text, const std::string& origin);

}  // namespace pgchaos::reports
