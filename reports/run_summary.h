// One run as the reports of many runs (a soak's epochs, a matrix's columns, a trend's nights) count it: its
// verdict, operations, losses by cause and each fault's unavailability. Shared by soak_report.h, matrix_report.h and
// trend.h, and by the page helpers.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "checker/checker.h"
#include "common/commit_setting.h"

namespace pgchaos::reports {

/// Lost ops per cause, as every soak and trend page counts them.
using LostByCause = std::vector<std::pair<std::string, std::int64_t>>;

/// One fault's write unavailability in seconds (kNotMeasured; the probe's also kNeverResumed).
struct FaultUnavailability {
  static constexpr double kNotMeasured = -1, kNeverResumed = -2;
  std::string fault;
  double probe_s = kNotMeasured, workload_s = kNotMeasured;
  bool refused = false;
};

/// Each fault kind's unavailability over the faults of that kind that took effect and were measured.
struct FaultKindUnavailability {
  std::string fault;
  int count = 0;                 ///< faults of this kind that took effect and were measured
  double p50_s = 0, p99_s = 0, max_s = 0;  ///< the probe's (the workload's without a probe)
};

struct RunSummary {
  int index = 0;
  std::string directory;                 ///< relative to the soak (or matrix) directory, e.g. epoch-0003
  std::string scenario, headline, started_at, error;
  common::CommitSetting commit_mode;     ///< as the check saw it
  checker::Verdict verdict = checker::Verdict::unknown;
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
  /// The list-append workload's isolation check; isolation empty for the bank's runs.
  std::string isolation, strongest_level;
  LostByCause anomalies;                 ///< each anomaly kind found, with its count
  std::int64_t anomalies_forbidden = 0, lost_appends = 0;
  double worst_unavailable_s() const;    ///< the longest probe outage (workload's without a probe), -1 none
};

/// What a run's check says in a summary's terms: verdict, counts, losses by cause, each fault's unavailability;
/// the rest of `base` (index, directory, seed, ...) kept.
RunSummary summarize_run(const checker::CheckResult& r, RunSummary base);

/// Adds `more` into `sum`, cause by cause (a cause new to `sum` is appended).
void add_causes(LostByCause& sum, const LostByCause& more);
/// "G-single 3 (forbidden), G2-item 1" for a list-append run, "–" for the bank's.
std::string anomalies_text(const RunSummary& run);
/// "async-lag 12, split-brain 3": the causes that lost anything, or `none`.
std::string causes_text(const LostByCause& causes, const std::string& none = "none");

/// The p-th value (0..1, nearest rank) of `values`; 0 for none.
double percentile(std::vector<double> values, double p);
/// Each fault kind's unavailability (p50, p99, max) over the faults that took effect and were measured.
std::vector<FaultKindUnavailability> by_fault_kind(const std::vector<FaultUnavailability>& faults);

}  // namespace pgchaos::reports
