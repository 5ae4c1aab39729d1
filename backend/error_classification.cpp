#include <pqxx/except>

#include "backend/errors.h"

namespace pgchaos::backend {
namespace {

constexpr const char* kLedgerKey = "ledger_pkey";

bool starts_with(const std::string& text, const char* prefix) { return text.rfind(prefix, 0) == 0; }

}  // namespace

const char* to_string(ErrorKind kind) {
  static constexpr const char* kNames[kErrorKinds] = {
      "deadlock",   "serialization", "read_only",    "admin_shutdown",       "crash_shutdown",
      "cannot_connect_now", "query_cancelled", "connection", "in_doubt", "duplicate_op",
      "too_many_connections", "other", "fatal"};
  return kNames[static_cast<std::size_t>(kind)];
}

// The rule of libpqxx and of this project: once COMMIT is sent, an error that leaves the connection
// broken means nobody knows whether the transaction committed. Such an attempt is never retried as failed.
Classification classify_error(const ErrorFacts& f) {
  const std::string& s = f.sqlstate;
  const bool connection_lost = f.broken_connection || f.in_doubt || starts_with(s, "08") || s == "57P01" ||
                               s == "57P02" || s == "57P03";
  if (f.commit_sent && connection_lost)
    return {ErrorAction::unknown_outcome, f.in_doubt ? ErrorKind::in_doubt : ErrorKind::connection};
  if (f.in_doubt) return {ErrorAction::unknown_outcome, ErrorKind::in_doubt};

  if (s == "40P01") return {ErrorAction::retry_op, ErrorKind::deadlock};
  if (s == "40001") return {ErrorAction::retry_op, ErrorKind::serialization};
  if (s == "25006") return {ErrorAction::rotate_host, ErrorKind::read_only};
  if (s == "57P01") return {ErrorAction::reconnect, ErrorKind::admin_shutdown};
  if (s == "57P02") return {ErrorAction::reconnect, ErrorKind::crash_shutdown};
  if (s == "57P03") return {ErrorAction::reconnect, ErrorKind::cannot_connect_now};
  if (s == "57014") return {ErrorAction::reconnect, ErrorKind::query_cancelled};
  if (s == "53300") return {ErrorAction::reconnect, ErrorKind::too_many_connections};
  if (starts_with(s, "08") || f.broken_connection) return {ErrorAction::reconnect, ErrorKind::connection};
  if (s == "23505" && f.message.find(kLedgerKey) != std::string::npos)
    return {ErrorAction::already_committed, ErrorKind::duplicate_op};
  // Errors that say our SQL or our privileges are wrong cannot be cured by retrying.
  // 26000 (a prepared statement of ours unknown to the server) means a pooler in transaction mode is in the path.
  if (starts_with(s, "42") || starts_with(s, "22") || starts_with(s, "23") || starts_with(s, "2B") ||
      starts_with(s, "0A") || s == "26000")
    return {ErrorAction::fatal, ErrorKind::fatal};
  // Anything else (resources, internal errors, an error without SQLSTATE) ended the transaction: it did not
  // commit, and a fresh connection is the safe way on.
  return {ErrorAction::reconnect, ErrorKind::other};
}

ErrorFacts error_facts(const std::exception& error, bool commit_sent) {
  ErrorFacts facts;
  facts.message = error.what();
  facts.commit_sent = commit_sent;
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&error)) facts.sqlstate = sql->sqlstate();
  // libpqxx 6.4 raises these without an sql_error base, so their SQLSTATE is known only by their type.
  else if (dynamic_cast<const pqxx::deadlock_detected*>(&error)) facts.sqlstate = "40P01";
  else if (dynamic_cast<const pqxx::serialization_failure*>(&error)) facts.sqlstate = "40001";
  else if (dynamic_cast<const pqxx::statement_completion_unknown*>(&error)) facts.sqlstate = "40003";
  else if (dynamic_cast<const pqxx::too_many_connections*>(&error)) facts.sqlstate = "53300";
  facts.in_doubt = dynamic_cast<const pqxx::in_doubt_error*>(&error) != nullptr;
  facts.broken_connection = dynamic_cast<const pqxx::broken_connection*>(&error) != nullptr;
  return facts;
}

}  // namespace pgchaos::backend
