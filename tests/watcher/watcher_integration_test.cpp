// The watcher and the write probe against a real PostgreSQL the test starts (no Patroni: SQL only), through a
// restart that both must see and record.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <sstream>
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

// pgchaos's schema on `server`, with the probe's table (pgchaos.probe) and a small bank.
void prepare_probe_table(const testing::PostgresServer& server) {
  backend::WorkloadConfig config;
  config.dsns = {server.dsn()};
  config.reset = true;
  bank::BankOptions small;
  small.accounts = 10;
  backend::prepare_schema(config, bank::BankWorkload(small, 0));
}

TEST(Watcher, ObservesANodeAndTheProbeSeesARestartAsAnOutage) {
  testing::PostgresServer server;
  prepare_probe_table(server);
  const testing::TempDirectory dir("pgchaos-watcher");
  const auto file = dir / "history.jsonl";
  {
    history::HistoryWriter history(file, std::chrono::milliseconds(20));
    Watcher watcher({{"solo", server.dsn(), "", {}}}, history, {std::chrono::milliseconds(20), std::chrono::milliseconds(200)});
    WriteProbe probe({server.dsn()}, history, std::chrono::milliseconds(20));
    ASSERT_TRUE(eventually([&] { return watcher.latest().front().pg_role == "primary"; }, std::chrono::seconds(10), kOften));
    EXPECT_TRUE(watcher.problems("solo").empty());
    const auto problems = watcher.problems("elsewhere");
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_NE(problems[0].find("leader elsewhere is not a primary"), std::string::npos) << problems[0];
    server.restart_fast();
    ASSERT_TRUE(eventually([&] { return watcher.latest().front().pg_role == "primary"; }, std::chrono::seconds(10), kOften));
    // The probe writes again after the restart (a loaded machine may take a while to let it).
    const auto beats = [&] { return std::stoll(server.psql("SELECT beats FROM pgchaos.probe WHERE id = 1")); };
    const auto after_restart = beats();
    ASSERT_TRUE(eventually([&] { return beats() > after_restart + 3; }, std::chrono::seconds(20), kOften));
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


// A server that accepts TCP connections and never answers (as HAProxy holds a client while it retries a stopped
// primary): the time its one client hung up is kept.
class SilentServer {
 public:
  SilentServer() {
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (listener_ < 0 || bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        listen(listener_, 16) != 0 || getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0)
      throw std::runtime_error("cannot listen on loopback");
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] {
      const int client = accept(listener_, nullptr, nullptr);
      if (client < 0) return;
      char buffer[512];
      while (recv(client, buffer, sizeof buffer, 0) > 0) {
      }
      hung_up_us_ = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::system_clock::now().time_since_epoch()).count();
      close(client);
    });
  }
  ~SilentServer() {
    shutdown(listener_, SHUT_RDWR);
    close(listener_);
    thread_.join();
  }
  int port() const { return port_; }
  std::int64_t hung_up_us() const { return hung_up_us_; }  ///< 0 while its client holds on

 private:
  int listener_ = -1, port_ = 0;
  std::atomic<std::int64_t> hung_up_us_{0};
  std::thread thread_;
};

TEST(WriteProbe, AConnectThatHangsDoesNotHoldTheNextAttempt) {
  testing::PostgresServer server;
  prepare_probe_table(server);
  SilentServer silent;
  const testing::TempDirectory dir("pgchaos-probe");
  const auto file = dir / "history.jsonl";
  {
    history::HistoryWriter history(file, std::chrono::milliseconds(20));
    // The silent DSN first: the probe's first connect hangs there; its second, an interval later, reaches PostgreSQL.
    WriteProbe probe({"host=127.0.0.1 port=" + std::to_string(silent.port()) + " dbname=x user=x", server.dsn()},
                     history, std::chrono::milliseconds(20));
    ASSERT_TRUE(eventually([&] { return std::stoll(server.psql("SELECT beats FROM pgchaos.probe WHERE id = 1")) > 3; },
                           std::chrono::seconds(20), kOften));
    probe.stop();
    history.close();
  }
  const auto h = history::load_run_history(file);
  ASSERT_FALSE(h.probes.empty());
  EXPECT_TRUE(h.probes.front().writable) << "the hanging connect is no outage of the cluster: " << h.probes.front().error;
  ASSERT_NE(silent.hung_up_us(), 0) << "the hanging attempt was dropped";
  std::int64_t resumed_us = 0;  // the first probe event's wall clock, from the file itself
  std::istringstream lines(testing::slurp(file));
  for (std::string line; resumed_us == 0 && std::getline(lines, line);)
    if (const auto event = nlohmann::json::parse(line); event.value("type", "") == "probe") resumed_us = event.at("wall_us");
  EXPECT_GE(silent.hung_up_us(), resumed_us) << "dropped once a write committed, not timed out before it";
}

TEST(WriteProbe, AWriteThatWaitsIsAnOutageFromWhenItWasSentUntilAWriteCommits) {
  testing::PostgresServer server;
  prepare_probe_table(server);
  const testing::TempDirectory dir("pgchaos-probe");
  const auto file = dir / "history.jsonl";
  const auto beats = [&] { return std::stoll(server.psql("SELECT beats FROM pgchaos.probe WHERE id = 1")); };
  {
    history::HistoryWriter history(file, std::chrono::milliseconds(20));
    WriteProbe probe({server.dsn()}, history, std::chrono::milliseconds(20));
    ASSERT_TRUE(eventually([&] { return beats() > 3; }, std::chrono::seconds(20), kOften));
    // The probe's row locked for a second, as a commit held for a synchronous standby would hold its writes.
    server.psql("BEGIN; SELECT id FROM pgchaos.probe WHERE id = 1 FOR UPDATE; SELECT pg_sleep(1); COMMIT;");
    const auto after_lock = beats();
    ASSERT_TRUE(eventually([&] { return beats() > after_lock + 3; }, std::chrono::seconds(20), kOften));
    probe.stop();
    history.close();
  }
  const auto h = history::load_run_history(file);
  ASSERT_GE(h.probes.size(), 3u);
  EXPECT_TRUE(h.probes.front().writable);
  EXPECT_TRUE(h.probes.back().writable);
  // Changes only: however many attempts the outage started, writes stopped once and resumed once. A loaded machine
  // may add a short outage of its own; the locked second is the one that waited longest.
  std::size_t longest = 0;
  for (std::size_t i = 1; i < h.probes.size(); ++i) {
    EXPECT_NE(h.probes[i].writable, h.probes[i - 1].writable) << i;
    if (!h.probes[i].writable && i + 1 < h.probes.size() &&
        (longest == 0 || h.probes[i + 1].at_ns - h.probes[i].at_ns > h.probes[longest + 1].at_ns - h.probes[longest].at_ns))
      longest = i;
  }
  ASSERT_NE(longest, 0u);
  EXPECT_NE(h.probes[longest].error.find("a write has waited more than 250 ms"), std::string::npos) << h.probes[longest].error;
  // Stamped when the waiting write was sent, so the outage covers most of the second the row was held.
  EXPECT_GT(h.probes[longest + 1].at_ns - h.probes[longest].at_ns, 500'000'000) << "the lock was held 1 s";
}

// A write held for a synchronous standby that never comes must not outlive the probe on the server (it would hold
// the probe's row against the next run), nor may the writes queued behind it for the row: stop() cancels them all,
// also one sent just before the stop, which a single cancel can reach before the server has read it.
TEST(WriteProbe, StopCancelsAWriteHeldForASynchronousStandby) {
  testing::PostgresServer server;
  prepare_probe_table(server);
  server.psql("ALTER SYSTEM SET synchronous_standby_names = 'nobody'");
  server.psql("SELECT pg_reload_conf()");
  const auto count = [&](const std::string& condition) {
    return std::stoi(server.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgchaos-probe' AND " +
                                 condition));
  };
  const testing::TempDirectory dir("pgchaos-probe");
  {
    history::HistoryWriter history(dir / "history.jsonl", std::chrono::milliseconds(20));
    WriteProbe probe({server.dsn()}, history, std::chrono::milliseconds(20));
    ASSERT_TRUE(eventually([&] { return count("wait_event = 'SyncRep'") > 0; }, std::chrono::seconds(20), kOften))
        << "a write waits for the standby";
    ASSERT_TRUE(eventually([&] { return count("state = 'active'") > 2; }, std::chrono::seconds(20), kOften))
        << "more writes wait behind it for the row";
    probe.stop();
    history.close();
  }
  EXPECT_TRUE(eventually([&] { return count("state = 'active'") == 0; }, std::chrono::seconds(20), kOften))
      << "no write of the probe still runs on the server";
  server.psql("ALTER SYSTEM RESET synchronous_standby_names");
  server.psql("SELECT pg_reload_conf()");
}

}  // namespace
}  // namespace pgchaos::watcher
