// Patroni's strict promise: no commit acknowledged while the primary had no synchronous standby.
#include <algorithm>
#include <map>

#include "invariants.h"

namespace pgchaos::checker {

void check_sync_standby(const history::RunHistory& history, CheckResult& r) {
  r.acknowledged_without_sync_standby.clear();
  // A history from before the watcher recorded synchronous standbys (or a run where none ever was one) cannot
  // tell; it is left unjudged rather than read as "never a standby".
  r.sync_standby_checked = std::any_of(history.observations.begin(), history.observations.end(),
                                       [](const history::Observation& o) { return !o.sync_followers.empty(); });
  if (!r.sync_standby_checked) return;
  // Stretches in which a node was seen, observation after observation, as a primary with no synchronous standby.
  // The watcher records a node's state when it changes (and every heartbeat), so between two such observations
  // the state held; a stretch ends at the last observation that still showed it.
  struct Stretch {
    std::int64_t from_ns, to_ns;
  };
  std::map<std::string, std::vector<Stretch>> stretches_by_address;
  std::map<std::string, const history::Observation*> open_since;
  for (const auto& o : history.observations) {
    if (o.address.empty()) continue;
    const bool alone = o.pg_role == "primary" && o.role == "primary" && o.sync_followers.empty() && o.error.empty();
    auto& open = open_since[o.address];
    if (alone) {
      if (open == nullptr) open = &o;
      auto& list = stretches_by_address[o.address];
      if (!list.empty() && list.back().from_ns == open->at_ns) list.back().to_ns = o.at_ns;
      else list.push_back({open->at_ns, o.at_ns});
    } else {
      open = nullptr;
    }
  }
  if (stretches_by_address.empty()) return;
  for (const auto& a : history.attempts) {
    if (a.outcome != history::Outcome::ok) continue;
    const auto it = stretches_by_address.find(history.terms[a.term].node);
    if (it == stretches_by_address.end()) continue;
    const std::int64_t done_ns = a.completion_ns();
    for (const auto& s : it->second)
      if (s.from_ns <= a.invoke_ns && done_ns <= s.to_ns) {
        r.acknowledged_without_sync_standby.push_back(a.op);
        break;
      }
  }
  std::sort(r.acknowledged_without_sync_standby.begin(), r.acknowledged_without_sync_standby.end());
}

}  // namespace pgchaos::checker
