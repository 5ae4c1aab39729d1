// `pgchaos lab up|down|status`: the lab is shell and Python around real daemons (lab/), so this command only
// finds lab/lab.sh and hands the arguments over.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "app/app.h"

namespace pgchaos::app {

std::filesystem::path lab_directory() {
  if (const char* dir = std::getenv("PGCHAOS_LAB_DIR")) return dir;
  return PGCHAOS_LAB_DIR;  // the source tree's lab/, set at build time
}

engine::ExitCode lab_command(const std::vector<std::string>& args) {
  const auto script = lab_directory() / "lab.sh";
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    (args.empty() ? std::cerr : std::cout) << "usage: pgchaos lab up|down|status [options]\n"
                 "  up     [--state DIR] [--subnet A.B.C.0/24] [--dcs etcd3|etcd] [--timing default|fast] [--no-wait]\n"
                 "  status [--state DIR] [--json] [--wait SECONDS]\n"
                 "  down   [--state DIR]\n"
                 "State directory default: /var/tmp/pgchaos-lab (or $PGCHAOS_LAB_STATE). Needs root.\n";
    return args.empty() ? engine::ExitCode::unknown_or_error : engine::ExitCode::valid;
  }
  if (!std::filesystem::exists(script)) throw UsageError(script.string() + " not found (set PGCHAOS_LAB_DIR)");
  std::vector<std::string> argv_strings{"bash", script.string()};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  ::execvp("bash", argv.data());
  throw UsageError("cannot run bash");
}

}  // namespace pgchaos::app
