#include "app/verdict.h"

#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "reports/reports.h"

namespace pgchaos::app {

RecordedRun read_recorded_run(const std::filesystem::path& directory) {
  const auto file = directory / "run.json";
  std::ifstream in(file);
  if (!in) throw UsageError(file.string() + ": cannot read (is this a pgchaos run directory?)");
  RecordedRun run;
  run.directory = directory;
  run.run_json.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  try {
    const auto j = nlohmann::json::parse(run.run_json);
    run.run_id = j.at("run_id");
    run.seed = j.at("seed");
    for (const auto& dsn : j.at("config").at("dsns")) run.dsns.push_back(dsn);
    for (const auto& n : j.value("nodes", nlohmann::json::array()))
      run.nodes.push_back({n.at("name"), n.at("host"), n.at("port")});
    const auto mode = checker::commit_mode_from_string(j.value("commit_mode", "async"));
    if (!mode) throw UsageError(file.string() + ": unknown commit_mode");
    run.commit_mode = *mode;
    if (j.contains("max_lost") && !j["max_lost"].is_null()) run.max_lost = j["max_lost"].get<std::int64_t>();
  } catch (const nlohmann::json::exception& error) {
    throw UsageError(file.string() + ": " + error.what());
  }
  return run;
}

std::string without_masked_password(const std::string& dsn) {
  std::string text = std::regex_replace(dsn, std::regex(R"(^(postgres(?:ql)?://[^:@/]*):\*\*\*@)"), "$1@");
  text = std::regex_replace(text, std::regex(R"([?&]password=\*\*\*)"), "");
  return std::regex_replace(text, std::regex(R"(\s*password\s*=\s*\*\*\*)"), "");
}

void resnapshot(const RecordedRun& run, const std::vector<std::string>& dsns) {
  const auto snapshots = backend::take_snapshots(dsns, run.nodes, std::chrono::seconds(30));
  for (const auto& entry : std::filesystem::directory_iterator(run.directory))
    if (entry.path().filename().string().rfind("snapshot-", 0) == 0) std::filesystem::remove(entry.path());
  for (const auto& s : snapshots) history::write_snapshot(run.directory, s);
}

namespace {

const char* mark(const std::string& status) {
  if (status == "pass") return "[ok]  ";
  if (status == "fail") return "[FAIL]";
  if (status == "report") return "[info]";
  return "[skip]";
}

}  // namespace

checker::CheckResult check_and_report(const RecordedRun& run, std::optional<std::int64_t> max_lost) {
  const auto history = history::load_run_history(run.directory / "history.jsonl");
  const auto snapshots = history::read_snapshots(run.directory);
  checker::CheckOptions options;
  options.commit_mode = run.commit_mode;
  options.max_lost = max_lost ? max_lost : run.max_lost;
  const auto result = checker::check(history, snapshots, options);

  reports::RunInfo info;
  info.directory = run.directory;
  info.run_json = run.run_json;
  info.run_id = run.run_id;
  info.seed = run.seed;
  info.topology = snapshots;
  reports::write_reports(info, result);

  fmt::print("check ({} commit mode{}; primary {}):\n", checker::to_string(result.commit_mode),
             history.torn_tail ? "; the history's last line was torn and skipped" : "",
             snapshots.empty() ? "none" : snapshots.front().name + " " + snapshots.front().node);
  const auto report = nlohmann::json::parse(reports::json_report(info, result));
  for (const auto& i : report["invariants"])
    fmt::print("  {} {}: {}\n", mark(i["status"]), i["name"].get<std::string>(), i["detail"].get<std::string>());
  fmt::print("  seed formula sum(balance) - (accounts x 100 + operations) = {:.2f}\n",
             static_cast<double>(result.seed_formula_cents) / 100);
  fmt::print("verdict: {}\n", result.headline);
  fmt::print("reports: {0}/report.html {0}/report.json {0}/junit.xml\n", run.directory.string());
  return result;
}

int exit_code(checker::Verdict verdict) {
  switch (verdict) {
    case checker::Verdict::valid: return 0;
    case checker::Verdict::invalid: return 1;
    case checker::Verdict::unknown: return 2;
  }
  return 2;
}

}  // namespace pgchaos::app
