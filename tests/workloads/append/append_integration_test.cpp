// The list-append workload against a real PostgreSQL 15 started by the test, at each isolation level, under
// contention (4 active keys, 8 workers): serializable must come out clean, repeatable read may show write skew
// (G2-item) only, read committed the anomalies it allows; a final list tampered with is a lost append (label:
// integration).
#include <gtest/gtest.h>

#include <algorithm>

#include "backend/cluster_reader.h"
#include "backend/workload.h"
#include "checker/checker.h"
#include "tests/support/postgres_server.h"
#include "tests/support/temp_directory.h"
#include "workloads/append/append.h"

namespace pgchaos::append {
namespace {

class AppendWorkloadTest : public ::testing::Test {
 protected:

  struct Outcome {
    backend::WorkloadStats stats;
    checker::CheckResult check;
    std::int64_t run_id = 0;
    std::filesystem::path history;
  };

  backend::WorkloadConfig config(std::int64_t operations) const {
    backend::WorkloadConfig c;
    c.dsns = {server_.dsn()};
    c.operations = operations;
    c.threads = 8;
    c.seed = 99;
    c.conn_exception_sleep = std::chrono::milliseconds(200);
    return c;
  }

  Outcome run(const std::string& isolation, std::int64_t operations) {
    const auto c = config(operations);
    AppendOptions options{.isolation = isolation, .active_keys = 4, .appends_per_key = 100};
    Outcome o;
    o.run_id = backend::prepare_schema(c, AppendWorkload(options, c.seed));
    o.history = dir_.path() / ("history-" + std::to_string(o.run_id) + ".jsonl");
    {
      history::HistoryWriter writer(o.history);
      history::Event started;
      started.type = history::EventType::run_started;
      started.run_id = o.run_id;
      writer.append(started);
      o.stats = backend::run_workload(c, AppendWorkload(options, c.seed), o.run_id, writer, stop_);
    }
    o.check = check(o, isolation);
    return o;
  }

  checker::CheckResult check(const Outcome& o, const std::string& isolation) const {
    checker::CheckOptions options;
    options.commit.mode = common::CommitMode::single;
    AppendOptions reader{.isolation = isolation, .state_run = o.run_id};
    const auto snapshots = backend::take_snapshots({server_.dsn()}, {}, std::chrono::seconds(10), AppendWorkload(reader, 99));
    const AppendInvariants invariants(load_transactions(o.history), isolation);
    return checker::check(history::load_run_history(o.history), snapshots, options, invariants);
  }

  static std::int64_t count(const checker::IsolationCheck& c, const std::string& kind) {
    for (const auto& [k, n] : c.anomaly_counts)
      if (k == kind) return n;
    return 0;
  }

  testing::PostgresServer server_;
  common::StopSource stop_;
  testing::TempDirectory dir_{"pgchaos-append"};
};

TEST_F(AppendWorkloadTest, SerializableComesOutCleanUnderContention) {
  const auto o = run("serializable", 3000);
  ASSERT_FALSE(o.stats.fatal_error.has_value()) << *o.stats.fatal_error;
  EXPECT_EQ(o.stats.ok, 3000);
  EXPECT_GT(o.stats.errors[static_cast<std::size_t>(backend::ErrorKind::serialization)], 0)
      << "contention made PostgreSQL refuse some transactions";
  const auto& c = o.check.isolation;
  ASSERT_TRUE(c.checked);
  EXPECT_EQ(o.check.verdict, checker::Verdict::valid) << o.check.headline;
  EXPECT_TRUE(c.anomaly_counts.empty()) << c.anomalies.front().kind << ": " << c.anomalies.front().explanation;
  EXPECT_EQ(c.strongest_level, "serializable");
  EXPECT_EQ(c.transactions, 3000);
  EXPECT_GT(c.reads, 1000);
  EXPECT_GT(c.appends, 1000);
  EXPECT_GT(c.edges, 3000) << "the dependencies were inferred from the lists read";
  EXPECT_TRUE(c.lost_appends.empty());
  EXPECT_TRUE(c.phantom_appends.empty());
}

TEST_F(AppendWorkloadTest, RepeatableReadShowsWriteSkewAtMost) {
  const auto o = run("repeatable-read", 3000);
  ASSERT_FALSE(o.stats.fatal_error.has_value()) << *o.stats.fatal_error;
  const auto& c = o.check.isolation;
  EXPECT_EQ(o.check.verdict, checker::Verdict::valid) << o.check.headline;
  EXPECT_EQ(c.forbidden(), 0);
  for (const char* kind : {"G0", "G1a", "G1b", "G1c", "G-single", "incompatible-order", "duplicate-elements"})
    EXPECT_EQ(count(c, kind), 0) << kind;
  EXPECT_TRUE(c.strongest_level == "repeatable-read" || c.strongest_level == "serializable") << c.strongest_level;
}

TEST_F(AppendWorkloadTest, ReadCommittedShowsTheAnomaliesItAllowsAndNoneItForbids) {
  const auto o = run("read-committed", 3000);
  ASSERT_FALSE(o.stats.fatal_error.has_value()) << *o.stats.fatal_error;
  const auto& c = o.check.isolation;
  EXPECT_EQ(o.check.verdict, checker::Verdict::valid) << o.check.headline;
  EXPECT_GT(count(c, "G-single") + count(c, "G2-item"), 0) << "read committed under contention shows read skew or write skew";
  EXPECT_EQ(c.strongest_level, "read-committed");
  for (const char* kind : {"G0", "G1a", "G1b", "G1c", "incompatible-order", "duplicate-elements"}) EXPECT_EQ(count(c, kind), 0) << kind;
  // The same history judged as if serializable had been asked for fails, naming what it forbids.
  const AppendInvariants strict(load_transactions(o.history), "serializable");
  checker::CheckOptions options;
  options.commit.mode = common::CommitMode::single;
  AppendOptions reader{.state_run = o.run_id};
  const auto judged = checker::check(history::load_run_history(o.history),
                                     backend::take_snapshots({server_.dsn()}, {}, std::chrono::seconds(10), AppendWorkload(reader, 99)),
                                     options, strict);
  EXPECT_EQ(judged.verdict, checker::Verdict::invalid);
  EXPECT_NE(judged.headline.find("isolation anomalies serializable forbids"), std::string::npos) << judged.headline;
}

TEST_F(AppendWorkloadTest, AnElementTakenFromTheFinalListIsALostAppendNoLostCommitExplains) {
  const auto o = run("serializable", 500);
  ASSERT_EQ(o.check.verdict, checker::Verdict::valid) << o.check.headline;
  // Behind pgchaos's back: the last element of one list goes, its transaction's record row stays.
  server_.psql("UPDATE pgchaos.append_lists SET elements = elements[1:cardinality(elements) - 1] WHERE run_id = " +
               std::to_string(o.run_id) + " AND key = (SELECT min(key) FROM pgchaos.append_lists WHERE run_id = " +
               std::to_string(o.run_id) + " AND cardinality(elements) > 1)");
  const auto tampered = check(o, "serializable");
  EXPECT_EQ(tampered.verdict, checker::Verdict::invalid);
  ASSERT_EQ(tampered.isolation.lost_appends.size(), 1u);
  EXPECT_EQ(tampered.isolation.lost_appends[0].cause, "unexplained");
  // Among the reasons (the headline names the first: when the element's transaction also appended to another key
  // whose list kept it, the final state read half of it, a G-single, which comes first).
  EXPECT_TRUE(std::any_of(tampered.reasons.begin(), tampered.reasons.end(),
                          [](const std::string& r) { return r.find("missing from the primary's list") != std::string::npos; }))
      << tampered.headline;
}

}  // namespace
}  // namespace pgchaos::append
