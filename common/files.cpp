#include "common/files.h"

#include <fstream>
#include <iterator>

namespace pgchaos::common {

void write_file_atomically(const std::filesystem::path& file, const std::string& text) {
  const auto temporary = std::filesystem::path(file.string() + ".tmp");
  {
    std::ofstream out(temporary, std::ios::binary);
    out << text;
    if (!out) throw FileError("cannot write " + temporary.string());
  }
  std::error_code ec;
  std::filesystem::rename(temporary, file, ec);
  if (ec) throw FileError("cannot write " + file.string() + ": " + ec.message());
}

std::string read_text_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw FileError("cannot read " + file.string());
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace pgchaos::common
