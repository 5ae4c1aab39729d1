// Faults over SSH: running commands on nodes (libssh), the cluster's topology (Patroni's REST API), the fault
// catalog (each fault a start and a heal), and commit-mode switching. The only part that includes <libssh/...>.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace pgchaos::faults {

/// I/O failures: SSH, HTTP, a node that cannot be reached. Messages name the node.
struct FaultError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A command as data: an argv. shell() quotes every element, once, for the remote shell.
struct Command {
  std::vector<std::string> argv;
  std::string shell() const;
};
/// Splits a template into words (whitespace; '...' and "..." group), then replaces {name} placeholders in each
/// word from `values`; a word that is exactly {name} with a list value becomes several words. Values never
/// split or re-quote: they stay inside their word. Throws FaultError for an unknown placeholder.
Command expand(const std::string& command_template, const std::map<std::string, std::vector<std::string>>& values);

struct CommandResult {
  int exit_status = -1;  ///< -1: the connection ended before an exit status (expected for reboot and crash)
  std::string out, err;
};

/// Runs commands on one node. Implementations are not thread-safe; one Remote per node.
class Remote {
 public:
  virtual ~Remote() = default;
  /// Throws FaultError when the node cannot be reached (connect, authentication, host key).
  virtual CommandResult execute(const Command& command, std::chrono::seconds timeout) = 0;
};

struct SshOptions {
  std::string host;
  int port = 22;
  std::string user = "root";
  std::string key_file;      ///< empty: the SSH agent
  std::string known_hosts;   ///< empty: ~/.ssh/known_hosts
  bool accept_new_host_keys = false;  ///< an unknown key is added; a changed key is refused regardless
  std::chrono::seconds connect_timeout{5};
};
/// libssh: key authentication, host keys verified against known_hosts, one session reused (and reopened after
/// a reboot broke it).
std::unique_ptr<Remote> make_ssh_remote(const SshOptions& options);

// ---- the cluster ----

struct Node {
  std::string name;
  std::string postgres_host;
  int postgres_port = 5432;
  std::string rest_url;  ///< http://host:8008
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

/// Minimal HTTP/1.0 client for Patroni's REST API (GET, PATCH); returns {status, body}. Throws FaultError.
std::pair<int, std::string> http_request(const std::string& url, const std::string& method = "GET",
                                         const std::string& body = "", std::chrono::seconds timeout = std::chrono::seconds(3));

/// The actions a fault may use: the cluster, a Remote per node, the command templates, the seeded randomness.
struct ClusterContext {
  std::string scope = "main";
  std::vector<Node> nodes;
  std::map<std::string, std::unique_ptr<Remote>> remotes;   ///< by node name
  std::map<std::string, std::string> templates;             ///< action -> command template
  std::map<std::string, std::string> settings;              ///< [cluster] keys (patroni_config, data_dir, ...)
  std::string application_name = "pgchaos";
  /// Each node's REST view; when no node answers, `patronictl list -f json` over SSH on the first node that can.
  std::function<Topology()> topology = [this] { return topology_with_fallback(); };
  Topology topology_with_fallback();
  std::chrono::seconds command_timeout{60};

  /// Runs a template's command on a node with the node's placeholders ({node}, {scope}, {leader}, attributes,
  /// settings) plus `extra`. Throws FaultError for an unknown template or node.
  CommandResult run(const std::string& action, const std::string& node,
                    const std::map<std::string, std::vector<std::string>>& extra = {});
  /// Sends a prepared command to a node's Remote.
  CommandResult execute_on(const std::string& node, const Command& command);
  /// The command `run` would send (for the history and for tests).
  Command command_for(const std::string& action, const std::string& node,
                      const std::map<std::string, std::vector<std::string>>& extra = {}) const;
};

/// Default templates for a systemd host with Patroni (as in the seed's README). [commands] overrides them.
std::map<std::string, std::string> default_templates();

// ---- the catalog ----

/// What a started fault did: its target and the command's result, recorded in the history.
struct FaultAction {
  std::string fault, target, command;
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
/// start-patroni, terminate-backends, kill-postgres, pause, resume, partition, heal.
std::unique_ptr<Fault> make_fault(const std::string& name);  ///< throws FaultError for an unknown name
std::vector<std::string> fault_names();

/// Resolves a target (primary, replica, random, all, node:K = the K-th configured node, or a node name). `choice` picks among
/// several. "all" yields every node. Throws FaultError when nothing matches (no primary, unknown node).
std::vector<std::string> resolve_target(const std::string& target, const Topology& topology,
                                        const std::vector<Node>& nodes, std::uint64_t choice);

// ---- commit mode ----

struct CommitSettings {
  bool synchronous_mode = false;
  std::string synchronous_commit;  ///< empty: not set in Patroni's dynamic configuration
};
/// Reads the dynamic configuration (GET /config of the leader).
CommitSettings read_commit_settings(const ClusterContext& cluster);
/// PATCH /config: sync = synchronous_mode true + synchronous_commit remote_apply; async = false + local.
void write_commit_settings(const ClusterContext& cluster, const CommitSettings& settings);

}  // namespace pgchaos::faults
