// Internal to checker/: each invariant as a small function, tested on its own.
#pragma once

#include "checker/checker.h"
#include "history/ledger_index.h"

namespace pgchaos::checker {

/// Lost, phantom and resolved-unknown operations from the attempts and the primary's ledger.
void check_operations(const history::RunHistory& history, const history::LedgerIndex& primary, CheckResult& result);
/// Each other node against the primary (each snapshot with its ledger's index of the run; the workload's state by
/// `invariants`).
NodeComparison compare_node(const history::Snapshot& primary, const history::LedgerIndex& primary_ledger,
                            const history::Snapshot& node, const history::LedgerIndex& node_ledger,
                            const StateInvariants& invariants);
/// Throughput, latency, gaps without commits and per-fault impact.
void check_availability(const history::RunHistory& history, CheckResult& result);
/// What the cluster did (promotions, per-fault story, split brains) and why each lost op was lost; contradicted
/// resolutions.
void tell_story(const history::RunHistory& history, const history::LedgerIndex& primary, const CheckOptions& options,
                CheckResult& result);
/// Sync modes: the acknowledged attempts whose whole span fell in a stretch where the watcher saw their primary
/// with no synchronous standby.
void check_sync_standby(const history::RunHistory& history, CheckResult& result);
/// The verdict, its reasons and the headline from everything above.
void decide(const CheckOptions& options, CheckResult& result);

}  // namespace pgchaos::checker
