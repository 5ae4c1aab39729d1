#include <fstream>

#include "reports/reports.h"

namespace pgchaos::reports {

void write_reports(const RunInfo& run, const checker::CheckResult& result) {
  const std::pair<const char*, std::string> files[] = {{"report.json", json_report(run, result)},
                                                       {"report.html", html_report(run, result)},
                                                       {"junit.xml", junit_report(run, result)}};
  for (const auto& [name, text] : files) {
    // Written beside and renamed, so a reader never sees half a report.
    const auto path = run.directory / name;
    const auto temporary = run.directory / (std::string(name) + ".tmp");
    {
      std::ofstream out(temporary, std::ios::binary);
      out << text;
      if (!out) throw ReportError("cannot write " + temporary.string());
    }
    std::filesystem::rename(temporary, path);
  }
}

}  // namespace pgchaos::reports
