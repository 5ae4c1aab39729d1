// The one fake Remote of the tests: records what it is asked to run, on which node, and answers from a script
// (exit 0 and no output unless a rule matches). For unit tests of the fault catalog and the schedule runner.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "faults/cluster.h"
#include "faults/remote.h"

namespace pgchaos::testing {

struct SentCommand {
  std::string node;
  faults::Command command;
};

/// Shared by the fake Remotes of one cluster: what they were sent, and how they answer.
struct FakeCluster {
  std::mutex mutex;  ///< held while a command is answered: the look for leftovers asks every node at once
  std::vector<SentCommand> sent;
  /// Rules tried in order: the first that returns a result answers. A rule may also change the world (the
  /// topology a test injects, say) to play what the command would do.
  std::vector<std::function<std::optional<faults::CommandResult>(const SentCommand&)>> rules;

  /// Answers every command whose shell text contains `text` with `result`.
  void answer(const std::string& text, faults::CommandResult result) {
    rules.push_back([text, result](const SentCommand& c) -> std::optional<faults::CommandResult> {
      if (c.command.shell().find(text) == std::string::npos) return std::nullopt;
      return result;
    });
  }
  /// The commands sent whose shell text contains `text`.
  std::vector<SentCommand> sent_containing(const std::string& text) const {
    std::vector<SentCommand> found;
    for (const auto& c : sent)
      if (c.command.shell().find(text) != std::string::npos) found.push_back(c);
    return found;
  }
};

class FakeRemote : public faults::Remote {
 public:
  FakeRemote(std::string node, std::shared_ptr<FakeCluster> cluster) : node_(std::move(node)), cluster_(std::move(cluster)) {}
  faults::CommandResult execute(const faults::Command& command, std::chrono::seconds) override {
    const std::lock_guard lock(cluster_->mutex);
    cluster_->sent.push_back({node_, command});
    for (const auto& rule : cluster_->rules)
      if (auto result = rule(cluster_->sent.back())) return *result;
    return {0, "", ""};
  }

 private:
  std::string node_;
  std::shared_ptr<FakeCluster> cluster_;
};

/// A ClusterContext of `names` behind fake Remotes sharing `fake`, with the default templates and a topology
/// the test controls through `topology` (leader: the first name; every other node a streaming replica).
inline void make_fake_cluster(const std::vector<std::string>& names, const std::shared_ptr<FakeCluster>& fake,
                              faults::ClusterContext& cluster, std::shared_ptr<faults::Topology> topology) {
  for (std::size_t i = 0; i < names.size(); ++i) {
    faults::Node node;
    node.name = names[i];
    node.postgres_host = "10.0.0." + std::to_string(11 + i);
    node.attributes["node_dir"] = "/var/lab/" + names[i];
    cluster.nodes.push_back(node);
    cluster.remotes[names[i]] = std::make_unique<FakeRemote>(names[i], fake);
    faults::Member m;
    m.name = names[i];
    m.role = i == 0 ? "primary" : "replica";
    m.state = "running";
    m.timeline = 2;
    m.streaming = true;
    topology->members.push_back(m);
  }
  topology->leader = names.front();
  cluster.templates = faults::default_templates();
  cluster.settings = {{"patroni_config", "{node_dir}/patroni.yml"}, {"data_dir", "{node_dir}/data"}};
  cluster.topology = [topology] { return *topology; };
}

}  // namespace pgchaos::testing
