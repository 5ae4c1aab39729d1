// The pages people read after a run: report.json (versioned schema, docs/report-schema.md), report.html (one
// file, inline SVG, opens offline) and junit.xml (one test case per invariant, and per fault with a threshold).
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "checker/checker.h"
#include "history/run_directory.h"
#include "history/snapshots.h"

namespace pgchaos::reports {

inline constexpr int kSchemaVersion = 1;

struct ReportError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A node as read at the end of the run: a snapshot's metadata, without its rows (a night's ledgers are large).
struct NodeSummary {
  std::string name, role, node, lsn, system_identifier, error;
  int timeline = 0;
  bool in_recovery = false, caught_up = true;
  std::size_t ledger_rows = 0;
};
std::vector<NodeSummary> node_summaries(const std::vector<history::Snapshot>& snapshots);

/// What the reports say about the run besides the check: its recorded configuration and the nodes read.
struct RunInfo {
  std::filesystem::path directory;
  std::string run_json;                          ///< run.json as written (passwords already masked)
  std::int64_t run_id = 0, seed = 0;
  std::int64_t time_zero_wall_us = 0;            ///< the wall clock (Unix µs) of the history's time 0; 0 unknown
  std::vector<NodeSummary> topology;             ///< the nodes as their snapshots read them
  std::vector<std::pair<std::string, std::string>> forensics;  ///< (window, the log lines that matter)
};

std::string json_report(const RunInfo& run, const checker::CheckResult& result);
std::string html_report(const RunInfo& run, const checker::CheckResult& result);
std::string junit_report(const RunInfo& run, const checker::CheckResult& result);
/// The invariants for a terminal, one line each: "  [ok]   no_lost_commits: ...".
std::vector<std::string> console_lines(const checker::CheckResult& result);

/// Writes report.json, report.html and junit.xml into the run directory. Throws ReportError.
void write_reports(const history::RunDirectory& directory, const RunInfo& run, const checker::CheckResult& result);

}  // namespace pgchaos::reports
