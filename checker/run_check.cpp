#include <algorithm>
#include <unordered_map>

#include "checker/checker.h"

namespace pgchaos::checker {
namespace {

struct OpRecord {
  int ok_attempt = 0;                // 0: never acknowledged
  std::vector<int> failed_attempts;  // attempts recorded fail
  std::vector<int> unknown_attempts; // attempts recorded unknown
};

}  // namespace

RunCheck check_run(const std::vector<history::Event>& events, const history::Snapshot& primary,
                   std::int64_t run_id) {
  using history::EventType;
  RunCheck result;

  std::unordered_map<std::int64_t, OpRecord> ops;
  for (const auto& e : events) {
    switch (e.type) {
      case EventType::invoke: ops.try_emplace(e.op); break;
      case EventType::ok: ops[e.op].ok_attempt = e.attempt; break;
      case EventType::fail:
        ops[e.op].failed_attempts.push_back(e.attempt);
        ++result.failed_attempts;
        break;
      case EventType::unknown:
        ops[e.op].unknown_attempts.push_back(e.attempt);
        ++result.unknown_attempts;
        break;
      default: break;
    }
  }
  result.operations = static_cast<std::int64_t>(ops.size());

  // Which attempt of each operation of this run the database holds.
  std::unordered_map<std::int64_t, int> committed_attempt;
  for (const auto& row : primary.ledger)
    if (row.run_id == run_id) committed_attempt.emplace(row.op_id, row.attempt);
  result.committed_this_run = static_cast<std::int64_t>(committed_attempt.size());
  result.ledger_rows = static_cast<std::int64_t>(primary.ledger.size());

  for (const auto& [op, record] : ops) {
    const auto found = committed_attempt.find(op);
    const int in_ledger = found == committed_attempt.end() ? 0 : found->second;
    if (record.ok_attempt != 0) {
      ++result.acknowledged;
      if (in_ledger == 0) result.lost.push_back(op);
    }
    for (const int attempt : record.failed_attempts)
      if (attempt == in_ledger) result.phantom.push_back(op);
    for (const int attempt : record.unknown_attempts)
      (attempt == in_ledger ? result.unknown_committed : result.unknown_not_committed).push_back(op);
  }
  for (auto* list : {&result.lost, &result.phantom, &result.unknown_committed, &result.unknown_not_committed})
    std::sort(list->begin(), list->end());

  result.accounts = static_cast<std::int64_t>(primary.accounts.size());
  for (const auto& account : primary.accounts) result.balance_sum_cents += account.balance_cents;
  const std::int64_t base = result.accounts * primary.initial_balance_cents;
  constexpr std::int64_t kCreditBonusCents = 100;  // every transfer credits amount + 1.00
  result.balance_drift_cents = result.balance_sum_cents - (base + result.ledger_rows * kCreditBonusCents);
  const std::int64_t earlier_runs_rows = result.ledger_rows - result.committed_this_run;
  result.seed_formula_cents =
      result.balance_sum_cents - (base + (earlier_runs_rows + result.acknowledged) * kCreditBonusCents);
  return result;
}

}  // namespace pgchaos::checker
