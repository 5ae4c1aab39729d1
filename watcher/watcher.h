// What the cluster does while a run goes on, seen from outside the workload: a watcher that observes every node
// (Patroni's REST API and the node's own SQL) and a write probe that writes with no back-off. Both record into
// the run's history (`observation` and `probe` events), so `check` can tell the cluster's story offline.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "history/events.h"
#include "history/run_history.h"
#include "rest/rest.h"

namespace pgchaos::watcher {

struct WatchedNode {
  std::string name;
  std::string conninfo;  ///< the node's own PostgreSQL (backend::conninfo_for the workload's first DSN)
  std::string rest_url;  ///< http://host:8008 or https://...; empty: SQL only
  rest::Settings rest;   ///< how to reach it
};

struct WatcherOptions {
  std::chrono::milliseconds interval{100};   ///< between two looks at a node
  std::chrono::milliseconds heartbeat{1000}; ///< an observation even without a change, at least this often
};

/// One thread per node, each looking every `interval`: GET /patroni (role, state, timeline) and one SQL query
/// (pg_is_in_recovery, current timeline, WAL positions, streaming walsenders, the wal receiver's sender). A
/// change, an unreachable node, or the heartbeat is an `observation` event. Stops in its destructor.
class Watcher {
 public:
  Watcher(std::vector<WatchedNode> nodes, history::HistoryWriter& history, WatcherOptions options = {});
  ~Watcher();
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  /// Stops every thread (a node stuck in a TCP timeout is waited for, a few seconds at most). Idempotent.
  void stop();
  /// The latest observation of each node, in configuration order.
  std::vector<history::Observation> latest() const;
  /// What is wrong with the cluster by PostgreSQL's own word, with `leader` as the primary: it must be a primary
  /// and every other node a replica streaming from it on its timeline. Empty: nothing wrong (or nothing watched).
  std::vector<std::string> problems(const std::string& leader) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// The write probe: one row of pgchaos.probe updated every `interval` through the workload's DSNs, so its gaps are
/// the cluster's write unavailability to within `interval` (its resolution). Once a write fails, or has waited
/// 250 ms, a new connection is started every `interval` (the DSN last written through first, then the others in
/// turn) beside those still connecting, and the first write to commit on any of them ends the outage: no connect
/// timeout or hung write of the probe's own stretches it. Records a `probe` event when writes stop (stamped when the
/// failing write or connect was sent, or when the idle connection broke) and when they resume (when the first
/// write committed).
class WriteProbe {
 public:
  WriteProbe(std::vector<std::string> dsns, history::HistoryWriter& history,
             std::chrono::milliseconds interval = std::chrono::milliseconds(20));
  ~WriteProbe();
  WriteProbe(const WriteProbe&) = delete;
  WriteProbe& operator=(const WriteProbe&) = delete;
  void stop();  ///< cancels a write in flight; idempotent

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// The application_name of the watcher's and the probe's sessions: faults aimed at the workload's sessions
/// (terminate-backends, cancel-sync-waits) leave them alone.
inline constexpr const char* kWatcherApplicationName = "pgchaos-watcher";
inline constexpr const char* kProbeApplicationName = "pgchaos-probe";

}  // namespace pgchaos::watcher
