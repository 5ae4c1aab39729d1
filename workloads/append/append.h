// The list-append workload's history and its checker, in the manner of Jepsen's Elle: each key's version order is
// inferred from the lists read, the dependencies between transactions (write-write, write-read, read-write, and
// session order) form a graph, and its cycles are the anomalies G0, G1c, G-single and G2-item; a single read shows
// G1a (an aborted append read), G1b (another transaction's intermediate state read), an order no other read agrees
// with, or an element twice. Pure logic: the workload that records such a history is not built yet (issue 23).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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
};

enum class Dependency { ww, wr, rw, session };
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

/// Checks a history. Session order joins the graph only for the -process variants: a cycle the other dependencies
/// make alone is named without the suffix.
AppendCheck check_history(const std::vector<Transaction>& history);

/// Whether `anomaly` (a kind above, -process variants included) is one `level` (serializable, repeatable-read,
/// read-committed) forbids.
bool forbidden_at(const std::string& anomaly, const std::string& level);

}  // namespace pgchaos::append
