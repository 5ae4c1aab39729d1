// Internal to reports/: what every page shares — the style sheet, the axis ceiling, a bar chart.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "checker/checker.h"
#include "reports/run_summary.h"

namespace pgchaos::reports {

extern const char* const kPageStyle;

/// The colour of a loss cause (checker::to_string names), the same on every page.
const char* cause_color(const std::string& cause);
/// A line naming each cause that lost commits in its colour, with its count: the legend of a chart by cause.
std::string cause_legend(const LostByCause& causes);
/// The style class of a verdict in a table cell: pass, fail, or report (unknown).
const char* verdict_class(checker::Verdict verdict);
/// The colour of a verdict: valid green, invalid red, unknown amber.
const char* verdict_color(checker::Verdict verdict);

/// The next "nice" number (1, 2, 2.5, 5 × 10^n) at or above `value`; 1 for nothing.
double nice_ceiling(double value);

/// The start of a page: doctype, title, the style sheet, and its heading (both escaped), up to inside <main>.
std::string page_start(const std::string& title, const std::string& heading);

/// Writes each file whole (atomically), in order; throws ReportError.
void write_report_files(const std::vector<std::pair<std::filesystem::path, std::string>>& files);


/// One bar of a bar chart: its label under the axis and its parts, stacked bottom up (value, CSS colour).
struct Bar {
  std::string label;
  std::vector<std::pair<double, std::string>> stack;
};
/// An inline SVG bar chart, one bar per entry (an epoch, a night), each part's value in its tooltip.
std::string bar_chart(const std::string& title, const std::string& unit, const std::vector<Bar>& bars);

}  // namespace pgchaos::reports
