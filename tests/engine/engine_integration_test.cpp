// The engine against a real PostgreSQL 15 (label: integration): many runs in one process leave nothing behind.
#include <gtest/gtest.h>

#include <filesystem>

#include "engine/engine.h"
#include "tests/support/postgres_server.h"
#include "tests/support/temp_directory.h"

namespace pgchaos::engine {
namespace {

std::size_t entries_in(const char* directory) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(directory)) ++n;
  return n;
}
std::size_t threads_now() { return entries_in("/proc/self/task"); }
std::size_t fds_now() { return entries_in("/proc/self/fd"); }

class EngineTest : public ::testing::Test {
 protected:
  RunRequest request(std::int64_t operations) const {
    RunRequest r;
    r.workload.dsns = {server_.dsn()};
    r.workload.operations = operations;
    r.workload.threads = 4;
    r.workload.seed = 77;
    r.workload.conn_exception_sleep = std::chrono::milliseconds(200);
    return r;
  }
  testing::PostgresServer server_;
  testing::TempDirectory dir_{"pgchaos-engine"};
  std::vector<std::string> lines_;
  Say say_ = [this](const std::string& line) { lines_.push_back(line); };
};

TEST_F(EngineTest, ThreeRunsInARowLeaveThreadsAndFilesAsTheyWere) {
  {  // a first run warms up what lives for the whole process (libpq's and spdlog's one-time state)
    auto directory = history::RunDirectory::for_new_run(dir_ / "warm-up");
    history::StopSource stop;
    auto first = request(200);
    first.workload.reset = true;
    ASSERT_EQ(run(first, directory, stop, say_).exit_code, ExitCode::valid);
  }
  const auto threads = threads_now(), fds = fds_now();
  for (int i = 1; i <= 3; ++i) {
    auto directory = history::RunDirectory::for_new_run(dir_ / ("run-" + std::to_string(i)));
    history::StopSource stop;
    const auto outcome = run(request(500), directory, stop, say_);
    EXPECT_EQ(outcome.exit_code, ExitCode::valid) << outcome.result.headline;
    EXPECT_EQ(outcome.stop_reason, history::StopReason::operations_done);
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
  history::StopSource stop;
  auto r = request(1'000'000'000);
  r.workload.reset = true;
  r.duration = std::chrono::milliseconds(1500);
  const auto started = std::chrono::steady_clock::now();
  const auto outcome = run(r, directory, stop, say_);
  EXPECT_EQ(outcome.stop_reason, history::StopReason::duration);
  EXPECT_EQ(outcome.exit_code, ExitCode::valid) << outcome.result.headline;
  EXPECT_GT(outcome.result.acknowledged, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(60)) << "the run must end by itself";
  const auto log = history::read_text_file(directory.log());
  EXPECT_NE(log.find("starts"), std::string::npos) << log;
  EXPECT_NE(log.find("ended"), std::string::npos) << log;
}

TEST_F(EngineTest, ARefusedConnectionCreatesNoRunDirectory) {
  auto directory = history::RunDirectory::for_new_run(dir_ / "refused");
  history::StopSource stop;
  auto r = request(10);
  r.workload.dsns = {"host=127.0.0.1 port=1 connect_timeout=2"};
  EXPECT_THROW(run(r, directory, stop, say_), backend::BackendError);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "refused")) << "nothing but an error is left";
}

}  // namespace
}  // namespace pgchaos::engine
