// The record of a run: operation events, fault events, and the database snapshots a verdict is computed from.
// This is the one library every other part shares; it knows nothing about PostgreSQL or SSH.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace pgchaos::history {

/// Raised for I/O failures and unreadable files; the message names the file (and line where one applies).
struct HistoryError : std::runtime_error {
  using std::runtime_error::runtime_error;
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

struct HistoryFile {
  std::vector<Event> events;   ///< in file order
  bool torn_tail = false;      ///< the last line was cut short (a killed writer) and was skipped
};
/// Reads a history file. A torn last line is tolerated; a bad line elsewhere throws HistoryError "file:line: ...".
HistoryFile read_history(const std::filesystem::path& file);

// ---- the compact view of a run, for checking histories of millions of operations ----

enum class Outcome : std::uint8_t { pending, ok, fail, unknown };
/// One attempt of one operation: 24 bytes.
struct Attempt {
  std::int64_t op = 0;
  std::int64_t invoke_ns = 0;    ///< monotonic, since the run started
  std::uint32_t latency_us = 0;  ///< invoke to completion
  std::uint16_t attempt = 0;
  Outcome outcome = Outcome::pending;  ///< pending: no completion recorded (a killed or interrupted run)
};
/// A fault as the history recorded it (fault_start / fault_end events with the same id).
struct FaultRecord {
  std::int64_t id = 0;
  std::string fault, target, message;
  std::int64_t start_ns = 0, end_ns = -1;  ///< end_ns -1: never healed in the history
  int exit_status = 0;
};
struct RunHistory {
  std::int64_t run_id = 0, seed = 0, start_wall_us = 0;
  std::int64_t end_ns = 0;            ///< time of the last event
  std::vector<Attempt> attempts;      ///< in invoke order of each worker, workers interleaved by time
  std::vector<FaultRecord> faults;
  std::vector<std::string> findings;  ///< messages of finding events
  bool torn_tail = false;
  bool finished = false;              ///< a run_finished event closes the history
};
/// Reads history.jsonl into the compact view (about 0.3 µs a line). Throws HistoryError "file:line: ..." for a
/// bad line that is not the last, or a completion without its invoke.
RunHistory load_run_history(const std::filesystem::path& file);

// ---- database snapshots (what each node says at the end of a run) ----

struct AccountRow {
  int id = 0;
  std::int64_t balance_cents = 0;
};
/// 40 bytes.
struct LedgerRow {
  std::int64_t op_id = 0, txid = 0;
  std::int32_t run_id = 0, attempt = 0;
  std::int32_t from_account = 0, to_account = 0;
  std::int32_t amount_cents = 0, worker = 0;
};
/// The accounts and ledger of one node, read at the end of a run.
struct Snapshot {
  std::string name;                 ///< the node's configured name, or its address
  std::string role;                 ///< "primary" (reached through the workload's DSNs) or "replica"
  std::string node;                 ///< "address:port"
  std::string system_identifier;
  bool in_recovery = false;
  bool caught_up = true;            ///< a replica had replayed up to the primary's LSN when read
  int timeline = 0;
  std::string lsn;                  ///< pg_current_wal_lsn() or pg_last_wal_replay_lsn()
  std::string error;                ///< set when the node could not be read: no rows then
  std::int64_t initial_balance_cents = 10000;
  std::vector<AccountRow> accounts; ///< ordered by id
  std::vector<LedgerRow> ledger;    ///< every run's rows, ordered by (run_id, op_id)
};
/// Writes DIR/snapshot-NAME.json (metadata and accounts) and DIR/snapshot-NAME.ledger.tsv. Throws HistoryError.
void write_snapshot(const std::filesystem::path& dir, const Snapshot& snapshot);
/// Reads every snapshot in a run directory, the primary first. Throws HistoryError.
std::vector<Snapshot> read_snapshots(const std::filesystem::path& dir);

}  // namespace pgchaos::history
