#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <set>

#include "checker/checker.h"
#include "history/ledger_index.h"
#include "tests/checker/synthetic_run.h"
#include "tests/support/temp_directory.h"
#include "workloads/bank/bank.h"

namespace pgchaos::checker {
namespace {

using history::Outcome;
using testing::make_clean_run;
using testing::SyntheticRun;

constexpr int kTrials = 100;
constexpr int kAccounts = 20;

std::vector<std::int64_t> sorted(const std::set<std::int64_t>& ids) { return {ids.begin(), ids.end()}; }

// k distinct operation ids of the run, at random.
std::set<std::int64_t> pick_ops(std::mt19937_64& rng, std::int64_t ops, std::size_t k) {
  std::set<std::int64_t> picked;
  std::uniform_int_distribution<std::int64_t> op(1, ops);
  while (picked.size() < k) picked.insert(op(rng));
  return picked;
}

history::Attempt& ok_attempt(SyntheticRun& run, std::int64_t op) {
  for (auto& a : run.history.attempts)
    if (a.op == op && a.outcome == Outcome::ok) return a;
  throw std::logic_error("no ok attempt");
}

// Removes op's ledger row from a snapshot and undoes its transfer, so the balances still agree with the ledger.
void erase_commit(history::Snapshot& s, std::int64_t op) {
  const auto it = std::find_if(s.ledger.begin(), s.ledger.end(), [op](const auto& r) { return r.op_id == op; });
  ASSERT_NE(it, s.ledger.end());
  s.accounts[static_cast<std::size_t>(it->from_account - 1)].balance_cents += it->amount_cents;
  s.accounts[static_cast<std::size_t>(it->to_account - 1)].balance_cents -= it->amount_cents + 100;
  s.ledger.erase(it);
}

struct Trial {
  std::mt19937_64 rng;
  std::int64_t ops;
  std::size_t k;
  SyntheticRun run;
  explicit Trial(int seed) : rng(static_cast<std::uint64_t>(seed)) {
    ops = std::uniform_int_distribution<std::int64_t>(50, 400)(rng);
    k = std::uniform_int_distribution<std::size_t>(1, 8)(rng);
    run = make_clean_run(rng, ops, kAccounts, 2);
  }
  CheckResult check(CommitMode mode = CommitMode::sync) const {
    CheckOptions options;
    options.commit.mode = mode;
    auto result = checker::check(run.history, run.snapshots, options, bank::invariants());
    expect_the_same_from_indexes(result, options);
    return result;
  }
  // `pgchaos check` reads each ledger as its index of the run, never as rows: every planted anomaly must come out
  // the same.
  void expect_the_same_from_indexes(const CheckResult& from_rows, const CheckOptions& options) const {
    auto indexed = run.snapshots;
    for (auto& s : indexed) {
      s.ledger_index = std::make_shared<history::LedgerIndex>(history::index_ledger(s.ledger, run.history.run_id));
      s.ledger.clear();
    }
    const auto r = checker::check(run.history, indexed, options, bank::invariants());
    EXPECT_EQ(r.headline, from_rows.headline);
    EXPECT_EQ(r.lost, from_rows.lost);
    EXPECT_EQ(r.phantom, from_rows.phantom);
    EXPECT_EQ(r.unknown_committed, from_rows.unknown_committed);
    EXPECT_EQ(r.unknown_not_committed, from_rows.unknown_not_committed);
    EXPECT_EQ(r.committed_not_in_history, from_rows.committed_not_in_history);
    EXPECT_EQ(r.ledger_rows, from_rows.ledger_rows);
    EXPECT_EQ(r.committed_this_run, from_rows.committed_this_run);
    EXPECT_EQ(r.original_formula_cents, from_rows.original_formula_cents);
    ASSERT_EQ(r.account_mismatches.size(), from_rows.account_mismatches.size());
    for (std::size_t i = 0; i < r.account_mismatches.size(); ++i) {
      EXPECT_EQ(r.account_mismatches[i].account, from_rows.account_mismatches[i].account);
      EXPECT_EQ(r.account_mismatches[i].expected_cents, from_rows.account_mismatches[i].expected_cents);
      EXPECT_EQ(r.account_mismatches[i].ops, from_rows.account_mismatches[i].ops);
      EXPECT_EQ(r.account_mismatches[i].op_count, from_rows.account_mismatches[i].op_count);
    }
    ASSERT_EQ(r.nodes.size(), from_rows.nodes.size());
    for (std::size_t i = 0; i < r.nodes.size(); ++i) {
      EXPECT_EQ(r.nodes[i].missing_ops, from_rows.nodes[i].missing_ops);
      EXPECT_EQ(r.nodes[i].extra_ops, from_rows.nodes[i].extra_ops);
      EXPECT_EQ(r.nodes[i].other_attempt_ops, from_rows.nodes[i].other_attempt_ops);
      EXPECT_EQ(r.nodes[i].differing_accounts, from_rows.nodes[i].differing_accounts);
    }
  }
};

TEST(PlantedAnomalies, CleanRunsAreValid) {
  for (int seed = 0; seed < kTrials; ++seed) {
    const Trial t(seed);
    const auto r = t.check();
    ASSERT_EQ(r.verdict, Verdict::valid) << "seed " << seed << ": " << r.headline;
    EXPECT_EQ(r.acknowledged, t.ops);
    EXPECT_TRUE(r.lost.empty() && r.phantom.empty() && r.account_mismatches.empty());
    EXPECT_EQ(r.original_formula_cents, 0);
    EXPECT_EQ(r.nodes.size(), 2u);
  }
}

TEST(PlantedAnomalies, LostCommitsAreFoundExactly) {
  for (int seed = 0; seed < kTrials; ++seed) {
    Trial t(1000 + seed);
    const auto planted = pick_ops(t.rng, t.ops, t.k);
    for (const auto op : planted)
      for (auto& s : t.run.snapshots) erase_commit(s, op);  // gone everywhere: a failover lost them
    const auto r = t.check();
    ASSERT_EQ(r.lost, sorted(planted)) << "seed " << seed;
    EXPECT_TRUE(r.phantom.empty());
    EXPECT_TRUE(r.account_mismatches.empty());
    EXPECT_EQ(r.balance_drift_cents, 0);
    EXPECT_EQ(r.original_formula_cents, -100 * static_cast<std::int64_t>(t.k)) << "seed " << seed;
    EXPECT_EQ(r.verdict, Verdict::invalid);
    const auto reported = t.check(CommitMode::async);  // async mode reports the same losses without failing
    EXPECT_EQ(reported.lost.size(), t.k);
    EXPECT_EQ(reported.verdict, Verdict::valid) << reported.headline;
  }
}

// A kill -9 cuts the history short: the ledger then holds commits whose invoke never reached the file. They are
// named, not merely counted; a complete history cannot explain them, so there they fail the run.
TEST(PlantedAnomalies, CommitsMissingFromACutHistoryAreNamed) {
  for (int seed = 0; seed < kTrials; ++seed) {
    Trial t(1500 + seed);
    const auto cut = static_cast<std::size_t>(std::uniform_int_distribution<std::int64_t>(1, 8)(t.rng));
    std::vector<std::int64_t> dropped;
    auto& attempts = t.run.history.attempts;
    while (dropped.size() < cut) {  // the last operations' lines never reached the file
      const std::int64_t op = attempts.back().op;
      while (!attempts.empty() && attempts.back().op == op) attempts.pop_back();
      dropped.insert(dropped.begin(), op);
    }
    t.run.history.finished = false;
    t.run.history.torn_tail = true;
    const auto r = t.check();
    ASSERT_EQ(r.committed_not_in_history, dropped) << "seed " << seed;
    EXPECT_FALSE(r.history_complete);
    EXPECT_EQ(r.committed_this_run, t.ops);
    EXPECT_EQ(r.verdict, Verdict::valid) << r.headline;
    EXPECT_NE(std::find_if(r.reasons.begin(), r.reasons.end(),
                           [](const std::string& why) { return why.find("history cut short") != std::string::npos; }),
              r.reasons.end());
    t.run.history.finished = true;  // the same rows under a history that claims to be whole
    t.run.history.torn_tail = false;
    EXPECT_EQ(t.check().verdict, Verdict::invalid);
  }
}

TEST(PlantedAnomalies, AnAccountMismatchCountsAllItsOps) {
  Trial t(1700);
  auto& primary = t.run.snapshots.front();
  primary.accounts[0].balance_cents += 1;
  const auto r = t.check();
  ASSERT_EQ(r.account_mismatches.size(), 1u);
  const auto& m = r.account_mismatches.front();
  std::int64_t expected = 0;
  for (const auto& row : primary.ledger) expected += row.from_account == 1 || row.to_account == 1;
  EXPECT_EQ(m.op_count, expected);
  EXPECT_EQ(m.ops.size(), std::min<std::size_t>(20, static_cast<std::size_t>(expected)));
}

TEST(PlantedAnomalies, PhantomCommitsAreFoundExactly) {
  for (int seed = 0; seed < kTrials; ++seed) {
    Trial t(2000 + seed);
    const auto planted = pick_ops(t.rng, t.ops, t.k);
    for (const auto op : planted) ok_attempt(t.run, op).outcome = Outcome::fail;
    const auto r = t.check();
    ASSERT_EQ(r.phantom, sorted(planted)) << "seed " << seed;
    EXPECT_TRUE(r.lost.empty());
    EXPECT_EQ(r.verdict, Verdict::invalid);
  }
}

TEST(PlantedAnomalies, UnknownThatCommittedIsResolvedExactly) {
  for (int seed = 0; seed < kTrials; ++seed) {
    Trial t(3000 + seed);
    const auto planted = pick_ops(t.rng, t.ops, t.k);
    for (const auto op : planted) ok_attempt(t.run, op).outcome = Outcome::unknown;
    const auto r = t.check();
    ASSERT_EQ(r.unknown_committed, sorted(planted)) << "seed " << seed;
    EXPECT_TRUE(r.unknown_not_committed.empty());
    EXPECT_TRUE(r.lost.empty() && r.phantom.empty());
    EXPECT_EQ(r.original_formula_cents, 100 * static_cast<std::int64_t>(t.k)) << "committed, never acknowledged";
    EXPECT_EQ(r.verdict, Verdict::valid);
  }
}

TEST(PlantedAnomalies, UnknownThatDidNotCommitIsResolvedExactly) {
  for (int seed = 0; seed < kTrials; ++seed) {
    Trial t(4000 + seed);
    const auto planted = pick_ops(t.rng, t.ops, t.k);
    for (const auto op : planted) {
      // An in-doubt attempt that did not commit, then a retry under the same id that did.
      auto& ok = ok_attempt(t.run, op);
      const history::Attempt doubt{op, ok.invoke_ns, 800, ok.attempt, Outcome::unknown};
      ++ok.attempt;
      for (auto& s : t.run.snapshots)
        for (auto& row : s.ledger)
          if (row.op_id == op) ++row.attempt;
      t.run.history.attempts.push_back(doubt);
    }
    const auto r = t.check();
    ASSERT_EQ(r.unknown_not_committed, sorted(planted)) << "seed " << seed;
    EXPECT_TRUE(r.unknown_committed.empty());
    EXPECT_TRUE(r.lost.empty() && r.phantom.empty());
    EXPECT_EQ(r.verdict, Verdict::valid);
  }
}

TEST(PlantedAnomalies, AccountMismatchesNameTheAccounts) {
  for (int seed = 0; seed < kTrials; ++seed) {
    Trial t(5000 + seed);
    std::set<std::int64_t> planted;
    std::uniform_int_distribution<int> account(1, kAccounts);
    while (planted.size() < t.k) planted.insert(account(t.rng));
    for (auto& s : t.run.snapshots)
      for (const auto id : planted) s.accounts[static_cast<std::size_t>(id - 1)].balance_cents += 1 + seed % 7;
    const auto r = t.check();
    std::set<std::int64_t> found;
    for (const auto& m : r.account_mismatches) {
      found.insert(m.account);
      EXPECT_EQ(m.balance_cents - m.expected_cents, 1 + seed % 7);
      EXPECT_FALSE(m.ops.empty()) << "a mismatch names the ops on the account";
    }
    ASSERT_EQ(found, planted) << "seed " << seed;
    EXPECT_EQ(r.verdict, Verdict::invalid);
  }
}

TEST(PlantedAnomalies, DivergentReplicaIsFoundWithItsOps) {
  for (int seed = 0; seed < kTrials; ++seed) {
    Trial t(6000 + seed);
    const auto planted = pick_ops(t.rng, t.ops, t.k);
    for (const auto op : planted) erase_commit(t.run.snapshots[2], op);  // pgc3 lacks them
    const auto r = t.check();
    ASSERT_EQ(r.nodes.size(), 2u);
    EXPECT_FALSE(r.nodes[0].diverged()) << "pgc2 is intact";
    ASSERT_TRUE(r.nodes[1].diverged());
    ASSERT_EQ(r.nodes[1].missing_ops, sorted(planted)) << "seed " << seed;
    EXPECT_TRUE(r.nodes[1].extra_ops.empty());
    EXPECT_FALSE(r.nodes[1].differing_accounts.empty());
    EXPECT_TRUE(r.lost.empty()) << "the primary has them all";
    EXPECT_EQ(r.verdict, Verdict::invalid);
  }
}

std::string line_of(history::EventType type, std::int64_t op, int attempt, int worker, std::int64_t mono_ns) {
  history::Event e;
  e.type = type;
  e.op = op;
  e.attempt = attempt;
  e.worker = worker;
  e.mono_ns = mono_ns;
  return history::to_json_line(e);
}

TEST(PlantedAnomalies, TornHistoriesLoseOnlyTheirLastLine) {
  using history::EventType;
  const testing::TempDirectory dir("pgchaos-torn");
  const auto path = dir / "history.jsonl";
  for (int seed = 0; seed < kTrials; ++seed) {
    std::mt19937_64 rng(static_cast<std::uint64_t>(7000 + seed));
    const int ops = std::uniform_int_distribution<int>(5, 200)(rng);
    std::string text;
    for (int op = 1; op <= ops; ++op) {
      text += line_of(EventType::invoke, op, 1, op % 4, op * 1000);
      text += line_of(EventType::ok, op, 1, op % 4, op * 1000 + 500);
    }
    const std::string last = line_of(EventType::invoke, ops + 1, 1, 0, (ops + 1) * 1000);
    const auto cut = std::uniform_int_distribution<std::size_t>(1, last.size() - 1)(rng);  // the writer died here
    std::ofstream(path, std::ios::binary) << text << last.substr(0, cut);
    const auto h = history::load_run_history(path);
    ASSERT_TRUE(h.torn_tail) << "seed " << seed << " cut " << cut;
    ASSERT_EQ(h.attempts.size(), static_cast<std::size_t>(ops));
    EXPECT_TRUE(std::all_of(h.attempts.begin(), h.attempts.end(), [](const auto& a) { return a.outcome == Outcome::ok; }));
  }
  // A damaged line that is not the last is an error naming the line.
  std::ofstream(path, std::ios::binary) << line_of(EventType::invoke, 1, 1, 0, 1) << "{\"type\":\"ok\",\"op\":x}\n"
                                        << line_of(EventType::invoke, 2, 1, 0, 3);
  try {
    history::load_run_history(path);
    FAIL() << "a damaged middle line must not be skipped";
  } catch (const history::HistoryError& error) {
    EXPECT_NE(std::string(error.what()).find(":2:"), std::string::npos) << error.what();
  }
  std::filesystem::remove(path);
}

TEST(Checker, NoPrimarySnapshotIsUnknownNotValid) {
  std::mt19937_64 rng(1);
  auto run = make_clean_run(rng, 10, 5, 0);
  run.snapshots[0].error = "connection refused";
  const auto r = check(run.history, run.snapshots, {}, bank::invariants());
  EXPECT_EQ(r.verdict, Verdict::unknown);
  EXPECT_FALSE(r.checked);
  EXPECT_EQ(check(run.history, {}, {}, bank::invariants()).verdict, Verdict::unknown);
}

TEST(Checker, AReplicaThatDidNotCatchUpLeavesConvergenceUndecided) {
  std::mt19937_64 rng(2);
  auto run = make_clean_run(rng, 50, 5, 1);
  run.snapshots[1].caught_up = false;
  const auto r = check(run.history, run.snapshots, {}, bank::invariants());
  EXPECT_EQ(r.verdict, Verdict::unknown);
  EXPECT_FALSE(r.nodes[0].compared);
}

TEST(Checker, FaultWindowsGetUnavailabilityAndTheirLosses) {
  std::mt19937_64 rng(3);
  auto run = make_clean_run(rng, 100, 10, 0);
  // A fault from 5 ms to 6 ms; nothing acknowledged between 5 and 8 ms.
  run.history.faults.push_back({1, "switchover", "pgc1", "", 5'000'000, 6'000'000, 0});
  std::set<std::int64_t> in_window;
  std::vector<std::int64_t> acknowledged;
  for (auto& a : run.history.attempts) {
    if (a.invoke_ns >= 3'500'000 && a.invoke_ns < 8'000'000) a.outcome = Outcome::unknown;
    const std::int64_t done = a.invoke_ns + a.latency_us * 1000;
    if (a.outcome == Outcome::unknown && done >= 5'000'000 && done <= 6'000'000) in_window.insert(a.op);
    if (a.outcome == Outcome::ok) acknowledged.push_back(done);
  }
  // The outage around the window: from the last acknowledgement before it to the first one after it.
  std::sort(acknowledged.begin(), acknowledged.end());
  const auto after = std::lower_bound(acknowledged.begin(), acknowledged.end(), 5'000'000);
  const std::int64_t expected_gap = *after - *(after - 1);
  const auto r = check(run.history, run.snapshots, {}, bank::invariants());
  ASSERT_EQ(r.faults.size(), 1u);
  EXPECT_EQ(r.faults[0].unavailable_ns / 1000, expected_gap / 1000);
  EXPECT_GT(r.faults[0].unavailable_ns, 3'000'000);
  EXPECT_EQ(std::set<std::int64_t>(r.faults[0].unknown.begin(), r.faults[0].unknown.end()), in_window);
  ASSERT_FALSE(r.longest_gaps.empty());
  EXPECT_GE(r.longest_gaps[0].end_ns - r.longest_gaps[0].start_ns, 3'000'000);
  EXPECT_GT(r.per_second.size(), 0u);
  EXPECT_GT(r.latency.p99_ms, 0);
}

TEST(Checker, VerdictsMergeInvalidOverUnknownOverValid) {
  using V = Verdict;
  EXPECT_EQ(merge(V::valid, V::valid), V::valid);
  EXPECT_EQ(merge(V::valid, V::unknown), V::unknown);
  EXPECT_EQ(merge(V::unknown, V::valid), V::unknown);
  EXPECT_EQ(merge(V::unknown, V::invalid), V::invalid);
  EXPECT_EQ(merge(V::invalid, V::valid), V::invalid);
  for (const auto v : {V::valid, V::invalid, V::unknown}) EXPECT_EQ(parse_verdict(to_string(v)), v);
  EXPECT_FALSE(parse_verdict("Valid").has_value());
}

TEST(Checker, TheHeadlineNamesWhatMadeTheVerdict) {
  std::mt19937_64 rng(5);
  auto run = make_clean_run(rng, 40, 5, 0);
  for (auto& s : run.snapshots) erase_commit(s, 7);
  run.history.findings.push_back("cluster not healthy after fault 1 (partition on pgc1): pgc2: not streaming\n  pgc1: ...");
  const auto r = check(run.history, run.snapshots, {}, bank::invariants());  // async: the loss alone would only be reported
  EXPECT_EQ(r.verdict, Verdict::invalid);
  EXPECT_EQ(r.headline.rfind("invalid: finding: cluster not healthy after fault 1 (partition on pgc1)", 0), 0u) << r.headline;
  EXPECT_NE(r.headline.find("; 1 acknowledged commit lost"), std::string::npos) << r.headline;
  EXPECT_EQ(r.headline.find('\n'), std::string::npos) << "one line";
}

// A cluster not yet healthy when Ctrl-C cut the wait short might have recovered: unknown, never invalid or valid.
TEST(Checker, AnUnconfirmedFindingLeavesTheVerdictUnknown) {
  std::mt19937_64 rng(5);
  auto run = make_clean_run(rng, 40, 5, 0);
  run.history.unconfirmed_findings.push_back(
      "cluster not healthy after the final heal (its wait cut short by the interruption): pgc3: REST API: cannot connect");
  const auto r = check(run.history, run.snapshots, {}, bank::invariants());
  EXPECT_EQ(r.verdict, Verdict::unknown) << r.headline;
  EXPECT_EQ(r.headline.rfind("unknown: unconfirmed finding: cluster not healthy after the final heal", 0), 0u) << r.headline;
  EXPECT_TRUE(r.findings.empty());
}

// An index read for another run than the history's would make every commit look lost: the checker refuses it.
TEST(Checker, ALedgerIndexedForAnotherRunIsNotChecked) {
  std::mt19937_64 rng(6);
  auto run = make_clean_run(rng, 30, 5, 0);
  auto& primary = run.snapshots[0];
  primary.ledger_index = std::make_shared<history::LedgerIndex>(history::index_ledger(primary.ledger, 2));
  primary.ledger.clear();
  const auto r = check(run.history, run.snapshots, {}, bank::invariants());
  EXPECT_EQ(r.verdict, Verdict::unknown);
  EXPECT_NE(r.headline.find("the ledger of pgc1 was read for run 2, the history is run 1"), std::string::npos) << r.headline;
}

TEST(Checker, SeedFormulaCountsEarlierRunsRows) {
  std::mt19937_64 rng(4);
  auto run = make_clean_run(rng, 30, 5, 0);
  auto& primary = run.snapshots[0];
  primary.ledger.insert(primary.ledger.begin(), history::LedgerRow{7, 0, 0, 1, 1, 2, 500, 0});  // run 0's row
  primary.accounts[0].balance_cents -= 500;
  primary.accounts[1].balance_cents += 600;
  const auto r = check(run.history, run.snapshots, {}, bank::invariants());
  EXPECT_EQ(r.verdict, Verdict::valid) << r.headline;
  EXPECT_EQ(r.ledger_rows, 31);
  EXPECT_EQ(r.committed_this_run, 30);
  EXPECT_EQ(r.original_formula_cents, 0);
}

}  // namespace
}  // namespace pgchaos::checker
