// Invariants over a run's history and the snapshots of every node taken at its end. Pure functions: no I/O,
// no cluster. Definitions: docs/design.md, "Semantics that must not drift".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/commit_setting.h"
#include "history/run_history.h"
#include "history/ledger_index.h"
#include "history/snapshots.h"

namespace pgchaos::checker {

/// async (and a sync mode whose synchronous_commit does not wait for the standby): lost commits are reported, and
/// fail the run only past --max-lost. sync, sync-strict and single (one server, no replication): any lost
/// acknowledged commit is invalid unless --max-lost says otherwise, cancelled sync waits excepted; sync-strict
/// also fails a commit acknowledged while its primary had no synchronous standby.
using common::CommitMode;
enum class Verdict { valid, invalid, unknown };
const char* to_string(Verdict verdict);
/// "valid", "invalid" or "unknown"; nullopt for anything else.
std::optional<Verdict> parse_verdict(std::string_view text) noexcept;
/// The verdict of several runs together: invalid over unknown over valid (as Jepsen merges valid?).
Verdict merge(Verdict a, Verdict b) noexcept;

struct CheckOptions {
  common::CommitSetting commit;          ///< its level empty: the mode's default (not recorded by older runs)
  std::optional<std::int64_t> max_lost;  ///< unset: no limit without the mode's promise, 0 otherwise
  std::int64_t max_unavailable_ms = 0;   ///< per fault, by the write probe; 0 none (a step's own limit wins)
  std::map<std::string, std::string> watchdog;  ///< each node's Patroni watchdog, in words (run.json "watchdog")
};

/// Why an acknowledged commit is gone (docs/report-schema.md has the sentence for each).
enum class LossCause { unexplained, split_brain, isolated_primary, async_lag, cancelled_sync_wait };
const char* to_string(LossCause cause);
/// One sentence a user understands.
const char* explain(LossCause cause);
inline constexpr LossCause kLossCauses[] = {LossCause::unexplained, LossCause::split_brain, LossCause::isolated_primary,
                                            LossCause::async_lag, LossCause::cancelled_sync_wait};

struct LostOp {
  std::int64_t op = 0;
  int attempt = 0;                  ///< the acknowledged attempt
  LossCause cause = LossCause::unexplained;
  std::string node;                 ///< who acknowledged it (configured name when the watcher knew it)
  int timeline = 0;
  std::int64_t acknowledged_ns = 0;
  std::int64_t commit_lsn = 0;      ///< 0 unknown
  std::int64_t fault = -1;          ///< the fault it belongs to (its window, or the heal that followed it)
  std::int64_t promotion_ns = -1;   ///< when another node was promoted after it (-1: none followed)
  std::string detail;               ///< the evidence in a few words
};

/// A node that became primary: watched (pg_is_in_recovery() turned false, or a primary on a new timeline).
struct Promotion {
  std::string node;
  std::int64_t at_ns = 0;
  int timeline = 0;
};

/// One node's state over a stretch of time, for the swimlanes: primary | replica | down (Patroni answers,
/// PostgreSQL does not) | unreachable.
struct LaneSegment {
  std::string state;
  int timeline = 0;
  std::int64_t start_ns = 0, end_ns = 0;
};
struct NodeLane {
  std::string node;
  std::vector<LaneSegment> segments;
};

/// Two nodes acting as primary where only one may.
struct SplitBrain {
  std::string kind;                 ///< two_primaries | acknowledged_after_promotion | one_timeline_two_histories
  std::vector<std::string> nodes;
  std::int64_t start_ns = 0, end_ns = 0;
  int timeline = 0;
  std::int64_t acknowledged = 0;    ///< ops acknowledged in the window by the node that should not have
  std::vector<std::int64_t> ops;    ///< the first 20 of them
  std::string text;                 ///< one sentence
};

/// The workload resolved an in-doubt attempt as not committed, yet the primary's ledger holds it.
struct Contradiction {
  std::int64_t op = 0;
  int resolved_attempt = 0;
  int acknowledged_attempt = 0;     ///< the retry acknowledged after the resolution (0: none); it is gone
};

struct AccountMismatch {
  int account = 0;
  std::int64_t balance_cents = 0, expected_cents = 0;  ///< expected = initial + credits − debits in the ledger
  std::vector<std::int64_t> ops;                       ///< this run's ops on the account (the first 20)
  std::int64_t op_count = 0;                           ///< this run's ops on the account, all of them
};

/// A node's accounts and ledger against the primary's.
struct NodeComparison {
  std::string name;
  bool compared = false;
  std::string not_compared_because;       ///< unreachable, or not caught up
  std::vector<int> differing_accounts;
  std::vector<std::int64_t> missing_ops;  ///< this run's ops in the primary's ledger, not in the node's
  std::vector<std::int64_t> extra_ops;    ///< in the node's ledger, not in the primary's
  std::vector<std::int64_t> other_attempt_ops;  ///< in both, committed by a different attempt on each
  bool diverged() const {
    return !differing_accounts.empty() || !missing_ops.empty() || !extra_ops.empty() || !other_attempt_ops.empty();
  }
};

struct Latency {
  double p50_ms = 0, p95_ms = 0, p99_ms = 0, max_ms = 0;
};
struct Second {
  std::int64_t second = 0;  ///< since the run started
  std::int64_t ok = 0;
  Latency latency;
};
struct Gap {
  std::int64_t start_ns = 0, end_ns = 0;  ///< no acknowledged commit in between
};
struct FaultImpact {
  history::FaultRecord fault;
  /// The longest stretch without an acknowledged commit overlapping the fault's window; -1: none came after it.
  std::int64_t unavailable_ns = -1;
  /// The write probe's: the longest outage overlapping the window (0 none), or kNoProbe, or kWritesNeverResumed.
  static constexpr std::int64_t kNoProbe = -1, kWritesNeverResumed = -2;
  std::int64_t probe_unavailable_ns = kNoProbe;
  std::int64_t writes_resumed_ns = -1;   ///< since the fault started, by the probe; -1 writes never stopped or unknown
  std::int64_t limit_ns = 0;             ///< allowed probe unavailability, 0 none
  bool refused = false;                  ///< the start command failed (Patroni refused a switchover)
  std::string refusal;                   ///< its words
  bool watched = false;                  ///< the watcher saw the window
  std::string leader_before, leader_after;
  std::vector<Promotion> promotions;     ///< inside the window
  std::int64_t time_to_leader_ns = -1;   ///< first promotion since the start
  std::string story;                     ///< what the cluster did, in one line
  std::vector<std::int64_t> lost;     ///< lost ops this fault took: the promotion after them (or, without one, their
                                      ///< acknowledgement) fell between its start and the next fault's
  std::int64_t lost_allowed = 0;      ///< of them, the losses the commit mode allows (sync: cancelled sync waits)
  std::vector<std::int64_t> unknown;  ///< in-doubt attempts whose completion fell in the window

  bool probed() const { return probe_unavailable_ns != kNoProbe; }
  bool writes_never_resumed() const { return probe_unavailable_ns == kWritesNeverResumed; }
  /// The probe's outage passed the fault's limit (writes that never resumed pass any).
  bool over_limit() const { return limit_ns > 0 && (writes_never_resumed() || probe_unavailable_ns > limit_ns); }
  /// The probe's outage for people: "2.31 s" (with `decimals`), "until the end", or `no_probe`.
  std::string probe_outage_text(const char* no_probe, int decimals = 2) const;
};

/// The list-append workload's isolation check (workloads/append fills it; the bank leaves it unchecked).
struct IsolationAnomaly {
  std::string kind;                        ///< G0, G1a, G1b, G1c, G-single, G2-item, their -process and -realtime
                                           ///< variants, incompatible-order, duplicate-elements
  std::vector<std::int64_t> transactions;  ///< ops (a transaction is an op); a cycle's in its order
  std::vector<std::string> edges;          ///< a cycle's dependencies: "T12 -wr-> T15 (key 3, element 17)"
  std::string explanation;                 ///< in plain words
  bool forbidden = false;                  ///< the isolation level the run asked for forbids it
  /// The cause of a lost commit it involves (a transaction in it, or one whose element it read or ordered, was
  /// acknowledged and then lost): the anomaly is that loss as readers saw it, and the loss is judged as losses are,
  /// not again here. Empty: no lost commit explains it, and if forbidden it fails the run.
  std::string follows_from_loss;
  bool fails() const { return forbidden && follows_from_loss.empty(); }
};
/// An acknowledged append whose element the primary's final list does not hold.
struct LostAppend {
  std::int64_t op = 0, key = 0, element = 0;
  std::string cause;  ///< the lost op's cause (LossCause), or "unexplained": its ledger row is there, its element not
};
/// The list-append workload's reads from the replicas (--replica-reads), against the primary's acknowledged appends.
struct ReplicaReadCheck {
  std::int64_t reads = 0;         ///< read-only transactions on the nodes
  std::int64_t stale_reads = 0;   ///< of them, reads that missed an append acknowledged before they began
  std::int64_t max_elements = 0;  ///< the most acknowledged elements one read missed
  double p50_s = 0, p99_s = 0, max_s = 0;  ///< staleness of the reads (0 for a fresh one): how long the oldest
                                           ///< acknowledged append a read missed had been acknowledged
  std::vector<std::pair<std::string, std::int64_t>> reads_by_node, stale_by_node;
  std::vector<std::pair<std::int64_t, double>> per_second;  ///< second of the run, the stalest read begun in it (s)
  std::int64_t limit_ms = 0, over_limit = 0;  ///< --max-staleness, and the reads staler than it (each fails the run)
  std::string stalest;                        ///< the stalest read, in words
  std::int64_t monotonic_violations = 0;      ///< reads in which a reader read a key shorter than it had before
  std::int64_t diverged = 0;                  ///< reads of a list that is no prefix of the primary's final one
  std::vector<std::string> examples;          ///< of the violations and divergences, in words (at most 10)
};

struct IsolationCheck {
  bool checked = false;
  std::string isolation;        ///< asked for: serializable | repeatable-read | read-committed
  std::string strongest_level;  ///< the strongest the history is consistent with (the -process and -realtime
                                ///< variants aside): serializable, repeatable-read, read-committed, read-uncommitted, none
  std::int64_t transactions = 0, reads = 0, appends = 0, keys = 0, edges = 0;
  std::vector<IsolationAnomaly> anomalies;      ///< at most 50 of each kind
  std::vector<std::pair<std::string, std::int64_t>> anomaly_counts;  ///< every kind found, with its count
  std::vector<LostAppend> lost_appends;
  std::vector<std::int64_t> phantom_appends;  ///< ops not acknowledged, rolled back by their record, whose element is
                                              ///< in the primary's final list
  std::string note;                           ///< what could not be checked, in words
  ReplicaReadCheck replica;                   ///< reads is 0 without --replica-reads
  /// Read-your-writes on the primary: a worker's acknowledged read of a key that misses an append the same worker
  /// had had acknowledged before, though the final state holds it (one the final state lost is a lost append).
  std::int64_t read_your_writes_violations = 0;
  std::int64_t read_your_writes_from_loss = 0;  ///< such reads by a transaction acknowledged and then lost: told, not failed
  std::vector<std::string> read_your_writes_examples;  ///< at most 10
  std::int64_t forbidden() const;  ///< anomalies the level forbids and no lost commit explains: each fails the run
  /// How the kept anomalies of one kind were judged: how many fail the run, how many the level forbids but a lost
  /// commit explains. Shared by the verdict and every report, so that they never tell it differently.
  struct KindJudgement {
    std::int64_t fails = 0, from_loss = 0;
  };
  KindJudgement judged(const std::string& kind) const;
};

struct CheckResult {
  Verdict verdict = Verdict::unknown;
  std::string headline;               ///< one sentence for people
  std::vector<std::string> reasons;   ///< why the verdict is what it is
  common::CommitSetting commit;       ///< as checked; its level empty: the mode's default
  std::optional<std::int64_t> max_lost;
  bool checked = false;               ///< the history was checked against a primary's snapshot

  std::int64_t operations = 0, acknowledged = 0;
  std::int64_t failed_attempts = 0, unknown_attempts = 0, pending_attempts = 0;
  std::vector<std::int64_t> lost, phantom, unknown_committed, unknown_not_committed;
  /// Ops of this run in the primary's ledger with no invoke in the history. A history cut short (kill -9)
  /// explains them; a complete history cannot, and then they fail the run.
  std::vector<std::int64_t> committed_not_in_history;
  bool history_complete = true;       ///< the history ends with run_finished and no torn line

  std::int64_t committed_this_run = 0, ledger_rows = 0, accounts = 0;
  std::int64_t balance_sum_cents = 0;
  std::int64_t balance_drift_cents = 0;  ///< sum(balance) − (accounts × initial + ledger rows × 1.00)
  std::int64_t original_formula_cents = 0;  ///< pg_cluster_backend's: sum(balance) − (accounts × initial +
                                            ///< acknowledged + earlier runs); report.json: seed_formula_cents
  std::vector<AccountMismatch> account_mismatches;
  std::vector<NodeComparison> nodes;

  double duration_s = 0, ops_per_s = 0;
  Latency latency;
  std::vector<Second> per_second;
  std::vector<Gap> longest_gaps;  ///< longest first, at most 5
  std::vector<FaultImpact> faults;
  std::vector<std::string> findings;  ///< from the history: e.g. a cluster that did not recover after a fault
  std::vector<std::string> unconfirmed_findings;  ///< the same, where an interruption cut the wait short: unknown

  // The cluster's story (from the watcher's observations, the probe and the workload's own terms).
  bool watched = false;                      ///< the history holds observations
  std::vector<Promotion> promotions;
  std::vector<NodeLane> lanes;
  std::vector<SplitBrain> split_brains;
  std::vector<LostOp> lost_ops;              ///< every lost op with its cause, ordered by op
  std::vector<std::pair<LossCause, std::int64_t>> lost_by_cause;  ///< every cause, in kLossCauses order
  std::vector<Contradiction> contradicted;
  std::int64_t lost_allowed_by_mode = 0;     ///< sync: the cancelled-sync-wait losses (the documented exception)
  /// Sync modes: ops acknowledged while their primary had no synchronous standby (sync-strict promises none).
  std::vector<std::int64_t> acknowledged_without_sync_standby;
  bool sync_standby_checked = false;         ///< the watcher recorded synchronous standbys to judge by
  IsolationCheck isolation;                  ///< the list-append workload's (unchecked for the bank)
  std::int64_t count_lost(LossCause cause) const;
};

/// What a run's commit mode promises by Patroni's documentation, and whether the run kept it: sync and sync-strict
/// (at a level that waits for the standby) lose no acknowledged commit except a cancelled sync wait; sync-strict
/// acknowledges no commit without a synchronous standby. async promises nothing.
struct Guarantee {
  std::string promise;                      ///< in words
  bool judged = false;                      ///< the mode promises something and the run was checked
  bool kept = true;
  std::vector<std::int64_t> breaking_ops;   ///< the ops that break it, ordered
  std::string broken;                       ///< what broke it, with counts; empty when kept
};
Guarantee judge_guarantee(const CheckResult& result);

/// What a workload checks of the nodes' states beyond the generic invariants (lost, phantom and in-doubt ops from
/// each op's committed attempt, replicas' ledgers, availability, the story). Each workload implements it
/// (workloads/bank: balances and accounts). Pure: no I/O; may be called from any thread.
class StateInvariants {
 public:
  /// The primary's state: fills the workload's part of `result`.
  virtual void check_primary(const history::Snapshot& primary, const history::LedgerIndex& ledger,
                             CheckResult& result) const = 0;
  /// A caught-up node's state against the primary's, beyond their ledgers.
  virtual void compare_state(const history::Snapshot& primary, const history::Snapshot& node,
                             NodeComparison& comparison) const = 0;
  /// Last, with the lost ops and their causes known: what the workload checks of the history itself (the
  /// list-append workload's isolation). Nothing for the bank.
  virtual void check_history(const std::vector<history::Snapshot>& snapshots, CheckResult& result) const {
    (void)snapshots, (void)result;
  }

 protected:
  ~StateInvariants() = default;
};

/// Checks a run. `snapshots` holds the primary first (role "primary"); `invariants` are the run's workload's.
/// Never throws: a failure inside the checker yields verdict unknown with the reason.
CheckResult check(const history::RunHistory& history, const std::vector<history::Snapshot>& snapshots,
                  const CheckOptions& options, const StateInvariants& invariants) noexcept;

}  // namespace pgchaos::checker
