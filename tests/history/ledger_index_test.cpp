// The ledger's index of one run: what the checker reads of a node's ledger instead of its rows.
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "history/ledger_index.h"
#include "history/run_directory.h"
#include "history/snapshots.h"
#include "tests/support/temp_directory.h"

using namespace pgchaos::history;

namespace {

std::vector<std::pair<std::int64_t, int>> ops_of(const LedgerIndex& index) {
  std::vector<std::pair<std::int64_t, int>> ops;
  index.for_each_op([&](std::int64_t op, int attempt) { ops.emplace_back(op, attempt); });
  return ops;
}

// A ledger of two runs as a snapshot holds it: run 3's rows, then run 4's, each by op.
std::vector<LedgerRow> two_runs(int ops_per_run, std::uint32_t seed) {
  std::mt19937 random(seed);
  std::vector<LedgerRow> rows;
  for (const std::int32_t run : {3, 4})
    for (std::int64_t op = 1; op <= ops_per_run; ++op) {
      if (random() % 5 == 0) continue;  // never committed
      const auto from = static_cast<std::int32_t>(1 + random() % 10), to = static_cast<std::int32_t>(1 + random() % 10);
      rows.push_back({op, 1000 + op, run, static_cast<std::int32_t>(1 + random() % 3), from, to,
                      static_cast<std::int32_t>(random() % 10000), 0});
    }
  return rows;
}

}  // namespace

TEST(LedgerIndex, HoldsTheRunsAttemptsAndEveryRunsAccountEffects) {
  const auto rows = two_runs(500, 1);
  const auto index = index_ledger(rows, 4);
  EXPECT_EQ(index.run_id(), 4);
  EXPECT_EQ(index.rows(), static_cast<std::int64_t>(rows.size()));
  std::int64_t this_run = 0;
  std::map<int, std::int64_t> net;
  std::map<int, std::int64_t> ops_on;
  for (const auto& r : rows) {
    net[r.from_account] -= r.amount_cents;
    net[r.to_account] += r.amount_cents + 100;
    if (r.run_id != 4) {
      EXPECT_TRUE(index.attempt_of(r.op_id) == 0 || r.op_id <= 500) << "run 3's ops are not run 4's";
      continue;
    }
    ++this_run;
    ++ops_on[r.from_account];
    ++ops_on[r.to_account];
    EXPECT_EQ(index.attempt_of(r.op_id), r.attempt) << "op " << r.op_id;
  }
  EXPECT_EQ(index.rows_this_run(), this_run);
  EXPECT_EQ(static_cast<std::int64_t>(ops_of(index).size()), this_run) << "for_each_op visits each of the run's ops";
  for (const auto& [account, cents] : net) {
    const auto* effect = index.account(account);
    ASSERT_NE(effect, nullptr) << account;
    EXPECT_EQ(effect->net_cents, cents) << account;
    EXPECT_EQ(effect->ops_this_run, ops_on[account]) << account;
    EXPECT_EQ(effect->first_ops.size(), std::min<std::size_t>(kFirstOpsPerAccount, static_cast<std::size_t>(ops_on[account])));
    EXPECT_TRUE(std::is_sorted(effect->first_ops.begin(), effect->first_ops.end()));
  }
  EXPECT_EQ(index.account(11), nullptr) << "no row moved account 11";
  EXPECT_EQ(index.attempt_of(0), 0);
  EXPECT_EQ(index.attempt_of(501), 0);
}

// A damaged or hand-edited file may name an op id far beyond the rows: the index must neither grow to it nor lose
// the order that the checker's lists rely on.
TEST(LedgerIndex, FarOpIdsStayInOrderWithoutGrowingTheArray) {
  LedgerIndex index(1);
  index.add({5, 0, 1, 1, 1, 2, 10, 0});
  index.add({3'000'000'000, 0, 1, 2, 1, 2, 10, 0});
  index.add({7, 0, 1, 3, 1, 2, 10, 0});
  index.add({2'000'000'000, 0, 1, 1, 1, 2, 10, 0});
  index.add({-4, 0, 1, 1, 1, 2, 10, 0});  // counted, never an op
  EXPECT_EQ(index.attempt_of(3'000'000'000), 2);
  EXPECT_EQ(index.attempt_of(2'000'000'000), 1);
  EXPECT_EQ(index.attempt_of(7), 3);
  EXPECT_EQ(index.attempt_of(-4), 0);
  EXPECT_EQ(index.rows_this_run(), 5);
  EXPECT_EQ(index.last_op(), 3'000'000'000);
  const std::vector<std::pair<std::int64_t, int>> expected{{5, 1}, {7, 3}, {2'000'000'000, 1}, {3'000'000'000, 2}};
  EXPECT_EQ(ops_of(index), expected);

  // Rows that fill the gap move far ids into the array when it reaches them; the order holds.
  LedgerIndex filling(1);
  filling.add({2'000'000, 0, 1, 9, 1, 2, 10, 0});
  for (std::int64_t op = 1; op <= 1'100'000; ++op) filling.add({op, 0, 1, 1, 1, 2, 10, 0});
  filling.add({2'000'001, 0, 1, 4, 1, 2, 10, 0});
  EXPECT_EQ(filling.attempt_of(2'000'000), 9);
  EXPECT_EQ(filling.attempt_of(2'000'001), 4);
  const auto ops = ops_of(filling);
  ASSERT_EQ(ops.size(), 1'100'002u);
  EXPECT_TRUE(std::is_sorted(ops.begin(), ops.end()));
  EXPECT_EQ(ops.back(), std::make_pair(std::int64_t{2'000'001}, 4));
}

// `pgchaos check` reads each ledger as the index of the history's run: the same index as the rows give.
TEST(LedgerIndex, ReadFromTheFileItEqualsTheRowsIndexed) {
  const pgchaos::testing::TempDirectory temp("pgchaos-ledger-index");
  const auto dir = RunDirectory::for_new_run(temp.path());
  Snapshot s;
  s.name = "pgc1";
  s.role = "primary";
  s.accounts = {{1, 10000}, {2, 10000}};
  s.ledger = two_runs(3000, 2);
  write_snapshot(dir, s);
  const auto read = read_snapshots(dir, 4);
  ASSERT_EQ(read.size(), 1u);
  EXPECT_TRUE(read[0].ledger.empty()) << "the rows are not held";
  ASSERT_TRUE(read[0].ledger_index);
  EXPECT_EQ(ledger_row_count(read[0]), static_cast<std::int64_t>(s.ledger.size()));
  const auto& from_file = *read[0].ledger_index;
  const auto from_rows = index_ledger(s.ledger, 4);
  EXPECT_EQ(from_file.rows(), from_rows.rows());
  EXPECT_EQ(from_file.rows_this_run(), from_rows.rows_this_run());
  EXPECT_EQ(ops_of(from_file), ops_of(from_rows));
  for (int account = 1; account <= 10; ++account) {
    ASSERT_NE(from_file.account(account), nullptr);
    EXPECT_EQ(from_file.account(account)->net_cents, from_rows.account(account)->net_cents);
    EXPECT_EQ(from_file.account(account)->first_ops, from_rows.account(account)->first_ops);
  }
  EXPECT_THROW(write_snapshot(dir, read[0]), HistoryError) << "an indexed snapshot has no rows to write";

  // A ledger cut short is still an unreadable snapshot, whether read as rows or as an index.
  const auto ledger = dir.snapshot_ledger("pgc1");
  std::ifstream in(ledger);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  text.resize(text.rfind('\n', text.size() - 2) + 1);
  std::ofstream(ledger, std::ios::trunc) << text;
  EXPECT_THROW(read_snapshots(dir, 4), HistoryError);
  EXPECT_THROW(read_snapshots(dir), HistoryError);
  // A row that does not parse names its line.
  std::ofstream(ledger, std::ios::app) << "4\t9\tx\n";
  try {
    read_snapshots(dir, 4);
    ADD_FAILURE() << "a bad row was read";
  } catch (const HistoryError& error) {
    EXPECT_NE(std::string(error.what()).find(ledger.string() + ":"), std::string::npos) << error.what();
  }
}
