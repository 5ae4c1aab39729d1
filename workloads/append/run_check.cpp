// A list-append run checked: its transactions read back from history.jsonl, the primary's final lists as the last
// read, Elle's inference over both, judged at the isolation level the run asked for; lost appends told with the
// causes the generic check found for their ops.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "workloads/append/append.h"

namespace pgchaos::append {
namespace {

constexpr std::size_t kAnomaliesKept = 50;  // of each kind, in report.json; every one is counted

struct OpState {
  std::size_t index = 0;
  std::int64_t last_invoke_ns = -1;
  int unknown = 0, resolved_not_committed = 0;
  bool acknowledged = false, resolved_committed = false;
  bool open = false;  // its last attempt has no completion: a history cut short (kill -9), the outcome unknown
};

std::string edge_text(const Edge& e) {
  if (e.kind == Dependency::session || e.kind == Dependency::realtime)
    return fmt::format("T{} -{}-> T{}", e.from, to_string(e.kind), e.to);
  return fmt::format("T{} -{}-> T{} (key {}, element {})", e.from, to_string(e.kind), e.to, e.key, e.value);
}

double percentile_of(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<std::size_t>(p * static_cast<double>(values.size())))];
}

// Each replica read against the primary's final lists: a list that is a prefix of the final one is stale by the
// acknowledged appends after its end that were acknowledged before the read began; one that is no prefix diverged.
// A reader that reads a key shorter than it read it before breaks monotonic reads.
void check_replica_reads(const std::vector<ReplicaRead>& reads, const std::vector<Transaction>& txns,
                         const std::unordered_map<std::int64_t, const std::vector<std::int64_t>*>& final_lists,
                         const std::unordered_map<std::int64_t, checker::LossCause>& lost_cause, std::int64_t limit_ms,
                         checker::ReplicaReadCheck& out) {
  constexpr std::size_t kExamples = 10;
  out.limit_ms = limit_ms;
  if (reads.empty()) return;
  std::unordered_map<std::int64_t, std::pair<std::int64_t, std::int64_t>> acknowledged;  // element -> op, when
  for (const auto& t : txns)
    if (t.outcome == Outcome::ok && t.complete_ns >= 0)
      for (const auto& op : t.ops)
        if (op.kind == MicroOp::Kind::append) acknowledged[op.value] = {t.id, t.complete_ns};
  static const std::vector<std::int64_t> kEmpty;
  std::map<std::string, std::int64_t> by_node, stale_by_node;
  std::map<std::int64_t, double> per_second;
  std::vector<double> staleness;
  std::map<std::pair<int, std::int64_t>, std::pair<std::size_t, std::string>> longest_seen;  // (reader, key) -> length, where
  double stalest = -1;
  for (const auto& read : reads) {
    ++out.reads;
    ++by_node[read.node];
    std::int64_t missed = 0, oldest_ns = -1;
    bool went_back = false;  // a monotonic-reads violation: counted once a read, whatever keys went back
    for (const auto& op : read.ops) {
      if (!op.read) continue;
      const auto found = final_lists.find(op.key);
      const auto& final_list = found == final_lists.end() ? kEmpty : *found->second;
      const auto& list = *op.read;
      const bool prefix = list.size() <= final_list.size() && std::equal(list.begin(), list.end(), final_list.begin());
      if (!prefix) {
        ++out.diverged;
        bool lost = false;
        for (const auto element : list)
          if (const auto a = acknowledged.find(element); a != acknowledged.end() && lost_cause.count(a->second.first)) lost = true;
        if (out.examples.size() < kExamples)
          out.examples.push_back(fmt::format("{} read key {} as a list that is no prefix of the primary's final one{}",
                                             read.node, op.key, lost ? " (it holds an acknowledged append later lost)" : ""));
        continue;
      }
      for (std::size_t i = list.size(); i < final_list.size(); ++i) {
        const auto a = acknowledged.find(final_list[i]);
        if (a == acknowledged.end() || a->second.second >= read.started_ns) continue;
        ++missed;
        if (oldest_ns < 0 || a->second.second < oldest_ns) oldest_ns = a->second.second;
      }
      auto& seen = longest_seen[{read.reader, op.key}];
      if (list.size() < seen.first) {
        went_back = true;
        if (out.examples.size() < kExamples)
          out.examples.push_back(fmt::format("reader {} read key {} with {} elements from {} after it had read {} from {}",
                                             read.reader, op.key, list.size(), read.node, seen.first, seen.second));
      } else {
        seen = {list.size(), read.node};
      }
    }
    out.monotonic_violations += went_back ? 1 : 0;
    const double s = oldest_ns < 0 ? 0 : static_cast<double>(read.started_ns - oldest_ns) / 1e9;
    staleness.push_back(s);
    auto& second = per_second[read.started_ns / 1'000'000'000];
    second = std::max(second, s);
    if (missed > 0) {
      ++out.stale_reads;
      ++stale_by_node[read.node];
      out.max_elements = std::max(out.max_elements, missed);
      if (limit_ms > 0 && s * 1000 > static_cast<double>(limit_ms)) ++out.over_limit;
      if (s > stalest) {
        stalest = s;
        out.stalest = fmt::format("{} ({}) at {:.1f} s missed {} acknowledged appends, the oldest acknowledged {:.3f} s "
                                  "before the read began (replayed to LSN {})",
                                  read.node, read.in_recovery ? "in recovery" : "primary", static_cast<double>(read.started_ns) / 1e9,
                                  missed, s, read.replayed_lsn);
      }
    }
  }
  out.p50_s = percentile_of(staleness, 0.5);
  out.p99_s = percentile_of(staleness, 0.99);
  out.max_s = staleness.empty() ? 0 : staleness.back();
  out.reads_by_node.assign(by_node.begin(), by_node.end());
  out.stale_by_node.assign(stale_by_node.begin(), stale_by_node.end());
  out.per_second.assign(per_second.begin(), per_second.end());
}

}  // namespace

RunTransactions load_transactions(const std::filesystem::path& history_file) {
  RunTransactions out;
  std::unordered_map<std::int64_t, OpState> ops;
  history::for_each_event(history_file, [&](history::Event&& e) {
    using history::EventType;
    if (e.type == EventType::replica_read) {
      ReplicaRead read{e.worker, e.node, e.pg_role != "primary", e.wal_replayed, e.started_ns, e.mono_ns, {}};
      try {
        read.ops = parse_ops(e.txn);
      } catch (const std::invalid_argument& error) {
        throw history::HistoryError(fmt::format("a replica read of {}: {}", e.node, error.what()));
      }
      out.replica_reads.push_back(std::move(read));
      return;
    }
    if (e.type != EventType::invoke && e.type != EventType::ok && e.type != EventType::fail &&
        e.type != EventType::unknown && e.type != EventType::resolve)
      return;
    auto found = ops.find(e.op);
    if (e.type == EventType::invoke) {
      if (found == ops.end()) {
        Transaction t;
        t.id = e.op;
        t.session = e.worker;
        t.outcome = Outcome::fail;
        try {
          t.ops = parse_ops(e.txn);
        } catch (const std::invalid_argument& error) {
          throw history::HistoryError(fmt::format("op {}: its transaction: {}", e.op, error.what()));
        }
        if (t.ops.empty()) throw history::HistoryError(fmt::format("op {}: an invoke without a list-append transaction", e.op));
        found = ops.emplace(e.op, OpState{out.transactions.size()}).first;
        out.transactions.push_back(std::move(t));
      }
      found->second.last_invoke_ns = e.mono_ns;
      found->second.open = true;
      return;
    }
    if (found == ops.end()) throw history::HistoryError(fmt::format("op {}: a completion without its invoke", e.op));
    auto& state = found->second;
    auto& t = out.transactions[state.index];
    if (e.type != EventType::resolve) state.open = false;
    if (e.type == EventType::ok) {
      try {
        t.ops = parse_ops(e.txn);
      } catch (const std::invalid_argument& error) {
        throw history::HistoryError(fmt::format("op {}: its acknowledged transaction: {}", e.op, error.what()));
      }
      state.acknowledged = true;
      t.invoke_ns = state.last_invoke_ns;
      t.complete_ns = e.mono_ns;
    } else if (e.type == EventType::fail) {
      // a sure failure: nothing to record beyond the attempt's end
    } else if (e.type == EventType::unknown) {
      ++state.unknown;
    } else if (e.committed) {
      state.resolved_committed = true;
    } else {
      ++state.resolved_not_committed;
    }
  });
  for (const auto& [op, state] : ops) {
    auto& t = out.transactions[state.index];
    t.outcome = state.acknowledged || state.resolved_committed           ? Outcome::ok
                : state.open || state.unknown > state.resolved_not_committed ? Outcome::unknown
                                                                              : Outcome::fail;
  }
  for (const auto& t : out.transactions)
    for (const auto& op : t.ops) (op.kind == MicroOp::Kind::read ? out.read_ops : out.append_ops) += 1;
  return out;
}

void AppendInvariants::check_primary(const history::Snapshot&, const history::LedgerIndex&, checker::CheckResult&) const {}

void AppendInvariants::compare_state(const history::Snapshot& primary, const history::Snapshot& node,
                                     checker::NodeComparison& comparison) const {
  std::map<std::int64_t, const std::vector<std::int64_t>*> lists;
  for (const auto& l : primary.lists) lists[l.key] = &l.elements;
  std::unordered_set<std::int64_t> seen;
  for (const auto& l : node.lists) {
    seen.insert(l.key);
    const auto found = lists.find(l.key);
    if (found == lists.end() || *found->second != l.elements) comparison.differing_accounts.push_back(static_cast<int>(l.key));
  }
  for (const auto& [key, elements] : lists)
    if (!seen.count(key)) comparison.differing_accounts.push_back(static_cast<int>(key));
}

void AppendInvariants::check_history(const std::vector<history::Snapshot>& snapshots, checker::CheckResult& r) const {
  auto& c = r.isolation;
  c.checked = true;
  c.isolation = isolation_;
  std::vector<Transaction> txns = history_.transactions;
  // In-doubt ops as the generic check resolved them through the primary's record rows.
  const std::unordered_set<std::int64_t> committed(r.unknown_committed.begin(), r.unknown_committed.end());
  const std::unordered_set<std::int64_t> not_committed(r.unknown_not_committed.begin(), r.unknown_not_committed.end());
  for (auto& t : txns)
    if (t.outcome == Outcome::unknown) t.outcome = committed.count(t.id) ? Outcome::ok : not_committed.count(t.id) ? Outcome::fail : t.outcome;

  // The primary's final lists, read as one last transaction (T0: ops start at 1) of every key the history touched.
  const auto& primary = snapshots.front();
  std::unordered_map<std::int64_t, const std::vector<std::int64_t>*> final_lists;
  for (const auto& l : primary.lists) final_lists[l.key] = &l.elements;
  std::unordered_set<std::int64_t> keys;
  for (const auto& t : txns)
    for (const auto& op : t.ops) keys.insert(op.key);
  c.keys = static_cast<std::int64_t>(keys.size());
  Transaction final_read;
  final_read.id = 0;
  final_read.session = -1;
  std::vector<std::int64_t> sorted_keys(keys.begin(), keys.end());
  std::sort(sorted_keys.begin(), sorted_keys.end());
  static const std::vector<std::int64_t> kEmpty;
  for (const auto key : sorted_keys) {
    const auto found = final_lists.find(key);
    final_read.ops.push_back({MicroOp::Kind::read, key, 0, found == final_lists.end() ? kEmpty : *found->second});
  }

  // Lost appends: acknowledged, not in the final list of their key; phantom ones: rolled back, yet there.
  std::unordered_map<std::int64_t, checker::LossCause> lost_cause;
  for (const auto& l : r.lost_ops) lost_cause[l.op] = l.cause;
  // Ops whose acknowledged attempt is gone though an earlier attempt committed (a resolution the final primary
  // contradicts, as after a split brain): what the acknowledged attempt read was read on a history not kept.
  std::unordered_set<std::int64_t> acknowledged_attempt_gone;
  for (const auto& contradiction : r.contradicted)
    if (contradiction.acknowledged_attempt != 0) acknowledged_attempt_gone.insert(contradiction.op);
  std::unordered_set<std::int64_t> final_elements;
  for (const auto& l : primary.lists) final_elements.insert(l.elements.begin(), l.elements.end());
  for (const auto& t : txns) {
    bool phantom = false;
    for (const auto& op : t.ops) {
      if (op.kind != MicroOp::Kind::append) continue;
      const bool there = final_elements.count(op.value) != 0;
      if (t.outcome == Outcome::ok && !there && t.complete_ns >= 0) {
        const auto cause = lost_cause.find(t.id);
        c.lost_appends.push_back({t.id, op.key, op.value, cause == lost_cause.end() ? "unexplained" : to_string(cause->second)});
      }
      phantom = phantom || (t.outcome == Outcome::fail && there);
    }
    if (phantom) c.phantom_appends.push_back(t.id);
  }

  // Read-your-writes: each worker's own acknowledged appends, against its later acknowledged reads of their keys.
  {
    std::unordered_map<std::int64_t, std::unordered_map<std::int64_t, std::vector<std::int64_t>>> own;  // worker, key
    for (const auto& t : txns) {  // in invoke order; a worker's transactions one after another
      if (t.outcome != Outcome::ok || t.complete_ns < 0) continue;
      auto& mine = own[t.session];
      for (const auto& op : t.ops) {
        if (op.kind == MicroOp::Kind::append) continue;
        if (!op.read) continue;
        const auto found = mine.find(op.key);
        if (found == mine.end()) continue;
        const std::unordered_set<std::int64_t> seen(op.read->begin(), op.read->end());
        for (const auto element : found->second)
          if (!seen.count(element) && final_elements.count(element)) {
            // A reader that was itself acknowledged and then lost read on a primary whose history was not kept:
            // the loss as its worker saw it.
            if (lost_cause.count(t.id) || acknowledged_attempt_gone.count(t.id)) {
              ++c.read_your_writes_from_loss;
              break;
            }
            if (c.read_your_writes_violations++ < 10)
              c.read_your_writes_examples.push_back(fmt::format(
                  "T{} (worker {}) read key {} as {} entries without {}, which the same worker had appended and had "
                  "acknowledged before; the final state holds it", t.id, t.session, op.key, op.read->size(), element));
            break;
          }
      }
      for (const auto& op : t.ops)
        if (op.kind == MicroOp::Kind::append) mine[op.key].push_back(op.value);
    }
  }
  c.transactions = static_cast<std::int64_t>(txns.size());
  c.reads = history_.read_ops;
  c.appends = history_.append_ops;
  txns.push_back(std::move(final_read));
  const AppendCheck check = append::check_history(txns);
  c.edges = static_cast<std::int64_t>(check.edges);
  c.strongest_level = check.strongest_level;
  // Which lost op an anomaly involves: one of its transactions, the writer of an element its cycle is built on, or of
  // an element its transactions read (an order no appends give, an aborted or intermediate read).
  std::unordered_map<std::int64_t, std::int64_t> writer;  // element -> op
  std::unordered_map<std::int64_t, const Transaction*> by_id;
  for (const auto& t : txns) {
    by_id[t.id] = &t;
    for (const auto& op : t.ops)
      if (op.kind == MicroOp::Kind::append) writer[op.value] = t.id;
  }
  auto lost_involved = [&](const Anomaly& a) -> std::string {
    auto cause_of = [&](std::int64_t op) -> const checker::LossCause* {
      const auto found = lost_cause.find(op);
      return found == lost_cause.end() ? nullptr : &found->second;
    };
    auto cause_of_element = [&](std::int64_t element) -> const checker::LossCause* {
      const auto w = writer.find(element);
      return w == writer.end() ? nullptr : cause_of(w->second);
    };
    for (const auto t : a.transactions) {
      if (const auto* cause = cause_of(t)) return to_string(*cause);
      if (acknowledged_attempt_gone.count(t)) return "acknowledged-attempt-gone";
    }
    for (const auto& e : a.cycle)
      if (e.kind != Dependency::session && e.kind != Dependency::realtime)
        if (const auto* cause = cause_of_element(e.value)) return to_string(*cause);
    if (!a.cycle.empty()) return "";
    for (const auto t : a.transactions)
      if (const auto found = by_id.find(t); found != by_id.end())
        for (const auto& op : found->second->ops)
          if (op.read)
            for (const auto element : *op.read)
              if (const auto* cause = cause_of_element(element)) return to_string(*cause);
    return "";
  };
  std::map<std::string, std::int64_t> counts;
  for (const auto& a : check.anomalies) {
    if (counts[a.kind]++ >= static_cast<std::int64_t>(kAnomaliesKept)) continue;
    checker::IsolationAnomaly out;
    out.kind = a.kind;
    out.transactions = a.transactions;
    for (const auto& e : a.cycle) out.edges.push_back(edge_text(e));
    out.explanation = a.explanation;
    if (std::find(a.transactions.begin(), a.transactions.end(), 0) != a.transactions.end())
      out.explanation += fmt::format(" (T0 is the final state of the primary {})", primary.name);
    out.forbidden = forbidden_at(a.kind, isolation_);
    out.follows_from_loss = lost_involved(a);
    if (!out.follows_from_loss.empty())
      out.explanation += fmt::format(" — it involves a commit acknowledged and then lost ({}): that loss as the other "
                                     "transactions saw it", out.follows_from_loss);
    c.anomalies.push_back(std::move(out));
  }
  c.anomaly_counts.assign(counts.begin(), counts.end());
  check_replica_reads(history_.replica_reads, txns, final_lists, lost_cause, max_staleness_ms_, c.replica);
}

}  // namespace pgchaos::append
