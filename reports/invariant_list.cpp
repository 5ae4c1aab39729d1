#include <fmt/format.h>

#include "invariant_list.h"
#include "reports/reports.h"

namespace pgchaos::reports {

const char* to_string(Status status) {
  switch (status) {
    case Status::pass: return "pass";
    case Status::fail: return "fail";
    case Status::report: return "report";
    case Status::not_checked: return "not_checked";
  }
  return "?";
}

std::string escape_markup(const std::string& text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\n' || c == '\t') out += c;
    }
  }
  return out;
}

std::string first_ids(const std::vector<std::int64_t>& ids, std::size_t limit, std::int64_t total) {
  if (total < 0) total = static_cast<std::int64_t>(ids.size());
  std::string text;
  for (std::size_t i = 0; i < ids.size() && i < limit; ++i) text += fmt::format("{}{}", i ? ", " : "", ids[i]);
  if (total > static_cast<std::int64_t>(std::min(limit, ids.size()))) text += fmt::format(" … (total {})", total);
  return text;
}

// The list-append workload's: one entry per anomaly kind found (failing when the isolation asked for forbids it),
// lost and phantom appends.
void isolation_results(const checker::IsolationCheck& c, std::vector<InvariantResult>& list) {
  const std::string scope = fmt::format("{} transactions ({} reads, {} appends on {} keys; {} dependencies)",
                                        c.transactions, c.reads, c.appends, c.keys, c.edges);
  if (c.anomaly_counts.empty())
    list.push_back({"no_isolation_anomalies", "invariants", Status::pass,
                    fmt::format("no anomaly in {}: consistent with {}, as {} asked", scope, c.strongest_level, c.isolation)});
  for (const auto& [kind, n] : c.anomaly_counts) {
    const checker::IsolationAnomaly* first = nullptr;
    for (const auto& a : c.anomalies)
      if (a.kind == kind && (first == nullptr || (a.fails() && !first->fails()))) first = &a;  // one that fails, if any
    const std::int64_t failing = c.judged(kind).fails;
    const bool forbidden = first != nullptr && first->forbidden;
    const std::string judged = !forbidden ? "allows it, or it is an order no level promises"
                               : failing > 0 ? "forbids it"
                                             : "forbids it; each follows from a lost commit, judged as losses are";
    list.push_back({"isolation." + kind, "invariants", failing > 0 ? Status::fail : Status::report,
                    fmt::format("{} found ({} {}; the history is consistent with {} at most) in {}{}", n, c.isolation,
                                judged, c.strongest_level, scope, first ? ". For example: " + first->explanation : "")});
  }
  std::int64_t unexplained = 0;
  std::vector<std::int64_t> ops;
  for (const auto& l : c.lost_appends) {
    unexplained += l.cause == "unexplained";
    if (ops.empty() || ops.back() != l.op) ops.push_back(l.op);
  }
  list.push_back({"no_lost_appends", "invariants",
                  c.lost_appends.empty() ? Status::pass : unexplained > 0 ? Status::fail : Status::report,
                  c.lost_appends.empty()
                      ? "every acknowledged append is in the primary's final list of its key"
                      : fmt::format("{} acknowledged appends absent from the primary's final lists ({} with no lost "
                                    "commit to explain them); ops {}",
                                    c.lost_appends.size(), unexplained, first_ids(ops, 20))});
  list.push_back({"read_your_writes", "invariants",
                  c.read_your_writes_violations > 0 ? Status::fail
                  : c.read_your_writes_from_loss > 0 ? Status::report
                                                      : Status::pass,
                  c.read_your_writes_violations == 0
                      ? "every worker read its own acknowledged appends back (those the final state holds)" +
                            (c.read_your_writes_from_loss > 0
                                 ? fmt::format(", but for {} reads by transactions later lost (they read on a primary "
                                               "whose history was not kept)", c.read_your_writes_from_loss)
                                 : std::string())
                      : fmt::format("{} reads missed their worker's own acknowledged append: {}", c.read_your_writes_violations,
                                    c.read_your_writes_examples.empty() ? "" : c.read_your_writes_examples.front())});
  if (c.replica.reads > 0) {
    const auto& rr = c.replica;
    list.push_back({"replica_staleness", "invariants", rr.over_limit > 0 ? Status::fail : Status::report,
                    fmt::format("{} of {} replica reads stale: p50 {:.3f} s, p99 {:.3f} s, max {:.3f} s, at most {} "
                                "acknowledged appends missed{}{}",
                                rr.stale_reads, rr.reads, rr.p50_s, rr.p99_s, rr.max_s, rr.max_elements,
                                rr.limit_ms > 0 ? fmt::format("; {} over --max-staleness {:.1f} s", rr.over_limit,
                                                              static_cast<double>(rr.limit_ms) / 1000)
                                                : "",
                                rr.stalest.empty() ? "" : ". The stalest: " + rr.stalest)});
    list.push_back({"monotonic_reads", "invariants", rr.monotonic_violations == 0 ? Status::pass : Status::report,
                    rr.monotonic_violations == 0
                        ? "no reader read a key shorter than it had read it before"
                        : fmt::format("{} of {} reads went back: their reader read a key shorter than before (readers take "
                                      "the nodes in turn, and the replicas lag by different amounts); e.g. {}",
                                      rr.monotonic_violations, rr.reads,
                                      rr.examples.empty() ? "" : rr.examples.front())});
  }
  list.push_back({"no_phantom_appends", "invariants", c.phantom_appends.empty() ? Status::pass : Status::fail,
                  c.phantom_appends.empty() ? "no element of a rolled-back transaction is in the final lists"
                                            : fmt::format("elements of rolled-back transactions in the final lists: ops {}",
                                                          first_ids(c.phantom_appends, 20))});
}

std::vector<InvariantResult> invariant_results(const checker::CheckResult& r) {
  std::vector<InvariantResult> list;
  if (!r.checked) return list;  // nothing was checked: no invariant may look passed
  const auto lost = static_cast<std::int64_t>(r.lost.size());
  const bool lost_fails = r.max_lost && lost - r.lost_allowed_by_mode > *r.max_lost;
  std::string causes;
  for (const auto& [cause, n] : r.lost_by_cause)
    if (n > 0) causes += fmt::format("{}{} {}", causes.empty() ? "" : ", ", checker::to_string(cause), n);
  list.push_back({"no_lost_commits", "invariants",
                  lost == 0 ? Status::pass : lost_fails ? Status::fail : Status::report,
                  lost == 0 ? fmt::format("all {} acknowledged commits are in the primary's ledger", r.acknowledged)
                            : fmt::format("{} acknowledged commits absent from the primary's ledger (allowed: {}{}){}: {}",
                                          lost, r.max_lost ? std::to_string(*r.max_lost) : "any, async mode",
                                          r.lost_allowed_by_mode > 0 ? " besides cancelled sync waits" : "",
                                          causes.empty() ? "" : "; by cause: " + causes, first_ids(r.lost, 20))});
  // One entry per cause that occurred: what it means and which ops.
  for (const auto& [cause, n] : r.lost_by_cause) {
    if (n == 0) continue;
    std::vector<std::int64_t> ops;
    for (const auto& l : r.lost_ops)
      if (l.cause == cause && ops.size() < 20) ops.push_back(l.op);
    const bool fails = cause == checker::LossCause::split_brain ||
                       (cause == checker::LossCause::unexplained && r.watched);
    list.push_back({fmt::format("lost_by_cause.{}", checker::to_string(cause)), "invariants",
                    fails ? Status::fail : Status::report,
                    fmt::format("{} lost: {} Ops: {}", n, checker::explain(cause), first_ids(ops, 20, n))});
  }
  list.push_back({"no_split_brain", "invariants", r.split_brains.empty() ? Status::pass : Status::fail,
                  r.split_brains.empty()
                      ? (r.watched ? "no two nodes acted as primary at once (watcher and workload)"
                                   : "no two nodes took writes at once (by the workload's record; no watcher)")
                      : fmt::format("{}", fmt::join([&] {
                          std::vector<std::string> texts;
                          for (const auto& b : r.split_brains) texts.push_back(b.text);
                          return texts;
                        }(), "; "))});
  if (!r.contradicted.empty()) {
    std::string text;
    for (std::size_t i = 0; i < r.contradicted.size() && i < 10; ++i) {
      const auto& c = r.contradicted[i];
      text += fmt::format("{}op {}: attempt {} resolved not committed, yet in the final ledger{}", i ? "; " : "", c.op,
                          c.resolved_attempt,
                          c.acknowledged_attempt ? fmt::format("; its acknowledged attempt {} is gone", c.acknowledged_attempt) : "");
    }
    list.push_back({"resolutions_hold", "invariants", Status::report, text});
  }
  list.push_back({"no_phantom_commits", "invariants", r.phantom.empty() ? Status::pass : Status::fail,
                  r.phantom.empty() ? fmt::format("none of {} failed attempts is in the ledger", r.failed_attempts)
                                    : fmt::format("{} ops reported failed are in the ledger: {}", r.phantom.size(),
                                                  first_ids(r.phantom, 20))});
  // Informational: how in-doubt attempts resolved cannot be wrong by itself, so it never shows as a passed check.
  list.push_back({"unknown_outcomes_resolved", "invariants", Status::report,
                  fmt::format("{} in-doubt attempts: {} committed, {} not committed",
                              r.unknown_committed.size() + r.unknown_not_committed.size(), r.unknown_committed.size(),
                              r.unknown_not_committed.size())});
  if (!r.committed_not_in_history.empty())
    list.push_back({"history_complete", "invariants", r.history_complete ? Status::fail : Status::report,
                    fmt::format("{} ops committed, not in the history{}: {}", r.committed_not_in_history.size(),
                                r.history_complete ? "" : " (history cut short)",
                                first_ids(r.committed_not_in_history, 20))});
  if (r.isolation.checked) isolation_results(r.isolation, list);
  else {
    list.push_back({"total_balance", "invariants", r.balance_drift_cents == 0 ? Status::pass : Status::fail,
                    fmt::format("sum(balance) {:.2f}, drift {:.2f}; seed formula {:.2f}",
                                static_cast<double>(r.balance_sum_cents) / 100,
                                static_cast<double>(r.balance_drift_cents) / 100,
                                static_cast<double>(r.original_formula_cents) / 100)});
    std::string mismatches;
    for (std::size_t i = 0; i < r.account_mismatches.size() && i < 10; ++i) {
      const auto& m = r.account_mismatches[i];
      mismatches += fmt::format("{}account {}: {:.2f} vs {:.2f} from the ledger (ops {})", i ? "; " : "", m.account,
                                static_cast<double>(m.balance_cents) / 100, static_cast<double>(m.expected_cents) / 100,
                                first_ids(m.ops, 5, m.op_count));
    }
    list.push_back({"account_reconciliation", "invariants", r.account_mismatches.empty() ? Status::pass : Status::fail,
                    r.account_mismatches.empty() ? fmt::format("all {} accounts match their ledger rows", r.accounts)
                                                 : mismatches});
  }
  for (const auto& node : r.nodes) {
    Status status = !node.compared ? Status::not_checked : node.diverged() ? Status::fail : Status::pass;
    std::string detail = !node.compared ? node.not_compared_because
                         : node.diverged()
                             ? fmt::format("{} {} differ; ops missing: {}; extra: {}; committed by another attempt: {}",
                                           node.differing_accounts.size(), r.isolation.checked ? "lists" : "accounts",
                                           first_ids(node.missing_ops, 10),
                                           first_ids(node.extra_ops, 10), first_ids(node.other_attempt_ops, 10))
                             : r.isolation.checked ? "lists and records equal the primary's"
                                                   : "accounts and ledger equal the primary's";
    list.push_back({"replica_convergence." + node.name, "convergence", status, detail});
  }
  for (const auto& f : r.faults) {
    const auto lost_here = static_cast<std::int64_t>(f.lost.size());
    const bool too_long = f.over_limit();
    // A refused or unstarted fault tested nothing: never a pass.
    const Status status = f.refused || f.fault.exit_status < 0 ? Status::not_checked
                          : too_long                          ? Status::fail
                          : !r.max_lost                       ? Status::report
                          : lost_here - f.lost_allowed > *r.max_lost ? Status::fail
                                                              : Status::pass;
    auto seconds = [](std::int64_t ns) {
      return ns < 0 ? std::string("n/a") : fmt::format("{:.2f} s", static_cast<double>(ns) / 1e9);
    };
    list.push_back({fmt::format("fault_{}.{}.{}", f.fault.id, f.fault.fault, f.fault.target), "faults", status,
                    fmt::format("{}{}unavailable {} (workload), {} (probe{}); {} lost, {} unknown",
                                f.story, f.story.empty() ? "" : "; ",
                                f.unavailable_ns < 0 ? std::string("until the end") : seconds(f.unavailable_ns),
                                f.probe_outage_text("n/a"),
                                f.limit_ns > 0 ? fmt::format(", allowed {:.1f} s", static_cast<double>(f.limit_ns) / 1e9) : "",
                                lost_here, f.unknown.size())});
  }
  return list;
}

std::vector<std::string> console_lines(const checker::CheckResult& r) {
  static constexpr std::pair<Status, const char*> kMarks[] = {
      {Status::pass, "[ok]  "}, {Status::fail, "[FAIL]"}, {Status::report, "[info]"}, {Status::not_checked, "[skip]"}};
  std::vector<std::string> lines;
  for (const auto& i : invariant_results(r)) {
    const char* mark = "[?]   ";
    for (const auto& [status, text] : kMarks)
      if (status == i.status) mark = text;
    lines.push_back(fmt::format("  {} {}: {}", mark, i.name, i.detail));
  }
  return lines;
}

}  // namespace pgchaos::reports
