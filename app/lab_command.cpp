// `pgchaos lab up|down|status`: the lab is shell and Python around real daemons (lab/), so this command only
// finds lab/lab.sh and hands the arguments over.
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "app/app.h"

namespace pgchaos::app {

namespace {

// `bash lab/lab.sh ARGS...` as execvp takes it: the strings, and the pointers into them.
struct LabCommand {
  std::vector<std::string> words;
  std::vector<char*> argv;
  explicit LabCommand(const std::vector<std::string>& args) {
    const auto script = lab_directory() / "lab.sh";
    if (!std::filesystem::exists(script)) throw UsageError(script.string() + " not found (set PGCHAOS_LAB_DIR)");
    words = {"bash", script.string()};
    words.insert(words.end(), args.begin(), args.end());
    for (auto& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
  }
};

// KEY=VALUE lines of the lab's lab.env (how it was set up, to rebuild it alike); a value's quotes dropped.
std::string lab_setting(const std::filesystem::path& state, const std::string& key, const std::string& fallback) {
  std::ifstream in(state / "lab.env");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + "=", 0) != 0) continue;
    auto value = line.substr(key.size() + 1);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    return value;
  }
  return fallback;
}

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  return {std::istream_iterator<std::string>(in), std::istream_iterator<std::string>()};
}

}  // namespace

int run_lab_script(const std::vector<std::string>& args) {
  LabCommand command(args);
  std::fflush(stdout);
  const pid_t child = ::fork();
  if (child < 0) throw UsageError("cannot start lab.sh: fork failed");
  if (child == 0) {
    ::execvp("bash", command.argv.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The lab down and up again in the same state directory, as it was set up (timing, DCS, nodes, --set); its
// configuration (new passwords) is read again.
void rebuild_lab(const std::filesystem::path& state) {
  std::vector<std::string> up = {"up", "--state", state.string(), "--timing", lab_setting(state, "LAB_TIMING", "default"),
                                 "--dcs", lab_setting(state, "LAB_DCS", "etcd3")};
  up.insert(up.end(), {"--nodes", std::to_string(words(lab_setting(state, "LAB_NODES", "pgc1 pgc2 pgc3")).size())});
  up.insert(up.end(), {"--profile", lab_setting(state, "LAB_PROFILE", "default")});
  up.insert(up.end(), {"--wal-disk", lab_setting(state, "LAB_WAL_DISK", "none")});  // a lab from before WAL disks: none
  for (const auto& setting : words(lab_setting(state, "LAB_SETS", ""))) up.insert(up.end(), {"--set", setting});
  run_lab_script({"down", "--state", state.string()});
  const int status = run_lab_script(up);
  if (status != 0) throw std::runtime_error(fmt::format("lab up exited {}", status));
}

engine::ExitCode lab_command(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    (args.empty() ? std::cerr : std::cout) << "usage: pgchaos lab up|down|status [options]\n"
                 "  up     [--state DIR] [--subnet A.B.C.0/24] [--dcs etcd3|etcd] [--timing default|fast] [--nodes 3|5]\n"
                 "         [--profile default|seed] [--set KEY=VALUE]... [--wal-disk SIZE|none] [--no-wait]\n"
                 "         KEY: a Patroni dynamic setting (ttl, loop_wait, retry_timeout, maximum_lag_on_failover,\n"
                 "         synchronous_node_count, ...), postgresql.parameters.NAME, or postgresql.NAME (use_pg_rewind, ...)\n"
                 "         The default lab: 3 nodes, etcd3 (v3 API), default timing (ttl 30, loop_wait 10, retry_timeout 10).\n"
                 "         --profile seed: as pg_cluster builds it: etcd over TLS with client certificates, Patroni's REST\n"
                 "         API over HTTPS with a password, PostgreSQL requiring TLS, pgbouncer on every node behind\n"
                 "         HAProxy, SSH as the non-root user pgchaos-lab with sudo.\n"
                 "         --wal-disk SIZE: each node's pg_wal on an ext4 filesystem of its own of this size (a sparse image\n"
                 "         on a loop device), which fault fill-wal-disk may fill; default none: pg_wal in the data directory.\n"
                 "  status [--state DIR] [--json] [--wait SECONDS]\n"
                 "  down   [--state DIR]\n"
                 "State directory default: /var/tmp/pgchaos-lab (or $PGCHAOS_LAB_STATE). Needs root.\n";
    return args.empty() ? engine::ExitCode::unknown_or_error : engine::ExitCode::valid;
  }
  LabCommand command(args);
  ::execvp("bash", command.argv.data());
  throw UsageError("cannot run bash");
}

}  // namespace pgchaos::app
