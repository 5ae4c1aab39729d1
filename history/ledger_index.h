// What the checker reads of one node's ledger for one run, without the rows: a night's three ledgers are 30
// million rows (1.2 GB held as rows); their indexes take 2 bytes an operation each.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "history/snapshots.h"

namespace pgchaos::history {

/// One account's share of a ledger.
struct AccountEffect {
  std::int64_t net_cents = 0;             ///< credits − debits of every run's rows (a credit is amount + 1.00)
  std::int64_t ops_this_run = 0;          ///< rows of the indexed run that moved it (a row from and to it counts twice)
  std::vector<std::int64_t> first_ops;    ///< the first kFirstOpsPerAccount of them, by op
};
inline constexpr std::size_t kFirstOpsPerAccount = 20;

class LedgerIndex {
 public:
  LedgerIndex() = default;
  explicit LedgerIndex(std::int64_t run_id, std::int64_t expected_rows = 0);
  /// Rows come in any order; ordered by (run, op) as a snapshot holds them, the index grows without copying.
  void add(const LedgerRow& row);

  std::int64_t run_id() const { return run_id_; }
  std::int64_t rows() const { return rows_; }                  ///< every run's
  std::int64_t rows_this_run() const { return rows_this_run_; }
  /// The attempt of `op` (of the indexed run) that the ledger holds, 0 none. With two rows for one op, the last.
  int attempt_of(std::int64_t op) const;
  /// The indexed run's ops (ids ≥ 1) with their attempts, in op order.
  template <typename Fn>
  void for_each_op(Fn&& fn) const;
  std::int64_t last_op() const;                                ///< the highest op id of the run, 0 none
  /// An account's share; null when no row moved it.
  const AccountEffect* account(int id) const;

 private:
  std::uint16_t& slot_of(std::int64_t op);
  AccountEffect& effect_of(int account);

  std::int64_t run_id_ = 0, rows_ = 0, rows_this_run_ = 0;
  // Op ids are handed out by a counter (dense from 1): a flat array indexed by id. An id far beyond what the
  // rows so far explain (a hand-edited or damaged file) goes to the sparse map instead of growing the array to
  // it; every sparse id is beyond the array, so the two together are in op order.
  std::vector<std::uint16_t> dense_;
  std::map<std::int64_t, std::uint16_t> sparse_;
  // Account ids are small in the workload (1..accounts): flat too, with a map for the rest.
  std::vector<AccountEffect> dense_accounts_;
  std::vector<bool> moved_;
  std::map<int, AccountEffect> sparse_accounts_;
};

LedgerIndex index_ledger(const std::vector<LedgerRow>& rows, std::int64_t run_id);

template <typename Fn>
void LedgerIndex::for_each_op(Fn&& fn) const {
  for (std::size_t op = 1; op < dense_.size(); ++op)
    if (dense_[op] != 0) fn(static_cast<std::int64_t>(op), static_cast<int>(dense_[op]));
  for (const auto& [op, attempt] : sparse_)
    if (attempt != 0) fn(op, static_cast<int>(attempt));
}

}  // namespace pgchaos::history
