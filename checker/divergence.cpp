#include <algorithm>

#include "invariants.h"

namespace pgchaos::checker {

NodeComparison compare_node(const history::Snapshot& primary, const history::LedgerIndex& primary_ledger,
                            const history::Snapshot& node, const history::LedgerIndex& node_ledger,
                            const StateInvariants& invariants) {
  NodeComparison c;
  c.name = node.name;
  if (!node.error.empty()) {
    c.not_compared_because = "could not be read: " + node.error;
    return c;
  }
  if (!node.caught_up) {
    // A replica on another timeline than the primary is not late: it did not follow the primary's history.
    c.not_compared_because =
        node.timeline != 0 && primary.timeline != 0 && node.timeline != primary.timeline
            ? "is on timeline " + std::to_string(node.timeline) + ", the primary on " + std::to_string(primary.timeline) +
                  ": it does not follow the primary's history and cannot catch up (at " + node.lsn + ", the primary at " +
                  primary.lsn + ")"
            : "had not replayed up to the primary's LSN (" + primary.lsn + ") when read, at " + node.lsn;
    return c;
  }
  c.compared = true;
  invariants.compare_state(primary, node, c);

  // Ledgers: this run's ops, by their indexes. Rows of other runs count through the accounts they moved.
  primary_ledger.for_each_op([&](std::int64_t op, int attempt) {
    const int other = node_ledger.attempt_of(op);
    if (other == 0) c.missing_ops.push_back(op);
    else if (other != attempt) c.other_attempt_ops.push_back(op);  // one op, two attempts: counted once, as such
  });
  node_ledger.for_each_op([&](std::int64_t op, int) {
    if (primary_ledger.attempt_of(op) == 0) c.extra_ops.push_back(op);
  });
  return c;
}

}  // namespace pgchaos::checker
