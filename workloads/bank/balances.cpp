// The bank's invariants over a node's state: money is conserved on the primary, and every other node holds the
// primary's accounts.
#include "workloads/bank/bank.h"

namespace pgchaos::bank {
namespace {

constexpr std::int64_t kCreditBonusCents = 100;  // every transfer credits amount + 1.00

// The balance formulas and per-account reconciliation on the primary.
void check_balances(const history::Snapshot& p, const history::LedgerIndex& ledger, checker::CheckResult& r) {
  r.accounts = static_cast<std::int64_t>(p.accounts.size());
  r.ledger_rows = ledger.rows();
  r.balance_sum_cents = 0;
  for (const auto& a : p.accounts) r.balance_sum_cents += a.balance_cents;
  const std::int64_t base = r.accounts * p.initial_balance_cents;
  r.balance_drift_cents = r.balance_sum_cents - (base + r.ledger_rows * kCreditBonusCents);
  const std::int64_t earlier_runs = r.ledger_rows - r.committed_this_run;
  r.original_formula_cents = r.balance_sum_cents - (base + (earlier_runs + r.acknowledged) * kCreditBonusCents);

  // Per account: initial + credits − debits, from every run's ledger rows.
  for (const auto& a : p.accounts) {
    const auto* effect = ledger.account(a.id);
    const std::int64_t expected = p.initial_balance_cents + (effect ? effect->net_cents : 0);
    if (a.balance_cents == expected) continue;
    checker::AccountMismatch mismatch{a.id, a.balance_cents, expected, {}};
    if (effect) {
      mismatch.ops = effect->first_ops;
      mismatch.op_count = effect->ops_this_run;
    }
    r.account_mismatches.push_back(std::move(mismatch));
  }
}

// The accounts of a node against the primary's, both ordered by id.
void compare_accounts(const history::Snapshot& primary, const history::Snapshot& node, checker::NodeComparison& c) {
  std::size_t i = 0, j = 0;
  const auto& pa = primary.accounts;
  const auto& na = node.accounts;
  while (i < pa.size() || j < na.size()) {
    if (j >= na.size() || (i < pa.size() && pa[i].id < na[j].id)) {
      c.differing_accounts.push_back(pa[i++].id);
    } else if (i >= pa.size() || na[j].id < pa[i].id) {
      c.differing_accounts.push_back(na[j++].id);
    } else {
      if (pa[i].balance_cents != na[j].balance_cents) c.differing_accounts.push_back(pa[i].id);
      ++i, ++j;
    }
  }
}

class BankInvariants final : public checker::StateInvariants {
 public:
  void check_primary(const history::Snapshot& primary, const history::LedgerIndex& ledger,
                     checker::CheckResult& result) const override {
    check_balances(primary, ledger, result);
  }
  void compare_state(const history::Snapshot& primary, const history::Snapshot& node,
                     checker::NodeComparison& comparison) const override {
    compare_accounts(primary, node, comparison);
  }
};

}  // namespace

const checker::StateInvariants& invariants() {
  static const BankInvariants bank;
  return bank;
}

}  // namespace pgchaos::bank
