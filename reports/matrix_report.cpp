// matrix.json and matrix.html: the same scenario and seed under each commit mode, one column per mode.
#include "reports/matrix_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "history/run_directory.h"
#include "invariant_list.h"
#include "page.h"
#include "reports/reports.h"

namespace pgchaos::reports {
namespace {

using nlohmann::json;

constexpr int kMatrixSchemaVersion = 1;

std::string seconds_text(double s) { return s < 0 ? "–" : fmt::format("{:.1f} s", s); }

}  // namespace

const char* to_string(MatrixStatus status) noexcept {
  switch (status) {
    case MatrixStatus::running: return "running";
    case MatrixStatus::completed: return "completed";
    case MatrixStatus::interrupted: return "interrupted";
  }
  return "?";
}

std::vector<std::string> MatrixReport::broken() const {
  std::vector<std::string> out;
  for (const auto& c : columns)
    if (c.guarantee.judged && !c.guarantee.kept) out.push_back(c.mode + ": " + c.guarantee.broken);
  return out;
}

MatrixColumn matrix_column(const std::string& mode, const checker::CheckResult& result, RunSummary base) {
  MatrixColumn column;
  column.mode = mode;
  column.run = summarize_run(result, std::move(base));
  column.guarantee = checker::judge_guarantee(result);
  if (result.sync_standby_checked) column.acknowledged_without_sync_standby = static_cast<std::int64_t>(result.acknowledged_without_sync_standby.size());
  return column;
}

std::string matrix_json(const MatrixReport& matrix) {
  json columns = json::array();
  for (const auto& c : matrix.columns) {
    json kinds = json::array();
    for (const auto& k : by_fault_kind(c.run.unavailability))
      kinds.push_back({{"fault", k.fault}, {"count", k.count}, {"p50_s", k.p50_s}, {"max_s", k.max_s}});
    json lost = json::object();
    for (const auto& [cause, n] : c.run.lost_by_cause) lost[cause] = n;
    columns.push_back({
        {"mode", c.mode},
        {"directory", c.run.directory},
        {"verdict", checker::to_string(c.run.verdict)},
        {"headline", c.run.headline},
        {"exit_code", c.run.exit_code},
        {"error", c.run.error},
        {"duration_s", c.run.duration_s},
        {"operations", c.run.operations},
        {"ops_per_s", c.run.ops_per_s},
        {"lost", c.run.lost},
        {"lost_by_cause", lost},
        {"isolation", c.run.isolation.empty() ? json(nullptr)
                                              : json{{"isolation", c.run.isolation}, {"strongest_level", c.run.strongest_level},
                                                     {"anomalies", [&] {
                                                        json a = json::object();
                                                        for (const auto& [kind, n] : c.run.anomalies) a[kind] = n;
                                                        return a;
                                                      }()},
                                                     {"forbidden", c.run.anomalies_forbidden},
                                                     {"lost_appends", c.run.lost_appends}}},
        {"in_doubt", c.run.in_doubt},
        {"faults", c.run.faults},
        {"faults_refused", c.run.faults_refused},
        {"unavailability", kinds},
        {"acknowledged_without_sync_standby",
         c.acknowledged_without_sync_standby < 0 ? json(nullptr) : json(c.acknowledged_without_sync_standby)},
        {"failsafe", c.failsafe ? json(*c.failsafe) : json(nullptr)},
        {"guarantee", {{"promise", c.guarantee.promise}, {"judged", c.guarantee.judged}, {"kept", c.guarantee.kept},
                       {"broken", c.guarantee.broken}, {"breaking_ops", c.guarantee.breaking_ops}}},
    });
  }
  const json out = {{"schema_version", kMatrixSchemaVersion}, {"generator", "pgchaos " PGCHAOS_VERSION},
                    {"scenario", matrix.scenario},              {"seed", matrix.seed},
                    {"started_at", matrix.started_at},          {"status", to_string(matrix.status)},
                    {"modes", matrix.modes},                    {"broken", matrix.broken()},
                    {"columns", columns}};
  return out.dump(2) + "\n";
}

std::string matrix_html(const MatrixReport& matrix) {
  const auto broken = matrix.broken();
  // A broken promise is the matrix's failure; a run not valid for another reason leaves it undecided.
  bool any_invalid = false;
  for (const auto& c : matrix.columns) any_invalid = any_invalid || c.run.verdict != checker::Verdict::valid;
  const auto verdict = !broken.empty() ? checker::Verdict::invalid
                       : any_invalid   ? checker::Verdict::unknown
                                       : checker::Verdict::valid;
  const std::string summary =
      !broken.empty() ? fmt::format("{}", fmt::join(broken, " · "))
      : any_invalid   ? "every promise kept; a run was not valid for another reason (see its verdict)"
                      : "every mode kept its promise";
  std::string html = page_start("pgchaos matrix — " + matrix.scenario, "pgchaos matrix: " + matrix.scenario);
  html += fmt::format(
      "<p class=\"meta\">seed {} · started {} · {} · "
      "the same schedule in every mode (faults aimed at the roles the first mode's run resolved)</p>\n"
      "<div class=\"verdict {}\">{}<small>{}</small></div>\n",
      matrix.seed, escape_markup(matrix.started_at), to_string(matrix.status), verdict_class(verdict),
      !broken.empty() ? "a guarantee broken" : checker::to_string(verdict), escape_markup(summary));

  std::vector<Bar> lost, ops;
  LostByCause total;
  for (const auto& c : matrix.columns) {
    Bar bar{c.mode, {}};
    for (const auto& [cause, n] : c.run.lost_by_cause) bar.stack.emplace_back(static_cast<double>(n), cause_color(cause));
    lost.push_back(bar);
    add_causes(total, c.run.lost_by_cause);
    ops.push_back({c.mode, {{c.run.ops_per_s, verdict_color(c.run.verdict)}}});
  }
  if (std::all_of(total.begin(), total.end(), [](const auto& c) { return c.second == 0; }))
    html += "<p>No acknowledged commit lost in any mode.</p>\n";
  else
    html += bar_chart("Lost acknowledged commits per mode, by cause", "ops", lost) + cause_legend(total);
  html += bar_chart("Throughput per mode (bar colour: the run's verdict)", "ops/s", ops);

  // Side by side: a row per measure, a column per mode.
  std::set<std::string> kinds;
  for (const auto& c : matrix.columns)
    for (const auto& k : by_fault_kind(c.run.unavailability)) kinds.insert(k.fault);
  auto row = [&](const std::string& label, auto cell) {
    std::string r = "<tr><th>" + escape_markup(label) + "</th>";
    for (const auto& c : matrix.columns) r += "<td>" + cell(c) + "</td>";
    return r + "</tr>\n";
  };
  html += "<h2>Side by side</h2>\n<table><tr><th></th>";
  for (const auto& c : matrix.columns)
    html += fmt::format("<th><a href=\"{}/report.html\">{}</a></th>", escape_markup(c.run.directory), escape_markup(c.mode));
  html += "</tr>\n";
  html += row("verdict", [](const MatrixColumn& c) {
    return fmt::format("<span class=\"{}\">{}</span>", verdict_class(c.run.verdict), checker::to_string(c.run.verdict));
  });
  html += row("Patroni's promise", [](const MatrixColumn& c) {
    return escape_markup(c.guarantee.promise.substr(c.guarantee.promise.find(": ") + 2));
  });
  html += row("promise kept", [](const MatrixColumn& c) {
    if (!c.guarantee.judged) return std::string("–");
    return c.guarantee.kept ? std::string("<span class=\"pass\">yes</span>")
                            : "<span class=\"fail\">no: " + escape_markup(c.guarantee.broken) + "</span>";
  });
  html += row("acknowledged commits", [](const MatrixColumn& c) { return std::to_string(c.run.operations); });
  html += row("ops/s", [](const MatrixColumn& c) { return fmt::format("{:.0f}", c.run.ops_per_s); });
  html += row("lost", [](const MatrixColumn& c) { return std::to_string(c.run.lost); });
  if (std::any_of(matrix.columns.begin(), matrix.columns.end(), [](const MatrixColumn& c) { return !c.run.isolation.empty(); }))
    html += row("isolation anomalies", [](const MatrixColumn& c) { return escape_markup(anomalies_text(c.run)); });
  for (const auto& [cause, n] : total) {
    if (n == 0) continue;
    html += row("  lost: " + cause, [&cause = cause](const MatrixColumn& c) {
      for (const auto& [name, count] : c.run.lost_by_cause)
        if (name == cause) return std::to_string(count);
      return std::string("0");
    });
  }
  html += row("in doubt (unknown attempts)", [](const MatrixColumn& c) { return std::to_string(c.run.in_doubt); });
  html += row("acknowledged without a synchronous standby", [](const MatrixColumn& c) {
    return c.acknowledged_without_sync_standby < 0 ? std::string("–") : std::to_string(c.acknowledged_without_sync_standby);
  });
  html += row("faults (refused)", [](const MatrixColumn& c) { return fmt::format("{} ({})", c.run.faults, c.run.faults_refused); });
  for (const auto& kind : kinds)
    html += row("unavailable: " + kind + " p50 / max", [&kind](const MatrixColumn& c) {
      for (const auto& k : by_fault_kind(c.run.unavailability))
        if (k.fault == kind) return seconds_text(k.p50_s) + " / " + seconds_text(k.max_s);
      return std::string("–");
    });
  html += row("headline", [](const MatrixColumn& c) {
    return escape_markup(c.run.error.empty() ? c.run.headline : "harness error: " + c.run.error);
  });
  html += "</table>\n</main></body></html>\n";
  return html;
}

void write_matrix_reports(const std::filesystem::path& dir, const MatrixReport& matrix) {
  write_report_files({{dir / "matrix.json", matrix_json(matrix)}, {dir / "matrix.html", matrix_html(matrix)}});
}

}  // namespace pgchaos::reports
