// `pgchaos heal --conf FILE [--all]`: undoes what a pgchaos that did not survive left on the cluster (the fault
// journal's entries; with --all, every fault the catalog can see in effect on a node), then waits for a healthy
// cluster and says what it did, node by node. Safe on a healthy cluster: then there is nothing to undo.
#include <fmt/format.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <map>

#include "app/app.h"
#include "common/duration.h"
#include "faults/catalog.h"
#include "faults/journal.h"
#include "flags.h"
#include "scenarios/scenarios.h"

namespace pgchaos::app {
namespace po = boost::program_options;
namespace {

// Its own name: the main job's unity build puts sources of app/ into one unit, and check_command.cpp has a print_line.
void heal_line(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

}  // namespace

engine::ExitCode heal_command(const std::vector<std::string>& args) {
  po::options_description flags("usage: pgchaos heal --conf FILE [--all] [options]");
  flags.add_options()("help,h", "show this help")
      ("conf", po::value<std::string>(), "the cluster's configuration file (its [cluster] section)")
      ("all", po::bool_switch(), "also undo every fault the catalog can see in effect on any node, journalled or not")
      ("force", po::bool_switch(), "also heal faults journalled by a pgchaos that still runs")
      ("timeout", po::value<std::string>()->default_value("120s"), "how long to wait for a healthy cluster afterwards")
      ("accept-new-host-keys", po::bool_switch(), "add unknown SSH host keys to known_hosts (a changed key is refused)");
  const auto vm = parse_flags(args, flags, {});
  if (vm.count("help")) {
    std::cout << flags << '\n';
    return engine::ExitCode::valid;
  }
  if (!vm.count("conf")) throw UsageError("--conf FILE is required (pgchaos heal --help)");
  const auto timeout = common::parse_duration(vm["timeout"].as<std::string>());
  if (!timeout || timeout->count() <= 0) throw UsageError("--timeout: expected a duration like 120s or 2m, got '" + vm["timeout"].as<std::string>() + "'");
  RunOptions options;
  options.conf = vm["conf"].as<std::string>();
  if (!std::filesystem::is_regular_file(*options.conf)) throw UsageError("--conf: no such file '" + options.conf->string() + "'");
  options.cluster = read_cluster_config(*options.conf);
  if (options.cluster.nodes.empty()) throw UsageError(options.conf->string() + ": [cluster] names no node (node.NAME = ...)");
  options.accept_new_host_keys = vm["accept-new-host-keys"].as<bool>();
  faults::ClusterContext cluster;
  build_cluster_context(options, cluster);

  const auto started = std::chrono::steady_clock::now();
  bool all_undone = true;
  std::map<std::string, std::vector<std::string>> done;  // node -> what was done there, in order
  auto tell = [&](const std::string& node, const std::string& text) {
    done[node].push_back(text);
    heal_line(fmt::format("{}: {}", node, text));
  };
  const auto entries = cluster.journal->entries();
  heal_line(fmt::format("journal {}: {} fault{} to undo", cluster.journal->file().string(), entries.size(),
                         entries.size() == 1 ? "" : "s"));
  for (const auto& e : entries) {
    const std::string origin = fmt::format("journalled by pid {} at {}, run {}", e.pid, e.started_at,
                                           e.run_directory.empty() ? "?" : e.run_directory);
    if (e.pid != static_cast<long>(::getpid()) && faults::process_alive(e.pid) && !vm["force"].as<bool>()) {
      tell(e.node, fmt::format("{} left alone: pid {} still runs and heals it itself (--force heals it anyway; {})", e.fault,
                               e.pid, origin));
      all_undone = false;
      continue;
    }
    if (cluster.remotes.count(e.node) == 0) {
      tell(e.node, fmt::format("{} NOT healed: the node is not in {} ({}); kept in the journal", e.fault,
                               options.conf->string(), origin));
      all_undone = false;
      continue;
    }
    const faults::Command command{e.heal_argv};
    const auto result = faults::send_heal(cluster, e.node, command);
    if (result.exit_status == 0 || !faults::fault_in_effect(cluster, e.fault, e.node)) {
      cluster.journal->remove_entry(e);
      tell(e.node, fmt::format("{} {} (`{}`; {})", e.fault, result.exit_status == 0 ? "healed" : "was already undone",
                               command.shell(), origin));
    } else {
      all_undone = false;
      tell(e.node, fmt::format("{} NOT healed: `{}` exited {}: {}; kept in the journal", e.fault, command.shell(),
                               result.exit_status, faults::failure_text(result)));
    }
  }
  if (vm["all"].as<bool>()) {
    std::vector<std::string> unreachable;
    const auto leftovers = faults::find_leftovers(cluster, unreachable);
    for (const auto& u : unreachable) {
      heal_line("could not look at " + u);
      all_undone = false;
    }
    for (const auto& l : leftovers) {
      const auto result = faults::send_heal(cluster, l.node, cluster.command_for(l.heal_action, l.node));
      if (!faults::fault_in_effect(cluster, l.fault, l.node)) {
        tell(l.node, fmt::format("{} found in effect (by `{}`), healed by {}", l.fault, l.check, l.heal_action));
      } else {
        all_undone = false;
        tell(l.node, fmt::format("{} found in effect (by `{}`) and NOT healed: {} exited {}: {}", l.fault, l.check, l.heal_action,
                                 result.exit_status, faults::failure_text(result)));
      }
    }
  }
  for (const auto& node : cluster.nodes)
    if (done[node.name].empty()) heal_line(fmt::format("{}: nothing to undo", node.name));

  const auto topology = scenarios::wait_healthy(cluster, std::chrono::duration_cast<std::chrono::seconds>(*timeout));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!topology.healthy()) {
    heal_line(fmt::format("the cluster is NOT healthy after {:.1f} s: {}", seconds, fmt::join(topology.problems, "; ")));
    return engine::ExitCode::unknown_or_error;
  }
  heal_line(fmt::format("the cluster is healthy ({:.1f} s after the heal began; leader {})", seconds, topology.leader));
  return all_undone ? engine::ExitCode::valid : engine::ExitCode::unknown_or_error;
}

}  // namespace pgchaos::app
