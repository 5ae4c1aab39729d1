#include "history/ledger_index.h"

#include <algorithm>

namespace pgchaos::history {
namespace {
constexpr std::int64_t kCreditBonusCents = 100;  // every transfer credits amount + 1.00
// Ops that may lie beyond the last committed one before an id counts as far: a run's ops fail for a minute at
// a thousand a second during an outage (no row), so the gap is generous; each row widens it by two.
constexpr std::int64_t kDenseGap = 1 << 20;
constexpr int kDenseAccounts = 1 << 16;
}  // namespace

LedgerIndex::LedgerIndex(std::int64_t run_id, std::int64_t expected_rows) : run_id_(run_id) {
  // Op ids of a run exceed its rows by the ops that never committed: a little room avoids doubling the array. The
  // count comes from a file: capped, so that a damaged one cannot reserve gigabytes (past it the array grows).
  if (expected_rows > 0)
    dense_.reserve(static_cast<std::size_t>(std::min<std::int64_t>(expected_rows, 1LL << 24)) * 9 / 8 + 16);
}

std::uint16_t& LedgerIndex::slot_of(std::int64_t op) {
  if (op < static_cast<std::int64_t>(dense_.size())) return dense_[static_cast<std::size_t>(op)];
  if (const auto it = sparse_.find(op); it != sparse_.end()) return it->second;
  if (op >= 2 * rows_this_run_ + kDenseGap) return sparse_[op];
  dense_.resize(static_cast<std::size_t>(op) + 1, 0);
  // Sparse ids the array now covers move into it, so every sparse id stays beyond the array.
  while (!sparse_.empty() && sparse_.begin()->first <= op) {
    dense_[static_cast<std::size_t>(sparse_.begin()->first)] = sparse_.begin()->second;
    sparse_.erase(sparse_.begin());
  }
  return dense_[static_cast<std::size_t>(op)];
}

AccountEffect& LedgerIndex::effect_of(int account) {
  if (account < 0 || account >= kDenseAccounts) return sparse_accounts_[account];
  const auto i = static_cast<std::size_t>(account);
  if (i >= dense_accounts_.size()) {
    dense_accounts_.resize(i + 1);
    moved_.resize(i + 1, false);
  }
  moved_[i] = true;
  return dense_accounts_[i];
}

void LedgerIndex::add(const LedgerRow& row) {
  ++rows_;
  effect_of(row.from_account).net_cents -= row.amount_cents;
  effect_of(row.to_account).net_cents += row.amount_cents + kCreditBonusCents;
  if (row.run_id != run_id_) return;
  ++rows_this_run_;
  for (const int account : {row.from_account, row.to_account}) {
    auto& effect = effect_of(account);
    ++effect.ops_this_run;
    if (effect.first_ops.size() < kFirstOpsPerAccount) effect.first_ops.push_back(row.op_id);
  }
  if (row.op_id >= 1) slot_of(row.op_id) = static_cast<std::uint16_t>(row.attempt);
}

int LedgerIndex::attempt_of(std::int64_t op) const {
  if (op < 1) return 0;
  if (op < static_cast<std::int64_t>(dense_.size())) return dense_[static_cast<std::size_t>(op)];
  const auto it = sparse_.find(op);
  return it == sparse_.end() ? 0 : it->second;
}

std::int64_t LedgerIndex::last_op() const {
  for (auto it = sparse_.rbegin(); it != sparse_.rend(); ++it)
    if (it->second != 0) return it->first;
  for (std::size_t op = dense_.size(); op-- > 1;)
    if (dense_[op] != 0) return static_cast<std::int64_t>(op);
  return 0;
}

const AccountEffect* LedgerIndex::account(int id) const {
  if (id >= 0 && id < kDenseAccounts) {
    const auto i = static_cast<std::size_t>(id);
    return i < moved_.size() && moved_[i] ? &dense_accounts_[i] : nullptr;
  }
  const auto it = sparse_accounts_.find(id);
  return it == sparse_accounts_.end() ? nullptr : &it->second;
}

LedgerIndex index_ledger(const std::vector<LedgerRow>& rows, std::int64_t run_id) {
  LedgerIndex index(run_id, static_cast<std::int64_t>(rows.size()));
  for (const auto& row : rows) index.add(row);
  return index;
}

}  // namespace pgchaos::history
