// The reports of many runs: a soak's (soak.json, soak.html, junit.xml with one test case per epoch) and a trend's
// across nights (trend.json, trend.html). Data in, files out: the engine fills a SoakReport as epochs end,
// `pgchaos trend` reads soak.json and report.json files back (docs/soak-schema.md).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "checker/checker.h"
#include "reports/run_summary.h"

namespace pgchaos::reports {

/// Where a soak is: running (an epoch is under way: the soak was killed if it stays so), completed, interrupted
/// (Ctrl-C), cluster unhealthy (ended by a finding between epochs), harness error (three epochs without a verdict).
enum class SoakStatus { running, completed, interrupted, cluster_unhealthy, harness_error };
const char* to_string(SoakStatus status) noexcept;  ///< as soak.json writes it: "cluster unhealthy", ...
std::optional<SoakStatus> parse_soak_status(std::string_view text) noexcept;

struct SoakReport {
  std::string started_at, ended_at;
  SoakStatus status = SoakStatus::running;
  checker::Verdict verdict = checker::Verdict::unknown;  ///< every epoch's merged, and invalid with a finding
  std::uint64_t seed = 0;
  std::vector<std::string> scenarios;
  std::optional<common::CommitSetting> commit_mode;  ///< as --commit-mode named it; none: as the cluster is
  std::string keep;
  double planned_s = 0, epoch_s = 0, elapsed_s = 0;
  std::vector<RunSummary> epochs;
  std::vector<std::string> findings;     ///< the cluster between epochs (with where its forensics are)
  LostByCause lost_by_cause() const;  ///< summed over the epochs
};

std::string soak_json(const SoakReport& soak);
std::string soak_html(const SoakReport& soak);
/// One test case per epoch, named scenario + seed; a failure's message holds the replay command.
std::string soak_junit(const SoakReport& soak);
/// Writes soak.json, soak.html and junit.xml into `dir`, each whole. Throws ReportError.
void write_soak_reports(const std::filesystem::path& dir, const SoakReport& soak);
/// Reads soak.json back. Throws ReportError naming `origin`.
SoakReport parse_soak_json(const std::string& text, const std::string& origin);

}  // namespace pgchaos::reports
