// The list-append workload's history and its checker, in the manner of Jepsen's Elle: each key's version order is
// inferred from the lists read, the dependencies between transactions (write-write, write-read, read-write, and
// session order) form a graph, and its cycles are the anomalies G0, G1c, G-single and G2-item; a single read shows
// G1a (an aborted append read), G1b (another transaction's intermediate state read), an order no other read agrees
// with, or an element twice. Below the checker: the workload that records such histories (on the backend's seam),
// its history read back from history.jsonl, and its check of a run beside the generic one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "backend/cluster_reader.h"
#include "backend/workload.h"
#include "checker/checker.h"

namespace pgchaos::append {

/// A micro-operation: append `value` to `key`, or read `key`'s whole list.
struct MicroOp {
  enum class Kind { append, read };
  Kind kind = Kind::append;
  std::int64_t key = 0;
  std::int64_t value = 0;                         ///< append: the element, unique for its key in the history
  std::optional<std::vector<std::int64_t>> read;  ///< read: the list as read; nullopt when it is not known
};

/// How an attempt ended: acknowledged, rolled back for sure, or in doubt.
enum class Outcome { ok, fail, unknown };

struct Transaction {
  std::int64_t id = 0;       ///< unique in the history
  std::int64_t session = 0;  ///< the client that ran it: a session's transactions are in the order of the history
  Outcome outcome = Outcome::ok;
  std::vector<MicroOp> ops;
  /// When its acknowledged attempt was invoked and acknowledged (monotonic ns); -1 unknown. A transaction
  /// acknowledged before another was invoked precedes it in real time.
  std::int64_t invoke_ns = -1, complete_ns = -1;
};

enum class Dependency { ww, wr, rw, session, realtime };
const char* to_string(Dependency d) noexcept;

/// `from` must come before `to` in any serial order, because of `key`'s element `value` (the one written first for
/// ww, the one read last for wr, the one not yet read for rw).
struct Edge {
  std::int64_t from = 0, to = 0;
  Dependency kind = Dependency::ww;
  std::int64_t key = 0, value = 0;
};

struct Anomaly {
  /// G0, G1a, G1b, G1c, G-single, G2-item (a cycle that needs session order too: G0-process, ...),
  /// incompatible-order, duplicate-elements.
  std::string kind;
  std::vector<std::int64_t> transactions;  ///< a cycle's transactions in its order, else those involved
  std::vector<Edge> cycle;                 ///< a cycle's edges, each from the transaction before to the next
  std::string explanation;                 ///< in plain words, naming transactions, keys and elements
};

struct AppendCheck {
  std::vector<Anomaly> anomalies;
  /// The strongest of PostgreSQL's isolation levels the history is consistent with: serializable, repeatable-read
  /// (snapshot isolation: G2-item allowed), read-committed (G-single too), read-uncommitted (G1 too), or none.
  std::string strongest_level;
  std::size_t transactions = 0, edges = 0;
};

/// Checks a history. Session and real-time order join the graph only for the -process and -realtime variants: a
/// cycle the other dependencies make alone is named without the suffix.
AppendCheck check_history(const std::vector<Transaction>& history);

/// Whether `anomaly` (a kind above) is one `level` (serializable, repeatable-read, read-committed) forbids. The
/// -process and -realtime variants are forbidden by none: PostgreSQL promises neither order between sessions.
bool forbidden_at(const std::string& anomaly, const std::string& level);

// ---- The workload

/// Micro-operations as history.jsonl records them: "a3:17" appends 17 to key 3, "r3" reads key 3, "r3=4,9,17" read
/// [4, 9, 17] ("r3=" the empty list), separated by spaces.
std::string format_ops(const std::vector<MicroOp>& ops);
/// Throws std::invalid_argument saying what is wrong.
std::vector<MicroOp> parse_ops(std::string_view text);

struct AppendOptions {
  std::string isolation = "serializable";  ///< serializable | repeatable-read | read-committed
  int active_keys = 32;                    ///< keys appended to at once; fewer make more contention
  int appends_per_key = 64;                ///< about this many appends to a key before it rotates out for a new one
  bool prepared_statements = true;         ///< false: each statement with its text (a pooler in transaction mode)
  std::int64_t state_run = 0;              ///< read_state reads this run's lists (0: the newest run's)
  double replica_reads = 0;                ///< readers beside the workers: threads × this, at least 1 (0: none)
  std::int64_t max_staleness_ms = 0;       ///< a replica read staler than this fails the run (0: reported only)
};
/// "serializable", "repeatable-read", "read-committed"; false for anything else.
bool valid_isolation(std::string_view level);

/// A transaction of 1–4 micro-operations (half reads, half appends of unique elements) per op, drawn from the seed
/// on a few active keys, run at the isolation asked for; its record row in pgchaos.append_ledger, keyed by (run, op),
/// says which attempt committed, as the bank's ledger does.
class AppendWorkload final : public backend::Workload {
 public:
  /// Throws backend::BackendError for options out of range.
  AppendWorkload(AppendOptions options, std::uint64_t seed);
  /// The micro-operations of `op` (a pure function of seed and op; each element `op` × 4 + its position).
  std::vector<MicroOp> draw(std::int64_t op) const;
  std::vector<std::string> own_relations() const override;
  int keys() const override { return options_.active_keys; }
  std::vector<std::string> tables() const override;
  void create_tables(pqxx::transaction_base& tx) const override;
  void check_existing_tables(pqxx::transaction_base& tx) const override;
  void prepare_connection(pqxx::connection_base& connection) const override;
  void describe(std::int64_t op, history::Event& invoke) const override;
  backend::AttemptResult execute(pqxx::connection_base& connection, const backend::Attempt& attempt,
                                 const common::StopSource& stop) const override;
  int committed_attempt(pqxx::connection_base& connection, std::int64_t run_id, std::int64_t op) const override;
  void read_state(pqxx::transaction_base& tx, history::Snapshot& snapshot,
                  const std::function<void(const history::LedgerRow&)>& add_row) const override;

 private:
  AppendOptions options_;
  std::uint64_t seed_;
};

/// Reads from the replicas beside the workers (--replica-reads): `readers` threads, each taking the nodes in turn,
/// each read a repeatable-read, read-only transaction of the lists of the newest keys the node has, recorded as a
/// replica_read event (its lists, the node, in recovery or not, its replay position). Stops with `stop`; the
/// destructor joins the threads.
class ReplicaReaders {
 public:
  struct Settings {
    std::string base_dsn;                      ///< user, password, database: pointed at each node
    std::vector<backend::NodeAddress> nodes;   ///< every node ([cluster] nodes): the primary's reads count too
    int readers = 1;
    std::int64_t run_id = 0;
    int active_keys = 32;
  };
  ReplicaReaders(Settings settings, history::HistoryWriter& history, const common::StopSource& stop);
  ~ReplicaReaders();
  ReplicaReaders(const ReplicaReaders&) = delete;
  ReplicaReaders& operator=(const ReplicaReaders&) = delete;

 private:
  struct Reader;
  void read_until_stopped(int reader);
  Settings settings_;
  history::HistoryWriter& history_;
  const common::StopSource& stop_;
  std::vector<std::unique_ptr<Reader>> readers_;
};

/// One op of a run's history as the checker needs it: its transaction (outcome from its attempts and their
/// resolutions, reads from its acknowledged attempt) and when that attempt ran.
/// A read from a node beside the workers (replica_read).
struct ReplicaRead {
  int reader = 0;
  std::string node;
  bool in_recovery = true;
  std::int64_t replayed_lsn = 0, started_ns = 0, completed_ns = 0;
  std::vector<MicroOp> ops;  ///< reads, each with its list
};
struct RunTransactions {
  std::vector<Transaction> transactions;  ///< id = op, session = worker, in invoke order
  std::int64_t read_ops = 0, append_ops = 0;
  std::vector<ReplicaRead> replica_reads;
};
/// Reads history.jsonl (or .zst). Throws history::HistoryError naming the file and line.
RunTransactions load_transactions(const std::filesystem::path& history_file);

/// Writes a list-append run's history (history.jsonl or .zst) to `out` as Jepsen's history, a JSON array of op maps:
/// `index`, `type` (invoke, ok, fail, info), `f` "txn", `value` ([["append", k, v], ["r", k, [..] or null]]),
/// `process` (a worker, renumbered after an info as Jepsen does), `time` (ns since the run started), `error`.
/// Returns the ops written. Throws history::HistoryError naming the file.
std::int64_t export_jepsen(const std::filesystem::path& history_file, std::ostream& out);

/// The list-append workload's invariants: each node's lists against the primary's, and the isolation check of the
/// history (loaded here) with the primary's final lists as the last read, judged at `isolation`.
class AppendInvariants final : public checker::StateInvariants {
 public:
  AppendInvariants(RunTransactions history, std::string isolation, std::int64_t max_staleness_ms = 0)
      : history_(std::move(history)), isolation_(std::move(isolation)), max_staleness_ms_(max_staleness_ms) {}
  void check_primary(const history::Snapshot& primary, const history::LedgerIndex& ledger,
                     checker::CheckResult& result) const override;
  void compare_state(const history::Snapshot& primary, const history::Snapshot& node,
                     checker::NodeComparison& comparison) const override;
  void check_history(const std::vector<history::Snapshot>& snapshots, checker::CheckResult& result) const override;

 private:
  RunTransactions history_;
  std::string isolation_;
  std::int64_t max_staleness_ms_ = 0;
};

}  // namespace pgchaos::append
