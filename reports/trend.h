// A trend across nights: many soak or run directories (the last N nightly artifacts), one row each, and each night
// held against the median of the nights before it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "reports/run_summary.h"

namespace pgchaos::reports {

struct NightSummary {
  std::string label;             ///< the directory's name
  std::string kind;              ///< soak | run
  std::string started_at;
  std::optional<common::CommitSetting> commit_mode;  ///< the night's; none: its epochs ran in different modes
  checker::Verdict verdict = checker::Verdict::unknown;
  std::int64_t operations = 0, lost = 0;
  double ops_per_s = 0, duration_s = 0;
  int epochs = 0, invalid_epochs = 0;
  LostByCause lost_by_cause;
  LostByCause anomalies;                 ///< the list-append workload's anomaly kinds, with counts (none for the bank)
  std::int64_t anomalies_forbidden = 0;  ///< of them, those the isolation asked for forbids
  std::vector<FaultKindUnavailability> unavailability;
  std::vector<std::string> regressions;  ///< filled by flag_regressions()
  double lost_per_million() const;
  std::string commit_mode_text() const;  ///< the setting's text, or "as the cluster is": nights are compared by it
};

/// A soak directory (soak.json) or a run directory (report.json). Throws ReportError naming what is missing.
NightSummary read_night(const std::filesystem::path& dir);

struct TrendOptions {
  double margin = 0.5;           ///< worse than the median of the nights before by more than this fraction
  int min_nights_before = 3;     ///< nights of the same commit mode needed before one is judged
};
/// Orders the nights by start and flags each one worse than the median of the earlier nights of its commit mode:
/// lost per million operations, ops/s, p99 unavailability per fault kind (by at least a second).
void flag_regressions(std::vector<NightSummary>& nights, const TrendOptions& options);

std::string trend_json(const std::vector<NightSummary>& nights, const TrendOptions& options);
std::string trend_html(const std::vector<NightSummary>& nights, const TrendOptions& options);

}  // namespace pgchaos::reports
