// Reads from the replicas beside the workers: read-only transactions of the newest keys' lists, each recorded with
// the node that served it, whether that node was in recovery, and how far it had replayed.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <pqxx/pqxx>
#include <thread>

#include "backend/cluster_reader.h"
#include "workloads/append/append.h"
#include "pg_array.h"

namespace pgchaos::append {

struct ReplicaReaders::Reader {
  std::thread thread;
};

ReplicaReaders::ReplicaReaders(Settings settings, history::HistoryWriter& history, const common::StopSource& stop)
    : settings_(std::move(settings)), history_(history), stop_(stop) {
  for (int r = 0; r < settings_.readers; ++r) {
    auto reader = std::make_unique<Reader>();
    reader->thread = std::thread([this, r] { read_until_stopped(r); });
    readers_.push_back(std::move(reader));
  }
}

ReplicaReaders::~ReplicaReaders() {
  for (auto& r : readers_)
    if (r->thread.joinable()) r->thread.join();
}

// The keys of the last two generations the replica has (the workers' active keys, and the ones just rotated out),
// read in one statement of a repeatable-read, read-only transaction with the node's recovery state and replay
// position. Nodes are taken in turn; one that does not answer is skipped for a second.
void ReplicaReaders::read_until_stopped(int reader) {
  std::vector<std::unique_ptr<pqxx::connection>> connections(settings_.nodes.size());
  const auto log = spdlog::get("workload") ? spdlog::get("workload") : spdlog::default_logger();
  std::int64_t sequence = 0;
  for (std::size_t turn = static_cast<std::size_t>(reader); !stop_.requested(); ++turn) {
    const std::size_t n = turn % settings_.nodes.size();
    const auto& node = settings_.nodes[n];
    history::Event e;
    e.type = history::EventType::replica_read;
    e.worker = reader;
    e.node = node.name;
    e.address = node.host + ":" + std::to_string(node.port);
    try {
      if (!connections[n] || !connections[n]->is_open())
        connections[n] = std::make_unique<pqxx::connection>(backend::with_connection_defaults(
            backend::conninfo_for(settings_.base_dsn, node.host, node.port), "pgchaos-replica-reads"));
      pqxx::nontransaction tx(*connections[n]);
      history::Event started;
      history_.stamp(started);
      e.started_ns = started.mono_ns;
      tx.exec0("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      const auto state = tx.exec1(
          "SELECT pg_is_in_recovery(), (coalesce(pg_last_wal_replay_lsn(), pg_current_wal_lsn()) - '0/0')::bigint");
      const auto rows = tx.exec(fmt::format(
          "SELECT key, elements::text FROM pgchaos.append_lists WHERE run_id = {0} AND key >= "
          "(SELECT max(key) FROM pgchaos.append_lists WHERE run_id = {0}) / {1} * {1} - {1} ORDER BY key",
          settings_.run_id, settings_.active_keys));
      tx.exec0("COMMIT");
      std::vector<MicroOp> ops;
      for (const auto& row : rows) ops.push_back({MicroOp::Kind::read, row[0].as<std::int64_t>(), 0, parse_array(row[1].c_str())});
      e.pg_role = state[0].as<bool>() ? "replica" : "primary";
      e.wal_replayed = state[1].as<std::int64_t>();
      e.txn = format_ops(ops);
      e.op = ++sequence;
      history_.stamp(e);
      if (!ops.empty()) history_.append(std::move(e));
    } catch (const std::exception& error) {
      log->debug("replica reader {} on {}: {}", reader, node.name, error.what());
      connections[n].reset();
      if (!stop_.sleep_for(std::chrono::seconds(1))) return;
    }
  }
}

}  // namespace pgchaos::append
