// Internal to reports/: what every page shares — the style sheet, the axis ceiling, a bar chart.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "reports/soak_report.h"
#include "reports/trend.h"

namespace pgchaos::reports {

extern const char* const kPageStyle;

/// The colour of a loss cause (checker::to_string names), the same on every page.
const char* cause_color(const std::string& cause);
/// A line naming each cause that lost commits in its colour, with its count: the legend of a chart by cause.
std::string cause_legend(const LostByCause& causes);
/// The style class of a verdict in a table cell: pass, fail, or report (unknown).
const char* verdict_class(const std::string& verdict);
/// The colour of a verdict: valid green, invalid red, anything else amber.
const char* verdict_color(const std::string& verdict);

/// The next "nice" number (1, 2, 2.5, 5 × 10^n) at or above `value`; 1 for nothing.
double nice_ceiling(double value);

/// The start of a page: doctype, title, the style sheet, and its heading (both escaped), up to inside <main>.
std::string page_start(const std::string& title, const std::string& heading);

/// Writes each file whole (atomically), in order; throws ReportError.
void write_report_files(const std::vector<std::pair<std::filesystem::path, std::string>>& files);

/// The p-th value (0..1, nearest rank) of `values`; 0 for none.
double percentile(std::vector<double> values, double p);
/// Each fault kind's unavailability (p50, p99, max) over the faults that took effect and were measured.
std::vector<FaultKindUnavailability> by_fault_kind(const std::vector<FaultUnavailability>& faults);

/// One bar of a bar chart: its label under the axis and its parts, stacked bottom up (value, CSS colour).
struct Bar {
  std::string label;
  std::vector<std::pair<double, std::string>> stack;
};
/// An inline SVG bar chart, one bar per entry (an epoch, a night), each part's value in its tooltip.
std::string bar_chart(const std::string& title, const std::string& unit, const std::vector<Bar>& bars);

}  // namespace pgchaos::reports
