// Internal to backend/: one worker's connection with pg_cluster_backend's reconnect and rotation rules.
#pragma once

#include <memory>
#include <mutex>
#include <pqxx/connection>
#include <pqxx/errorhandler>
#include <spdlog/logger.h>
#include <string>
#include <vector>

#include "backend/workload.h"

namespace pgchaos::backend {

/// The "backend" logger (the application registers it; the default logger otherwise).
std::shared_ptr<spdlog::logger> backend_log();

/// The server a connection reached.
struct NodeInfo {
  std::string address;  ///< "address:port" as the server sees itself ("local:port" over a Unix socket)
  bool in_recovery = false;
  int timeline = 0;     ///< 0 when unknown (a server in recovery)
};

/// libpq's multi-line messages as one line.
std::string one_line(const std::string& text);

/// Quotes a value for a libpq conninfo string: 'value' with ' and \ escaped.
std::string quote_conninfo_value(const std::string& value);

/// Asks the server who it is.
NodeInfo query_node(pqxx::connection& connection);

/// Connects to the first DSN that answers (and takes writes, when need_primary). Throws BackendError naming
/// every DSN tried (passwords masked) and why it failed.
std::unique_ptr<pqxx::connection> connect_first(const std::vector<std::string>& dsns,
                                                const std::string& application_name, bool need_primary,
                                                NodeInfo* node = nullptr);

/// Live counters shared by all workers and read by the progress line.
struct LiveCounters {
  std::atomic<std::int64_t> ok{0}, fail{0}, unknown{0};
  std::atomic<std::int64_t> resolved_committed{0}, resolved_not_committed{0};
  std::atomic<std::int64_t> reconnects{0}, rotations{0};
  std::array<std::atomic<std::int64_t>, kErrorKinds> errors{};
  void count(ErrorKind kind) { errors[static_cast<std::size_t>(kind)].fetch_add(1, std::memory_order_relaxed); }
};

/// Keeps the WARNINGs a connection receives (a COMMIT whose wait for a synchronous standby was cancelled says so
/// only in a WARNING), instead of libpqxx printing them to stderr.
class NoticeCatcher : public pqxx::errorhandler {
 public:
  explicit NoticeCatcher(pqxx::connection_base& connection);
  bool operator()(const char message[]) noexcept override;
  std::string take();  ///< what came since the last take()

 private:
  std::string text_;
};

/// One worker's connection, prepared for its workload. Owned by its worker thread; only cancel_query() may be
/// called from another.
class Session final : public ConnectionWarnings {
 public:
  Session(const ConnectionSettings& settings, const Workload& workload, int worker, LiveCounters& counters);
  /// Connects unless connected: on failure waits conn_exception_sleep and tries again; after
  /// reconnect_attempt failures moves to the next DSN; a server in recovery counts as read-only and moves on.
  /// Returns false as soon as a stop is requested, or once the workload refused a connection (setup_error()).
  bool ensure_connected(const common::StopSource& stop);
  /// Why the workload cannot run on this session's connections (WorkloadSetupError); empty: it can.
  const std::string& setup_error() const { return setup_error_; }
  void drop() noexcept;
  void rotate() noexcept;
  pqxx::connection& connection() { return *connection_; }
  /// Asks the server to cancel the statement this session is running, if any (PostgreSQL's cancel request).
  /// Thread-safe: the run's canceller calls it while the worker waits in the statement.
  void cancel_query() noexcept;
  const NodeInfo& node() const { return node_; }
  /// WARNINGs received since the last call.
  std::string take() override { return notices_ ? notices_->take() : std::string(); }

 private:
  bool try_connect();  // one attempt; true when connected to a writable server

  const ConnectionSettings& settings_;
  const Workload& workload_;
  int worker_;
  LiveCounters& counters_;
  std::size_t dsn_index_ = 0;
  int failed_connects_ = 0;
  bool ever_connected_ = false;
  std::string setup_error_;
  std::mutex connection_mutex_;  // guards connection_ being replaced against cancel_query()
  std::unique_ptr<pqxx::connection> connection_;
  std::unique_ptr<NoticeCatcher> notices_;
  NodeInfo node_;
};

}  // namespace pgchaos::backend
