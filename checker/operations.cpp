#include <algorithm>
#include <numeric>

#include "checker/invariants.h"

namespace pgchaos::checker {

using history::Outcome;

void check_operations(const history::RunHistory& h, const history::Snapshot& primary, CheckResult& r) {
  // Attempts in (op, attempt) order through an index: the history itself stays in time order.
  std::vector<std::uint32_t> order(h.attempts.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    const auto& x = h.attempts[a];
    const auto& y = h.attempts[b];
    return x.op != y.op ? x.op < y.op : x.attempt < y.attempt;
  });

  // This run's ledger rows, in op order (the snapshot is ordered by run, then op; a hand-made one may not be).
  std::vector<std::uint32_t> rows;
  for (std::uint32_t i = 0; i < primary.ledger.size(); ++i)
    if (primary.ledger[i].run_id == h.run_id) rows.push_back(i);
  std::sort(rows.begin(), rows.end(),
            [&](std::uint32_t a, std::uint32_t b) { return primary.ledger[a].op_id < primary.ledger[b].op_id; });

  std::size_t row = 0;
  for (std::size_t i = 0; i < order.size();) {
    const std::int64_t op = h.attempts[order[i]].op;
    while (row < rows.size() && primary.ledger[rows[row]].op_id < op) ++row;
    const int committed_attempt =
        row < rows.size() && primary.ledger[rows[row]].op_id == op ? primary.ledger[rows[row]].attempt : 0;
    bool acknowledged = false;
    ++r.operations;
    for (; i < order.size() && h.attempts[order[i]].op == op; ++i) {
      const auto& a = h.attempts[order[i]];
      switch (a.outcome) {
        case Outcome::ok: acknowledged = true; break;
        case Outcome::fail:
          ++r.failed_attempts;
          if (a.attempt == committed_attempt) r.phantom.push_back(op);
          break;
        case Outcome::pending: ++r.pending_attempts; [[fallthrough]];  // in doubt like unknown
        case Outcome::unknown:
          if (a.outcome == Outcome::unknown) ++r.unknown_attempts;
          (a.attempt == committed_attempt ? r.unknown_committed : r.unknown_not_committed).push_back(op);
          break;
      }
    }
    if (acknowledged) {
      ++r.acknowledged;
      if (committed_attempt == 0) r.lost.push_back(op);
    }
  }
  r.committed_this_run = static_cast<std::int64_t>(rows.size());
}

}  // namespace pgchaos::checker
