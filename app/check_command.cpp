// `pgchaos check RUN_DIR` and `pgchaos report RUN_DIR`: the verdict and the pages again, from the run directory;
// `pgchaos export RUN_DIR --format jepsen`: its history for Jepsen's checker.
#include <boost/program_options.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "app/app.h"
#include "common/files.h"
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

engine::ExitCode export_command(const std::vector<std::string>& args) {
  po::options_description flags("usage: pgchaos export RUN_DIR --format jepsen [--output FILE]");
  flags.add_options()("help,h", "show this help")("run-dir", po::value<std::string>(), "the run directory")
      ("format", po::value<std::string>(), "jepsen: the history as Jepsen's JSON history (list-append runs)")
      ("output", po::value<std::string>(), "the file to write (default RUN_DIR/history.jepsen.json; - for stdout)");
  po::positional_options_description positional;
  positional.add("run-dir", 1);
  const auto vm = parse_flags(args, flags, positional);
  if (vm.count("help")) {
    std::cout << flags << '\n';
    return engine::ExitCode::valid;
  }
  if (!vm.count("run-dir")) throw UsageError("name the run directory (pgchaos export --help)");
  if (!vm.count("format") || vm["format"].as<std::string>() != "jepsen")
    throw UsageError("--format: jepsen is the one format there is (pgchaos export RUN_DIR --format jepsen)");
  const auto directory = history::RunDirectory::open(vm["run-dir"].as<std::string>());
  const auto run = engine::read_recorded_run(directory);
  if (run.workload != "append")
    throw UsageError(directory.root().string() + " is a run of the " + run.workload +
                     " workload: Jepsen's list-append history needs a --workload append run");
  const std::string output = vm.count("output") ? vm["output"].as<std::string>() : (directory.root() / "history.jepsen.json").string();
  if (output == "-") {
    append::export_jepsen(directory.history(), std::cout);
    return engine::ExitCode::valid;
  }
  // Written beside, then renamed: a failed export leaves no half file behind.
  const std::string partial = output + ".partial";
  std::int64_t ops = 0;
  {
    std::ofstream out(partial);
    if (!out) throw common::FileError("cannot write " + partial);
    ops = append::export_jepsen(directory.history(), out);
    out.flush();
    if (!out) throw common::FileError("cannot write " + partial);
  }
  std::filesystem::rename(partial, output);
  std::printf("%lld ops written to %s\n", static_cast<long long>(ops), output.c_str());
  return engine::ExitCode::valid;
}
engine::ExitCode report_command(const std::vector<std::string>& args) { return verdict_command(args, false); }

}  // namespace pgchaos::app
