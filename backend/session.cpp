#include "session.h"

#include "backend/cluster_reader.h"
#include "common/server_address.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <pqxx/pqxx>
#include <cstring>
#include <regex>
#include <thread>

namespace pgchaos::backend {

std::string one_line(const std::string& text) {
  // libpq's messages end in a newline and sometimes hold two lines ("connection refused\n\tIs the server...").
  std::string line;
  bool space = false;
  for (const char c : text) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !line.empty();
      continue;
    }
    if (space) line += ' ';
    space = false;
    line += c;
  }
  return line;
}

std::shared_ptr<spdlog::logger> backend_log() {
  if (auto logger = spdlog::get("backend")) return logger;
  return spdlog::default_logger();
}

NodeInfo query_node(pqxx::connection& connection) {
  pqxx::nontransaction tx(connection);
  const auto row = tx.exec1(
      std::string("SELECT ") + common::kServerAddressSql + ", "
      "pg_is_in_recovery(), "
      "CASE WHEN pg_is_in_recovery() THEN 0 "
      "ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END");
  return {row[0].as<std::string>(), row[1].as<bool>(), row[2].as<int>()};
}

std::unique_ptr<pqxx::connection> connect_first(const std::vector<std::string>& dsns,
                                                const std::string& application_name, bool need_primary,
                                                NodeInfo* node) {
  std::string reasons;
  for (const auto& dsn : dsns) {
    try {
      auto connection = std::make_unique<pqxx::connection>(with_connection_defaults(dsn, application_name));
      const NodeInfo info = query_node(*connection);
      if (need_primary && info.in_recovery) {
        reasons += "; " + mask_password(dsn) + ": server " + info.address + " is in recovery (a replica)";
        continue;
      }
      if (node != nullptr) *node = info;
      return connection;
    } catch (const std::exception& error) {
      reasons += "; " + mask_password(dsn) + ": " + one_line(error.what());
    }
  }
  throw BackendError("cannot connect to " + std::string(need_primary ? "a writable server" : "any server") +
                     ": " + reasons.substr(2));
}

bool Session::ensure_connected(const common::StopSource& stop) {
  while (!connection_) {
    if (stop.requested()) return false;
    if (try_connect()) return true;
    if (!setup_error_.empty()) return false;
    if (!stop.sleep_for(settings_.conn_exception_sleep)) return false;
  }
  return true;
}

Session::Session(const ConnectionSettings& settings, const Workload& workload, int worker, LiveCounters& counters)
    : settings_(settings), workload_(workload), worker_(worker), counters_(counters) {}

void Session::drop() noexcept {
  notices_.reset();  // before its connection
  const std::lock_guard lock(connection_mutex_);
  connection_.reset();
}

void Session::cancel_query() noexcept {
  const std::lock_guard lock(connection_mutex_);
  if (!connection_) return;
  try {
    connection_->cancel_query();
  } catch (...) {
    // A connection that cannot be asked is one that is going away: its statement ends with it.
  }
}

NoticeCatcher::NoticeCatcher(pqxx::connection_base& connection) : pqxx::errorhandler(connection) {}

bool NoticeCatcher::operator()(const char message[]) noexcept {
  try {
    if (std::strncmp(message, "WARNING", 7) == 0 && text_.size() < 1000) text_ += one_line(message);
  } catch (...) {
  }
  return false;  // handled here: libpqxx's default printing to stderr is not wanted
}

std::string NoticeCatcher::take() { return std::exchange(text_, std::string()); }

void Session::rotate() noexcept {
  dsn_index_ = (dsn_index_ + 1) % settings_.dsns.size();
  failed_connects_ = 0;
  counters_.rotations.fetch_add(1, std::memory_order_relaxed);
}


bool Session::try_connect() {
  const std::string& dsn = settings_.dsns[dsn_index_];
  try {
    if (ever_connected_) counters_.reconnects.fetch_add(1, std::memory_order_relaxed);
    auto connection = std::make_unique<pqxx::connection>(with_connection_defaults(dsn, settings_.application_name));
    node_ = query_node(*connection);
    if (node_.in_recovery) {
      // The seed found this out from a read-only error; asking first saves a doomed transaction.
      backend_log()->info("worker {}: {} is in recovery, next server", worker_, node_.address);
      counters_.count(ErrorKind::read_only);
      rotate();
      return false;
    }
    workload_.prepare_connection(*connection);
    {
      const std::lock_guard lock(connection_mutex_);
      connection_ = std::move(connection);
    }
    notices_ = std::make_unique<NoticeCatcher>(*connection_);
    ever_connected_ = true;
    failed_connects_ = 0;
    return true;
  } catch (const WorkloadSetupError& error) {
    setup_error_ = one_line(error.what());
    return false;
  } catch (const std::exception& error) {
    const auto kind = classify_error(error_facts(error, false)).kind;
    counters_.count(kind == ErrorKind::fatal ? ErrorKind::connection : kind);
    backend_log()->info("worker {}: connect to {} failed: {}", worker_, mask_password(dsn), one_line(error.what()));
    if (++failed_connects_ >= settings_.reconnect_attempt) rotate();
    return false;
  }
}

}  // namespace pgchaos::backend
