// The watcher and the write probe against a real PostgreSQL the test starts (no Patroni: SQL only), through a
// restart that both must see and record.
#include <gtest/gtest.h>

#include <thread>

#include "backend/workload.h"
#include "history/run_history.h"
#include "tests/support/eventually.h"
#include "tests/support/postgres_server.h"
#include "tests/support/temp_directory.h"
#include "watcher/watcher.h"
#include "workloads/bank/bank.h"

namespace pgchaos::watcher {
namespace {

using testing::eventually;
constexpr auto kOften = std::chrono::milliseconds(20);

TEST(Watcher, ObservesANodeAndTheProbeSeesARestartAsAnOutage) {
  testing::PostgresServer server;
  backend::WorkloadConfig config;
  config.dsns = {server.dsn()};
  config.reset = true;
  bank::BankOptions small;
  small.accounts = 10;
  backend::prepare_schema(config, bank::BankWorkload(small, 0));  // creates pgchaos.probe
  const testing::TempDirectory dir("pgchaos-watcher");
  const auto file = dir / "history.jsonl";
  {
    history::HistoryWriter history(file, std::chrono::milliseconds(20));
    Watcher watcher({{"solo", server.dsn(), ""}}, history, {std::chrono::milliseconds(20), std::chrono::milliseconds(200)});
    WriteProbe probe({server.dsn()}, history, std::chrono::milliseconds(20));
    ASSERT_TRUE(eventually([&] { return watcher.latest().front().pg_role == "primary"; }, std::chrono::seconds(10), kOften));
    EXPECT_TRUE(watcher.problems("solo").empty());
    const auto problems = watcher.problems("elsewhere");
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_NE(problems[0].find("leader elsewhere is not a primary"), std::string::npos) << problems[0];
    server.restart_fast();
    ASSERT_TRUE(eventually([&] { return watcher.latest().front().pg_role == "primary"; }, std::chrono::seconds(10), kOften));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a few writes after the restart
    probe.stop();
    watcher.stop();
    history.close();
  }
  const auto h = history::load_run_history(file);
  ASSERT_GE(h.observations.size(), 3u) << "first look, heartbeats, the restart";
  const auto& first = h.observations.front();
  EXPECT_EQ(first.node, "solo");
  EXPECT_EQ(first.pg_role, "primary");
  EXPECT_EQ(first.timeline, 1);
  EXPECT_GT(first.wal_current, 0);
  EXPECT_EQ(first.address, "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_TRUE(first.role.empty()) << "no REST API was given";
  const bool saw_it_down = std::any_of(h.observations.begin(), h.observations.end(),
                                       [](const history::Observation& o) { return o.pg_role.empty() && !o.error.empty(); });
  EXPECT_TRUE(saw_it_down) << "the restart is an unreachable observation";
  // The probe: writable, then an outage (the restart), then writable again.
  ASSERT_GE(h.probes.size(), 3u);
  EXPECT_TRUE(h.probes.front().writable);
  EXPECT_FALSE(h.probes[1].writable);
  EXPECT_FALSE(h.probes[1].error.empty());
  EXPECT_TRUE(h.probes.back().writable);
  EXPECT_GT(h.probes[2].at_ns, h.probes[1].at_ns);
  EXPECT_GT(std::stoll(server.psql("SELECT beats FROM pgchaos.probe WHERE id = 1")), 10);
}

}  // namespace
}  // namespace pgchaos::watcher
