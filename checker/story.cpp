// What the cluster did and why each commit was lost, from the watcher's observations, the write probe and the
// workload's own record of which server (and timeline) served each attempt. Evidence rules are conservative:
// a commit counts as "after a promotion" only when its attempt began after the promotion was observed, and two
// nodes count as primaries at once only when each was seen primary again after the other's stretch began.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "invariants.h"

namespace pgchaos::checker {

using history::Attempt;
using history::Observation;
using history::Outcome;

const char* to_string(LossCause cause) {
  switch (cause) {
    case LossCause::unexplained: return "unexplained";
    case LossCause::split_brain: return "split-brain";
    case LossCause::isolated_primary: return "isolated-primary";
    case LossCause::async_lag: return "async-lag";
    case LossCause::cancelled_sync_wait: return "cancelled-sync-wait";
  }
  return "?";
}

const char* explain(LossCause cause) {
  switch (cause) {
    case LossCause::unexplained:
      return "No fault explains it: the commit was acknowledged and is gone without a leader change, a split brain or "
             "a cancelled wait that accounts for it. The strongest sign of a bug.";
    case LossCause::split_brain:
      return "Acknowledged by a node while another node had already been promoted (or on a timeline another node "
             "also wrote): two primaries, and the cluster kept the other's history.";
    case LossCause::isolated_primary:
      return "Acknowledged by a primary already cut off from its replicas, before another node was promoted: no "
             "replica could have it.";
    case LossCause::async_lag:
      return "Acknowledged by the primary before it lost leadership, but not yet replicated to the node promoted in its "
             "place: the loss asynchronous replication allows.";
    case LossCause::cancelled_sync_wait:
      return "Its COMMIT came back with PostgreSQL's warning that the wait for the synchronous standby was cancelled: "
             "committed locally only, the documented exception to synchronous_mode.";
  }
  return "?";
}

std::int64_t CheckResult::count_lost(LossCause cause) const {
  for (const auto& [c, n] : lost_by_cause)
    if (c == cause) return n;
  return 0;
}

namespace {

constexpr std::size_t kOpsKept = 20;
constexpr std::int64_t kOverlapMargin = 50'000'000;  // an observation's moment is its query's send time
constexpr std::int64_t kForkSlackBytes = 1 << 20;  // WAL of other transactions between a ledger row and its COMMIT
// A primary is cut off when no replica received any WAL between an acknowledgement and the promotion that followed
// it, each having received nothing for long enough to tell before that promotion: the watcher's heartbeat is 1 s,
// so a receiving replica shows progress at least that often under load.
constexpr std::int64_t kLongEnoughToTell = 1'500'000'000;
// The workers' longest gap is told beside the probe's figure when it is this much longer (their own reconnects
// make it a little longer after any failure).
constexpr std::int64_t kWorkersGapWorthTelling = 1'000'000'000;

std::string seconds(std::int64_t ns) { return fmt::format("{:.1f} s", static_cast<double>(ns) / 1e9); }

// A stretch of consecutive observations of one node as primary.
struct PrimaryStretch {
  std::string node;
  int timeline = 0;
  std::int64_t first_ns = 0, last_ns = 0;
};

// "Became primary": a watched promotion, or the first attempt a (node, timeline) term served.
struct TermStart {
  std::string node;
  int timeline = 0;
  std::int64_t at_ns = 0;
};

class Story {
 public:
  Story(const history::RunHistory& h, const CheckOptions& options, CheckResult& r) : h_(h), options_(options), r_(r) {
    observations_ = h.observations;
    std::stable_sort(observations_.begin(), observations_.end(),
                     [](const Observation& a, const Observation& b) { return a.at_ns < b.at_ns; });
    for (const auto& o : observations_) {
      if (!o.address.empty()) name_of_address_[o.address] = o.node;
      by_node_[o.node].push_back(&o);
    }
    r_.watched = !observations_.empty();
  }

  void tell() {
    draw_lanes();
    find_promotions();
    find_term_starts();
    find_split_brains();
    explain_frozen_patroni();
    classify_losses();
    tell_faults();
  }

 private:
  // A server that could not tell its address ("local:PORT": reached through a Unix socket, by a pooler on its node,
  // and listening on no address of its own) may be any node: its writes prove no second history.
  static bool unidentified(const std::string& address) { return address.rfind("local:", 0) == 0; }
  std::string name_of(const std::string& address) const {
    const auto it = name_of_address_.find(address);
    return it == name_of_address_.end() ? address : it->second;
  }
  const history::Term& term_of(const Attempt& a) const { return h_.terms[std::min<std::size_t>(a.term, h_.terms.size() - 1)]; }

  void draw_lanes() {
    for (const auto& [node, seen] : by_node_) {
      NodeLane lane{node, {}};
      for (const Observation* o : seen) {
        const std::string state = !o->pg_role.empty() ? o->pg_role : !o->role.empty() ? "down" : "unreachable";
        // A replica's own timeline needs privileges to read (pg_stat_wal_receiver): Patroni's stands in.
        const int timeline = o->timeline != 0 ? o->timeline : o->patroni_timeline;
        if (!lane.segments.empty()) lane.segments.back().end_ns = o->at_ns;
        if (lane.segments.empty() || lane.segments.back().state != state || lane.segments.back().timeline != timeline)
          lane.segments.push_back({state, timeline, o->at_ns, o->at_ns});
      }
      if (!lane.segments.empty()) lane.segments.back().end_ns = std::max(lane.segments.back().end_ns, h_.end_ns);
      r_.lanes.push_back(std::move(lane));
    }
  }

  // Promotions: a node seen as a replica, then as a primary; or a primary seen again on a new timeline. Also the
  // stretches of each node as primary, for the two-primaries rule.
  void find_promotions() {
    std::map<std::string, const Observation*> known;  // last observation with an answer from SQL
    std::map<std::string, PrimaryStretch> open;
    for (const auto& o : observations_) {
      if (o.pg_role.empty()) {  // unreachable: a stretch as primary ends without a verdict
        if (auto it = open.find(o.node); it != open.end()) {
          stretches_.push_back(it->second);
          open.erase(it);
        }
        continue;
      }
      const Observation* before = known.count(o.node) ? known[o.node] : nullptr;
      if (o.pg_role == "primary") {
        const bool promoted = before != nullptr && (before->pg_role == "replica" ||
                                                    (before->timeline != 0 && o.timeline != before->timeline));
        if (promoted) r_.promotions.push_back({o.node, o.at_ns, o.timeline});
        auto it = open.find(o.node);
        if (it != open.end() && (promoted || it->second.timeline != o.timeline)) {
          stretches_.push_back(it->second);
          open.erase(it);
          it = open.end();
        }
        if (it == open.end()) open[o.node] = {o.node, o.timeline, o.at_ns, o.at_ns};
        else it->second.last_ns = o.at_ns;
      } else if (auto it = open.find(o.node); it != open.end()) {
        stretches_.push_back(it->second);
        open.erase(it);
      }
      known[o.node] = &o;
    }
    for (auto& [node, stretch] : open) stretches_.push_back(stretch);
  }

  void find_term_starts() {
    std::vector<std::int64_t> first(h_.terms.size(), -1);
    for (const auto& a : h_.attempts)
      if (a.term != 0 && (first[a.term] < 0 || a.invoke_ns < first[a.term])) first[a.term] = a.invoke_ns;
    for (std::size_t t = 1; t < h_.terms.size(); ++t)
      if (first[t] >= 0 && !unidentified(h_.terms[t].node))
        starts_.push_back({name_of(h_.terms[t].node), h_.terms[t].timeline, first[t]});
    for (const auto& p : r_.promotions) starts_.push_back({p.node, p.timeline, p.at_ns});
    std::sort(starts_.begin(), starts_.end(), [](const TermStart& a, const TermStart& b) { return a.at_ns < b.at_ns; });
  }

  // The latest time `node` became primary at or before `t` (-1: never seen to).
  std::int64_t own_start(const std::string& node, std::int64_t t) const {
    std::int64_t latest = -1;
    for (const auto& s : starts_)
      if (s.node == node && s.at_ns <= t) latest = s.at_ns;
    return latest;
  }
  // Another node that became primary, on a timeline at least `timeline`, after `since` and before `t`.
  const TermStart* other_start(const std::string& node, int timeline, std::int64_t since, std::int64_t t) const {
    const TermStart* found = nullptr;
    for (const auto& s : starts_)
      if (s.node != node && s.at_ns > since && s.at_ns < t && s.timeline >= timeline) found = &s;
    return found;
  }

  // A split brain whose stale primary had its Patroni frozen by a fault: its cause, and what protects a cluster from
  // it (Patroni's watchdog) with whether this one had it.
  void explain_frozen_patroni() {
    std::set<std::string> explained;  // the whole sentence once per node; later split brains refer to it
    for (auto& s : r_.split_brains)
      for (const auto& f : h_.faults) {
        if (f.fault != "freeze-patroni" || f.exit_status != 0 || f.outcome_unknown) continue;
        const std::int64_t end = f.end_ns >= 0 ? f.end_ns : h_.end_ns;
        if (f.start_ns > s.end_ns || end + kOverlapMargin < s.start_ns) continue;
        const auto frozen = std::find_if(s.nodes.begin(), s.nodes.end(), [&f](const std::string& node) {
          return ("," + f.target + ",").find("," + node + ",") != std::string::npos;
        });
        if (frozen == s.nodes.end()) continue;
        if (!explained.insert(*frozen).second) {
          s.text += fmt::format("; {}'s Patroni was frozen by fault {} (as above)", *frozen, f.id);
          break;
        }
        const auto watchdog = options_.watchdog.find(*frozen);
        s.text += fmt::format(
            "; {0}'s Patroni was frozen by fault {1} (freeze-patroni) while its PostgreSQL ran on, so nothing demoted it "
            "once its leader key expired. Patroni's watchdog protects against this (watchdog mode required, with a "
            "watchdog device: the node is reset when Patroni stops renewing it, before its key expires); {0} had {2}",
            *frozen, f.id, watchdog == options_.watchdog.end() ? "no recorded watchdog setting" : watchdog->second);
        break;
      }
  }

  void find_split_brains() {
    // 1. Two nodes seen primary at once (each seen primary again after the other's stretch began).
    for (std::size_t i = 0; i < stretches_.size(); ++i)
      for (std::size_t j = i + 1; j < stretches_.size(); ++j) {
        const auto& a = stretches_[i];
        const auto& b = stretches_[j];
        // Each must have been seen primary again after the other's stretch began, by more than a query's time.
        if (a.node == b.node || b.first_ns + kOverlapMargin >= a.last_ns || a.first_ns + kOverlapMargin >= b.last_ns) continue;
        SplitBrain s;
        s.kind = "two_primaries";
        s.nodes = {a.node, b.node};
        s.start_ns = std::max(a.first_ns, b.first_ns);
        s.end_ns = std::min(a.last_ns, b.last_ns);
        s.timeline = std::max(a.timeline, b.timeline);
        s.text = fmt::format("split brain: {} (timeline {}) and {} (timeline {}) were both primaries from {} to {}", a.node,
                             a.timeline, b.node, b.timeline, seconds(s.start_ns), seconds(s.end_ns));
        r_.split_brains.push_back(std::move(s));
      }
    // 2. One timeline number, two histories: two nodes served writes (or were seen primary) on the same timeline.
    std::map<int, std::set<std::string>> writers;
    for (const auto& s : starts_)
      if (s.timeline > 0) writers[s.timeline].insert(s.node);
    for (const auto& st : stretches_)
      if (st.timeline > 0) writers[st.timeline].insert(st.node);
    for (const auto& [timeline, nodes] : writers) {
      if (nodes.size() < 2) continue;
      SplitBrain s;
      s.kind = "one_timeline_two_histories";
      s.nodes.assign(nodes.begin(), nodes.end());
      s.timeline = timeline;
      s.start_ns = INT64_MAX;
      for (const auto& st : starts_)
        if (st.timeline == timeline) s.start_ns = std::min(s.start_ns, st.at_ns);
      if (s.start_ns == INT64_MAX) s.start_ns = 0;
      s.end_ns = s.start_ns;  // until the last moment either node was seen primary on it, or acknowledged on it
      for (const auto& st : stretches_)
        if (st.timeline == timeline) s.end_ns = std::max(s.end_ns, st.last_ns);
      for (const auto& a : h_.attempts)
        if (a.outcome == Outcome::ok && a.term != 0 && term_of(a).timeline == timeline)
          s.end_ns = std::max(s.end_ns, a.completion_ns());
      s.text = fmt::format("split brain: {} each wrote its own history as timeline {}", fmt::join(s.nodes, " and "), timeline);
      r_.split_brains.push_back(std::move(s));
    }
    // 3. Acknowledgements from a node whose attempt began after another node's promotion.
    std::map<std::pair<std::string, std::string>, SplitBrain> late;
    for (const auto& a : h_.attempts) {
      if (a.outcome != Outcome::ok || a.term == 0 || unidentified(term_of(a).node)) continue;
      const auto& term = term_of(a);
      const std::string node = name_of(term.node);
      const TermStart* other = other_start(node, term.timeline, own_start(node, a.invoke_ns), a.invoke_ns);
      if (other == nullptr) continue;
      auto& s = late[{node, other->node}];
      if (s.acknowledged == 0) {
        s.kind = "acknowledged_after_promotion";
        s.nodes = {node, other->node};
        s.start_ns = other->at_ns;
        s.timeline = term.timeline;
      }
      s.end_ns = std::max(s.end_ns, a.completion_ns());
      if (s.ops.size() < kOpsKept) s.ops.push_back(a.op);
      ++s.acknowledged;
      late_acks_.insert(a.op);
    }
    for (auto& [nodes, s] : late) {
      s.text = fmt::format("split brain: {} acknowledged {} commits on timeline {} after {} had been promoted ({} to {})",
                           s.nodes[0], s.acknowledged, s.timeline, s.nodes[1], seconds(s.start_ns), seconds(s.end_ns));
      r_.split_brains.push_back(std::move(s));
    }
    // The acknowledgements inside each window, for the other kinds.
    for (auto& s : r_.split_brains) {
      if (s.kind == "acknowledged_after_promotion") continue;
      for (const auto& a : h_.attempts) {
        if (a.outcome != Outcome::ok || a.term == 0) continue;
        const auto& term = term_of(a);
        const bool in_window = s.kind == "one_timeline_two_histories"
                                   ? term.timeline == s.timeline
                                   : a.completion_ns() >= s.start_ns && a.invoke_ns <= s.end_ns;
        if (!in_window || std::find(s.nodes.begin(), s.nodes.end(), name_of(term.node)) == s.nodes.end()) continue;
        if (s.ops.size() < kOpsKept) s.ops.push_back(a.op);
        ++s.acknowledged;
      }
    }
  }

  // The last observation of `node` at or before t.
  const Observation* observed(const std::string& node, std::int64_t t) const {
    const auto it = by_node_.find(node);
    if (it == by_node_.end()) return nullptr;
    const auto& seen = it->second;
    const auto after = std::upper_bound(seen.begin(), seen.end(), t, [](std::int64_t at, const Observation* o) { return at < o->at_ns; });
    return after == seen.begin() ? nullptr : *(after - 1);
  }

  // Whether no other watched node received any WAL after t until `until` (the primary already cut off from them).
  bool cut_off(const std::string& primary, std::int64_t t, std::int64_t until) {
    if (progress_.empty())
      for (const auto& [node, seen] : by_node_) {
        auto& times = progress_[node];
        std::int64_t received = -1;
        for (const Observation* o : seen) {
          const std::int64_t position = std::max(o->wal_received, o->wal_replayed);
          if (o->pg_role == "replica" && position > received && received >= 0) times.push_back(o->at_ns);
          if (!o->pg_role.empty()) received = std::max(received, position);
        }
      }
    bool others = false;
    for (const auto& [node, times] : progress_) {
      if (node == primary) continue;
      others = true;
      const auto after = std::upper_bound(times.begin(), times.end(), t);
      if (after != times.end() && *after <= until) return false;  // it was still receiving after the acknowledgement
      if (after != times.begin() && *(after - 1) > until - kLongEnoughToTell) return false;  // too recent to tell
    }
    return others;
  }

  // The first node other than `node` to become primary after t on a later timeline than `timeline`: a promotion
  // the watcher saw, or else the first attempt the workload ran on such a term (when the watcher missed it).
  const TermStart* next_promotion_of_another(const std::string& node, int timeline, std::int64_t t) const {
    for (const auto& s : starts_)  // in time order
      if (s.at_ns > t && s.node != node && (timeline == 0 || s.timeline > timeline)) return &s;
    return nullptr;
  }

  // How far the promoted node had received WAL when last seen as a replica before its promotion.
  std::int64_t fork_lsn(const TermStart& p) const {
    std::int64_t lsn = 0;
    for (const auto& o : observations_) {
      if (o.at_ns >= p.at_ns) break;
      if (o.node == p.node && o.pg_role == "replica") lsn = std::max(o.wal_received, o.wal_replayed);
    }
    return lsn;
  }

  void classify_losses() {
    if (r_.lost.empty()) return;
    std::map<std::pair<std::int64_t, int>, const std::string*> warnings;
    for (const auto& w : h_.warnings) warnings[{w.op, w.attempt}] = &w.text;
    std::set<std::string> timelines_shared;  // "node/timeline" written by two nodes
    for (const auto& s : r_.split_brains)
      if (s.kind == "one_timeline_two_histories")
        for (const auto& n : s.nodes) timelines_shared.insert(n + "/" + std::to_string(s.timeline));
    std::map<const TermStart*, std::int64_t> forks;

    for (const auto& a : h_.attempts) {
      if (a.outcome != Outcome::ok || !std::binary_search(r_.lost.begin(), r_.lost.end(), a.op)) continue;
      LostOp lost;
      lost.op = a.op;
      lost.attempt = a.attempt;
      const auto& term = term_of(a);
      lost.node = name_of(term.node);
      lost.timeline = term.timeline;
      lost.acknowledged_ns = a.completion_ns();
      lost.commit_lsn = a.commit_lsn;
      const auto warning = warnings.find({a.op, a.attempt});
      const TermStart* next = next_promotion_of_another(lost.node, lost.timeline, a.invoke_ns);
      if (next != nullptr) lost.promotion_ns = next->at_ns;
      if (warning != warnings.end() && warning->second->find("synchronous") != std::string::npos) {
        lost.cause = LossCause::cancelled_sync_wait;
        lost.detail = *warning->second;
      } else if (late_acks_.count(a.op) != 0) {
        lost.cause = LossCause::split_brain;
        lost.detail = "acknowledged after another node's promotion";
      } else if (timelines_shared.count(lost.node + "/" + std::to_string(lost.timeline)) != 0) {
        lost.cause = LossCause::split_brain;
        lost.detail = fmt::format("timeline {} was written by two nodes", lost.timeline);
      } else if (next != nullptr) {
        const Observation* seen = observed(lost.node, lost.acknowledged_ns);
        if (forks.count(next) == 0) forks[next] = fork_lsn(*next);
        const std::int64_t fork = forks[next];
        if (seen != nullptr && seen->pg_role == "primary" && cut_off(lost.node, lost.acknowledged_ns, next->at_ns)) {
          lost.cause = LossCause::isolated_primary;
          lost.detail = fmt::format("no replica of {} received WAL after it; {} promoted {} later", lost.node, next->node,
                                    seconds(next->at_ns - lost.acknowledged_ns));
        } else if (a.commit_lsn > 0 && fork > 0 && a.commit_lsn + kForkSlackBytes < fork) {
          lost.cause = LossCause::unexplained;
          lost.detail = fmt::format("{} had received WAL up to {} before its promotion, well past this commit's {}",
                                    next->node, fork, a.commit_lsn);
        } else {
          lost.cause = LossCause::async_lag;
          lost.detail = fmt::format("{} promoted {} later{}", next->node, seconds(next->at_ns - lost.acknowledged_ns),
                                    fork > 0 && a.commit_lsn > 0 ? fmt::format(", {} bytes of WAL short", a.commit_lsn - fork) : "");
        }
      } else {
        lost.cause = LossCause::unexplained;
        lost.detail = r_.watched ? "no promotion of another node followed it" : "no watcher: the cluster's story is unknown";
      }
      r_.lost_ops.push_back(std::move(lost));
    }
    std::sort(r_.lost_ops.begin(), r_.lost_ops.end(), [](const LostOp& x, const LostOp& y) { return x.op < y.op; });
    for (const auto cause : kLossCauses) {
      const auto n = std::count_if(r_.lost_ops.begin(), r_.lost_ops.end(), [&](const LostOp& l) { return l.cause == cause; });
      r_.lost_by_cause.emplace_back(cause, n);
    }
  }

  // The primaries by the last look at each node at or before t.
  std::string primaries_at(std::int64_t t) const {
    std::map<std::string, const Observation*> last;
    for (const auto& o : observations_) {
      if (o.at_ns > t) break;
      last[o.node] = &o;
    }
    std::vector<std::string> names;
    for (const auto& [node, o] : last)
      if (o->pg_role == "primary") names.push_back(node);
    return fmt::format("{}", fmt::join(names, "+"));
  }

  struct Outage {
    std::int64_t stop_ns = 0, resume_ns = -1;
  };
  std::vector<Outage> outages() const {
    auto probes = h_.probes;
    std::stable_sort(probes.begin(), probes.end(), [](const auto& a, const auto& b) { return a.at_ns < b.at_ns; });
    std::vector<Outage> found;
    for (const auto& p : probes) {
      if (!p.writable && (found.empty() || found.back().resume_ns >= 0)) found.push_back({p.at_ns, -1});
      else if (p.writable && !found.empty() && found.back().resume_ns < 0) found.back().resume_ns = p.at_ns;
    }
    return found;
  }

  void tell_faults() {
    const auto probe_outages = outages();
    const bool probed = !h_.probes.empty();
    for (std::size_t i = 0; i < r_.faults.size(); ++i) {
      auto& f = r_.faults[i];
      const std::int64_t start = f.fault.start_ns;
      const std::int64_t end = f.fault.end_ns >= 0 ? f.fault.end_ns : h_.end_ns;
      f.refused = f.fault.exit_status > 0;
      if (f.refused) {
        const auto bar = f.fault.message.find(" | ");
        f.refusal = bar == std::string::npos ? f.fault.message : f.fault.message.substr(bar + 3);
        while (!f.refusal.empty() && std::isspace(static_cast<unsigned char>(f.refusal.back()))) f.refusal.pop_back();
      }
      f.limit_ns = (f.fault.limit_ms > 0 ? f.fault.limit_ms : options_.max_unavailable_ms) * 1'000'000;
      f.watched = r_.watched;
      if (r_.watched) {
        // What the cluster did runs until the next fault starts (or the run ends): a failover can complete after
        // a window closed (the final heal closes windows at once, then waits for the cluster).
        std::int64_t until = h_.end_ns;
        for (const auto& other : r_.faults)
          if (other.fault.start_ns > start && other.fault.start_ns < until) until = other.fault.start_ns;
        f.leader_before = primaries_at(start);
        f.leader_after = primaries_at(until);
        for (const auto& p : r_.promotions)
          if (p.at_ns >= start && p.at_ns <= until) f.promotions.push_back(p);
        if (!f.promotions.empty()) f.time_to_leader_ns = f.promotions.front().at_ns - start;
      }
      if (probed) {
        f.probe_unavailable_ns = 0;
        for (const auto& o : probe_outages) {
          if (o.stop_ns > end || (o.resume_ns >= 0 && o.resume_ns < start)) continue;
          const std::int64_t length = o.resume_ns < 0 ? FaultImpact::kWritesNeverResumed : o.resume_ns - o.stop_ns;
          if (length == FaultImpact::kWritesNeverResumed || (!f.writes_never_resumed() && length > f.probe_unavailable_ns)) {
            f.probe_unavailable_ns = length;
            f.writes_resumed_ns = o.resume_ns < 0 ? -1 : o.resume_ns - start;
          }
        }
      }
      f.story = story_of(f);
    }
    // Each lost op belongs to a fault: the one during or after which the leadership change that lost it came
    // (the promotion that followed it), or, without one, the one whose window or aftermath its acknowledgement
    // fell in; an op acknowledged before any fault belongs to the first.
    if (r_.faults.empty()) return;
    for (auto& f : r_.faults) f.lost.clear();
    const bool sync = common::names_sync_standby(options_.commit.mode) &&
                      options_.commit.promises_no_loss();
    for (auto& lost : r_.lost_ops) {
      const std::int64_t moment = lost.cause != LossCause::split_brain && lost.promotion_ns >= 0 ? lost.promotion_ns
                                                                                                 : lost.acknowledged_ns;
      FaultImpact* owner = nullptr;
      for (auto& f : r_.faults)
        if (f.fault.start_ns <= moment && (owner == nullptr || f.fault.start_ns >= owner->fault.start_ns)) owner = &f;
      if (owner == nullptr)
        owner = &*std::min_element(r_.faults.begin(), r_.faults.end(), [](const FaultImpact& x, const FaultImpact& y) {
          return x.fault.start_ns < y.fault.start_ns;
        });
      owner->lost.push_back(lost.op);
      if (sync && lost.cause == LossCause::cancelled_sync_wait) ++owner->lost_allowed;
      lost.fault = owner->fault.id;
    }
  }

  // What Patroni did as the forensics read it in the nodes' logs (the window's end message): a demote for want of the
  // DCS, failsafe mode, PostgreSQL out of WAL space, how the nodes that changed timeline came back.
  // `about_dcs`: what caused the promotions (told before them: the DCS, a full WAL disk); else how nodes rejoined.
  static std::string patroni_notes(const std::string& message, bool about_dcs) {
    std::string told;
    std::size_t start = 0;
    while (start < message.size()) {
      const auto end = std::min(message.find("; ", start), message.size());
      const auto part = message.substr(start, end - start);
      // What made Patroni act: its DCS gone, or PostgreSQL's WAL disk full (scenarios' wal_disk_evidence).
      const bool dcs = part.find(" demoted itself") != std::string::npos || part.find(" in failsafe mode") != std::string::npos ||
                       part.find("'s PostgreSQL ") != std::string::npos;
      const bool rejoin = part.find(" rejoined by ") != std::string::npos || part.find(" did not rejoin ") != std::string::npos;
      if (about_dcs ? dcs : rejoin) told += "; " + part;
      start = end + 2;
    }
    return told;
  }

  std::string story_of(const FaultImpact& f) const {
    if (f.fault.outcome_unknown)
      return "outcome unknown: the SSH session ended before the command's exit status (healed over a new session)";
    if (f.fault.exit_status < 0) return "not started: " + f.fault.message;
    if (f.refused) return "refused: " + f.refusal;
    std::string text;
    if (f.watched) {
      if (f.promotions.empty()) {
        text = f.leader_before.empty() ? "no leader change (no primary seen)"
                                        : fmt::format("no leader change: {} led before and after", f.leader_before);
        if (f.leader_before != f.leader_after && !f.leader_after.empty())
          text = fmt::format("no promotion seen; leader {} before, {} after", f.leader_before.empty() ? "none" : f.leader_before,
                             f.leader_after);
      } else {
        text = fmt::format("{} led", f.leader_before.empty() ? "no primary" : f.leader_before) +
               patroni_notes(f.fault.message, true);
        bool another_promoted = false;
        for (const auto& p : f.promotions) {
          // The old leader back on a new timeline with no one promoted before it: no failover happened (a replica
          // deferred, or still saw the old leader's key), which the writes' long gap alone does not say.
          if (p.node == f.leader_before && !another_promoted)
            text += fmt::format("; no other node was promoted: {} took the lead back after {} (timeline {})", p.node,
                                seconds(p.at_ns - f.fault.start_ns), p.timeline);
          else
            text += fmt::format("; {} promoted after {} (timeline {})", p.node, seconds(p.at_ns - f.fault.start_ns), p.timeline);
          another_promoted = another_promoted || p.node != f.leader_before;
        }
        // The node promoted did not keep the lead: the old one (which never stepped down) took it back, and what
        // the promoted node acknowledged as primary is not in the history that went on.
        const auto& promoted = f.promotions.back().node;
        if (another_promoted && !f.leader_after.empty() && f.leader_after != promoted &&
            f.leader_after.find('+') == std::string::npos) {
          std::int64_t lost_lead_ns = -1;
          for (const auto& st : stretches_)
            if (st.node == promoted && st.first_ns >= f.promotions.back().at_ns - kOverlapMargin)
              lost_lead_ns = std::max(lost_lead_ns, st.last_ns);
          text += fmt::format("; {} led again at the end{}: {} did not keep the lead", f.leader_after,
                              lost_lead_ns < 0 ? "" : fmt::format(" ({} last seen primary {} after the start)", promoted,
                                                                  seconds(lost_lead_ns - f.fault.start_ns)),
                              promoted);
        }
      }
    }
    if (f.promotions.empty()) text += patroni_notes(f.fault.message, true);
    text += patroni_notes(f.fault.message, false);
    // The probe writes through whichever configured path works first (it tries each at once); the workers keep to
    // theirs for a few failed connects (the seed's rotation). A fault on one path only, a pooler's, stops the
    // workers and not the probe: the probe's figure is the cluster's, the workers' gap the application's.
    const bool workers_waited_longer =
        f.probed() && !f.writes_never_resumed() &&
        f.unavailable_ns - std::max<std::int64_t>(f.probe_unavailable_ns, 0) >= kWorkersGapWorthTelling;
    const auto next = [&text] { return text.empty() ? "" : "; "; };
    if (f.writes_never_resumed()) text += fmt::format("{}writes did not resume before the run ended", next());
    else if (f.writes_resumed_ns >= 0)
      text += fmt::format("{}writes back after {} (probe: {} without writes)", next(), seconds(f.writes_resumed_ns),
                          seconds(f.probe_unavailable_ns));
    else if (f.probe_unavailable_ns == 0)
      text += fmt::format("{}{}writes never stopped", next(), workers_waited_longer ? "the probe's " : "");
    if (workers_waited_longer) text += fmt::format("; the workers went {} without a commit", seconds(f.unavailable_ns));
    return text;
  }

  const history::RunHistory& h_;
  const CheckOptions& options_;
  CheckResult& r_;
  std::vector<Observation> observations_;
  std::map<std::string, std::string> name_of_address_;
  std::map<std::string, std::vector<const Observation*>> by_node_;  // each node's observations, in time order
  std::vector<PrimaryStretch> stretches_;
  std::vector<TermStart> starts_;
  std::set<std::int64_t> late_acks_;
  std::map<std::string, std::vector<std::int64_t>> progress_;  // when each node's received WAL was seen to grow
};

}  // namespace

void tell_story(const history::RunHistory& history, const history::LedgerIndex& primary, const CheckOptions& options,
                CheckResult& result) {
  Story(history, options, result).tell();
  // Resolutions the ledger contradicts: the workload read "not committed" (on a node that was then primary), yet
  // the final primary holds that attempt. The op's later acknowledged attempt is then the one that is gone.
  std::set<std::pair<std::int64_t, int>> resolved_not_committed;  // (op, attempt)
  std::set<std::int64_t> ops;
  for (const auto& resolution : history.resolutions)
    if (!resolution.committed) {
      resolved_not_committed.insert({resolution.op, resolution.attempt});
      ops.insert(resolution.op);
    }
  if (ops.empty()) return;
  std::map<std::int64_t, int> acknowledged;
  for (const auto& a : history.attempts)
    if (a.outcome == Outcome::ok && ops.count(a.op) != 0) acknowledged[a.op] = a.attempt;
  for (const std::int64_t op : ops) {
    const int attempt = primary.attempt_of(op);
    if (attempt == 0 || resolved_not_committed.count({op, attempt}) == 0) continue;
    const auto ack = acknowledged.find(op);
    result.contradicted.push_back({op, attempt, ack == acknowledged.end() ? 0 : ack->second});
  }
}

}  // namespace pgchaos::checker
