// Files streamed plain or zstd-compressed, chosen by the name (".zst"), so that history.jsonl.zst is written and
// read exactly like history.jsonl: a soak writes a night of history in a tenth of the disk.
#pragma once

#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;

namespace pgchaos::history {

/// True for a name ending in ".zst".
bool is_zstd_file(const std::filesystem::path& file);

/// Appends to a new file. Not thread-safe: one writer.
class OutputFile {
 public:
  explicit OutputFile(const std::filesystem::path& file);  ///< creates (truncates) it; throws HistoryError
  ~OutputFile();                                           ///< close()
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  /// Appends `bytes` and hands everything so far to the kernel in a form a reader can use at once (zstd: the
  /// block is flushed, so a writer killed later leaves a readable prefix). False on a write error.
  bool write_and_flush(std::string_view bytes);
  /// Ends the file (zstd: the frame's end) and closes it. Idempotent.
  void close();

 private:
  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
  ZSTD_CCtx_s* zstd_ = nullptr;
};

/// Reads a file from its start. Not thread-safe.
class InputFile {
 public:
  explicit InputFile(const std::filesystem::path& file);  ///< throws HistoryError "cannot open FILE"
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  /// Up to `capacity` bytes of the content (decompressed), 0 at its end. A zstd stream cut short ends where its
  /// last complete block ends; bytes that are not zstd at all throw HistoryError naming the file.
  std::size_t read(char* out, std::size_t capacity);

 private:
  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
  ZSTD_DCtx_s* zstd_ = nullptr;
  std::string input_;            // compressed bytes read, not yet decompressed
  std::size_t input_pos_ = 0;
  bool input_ended_ = false;
};

}  // namespace pgchaos::history
