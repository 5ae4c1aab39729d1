#include "reports/reports.h"

namespace pgchaos::reports {

void write_reports(const history::RunDirectory& directory, const RunInfo& run, const checker::CheckResult& result) {
  try {
    history::write_file_atomically(directory.report_json(), json_report(run, result));
    history::write_file_atomically(directory.report_html(), html_report(run, result));
    history::write_file_atomically(directory.junit(), junit_report(run, result));
  } catch (const history::HistoryError& error) {
    throw ReportError(error.what());
  }
}

}  // namespace pgchaos::reports
