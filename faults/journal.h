// The fault journal: what pgchaos has done to a cluster and not yet undone, on the control node's disk, so that a
// pgchaos killed mid-fault (SIGKILL, a lost control node's reboot, a dropped SSH session) leaves a record that
// `pgchaos heal` undoes. And the look at the nodes themselves for what a fault leaves behind (nft tables, stopped
// processes), journalled or not.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "faults/remote.h"

namespace pgchaos::faults {

struct ClusterContext;

/// One active fault on one node: journalled before its command is sent, removed once its heal succeeded.
struct JournalEntry {
  std::string fault;                   ///< the catalog's name (partition, pause, ...)
  std::string node;
  std::string heal_action;             ///< the template that undoes it
  std::vector<std::string> heal_argv;  ///< the heal command as it will be sent (sudo included)
  std::string run_directory;           ///< the run that started it
  long pid = 0;                        ///< of the pgchaos that started it
  std::string started_at;              ///< UTC, ISO 8601
};

/// The journal of one cluster scope: a JSON file rewritten whole (beside, fsynced, renamed, the directory
/// fsynced) under an exclusive lock (FILE.lock), so that two pgchaos processes never lose each other's entries.
class FaultJournal {
 public:
  explicit FaultJournal(std::filesystem::path file) : file_(std::move(file)) {}
  const std::filesystem::path& file() const { return file_; }
  /// The run directory named by the entries this process adds from now on.
  void set_run_directory(std::string run_directory) { run_directory_ = std::move(run_directory); }
  /// Adds an entry (pid, run directory and time filled in) and returns once it is on disk. Throws FaultError when
  /// the journal cannot be written: then the fault must not start.
  void add(JournalEntry entry);
  /// Removes this process's entry for `fault` on `node` (the oldest, when several).
  void remove(const std::string& fault, const std::string& node);
  /// Removes an entry read by entries() (matched by node, fault, pid and time), whoever wrote it.
  void remove_entry(const JournalEntry& entry);
  /// Every entry on disk (none when there is no file). Throws FaultError for a file that cannot be read.
  std::vector<JournalEntry> entries() const;

 private:
  std::filesystem::path file_;
  std::string run_directory_;
};

/// Where a configuration's journal lives: `setting` ([cluster] journal) when set, else beside the configuration
/// file, named after the scope (pgchaos-journal-SCOPE.json).
std::filesystem::path journal_path(const std::filesystem::path& conf, const std::string& scope, const std::string& setting);
/// Whether process `pid` still runs on this machine (a journalled fault's owner may still be holding it).
bool process_alive(long pid);

/// A fault found in effect on a node: its catalog name, the check that saw it, the template that undoes it.
struct Leftover {
  std::string node, fault, check, heal_action;
};
/// Runs every check template of the catalog (a command that exits 0 while a fault is in effect) on every node,
/// one thread per node. A node that cannot be reached is named in `unreachable` (with the reason), not thrown.
std::vector<Leftover> find_leftovers(ClusterContext& cluster, std::vector<std::string>& unreachable);

/// Before a run: a journal with entries, or a node with a fault in effect, refuses it with one line that names
/// them and `pgchaos heal --conf` with the cluster's configuration file. Nodes that cannot be reached are told through `warn` (the run's own SSH
/// check decides about them). Throws FaultError.
void refuse_leftovers(ClusterContext& cluster, const std::function<void(const std::string&)>& warn);

}  // namespace pgchaos::faults
