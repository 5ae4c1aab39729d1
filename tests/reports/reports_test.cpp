#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <map>
#include <sstream>

#include "common/text.h"
#include "reports/reports.h"
#include "tests/checker/synthetic_run.h"
#include "tests/support/temp_directory.h"
#include "tests/support/postgres_server.h"
#include "workloads/bank/bank.h"

namespace pgchaos::reports {
namespace {

using testing::slurp;

// A run with two faults, three acknowledged commits lost in the first, and a phantom.
class ReportsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937_64 rng(9);
    run_ = testing::make_clean_run(rng, 3000, 50, 1, 3'000'000);  // about 10 s of run
    auto& h = run_.history;
    std::int64_t at_600 = 0, at_602 = 0;
    for (const auto& a : h.attempts) {
      if (a.op == 600) at_600 = a.invoke_ns;
      if (a.op == 602) at_602 = a.invoke_ns;
    }
    h.faults.push_back({1, "switchover", "primary", "patronictl switchover", at_600 - 1'000'000, at_602 + 5'000'000, 0});
    h.faults.push_back({2, "crash", "pgc2", "pgchaos-node crash 3", h.end_ns / 2, -1, 0});
    for (const std::int64_t op : {600, 601, 602})  // lost, inside fault 1
      for (auto& s : run_.snapshots) {
        auto& ledger = s.ledger;
        const auto it = std::find_if(ledger.begin(), ledger.end(), [op](const auto& r) { return r.op_id == op; });
        s.accounts[static_cast<std::size_t>(it->from_account - 1)].balance_cents += it->amount_cents;
        s.accounts[static_cast<std::size_t>(it->to_account - 1)].balance_cents -= it->amount_cents + 100;
        ledger.erase(it);
      }
    for (auto& a : h.attempts)
      if (a.op == 900 && a.outcome == history::Outcome::ok) a.outcome = history::Outcome::fail;
    checker::CheckOptions options;
    options.commit.mode = common::CommitMode::sync;
    result_ = checker::check(h, run_.snapshots, options, bank::invariants());
    info_.directory = temp_.path();
    info_.run_json = R"({"run_id": 1, "seed": 42, "config": {"dsns": ["postgresql://bank:***@127.0.0.1:5000/bank"]}})";
    info_.run_id = 1;
    info_.seed = 42;
    info_.topology = node_summaries(run_.snapshots);
    write_reports(history::RunDirectory::for_new_run(info_.directory), info_, result_);
  }

  testing::TempDirectory temp_{"pgchaos-report"};
  testing::SyntheticRun run_;
  checker::CheckResult result_;
  RunInfo info_;
};

TEST_F(ReportsTest, JsonFollowsTheSchema) {
  const auto j = nlohmann::json::parse(slurp(info_.directory / "report.json"));
  EXPECT_EQ(j["schema_version"], kSchemaVersion);
  EXPECT_EQ(j["verdict"], "invalid");
  EXPECT_EQ(j["run"]["commit_mode"], "sync");
  EXPECT_EQ(j["run"]["configuration"]["seed"], 42);
  EXPECT_EQ(j["operations"]["lost"], (std::vector<std::int64_t>{600, 601, 602}));
  EXPECT_EQ(j["operations"]["phantom"], (std::vector<std::int64_t>{900}));
  EXPECT_EQ(j["counts"]["acknowledged"], 2999);
  ASSERT_EQ(j["faults"].size(), 2u);
  EXPECT_EQ(j["faults"][0]["lost"], (std::vector<std::int64_t>{600, 601, 602}));
  EXPECT_TRUE(j["faults"][1]["end_s"].is_null());
  EXPECT_EQ(j["per_second"]["columns"][0], "second");
  EXPECT_EQ(j["per_second"]["rows"].size(), result_.per_second.size());
  EXPECT_EQ(j["topology"].size(), 2u);
  std::map<std::string, std::string> status;
  for (const auto& i : j["invariants"]) status[i["name"]] = i["status"];
  EXPECT_EQ(status["no_lost_commits"], "fail");
  EXPECT_EQ(status["unknown_outcomes_resolved"], "report") << "informational, never a check that passes by construction";
  EXPECT_NE(j["headline"].get<std::string>().find("3 acknowledged commits lost in 1 of 2 faults"), std::string::npos)
      << j["headline"];
}

TEST_F(ReportsTest, JunitHasOneCasePerInvariantAndFault) {
  const std::string xml = slurp(info_.directory / "junit.xml");
  for (const char* name : {"no_lost_commits", "no_phantom_commits", "total_balance", "account_reconciliation",
                           "replica_convergence.pgc2", "fault_1.switchover.primary", "fault_2.crash.pgc2"})
    EXPECT_NE(xml.find(std::string("name=\"") + name + "\""), std::string::npos) << name;
  EXPECT_NE(xml.find("failures=\"3\""), std::string::npos) << "lost, phantom and fault 1: " << xml.substr(0, 300);
  EXPECT_NE(xml.find("<failure message=\"3 acknowledged commits absent"), std::string::npos);
}

TEST_F(ReportsTest, HtmlIsOneOfflineFileWithChartsAndTheVerdict) {
  const std::string html = slurp(info_.directory / "report.html");
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg")) << "no external resources";
  EXPECT_NE(html.find("3 acknowledged commits lost in 1 of 2 faults"), std::string::npos);
  EXPECT_NE(html.find("class=\"verdict invalid\""), std::string::npos);
}

// The page as a person sees it: headless Chromium loads it, the DOM has both charts with their fault windows,
// and a screenshot is taken (kept beside the report for a look).
TEST_F(ReportsTest, ChromiumRendersTheChartsAndTheVerdict) {
  if (!std::filesystem::exists("/usr/bin/chromium")) GTEST_SKIP() << "no Chromium here (scripts/setup.sh installs it)";
  const std::string flags =
      "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking "
      "--disable-component-update --disable-sync --user-data-dir=" + (info_.directory / "chromium").string();
  const std::string url = "file://" + (info_.directory / "report.html").string();
  const std::string dom = testing::run_shell("/usr/bin/chromium " + flags + " --dump-dom " + url + " 2>/dev/null");
  EXPECT_NE(dom.find("id=\"verdict\""), std::string::npos);
  EXPECT_NE(dom.find("3 acknowledged commits lost in 1 of 2 faults"), std::string::npos);
  std::size_t charts = 0, fault_windows = 0, lines = 0;
  for (auto at = dom.find("<svg class=\"chart\""); at != std::string::npos; at = dom.find("<svg class=\"chart\"", at + 1)) ++charts;
  for (auto at = dom.find("class=\"fault\""); at != std::string::npos; at = dom.find("class=\"fault\"", at + 1)) ++fault_windows;
  for (auto at = dom.find("<polyline"); at != std::string::npos; at = dom.find("<polyline", at + 1)) ++lines;
  EXPECT_EQ(charts, 2u);
  EXPECT_EQ(fault_windows, 4u) << "2 faults shaded in each of 2 charts";
  EXPECT_GE(lines, 3u) << "throughput, p50, p99 (a line may break where a second had no commit)";
  const auto png = info_.directory / "report.png";
  testing::run_shell("/usr/bin/chromium " + flags + " --window-size=1100,2200 --screenshot=" + png.string() + " " + url +
                     " 2>/dev/null");
  ASSERT_TRUE(std::filesystem::exists(png));
  EXPECT_GT(std::filesystem::file_size(png), 20000u) << "a blank page would be tiny";
  if (const char* keep = std::getenv("PGCHAOS_KEEP_SCREENSHOT")) std::filesystem::copy_file(png, keep, std::filesystem::copy_options::overwrite_existing);
}

}  // namespace
}  // namespace pgchaos::reports

namespace pgchaos::reports {
namespace {

TEST(InvariantText, AnAccountMismatchSaysHowManyOpsItHasNotHowManyAreListed) {
  checker::CheckResult r;
  r.checked = true;
  checker::AccountMismatch m;
  m.account = 7;
  m.balance_cents = 10100;
  m.expected_cents = 10000;
  for (std::int64_t op = 1; op <= 20; ++op) m.ops.push_back(op);
  m.op_count = 57;
  r.account_mismatches.push_back(m);
  const auto j = nlohmann::json::parse(json_report(RunInfo{}, r));
  std::string detail;
  for (const auto& i : j["invariants"])
    if (i["name"] == "account_reconciliation") detail = i["detail"];
  EXPECT_NE(detail.find("(total 57)"), std::string::npos) << detail;
}

}  // namespace
}  // namespace pgchaos::reports

namespace pgchaos::reports {
namespace {

// The cluster's story on the page: a valid async run that lost commits says so in words; lanes, split brains and
// causes appear in the HTML, the JSON and JUnit.
TEST(StoryReport, CausesLanesAndTheAsyncBannerAreShown) {
  checker::CheckResult r;
  r.verdict = checker::Verdict::valid;
  r.checked = true;
  r.commit.mode = common::CommitMode::async;
  r.headline = "valid: 100 acknowledged commits, 2 acknowledged commits lost — allowed in async mode";
  r.acknowledged = 100;
  r.duration_s = 10;
  r.watched = true;
  r.lost = {5, 6};
  r.lost_ops = {{5, 1, checker::LossCause::async_lag, "pgc1", 1, 4'000'000'000, 1234, 1, 5'000'000'000, "pgc2 promoted 1.0 s later"},
                {6, 1, checker::LossCause::isolated_primary, "pgc1", 1, 4'100'000'000, 1300, 1, 5'000'000'000, "cut off"}};
  for (const auto cause : checker::kLossCauses)
    r.lost_by_cause.emplace_back(cause, cause == checker::LossCause::async_lag || cause == checker::LossCause::isolated_primary);
  r.lanes = {{"pgc1", {{"primary", 1, 0, 5'000'000'000}, {"unreachable", 0, 5'000'000'000, 10'000'000'000}}},
             {"pgc2", {{"replica", 1, 0, 5'000'000'000}, {"primary", 2, 5'000'000'000, 10'000'000'000}}}};
  r.promotions = {{"pgc2", 5'000'000'000, 2}};
  checker::FaultImpact f;
  f.fault = {1, "crash", "pgc1", "pgchaos-node crash 20", 3'000'000'000, 6'000'000'000, 0};
  f.story = "pgc1 led; pgc2 promoted after 2.0 s (timeline 2)";
  f.lost = {5, 6};
  f.probe_unavailable_ns = 2'100'000'000;
  r.faults.push_back(f);
  checker::FaultImpact refused;
  refused.fault = {2, "switchover", "pgc3", "patronictl switchover | Switchover failed", 7'000'000'000, 7'100'000'000, 1};
  refused.refused = true;
  refused.refusal = "Switchover failed, details: 412";
  refused.story = "refused: Switchover failed, details: 412";
  r.faults.push_back(refused);
  r.per_second.resize(10);

  RunInfo info;
  info.run_id = 3;
  info.time_zero_wall_us = 1796599210107949;  // 2026-12-06T23:20:10.107949Z
  info.forensics = {{"fault 1", "--- pgc2\n2026-11-30 02:31:42,796 INFO: promoted self to leader by acquiring session lock\n"}};
  const std::string html = html_report(info, r);
  EXPECT_NE(html.find("id=\"loss-banner\">2 acknowledged commits lost — allowed in async mode — by cause: "
                      "isolated-primary 1, async-lag 1"),
            std::string::npos);
  EXPECT_NE(html.find("class=\"chart lanes\""), std::string::npos);
  EXPECT_NE(html.find("pgc2 promoted at 5.0 s (23:20:15.107 UTC) (timeline 2)"), std::string::npos);
  EXPECT_NE(html.find("id=\"loss-causes\""), std::string::npos);
  EXPECT_LT(html.find("<b>isolated-primary</b>"), html.find("<b>async-lag</b>")) << "in the order of kLossCauses";
  EXPECT_NE(html.find("class=\"refused\">refused: Switchover failed"), std::string::npos);
  EXPECT_NE(html.find("promoted self to leader by acquiring session lock"), std::string::npos) << "forensics";

  const auto j = nlohmann::json::parse(json_report(info, r));
  EXPECT_EQ(j["operations"]["lost_by_cause"]["async-lag"], 1);
  EXPECT_EQ(j["operations"]["lost_by_cause"]["unexplained"], 0);
  EXPECT_EQ(j["operations"]["lost_detail"][1]["cause"], "isolated-primary");
  EXPECT_EQ(j["faults"][1]["status"], "refused");
  EXPECT_EQ(j["faults"][0]["probe_unavailable_s"], 2.1);
  EXPECT_EQ(j["run"]["time_zero"], "2026-12-06T23:20:10.107Z");
  const auto start_us = 1796599210107949 + r.faults[0].fault.start_ns / 1000;
  EXPECT_EQ(j["faults"][0]["started_at"], common::utc_millis(start_us)) << "absolute beside relative";
  EXPECT_EQ(j["cluster"]["lanes"][1]["segments"][1]["state"], "primary");
  EXPECT_FALSE(j["loss_causes"]["unexplained"].get<std::string>().empty());

  const std::string xml = junit_report(info, r);
  EXPECT_NE(xml.find("name=\"lost_by_cause.async-lag\""), std::string::npos);
  EXPECT_NE(xml.find("name=\"fault_2.switchover.pgc3\" time=\"0\"><skipped message=\"refused: Switchover failed"),
            std::string::npos)
      << "a refused fault is never a pass";
  EXPECT_NE(xml.find("name=\"no_split_brain\""), std::string::npos);
}

}  // namespace
}  // namespace pgchaos::reports

namespace pgchaos::reports {
namespace {

// The list-append workload's check on the page: its invariants instead of the bank's, a table per anomaly kind (one
// that fails, one that follows from a lost commit), lost appends; report.json's isolation section; JUnit's cases.
TEST(IsolationReport, AnomaliesAreToldByKindAndJudgedAsTheRunAskedFor) {
  checker::CheckResult r;
  r.verdict = checker::Verdict::invalid;
  r.checked = true;
  r.headline = "invalid: isolation anomalies serializable forbids: G-single 1";
  auto& c = r.isolation;
  c.checked = true;
  c.isolation = "serializable";
  c.strongest_level = "read-committed";
  c.transactions = 1000;
  c.reads = 1200;
  c.appends = 1300;
  c.keys = 40;
  c.edges = 5000;
  checker::IsolationAnomaly single;
  single.kind = "G-single";
  single.transactions = {12, 15};
  single.edges = {"T12 -rw-> T15 (key 3, element 60)", "T15 -wr-> T12 (key 4, element 61)"};
  single.explanation = "T12 read key 3 without 60, which T15 appended next (rw); ...";
  single.forbidden = true;
  checker::IsolationAnomaly order;
  order.kind = "incompatible-order";
  order.transactions = {20, 0};
  order.explanation = "T20 read key 5 as [80] and T0 read it as [84]: ...";
  order.forbidden = true;
  order.follows_from_loss = "async-lag";
  c.anomalies = {single, order};
  c.anomaly_counts = {{"G-single", 1}, {"incompatible-order", 1}};
  c.lost_appends = {{20, 5, 80, "async-lag"}};
  EXPECT_EQ(c.forbidden(), 1) << "the one a lost commit explains is judged as that loss";

  const std::string html = html_report(RunInfo{}, r);
  EXPECT_NE(html.find("<h2>Isolation</h2>"), std::string::npos);
  EXPECT_NE(html.find("G-single: 1 <span class=\"fail\">(forbidden at serializable)</span>"), std::string::npos);
  EXPECT_NE(html.find("incompatible-order: 1 <span class=\"report\">(forbidden at serializable, but each follows from a "
                      "lost commit"),
            std::string::npos);
  EXPECT_NE(html.find("T12 → T15 → T12"), std::string::npos) << "a cycle is drawn back to its start";
  EXPECT_NE(html.find("T12 -rw-&gt; T15 (key 3, element 60)"), std::string::npos);
  EXPECT_NE(html.find("<h3>Lost appends</h3>"), std::string::npos);

  const auto j = nlohmann::json::parse(json_report(RunInfo{}, r));
  EXPECT_EQ(j["isolation"]["anomaly_counts"]["G-single"], 1);
  EXPECT_EQ(j["isolation"]["forbidden"], 1);
  EXPECT_EQ(j["isolation"]["anomalies"][1]["follows_from_loss"], "async-lag");
  EXPECT_EQ(j["isolation"]["anomalies"][1]["fails"], false);
  EXPECT_EQ(j["isolation"]["lost_appends"][0]["cause"], "async-lag");
  std::map<std::string, std::string> status;
  for (const auto& i : j["invariants"]) status[i["name"]] = i["status"];
  EXPECT_EQ(status["isolation.G-single"], "fail");
  EXPECT_EQ(status["isolation.incompatible-order"], "report");
  EXPECT_EQ(status["no_lost_appends"], "report") << "every lost append has its lost commit's cause";
  EXPECT_EQ(status.count("total_balance"), 0u) << "the bank's invariants are not the append workload's";

  const std::string xml = junit_report(RunInfo{}, r);
  EXPECT_NE(xml.find("name=\"isolation.G-single\""), std::string::npos);
  // A bank run has no isolation section.
  EXPECT_TRUE(nlohmann::json::parse(json_report(RunInfo{}, checker::CheckResult{}))["isolation"].is_null());
}

}  // namespace
}  // namespace pgchaos::reports
