// The events of a run and history.jsonl: the append-only record every other part writes or reads.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/files.h"

namespace pgchaos::history {

/// A history (or snapshot) that cannot be written or read: a FileError whose message names the file (and line
/// where one applies).
struct HistoryError : common::FileError {
  using common::FileError::FileError;
};

enum class EventType {
  run_started,  ///< first line: run id, seed
  invoke,       ///< an attempt of operation `op` begins (from, to, amount)
  ok,           ///< COMMIT acknowledged
  fail,         ///< definitely not committed (error before COMMIT, deadlock, read-only, rejected COMMIT)
  unknown,      ///< COMMIT sent, no acknowledgement: the outcome is in doubt
  resolve,      ///< what the workload later learned about an unknown attempt (`committed`, `via`)
  fault_start,  ///< a fault began (issue 5 fills these)
  fault_end,    ///< a fault was healed
  run_finished, ///< last line of a run that ended normally or by Ctrl-C
  finding,      ///< something the harness saw that the data cannot show (a cluster that did not recover)
  observation,  ///< the watcher's view of one node (Patroni's REST API and the node's own SQL), on change
  probe,        ///< the write probe's state changed: writes stopped (committed false) or resumed (true)
  replica_read, ///< a read-only list-append transaction on a replica (`txn` with its lists, `node`, `wal_replayed`)
};
const char* to_string(EventType type);

/// One line of history.jsonl. A flat record: fields that do not apply to a type stay at their defaults
/// and are not written.
struct Event {
  EventType type = EventType::invoke;
  std::int64_t wall_us = 0;  ///< Unix time, microseconds
  std::int64_t mono_ns = 0;  ///< steady clock, nanoseconds since the run started
  std::int64_t op = 0;       ///< operation id (unique in the run; a retry keeps it)
  int attempt = 0;           ///< 1, 2, ... per operation
  int worker = -1;
  int from_account = 0, to_account = 0;
  std::int64_t amount_cents = 0;
  std::int64_t txid = 0;     ///< txid_current() of the attempt, 0 if it was never taken
  std::string sqlstate;      ///< of the error, if any
  std::string error_class;   ///< classification label (deadlock, read_only, connection, in_doubt, ...)
  std::string message;       ///< error message, or free text for run/fault events
  std::string node;          ///< server that served the attempt: "address:port"
  int timeline = 0;          ///< that server's timeline when the connection was opened
  bool committed = false;    ///< resolve: the attempt committed
  std::string via;           ///< resolve: ledger | duplicate_key
  std::string fault, target; ///< fault events
  int exit_status = 0;       ///< fault events (`op` holds the fault's id)
  std::int64_t run_id = 0, seed = 0;  ///< run_started
  std::int64_t commit_lsn = 0;  ///< ok: pg_current_wal_insert_lsn() taken with the ledger insert (bytes)
  std::string warning;          ///< ok: a WARNING/NOTICE that came with COMMIT (a cancelled sync wait)
  std::int64_t limit_ms = 0;    ///< fault_start: the step's --max-unavailable, 0 none
  // observation (`node` is the node's configured name, `timeline` PostgreSQL's current one, `message` errors):
  std::string role, state;      ///< Patroni's role and state ("" when its REST API did not answer)
  std::string pg_role;          ///< primary | replica from pg_is_in_recovery(); "" when SQL did not answer
  int patroni_timeline = 0;
  std::int64_t wal_current = 0, wal_received = 0, wal_replayed = 0;  ///< bytes
  int replicas = 0;             ///< a primary's streaming walsenders
  std::string upstream;         ///< a replica's wal receiver's sender host (streaming; needs pg_read_all_stats)
  std::string followers;        ///< a primary's streaming replicas by Patroni's REST API, comma-separated
  std::string sync_followers;   ///< of them, those with sync_state sync or quorum (a synchronous standby)
  std::string address;          ///< the node as the workload sees it ("address:port", as in invoke's `node`)
  /// A list-append transaction (workloads/append): its micro-operations on invoke ("a3:17 r3"), with the lists read
  /// on ok ("a3:17 r3=4,9,17").
  std::string txn;
  std::int64_t started_ns = 0;  ///< replica_read: when it began (mono_ns is when it ended)
};

/// Appends events to a JSONL file from any number of threads. A dedicated thread formats and writes them and
/// flushes to the kernel every `flush_interval`, so a kill -9 of pgchaos loses at most that much history.
/// append() never waits for disk. close() writes everything still queued; the destructor calls it.
class HistoryWriter {
 public:
  /// Creates (truncates) the file; throws HistoryError if it cannot.
  explicit HistoryWriter(const std::filesystem::path& file,
                         std::chrono::milliseconds flush_interval = std::chrono::milliseconds(200));
  ~HistoryWriter();
  HistoryWriter(const HistoryWriter&) = delete;
  HistoryWriter& operator=(const HistoryWriter&) = delete;

  /// Sets wall_us and mono_ns to now. Thread-safe.
  void stamp(Event& event) const;
  /// Queues one event. Thread-safe.
  void append(Event event);
  /// Writes and flushes everything queued so far, then stops the writer thread. Idempotent.
  void close();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// Formats one event as a single JSON line (with the newline).
std::string to_json_line(const Event& event);
/// Parses one line of history.jsonl (without its newline). Throws HistoryError saying what is wrong (the caller
/// adds file and line).
Event parse_event_line(std::string_view line);

struct HistoryFile {
  std::vector<Event> events;   ///< in file order
  bool torn_tail = false;      ///< the last line was cut short (a killed writer) and was skipped
};
/// Streams a history file's events to `visit`, never holding the file whole. A torn last line is skipped (returns
/// true then); a bad line elsewhere throws HistoryError "file:line: ...".
bool for_each_event(const std::filesystem::path& file, const std::function<void(Event&&)>& visit);
/// Reads a history file. A torn last line is tolerated; a bad line elsewhere throws HistoryError "file:line: ...".
HistoryFile read_history(const std::filesystem::path& file);

}  // namespace pgchaos::history
