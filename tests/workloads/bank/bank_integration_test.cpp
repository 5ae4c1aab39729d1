// The bank workload through the backend's attempt loop, against a real PostgreSQL 15 started by the test
// (label: integration).
#include <gtest/gtest.h>

#include <thread>

#include "backend/cluster_reader.h"
#include "backend/workload.h"
#include "checker/checker.h"
#include "tests/support/postgres_server.h"
#include "tests/support/temp_directory.h"
#include "workloads/bank/bank.h"

namespace pgchaos::backend {
namespace {

using history::EventType;

// What a bank run needs: the workers' settings and the bank's own.
struct BankRun : WorkloadConfig {
  bank::BankOptions bank;
};

std::int64_t prepare(const BankRun& c) { return prepare_schema(c, bank::BankWorkload(c.bank, c.seed)); }

class WorkloadTest : public ::testing::Test {
 protected:
  BankRun config(std::int64_t operations, int threads, int accounts) const {
    BankRun c;
    c.dsns = {server_.dsn()};
    c.operations = operations;
    c.threads = threads;
    c.bank.accounts = accounts;
    c.seed = 1234;
    c.reset = true;
    c.conn_exception_sleep = std::chrono::milliseconds(200);
    return c;
  }

  struct Outcome {
    WorkloadStats stats;
    history::HistoryFile history;
    checker::CheckResult check;
  };

  Outcome run(const BankRun& c) {
    const std::int64_t run_id = prepare(c);
    const auto path = dir_ / ("history-" + std::to_string(run_id) + ".jsonl");
    Outcome o;
    {
      history::HistoryWriter writer(path);
      history::Event started;  // the checker takes the run id from here, as from pgchaos run's history
      started.type = history::EventType::run_started;
      started.run_id = run_id;
      writer.append(started);
      o.stats = run_workload(c, bank::BankWorkload(c.bank, c.seed), run_id, writer, stop_);
    }
    o.history = history::read_history(path);
    checker::CheckOptions options;
    options.commit.mode = common::CommitMode::single;  // one server: any lost acknowledged commit is invalid
    const bank::BankWorkload workload(c.bank, c.seed);
    o.check = checker::check(history::load_run_history(path),
                             take_snapshots(c.dsns, {}, std::chrono::seconds(10), workload), options, bank::invariants());
    return o;
  }

  static std::int64_t count(const history::HistoryFile& h, EventType type) {
    return std::count_if(h.events.begin(), h.events.end(), [type](const auto& e) { return e.type == type; });
  }

  // Every invoke has exactly one completion, and no completion comes without an invoke.
  static void expect_one_completion_per_invoke(const history::HistoryFile& h) {
    std::map<std::pair<std::int64_t, int>, int> open;
    for (const auto& e : h.events) {
      const auto key = std::make_pair(e.op, e.attempt);
      if (e.type == EventType::invoke) {
        EXPECT_EQ(open[key]++, 0) << "op " << e.op << " invoked twice";
      }
      if (e.type == EventType::ok || e.type == EventType::fail || e.type == EventType::unknown) {
        EXPECT_EQ(open[key]--, 1) << "op " << e.op << " attempt " << e.attempt;
      }
    }
    for (const auto& [key, n] : open) EXPECT_EQ(n, 0) << "op " << key.first << " attempt " << key.second;
  }

  // Waits until the workers are connected (the fault must hit a running workload, not its set-up).
  void wait_for_sessions(const std::string& application_name, const std::atomic<bool>& done) const {
    while (!done && std::stoi(server_.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = '" +
                                           application_name + "'")) == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  testing::PostgresServer server_;
  common::StopSource stop_;
  testing::TempDirectory dir_{"pgchaos-run"};
};

// The outcome classification must hold whichever way the transaction is sent: pg_cluster_backend's statement by statement,
// or (without think time, the default) BEGIN through the ledger row as one batch and COMMIT alone. The tests that
// cut, deadlock, restart and hold the workload run in both.
class WorkloadModeTest : public WorkloadTest, public ::testing::WithParamInterface<bool> {
 protected:
  BankRun config(std::int64_t operations, int threads, int accounts) const {
    BankRun c = WorkloadTest::config(operations, threads, accounts);
    c.bank.statement_by_statement = GetParam();
    return c;
  }
};
INSTANTIATE_TEST_SUITE_P(RoundTrips, WorkloadModeTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& mode) {
                           return mode.param ? "StatementByStatement" : "Batched";
                         });

TEST_P(WorkloadModeTest, TenThousandOperationsAllCommitAndCheck) {
  const Outcome o = run(config(10000, 10, 100));
  EXPECT_FALSE(o.stats.fatal_error.has_value()) << *o.stats.fatal_error;
  EXPECT_EQ(o.stats.ok, 10000);
  EXPECT_EQ(o.check.acknowledged, 10000);
  EXPECT_EQ(o.check.committed_this_run, 10000);
  EXPECT_TRUE(o.check.lost.empty());
  EXPECT_TRUE(o.check.phantom.empty());
  EXPECT_EQ(o.check.balance_drift_cents, 0);
  EXPECT_EQ(o.check.original_formula_cents, 0);
  EXPECT_TRUE((o.check.verdict == checker::Verdict::valid));
  EXPECT_EQ(count(o.history, EventType::ok), 10000);
  expect_one_completion_per_invoke(o.history);
  EXPECT_GT(o.stats.p99_ms, 0.0);
}

TEST_P(WorkloadModeTest, AStopEndsCommitsHeldForASynchronousStandbyThatNeverComes) {
  const auto c = config(1000000, 4, 100);
  const std::int64_t run_id = prepare(c);
  // From here every COMMIT waits for a standby that does not exist, as under sync-strict with none left.
  server_.psql("ALTER SYSTEM SET synchronous_standby_names = 'nobody'");
  server_.psql("SELECT pg_reload_conf()");
  const auto path = dir_ / "history.jsonl";
  stop_.set_deadline(std::chrono::steady_clock::now() + std::chrono::seconds(2));
  const auto started = std::chrono::steady_clock::now();
  WorkloadStats stats;
  {
    history::HistoryWriter writer(path);
    stats = run_workload(c, bank::BankWorkload(c.bank, c.seed), run_id, writer, stop_);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(60)) << "it waited for ever before";
  server_.psql("ALTER SYSTEM RESET synchronous_standby_names");
  server_.psql("SELECT pg_reload_conf()");
  EXPECT_FALSE(stats.fatal_error.has_value());
  // Each worker's held COMMIT came back committed locally with PostgreSQL's warning: acknowledged, the cancelled
  // sync wait the checker knows.
  EXPECT_EQ(stats.ok, 4) << "one held COMMIT per worker, each cancelled";
  const auto h = history::read_history(path);
  std::int64_t warned = 0;
  for (const auto& e : h.events)
    if (e.type == EventType::ok && e.warning.find("canceling wait for synchronous replication") != std::string::npos) ++warned;
  EXPECT_EQ(warned, stats.ok);
  expect_one_completion_per_invoke(h);
  EXPECT_EQ(server_.psql("SELECT count(*) FROM pgchaos.ledger WHERE run_id = " + std::to_string(run_id)), "4\n")
      << "committed locally, as the warning says";
}

TEST_P(WorkloadModeTest, FewAccountsMakeDeadlocksAndTheCheckStillHolds) {
  const Outcome o = run(config(1000, 10, 10));
  EXPECT_GT(o.stats.errors[static_cast<std::size_t>(ErrorKind::deadlock)], 0);
  const auto deadlocks = std::count_if(o.history.events.begin(), o.history.events.end(),
                                       [](const auto& e) { return e.sqlstate == "40P01"; });
  EXPECT_GT(deadlocks, 0) << "deadlocks must be in the history with their SQLSTATE";
  EXPECT_EQ(o.stats.ok, 1000);
  EXPECT_TRUE((o.check.verdict == checker::Verdict::valid));
  EXPECT_EQ(o.check.original_formula_cents, 0);
  expect_one_completion_per_invoke(o.history);
}

TEST_P(WorkloadModeTest, TerminatedBackendsAreSurvived) {
  // Enough operations that the run outlasts five rounds of terminations (20,000 were done in under 2 s here).
  BankRun c = config(50000, 8, 100);
  c.application_name = "pgchaos-terminate-test";
  std::atomic<bool> done{false};
  std::atomic<int> terminated{0}, rounds{0};
  std::thread killer([&] {
    for (; rounds < 5 && !done; ++rounds) {
      wait_for_sessions(c.application_name, done);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      terminated += std::stoi(server_.psql(
          "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
          "WHERE application_name = 'pgchaos-terminate-test'"));
    }
  });
  const Outcome o = run(c);
  done = true;
  killer.join();
  EXPECT_EQ(rounds.load(), 5) << "the run ended before the test could terminate its sessions 5 times";
  EXPECT_GT(terminated.load(), 0) << "the test must really have terminated sessions";
  EXPECT_GT(o.stats.reconnects, 0);
  // An attempt cut during COMMIT ends unknown and, once resolved as committed, is not retried: every operation
  // is in the ledger exactly once, acknowledged or resolved.
  EXPECT_EQ(o.check.committed_this_run, 50000);
  EXPECT_EQ(o.stats.ok + o.stats.resolved_committed, 50000);
  EXPECT_TRUE(o.check.lost.empty());
  EXPECT_TRUE(o.check.phantom.empty());
  EXPECT_TRUE((o.check.verdict == checker::Verdict::valid));
  expect_one_completion_per_invoke(o.history);
}

TEST_P(WorkloadModeTest, FastRestartMidRunResolvesUnknownOutcomes) {
  BankRun c = config(15000, 10, 100);
  c.application_name = "pgchaos-restart-test";
  std::atomic<bool> done{false};
  std::thread restarter([&] {
    wait_for_sessions(c.application_name, done);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    server_.restart_fast();
  });
  const Outcome o = run(c);
  done = true;
  restarter.join();
  EXPECT_GT(o.stats.reconnects, 0) << "the restart must have cut the workers' connections";
  EXPECT_EQ(o.check.committed_this_run, 15000);
  EXPECT_EQ(o.stats.ok + o.stats.resolved_committed, 15000);
  EXPECT_TRUE((o.check.verdict == checker::Verdict::valid));
  // Every in-doubt attempt was resolved by the workload itself, and its verdict agrees with the database.
  std::map<std::pair<std::int64_t, int>, bool> resolved;
  for (const auto& e : o.history.events)
    if (e.type == EventType::resolve && e.attempt > 0) resolved[{e.op, e.attempt}] = e.committed;
  for (const auto& e : o.history.events) {
    if (e.type == EventType::unknown) {
      EXPECT_TRUE(resolved.count({e.op, e.attempt})) << "op " << e.op;
    }
  }
  for (const auto op : o.check.unknown_committed) {
    bool any = false;
    for (const auto& [key, committed] : resolved) any |= key.first == op && committed;
    EXPECT_TRUE(any) << "op " << op;
  }
  expect_one_completion_per_invoke(o.history);
}

TEST_F(WorkloadTest, ReplaysTheSameTransfersFromTheSameSeed) {
  auto transfers = [&] {
    const Outcome o = run(config(200, 4, 50));
    std::map<std::int64_t, std::tuple<int, int, std::int64_t>> by_op;
    for (const auto& e : o.history.events)
      if (e.type == EventType::invoke) by_op[e.op] = {e.from_account, e.to_account, e.amount_cents};
    return by_op;
  };
  const auto first = transfers();
  EXPECT_EQ(first.size(), 200u);
  EXPECT_EQ(first, transfers());
}

TEST_F(WorkloadTest, RefusesASchemaItDidNotCreate) {
  server_.psql("CREATE SCHEMA pgchaos; CREATE TABLE pgchaos.accounts (id int)");
  try {
    prepare(config(10, 1, 10));
    FAIL() << "a foreign schema named pgchaos must be refused";
  } catch (const BackendError& error) {
    EXPECT_NE(std::string(error.what()).find("not created by pgchaos"), std::string::npos) << error.what();
  }
  EXPECT_EQ(server_.psql("SELECT count(*) FROM pgchaos.accounts"), "0\n") << "and left alone";
}

TEST_F(WorkloadTest, RefusesForeignObjectsInItsSchemaAndTouchesNothingOutside) {
  server_.psql("CREATE TABLE public.accounts (id int); INSERT INTO public.accounts VALUES (1)");
  run(config(10, 1, 10));
  server_.psql("CREATE TABLE pgchaos.intruder (x int)");
  try {
    prepare(config(10, 1, 10));
    FAIL() << "an object pgchaos did not create must be refused";
  } catch (const BackendError& error) {
    EXPECT_NE(std::string(error.what()).find("intruder"), std::string::npos) << error.what();
  }
  EXPECT_EQ(server_.psql("SELECT count(*) FROM pgchaos.intruder"), "0\n");
  EXPECT_EQ(server_.psql("SELECT count(*) FROM public.accounts"), "1\n");
}

TEST_F(WorkloadTest, KeepsEarlierRunsWithoutResetAndRefusesAnotherAccountCount) {
  BankRun c = config(100, 2, 20);
  run(c);
  c.reset = false;
  const Outcome second = run(c);
  EXPECT_TRUE((second.check.verdict == checker::Verdict::valid));
  EXPECT_EQ(second.check.ledger_rows, 200);
  c.bank.accounts = 30;
  EXPECT_THROW(prepare(c), BackendError);
}

}  // namespace
}  // namespace pgchaos::backend
