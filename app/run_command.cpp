// `pgchaos run` and `pgchaos scenario`: options in, one engine run, exit code out.
#include <fmt/format.h>

#include <csignal>
#include <cstdio>

#include "app/app.h"
#include "interrupt_guard.h"
#include "scenarios/scenarios.h"

namespace pgchaos::app {
namespace {

std::atomic<common::StopSource*> g_stop{nullptr};

extern "C" void on_interrupt(int signal) {
  auto* stop = g_stop.load();
  if (stop == nullptr) return;
  if (!stop->interrupted()) return stop->request(common::StopReason::interrupted);
  stop->hurry();                 // the second: the waits are skipped, what is known is written
  std::signal(signal, SIG_DFL);  // a third ends pgchaos at once
}

void say(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

engine::ExitCode run_with(RunOptions& options) {
  auto directory = history::RunDirectory::for_new_run(options.output);  // refused before anything is touched
  common::StopSource stop;
  InterruptGuard interrupt_guard(stop, options.stop_timeout);
  faults::ClusterContext cluster;
  if (options.request.faults) {
    build_cluster_context(options, cluster);
    options.request.faults->cluster = &cluster;
  } else if (options.conf && !options.cluster.nodes.empty()) {
    // No faults in this run, but one left by an earlier pgchaos would still shape it: looked for all the same.
    build_cluster_context(options, cluster);
    faults::refuse_leftovers(cluster, [](const std::string& line) { say("warning: " + line); });
  }
  return engine::run(options.request, directory, stop, engine::RunObserver(say)).exit_code;
}

}  // namespace

InterruptGuard::InterruptGuard(common::StopSource& stop, std::chrono::milliseconds stop_budget) {
  stop.set_stop_budget(stop_budget);
  g_stop.store(&stop);
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
}

InterruptGuard::~InterruptGuard() {
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  g_stop.store(nullptr);
}

engine::ExitCode run_command(const std::vector<std::string>& args) {
  RunOptions options = parse_run_options(args);
  if (options.help_shown) return engine::ExitCode::valid;
  return run_with(options);
}

engine::ExitCode scenario_command(const std::vector<std::string>& args) {
  RunOptions options = parse_scenario_options(args);
  if (options.help_shown) return engine::ExitCode::valid;
  if (options.list_scenarios) {
    // A scenario of the user's own directories says where it comes from; the library's need not.
    for (const auto& entry : scenarios::list_scenarios(options.scenario_path))
      say(fmt::format("{:20} {}{}", entry.name, entry.description,
                      entry.directory == options.scenario_path.back() ? "" : " [" + entry.directory.string() + "]"));
    return engine::ExitCode::valid;
  }
  return run_with(options);
}

engine::ExitCode matrix_command(const std::vector<std::string>& args) {
  MatrixOptions options = parse_matrix_options(args);
  if (options.help_shown) return engine::ExitCode::valid;
  common::StopSource stop;
  InterruptGuard interrupt_guard(stop, options.run.stop_timeout);
  // The cluster's context (SSH sessions, templates); a rebuild replaces it between modes, when nothing uses it.
  auto cluster = std::make_unique<faults::ClusterContext>();
  build_cluster_context(options.run, *cluster);
  options.request.base.faults->cluster = cluster.get();
  if (options.rebuild_lab)
    options.request.rebuild_cluster = [&args, &cluster, state = options.run.conf->parent_path()] {
      rebuild_lab(state);
      MatrixOptions again = parse_matrix_options(args);  // the rebuilt lab's configuration: new passwords
      cluster = std::make_unique<faults::ClusterContext>();  // the old nodes' SSH sessions go with the old lab
      build_cluster_context(again.run, *cluster);
      again.request.base.faults->cluster = cluster.get();
      return again.request.base;
    };
  return engine::matrix(options.request, options.output, stop, say).exit_code;
}

}  // namespace pgchaos::app
