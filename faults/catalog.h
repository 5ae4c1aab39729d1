// The fault catalog: each fault a start and a heal, acting on a target resolved when it starts.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "faults/cluster.h"

namespace pgchaos::faults {

/// What a started fault did: its target and the command's result, recorded in the history.
struct FaultAction {
  std::string fault, target, command;
  std::string roles;  ///< each target's role when it was resolved (primary, sync-standby, replica, unknown),
                      ///< comma-separated like `target`
  CommandResult result;
};

/// A fault: start() acts on a target resolved at that moment; heal() undoes what can be undone (a no-op for
/// faults that end by themselves, like a switchover). `choice` is a number drawn from the scenario's seed that
/// picks among candidates, so a replay picks the same.
class Fault {
 public:
  virtual ~Fault() = default;
  virtual std::string name() const = 0;
  virtual FaultAction start(ClusterContext& cluster, const std::string& target, std::uint64_t choice) = 0;
  virtual std::vector<FaultAction> heal(ClusterContext& cluster) = 0;
  /// The command returns before the node goes down (reboot, crash): the runner waits to see it go.
  virtual bool takes_nodes_down() const { return false; }
};

/// Every fault the catalog knows, by name: switchover, failover, restart, reboot, crash, stop-patroni,
/// start-patroni, terminate-backends, kill-postgres, pause, resume, partition, heal, cancel-sync-waits,
/// block-replication, restart-pgbouncer, pause-pgbouncer, resume-pgbouncer, kill-pgbouncer, start-pgbouncer,
/// freeze-patroni, thaw-patroni, pause-etcd, resume-etcd, stop-etcd, start-etcd, cut-dcs, heal-dcs, fill-wal-disk,
/// free-wal-disk.
std::unique_ptr<Fault> make_fault(const std::string& name);  ///< throws FaultError for an unknown name
std::vector<std::string> fault_names();
/// Why `fault` may not run with these [cluster] settings (fill-wal-disk needs allow_fill_wal_disk = true), or "".
std::string refusal_of(const std::string& fault, const std::map<std::string, std::string>& settings);
/// The faults a scenario step of fault "any" draws from, in catalog order: not the heals of other faults, and not
/// the faults that need sync mode (a row's flag, so that earlier seeds keep their draws).
std::vector<std::string> fault_names_drawn_at_random();

/// A fault a command can see in effect on a node (its check template exits 0 while it is), and the template that
/// undoes it: what `pgchaos heal --all` and the start of every run look for.
struct CheckableFault {
  std::string fault, check_action, heal_action;
};
std::vector<CheckableFault> checkable_faults();
/// Whether `fault` is still in effect on `node` by its check template; true when it cannot say (no check, the node
/// unreachable): a heal is never taken for done on no evidence.
bool fault_in_effect(ClusterContext& cluster, const std::string& fault, const std::string& node);
/// A heal's command: sent once more, over a new session, when the first ended before an exit status; a node that
/// cannot be reached is a result (exit -1, the reason in err), not thrown.
CommandResult send_heal(ClusterContext& cluster, const std::string& node, const Command& command);

/// Resolves a target (primary, replica, sync-standby, async-replica, random, all, majority = more than half the
/// configured nodes, node:K = the K-th configured node, or a node name). A fault's start also takes dcs-leader (the
/// node of etcd's leader, by template etcd-status on the nodes) and dcs-member (a node whose member follows). `choice` picks among
/// several. "all" yields every node. Throws FaultError when nothing matches (no primary, unknown node).
std::vector<std::string> resolve_target(const std::string& target, const Topology& topology,
                                        const std::vector<Node>& nodes, std::uint64_t choice);

}  // namespace pgchaos::faults
