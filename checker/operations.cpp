// Lost, phantom and in-doubt operations. Operation ids are dense (1..N, handed out by a counter), so per-op
// state lives in flat arrays indexed by id: 3 bytes an operation, no sorting, no hashing.
#include <algorithm>

#include "invariants.h"

namespace pgchaos::checker {

using history::Outcome;

namespace {
constexpr std::uint8_t kInvoked = 1, kAcknowledged = 2;
}  // namespace

void check_operations(const history::RunHistory& h, const history::Snapshot& primary, CheckResult& r) {
  std::int64_t max_op = 0;
  for (const auto& a : h.attempts) max_op = std::max(max_op, a.op);
  for (const auto& row : primary.ledger)
    if (row.run_id == h.run_id) max_op = std::max(max_op, row.op_id);
  if (max_op > 4'000'000'000) throw std::runtime_error("operation ids beyond 4e9: not a pgchaos history");
  const auto slots = static_cast<std::size_t>(max_op) + 1;

  // Which attempt of each operation the primary's ledger holds (0: none).
  std::vector<std::uint16_t> committed_attempt(slots, 0);
  for (const auto& row : primary.ledger) {
    if (row.run_id != h.run_id || row.op_id < 1) continue;
    committed_attempt[static_cast<std::size_t>(row.op_id)] = static_cast<std::uint16_t>(row.attempt);
    ++r.committed_this_run;
  }

  std::vector<std::uint8_t> state(slots, 0);
  for (const auto& a : h.attempts) {
    if (a.op < 1) continue;
    const auto op = static_cast<std::size_t>(a.op);
    state[op] |= kInvoked;
    const bool this_attempt_committed = committed_attempt[op] == a.attempt;
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
    else if (committed_attempt[op] != 0) r.committed_not_in_history.push_back(static_cast<std::int64_t>(op));
    if (!(state[op] & kAcknowledged)) continue;
    ++r.acknowledged;
    if (committed_attempt[op] == 0) r.lost.push_back(static_cast<std::int64_t>(op));
  }
  for (auto* ids : {&r.phantom, &r.unknown_committed, &r.unknown_not_committed}) {
    std::sort(ids->begin(), ids->end());
    ids->erase(std::unique(ids->begin(), ids->end()), ids->end());
  }
}

}  // namespace pgchaos::checker
