#include <fmt/format.h>

#include <algorithm>

#include "invariant_list.h"
#include "reports/reports.h"

namespace pgchaos::reports {
namespace {

}  // namespace

std::string junit_report(const RunInfo& run, const checker::CheckResult& r) {
  const auto list = invariant_results(r);
  const auto failures = std::count_if(list.begin(), list.end(), [](const auto& i) { return i.status == Status::fail; });
  const auto skipped = std::count_if(list.begin(), list.end(), [](const auto& i) { return i.status == Status::not_checked; });
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  xml += fmt::format("<testsuites name=\"pgchaos\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">\n",
                     list.size(), failures, r.verdict == checker::Verdict::unknown && list.empty() ? 1 : 0, skipped);
  xml += fmt::format("  <testsuite name=\"pgchaos.run-{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{:.3f}\">\n",
                     run.run_id, list.size(), failures, skipped, r.duration_s);
  xml += fmt::format("    <properties><property name=\"verdict\" value=\"{}\"/><property name=\"headline\" value=\"{}\"/>"
                     "<property name=\"seed\" value=\"{}\"/><property name=\"commit_mode\" value=\"{}\"/></properties>\n",
                     checker::to_string(r.verdict), escape_markup(r.headline), run.seed, r.commit.text());
  for (const auto& i : list) {
    xml += fmt::format("    <testcase classname=\"pgchaos.{}\" name=\"{}\" time=\"0\">", i.group, escape_markup(i.name));
    if (i.status == Status::fail)
      xml += fmt::format("<failure message=\"{}\">{}</failure>", escape_markup(i.detail), escape_markup(i.detail));
    else if (i.status == Status::not_checked)
      xml += fmt::format("<skipped message=\"{}\"/>", escape_markup(i.detail));
    else
      xml += fmt::format("<system-out>{}</system-out>", escape_markup(i.detail));
    xml += "</testcase>\n";
  }
  if (list.empty())  // the checker could not run: say so as an error, never as a pass
    xml += fmt::format("    <testcase classname=\"pgchaos.invariants\" name=\"check\"><error message=\"{}\"/></testcase>\n",
                       escape_markup(r.headline));
  xml += "  </testsuite>\n</testsuites>\n";
  return xml;
}

}  // namespace pgchaos::reports
