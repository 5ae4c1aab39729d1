// The workload: the bank-transfer port of pg_cluster_backend on N worker threads, each attempt recorded in the
// history. With the snapshot reader and watcher/, the only code of pgchaos that includes <pqxx/...>.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backend/errors.h"
#include "history/events.h"
#include "common/stop_source.h"

namespace pgchaos::backend {

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
  /// The transaction's statements one round trip each, as the seed sends them. Without think time the default is
  /// two round trips: BEGIN through the ledger row as one batch, then COMMIT alone (the outcomes are classified
  /// alike: an error in the batch is before COMMIT). With think time the seed's way is the only way.
  bool statement_by_statement = false;
  std::uint64_t seed = 0;
  bool reset = false;             ///< recreate pgchaos's own tables first
  bool log_sql = false;
  bool show_progress = false;     ///< a progress line on stdout (only when it is a terminal)
  std::atomic<std::int64_t>* live_ok = nullptr;  ///< when set, counts acknowledged commits as they come (a caller's
                                                 ///< own progress line, e.g. the soak's); outlives the run
};

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
  bool operations_done = false;    ///< every operation was committed (or resolved committed)
  std::optional<std::string> fatal_error;
};

/// Runs config.operations transfers on config.threads workers, recording every attempt in `history`. Returns
/// when the operations are done, when `stop` is requested (workers stop at their next statement; an attempt cut
/// before COMMIT is recorded as failed), or on a fatal error (stats.fatal_error; `stop` is then requested with
/// reason harness_error). Every worker thread and connection is gone when it returns.
WorkloadStats run_workload(const WorkloadConfig& config, std::int64_t run_id, history::HistoryWriter& history,
                           common::StopSource& stop);

}  // namespace pgchaos::backend
