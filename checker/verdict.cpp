#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "invariants.h"

namespace pgchaos::checker {

const char* to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::valid: return "valid";
    case Verdict::invalid: return "invalid";
    case Verdict::unknown: return "unknown";
  }
  return "?";
}

std::optional<Verdict> parse_verdict(std::string_view text) noexcept {
  for (const auto v : {Verdict::valid, Verdict::invalid, Verdict::unknown})
    if (text == to_string(v)) return v;
  return std::nullopt;
}

std::string FaultImpact::probe_outage_text(const char* no_probe, int decimals) const {
  if (writes_never_resumed()) return "until the end";
  if (!probed()) return no_probe;
  return fmt::format("{:.{}f} s", static_cast<double>(probe_unavailable_ns) / 1e9, decimals);
}

Verdict merge(Verdict a, Verdict b) noexcept {
  if (a == Verdict::invalid || b == Verdict::invalid) return Verdict::invalid;
  if (a == Verdict::unknown || b == Verdict::unknown) return Verdict::unknown;
  return Verdict::valid;
}

namespace {

std::string plural(std::int64_t n, const char* one, const char* many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

}  // namespace

IsolationCheck::KindJudgement IsolationCheck::judged(const std::string& kind) const {
  KindJudgement judgement;
  for (const auto& a : anomalies) {
    if (a.kind != kind) continue;
    judgement.fails += a.fails() ? 1 : 0;
    judgement.from_loss += a.forbidden && !a.fails() ? 1 : 0;
  }
  return judgement;
}

std::int64_t IsolationCheck::forbidden() const {
  return std::count_if(anomalies.begin(), anomalies.end(), [](const IsolationAnomaly& a) { return a.fails(); });
}

// The list-append workload's part: anomalies its isolation level forbids fail the run, the others are told; an
// acknowledged append gone from the primary fails only when no lost commit explains it (the losses are judged above).
template <typename Fails>
void decide_isolation(const IsolationCheck& c, Fails& fails, std::vector<std::string>& reasons) {
  std::string forbidden, allowed, from_loss;
  std::set<std::string> causes;
  for (const auto& a : c.anomalies)
    if (a.forbidden && !a.fails()) causes.insert(a.follows_from_loss);
  for (const auto& [kind, n] : c.anomaly_counts) {
    const auto judgement = c.judged(kind);
    auto& text = judgement.fails > 0 ? forbidden : judgement.from_loss > 0 ? from_loss : allowed;
    text += fmt::format("{}{} {}", text.empty() ? "" : ", ", kind, judgement.fails > 0 ? n : judgement.from_loss > 0 ? judgement.from_loss : n);
  }
  if (!forbidden.empty())
    fails(fmt::format("isolation anomalies {} forbids: {} (the history is consistent with {} at most)", c.isolation,
                      forbidden, c.strongest_level));
  if (!from_loss.empty())
    reasons.push_back(fmt::format("isolation anomalies {} forbids that follow from lost commits ({}): {} (judged as those "
                                  "losses are, not again)", c.isolation, fmt::join(causes, ", "), from_loss));
  if (!allowed.empty())
    reasons.push_back(fmt::format("isolation anomalies {} allows, or stronger than it promises: {}", c.isolation, allowed));
  const auto unexplained = std::count_if(c.lost_appends.begin(), c.lost_appends.end(),
                                         [](const LostAppend& l) { return l.cause == "unexplained"; });
  if (unexplained > 0)
    fails(plural(unexplained, "acknowledged append is missing from the primary's list though its transaction's record is there",
                 "acknowledged appends are missing from the primary's lists though their transactions' records are there"));
  if (!c.phantom_appends.empty())
    fails(plural(static_cast<std::int64_t>(c.phantom_appends.size()),
                 "element appended by a transaction recorded as rolled back is in the primary's list",
                 "elements appended by transactions recorded as rolled back are in the primary's lists"));
  if (!c.note.empty()) reasons.push_back("isolation: " + c.note);
  if (c.read_your_writes_violations > 0)
    fails(plural(c.read_your_writes_violations,
                 "read-your-writes violation: a worker read a key without its own acknowledged append, which the final state holds",
                 "read-your-writes violations: workers read keys without their own acknowledged appends, which the final state holds"));
  const auto& rr = c.replica;
  if (rr.reads > 0) {
    const std::string staleness = fmt::format("{} of {} replica reads stale (p50 {:.3f} s, p99 {:.3f} s, max {:.3f} s, at most {} "
                                              "acknowledged appends missed)", rr.stale_reads, rr.reads, rr.p50_s, rr.p99_s,
                                              rr.max_s, rr.max_elements);
    if (rr.over_limit > 0)
      fails(fmt::format("{} replica reads staler than --max-staleness {:.1f} s: {}", rr.over_limit,
                        static_cast<double>(rr.limit_ms) / 1000, staleness));
    else
      reasons.push_back(staleness);
    if (rr.monotonic_violations > 0)
      reasons.push_back(plural(rr.monotonic_violations, "monotonic-reads violation: a reader read a key shorter than before",
                               "monotonic-reads violations: a reader read a key shorter than before"));
    if (rr.diverged > 0)
      reasons.push_back(plural(rr.diverged, "replica read of a list that is no prefix of the primary's final one",
                               "replica reads of lists that are no prefix of the primary's final ones"));
  }
}

void decide(const CheckOptions& options, CheckResult& r) {
  r.commit = options.commit;
  r.max_lost = options.max_lost;
  const bool promised = r.commit.promises_no_loss();
  if (!r.max_lost && promised) r.max_lost = 0;

  bool invalid = false, undecided = false;
  std::vector<std::string> failing;  // the reasons that make the verdict what it is, for the headline
  auto fails = [&](std::string reason) {
    invalid = true;
    failing.push_back(reason);
    r.reasons.push_back(std::move(reason));
  };
  const auto lost = static_cast<std::int64_t>(r.lost.size());
  const auto faults_with_loss = std::count_if(r.faults.begin(), r.faults.end(), [](const FaultImpact& f) { return !f.lost.empty(); });
  std::string lost_text = plural(lost, "acknowledged commit lost", "acknowledged commits lost");
  if (lost > 0 && !r.faults.empty())
    lost_text += fmt::format(" in {} of {}", faults_with_loss, plural(static_cast<std::int64_t>(r.faults.size()), "fault", "faults"));
  std::string causes;
  for (const auto& [cause, n] : r.lost_by_cause)
    if (n > 0) causes += fmt::format("{}{} {}", causes.empty() ? "" : ", ", to_string(cause), n);
  if (!causes.empty()) lost_text += " (by cause: " + causes + ")";

  // Unexplained losses come first: with the cluster watched, nothing a fault did accounts for them.
  const std::int64_t unexplained = r.count_lost(LossCause::unexplained);
  if (unexplained > 0 && r.watched)
    fails(plural(unexplained, "acknowledged commit lost with no explanation (a sign of a bug)",
                 "acknowledged commits lost with no explanation (a sign of a bug)"));
  for (const auto& s : r.split_brains) fails(s.text);
  // In sync mode a commit whose wait for the standby was cancelled is the documented exception.
  r.lost_allowed_by_mode = promised && common::names_sync_standby(r.commit.mode) ? r.count_lost(LossCause::cancelled_sync_wait) : 0;
  const std::string mode = r.commit.text();
  const std::int64_t judged = lost - r.lost_allowed_by_mode;
  if (lost > 0) {
    if (r.max_lost && judged > *r.max_lost) {
      fails(fmt::format("{} ({} mode allows {}{})", lost_text, mode, *r.max_lost,
                        r.lost_allowed_by_mode > 0 ? " besides cancelled sync waits" : ""));
    } else {
      r.reasons.push_back(fmt::format("{} ({} mode: reported, not failed{})", lost_text, mode,
                                      r.lost_allowed_by_mode > 0 ? "; cancelled sync waits are the documented exception"
                                      : r.max_lost ? fmt::format("; --max-lost {}", *r.max_lost) : ""));
    }
  }
  if (common::names_sync_standby(r.commit.mode) && !promised)
    r.reasons.push_back(mode + ": commits do not wait for the standby at this synchronous_commit level, so Patroni's "
                               "synchronous promise does not hold (judged like async)");
  if (!r.acknowledged_without_sync_standby.empty()) {
    const auto text = plural(static_cast<std::int64_t>(r.acknowledged_without_sync_standby.size()),
                             "commit acknowledged while its primary had no synchronous standby",
                             "commits acknowledged while their primary had no synchronous standby");
    if (r.commit.mode == CommitMode::sync_strict) fails(text + " (sync-strict promises none: a broken guarantee)");
    else r.reasons.push_back(text + " (" + mode + " mode allows it: without synchronous_mode_strict Patroni lets a primary "
                                    "commit while it names no synchronous standby, e.g. just after a promotion)");
  }
  if (!r.contradicted.empty())
    r.reasons.push_back(plural(static_cast<std::int64_t>(r.contradicted.size()),
                               "in-doubt attempt was resolved \"not committed\" during the run, yet the final primary holds it",
                               "in-doubt attempts were resolved \"not committed\" during the run, yet the final primary holds them"));
  std::int64_t refused = 0;
  std::string first_refusal;
  for (const auto& f : r.faults) {
    if (f.refused && refused++ == 0) first_refusal = fmt::format("fault {} ({}): {}", f.fault.id, f.fault.fault, f.refusal);
    if (f.limit_ns > 0 && !f.probed())
      r.reasons.push_back(fmt::format("fault {} ({} on {}): its limit of {:.1f} s unavailability was not judged: no write "
                                      "probe ran", f.fault.id, f.fault.fault, f.fault.target,
                                      static_cast<double>(f.limit_ns) / 1e9));
    if (f.over_limit())
      fails(fmt::format("fault {} ({} on {}): writes unavailable {} (probe), more than the {:.1f} s allowed", f.fault.id,
                        f.fault.fault, f.fault.target, f.probe_outage_text("n/a", 1), static_cast<double>(f.limit_ns) / 1e9));
  }
  std::string refused_text;
  if (refused > 0)
    refused_text = fmt::format("{} of {} refused ({})", refused,
                               plural(static_cast<std::int64_t>(r.faults.size()), "fault", "faults"), first_refusal);
  if (refused > 0) r.reasons.push_back(refused_text);
  if (!r.phantom.empty()) {
    fails(plural(static_cast<std::int64_t>(r.phantom.size()), "phantom commit: reported failed, yet in the ledger",
                               "phantom commits: reported failed, yet in the ledger"));
  }
  if (!r.committed_not_in_history.empty()) {
    const auto n = static_cast<std::int64_t>(r.committed_not_in_history.size());
    if (r.history_complete)
      fails(plural(n, "op in the ledger has no invoke in a complete history", "ops in the ledger have no invoke in a complete history"));
    else
      r.reasons.push_back(plural(n, "op committed, not in the history (history cut short)",
                                 "ops committed, not in the history (history cut short)"));
  }
  if (r.balance_drift_cents != 0) {
    fails(fmt::format("the balances do not add up: sum(balance) is off by {:.2f} from accounts × initial + ledger rows",
                                    static_cast<double>(r.balance_drift_cents) / 100));
  }
  if (!r.account_mismatches.empty()) {
    fails(plural(static_cast<std::int64_t>(r.account_mismatches.size()),
                               "account's balance disagrees with its ledger rows", "accounts' balances disagree with their ledger rows"));
  }
  if (r.isolation.checked) decide_isolation(r.isolation, fails, r.reasons);
  for (const auto& finding : r.findings)  // a cluster that does not recover is a failure of the system under test
    fails("finding: " + finding.substr(0, finding.find('\n')));
  // One that had not recovered when Ctrl-C cut the wait short might have: not known, so never a pass either.
  for (const auto& finding : r.unconfirmed_findings) {
    undecided = true;
    r.reasons.push_back("unconfirmed finding: " + finding.substr(0, finding.find('\n')));
  }
  for (const auto& node : r.nodes) {
    if (!node.compared) {
      undecided = true;
      r.reasons.push_back(fmt::format("convergence of {} not checked: it {}", node.name, node.not_compared_because));
    } else if (node.diverged()) {
      fails(fmt::format("{} diverged from the primary: {} accounts differ, {} ops missing, {} extra, {} by another attempt",
                        node.name, node.differing_accounts.size(), node.missing_ops.size(), node.extra_ops.size(),
                        node.other_attempt_ops.size()));
    }
  }
  // A scenario whose every fault was refused tested nothing.
  const bool nothing_tested = refused > 0 && refused == static_cast<std::int64_t>(r.faults.size());
  if (nothing_tested && !invalid) r.reasons.insert(r.reasons.begin(), "every fault was refused: nothing was tested");
  r.verdict = invalid ? Verdict::invalid : undecided || nothing_tested ? Verdict::unknown : Verdict::valid;

  if (r.verdict == Verdict::valid) {
    r.headline = fmt::format("valid: {}, {}", plural(r.acknowledged, "acknowledged commit", "acknowledged commits"),
                             lost > 0 ? lost_text + " — allowed in " + mode + " mode" : "none lost");
    const auto took_effect = static_cast<std::int64_t>(r.faults.size()) - refused;
    if (!r.faults.empty()) r.headline += fmt::format(", through {}", plural(took_effect, "fault", "faults"));
    if (refused > 0) r.headline += "; " + refused_text;
    if (r.isolation.checked)
      r.headline += r.isolation.anomaly_counts.empty()
                        ? fmt::format("; no isolation anomaly ({})", r.isolation.isolation)
                        : fmt::format("; isolation anomalies {} allows, consistent with {}", r.isolation.isolation,
                                      r.isolation.strongest_level);
  } else {
    // The headline names what decided the verdict, and the losses whatever they were judged.
    const std::string& cause = !failing.empty() ? failing.front() : r.reasons.front();
    r.headline = fmt::format("{}: {}", to_string(r.verdict), cause);
    if (lost > 0 && cause.find("lost") == std::string::npos) r.headline += "; " + lost_text;
    if (refused > 0 && cause != refused_text) r.headline += "; " + refused_text;
  }
}

Guarantee judge_guarantee(const CheckResult& r) {
  Guarantee g;
  const auto setting = r.commit;
  if (!setting.promises_no_loss()) {
    g.promise = setting.text() + ": none (lost commits are reported)";
    return g;
  }
  const bool strict = r.commit.mode == CommitMode::sync_strict;
  g.promise = setting.text() + ": no acknowledged commit lost except a cancelled sync wait" +
              (strict ? "; none acknowledged without a synchronous standby" : "");
  g.judged = r.checked;
  if (!g.judged) return g;
  std::vector<std::string> what;
  std::int64_t lost = 0;
  for (const auto& l : r.lost_ops)
    if (l.cause != LossCause::cancelled_sync_wait) {
      g.breaking_ops.push_back(l.op);
      ++lost;
    }
  if (lost > 0) what.push_back(plural(lost, "acknowledged commit lost", "acknowledged commits lost"));
  if (strict && !r.acknowledged_without_sync_standby.empty()) {
    what.push_back(plural(static_cast<std::int64_t>(r.acknowledged_without_sync_standby.size()),
                          "commit acknowledged without a synchronous standby",
                          "commits acknowledged without a synchronous standby"));
    g.breaking_ops.insert(g.breaking_ops.end(), r.acknowledged_without_sync_standby.begin(),
                          r.acknowledged_without_sync_standby.end());
  }
  std::sort(g.breaking_ops.begin(), g.breaking_ops.end());
  g.breaking_ops.erase(std::unique(g.breaking_ops.begin(), g.breaking_ops.end()), g.breaking_ops.end());
  g.kept = g.breaking_ops.empty();
  if (!g.kept) {
    g.broken = fmt::format("{}", fmt::join(what, "; "));
    std::string first;
    for (std::size_t i = 0; i < g.breaking_ops.size() && i < 10; ++i) first += (i ? ", " : "") + std::to_string(g.breaking_ops[i]);
    g.broken += fmt::format(" (ops {}{})", first, g.breaking_ops.size() > 10 ? ", ..." : "");
  }
  return g;
}

CheckResult check(const history::RunHistory& history, const std::vector<history::Snapshot>& snapshots,
                  const CheckOptions& options, const StateInvariants& invariants) noexcept {
  CheckResult r;
  try {
    r.findings = history.findings;
    r.unconfirmed_findings = history.unconfirmed_findings;
    if (snapshots.empty() || snapshots.front().role != "primary" || !snapshots.front().error.empty()) {
      r.verdict = Verdict::unknown;
      r.commit = options.commit;
      r.reasons.push_back(snapshots.empty() || snapshots.front().role != "primary"
                              ? "no snapshot of the primary: nothing to check the history against"
                              : "the primary could not be read: " + snapshots.front().error);
      r.headline = "unknown: " + r.reasons.front();
      for (const auto& finding : r.findings) r.reasons.push_back("finding: " + finding);
      for (const auto& finding : r.unconfirmed_findings) r.reasons.push_back("unconfirmed finding: " + finding);
      check_availability(history, r);
      return r;
    }
    // Each ledger by its index of this run: read so from the run directory, or built here from rows in memory.
    std::vector<history::LedgerIndex> built;
    built.reserve(snapshots.size());
    std::vector<const history::LedgerIndex*> ledgers;
    for (const auto& s : snapshots) {
      if (s.ledger_index && s.ledger_index->run_id() == history.run_id) {
        ledgers.push_back(s.ledger_index.get());
      } else if (s.ledger_index && s.ledger.empty()) {
        throw std::runtime_error(fmt::format("the ledger of {} was read for run {}, the history is run {}", s.name,
                                             s.ledger_index->run_id(), history.run_id));
      } else {
        built.push_back(history::index_ledger(s.ledger, history.run_id));
        ledgers.push_back(&built.back());
      }
    }
    const auto& primary = snapshots.front();
    r.history_complete = history.finished && !history.torn_tail;
    check_operations(history, *ledgers[0], r);
    invariants.check_primary(primary, *ledgers[0], r);
    for (std::size_t i = 1; i < snapshots.size(); ++i)
      r.nodes.push_back(compare_node(primary, *ledgers[0], snapshots[i], *ledgers[i], invariants));
    check_availability(history, r);
    tell_story(history, *ledgers[0], options, r);
    if (common::names_sync_standby(options.commit.mode)) check_sync_standby(history, r);
    invariants.check_history(snapshots, r);
    r.checked = true;
    decide(options, r);
  } catch (const std::exception& error) {
    r.verdict = Verdict::unknown;
    r.reasons.assign(1, std::string("the checker failed: ") + error.what());
    r.headline = "unknown: " + r.reasons.front();
  }
  return r;
}

}  // namespace pgchaos::checker
