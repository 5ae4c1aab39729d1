// Who is who in the cluster: each node's own view through Patroni's REST API (or patronictl as a fallback).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "rest/rest.h"

namespace pgchaos::faults {

struct Node {
  std::string name;
  std::string postgres_host;
  int postgres_port = 5432;
  std::string rest_url;  ///< http://host:8008 or https://...
  rest::Settings rest;   ///< how to reach it (CA, client certificate, basic authentication)
  std::map<std::string, std::string> attributes;  ///< every key=value of the node's configuration line
};

struct Member {
  std::string name, role, state;  ///< role: primary | replica | unknown; state: Patroni's (running, ...)
  int timeline = 0;
  std::int64_t lag_bytes = -1;
  bool streaming = false;         ///< the leader lists it as a streaming walsender
  bool sync_standby = false;      ///< the leader lists it as synchronous (sync or quorum)
  std::string error;              ///< the node's REST API did not answer
};
struct Topology {
  std::vector<Member> members;
  std::string leader;             ///< empty unless exactly one running primary
  std::vector<std::string> problems;
  bool healthy() const { return problems.empty(); }
  std::vector<std::string> replicas() const;
  /// Replicas Patroni would accept as a switchover candidate: the synchronous standbys when there are any.
  std::vector<std::string> switchover_candidates() const;
};
/// Each node's own view (GET /patroni), never one node's /cluster (stale after a heal). Healthy: one running
/// primary; every other member a running replica on its timeline, streaming from it, lag <= max_lag_bytes.
Topology read_topology(const std::vector<Node>& nodes, std::int64_t max_lag_bytes = 16 << 20);

/// The fallback when no REST API answers: `patronictl list -f json` as run on a node. Its members carry role,
/// state, timeline and lag (MB); patronictl 3.0 does not say "streaming", so a running replica on the leader's
/// timeline with lag 0 counts as streaming.
Topology topology_from_patronictl(const std::string& json_text, std::int64_t max_lag_bytes = 16 << 20);

}  // namespace pgchaos::faults
