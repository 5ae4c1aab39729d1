#include "invariants.h"

namespace pgchaos::checker {

namespace {
constexpr std::int64_t kCreditBonusCents = 100;  // every transfer credits amount + 1.00
}  // namespace

void check_balances(const history::Snapshot& p, const history::LedgerIndex& ledger, CheckResult& r) {
  r.accounts = static_cast<std::int64_t>(p.accounts.size());
  r.ledger_rows = ledger.rows();
  r.balance_sum_cents = 0;
  for (const auto& a : p.accounts) r.balance_sum_cents += a.balance_cents;
  const std::int64_t base = r.accounts * p.initial_balance_cents;
  r.balance_drift_cents = r.balance_sum_cents - (base + r.ledger_rows * kCreditBonusCents);
  const std::int64_t earlier_runs = r.ledger_rows - r.committed_this_run;
  r.seed_formula_cents = r.balance_sum_cents - (base + (earlier_runs + r.acknowledged) * kCreditBonusCents);

  // Per account: initial + credits − debits, from every run's ledger rows.
  for (const auto& a : p.accounts) {
    const auto* effect = ledger.account(a.id);
    const std::int64_t expected = p.initial_balance_cents + (effect ? effect->net_cents : 0);
    if (a.balance_cents == expected) continue;
    AccountMismatch mismatch{a.id, a.balance_cents, expected, {}};
    if (effect) {
      mismatch.ops = effect->first_ops;
      mismatch.op_count = effect->ops_this_run;
    }
    r.account_mismatches.push_back(std::move(mismatch));
  }
}

}  // namespace pgchaos::checker
