// Whole files read and written, and the one error type for a file pgchaos cannot read or write.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>

namespace pgchaos::common {

/// A file that cannot be read, written or understood; the message names the file (and line where one applies).
struct FileError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Writes a text file whole (beside, then renamed: a reader never sees half of it). Throws FileError.
void write_file_atomically(const std::filesystem::path& file, const std::string& text);
/// A file's text. Throws FileError naming it.
std::string read_text_file(const std::filesystem::path& file);

}  // namespace pgchaos::common
