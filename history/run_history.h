// The compact view of a run's history that the checker works on: 32-byte attempts, for millions of operations,
// beside the rare events (faults, the watcher's observations, the probe, resolutions) kept in full.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "history/events.h"

namespace pgchaos::history {

enum class Outcome : std::uint8_t { pending, ok, fail, unknown };
/// One attempt of one operation: 32 bytes.
struct Attempt {
  std::int64_t op = 0;
  std::int64_t invoke_ns = 0;    ///< monotonic, since the run started
  std::uint32_t latency_us = 0;  ///< invoke to completion
  std::uint16_t attempt = 0;
  Outcome outcome = Outcome::pending;  ///< pending: no completion recorded (a killed or interrupted run)
  std::uint8_t term = 0;         ///< index into RunHistory::terms: the server and timeline it ran on
  std::int64_t commit_lsn = 0;   ///< ok: the WAL insert position taken with the ledger row, 0 unknown

  std::int64_t completion_ns() const { return invoke_ns + static_cast<std::int64_t>(latency_us) * 1000; }
};
/// A server and timeline attempts ran on ("address:port" as the server names itself). Term 0 is "unknown";
/// past 255 distinct terms the last one stands for the rest.
struct Term {
  std::string node;
  int timeline = 0;
};
/// The watcher's view of one node at one moment (an `observation` event).
struct Observation {
  std::int64_t at_ns = 0;
  std::string node;                  ///< configured name
  std::string role, state;           ///< Patroni's; empty: the REST API did not answer
  std::string pg_role;               ///< primary | replica; empty: SQL did not answer
  int patroni_timeline = 0, timeline = 0;
  std::int64_t wal_current = 0, wal_received = 0, wal_replayed = 0;
  int replicas = 0;                  ///< streaming replicas of a primary
  std::string upstream, followers, address, error;
  std::string sync_followers;        ///< a primary's synchronous standbys (Patroni's sync_state sync or quorum)
};
/// The write probe stopped (writable false) or resumed (true) taking writes.
struct ProbeChange {
  std::int64_t at_ns = 0;
  bool writable = false;
  std::string node, error;
};
/// What the workload learned about an in-doubt attempt during the run.
struct Resolution {
  std::int64_t op = 0, at_ns = 0;
  int attempt = 0;
  bool committed = false;
};
/// A WARNING that came back with an acknowledged COMMIT.
struct CommitWarning {
  std::int64_t op = 0;
  int attempt = 0;
  std::string text;
};
/// A fault as the history recorded it (fault_start / fault_end events with the same id).
struct FaultRecord {
  std::int64_t id = 0;
  std::string fault, target, message;
  std::int64_t start_ns = 0, end_ns = -1;  ///< end_ns -1: never healed in the history
  int exit_status = 0;                      ///< of the start command; -1 not started (or outcome_unknown)
  bool outcome_unknown = false;             ///< its SSH session ended before the command's exit status
  int heal_status = 0;                      ///< the first failed heal command's exit status, 0 all healed
  std::int64_t limit_ms = 0;                ///< the step's max unavailability, 0 none
};
struct RunHistory {
  std::int64_t run_id = 0, seed = 0, start_wall_us = 0;
  std::int64_t end_ns = 0;            ///< time of the last event
  std::vector<Attempt> attempts;      ///< in invoke order of each worker, workers interleaved by time
  std::vector<FaultRecord> faults;
  std::vector<std::string> findings;  ///< messages of finding events
  /// Findings the harness could not confirm (state "unconfirmed"): the wait that would have settled them was cut
  /// short by an interruption, e.g. a cluster not yet healthy when the stop budget ran out.
  std::vector<std::string> unconfirmed_findings;
  std::vector<Term> terms{Term{}};    ///< terms[0]: unknown
  std::vector<Observation> observations;
  std::vector<ProbeChange> probes;
  std::vector<Resolution> resolutions;
  std::vector<CommitWarning> warnings;
  bool torn_tail = false;
  bool finished = false;              ///< a run_finished event closes the history
};
/// Reads history.jsonl into the compact view (about 0.3 µs a line). Throws HistoryError "file:line: ..." for a
/// bad line that is not the last, or a completion without its invoke.
RunHistory load_run_history(const std::filesystem::path& file);

}  // namespace pgchaos::history
