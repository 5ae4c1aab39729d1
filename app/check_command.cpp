// `pgchaos check RUN_DIR` and `pgchaos report RUN_DIR`: the verdict and the pages again, from the run directory.
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>

#include "app/app.h"
#include "flags.h"

namespace pgchaos::app {
namespace po = boost::program_options;
namespace {

void print_line(const std::string& line) { std::printf("%s\n", line.c_str()); }

engine::ExitCode verdict_command(const std::vector<std::string>& args, bool is_check) {
  po::options_description flags(is_check ? "usage: pgchaos check RUN_DIR [options]" : "usage: pgchaos report RUN_DIR");
  flags.add_options()("help,h", "show this help")("run-dir", po::value<std::string>(), "the run directory");
  if (is_check)
    flags.add_options()
        ("resnapshot", po::bool_switch(), "read fresh snapshots from the run's nodes first")
        ("max-lost", po::value<std::int64_t>(), "lost acknowledged commits allowed (default: as recorded)")
        ("dsn", po::value<std::vector<std::string>>(), "with --resnapshot: DSNs to use instead of the recorded ones");
  po::positional_options_description positional;
  positional.add("run-dir", 1);
  const auto vm = parse_flags(args, flags, positional);
  if (vm.count("help")) {
    std::cout << flags << '\n';
    return engine::ExitCode::valid;
  }
  if (!vm.count("run-dir")) throw UsageError("name the run directory (pgchaos " + std::string(is_check ? "check" : "report") + " --help)");
  const auto directory = history::RunDirectory::open(vm["run-dir"].as<std::string>());
  if (is_check && vm["resnapshot"].as<bool>()) {
    std::vector<std::string> dsns;
    if (vm.count("dsn")) dsns = vm["dsn"].as<std::vector<std::string>>();
    else
      for (const auto& dsn : engine::read_recorded_run(directory).dsns) dsns.push_back(backend::without_masked_password(dsn));
    engine::resnapshot(directory, dsns);
  }
  std::optional<std::int64_t> max_lost;
  if (is_check && vm.count("max-lost")) max_lost = vm["max-lost"].as<std::int64_t>();
  engine::PhaseTimes times;
  const auto result = engine::check_run_directory(directory, max_lost, print_line, &times);
  print_line("time: " + times.text());
  return is_check ? engine::exit_code_of(result.verdict) : engine::ExitCode::valid;
}

}  // namespace

engine::ExitCode check_command(const std::vector<std::string>& args) { return verdict_command(args, true); }
engine::ExitCode report_command(const std::vector<std::string>& args) { return verdict_command(args, false); }

}  // namespace pgchaos::app
