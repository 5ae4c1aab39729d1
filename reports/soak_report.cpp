// soak.json, soak.html and junit.xml of a soak: one row, one bar, one test case per epoch.
#include "reports/soak_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/json_fields.h"
#include "history/run_directory.h"
#include "invariant_list.h"
#include "page.h"
#include "checker/checker.h"
#include "reports/reports.h"

namespace pgchaos::reports {
namespace {

using nlohmann::json;

constexpr int kSoakSchemaVersion = 1;
constexpr const char* kAsTheClusterIs = "as the cluster is";  // soak.json's commit_mode without --commit-mode

checker::Verdict verdict_from(const std::string& text) {
  const auto verdict = checker::parse_verdict(text);
  if (!verdict) throw std::invalid_argument("verdict '" + text + "' is not valid, invalid or unknown");
  return *verdict;
}
common::CommitSetting commit_setting_from(const std::string& text) {
  std::string why;
  const auto setting = common::parse_commit_setting(text, why, true);
  if (!setting) throw std::invalid_argument("commit_mode '" + text + "': " + why);
  return *setting;
}

constexpr std::pair<SoakStatus, const char*> kSoakStatuses[] = {
    {SoakStatus::running, "running"},
    {SoakStatus::completed, "completed"},
    {SoakStatus::interrupted, "interrupted"},
    {SoakStatus::cluster_unhealthy, "cluster unhealthy"},
    {SoakStatus::harness_error, "harness error"},
};

json number_or_null(double value) { return value < 0 ? json(nullptr) : json(value); }
double number_from(const json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : -1;
}

json causes_json(const LostByCause& causes) {
  json out = json::object();
  for (const auto& [cause, n] : causes) out[cause] = n;
  return out;
}
// JSON objects come back sorted by name: the checker's order of causes is restored (any other name after them).
LostByCause causes_from(const json& j) {
  LostByCause out;
  for (const auto cause : checker::kLossCauses)
    if (j.contains(checker::to_string(cause))) out.emplace_back(checker::to_string(cause), common::integer_at<std::int64_t>(j, checker::to_string(cause)));
  for (const auto& [cause, n] : j.items())
    if (std::none_of(out.begin(), out.end(), [&](const auto& p) { return p.first == cause; }))
      out.emplace_back(cause, common::integer_at<std::int64_t>(j, cause.c_str()));
  return out;
}

json epoch_json(const RunSummary& e) {
  json faults = json::array();
  for (const auto& f : e.unavailability)
    faults.push_back({{"fault", f.fault}, {"probe_unavailable_s", f.probe_s == FaultUnavailability::kNeverResumed ? json("until the end") : number_or_null(f.probe_s)},
                      {"unavailable_s", number_or_null(f.workload_s)}, {"refused", f.refused}});
  return {{"index", e.index},           {"directory", e.directory},   {"scenario", e.scenario},
          {"seed", e.seed},             {"commit_mode", e.commit_mode.text()}, {"verdict", checker::to_string(e.verdict)},
          {"headline", e.headline},     {"exit_code", e.exit_code},   {"started_at", e.started_at},
          {"duration_s", e.duration_s}, {"operations", e.operations}, {"ops_per_s", e.ops_per_s},
          {"lost", e.lost},             {"in_doubt", e.in_doubt},     {"lost_by_cause", causes_json(e.lost_by_cause)},
          {"faults", e.faults},         {"faults_refused", e.faults_refused}, {"fault_unavailability", faults},
          {"worst_unavailable_s", number_or_null(e.worst_unavailable_s())},
          {"replay", e.replay},         {"kept", e.kept},             {"error", e.error},
          {"rss_bytes", e.rss_bytes},   {"disk_bytes", e.disk_bytes},
          {"isolation", e.isolation.empty() ? json(nullptr)
                                            : json{{"isolation", e.isolation}, {"strongest_level", e.strongest_level},
                                                   {"anomalies", causes_json(e.anomalies)},
                                                   {"forbidden", e.anomalies_forbidden}, {"lost_appends", e.lost_appends}}}};
}

RunSummary epoch_from(const json& j) {
  RunSummary e;
  e.index = common::integer_at<int>(j, "index");
  e.directory = j.at("directory");
  e.scenario = j.at("scenario");
  e.seed = common::integer_at<std::uint64_t>(j, "seed");
  e.commit_mode = commit_setting_from(j.at("commit_mode"));
  e.verdict = verdict_from(j.at("verdict"));
  e.headline = j.value("headline", "");
  e.exit_code = common::integer_or(j, "exit_code", 2);
  e.started_at = j.value("started_at", "");
  e.duration_s = j.value("duration_s", 0.0);
  e.operations = common::integer_or(j, "operations", std::int64_t{0});
  e.ops_per_s = j.value("ops_per_s", 0.0);
  e.lost = common::integer_or(j, "lost", std::int64_t{0});
  e.in_doubt = common::integer_or(j, "in_doubt", std::int64_t{0});
  e.lost_by_cause = causes_from(j.value("lost_by_cause", json::object()));
  if (j.contains("isolation") && j["isolation"].is_object()) {
    const auto& i = j["isolation"];
    e.isolation = i.value("isolation", "");
    e.strongest_level = i.value("strongest_level", "");
    e.anomalies = causes_from(i.value("anomalies", json::object()));
    e.anomalies_forbidden = common::integer_or(i, "forbidden", std::int64_t{0});
    e.lost_appends = common::integer_or(i, "lost_appends", std::int64_t{0});
  }
  e.faults = common::integer_or(j, "faults", 0);
  e.faults_refused = common::integer_or(j, "faults_refused", 0);
  for (const auto& f : j.value("fault_unavailability", json::array())) {
    FaultUnavailability u;
    u.fault = f.at("fault");
    u.probe_s = f.contains("probe_unavailable_s") && f["probe_unavailable_s"].is_string() ? FaultUnavailability::kNeverResumed : number_from(f, "probe_unavailable_s");
    u.workload_s = number_from(f, "unavailable_s");
    u.refused = f.value("refused", false);
    e.unavailability.push_back(u);
  }
  e.replay = j.value("replay", "");
  e.kept = j.value("kept", "all");
  e.error = j.value("error", "");
  e.rss_bytes = common::integer_or(j, "rss_bytes", std::int64_t{0});
  e.disk_bytes = common::integer_or(j, "disk_bytes", std::int64_t{0});
  return e;
}

std::string mib(std::int64_t bytes) { return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20)); }

}  // namespace

const char* to_string(SoakStatus status) noexcept {
  for (const auto& [s, text] : kSoakStatuses)
    if (s == status) return text;
  return "?";
}

std::optional<SoakStatus> parse_soak_status(std::string_view text) noexcept {
  for (const auto& [s, name] : kSoakStatuses)
    if (text == name) return s;
  return std::nullopt;
}

LostByCause SoakReport::lost_by_cause() const {
  LostByCause sum;
  for (const auto& e : epochs) add_causes(sum, e.lost_by_cause);
  return sum;
}

std::string soak_json(const SoakReport& soak) {
  json epochs = json::array();
  std::int64_t operations = 0, lost = 0;
  for (const auto& e : soak.epochs) {
    epochs.push_back(epoch_json(e));
    operations += e.operations;
    lost += e.lost;
  }
  const json out = {{"schema_version", kSoakSchemaVersion},
                    {"generator", "pgchaos " PGCHAOS_VERSION},
                    {"started_at", soak.started_at},
                    {"ended_at", soak.ended_at},
                    {"status", to_string(soak.status)},
                    {"verdict", checker::to_string(soak.verdict)},
                    {"seed", soak.seed},
                    {"scenarios", soak.scenarios},
                    {"commit_mode", soak.commit_mode ? soak.commit_mode->text() : kAsTheClusterIs},
                    {"keep", soak.keep},
                    {"planned_s", soak.planned_s},
                    {"epoch_s", soak.epoch_s},
                    {"elapsed_s", soak.elapsed_s},
                    {"totals", {{"epochs", soak.epochs.size()}, {"operations", operations}, {"lost", lost},
                                {"lost_by_cause", causes_json(soak.lost_by_cause())}}},
                    {"findings", soak.findings},
                    {"epochs", epochs}};
  return out.dump(2) + "\n";
}

SoakReport parse_soak_json(const std::string& text, const std::string& origin) {
  try {
    const auto j = json::parse(text);
    if (common::integer_or(j, "schema_version", 0) != kSoakSchemaVersion)
      throw ReportError(origin + ": not a soak.json of schema version " + std::to_string(kSoakSchemaVersion));
    SoakReport soak;
    soak.started_at = j.value("started_at", "");
    soak.ended_at = j.value("ended_at", "");
    const auto status = parse_soak_status(j.value("status", ""));
    if (!status) throw std::invalid_argument("status is not one of a soak's");
    soak.status = *status;
    soak.verdict = verdict_from(j.value("verdict", "unknown"));
    soak.seed = common::integer_or(j, "seed", std::uint64_t{0});
    soak.scenarios = j.value("scenarios", std::vector<std::string>{});
    const std::string commit_mode = j.value("commit_mode", kAsTheClusterIs);
    if (commit_mode != kAsTheClusterIs) soak.commit_mode = commit_setting_from(commit_mode);
    soak.keep = j.value("keep", "");
    soak.planned_s = j.value("planned_s", 0.0);
    soak.epoch_s = j.value("epoch_s", 0.0);
    soak.elapsed_s = j.value("elapsed_s", 0.0);
    soak.findings = j.value("findings", std::vector<std::string>{});
    for (const auto& e : j.at("epochs")) soak.epochs.push_back(epoch_from(e));
    return soak;
  } catch (const json::exception& error) {
    throw ReportError(origin + ": unreadable soak report: " + error.what());
  } catch (const std::invalid_argument& error) {
    throw ReportError(origin + ": unreadable soak report: " + error.what());
  }
}

std::string soak_html(const SoakReport& soak) {
  std::int64_t operations = 0;
  for (const auto& e : soak.epochs) operations += e.operations;
  const std::string verdict = checker::to_string(soak.verdict);
  std::string html = page_start("pgchaos soak — " + verdict, "pgchaos soak");
  html += fmt::format(
      "<p class=\"meta\">started {} · seed {} · "
      "scenarios {} · commit mode {} · epochs of {:.0f} s · keep {}</p>\n"
      "<div class=\"verdict {}\">{}<small>{} · {} epochs · {} operations · {:.0f} of {:.0f} s · lost by cause: {}</small></div>\n",
      escape_markup(soak.started_at), soak.seed,
      escape_markup(fmt::format("{}", fmt::join(soak.scenarios, ", "))),
      escape_markup(soak.commit_mode ? soak.commit_mode->text() : kAsTheClusterIs), soak.epoch_s,
      escape_markup(soak.keep), verdict, verdict, to_string(soak.status),
      soak.epochs.size(), operations, soak.elapsed_s, soak.planned_s, escape_markup(causes_text(soak.lost_by_cause())));
  for (const auto& f : soak.findings) html += fmt::format("<pre class=\"finding\">{}</pre>\n", escape_markup(f));

  std::vector<Bar> ops, lost, unavailable, memory;
  for (const auto& e : soak.epochs) {
    const std::string label = std::to_string(e.index);
    ops.push_back({label, {{e.ops_per_s, verdict_color(e.verdict)}}});
    Bar lost_bar{label, {}};
    for (const auto& [cause, n] : e.lost_by_cause) lost_bar.stack.emplace_back(static_cast<double>(n), cause_color(cause));
    lost.push_back(lost_bar);
    unavailable.push_back({label, {{std::max(0.0, e.worst_unavailable_s()), "#8c1d18"}}});
    memory.push_back({label, {{static_cast<double>(e.rss_bytes) / (1 << 20), "#3949ab"}}});
  }
  html += "<h2>Across the soak</h2>\n";
  html += bar_chart("Throughput per epoch (bar colour: the epoch's verdict)", "ops/s", ops);
  const auto total_lost = soak.lost_by_cause();
  if (std::all_of(total_lost.begin(), total_lost.end(), [](const auto& c) { return c.second == 0; })) {
    html += "<p>No acknowledged commit lost in any epoch.</p>\n";
  } else {
    html += bar_chart("Lost acknowledged commits per epoch, by cause", "ops", lost);
    html += cause_legend(total_lost);
  }
  html += bar_chart("Worst write unavailability per epoch (the probe's)", "s", unavailable);
  html += bar_chart("pgchaos's memory after each epoch (RSS)", "MiB", memory);

  html += "<h2>Epochs</h2>\n<table><tr><th>#</th><th>scenario</th><th>seed</th><th>verdict</th><th>faults (refused)</th>"
          "<th>lost by cause</th><th>isolation anomalies</th><th>worst unavailability</th><th>ops</th><th>ops/s</th><th>RSS</th>"
          "<th>kept</th></tr>\n";
  for (const auto& e : soak.epochs) {
    const double worst = e.worst_unavailable_s();
    html += fmt::format(
        "<tr><td><a href=\"{}/report.html\">{}</a></td><td>{}</td><td>{}</td><td class=\"{}\" title=\"{}\">{}</td><td>{} ({})</td>"
        "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.0f}</td><td>{}</td><td>{}</td></tr>\n",
        escape_markup(e.directory), e.index, escape_markup(e.scenario), e.seed,
        verdict_class(e.verdict), escape_markup(e.headline + (e.error.empty() ? "" : " — " + e.error)),
        checker::to_string(e.verdict), e.faults, e.faults_refused, escape_markup(causes_text(e.lost_by_cause)),
        escape_markup(anomalies_text(e)), worst < 0 ? "—" : fmt::format("{:.1f} s", worst), e.operations, e.ops_per_s, mib(e.rss_bytes), escape_markup(e.kept));
  }
  html += "</table>\n<h2>Replay</h2>\n<p>Each epoch runs again alone:</p>\n<pre>";
  for (const auto& e : soak.epochs) html += escape_markup(e.replay) + "\n";
  html += "</pre>\n</main></body></html>\n";
  return html;
}

std::string soak_junit(const SoakReport& soak) {
  int failures = 0, errors = 0;
  double seconds = 0;
  for (const auto& e : soak.epochs) {
    failures += e.verdict == checker::Verdict::invalid ? 1 : 0;
    errors += e.verdict == checker::Verdict::unknown ? 1 : 0;
    seconds += e.duration_s;
  }
  const int finding_cases = static_cast<int>(soak.findings.size());
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  xml += fmt::format("<testsuites name=\"pgchaos-soak\" tests=\"{}\" failures=\"{}\" errors=\"{}\">\n",
                     soak.epochs.size() + finding_cases, failures + finding_cases, errors);
  xml += fmt::format("  <testsuite name=\"pgchaos.soak-{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{:.3f}\">\n",
                     soak.seed, soak.epochs.size() + finding_cases, failures + finding_cases, errors, seconds);
  for (const auto& e : soak.epochs) {
    xml += fmt::format("    <testcase classname=\"pgchaos.soak.{}\" name=\"{} seed {}\" time=\"{:.3f}\">",
                       escape_markup(e.scenario), escape_markup(e.scenario), e.seed, e.duration_s);
    const std::string message = fmt::format("epoch {}: {}{} — replay: {}", e.index, e.headline,
                                            e.error.empty() ? "" : " (" + e.error + ")", e.replay);
    if (e.verdict == checker::Verdict::invalid)
      xml += fmt::format("<failure message=\"{}\">{}</failure>", escape_markup(message), escape_markup(message));
    else if (e.verdict == checker::Verdict::unknown)
      xml += fmt::format("<error message=\"{}\">{}</error>", escape_markup(message), escape_markup(message));
    else
      xml += fmt::format("<system-out>{}</system-out>", escape_markup(message));
    xml += "</testcase>\n";
  }
  for (const auto& f : soak.findings)
    xml += fmt::format("    <testcase classname=\"pgchaos.soak\" name=\"cluster healthy between epochs\"><failure "
                       "message=\"{}\">{}</failure></testcase>\n",
                       escape_markup(f.substr(0, f.find('\n'))), escape_markup(f));
  xml += "  </testsuite>\n</testsuites>\n";
  return xml;
}

void write_soak_reports(const std::filesystem::path& dir, const SoakReport& soak) {
  write_report_files({{dir / "soak.json", soak_json(soak)}, {dir / "soak.html", soak_html(soak)},
                      {dir / "junit.xml", soak_junit(soak)}});
}

}  // namespace pgchaos::reports
