// What pgchaos reads from the cluster's databases besides the workload: the end-of-run snapshots of every node,
// the commit mode in force, and DSN handling that never shows a password.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/commit_setting.h"
#include "history/snapshots.h"

namespace pgchaos::backend {

class Workload;  // backend/workload.h: whose state a snapshot reads

/// A PostgreSQL node of the cluster, for snapshots.
struct NodeAddress {
  std::string name;
  std::string host;
  int port = 5432;
  std::string rest_url;  ///< Patroni's REST API, for the watcher; empty: none
};

/// Reads the workload's state (accounts and ledger) from the primary (the first writable server of `dsns`), then from every node in
/// `nodes` that is not the primary, each once it has replayed up to the primary's LSN (waiting at most
/// `catch_up_timeout`; a node still behind is read anyway and marked not caught up). Nodes are reached with
/// the credentials of the first DSN. A node that cannot be read gives a snapshot with `error` set.
/// Throws BackendError when the primary cannot be read.
std::vector<history::Snapshot> take_snapshots(const std::vector<std::string>& dsns,
                                              const std::vector<NodeAddress>& nodes,
                                              std::chrono::seconds catch_up_timeout, const Workload& workload);
/// As take_snapshots, each node's files written into the run directory as its ledger is read (a night's ledger
/// is never held whole). The directory's earlier snapshots are replaced only once every node has been read.
/// Throws BackendError (the primary unreadable) or common::FileError (a file).
void write_snapshots(const std::vector<std::string>& dsns, const std::vector<NodeAddress>& nodes,
                     std::chrono::seconds catch_up_timeout, const Workload& workload,
                     const history::RunDirectory& directory);

/// What the primary (the first writable server of `dsns`) commits with, read from PostgreSQL itself: its
/// synchronous replication settings and how many replicas stream from it.
struct PrimarySyncSettings {
  std::string synchronous_standby_names, synchronous_commit;
  int replicas = 0;  ///< rows of pg_stat_replication
};
PrimarySyncSettings read_primary_sync_settings(const std::vector<std::string>& dsns);  ///< throws BackendError
/// The commit mode those settings make: sync when synchronous_standby_names is set and synchronous_commit waits
/// for it, single without any replica, async otherwise. (Strictness is Patroni's and not visible here.)
common::CommitMode commit_mode_of(const PrimarySyncSettings& settings);

/// Adds pgchaos's connection defaults (application_name, connect timeout, TCP keepalives and user timeout, so a
/// partitioned server is noticed within seconds) to a conninfo string or URI, unless the DSN sets them itself.
std::string with_connection_defaults(const std::string& dsn, const std::string& application_name);
/// The conninfo of `base_dsn` (its user, password, database and options) pointed at host:port.
std::string conninfo_for(const std::string& base_dsn, const std::string& host, int port);
/// Replaces passwords in a conninfo string or URI by "***", for logs and run.json.
std::string mask_password(const std::string& dsn);
/// A masked DSN made usable again by dropping its password (libpq then uses PGPASSWORD or ~/.pgpass).
std::string without_masked_password(const std::string& dsn);

}  // namespace pgchaos::backend
