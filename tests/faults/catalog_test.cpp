#include <gtest/gtest.h>

#include "faults/catalog.h"
#include "faults/patroni_sync.h"
#include "tests/support/fake_remote.h"

namespace pgchaos::faults {
namespace {

using testing::FakeCluster;
using testing::SentCommand;

// Three nodes behind fake Remotes, a fixed topology (leader pgc1), the default templates.
class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::make_fake_cluster({"pgc1", "pgc2", hostile_}, fake_, cluster_, topology_ptr_);
    cluster_.application_name = "pg'chaos";
  }

  const SentCommand& only_command() {
    EXPECT_EQ(log_->size(), 1u);
    return log_->front();
  }

  const std::string hostile_ = "pgc3;rm -rf /";  // a node name a shell must never interpret
  std::shared_ptr<FakeCluster> fake_ = std::make_shared<FakeCluster>();
  std::vector<SentCommand>* log_ = &fake_->sent;
  ClusterContext cluster_;
  std::shared_ptr<Topology> topology_ptr_ = std::make_shared<Topology>();
  Topology& topology_ = *topology_ptr_;
};

TEST(Catalog, ARandomStepDrawsNeitherHealsNorTheFaultsThatNeedSyncMode) {
  const auto drawn = fault_names_drawn_at_random();
  for (const char* never : {"heal", "start-patroni", "resume", "cancel-sync-waits", "block-replication", "restart-pgbouncer",
                            "pause-pgbouncer", "resume-pgbouncer", "kill-pgbouncer", "start-pgbouncer"})
    EXPECT_EQ(std::count(drawn.begin(), drawn.end(), never), 0) << never;
  for (const char* drawable : {"switchover", "crash", "partition", "pause", "terminate-backends"})
    EXPECT_EQ(std::count(drawn.begin(), drawn.end(), drawable), 1) << drawable;
  const auto all = fault_names();
  EXPECT_TRUE(std::is_sorted(drawn.begin(), drawn.end(), [&](const auto& a, const auto& b) {
    return std::find(all.begin(), all.end(), a) < std::find(all.begin(), all.end(), b);
  })) << "in catalog order, so that a seed draws what it drew before";
}

TEST(Command, QuotesEveryWordOnce) {
  const Command c = expand("patronictl -c {config} restart {scope} {node} --force",
                           {{"config", {"/etc/patroni/a b.yml"}}, {"scope", {"main"}}, {"node", {"x'; reboot; '"}}});
  EXPECT_EQ(c.argv, (std::vector<std::string>{"patronictl", "-c", "/etc/patroni/a b.yml", "restart", "main",
                                               "x'; reboot; '", "--force"}));
  EXPECT_EQ(c.shell(), "patronictl -c '/etc/patroni/a b.yml' restart main 'x'\\''; reboot; '\\''' --force");
}

TEST(Command, ListPlaceholdersBecomeSeveralWordsAndQuotedTemplateWordsStayWhole) {
  const Command c = expand("sh -c 'for ip in \"$@\"; do echo $ip; done' pgchaos {peers}", {{"peers", {"10.0.0.1", "10.0.0.2"}}});
  ASSERT_EQ(c.argv.size(), 6u);
  EXPECT_EQ(c.argv[2], "for ip in \"$@\"; do echo $ip; done");
  EXPECT_EQ(c.argv[5], "10.0.0.2");
  const Command braces = expand("nft \"add chain t input { type filter hook input priority 0 ; }\" {x}", {{"x", {"1"}}});
  EXPECT_EQ(braces.argv[1], "add chain t input { type filter hook input priority 0 ; }") << "nft's braces are no placeholder";
}

TEST(Command, UnknownPlaceholdersAndBadTemplatesAreErrors) {
  EXPECT_THROW(expand("systemctl stop {unit}", {}), FaultError);
  EXPECT_THROW(expand("sh -c 'unterminated", {}), FaultError);
  EXPECT_THROW(expand("   ", {}), FaultError);
}

TEST_F(CatalogTest, SwitchoverRunsOnTheLeaderWithLeaderAndCandidate) {
  auto fault = make_fault("switchover");
  const auto action = fault->start(cluster_, "pgc2", 0);
  const auto& sent = only_command();
  EXPECT_EQ(sent.node, "pgc1");
  EXPECT_EQ(sent.command.argv, (std::vector<std::string>{"patronictl", "-c", "/var/lab/pgc1/patroni.yml", "switchover",
                                                          "main", "--leader", "pgc1", "--candidate", "pgc2", "--force"}));
  EXPECT_EQ(action.target, "pgc2");
  EXPECT_TRUE(fault->heal(cluster_).empty()) << "a switchover ends by itself";
  EXPECT_THROW(make_fault("switchover")->start(cluster_, "pgc1", 0), FaultError) << "the leader cannot be the candidate";
}

TEST_F(CatalogTest, InSyncModeASwitchoverGoesToTheSynchronousStandby) {
  topology_.members[2].sync_standby = true;  // the hostile-named node is the sync standby
  for (std::uint64_t choice = 0; choice < 4; ++choice) make_fault("switchover")->start(cluster_, "replica", choice);
  ASSERT_EQ(log_->size(), 4u);
  for (const auto& sent : *log_) EXPECT_EQ(sent.command.argv[8], hostile_) << "Patroni refuses any other candidate";
}

// patronictl prints "Switchover failed" and exits 0: pgchaos must not count that as a switchover.
class FailingPatronictl : public Remote {
 public:
  CommandResult execute(const Command&, std::chrono::seconds) override {
    return {0, "Switchover failed, details: 412, candidate name does not match with sync_standby\n", ""};
  }
};

TEST_F(CatalogTest, ASwitchoverPatronictlCallsFailedIsAFailure) {
  cluster_.remotes["pgc1"] = std::make_unique<FailingPatronictl>();
  const auto action = make_fault("switchover")->start(cluster_, "pgc2", 0);
  EXPECT_EQ(action.result.exit_status, 1);
  EXPECT_NE(action.result.err.find("Switchover failed"), std::string::npos);
}

class SucceedingFailover : public Remote {
 public:
  CommandResult execute(const Command&, std::chrono::seconds) override {
    return {0, "2026-11-28 05:30:01.5 Successfully failed over to \"pgc2\"\n", ""};
  }
};

TEST_F(CatalogTest, ASuccessfulFailoverIsNotMistakenForAFailure) {
  cluster_.remotes["pgc1"] = std::make_unique<SucceedingFailover>();
  EXPECT_EQ(make_fault("failover")->start(cluster_, "pgc2", 0).result.exit_status, 0);
}

TEST_F(CatalogTest, RebootAndCrashTakeNodesDownAfterReturning) {
  EXPECT_TRUE(make_fault("reboot")->takes_nodes_down());
  EXPECT_TRUE(make_fault("crash")->takes_nodes_down());
  EXPECT_FALSE(make_fault("switchover")->takes_nodes_down());
}

TEST_F(CatalogTest, ReplicaTargetIsDrawnByTheChoice) {
  make_fault("restart")->start(cluster_, "replica", 0);
  make_fault("restart")->start(cluster_, "replica", 1);
  ASSERT_EQ(log_->size(), 2u);
  EXPECT_EQ((*log_)[0].node, "pgc2");
  EXPECT_EQ((*log_)[1].node, hostile_);
  EXPECT_EQ((*log_)[1].command.argv[5], hostile_) << "restart names the node it runs on";
}

TEST_F(CatalogTest, HostileNodeNamesAreQuotedInTheShellString) {
  make_fault("restart")->start(cluster_, hostile_, 0);
  const auto shell = only_command().command.shell();
  EXPECT_NE(shell.find("'pgc3;rm -rf /'"), std::string::npos) << shell;
  EXPECT_NE(shell.find("'/var/lab/pgc3;rm -rf //patroni.yml'"), std::string::npos) << shell;
}

TEST_F(CatalogTest, TerminateBackendsRunsOnThePrimaryWithASqlQuotedName) {
  make_fault("terminate-backends")->start(cluster_, "pgc2", 0);
  const auto& sent = only_command();
  EXPECT_EQ(sent.node, "pgc1") << "whatever the target, the sessions live on the primary";
  EXPECT_NE(sent.command.argv.back().find("application_name = 'pg''chaos'"), std::string::npos) << sent.command.argv.back();
}

TEST_F(CatalogTest, KillPostgresUsesPostmasterPidNeverAProcessName) {
  make_fault("kill-postgres")->start(cluster_, "primary", 0);
  const auto& argv = only_command().command.argv;
  EXPECT_EQ(argv.front(), "sh");
  EXPECT_NE(argv[2].find("postmaster.pid"), std::string::npos);
  EXPECT_EQ(argv.back(), "/var/lab/pgc1/data");
  for (const auto& word : argv) EXPECT_EQ(word.find("pkill"), std::string::npos);
}

TEST_F(CatalogTest, PartitionCutsThePeersAndItsHealUndoesItOnTheSameNode) {
  auto fault = make_fault("partition");
  fault->start(cluster_, "primary", 0);
  ASSERT_EQ(log_->size(), 1u);
  const auto& argv = (*log_)[0].command.argv;
  EXPECT_EQ((*log_)[0].node, "pgc1");
  EXPECT_EQ(std::vector<std::string>(argv.end() - 2, argv.end()), (std::vector<std::string>{"10.0.0.12", "10.0.0.13"}));
  const auto healed = fault->heal(cluster_);
  ASSERT_EQ(healed.size(), 1u);
  EXPECT_EQ((*log_)[1].node, "pgc1");
  EXPECT_EQ((*log_)[1].command.argv, (std::vector<std::string>{"nft", "delete", "table", "inet", "pgchaos_partition"}));
}

TEST_F(CatalogTest, StopPatroniIsHealedByStartAndPauseByResume) {
  auto stop = make_fault("stop-patroni");
  stop->start(cluster_, "pgc2", 0);
  stop->heal(cluster_);
  auto pause = make_fault("pause");
  pause->start(cluster_, "pgc2", 0);
  pause->heal(cluster_);
  ASSERT_EQ(log_->size(), 4u);
  EXPECT_EQ((*log_)[0].command.shell(), "systemctl stop patroni");
  EXPECT_EQ((*log_)[1].command.shell(), "systemctl start patroni");
  EXPECT_NE((*log_)[2].command.argv[2].find("kill -STOP"), std::string::npos);
  EXPECT_NE((*log_)[3].command.argv[2].find("kill -CONT"), std::string::npos);
}

// pgbouncer's faults act on the pgbouncer of the node they target (the primary's by default: the one HAProxy sends
// the writes to); a pause is healed by RESUME on its admin console and a kill by starting the unit again.
TEST_F(CatalogTest, PgbouncerFaultsTargetThePrimarysPgbouncerAndHealWhatTheyDid) {
  auto pause = make_fault("pause-pgbouncer");
  const FaultAction paused = pause->start(cluster_, "", 0);
  EXPECT_EQ(paused.target, "pgc1");
  EXPECT_EQ(paused.roles, "primary");
  pause->heal(cluster_);
  auto kill = make_fault("kill-pgbouncer");
  kill->start(cluster_, "pgc2", 0);
  kill->heal(cluster_);
  auto restart = make_fault("restart-pgbouncer");
  restart->start(cluster_, "", 0);
  EXPECT_TRUE(restart->heal(cluster_).empty()) << "a restart ends by itself";
  ASSERT_EQ(log_->size(), 5u);
  EXPECT_EQ((*log_)[0].node, "pgc1");
  EXPECT_EQ((*log_)[0].command.argv.back(), "PAUSE");
  EXPECT_EQ((*log_)[1].node, "pgc1");
  EXPECT_EQ((*log_)[1].command.argv.back(), "RESUME");
  EXPECT_EQ((*log_)[2].node, "pgc2");
  EXPECT_EQ((*log_)[2].command.shell(), "systemctl kill --signal=SIGKILL pgbouncer");
  EXPECT_EQ((*log_)[3].command.shell(), "systemctl start pgbouncer");
  EXPECT_EQ((*log_)[4].command.shell(), "systemctl restart pgbouncer");
}

// An operator who logs in as himself: every command goes through `sudo -n --` (never a password prompt), and a
// sudo that refuses is told as such, with the command it refused and what to change.
TEST_F(CatalogTest, WithSudoEveryCommandRunsThroughSudoAndARefusalSaysWhatToFix) {
  cluster_.sudo = true;
  auto stop = make_fault("stop-patroni");
  stop->start(cluster_, "pgc2", 0);
  ASSERT_EQ(log_->size(), 1u);
  EXPECT_EQ((*log_)[0].command.shell(), "sudo -n -- systemctl stop patroni");
  EXPECT_EQ(cluster_.command_for("heal-partition", "pgc1").shell(), "sudo -n -- nft delete table inet pgchaos_partition");

  fake_->answer("systemctl start patroni",
                CommandResult{1, "", "sudo: a password is required\n"});
  const auto healed = stop->heal(cluster_);
  ASSERT_EQ(healed.size(), 1u);
  EXPECT_EQ(healed[0].result.exit_status, 1);
  const std::string why = failure_text(healed[0].result);
  EXPECT_NE(why.find("sudo on pgc2 refused `systemctl start patroni` (sudo: a password is required)"), std::string::npos) << why;
  EXPECT_NE(why.find("NOPASSWD"), std::string::npos) << why;
  fake_->rules.insert(fake_->rules.begin(), [](const SentCommand& c) -> std::optional<CommandResult> {
    if (c.command.shell().find("kill -STOP") == std::string::npos) return std::nullopt;
    return CommandResult{1, "", "Sorry, user alice is not allowed to execute '/bin/sh -c ...' as root on db2.\n"};
  });
  auto pause = make_fault("pause");
  const std::string refused = failure_text(pause->start(cluster_, "pgc2", 0).result);
  EXPECT_NE(refused.find("sudo on pgc2 refused `sh -c"), std::string::npos) << refused;
  EXPECT_NE(refused.find("(Sorry, user alice is not allowed"), std::string::npos) << refused;
  // The command's own failure under sudo is its own, not sudo's.
  fake_->answer("systemctl stop patroni", CommandResult{1, "", "Failed to stop patroni.service: Unit not loaded.\n"});
  EXPECT_EQ(failure_text(stop->start(cluster_, "pgc2", 0).result), "Failed to stop patroni.service: Unit not loaded.");
}

TEST_F(CatalogTest, TargetAllActsOnEveryNodeAndUnknownsAreErrors) {
  make_fault("reboot")->start(cluster_, "all", 0);
  EXPECT_EQ(log_->size(), 3u);
  for (const auto& sent : *log_) EXPECT_EQ(sent.command.shell(), "shutdown -r now");
  EXPECT_THROW(make_fault("reboot")->start(cluster_, "pgc9", 0), FaultError);
  EXPECT_THROW(make_fault("meteor-strike"), FaultError);
  topology_.leader.clear();
  EXPECT_THROW(make_fault("crash")->start(cluster_, "primary", 0), FaultError) << "no primary, no primary target";
}

TEST_F(CatalogTest, CommandsComeFromTheConfigurationWhenOverridden) {
  cluster_.templates["crash"] = "pgchaos-node crash 3";
  make_fault("crash")->start(cluster_, "node:2", 0);
  EXPECT_EQ(only_command().node, "pgc2");
  EXPECT_EQ(only_command().command.shell(), "pgchaos-node crash 3");
}

TEST(Topology, PatronictlListIsTheFallback) {
  // As patronictl 3.0.2 prints it.
  const auto t = topology_from_patronictl(R"([
    {"Cluster": "main", "Member": "pgc1", "Host": "10.213.7.11", "Role": "Replica", "State": "running", "TL": 3, "Lag in MB": 0},
    {"Cluster": "main", "Member": "pgc2", "Host": "10.213.7.12", "Role": "Leader", "State": "running", "TL": 3},
    {"Cluster": "main", "Member": "pgc3", "Host": "10.213.7.13", "Role": "Replica", "State": "running", "TL": 2, "Lag in MB": 0}])");
  EXPECT_EQ(t.leader, "pgc2");
  EXPECT_FALSE(t.healthy());
  ASSERT_EQ(t.problems.size(), 1u);
  EXPECT_NE(t.problems[0].find("pgc3: timeline 2"), std::string::npos) << t.problems[0];
  EXPECT_EQ(t.replicas(), (std::vector<std::string>{"pgc1", "pgc3"}));
  const auto two_leaders = topology_from_patronictl(R"([{"Member": "a", "Role": "Leader", "State": "running", "TL": 1},
                                                        {"Member": "b", "Role": "Leader", "State": "running", "TL": 1}])");
  EXPECT_TRUE(two_leaders.leader.empty());
  EXPECT_FALSE(two_leaders.healthy());
}

TEST_F(CatalogTest, NoRestApiFallsBackToPatronictlOverSsh) {
  cluster_.topology = [this] { return cluster_.topology_with_fallback(); };
  cluster_.nodes[0].rest_url = "http://127.0.0.1:1";  // nothing listens there
  cluster_.nodes[1].rest_url = "http://127.0.0.1:1";
  cluster_.nodes[2].rest_url = "http://127.0.0.1:1";
  cluster_.topology();
  ASSERT_FALSE(log_->empty());
  EXPECT_EQ((*log_)[0].command.shell(), "patronictl -c /var/lab/pgc1/patroni.yml list main -f json");
}

TEST_F(CatalogTest, CancelSyncWaitsCancelsOnlyPgchaosSessionsWaitingForTheStandby) {
  auto fault = make_fault("cancel-sync-waits");
  const auto action = fault->start(cluster_, "", 0);
  const auto& sent = only_command();
  EXPECT_EQ(sent.node, "pgc1") << "runs on the primary";
  EXPECT_EQ(action.target, "pgc1");
  const std::string shell = sent.command.shell();
  EXPECT_NE(shell.find("pg_cancel_backend(pid)"), std::string::npos) << shell;
  EXPECT_NE(shell.find("wait_event = '\\''SyncRep'\\''"), std::string::npos) << shell;
  EXPECT_NE(shell.find("application_name = '\\''pg'\\'''\\''chaos'\\''"), std::string::npos)
      << "the SQL literal of pg'chaos, quoted once more for the shell: " << shell;
  EXPECT_TRUE(fault->heal(cluster_).empty());
}

TEST_F(CatalogTest, BlockReplicationTargetsTheSyncStandbyAndIsHealedOnIt) {
  auto fault = make_fault("block-replication");
  EXPECT_THROW(fault->start(cluster_, "", 0), FaultError) << "no synchronous standby: nothing to target";
  topology_.members[1].sync_standby = true;  // pgc2 is the synchronous standby
  const auto action = fault->start(cluster_, "", 0);
  EXPECT_EQ(action.target, "pgc2");
  const auto& sent = only_command();
  EXPECT_EQ(sent.node, "pgc2");
  EXPECT_EQ(sent.command.argv.back(), "10.0.0.13") << "its peers' addresses";
  EXPECT_NE(sent.command.shell().find("tcp sport"), std::string::npos);
  log_->clear();
  const auto healed = fault->heal(cluster_);
  ASSERT_EQ(healed.size(), 1u);
  EXPECT_EQ(only_command().node, "pgc2");
  EXPECT_EQ(only_command().command.shell(), "nft delete table inet pgchaos_replication");
  // The other replica is the async one.
  EXPECT_EQ(resolve_target("async-replica", topology_, cluster_.nodes, 0), std::vector<std::string>{hostile_});
  topology_.members[2].sync_standby = true;
  EXPECT_THROW(resolve_target("async-replica", topology_, cluster_.nodes, 0), FaultError);
}

TEST_F(CatalogTest, AnEmptySettingIsAnEmptyValueNotABrokenTemplate) {
  cluster_.settings["unused"] = "";  // a configuration line `unused =` once made every command "empty"
  make_fault("switchover")->start(cluster_, "pgc2", 0);
  EXPECT_EQ(only_command().command.argv.front(), "patronictl");
}

// A full WAL disk runs only where the configuration allows it; then it fills the directory the configuration names
// (its own disk on the lab), on the primary by default, and its heal frees the same node's.
TEST_F(CatalogTest, FillWalDiskIsRefusedUnlessAllowedAndFreedOnTheSameNode) {
  cluster_.settings["wal_fill_dir"] = "/srv/wal disk";
  try {
    make_fault("fill-wal-disk")->start(cluster_, "", 0);
    ADD_FAILURE() << "started without allow_fill_wal_disk";
  } catch (const FaultError& error) {
    EXPECT_NE(std::string(error.what()).find("allow_fill_wal_disk = true"), std::string::npos) << error.what();
  }
  EXPECT_TRUE(log_->empty()) << "a refused fault sends nothing";
  cluster_.settings["allow_fill_wal_disk"] = "false";
  EXPECT_THROW(make_fault("fill-wal-disk")->start(cluster_, "", 0), FaultError);
  cluster_.settings["allow_fill_wal_disk"] = "true";
  auto fill = make_fault("fill-wal-disk");
  const auto action = fill->start(cluster_, "", 0);
  ASSERT_EQ(log_->size(), 1u);
  EXPECT_EQ((*log_)[0].node, "pgc1");
  EXPECT_EQ(action.roles, "primary");
  EXPECT_EQ((*log_)[0].command.argv.back(), "/srv/wal disk") << "the directory is one word, quoted";
  EXPECT_NE((*log_)[0].command.argv[2].find("fallocate"), std::string::npos);
  fill->heal(cluster_);
  ASSERT_EQ(log_->size(), 2u);
  EXPECT_EQ((*log_)[1].node, "pgc1");
  EXPECT_NE((*log_)[1].command.argv[2].find("rm -f"), std::string::npos);
  EXPECT_EQ((*log_)[1].command.argv.back(), "/srv/wal disk");
  cluster_.settings.erase("wal_fill_dir");
  const auto by_default = cluster_.command_for("fill-wal-disk", "pgc1").argv.back();
  EXPECT_EQ(by_default, cluster_.command_for("controldata", "pgc1").argv.back() + "/pg_wal") << "inside pg_wal by default";
  EXPECT_EQ(refusal_of("fill-wal-disk", {{"allow_fill_wal_disk", "true"}}), "");
  EXPECT_EQ(refusal_of("partition", {}), "") << "only the fault that fills a disk asks for more";
  bool checkable = false;
  for (const auto& f : checkable_faults()) checkable = checkable || (f.fault == "fill-wal-disk" && f.heal_action == "free-wal-disk");
  EXPECT_TRUE(checkable) << "a fill left behind is found by pgchaos heal --all";
}

// etcd's own leader as a target: each node's member answers `etcdctl endpoint status -w json` (etcd 3.4's shape); the
// node whose member_id is the leader's is dcs-leader, the others dcs-members, and the role recorded is the DCS's.
TEST_F(CatalogTest, DcsTargetsAreFoundByAskingEachNodesEtcdMember) {
  const std::map<std::string, std::string> member_of = {{"pgc1", "111"}, {"pgc2", "10276657743932975437"}, {hostile_, "333"}};
  fake_->rules.push_back([&](const SentCommand& c) -> std::optional<CommandResult> {
    if (c.command.argv.front() != "etcdctl") return std::nullopt;
    return CommandResult{0, R"([{"Endpoint":"http://127.0.0.1:2379","Status":{"header":{"cluster_id":1,"member_id":)" +
                                member_of.at(c.node) + R"(,"revision":9,"raft_term":2},"version":"3.4.23","leader":10276657743932975437}}])",
                         ""};
  });
  auto pause = make_fault("pause-etcd");
  auto action = pause->start(cluster_, "dcs-leader", 0);
  EXPECT_EQ(action.target, "pgc2") << "the member that leads, though pgc1 leads Patroni";
  EXPECT_EQ(action.roles, "dcs-leader");
  EXPECT_EQ(log_->back().command.shell(), "systemctl kill --kill-whom=main --signal=SIGSTOP etcd");
  EXPECT_EQ(make_fault("pause-etcd")->start(cluster_, "dcs-member", 0).target, "pgc1");
  action = make_fault("pause-etcd")->start(cluster_, "dcs-member", 1);
  EXPECT_EQ(action.target, hostile_);
  EXPECT_EQ(action.roles, "dcs-member");
  // No member says it leads (etcd without quorum, or etcdctl missing): an error that says what was asked.
  fake_->rules.clear();
  fake_->answer("etcdctl", {1, "", "context deadline exceeded"});
  try {
    make_fault("pause-etcd")->start(cluster_, "dcs-leader", 0);
    ADD_FAILURE() << "a DCS leader out of nothing";
  } catch (const FaultError& error) {
    EXPECT_NE(std::string(error.what()).find("no etcd member says it leads"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("context deadline exceeded"), std::string::npos) << error.what();
  }
}

TEST(Catalog, EveryListedFaultExists) {
  for (const auto& name : fault_names()) EXPECT_EQ(make_fault(name)->name(), name);
  EXPECT_GE(fault_names().size(), 13u);
}

}  // namespace
}  // namespace pgchaos::faults
