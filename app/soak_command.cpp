// `pgchaos soak`: epochs of scenario runs for hours (engine/soak.h), a progress line, and on the lab a rebuild when
// the cluster does not come back.
#include <fmt/format.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "app/app.h"
#include "interrupt_guard.h"
#include "common/text.h"

namespace pgchaos::app {
namespace {

bool stdout_is_terminal() { return ::isatty(STDOUT_FILENO) == 1; }

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
    std::printf("%s%s\n", terminal ? "\r\033[K" : "", common::printable(line).c_str());
    std::fflush(stdout);
  };

  common::StopSource stop;
  InterruptGuard interrupt_guard(stop, options.run.stop_timeout);
  return engine::soak(std::move(options.request), options.output, stop, say).exit_code;
}

}  // namespace pgchaos::app
