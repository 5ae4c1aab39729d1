// The cluster's story and the cause of each lost commit, on synthetic histories whose truth is known: a watched
// three-node cluster, a fault, and commits planted to be lost in each way the checker must tell apart.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "checker/checker.h"
#include "tests/checker/synthetic_run.h"
#include "workloads/bank/bank.h"

namespace pgchaos::checker {
namespace {

using history::Observation;
using history::Outcome;

constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kS = 1'000 * kMs;

std::string address_of(const std::string& node) { return "10.0.0." + node.substr(3) + ":5432"; }

Observation seen(std::int64_t at_ns, const std::string& node, const std::string& pg_role, int timeline,
                 std::int64_t wal = 0) {
  Observation o;
  o.at_ns = at_ns;
  o.node = node;
  o.pg_role = pg_role;
  o.role = pg_role;
  o.state = pg_role.empty() ? "" : "running";
  o.timeline = timeline;
  o.patroni_timeline = timeline;
  if (pg_role == "primary") o.wal_current = wal;
  else o.wal_received = o.wal_replayed = wal;
  o.address = pg_role.empty() ? "" : address_of(node);
  if (pg_role.empty()) o.error = "SQL: connection refused";
  return o;
}

// A 20 s run of one op every 10 ms (ops 1..2000), every commit on the primary's ledger. pgc1 leads on timeline 1
// until `failover_at` (then it is down and pgc2 leads on timeline 2, its attempts on term 2); the replicas report
// WAL progress every 500 ms while they follow pgc1. One fault from 5 s to 8 s.
struct WatchedRun {
  testing::SyntheticRun run;
  std::int64_t failover_at;

  explicit WatchedRun(std::int64_t failover = 6 * kS) : failover_at(failover) {
    std::mt19937_64 rng(11);
    run = testing::make_clean_run(rng, 2000, 10, 0, 10 * kMs);
    auto& h = run.history;
    h.terms = {{}, {address_of("pgc1"), 1}, {address_of("pgc2"), 2}};
    for (auto& a : h.attempts) a.term = a.invoke_ns < failover_at ? 1 : 2;
    for (auto& a : h.attempts) a.commit_lsn = 1000 + a.op * 100;
    h.faults.push_back({1, "crash", "pgc1", "pgchaos-node crash 20", 5 * kS, 8 * kS, 0});
    for (std::int64_t t = 0; t < 20 * kS; t += 500 * kMs) {
      const std::int64_t wal = 1000 + t / (10 * kMs) * 100;
      if (t < failover_at) {
        h.observations.push_back(seen(t, "pgc1", "primary", 1, wal));
        h.observations.push_back(seen(t + kMs, "pgc2", "replica", 1, wal));
        h.observations.push_back(seen(t + 2 * kMs, "pgc3", "replica", 1, wal));
      } else {
        h.observations.push_back(seen(t, "pgc1", "", 0));
        h.observations.push_back(seen(t + kMs, "pgc2", "primary", 2, wal));
        h.observations.push_back(seen(t + 2 * kMs, "pgc3", "replica", 2, wal));
      }
    }
  }

  void lose(std::int64_t op) {
    auto& ledger = run.snapshots.front().ledger;
    const auto it = std::find_if(ledger.begin(), ledger.end(), [op](const auto& r) { return r.op_id == op; });
    ASSERT_NE(it, ledger.end());
    auto& accounts = run.snapshots.front().accounts;
    accounts[static_cast<std::size_t>(it->from_account - 1)].balance_cents += it->amount_cents;
    accounts[static_cast<std::size_t>(it->to_account - 1)].balance_cents -= it->amount_cents + 100;
    ledger.erase(it);
  }
  history::Attempt& acknowledged(std::int64_t op) {
    for (auto& a : run.history.attempts)
      if (a.op == op && a.outcome == Outcome::ok) return a;
    throw std::logic_error("no ok attempt");
  }
  // The op whose acknowledged attempt began at or just after t.
  std::int64_t op_at(std::int64_t t) const {
    for (const auto& a : run.history.attempts)
      if (a.outcome == Outcome::ok && a.invoke_ns >= t) return a.op;
    throw std::logic_error("no op");
  }
  CheckResult check(CommitMode mode = CommitMode::async, std::int64_t max_unavailable_ms = 0,
                    std::map<std::string, std::string> watchdog = {}) const {
    CheckOptions options;
    options.commit.mode = mode;
    options.max_unavailable_ms = max_unavailable_ms;
    options.watchdog = std::move(watchdog);
    return checker::check(run.history, run.snapshots, options, bank::invariants());
  }
};

const LostOp& lost_op(const CheckResult& r, std::int64_t op) {
  for (const auto& l : r.lost_ops)
    if (l.op == op) return l;
  throw std::logic_error("op not among the lost");
}

TEST(Story, AFailoverIsToldWithItsPromotionAndLeaders) {
  const WatchedRun w;
  const auto r = w.check();
  EXPECT_TRUE(r.watched);
  ASSERT_EQ(r.promotions.size(), 1u);
  EXPECT_EQ(r.promotions[0].node, "pgc2");
  EXPECT_EQ(r.promotions[0].timeline, 2);
  EXPECT_EQ(r.promotions[0].at_ns, 6 * kS + kMs);
  ASSERT_EQ(r.faults.size(), 1u);
  const auto& f = r.faults[0];
  EXPECT_EQ(f.leader_before, "pgc1");
  EXPECT_EQ(f.leader_after, "pgc2");
  EXPECT_EQ(f.time_to_leader_ns, kS + kMs);
  EXPECT_NE(f.story.find("pgc2 promoted after 1.0 s (timeline 2)"), std::string::npos) << f.story;
  EXPECT_TRUE(r.split_brains.empty());
  EXPECT_EQ(r.verdict, Verdict::valid) << r.headline;
  ASSERT_EQ(r.lanes.size(), 3u);
  EXPECT_EQ(r.lanes[0].node, "pgc1");
  EXPECT_EQ(r.lanes[0].segments.front().state, "primary");
  EXPECT_EQ(r.lanes[0].segments.back().state, "unreachable");
}

TEST(Story, ACrashWithoutFailoverSaysNoLeaderChange) {
  WatchedRun w(100 * kS);  // never fails over
  auto& obs = w.run.history.observations;
  // pgc1 is down from 5 s to 7 s, then primary again on the same timeline.
  for (auto& o : obs)
    if (o.node == "pgc1" && o.at_ns > 5 * kS && o.at_ns < 7 * kS) o = seen(o.at_ns, "pgc1", "", 0);
  const auto r = w.check();
  EXPECT_TRUE(r.promotions.empty());
  EXPECT_NE(r.faults[0].story.find("no leader change: pgc1 led before and after"), std::string::npos) << r.faults[0].story;
}

// A partition no replica took over from (one deferred to the other, which still saw the old leader's key): the old
// primary demotes, and after the heal takes the lead back on a new timeline. Not a failover, and the story says so.
TEST(Story, TheOldLeaderTakingTheLeadBackIsNoFailover) {
  WatchedRun w(100 * kS);  // never fails over to pgc2
  for (auto& o : w.run.history.observations) {
    if (o.node != "pgc1" || o.at_ns <= 5 * kS) continue;
    o = o.at_ns < 7 * kS ? seen(o.at_ns, "pgc1", "replica", 1) : seen(o.at_ns, "pgc1", "primary", 2);
  }
  const auto r = w.check();
  ASSERT_EQ(r.promotions.size(), 1u);
  EXPECT_NE(r.faults[0].story.find("pgc1 led; no other node was promoted: pgc1 took the lead back after 2.0 s (timeline 2)"),
            std::string::npos) << r.faults[0].story;
}

TEST(Story, EachLossCauseIsToldApart) {
  WatchedRun w;
  auto& h = w.run.history;
  // async-lag: acknowledged by pgc1 just before the failover, never replicated.
  const std::int64_t lagging = w.op_at(6 * kS - 30 * kMs);
  // cancelled-sync-wait: its COMMIT carried the warning.
  const std::int64_t cancelled = w.op_at(4 * kS);
  h.warnings.push_back({cancelled, w.acknowledged(cancelled).attempt,
                        "WARNING: canceling wait for synchronous replication due to user request"});
  // split-brain: pgc1 acknowledged it although its attempt began after pgc2's promotion.
  const std::int64_t late = w.op_at(9 * kS);
  w.acknowledged(late).term = 1;
  // unexplained: acknowledged by pgc2 after the failover; no promotion of another node follows.
  const std::int64_t unexplained = w.op_at(15 * kS);
  for (const auto op : {lagging, cancelled, late, unexplained}) w.lose(op);

  const auto r = w.check();
  ASSERT_EQ(r.lost_ops.size(), 4u);
  EXPECT_EQ(lost_op(r, lagging).cause, LossCause::async_lag);
  EXPECT_EQ(lost_op(r, lagging).node, "pgc1");
  EXPECT_EQ(lost_op(r, cancelled).cause, LossCause::cancelled_sync_wait);
  EXPECT_EQ(lost_op(r, late).cause, LossCause::split_brain);
  EXPECT_EQ(lost_op(r, unexplained).cause, LossCause::unexplained);
  for (const auto cause : kLossCauses)
    EXPECT_EQ(r.count_lost(cause), cause == LossCause::isolated_primary ? 0 : 1) << to_string(cause);
  // Every lost op belongs to the one fault: its window, or the aftermath of its heal.
  for (const auto& l : r.lost_ops) EXPECT_EQ(l.fault, 1) << l.op;
  EXPECT_EQ(r.faults[0].lost.size(), 4u);
  // The late acknowledgement is a split brain naming both nodes, and fails the run even in async mode.
  const auto split = std::find_if(r.split_brains.begin(), r.split_brains.end(),
                                  [](const SplitBrain& s) { return s.kind == "acknowledged_after_promotion"; });
  ASSERT_NE(split, r.split_brains.end());
  EXPECT_EQ(split->nodes, (std::vector<std::string>{"pgc1", "pgc2"}));
  EXPECT_EQ(split->acknowledged, 1);
  EXPECT_EQ(r.verdict, Verdict::invalid);
  EXPECT_EQ(r.headline.rfind("invalid: 1 acknowledged commit lost with no explanation", 0), 0u) << r.headline;
}

TEST(Story, APrimaryCutOffFromItsReplicasLosesAsIsolatedPrimary) {
  WatchedRun w;
  // From 3 s on, the replicas receive nothing more while pgc1 goes on acknowledging.
  for (auto& o : w.run.history.observations)
    if (o.node != "pgc1" && o.pg_role == "replica" && o.at_ns >= 3 * kS) o.wal_received = o.wal_replayed = 1000 + 300 * 100;
  const std::int64_t isolated = w.op_at(3 * kS + 200 * kMs);    // nothing received after it, 2.8 s to the promotion
  const std::int64_t early = w.op_at(2 * kS);                     // replicas still received WAL after it
  const std::int64_t just_before = w.op_at(5 * kS + 700 * kMs);  // close to the promotion, long after the stall
  for (const auto op : {isolated, early, just_before}) w.lose(op);
  const auto r = w.check();
  EXPECT_EQ(lost_op(r, isolated).cause, LossCause::isolated_primary) << lost_op(r, isolated).detail;
  EXPECT_EQ(lost_op(r, early).cause, LossCause::async_lag) << lost_op(r, early).detail;
  EXPECT_EQ(lost_op(r, just_before).cause, LossCause::isolated_primary) << lost_op(r, just_before).detail;
  // Replicas that received WAL until just before the promotion: a loss then is lag, however the primary fared.
  WatchedRun recent;
  for (auto& o : recent.run.history.observations)
    if (o.node != "pgc1" && o.pg_role == "replica" && o.at_ns >= 5 * kS + 500 * kMs) o.wal_received = o.wal_replayed = 1000 + 550 * 100;
  const std::int64_t late = recent.op_at(5 * kS + 700 * kMs);
  recent.lose(late);
  const auto lagged = recent.check();
  EXPECT_EQ(lost_op(lagged, late).cause, LossCause::async_lag) << lost_op(lagged, late).detail;
}

TEST(Story, ALossTheCommitPositionDisprovesIsUnexplained) {
  WatchedRun w;
  const std::int64_t op = w.op_at(2 * kS);
  w.lose(op);
  // pgc2 had received WAL far beyond this commit before it was promoted.
  for (auto& o : w.run.history.observations)
    if (o.node == "pgc2" && o.pg_role == "replica") o.wal_received = o.wal_replayed = 500'000'000;
  const auto r = w.check();
  EXPECT_EQ(lost_op(r, op).cause, LossCause::unexplained) << lost_op(r, op).detail;
}

TEST(Story, TwoPrimariesAtOnceAndOneTimelineWrittenTwiceAreSplitBrains) {
  WatchedRun w;
  auto& obs = w.run.history.observations;
  // pgc1 is seen primary on timeline 1 until 9 s, after pgc2's promotion at 6 s.
  for (auto& o : obs)
    if (o.node == "pgc1" && o.at_ns >= 6 * kS && o.at_ns < 9 * kS) o = seen(o.at_ns, "pgc1", "primary", 1, 1);
  auto r = w.check();
  const auto both = std::find_if(r.split_brains.begin(), r.split_brains.end(),
                                 [](const SplitBrain& s) { return s.kind == "two_primaries"; });
  ASSERT_NE(both, r.split_brains.end());
  EXPECT_EQ(both->start_ns, 6 * kS + kMs);
  EXPECT_EQ(both->end_ns, 8 * kS + 500 * kMs);
  EXPECT_EQ(r.verdict, Verdict::invalid);

  WatchedRun twice;
  // pgc1 comes back and writes its own timeline 2, the number pgc2 already wrote.
  for (auto& a : twice.run.history.attempts)
    if (a.invoke_ns >= 15 * kS) a.term = 3;
  twice.run.history.terms.push_back({address_of("pgc1"), 2});
  r = twice.check();
  const auto one = std::find_if(r.split_brains.begin(), r.split_brains.end(),
                                [](const SplitBrain& s) { return s.kind == "one_timeline_two_histories"; });
  ASSERT_NE(one, r.split_brains.end());
  EXPECT_EQ(one->nodes, (std::vector<std::string>{"pgc1", "pgc2"}));
  EXPECT_EQ(one->timeline, 2);
}

// What the forensics read in Patroni's log (kept with the window's end) is told in order: the demote for want of
// the DCS before the promotion it led to, how the old primary rejoined after it.
TEST(Story, WhatPatroniDidIsToldAroundThePromotion) {
  WatchedRun w;
  w.run.history.faults[0].message = "pgchaos-node crash 20; pgc1 demoted itself: the DCS was not accessible; pgc1 rejoined by pg_rewind";
  const auto r = w.check();
  ASSERT_EQ(r.faults.size(), 1u);
  const auto& story = r.faults[0].story;
  EXPECT_EQ(story.rfind("pgc1 led; pgc1 demoted itself: the DCS was not accessible; pgc2 promoted after", 0), 0u) << story;
  const auto promoted = story.find("pgc2 promoted"), rejoined = story.find("; pgc1 rejoined by pg_rewind");
  EXPECT_NE(rejoined, std::string::npos) << story;
  EXPECT_GT(rejoined, promoted) << story;
}

// A full WAL disk: what PostgreSQL and Patroni did is the cause, told before the promotion; a note the story does not
// know (the fill command's df line) is not told.
TEST(Story, AFullWalDiskIsToldBeforeThePromotion) {
  WatchedRun w;
  w.run.history.faults[0].message =
      "/dev/loop1 1.0G 1.0G 0 100% /wal; pgc1's PostgreSQL panicked at 20:10:26: PANIC:  could not write to file "
      "\"pg_wal/xlogtemp.9\": No space left on device (3 times in all), then Patroni kept the leader lock and started it "
      "again 2 times (no failover)";
  const auto r = w.check();
  ASSERT_EQ(r.faults.size(), 1u);
  const auto& story = r.faults[0].story;
  EXPECT_EQ(story.rfind("pgc1 led; pgc1's PostgreSQL panicked at 20:10:26: PANIC:  could not write to file", 0), 0u) << story;
  EXPECT_NE(story.find("started it again 2 times (no failover); pgc2 promoted after"), std::string::npos) << story;
  EXPECT_EQ(story.find("/dev/loop1"), std::string::npos) << story;
}

// A frozen Patroni on the primary: PostgreSQL runs on and takes writes after another node was promoted. The split
// brain says so, with what protects against it and whether the node had it.
TEST(Story, ASplitBrainOfAFrozenPatroniNamesItsCauseAndTheWatchdog) {
  WatchedRun w;
  w.run.history.faults = {{1, "freeze-patroni", "pgc1", "systemctl kill --kill-whom=main --signal=SIGSTOP patroni", 5 * kS, 8 * kS, 0}};
  for (auto& o : w.run.history.observations)
    if (o.node == "pgc1" && o.at_ns >= 6 * kS && o.at_ns < 9 * kS) o = seen(o.at_ns, "pgc1", "primary", 1, 1);
  auto r = w.check(CommitMode::async, 0, {{"pgc1", "no watchdog (mode automatic, Patroni's default but no /dev/watchdog on the node)"}});
  const auto both = std::find_if(r.split_brains.begin(), r.split_brains.end(),
                                 [](const SplitBrain& s) { return s.kind == "two_primaries"; });
  ASSERT_NE(both, r.split_brains.end());
  EXPECT_NE(both->text.find("pgc1's Patroni was frozen by fault 1 (freeze-patroni)"), std::string::npos) << both->text;
  EXPECT_NE(both->text.find("Patroni's watchdog protects against this"), std::string::npos) << both->text;
  EXPECT_NE(both->text.find("pgc1 had no watchdog (mode automatic"), std::string::npos) << both->text;
  EXPECT_EQ(r.verdict, Verdict::invalid);
  for (const auto& other : r.split_brains)
    if (&other != &*both) {
      EXPECT_EQ(other.text.find("watchdog protects"), std::string::npos) << "said once: " << other.text;
    }

  // Thawed, the old primary took the lead back (Patroni 3.0.2's etcd3 leader key, as after a partition): the fault's
  // story says the promoted node did not keep it.
  for (auto& o : w.run.history.observations) {
    if (o.at_ns < 9 * kS) continue;
    if (o.node == "pgc1") o = seen(o.at_ns, "pgc1", "primary", 1, 1);
    if (o.node == "pgc2") o = seen(o.at_ns, "pgc2", "replica", 1, 1);
  }
  r = w.check();
  ASSERT_EQ(r.faults.size(), 1u);
  EXPECT_NE(r.faults[0].story.find("pgc2 promoted after"), std::string::npos) << r.faults[0].story;
  EXPECT_NE(r.faults[0].story.find("; pgc1 led again at the end (pgc2 last seen primary"), std::string::npos) << r.faults[0].story;
  EXPECT_NE(r.faults[0].story.find("pgc2 did not keep the lead"), std::string::npos) << r.faults[0].story;

  // The same split brain under another fault is not blamed on a frozen Patroni.
  w.run.history.faults = {{1, "partition", "pgc1", "nft ...", 5 * kS, 8 * kS, 0}};
  r = w.check();
  for (const auto& s : r.split_brains) EXPECT_EQ(s.text.find("frozen"), std::string::npos) << s.text;
}

// Through pgbouncer on the node, a server that listens on no address of its own says it is "local:5432": the
// same node the watcher sees as pgc1 and pgc2, not a third primary with its own timeline 1 and 2.
TEST(Story, AServerThatCannotTellItsAddressIsNoSecondHistory) {
  WatchedRun w;
  w.run.history.terms = {{}, {"local:5432", 1}, {"local:5432", 2}};
  const auto r = w.check();
  EXPECT_TRUE(r.split_brains.empty()) << r.split_brains.front().text;
  EXPECT_EQ(r.verdict, Verdict::valid);

  WatchedRun twice;  // while the same history with its real addresses still shows a split brain (the rule works)
  for (auto& a : twice.run.history.attempts)
    if (a.invoke_ns >= 15 * kS) a.term = 3;
  twice.run.history.terms.push_back({address_of("pgc1"), 2});
  EXPECT_FALSE(twice.check().split_brains.empty());
}

TEST(Story, RefusedFaultsAreNeverPassesAndTheHeadlineSaysSo) {
  WatchedRun w(100 * kS);
  auto& h = w.run.history;
  h.faults[0] = {1, "switchover", "pgc2", "patronictl switchover | Switchover failed, details: 412, candidate name does not "
                 "match with sync_standby", 5 * kS, 5 * kS + 100 * kMs, 1};
  auto r = w.check();
  EXPECT_TRUE(r.faults[0].refused);
  EXPECT_NE(r.faults[0].refusal.find("candidate name does not match"), std::string::npos) << r.faults[0].refusal;
  EXPECT_EQ(r.verdict, Verdict::unknown) << "every fault refused: nothing was tested";

  h.faults.push_back({2, "switchover", "pgc3", "patronictl switchover", 10 * kS, 12 * kS, 0});
  r = w.check();
  EXPECT_EQ(r.verdict, Verdict::valid);
  EXPECT_NE(r.headline.find("through 1 fault; 1 of 2 faults refused (fault 1 (switchover): Switchover failed"),
            std::string::npos)
      << r.headline;
}

TEST(Story, TheProbeGivesEachFaultsTrueUnavailabilityAndALimitFailsIt) {
  WatchedRun w;
  w.run.history.probes = {{0, true, "10.0.0.1:5432", ""},
                          {5 * kS + 200 * kMs, false, "10.0.0.1:5432", "connection refused"},
                          {6 * kS + 400 * kMs, true, "10.0.0.2:5432", ""}};
  auto r = w.check();
  EXPECT_EQ(r.faults[0].probe_unavailable_ns, kS + 200 * kMs);
  EXPECT_EQ(r.faults[0].writes_resumed_ns, kS + 400 * kMs);
  EXPECT_EQ(r.faults[0].story.find("workers"), std::string::npos) << "the workers never waited longer: " << r.faults[0].story;
  EXPECT_EQ(r.verdict, Verdict::valid);
  r = w.check(CommitMode::async, 1000);
  EXPECT_EQ(r.verdict, Verdict::invalid);
  EXPECT_NE(r.headline.find("writes unavailable 1.2 s (probe), more than the 1.0 s allowed"), std::string::npos) << r.headline;
  w.run.history.faults[0].limit_ms = 2000;  // the step's own limit wins over the flag's
  EXPECT_EQ(w.check(CommitMode::async, 1000).verdict, Verdict::valid);

  // Without a probe (--probe-interval off) a limit cannot be judged, and the reasons say so.
  w.run.history.probes.clear();
  r = w.check(CommitMode::async, 1000);
  EXPECT_EQ(r.faults[0].probe_unavailable_ns, -1);
  const auto said = std::find_if(r.reasons.begin(), r.reasons.end(), [](const std::string& reason) {
    return reason.find("its limit of 2.0 s unavailability was not judged: no write probe ran") != std::string::npos;
  });
  EXPECT_NE(said, r.reasons.end()) << r.headline;
}

// A fault on the workers' path only (pgbouncer killed on the primary's node): the probe wrote on through another
// path, the workers did not commit for 4 s. Both are told: "writes never stopped" alone hid the application's wait.
TEST(Story, AWaitOfTheWorkersThatTheProbeDidNotShareIsTold) {
  WatchedRun w(100 * kS);  // no failover: pgc1 leads throughout
  w.run.history.probes = {{0, true, "10.0.0.1:5432", ""}};
  for (auto& a : w.run.history.attempts)
    if (a.invoke_ns >= 5500 * kMs && a.invoke_ns < 9500 * kMs)
      a.latency_us = static_cast<std::uint32_t>((9500 * kMs - a.invoke_ns) / 1000);  // acknowledged at 9.5 s
  const auto r = w.check();
  ASSERT_EQ(r.faults.size(), 1u);
  EXPECT_EQ(r.faults[0].probe_unavailable_ns, 0);
  EXPECT_NEAR(static_cast<double>(r.faults[0].unavailable_ns) / 1e9, 4.0, 0.05);
  EXPECT_EQ(r.faults[0].story, "no leader change: pgc1 led before and after; the probe's writes never stopped; "
                               "the workers went 4.0 s without a commit");
  EXPECT_EQ(r.verdict, Verdict::valid);
}

TEST(Story, InSyncModeOnlyCancelledWaitsMayBeLost) {
  WatchedRun w;
  const std::int64_t cancelled = w.op_at(4 * kS);
  w.run.history.warnings.push_back({cancelled, 1, "WARNING: canceling wait for synchronous replication due to user request"});
  w.lose(cancelled);
  auto r = w.check(CommitMode::sync);
  EXPECT_EQ(r.lost_allowed_by_mode, 1);
  EXPECT_EQ(r.verdict, Verdict::valid) << r.headline;
  const std::int64_t lagging = w.op_at(6 * kS - 30 * kMs);
  w.lose(lagging);
  r = w.check(CommitMode::sync);
  EXPECT_EQ(r.verdict, Verdict::invalid) << r.headline;
}

// pgc1 has pgc2 as its synchronous standby, except from 2 s to 4 s, when the watcher saw it alone; after the
// failover pgc2 has pgc3.
void with_sync_standby_but_a_gap(WatchedRun& w) {
  for (auto& o : w.run.history.observations) {
    if (o.node == "pgc1" && o.pg_role == "primary") o.sync_followers = o.at_ns >= 2 * kS && o.at_ns <= 4 * kS ? "" : "pgc2";
    if (o.node == "pgc2" && o.pg_role == "primary") o.sync_followers = "pgc3";
  }
}

TEST(Story, SyncStrictFailsACommitAcknowledgedWithoutASynchronousStandby) {
  WatchedRun w;
  with_sync_standby_but_a_gap(w);
  auto strict = w.check(CommitMode::sync_strict);
  EXPECT_TRUE(strict.sync_standby_checked);
  ASSERT_FALSE(strict.acknowledged_without_sync_standby.empty());
  // Ops whose whole span lies inside 2..4 s, none outside it.
  const auto in_gap = w.op_at(3 * kS);
  EXPECT_TRUE(std::binary_search(strict.acknowledged_without_sync_standby.begin(),
                                 strict.acknowledged_without_sync_standby.end(), in_gap));
  for (const auto op : strict.acknowledged_without_sync_standby) {
    const auto& a = w.acknowledged(op);
    EXPECT_GE(a.invoke_ns, 2 * kS);
    EXPECT_LE(a.invoke_ns + a.latency_us * 1000, 4 * kS);
  }
  EXPECT_EQ(strict.verdict, Verdict::invalid) << strict.headline;
  EXPECT_NE(strict.headline.find("no synchronous standby"), std::string::npos) << strict.headline;
  // Plain sync mode lets Patroni drop the standby: reported, not failed.
  const auto sync = w.check(CommitMode::sync);
  EXPECT_EQ(sync.acknowledged_without_sync_standby, strict.acknowledged_without_sync_standby);
  EXPECT_EQ(sync.verdict, Verdict::valid) << sync.headline;
  // Never alone: nothing to report; never a standby recorded at all (an older history): not judged.
  WatchedRun always;
  for (auto& o : always.run.history.observations)
    if (o.pg_role == "primary") o.sync_followers = o.node == "pgc1" ? "pgc2" : "pgc3";
  EXPECT_TRUE(always.check(CommitMode::sync_strict).acknowledged_without_sync_standby.empty());
  EXPECT_EQ(always.check(CommitMode::sync_strict).verdict, Verdict::valid);
  const WatchedRun unrecorded;
  EXPECT_FALSE(unrecorded.check(CommitMode::sync_strict).sync_standby_checked);
}

TEST(Story, ALevelThatDoesNotWaitForTheStandbyIsPromisedNothing) {
  WatchedRun w;
  const std::int64_t lagging = w.op_at(6 * kS - 30 * kMs);
  w.lose(lagging);
  CheckOptions options;
  options.commit.mode = CommitMode::sync;
  options.commit.level = "local";
  const auto r = checker::check(w.run.history, w.run.snapshots, options, bank::invariants());
  EXPECT_EQ(r.verdict, Verdict::valid) << r.headline;
  EXPECT_NE(r.headline.find("sync:local"), std::string::npos) << r.headline;
  options.commit.level = "remote_write";
  EXPECT_EQ(checker::check(w.run.history, w.run.snapshots, options, bank::invariants()).verdict, Verdict::invalid);
}

TEST(Guarantee, EachModeIsJudgedByWhatPatroniPromisesForIt) {
  WatchedRun w;
  with_sync_standby_but_a_gap(w);
  const std::int64_t cancelled = w.op_at(4 * kS + 500 * kMs);
  w.run.history.warnings.push_back({cancelled, 1, "WARNING: canceling wait for synchronous replication due to user request"});
  w.lose(cancelled);
  // sync: a cancelled wait is the documented exception, and a commit without a standby is allowed.
  const auto sync = judge_guarantee(w.check(CommitMode::sync));
  EXPECT_TRUE(sync.judged);
  EXPECT_TRUE(sync.kept) << sync.broken;
  EXPECT_NE(sync.promise.find("except a cancelled sync wait"), std::string::npos) << sync.promise;
  // sync-strict: the commits acknowledged in the 2..4 s gap break it, named by op.
  const auto strict_result = w.check(CommitMode::sync_strict);
  const auto strict = judge_guarantee(strict_result);
  EXPECT_FALSE(strict.kept);
  EXPECT_EQ(strict.breaking_ops, strict_result.acknowledged_without_sync_standby);
  EXPECT_NE(strict.broken.find("without a synchronous standby (ops "), std::string::npos) << strict.broken;
  // A lost commit that was not a cancelled wait breaks sync too; async promises nothing.
  const std::int64_t lagging = w.op_at(6 * kS - 30 * kMs);
  w.lose(lagging);
  const auto broken = judge_guarantee(w.check(CommitMode::sync));
  EXPECT_FALSE(broken.kept);
  EXPECT_EQ(broken.breaking_ops, std::vector<std::int64_t>{lagging});
  EXPECT_NE(broken.broken.find("1 acknowledged commit lost (ops " + std::to_string(lagging) + ")"), std::string::npos)
      << broken.broken;
  const auto async = judge_guarantee(w.check(CommitMode::async));
  EXPECT_FALSE(async.judged);
  EXPECT_TRUE(async.kept);
  EXPECT_NE(async.promise.find("none"), std::string::npos);
}

TEST(Story, AContradictedResolutionIsReportedWithItsLostRetry) {
  WatchedRun w;
  auto& h = w.run.history;
  // Op 500: attempt 1 in doubt, resolved "not committed"; attempt 2 acknowledged. The final ledger holds attempt 1.
  const auto it = std::find_if(h.attempts.begin(), h.attempts.end(), [](const auto& a) { return a.op == 500 && a.outcome == Outcome::ok; });
  ASSERT_NE(it, h.attempts.end());
  const auto acknowledged = *it;
  it->outcome = Outcome::unknown;
  it->attempt = 1;
  auto retry = acknowledged;
  retry.attempt = 2;
  h.attempts.insert(it + 1, retry);
  h.resolutions.push_back({500, acknowledged.invoke_ns + 5 * kMs, 1, false});
  for (auto& row : w.run.snapshots.front().ledger)
    if (row.op_id == 500) row.attempt = 1;
  const auto r = w.check();
  ASSERT_EQ(r.contradicted.size(), 1u);
  EXPECT_EQ(r.contradicted[0].op, 500);
  EXPECT_EQ(r.contradicted[0].resolved_attempt, 1);
  EXPECT_EQ(r.contradicted[0].acknowledged_attempt, 2);
}

TEST(Story, AReplicaWithAnotherAttemptOfAnOpCountsItOnce) {
  WatchedRun w;
  history::Snapshot replica = w.run.snapshots.front();
  replica.name = "pgc2";
  replica.role = "replica";
  replica.ledger[10].attempt = 2;
  w.run.snapshots.push_back(replica);
  const auto r = w.check();
  ASSERT_EQ(r.nodes.size(), 1u);
  EXPECT_EQ(r.nodes[0].other_attempt_ops, std::vector<std::int64_t>{replica.ledger[10].op_id});
  EXPECT_TRUE(r.nodes[0].missing_ops.empty());
  EXPECT_TRUE(r.nodes[0].extra_ops.empty());
}

}  // namespace
}  // namespace pgchaos::checker
