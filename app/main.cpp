#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include "app/app.h"

namespace {

constexpr const char* kUsage =
    "usage: pgchaos COMMAND [options]\n"
    "commands:\n"
    "  run        run the bank-transfer workload, record its history, check it against the database\n"
    "  scenario   run the workload under a fault schedule (pgchaos scenario --list), then check and report\n"
    "  check      recompute a run's verdict from its run directory (--resnapshot reads the nodes again)\n"
    "  report     regenerate a run's report.html, report.json and junit.xml\n"
    "  lab        up | down | status of the local 3-node Patroni lab (needs root)\n"
    "  --version  print the version\n"
    "`pgchaos COMMAND --help` lists a command's options.\n";

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a server closing a socket must surface as an error, not kill us
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::cout << "pgchaos 0.1.0\n";
    return 0;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "run") return pgchaos::app::run_command(rest);
  if (args[0] == "scenario") return pgchaos::app::scenario_command(rest);
  if (args[0] == "check") return pgchaos::app::check_command(rest);
  if (args[0] == "report") return pgchaos::app::report_command(rest);
  if (args[0] == "lab") return pgchaos::app::lab_command(rest);
  std::cerr << "pgchaos: unknown command '" << args[0] << "'\n" << kUsage;
  return 2;
}
