// Internal to history/: the compact side file of a history (NAME.compact beside history.jsonl or .jsonl.zst).
// The history stays the source of truth; the side file only makes loading a night of it fast. Attempts' events
// (invoke, ok, fail, unknown) are fixed binary records; every other line is kept as its JSON text; an end record,
// written when the history is closed, names the history's size and modification time. A reader uses the side
// file only when that end record is there and matches the history as it is now (a killed run, an edited or a
// copied history: the history is parsed instead).
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "history/events.h"

namespace pgchaos::history {

/// The side file's name for a history file.
std::filesystem::path compact_file_of(const std::filesystem::path& history_file);

/// Writes the side file next to a history, one event at a time, on the history writer's thread.
class CompactWriter {
 public:
  explicit CompactWriter(const std::filesystem::path& history_file);  ///< throws HistoryError
  ~CompactWriter();
  CompactWriter(const CompactWriter&) = delete;
  CompactWriter& operator=(const CompactWriter&) = delete;
  /// One event, and its JSON line as written to the history (with its newline).
  void add(const Event& event, std::string_view json_line);
  /// Hands what was added to the kernel. False on a write error.
  bool flush();
  /// After the history is closed: the end record (its size and time now), then closes. Idempotent.
  void finish();

 private:
  std::filesystem::path history_file_;
  std::FILE* file_ = nullptr;
  std::string buffer_;
  std::map<std::string, std::uint16_t, std::less<>> nodes_;
  std::uint64_t lines_ = 0, invokes_ = 0;
  bool failed_ = false;
};

/// One record of a side file, as the loader takes it.
struct CompactRecord {
  enum class Kind { invoke, ok, fail, unknown, line } kind = Kind::line;
  std::int64_t op = 0, mono_ns = 0, commit_lsn = 0;
  std::int32_t attempt = 0, worker = -1, timeline = 0;
  std::string_view node;  ///< invoke: the server ("" unknown)
  std::string_view line;  ///< line: the history's JSON line (without its newline)
};
/// Thrown by read_compact_history when the side file turns out damaged after records were handed over (its end
/// record matched): the caller starts again from the history.
struct CompactUnusable {};
/// Reads the side file of `history_file` when it is complete and matches the history: calls `reserve` with the
/// number of invokes, then `record` for each line of the history in order, and returns true. Returns false
/// (having called nothing) when there is no usable side file. Throws CompactUnusable, and what `record` throws.
bool read_compact_history(const std::filesystem::path& history_file, const std::function<void(std::uint64_t)>& reserve,
                          const std::function<void(const CompactRecord&)>& record);

}  // namespace pgchaos::history
