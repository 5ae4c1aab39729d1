// End-of-run snapshots of every node: what each database says, for a verdict that needs no database later.
#include <libpq-fe.h>

#include <filesystem>
#include <memory>
#include <pqxx/pqxx>
#include <thread>

#include "backend/cluster_reader.h"
#include "backend/workload.h"
#include "session.h"

namespace pgchaos::backend {
namespace {

// Where the nodes' snapshots go as they are read: into memory, or into a run directory's files row by row.
class SnapshotSink {
 public:
  virtual ~SnapshotSink() = default;
  /// A node's reading starts (again after a failure: rows given before for it are dropped).
  virtual void start(const std::string& name) = 0;
  virtual void add(const history::LedgerRow& row) = 0;
  /// The node's metadata and accounts; its ledger is the rows added since start.
  virtual void finish(history::Snapshot snapshot) = 0;
};

class MemorySink final : public SnapshotSink {
 public:
  void start(const std::string&) override { rows_.clear(); }
  void add(const history::LedgerRow& row) override { rows_.push_back(row); }
  void finish(history::Snapshot snapshot) override {
    snapshot.ledger = std::move(rows_);
    rows_ = {};
    snapshots.push_back(std::move(snapshot));
  }
  std::vector<history::Snapshot> snapshots;

 private:
  std::vector<history::LedgerRow> rows_;
};

class FileSink final : public SnapshotSink {
 public:
  explicit FileSink(const history::RunDirectory& directory) : directory_(directory) {}
  void start(const std::string& name) override {
    writer_.reset();
    writer_ = std::make_unique<history::SnapshotWriter>(directory_, name);
  }
  void add(const history::LedgerRow& row) override { writer_->add(row); }
  void finish(history::Snapshot snapshot) override {
    writer_->finish(snapshot);
    writer_.reset();
  }

 private:
  const history::RunDirectory& directory_;
  std::unique_ptr<history::SnapshotWriter> writer_;
};

// One node's metadata and the workload's state, its ledger rows to the sink in (run, op) order.
history::Snapshot read_node(pqxx::connection& connection, const NodeInfo& node, const Workload& workload,
                            SnapshotSink& sink) {
  pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(connection);
  history::Snapshot s;
  s.node = node.address;
  s.in_recovery = node.in_recovery;
  s.timeline = node.timeline;
  const auto meta = tx.exec1(
      "SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END)::text, "
      "(SELECT system_identifier::text FROM pg_control_system()), "
      "coalesce((SELECT received_tli FROM pg_stat_wal_receiver LIMIT 1), 0), "
      "(SELECT timeline_id FROM pg_control_checkpoint())");
  s.lsn = meta[0].as<std::string>("");
  s.system_identifier = meta[1].as<std::string>("");
  // A replica's current timeline is the one its wal receiver receives; the last checkpoint's only when it has none.
  if (s.timeline == 0) s.timeline = meta[2].as<int>(0);
  if (s.timeline == 0) s.timeline = meta[3].as<int>(0);
  workload.read_state(tx, s, [&sink](const history::LedgerRow& row) { sink.add(row); });
  return s;
}

void snapshot_nodes(const std::vector<std::string>& dsns, const std::vector<NodeAddress>& nodes,
                    std::chrono::seconds catch_up_timeout, const Workload& workload, SnapshotSink& sink) {
  NodeInfo primary_node;
  auto connection = connect_first(dsns, "pgchaos-snapshot", true, &primary_node);
  std::string primary_name = primary_node.address;
  for (const auto& n : nodes)
    if (n.host + ":" + std::to_string(n.port) == primary_node.address) primary_name = n.name;
  sink.start(primary_name);
  history::Snapshot primary;
  try {
    primary = read_node(*connection, primary_node, workload, sink);
  } catch (const pqxx::failure& error) {
    throw BackendError("reading the primary " + primary_node.address + " failed: " + error.what());
  }
  primary.role = "primary";
  primary.name = primary_name;
  const std::string primary_lsn = primary.lsn;
  sink.finish(std::move(primary));

  const auto deadline = std::chrono::steady_clock::now() + catch_up_timeout;
  for (const auto& n : nodes) {
    if (n.name == primary_name) continue;
    history::Snapshot s;
    s.name = n.name;
    s.role = "replica";
    s.node = n.host + ":" + std::to_string(n.port);
    sink.start(n.name);
    try {
      pqxx::connection c(with_connection_defaults(conninfo_for(dsns.front(), n.host, n.port), "pgchaos-snapshot"));
      // Wait for the replica to replay what the primary had when it was read; a second primary (split brain)
      // has nothing to wait for and is compared as it is.
      bool caught_up = false;
      for (;;) {
        pqxx::nontransaction tx(c);
        caught_up = tx.exec1("SELECT NOT pg_is_in_recovery() OR pg_last_wal_replay_lsn() >= " + tx.quote(primary_lsn) +
                             "::pg_lsn")[0]
                        .as<bool>();
        if (caught_up || std::chrono::steady_clock::now() >= deadline) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
      const NodeInfo info = query_node(c);
      s = read_node(c, info, workload, sink);
      s.name = n.name;
      s.role = "replica";
      s.caught_up = caught_up;
    } catch (const std::exception& error) {
      sink.start(n.name);  // the rows read before the failure are no snapshot
      s.error = error.what();
    }
    sink.finish(std::move(s));
  }
}

}  // namespace

std::vector<history::Snapshot> take_snapshots(const std::vector<std::string>& dsns,
                                              const std::vector<NodeAddress>& nodes,
                                              std::chrono::seconds catch_up_timeout, const Workload& workload) {
  MemorySink sink;
  snapshot_nodes(dsns, nodes, catch_up_timeout, workload, sink);
  return std::move(sink.snapshots);
}

void write_snapshots(const std::vector<std::string>& dsns, const std::vector<NodeAddress>& nodes,
                     std::chrono::seconds catch_up_timeout, const Workload& workload,
                     const history::RunDirectory& directory) {
  // Into a staging directory first: a failure leaves the run's earlier snapshots as they were.
  const auto staging_root = directory.root() / "snapshots.new";
  std::filesystem::remove_all(staging_root);
  const auto staging = history::RunDirectory::for_new_run(staging_root);
  staging.create();
  {
    FileSink sink(staging);
    snapshot_nodes(dsns, nodes, catch_up_timeout, workload, sink);
  }
  history::remove_snapshots(directory);
  for (const auto& entry : std::filesystem::directory_iterator(staging_root))
    std::filesystem::rename(entry.path(), directory.root() / entry.path().filename());
  std::filesystem::remove_all(staging_root);
}

PrimarySyncSettings read_primary_sync_settings(const std::vector<std::string>& dsns) {
  auto connection = connect_first(dsns, "pgchaos-setup", true);
  pqxx::nontransaction tx(*connection);
  const auto row = tx.exec1(
      "SELECT current_setting('synchronous_standby_names'), current_setting('synchronous_commit'), "
      "(SELECT count(*) FROM pg_stat_replication)");
  return {row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<int>()};
}

common::CommitMode commit_mode_of(const PrimarySyncSettings& s) {
  const auto& commit = s.synchronous_commit;
  const bool waits = commit == "on" || commit == "remote_apply" || commit == "remote_write";
  if (!s.synchronous_standby_names.empty() && waits) return common::CommitMode::sync;
  // pg_stat_replication shows rows to any user (details only to privileged ones): none means no replica.
  return s.replicas == 0 ? common::CommitMode::single : common::CommitMode::async;
}

}  // namespace pgchaos::backend
