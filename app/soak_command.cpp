// `pgchaos soak`: epochs of scenario runs for hours (engine/soak.h), a progress line, and on the lab a rebuild when
// the cluster does not come back.
#include <fmt/format.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <memory>

#include "app/app.h"
#include "interrupt_guard.h"

namespace pgchaos::app {
namespace {

bool stdout_is_terminal() { return ::isatty(STDOUT_FILENO) == 1; }

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

// The lab down and up again in the same state directory, as it was set up (timing, DCS, nodes, --set); its
// configuration (new passwords) is read again.
void rebuild_lab(const std::filesystem::path& state) {
  std::vector<std::string> up = {"up", "--state", state.string(), "--timing", lab_setting(state, "LAB_TIMING", "default"),
                                 "--dcs", lab_setting(state, "LAB_DCS", "etcd3")};
  up.insert(up.end(), {"--nodes", std::to_string(words(lab_setting(state, "LAB_NODES", "pgc1 pgc2 pgc3")).size())});
  for (const auto& setting : words(lab_setting(state, "LAB_SETS", ""))) up.insert(up.end(), {"--set", setting});
  run_lab_script({"down", "--state", state.string()});
  const int status = run_lab_script(up);
  if (status != 0) throw std::runtime_error(fmt::format("lab up exited {}", status));
}

}  // namespace

engine::ExitCode soak_command(const std::vector<std::string>& args) {
  SoakOptions options = parse_soak_options(args);
  if (options.help_shown) return engine::ExitCode::valid;
  // One malloc arena for the whole night. Every epoch starts new threads, and glibc gives new threads new arenas
  // (up to 8 per core), each keeping a few MiB after malloc_trim: measured with 4 s epochs, RSS grew from 18 to
  // 47 MiB over 14 epochs with the default, and stayed at 13.9-14.0 MiB over 21 with one arena.
  ::mallopt(M_ARENA_MAX, 1);
  // The cluster's context (SSH sessions, templates); a rebuild replaces it between epochs, when nothing uses it.
  std::vector<std::unique_ptr<faults::ClusterContext>> clusters;
  auto with_cluster = [&clusters](SoakOptions& parsed) {
    clusters.push_back(std::make_unique<faults::ClusterContext>());
    build_cluster_context(parsed.run, *clusters.back());
    parsed.request.base.faults->cluster = clusters.back().get();
    return parsed.request.base;
  };
  options.request.base = with_cluster(options);
  options.request.replay_command = {"pgchaos", "scenario", "--conf", options.run.conf->string(), "--replay"};
  if (options.rebuild_lab)
    options.request.rebuild_cluster = [&args, &clusters, &with_cluster, state = options.run.conf->parent_path()] {
      rebuild_lab(state);
      SoakOptions again = parse_soak_options(args);  // the rebuilt lab's configuration: new passwords
      clusters.clear();  // the old nodes' SSH sessions go with the old lab
      return with_cluster(again);
    };

  const bool terminal = stdout_is_terminal();
  std::mutex print_mutex;
  auto last_line = std::chrono::steady_clock::now();
  options.request.progress = [&](const std::string& line) {
    const std::lock_guard lock(print_mutex);
    if (terminal) {
      std::printf("\r\033[K%s", line.c_str());
      std::fflush(stdout);
    } else if (std::chrono::steady_clock::now() - last_line >= std::chrono::minutes(1)) {
      last_line = std::chrono::steady_clock::now();  // a log, not a screen: one line a minute
      std::printf("%s\n", line.c_str());
      std::fflush(stdout);
    }
  };
  const engine::Say say = [&](const std::string& line) {
    const std::lock_guard lock(print_mutex);
    std::printf("%s%s\n", terminal ? "\r\033[K" : "", history::printable(line).c_str());
    std::fflush(stdout);
  };

  history::StopSource stop;
  InterruptGuard interrupt_guard(stop);
  return engine::soak(std::move(options.request), options.output, stop, say).exit_code;
}

}  // namespace pgchaos::app
