// The engine against a real PostgreSQL 15 (label: integration): many runs in one process leave nothing behind.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "engine/engine.h"
#include "engine/soak.h"
#include "reports/soak_report.h"
#include "tests/support/postgres_server.h"
#include "tests/support/temp_directory.h"
#include "tests/support/test_authority.h"
#include "tests/support/pgbouncer.h"
#include "history/run_history.h"
#include "common/files.h"

namespace pgchaos::engine {
namespace {

std::size_t entries_in(const char* directory) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(directory)) ++n;
  return n;
}
std::size_t threads_now() { return entries_in("/proc/self/task"); }
std::size_t fds_now() { return entries_in("/proc/self/fd"); }

// A run of the bank through `dsn`: the settings every test here starts from.
RunRequest bank_run(const std::string& dsn, std::int64_t operations, int threads, std::uint64_t seed) {
  RunRequest r;
  r.workload.dsns = {dsn};
  r.workload.operations = operations;
  r.workload.threads = threads;
  r.workload.seed = seed;
  r.workload.conn_exception_sleep = std::chrono::milliseconds(200);
  return r;
}

class EngineTest : public ::testing::Test {
 protected:
  RunRequest request(std::int64_t operations) const { return bank_run(server_.dsn(), operations, 4, 77); }
  testing::PostgresServer server_;
  testing::TempDirectory dir_{"pgchaos-engine"};
  std::vector<std::string> lines_;
  Say say_ = [this](const std::string& line) { lines_.push_back(line); };
};

TEST_F(EngineTest, ThreeRunsInARowLeaveThreadsAndFilesAsTheyWere) {
  {  // a first run warms up what lives for the whole process (libpq's and spdlog's one-time state)
    auto directory = history::RunDirectory::for_new_run(dir_ / "warm-up");
    common::StopSource stop;
    auto first = request(200);
    first.workload.reset = true;
    ASSERT_EQ(run(first, directory, stop, say_).exit_code, ExitCode::valid);
  }
  const auto threads = threads_now(), fds = fds_now();
  for (int i = 1; i <= 3; ++i) {
    auto directory = history::RunDirectory::for_new_run(dir_ / ("run-" + std::to_string(i)));
    common::StopSource stop;
    const auto outcome = run(request(500), directory, stop, say_);
    EXPECT_EQ(outcome.exit_code, ExitCode::valid) << outcome.result.headline;
    EXPECT_EQ(outcome.stop_reason, common::StopReason::operations_done);
    EXPECT_EQ(outcome.result.acknowledged, 500);
    EXPECT_TRUE(outcome.result.lost.empty());
    EXPECT_TRUE(std::filesystem::exists(directory.report_json()));
    EXPECT_GT(std::filesystem::file_size(directory.log()), 0u) << "the log says what happened";
  }
  EXPECT_EQ(threads_now(), threads) << "a run leaked threads";
  EXPECT_EQ(fds_now(), fds) << "a run leaked file descriptors or connections";
  const auto sessions = server_.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'pgchaos%'");
  EXPECT_EQ(std::stoi(sessions), 0) << "a run left database sessions open";
}

TEST_F(EngineTest, DurationIsAStopLikeAnyOther) {
  auto directory = history::RunDirectory::for_new_run(dir_ / "timed");
  common::StopSource stop;
  auto r = request(1'000'000'000);
  r.workload.reset = true;
  r.duration = std::chrono::milliseconds(1500);
  const auto started = std::chrono::steady_clock::now();
  const auto outcome = run(r, directory, stop, say_);
  EXPECT_EQ(outcome.stop_reason, common::StopReason::duration);
  EXPECT_EQ(outcome.exit_code, ExitCode::valid) << outcome.result.headline;
  EXPECT_GT(outcome.result.acknowledged, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(60)) << "the run must end by itself";
  const auto log = common::read_text_file(directory.log());
  EXPECT_NE(log.find("starts"), std::string::npos) << log;
  EXPECT_NE(log.find("ended"), std::string::npos) << log;
}

TEST_F(EngineTest, ARefusedConnectionCreatesNoRunDirectory) {
  auto directory = history::RunDirectory::for_new_run(dir_ / "refused");
  common::StopSource stop;
  auto r = request(10);
  r.workload.dsns = {"host=127.0.0.1 port=1 connect_timeout=2"};
  EXPECT_THROW(run(r, directory, stop, say_), backend::BackendError);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "refused")) << "nothing but an error is left";
}

// A server that takes TLS only, reached as an operator's DSN would: sslmode=verify-full against the cluster's CA.
// The workload, the write probe, the watcher's SQL and the snapshots all connect (libpq does the TLS); a CA that
// did not sign the server's certificate is refused before anything is created.
TEST(EngineOverTls, AWholeRunGoesOverVerifiedTls) {
  const testing::TempDirectory dir("pgchaos-tls");
  const testing::TestAuthority authority(dir.path());
  const testing::PostgresServer server(authority.server("postgres"));
  const std::string verified = " sslmode=verify-full sslrootcert=" + authority.ca_certificate().string();
  RunRequest r = bank_run(server.dsn() + verified, 300, 4, 7);
  r.workload.reset = true;
  r.nodes = {{"solo", "127.0.0.1", server.port(), ""}};  // the watcher's SQL and the snapshot of the node
  r.watch_interval = std::chrono::milliseconds(50);
  common::StopSource stop;
  auto directory = history::RunDirectory::for_new_run(dir / "run");
  const auto outcome = run(r, directory, stop, Say([](const std::string&) {}));
  EXPECT_EQ(outcome.exit_code, ExitCode::valid) << outcome.result.headline;
  EXPECT_EQ(outcome.result.acknowledged, 300);
  EXPECT_TRUE(outcome.result.checked) << "the primary's snapshot was read over TLS";
  const auto history = history::load_run_history(directory.history());
  EXPECT_FALSE(history.probes.empty()) << "the probe wrote over TLS";
  EXPECT_FALSE(history.observations.empty()) << "the watcher read the node over TLS";
  for (const auto& o : history.observations) {
    EXPECT_EQ(o.pg_role, "primary") << o.error;
    EXPECT_EQ(o.error, "");
  }
  // Without TLS the server refuses (hostssl only): what passed above went over TLS.
  EXPECT_THROW(testing::run_shell("psql -X -c 'SELECT 1' " + testing::shell_quote(server.dsn() + " sslmode=disable")),
               std::runtime_error);

  const testing::TestAuthority stranger(dir / "stranger", "another CA");
  r.workload.dsns = {server.dsn() + " sslmode=verify-full sslrootcert=" + stranger.ca_certificate().string()};
  auto refused = history::RunDirectory::for_new_run(dir / "refused");
  try {
    run(r, refused, stop, Say([](const std::string&) {}));
    ADD_FAILURE() << "a server certificate from another CA was accepted";
  } catch (const backend::BackendError& error) {
    EXPECT_NE(std::string(error.what()).find("certificate verify failed"), std::string::npos) << error.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "refused"));
}

// Through pgbouncer 1.18 in transaction pooling (fewer server connections than workers, so a client's
// transactions land on different ones): without prepared statements the bank runs exactly, batched and
// statement by statement; and when pgbouncer itself dies mid-run (SIGKILL, again and again), every attempt it cut
// off is classified exactly: nothing lost, nothing phantom, every in-doubt one resolved from the ledger.
class EngineThroughPgBouncer : public ::testing::Test {
 protected:
  RunRequest request(std::int64_t operations) const {
    RunRequest r = bank_run(bouncer_.dsn(), operations, 6, 5);
    r.workload.reset = true;
    r.workload.conn_exception_sleep = std::chrono::milliseconds(100);
    r.bank.prepared_statements = false;
    r.probe_interval = std::chrono::milliseconds(0);
    return r;
  }
  testing::PostgresServer server_;
  testing::PgBouncer bouncer_{server_};
  testing::TempDirectory dir_{"pgchaos-pgbouncer"};
};

TEST_F(EngineThroughPgBouncer, WithoutPreparedStatementsEveryTransferIsExact) {
  for (const bool statement_by_statement : {false, true}) {
    auto r = request(600);
    r.bank.statement_by_statement = statement_by_statement;
    auto directory = history::RunDirectory::for_new_run(dir_ / (statement_by_statement ? "statements" : "batch"));
    common::StopSource stop;  // each run's own: the first one's end stops it
    const auto outcome = run(r, directory, stop, Say([](const std::string&) {}));
    EXPECT_EQ(outcome.exit_code, ExitCode::valid) << outcome.result.headline;
    EXPECT_EQ(outcome.result.acknowledged, 600) << "statement by statement: " << statement_by_statement;
    EXPECT_TRUE(outcome.result.lost.empty());
  }
}

// With prepared statements (the default) the same run cannot work: it ends at once, saying what to do.
TEST_F(EngineThroughPgBouncer, PreparedStatementsThroughAPoolerEndTheRunWithTheFlagToUse) {
  auto r = request(2000);
  r.bank.prepared_statements = true;
  auto directory = history::RunDirectory::for_new_run(dir_ / "prepared");
  common::StopSource stop;
  std::vector<std::string> lines;
  std::string error;
  try {
    const auto outcome = run(r, directory, stop, Say([&](const std::string& line) { lines.push_back(line); }));
    error = outcome.result.headline;
    for (const auto& reason : outcome.result.reasons) error += " | " + reason;
    EXPECT_EQ(outcome.exit_code, ExitCode::unknown_or_error) << error;
  } catch (const std::exception& e) {
    error = e.what();
  }
  for (const auto& line : lines) error += " | " + line;
  EXPECT_NE(error.find("--no-prepared-statements"), std::string::npos) << error;
}

TEST_F(EngineThroughPgBouncer, WhenPgBouncerDropsTheConnectionsInDoubtAttemptsAreResolvedExactly) {
  auto directory = history::RunDirectory::for_new_run(dir_ / "killed");
  std::atomic<bool> done = false;
  std::thread killer([&] {
    for (int i = 0; i < 5 && !done; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(400));
      bouncer_.kill();
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      bouncer_.start();
    }
  });
  RunOutcome outcome;
  try {
    common::StopSource stop;
    outcome = run(request(4000), directory, stop, Say([](const std::string&) {}));
  } catch (...) {
    done = true;
    killer.join();
    throw;
  }
  done = true;
  killer.join();
  EXPECT_EQ(outcome.exit_code, ExitCode::valid) << outcome.result.headline;
  EXPECT_TRUE(outcome.result.lost.empty());
  EXPECT_TRUE(outcome.result.phantom.empty());
  EXPECT_TRUE(outcome.result.checked);
  EXPECT_EQ(outcome.result.pending_attempts, 0);
  EXPECT_GT(outcome.result.failed_attempts + outcome.result.unknown_attempts, 0) << "pgbouncer's deaths cut attempts off";
  // Every op ended acknowledged, or in doubt and then found in the ledger or not: none is left open.
  EXPECT_EQ(outcome.result.acknowledged + static_cast<std::int64_t>(outcome.result.unknown_committed.size()),
            outcome.result.committed_this_run);
}

}  // namespace
}  // namespace pgchaos::engine


namespace pgchaos::engine {
namespace {

// Soaks without a cluster: epochs of the workload alone against the test's server (the lab test soaks with faults).
class SoakTest : public EngineTest {
 protected:
  SoakRequest soak_request(std::chrono::milliseconds duration, std::chrono::milliseconds epoch) const {
    SoakRequest r;
    r.base = request(1'000'000'000);
    r.scenarios = {scenarios::parse_scenario(R"({"steps": [{"fault": "crash"}]})", "unused.json")};
    r.scenarios[0].name = "workload-only";
    r.duration = duration;
    r.epoch = epoch;
    r.seed = 99;
    r.replay_command = {"pgchaos", "scenario", "--replay"};
    return r;
  }
};

TEST_F(SoakTest, EpochsRunBackToBackEachCheckedWithItsOwnSeedAndOnlyTheirReportsKept) {
  common::StopSource stop;
  std::vector<std::string> progress;
  auto r = soak_request(std::chrono::seconds(7), std::chrono::seconds(2));
  r.progress = [&progress](const std::string& line) { progress.push_back(line); };
  const auto outcome = soak(r, dir_ / "soak", stop, say_);
  EXPECT_EQ(outcome.exit_code, ExitCode::valid);
  const auto& report = outcome.report;
  EXPECT_EQ(report.status, reports::SoakStatus::completed);
  ASSERT_GE(report.epochs.size(), 2u);
  for (std::size_t i = 0; i < report.epochs.size(); ++i) {
    const auto& e = report.epochs[i];
    EXPECT_EQ(e.verdict, checker::Verdict::valid) << e.headline;
    EXPECT_EQ(e.seed, epoch_seed(99, static_cast<int>(i) + 1));
    EXPECT_GT(e.operations, 0);
    EXPECT_GT(e.rss_bytes, 0);
    EXPECT_EQ(e.kept, "report");
    EXPECT_EQ(e.lost_by_cause.size(), std::size(checker::kLossCauses)) << "every cause, 0 included";
    const auto epoch_dir = dir_ / "soak" / e.directory;
    EXPECT_TRUE(std::filesystem::exists(epoch_dir / "report.html"));
    EXPECT_TRUE(std::filesystem::exists(epoch_dir / "run.json")) << "what a replay needs stays";
    EXPECT_FALSE(std::filesystem::exists(epoch_dir / "history.jsonl.zst")) << "a valid epoch's history is dropped";
    EXPECT_FALSE(std::filesystem::exists(epoch_dir / "history.jsonl"));
    EXPECT_NE(e.replay.find(epoch_dir.string()), std::string::npos) << e.replay;
  }
  EXPECT_NE(report.epochs[0].seed, report.epochs[1].seed);
  const auto written = reports::parse_soak_json(testing::slurp(dir_ / "soak" / "soak.json"), "soak.json");
  EXPECT_EQ(written.epochs.size(), report.epochs.size());
  EXPECT_TRUE(std::filesystem::exists(dir_ / "soak" / "soak.html"));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "soak" / "junit.xml"));
  // pgchaos's own tables hold one epoch at most: they do not grow over a night.
  EXPECT_EQ(std::stoi(server_.psql("SELECT count(DISTINCT run_id) FROM pgchaos.ledger")), 1);
  ASSERT_FALSE(progress.empty());
  EXPECT_NE(progress.back().find("soak: epoch"), std::string::npos) << progress.back();
  EXPECT_NE(progress.back().find("ops"), std::string::npos);
  EXPECT_THROW(soak(r, dir_ / "soak", stop, say_), common::FileError) << "a soak directory is never reused";
}

TEST_F(SoakTest, CtrlCChecksTheCurrentEpochAndWritesTheSoakReport) {
  common::StopSource stop;
  auto r = soak_request(std::chrono::minutes(10), std::chrono::minutes(5));
  r.keep = Keep::all;
  std::thread ctrl_c([&stop] {
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    stop.request(common::StopReason::interrupted);
  });
  const auto outcome = soak(r, dir_ / "interrupted", stop, say_);
  ctrl_c.join();
  EXPECT_EQ(outcome.exit_code, ExitCode::interrupted);
  EXPECT_EQ(outcome.report.status, reports::SoakStatus::interrupted);
  ASSERT_EQ(outcome.report.epochs.size(), 1u);
  EXPECT_EQ(outcome.report.epochs[0].verdict, checker::Verdict::valid) << "the interrupted epoch is still checked";
  EXPECT_GT(outcome.report.epochs[0].operations, 0);
  EXPECT_TRUE(std::filesystem::exists(dir_ / "interrupted" / "epoch-0001" / "history.jsonl.zst")) << "--keep all";
  const auto written = reports::parse_soak_json(testing::slurp(dir_ / "interrupted" / "soak.json"), "soak.json");
  EXPECT_EQ(written.status, reports::SoakStatus::interrupted);
}

TEST(SoakSeeds, EpochSeedsAndScenariosComeFromTheSoaksSeed) {
  EXPECT_EQ(epoch_seed(5, 3), epoch_seed(5, 3));
  EXPECT_NE(epoch_seed(5, 3), epoch_seed(5, 4));
  EXPECT_NE(epoch_seed(5, 3), epoch_seed(6, 3));
  EXPECT_LE(epoch_seed(5, 3), static_cast<std::uint64_t>(INT64_MAX)) << "stored as a bigint";
  std::vector<int> drawn(4, 0);
  for (int k = 1; k <= 400; ++k) ++drawn[epoch_scenario(5, k, 4)];
  for (const int n : drawn) EXPECT_GT(n, 50) << "every scenario gets its share";
}

}  // namespace
}  // namespace pgchaos::engine
