// The cluster as faults act on it: its nodes, a Remote each, the command templates and settings.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "faults/journal.h"
#include "faults/remote.h"
#include "faults/topology.h"

namespace pgchaos::faults {

/// The actions a fault may use: the cluster, a Remote per node, the command templates, the seeded randomness.
struct ClusterContext {
  std::string scope = "main";
  std::vector<Node> nodes;
  std::map<std::string, std::unique_ptr<Remote>> remotes;   ///< by node name
  std::map<std::string, std::string> templates;             ///< action -> command template
  std::map<std::string, std::string> settings;              ///< [cluster] keys (patroni_config, data_dir, ...)
  std::string application_name = "pgchaos";
  /// Every command of a template runs as `sudo -n -- COMMAND` ([cluster] sudo = true, for an ssh_user that is not
  /// root); a sudo that refuses is told as such, naming the command.
  bool sudo = false;
  /// Each node's REST view; when no node answers, `patronictl list -f json` over SSH on the first node that can.
  std::function<Topology()> topology = [this] { return topology_with_fallback(); };
  Topology topology_with_fallback();
  std::chrono::seconds command_timeout{60};
  /// Where a fault that needs a heal is recorded before it starts (none: not recorded, as in unit tests).
  std::shared_ptr<FaultJournal> journal;
  std::string configuration;  ///< the configuration file it was read from, for messages that name it

  /// Runs a template's command on a node with the node's placeholders ({node}, {scope}, {leader}, attributes,
  /// settings) plus `extra`. Throws FaultError for an unknown template or node.
  CommandResult run(const std::string& action, const std::string& node,
                    const std::map<std::string, std::vector<std::string>>& extra = {});
  /// Sends a prepared command to a node's Remote. A refusal by sudo (no right to the command, or a password asked
  /// for) comes back as the command's failure, its stderr saying what to fix.
  CommandResult execute_on(const std::string& node, const Command& command);
  /// The command `run` would send (for the history and for tests).
  Command command_for(const std::string& action, const std::string& node,
                      const std::map<std::string, std::vector<std::string>>& extra = {}) const;
};

/// A node's Patroni watchdog in words, from its configuration (template `watchdog`): "watchdog mode required, device
/// /dev/watchdog present", "no watchdog: mode automatic (Patroni's default) but no /dev/watchdog", ... Never throws:
/// what could not be read says why.
std::string describe_watchdog(ClusterContext& cluster, const std::string& node);

/// Default templates for a systemd host with Patroni (as in pg_cluster's README). [commands] overrides them.
std::map<std::string, std::string> default_templates();

}  // namespace pgchaos::faults
