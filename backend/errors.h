// What a database error means for an attempt: the one classification of pgchaos, a pure function over facts
// that carry no libpqxx type (table-tested).
#pragma once

#include <cstddef>
#include <exception>
#include <stdexcept>
#include <string>

namespace pgchaos::backend {

/// A harness error (cannot set up, foreign objects in the schema, a bug-class SQL error). Exit code 2.
struct BackendError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
/// A workload's preparation of a new connection found that it cannot work there (a pooler in transaction mode
/// under prepared statements, say): no reconnect can cure it, the run ends with it as its fatal error.
struct WorkloadSetupError : BackendError {
  using BackendError::BackendError;
};

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

}  // namespace pgchaos::backend
