// A run directory: every file name of a run, created only when the run starts, never overwritten, and the
// history that opens and closes the run. `pgchaos check` and `report` redo everything from it alone.
#pragma once

#include <ctime>
#include <filesystem>
#include <memory>
#include <string>

#include "history/events.h"

namespace pgchaos::history {

class RunDirectory {
 public:
  /// A directory for a new run. Refuses (HistoryError) one that already holds a history or a run.json; creates
  /// nothing, so an option error or an unreachable cluster leaves no trace.
  static RunDirectory for_new_run(std::filesystem::path root);
  /// An existing run: throws HistoryError naming run.json when it is not there.
  static RunDirectory open(std::filesystem::path root);

  RunDirectory(RunDirectory&&) noexcept;
  RunDirectory& operator=(RunDirectory&&) noexcept;
  ~RunDirectory();  ///< closes a history still open (no run_finished: the run died)

  /// Creates the directory (and its parents). Throws HistoryError.
  void create() const;

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path run_json() const { return root_ / "run.json"; }
  /// history.jsonl, or history.jsonl.zst when the run wrote it compressed (readers take either alike).
  std::filesystem::path history() const;
  std::filesystem::path log() const { return root_ / "pgchaos.log"; }
  std::filesystem::path scenario() const { return root_ / "scenario.json"; }
  std::filesystem::path schedule() const { return root_ / "schedule.json"; }
  std::filesystem::path report_json() const { return root_ / "report.json"; }
  std::filesystem::path report_html() const { return root_ / "report.html"; }
  std::filesystem::path junit() const { return root_ / "junit.xml"; }
  /// forensics/LABEL/: what was collected from the cluster when a fault window closed (LABEL fault-N, final-heal).
  std::filesystem::path forensics(const std::string& label) const { return root_ / "forensics" / label; }
  /// snapshot-NAME.json and snapshot-NAME.ledger.tsv (NAME with anything but [A-Za-z0-9_-] made '_').
  std::filesystem::path snapshot_json(const std::string& node) const;
  std::filesystem::path snapshot_ledger(const std::string& node) const;
  bool is_snapshot_json(const std::filesystem::path& file) const;

  /// Removes what only a new check would need — the history, the ledger snapshots, the forensics' raw files —
  /// and keeps what people read and what a replay needs: reports, run.json, scenario, schedule, log, key lines.
  /// After it the run can be replayed, not checked again. Never throws.
  void remove_bulk() const;

  /// Opens history.jsonl, or history.jsonl.zst when `compressed` (create() first), and records run_started.
  /// Throws HistoryError.
  HistoryWriter& start_history(std::int64_t run_id, std::int64_t seed, bool compressed = false);
  /// Records run_finished (`how`: completed, interrupted, ...) and closes the history, flushed. Idempotent.
  void finish(const std::string& how);

 private:
  explicit RunDirectory(std::filesystem::path root);
  std::filesystem::path root_;
  std::unique_ptr<HistoryWriter> history_;
};

}  // namespace pgchaos::history
