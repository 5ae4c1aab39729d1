// Database snapshots: what each node says at the end of a run, and their files in the run directory.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "history/run_directory.h"

namespace pgchaos::history {

class LedgerIndex;  // history/ledger_index.h

struct AccountRow {
  int id = 0;
  std::int64_t balance_cents = 0;
};
/// 40 bytes.
struct LedgerRow {
  std::int64_t op_id = 0, txid = 0;
  std::int32_t run_id = 0, attempt = 0;
  std::int32_t from_account = 0, to_account = 0;
  std::int32_t amount_cents = 0, worker = 0;
};
/// A list of the list-append workload (workloads/append): one key's elements in their order.
struct KeyList {
  std::int64_t key = 0;
  std::vector<std::int64_t> elements;
};
/// The accounts and ledger of one node, read at the end of a run.
struct Snapshot {
  std::string name;                 ///< the node's configured name, or its address
  std::string role;                 ///< "primary" (reached through the workload's DSNs) or "replica"
  std::string node;                 ///< "address:port"
  std::string system_identifier;
  bool in_recovery = false;
  bool caught_up = true;            ///< a replica had replayed up to the primary's LSN when read
  int timeline = 0;
  std::string lsn;                  ///< pg_current_wal_lsn() or pg_last_wal_replay_lsn()
  std::string error;                ///< set when the node could not be read: no rows then
  std::int64_t initial_balance_cents = 10000;
  std::vector<AccountRow> accounts; ///< ordered by id
  std::vector<KeyList> lists;       ///< the list-append workload's lists of the run, ordered by key
  std::vector<LedgerRow> ledger;    ///< every run's rows, ordered by (run_id, op_id); empty when indexed
  /// Read for a check: one run's index of the ledger instead of its rows (the checker indexes rows itself).
  std::shared_ptr<const LedgerIndex> ledger_index;
};
/// Rows of the node's ledger, held or indexed.
std::int64_t ledger_row_count(const Snapshot& snapshot);
/// Writes the node's snapshot-NAME.json (metadata and accounts) and snapshot-NAME.ledger.tsv. Throws HistoryError.
void write_snapshot(const RunDirectory& directory, const Snapshot& snapshot);
/// Writes one node's snapshot files while its ledger is read, row by row (a night's ledger is never held whole):
/// the ledger first, then finish() writes the JSON that names it, so a JSON file is only there when its ledger is
/// complete. Throws HistoryError.
class SnapshotWriter {
 public:
  SnapshotWriter(const RunDirectory& directory, const std::string& node_name);
  ~SnapshotWriter();
  SnapshotWriter(const SnapshotWriter&) = delete;
  SnapshotWriter& operator=(const SnapshotWriter&) = delete;
  void add(const LedgerRow& row);
  /// snapshot-NAME.json from `snapshot`'s metadata and accounts; its ledger is the rows added (not snapshot.ledger).
  void finish(const Snapshot& snapshot);

 private:
  void flush();
  std::filesystem::path json_file_, ledger_file_;
  std::FILE* out_ = nullptr;
  std::string buffer_;
  std::size_t rows_ = 0;
};
/// Reads one snapshot-NAME.json and the ledger file it names: its rows, or with `index_run` only the index of
/// that run (the rows never held). Throws HistoryError naming the file that is unreadable, including a ledger with
/// fewer or more rows than the JSON's `ledger_rows` (a file cut short).
Snapshot read_snapshot(const std::filesystem::path& json_file, std::optional<std::int64_t> index_run = {});
/// Reads every snapshot of a run directory, the primary first. Throws HistoryError.
std::vector<Snapshot> read_snapshots(const RunDirectory& directory, std::optional<std::int64_t> index_run = {});
/// Removes a run directory's snapshot files (before fresh ones are written).
void remove_snapshots(const RunDirectory& directory);

}  // namespace pgchaos::history
