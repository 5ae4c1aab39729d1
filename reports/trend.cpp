// trend.json and trend.html: nights side by side, each held against the median of the nights before it.
#include "reports/trend.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>

#include "common/json_fields.h"
#include "history/run_directory.h"
#include "invariant_list.h"
#include "page.h"
#include "reports/reports.h"
#include "reports/soak_report.h"
#include "common/text.h"
#include "common/files.h"

namespace pgchaos::reports {
namespace {

using nlohmann::json;

constexpr int kTrendSchemaVersion = 1;
constexpr double kMinUnavailabilityWorseningS = 1.0;  // below a second, a slower failover is noise on these machines

std::string nights_text(std::size_t n) { return n == 1 ? "night" : std::to_string(n) + " nights"; }

double median(std::vector<double> values) { return percentile(std::move(values), 0.5); }

std::string file_time(const std::filesystem::path& file) {
  std::error_code ec;
  const auto time = std::filesystem::last_write_time(file, ec);
  if (ec) return "";
  return common::utc_text(std::chrono::system_clock::to_time_t(std::chrono::time_point_cast<std::chrono::system_clock::duration>(
                               std::chrono::file_clock::to_sys(time))),
                           "%Y-%m-%dT%H:%M:%SZ");
}

NightSummary night_from_soak(const SoakReport& soak, const std::string& label) {
  NightSummary night;
  night.label = label;
  night.kind = "soak";
  night.started_at = soak.started_at;
  night.commit_mode = soak.commit_mode;
  night.verdict = soak.verdict;
  night.duration_s = soak.elapsed_s;
  std::vector<FaultUnavailability> faults;
  for (const auto& e : soak.epochs) {
    night.operations += e.operations;
    night.lost += e.lost;
    ++night.epochs;
    night.invalid_epochs += e.verdict == checker::Verdict::invalid ? 1 : 0;
    add_causes(night.lost_by_cause, e.lost_by_cause);
    add_causes(night.anomalies, e.anomalies);
    night.anomalies_forbidden += e.anomalies_forbidden;
    faults.insert(faults.end(), e.unavailability.begin(), e.unavailability.end());
  }
  // Without --commit-mode the soak took the cluster as it was: the mode its epochs were checked in is the night's.
  if (!soak.epochs.empty() &&
      std::all_of(soak.epochs.begin(), soak.epochs.end(), [&](const auto& e) { return e.commit_mode.text() == soak.epochs[0].commit_mode.text(); }))
    night.commit_mode = soak.epochs[0].commit_mode;
  double busy_s = 0;
  for (const auto& e : soak.epochs) busy_s += e.duration_s;
  night.ops_per_s = busy_s > 0 ? static_cast<double>(night.operations) / busy_s : 0;
  night.unavailability = by_fault_kind(faults);
  return night;
}

NightSummary night_from_run(const std::filesystem::path& dir, const std::string& text) {
  const auto origin = (dir / "report.json").string();
  try {
    const auto j = json::parse(text);
    NightSummary night;
    night.label = dir.filename().string();
    night.kind = "run";
    const auto verdict = checker::parse_verdict(j.at("verdict").get<std::string>());
    if (!verdict) throw std::invalid_argument("verdict is not valid, invalid or unknown");
    night.verdict = *verdict;
    const auto mode = common::parse_commit_mode(j.at("run").at("commit_mode").get<std::string>());
    if (!mode) throw std::invalid_argument("run.commit_mode is not a commit mode");
    night.commit_mode = common::CommitSetting{*mode, common::default_level(*mode)};
    const auto& configuration = j.at("run").value("configuration", json::object());
    night.started_at = configuration.value("started_at", file_time(dir / "run.json"));
    night.operations = common::integer_at<std::int64_t>(j.at("counts"), "acknowledged");
    night.ops_per_s = j.at("availability").at("ops_per_s");
    night.duration_s = j.at("availability").at("duration_s");
    night.epochs = 1;
    night.invalid_epochs = night.verdict == checker::Verdict::invalid ? 1 : 0;
    const json causes = j.at("operations").value("lost_by_cause", json::object());
    for (const auto& [cause, n] : causes.items())
      night.lost_by_cause.emplace_back(cause, common::integer_at<std::int64_t>(causes, cause.c_str()));
    night.lost = static_cast<std::int64_t>(j.at("operations").at("lost").size());
    if (j.contains("isolation") && j["isolation"].is_object()) {
      const auto& counts = j["isolation"].value("anomaly_counts", json::object());
      for (const auto& [kind, n] : counts.items())
        night.anomalies.emplace_back(kind, common::integer_at<std::int64_t>(counts, kind.c_str()));
      night.anomalies_forbidden = common::integer_or(j["isolation"], "forbidden", std::int64_t{0});
    }
    std::vector<FaultUnavailability> faults;
    for (const auto& f : j.value("faults", json::array())) {
      FaultUnavailability u;
      u.fault = f.at("fault");
      u.refused = f.value("status", "took_effect") != "took_effect";
      u.probe_s = f.contains("probe_unavailable_s") && f["probe_unavailable_s"].is_number() ? f["probe_unavailable_s"].get<double>() : -1;
      u.workload_s = f.contains("unavailable_s") && f["unavailable_s"].is_number() ? f["unavailable_s"].get<double>() : -1;
      faults.push_back(u);
    }
    night.unavailability = by_fault_kind(faults);
    return night;
  } catch (const json::exception& error) {
    throw ReportError(origin + ": unreadable report: " + error.what());
  } catch (const std::invalid_argument& error) {
    throw ReportError(origin + ": unreadable report: " + error.what());
  }
}

json night_json(const NightSummary& n) {
  json causes = json::object();
  for (const auto& [cause, count] : n.lost_by_cause) causes[cause] = count;
  json unavailability = json::array();
  for (const auto& u : n.unavailability)
    unavailability.push_back({{"fault", u.fault}, {"count", u.count}, {"p50_s", u.p50_s}, {"p99_s", u.p99_s}});
  return {{"label", n.label},       {"kind", n.kind},         {"started_at", n.started_at},
          {"commit_mode", n.commit_mode_text()}, {"verdict", checker::to_string(n.verdict)}, {"epochs", n.epochs},
          {"invalid_epochs", n.invalid_epochs}, {"operations", n.operations}, {"ops_per_s", n.ops_per_s},
          {"duration_s", n.duration_s}, {"lost", n.lost},    {"lost_per_million", n.lost_per_million()},
          {"lost_by_cause", causes}, {"anomalies", [&] {
             json a = json::object();
             for (const auto& [kind, count] : n.anomalies) a[kind] = count;
             return a;
           }()},
          {"anomalies_forbidden", n.anomalies_forbidden},
          {"unavailability", unavailability}, {"regressions", n.regressions}};
}

}  // namespace

std::string NightSummary::commit_mode_text() const { return commit_mode ? commit_mode->text() : "as the cluster is"; }

double NightSummary::lost_per_million() const {
  return operations > 0 ? static_cast<double>(lost) * 1e6 / static_cast<double>(operations) : 0;
}

NightSummary read_night(const std::filesystem::path& dir) {
  std::error_code ec;
  try {
    if (std::filesystem::exists(dir / "soak.json", ec)) {
      const auto file = (dir / "soak.json").string();
      return night_from_soak(parse_soak_json(common::read_text_file(dir / "soak.json"), file),
                             std::filesystem::absolute(dir).lexically_normal().filename().string());
    }
    if (std::filesystem::exists(dir / "report.json", ec))
      return night_from_run(dir, common::read_text_file(dir / "report.json"));
  } catch (const common::FileError& error) {
    throw ReportError(error.what());
  }
  throw ReportError(dir.string() + ": neither soak.json nor report.json (not a soak or run directory)");
}

void flag_regressions(std::vector<NightSummary>& nights, const TrendOptions& options) {
  std::stable_sort(nights.begin(), nights.end(), [](const auto& a, const auto& b) { return a.started_at < b.started_at; });
  for (std::size_t i = 0; i < nights.size(); ++i) {
    auto& night = nights[i];
    night.regressions.clear();
    std::vector<const NightSummary*> before;
    for (std::size_t k = 0; k < i; ++k)
      if (nights[k].commit_mode_text() == night.commit_mode_text()) before.push_back(&nights[k]);
    if (static_cast<int>(before.size()) < options.min_nights_before) continue;
    std::vector<double> lost, ops;
    for (const auto* b : before) {
      lost.push_back(b->lost_per_million());
      ops.push_back(b->ops_per_s);
    }
    const double lost_median = median(lost), ops_median = median(ops);
    if (night.lost > 0 && night.lost_per_million() > lost_median * (1 + options.margin))
      night.regressions.push_back(fmt::format("lost {:.0f} per million operations; the median of the {} before: {:.0f}",
                                              night.lost_per_million(), nights_text(before.size()), lost_median));
    if (night.ops_per_s < ops_median / (1 + options.margin))
      night.regressions.push_back(fmt::format("{:.0f} ops/s; the median of the {} before: {:.0f}", night.ops_per_s,
                                              nights_text(before.size()), ops_median));
    for (const auto& u : night.unavailability) {
      std::vector<double> earlier;
      for (const auto* b : before)
        for (const auto& v : b->unavailability)
          if (v.fault == u.fault) earlier.push_back(v.p99_s);
      if (earlier.empty()) continue;
      const double m = median(earlier);
      if (u.p99_s > m * (1 + options.margin) && u.p99_s - m >= kMinUnavailabilityWorseningS)
        night.regressions.push_back(fmt::format("{}: p99 unavailability {:.1f} s; the median of the nights before: {:.1f} s",
                                                u.fault, u.p99_s, m));
    }
  }
}

std::string trend_json(const std::vector<NightSummary>& nights, const TrendOptions& options) {
  json list = json::array();
  int regressed = 0;
  for (const auto& n : nights) {
    list.push_back(night_json(n));
    regressed += n.regressions.empty() ? 0 : 1;
  }
  const json out = {{"schema_version", kTrendSchemaVersion}, {"generator", "pgchaos " PGCHAOS_VERSION},
                    {"margin", options.margin}, {"min_nights_before", options.min_nights_before},
                    {"nights_regressed", regressed}, {"nights", list}};
  return out.dump(2) + "\n";
}

std::string trend_html(const std::vector<NightSummary>& nights, const TrendOptions& options) {
  int regressed = 0;
  for (const auto& n : nights) regressed += n.regressions.empty() ? 0 : 1;
  std::string html = page_start("pgchaos trend", "pgchaos trend");
  html += fmt::format(
      "<p class=\"meta\">{} nights · a night is flagged when worse than the "
      "median of the {}+ nights before it (same commit mode) by more than {:.0f} %</p>\n"
      "<div class=\"verdict {}\">{}</div>\n",
      nights.size(), options.min_nights_before, options.margin * 100, regressed == 0 ? "valid" : "invalid",
      regressed == 0 ? std::string("no night worse than the ones before")
                     : fmt::format("{} of {} nights worse than the ones before", regressed, nights.size()));
  html += "<h2>Verdicts</h2>\n<div class=\"strip\">";
  for (const auto& n : nights)
    html += fmt::format("<span style=\"background:{}\" title=\"{}: {} ({})\"></span>", verdict_color(n.verdict),
                        escape_markup(n.label), checker::to_string(n.verdict), escape_markup(n.commit_mode_text()));
  html += "</div>\n";
  std::vector<Bar> lost, ops;
  for (const auto& n : nights) {
    Bar bar{n.label.substr(0, 10), {}};
    for (const auto& [cause, count] : n.lost_by_cause)
      if (n.operations > 0)
        bar.stack.emplace_back(static_cast<double>(count) * 1e6 / static_cast<double>(n.operations), cause_color(cause));
    lost.push_back(bar);
    ops.push_back({n.label.substr(0, 10), {{n.ops_per_s, n.regressions.empty() ? "#3949ab" : "#b3261e"}}});
  }
  html += bar_chart("Lost acknowledged commits per million operations, by cause", "per million", lost);
  LostByCause all_causes;
  for (const auto& n : nights) add_causes(all_causes, n.lost_by_cause);
  html += cause_legend(all_causes);
  html += bar_chart("Throughput (red: a flagged night)", "ops/s", ops);
  html += "<h2>Nights</h2>\n<table><tr><th>night</th><th>started</th><th>mode</th><th>verdict</th><th>epochs (invalid)</th>"
          "<th>ops</th><th>ops/s</th><th>lost by cause</th><th>isolation anomalies (forbidden)</th>"
          "<th>unavailability p50 / p99 per fault kind</th><th>flagged</th></tr>\n";
  for (const auto& n : nights) {
    std::string unavailability;
    for (const auto& u : n.unavailability)
      unavailability += fmt::format("{}{} ×{}: {:.1f} / {:.1f} s", unavailability.empty() ? "" : "<br>",
                                    escape_markup(u.fault), u.count, u.p50_s, u.p99_s);
    html += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{} ({})</td><td>{}</td>"
                        "<td>{:.0f}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"flag\">{}</td></tr>\n",
                        escape_markup(n.label), escape_markup(n.started_at), escape_markup(n.commit_mode_text()),
                        verdict_class(n.verdict), checker::to_string(n.verdict),
                        n.epochs, n.invalid_epochs, n.operations, n.ops_per_s, escape_markup(causes_text(n.lost_by_cause)),
                        n.anomalies.empty() ? std::string("none")
                                            : escape_markup(causes_text(n.anomalies)) + fmt::format(" ({})", n.anomalies_forbidden),
                        unavailability.empty() ? "—" : unavailability,
                        escape_markup(fmt::format("{}", fmt::join(n.regressions, "; "))));
  }
  html += "</table>\n</main></body></html>\n";
  return html;
}

}  // namespace pgchaos::reports
