// Lost, phantom and in-doubt operations. Operation ids are dense (1..N, handed out by a counter), so per-op
// state lives in flat arrays indexed by id: a byte an operation here, 2 in the ledger's index; no sorting.
#include <algorithm>

#include "invariants.h"

namespace pgchaos::checker {

using history::Outcome;

namespace {
constexpr std::uint8_t kInvoked = 1, kAcknowledged = 2;
}  // namespace

void check_operations(const history::RunHistory& h, const history::LedgerIndex& ledger, CheckResult& r) {
  std::int64_t max_op = 0;
  for (const auto& a : h.attempts) max_op = std::max(max_op, a.op);
  if (max_op > 4'000'000'000) throw std::runtime_error("operation ids beyond 4e9: not a pgchaos history");
  const auto slots = static_cast<std::size_t>(max_op) + 1;
  r.committed_this_run = ledger.rows_this_run();

  std::vector<std::uint8_t> state(slots, 0);
  for (const auto& a : h.attempts) {
    if (a.op < 1) continue;
    const auto op = static_cast<std::size_t>(a.op);
    state[op] |= kInvoked;
    const bool this_attempt_committed = ledger.attempt_of(a.op) == a.attempt;
    switch (a.outcome) {
      case Outcome::ok: state[op] |= kAcknowledged; break;
      case Outcome::fail:
        ++r.failed_attempts;
        if (this_attempt_committed) r.phantom.push_back(a.op);
        break;
      case Outcome::pending: ++r.pending_attempts; [[fallthrough]];  // no completion: in doubt like unknown
      case Outcome::unknown:
        if (a.outcome == Outcome::unknown) ++r.unknown_attempts;
        (this_attempt_committed ? r.unknown_committed : r.unknown_not_committed).push_back(a.op);
        break;
    }
  }
  for (std::size_t op = 1; op < slots; ++op) {
    if (state[op] & kInvoked) ++r.operations;
    if (!(state[op] & kAcknowledged)) continue;
    ++r.acknowledged;
    if (ledger.attempt_of(static_cast<std::int64_t>(op)) == 0) r.lost.push_back(static_cast<std::int64_t>(op));
  }
  ledger.for_each_op([&](std::int64_t op, int) {
    if (op >= static_cast<std::int64_t>(slots) || !(state[static_cast<std::size_t>(op)] & kInvoked))
      r.committed_not_in_history.push_back(op);
  });
  for (auto* ids : {&r.phantom, &r.unknown_committed, &r.unknown_not_committed}) {
    std::sort(ids->begin(), ids->end());
    ids->erase(std::unique(ids->begin(), ids->end()), ids->end());
  }
}

}  // namespace pgchaos::checker
