// The reports of a commit-mode matrix: one scenario with one seed under several commit modes, side by side
// (matrix.json, matrix.html), each mode judged against what Patroni promises for it. Data in, files out.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "checker/checker.h"
#include "reports/run_summary.h"

namespace pgchaos::reports {

/// One mode's run: its summary (verdict, counts, lost by cause, each fault's unavailability) and its promise.
struct MatrixColumn {
  std::string mode;                  ///< as --modes named it: async, sync, sync-strict, sync:remote_write, ...
  RunSummary run;                  ///< `directory` relative to the matrix directory
  checker::Guarantee guarantee;
  std::int64_t acknowledged_without_sync_standby = -1;  ///< -1: not judged (async, or no standby recorded)
  std::optional<bool> failsafe;  ///< Patroni's failsafe_mode as matrix --failsafe set it for the run; unset: untouched
};

/// running (rewritten after each mode), completed, interrupted.
enum class MatrixStatus { running, completed, interrupted };
const char* to_string(MatrixStatus status) noexcept;

struct MatrixReport {
  std::string scenario, started_at;
  MatrixStatus status = MatrixStatus::running;
  std::uint64_t seed = 0;
  std::vector<std::string> modes;    ///< every mode asked for, in order (a column each once it ran)
  std::vector<MatrixColumn> columns;
  /// The modes that broke their guarantee, with the ops: what the exit code 1 names.
  std::vector<std::string> broken() const;
};

/// A column from a mode's check.
MatrixColumn matrix_column(const std::string& mode, const checker::CheckResult& result, RunSummary base);

std::string matrix_json(const MatrixReport& matrix);
std::string matrix_html(const MatrixReport& matrix);
/// matrix.json and matrix.html into `dir`; throws ReportError.
void write_matrix_reports(const std::filesystem::path& dir, const MatrixReport& matrix);

}  // namespace pgchaos::reports
