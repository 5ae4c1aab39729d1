// The generic attempt loop and the seam a workload implements. backend/ runs N workers; each draws the next
// operation, records its invoke, lets the workload execute one attempt, classifies the outcome (ok / fail /
// unknown), records it, and resolves an in-doubt attempt through the workload. What the transactions are — the
// bank's transfers (workloads/bank), or another workload's — is the workload's alone.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "backend/errors.h"
#include "common/stop_source.h"
#include "history/events.h"
#include "history/snapshots.h"

namespace pqxx {  // a workload's SQL uses libpqxx; the seam shows only these two of its classes
class connection_base;
class transaction_base;
}  // namespace pqxx

namespace pgchaos::backend {

/// What a worker's connection needs: where to connect and the reconnect rules of pg_cluster_backend.
struct ConnectionSettings {
  std::vector<std::string> dsns;  ///< libpq conninfo strings or URIs; workers start on the first
  std::string application_name = "pgchaos";
  std::chrono::milliseconds conn_exception_sleep{3000};  ///< wait after a connection error
  int reconnect_attempt = 3;      ///< failed connects before rotating to the next DSN
};

/// How the workers run, whatever the workload.
struct WorkloadConfig : ConnectionSettings {
  int threads = 10;
  std::int64_t operations = 1000;
  std::uint64_t seed = 0;         ///< the workload draws its operations from it; each worker's generator too
  bool reset = false;             ///< recreate pgchaos's own tables first
  bool show_progress = false;     ///< a progress line on stdout (only when it is a terminal)
  std::atomic<std::int64_t>* live_ok = nullptr;  ///< when set, counts acknowledged commits as they come (a caller's
                                                 ///< own progress line, e.g. the soak's); outlives the run
};

/// The WARNINGs a connection received since the last take(): a COMMIT whose wait for a synchronous standby was
/// cancelled says so only in a WARNING.
class ConnectionWarnings {
 public:
  virtual std::string take() = 0;

 protected:
  ~ConnectionWarnings() = default;
};

/// One attempt as the loop hands it to the workload.
struct Attempt {
  std::int64_t run_id = 0, op = 0;
  int attempt = 0, worker = 0;
  std::mt19937_64* worker_random = nullptr;   ///< the worker's own generator (think time), seeded by seed and worker
  ConnectionWarnings* warnings = nullptr;     ///< of the attempt's connection
};

/// What one attempt did. `error` is set exactly when !ok; `commit_sent` in it says whether COMMIT was in flight.
struct AttemptResult {
  bool ok = false;
  std::int64_t txid = 0, commit_lsn = 0;  ///< the transaction's id and WAL insert position (0 unknown)
  std::string commit_warning;             ///< WARNINGs the COMMIT brought
  std::string txn;                        ///< ok: what the transaction did, as the workload records it (its reads)
  std::optional<ErrorFacts> error;
};

/// The seam: one workload's tables, statements and state. Every method may be called from many workers at once
/// (const, no shared mutable state); each connection is used by one thread at a time.
class Workload {
 public:
  virtual ~Workload() = default;
  /// Every relation (table, index, sequence) it creates in schema pgchaos, so that the schema check knows them.
  virtual std::vector<std::string> own_relations() const = 0;
  /// How many keys (the bank's accounts) it works on: pgchaos.runs records it.
  virtual int keys() const = 0;
  /// Its tables, dropped (only these, by name) before they are created again with --reset.
  virtual std::vector<std::string> tables() const = 0;
  /// Creates its tables; or, when they exist, checks they fit this run (throws BackendError saying what to do).
  virtual void create_tables(pqxx::transaction_base& tx) const = 0;
  virtual void check_existing_tables(pqxx::transaction_base& tx) const = 0;
  /// Once per connection, before its first attempt (prepared statements). Throws WorkloadSetupError when the
  /// connection cannot serve the workload at all (the run ends); any other error is a failed connect.
  virtual void prepare_connection(pqxx::connection_base& connection) const = 0;
  /// What operation `op` will do, recorded on each attempt's invoke.
  virtual void describe(std::int64_t op, history::Event& invoke) const = 0;
  /// Runs one attempt up to and including COMMIT on `connection` (no transaction open). Never throws. Returns an
  /// error "run interrupted before COMMIT" (57014) when `stop` came between statements.
  virtual AttemptResult execute(pqxx::connection_base& connection, const Attempt& attempt,
                                const common::StopSource& stop) const = 0;
  /// Which attempt of `op` committed, read on `connection` (0: none). Throws what libpqxx throws.
  virtual int committed_attempt(pqxx::connection_base& connection, std::int64_t run_id, std::int64_t op) const = 0;
  /// Reads its state into `snapshot` in `tx` (a repeatable-read, read-only transaction), every ledger row through
  /// `add_row` in (run, op) order, never all held at once. Throws what libpqxx throws.
  virtual void read_state(pqxx::transaction_base& tx, history::Snapshot& snapshot,
                          const std::function<void(const history::LedgerRow&)>& add_row) const = 0;
};

/// Creates or validates schema `pgchaos` (refusing one that holds objects pgchaos did not create), recreates the
/// workload's tables when config.reset, and registers a new run. Returns the run id. `others` are pgchaos's other
/// workloads: their relations are pgchaos's own too, and --reset drops their tables as well (run ids start again).
/// Throws BackendError (unreachable server, foreign objects, tables that do not fit without --reset).
std::int64_t prepare_schema(const WorkloadConfig& config, const Workload& workload,
                            const std::vector<const Workload*>& others = {});

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

/// Runs config.operations operations of `workload` on config.threads workers, recording every attempt in
/// `history`. Returns when the operations are done, when `stop` is requested (workers stop at their next
/// statement; an attempt cut before COMMIT is recorded as failed), or on a fatal error (stats.fatal_error; `stop`
/// is then requested with reason harness_error). Every worker thread and connection is gone when it returns.
WorkloadStats run_workload(const WorkloadConfig& config, const Workload& workload, std::int64_t run_id,
                           history::HistoryWriter& history, common::StopSource& stop);

}  // namespace pgchaos::backend
