#include <map>
#include <nlohmann/json.hpp>

#include "invariant_list.h"
#include "common/duration.h"
#include "common/text.h"
#include "reports/reports.h"

namespace pgchaos::reports {

namespace {
constexpr std::size_t kLostDetailKept = 10000;  // the ids of all lost ops are in operations.lost

// The write probe measures outages to within its interval (run.json's probe_interval); null without a probe.
nlohmann::json probe_resolution_s(const nlohmann::json& configuration) {
  const auto interval = configuration.is_object() ? configuration.value("probe_interval", "off") : "off";
  const auto parsed = common::parse_duration(interval);
  return parsed && parsed->count() > 0 ? nlohmann::json(static_cast<double>(parsed->count()) / 1000) : nlohmann::json(nullptr);
}
}  // namespace

std::string json_report(const RunInfo& run, const checker::CheckResult& r) {
  using nlohmann::json;
  auto seconds = [](std::int64_t ns) { return static_cast<double>(ns) / 1e9; };
  auto promotions_of = [&](const std::vector<checker::Promotion>& promotions) {
    json list = json::array();
    for (const auto& p : promotions) list.push_back({{"node", p.node}, {"at_s", seconds(p.at_ns)}, {"timeline", p.timeline}});
    return list;
  };
  auto latency = [](const checker::Latency& l) {
    return json{{"p50", l.p50_ms}, {"p95", l.p95_ms}, {"p99", l.p99_ms}, {"max", l.max_ms}};
  };

  json configuration = json::object();
  if (!run.run_json.empty()) configuration = json::parse(run.run_json, nullptr, false);

  json topology = json::array();
  for (const auto& s : run.topology)
    topology.push_back({{"name", s.name}, {"role", s.role}, {"node", s.node}, {"timeline", s.timeline},
                        {"lsn", s.lsn}, {"system_identifier", s.system_identifier}, {"in_recovery", s.in_recovery},
                        {"caught_up", s.caught_up}, {"error", s.error}, {"ledger_rows", s.ledger_rows}});
  json invariants = json::array();
  for (const auto& i : invariant_results(r))
    invariants.push_back({{"name", i.name}, {"group", i.group}, {"status", to_string(i.status)}, {"detail", i.detail}});
  json mismatches = json::array();
  for (const auto& m : r.account_mismatches)
    mismatches.push_back({{"account", m.account}, {"balance_cents", m.balance_cents},
                          {"expected_cents", m.expected_cents}, {"ops", m.ops}});
  json nodes = json::array();
  for (const auto& n : r.nodes)
    nodes.push_back({{"name", n.name}, {"compared", n.compared}, {"not_compared_because", n.not_compared_because},
                     {"differing_accounts", n.differing_accounts}, {"missing_ops", n.missing_ops},
                     {"extra_ops", n.extra_ops}, {"other_attempt_ops", n.other_attempt_ops}});
  json gaps = json::array();
  for (const auto& g : r.longest_gaps)
    gaps.push_back({{"start_s", seconds(g.start_ns)}, {"end_s", seconds(g.end_ns)}, {"length_s", seconds(g.end_ns - g.start_ns)}});
  // Absolute times beside the relative ones, so a fault can be found in Patroni's log or an outside probe's.
  auto utc = [&](std::int64_t ns) {
    return run.time_zero_wall_us == 0 ? json(nullptr) : json(common::utc_millis(run.time_zero_wall_us + ns / 1000));
  };
  json faults = json::array();
  for (const auto& f : r.faults)
    faults.push_back({{"id", f.fault.id}, {"fault", f.fault.fault}, {"target", f.fault.target},
                      {"start_s", seconds(f.fault.start_ns)},
                      {"end_s", f.fault.end_ns < 0 ? json(nullptr) : json(seconds(f.fault.end_ns))},
                      {"started_at", utc(f.fault.start_ns)},
                      {"ended_at", f.fault.end_ns < 0 ? json(nullptr) : utc(f.fault.end_ns)},
                      {"exit_status", f.fault.exit_status}, {"message", f.fault.message},
                      {"unavailable_s", f.unavailable_ns < 0 ? json(nullptr) : json(seconds(f.unavailable_ns))},
                      {"probe_unavailable_s", !f.probed()               ? json(nullptr)
                                              : f.writes_never_resumed() ? json("until the end")
                                                                         : json(seconds(f.probe_unavailable_ns))},
                      {"writes_resumed_after_s", f.writes_resumed_ns < 0 ? json(nullptr) : json(seconds(f.writes_resumed_ns))},
                      {"max_unavailable_s", f.limit_ns > 0 ? json(seconds(f.limit_ns)) : json(nullptr)},
                      {"status", f.fault.outcome_unknown   ? "outcome_unknown"
                                : f.fault.exit_status < 0 ? "not_started"
                                : f.refused               ? "refused"
                                                          : "took_effect"},
                      {"refusal", f.refusal},
                      {"leader_before", f.leader_before}, {"leader_after", f.leader_after},
                      {"promotions", promotions_of(f.promotions)},
                      {"time_to_leader_s", f.time_to_leader_ns < 0 ? json(nullptr) : json(seconds(f.time_to_leader_ns))},
                      {"story", f.story},
                      {"lost", f.lost}, {"unknown", f.unknown}});
  json lost_by_cause = json::object();
  for (const auto& [cause, n] : r.lost_by_cause) lost_by_cause[checker::to_string(cause)] = n;
  json causes = json::object();
  for (const auto cause : checker::kLossCauses) causes[checker::to_string(cause)] = checker::explain(cause);
  json lost_detail = json::array();
  for (std::size_t i = 0; i < r.lost_ops.size() && i < kLostDetailKept; ++i) {
    const auto& l = r.lost_ops[i];
    lost_detail.push_back({{"op", l.op}, {"attempt", l.attempt}, {"cause", checker::to_string(l.cause)}, {"node", l.node},
                           {"timeline", l.timeline}, {"acknowledged_s", seconds(l.acknowledged_ns)},
                           {"commit_lsn", l.commit_lsn}, {"fault", l.fault < 0 ? json(nullptr) : json(l.fault)},
                           {"detail", l.detail}});
  }
  json contradicted = json::array();
  for (const auto& c : r.contradicted)
    contradicted.push_back({{"op", c.op}, {"resolved_attempt", c.resolved_attempt},
                            {"acknowledged_attempt", c.acknowledged_attempt == 0 ? json(nullptr) : json(c.acknowledged_attempt)}});
  json split_brains = json::array();
  for (const auto& b : r.split_brains)
    split_brains.push_back({{"kind", b.kind}, {"nodes", b.nodes}, {"start_s", seconds(b.start_ns)}, {"end_s", seconds(b.end_ns)},
                            {"timeline", b.timeline}, {"acknowledged", b.acknowledged}, {"ops", b.ops}, {"text", b.text}});
  json lanes = json::array();
  for (const auto& lane : r.lanes) {
    json segments = json::array();
    for (const auto& sgm : lane.segments)
      segments.push_back({{"state", sgm.state}, {"timeline", sgm.timeline}, {"start_s", seconds(sgm.start_ns)}, {"end_s", seconds(sgm.end_ns)}});
    lanes.push_back({{"node", lane.node}, {"segments", segments}});
  }
  json rows = json::array();
  for (const auto& s : r.per_second)
    rows.push_back({s.second, s.ok, s.latency.p50_ms, s.latency.p95_ms, s.latency.p99_ms, s.latency.max_ms});

  // The list-append workload's isolation check; null for the bank.
  json isolation = nullptr;
  if (r.isolation.checked) {
    const auto& c = r.isolation;
    json anomalies = json::array();
    for (const auto& a : c.anomalies)
      anomalies.push_back({{"kind", a.kind}, {"forbidden", a.forbidden}, {"follows_from_loss", a.follows_from_loss},
                           {"fails", a.fails()}, {"transactions", a.transactions},
                           {"cycle", a.edges}, {"explanation", a.explanation}});
    json counts = json::object();
    for (const auto& [kind, n] : c.anomaly_counts) counts[kind] = n;
    json lost_appends = json::array();
    for (const auto& l : c.lost_appends)
      lost_appends.push_back({{"op", l.op}, {"key", l.key}, {"element", l.element}, {"cause", l.cause}});
    isolation = {{"isolation", c.isolation}, {"strongest_level", c.strongest_level},
                 {"transactions", c.transactions}, {"reads", c.reads}, {"appends", c.appends}, {"keys", c.keys},
                 {"dependencies", c.edges}, {"anomaly_counts", counts}, {"forbidden", c.forbidden()},
                 {"anomalies", anomalies}, {"lost_appends", lost_appends}, {"phantom_appends", c.phantom_appends}};
    isolation["read_your_writes"] = {{"violations", c.read_your_writes_violations},
                                     {"from_loss", c.read_your_writes_from_loss},
                                     {"examples", c.read_your_writes_examples}};
    const auto& rr = c.replica;
    isolation["replica_reads"] =
        rr.reads == 0 ? json(nullptr)
                      : json{{"reads", rr.reads}, {"stale_reads", rr.stale_reads}, {"p50_s", rr.p50_s}, {"p99_s", rr.p99_s},
                             {"max_s", rr.max_s}, {"max_elements", rr.max_elements},
                             {"reads_by_node", json(std::map<std::string, std::int64_t>(rr.reads_by_node.begin(), rr.reads_by_node.end()))},
                             {"stale_by_node", json(std::map<std::string, std::int64_t>(rr.stale_by_node.begin(), rr.stale_by_node.end()))},
                             {"max_staleness_ms", rr.limit_ms > 0 ? json(rr.limit_ms) : json(nullptr)},
                             {"over_limit", rr.over_limit}, {"stalest", rr.stalest},
                             {"monotonic_violations", rr.monotonic_violations}, {"diverged", rr.diverged},
                             {"examples", rr.examples},
                             {"per_second", [&] {
                                json seconds_stale = json::array();
                                for (const auto& [second, stale] : rr.per_second) seconds_stale.push_back({second, stale});
                                return seconds_stale;
                              }()}};
  }

  const json report = {
      {"schema_version", kSchemaVersion},
      {"generator", "pgchaos " PGCHAOS_VERSION},
      {"run", {{"run_id", run.run_id}, {"seed", run.seed}, {"directory", run.directory.string()},
               {"time_zero", utc(0)},
               {"commit_mode", common::to_string(r.commit.mode)},
               {"synchronous_commit", r.commit.level.empty() ? json(nullptr) : json(r.commit.level)},
               {"commit_promise", r.commit.promises_no_loss()},
               {"max_lost", r.max_lost ? json(*r.max_lost) : json(nullptr)}, {"configuration", configuration}}},
      {"verdict", checker::to_string(r.verdict)},
      {"headline", r.headline},
      {"reasons", r.reasons},
      {"findings", r.findings},
      {"unconfirmed_findings", r.unconfirmed_findings},
      {"topology", topology},
      {"counts", {{"operations", r.operations}, {"acknowledged", r.acknowledged},
                  {"failed_attempts", r.failed_attempts}, {"unknown_attempts", r.unknown_attempts},
                  {"pending_attempts", r.pending_attempts}, {"committed_this_run", r.committed_this_run},
                  {"ledger_rows", r.ledger_rows}, {"accounts", r.accounts},
                  {"history_complete", r.history_complete}}},
      {"invariants", invariants},
      {"operations", {{"lost", r.lost}, {"phantom", r.phantom}, {"unknown_committed", r.unknown_committed},
                      {"unknown_not_committed", r.unknown_not_committed},
                      {"committed_not_in_history", r.committed_not_in_history},
                      {"lost_by_cause", lost_by_cause}, {"lost_detail", lost_detail},
                      {"lost_detail_truncated", r.lost_ops.size() > kLostDetailKept},
                      {"lost_allowed_by_mode", r.lost_allowed_by_mode}, {"contradicted_resolutions", contradicted},
                      {"acknowledged_without_sync_standby",
                       r.sync_standby_checked ? json(r.acknowledged_without_sync_standby) : json(nullptr)}}},
      {"loss_causes", causes},
      {"cluster", {{"watched", r.watched}, {"promotions", promotions_of(r.promotions)}, {"split_brains", split_brains},
                   {"lanes", lanes}}},
      {"balances", {{"sum_cents", r.balance_sum_cents}, {"drift_cents", r.balance_drift_cents},
                    {"seed_formula_cents", r.original_formula_cents}, {"account_mismatches", mismatches}}},
      {"isolation", isolation},
      {"nodes", nodes},
      {"availability", {{"duration_s", r.duration_s}, {"ops_per_s", r.ops_per_s}, {"latency_ms", latency(r.latency)},
                        {"probe_resolution_s", probe_resolution_s(configuration)},
                        {"longest_gaps", gaps}}},
      {"faults", faults},
      {"forensics", [&] {
         json list = json::array();
         for (const auto& [window, lines] : run.forensics) list.push_back({{"window", window}, {"key_lines", lines}});
         return list;
       }()},
      {"per_second", {{"columns", {"second", "ok", "p50_ms", "p95_ms", "p99_ms", "max_ms"}}, {"rows", rows}}},
  };
  return report.dump(1) + "\n";
}

}  // namespace pgchaos::reports
