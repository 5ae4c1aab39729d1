#include <unordered_map>

#include "invariants.h"

namespace pgchaos::checker {

namespace {
constexpr std::int64_t kCreditBonusCents = 100;  // every transfer credits amount + 1.00
constexpr std::size_t kOpsPerMismatch = 20;
}  // namespace

void check_balances(const history::Snapshot& p, std::int64_t run_id, CheckResult& r) {
  r.accounts = static_cast<std::int64_t>(p.accounts.size());
  r.ledger_rows = static_cast<std::int64_t>(p.ledger.size());
  r.balance_sum_cents = 0;
  for (const auto& a : p.accounts) r.balance_sum_cents += a.balance_cents;
  const std::int64_t base = r.accounts * p.initial_balance_cents;
  r.balance_drift_cents = r.balance_sum_cents - (base + r.ledger_rows * kCreditBonusCents);
  const std::int64_t earlier_runs = r.ledger_rows - r.committed_this_run;
  r.seed_formula_cents = r.balance_sum_cents - (base + (earlier_runs + r.acknowledged) * kCreditBonusCents);

  // Per account: initial + credits − debits, from every run's ledger rows.
  std::unordered_map<int, std::int64_t> expected;
  expected.reserve(p.accounts.size());
  for (const auto& a : p.accounts) expected[a.id] = p.initial_balance_cents;
  for (const auto& row : p.ledger) {
    expected[row.from_account] -= row.amount_cents;
    expected[row.to_account] += row.amount_cents + kCreditBonusCents;
  }
  std::unordered_map<int, std::size_t> mismatch_of;
  for (const auto& a : p.accounts) {
    if (a.balance_cents == expected[a.id]) continue;
    mismatch_of[a.id] = r.account_mismatches.size();
    r.account_mismatches.push_back({a.id, a.balance_cents, expected[a.id], {}});
  }
  if (mismatch_of.empty()) return;
  for (const auto& row : p.ledger) {
    if (row.run_id != run_id) continue;
    for (const int account : {row.from_account, row.to_account}) {
      const auto it = mismatch_of.find(account);
      if (it == mismatch_of.end()) continue;
      auto& mismatch = r.account_mismatches[it->second];
      ++mismatch.op_count;
      if (mismatch.ops.size() < kOpsPerMismatch) mismatch.ops.push_back(row.op_id);
    }
  }
}

}  // namespace pgchaos::checker
