// `pgchaos trend DIR...`: nights side by side (reports/trend.h), the newest one held against the ones before.
#include <fmt/format.h>

#include <boost/program_options.hpp>
#include <charconv>
#include <cstdio>
#include <iostream>

#include "app/app.h"
#include "flags.h"
#include "reports/reports.h"
#include "reports/trend.h"
#include "common/files.h"

namespace pgchaos::app {
namespace po = boost::program_options;

engine::ExitCode trend_command(const std::vector<std::string>& args) {
  po::options_description flags("usage: pgchaos trend DIR... [options] (soak or run directories, e.g. the last nights' artifacts)");
  flags.add_options()
      ("help,h", "show this help")
      ("dirs", po::value<std::vector<std::string>>(), "soak or run directories")
      ("output", po::value<std::string>()->default_value("."), "where trend.json and trend.html go")
      ("margin", po::value<std::string>()->default_value("0.5"), "a night is flagged when worse than the median of the "
                                                                  "nights before by more than this fraction")
      ("min-nights", po::value<int>()->default_value(3), "earlier nights of the same commit mode needed to judge one")
      ("fail-on-regression", po::bool_switch(), "exit 1 when the newest night is flagged");
  po::positional_options_description positional;
  positional.add("dirs", -1);
  const auto vm = parse_flags(args, flags, positional);
  if (vm.count("help")) {
    std::cout << flags << '\n';
    return engine::ExitCode::valid;
  }
  if (!vm.count("dirs")) throw UsageError("name the soak or run directories to compare (pgchaos trend --help)");
  reports::TrendOptions options;
  const auto margin_text = vm["margin"].as<std::string>();
  const auto* end = margin_text.data() + margin_text.size();
  const auto [ptr, error] = std::from_chars(margin_text.data(), end, options.margin);
  if (error != std::errc() || ptr != end || options.margin < 0 || options.margin > 100)
    throw UsageError("--margin: '" + margin_text + "' is not a fraction such as 0.5");
  options.min_nights_before = vm["min-nights"].as<int>();
  if (options.min_nights_before < 1) throw UsageError("--min-nights: 1 at least");

  std::vector<reports::NightSummary> nights;
  for (const auto& dir : vm["dirs"].as<std::vector<std::string>>()) {
    try {
      nights.push_back(reports::read_night(dir));
    } catch (const reports::ReportError& e) {
      throw UsageError(e.what());
    }
  }
  reports::flag_regressions(nights, options);
  const std::filesystem::path output = vm["output"].as<std::string>();
  std::error_code ec;
  std::filesystem::create_directories(output, ec);
  common::write_file_atomically(output / "trend.json", reports::trend_json(nights, options));
  common::write_file_atomically(output / "trend.html", reports::trend_html(nights, options));
  for (const auto& n : nights)
    std::printf("%-28s %-6s %-8s %-7s %8lld ops %7.0f ops/s  lost %lld%s\n", n.label.c_str(), n.kind.c_str(),
                n.commit_mode_text().c_str(), checker::to_string(n.verdict), static_cast<long long>(n.operations), n.ops_per_s,
                static_cast<long long>(n.lost),
                n.regressions.empty() ? "" : fmt::format("  FLAGGED: {}", fmt::join(n.regressions, "; ")).c_str());
  std::printf("trend: %s\n", (output / "trend.html").c_str());
  const bool newest_flagged = !nights.empty() && !nights.back().regressions.empty();
  return vm["fail-on-regression"].as<bool>() && newest_flagged ? engine::ExitCode::invalid : engine::ExitCode::valid;
}

}  // namespace pgchaos::app
