// The workload: the bank-transfer port of pg_cluster_backend, its connection handling, and the one function
// that classifies database errors. The only part of pgchaos that includes <pqxx/...>.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "history/history.h"

namespace pgchaos::backend {

/// A harness error (cannot set up, foreign objects in the schema, a bug-class SQL error). Exit code 2.
struct BackendError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct ThinkTime {
  std::chrono::milliseconds min{100}, max{200};
};

struct WorkloadConfig {
  std::vector<std::string> dsns;  ///< libpq conninfo strings or URIs; workers start on the first
  std::string application_name = "pgchaos";
  int threads = 10;
  std::chrono::milliseconds conn_exception_sleep{3000};  ///< wait after a connection error
  int reconnect_attempt = 3;      ///< failed connects before rotating to the next DSN
  int accounts = 100;
  std::int64_t operations = 1000;
  std::optional<ThinkTime> think_time;  ///< the seed's "billing calculation delay", twice per transfer
  std::uint64_t seed = 0;
  bool reset = false;             ///< recreate pgchaos's own tables first
  bool log_sql = false;
  bool show_progress = false;     ///< a progress line on stdout (only when it is a terminal)
};

/// Stop request shared by the signal handler and the workers. request() is async-signal-safe.
class StopFlag {
 public:
  void request() noexcept { requested_.store(true, std::memory_order_relaxed); }
  bool requested() const noexcept { return requested_.load(std::memory_order_relaxed); }
  /// Sleeps up to `duration`; returns false early if a stop is requested.
  bool sleep_for(std::chrono::milliseconds duration) const;

 private:
  std::atomic<bool> requested_{false};
  static_assert(std::atomic<bool>::is_always_lock_free);
};

// ---- error classification: the one place that decides what an error means ----

enum class ErrorAction {
  retry_op,          ///< definitely not committed; retry the same op id on this connection
  reconnect,         ///< definitely not committed; drop the connection, wait, reconnect, retry
  rotate_host,       ///< definitely not committed; this server cannot take writes: next DSN, wait, retry
  unknown_outcome,   ///< COMMIT was sent and not acknowledged: record unknown, resolve through the ledger
  already_committed, ///< the ledger already holds this op: an earlier attempt committed
  fatal,             ///< a harness bug or misconfiguration: stop the run
};
enum class ErrorKind {
  deadlock, serialization, read_only, admin_shutdown, crash_shutdown, cannot_connect_now, query_cancelled,
  connection, in_doubt, duplicate_op, too_many_connections, other, fatal,
};
inline constexpr std::size_t kErrorKinds = static_cast<std::size_t>(ErrorKind::fatal) + 1;
const char* to_string(ErrorKind kind);

/// What is known about an error, independent of libpqxx's types.
struct ErrorFacts {
  std::string sqlstate;            ///< empty when the server sent none
  std::string message;
  bool broken_connection = false;  ///< the connection is gone
  bool in_doubt = false;           ///< libpqxx's in_doubt_error
  bool commit_sent = false;        ///< the error arose while COMMIT was in flight
};
struct Classification {
  ErrorAction action;
  ErrorKind kind;
};
Classification classify_error(const ErrorFacts& facts);
/// Extracts the facts from a libpqxx (or any) exception.
ErrorFacts error_facts(const std::exception& error, bool commit_sent);

// ---- the verbs ----

/// Creates or validates schema `pgchaos` (refusing one that holds objects pgchaos did not create),
/// recreates its tables when config.reset, and registers a new run. Returns the run id.
/// Throws BackendError (unreachable server, foreign objects, account count mismatch without --reset).
std::int64_t prepare_schema(const WorkloadConfig& config);

struct WorkloadStats {
  std::int64_t ok = 0, fail = 0, unknown = 0;
  std::int64_t resolved_committed = 0, resolved_not_committed = 0;
  std::int64_t reconnects = 0, rotations = 0;
  std::array<std::int64_t, kErrorKinds> errors{};  ///< by ErrorKind
  std::chrono::duration<double> elapsed{};
  double p50_ms = 0, p99_ms = 0;   ///< latency of acknowledged attempts (invoke → ok)
  bool interrupted = false;
  std::optional<std::string> fatal_error;
};

/// Runs config.operations transfers on config.threads workers, recording every attempt in `history`.
/// Returns when all operations are done, on stop, or on a fatal error (stats.fatal_error).
WorkloadStats run_workload(const WorkloadConfig& config, std::int64_t run_id, history::HistoryWriter& history,
                           const StopFlag& stop);
/// The same, also ending normally (not as interrupted) once `finish` is requested: a scenario's end.
WorkloadStats run_workload(const WorkloadConfig& config, std::int64_t run_id, history::HistoryWriter& history,
                           const StopFlag& stop, const StopFlag& finish);

/// A PostgreSQL node of the cluster, for snapshots.
struct NodeAddress {
  std::string name;
  std::string host;
  int port = 5432;
};

/// Reads accounts and ledger from the primary (the first writable server of `dsns`), then from every node in
/// `nodes` that is not the primary, each once it has replayed up to the primary's LSN (waiting at most
/// `catch_up_timeout`; a node still behind is read anyway and marked not caught up). Nodes are reached with
/// the credentials of the first DSN. A node that cannot be read gives a snapshot with `error` set.
/// Throws BackendError when the primary cannot be read.
std::vector<history::Snapshot> take_snapshots(const std::vector<std::string>& dsns,
                                              const std::vector<NodeAddress>& nodes,
                                              std::chrono::seconds catch_up_timeout);

/// The conninfo of `base_dsn` (its user, password, database and options) pointed at host:port.
std::string conninfo_for(const std::string& base_dsn, const std::string& host, int port);

/// The commit mode the primary runs with: "sync" when synchronous_standby_names is set and
/// synchronous_commit waits for it, "single" without any replica, "async" otherwise.
std::string detect_commit_mode(const std::vector<std::string>& dsns);

/// Replaces passwords in a conninfo string or URI by "***", for logs and run.json.
std::string mask_password(const std::string& dsn);

}  // namespace pgchaos::backend
