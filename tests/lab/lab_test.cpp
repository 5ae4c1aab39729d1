// The lab against itself (label: lab; needs root). ctest runs these in order around one lab: Lab.Up is the
// fixture's set-up, Lab.DownLeavesNothingAndUpWorksAgain its clean-up.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <csignal>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "tests/support/eventually.h"
#include "tests/support/postgres_server.h"

namespace pgchaos {
namespace {

using testing::shell_quote;

// The default lab's state, or the seed profile's for the SeedLab tests (the two are never up at once).
const std::string& lab_state() {
  static const std::string default_lab = "/var/tmp/pgchaos-lab-test", seed_lab = "/var/tmp/pgchaos-seedlab-test";
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  return test != nullptr && std::string(test->test_suite_name()) == "SeedLab" ? seed_lab : default_lab;
}

struct Result {
  int status;          ///< the command's own exit status (128 + N when a signal N ended it)
  std::string output;  ///< stdout and stderr
};
Result run(const std::string& command) {
  std::FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  std::string output;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) output.append(buffer, n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), output};
}

using testing::eventually;

Result lab(const std::string& args) {
  return run(std::string(PGCHAOS_BINARY) + " lab " + args + " --state " + lab_state());
}

nlohmann::json status(int wait_seconds = 0) {
  const Result r = lab("status --json --wait " + std::to_string(wait_seconds));
  const auto json_start = r.output.find('{');
  if (json_start == std::string::npos) throw std::runtime_error("no status: " + r.output);
  return nlohmann::json::parse(r.output.substr(json_start, r.output.rfind('}') - json_start + 1));
}

std::string ip_of(const nlohmann::json& s, const std::string& node) {
  for (const auto& n : s["nodes"])
    if (n["name"] == node) return n["ip"];
  throw std::runtime_error("no node " + node);
}

std::string some_replica(const nlohmann::json& s) {
  for (const auto& n : s["nodes"])
    if (n["name"] != s["leader"]) return n["name"];
  throw std::runtime_error("no replica");
}

Result ssh(const std::string& ip, const std::string& command, const std::string& known_hosts = lab_state() + "/known_hosts") {
  return run("ssh -i " + lab_state() + "/lab_key -o UserKnownHostsFile=" + known_hosts +
             " -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=5 root@" + ip + " " +
             shell_quote(command));
}

// One leader, two replicas streaming on its timeline, one postmaster each: what every fault must end in.
void expect_healthy(const nlohmann::json& s, int nodes = 3) {
  EXPECT_TRUE(s["healthy"].get<bool>()) << s.dump(1);
  EXPECT_EQ(s["nodes"].size(), static_cast<std::size_t>(nodes)) << s.dump(1);
  int leaders = 0, replicas = 0;
  for (const auto& n : s["nodes"]) {
    leaders += n["role"] == "master" || n["role"] == "primary";
    replicas += n["role"] == "replica" && n["state"] == "running";
    EXPECT_EQ(n["postmasters"], 1) << n["name"];
  }
  EXPECT_EQ(leaders, 1);
  EXPECT_EQ(replicas, nodes - 1);
}

class Lab : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the lab needs root";
  }
};

TEST_F(Lab, Up) {
  lab("down");
  EXPECT_EQ(run("ip netns list").output.find("pgc1"), std::string::npos) << "a lab is already up";
  const Result up = lab("up --timing fast");
  ASSERT_EQ(up.status, 0) << up.output;
  EXPECT_NE(up.output.find("healthy"), std::string::npos) << up.output;
  const auto s = status();
  expect_healthy(s);
  for (const auto& n : s["nodes"]) EXPECT_EQ(n["etcd_members"].size(), 3u) << n["name"];
}

TEST_F(Lab, SshRunsOnEachNodeWithTheGeneratedKeyAndKnownHosts) {
  const auto s = status();
  for (const auto& n : s["nodes"]) {
    const Result r = ssh(n["ip"], "ip -o -4 addr show eth0");
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find(n["ip"].get<std::string>() + "/24"), std::string::npos) << r.output;
  }
  // A wrong known_hosts is refused: host keys are verified.
  const std::string wrong = lab_state() + "/wrong_known_hosts";
  std::ofstream(wrong) << ip_of(s, "pgc1") << " ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJtN2F1Kh1m8bQd5cXkqBJe0hXz2yJzN3S4P0GQnE7Qw\n";
  EXPECT_NE(ssh(ip_of(s, "pgc1"), "true", wrong).status, 0);
}

TEST_F(Lab, AWriteThroughHaproxyReachesThePrimary) {
  const auto s = status(30);
  std::ifstream conf(lab_state() + "/pgchaos.conf");
  std::string line, dsn;
  while (std::getline(conf, line))
    if (line.rfind("haproxy = ", 0) == 0) dsn = line.substr(10);
  ASSERT_FALSE(dsn.empty());
  const Result r = run("psql -X -A -t -v ON_ERROR_STOP=1 " + shell_quote(dsn) +
                       " -c 'CREATE TEMP TABLE probe (x int)' -c 'INSERT INTO probe VALUES (1)'"
                       " -c 'SELECT host(inet_server_addr()), pg_is_in_recovery()'");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find(ip_of(s, s["leader"]) + "|f"), std::string::npos) << r.output;
}

TEST_F(Lab, WorkloadRunsThroughHaproxyAndChecks) {
  const std::string dir = lab_state() + "-run";
  std::filesystem::remove_all(dir);
  const Result r = run(std::string(PGCHAOS_BINARY) + " run --conf " + lab_state() + "/pgchaos.conf --operations 2000 --reset --output " + dir);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("[ok]   no_lost_commits: all 2000 acknowledged commits"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("verdict: valid: 2000 acknowledged commits, none lost"), std::string::npos) << r.output;
  std::size_t compared = 0;  // whichever node leads, both others are compared with it
  for (auto at = r.output.find("[ok]   replica_convergence."); at != std::string::npos;
       at = r.output.find("[ok]   replica_convergence.", at + 1))
    ++compared;
  EXPECT_EQ(compared, 2u) << "every node is compared: " << r.output;
  std::filesystem::remove_all(dir);
}

TEST_F(Lab, SwitchoverEndsHealthyWithTheNewLeader) {
  const auto before = status(60);
  const std::string leader = before["leader"], candidate = some_replica(before);
  const Result r = ssh(ip_of(before, leader), "patronictl switchover main --leader " + leader + " --candidate " +
                                                  candidate + " --force");
  ASSERT_EQ(r.status, 0) << r.output;
  const auto after = status(90);
  expect_healthy(after);
  EXPECT_EQ(after["leader"], candidate);
}

TEST_F(Lab, CrashOfTheLeaderFailsOverAndTheNodeRejoins) {
  const auto before = status(60);
  const std::string leader = before["leader"];
  // Down for longer than the leader key's TTL (10 s in the fast profile), so a replica must take over.
  const Result r = ssh(ip_of(before, leader), "pgchaos-node crash 15");
  ASSERT_EQ(r.status, 0) << r.output << " (the command must return before the node dies)";
  EXPECT_TRUE(eventually([] { return !status()["healthy"].get<bool>(); }, std::chrono::seconds(10)))
      << "the node must really go down";
  nlohmann::json after;
  EXPECT_TRUE(eventually([&] {
    after = status();
    return after["healthy"].get<bool>() && after["leader"] != leader;
  }, std::chrono::seconds(150), std::chrono::seconds(1))) << "a replica takes over and the crashed node rejoins: " << after.dump(1);
  expect_healthy(after);
  EXPECT_NE(after["leader"], leader);
}

TEST_F(Lab, RebootOfAReplicaEndsHealthy) {
  const auto before = status(60);
  const std::string replica = some_replica(before);
  const Result r = ssh(ip_of(before, replica), "shutdown -r now");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(eventually([] { return !status()["healthy"].get<bool>(); }, std::chrono::seconds(15), std::chrono::milliseconds(200)))
      << "the replica must really go down";
  const auto after = status(90);
  expect_healthy(after);
  EXPECT_EQ(after["leader"], before["leader"]);
}

TEST_F(Lab, StopAndStartOfPatroniEndHealthy) {
  const auto before = status(60);
  const std::string node = before["leader"];
  Result r = ssh(ip_of(before, node), "systemctl stop patroni");
  ASSERT_EQ(r.status, 0) << r.output;
  r = ssh(ip_of(before, node), "systemctl is-active patroni");
  EXPECT_NE(r.status, 0) << "is-active answers non-zero for a stopped service: " << r.output;
  EXPECT_NE(r.output.find("inactive"), std::string::npos) << r.output;
  r = ssh(ip_of(before, node), "systemctl start patroni");
  ASSERT_EQ(r.status, 0) << r.output;
  expect_healthy(status(120));
}

// Every node's supervisor is still recorded, whatever crashed before: `lab down` finds it by that (a crash once
// removed the record, and supervisors outlived their lab).
void expect_supervisors_recorded() {
  for (const char* node : {"pgc1", "pgc2", "pgc3"})
    EXPECT_TRUE(std::filesystem::exists(lab_state() + "/" + node + "/run/supervisor.pid")) << node;
}

// ---- faults and scenarios against the lab ----

std::string write_file(const std::string& name, const std::string& text) {
  const std::string path = lab_state() + "-" + name;
  std::ofstream(path) << text;
  return path;
}

nlohmann::json report_of(const std::string& run_dir) {
  std::ifstream in(run_dir + "/report.json");
  return nlohmann::json::parse(in);
}

Result scenario(const std::string& args, const std::string& run_dir) {
  std::filesystem::remove_all(run_dir);
  return run(std::string(PGCHAOS_BINARY) + " scenario " + args + " --conf " + lab_state() + "/pgchaos.conf --output " + run_dir +
             " --threads 4");
}

// The exit status says what the report says: 0 valid, 1 invalid (never a harness error passing as a verdict).
void expect_exit_matches_verdict(const Result& r, const nlohmann::json& report) {
  const int expected = report["verdict"] == "valid" ? 0 : report["verdict"] == "invalid" ? 1 : 2;
  EXPECT_EQ(r.status, expected) << "verdict " << report["verdict"] << ": " << r.output;
}

// The lost commits of a report, in total and per fault, agree.
void expect_losses_add_up(const nlohmann::json& report) {
  std::size_t per_fault = 0;
  for (const auto& f : report["faults"]) per_fault += f["lost"].size();
  EXPECT_EQ(report["operations"]["lost"].size(), per_fault) << "every lost commit belongs to a fault";
}

// A cluster that does not recover is reported as a finding with its evidence; one that does is healthy.
void expect_healthy_or_reported(const nlohmann::json& report) {
  if (report["findings"].empty()) {
    expect_healthy(status(60));
    return;
  }
  EXPECT_EQ(report["verdict"], "invalid");
  for (const auto& f : report["findings"]) {
    const std::string text = f;
    EXPECT_NE(text.find("cluster not healthy"), std::string::npos) << text;
    EXPECT_NE(text.find("log tail"), std::string::npos) << "the evidence: " << text;
  }
}

TEST_F(Lab, EveryFaultOnceEndsHealthyOrIsReported) {
  const auto file = write_file("every-fault.json", R"({"description": "every fault once", "healthy_timeout_s": 90, "steps": [
    {"fault": "switchover", "target": "replica", "delay": "1s"},
    {"fault": "failover", "target": "replica", "delay": "1s"},
    {"fault": "restart", "target": "replica", "delay": "1s"},
    {"fault": "reboot", "target": "replica", "delay": "1s"},
    {"fault": "crash", "target": "replica", "delay": "1s"},
    {"fault": "stop-patroni", "target": "replica", "delay": "1s", "duration": "3s"},
    {"fault": "start-patroni", "target": "all", "delay": "1s"},
    {"fault": "terminate-backends", "delay": "1s"},
    {"fault": "kill-postgres", "target": "primary", "delay": "1s"},
    {"fault": "pause", "target": "replica", "delay": "1s", "duration": "3s"},
    {"fault": "resume", "target": "all", "delay": "1s"},
    {"fault": "partition", "target": "replica", "delay": "1s", "duration": "5s"},
    {"fault": "heal", "target": "all", "delay": "1s"}]})");
  const std::string dir = lab_state() + "-every-fault";
  const Result r = scenario(file + " --seed 3", dir);
  EXPECT_NE(r.output.find("fault 13: heal"), std::string::npos) << r.output;
  const auto report = report_of(dir);
  ASSERT_EQ(report["faults"].size(), 13u) << r.output;
  std::set<std::string> names;
  for (const auto& f : report["faults"]) {
    names.insert(f["fault"].get<std::string>());
    EXPECT_FALSE(f["end_s"].is_null()) << f.dump();
    if (f["fault"] != "heal" && f["fault"] != "resume" && f["fault"] != "start-patroni") {
      EXPECT_EQ(f["exit_status"], 0) << f.dump();
    }
  }
  EXPECT_EQ(names.size(), 13u);
  EXPECT_NE(report["verdict"], "unknown") << report["reasons"].dump();
  expect_exit_matches_verdict(r, report);
  expect_healthy_or_reported(report);
}

// The list-append workload through the storm (the seed lab's storm runs the bank's): sync mode loses nothing,
// serializable transactions across five switchovers show no anomaly at all, not even one of real time, and reads
// from every node beside the workers are told with their staleness.
TEST_F(Lab, SwitchoverStormInSyncModeLosesNothingAndListAppendStaysSerializable) {
  const std::string dir = lab_state() + "-storm";
  const Result r = scenario("switchover-storm --commit-mode sync --seed 1 --workload append --replica-reads 0.5", dir);
  EXPECT_EQ(r.status, 0) << r.output;
  const auto report = report_of(dir);
  EXPECT_EQ(report["verdict"], "valid") << report["reasons"].dump();
  const auto& isolation = report["isolation"];
  ASSERT_TRUE(isolation.is_object()) << "the append workload's check is in report.json";
  EXPECT_EQ(isolation["isolation"], "serializable");
  EXPECT_EQ(isolation["anomaly_counts"], nlohmann::json::object()) << isolation["anomalies"].dump();
  EXPECT_EQ(isolation["strongest_level"], "serializable");
  EXPECT_TRUE(isolation["lost_appends"].empty());
  EXPECT_GT(isolation["reads"].get<int>(), 1000);
  EXPECT_GT(isolation["dependencies"].get<int>(), 1000);
  // Reads from every node beside the workers, each told by node; a sync standby may still lag in replay.
  const auto& replica = isolation["replica_reads"];
  ASSERT_TRUE(replica.is_object());
  EXPECT_GT(replica["reads"].get<int>(), 100);
  EXPECT_EQ(replica["reads_by_node"].size(), 3u) << replica["reads_by_node"].dump();
  EXPECT_EQ(replica["diverged"], 0) << replica["examples"].dump();
  EXPECT_LE(replica["stale_reads"].get<int>(), replica["reads"].get<int>());
  EXPECT_GE(replica["max_s"].get<double>(), replica["p50_s"].get<double>());
  EXPECT_EQ(report["run"]["commit_mode"], "sync");
  EXPECT_EQ(report["operations"]["lost"].size(), 0u) << "sync mode loses no acknowledged commit";
  EXPECT_EQ(report["operations"]["phantom"].size(), 0u);
  ASSERT_EQ(report["faults"].size(), 5u);
  // Each switchover took effect (its candidate was promoted) or was refused with Patroni's reason: never a pass.
  std::string last_leader;
  for (const auto& f : report["faults"]) {
    if (f["status"] == "refused") {
      EXPECT_FALSE(f["refusal"].get<std::string>().empty()) << f.dump();
      continue;
    }
    EXPECT_EQ(f["status"], "took_effect") << f.dump();
    ASSERT_FALSE(f["promotions"].empty()) << "the watcher saw the candidate promoted: " << f.dump();
    EXPECT_EQ(f["promotions"].back()["node"], f["target"]) << f.dump();
    EXPECT_NE(f["leader_before"], f["target"]) << f.dump();
    last_leader = f["target"];
  }
  if (!last_leader.empty()) {
    EXPECT_EQ(status(30)["leader"], last_leader) << "the last switchover's candidate leads";
  }
  EXPECT_GT(report["counts"]["acknowledged"].get<int>(), 1000);
  // The previous configuration is back: the lab runs asynchronous again.
  const auto config = nlohmann::json::parse(run("curl -s http://" + ip_of(status(), status()["leader"]) + ":8008/config").output);
  EXPECT_EQ(config.value("synchronous_mode", false), false) << config.dump();
  EXPECT_FALSE(config.contains("failsafe_mode") && config["failsafe_mode"] == true) << "the lab's own (unset) is back: " << config.dump();
}

// With the list-append workload (the seed lab's crash runs the bank's): what async mode loses is reported, and every
// anomaly the loss shows to readers is told as that loss, not as a failure of PostgreSQL's isolation.
TEST_F(Lab, CrashOfThePrimaryInAsyncModeCompletesChecksAndReports) {
  const std::string dir = lab_state() + "-crash";
  const Result r = scenario("crash-primary --commit-mode async --seed 2 --workload append", dir);
  const auto report = report_of(dir);
  const auto& isolation = report["isolation"];
  ASSERT_TRUE(isolation.is_object());
  EXPECT_EQ(isolation["forbidden"], 0) << isolation["anomalies"].dump();
  for (const auto& a : isolation["anomalies"]) {
    if (a["forbidden"].get<bool>()) {
      EXPECT_FALSE(a["follows_from_loss"].get<std::string>().empty()) << a.dump();
    }
  }
  for (const auto& l : isolation["lost_appends"]) EXPECT_NE(l["cause"], "unexplained") << l.dump();
  EXPECT_EQ(isolation["lost_appends"].empty(), report["operations"]["lost"].empty()) << "the appends lost are the commits lost";
  // Async mode: losses may be 0 or more and are reported, not failed; only a finding makes the run invalid.
  expect_exit_matches_verdict(r, report);
  EXPECT_EQ(report["verdict"], report["findings"].empty() ? "valid" : "invalid") << report["reasons"].dump();
  expect_losses_add_up(report);
  ASSERT_EQ(report["faults"].size(), 1u);
  EXPECT_EQ(report["faults"][0]["fault"], "crash");
  EXPECT_FALSE(report["faults"][0]["unavailable_s"].is_null());
  EXPECT_EQ(report["run"]["commit_mode"], "async");
  EXPECT_EQ(report["operations"]["lost"].size(), report["faults"][0]["lost"].size());
  for (const char* file : {"/report.html", "/junit.xml", "/history.jsonl", "/schedule.json", "/scenario.json"})
    EXPECT_TRUE(std::filesystem::exists(dir + file)) << file;
  // The scenario's intent is a failover (the lab's crash outlasts Patroni's ttl): the watcher saw another node
  // promoted, as Patroni's own /history says, and the probe measured the outage.
  const auto& fault = report["faults"][0];
  ASSERT_FALSE(fault["promotions"].empty()) << fault["story"];
  const std::string promoted = fault["promotions"].back()["node"];
  EXPECT_NE(promoted, fault["target"]);
  EXPECT_NE(fault["story"].get<std::string>().find(promoted + " promoted after"), std::string::npos) << fault["story"];
  const auto now = status(60);
  const auto history = nlohmann::json::parse(run("curl -s http://" + ip_of(now, now["leader"]) + ":8008/history").output);
  ASSERT_FALSE(history.empty());
  bool in_patroni_history = false;
  for (const auto& entry : history)
    if (entry[4] == promoted && entry[0].get<int>() + 1 == fault["promotions"].back()["timeline"].get<int>()) in_patroni_history = true;
  EXPECT_TRUE(in_patroni_history) << promoted << " on timeline " << fault["promotions"].back()["timeline"] << " vs " << history.dump();
  EXPECT_GT(fault["probe_unavailable_s"].get<double>(), 0.0);
  for (const auto& lost : report["operations"]["lost_detail"]) EXPECT_NE(lost["cause"], "unexplained") << lost.dump();
  EXPECT_TRUE(std::filesystem::exists(dir + "/forensics/fault-1/key-lines.txt"));
  expect_healthy_or_reported(report);
}

TEST_F(Lab, ACancelledSyncWaitIsTheLossSyncModeAllows) {
  const std::string dir = lab_state() + "-cancelled";
  const Result r = scenario("cancelled-sync-wait --commit-mode sync --seed 1", dir);
  const auto report = report_of(dir);
  expect_exit_matches_verdict(r, report);
  EXPECT_EQ(report["verdict"], "valid") << report["reasons"].dump();
  expect_losses_add_up(report);
  expect_healthy_or_reported(report);
  ASSERT_EQ(report["faults"].size(), 4u);
  // The scenario races Patroni: when the fault commands are slow (SSH on a loaded machine), Patroni has dropped the
  // blocked synchronous standby from /sync before the crash, no standby may promote, and the crashed primary takes
  // its lock back after booting. Then nothing was lost and there is nothing of this test's to check: a skip, said.
  const auto& crash = report["faults"][3];
  bool failed_over = false;
  for (const auto& p : crash["promotions"]) failed_over = failed_over || p["node"] != crash["target"];
  if (!failed_over)
    GTEST_SKIP() << "the crash of " << crash["target"] << " did not fail over (" << crash["story"]
                 << "): the scenario lost its race with Patroni; nothing to check";
  // COMMITs came back with the warning, the synchronous standby was promoted without them: lost, each with its
  // cause, and allowed by sync mode's documented exception.
  const auto& lost = report["operations"]["lost"];
  EXPECT_GT(lost.size(), 0u) << r.output;
  EXPECT_EQ(report["operations"]["lost_by_cause"]["cancelled-sync-wait"], lost.size());
  EXPECT_EQ(report["operations"]["lost_allowed_by_mode"], lost.size());
  for (const auto& l : report["operations"]["lost_detail"]) EXPECT_EQ(l["cause"], "cancelled-sync-wait") << l.dump();
}

TEST_F(Lab, APartitionedPrimaryIsToldAndASplitBrainIsNamed) {
  const std::string dir = lab_state() + "-partition";
  const auto before = status();
  // The library's partition-primary, with a shorter wait for health: a split brain's replicas never stream again,
  // and two waits of 120 s (after the heal, after the final heal) made this the longest test of CI.
  const auto file = write_file("partition.json", R"({"description": "partition-primary, 45 s health waits",
      "healthy_timeout": "45s", "steps": [{"fault": "partition", "target": "primary", "delay": "3s", "duration": "30s"}]})");
  const Result r = scenario(file + " --commit-mode async --seed 4", dir);
  const auto report = report_of(dir);
  // A partition the cluster handles, or a split brain it does not, is a verdict: never "could not decide".
  EXPECT_NE(report["verdict"], "unknown") << report["reasons"].dump();
  expect_exit_matches_verdict(r, report);
  expect_losses_add_up(report);
  for (const auto& l : report["operations"]["lost_detail"]) EXPECT_NE(l["cause"], "unexplained") << l.dump();
  const std::string old_primary = before["leader"];
  ASSERT_EQ(report["faults"].size(), 1u);
  EXPECT_EQ(report["faults"][0]["leader_before"], old_primary);
  // Patroni 3.0.2 on etcd3 may let the old primary take the leader key back after the heal
  // (docs/patroni-3.0.2-bugs.md): when it does, a split brain names it and the node promoted in between.
  const auto& promotions = report["cluster"]["promotions"];
  bool retaken = false;
  for (std::size_t i = 1; i < promotions.size(); ++i)
    if (promotions[i]["node"] == old_primary && promotions[i - 1]["node"] != old_primary) retaken = true;
  if (retaken) {
    const std::string interim = promotions[0]["node"];
    bool named = false;
    for (const auto& b : report["cluster"]["split_brains"]) {
      const auto& nodes = b["nodes"];
      if (std::find(nodes.begin(), nodes.end(), old_primary) != nodes.end() &&
          std::find(nodes.begin(), nodes.end(), interim) != nodes.end())
        named = true;
    }
    EXPECT_TRUE(named) << report["cluster"].dump();
  } else {
    // Without a retake, the only split brain there can be is the cut-off primary stepping down late: seen
    // primary after the other node's promotion (on the lab, Patroni's "demoting self because DCS is not
    // accessible" has come up to 1.3 s after the new leader's "promoted self to leader").
    for (const auto& b : report["cluster"]["split_brains"]) {
      EXPECT_EQ(b["kind"], "two_primaries") << b.dump();
      const auto& nodes = b["nodes"];
      EXPECT_NE(std::find(nodes.begin(), nodes.end(), old_primary), nodes.end()) << b.dump();
    }
  }
  if (!report["cluster"]["split_brains"].empty()) {
    EXPECT_EQ(report["verdict"], "invalid") << report["headline"];
  }
  // A split brain can leave replicas on another history for good: the next tests get a fresh lab.
  expect_supervisors_recorded();
  ASSERT_EQ(lab("down").status, 0);
  ASSERT_EQ(lab("up --timing fast").status, 0);
}

TEST_F(Lab, ReplayRunsTheSameScheduleAndDurationEndsTheRun) {
  const auto file = write_file("replay.json", R"({"steps": [{"fault": "any", "choices": ["terminate-backends", "restart"],
                                                   "target": "replica", "delay": "1s-2s", "repeat": 2}]})");
  const std::string first = lab_state() + "-replay-1", second = lab_state() + "-replay-2";
  Result r = scenario(file + " --seed 5", first);
  ASSERT_EQ(r.status, 0) << r.output;
  r = scenario("--replay " + first, second);
  ASSERT_EQ(r.status, 0) << r.output;
  // The schedule as it ran: the same draws, each target resolved (node and role), and aimed by role in the replay.
  auto schedule_of = [](const std::string& dir) { return nlohmann::json::parse(std::ifstream(dir + "/schedule.json")); };
  const auto a = schedule_of(first), b = schedule_of(second);
  ASSERT_EQ(a.size(), 2u) << a.dump();
  ASSERT_EQ(b.size(), 2u) << b.dump();
  for (std::size_t i = 0; i < a.size(); ++i) {
    for (const char* key : {"index", "fault", "choice", "delay_ms"}) EXPECT_EQ(a[i][key], b[i][key]) << key;
    // terminate-backends acts on the primary whatever the target; restart on the replica asked for.
    EXPECT_EQ(a[i]["resolved_role"], a[i]["fault"] == "terminate-backends" ? "primary" : "replica") << a[i].dump();
    EXPECT_EQ(b[i]["target"], a[i]["resolved_role"]) << "aimed at the role it hit: " << b[i].dump();
    EXPECT_EQ(b[i]["resolved_role"], a[i]["resolved_role"]) << b[i].dump();
  }
  EXPECT_EQ(report_of(second)["run"]["seed"], 5);
  EXPECT_EQ(report_of(second)["run"]["configuration"]["replay"]["by"], "role");
  // By node: each fault hits the very node it hit the first time.
  const std::string third = lab_state() + "-replay-3";
  r = scenario("--replay " + first + " --replay-by node", third);
  ASSERT_EQ(r.status, 0) << r.output;
  const auto c = schedule_of(third);
  ASSERT_EQ(c.size(), 2u) << c.dump();
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(c[i]["resolved_node"], a[i]["resolved_node"]) << c[i].dump();
  std::ifstream page(third + "/report.html");
  EXPECT_NE(std::string((std::istreambuf_iterator<char>(page)), {}).find("replay of " + first + " by node"), std::string::npos);
  // --duration ends a run whose schedule would take longer: its one fault, 60 s in, never starts.
  const auto long_one = write_file("long.json", R"({"steps": [{"fault": "terminate-backends", "delay": "60s"}]})");
  r = scenario(long_one + " --duration 5s", lab_state() + "-duration");
  EXPECT_EQ(r.status, 0) << r.output;
  const auto cut = report_of(lab_state() + "-duration");
  EXPECT_TRUE(cut["faults"].empty()) << cut["faults"].dump();
  EXPECT_GT(cut["counts"]["acknowledged"].get<int>(), 0);
}

TEST_F(Lab, AMatrixRunsTheSameFaultsUnderEachModeAndJudgesEachPromise) {
  const auto one = write_file("matrix.json", R"({"steps": [{"fault": "switchover", "target": "replica", "delay": "2s"}]})");
  const std::string dir = lab_state() + "-matrix";
  std::filesystem::remove_all(dir);
  // With failsafe_mode on for both runs (--failsafe off,on would run each mode twice): set for the runs, put back after.
  const Result r = run(std::string(PGCHAOS_BINARY) + " matrix " + one + " --modes async,sync-strict:on --failsafe on --seed 3 --conf " +
                       lab_state() + "/pgchaos.conf --output " + dir + " --threads 4");
  const auto matrix = nlohmann::json::parse(std::ifstream(dir + "/matrix.json"));
  ASSERT_EQ(matrix["columns"].size(), 2u) << r.output;
  EXPECT_EQ(r.status, matrix["broken"].empty() ? 0 : 1) << r.output;
  const auto& async = matrix["columns"][0];
  const auto& strict = matrix["columns"][1];
  EXPECT_EQ(async["mode"], "async failsafe on");
  EXPECT_EQ(async["failsafe"], true);
  EXPECT_FALSE(async["guarantee"]["judged"].get<bool>());
  EXPECT_EQ(strict["mode"], "sync-strict:on failsafe on");
  EXPECT_TRUE(strict["guarantee"]["judged"].get<bool>()) << strict.dump();
  EXPECT_EQ(strict["verdict"], "valid") << strict["headline"];
  EXPECT_EQ(strict["acknowledged_without_sync_standby"], 0) << "the watcher saw the synchronous standby throughout";
  EXPECT_EQ(strict["faults"], 1);
  // The mode was in force while the faults ran (Patroni's configuration and the level, in run.json) and the
  // previous configuration is back afterwards.
  const auto run_json = nlohmann::json::parse(std::ifstream(dir + "/sync-strict-on-failsafe-on/run.json"));
  EXPECT_EQ(run_json["commit_mode"], "sync-strict");
  EXPECT_EQ(run_json["synchronous_commit"], "on");
  EXPECT_EQ(run_json["patroni_config"]["synchronous_mode_strict"], true) << run_json["patroni_config"].dump();
  EXPECT_EQ(run_json["patroni_config"]["failsafe_mode"], true) << run_json["patroni_config"].dump();
  EXPECT_EQ(run_json["lab"]["timing"], "fast");
  // The second mode met the same fault, aimed at the role the first run's target had.
  const auto first = nlohmann::json::parse(std::ifstream(dir + "/async-failsafe-on/schedule.json"));
  const auto second = nlohmann::json::parse(std::ifstream(dir + "/sync-strict-on-failsafe-on/schedule.json"));
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0]["choice"], first[0]["choice"]);
  EXPECT_EQ(second[0]["target"], first[0]["resolved_role"]);
  EXPECT_TRUE(std::filesystem::exists(dir + "/matrix.html"));
  const auto config = nlohmann::json::parse(run("curl -s http://" + ip_of(status(), status()["leader"]) + ":8008/config").output);
  EXPECT_EQ(config.value("synchronous_mode_strict", false), false) << config.dump();
  EXPECT_EQ(config.value("synchronous_mode", false), false) << config.dump();
}

// Issue 25: SIGTERM while a fault is on, on a cluster that cannot become healthy again (another replica's Patroni
// frozen, as a killed earlier run's pause would have left it): pgchaos heals its own fault, waits no longer than its
// stop budget, skips the forensics, and exits 130 with report.json written and the cluster's state as a finding.
TEST_F(Lab, ASigtermOnAClusterThatCannotHealEndsWithinTheStopBudget) {
  const auto before = status();
  const std::string leader = before["leader"];
  std::vector<std::string> replicas;
  for (const auto& n : before["nodes"])
    if (n["name"] != leader) replicas.push_back(n["name"]);
  ASSERT_EQ(replicas.size(), 2u);
  const auto file = write_file("stop-budget.json",
                               R"({"steps": [{"fault": "partition", "target": ")" + replicas[0] +
                                   R"(", "delay": "1s", "duration": "300s"}]})");
  const std::string dir = lab_state() + "-stop-budget", out = lab_state() + "-stop-budget.out";
  const std::string frozen_patroni = testing::slurp(lab_state() + "/" + replicas[1] + "/run/patroni.pid");
  ASSERT_FALSE(frozen_patroni.empty());
  std::filesystem::remove_all(dir);
  std::filesystem::remove(out);  // an earlier try's output must not pass for this one's
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string command = std::string("exec ") + PGCHAOS_BINARY + " scenario " + file + " --conf " + lab_state() +
                                "/pgchaos.conf --output " + dir + " --threads 4 --stop-timeout 10s > " + out + " 2>&1";
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const bool fault_on = eventually([&] { return testing::slurp(out).find("fault 1: partition on") != std::string::npos; },
                                   std::chrono::seconds(180), std::chrono::milliseconds(200));
  const auto frozen = run("kill -STOP " + frozen_patroni);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  ::kill(pid, SIGTERM);
  const auto signalled = std::chrono::steady_clock::now();
  int wait_status = 0;
  ::waitpid(pid, &wait_status, 0);
  const auto took = std::chrono::steady_clock::now() - signalled;
  const std::string output = testing::slurp(out);
  const auto thawed = run("kill -CONT " + frozen_patroni);  // whatever happened, so the next tests find a cluster
  ASSERT_TRUE(fault_on) << output;
  EXPECT_EQ(frozen.status, 0) << frozen.output;
  EXPECT_EQ(thawed.status, 0) << thawed.output;
  ASSERT_TRUE(WIFEXITED(wait_status)) << output;
  EXPECT_EQ(WEXITSTATUS(wait_status), 130) << output;
  // 10 s of waits, plus the heal, the workload's end (its statements cancelled 5 s into the stop), the snapshots'
  // connects and the reports; before issue 25 the two health waits alone took four minutes.
  EXPECT_LT(took, std::chrono::seconds(45)) << output;
  const auto partitioned = ssh(ip_of(before, replicas[0]), "nft list table inet pgchaos_partition");
  EXPECT_NE(partitioned.status, 0) << "pgchaos healed the fault it started: " << partitioned.output;
  EXPECT_NE(output.find("no forensics (interrupted)"), std::string::npos) << output;
  EXPECT_EQ(output.find("could not restore"), std::string::npos) << output;
  ASSERT_TRUE(std::filesystem::exists(dir + "/report.json")) << output;
  const auto report = report_of(dir);
  ASSERT_EQ(report["faults"].size(), 1u);
  EXPECT_FALSE(report["faults"][0]["end_s"].is_null()) << "its window closed with the heal";
  // The cluster left unhealthy is said, as unconfirmed (its wait was cut short): unknown, never a guess either way.
  ASSERT_FALSE(report["unconfirmed_findings"].empty()) << output;
  EXPECT_NE(report["unconfirmed_findings"][0].get<std::string>().find("its wait cut short by the interruption"),
            std::string::npos)
      << report["unconfirmed_findings"].dump();
  EXPECT_TRUE(report["findings"].empty()) << report["findings"].dump();
  EXPECT_EQ(report["verdict"], "unknown") << report["headline"];
  expect_healthy(status(120));
}

// Starts `pgchaos ARGS > out` in its own process; its pid.
pid_t start_pgchaos(const std::string& args, const std::string& out) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const std::string command = std::string("exec ") + PGCHAOS_BINARY + " " + args + " > " + out + " 2>&1";
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

nlohmann::json journal() {
  const auto text = testing::slurp(lab_state() + "/pgchaos-journal-main.json");
  return text.empty() ? nlohmann::json{{"active", nlohmann::json::array()}} : nlohmann::json::parse(text);
}

// SIGKILL leaves pgchaos no chance to heal: the journal, written before each fault started, is what remains, and
// `pgchaos heal` undoes it. Every healable kind of fault of the default lab at once, on the two replicas (the
// primary's etcd member and one replica's keep the DCS's quorum, so the primary goes on).
TEST_F(Lab, APgchaosKilledMidFaultLeavesAJournalThatHealUndoes) {
  const auto before = status(60);
  std::vector<std::string> replicas;
  for (const auto& n : before["nodes"])
    if (n["name"] != before["leader"]) replicas.push_back(n["name"]);
  ASSERT_EQ(replicas.size(), 2u);
  const std::string a = replicas[0], b = replicas[1];
  auto step = [](const std::string& fault, const std::string& node, const std::string& rest) {
    return R"({"fault": ")" + fault + R"(", "target": ")" + node + R"(", )" + rest + "}";
  };
  const std::string held = R"("heal": false, "wait_healthy": false)";
  const auto file = write_file("killed.json", R"({"steps": [)" + step("freeze-patroni", a, held) + "," + step("pause", a, held) +
                                                  "," + step("stop-patroni", b, held) + "," + step("pause-etcd", b, held) +
                                                  "," + step("cut-dcs", b, held) + "," + step("block-replication", a, held) + "," +
                                                  step("partition", b, R"("duration": "300s")") + "]}");
  const std::string conf = lab_state() + "/pgchaos.conf", out = lab_state() + "-killed.out";
  std::filesystem::remove_all(lab_state() + "-killed");
  const pid_t pid = start_pgchaos("scenario " + file + " --conf " + conf + " --output " + lab_state() + "-killed --threads 4", out);
  ASSERT_GT(pid, 0);
  // Journalled before it is sent: the last fault is in effect once its table is on the node.
  const bool all_on = eventually(
      [&] { return journal()["active"].size() == 7 && ssh(ip_of(before, b), "nft list table inet pgchaos_partition").status == 0; },
      std::chrono::seconds(120), std::chrono::milliseconds(100));
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  ASSERT_TRUE(all_on) << testing::slurp(out) << journal().dump(1);
  std::set<std::string> journalled;
  const auto entries = journal()["active"];
  for (const auto& e : entries) {
    journalled.insert(e["fault"].get<std::string>() + " on " + e["node"].get<std::string>());
    EXPECT_EQ(e["pid"], pid);
    EXPECT_EQ(e["run_directory"], lab_state() + "-killed");
  }
  EXPECT_EQ(journalled, (std::set<std::string>{"freeze-patroni on " + a, "pause on " + a, "stop-patroni on " + b,
                                               "pause-etcd on " + b, "cut-dcs on " + b, "block-replication on " + a,
                                               "partition on " + b}));
  // Nothing starts on a cluster left like this: one line naming heal, before anything is touched.
  std::filesystem::remove_all(lab_state() + "-refused");
  Result r = run(std::string(PGCHAOS_BINARY) + " run --conf " + conf + " --operations 100 --output " + lab_state() + "-refused");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("run `pgchaos heal --conf " + conf + "` first"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("partition on " + b + " (journalled by pid " + std::to_string(pid)), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(lab_state() + "-refused/history.jsonl")) << "nothing was started";

  const auto heal_began = std::chrono::steady_clock::now();
  r = run(std::string(PGCHAOS_BINARY) + " heal --conf " + conf);
  const auto heal_took = std::chrono::duration<double>(std::chrono::steady_clock::now() - heal_began).count();
  EXPECT_EQ(r.status, 0) << r.output;
  for (const auto& f : journalled) {
    const auto node = f.substr(f.rfind(' ') + 1), fault = f.substr(0, f.find(' '));
    EXPECT_NE(r.output.find(node + ": " + fault + " healed"), std::string::npos) << f << "\n" << r.output;
  }
  EXPECT_NE(r.output.find("the cluster is healthy"), std::string::npos) << r.output;
  std::printf("pgchaos heal: healthy %.1f s after it began (seven faults on two nodes)\n", heal_took);
  EXPECT_TRUE(journal()["active"].empty()) << journal().dump(1);
  expect_healthy(status(60));
  r = run(std::string(PGCHAOS_BINARY) + " heal --conf " + conf + " --all");
  EXPECT_EQ(r.status, 0) << r.output;
  for (const auto& n : before["nodes"])
    EXPECT_NE(r.output.find(n["name"].get<std::string>() + ": nothing to undo"), std::string::npos) << "idempotent: " << r.output;

  // A leftover nobody journalled (another tool, a lost journal) is found on the node and undone by --all.
  ASSERT_EQ(ssh(ip_of(before, a), "nft add table inet pgchaos_partition").status, 0);
  r = run(std::string(PGCHAOS_BINARY) + " run --conf " + conf + " --operations 100 --output " + lab_state() + "-refused");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("partition on " + a + " (found by `partitioned`)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("run `pgchaos heal --conf " + conf + " --all` first"), std::string::npos) << r.output;
  r = run(std::string(PGCHAOS_BINARY) + " heal --conf " + conf + " --all");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find(a + ": partition found in effect (by `partitioned`), healed by heal-partition"), std::string::npos)
      << r.output;
  EXPECT_NE(ssh(ip_of(before, a), "nft list table inet pgchaos_partition").status, 0) << "the table is gone";

  // A killed soak leaves its epoch's fault the same way.
  const auto soak_file = write_file("killed-soak.json", R"({"steps": [)" + step("partition", a, R"("duration": "300s")") + "]}");
  std::filesystem::remove_all(lab_state() + "-killed-soak");
  const pid_t soak = start_pgchaos("soak --conf " + conf + " --scenarios " + soak_file + " --duration 10m --epoch 5m --output " +
                                       lab_state() + "-killed-soak --threads 4",
                                   out);
  const bool soak_fault_on = eventually(
      [&] { return ssh(ip_of(before, a), "nft list table inet pgchaos_partition").status == 0; }, std::chrono::seconds(120),
      std::chrono::milliseconds(100));
  ::kill(soak, SIGKILL);
  ::waitpid(soak, nullptr, 0);
  ASSERT_TRUE(soak_fault_on) << testing::slurp(out);
  const auto soak_heal_began = std::chrono::steady_clock::now();
  r = run(std::string(PGCHAOS_BINARY) + " heal --conf " + conf);
  std::printf("pgchaos heal after a killed soak: healthy %.1f s after it began\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - soak_heal_began).count());
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find(a + ": partition healed"), std::string::npos) << r.output;
  EXPECT_TRUE(journal()["active"].empty());

  // And the next scenario runs valid (one fault of its own).
  const std::string next = lab_state() + "-after-heal";
  r = scenario(write_file("after-heal.json", R"({"steps": [{"fault": "terminate-backends", "delay": "1s"}]})"), next);
  const auto report = report_of(next);
  EXPECT_EQ(report["verdict"], "valid") << r.output;
  expect_exit_matches_verdict(r, report);
}

// Faults of the DCS on the lab: etcd's own leader paused (found by asking each node's member), then the primary's node
// cut off from etcd for longer than the ttl. What Patroni did is read from its log and told with each fault: the
// primary demoted itself for want of its DCS.
TEST_F(Lab, DcsFaultsHitEtcdsLeaderAndTellWhatPatroniDid) {
  const auto file = write_file("dcs.json", R"({"description": "etcd's leader paused, the primary cut off from etcd",
      "healthy_timeout": "60s", "steps": [
        {"fault": "pause-etcd", "target": "dcs-leader", "delay": "2s", "duration": "6s"},
        {"fault": "cut-dcs", "target": "primary", "delay": "2s", "duration": "20s"}]})");
  const std::string dir = lab_state() + "-dcs";
  const Result r = scenario(file + " --seed 5", dir);
  const auto report = report_of(dir);
  EXPECT_NE(report["verdict"], "unknown") << report["reasons"].dump();
  expect_exit_matches_verdict(r, report);
  expect_losses_add_up(report);
  for (const auto& l : report["operations"]["lost_detail"]) EXPECT_NE(l["cause"], "unexplained") << l.dump();
  const auto schedule = nlohmann::json::parse(std::ifstream(dir + "/schedule.json"));
  ASSERT_EQ(schedule.size(), 2u) << schedule.dump();
  EXPECT_EQ(schedule[0]["resolved_role"], "dcs-leader") << schedule.dump();
  ASSERT_EQ(report["faults"].size(), 2u) << r.output;
  for (const auto& f : report["faults"]) EXPECT_EQ(f["exit_status"], 0) << f.dump();
  const std::string cut = report["faults"][1]["story"];
  EXPECT_NE(cut.find(schedule[1]["resolved_node"].get<std::string>() + " demoted itself: the DCS was not accessible"),
            std::string::npos) << cut;
  EXPECT_TRUE(journal()["active"].empty()) << journal().dump(1);
  expect_healthy(status(60));
}

TEST_F(Lab, HostKeysAreVerified) {
  const auto one_fault = write_file("one-fault.json", R"({"steps": [{"fault": "terminate-backends"}]})");
  std::string conf;
  {
    std::ifstream in(lab_state() + "/pgchaos.conf");
    conf.assign(std::istreambuf_iterator<char>(in), {});
  }
  const auto with_known_hosts = [&](const std::string& name, const std::string& known_hosts_text) {
    const auto known_hosts = write_file(name + ".known_hosts", known_hosts_text);
    std::string text = std::regex_replace(conf, std::regex("known_hosts = .*"), "known_hosts = " + known_hosts);
    return write_file(name + ".conf", text);
  };
  const auto run_with = [&](const std::string& conf_file, const std::string& extra) {
    return run(std::string(PGCHAOS_BINARY) + " scenario " + one_fault + " --conf " + conf_file + " --output " + lab_state() +
               "-keys " + extra + " 2>&1");
  };
  std::filesystem::remove_all(lab_state() + "-keys");
  // Unknown keys: refused by default.
  const auto empty = with_known_hosts("empty", "");
  Result r = run_with(empty, "");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("host key unknown"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(lab_state() + "-keys/history.jsonl")) << "nothing ran";
  // A key that does not match (a real key, another machine's): refused even with --accept-new-host-keys.
  std::filesystem::remove(lab_state() + "-otherkey");
  std::filesystem::remove(lab_state() + "-otherkey.pub");
  run("ssh-keygen -q -t ed25519 -N '' -f " + lab_state() + "-otherkey");
  std::string other_key;
  {
    std::ifstream in(lab_state() + "-otherkey.pub");
    std::string type, body;
    in >> type >> body;
    other_key = type + " " + body;
  }
  std::string wrong;
  const auto now = status();  // kept: a range-for over status()["nodes"] would iterate a destroyed temporary
  for (const auto& n : now["nodes"]) wrong += n["ip"].get<std::string>() + " " + other_key + "\n";
  ASSERT_EQ(std::count(wrong.begin(), wrong.end(), '\n'), 3);
  r = run_with(with_known_hosts("wrong", wrong), "--accept-new-host-keys");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("CHANGED"), std::string::npos) << r.output;
  // Unknown keys with --accept-new-host-keys: accepted and recorded.
  std::filesystem::remove_all(lab_state() + "-keys");
  r = run_with(empty, "--accept-new-host-keys");
  EXPECT_EQ(r.status, 0) << r.output;
  std::ifstream recorded(lab_state() + "-empty.known_hosts");
  const std::string keys((std::istreambuf_iterator<char>(recorded)), {});
  EXPECT_NE(keys.find(ip_of(status(), "pgc1")), std::string::npos) << keys;
}

std::vector<std::string> recorded_pids() {
  std::vector<std::string> pids;
  for (const char* file : {"/pgc1/run/supervisor.pid", "/pgc2/run/supervisor.pid", "/pgc3/run/supervisor.pid",
                           "/pgc4/run/supervisor.pid", "/pgc5/run/supervisor.pid", "/haproxy.pid"}) {
    std::ifstream in(lab_state() + file);
    std::string pid;
    if (in >> pid) pids.push_back(pid);
  }
  for (const char* node : {"pgc1", "pgc2", "pgc3", "pgc4", "pgc5"}) {
    std::istringstream in(run(std::string("(ip netns pids ") + node + " 2>/dev/null)").output);  // pgc4, pgc5 may not exist
    for (std::string pid; in >> pid;) pids.push_back(pid);
  }
  return pids;
}

// A killed process may stay a zombie until this machine's init reaps it: dead, but still in /proc.
bool running(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("State:", 0) == 0) return line.find("Z (zombie)") == std::string::npos;
  return false;
}

std::string file_text(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::string lab_env(const std::string& key) {
  std::smatch m;
  const std::string env = file_text(lab_state() + "/lab.env");
  return std::regex_search(env, m, std::regex("(^|\n)" + key + "=([^\n]*)")) ? m[2].str() : "";
}

// A full WAL disk, on a lab whose nodes each have one (lab up --wal-disk): the primary's filled while another client
// makes PostgreSQL open new WAL segments (pg_switch_wal, as an application writing a burst would), so that it cannot
// go on in the segments it recycled. PostgreSQL panics, Patroni keeps the leader lock and starts it again until the
// heal frees the disk; nothing acknowledged is lost, the story says all of it, and nothing is left on any disk. The
// lab stays up with its WAL disks for the next test, which takes it down.
TEST_F(Lab, AFullWalDiskPanicsThePrimaryUntilItIsFreed) {
  ASSERT_EQ(lab("down").status, 0);
  Result r = lab("up --timing fast --wal-disk 1G");
  ASSERT_EQ(r.status, 0) << r.output;
  const auto before = status(60);
  expect_healthy(before);
  EXPECT_NE(file_text(lab_state() + "/pgchaos.conf").find("allow_fill_wal_disk = true"), std::string::npos);
  for (const auto& n : before["nodes"]) {
    const std::string wal = lab_state() + "/" + n["name"].get<std::string>() + "/wal";
    EXPECT_EQ(run("mountpoint -q " + wal).status, 0) << wal << " is not a filesystem of its own";
    EXPECT_EQ(std::filesystem::read_symlink(lab_state() + "/" + n["name"].get<std::string>() + "/pgdata/data/pg_wal"),
              wal + "/pg_wal");
  }
  const auto file = write_file("full-wal.json", R"({"description": "the primary's WAL disk full for 15 s",
      "healthy_timeout": "60s", "steps": [{"fault": "fill-wal-disk", "target": "primary", "delay": "2s", "duration": "15s"}]})");
  const std::string dir = lab_state() + "-full-wal";
  std::thread burst([&] {
    // Once the disk is full (the fill is journalled before it is sent, and on the disk a moment later): 8 s of new
    // WAL segments, through HAProxy, as the lab's superuser.
    const std::string fill = lab_state() + "/" + before["leader"].get<std::string>() + "/wal/pgchaos-wal-fill";
    eventually([&] { return std::filesystem::exists(fill); }, std::chrono::seconds(60), std::chrono::milliseconds(100));
    for (int i = 0; i < 25; ++i) {
      run("PGPASSWORD=" + lab_env("LAB_SUPERUSER_PASSWORD") +
          " psql -X -A -t 'host=127.0.0.1 port=5000 user=postgres dbname=postgres connect_timeout=2' -c 'SELECT pg_switch_wal()'");
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
  });
  r = scenario(file + " --seed 3", dir);
  burst.join();
  const auto report = report_of(dir);
  expect_exit_matches_verdict(r, report);
  EXPECT_EQ(report["verdict"], "valid") << r.output;
  EXPECT_EQ(report["operations"]["lost"].size(), 0u) << report["operations"].dump();
  ASSERT_EQ(report["faults"].size(), 1u);
  const std::string story = report["faults"][0]["story"];
  const std::string leader = before["leader"];
  EXPECT_NE(story.find(leader + "'s PostgreSQL panicked at "), std::string::npos) << story;
  EXPECT_NE(story.find("No space left on device"), std::string::npos) << story;
  EXPECT_NE(story.find("Patroni kept the leader lock and started it again"), std::string::npos) << story;
  EXPECT_GT(report["faults"][0]["probe_unavailable_s"].get<double>(), 0.0) << "writes stopped while the disk was full";
  // Freed: no fill on any node, nothing journalled, the cluster whole.
  for (const auto& n : before["nodes"])
    EXPECT_FALSE(std::filesystem::exists(lab_state() + "/" + n["name"].get<std::string>() + "/wal/pgchaos-wal-fill"));
  EXPECT_TRUE(journal()["active"].empty()) << journal().dump(1);
  expect_healthy(status(60));
}

void expect_nothing_left(const std::vector<std::string>& pids) {
  // No WAL disk mounted, no loop device on an image of the lab's (lab down unmounts before it removes anything).
  EXPECT_EQ(file_text("/proc/mounts").find(lab_state() + "/"), std::string::npos) << file_text("/proc/mounts");
  EXPECT_EQ(run("losetup -a").output.find(lab_state() + "/"), std::string::npos) << run("losetup -a").output;
  EXPECT_EQ(run("ip netns list").output.find("pgc"), std::string::npos);
  EXPECT_NE(run("ip link show pgchaos-br0").status, 0) << "the bridge is still there";
  EXPECT_FALSE(std::filesystem::exists(lab_state()));
  for (const auto& pid : pids) EXPECT_FALSE(running(pid)) << "pid " << pid << " survived";
}

TEST_F(Lab, DownLeavesNothingAndUpWorksAgain) {
  expect_supervisors_recorded();
  auto pids = recorded_pids();
  EXPECT_GT(pids.size(), 10u);
  Result r = lab("down");
  EXPECT_EQ(r.status, 0) << r.output;
  expect_nothing_left(pids);
  // up -> down -> up, the second time with five nodes and settings of its own.
  r = lab("up --timing fast --nodes 5 --set maximum_lag_on_failover=2097152 --set postgresql.parameters.wal_sender_timeout=7s");
  ASSERT_EQ(r.status, 0) << r.output;
  expect_healthy(status(), 5);
  const auto config = nlohmann::json::parse(run("curl -s http://" + ip_of(status(), status()["leader"]) + ":8008/config").output);
  EXPECT_EQ(config["maximum_lag_on_failover"], 2097152) << config.dump();
  EXPECT_EQ(config["postgresql"]["parameters"]["wal_sender_timeout"], "7s") << config.dump();
  EXPECT_EQ(config["ttl"], 10) << "the timing's own settings stay";
  pids = recorded_pids();
  EXPECT_EQ(lab("down").status, 0);
  expect_nothing_left(pids);
  // A setting Patroni does not have is refused before anything is created.
  r = lab("up --set tll=3");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("tll is not a Patroni dynamic setting"), std::string::npos) << r.output;
  EXPECT_EQ(run("ip netns list").output.find("pgc1"), std::string::npos) << "nothing was created";
}

// ---- the seed profile: the cluster as pg_cluster builds it (etcd over TLS with client certificates, Patroni's REST
// API over HTTPS with a password, PostgreSQL requiring TLS, pgbouncer behind HAProxy, a non-root operator with sudo).
// SeedLab.Up is the fixture's set-up (after the default lab is down), SeedLab.Down its clean-up.

class SeedLab : public Lab {};

Result operator_ssh(const std::string& ip, const std::string& command) {
  return run("ssh -i " + lab_state() + "/lab_key -o UserKnownHostsFile=" + lab_state() +
             "/known_hosts -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=5 pgchaos-lab@" + ip + " " +
             shell_quote(command));
}

// A scenario of the seed lab: valid or invalid by its findings alone, every loss with a cause, healthy after.
nlohmann::json seed_scenario(const std::string& args, const std::string& name, Result* result = nullptr) {
  const std::string dir = lab_state() + "-" + name;
  const Result r = scenario(args, dir);
  const auto report = report_of(dir);
  expect_exit_matches_verdict(r, report);
  expect_losses_add_up(report);
  for (const auto& l : report["operations"]["lost_detail"]) EXPECT_NE(l["cause"], "unexplained") << l.dump();
  if (result != nullptr) *result = r;
  return report;
}

TEST_F(SeedLab, Up) {
  lab("down");
  EXPECT_EQ(run("ip netns list").output.find("pgc1"), std::string::npos) << "a lab is already up";
  const Result up = lab("up --profile seed --timing fast");
  ASSERT_EQ(up.status, 0) << up.output;
  const auto s = status();
  expect_healthy(s);
  EXPECT_EQ(s["profile"], "seed");
  const std::string ip = ip_of(s, s["leader"]), ca = lab_state() + "/pki/ca.pem";
  // Patroni's REST API: HTTPS only, its certificate from the lab's CA, changes only with the password.
  EXPECT_NE(run("curl -sf -m 3 http://" + ip + ":8008/patroni").status, 0) << "plain HTTP must not answer";
  EXPECT_EQ(run("curl -sf -m 3 --cacert " + ca + " https://" + ip + ":8008/patroni").status, 0);
  EXPECT_NE(run("curl -s -m 3 --cacert " + ca + " -X PATCH -d '{}' https://" + ip + ":8008/config").output.find("no auth"),
            std::string::npos) << "a change without the password is refused";
  // etcd: TLS with a client certificate from the lab's PKI, nothing without one.
  const std::string etcd = "ETCDCTL_API=3 etcdctl --endpoints=https://" + ip + ":2379 --cacert " + ca + " --command-timeout=3s ";
  EXPECT_NE(run(etcd + "member list").status, 0) << "etcd answers without a client certificate";
  EXPECT_EQ(run(etcd + "--cert " + lab_state() + "/pki/client.pem --key " + lab_state() + "/pki/client-key.pem member list").status, 0);
  // PostgreSQL: TLS or nothing; HAProxy's primary port leads to the primary's pgbouncer.
  const std::string password = lab_env("LAB_BANK_PASSWORD");
  EXPECT_NE(run("PGPASSWORD=" + password + " psql -X -At -c 'SELECT 1' 'host=" + ip + " dbname=bank user=bank sslmode=disable'").status, 0);
  const Result through = run("PGPASSWORD=" + password + " psql -X -At -c 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()' "
                             "'host=127.0.0.1 port=5000 dbname=bank user=bank sslmode=verify-full sslrootcert=" + ca + "'");
  EXPECT_EQ(through.status, 0) << through.output;
  EXPECT_EQ(through.output, "f\n") << "through pgbouncer (its Unix socket to PostgreSQL), not straight to PostgreSQL";
  // The operator: logs in as itself, sudo without a password for the listed programs only.
  EXPECT_EQ(operator_ssh(ip, "id -un").output, "pgchaos-lab\n");
  EXPECT_EQ(operator_ssh(ip, "sudo -n -- systemctl is-active pgbouncer").output, "active\n");
  const Result refused = operator_ssh(ip, "sudo -n -- /usr/bin/id");
  EXPECT_NE(refused.status, 0) << refused.output;
}

// The README's main job on the seed lab: through HAProxy and pgbouncer over verified TLS, no prepared statement.
TEST_F(SeedLab, TheMainJobRunsThroughPgbouncerOverVerifiedTls) {
  const std::string dir = lab_state() + "-main";
  std::filesystem::remove_all(dir);
  const Result r = run(std::string(PGCHAOS_BINARY) + " run --conf " + lab_state() + "/pgchaos.conf --operations 5000 --output " + dir);
  const auto report = report_of(dir);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(report["verdict"], "valid") << report["reasons"].dump();
  EXPECT_EQ(report["counts"]["acknowledged"], 5000);
  EXPECT_TRUE(report["cluster"]["split_brains"].empty()) << report["cluster"]["split_brains"].dump();
  ASSERT_EQ(report["nodes"].size(), 2u);
  for (const auto& n : report["nodes"]) {
    EXPECT_TRUE(n["compared"].get<bool>()) << n.dump();
    EXPECT_TRUE(n["missing_ops"].empty() && n["extra_ops"].empty()) << n.dump();
  }
  // The server behind pgbouncer is named as the watcher names it (its listen address), never "local".
  EXPECT_EQ(file_text(dir + "/history.jsonl").find("\"local:"), std::string::npos);
}

// A wrong REST password: refused before anything starts, in one line naming the node and the setting.
TEST_F(SeedLab, AWrongRestPasswordIsRefusedBeforeAnythingStarts) {
  const auto wrong_password = write_file("wrong-password", "not-the-password\n");
  ::chmod(wrong_password.c_str(), 0600);
  const std::string conf = std::regex_replace(file_text(lab_state() + "/pgchaos.conf"), std::regex("rest_password_file = .*"),
                                              "rest_password_file = " + wrong_password);
  const auto conf_file = write_file("wrong-password.conf", conf);
  const std::string dir = lab_state() + "-wrong-password-run";
  std::filesystem::remove_all(dir);
  const Result r = run(std::string(PGCHAOS_BINARY) + " scenario switchover-storm --commit-mode sync --conf " + conf_file +
                       " --output " + dir);
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("401"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("rest_user"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("not-the-password"), std::string::npos) << "never printed";
  EXPECT_FALSE(std::filesystem::exists(dir + "/history.jsonl")) << "nothing ran";
  const auto config = run("curl -s --cacert " + lab_state() + "/pki/ca.pem https://" + ip_of(status(), "pgc1") + ":8008/config");
  EXPECT_EQ(config.output.find("synchronous_mode\": true"), std::string::npos) << "the commit mode was not changed";
}

// Every switchover through patronictl (sudo, HTTPS, the REST password) took effect or was refused with Patroni's reason.
TEST_F(SeedLab, SwitchoverStormInSyncModeLosesNothing) {
  const auto report = seed_scenario("switchover-storm --commit-mode sync --seed 1", "storm");
  EXPECT_EQ(report["verdict"], "valid") << report["reasons"].dump();
  EXPECT_TRUE(report["operations"]["lost"].empty());
  ASSERT_EQ(report["faults"].size(), 5u);
  for (const auto& f : report["faults"]) {
    if (f["exit_status"] != 0) {
      EXPECT_NE(f["story"].get<std::string>().find("refused"), std::string::npos) << f.dump();
      continue;
    }
    ASSERT_FALSE(f["promotions"].empty()) << f["story"];
    EXPECT_EQ(f["promotions"].back()["node"], f["target"]) << f["story"];
  }
  expect_healthy_or_reported(report);
}

TEST_F(SeedLab, CrashOfThePrimaryFailsOverWithEveryLossExplained) {
  const auto report = seed_scenario("crash-primary --commit-mode async --seed 2", "crash");
  EXPECT_EQ(report["verdict"], report["findings"].empty() ? "valid" : "invalid") << report["reasons"].dump();
  ASSERT_EQ(report["faults"].size(), 1u);
  EXPECT_EQ(report["faults"][0]["exit_status"], 0) << report["faults"][0].dump();
  ASSERT_FALSE(report["faults"][0]["promotions"].empty()) << report["faults"][0]["story"];
  expect_healthy_or_reported(report);
}

TEST_F(SeedLab, TerminatedBackendsThroughPgbouncerLoseNothing) {
  const auto report = seed_scenario("terminate-backends --seed 3", "terminate");
  EXPECT_EQ(report["verdict"], "valid") << report["reasons"].dump();
  EXPECT_TRUE(report["operations"]["lost"].empty());
  for (const auto& f : report["faults"]) EXPECT_EQ(f["exit_status"], 0) << f.dump();
}

// pgbouncer paused, killed and restarted on the primary's node: each took effect, no commit is lost or phantom, and
// what pgbouncer dropped in flight was resolved.
TEST_F(SeedLab, PgbouncerFaultsLoseNothingAndResolveWhatTheyDropped) {
  const auto report = seed_scenario("pgbouncer --seed 1", "pgbouncer");
  EXPECT_EQ(report["verdict"], "valid") << report["reasons"].dump();
  ASSERT_EQ(report["faults"].size(), 3u);
  for (const auto& f : report["faults"]) {
    EXPECT_EQ(f["exit_status"], 0) << f.dump();
    EXPECT_TRUE(f["promotions"].empty()) << "pgbouncer's faults move no leader: " << f["story"];
  }
  EXPECT_TRUE(report["operations"]["lost"].empty());
  EXPECT_TRUE(report["operations"]["phantom"].empty());
  // Every attempt pgbouncer dropped in flight is resolved, one way or the other, against the ledger.
  EXPECT_EQ(report["counts"]["unknown_attempts"].get<std::size_t>(),
            report["operations"]["unknown_committed"].size() + report["operations"]["unknown_not_committed"].size());
  EXPECT_EQ(report["operations"]["contradicted_resolutions"].size(), 0u);
  const auto now = status(60);
  for (const auto& n : now["nodes"])
    EXPECT_EQ(operator_ssh(n["ip"], "sudo -n -- systemctl is-active pgbouncer").output, "active\n") << n["name"];
  expect_healthy_or_reported(report);
}

// Last: a split brain (Patroni 3.0.2) may leave the cluster on two histories, and SeedLab.Down follows. The
// library's partition-primary, with a shorter wait for a healthy cluster: one that never heals costs two waits.
TEST_F(SeedLab, APartitionedPrimaryIsToldWithItsCauses) {
  const auto file = write_file("partition.json", R"({"healthy_timeout": "40s", "steps": [
    {"fault": "partition", "target": "primary", "delay": "3s", "duration": "30s"}]})");
  const auto report = seed_scenario(file + " --commit-mode async --seed 4", "partition");
  EXPECT_NE(report["verdict"], "unknown") << report["reasons"].dump();
  ASSERT_EQ(report["faults"].size(), 1u);
  EXPECT_EQ(report["faults"][0]["exit_status"], 0) << report["faults"][0].dump();
  if (!report["cluster"]["split_brains"].empty()) {
    EXPECT_EQ(report["verdict"], "invalid") << report["headline"];
  }
}

TEST_F(SeedLab, Down) {
  const auto pids = recorded_pids();
  const Result r = lab("down");
  EXPECT_EQ(r.status, 0) << r.output;
  expect_nothing_left(pids);
  EXPECT_FALSE(std::filesystem::exists("/etc/sudoers.d/pgchaos-lab")) << "the operator's sudo rights are gone";
  EXPECT_NE(run("id -u pgchaos-lab").status, 0) << "the operator is gone";
}

}  // namespace
}  // namespace pgchaos
