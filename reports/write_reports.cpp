#include "page.h"
#include "reports/reports.h"
#include "common/files.h"

namespace pgchaos::reports {

void write_report_files(const std::vector<std::pair<std::filesystem::path, std::string>>& files) {
  try {
    for (const auto& [file, text] : files) common::write_file_atomically(file, text);
  } catch (const common::FileError& error) {
    throw ReportError(error.what());
  }
}

std::vector<NodeSummary> node_summaries(const std::vector<history::Snapshot>& snapshots) {
  std::vector<NodeSummary> nodes;
  for (const auto& s : snapshots)
    nodes.push_back({s.name, s.role, s.node, s.lsn, s.system_identifier, s.error, s.timeline, s.in_recovery, s.caught_up,
                     static_cast<std::size_t>(history::ledger_row_count(s))});
  return nodes;
}

void write_reports(const history::RunDirectory& directory, const RunInfo& run, const checker::CheckResult& result) {
  write_report_files({{directory.report_json(), json_report(run, result)},
                      {directory.report_html(), html_report(run, result)},
                      {directory.junit(), junit_report(run, result)}});
}

}  // namespace pgchaos::reports
