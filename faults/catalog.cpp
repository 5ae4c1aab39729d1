// The fault catalog: each fault is a row of this table (what it runs, where, and what heals it), so a new fault
// is one row, registered explicitly.
#include <algorithm>
#include <regex>

#include <fmt/format.h>

#include "faults/catalog.h"

namespace pgchaos::faults {
namespace {

enum class Where {
  target,      ///< the command runs on each resolved target node
  leader,      ///< on the leader, about a target replica (switchover, failover)
  primary,     ///< on the primary, whatever the target (terminate-backends)
};

struct Spec {
  const char* name;
  const char* action;       ///< command template
  Where where;
  const char* heal_action;  ///< template that undoes it on the same nodes, or nullptr
  const char* default_target;
  bool drawn_at_random;           ///< a scenario step of fault "any" may draw it
  bool takes_nodes_down = false;  ///< returns first, then the node goes down (as `shutdown -r now` does)
  const char* check_action = nullptr;  ///< template that exits 0 while the fault is in effect on a node, or nullptr
  const char* allowed_by = nullptr;    ///< a [cluster] setting that must be "true" for it to run (beyond allow_faults)
};

constexpr bool kDrawn = true, kNotDrawn = false;  // whether a step of fault "any" may draw it
constexpr Spec kCatalog[] = {
    {"switchover", "switchover", Where::leader, nullptr, "replica", kDrawn},
    {"failover", "failover", Where::leader, nullptr, "replica", kDrawn},
    {"restart", "restart", Where::target, nullptr, "primary", kDrawn},
    {"reboot", "reboot", Where::target, nullptr, "primary", kDrawn, true},
    {"crash", "crash", Where::target, nullptr, "primary", kDrawn, true},
    {"stop-patroni", "stop-patroni", Where::target, "start-patroni", "primary", kDrawn, false, "patroni-stopped"},
    {"start-patroni", "start-patroni", Where::target, nullptr, "all", kNotDrawn},  // a heal
    {"terminate-backends", "terminate-backends", Where::primary, nullptr, "primary", kDrawn},
    {"kill-postgres", "kill-postgres", Where::target, nullptr, "primary", kDrawn},
    {"pause", "pause", Where::target, "resume", "primary", kDrawn, false, "postgres-paused"},
    {"resume", "resume", Where::target, nullptr, "all", kNotDrawn},  // a heal
    {"partition", "partition", Where::target, "heal-partition", "primary", kDrawn, false, "partitioned"},
    {"heal", "heal-partition", Where::target, nullptr, "all", kNotDrawn},  // a heal
    {"cancel-sync-waits", "cancel-sync-waits", Where::primary, nullptr, "primary", kNotDrawn},  // needs sync mode
    {"block-replication", "block-replication", Where::target, "heal-replication", "sync-standby", kNotDrawn, false,
     "replication-blocked"},  // sync mode
    // pgbouncer on the node (as the seed runs one on every node, behind HAProxy): never drawn, a cluster may not have it.
    {"restart-pgbouncer", "restart-pgbouncer", Where::target, nullptr, "primary", kNotDrawn},
    // A pooler paused as a whole shows nowhere in pgbouncer 1.18's console (SHOW DATABASES tells a database's PAUSE
    // only, SHOW STATE came later): journalled, not checked.
    {"pause-pgbouncer", "pause-pgbouncer", Where::target, "resume-pgbouncer", "primary", kNotDrawn},
    {"resume-pgbouncer", "resume-pgbouncer", Where::target, nullptr, "all", kNotDrawn},  // a heal
    {"kill-pgbouncer", "kill-pgbouncer", Where::target, "start-pgbouncer", "primary", kNotDrawn, false, "pgbouncer-stopped"},
    {"start-pgbouncer", "start-pgbouncer", Where::target, nullptr, "all", kNotDrawn},  // a heal
    // Around PostgreSQL: Patroni frozen (its leader key expires while PostgreSQL goes on), and the DCS (etcd on the
    // cluster's nodes, as the seed runs it). Never drawn: each tells its own story, and a scenario asks for it.
    {"freeze-patroni", "freeze-patroni", Where::target, "thaw-patroni", "primary", kNotDrawn, false, "patroni-frozen"},
    {"thaw-patroni", "thaw-patroni", Where::target, nullptr, "all", kNotDrawn},  // a heal
    {"pause-etcd", "pause-etcd", Where::target, "resume-etcd", "primary", kNotDrawn, false, "etcd-paused"},
    {"resume-etcd", "resume-etcd", Where::target, nullptr, "all", kNotDrawn},  // a heal
    {"stop-etcd", "stop-etcd", Where::target, "start-etcd", "majority", kNotDrawn, false, "etcd-stopped"},
    {"start-etcd", "start-etcd", Where::target, nullptr, "all", kNotDrawn},  // a heal
    {"cut-dcs", "cut-dcs", Where::target, "heal-dcs", "primary", kNotDrawn, false, "dcs-cut"},
    {"heal-dcs", "heal-dcs", Where::target, nullptr, "all", kNotDrawn},  // a heal
    // A full WAL disk: the filesystem of the node's pg_wal filled by one file, removed by the heal. Runs only where
    // the configuration says that filesystem may be filled (the lab's nodes each have one of their own).
    {"fill-wal-disk", "fill-wal-disk", Where::target, "free-wal-disk", "primary", kNotDrawn, false, "wal-disk-filled",
     "allow_fill_wal_disk"},
    {"free-wal-disk", "free-wal-disk", Where::target, nullptr, "all", kNotDrawn},  // a heal
};

// A node's role as a target names it: what a replay by role asks for again.
std::string role_of(const std::string& node, const Topology& topology) {
  if (node == topology.leader) return "primary";
  for (const auto& m : topology.members)
    if (m.name == node) return m.sync_standby ? "sync-standby" : m.role == "replica" ? "replica" : "unknown";
  return "unknown";
}

// etcd's leader among the nodes: the node whose own member (template etcd-status, `etcdctl endpoint status -w json`
// against the node's etcd) has the leader's id as its own. Asked node by node; the first that says it leads is it.
std::string dcs_leader_of(ClusterContext& cluster) {
  static const std::regex kMember(R"re("member_id"\s*:\s*"?([0-9]+))re"), kLeader(R"re("leader"\s*:\s*"?([0-9]+))re");
  std::vector<std::string> why;
  for (const auto& node : cluster.nodes) {
    try {
      const auto status = cluster.run("etcd-status", node.name);
      std::smatch member, leader;
      if (status.exit_status == 0 && std::regex_search(status.out, member, kMember) &&
          std::regex_search(status.out, leader, kLeader)) {
        if (member[1].str() == leader[1].str()) return node.name;
        continue;  // a follower: it knows the leader's id, not its node
      }
      why.push_back(node.name + ": " + failure_text(status));
    } catch (const FaultError& error) {
      why.push_back(node.name + ": " + error.what());
    }
  }
  std::string text = "no etcd member says it leads (template etcd-status)";
  for (const auto& w : why) text += "; " + w;
  throw FaultError(text);
}

// dcs-leader: etcd's leader's node; dcs-member: a node whose etcd member follows, picked by `choice`.
std::vector<std::string> dcs_target(ClusterContext& cluster, const std::string& target, std::uint64_t choice) {
  const auto leader = dcs_leader_of(cluster);
  if (target == "dcs-leader") return {leader};
  std::vector<std::string> followers;
  for (const auto& n : cluster.nodes)
    if (n.name != leader) followers.push_back(n.name);
  if (followers.empty()) throw FaultError("target dcs-member: no etcd member but the leader");
  return {followers[choice % followers.size()]};
}

class CatalogFault : public Fault {
 public:
  explicit CatalogFault(const Spec& spec) : spec_(spec) {}
  std::string name() const override { return spec_.name; }
  bool takes_nodes_down() const override { return spec_.takes_nodes_down; }

  FaultAction start(ClusterContext& cluster, const std::string& requested_target, std::uint64_t choice) override {
    if (const auto refusal = refusal_of(spec_.name, cluster.settings); !refusal.empty()) throw FaultError(refusal);
    const std::string target = requested_target.empty() ? spec_.default_target : requested_target;
    const Topology topology = cluster.topology();
    std::vector<std::string> nodes;
    if (spec_.where == Where::primary) {
      nodes = resolve_target("primary", topology, cluster.nodes, choice);
    } else if (spec_.where == Where::leader && target == "replica") {
      // Patroni refuses a switchover to a replica that is not a synchronous standby while sync mode is on.
      const auto candidates = topology.switchover_candidates();
      if (candidates.empty()) throw FaultError(std::string(spec_.name) + ": no replica to switch over to");
      nodes = {candidates[choice % candidates.size()]};
    } else if (target == "dcs-leader" || target == "dcs-member") {
      nodes = dcs_target(cluster, target, choice);
    } else {
      nodes = resolve_target(target, topology, cluster.nodes, choice);
    }
    // A DCS target's role is its role in etcd: what a replay by role aims at again.
    const bool by_dcs_role = target == "dcs-leader" || target == "dcs-member";
    FaultAction action;
    action.fault = spec_.name;
    for (const auto& node : nodes) {
      std::map<std::string, std::vector<std::string>> extra;
      std::string run_on = node;
      if (spec_.where == Where::leader) {
        if (node == topology.leader) throw FaultError(std::string(spec_.name) + ": the target must be a replica, " + node + " leads");
        extra["leader"] = {topology.leader};
        extra["candidate"] = {node};
        run_on = topology.leader;
      }
      std::vector<std::string> peers;
      for (const auto& n : cluster.nodes)
        if (n.name != node) peers.push_back(n.postgres_host);
      extra["peers"] = peers;
      const Command command = cluster.command_for(spec_.action, run_on, extra);
      // On the control node's disk before the node is touched: a pgchaos killed from here on leaves its heal behind.
      if (spec_.heal_action != nullptr && cluster.journal) {
        JournalEntry entry;
        entry.fault = spec_.name;
        entry.node = node;
        entry.heal_action = spec_.heal_action;
        entry.heal_argv = cluster.command_for(spec_.heal_action, node).argv;
        cluster.journal->add(std::move(entry));
      }
      CommandResult result;
      try {
        result = cluster.execute_on(run_on, command);
      } catch (const FaultError&) {
        // Thrown before the command ran (no connection, no channel): nothing to heal, nothing left journalled. A
        // session that drops while the command runs returns a result instead (exit -1), and stays journalled.
        if (spec_.heal_action != nullptr && cluster.journal) cluster.journal->remove(spec_.name, node);
        throw;
      }
      // On refusal patronictl prints "Switchover failed, details: ..." (or "Failover failed, ...") and still exits 0;
      // its success line is "Successfully failed over to ...", so the whole refusal phrase is matched.
      if (spec_.where == Where::leader && result.exit_status == 0 &&
          (result.out.find("failed, details") != std::string::npos || result.err.find("failed, details") != std::string::npos)) {
        result.exit_status = 1;
        result.err += result.out;
      }
      action.target += (action.target.empty() ? "" : ",") + node;
      action.roles += (action.roles.empty() ? "" : ",") + (by_dcs_role ? target : role_of(node, topology));
      action.command += (action.command.empty() ? "" : " ; ") + command.shell();
      action.result.exit_status = std::max(action.result.exit_status == -1 ? result.exit_status : action.result.exit_status,
                                           result.exit_status);
      action.result.out += result.out;
      action.result.err += result.err;
      touched_.push_back(node);
    }
    return action;
  }

  std::vector<FaultAction> heal(ClusterContext& cluster) override {
    std::vector<FaultAction> healed;
    if (spec_.heal_action == nullptr) return healed;
    for (const auto& node : touched_) {
      FaultAction action;
      action.fault = std::string(spec_.name) + ":heal";
      action.target = node;
      const Command command = cluster.command_for(spec_.heal_action, node);
      action.command = command.shell();
      action.result = send_heal(cluster, node, command);
      if (action.result.exit_status == 0 || !fault_in_effect(cluster, spec_.name, node)) {
        if (cluster.journal) cluster.journal->remove(spec_.name, node);
      } else if (cluster.journal) {
        action.result.err += "\n(pgchaos: still in the fault journal " + cluster.journal->file().string() +
                             "; `pgchaos heal` undoes it)";
      }
      healed.push_back(std::move(action));
    }
    touched_.clear();
    return healed;
  }

 private:
  const Spec& spec_;
  std::vector<std::string> touched_;  // nodes to heal
};

}  // namespace

std::unique_ptr<Fault> make_fault(const std::string& name) {
  for (const auto& spec : kCatalog)
    if (name == spec.name) return std::make_unique<CatalogFault>(spec);
  std::string known;
  for (const auto& n : fault_names()) known += (known.empty() ? "" : ", ") + n;
  throw FaultError("unknown fault '" + name + "' (known: " + known + ")");
}

std::string refusal_of(const std::string& fault, const std::map<std::string, std::string>& settings) {
  for (const auto& spec : kCatalog) {
    if (fault != spec.name || spec.allowed_by == nullptr) continue;
    const auto found = settings.find(spec.allowed_by);
    if (found != settings.end() && found->second == "true") return "";
    return fmt::format("{} is refused: it fills the filesystem of each target's pg_wal ([cluster] wal_fill_dir, default "
                       "DATA_DIR/pg_wal), and the configuration does not say that may be filled: add `{} = true` to "
                       "its [cluster] section (the lab's configuration does when its nodes have WAL disks of their own: lab up --wal-disk 1G)",
                       fault, spec.allowed_by);
  }
  return "";
}

std::vector<std::string> fault_names() {
  std::vector<std::string> names;
  for (const auto& spec : kCatalog) names.emplace_back(spec.name);
  return names;
}

std::vector<CheckableFault> checkable_faults() {
  std::vector<CheckableFault> faults;
  for (const auto& spec : kCatalog)
    if (spec.check_action != nullptr) faults.push_back({spec.name, spec.check_action, spec.heal_action});
  return faults;
}

bool fault_in_effect(ClusterContext& cluster, const std::string& fault, const std::string& node) {
  for (const auto& spec : kCatalog) {
    if (fault != spec.name) continue;
    if (spec.check_action == nullptr) return true;
    try {
      return cluster.run(spec.check_action, node).exit_status == 0;
    } catch (const FaultError&) {
      return true;
    }
  }
  return true;
}

CommandResult send_heal(ClusterContext& cluster, const std::string& node, const Command& command) {
  CommandResult result;
  for (int attempt = 0; attempt < 2 && result.exit_status == -1; ++attempt) {
    try {
      result = cluster.execute_on(node, command);
    } catch (const FaultError& error) {
      result.err = error.what();
    }
  }
  return result;
}

std::vector<std::string> fault_names_drawn_at_random() {
  std::vector<std::string> names;
  for (const auto& spec : kCatalog)
    if (spec.drawn_at_random) names.emplace_back(spec.name);
  return names;
}

}  // namespace pgchaos::faults
