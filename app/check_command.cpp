// `pgchaos check RUN_DIR` and `pgchaos report RUN_DIR`: the verdict and the pages again, from the run directory.
#include <boost/program_options.hpp>
#include <iostream>

#include "app/verdict.h"

namespace pgchaos::app {
namespace po = boost::program_options;
namespace {

int verdict_command(const std::vector<std::string>& args, bool is_check) {
  po::options_description flags(is_check ? "pgchaos check RUN_DIR" : "pgchaos report RUN_DIR");
  flags.add_options()("help,h", "show this help")("run-dir", po::value<std::string>(), "the run directory");
  if (is_check)
    flags.add_options()
        ("resnapshot", po::bool_switch(), "read fresh snapshots from the run's nodes first")
        ("max-lost", po::value<std::int64_t>(), "lost acknowledged commits allowed (default: as recorded)")
        ("dsn", po::value<std::vector<std::string>>(), "with --resnapshot: DSNs to use instead of the recorded ones");
  po::positional_options_description positional;
  positional.add("run-dir", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(flags).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& error) {
    std::cerr << "pgchaos " << (is_check ? "check" : "report") << ": " << error.what() << '\n';
    return 2;
  }
  if (vm.count("help") || !vm.count("run-dir")) {
    std::cout << flags << '\n';
    return vm.count("help") ? 0 : 2;
  }
  try {
    const RecordedRun run = read_recorded_run(vm["run-dir"].as<std::string>());
    if (is_check && vm["resnapshot"].as<bool>()) {
      std::vector<std::string> dsns;
      if (vm.count("dsn")) dsns = vm["dsn"].as<std::vector<std::string>>();
      else
        for (const auto& dsn : run.dsns) dsns.push_back(without_masked_password(dsn));
      resnapshot(run, dsns);
    }
    std::optional<std::int64_t> max_lost;
    if (is_check && vm.count("max-lost")) max_lost = vm["max-lost"].as<std::int64_t>();
    const auto result = check_and_report(run, max_lost);
    return is_check ? exit_code(result.verdict) : 0;
  } catch (const std::exception& error) {
    std::cerr << "pgchaos " << (is_check ? "check" : "report") << ": " << error.what() << '\n';
    return 2;
  }
}

}  // namespace

int check_command(const std::vector<std::string>& args) { return verdict_command(args, true); }
int report_command(const std::vector<std::string>& args) { return verdict_command(args, false); }

}  // namespace pgchaos::app
