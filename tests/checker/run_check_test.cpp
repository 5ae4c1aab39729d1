#include <gtest/gtest.h>

#include "checker/checker.h"

namespace pgchaos::checker {
namespace {

using history::EventType;

class RunCheckTest : public ::testing::Test {
 protected:
  static constexpr std::int64_t kRun = 5;

  void SetUp() override {
    primary_.initial_balance_cents = 10000;
    for (int id = 1; id <= 4; ++id) primary_.accounts.push_back({id, 10000});
  }
  void event(EventType type, std::int64_t op, int attempt) {
    history::Event e;
    e.type = type;
    e.op = op;
    e.attempt = attempt;
    events_.push_back(e);
  }
  // A committed transfer of 1.00 from account 1 to account 2 (credit = amount + 1.00).
  void commit_in_database(std::int64_t op, int attempt, std::int64_t run = kRun) {
    primary_.ledger.push_back({run, op, attempt, 0, 1, 2, 100, 0});
    primary_.accounts[0].balance_cents -= 100;
    primary_.accounts[1].balance_cents += 200;
  }

  std::vector<history::Event> events_;
  history::Snapshot primary_;
};

TEST_F(RunCheckTest, CleanRunHolds) {
  for (int op = 1; op <= 3; ++op) {
    event(EventType::invoke, op, 1);
    event(EventType::ok, op, 1);
    commit_in_database(op, 1);
  }
  const RunCheck c = check_run(events_, primary_, kRun);
  EXPECT_TRUE(c.holds());
  EXPECT_EQ(c.acknowledged, 3);
  EXPECT_EQ(c.committed_this_run, 3);
  EXPECT_EQ(c.seed_formula_cents, 0);
  EXPECT_EQ(c.balance_drift_cents, 0);
}

TEST_F(RunCheckTest, AcknowledgedButAbsentIsLost) {
  event(EventType::invoke, 1, 1);
  event(EventType::ok, 1, 1);
  event(EventType::invoke, 2, 1);
  event(EventType::ok, 2, 1);
  commit_in_database(2, 1);
  const RunCheck c = check_run(events_, primary_, kRun);
  EXPECT_FALSE(c.holds());
  EXPECT_EQ(c.lost, std::vector<std::int64_t>{1});
  EXPECT_EQ(c.seed_formula_cents, -100) << "the seed's formula counts 2 acknowledged ops, the database holds 1";
}

TEST_F(RunCheckTest, FailedAttemptPresentIsPhantom) {
  event(EventType::invoke, 1, 1);
  event(EventType::fail, 1, 1);
  commit_in_database(1, 1);
  const RunCheck c = check_run(events_, primary_, kRun);
  EXPECT_EQ(c.phantom, std::vector<std::int64_t>{1});
  EXPECT_FALSE(c.holds());
}

TEST_F(RunCheckTest, RetriedDeadlockIsNotPhantom) {
  event(EventType::invoke, 1, 1);
  event(EventType::fail, 1, 1);
  event(EventType::invoke, 1, 2);
  event(EventType::ok, 1, 2);
  commit_in_database(1, 2);
  const RunCheck c = check_run(events_, primary_, kRun);
  EXPECT_TRUE(c.holds());
  EXPECT_EQ(c.failed_attempts, 1);
}

TEST_F(RunCheckTest, UnknownAttemptsAreResolvedFromTheLedger) {
  event(EventType::invoke, 1, 1);
  event(EventType::unknown, 1, 1);
  commit_in_database(1, 1);
  event(EventType::invoke, 2, 1);
  event(EventType::unknown, 2, 1);
  event(EventType::invoke, 2, 2);
  event(EventType::ok, 2, 2);
  commit_in_database(2, 2);
  const RunCheck c = check_run(events_, primary_, kRun);
  EXPECT_TRUE(c.holds());
  EXPECT_EQ(c.unknown_committed, std::vector<std::int64_t>{1});
  EXPECT_EQ(c.unknown_not_committed, std::vector<std::int64_t>{2});
  EXPECT_EQ(c.seed_formula_cents, 100) << "op 1 committed though the client never saw it";
}

TEST_F(RunCheckTest, BalanceThatDisagreesWithTheLedgerIsDrift) {
  event(EventType::invoke, 1, 1);
  event(EventType::ok, 1, 1);
  commit_in_database(1, 1);
  primary_.accounts[3].balance_cents += 1;
  const RunCheck c = check_run(events_, primary_, kRun);
  EXPECT_EQ(c.balance_drift_cents, 1);
  EXPECT_FALSE(c.holds());
}

TEST_F(RunCheckTest, EarlierRunsRowsCountInTheBalanceButNotAsThisRunsOps) {
  commit_in_database(1, 1, kRun - 1);
  event(EventType::invoke, 1, 1);
  event(EventType::ok, 1, 1);
  commit_in_database(1, 1);
  const RunCheck c = check_run(events_, primary_, kRun);
  EXPECT_TRUE(c.holds());
  EXPECT_EQ(c.committed_this_run, 1);
  EXPECT_EQ(c.ledger_rows, 2);
  EXPECT_EQ(c.seed_formula_cents, 0);
}

}  // namespace
}  // namespace pgchaos::checker
