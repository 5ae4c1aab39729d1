#include <algorithm>

#include "invariants.h"

namespace pgchaos::checker {

NodeComparison compare_node(const history::Snapshot& primary, const history::Snapshot& node, std::int64_t run_id) {
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

  // Accounts: both ordered by id.
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

  // Ledgers: both ordered by (run, op). Rows of other runs count through the accounts they moved.
  auto key = [](const history::LedgerRow& r) { return std::pair(r.run_id, r.op_id); };
  const auto& pl = primary.ledger;
  const auto& nl = node.ledger;
  i = j = 0;
  while (i < pl.size() || j < nl.size()) {
    if (j >= nl.size() || (i < pl.size() && key(pl[i]) < key(nl[j]))) {
      if (pl[i].run_id == run_id) c.missing_ops.push_back(pl[i].op_id);
      ++i;
    } else if (i >= pl.size() || key(nl[j]) < key(pl[i])) {
      if (nl[j].run_id == run_id) c.extra_ops.push_back(nl[j].op_id);
      ++j;
    } else {
      // One operation, two attempts: counted once, as such (not as missing and extra).
      if (pl[i].attempt != nl[j].attempt && pl[i].run_id == run_id) c.other_attempt_ops.push_back(pl[i].op_id);
      ++i, ++j;
    }
  }
  return c;
}

}  // namespace pgchaos::checker
