#include "faults/patroni_sync.h"

#include <nlohmann/json.hpp>

namespace pgchaos::faults {
namespace {

const Node& leader_node(const ClusterContext& cluster) {
  const auto topology = cluster.topology();
  for (const auto& n : cluster.nodes)
    if (n.name == topology.leader) return n;
  throw FaultError("no leader to ask for the configuration");
}

}  // namespace

std::string read_dynamic_config(const ClusterContext& cluster) {
  const Node& leader = leader_node(cluster);
  const auto [status, body] = rest::request(leader.rest_url + "/config", leader.rest);
  if (status != 200) throw FaultError("GET /config answered " + std::to_string(status));
  return body;
}

std::optional<std::string> config_value(const std::string& config_json, const std::string& dotted_path) {
  const auto parsed = nlohmann::json::parse(config_json, nullptr, false);
  const nlohmann::json* at = &parsed;
  for (std::size_t start = 0; start <= dotted_path.size();) {
    const auto dot = std::min(dotted_path.find('.', start), dotted_path.size());
    const auto key = dotted_path.substr(start, dot - start);
    if (!at->is_object() || !at->contains(key)) return std::nullopt;
    at = &(*at)[key];
    start = dot + 1;
  }
  if (at->is_null() || at->is_object() || at->is_array()) return std::nullopt;
  return at->is_string() ? at->get<std::string>() : at->dump();
}

PatroniSyncSettings read_patroni_sync_settings(const ClusterContext& cluster) {
  const auto j = nlohmann::json::parse(read_dynamic_config(cluster));
  PatroniSyncSettings s;
  s.synchronous_mode = j.value("synchronous_mode", false);
  s.synchronous_mode_strict = j.value("synchronous_mode_strict", false);
  const auto parameters = j.value("postgresql", nlohmann::json::object()).value("parameters", nlohmann::json::object());
  if (parameters.contains("synchronous_commit") && parameters["synchronous_commit"].is_string())
    s.synchronous_commit = parameters["synchronous_commit"];
  return s;
}

namespace {
void patch_config(const ClusterContext& cluster, const nlohmann::json& patch) {
  const Node& leader = leader_node(cluster);
  const auto [status, body] = rest::request(leader.rest_url + "/config", leader.rest, "PATCH", patch.dump());
  // Patroni's error pages are HTML: their status says it all (409: its DCS refused the write).
  if (status != 200)
    throw FaultError("PATCH /config answered " + std::to_string(status) +
                     (body.empty() || body.front() == '<' ? "" : ": " + body.substr(0, body.find('\n'))));
}
}  // namespace

void write_patroni_sync_settings(const ClusterContext& cluster, const PatroniSyncSettings& settings) {
  nlohmann::json patch = {{"synchronous_mode", settings.synchronous_mode},
                          {"synchronous_mode_strict", settings.synchronous_mode_strict}};
  patch["postgresql"]["parameters"]["synchronous_commit"] =
      settings.synchronous_commit.empty() ? nlohmann::json(nullptr) : nlohmann::json(settings.synchronous_commit);
  patch_config(cluster, patch);
}

void write_failsafe_mode(const ClusterContext& cluster, std::optional<bool> failsafe) {
  patch_config(cluster, {{"failsafe_mode", failsafe ? nlohmann::json(*failsafe) : nlohmann::json(nullptr)}});
}

PatroniSyncSettings patroni_sync_settings_for(const common::CommitSetting& setting) {
  PatroniSyncSettings settings;
  settings.synchronous_mode = common::names_sync_standby(setting.mode);
  settings.synchronous_mode_strict = setting.mode == common::CommitMode::sync_strict;
  settings.synchronous_commit = setting.level.empty() ? common::default_level(setting.mode) : setting.level;
  return settings;
}

}  // namespace pgchaos::faults
