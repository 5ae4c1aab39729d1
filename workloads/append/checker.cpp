// Elle's list-append inference (Kingsbury & Alvaro, "Elle: Inferring Isolation Anomalies from Experimental
// Observations"): the longest list read of a key is its version order (every other read must be a prefix of it), each
// element's writer is the transaction that appended it, and the order gives the dependencies. Cycles are searched in
// the strongly connected components of ever larger subgraphs: ww alone (G0), ww+wr (G1c), then ww+wr+rw with exactly
// one rw (G-single) or more (G2-item); session and real-time order last, for the cycles that need them.
#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "workloads/append/append.h"

namespace pgchaos::append {
namespace {

constexpr unsigned kWw = 1, kWr = 2, kRw = 4, kSession = 8, kRealtime = 16;
unsigned bit(Dependency d) {
  switch (d) {
    case Dependency::ww: return kWw;
    case Dependency::wr: return kWr;
    case Dependency::rw: return kRw;
    case Dependency::session: return kSession;
    case Dependency::realtime: return kRealtime;
  }
  return 0;
}

constexpr std::size_t kNoWriter = static_cast<std::size_t>(-1);

// A search for a cycle through one edge of a large component is bounded: this many edges are tried as the one rw
// edge of a G-single before the component is reported as G2-item.
constexpr std::size_t kSingleRwTries = 32;
// A cycle's explanation tells this many of its dependencies.
constexpr std::size_t kToldEdges = 12;

struct KeyValue {
  std::int64_t key, value;
  bool operator==(const KeyValue&) const = default;
};
struct KeyValueHash {
  std::size_t operator()(const KeyValue& kv) const noexcept {
    return std::hash<std::uint64_t>()(static_cast<std::uint64_t>(kv.key) * 1'000'003u ^ static_cast<std::uint64_t>(kv.value));
  }
};

struct Writer {
  std::size_t txn = kNoWriter;  // index in the history
  std::int64_t key = 0;
  bool intermediate = false;  // its transaction appended to the key again after it
  std::int64_t later = 0;     // that later element
};

std::string list_text(const std::vector<std::int64_t>& list) {
  constexpr std::size_t kShown = 8;
  std::string text = "[";
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (i == kShown && list.size() > kShown + 1) {
      text += fmt::format(", … {} more", list.size() - i);
      break;
    }
    text += (i == 0 ? "" : ", ") + std::to_string(list[i]);
  }
  return text + "]";
}

class Checker {
 public:
  explicit Checker(const std::vector<Transaction>& history) : h_(history) {}

  AppendCheck run() {
    index_writers();
    infer_orders();
    build_edges();
    result_.transactions = h_.size();
    result_.edges = edges_.size() + realtime_arcs_;
    base_cycles();
    session_cycles();
    result_.strongest_level = strongest_level();
    return std::move(result_);
  }

 private:
  // ---- the history
  bool in_graph(std::size_t t) const { return h_[t].outcome != Outcome::fail; }

  // Each element's writer. Elements are numbered densely by a workload that draws them from one counter: then a
  // vector indexed by the element is the index (a hash table's lookups were a third of the checker's time); any
  // other numbering, or one element appended to two keys, falls back to a hash table of (key, element).
  void index_writers() {
    std::int64_t appends = 0, highest = 0;
    bool dense = true;
    for (const auto& t : h_)
      for (const auto& op : t.ops)
        if (op.kind == MicroOp::Kind::append) {
          ++appends;
          highest = std::max(highest, op.value);
          dense = dense && op.value >= 0;
        }
    dense = dense && highest < 4 * appends + 1024;
    if (dense) dense_.assign(static_cast<std::size_t>(highest) + 1, Writer{});
    for (std::size_t t = 0; t < h_.size(); ++t) {
      const auto& ops = h_[t].ops;
      for (std::size_t i = 0; i < ops.size(); ++i) {
        if (ops[i].kind != MicroOp::Kind::append) continue;
        const Writer w = writer_at(t, i);
        if (!dense_.empty()) {
          auto& slot = dense_[static_cast<std::size_t>(ops[i].value)];
          if (slot.txn == kNoWriter) {
            slot = w;
            continue;
          }
          dense_.clear();  // one element on two keys: (key, element) it is, from the start
          writers_.clear();
          return index_writers_by_key_and_element();
        }
        writers_.emplace(KeyValue{ops[i].key, ops[i].value}, w);
      }
    }
  }

  // The writer of transaction t's i-th micro-operation, an append.
  Writer writer_at(std::size_t t, std::size_t i) const {
    const auto& ops = h_[t].ops;
    Writer w{t, ops[i].key};
    for (std::size_t j = i + 1; j < ops.size(); ++j)
      if (ops[j].kind == MicroOp::Kind::append && ops[j].key == ops[i].key) {
        w.intermediate = true;
        w.later = ops[j].value;
      }
    return w;
  }

  void index_writers_by_key_and_element() {
    for (std::size_t t = 0; t < h_.size(); ++t) {
      const auto& ops = h_[t].ops;
      for (std::size_t i = 0; i < ops.size(); ++i) {
        if (ops[i].kind != MicroOp::Kind::append) continue;
        writers_.emplace(KeyValue{ops[i].key, ops[i].value}, writer_at(t, i));
      }
    }
  }

  const Writer* writer_of(std::int64_t key, std::int64_t value) const {
    if (!dense_.empty()) {
      if (value < 0 || static_cast<std::size_t>(value) >= dense_.size()) return nullptr;
      const auto& w = dense_[static_cast<std::size_t>(value)];
      return w.txn == kNoWriter || w.key != key ? nullptr : &w;
    }
    const auto found = writers_.find({key, value});
    return found == writers_.end() ? nullptr : &found->second;
  }

  // Each key's version order: its longest read. A read that is not a prefix of it (or an element read twice) is an
  // anomaly of its own, and the key gives no dependency then.
  void infer_orders() {
    for (std::size_t t = 0; t < h_.size(); ++t) {
      if (h_[t].outcome != Outcome::ok) continue;
      for (const auto& op : h_[t].ops)
        if (op.kind == MicroOp::Kind::read && op.read) {
          auto& longest = longest_[op.key];
          if (longest.list == nullptr || op.read->size() > longest.list->size()) longest = {&*op.read, t};
        }
    }
    std::unordered_set<std::int64_t> duplicated_keys;
    for (std::size_t t = 0; t < h_.size(); ++t) {
      if (h_[t].outcome != Outcome::ok) continue;
      for (const auto& op : h_[t].ops) {
        if (op.kind != MicroOp::Kind::read || !op.read) continue;
        const auto& longest = longest_.at(op.key);
        if (!std::equal(op.read->begin(), op.read->end(), longest.list->begin()) && incompatible_.insert(op.key).second)
          add({"incompatible-order",
               {h_[t].id, h_[longest.txn].id},
               {},
               fmt::format("T{} read key {} as {} and T{} read it as {}: neither is a prefix of the other, so no "
                           "order of appends gives both",
                           h_[t].id, op.key, list_text(*op.read), h_[longest.txn].id, list_text(*longest.list))});
        if (op.read->size() > 1 && !duplicated_keys.count(op.key)) {
          std::vector<std::int64_t> sorted = *op.read;
          std::sort(sorted.begin(), sorted.end());
          const auto twice = std::adjacent_find(sorted.begin(), sorted.end());
          if (twice != sorted.end()) {
            duplicated_keys.insert(op.key);
            add({"duplicate-elements",
                 {h_[t].id},
                 {},
                 fmt::format("T{} read key {} as {}: {} is in it more than once, though it was appended once", h_[t].id,
                             op.key, list_text(*op.read), *twice)});
          }
        }
      }
    }
  }

  void build_edges() {
    node_of_.assign(h_.size(), -1);
    for (std::size_t t = 0; t < h_.size(); ++t)
      if (in_graph(t)) {
        node_of_[t] = static_cast<int>(txn_of_.size());
        txn_of_.push_back(t);
      }
    out_.assign(txn_of_.size(), {});
    for (const auto& [key, longest] : longest_)
      for (const auto value : *longest.list)
        if (const auto* w = writer_of(key, value); w != nullptr && h_[w->txn].outcome == Outcome::fail) {
          has_aborted_.insert(key);
          break;
        }
    // ww: consecutive elements of each key's order.
    for (const auto& [key, longest] : longest_) {
      if (incompatible_.count(key)) continue;
      const auto& order = *longest.list;
      for (std::size_t i = 0; i + 1 < order.size(); ++i) {
        const auto* a = writer_of(key, order[i]);
        const auto* b = writer_of(key, order[i + 1]);
        if (a != nullptr && b != nullptr) add_edge(a->txn, b->txn, Dependency::ww, key, order[i]);
      }
    }
    std::set<std::pair<std::size_t, std::size_t>> aborted_reads, intermediate_reads;
    for (std::size_t t = 0; t < h_.size(); ++t) {
      if (h_[t].outcome != Outcome::ok) continue;
      for (const auto& op : h_[t].ops) {
        if (op.kind != MicroOp::Kind::read || !op.read) continue;
        const auto& list = *op.read;
        // G1a: an element of a transaction that was rolled back. Every read of a key is a prefix of its longest, so
        // only the keys whose longest holds one are looked at element by element (and those without an order).
        if (incompatible_.count(op.key) || has_aborted_.count(op.key))
          for (const auto value : list)
            if (const auto* w = writer_of(op.key, value); w != nullptr && h_[w->txn].outcome == Outcome::fail &&
                                                           aborted_reads.insert({t, w->txn}).second)
              add({"G1a",
                   {h_[t].id, h_[w->txn].id},
                   {},
                   fmt::format("T{} read key {} with {} in it, appended by T{}, which was rolled back", h_[t].id, op.key,
                               value, h_[w->txn].id)});
        if (incompatible_.count(op.key)) continue;
        if (!list.empty()) {
          const auto* w = writer_of(op.key, list.back());
          if (w != nullptr && w->txn != t && w->intermediate && intermediate_reads.insert({t, w->txn}).second)
            add({"G1b",
                 {h_[t].id, h_[w->txn].id},
                 {},
                 fmt::format("T{} read key {} ending in {}, which T{} appended and then appended {} after it: T{} saw "
                             "T{}'s state in the middle of its transaction",
                             h_[t].id, op.key, list.back(), h_[w->txn].id, w->later, h_[t].id, h_[w->txn].id)});
          if (w != nullptr) add_edge(w->txn, t, Dependency::wr, op.key, list.back());
        }
        const auto& order = *longest_.at(op.key).list;
        // The element after the read's last, unless its own writer wrote that too: a read of another transaction's
        // intermediate state is G1b, not also an anti-dependency on that same transaction.
        if (list.size() < order.size())
          if (const auto* next = writer_of(op.key, order[list.size()]); next != nullptr) {
            const auto* last = list.empty() ? nullptr : writer_of(op.key, list.back());
            if (last == nullptr || last->txn != next->txn) add_edge(t, next->txn, Dependency::rw, op.key, order[list.size()]);
          }
      }
    }
    std::unordered_map<std::int64_t, std::size_t> last_of_session;
    for (std::size_t t = 0; t < h_.size(); ++t) {
      if (!in_graph(t)) continue;
      const auto [it, first] = last_of_session.try_emplace(h_[t].session, t);
      if (!first) {
        add_edge(it->second, t, Dependency::session, 0, 0);
        it->second = t;
      }
    }
    realtime_edges();
  }

  // T1 acknowledged before T2 was invoked: T1 precedes T2 in real time. Only the edges that are not implied by
  // others (Elle's frontier): each transaction gets an edge from those acknowledged before it began that no
  // transaction acknowledged since then had already followed.
  void realtime_edges() {
    // The transactions by invocation and by acknowledgement (4-byte indices: a million transactions' real time costs
    // 8 MB here), walked together in time order; at the same instant invocations come first: neither then precedes.
    std::vector<std::uint32_t> by_invoke, by_complete;
    for (std::size_t t = 0; t < h_.size(); ++t)
      if (in_graph(t) && h_[t].invoke_ns >= 0 && h_[t].complete_ns >= h_[t].invoke_ns) by_invoke.push_back(static_cast<std::uint32_t>(t));
    by_complete = by_invoke;
    std::sort(by_invoke.begin(), by_invoke.end(), [this](auto a, auto b) { return h_[a].invoke_ns < h_[b].invoke_ns; });
    std::sort(by_complete.begin(), by_complete.end(), [this](auto a, auto b) { return h_[a].complete_ns < h_[b].complete_ns; });
    std::vector<std::size_t> frontier;  // acknowledged transactions no later acknowledged one follows
    std::unordered_map<std::size_t, std::vector<std::size_t>> before;  // a running transaction's frontier at its start
    std::size_t i = 0;
    for (const auto done : by_complete) {
      for (; i < by_invoke.size() && h_[by_invoke[i]].invoke_ns <= h_[done].complete_ns; ++i)
        if (!frontier.empty()) before.emplace(by_invoke[i], frontier);
      const auto preceding = before.find(done);
      if (preceding != before.end()) {
        for (const auto p : preceding->second) {
          const int from = node_of_[p], to = node_of_[done];
          out_[static_cast<std::size_t>(from)].push_back({to, -2 - from});
          ++realtime_arcs_;
        }
        std::unordered_set<std::size_t> covered(preceding->second.begin(), preceding->second.end());
        std::erase_if(frontier, [&](std::size_t f) { return covered.count(f) != 0; });
        before.erase(preceding);
      }
      frontier.push_back(done);
    }
  }

  void add_edge(std::size_t from_txn, std::size_t to_txn, Dependency kind, std::int64_t key, std::int64_t value) {
    if (from_txn == to_txn || !in_graph(from_txn) || !in_graph(to_txn)) return;
    edges_.push_back({key, value, kind});
    edge_ends_.push_back({node_of_[from_txn], node_of_[to_txn]});
    out_[static_cast<std::size_t>(node_of_[from_txn])].push_back(
        {node_of_[to_txn], static_cast<int>(edges_.size() - 1)});
  }

  void add(Anomaly anomaly) { result_.anomalies.push_back(std::move(anomaly)); }

  // ---- cycles
  // An arc of the graph: `edge` indexes edges_, or, negative, is a real-time arc: -2 - its tail's node. Real-time
  // arcs are many (a transaction follows every one acknowledged before it began that nothing since followed: about
  // as many as run at once) and carry nothing but their ends, so they are kept as arcs alone.
  struct Arc {
    int to, edge;
  };
  // An edge as kept: its ends are in edge_ends_ (24 bytes a dependency, not 40).
  struct StoredEdge {
    std::int64_t key, value;
    Dependency kind;
  };
  static unsigned arc_bit(const Arc& a, const std::vector<StoredEdge>& edges) {
    return a.edge < 0 ? kRealtime : bit(edges[static_cast<std::size_t>(a.edge)].kind);
  }
  int tail_of(int e) const { return e < 0 ? -2 - e : edge_ends_[static_cast<std::size_t>(e)].first; }

  // Tarjan's strongly connected components over the edges whose kind is in `mask`, iteratively (a history holds a
  // million transactions). Returns the component of each node; components of one node get -1.
  std::vector<int> components(unsigned mask, int& count) const {
    const int n = static_cast<int>(out_.size());
    std::vector<int> index(out_.size(), -1), low(out_.size(), 0), component(out_.size(), -1);
    std::vector<char> on_stack(out_.size(), 0);
    std::vector<int> stack;
    std::vector<std::pair<int, std::size_t>> frames;  // node, next arc
    int next_index = 0;
    count = 0;
    for (int root = 0; root < n; ++root) {
      if (index[static_cast<std::size_t>(root)] >= 0) continue;
      frames.push_back({root, 0});
      while (!frames.empty()) {
        auto& [v, arc] = frames.back();
        const auto vi = static_cast<std::size_t>(v);
        if (arc == 0 && index[vi] < 0) {
          index[vi] = low[vi] = next_index++;
          stack.push_back(v);
          on_stack[vi] = 1;
        }
        bool descended = false;
        while (arc < out_[vi].size()) {
          const auto& a = out_[vi][arc++];
          if ((arc_bit(a, edges_) & mask) == 0) continue;
          const auto wi = static_cast<std::size_t>(a.to);
          if (index[wi] < 0) {
            frames.push_back({a.to, 0});
            descended = true;
            break;
          }
          if (on_stack[wi]) low[vi] = std::min(low[vi], index[wi]);
        }
        if (descended) continue;
        if (low[vi] == index[vi]) {  // v's component: the stack down to v (no allocation: most are alone)
          const auto bottom = static_cast<std::size_t>(std::find(stack.rbegin(), stack.rend(), v) - stack.rbegin());
          const std::size_t from = stack.size() - 1 - bottom;
          for (std::size_t m = from; m < stack.size(); ++m) {
            on_stack[static_cast<std::size_t>(stack[m])] = 0;
            if (stack.size() - from > 1) component[static_cast<std::size_t>(stack[m])] = count;
          }
          if (stack.size() - from > 1) ++count;
          stack.resize(from);
        }
        const int finished = v;
        frames.pop_back();
        if (!frames.empty()) {
          const auto parent = static_cast<std::size_t>(frames.back().first);
          low[parent] = std::min(low[parent], low[static_cast<std::size_t>(finished)]);
        }
      }
    }
    return component;
  }

  // A path from `from` to `to` inside component `c` over edges of `mask`, as edge indices (breadth first: the
  // shortest); empty when there is none.
  std::vector<int> path(int from, int to, unsigned mask, const std::vector<int>& component, int c) {
    if (seen_.size() != out_.size()) {
      seen_.assign(out_.size(), 0);
      via_.assign(out_.size(), -1);
    }
    ++generation_;
    std::vector<int> queue = {from};
    seen_[static_cast<std::size_t>(from)] = generation_;
    for (std::size_t head = 0; head < queue.size(); ++head) {
      const int v = queue[head];
      for (const auto& a : out_[static_cast<std::size_t>(v)]) {
        const auto wi = static_cast<std::size_t>(a.to);
        if ((arc_bit(a, edges_) & mask) == 0 || component[wi] != c || seen_[wi] == generation_)
          continue;
        seen_[wi] = generation_;
        via_[wi] = a.edge;
        if (a.to == to) {
          std::vector<int> edges;
          for (int at = to; at != from;) {
            const int e = via_[static_cast<std::size_t>(at)];
            edges.push_back(e);
            at = tail_of(e);
          }
          std::reverse(edges.begin(), edges.end());
          return edges;
        }
        queue.push_back(a.to);
      }
    }
    return {};
  }

  // The cycle made of edge `first` and a path back from its head to its tail, or empty.
  std::vector<int> cycle_through(int first, unsigned mask, const std::vector<int>& component, int c) {
    const int tail = tail_of(first);
    int head = first < 0 ? -1 : edge_ends_[static_cast<std::size_t>(first)].second;
    // A real-time arc is known by its tail: any of the tail's real-time arcs inside the component lies on a cycle.
    for (const auto& a : out_[static_cast<std::size_t>(tail)])
      if (head < 0 && a.edge == first && component[static_cast<std::size_t>(a.to)] == c) head = a.to;
    if (head < 0) return {};
    auto back = path(head, tail, mask, component, c);
    if (back.empty()) return {};
    back.insert(back.begin(), first);
    return back;
  }

  // The edges inside each component, by component.
  std::vector<std::vector<int>> internal_edges(const std::vector<int>& component, int count, unsigned mask) const {
    std::vector<std::vector<int>> inside(static_cast<std::size_t>(count));
    for (std::size_t v = 0; v < out_.size(); ++v)
      for (const auto& a : out_[v])
        if (component[v] >= 0 && component[v] == component[static_cast<std::size_t>(a.to)] &&
            (arc_bit(a, edges_) & mask) != 0)
          inside[static_cast<std::size_t>(component[v])].push_back(a.edge);
    return inside;
  }

  void base_cycles() {
    reported_.assign(out_.size(), 0);
    // Every cycle of a subgraph is one of the whole: a history without one (the usual) is done in one pass.
    int all_count = 0;
    auto all = components(kWw | kWr | kRw, all_count);
    if (all_count == 0) return;
    int count = 0;
    // G0: a cycle of appends alone.
    auto component = components(kWw, count);
    auto inside = internal_edges(component, count, kWw);
    for (int c = 0; c < count; ++c)
      report_cycle(cycle_through(inside[static_cast<std::size_t>(c)].front(), kWw, component, c), "");
    // G1c: appends and reads, through a read.
    component = components(kWw | kWr, count);
    inside = internal_edges(component, count, kWr);
    for (int c = 0; c < count; ++c)
      if (!inside[static_cast<std::size_t>(c)].empty())
        report_cycle(cycle_through(inside[static_cast<std::size_t>(c)].front(), kWw | kWr, component, c), "");
    // G-single (one anti-dependency) or G2-item (more).
    component = std::move(all);
    count = all_count;
    inside = internal_edges(component, count, kRw);
    for (int c = 0; c < count; ++c) {
      const auto& rws = inside[static_cast<std::size_t>(c)];
      if (rws.empty()) continue;
      std::vector<int> found;
      for (std::size_t i = 0; i < rws.size() && i < kSingleRwTries && found.empty(); ++i)
        found = cycle_through(rws[i], kWw | kWr, component, c);
      if (found.empty()) found = cycle_through(rws.front(), kWw | kWr | kRw, component, c);
      report_cycle(found, "");
    }
  }

  // Cycles that need session or real-time order: one per component that holds no cycle already told.
  void session_cycles() {
    int count = 0;
    const unsigned all = kWw | kWr | kRw | kSession | kRealtime;
    const auto component = components(all, count);
    const auto inside = internal_edges(component, count, kSession | kRealtime);
    std::vector<char> told(static_cast<std::size_t>(count), 0);
    for (std::size_t v = 0; v < out_.size(); ++v)
      if (component[v] >= 0 && reported_[v]) told[static_cast<std::size_t>(component[v])] = 1;
    for (int c = 0; c < count; ++c)
      if (!told[static_cast<std::size_t>(c)] && !inside[static_cast<std::size_t>(c)].empty())
        report_cycle(cycle_through(inside[static_cast<std::size_t>(c)].front(), all, component, c), "-process");
  }

  void report_cycle(const std::vector<int>& cycle, const std::string& suffix) {
    if (cycle.empty()) return;
    Anomaly anomaly;
    int rw = 0;
    bool wr = false;
    std::string story;
    for (std::size_t i = 0; i < cycle.size(); ++i) {
      const int e = cycle[i];
      // A real-time arc's head is the tail of the next edge around the cycle.
      const auto id = [this](int node) { return h_[txn_of_[static_cast<std::size_t>(node)]].id; };
      Edge edge{id(tail_of(e)), id(tail_of(cycle[(i + 1) % cycle.size()])), Dependency::realtime, 0, 0};
      if (e >= 0) {
        const auto& stored = edges_[static_cast<std::size_t>(e)];
        edge = {edge.from, id(edge_ends_[static_cast<std::size_t>(e)].second), stored.kind, stored.key, stored.value};
      }
      anomaly.cycle.push_back(edge);
      anomaly.transactions.push_back(edge.from);
      reported_[static_cast<std::size_t>(tail_of(e))] = 1;
      rw += edge.kind == Dependency::rw;
      wr = wr || edge.kind == Dependency::wr;
      // A long cycle is told by its first dependencies: the whole chain is in `cycle`.
      if (anomaly.cycle.size() <= kToldEdges) story += (story.empty() ? "" : "; ") + edge_text(edge);
    }
    if (anomaly.cycle.size() > kToldEdges) story += fmt::format("; … {} more dependencies", anomaly.cycle.size() - kToldEdges);
    // A cycle that needs real-time order is the -realtime variant (Elle's name), session order alone -process.
    const bool realtime = std::any_of(anomaly.cycle.begin(), anomaly.cycle.end(),
                                      [](const Edge& e) { return e.kind == Dependency::realtime; });
    anomaly.kind = (rw > 1 ? "G2-item" : rw == 1 ? "G-single" : wr ? "G1c" : "G0") + (realtime && !suffix.empty() ? "-realtime" : suffix);
    anomaly.explanation = story + fmt::format(": T{} must come before T{}, and so on around to T{} before T{} — a "
                                              "cycle no serial order of the transactions allows",
                                              anomaly.cycle.front().from, anomaly.cycle.front().to,
                                              anomaly.cycle.back().from, anomaly.cycle.back().to);
    add(std::move(anomaly));
  }

  static std::string edge_text(const Edge& e) {
    switch (e.kind) {
      case Dependency::ww:
        return fmt::format("T{} appended {} to key {}, and T{} appended the next element after it (ww)", e.from, e.value,
                           e.key, e.to);
      case Dependency::wr:
        return fmt::format("T{} read key {} ending in {}, which T{} appended (wr)", e.to, e.key, e.value, e.from);
      case Dependency::rw:
        return fmt::format("T{} read key {} without {}, which T{} appended next (rw)", e.from, e.key, e.value, e.to);
      case Dependency::session:
        return fmt::format("T{} came before T{} in their session", e.from, e.to);
      case Dependency::realtime:
        return fmt::format("T{} was acknowledged before T{} began (real time)", e.from, e.to);
    }
    return "";
  }

  std::string strongest_level() const {
    bool none = false, g1 = false, single = false, g2 = false;
    for (const auto& a : result_.anomalies) {
      // Session and real-time order are no isolation level's.
      if (a.kind.find("-process") != std::string::npos || a.kind.find("-realtime") != std::string::npos) continue;
      none = none || a.kind == "G0" || a.kind == "incompatible-order" || a.kind == "duplicate-elements";
      g1 = g1 || a.kind == "G1a" || a.kind == "G1b" || a.kind == "G1c";
      single = single || a.kind == "G-single";
      g2 = g2 || a.kind == "G2-item";
    }
    return none ? "none" : g1 ? "read-uncommitted" : single ? "read-committed" : g2 ? "repeatable-read" : "serializable";
  }

  struct Longest {
    const std::vector<std::int64_t>* list = nullptr;
    std::size_t txn = 0;
  };

  const std::vector<Transaction>& h_;
  AppendCheck result_;
  std::unordered_map<KeyValue, Writer, KeyValueHash> writers_;
  std::vector<Writer> dense_;  // by element, when the elements are numbered densely
  std::unordered_map<std::int64_t, Longest> longest_;
  std::unordered_set<std::int64_t> incompatible_;
  std::unordered_set<std::int64_t> has_aborted_;  // keys whose longest read holds an element rolled back
  std::vector<StoredEdge> edges_;
  std::vector<std::pair<int, int>> edge_ends_;  // each edge's graph nodes: from, to
  std::size_t realtime_arcs_ = 0;
  std::vector<int> node_of_;         // history index -> graph node, -1 for a rolled-back transaction
  std::vector<std::size_t> txn_of_;  // graph node -> history index
  std::vector<std::vector<Arc>> out_;
  std::vector<int> seen_, via_;
  int generation_ = 0;
  std::vector<char> reported_;
};

}  // namespace

const char* to_string(Dependency d) noexcept {
  switch (d) {
    case Dependency::ww: return "ww";
    case Dependency::wr: return "wr";
    case Dependency::rw: return "rw";
    case Dependency::session: return "session";
    case Dependency::realtime: return "realtime";
  }
  return "?";
}

AppendCheck check_history(const std::vector<Transaction>& history) { return Checker(history).run(); }

bool forbidden_at(const std::string& anomaly, const std::string& level) {
  if (anomaly.find("-process") != std::string::npos || anomaly.find("-realtime") != std::string::npos) return false;
  const auto& base = anomaly;
  if (level == "serializable") return true;
  if (level == "repeatable-read") return base != "G2-item";
  if (level == "read-committed") return base != "G2-item" && base != "G-single";
  return base == "incompatible-order" || base == "duplicate-elements";
}

}  // namespace pgchaos::append
