#include <nlohmann/json.hpp>

#include "invariant_list.h"
#include "reports/reports.h"

namespace pgchaos::reports {

std::string json_report(const RunInfo& run, const checker::CheckResult& r) {
  using nlohmann::json;
  auto seconds = [](std::int64_t ns) { return static_cast<double>(ns) / 1e9; };
  auto latency = [](const checker::Latency& l) {
    return json{{"p50", l.p50_ms}, {"p95", l.p95_ms}, {"p99", l.p99_ms}, {"max", l.max_ms}};
  };

  json configuration = json::object();
  if (!run.run_json.empty()) configuration = json::parse(run.run_json, nullptr, false);

  json topology = json::array();
  for (const auto& s : run.topology)
    topology.push_back({{"name", s.name}, {"role", s.role}, {"node", s.node}, {"timeline", s.timeline},
                        {"lsn", s.lsn}, {"system_identifier", s.system_identifier}, {"in_recovery", s.in_recovery},
                        {"caught_up", s.caught_up}, {"error", s.error}, {"ledger_rows", s.ledger.size()}});
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
                     {"extra_ops", n.extra_ops}});
  json gaps = json::array();
  for (const auto& g : r.longest_gaps)
    gaps.push_back({{"start_s", seconds(g.start_ns)}, {"end_s", seconds(g.end_ns)}, {"length_s", seconds(g.end_ns - g.start_ns)}});
  json faults = json::array();
  for (const auto& f : r.faults)
    faults.push_back({{"id", f.fault.id}, {"fault", f.fault.fault}, {"target", f.fault.target},
                      {"start_s", seconds(f.fault.start_ns)},
                      {"end_s", f.fault.end_ns < 0 ? json(nullptr) : json(seconds(f.fault.end_ns))},
                      {"exit_status", f.fault.exit_status}, {"message", f.fault.message},
                      {"unavailable_s", f.unavailable_ns < 0 ? json(nullptr) : json(seconds(f.unavailable_ns))},
                      {"lost", f.lost}, {"unknown", f.unknown}});
  json rows = json::array();
  for (const auto& s : r.per_second)
    rows.push_back({s.second, s.ok, s.latency.p50_ms, s.latency.p95_ms, s.latency.p99_ms, s.latency.max_ms});

  const json report = {
      {"schema_version", kSchemaVersion},
      {"generator", "pgchaos " PGCHAOS_VERSION},
      {"run", {{"run_id", run.run_id}, {"seed", run.seed}, {"directory", run.directory.string()},
               {"commit_mode", history::to_string(r.commit_mode)},
               {"max_lost", r.max_lost ? json(*r.max_lost) : json(nullptr)}, {"configuration", configuration}}},
      {"verdict", checker::to_string(r.verdict)},
      {"headline", r.headline},
      {"reasons", r.reasons},
      {"findings", r.findings},
      {"topology", topology},
      {"counts", {{"operations", r.operations}, {"acknowledged", r.acknowledged},
                  {"failed_attempts", r.failed_attempts}, {"unknown_attempts", r.unknown_attempts},
                  {"pending_attempts", r.pending_attempts}, {"committed_this_run", r.committed_this_run},
                  {"ledger_rows", r.ledger_rows}, {"accounts", r.accounts},
                  {"history_complete", r.history_complete}}},
      {"invariants", invariants},
      {"operations", {{"lost", r.lost}, {"phantom", r.phantom}, {"unknown_committed", r.unknown_committed},
                      {"unknown_not_committed", r.unknown_not_committed},
                      {"committed_not_in_history", r.committed_not_in_history}}},
      {"balances", {{"sum_cents", r.balance_sum_cents}, {"drift_cents", r.balance_drift_cents},
                    {"seed_formula_cents", r.seed_formula_cents}, {"account_mismatches", mismatches}}},
      {"nodes", nodes},
      {"availability", {{"duration_s", r.duration_s}, {"ops_per_s", r.ops_per_s}, {"latency_ms", latency(r.latency)},
                        {"longest_gaps", gaps}}},
      {"faults", faults},
      {"per_second", {{"columns", {"second", "ok", "p50_ms", "p95_ms", "p99_ms", "max_ms"}}, {"rows", rows}}},
  };
  return report.dump(1) + "\n";
}

}  // namespace pgchaos::reports
