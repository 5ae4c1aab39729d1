// pgchaos's entry: the command, its exit code, and the one place errors are printed: one line on stderr,
// naming the command and the cause, with bytes from files and peers escaped.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "app/app.h"
#include "common/text.h"

namespace {

constexpr const char* kUsage =
    "usage: pgchaos COMMAND [options]\n"
    "commands:\n"
    "  run        run the workload (bank transfers, or --workload append), record its history, check it\n"
    "  scenario   run the workload under a fault schedule (pgchaos scenario --list), then check and report\n"
    "  matrix     one scenario and seed under several commit modes (async, sync, sync-strict, ...), side by side\n"
    "  soak       epochs of scenarios for hours (a nightly soak), with soak.json, soak.html and junit.xml\n"
    "  trend      compare soak or run directories night by night (trend.json, trend.html), flag regressions\n"
    "  check      recompute a run's verdict from its run directory (--resnapshot reads the nodes again)\n"
    "  report     regenerate a run's report.html, report.json and junit.xml\n"
    "  export     write a list-append run's history as Jepsen's (--format jepsen), for Jepsen's own checker\n"
    "  heal       undo what a killed pgchaos left on the cluster (its fault journal; --all: every fault seen)\n"
    "  lab        up | down | status of the local Patroni lab, 3 or 5 nodes (needs root)\n"
    "  --version  print the version and where the scenario library and the lab are\n"
    "`pgchaos COMMAND --help` lists a command's options.\n";

using pgchaos::engine::ExitCode;

int fail(const std::string& command, const std::string& message) {
  std::string line = "pgchaos";
  if (!command.empty()) line += " " + command;
  line += ": " + pgchaos::common::printable(message) + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
  return static_cast<int>(ExitCode::unknown_or_error);
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a server closing a socket must surface as an error, not kill us
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << kUsage;
    return static_cast<int>(ExitCode::unknown_or_error);
  }
  if (args[0] == "--help" || args[0] == "-h") {
    std::cout << kUsage;
    return 0;
  }
  if (args[0] == "--version") {
    // The data it uses, so that an installation can be told from a build tree at a glance.
    std::cout << "pgchaos " PGCHAOS_VERSION "\n"
              << "scenario library: " << pgchaos::app::scenario_library().string() << "\n"
              << "lab: " << pgchaos::app::lab_directory().string() << "\n";
    return 0;
  }
  const std::string& command = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  try {
    ExitCode code;
    if (command == "run") code = pgchaos::app::run_command(rest);
    else if (command == "scenario") code = pgchaos::app::scenario_command(rest);
    else if (command == "soak") code = pgchaos::app::soak_command(rest);
    else if (command == "trend") code = pgchaos::app::trend_command(rest);
    else if (command == "matrix") code = pgchaos::app::matrix_command(rest);
    else if (command == "check") code = pgchaos::app::check_command(rest);
    else if (command == "report") code = pgchaos::app::report_command(rest);
    else if (command == "export") code = pgchaos::app::export_command(rest);
    else if (command == "lab") code = pgchaos::app::lab_command(rest);
    else if (command == "heal") code = pgchaos::app::heal_command(rest);
    else return fail("", "unknown command '" + command + "' (pgchaos --help lists the commands)");
    return static_cast<int>(code);
  } catch (const std::exception& error) {
    return fail(command, error.what());
  }
}
