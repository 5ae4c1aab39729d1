#include "page.h"
#include "reports/reports.h"

namespace pgchaos::reports {

void write_report_files(const std::vector<std::pair<std::filesystem::path, std::string>>& files) {
  try {
    for (const auto& [file, text] : files) history::write_file_atomically(file, text);
  } catch (const history::HistoryError& error) {
    throw ReportError(error.what());
  }
}

void write_reports(const history::RunDirectory& directory, const RunInfo& run, const checker::CheckResult& result) {
  write_report_files({{directory.report_json(), json_report(run, result)},
                      {directory.report_html(), html_report(run, result)},
                      {directory.junit(), junit_report(run, result)}});
}

}  // namespace pgchaos::reports
