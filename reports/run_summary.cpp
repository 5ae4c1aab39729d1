// One run in the reports of many runs: its summary from a check, losses by cause, unavailability by fault kind.
#include "reports/run_summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace pgchaos::reports {

RunSummary summarize_run(const checker::CheckResult& r, RunSummary e) {
  e.verdict = r.verdict;
  e.headline = r.headline;
  e.commit_mode = r.commit;
  e.duration_s = r.duration_s;
  e.operations = r.acknowledged;
  e.ops_per_s = r.ops_per_s;
  e.lost = static_cast<std::int64_t>(r.lost.size());
  e.in_doubt = r.unknown_attempts;
  for (const auto cause : checker::kLossCauses) e.lost_by_cause.emplace_back(checker::to_string(cause), r.count_lost(cause));
  if (r.isolation.checked) {
    e.isolation = r.isolation.isolation;
    e.strongest_level = r.isolation.strongest_level;
    e.anomalies = r.isolation.anomaly_counts;
    e.anomalies_forbidden = r.isolation.forbidden();
    e.lost_appends = static_cast<std::int64_t>(r.isolation.lost_appends.size());
  }
  for (const auto& f : r.faults) {
    ++e.faults;
    const bool refused = f.refused || f.fault.exit_status < 0;
    e.faults_refused += refused ? 1 : 0;
    FaultUnavailability u;
    u.fault = f.fault.fault;
    u.refused = refused;
    u.probe_s = f.writes_never_resumed() ? FaultUnavailability::kNeverResumed
                : !f.probed()            ? FaultUnavailability::kNotMeasured
                                         : static_cast<double>(f.probe_unavailable_ns) / 1e9;
    u.workload_s = f.unavailable_ns < 0 ? -1 : static_cast<double>(f.unavailable_ns) / 1e9;
    e.unavailability.push_back(u);
  }
  return e;
}

std::string anomalies_text(const RunSummary& run) {
  if (run.isolation.empty()) return "–";
  if (run.anomalies.empty()) return "none (" + run.isolation + ")";
  return causes_text(run.anomalies) + fmt::format(" ({}; {} forbidden)", run.isolation, run.anomalies_forbidden);
}

void add_causes(LostByCause& sum, const LostByCause& more) {
  for (const auto& [cause, n] : more) {
    auto it = std::find_if(sum.begin(), sum.end(), [&](const auto& p) { return p.first == cause; });
    if (it == sum.end()) sum.emplace_back(cause, n);
    else it->second += n;
  }
}

std::string causes_text(const LostByCause& causes, const std::string& none) {
  std::string text;
  for (const auto& [cause, n] : causes)
    if (n > 0) text += fmt::format("{}{} {}", text.empty() ? "" : ", ", cause, n);
  return text.empty() ? none : text;
}

double RunSummary::worst_unavailable_s() const {
  double worst = -1;
  for (const auto& f : unavailability) {
    if (f.refused) continue;
    worst = std::max(worst, f.probe_s >= 0 ? f.probe_s : f.workload_s);
  }
  return worst;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(values.size())));
  return values[std::min(values.size() - 1, rank == 0 ? 0 : rank - 1)];
}

std::vector<FaultKindUnavailability> by_fault_kind(const std::vector<FaultUnavailability>& faults) {
  std::map<std::string, std::vector<double>> seconds;
  for (const auto& f : faults) {
    if (f.refused) continue;
    const double s = f.probe_s >= 0 ? f.probe_s : f.workload_s;
    if (s >= 0) seconds[f.fault].push_back(s);
  }
  std::vector<FaultKindUnavailability> out;
  for (const auto& [fault, values] : seconds)
    out.push_back({fault, static_cast<int>(values.size()), percentile(values, 0.5), percentile(values, 0.99),
                   *std::max_element(values.begin(), values.end())});
  return out;
}

}  // namespace pgchaos::reports
