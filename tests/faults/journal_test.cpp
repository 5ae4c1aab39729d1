// The fault journal and the look for leftovers, with fake Remotes: what a pgchaos killed mid-fault leaves behind
// must be on disk before the node is touched, and gone only once the heal took.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "faults/catalog.h"
#include "faults/journal.h"
#include "tests/support/fake_remote.h"
#include "tests/support/temp_directory.h"

namespace pgchaos::faults {
namespace {

using testing::FakeCluster;

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::make_fake_cluster({"pgc1", "pgc2", "pgc3"}, fake_, cluster_, topology_);
    cluster_.journal = std::make_shared<FaultJournal>(journal_path(dir_ / "pgchaos.conf", "main", ""));
    cluster_.journal->set_run_directory("/runs/one");
    cluster_.configuration = (dir_ / "pgchaos.conf").string();
  }
  std::string refusal() {
    try {
      refuse_leftovers(cluster_, [this](const std::string& line) { warnings_.push_back(line); });
    } catch (const FaultError& error) {
      return error.what();
    }
    return "";
  }

  testing::TempDirectory dir_{"pgchaos-journal"};
  std::shared_ptr<FakeCluster> fake_ = std::make_shared<FakeCluster>();
  ClusterContext cluster_;
  std::shared_ptr<Topology> topology_ = std::make_shared<Topology>();
  std::vector<std::string> warnings_;
};

TEST_F(JournalTest, ItLivesBesideTheConfigurationOnePerScopeUnlessTheSettingSaysWhere) {
  EXPECT_EQ(journal_path("/etc/pgchaos/prod.conf", "main", ""), "/etc/pgchaos/pgchaos-journal-main.json");
  EXPECT_EQ(journal_path("/etc/pgchaos/prod.conf", "a/../b c", ""), "/etc/pgchaos/pgchaos-journal-a____b_c.json")
      << "a scope never leads the file elsewhere";
  EXPECT_EQ(journal_path("/etc/pgchaos/prod.conf", "main", "/var/lib/pgchaos/j.json"), "/var/lib/pgchaos/j.json");
}

TEST_F(JournalTest, AFaultIsJournalledBeforeItsCommandIsSentAndRemovedOnceHealed) {
  std::vector<JournalEntry> seen_when_sent;
  fake_->rules.push_back([&](const testing::SentCommand& c) -> std::optional<CommandResult> {
    if (c.command.shell().find("add table inet pgchaos_partition") != std::string::npos)
      seen_when_sent = cluster_.journal->entries();
    return std::nullopt;
  });
  auto fault = make_fault("partition");
  fault->start(cluster_, "primary", 0);
  ASSERT_EQ(seen_when_sent.size(), 1u) << "on disk before the node was touched";
  const auto& e = seen_when_sent.front();
  EXPECT_EQ(e.fault, "partition");
  EXPECT_EQ(e.node, "pgc1");
  EXPECT_EQ(e.heal_action, "heal-partition");
  EXPECT_EQ(e.heal_argv, (std::vector<std::string>{"nft", "delete", "table", "inet", "pgchaos_partition"}));
  EXPECT_EQ(e.run_directory, "/runs/one");
  EXPECT_EQ(e.pid, static_cast<long>(::getpid()));
  EXPECT_FALSE(e.started_at.empty());
  // A second reader (another pgchaos, `pgchaos heal`) sees the same file.
  EXPECT_EQ(FaultJournal(cluster_.journal->file()).entries().size(), 1u);
  const auto healed = fault->heal(cluster_);
  ASSERT_EQ(healed.size(), 1u);
  EXPECT_TRUE(cluster_.journal->entries().empty());
}

TEST_F(JournalTest, AFaultWhoseNodeCannotBeReachedLeavesNothingJournalled) {
  fake_->rules.push_back([](const testing::SentCommand&) -> std::optional<CommandResult> {
    throw FaultError("ssh pgc1: connection refused");
  });
  EXPECT_THROW(make_fault("partition")->start(cluster_, "primary", 0), FaultError);
  EXPECT_TRUE(cluster_.journal->entries().empty()) << "the command never ran";
}

TEST_F(JournalTest, AFaultThatEndsByItselfIsNotJournalled) {
  make_fault("restart")->start(cluster_, "primary", 0);
  make_fault("switchover")->start(cluster_, "pgc2", 0);
  EXPECT_TRUE(cluster_.journal->entries().empty());
}

TEST_F(JournalTest, AFailedHealStaysJournalledUnlessItsCheckSeesTheFaultGone) {
  auto fault = make_fault("pause");
  fault->start(cluster_, "primary", 0);
  fake_->answer("kill -CONT", {1, "", "kill: No such process"});
  fake_->answer("/status", {0, "", ""});  // the check: the postmaster is still stopped
  const auto healed = fault->heal(cluster_);
  ASSERT_EQ(healed.size(), 1u);
  EXPECT_EQ(cluster_.journal->entries().size(), 1u);
  EXPECT_NE(healed.front().result.err.find("pgchaos heal"), std::string::npos) << healed.front().result.err;

  fake_->rules.clear();
  auto partition = make_fault("partition");
  partition->start(cluster_, "pgc2", 0);
  fake_->answer("nft delete table", {1, "", "Error: No such file or directory"});
  fake_->answer("nft list table", {1, "", "Error: No such file or directory"});  // nothing left to undo
  partition->heal(cluster_);
  const auto left = cluster_.journal->entries();
  ASSERT_EQ(left.size(), 1u) << "the pause's entry, not the partition's";
  EXPECT_EQ(left.front().fault, "pause");
}

TEST_F(JournalTest, AHealWhoseSessionDroppedIsSentAgain) {
  auto fault = make_fault("stop-patroni");
  fault->start(cluster_, "pgc3", 0);
  int sent = 0;
  fake_->rules.push_back([&](const testing::SentCommand& c) -> std::optional<CommandResult> {
    if (c.command.shell() != "systemctl start patroni") return std::nullopt;
    return ++sent == 1 ? CommandResult{-1, "", ""} : CommandResult{0, "", ""};
  });
  const auto healed = fault->heal(cluster_);
  EXPECT_EQ(sent, 2);
  ASSERT_EQ(healed.size(), 1u);
  EXPECT_EQ(healed.front().result.exit_status, 0);
  EXPECT_TRUE(cluster_.journal->entries().empty());
}

TEST_F(JournalTest, AnotherProcesssEntryIsRemovedOnlyAsAnEntry) {
  JournalEntry foreign;
  foreign.fault = "partition";
  foreign.node = "pgc2";
  foreign.heal_action = "heal-partition";
  foreign.heal_argv = {"nft", "delete", "table", "inet", "pgchaos_partition"};
  cluster_.journal->add(foreign);
  cluster_.journal->remove("partition", "pgc3");  // not that node
  ASSERT_EQ(cluster_.journal->entries().size(), 1u);
  const auto entry = cluster_.journal->entries().front();
  cluster_.journal->remove_entry(entry);
  EXPECT_TRUE(cluster_.journal->entries().empty());
}

TEST_F(JournalTest, AJournalThatIsNotOneIsAnErrorNamingItsFile) {
  std::ofstream(cluster_.journal->file()) << "{ not json";
  try {
    cluster_.journal->entries();
    ADD_FAILURE() << "a broken journal is never read as empty";
  } catch (const FaultError& error) {
    EXPECT_NE(std::string(error.what()).find(cluster_.journal->file().string()), std::string::npos) << error.what();
  }
}

TEST_F(JournalTest, ARunRefusesOnAJournalledFaultOrOneSeenOnANodeAndNamesHeal) {
  fake_->answer("", {1, "", ""});  // every check: not in effect
  EXPECT_EQ(refusal(), "") << "a clean cluster";
  // Every node was looked at with every check.
  for (const char* check : {"nft list table inet pgchaos_partition", "nft list table inet pgchaos_replication",
                            "nft list table inet pgchaos_dcs", "postmaster.pid", "MainPID --value patroni",
                            "MainPID --value etcd", "is-active patroni", "is-enabled etcd", "is-enabled pgbouncer"})
    EXPECT_EQ(fake_->sent_containing(check).size(), 3u) << check;

  fake_->rules.clear();
  fake_->rules.push_back([](const testing::SentCommand& c) -> std::optional<CommandResult> {
    if (c.node == "pgc2" && c.command.shell() == "nft list table inet pgchaos_replication") return CommandResult{0, "table", ""};
    return CommandResult{1, "", ""};
  });
  auto text = refusal();
  EXPECT_NE(text.find("block-replication on pgc2 (found by `replication-blocked`)"), std::string::npos) << text;
  EXPECT_NE(text.find("pgchaos heal --conf " + cluster_.configuration + " --all` first"), std::string::npos)
      << "what no journal names, only --all undoes: " << text;

  fake_->rules.clear();
  make_fault("freeze-patroni")->start(cluster_, "primary", 0);
  fake_->answer("", {1, "", ""});
  text = refusal();
  EXPECT_NE(text.find("freeze-patroni on pgc1 (journalled by pid"), std::string::npos) << text;
  EXPECT_NE(text.find("still running"), std::string::npos) << "this very process: " << text;
  EXPECT_NE(text.find("pgchaos heal --conf " + cluster_.configuration + "` first"), std::string::npos)
      << "a journalled fault: heal alone undoes it: " << text;
  EXPECT_NE(text.find("/runs/one"), std::string::npos) << text;
}

TEST_F(JournalTest, ANodeThatCannotBeReachedIsAWarningNotALeftover) {
  fake_->rules.push_back([](const testing::SentCommand& c) -> std::optional<CommandResult> {
    if (c.node == "pgc3") throw FaultError("ssh pgc3: connection refused");
    return CommandResult{1, "", ""};
  });
  EXPECT_EQ(refusal(), "");
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_NE(warnings_.front().find("pgc3: ssh pgc3: connection refused"), std::string::npos) << warnings_.front();
}

TEST(Catalog, TheFaultsAroundPostgresRunTheirTemplatesOnTheirTargets) {
  auto fake = std::make_shared<FakeCluster>();
  ClusterContext cluster;
  auto topology = std::make_shared<Topology>();
  testing::make_fake_cluster({"pgc1", "pgc2", "pgc3"}, fake, cluster, topology);
  auto freeze = make_fault("freeze-patroni");
  EXPECT_EQ(freeze->start(cluster, "", 0).target, "pgc1") << "the primary's Patroni by default";
  EXPECT_EQ(fake->sent.back().command.shell(), "systemctl kill --kill-whom=main --signal=SIGSTOP patroni")
      << "its main process only: PostgreSQL, in the same unit, runs on";
  freeze->heal(cluster);
  EXPECT_EQ(fake->sent.back().command.shell(), "systemctl kill --kill-whom=main --signal=SIGCONT patroni");

  auto quorum = make_fault("stop-etcd");
  EXPECT_EQ(quorum->start(cluster, "", 1).target, "pgc2,pgc3") << "a majority by default, picked by the choice";
  EXPECT_EQ(fake->sent_containing("systemctl stop etcd").size(), 2u);
  EXPECT_EQ(quorum->heal(cluster).size(), 2u);
  EXPECT_EQ(fake->sent_containing("systemctl start etcd").size(), 2u);

  auto cut = make_fault("cut-dcs");
  EXPECT_EQ(cut->start(cluster, "replica", 0).target, "pgc2");
  const auto rules = fake->sent.back().command.argv.at(2);
  EXPECT_NE(rules.find("for port in 2379 2380"), std::string::npos) << rules;
  EXPECT_EQ(rules.find("5432"), std::string::npos) << "replication untouched";
  cut->heal(cluster);
  EXPECT_EQ(fake->sent.back().command.shell(), "nft delete table inet pgchaos_dcs");

  EXPECT_EQ(make_fault("pause-etcd")->start(cluster, "pgc3", 0).target, "pgc3");
  EXPECT_EQ(fake->sent.back().command.shell(), "systemctl kill --kill-whom=main --signal=SIGSTOP etcd");
}

TEST(Catalog, TheWatchdogIsReadFromTheNodesPatroniConfiguration) {
  auto fake = std::make_shared<FakeCluster>();
  ClusterContext cluster;
  auto topology = std::make_shared<Topology>();
  testing::make_fake_cluster({"pgc1"}, fake, cluster, topology);
  EXPECT_EQ(describe_watchdog(cluster, "pgc1"), "no watchdog (mode automatic, Patroni's default but no /dev/watchdog on the node)")
      << "no watchdog section, no device";
  EXPECT_NE(fake->sent.back().command.shell().find("/var/lab/pgc1/patroni.yml"), std::string::npos) << "its own configuration";
  fake->answer("watchdog", {0, "  mode: required\ndevice present\n", ""});
  EXPECT_EQ(describe_watchdog(cluster, "pgc1"), "a watchdog (mode required, /dev/watchdog present)");
  fake->rules.clear();
  fake->answer("watchdog", {0, "  mode: off\n", ""});
  EXPECT_EQ(describe_watchdog(cluster, "pgc1"), "no watchdog (watchdog mode off in its Patroni configuration)");
  fake->rules.clear();
  fake->answer("watchdog", {1, "", "sudo: a password is required"});
  EXPECT_NE(describe_watchdog(cluster, "pgc1").find("unknown watchdog (sudo: a password is required"), std::string::npos);
}

TEST(Catalog, AMajorityIsMoreThanHalfTheNodes) {
  std::vector<Node> nodes(5);
  for (std::size_t i = 0; i < nodes.size(); ++i) nodes[i].name = "n" + std::to_string(i + 1);
  EXPECT_EQ(resolve_target("majority", {}, nodes, 4), (std::vector<std::string>{"n5", "n1", "n2"}));
  nodes.resize(3);
  EXPECT_EQ(resolve_target("majority", {}, nodes, 0), (std::vector<std::string>{"n1", "n2"}));
}

}  // namespace
}  // namespace pgchaos::faults
