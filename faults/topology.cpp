// The cluster as Patroni sees it, through its REST API: each node asked for its own view.

#include <algorithm>
#include <nlohmann/json.hpp>

#include "faults/cluster.h"
#include "faults/topology.h"

namespace pgchaos::faults {

std::vector<std::string> Topology::switchover_candidates() const {
  std::vector<std::string> sync;
  for (const auto& m : members)
    if (m.name != leader && m.role == "replica" && m.sync_standby) sync.push_back(m.name);
  return sync.empty() ? replicas() : sync;
}

std::vector<std::string> Topology::replicas() const {
  std::vector<std::string> names;
  for (const auto& m : members)
    if (m.name != leader && m.role == "replica") names.push_back(m.name);
  return names;
}

Topology read_topology(const std::vector<Node>& nodes, std::int64_t max_lag_bytes) {
  Topology t;
  std::int64_t leader_lsn = -1;
  std::vector<std::string> streaming, synchronous;
  std::vector<std::int64_t> replayed(nodes.size(), -1);
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    Member m;
    m.name = nodes[i].name;
    try {
      // A 503 still carries the node's view (Patroni answers 503 on /patroni for an unhealthy node).
      const auto body = rest::request(nodes[i].rest_url + "/patroni", nodes[i].rest).body;
      const auto j = nlohmann::json::parse(body);
      const std::string role = j.value("role", "");
      m.role = role == "master" || role == "primary" ? "primary" : role == "replica" ? "replica" : role;
      m.state = j.value("state", "");
      m.timeline = j.value("timeline", 0);
      const auto xlog = j.value("xlog", nlohmann::json::object());
      if (m.role == "primary") {
        leader_lsn = xlog.value("location", std::int64_t{-1});
        for (const auto& r : j.value("replication", nlohmann::json::array())) {
          if (r.value("state", "") == "streaming") streaming.push_back(r.value("application_name", ""));
          const std::string sync_state = r.value("sync_state", "");
          if (sync_state == "sync" || sync_state == "quorum") synchronous.push_back(r.value("application_name", ""));
        }
      }
      replayed[i] = xlog.value("replayed_location", std::int64_t{-1});
    } catch (const std::exception& error) {
      m.error = error.what();
    }
    t.members.push_back(std::move(m));
  }
  std::vector<const Member*> leaders;
  for (const auto& m : t.members)
    if (m.role == "primary" && m.state == "running") leaders.push_back(&m);
  if (leaders.size() == 1) t.leader = leaders.front()->name;
  else t.problems.push_back(std::to_string(leaders.size()) + " running primaries");
  const Member* leader = leaders.size() == 1 ? leaders.front() : nullptr;
  for (std::size_t i = 0; i < t.members.size(); ++i) {
    auto& m = t.members[i];
    if (!m.error.empty()) {
      t.problems.push_back(m.name + ": REST API: " + m.error);
      continue;
    }
    if (&m == leader) continue;
    m.streaming = std::find(streaming.begin(), streaming.end(), m.name) != streaming.end();
    m.sync_standby = std::find(synchronous.begin(), synchronous.end(), m.name) != synchronous.end();
    if (leader_lsn >= 0 && replayed[i] >= 0) m.lag_bytes = std::max<std::int64_t>(0, leader_lsn - replayed[i]);
    if (m.role != "replica" || m.state != "running") t.problems.push_back(m.name + ": " + m.role + " " + m.state);
    else if (leader && m.timeline != leader->timeline)
      t.problems.push_back(m.name + ": timeline " + std::to_string(m.timeline) + ", leader's " + std::to_string(leader->timeline));
    else if (leader && !m.streaming) t.problems.push_back(m.name + ": not streaming from " + leader->name);
    else if (m.lag_bytes > max_lag_bytes) t.problems.push_back(m.name + ": lag " + std::to_string(m.lag_bytes) + " bytes");
  }
  return t;
}

Topology topology_from_patronictl(const std::string& json_text, std::int64_t max_lag_bytes) {
  Topology t;
  const auto members = nlohmann::json::parse(json_text);
  int leader_timeline = -1;
  for (const auto& m : members) {
    Member member;
    member.name = m.value("Member", "");
    const std::string role = m.value("Role", "");
    member.role = role == "Leader" ? "primary" : role == "Replica" || role == "Sync Standby" ? "replica" : role;
    member.state = m.value("State", "");
    member.timeline = m.contains("TL") && m["TL"].is_number_integer() ? m["TL"].get<int>() : 0;
    if (m.contains("Lag in MB") && m["Lag in MB"].is_number())
      member.lag_bytes = static_cast<std::int64_t>(m["Lag in MB"].get<double>() * 1024 * 1024);
    if (member.role == "primary" && member.state == "running") {
      t.leader = t.leader.empty() ? member.name : "";
      leader_timeline = member.timeline;
    }
    t.members.push_back(std::move(member));
  }
  int primaries = 0;
  for (const auto& m : t.members) primaries += m.role == "primary" && m.state == "running";
  if (primaries != 1) {
    t.leader.clear();
    t.problems.push_back(std::to_string(primaries) + " running primaries (patronictl)");
  }
  for (auto& m : t.members) {
    if (m.name == t.leader) continue;
    m.streaming = m.role == "replica" && (m.state == "running" || m.state == "streaming") && m.timeline == leader_timeline;
    if (m.role != "replica" || (m.state != "running" && m.state != "streaming")) t.problems.push_back(m.name + ": " + m.role + " " + m.state);
    else if (m.timeline != leader_timeline) t.problems.push_back(m.name + ": timeline " + std::to_string(m.timeline) + ", leader's " + std::to_string(leader_timeline));
    else if (m.lag_bytes > max_lag_bytes) t.problems.push_back(m.name + ": lag " + std::to_string(m.lag_bytes) + " bytes");
  }
  return t;
}

Topology ClusterContext::topology_with_fallback() {
  Topology t = read_topology(nodes);
  const bool none_answered = std::all_of(t.members.begin(), t.members.end(), [](const Member& m) { return !m.error.empty(); });
  if (!none_answered || nodes.empty()) return t;
  for (const auto& node : nodes) {
    try {
      const auto listed = execute_on(node.name, command_for("list", node.name));
      if (listed.exit_status == 0) return topology_from_patronictl(listed.out);
    } catch (const std::exception&) {
      // this node cannot tell; the next may
    }
  }
  return t;
}

std::vector<std::string> resolve_target(const std::string& target, const Topology& topology,
                                        const std::vector<Node>& nodes, std::uint64_t choice) {
  if (target == "all") {
    std::vector<std::string> all;
    for (const auto& n : nodes) all.push_back(n.name);
    return all;
  }
  if (target == "primary") {
    if (topology.leader.empty()) throw FaultError("target primary: no single running primary now");
    return {topology.leader};
  }
  if (target == "replica") {
    const auto replicas = topology.replicas();
    if (replicas.empty()) throw FaultError("target replica: no replica now");
    return {replicas[choice % replicas.size()]};
  }
  if (target.rfind("node:", 0) == 0) {  // the K-th configured node, 1-based: rolling sequences
    const auto k = std::atoi(target.c_str() + 5);
    if (k < 1 || static_cast<std::size_t>(k) > nodes.size()) throw FaultError("target " + target + ": no such node");
    return {nodes[static_cast<std::size_t>(k - 1)].name};
  }
  if (target == "async-replica") {  // a replica the primary does not wait for
    std::vector<std::string> async;
    for (const auto& m : topology.members)
      if (m.name != topology.leader && m.role == "replica" && !m.sync_standby) async.push_back(m.name);
    if (async.empty()) throw FaultError("target async-replica: every replica is a synchronous standby now");
    return {async[choice % async.size()]};
  }
  if (target == "sync-standby") {  // the standby the primary waits for (synchronous_mode)
    std::vector<std::string> sync;
    for (const auto& m : topology.members)
      if (m.sync_standby) sync.push_back(m.name);
    if (sync.empty()) throw FaultError("target sync-standby: no synchronous standby now (is the commit mode sync?)");
    return {sync[choice % sync.size()]};
  }
  if (target == "majority") {  // more than half the configured nodes (2 of 3): a DCS on them loses its quorum
    if (nodes.empty()) throw FaultError("target majority: no nodes configured");
    std::vector<std::string> picked;
    for (std::size_t i = 0; i < nodes.size() / 2 + 1; ++i) picked.push_back(nodes[(choice + i) % nodes.size()].name);
    return picked;
  }
  if (target == "random") {
    if (nodes.empty()) throw FaultError("target random: no nodes configured");
    return {nodes[choice % nodes.size()].name};
  }
  for (const auto& n : nodes)
    if (n.name == target) return {target};
  throw FaultError("unknown target '" + target + "' (primary, replica, sync-standby, async-replica, random, majority, all, "
                   "node:K, dcs-leader, dcs-member, or a node name)");
}

}  // namespace pgchaos::faults
