// Invariants over a run's history and the database snapshots taken at its end. Pure functions: no I/O.
#pragma once

#include <cstdint>
#include <vector>

#include "history/history.h"

namespace pgchaos::checker {

/// What the history and the primary's final ledger say about one run (definitions: docs/design.md).
struct RunCheck {
  std::int64_t operations = 0;           ///< distinct operation ids invoked in this run
  std::int64_t acknowledged = 0;         ///< operations with an ok attempt
  std::int64_t failed_attempts = 0;
  std::int64_t unknown_attempts = 0;
  std::vector<std::int64_t> lost;        ///< acknowledged ok, absent from the ledger
  std::vector<std::int64_t> phantom;     ///< an attempt recorded fail whose ledger row exists
  std::vector<std::int64_t> unknown_committed;      ///< unknown attempts the ledger shows committed
  std::vector<std::int64_t> unknown_not_committed;  ///< unknown attempts absent from the ledger
  std::int64_t committed_this_run = 0;   ///< ledger rows of this run
  std::int64_t ledger_rows = 0;          ///< ledger rows of every run
  std::int64_t accounts = 0;
  std::int64_t balance_sum_cents = 0;
  /// sum(balance) − (accounts × initial + ledger rows × 1.00): zero unless accounts and ledger disagree.
  std::int64_t balance_drift_cents = 0;
  /// The seed tool's number: sum(balance) − (accounts × initial + acknowledged ops, earlier runs' rows
  /// included). Positive: acknowledged commits lost; negative: commits the client saw fail or never saw.
  std::int64_t seed_formula_cents = 0;

  /// Every ok op is in the ledger, no failed attempt is, and the balances add up.
  bool holds() const { return lost.empty() && phantom.empty() && balance_drift_cents == 0; }
};

/// Checks run `run_id`'s events against the primary's snapshot. Never throws on odd input: events of other
/// runs or types are ignored.
RunCheck check_run(const std::vector<history::Event>& events, const history::Snapshot& primary,
                   std::int64_t run_id);

}  // namespace pgchaos::checker
