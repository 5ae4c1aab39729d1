// The soak's and the trend's reports, from planted epochs and nights.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "reports/matrix_report.h"
#include "reports/reports.h"
#include "reports/soak_report.h"
#include "reports/trend.h"
#include "tests/support/postgres_server.h"
#include "tests/support/temp_directory.h"

namespace pgchaos::reports {
namespace {

common::CommitSetting setting(const std::string& text) {
  std::string why;
  return common::parse_commit_setting(text, why).value();
}

RunSummary epoch(int index, const std::string& verdict, std::int64_t async_lag, double switchover_s) {
  RunSummary e;
  e.index = index;
  e.directory = "epoch-000" + std::to_string(index);
  e.scenario = index % 2 ? "random" : "switchover-storm";
  e.seed = 1000 + static_cast<std::uint64_t>(index);
  e.commit_mode = setting("async");
  e.verdict = checker::parse_verdict(verdict).value();
  e.headline = verdict + ": planted";
  e.exit_code = verdict == "valid" ? 0 : 1;
  e.duration_s = 300;
  e.operations = 500000;
  e.ops_per_s = 1666;
  e.lost = async_lag;
  e.lost_by_cause = {{"unexplained", 0}, {"split-brain", 0}, {"async-lag", async_lag}};
  e.faults = 2;
  e.faults_refused = 1;
  e.unavailability = {{"switchover", switchover_s, switchover_s + 1, false}, {"switchover", -1, -1, true}};
  e.replay = "pgchaos scenario --conf 'lab.conf' --replay 'soak/" + e.directory + "'";
  e.kept = verdict == "valid" ? "report" : "all";
  e.rss_bytes = 30 << 20;
  return e;
}

SoakReport planted_soak() {
  SoakReport soak;
  soak.started_at = "2026-11-30T01:00:00Z";
  soak.status = SoakStatus::completed;
  soak.verdict = checker::Verdict::invalid;
  soak.seed = 7;
  soak.scenarios = {"random", "switchover-storm"};
  soak.commit_mode = setting("async");
  soak.keep = "invalid";
  soak.planned_s = 900;
  soak.epoch_s = 300;
  soak.epochs = {epoch(1, "valid", 0, 3.0), epoch(2, "invalid", 12, 3.2), epoch(3, "valid", 4, 2.9)};
  return soak;
}

TEST(SoakReport, JsonRoundTripsAndSumsTheCauses) {
  const auto soak = planted_soak();
  const auto text = soak_json(soak);
  const auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j["schema_version"], 1);
  EXPECT_EQ(j["totals"]["epochs"], 3);
  EXPECT_EQ(j["totals"]["operations"], 1500000);
  EXPECT_EQ(j["totals"]["lost_by_cause"]["async-lag"], 16);
  EXPECT_EQ(j["epochs"][1]["worst_unavailable_s"], 3.2) << "the refused switchover is not a measured outage";
  EXPECT_EQ(j["epochs"][1]["fault_unavailability"][1]["probe_unavailable_s"], nullptr);
  const auto back = parse_soak_json(text, "soak.json");
  ASSERT_EQ(back.epochs.size(), 3u);
  EXPECT_EQ(back.epochs[1].replay, soak.epochs[1].replay);
  EXPECT_EQ(back.epochs[1].lost_by_cause, soak.epochs[1].lost_by_cause);
  EXPECT_EQ(back.epochs[2].unavailability.size(), 2u);
  EXPECT_TRUE(back.epochs[2].unavailability[1].refused);
  EXPECT_EQ(soak_json(back), text) << "nothing is lost reading it back";
  EXPECT_THROW(parse_soak_json("{\"schema_version\": 9, \"epochs\": []}", "x/soak.json"), ReportError);
  EXPECT_THROW(parse_soak_json("not json", "x/soak.json"), ReportError);
}

TEST(SoakReport, JunitHasACasePerEpochAndAFailureHoldsTheReplayCommand) {
  auto soak = planted_soak();
  soak.findings = {"the cluster was not healthy after epoch 3: pgc2 not running (forensics: soak/between-0004)"};
  const auto xml = soak_junit(soak);
  EXPECT_NE(xml.find("tests=\"4\" failures=\"2\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("name=\"switchover-storm seed 1002\""), std::string::npos);
  const auto failure = xml.find("<failure message=\"epoch 2");
  ASSERT_NE(failure, std::string::npos) << xml;
  EXPECT_NE(xml.find("replay: pgchaos scenario --conf &#39;lab.conf&#39; --replay &#39;soak/epoch-0002&#39;", failure),
            std::string::npos) << xml;
  EXPECT_NE(xml.find("cluster healthy between epochs"), std::string::npos);
}

TEST(SoakReport, HtmlHasARowAndALinkPerEpochAndTheCharts) {
  const auto html = soak_html(planted_soak());
  EXPECT_NE(html.find("href=\"epoch-0002/report.html\""), std::string::npos);
  EXPECT_NE(html.find("async-lag 12"), std::string::npos);
  EXPECT_NE(html.find("2 (1)"), std::string::npos) << "faults and refused faults";
  std::size_t charts = 0;
  for (auto at = html.find("<svg class=\"chart\""); at != std::string::npos; at = html.find("<svg class=\"chart\"", at + 1)) ++charts;
  EXPECT_EQ(charts, 4u) << "throughput, lost by cause, worst unavailability, memory";
  EXPECT_EQ(html.find("http"), std::string::npos) << "one offline file";
  EXPECT_NE(html.find("■</span> async-lag (16)"), std::string::npos) << "the causes' colours are named";
  auto nothing_lost = planted_soak();
  for (auto& e : nothing_lost.epochs)
    for (auto& [cause, n] : e.lost_by_cause) n = 0;
  EXPECT_NE(soak_html(nothing_lost).find("No acknowledged commit lost in any epoch."), std::string::npos);
}

NightSummary night(const std::string& label, std::int64_t lost, double ops_per_s, double switchover_p99) {
  NightSummary n;
  n.label = label;
  n.kind = "soak";
  n.started_at = "2026-11-" + label + "T01:00:00Z";
  n.commit_mode = setting("async");
  n.verdict = checker::Verdict::valid;
  n.operations = 1'000'000;
  n.lost = lost;
  n.lost_by_cause = {{"async-lag", lost}};
  n.ops_per_s = ops_per_s;
  n.unavailability = {{"switchover", 10, 3.0, switchover_p99}};
  return n;
}

TEST(Trend, ANightWorseThanTheMedianOfTheOnesBeforeIsFlaggedAndOnlyThatOne) {
  std::vector<NightSummary> nights = {night("24", 10, 1700, 3.1), night("21", 12, 1650, 3.0), night("22", 8, 1720, 3.2),
                                      night("23", 11, 1690, 3.1), night("25", 40, 1710, 3.3), night("26", 10, 700, 3.0),
                                      night("27", 10, 1700, 5.5)};
  flag_regressions(nights, TrendOptions{});
  ASSERT_EQ(nights.front().label, "21") << "ordered by start";
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(nights[i].regressions.empty()) << "too few nights before to judge " << nights[i].label;
  EXPECT_TRUE(nights[3].regressions.empty()) << "night 24 is like the ones before";
  ASSERT_EQ(nights[4].regressions.size(), 1u);
  EXPECT_NE(nights[4].regressions[0].find("lost 40 per million"), std::string::npos) << nights[4].regressions[0];
  ASSERT_EQ(nights[5].regressions.size(), 1u);
  EXPECT_NE(nights[5].regressions[0].find("700 ops/s"), std::string::npos);
  ASSERT_EQ(nights[6].regressions.size(), 1u);
  EXPECT_NE(nights[6].regressions[0].find("switchover: p99 unavailability 5.5 s"), std::string::npos);
  // Under a second slower is noise on these machines, not a regression, however large the fraction.
  std::vector<NightSummary> close = {night("21", 10, 1700, 1.0), night("22", 10, 1700, 1.0), night("23", 10, 1700, 1.0),
                                     night("24", 10, 1700, 1.9)};
  flag_regressions(close, TrendOptions{});
  EXPECT_TRUE(close.back().regressions.empty());
  // Nights of another commit mode are not the measure.
  std::vector<NightSummary> modes = {night("21", 0, 1700, 3), night("22", 0, 1700, 3), night("23", 0, 1700, 3),
                                     night("24", 5, 1700, 3)};
  modes[3].commit_mode = setting("sync");
  flag_regressions(modes, TrendOptions{});
  EXPECT_TRUE(modes[3].regressions.empty());
  const auto j = nlohmann::json::parse(trend_json(nights, TrendOptions{}));
  EXPECT_EQ(j["nights_regressed"], 3);
  EXPECT_EQ(j["nights"][4]["lost_per_million"], 40.0);
  const auto html = trend_html(nights, TrendOptions{});
  EXPECT_NE(html.find("3 of 7 nights worse than the ones before"), std::string::npos);
}

TEST(Trend, ReadsSoakAndRunDirectoriesAndNamesOneThatIsNeither) {
  const testing::TempDirectory dir("pgchaos-trend");
  std::filesystem::create_directories(dir / "soak-a");
  std::ofstream(dir / "soak-a" / "soak.json") << soak_json(planted_soak());
  const auto soak = read_night(dir / "soak-a");
  EXPECT_EQ(soak.kind, "soak");
  EXPECT_EQ(soak.label, "soak-a");
  EXPECT_EQ(soak.operations, 1'500'000);
  EXPECT_EQ(soak.lost, 16);
  EXPECT_EQ(soak.invalid_epochs, 1);
  ASSERT_EQ(soak.unavailability.size(), 1u);
  EXPECT_EQ(soak.unavailability[0].count, 3) << "the refused switchovers are not measured outages";
  EXPECT_DOUBLE_EQ(soak.unavailability[0].p99_s, 3.2);
  std::filesystem::create_directories(dir / "run-b");
  std::ofstream(dir / "run-b" / "report.json") << R"({"verdict": "valid", "run": {"commit_mode": "sync",
      "configuration": {"started_at": "2026-11-29T01:00:00Z"}}, "counts": {"acknowledged": 1000},
      "availability": {"ops_per_s": 500.0, "duration_s": 2.0},
      "operations": {"lost": [4, 9], "lost_by_cause": {"cancelled-sync-wait": 2}},
      "faults": [{"fault": "crash", "status": "took_effect", "probe_unavailable_s": 9.5, "unavailable_s": 10.1},
                 {"fault": "switchover", "status": "refused", "probe_unavailable_s": 0, "unavailable_s": null}]})";
  const auto run = read_night(dir / "run-b");
  EXPECT_EQ(run.kind, "run");
  EXPECT_EQ(run.commit_mode_text(), "sync");
  EXPECT_EQ(run.started_at, "2026-11-29T01:00:00Z");
  EXPECT_EQ(run.lost, 2);
  ASSERT_EQ(run.unavailability.size(), 1u);
  EXPECT_EQ(run.unavailability[0].fault, "crash");
  std::filesystem::create_directories(dir / "empty");
  try {
    read_night(dir / "empty");
    FAIL() << "an empty directory is no night";
  } catch (const ReportError& error) {
    EXPECT_NE(std::string(error.what()).find("empty"), std::string::npos);
  }
  std::ofstream(dir / "run-b" / "report.json", std::ios::trunc) << "{\"verdict\": 3}";
  EXPECT_THROW(read_night(dir / "run-b"), ReportError);
}

MatrixReport planted_matrix() {
  MatrixReport m;
  m.scenario = "crash-primary";
  m.seed = 7;
  m.started_at = "2026-11-30T09:00:00Z";
  m.status = MatrixStatus::completed;
  m.modes = {"async", "sync", "sync-strict"};
  for (const auto& mode : m.modes) {
    MatrixColumn c;
    c.mode = mode;
    c.run = epoch(static_cast<int>(m.columns.size()) + 1, "valid", mode == "async" ? 40 : 0, mode == "async" ? 12.0 : 14.0);
    c.run.directory = mode;
    c.run.commit_mode = setting(mode);
    c.guarantee.promise = mode == "async" ? "async: none (lost commits are reported)"
                                          : mode + ": no acknowledged commit lost except a cancelled sync wait";
    c.guarantee.judged = mode != "async";
    c.acknowledged_without_sync_standby = mode == "async" ? -1 : mode == "sync" ? 25 : 0;
    m.columns.push_back(c);
  }
  return m;
}

TEST(MatrixReport, ModesSideBySideEachWithItsPromise) {
  auto m = planted_matrix();
  EXPECT_TRUE(m.broken().empty());
  const auto j = nlohmann::json::parse(matrix_json(m));
  EXPECT_EQ(j["schema_version"], 1);
  ASSERT_EQ(j["columns"].size(), 3u);
  EXPECT_EQ(j["columns"][0]["lost_by_cause"]["async-lag"], 40);
  EXPECT_TRUE(j["columns"][0]["acknowledged_without_sync_standby"].is_null());
  EXPECT_EQ(j["columns"][1]["acknowledged_without_sync_standby"], 25);
  ASSERT_EQ(j["columns"][2]["unavailability"].size(), 1u) << "a refused fault is not measured";
  EXPECT_EQ(j["columns"][2]["unavailability"][0]["fault"], "switchover");
  EXPECT_DOUBLE_EQ(j["columns"][2]["unavailability"][0]["max_s"].get<double>(), 14.0);
  EXPECT_TRUE(j["columns"][0]["failsafe"].is_null()) << "not set by the matrix: null";
  auto with_failsafe = m;
  with_failsafe.columns[1].failsafe = true;
  with_failsafe.columns[2].failsafe = false;
  const auto f = nlohmann::json::parse(matrix_json(with_failsafe));
  EXPECT_EQ(f["columns"][1]["failsafe"], true);
  EXPECT_EQ(f["columns"][2]["failsafe"], false);
  auto html = matrix_html(m);
  EXPECT_NE(html.find("every mode kept its promise"), std::string::npos);
  EXPECT_NE(html.find("<a href=\"sync-strict/report.html\">sync-strict</a>"), std::string::npos);
  EXPECT_NE(html.find("unavailable: switchover p50 / max"), std::string::npos);
  // A broken promise names the mode and the ops, in the JSON, on the page and in what the exit code reports.
  m.columns[2].guarantee.kept = false;
  m.columns[2].guarantee.breaking_ops = {17, 18};
  m.columns[2].guarantee.broken = "2 commits acknowledged without a synchronous standby (ops 17, 18)";
  ASSERT_EQ(m.broken().size(), 1u);
  EXPECT_EQ(m.broken()[0], "sync-strict: 2 commits acknowledged without a synchronous standby (ops 17, 18)");
  EXPECT_EQ(nlohmann::json::parse(matrix_json(m))["broken"][0], m.broken()[0]);
  html = matrix_html(m);
  EXPECT_NE(html.find("a guarantee broken"), std::string::npos);
  EXPECT_NE(html.find("no: 2 commits acknowledged without a synchronous standby (ops 17, 18)"), std::string::npos);
}

}  // namespace
}  // namespace pgchaos::reports
