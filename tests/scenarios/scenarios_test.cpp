#include <gtest/gtest.h>

#include <fstream>

#include "history/run_history.h"
#include "scenarios/forensics.h"
#include "scenarios/scenarios.h"
#include "tests/support/temp_directory.h"

namespace pgchaos::scenarios {
namespace {

const std::filesystem::path kLibrary = PGCHAOS_SOURCE_DIR "/scenarios/library";

std::string error_of(const std::string& json) {
  try {
    parse_scenario(json, "test.json");
  } catch (const ScenarioError& error) {
    return error.what();
  }
  return "";
}

TEST(Scenarios, TheLibraryShipsEveryNamedScenarioAndAllParse) {
  const auto list = list_scenarios({kLibrary});
  std::vector<std::string> names;
  for (const auto& entry : list) {
    names.push_back(entry.name);
    EXPECT_FALSE(entry.description.empty()) << entry.name;
    EXPECT_EQ(entry.directory, kLibrary);
  }
  for (const char* wanted : {"switchover-storm", "restart-storm", "rolling-reboot", "crash-primary", "stop-patroni",
                             "terminate-backends", "partition-primary", "seed-checklist", "random"})
    EXPECT_NE(std::find(names.begin(), names.end(), wanted), names.end()) << wanted;
}

TEST(Scenarios, AUsersOwnDirectoryComesFirstAndAddsItsScenarios) {
  const testing::TempDirectory own("pgchaos-own-scenarios");
  std::ofstream(own / "random.json")
      << R"({"description": "my own random", "steps": [{"fault": "switchover", "delay": "5s"}]})";
  std::ofstream(own / "my-night.json")
      << R"({"description": "the night shift", "steps": [{"fault": "restart", "target": "replica", "delay": "5s"}]})";
  std::ofstream(own / "notes.txt") << "not a scenario";
  const std::vector<std::filesystem::path> path = {own.path(), kLibrary};
  const auto list = list_scenarios(path);
  const auto find = [&](const std::string& name) {
    return std::find_if(list.begin(), list.end(), [&](const auto& e) { return e.name == name; });
  };
  ASSERT_NE(find("my-night"), list.end());
  EXPECT_EQ(find("my-night")->directory, own.path());
  ASSERT_NE(find("random"), list.end());
  EXPECT_EQ(find("random")->description, "my own random") << "the first directory wins";
  EXPECT_EQ(std::count_if(list.begin(), list.end(), [](const auto& e) { return e.name == "random"; }), 1);
  ASSERT_NE(find("switchover-storm"), list.end()) << "the library's scenarios stay listed";
  EXPECT_EQ(find("switchover-storm")->directory, kLibrary);
  EXPECT_EQ(load_scenario("random", path).steps.size(), 1u);
  EXPECT_EQ(load_scenario("my-night", path).description, "the night shift");
  EXPECT_NE(load_scenario("random", {kLibrary}).description, "my own random") << "the library's own is untouched";
  try {
    load_scenario("nowhere", path);
    ADD_FAILURE() << "an unknown name is an error";
  } catch (const ScenarioError& error) {
    EXPECT_NE(std::string(error.what()).find(own.path().string() + ", " + kLibrary.string()), std::string::npos)
        << "names each directory searched: " << error.what();
  }
}

TEST(Scenarios, TheSameSeedSchedulesTheSameRun) {
  const auto random = load_scenario("random", {kLibrary});
  const auto a = schedule(random, 7), b = schedule(random, 7), c = schedule(random, 8);
  ASSERT_EQ(a.size(), 8u);
  bool differs = false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].fault, b[i].fault);
    EXPECT_EQ(a[i].delay, b[i].delay);
    EXPECT_EQ(a[i].choice, b[i].choice);
    EXPECT_GE(a[i].delay, std::chrono::milliseconds(2000));
    EXPECT_LE(a[i].delay, std::chrono::milliseconds(5000));
    EXPECT_NE(a[i].fault, "heal") << "a heal is no fault of its own";
    differs |= a[i].fault != c[i].fault || a[i].choice != c[i].choice;
  }
  EXPECT_TRUE(differs) << "another seed, another run";
}

TEST(Scenarios, StepsExpandRepeatsAndKeepTheirOptions) {
  const auto s = parse_scenario(R"({"steps": [{"fault": "stop-patroni", "target": "node:1", "heal": false, "wait_healthy": false},
                                             {"fault": "switchover", "repeat": 3, "delay": "1s", "duration": "500ms",
                                              "max_unavailable": "8s"}]})",
                                "t.json");
  const auto actions = schedule(s, 1);
  ASSERT_EQ(actions.size(), 4u);
  EXPECT_EQ(actions[0].max_unavailable, std::chrono::milliseconds(0)) << "none: --max-unavailable decides";
  EXPECT_EQ(actions[2].max_unavailable, std::chrono::milliseconds(8000));
  EXPECT_FALSE(actions[0].heal);
  EXPECT_FALSE(actions[0].wait_healthy);
  EXPECT_EQ(actions[0].target, "node:1");
  EXPECT_EQ(actions[3].index, 4);
  EXPECT_EQ(actions[3].delay, std::chrono::milliseconds(1000));
  EXPECT_EQ(actions[3].duration, std::chrono::milliseconds(500));
}

TEST(Scenarios, BadFilesNameTheFileAndTheField) {
  EXPECT_NE(error_of("{").find("test.json: not JSON"), std::string::npos);
  EXPECT_NE(error_of(R"({"steps": []})").find("test.json: steps"), std::string::npos);
  EXPECT_NE(error_of(R"({"steps": [{"fault": "meteor"}]})").find("steps[0].fault: unknown fault 'meteor'"), std::string::npos);
  EXPECT_NE(error_of(R"({"steps": [{"fault": "crash", "delay": "soon"}]})").find("steps[0].delay"), std::string::npos);
  EXPECT_NE(error_of(R"({"steps": [{"fault": "crash"}, {"fault": "crash", "repeat": 0}]})").find("steps[1].repeat"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"steps": [{"fault": "crash", "when": "now"}]})").find("steps[0].when: unknown field"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"steps": [{"fault": "crash", "max_unavailable": "10"}]})").find("steps[0].max_unavailable"),
            std::string::npos) << "a bare number: the unit is never guessed";
  EXPECT_THROW(load_scenario("no-such-scenario", {kLibrary}), ScenarioError);
}

}  // namespace
}  // namespace pgchaos::scenarios

// ---- the runner, against fake Remotes and a topology the test plays ----

#include "tests/support/fake_remote.h"
#include "tests/support/postgres_server.h"

namespace pgchaos::scenarios {
namespace {

struct RunnerFixture {
  std::shared_ptr<testing::FakeCluster> fake = std::make_shared<testing::FakeCluster>();
  std::shared_ptr<faults::Topology> topology = std::make_shared<faults::Topology>();
  faults::ClusterContext cluster;
  testing::TempDirectory dir{"pgchaos-runner"};
  RunnerFixture() { testing::make_fake_cluster({"pgc1", "pgc2", "pgc3"}, fake, cluster, topology); }

  history::HistoryFile run(const std::string& scenario_json, RunnerResult& result,
                           const std::filesystem::path& forensics = {}) {
    const auto scenario = parse_scenario(scenario_json, "test.json");
    common::StopSource stop;
    {
      history::HistoryWriter writer(dir / "history.jsonl");
      result = run_schedule(scenario, schedule(scenario, 1), cluster, writer, stop, {}, forensics);
    }
    return history::read_history(dir / "history.jsonl");
  }
};

TEST(Runner, ASwitchoverIsRecordedAsAWindowAndTheCommandNamesTheLeaderAndCandidate) {
  RunnerFixture f;
  // Playing Patroni: the switchover makes pgc2 the leader.
  f.fake->rules.push_back([&f](const testing::SentCommand& c) -> std::optional<faults::CommandResult> {
    if (c.command.shell().find("switchover") == std::string::npos) return std::nullopt;
    const std::string candidate = c.command.shell().find("pgc3") != std::string::npos ? "pgc3" : "pgc2";
    f.topology->leader = candidate;
    for (auto& m : f.topology->members) m.role = m.name == candidate ? "primary" : "replica";
    return faults::CommandResult{0, "Successfully switched over to \"" + candidate + "\"", ""};
  });
  RunnerResult result;
  const auto h = f.run(R"({"steps": [{"fault": "switchover", "target": "replica"}]})", result);  // target: the candidate
  EXPECT_EQ(result.faults_started, 1);
  EXPECT_EQ(result.faults_failed, 0);
  EXPECT_TRUE(result.findings.empty());
  ASSERT_EQ(f.fake->sent_containing("switchover").size(), 1u);
  const auto argv = f.fake->sent_containing("switchover")[0].command.argv;
  EXPECT_NE(std::find(argv.begin(), argv.end(), "pgc1"), argv.end()) << "the leader at that moment";
  EXPECT_NE(std::find(argv.begin(), argv.end(), f.topology->leader), argv.end()) << "the new leader was the candidate";
  EXPECT_NE(f.topology->leader, "pgc1");
  int starts = 0, ends = 0;
  for (const auto& e : h.events) {
    starts += e.type == history::EventType::fault_start;
    ends += e.type == history::EventType::fault_end;
  }
  EXPECT_EQ(starts, 1);
  EXPECT_EQ(ends, 1) << "every window is closed";
}

// What patronictl 3.0.2 prints when Patroni refuses a switchover in sync mode: the topology first, then the
// refusal (and exit status 0).
constexpr const char* kPatroniRefusal =
    "Current cluster topology\n"
    "+ Cluster: main (7446185240187641915) -----+-----------+----+-----------+\n"
    "| Member | Host       | Role         | State     | TL | Lag in MB |\n"
    "+--------+------------+--------------+-----------+----+-----------+\n"
    "| pgc1   | 10.77.0.11 | Leader       | running   |  3 |           |\n"
    "| pgc2   | 10.77.0.12 | Sync Standby | streaming |  3 |         0 |\n"
    "| pgc3   | 10.77.0.13 | Replica      | streaming |  3 |         0 |\n"
    "+--------+------------+--------------+-----------+----+-----------+\n"
    "Switchover failed, details: 412, candidate name does not match with sync_standby\n";

TEST(Runner, ARefusedSwitchoverIsToldInPatronisWordsAndItsWholeOutputIsKept) {
  RunnerFixture f;
  f.fake->answer("switchover", {0, kPatroniRefusal, ""});
  std::vector<std::string> lines;
  const auto scenario = parse_scenario(R"({"steps": [{"fault": "switchover", "target": "pgc3"}]})", "test.json");
  common::StopSource stop;
  RunnerResult result;
  ScheduleObserver observer;
  observer.line = [&](const std::string& line) { lines.push_back(line); };
  {
    history::HistoryWriter writer(f.dir / "history.jsonl");
    result = run_schedule(scenario, schedule(scenario, 1), f.cluster, writer, stop, observer, f.dir / "forensics");
  }
  EXPECT_EQ(result.faults_refused, 1);
  const std::string reason = "Switchover failed, details: 412, candidate name does not match with sync_standby";
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines[0].find("REFUSED (exit 1): " + reason), std::string::npos) << lines[0];
  EXPECT_EQ(lines[0].find("Cluster: main"), std::string::npos) << "the table is not the reason: " << lines[0];
  const auto h = history::read_history(f.dir / "history.jsonl");
  const auto start = std::find_if(h.events.begin(), h.events.end(),
                                  [](const auto& e) { return e.type == history::EventType::fault_start; });
  ASSERT_NE(start, h.events.end());
  EXPECT_EQ(start->message.substr(start->message.find(" | ") + 3), reason);
  const auto kept = testing::slurp(f.dir / "forensics" / "fault-1-command.txt");
  EXPECT_NE(kept.find("| pgc2   | 10.77.0.12 | Sync Standby | streaming |"), std::string::npos) << kept;
  EXPECT_NE(kept.find(reason), std::string::npos);
}

TEST(Runner, AFaultWhoseSessionDroppedMidCommandIsOfUnknownOutcomeAndStillHealed) {
  RunnerFixture f;
  f.fake->answer("add table inet pgchaos_partition", {-1, "", ""});  // the session ended before an exit status
  RunnerResult result;
  const auto h = f.run(R"({"steps": [{"fault": "partition", "target": "pgc2", "duration": "1ms"}]})", result);
  EXPECT_EQ(result.faults_unknown, 1);
  EXPECT_EQ(result.faults_refused, 0) << "not a refusal: nobody said no";
  const auto start = std::find_if(h.events.begin(), h.events.end(),
                                  [](const auto& e) { return e.type == history::EventType::fault_start; });
  ASSERT_NE(start, h.events.end());
  EXPECT_EQ(start->state, "unknown");
  EXPECT_NE(start->message.find("whether the fault took effect is unknown"), std::string::npos) << start->message;
  EXPECT_EQ(f.fake->sent_containing("nft delete table inet pgchaos_partition").size(), 1u) << "healed all the same";
  const auto run = history::load_run_history(f.dir / "history.jsonl");
  ASSERT_EQ(run.faults.size(), 1u);
  EXPECT_TRUE(run.faults.front().outcome_unknown);
}

TEST(Runner, ARebootThatEndsItsSessionTookEffect) {
  RunnerFixture f;
  int down_reads = 0;  // the node is seen down once after the command, then up again
  f.fake->rules.push_back([&](const testing::SentCommand& c) -> std::optional<faults::CommandResult> {
    if (c.command.shell() != "shutdown -r now") return std::nullopt;
    down_reads = 1;
    return faults::CommandResult{-1, "", ""};
  });
  f.cluster.topology = [&f, &down_reads] {
    auto t = *f.topology;
    if (down_reads > 0 && down_reads--) t.members[1].error = "connection refused";
    return t;
  };
  RunnerResult result;
  const auto h = f.run(R"({"steps": [{"fault": "reboot", "target": "pgc2"}]})", result);
  EXPECT_EQ(result.faults_unknown, 0);
  EXPECT_EQ(result.faults_refused, 0);
  const auto start = std::find_if(h.events.begin(), h.events.end(),
                                  [](const auto& e) { return e.type == history::EventType::fault_start; });
  ASSERT_NE(start, h.events.end());
  EXPECT_EQ(start->exit_status, 0) << start->message;
}

TEST(Runner, APatronictlErrorIsItsReasonNotTheTableBeforeIt) {
  // patronictl's own refusals (PatroniCtlException) go to stderr with exit status 1, after the table on stdout.
  const std::string table = std::string(kPatroniRefusal).substr(0, std::string(kPatroniRefusal).rfind("Switchover failed"));
  EXPECT_EQ(faults::failure_text({1, table, "Error: Member pgc4 does not exist in cluster main\n"}),
            "Error: Member pgc4 does not exist in cluster main");
  EXPECT_EQ(faults::failure_text({0, kPatroniRefusal, ""}),
            "Switchover failed, details: 412, candidate name does not match with sync_standby");
  EXPECT_EQ(faults::failure_text({1, "", "sudo: a password is required\n\n"}), "sudo: a password is required");
  EXPECT_EQ(faults::failure_text({1, table, ""}), "+--------+------------+--------------+-----------+----+-----------+")
      << "nothing but the table: its last line, never nothing";
  EXPECT_EQ(faults::failure_text({1, "", ""}), "");
}

TEST(Runner, AClusterThatStaysUnhealthyIsAFindingWithEvidenceNotAnException) {
  RunnerFixture f;
  f.topology->problems = {"pgc3: not streaming"};
  f.fake->answer("journalctl", faults::CommandResult{0, "FATAL: could not receive data from WAL stream", ""});
  RunnerResult result;
  const auto h = f.run(R"({"healthy_timeout": "1s", "steps": [{"fault": "restart", "target": "pgc3"}]})", result);
  ASSERT_EQ(result.findings.size(), 2u) << "after the fault and after the final heal";
  EXPECT_NE(result.findings[0].find("not streaming"), std::string::npos) << result.findings[0];
  EXPECT_NE(result.findings[0].find("could not receive data"), std::string::npos) << "the log tail is the evidence";
  const auto findings = std::count_if(h.events.begin(), h.events.end(),
                                      [](const auto& e) { return e.type == history::EventType::finding; });
  EXPECT_EQ(findings, 2);
}

TEST(Runner, AFaultThatCannotStartIsCountedAndItsWindowClosed) {
  RunnerFixture f;
  f.topology->leader.clear();  // no primary: a switchover has nothing to act on
  for (auto& m : f.topology->members) m.role = "replica";
  RunnerResult result;
  const auto h = f.run(R"({"final_heal": false, "steps": [{"fault": "switchover", "target": "primary", "wait_healthy": false}]})",
                       result);
  EXPECT_EQ(result.faults_started, 0);
  EXPECT_EQ(result.faults_failed, 1);
  EXPECT_TRUE(f.fake->sent_containing("switchover").empty()) << "nothing is sent for a fault that cannot start";
  ASSERT_GE(h.events.size(), 2u);
  EXPECT_EQ(h.events[0].exit_status, -1);
  EXPECT_NE(h.events[0].message.find("not started"), std::string::npos) << h.events[0].message;
}

TEST(Runner, ARefusedSwitchoverIsCountedWithPatronisWordsAndForensicsAreSaved) {
  RunnerFixture f;
  f.fake->answer("switchover", faults::CommandResult{0, "Switchover failed, details: 412, candidate name does not match", ""});
  f.fake->answer("journalctl", faults::CommandResult{0,
      "2020-01-01 00:00:00,000 INFO: promoted self to leader (long ago)\n"
      "2999-01-01 00:00:00,000 INFO: no action. I am (pgc1), the leader with the lock\n"
      "2999-01-01 00:00:01,000 INFO: demoting self because DCS is not accessible and I was a leader\n"
      "  Blocks per segment of large relation: 131072\n"
      "pg_rewind: servers diverged at WAL location 0/45C97D0 on timeline 1\n", ""});
  RunnerResult result;
  const auto h = f.run(R"({"steps": [{"fault": "switchover", "target": "replica"}]})", result, f.dir / "forensics");
  EXPECT_EQ(result.faults_started, 1);
  EXPECT_EQ(result.faults_refused, 1);
  ASSERT_EQ(result.ran.size(), 1u);
  EXPECT_FALSE(result.ran[0].resolved_node.empty()) << "a refused fault still had its target resolved";
  EXPECT_EQ(result.ran[0].resolved_role, "replica");
  ASSERT_FALSE(h.events.empty());
  EXPECT_EQ(h.events[0].exit_status, 1);
  EXPECT_NE(h.events[0].message.find("candidate name does not match"), std::string::npos) << h.events[0].message;
  // Forensics of the window: each node's logs and control data, and the lines that matter.
  const auto window = f.dir / "forensics" / "fault-1";
  for (const char* file : {"pgc1-forensic-logs.txt", "pgc2-controldata.txt", "key-lines.txt"})
    EXPECT_TRUE(std::filesystem::exists(window / file)) << file;
  std::ifstream in(window / "key-lines.txt");
  const std::string key((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(key.find("demoting self because DCS is not accessible"), std::string::npos) << key;
  EXPECT_NE(key.find("pg_rewind: servers diverged"), std::string::npos) << key;
  EXPECT_EQ(key.find("no action"), std::string::npos) << "Patroni's heartbeat is not a line that matters";
  EXPECT_EQ(key.find("long ago"), std::string::npos) << "lines before the window are not its story";
  EXPECT_EQ(key.find("Blocks per segment"), std::string::npos) << "dumps inside other output are not either";
}

// Patroni 3.0.2's double demote as a lab node logged it (pgc2, wal_sender_timeout 60 s, etcd v2, 2026-11-30),
// moved to 2999 so it falls in any window.
constexpr const char* kDoubleDemoteLog =
    "2999-11-30 08:03:17,984 WARNING: Failed to determine PostgreSQL state from the connection, falling back to cached role\n"
    "2999-11-30 08:03:17,986 WARNING: AsyncExecutor is busy, demoting from the main thread\n"
    "2999-11-30 08:03:17,986 INFO: Demoting self (offline)\n"
    "2999-11-30 08:03:39.458 UTC [2587] LOG:  redirecting log output to logging collector process\n"
    "2999-11-30 08:03:39,601 INFO: postmaster pid=2591\n"
    "2999-11-30 08:03:39.623 UTC [2591] FATAL:  lock file \"postmaster.pid\" already exists\n"
    "2999-11-30 08:03:39.623 UTC [2591] HINT:  Is another postmaster (PID 2587) running in data directory \"/d\"?\n"
    "2999-11-30 08:03:39,646 INFO: postmaster pid=2587\n"
    "2999-11-30 08:03:39,668 INFO: demoted self because DCS is not accessible and I was a leader\n";

TEST(Forensics, PatronisDoubleDemoteIsNamedWithItsEvidence) {
  const auto evidence = double_demote_evidence("pgc2", kDoubleDemoteLog, 0);
  EXPECT_EQ(evidence.rfind("double demote on pgc2", 0), 0u) << evidence;
  EXPECT_NE(evidence.find("second postmaster"), std::string::npos) << evidence;
  EXPECT_NE(evidence.find("refused by postmaster.pid"), std::string::npos) << evidence;
  EXPECT_NE(evidence.find("postmaster pid=2591"), std::string::npos) << "the evidence quotes the log";
  // The second demote alone, with nothing started twice, is not the bug; nor is anything before the window.
  EXPECT_EQ(double_demote_evidence("pgc2", "2999-11-30 08:03:17,986 WARNING: AsyncExecutor is busy, demoting from "
                                           "the main thread\n2999-11-30 08:03:39,646 INFO: postmaster pid=2587\n", 0), "");
  EXPECT_EQ(double_demote_evidence("pgc2", std::string(kDoubleDemoteLog).replace(0, 4, "2001"), 32503680000000000), "");
  // A data directory removed after the second demote is named too.
  const auto removed = double_demote_evidence(
      "pgc1", std::string(kDoubleDemoteLog) + "2999-11-30 08:04:02,000 INFO: Removing data directory: /d\n", 0);
  EXPECT_NE(removed.find("removed the data directory"), std::string::npos) << removed;
}

TEST(Forensics, PostmastersAreJudgedByTheirDataDirectoryAndPidFile) {
  EXPECT_EQ(postmaster_problems("pgc1", "postmaster 14257 /lab/pgc1/data\npidfile 14257\n"), "");
  EXPECT_EQ(postmaster_problems("pgc1", "pidfile \n"), "") << "a node that is down has no postmaster";
  EXPECT_EQ(postmaster_problems("pgc1", "not collected: no command template"), "") << "nothing to judge";
  const auto two = postmaster_problems("pgc2", "postmaster 2587 /lab/pgc2/data\npostmaster 2591 /lab/pgc2/data\npidfile 2587\n");
  EXPECT_NE(two.find("2 postmasters run for its data directory (pids 2587, 2591)"), std::string::npos) << two;
  const auto orphan = postmaster_problems("pgc2", "postmaster 2587 /lab/pgc2/data (deleted)\npidfile \n");
  EXPECT_NE(orphan.find("removed under it"), std::string::npos) << orphan;
  EXPECT_NE(orphan.find("orphan"), std::string::npos) << orphan;
  EXPECT_NE(postmaster_problems("pgc2", "postmaster 2587 /d\npidfile 3100\n").find("names 3100"), std::string::npos);
}

// Patroni 3.0.2's own lines, from a frozen-Patroni run on the lab: the old primary rewound onto the new timeline.
constexpr const char* kRewindLog =
    "2026-12-07 16:58:05,701 INFO: running pg_rewind from pgc3\n"
    "2026-12-07 16:58:07,513 INFO: running pg_rewind from dbname=postgres user=rewind_user host=10.213.7.13 port=5432\n"
    "2026-12-07 16:58:10,426 INFO: pg_rewind exit code=0\n"
    "2026-12-07 16:58:10,427 INFO:  stderr=pg_rewind: servers diverged at WAL location 0/478EA70 on timeline 1\n"
    "pg_rewind: Done!\n";

TEST(Forensics, HowAFormerPrimaryRejoinedTheNewTimelineIsReadFromItsLog) {
  EXPECT_EQ(rejoin_evidence("pgc1", kRewindLog, 0), "pgc1 rejoined by pg_rewind");
  EXPECT_EQ(rejoin_evidence("pgc1", "2026-12-07 16:58:10,426 INFO: replica has been created using basebackup\n", 0),
            "pgc1 rejoined by reinitialisation (a new base backup)");
  EXPECT_EQ(rejoin_evidence("pgc1", "2026-12-07 16:58:10,426 INFO: pg_rewind exit code=1\n", 0), "pgc1: pg_rewind failed (exit code=1)");
  // The seed's refusal, after the last rejoin: named. Before a rejoin that fixed it: not.
  const std::string refusal =
      "2026-12-07 16:58:11,000 UTC [123] FATAL:  requested timeline 2 is not a child of this server's history\n";
  EXPECT_EQ(rejoin_evidence("pgc1", std::string(kRewindLog) + refusal, 0),
            "pgc1 did not rejoin the new timeline: requested timeline 2 is not a child of this server's history");
  EXPECT_EQ(rejoin_evidence("pgc1", refusal + "2026-12-07 16:58:12,426 INFO: pg_rewind exit code=0\n", 0), "pgc1 rejoined by pg_rewind");
  EXPECT_EQ(rejoin_evidence("pgc1", "2026-12-07 16:58:12,426 INFO: no action. I am (pgc1), a secondary\n", 0), "");
  EXPECT_EQ(rejoin_evidence("pgc1", kRewindLog, 32503680000000000), "") << "before the window: not this fault's";
}

// PostgreSQL 15's and Patroni 3.0.2's lines from a fill-wal-disk of the primary on the lab (its forensic-logs: Patroni's
// log, then PostgreSQL's).
TEST(Forensics, AFullWalDiskIsToldFromPostgresAndPatroniLines) {
  const std::string log =
      "2026-12-07 20:10:40,100 INFO: no action. I am (pgc2), the leader with the lock\n"
      "2026-12-07 20:10:47,777 INFO: postmaster pid=10168\n"
      "2026-12-07 20:10:48,343 INFO: updated leader lock during restarting after failure\n"
      "2026-12-07 20:10:52,540 INFO: postmaster pid=10298\n"
      "--- postgresql.log\n"
      "2026-12-07 20:10:26.162 UTC [9689] PANIC:  could not write to file \"pg_wal/xlogtemp.9689\": No space left on device\n"
      "2026-12-07 20:10:45.454 UTC [10036] FATAL:  could not write to file \"pg_wal/xlogtemp.10036\": No space left on device\n"
      "2026-12-07 20:10:55.128 UTC [10298] LOG:  database system is ready to accept connections\n";
  const auto text = wal_disk_evidence("pgc2", log, 0);
  EXPECT_EQ(text.rfind("pgc2's PostgreSQL panicked at 20:10:26: PANIC:  could not write to file \"pg_wal/xlogtemp.9689\": "
                       "No space left on device (2 times in all)", 0), 0u) << text;
  // Patroni's log comes first in the text: what it did after the PANIC is told by the time stamps.
  EXPECT_NE(text.find(", then Patroni kept the leader lock and started it again 2 times (no failover), and it accepted "
                      "writes again at 20:10:55"), std::string::npos) << text;
  EXPECT_EQ(text.find("; "), std::string::npos) << "one note of the window's: " << text;
  // A standby's WAL receiver: no PANIC, not Patroni's business.
  const auto standby = wal_disk_evidence(
      "pgc3", "2026-12-07 20:11:30.000 UTC [77] FATAL:  could not write to log segment 000000020000000000000009 at offset "
              "0, length 8192: No space left on device\n", 0);
  EXPECT_EQ(standby, "pgc3's PostgreSQL could not write WAL at 20:11:30: FATAL:  could not write to log segment "
                     "000000020000000000000009 at offset 0, length 8192: No space left on device") << standby;
  EXPECT_EQ(wal_disk_evidence("pgc1", "2026-12-07 20:10:40,100 INFO: no action. I am (pgc1), a secondary\n", 0), "");
  EXPECT_EQ(wal_disk_evidence("pgc2", log, 32503680000000000), "") << "before the window: not this fault's";
}

TEST(Runner, HowANodeRejoinedIsKeptWithTheFaultsWindow) {
  RunnerFixture f;
  f.fake->answer("journalctl -u patroni -n 2000", {0, "2999-01-01 00:00:00,000 INFO: pg_rewind exit code=0\n", ""});
  RunnerResult result;
  f.run(R"({"steps": [{"fault": "partition", "target": "pgc1", "duration": "1ms"}]})", result, f.dir / "forensics");
  const auto run = history::load_run_history(f.dir / "history.jsonl");
  ASSERT_EQ(run.faults.size(), 1u);
  EXPECT_NE(run.faults[0].message.find("pgc1 rejoined by pg_rewind"), std::string::npos) << run.faults[0].message;
  EXPECT_GE(run.faults[0].end_ns, 0);
}

// Patroni 3.0.2's etcd3 leader key, from the lab's logs: after a frozen Patroni thawed (it never logs a new
// acquisition: it goes on as "the leader with the lock"), and after a cut from the DCS healed.
TEST(Forensics, ALeaderKeyTakenBackAfterAnotherNodeAcquiredItIsNamed) {
  const std::string acquired = "2026-12-07 17:10:54,791 INFO: promoted self to leader by acquiring session lock\n";
  const std::string thawed =
      "2026-12-07 17:10:36,233 INFO: no action. I am (pgc3), the leader with the lock\n"
      "2026-12-07 17:11:26,491 WARNING: Loop time exceeded, rescheduling immediately.\n"
      "2026-12-07 17:11:26,520 INFO: no action. I am (pgc3), the leader with the lock\n";
  const auto text = lock_takeover_evidence({{"pgc1", acquired}, {"pgc3", thawed}}, 0);
  EXPECT_EQ(text.rfind("leader key taken back on pgc3 (Patroni 3.0.2's etcd3 leader-key overwrite", 0), 0u) << text;
  EXPECT_NE(text.find("pgc1 had acquired the leader lock at 2026-12-07 17:10:54,791"), std::string::npos) << text;
  EXPECT_NE(text.find("pgc3: 2026-12-07 17:11:26,520 INFO: no action. I am (pgc3), the leader with the lock"), std::string::npos)
      << "the first claim after it, not the one before: " << text;
  const std::string took_back = "2026-12-07 17:17:45,623 INFO: promoted self to leader because I had the session lock\n";
  EXPECT_NE(lock_takeover_evidence({{"pgc2", "2026-12-07 17:17:10,000 INFO: promoted self to leader by acquiring session lock\n"},
                                    {"pgc3", took_back}},
                                   0)
                .find("leader key taken back on pgc3"),
            std::string::npos);
  // A leader of its own right: it acquired the lock after the other did.
  EXPECT_EQ(lock_takeover_evidence({{"pgc1", acquired},
                                    {"pgc3", "2026-12-07 17:11:20,000 INFO: promoted self to leader by acquiring session lock\n"
                                             "2026-12-07 17:11:21,000 INFO: no action. I am (pgc3), the leader with the lock\n"}},
                                   0),
            "");
  EXPECT_EQ(lock_takeover_evidence({{"pgc1", acquired}}, 0), "") << "one node alone";
}

TEST(Forensics, WhatPatroniDidWithoutItsDcsIsReadFromItsLog) {
  EXPECT_EQ(dcs_evidence("pgc2", "2026-12-07 17:37:22,160 INFO: demoting self because DCS is not accessible and I was a leader\n", 0),
            "pgc2 demoted itself: the DCS was not accessible");
  EXPECT_EQ(dcs_evidence("pgc3",
                         "2026-12-07 17:40:23,514 INFO: continue to run as a leader because failsafe mode is enabled and all "
                         "members are accessible\n",
                         0),
            "pgc3 kept the lead in failsafe mode (the DCS was not accessible, every member answered)");
  EXPECT_EQ(dcs_evidence("pgc3", "2026-12-07 17:40:23,514 INFO: no action. I am (pgc3), the leader with the lock\n", 0), "");
}

TEST(Runner, SignsOfTheDoubleDemoteAreFindingsEvenWhenTheClusterLooksHealthy) {
  RunnerFixture f;
  f.fake->answer("journalctl", faults::CommandResult{0, kDoubleDemoteLog, ""});
  f.fake->answer("ps -eo", faults::CommandResult{0, "postmaster 2587 /d (deleted)\npostmaster 9000 /d\npidfile 9000\n", ""});
  RunnerResult result;
  const auto h = f.run(R"({"steps": [{"fault": "switchover", "target": "replica"}]})", result, f.dir / "forensics");
  // Each node's signs once (the fake gives every node the same answers), from the window and not again at the end.
  std::size_t demotes = 0, postmasters = 0;
  for (const auto& finding : result.findings) {
    demotes += finding.rfind("double demote on ", 0) == 0;
    postmasters += finding.rfind("postmasters on ", 0) == 0;
  }
  EXPECT_EQ(demotes, f.cluster.nodes.size());
  EXPECT_EQ(postmasters, f.cluster.nodes.size());
  EXPECT_TRUE(std::any_of(h.events.begin(), h.events.end(), [](const history::Event& e) {
    return e.type == history::EventType::finding && e.message.find("removed under it") != std::string::npos;
  }));
  EXPECT_TRUE(std::filesystem::exists(f.dir / "forensics" / "fault-1" / "pgc1-postmasters.txt"));
}

}  // namespace
}  // namespace pgchaos::scenarios

namespace pgchaos::scenarios {
namespace {

TEST(Scenarios, AReplayAimsAtTheRecordedRoleOrNode) {
  const auto scenario = parse_scenario(
      R"({"steps": [{"fault": "crash", "target": "random"}, {"fault": "partition", "target": "all"},
                    {"fault": "switchover", "target": "replica"}]})", "test.json");
  auto ran = schedule(scenario, 5);
  ran[0].resolved_node = "pgc3";
  ran[0].resolved_role = "replica";
  ran[1].resolved_node = "pgc1,pgc2,pgc3";
  ran[1].resolved_role = "primary,replica,replica";
  // Action 3 never ran (the run was interrupted): it keeps its target.
  ran.pop_back();
  const auto recorded = parse_schedule_json(schedule_json(ran), "schedule.json");
  ASSERT_EQ(recorded.size(), 2u);
  EXPECT_EQ(recorded[0].resolved_node, "pgc3");
  EXPECT_EQ(recorded[0].resolved_role, "replica");
  const auto by_role = aimed_as_recorded(schedule(scenario, 5), recorded, ReplayBy::role);
  EXPECT_EQ(by_role[0].target, "replica") << "random, as resolved: a replica";
  EXPECT_EQ(by_role[1].target, "all");
  EXPECT_EQ(by_role[2].target, "replica");
  const auto by_node = aimed_as_recorded(schedule(scenario, 5), recorded, ReplayBy::node);
  EXPECT_EQ(by_node[0].target, "pgc3");
  EXPECT_EQ(by_node[1].target, "all");
  EXPECT_EQ(by_node[0].choice, by_role[0].choice) << "only the aim changes";
  EXPECT_THROW(parse_schedule_json("{}", "x/schedule.json"), ScenarioError);
}

TEST(Scenarios, RoundsOfACycledScheduleComeFromTheSeedAloneAndCountOn) {
  const auto scenario = parse_scenario(
      R"({"steps": [{"fault": "any", "choices": ["crash", "switchover", "restart"], "delay": "1s-9s", "repeat": 3}]})",
      "test.json");
  const auto round0 = schedule(scenario, 42);
  EXPECT_EQ(schedule(scenario, 42, 0).size(), round0.size());
  const auto round1 = schedule(scenario, 42, 1), round2 = schedule(scenario, 42, 2);
  ASSERT_EQ(round1.size(), 3u);
  EXPECT_EQ(round1.front().index, 4) << "indices count on across rounds: fault-N stays unique";
  EXPECT_EQ(round2.back().index, 9);
  // Drawn again, in any order, a round is the same: a replay of an epoch cycles through the same faults.
  const auto again = schedule(scenario, 42, 2);
  for (std::size_t i = 0; i < again.size(); ++i) {
    EXPECT_EQ(again[i].fault, round2[i].fault);
    EXPECT_EQ(again[i].delay, round2[i].delay);
    EXPECT_EQ(again[i].choice, round2[i].choice);
  }
  bool rounds_differ = false;
  for (std::size_t i = 0; i < round1.size(); ++i)
    rounds_differ = rounds_differ || round1[i].choice != round0[i].choice || round1[i].delay != round0[i].delay;
  EXPECT_TRUE(rounds_differ) << "each round draws anew";
}

TEST(Runner, ACycledScheduleRunsRoundAfterRoundUntilTheStopAndHealsBetweenRounds) {
  RunnerFixture f;
  const auto scenario = parse_scenario(
      R"({"steps": [{"fault": "stop-patroni", "target": "pgc2", "duration": "10ms", "heal": false},
                    {"fault": "restart", "target": "pgc3", "delay": "10ms"}]})",
      "test.json");
  common::StopSource stop;
  RunnerResult result;
  std::vector<int> rounds_asked;
  // The observer hears each fault begin and end as types, and the lines besides.
  std::vector<std::int64_t> observed_started, observed_ended;
  int lines = 0;
  ScheduleObserver observer;
  observer.line = [&](const std::string&) { ++lines; };
  observer.fault_started = [&](const Action& a, const std::string& line) {
    observed_started.push_back(a.index);
    EXPECT_EQ(line.rfind("fault " + std::to_string(a.index) + ": " + a.fault, 0), 0u) << line;
  };
  observer.fault_ended = [&](const Action& a) { observed_ended.push_back(a.index); };
  {
    history::HistoryWriter writer(f.dir / "cycled.jsonl");
    result = run_schedule(scenario, schedule(scenario, 1), f.cluster, writer, stop, observer, {},
                          [&](int round) {
                            rounds_asked.push_back(round);
                            if (round == 3) stop.request(common::StopReason::duration);
                            return schedule(scenario, 1, round);
                          });
  }
  EXPECT_EQ(rounds_asked, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(result.faults_started, 6) << "rounds 0, 1 and 2 in full; round 3 stopped before its first fault";
  const auto h = history::read_history(f.dir / "cycled.jsonl");
  std::vector<std::int64_t> started;
  int healed_between_rounds = 0;
  for (const auto& e : h.events) {
    if (e.type == history::EventType::fault_start) started.push_back(e.op);
    if (e.type == history::EventType::fault_end && e.message.find("end of round") != std::string::npos) ++healed_between_rounds;
  }
  EXPECT_EQ(started, (std::vector<std::int64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(observed_started, started);
  EXPECT_EQ(observed_ended, (std::vector<std::int64_t>{2, 1, 4, 3, 6, 5})) << "a step left active ends with the next heal";
  EXPECT_GE(lines, 6);
  EXPECT_EQ(healed_between_rounds, 2) << "a step left active is healed before the next round begins";
  EXPECT_EQ(f.fake->sent_containing("systemctl start patroni").size(), 3u) << "each stop-patroni healed once";
}

TEST(Runner, ACycledScheduleStopsCyclingWhenTheClusterDidNotRecover) {
  RunnerFixture f;
  f.topology->problems = {"pgc3: not streaming"};
  const auto scenario = parse_scenario(R"({"healthy_timeout": "1s", "steps": [{"fault": "restart", "target": "pgc3"}]})",
                                       "test.json");
  common::StopSource stop;
  int rounds_asked = 0;
  RunnerResult result;
  {
    history::HistoryWriter writer(f.dir / "broken.jsonl");
    result = run_schedule(scenario, schedule(scenario, 1), f.cluster, writer, stop, {}, {}, [&](int round) {
      ++rounds_asked;
      return schedule(scenario, 1, round);
    });
  }
  EXPECT_EQ(rounds_asked, 0) << "no fault is piled onto a cluster that did not recover";
  EXPECT_EQ(result.faults_started, 1);
  EXPECT_FALSE(result.findings.empty());
}

}  // namespace
}  // namespace pgchaos::scenarios
